/* SPDX-License-Identifier: MIT */
/*
 * seal: the relying party's release of a secret to one attested stage (ebcc-secrets(7)). The
 * evidence of the answer that bound the stage's key is verified under the policy, and the
 * secret is sealed to that key; what comes out opens only inside that stage
 * (ebcc_stage_open_secret()), so it may travel through the host, e.g. as the request of the
 * next `invoke`. Needs no state root.
 */
#include <stdlib.h>
#include <string.h>

#include "runtime.h"

#define ENVELOPE_MAX (1u << 20) /* ebcc_evidence_parse()'s own limit */
#define POLICY_MAX (1u << 20)

/* The secret, wiped before it is freed: it is in this process only as long as needed. */
static void secret_free(char *secret, size_t len)
{
	if (secret != NULL)
		explicit_bzero(secret, len);
	free(secret);
}

static int seal_run(struct rt *rt, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "evidence", required_argument, NULL, 'e' },
		{ "policy", required_argument, NULL, 'p' },
		{ "in", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'o' },
		RT_COMMON_OPTIONS,
		{ 0 },
	};
	const char *evidence_path = NULL, *policy_path = NULL, *in = "-", *out = "-";
	struct ebcc_verify_options verify = EBCC_VERIFY_OPTIONS_INIT;
	struct ebcc_evidence *ev = NULL;
	char *envelope = NULL, *policy = NULL, *secret = NULL;
	void *sealed = NULL;
	size_t envelope_len = 0, policy_len = 0, secret_len = 0, sealed_len = 0;
	int c, r, code = RT_EXIT_FAIL;

	while ((c = rt_getopt(rt, argc, argv, "e:p:i:o:", opts)) != -1) {
		switch (c) {
		case 'e':
			evidence_path = optarg;
			break;
		case 'p':
			policy_path = optarg;
			break;
		case 'i':
			in = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			return rt_getopt_exit(c);
		}
	}
	if (rt_operands(rt, argc, argv, 0, 0, NULL) < 0)
		return RT_EXIT_FAIL;
	if (evidence_path == NULL || policy_path == NULL)
		return rt_usage_error(rt, "missing --%s", evidence_path == NULL ? "evidence"
										  : "policy");
	if (strcmp(evidence_path, "-") == 0 && strcmp(in, "-") == 0)
		return rt_usage_error(rt, "--evidence and --in cannot both be stdin");

	if (rt_read_file(evidence_path, ENVELOPE_MAX, &envelope, &envelope_len) < 0 ||
	    rt_read_file(policy_path, POLICY_MAX, &policy, &policy_len) < 0 ||
	    rt_read_file(in, EBCC_SECRET_MAX, &secret, &secret_len) < 0)
		goto out;
	if (memchr(policy, '\0', policy_len) != NULL) {
		rt_fail_plain("seal: --policy %s has a NUL byte", policy_path);
		goto out;
	}
	verify.policy_json = policy;
	r = ebcc_evidence_parse(rt->ctx, envelope, envelope_len, &ev);
	if (r == 0)
		r = ebcc_secret_seal(rt->ctx, ev, &verify, secret, secret_len, &sealed, &sealed_len);
	if (r < 0) {
		rt_fail(r, "seal %s", evidence_path);
		goto out;
	}
	if (rt_write_file(out, RT_OUT_STREAM, sealed, sealed_len) < 0)
		goto out;
	rt_log(EBCC_LOG_INFO, "sealed %zu bytes to the key of %s", secret_len, evidence_path);
	code = RT_EXIT_OK;
out:
	secret_free(secret, secret_len);
	ebcc_evidence_unref(ev);
	free(envelope);
	free(policy);
	ebcc_free(sealed);
	return code;
}

const struct rt_command rt_cmd_seal = {
	.name = "seal",
	.args = "--evidence EVIDENCE.json --policy FILE [--in FILE|-] [--out FILE|-]",
	.summary = "release a secret to the stage whose evidence binds a key (ebcc-secrets(7))",
	.help = "  -e, --evidence FILE  the evidence of the answer that bound the stage's key\n"
		"  -p, --policy FILE    the policy, a JSON object (ebcc_evidence_verify(3)); it must\n"
		"                       pin \"measurement\" and \"nonce\"\n"
		"  -i, --in FILE        the secret, at most 1 MiB (default: - for stdin)\n"
		"  -o, --out FILE       the sealed secret (default: - for stdout; created 0600)\n"
		"Needs no state root. Exits 1 with the reason, writing nothing, when the evidence\n"
		"fails the policy or binds no key.\n",
	.run = seal_run,
};
