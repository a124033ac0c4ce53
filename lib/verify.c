/* SPDX-License-Identifier: MIT */
/*
 * Offline verification of evidence: the envelope's own consistency (report_data recomputed
 * from its fields), the backend's check of the raw report against the trusted keys, then the
 * verifier's policy. Needs no state root and no instance: only the evidence, the policy and
 * the keys, so that it runs the same on another machine.
 */
#include <inttypes.h>
#include <string.h>

#include <json-c/json.h>

#include "ebcc-private.h"

#define ERR EBCC_ERR_VERIFY
#define VERDICT_LOG_MAX 4096

static int check_binding(const struct ebcc_evidence_fields *f,
			 uint8_t computed[EBCC_REPORT_DATA_SIZE])
{
	char expected[2 * EBCC_REPORT_DATA_SIZE + 1], found[2 * EBCC_REPORT_DATA_SIZE + 1];
	int r = ebcc__binding_report_data(&f->binding, computed);

	if (r < 0)
		return r;
	if (memcmp(computed, f->report_data, EBCC_REPORT_DATA_SIZE) == 0)
		return 0;
	ebcc__hex_encode(computed, EBCC_REPORT_DATA_SIZE, expected);
	ebcc__hex_encode(f->report_data, EBCC_REPORT_DATA_SIZE, found);
	return ebcc__error(ERR, "evidence: report_data does not bind the envelope's fields "
			   "(instance, stage, eid, seq, measurement, nonce, request_digest, "
			   "response_digest%s%s): expected %s, found %s",
			   f->binding.image_digest != NULL ? ", image_digest" : "",
			   f->binding.public_key != NULL ? ", public_key" : "", expected, found);
}

static int check_backend(const struct ebcc_backend *b, const struct ebcc_evidence_fields *f)
{
	bool simulated = (b->ops.flags & EBCC_BACKEND_SIMULATED) != 0;

	if (strcmp(b->ops.evidence_format, f->format) != 0)
		return ebcc__error(ERR, "evidence: format expected \"%s\" (backend %s), found \"%s\"",
				   b->ops.evidence_format, b->name, f->format);
	if (simulated != f->simulated)
		return ebcc__error(ERR, "evidence: simulated expected %s (backend %s), found %s",
				   simulated ? "true" : "false", b->name,
				   f->simulated ? "true" : "false");
	return 0;
}

static int check_report(struct ebcc_context *ctx, const struct ebcc_backend *b,
			const struct ebcc_evidence_fields *f, const struct ebcc__policy *policy,
			const char *policy_json, const uint8_t report_data[EBCC_REPORT_DATA_SIZE],
			char **ret_verdict)
{
	struct ebcc_backend_session s;
	struct ebcc_backend_report_check check = {
		.size = sizeof(check),
		.format = f->format,
		.measurement = f->binding.measurement,
		.eid = f->binding.eid,
		.report_data = report_data,
		.report_data_len = EBCC_REPORT_DATA_SIZE,
		.report = f->report,
		.report_len = f->report_len,
	};
	_cleanup_free_ char *part = NULL;
	int r;

	r = ebcc__policy_fill_check(policy, policy_json, b->name, &check, &part);
	if (r < 0)
		return r;
	/* Offline: no state root, so no data directory either. */
	r = ebcc__backend_session_open(&s, ctx, b, -1);
	if (r < 0)
		return r;
	r = ebcc__call_verify_report(&s, &check, "evidence: report", ret_verdict);
	ebcc__backend_session_close(&s);
	return r;
}

