/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: verification policies, through ebcc__policy_parse() and ebcc__policy_check()
 * against fixed evidence (once simulated, once not).
 *
 * Properties:
 *  - parsing fails only with EBCC_ERR_VERIFY or EBCC_ERR_NO_MEMORY and a message that starts
 *    with "policy";
 *  - an accepted policy says what a plain json-c reading of the same text says (keys, the
 *    measurement, nonce and digests decoded, allow_simulated), and clearing it leaves nothing;
 *  - the check fails only with EBCC_ERR_VERIFY and a "policy:" message, and exactly when one of
 *    the policy's expectations differs from the evidence, or backend_options names another
 *    backend than the evidence's.
 *
 * The fixed evidence is spelled out in make-seeds.py as well, so that seed policies match it.
 */
#include <json-c/json.h>

#include "fuzz-common.h"

#define INSTANCE "fuzz-composite"
#define STAGE "echo"
#define EID 7
#define SEQ 42

static struct ebcc_evidence *evidence[2]; /* simulated, hardware */
static const char *measurement;

static void sha256_text(const char *text, uint8_t out[EBCC_SHA256_SIZE])
{
	if (ebcc__sha256(text, strlen(text), out) < 0)
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char m[EBCC_MEASUREMENT_MAX];
	static const uint8_t report[] = { 'E', 'B', 'S', 'R' };
	uint8_t digest[EBCC_SHA256_SIZE], nonce[32];
	struct ebcc_evidence_fields f = {
		.backend = "sim",
		.format = "ebcc.sim.v1",
		.binding = {
			.instance = INSTANCE,
			.stage = STAGE,
			.eid = EID,
			.seq = SEQ,
			.nonce = nonce,
			.nonce_len = sizeof(nonce),
		},
		.report = report,
		.report_len = sizeof(report),
	};

	(void)argc;
	(void)argv;
	/* measurement = sha256 of "fuzz stage image", nonce = 00 01 .. 1f, digests of "request"
	 * and "response". */
	sha256_text("fuzz stage image", digest);
	ebcc__measurement_format(digest, m);
	measurement = m;
	f.binding.measurement = m;
	for (size_t i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)i;
	sha256_text("request", f.binding.request_digest);
	sha256_text("response", f.binding.response_digest);
	if (ebcc__binding_report_data(&f.binding, f.report_data) < 0)
		abort();
	for (int i = 0; i < 2; i++) {
		f.simulated = i == 0;
		if (ebcc__evidence_new(&f, &evidence[i]) < 0) {
			fprintf(stderr, "fuzz-policy: %s\n", ebcc_last_error_message());
			abort();
		}
	}
	return 0;
}

/* The parsed policy against a plain reading of its text. */
static void check_parsed(const struct ebcc__policy *p, struct json_object *root)
{
	struct json_object *v;
	uint8_t buf[EBCC_NONCE_MAX];
	size_t n;

	FUZZ_CHECK(json_object_is_type(root, json_type_object), "a policy that is no object");
	if (json_object_object_get_ex(root, "trusted_keys", &v)) {
		FUZZ_CHECK(json_object_array_length(v) == p->n_trusted_keys &&
				   p->n_trusted_keys <= EBCC_POLICY_KEYS_MAX,
			   "trusted_keys: %zu parsed", p->n_trusted_keys);
		for (size_t i = 0; i < p->n_trusted_keys; i++)
			FUZZ_CHECK(strcmp(p->trusted_keys[i],
					  json_object_get_string(json_object_array_get_idx(v, i))) ==
						   0 &&
					   p->trusted_keys[i][0] != '\0',
				   "trusted_keys[%zu] differs", i);
	} else {
		FUZZ_CHECK(p->n_trusted_keys == 0, "trusted keys from nowhere");
	}
	if (json_object_object_get_ex(root, "measurement", &v))
		FUZZ_CHECK(p->measurement != NULL &&
				   strcmp(p->measurement, json_object_get_string(v)) == 0 &&
				   ebcc__evidence_measurement_valid(p->measurement),
			   "measurement differs");
	else
		FUZZ_CHECK(p->measurement == NULL, "a measurement from nowhere");
	FUZZ_CHECK(p->has_nonce == json_object_object_get_ex(root, "nonce", &v), "nonce presence");
	if (p->has_nonce) {
		const char *hex = json_object_get_string(v);

		FUZZ_CHECK(ebcc__hex_decode(hex, strlen(hex), buf, sizeof(buf), &n) == 0 &&
				   n == p->nonce_len && (n == 0 || memcmp(buf, p->nonce, n) == 0),
			   "nonce \"%s\" decoded differently", hex);
	}
	FUZZ_CHECK(p->has_request_digest == json_object_object_get_ex(root, "request_digest", &v),
		   "request_digest presence");
	if (p->has_request_digest)
		FUZZ_CHECK(ebcc__evidence_digest_parse(json_object_get_string(v),
						       strlen(json_object_get_string(v)), buf) == 0 &&
				   memcmp(buf, p->request_digest, EBCC_SHA256_SIZE) == 0,
			   "request_digest decoded differently");
	FUZZ_CHECK(p->has_response_digest ==
			   json_object_object_get_ex(root, "response_digest", &v),
		   "response_digest presence");
	if (p->has_response_digest)
		FUZZ_CHECK(ebcc__evidence_digest_parse(json_object_get_string(v),
						       strlen(json_object_get_string(v)), buf) == 0 &&
				   memcmp(buf, p->response_digest, EBCC_SHA256_SIZE) == 0,
			   "response_digest decoded differently");
	FUZZ_CHECK(p->allow_simulated == (json_object_object_get_ex(root, "allow_simulated", &v) &&
					  json_object_get_boolean(v)),
		   "allow_simulated differs");
}

