/* SPDX-License-Identifier: MIT */
/*
 * The binding: report_data, the 64 bytes every backend report covers, computed from what an
 * invocation was about. ebcc_evidence_verify(3) documents the encoding for verifiers written
 * in other languages; tests/unit/test-evidence.c and tests/python/test_evidence.py hold test
 * vectors computed independently.
 *
 *   report_data = SHA-512( F(tag) || F(instance) || F(stage) || F(u64be(eid)) ||
 *                          F(u64be(seq)) || F(measurement) || F(nonce) ||
 *                          F(request_digest) || F(response_digest) )
 *   F(x)        = u32be(length of x) || x
 */
#include <string.h>

#include <openssl/evp.h>

#include "ebcc-private.h"

static bool put_field(EVP_MD_CTX *md, const void *data, size_t len)
{
	uint8_t prefix[4] = {
		(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len,
	};

	return EVP_DigestUpdate(md, prefix, sizeof(prefix)) == 1 &&
	       (len == 0 || EVP_DigestUpdate(md, data, len) == 1);
}

static bool put_u64(EVP_MD_CTX *md, uint64_t v)
{
	uint8_t be[8];

	for (int i = 0; i < 8; i++)
		be[i] = (uint8_t)(v >> (56 - 8 * i));
	return put_field(md, be, sizeof(be));
}

static bool put_string(EVP_MD_CTX *md, const char *s)
{
	return put_field(md, s, strlen(s));
}

int ebcc__binding_report_data(const struct ebcc_binding *b, uint8_t out[EBCC_REPORT_DATA_SIZE])
{
	EVP_MD_CTX *md;
	unsigned int n = 0;
	bool ok;

	/* Every length must fit the 4-byte prefix; callers pass validated fields, so these are
	 * internal invariants rather than input errors. */
	if (b->instance == NULL || b->stage == NULL || b->measurement == NULL ||
	    (b->nonce == NULL && b->nonce_len > 0) || b->nonce_len > EBCC_NONCE_MAX ||
	    strlen(b->instance) > UINT32_MAX || strlen(b->stage) > UINT32_MAX ||
	    strlen(b->measurement) > UINT32_MAX)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "binding: a field is missing or too long");

	md = EVP_MD_CTX_new();
	if (md == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "binding: out of memory (OpenSSL)");
	ok = EVP_DigestInit_ex(md, ebcc__md_sha512(), NULL) == 1 &&
	     put_string(md, EBCC_BINDING_TAG) &&
	     put_string(md, b->instance) &&
	     put_string(md, b->stage) &&
	     put_u64(md, b->eid) &&
	     put_u64(md, b->seq) &&
	     put_string(md, b->measurement) &&
	     put_field(md, b->nonce, b->nonce_len) &&
	     put_field(md, b->request_digest, EBCC_SHA256_SIZE) &&
	     put_field(md, b->response_digest, EBCC_SHA256_SIZE) &&
	     EVP_DigestFinal_ex(md, out, &n) == 1 && n == EBCC_REPORT_DATA_SIZE;
	EVP_MD_CTX_free(md);
	if (!ok)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "binding: SHA-512 failed (OpenSSL)");
	return 0;
}