static int verify(struct ebcc_context *ctx, const struct ebcc_evidence *ev,
		  const char *policy_json, char **ret_verdict)
{
	const struct ebcc_evidence_fields *f = ebcc__evidence_fields(ev);
	uint8_t report_data[EBCC_REPORT_DATA_SIZE];
	const struct ebcc_backend *b = NULL;
	struct ebcc__policy policy;
	int r;

	r = ebcc__policy_parse(policy_json, &policy);
	if (r < 0)
		return r;
	r = ebcc__policy_check_backend(&policy, f->backend);
	if (r >= 0)
		r = check_binding(f, report_data);
	if (r >= 0) {
		r = ebcc__backend_find(ctx, f->backend, &b);
		if (r < 0)
			r = ebcc__error_prefix(r, "evidence");
	}
	if (r >= 0)
		r = check_backend(b, f);
	if (r >= 0)
		r = check_report(ctx, b, f, &policy, policy_json, report_data, ret_verdict);
	if (r >= 0)
		r = ebcc__policy_check(&policy, f);
	ebcc__policy_clear(&policy);
	return r;
}

/* verify(), logged at debug level; *ret_verdict is the backend's verdict on success. */
static int verify_logged(struct ebcc_context *ctx, struct ebcc_evidence *ev,
			 const char *policy_json, char **ret_verdict)
{
	const struct ebcc_evidence_fields *f = ebcc__evidence_fields(ev);
	char *verdict = NULL;
	int r = verify(ctx, ev, policy_json, &verdict);

	if (r < 0) {
		free(verdict);
		ebcc__log_debug(ctx, "evidence of %s/%s seq %" PRIu64 " (backend %s): rejected: %s",
				f->binding.instance, f->binding.stage, f->binding.seq, f->backend,
				ebcc_last_error_message());
		return r;
	}
	ebcc__log_debug(ctx, "evidence of %s/%s seq %" PRIu64 " (backend %s, eid %" PRIu64
			"): verified; backend verdict: %.*s",
			f->binding.instance, f->binding.stage, f->binding.seq, f->backend,
			f->binding.eid, VERDICT_LOG_MAX, verdict != NULL ? verdict : "(none)");
	*ret_verdict = verdict;
	return 0;
}

EBCC_EXPORT int ebcc_evidence_verify(struct ebcc_context *ctx, struct ebcc_evidence *ev,
				     const char *policy_json)
{
	char *verdict = NULL;
	int r;

	if (ctx == NULL || ev == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_evidence_verify: %s is NULL",
				   ctx == NULL ? "ctx" : "ev");
	r = verify_logged(ctx, ev, policy_json, &verdict);
	free(verdict);
	return r;
}

static void add_hex(struct json_object *o, const char *key, const uint8_t *data, size_t len)
{
	char hex[2 * EBCC_NONCE_MAX + 1];

	ebcc__hex_encode(data, len, hex);
	json_object_object_add(o, key, json_object_new_string(hex));
}

static void add_digest(struct json_object *o, const char *key, const uint8_t d[EBCC_SHA256_SIZE])
{
	char text[sizeof("sha256:") + 2 * EBCC_SHA256_SIZE] = "sha256:";

	ebcc__hex_encode(d, EBCC_SHA256_SIZE, text + 7);
	json_object_object_add(o, key, json_object_new_string(text));
}

