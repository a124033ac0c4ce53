/* SPDX-License-Identifier: MIT */
/*
 * verify-report: offline verification of a raw hardware report (a TDX quote, an SEV-SNP
 * attestation report) with ebcc_report_verify(): no envelope, no state root. Prints the
 * report's claims as JSON when it verifies; exits 1 with the reason otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "runtime.h"

#define REPORT_MAX (1u << 20) /* ebcc_report_verify()'s own limit */
#define POLICY_MAX (1u << 20)
#define CERT_MAX (64u << 10)
#define CERTS_MAX 16
#define COLLATERAL_MAX (1u << 20) /* the library takes a policy of at most 1 MiB */
#define OPT_COLLATERAL 0x100

struct report_args {
	const char *backend;
	const char *certs[CERTS_MAX];
	size_t n_certs;
	const char *policy_path;
	const char *at;
	const char *collateral_path;
	const char *report_path;
};

/* DER as one PEM certificate block, appended to *pem (realloc'ed). */
static int append_pem(char **pem, size_t *pem_len, const uint8_t *der, size_t len)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t chars = (len + 2) / 3 * 4, need = chars + chars / 64 + 64;
	char *p = realloc(*pem, *pem_len + need + 1), *o;
	size_t col = 0;

	if (p == NULL)
		return -1;
	*pem = p;
	o = p + *pem_len;
	o += sprintf(o, "-----BEGIN CERTIFICATE-----\n");
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)der[i] << 16 | (i + 1 < len ? (uint32_t)der[i + 1] << 8 : 0) |
			     (i + 2 < len ? der[i + 2] : 0);
		char q[4] = { b64[v >> 18 & 63], b64[v >> 12 & 63],
			      i + 1 < len ? b64[v >> 6 & 63] : '=', i + 2 < len ? b64[v & 63] : '=' };

		for (int k = 0; k < 4; k++) {
			*o++ = q[k];
			if (++col == 64) {
				*o++ = '\n';
				col = 0;
			}
		}
	}
	if (col > 0)
		*o++ = '\n';
	o += sprintf(o, "-----END CERTIFICATE-----\n");
	*pem_len = (size_t)(o - p);
	return 0;
}

/* Every --certs file, PEM as it is or DER converted, as one PEM text (malloc). */
static int read_certs(const struct report_args *a, char **ret)
{
	char *pem = NULL;
	size_t pem_len = 0;

	for (size_t i = 0; i < a->n_certs; i++) {
		char *data = NULL;
		size_t len = 0;
		int r;

		if (rt_read_file(a->certs[i], CERT_MAX, &data, &len) < 0) {
			free(pem);
			return -1;
		}
		if (len >= 11 && memcmp(data, "-----BEGIN ", 11) == 0) {
			char *p = realloc(pem, pem_len + len + 2);

			r = p == NULL ? -1 : 0;
			if (p != NULL) {
				pem = p;
				memcpy(pem + pem_len, data, len);
				pem_len += len;
				if (data[len - 1] != '\n')
					pem[pem_len++] = '\n';
			}
		} else if (len > 0 && (uint8_t)data[0] == 0x30) {
			r = append_pem(&pem, &pem_len, (const uint8_t *)data, len);
		} else {
			free(data);
			free(pem);
			return rt_fail_plain("verify-report: --certs %s is neither PEM nor a DER "
					     "certificate", a->certs[i]),
			       -1;
		}
		free(data);
		if (r < 0) {
			free(pem);
			return rt_fail_plain("verify-report: out of memory"), -1;
		}
	}
	if (pem != NULL)
		pem[pem_len] = '\0';
	*ret = pem;
	return 0;
}

/* A file holding one JSON object; option names it in messages. */
static int json_file_object(const char *option, const char *path, size_t max,
			    struct json_object **ret)
{
	struct json_tokener *tok;
	struct json_object *o;
	char *text = NULL;
	size_t len = 0;

	if (rt_read_file(path, max, &text, &len) < 0)
		return -1;
	tok = json_tokener_new();
	if (tok == NULL) {
		free(text);
		return rt_fail_plain("verify-report: out of memory"), -1;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, text, (int)len);
	if (o == NULL || json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		json_tokener_free(tok);
		free(text);
		return rt_fail_plain("verify-report: %s %s is not one JSON object", option, path),
		       -1;
	}
	json_tokener_free(tok);
	free(text);
	*ret = o;
	return 0;
}

