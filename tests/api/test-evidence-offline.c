/* SPDX-License-Identifier: MIT */
/*
 * Black-box: a verifier that knows only the public API and the documented formats. It computes
 * report_data itself from ebcc_evidence_verify(3)'s encoding, writes the envelope JSON by hand,
 * and checks that the library parses, re-serialises (byte for byte) and verifies it, from
 * several threads at once.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include <ebcc/backend.h>
#include <ebcc/ebcc.h>

#include "testtee.h"

#define MEASUREMENT "sha256:737df3b18430aaf0c1f11f9409d70b513becef5736653bf30f35d93e4d3458e0"

static struct ebcc_context *ctx;
static struct testtee *tt;

static int setup(void **state)
{
	(void)state;
	if (ebcc_context_new(&ctx) < 0)
		return -1;
	tt = testtee_new();
	return tt != NULL && testtee_register(tt, ctx, "testtee", "ebcc.testtee.v1", 0) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	ebcc_context_unref(ctx);
	testtee_free(tt);
	return 0;
}

static void hex(const uint8_t *data, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++)
		sprintf(out + 2 * i, "%02x", data[i]);
	out[2 * len] = '\0';
}

/* The documented encoding: each field as a 4-byte big-endian length and its bytes; integers as
 * their 8 big-endian bytes; SHA-512 of it all. */
static void field(EVP_MD_CTX *md, const void *data, size_t len)
{
	uint8_t n[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			 (uint8_t)len };

	assert_int_equal(EVP_DigestUpdate(md, n, 4), 1);
	assert_int_equal(EVP_DigestUpdate(md, data, len), 1);
}

static void number(EVP_MD_CTX *md, uint64_t v)
{
	uint8_t be[8];

	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)(v >> (56 - 8 * i));
	field(md, be, 8);
}

static void sha256(const char *s, uint8_t out[32])
{
	assert_int_equal(EVP_Digest(s, strlen(s), out, NULL, EVP_sha256(), NULL), 1);
}

struct envelope {
	char json[4096];
	char request_digest[72], response_digest[72], nonce[129];
};

static void build(struct envelope *e, const char *instance, const char *stage, uint64_t eid,
		  uint64_t seq, const char *request, const char *response, const char *backend)
{
	uint8_t nonce[8] = { 0xde, 0xad, 0xbe, 0xef, 0, 1, 2, 3 };
	uint8_t req[32], resp[32], rd[64], *report = NULL;
	char rd_hex[129], report_b64[1024];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned int n = 0;
	size_t report_len = 0;

	sha256(request, req);
	sha256(response, resp);
	assert_int_equal(EVP_DigestInit_ex(md, EVP_sha512(), NULL), 1);
	field(md, "EBCC-EVIDENCE-V2", 16);
	field(md, instance, strlen(instance));
	field(md, stage, strlen(stage));
	number(md, eid);
	number(md, seq);
	field(md, MEASUREMENT, strlen(MEASUREMENT));
	field(md, nonce, sizeof(nonce));
	field(md, req, 32);
	field(md, resp, 32);
	assert_int_equal(EVP_DigestFinal_ex(md, rd, &n), 1);
	assert_int_equal(n, 64);
	EVP_MD_CTX_free(md);

	assert_int_equal(testtee_report(tt, rd, MEASUREMENT, eid, &report, &report_len), 0);
	assert_true(report_len < 700);
	EVP_EncodeBlock((unsigned char *)report_b64, report, (int)report_len);
	free(report);
	hex(rd, 64, rd_hex);
	hex(nonce, sizeof(nonce), e->nonce);
	memcpy(e->request_digest, "sha256:", 7);
	hex(req, 32, e->request_digest + 7);
	memcpy(e->response_digest, "sha256:", 7);
	hex(resp, 32, e->response_digest + 7);
	snprintf(e->json, sizeof(e->json),
		 "{\"version\":2,\"format\":\"ebcc.testtee.v1\",\"backend\":\"%s\",\"simulated\":false,"
		 "\"instance\":\"%s\",\"stage\":\"%s\",\"eid\":%llu,\"seq\":%llu,"
		 "\"measurement\":\"%s\",\"nonce\":\"%s\",\"request_digest\":\"%s\","
		 "\"response_digest\":\"%s\",\"report_data\":\"%s\",\"report\":\"%s\"}",
		 backend, instance, stage, (unsigned long long)eid, (unsigned long long)seq,
		 MEASUREMENT, e->nonce, e->request_digest, e->response_digest, rd_hex, report_b64);
}

