/* SPDX-License-Identifier: MIT */
/*
 * verify: offline verification of an evidence envelope. It needs no state root and no
 * composite, only the envelope, a policy and the keys a verifier trusts, so it runs the same on
 * a machine that has never seen the composite.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "runtime.h"

#define ENVELOPE_MAX (1u << 20) /* ebcc_evidence_parse()'s own limit */
#define POLICY_MAX (1u << 20)
#define KEY_MAX (16u << 10)
#define KEYS_MAX 64

struct verify_args {
	const char *policy_path;
	const char *keys[KEYS_MAX];
	size_t n_keys;
	int allow_simulated;
	const char *nonce;
	const char *measurement;
	int claims;
	const char *evidence_path;
};

/* The options as policy members, without the braces: "\"trusted_keys\":[...],..." (malloc). */
static int option_members(const struct verify_args *a, char **ret)
{
	struct json_object *add = json_object_new_object(), *keys;
	const char *text;
	size_t len;

	if (add == NULL)
		return rt_fail_plain("verify: out of memory"), -1;
	if (a->n_keys > 0) {
		keys = json_object_new_array();
		json_object_object_add(add, "trusted_keys", keys);
		for (size_t i = 0; i < a->n_keys; i++) {
			char *pem;

			if (rt_read_file(a->keys[i], KEY_MAX, &pem, &len) < 0) {
				json_object_put(add);
				return -1;
			}
			json_object_array_add(keys, json_object_new_string_len(pem, (int)len));
			free(pem);
		}
	}
	if (a->allow_simulated)
		json_object_object_add(add, "allow_simulated", json_object_new_boolean(1));
	if (a->nonce != NULL)
		json_object_object_add(add, "nonce", json_object_new_string(a->nonce));
	if (a->measurement != NULL)
		json_object_object_add(add, "measurement", json_object_new_string(a->measurement));
	text = json_object_to_json_string_ext(add, JSON_C_TO_STRING_PLAIN |
						   JSON_C_TO_STRING_NOSLASHESCAPE);
	len = text != NULL ? strlen(text) : 0;
	*ret = len >= 2 ? strndup(text + 1, len - 2) : NULL; /* "{...}" */
	json_object_put(add);
	if (*ret == NULL)
		return rt_fail_plain("verify: out of memory"), -1;
	return 0;
}

/*
 * The policy to verify against. Only the library reads the --policy file, with all its
 * strictness: the file's bytes go to it unchanged, and the options are appended to the file's
 * object as further members, after its last one, so that byte offsets in the library's
 * messages are the file's own. A key that both the file and an option set is then a duplicate
 * key, which the library refuses: nothing is silently overridden.
 */
static int build_policy(const struct verify_args *a, char **ret_policy)
{
	char *text = NULL, *members = NULL, *policy;
	size_t len = 0, last, first;
	int merge = a->n_keys > 0 || a->allow_simulated || a->nonce != NULL || a->measurement != NULL;

	if (a->policy_path != NULL) {
		const char *nul;

		if (rt_read_file(a->policy_path, POLICY_MAX, &text, &len) < 0)
			return -1;
		/* The library takes the policy as a C string: it would end at the first NUL. */
		nul = memchr(text, '\0', len);
		if (nul != NULL) {
			size_t at = (size_t)(nul - text);

			free(text);
			return rt_fail_plain("verify: --policy %s has a NUL byte at offset %zu",
					     a->policy_path, at),
			       -1;
		}
	}
	if (!merge) {
		*ret_policy = text; /* NULL: the empty policy */
		return 0;
	}
	if (option_members(a, &members) < 0) {
		free(text);
		return -1;
	}
	if (text == NULL) {
		policy = malloc(strlen(members) + 3);
		if (policy != NULL)
			sprintf(policy, "{%s}", members);
	} else {
		/* Before the file's closing brace; a comma unless its object is empty. Anything
		 * else (not an object, trailing data, comments) stays for the library to refuse. */
		for (last = len; last > 0 && strchr(" \t\r\n", text[last - 1]) != NULL; last--)
			;
		for (first = 0; first < len && strchr(" \t\r\n", text[first]) != NULL; first++)
			;
		if (last == 0 || text[last - 1] != '}') {
			free(members);
			*ret_policy = text;
			return 0;
		}
		last--;
		policy = malloc(len + strlen(members) + 2);
		if (policy != NULL) {
			int empty = first < len && text[first] == '{';

			for (size_t i = first + 1; empty && i < last; i++)
				empty = strchr(" \t\r\n", text[i]) != NULL;
			sprintf(policy, "%.*s%s%s%s", (int)last, text, empty ? "" : ",", members,
				text + last);
		}
	}
	free(text);
	free(members);
	if (policy == NULL)
		return rt_fail_plain("verify: out of memory"), -1;
	*ret_policy = policy;
	return 0;
}

static const char *field(struct json_object *obj, const char *key)
{
	struct json_object *value;

	return json_object_object_get_ex(obj, key, &value) ? json_object_get_string(value) : "?";
}

/* The backend's word on its report, from the claims: how the signature was checked and what
 * the backend does not establish. */
static void print_backend(struct json_object *claims)
{
	struct json_object *backend, *value;

	if (!json_object_object_get_ex(claims, "backend", &backend) ||
	    !json_object_is_type(backend, json_type_object))
		return;
	if (json_object_object_get_ex(backend, "signature", &value))
		printf("  signature: %s\n", json_object_get_string(value));
	if (json_object_object_get_ex(backend, "not_verified", &value) &&
	    json_object_is_type(value, json_type_array))
		for (size_t i = 0; i < json_object_array_length(value); i++)
			printf("  not verified: %s\n",
			       json_object_get_string(json_object_array_get_idx(value, i)));
}