/* The --policy file as a JSON object (a new empty one without the file). */
static int policy_object(const struct report_args *a, struct json_object **ret)
{
	if (a->policy_path == NULL) {
		*ret = json_object_new_object();
		return *ret != NULL ? 0 : (rt_fail_plain("verify-report: out of memory"), -1);
	}
	return json_file_object("--policy", a->policy_path, POLICY_MAX, ret);
}

/* The --collateral file's object as backend_options.NAME.tdx_collateral of the policy. */
static int add_collateral(const struct report_args *a, struct json_object *mine)
{
	struct json_object *c = NULL;

	if (a->collateral_path == NULL)
		return 0;
	if (json_object_object_get_ex(mine, "tdx_collateral", NULL))
		return rt_fail_plain("verify-report: --policy %s sets backend_options.%s."
				     "tdx_collateral and --collateral %s is given: set it in one "
				     "place", a->policy_path, a->backend, a->collateral_path),
		       -1;
	if (json_file_object("--collateral", a->collateral_path, COLLATERAL_MAX, &c) < 0)
		return -1;
	json_object_object_add(mine, "tdx_collateral", c);
	return 0;
}

/*
 * The policy: the --policy file's text as it is when no option adds to it, so that only the
 * library reads it, with all its strictness. With --at or --certs the file's object gets the
 * options merged in (verification_time, backend_options.NAME.snp_certs and
 * .tdx_collateral); a key that both the
 * file and an option set is refused rather than one of them silently dropped.
 */
static int build_policy(const struct report_args *a, char **ret_policy)
{
	struct json_object *o = NULL, *opts, *mine;
	char *certs = NULL;
	const char *text;

	if (a->at == NULL && a->n_certs == 0 && a->collateral_path == NULL) {
		size_t len = 0;

		*ret_policy = NULL;
		if (a->policy_path == NULL)
			return 0;
		if (rt_read_file(a->policy_path, POLICY_MAX, ret_policy, &len) < 0)
			return -1;
		if (memchr(*ret_policy, '\0', len) != NULL) {
			free(*ret_policy);
			*ret_policy = NULL;
			return rt_fail_plain("verify-report: --policy %s has a NUL byte",
					     a->policy_path),
			       -1;
		}
		return 0;
	}
	if (policy_object(a, &o) < 0)
		return -1;
	if (a->at != NULL) {
		if (json_object_object_get_ex(o, "verification_time", NULL))
			goto both_time;
		json_object_object_add(o, "verification_time", json_object_new_string(a->at));
	}
	if (a->n_certs > 0 || a->collateral_path != NULL) {
		if (!json_object_object_get_ex(o, "backend_options", &opts)) {
			opts = json_object_new_object();
			json_object_object_add(o, "backend_options", opts);
		}
		if (!json_object_is_type(opts, json_type_object))
			goto bad_options;
		if (!json_object_object_get_ex(opts, a->backend, &mine)) {
			mine = json_object_new_object();
			json_object_object_add(opts, a->backend, mine);
		}
		if (!json_object_is_type(mine, json_type_object))
			goto bad_options;
		if (add_collateral(a, mine) < 0) {
			json_object_put(o);
			return -1;
		}
	}
	if (a->n_certs > 0) {
		if (json_object_object_get_ex(mine, "snp_certs", NULL))
			goto both_certs;
		if (read_certs(a, &certs) < 0) {
			json_object_put(o);
			return -1;
		}
		json_object_object_add(mine, "snp_certs", json_object_new_string(certs));
		free(certs);
	}
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						 JSON_C_TO_STRING_NOSLASHESCAPE);
	*ret_policy = text != NULL ? strdup(text) : NULL;
	json_object_put(o);
	if (*ret_policy == NULL)
		return rt_fail_plain("verify-report: out of memory"), -1;
	return 0;
both_time:
	json_object_put(o);
	return rt_fail_plain("verify-report: --policy %s sets verification_time and --at is given: "
			     "set it in one place", a->policy_path),
	       -1;
