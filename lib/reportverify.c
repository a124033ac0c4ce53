/* SPDX-License-Identifier: MIT */
/*
 * Verification of a raw hardware report (ebcc_report_verify): a TDX quote or SEV-SNP report
 * that did not come in libebcc's evidence envelope. The named backend checks the report alone
 * against the policy (its trust roots, pins and time) and returns the report's claims; there is
 * no envelope, so nothing is bound to an instance, a stage or an invocation.
 */
#include <string.h>

#include <json-c/json.h>

#include "ebcc-private.h"

#define ERR EBCC_ERR_VERIFY
#define RAW_REPORT_MAX ((size_t)1 << 20)

/* The policy keys that check an evidence envelope's fields: a raw report has none of them, so
 * a policy that sets one expects a check nobody makes. */
static const char *const envelope_keys[] = {
	"measurement", "nonce", "request_digest", "response_digest", "allow_simulated", NULL,
};

static int check_policy(const struct ebcc__policy *p)
{
	for (size_t i = 0; p->root != NULL && envelope_keys[i] != NULL; i++)
		if (json_object_object_get_ex(p->root, envelope_keys[i], NULL))
			return ebcc__error(ERR, "policy: \"%s\" checks an evidence envelope, and a "
					   "raw report has none (see ebcc_report_verify(3))",
					   envelope_keys[i]);
	return 0;
}

static int verify(struct ebcc_context *ctx, const struct ebcc_backend *b, const void *data,
		  size_t len, const struct ebcc__policy *policy, const char *policy_json,
		  char **ret_claims)
{
	struct ebcc_backend_session s;
	struct ebcc_backend_report_check check = {
		.size = sizeof(check),
		.format = EBCC_BACKEND_FORMAT_RAW,
		.report = data,
		.report_len = len,
	};
	_cleanup_free_ char *part = NULL;
	char *claims = NULL;
	int r;

	r = ebcc__policy_fill_check(policy, policy_json, b->name, &check, &part);
	if (r < 0)
		return r;
	r = ebcc__backend_session_open(&s, ctx, b, -1);
	if (r < 0)
		return r;
	r = ebcc__call_verify_report(&s, &check, "report", &claims);
	if (r == 0 && (claims == NULL || claims[0] != '{'))
		r = ebcc__error(ERR, "report: backend %s returned no claims object", b->name);
	ebcc__backend_session_close(&s);
	if (r < 0) {
		free(claims);
		return r;
	}
	*ret_claims = claims;
	return 0;
}

EBCC_EXPORT int ebcc_report_verify(struct ebcc_context *ctx, const char *backend,
				   const void *data, size_t len, const char *policy_json,
				   char **ret_claims_json)
{
	const struct ebcc_backend *b = NULL;
	struct ebcc__policy policy;
	char *claims = NULL;
	int r;

	if (ctx == NULL || backend == NULL || data == NULL || ret_claims_json == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_report_verify: %s is NULL",
				   ctx == NULL ? "ctx" : backend == NULL ? "backend"
						   : data == NULL ? "data" : "ret_claims_json");
	if (len == 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_report_verify: the report is empty");
	if (len > RAW_REPORT_MAX)
		return ebcc__error(EBCC_ERR_TOO_BIG, "ebcc_report_verify: a report of %zu bytes (at "
				   "most %zu)", len, RAW_REPORT_MAX);
	r = ebcc__policy_parse(policy_json, &policy);
	if (r < 0)
		return r;
	r = check_policy(&policy);
	if (r == 0)
		r = ebcc__policy_check_backend(&policy, backend);
	if (r == 0) {
		r = ebcc__backend_find(ctx, backend, &b);
		if (r < 0)
			r = ebcc__error_prefix(r, "report");
	}
	if (r == 0)
		r = verify(ctx, b, data, len, &policy, policy_json, &claims);
	ebcc__policy_clear(&policy);
	if (r < 0) {
		ebcc__log_debug(ctx, "raw report of %zu bytes (backend %s): rejected: %s", len,
				backend, ebcc_last_error_message());
		return r;
	}
	ebcc__log_debug(ctx, "raw report of %zu bytes (backend %s): verified", len, backend);
	*ret_claims_json = claims;
	return 0;
}