static bool policy_empty(const struct ebcc__policy *p)
{
	return p->root == NULL && p->trusted_keys == NULL && p->n_trusted_keys == 0 &&
	       p->measurement == NULL && !p->has_nonce && p->nonce_len == 0 &&
	       !p->has_request_digest && !p->has_response_digest && !p->allow_simulated;
}

/* Would the policy accept the evidence? Each expectation compared on its own. */
static bool expect_accept(const struct ebcc__policy *p, const struct ebcc_evidence_fields *f)
{
	const struct ebcc_binding *b = &f->binding;
	struct json_object *options;

	/* backend_options may name only the evidence's backend. */
	if (p->root != NULL && json_object_object_get_ex(p->root, "backend_options", &options)) {
		struct json_object_iter it;

		json_object_object_foreachC(options, it) {
			if (strcmp(it.key, f->backend) != 0)
				return false;
		}
	}
	if (f->simulated && !p->allow_simulated)
		return false;
	if (p->measurement != NULL && strcmp(p->measurement, measurement) != 0)
		return false;
	if (p->has_nonce && (p->nonce_len != b->nonce_len ||
			     memcmp(p->nonce, b->nonce, b->nonce_len) != 0))
		return false;
	if (p->has_request_digest &&
	    memcmp(p->request_digest, b->request_digest, EBCC_SHA256_SIZE) != 0)
		return false;
	return !p->has_response_digest ||
	       memcmp(p->response_digest, b->response_digest, EBCC_SHA256_SIZE) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ebcc__policy p;
	char *text = malloc(size + 1);
	int r;

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0'; /* a policy is a C string: an embedded NUL ends it */
	fuzz_begin(data, size);

	fuzz_message_reset();
	r = ebcc__policy_parse(text, &p);
	FUZZ_RESULT("ebcc__policy_parse", r, "policy", EBCC_ERR_VERIFY, EBCC_ERR_NO_MEMORY);
	if (r < 0) {
		free(text);
		return 0;
	}
	if (p.root != NULL)
		check_parsed(&p, p.root);
	else
		FUZZ_CHECK(text[0] == '\0' && policy_empty(&p),
			   "no JSON, but not the empty policy");

	for (int i = 0; i < 2; i++) {
		const struct ebcc_evidence_fields *f = ebcc__evidence_fields(evidence[i]);
		bool accept = expect_accept(&p, f);

		fuzz_message_reset();
		r = ebcc__policy_check(&p, f);
		FUZZ_RESULT("ebcc__policy_check", r, "policy: ", EBCC_ERR_VERIFY);
		FUZZ_CHECK((r == 0) == accept, "the check %s evidence the policy should %s",
			   r == 0 ? "accepts" : "refuses", accept ? "accept" : "refuse");
	}
	ebcc__policy_clear(&p);
	FUZZ_CHECK(policy_empty(&p), "a cleared policy is not empty");
	free(text);
	return 0;
}
