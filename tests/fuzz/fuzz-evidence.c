/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: evidence envelopes, through the parser (ebcc__evidence_parse, and the public
 * ebcc_evidence_parse) and the verifier (ebcc_evidence_verify) with the built-in sim backend,
 * whose verify_report checks the report against the key of fuzz-key.h. The seed corpus is real
 * evidence signed with that key (make-seeds.py), so the fuzzer starts on the success path and
 * reaches the sim report parser and the signature check.
 *
 * Properties:
 *  - parsing fails only with EBCC_ERR_VERIFY, EBCC_ERR_TOO_BIG or EBCC_ERR_NO_MEMORY, with a
 *    message that starts with "evidence", and the public parser agrees with the internal one;
 *  - an accepted envelope serialises to a canonical text that parses back to the same fields
 *    and serialises to the same bytes again (a fixpoint);
 *  - verification fails only with EBCC_ERR_VERIFY, EBCC_ERR_NOT_FOUND (an unknown backend) or
 *    EBCC_ERR_NO_MEMORY, and gives the same verdict for the canonical text;
 *  - verified evidence is consistent on its own terms (report_data recomputed from the fields,
 *    simulated, the sim format), and fails again under a policy that pins another nonce.
 */
#include <json-c/json.h>

#include "fuzz-common.h"
#include "fuzz-key.h"

static struct ebcc_context *ctx;
static char *policy;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct json_object *p = json_object_new_object(), *keys = json_object_new_array();

	(void)argc;
	(void)argv;
	if (ebcc_context_new(&ctx) < 0 || p == NULL || keys == NULL) {
		fprintf(stderr, "fuzz-evidence: %s\n", ebcc_last_error_message());
		abort();
	}
	json_object_array_add(keys, json_object_new_string(fuzz_sim_public_key_pem));
	json_object_object_add(p, "trusted_keys", keys);
	json_object_object_add(p, "allow_simulated", json_object_new_boolean(1));
	if (ebcc__json_to_string(p, JSON_C_TO_STRING_PLAIN, &policy) < 0)
		abort();
	json_object_put(p);
	return 0;
}

static void check_same_fields(const struct ebcc_evidence_fields *a,
			      const struct ebcc_evidence_fields *b)
{
	const struct ebcc_binding *x = &a->binding, *y = &b->binding;

	FUZZ_CHECK(strcmp(a->backend, b->backend) == 0 && strcmp(a->format, b->format) == 0 &&
			   a->simulated == b->simulated,
		   "backend, format or simulated changed in the round trip");
	FUZZ_CHECK(strcmp(x->instance, y->instance) == 0 && strcmp(x->stage, y->stage) == 0 &&
			   x->eid == y->eid && x->seq == y->seq &&
			   strcmp(x->measurement, y->measurement) == 0,
		   "instance, stage, eid, seq or measurement changed in the round trip");
	FUZZ_CHECK(x->nonce_len == y->nonce_len &&
			   (x->nonce_len == 0 || memcmp(x->nonce, y->nonce, x->nonce_len) == 0),
		   "nonce changed in the round trip");
	FUZZ_CHECK(memcmp(x->request_digest, y->request_digest, EBCC_SHA256_SIZE) == 0 &&
			   memcmp(x->response_digest, y->response_digest, EBCC_SHA256_SIZE) == 0 &&
			   memcmp(a->report_data, b->report_data, EBCC_REPORT_DATA_SIZE) == 0,
		   "digests or report_data changed in the round trip");
	FUZZ_CHECK(a->report_len == b->report_len &&
			   memcmp(a->report, b->report, a->report_len) == 0,
		   "report changed in the round trip");
}

static int verify(struct ebcc_evidence *ev, const char *policy_json)
{
	int r;

	fuzz_message_reset();
	r = ebcc_evidence_verify(ctx, ev, policy_json);
	FUZZ_RESULT("ebcc_evidence_verify", r, NULL, EBCC_ERR_VERIFY, EBCC_ERR_NOT_FOUND,
		    EBCC_ERR_NO_MEMORY);
	FUZZ_CHECK(r != EBCC_ERR_NOT_FOUND ||
			   strcmp(ebcc__evidence_fields(ev)->backend, "sim") != 0,
		   "the sim backend was not found");
	return r;
}