static char *policy_for(const struct envelope *e, const char *nonce)
{
	const char *pem = testtee_public_pem(tt);
	char *escaped = malloc(2 * strlen(pem) + 1), *o = escaped, *policy;

	for (const char *p = pem; *p != '\0'; p++) {
		if (*p == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	assert_true(asprintf(&policy,
			     "{\"trusted_keys\":[\"%s\"],\"measurement\":\"%s\",\"nonce\":\"%s\","
			     "\"request_digest\":\"%s\",\"response_digest\":\"%s\"}",
			     escaped, MEASUREMENT, nonce, e->request_digest, e->response_digest) > 0);
	free(escaped);
	return policy;
}

static void hand_written_envelope_verifies(void **state)
{
	struct envelope e;
	struct ebcc_evidence *ev = NULL;
	char *json = NULL, *policy;

	(void)state;
	build(&e, "web_1.example+x", "price-model", 123456789, 3, "{\"q\":1}", "{\"a\":2}",
	      "testtee");
	assert_int_equal(ebcc_evidence_parse(ctx, e.json, strlen(e.json), &ev), 0);
	/* The library writes exactly the documented spelling. */
	assert_int_equal(ebcc_evidence_serialize(ev, &json), 0);
	assert_string_equal(json, e.json);
	ebcc_free(json);

	policy = policy_for(&e, e.nonce);
	assert_int_equal(ebcc_evidence_verify(ctx, ev, policy), 0);
	free(policy);

	policy = policy_for(&e, "deadbeef00010204");
	assert_int_equal(ebcc_evidence_verify(ctx, ev, policy), EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "nonce"));
	free(policy);
	ebcc_evidence_unref(ev);
}

/* ebcc_evidence_verify_with(): a policy object (no JSON written by hand) or its text, the
 * claims only when asked for, and one of the two policies at most. */
static void verify_with_policy_object(void **state)
{
	struct ebcc_verify_options opts;
	struct ebcc_evidence *ev = NULL;
	struct ebcc_policy *policy = NULL;
	struct envelope e;
	char *claims = NULL, *text;

	(void)state;
	build(&e, "c-with", "scorer", 77, 4, "{\"q\":3}", "{\"a\":4}", "testtee");
	assert_int_equal(ebcc_evidence_parse(ctx, e.json, strlen(e.json), &ev), 0);
	assert_int_equal(ebcc_policy_new(&policy), 0);
	assert_int_equal(ebcc_policy_add_trusted_key(policy, testtee_public_pem(tt)), 0);
	assert_int_equal(ebcc_policy_set_string(policy, "measurement", MEASUREMENT), 0);
	assert_int_equal(ebcc_policy_set_string(policy, "nonce", e.nonce), 0);

	ebcc_verify_options_init(&opts);
	assert_int_equal(opts.size, sizeof(opts));
	opts.policy = policy;
	assert_int_equal(ebcc_evidence_verify_with(ctx, ev, &opts, NULL), 0);
	assert_int_equal(ebcc_evidence_verify_with(ctx, ev, &opts, &claims), 0);
	assert_non_null(strstr(claims, "\"stage\":\"scorer\""));
	ebcc_free(claims);

	/* The same policy as text verifies the same; both at once is refused. */
	text = policy_for(&e, e.nonce);
	opts.policy_json = text;
	claims = (char *)"untouched";
	assert_int_equal(ebcc_evidence_verify_with(ctx, ev, &opts, &claims), EBCC_ERR_INVALID_ARG);
	assert_non_null(strstr(ebcc_last_error_message(), "both policy and policy_json"));
	assert_string_equal(claims, "untouched");
	opts.policy = NULL;
	assert_int_equal(ebcc_evidence_verify_with(ctx, ev, &opts, NULL), 0);
	free(text);

	/* A policy object that does not match is refused with the field named. */
	assert_int_equal(ebcc_policy_set_string(policy, "nonce", "00ff"), 0);
	opts.policy_json = NULL;
	opts.policy = policy;
	assert_int_equal(ebcc_evidence_verify_with(ctx, ev, &opts, &claims), EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "nonce"));
	assert_string_equal(claims, "untouched");

	/* No options: no policy, which trusts no key. */
	assert_int_equal(ebcc_evidence_verify_with(ctx, ev, NULL, NULL), EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "trusted_keys"));
	opts.flags = 1;
	assert_int_equal(ebcc_evidence_verify_with(ctx, ev, &opts, NULL), EBCC_ERR_INVALID_ARG);
	assert_non_null(strstr(ebcc_last_error_message(), "flags"));
	opts.flags = 0;
	opts.size = 8;
	assert_int_equal(ebcc_evidence_verify_with(ctx, ev, &opts, NULL), EBCC_ERR_INVALID_ARG);
	assert_non_null(strstr(ebcc_last_error_message(), "ebcc_verify_options_init()"));
	ebcc_policy_free(policy);
	ebcc_evidence_unref(ev);
}