/* What passed, for the person reading: the envelope's claims and which were checked. Only
 * after the library has accepted both texts, whose strict parsers leave them one meaning. */
static void print_verdict(const char *envelope_text, const char *policy_text,
			  const char *claims_text)
{
	struct json_object *env = json_tokener_parse(envelope_text);
	struct json_object *policy = policy_text != NULL ? json_tokener_parse(policy_text) : NULL;
	struct json_object *claims = json_tokener_parse(claims_text);
	struct json_object *value;
	int simulated = env != NULL && json_object_object_get_ex(env, "simulated", &value) &&
			json_object_get_boolean(value);

	printf("verified: stage %s of %s, seq %s, eid %s, backend %s (%s)\n", field(env, "stage"),
	       field(env, "instance"), field(env, "seq"), field(env, "eid"), field(env, "backend"),
	       field(env, "format"));
	printf("  measurement %s%s\n", field(env, "measurement"),
	       policy != NULL && json_object_object_get_ex(policy, "measurement", NULL)
		       ? " (as the policy expects)"
		       : " (not pinned by the policy)");
	printf("  nonce %s%s\n", field(env, "nonce"),
	       policy != NULL && json_object_object_get_ex(policy, "nonce", NULL)
		       ? " (as the policy expects)"
		       : " (not checked: no nonce in the policy)");
	printf("  request %s, response %s\n", field(env, "request_digest"),
	       field(env, "response_digest"));
	if (simulated)
		printf("  SIMULATED: the backend has no hardware root of trust; accepted only "
		       "because the policy allows simulated evidence\n");
	print_backend(claims);
	json_object_put(claims);
	json_object_put(policy);
	json_object_put(env);
}

static int verify_run(struct rt *rt, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "key", required_argument, NULL, 'k' },
		{ "allow-simulated", no_argument, NULL, 's' },
		{ "nonce", required_argument, NULL, 'n' },
		{ "measurement", required_argument, NULL, 'm' },
		{ "claims", no_argument, NULL, 'c' },
		RT_COMMON_OPTIONS,
		{ 0 },
	};
	static const char *const operands[] = { "EVIDENCE.json" };
	struct verify_args a = { 0 };
	struct ebcc_evidence *ev = NULL;
	char *envelope = NULL, *policy = NULL, *claims = NULL;
	size_t len;
	int c, r, code = RT_EXIT_FAIL;

	while ((c = rt_getopt(rt, argc, argv, "p:k:n:m:", opts)) != -1) {
		switch (c) {
		case 'p':
			a.policy_path = optarg;
			break;
		case 'k':
			if (a.n_keys == KEYS_MAX)
				return rt_usage_error(rt, "at most %d --key options", KEYS_MAX);
			a.keys[a.n_keys++] = optarg;
			break;
		case 's':
			a.allow_simulated = 1;
			break;
		case 'n':
			a.nonce = optarg;
			break;
		case 'm':
			a.measurement = optarg;
			break;
		case 'c':
			a.claims = 1;
			break;
		default:
			return rt_getopt_exit(c);
		}
	}
	if (rt_operands(rt, argc, argv, 1, 1, operands) < 0)
		return RT_EXIT_FAIL;
	a.evidence_path = argv[optind];

	if (rt_read_file(a.evidence_path, ENVELOPE_MAX, &envelope, &len) < 0 ||
	    build_policy(&a, &policy) < 0)
		goto out;
	r = ebcc_evidence_parse(rt->ctx, envelope, len, &ev);
	if (r == 0)
		r = ebcc_evidence_verify_claims(rt->ctx, ev, policy, &claims);
	if (r < 0) {
		rt_fail(r, "verify %s", a.evidence_path);
		goto out;
	}
	if (a.claims)
		rt_print_json_pretty(claims);
	else
		print_verdict(envelope, policy, claims);
	rt_log(EBCC_LOG_INFO, "verified %s", a.evidence_path);
	code = RT_EXIT_OK;
out:
	ebcc_evidence_unref(ev);
	free(envelope);
	free(policy);
	ebcc_free(claims);
	return code;
}

const struct rt_command rt_cmd_verify = {
	.name = "verify",
	.args = "[--policy FILE] [--key PEM] [--allow-simulated] [--nonce HEX] "
		"[--measurement M] [--claims] EVIDENCE.json",
	.summary = "verify an evidence envelope offline against a policy and trusted keys",
	.help = "  -p, --policy FILE      the policy, a JSON object (see ebcc_evidence_verify(3));\n"
		"                         default: the empty policy\n"
		"  -k, --key PEM          trust the public key in file PEM (may be repeated)\n"
		"      --allow-simulated  accept evidence from a simulated backend such as sim\n"
		"  -n, --nonce HEX        require this nonce\n"
		"  -m, --measurement M    require this stage measurement (sha256:<hex>)\n"
		"      --claims           print what was verified as JSON (the envelope's facts\n"
		"                         and the backend's verdict, see ebcc_evidence_verify(3))\n"
		"EVIDENCE.json may be - for stdin. Needs no state root. Exits 1 with the reason\n"
		"when verification fails.\n",
	.run = verify_run,
};