/* {"evidence": the envelope's fields but report and report_data, "backend": the verdict}. */
static int claims(const struct ebcc_evidence_fields *f, const char *verdict, char **ret)
{
	struct json_object *o = json_object_new_object(), *e = json_object_new_object();
	struct json_object *backend = NULL;
	int r;

	if (o == NULL || e == NULL) {
		json_object_put(o);
		json_object_put(e);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	json_object_object_add(e, "instance", json_object_new_string(f->binding.instance));
	json_object_object_add(e, "stage", json_object_new_string(f->binding.stage));
	json_object_object_add(e, "eid", json_object_new_uint64(f->binding.eid));
	json_object_object_add(e, "seq", json_object_new_uint64(f->binding.seq));
	json_object_object_add(e, "measurement", json_object_new_string(f->binding.measurement));
	json_object_object_add(e, "backend", json_object_new_string(f->backend));
	json_object_object_add(e, "format", json_object_new_string(f->format));
	json_object_object_add(e, "simulated", json_object_new_boolean(f->simulated));
	add_hex(e, "nonce", f->binding.nonce, f->binding.nonce_len);
	add_digest(e, "request_digest", f->binding.request_digest);
	add_digest(e, "response_digest", f->binding.response_digest);
	if (f->binding.image_digest != NULL)
		add_digest(e, "image_digest", f->binding.image_digest);
	if (f->binding.public_key != NULL)
		add_hex(e, "public_key", f->binding.public_key, EBCC_PUBLIC_KEY_SIZE);
	json_object_object_add(o, "evidence", e);
	/* A plugin's verdict that is not JSON is passed on as text rather than lost. */
	if (verdict != NULL) {
		backend = json_tokener_parse(verdict);
		if (backend == NULL)
			backend = json_object_new_string(verdict);
	}
	json_object_object_add(o, "backend", backend);
	r = ebcc__json_to_string(o, JSON_C_TO_STRING_PLAIN, ret);
	json_object_put(o);
	return r;
}

EBCC_EXPORT int ebcc_evidence_verify_claims(struct ebcc_context *ctx, struct ebcc_evidence *ev,
					    const char *policy_json, char **ret_claims_json)
{
	struct ebcc_verify_options options = EBCC_VERIFY_OPTIONS_INIT;

	if (ctx == NULL || ev == NULL || ret_claims_json == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_evidence_verify_claims: %s is NULL",
				   ctx == NULL ? "ctx" : ev == NULL ? "ev" : "ret_claims_json");
	options.policy_json = policy_json;
	return ebcc_evidence_verify_with(ctx, ev, &options, ret_claims_json);
}

EBCC_EXPORT void ebcc_verify_options_init(struct ebcc_verify_options *options)
{
	if (options != NULL)
		*options = (struct ebcc_verify_options)EBCC_VERIFY_OPTIONS_INIT;
}

int ebcc__verify_options_policy(const struct ebcc_verify_options *options, const char *function,
				const char **ret_text, char **ret_built)
{
	struct ebcc_verify_options o;
	int r;

	*ret_text = NULL;
	*ret_built = NULL;
	ebcc_verify_options_init(&o);
	r = ebcc__struct_options_copy(options, sizeof(o), &o, function, "ebcc_verify_options_init");
	if (r < 0)
		return r;
	if (o.flags != 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "%s: unknown flags 0x%" PRIx32 " (none is defined yet)", function,
				   o.flags);
	if (o.policy != NULL && o.policy_json != NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "%s: both policy and policy_json are set; give one", function);
	/* The policy object's own text is what a file would hold: one parser for both. */
	if (o.policy != NULL) {
		r = ebcc_policy_to_json((struct ebcc_policy *)o.policy, ret_built);
		if (r < 0)
			return r;
		*ret_text = *ret_built;
	} else {
		*ret_text = o.policy_json;
	}
	return 0;
}

EBCC_EXPORT int ebcc_evidence_verify_with(struct ebcc_context *ctx, struct ebcc_evidence *ev,
					  const struct ebcc_verify_options *options,
					  char **ret_claims_json)
{
	char *built = NULL, *verdict = NULL, *text = NULL;
	const char *policy_json;
	int r;

	if (ctx == NULL || ev == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_evidence_verify_with: %s is NULL",
				   ctx == NULL ? "ctx" : "ev");
	r = ebcc__verify_options_policy(options, "ebcc_evidence_verify_with", &policy_json,
					&built);
	if (r < 0)
		return r;
	r = verify_logged(ctx, ev, policy_json, &verdict);
	if (r == 0 && ret_claims_json != NULL)
		r = claims(ebcc__evidence_fields(ev), verdict, &text);
	free(verdict);
	free(built);
	if (r == 0 && ret_claims_json != NULL)
		*ret_claims_json = text;
	return r;
}