static void unknown_backend_is_not_found(void **state)
{
	struct envelope e;
	struct ebcc_evidence *ev = NULL;
	char *policy;

	(void)state;
	build(&e, "c1", "s", 1, 1, "", "", "nosuch");
	assert_int_equal(ebcc_evidence_parse(ctx, e.json, strlen(e.json), &ev), 0);
	policy = policy_for(&e, e.nonce);
	assert_int_equal(ebcc_evidence_verify(ctx, ev, policy), EBCC_ERR_NOT_FOUND);
	assert_non_null(strstr(ebcc_last_error_message(), "nosuch"));
	free(policy);
	ebcc_evidence_unref(ev);
}

static void parse_errors_through_the_api(void **state)
{
	struct envelope e;
	struct ebcc_evidence *ev = NULL;
	char *big;

	(void)state;
	build(&e, "c1", "s", 1, 1, "", "", "testtee");
	assert_int_equal(ebcc_evidence_parse(ctx, e.json, strlen(e.json) - 1, &ev),
			 EBCC_ERR_VERIFY);
	big = calloc(1, (1 << 20) + 1);
	memset(big, ' ', (1 << 20) + 1);
	memcpy(big, e.json, strlen(e.json));
	assert_int_equal(ebcc_evidence_parse(ctx, big, (1 << 20) + 1, &ev), EBCC_ERR_TOO_BIG);
	assert_null(ev);
	assert_int_equal(ebcc_evidence_parse(ctx, big, 1 << 20, &ev), 0);
	free(big);
	ebcc_evidence_unref(ev);
}

struct worker {
	struct ebcc_evidence *ev;
	const char *json, *policy, *bad_policy;
	int failures;
};

static void *work(void *arg)
{
	struct worker *w = arg;

	for (int i = 0; i < 100; i++) {
		struct ebcc_evidence *mine = ebcc_evidence_ref(w->ev), *parsed = NULL;
		char *json = NULL;

		if (ebcc_evidence_verify(ctx, mine, w->policy) != 0 ||
		    ebcc_evidence_verify(ctx, mine, w->bad_policy) != EBCC_ERR_VERIFY ||
		    strstr(ebcc_last_error_message(), "nonce") == NULL ||
		    ebcc_evidence_serialize(mine, &json) != 0 || strcmp(json, w->json) != 0 ||
		    ebcc_evidence_parse(ctx, json, strlen(json), &parsed) != 0)
			w->failures++;
		ebcc_free(json);
		ebcc_evidence_unref(parsed);
		ebcc_evidence_unref(mine);
	}
	ebcc_evidence_unref(w->ev);
	return NULL;
}

static void shared_between_threads(void **state)
{
	struct envelope e;
	struct ebcc_evidence *ev = NULL;
	struct worker w[4];
	pthread_t threads[4];
	char *policy, *bad;

	(void)state;
	build(&e, "shared", "s", 9, 99, "req", "resp", "testtee");
	assert_int_equal(ebcc_evidence_parse(ctx, e.json, strlen(e.json), &ev), 0);
	policy = policy_for(&e, e.nonce);
	bad = policy_for(&e, "00");
	for (int i = 0; i < 4; i++) {
		w[i] = (struct worker){ .ev = ebcc_evidence_ref(ev), .json = e.json,
					.policy = policy, .bad_policy = bad };
		assert_int_equal(pthread_create(&threads[i], NULL, work, &w[i]), 0);
	}
	/* The creator's reference goes while the threads still work with theirs; the last
	 * thread to finish frees the evidence. */
	assert_null(ebcc_evidence_unref(ev));
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(threads[i], NULL), 0);
		assert_int_equal(w[i].failures, 0);
	}
	free(policy);
	free(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(hand_written_envelope_verifies),
		cmocka_unit_test(verify_with_policy_object),
		cmocka_unit_test(unknown_backend_is_not_found),
		cmocka_unit_test(parse_errors_through_the_api),
		cmocka_unit_test(shared_between_threads),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