/* Verified evidence, checked again from its fields, and against a policy it cannot meet. */
static void check_verified(struct ebcc_evidence *ev)
{
	const struct ebcc_evidence_fields *f = ebcc__evidence_fields(ev);
	uint8_t rd[EBCC_REPORT_DATA_SIZE];
	char *other = NULL;
	struct json_object *p;
	char nonce[2 * EBCC_NONCE_MAX + 1];
	uint8_t raw[EBCC_NONCE_MAX + 1] = { 0 };
	size_t n = f->binding.nonce_len == EBCC_NONCE_MAX ? 1 : f->binding.nonce_len + 1;

	FUZZ_CHECK(ebcc__binding_report_data(&f->binding, rd) == 0 &&
			   memcmp(rd, f->report_data, sizeof(rd)) == 0,
		   "verified, but report_data does not bind the fields");
	FUZZ_CHECK(f->simulated && strcmp(f->format, "ebcc.sim.v1") == 0 &&
			   strcmp(f->backend, "sim") == 0,
		   "verified with a trusted sim key, but not simulated sim evidence");

	/* A nonce of another length can never match. */
	ebcc__hex_encode(raw, n, nonce);
	p = json_tokener_parse(policy);
	if (p == NULL)
		abort();
	json_object_object_add(p, "nonce", json_object_new_string(nonce));
	if (ebcc__json_to_string(p, JSON_C_TO_STRING_PLAIN, &other) < 0)
		abort();
	json_object_put(p);
	FUZZ_CHECK(verify(ev, other) == EBCC_ERR_VERIFY,
		   "verified under a policy that pins another nonce");
	free(other);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ebcc_evidence *ev = NULL, *ev2 = NULL, *pub = NULL;
	char *text = NULL, *text2 = NULL;
	size_t len = 0, len2 = 0;
	int r, r_pub, v, v2;
	/* An exact-size copy: a read past the end is an ASan report, and data need not be a
	 * C string. */
	char *copy = malloc(size > 0 ? size : 1);

	if (copy == NULL)
		abort();
	if (size > 0)
		memcpy(copy, data, size);
	fuzz_begin(data, size);

	fuzz_message_reset();
	r = ebcc__evidence_parse(copy, size, EBCC_ERR_VERIFY, &ev);
	FUZZ_RESULT("ebcc__evidence_parse", r, "evidence", EBCC_ERR_VERIFY, EBCC_ERR_TOO_BIG,
		    EBCC_ERR_NO_MEMORY);
	r_pub = ebcc_evidence_parse(ctx, copy, size, &pub);
	FUZZ_CHECK(r_pub == r, "ebcc_evidence_parse says %d, ebcc__evidence_parse %d", r_pub, r);
	ebcc_evidence_unref(pub);
	if (r < 0) {
		free(copy);
		return 0;
	}

	/* The canonical text is a fixpoint with the same meaning. */
	FUZZ_CHECK(ebcc__evidence_serialize(ev, &text, &len) == 0, "serialising failed");
	FUZZ_CHECK(len == strlen(text), "serialised length %zu is not the text's", len);
	r = ebcc__evidence_parse(text, len, EBCC_ERR_VERIFY, &ev2);
	FUZZ_CHECK(r == 0, "the canonical text does not parse: %s", text);
	check_same_fields(ebcc__evidence_fields(ev), ebcc__evidence_fields(ev2));
	FUZZ_CHECK(ebcc__evidence_serialize(ev2, &text2, &len2) == 0 && len2 == len &&
			   memcmp(text, text2, len) == 0,
		   "serialising is not a fixpoint:\n%s\n%s", text, text2);

	v = verify(ev, policy);
	v2 = verify(ev2, policy);
	FUZZ_CHECK(v == v2, "the canonical text verifies with %d, the input with %d", v2, v);
	if (v == 0)
		check_verified(ev);

	free(text);
	free(text2);
	ebcc_evidence_unref(ev);
	ebcc_evidence_unref(ev2);
	free(copy);
	return 0;
}