both_certs:
	json_object_put(o);
	return rt_fail_plain("verify-report: --policy %s sets backend_options.%s.snp_certs and "
			     "--certs is given: set them in one place", a->policy_path, a->backend),
	       -1;
bad_options:
	json_object_put(o);
	return rt_fail_plain("verify-report: --policy %s: backend_options and backend_options.%s "
			     "must be objects", a->policy_path, a->backend),
	       -1;
}

static int verify_report_run(struct rt *rt, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "certs", required_argument, NULL, 'c' },
		{ "policy", required_argument, NULL, 'p' },
		{ "at", required_argument, NULL, 't' },
		{ "collateral", required_argument, NULL, OPT_COLLATERAL },
		RT_COMMON_OPTIONS,
		{ 0 },
	};
	static const char *const operands[] = { "REPORT_FILE" };
	struct report_args a = { .backend = "tsm" };
	char *report = NULL, *policy = NULL, *claims = NULL;
	size_t len = 0;
	int c, r, code = RT_EXIT_FAIL;

	while ((c = rt_getopt(rt, argc, argv, "b:c:p:t:", opts)) != -1) {
		switch (c) {
		case 'b':
			a.backend = optarg;
			break;
		case 'c':
			if (a.n_certs == CERTS_MAX)
				return rt_usage_error(rt, "at most %d --certs options", CERTS_MAX);
			a.certs[a.n_certs++] = optarg;
			break;
		case 'p':
			a.policy_path = optarg;
			break;
		case 't':
			a.at = optarg;
			break;
		case OPT_COLLATERAL:
			if (a.collateral_path != NULL)
				return rt_usage_error(rt, "--collateral is given more than once");
			a.collateral_path = optarg;
			break;
		default:
			return rt_getopt_exit(c);
		}
	}
	if (rt_operands(rt, argc, argv, 1, 1, operands) < 0)
		return RT_EXIT_FAIL;
	a.report_path = argv[optind];
	if (rt_read_file(a.report_path, REPORT_MAX, &report, &len) < 0 ||
	    build_policy(&a, &policy) < 0)
		goto out;
	r = ebcc_report_verify(rt->ctx, a.backend, report, len, policy, &claims);
	if (r < 0) {
		rt_fail(r, "verify-report %s", a.report_path);
		goto out;
	}
	if (rt_print_json_pretty(claims) < 0) {
		rt_fail_plain("verify-report: the backend's claims are not JSON");
		goto out;
	}
	rt_log(EBCC_LOG_INFO, "verified %s", a.report_path);
	code = RT_EXIT_OK;
out:
	ebcc_free(claims);
	free(report);
	free(policy);
	return code;
}

const struct rt_command rt_cmd_verify_report = {
	.name = "verify-report",
	.args = "[--backend NAME] [--certs FILE]... [--policy FILE] [--at TIME] "
		"[--collateral FILE] REPORT_FILE",
	.summary = "verify a raw hardware report (TDX quote, SEV-SNP report) and print its claims",
	.help = "  -b, --backend NAME  the backend that understands the report (default: tsm)\n"
		"  -c, --certs FILE    certificates the report does not carry, PEM or DER (SEV-SNP:\n"
		"                      the VCEK or VLEK, the ASK or ASVK); added to\n"
		"                      backend_options.NAME.snp_certs (may be repeated)\n"
		"  -p, --policy FILE   the policy, a JSON object with the trust roots\n"
		"                      (backend_options.tsm.tdx_root_ca, snp_ark; see\n"
		"                      ebcc_report_verify(3)); default: the empty policy\n"
		"  -t, --at TIME       check certificates at TIME (RFC 3339), the policy's\n"
		"                      verification_time; default: now\n"
		"      --collateral FILE  Intel's collateral for a TDX quote's TCB, a JSON object\n"
		"                      with the keys of Intel's QVL collateral (tcb_info, ...);\n"
		"                      becomes backend_options.NAME.tdx_collateral\n"
		"REPORT_FILE may be - for stdin. Needs no state root. Prints the claims as JSON and\n"
		"exits 0 when the report verifies; exits 1 with the reason otherwise.\n",
	.run = verify_report_run,
};
