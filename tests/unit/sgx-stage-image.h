/* SPDX-License-Identifier: MIT */
/*
 * sgx stage images (backends/sgx/image.h) made in memory for tests: a ustar archive of any
 * members, as `tar --format=ustar` writes it, and the standard test image, the enclave of
 * sgx-image.h with its layout.json and a SIGSTRUCT signed with a 3072-bit e=3 key made here.
 * For cmocka tests: failures are assertions.
 */
#ifndef EBCC_TEST_SGX_STAGE_IMAGE_H
#define EBCC_TEST_SGX_STAGE_IMAGE_H

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "../../backends/sgx/sigstruct.h"
#include "ebcc-base.h"
#include "sgx-image.h"

#define SGX_STAGE_BLOCK 512
#define SGX_STAGE_ATTR_MODE64BIT 0x4

/* layout.json of sgx-image.h's enclave. */
#define SGX_STAGE_LAYOUT_JSON                                                              \
	"{\"size\": 32768, \"ssaFrameSize\": 1,\n"                                         \
	" \"segments\": [{\"offset\": 0, \"pages\": 1, \"type\": \"tcs\"},\n"              \
	"              {\"offset\": 4096, \"pages\": 1, \"type\": \"reg\", "               \
	"\"permissions\": \"rw\"},\n"                                                      \
	"              {\"offset\": 8192, \"pages\": 2, \"type\": \"reg\", "               \
	"\"permissions\": \"rx\"},\n"                                                      \
	"              {\"offset\": 16384, \"pages\": 4, \"type\": \"reg\", "              \
	"\"permissions\": \"rw\", \"measure\": false}]}\n"

struct sgx_stage_member {
	const char *name; /* at most 99 bytes */
	const void *data;
	size_t len;
};

/* A ustar archive of the members in that order, two zero blocks at its end (malloc). */
static inline uint8_t *sgx_stage_tar(const struct sgx_stage_member *m, size_t n, size_t *ret_len)
{
	size_t len = 2 * SGX_STAGE_BLOCK, at = 0;
	uint8_t *tar;

	for (size_t i = 0; i < n; i++)
		len += SGX_STAGE_BLOCK + (m[i].len + SGX_STAGE_BLOCK - 1) / SGX_STAGE_BLOCK *
						 SGX_STAGE_BLOCK;
	tar = calloc(1, len);
	assert_non_null(tar);
	for (size_t i = 0; i < n; i++) {
		uint8_t *h = tar + at;
		unsigned sum = 0;

		assert_true(strlen(m[i].name) < 100);
		memcpy(h, m[i].name, strlen(m[i].name));
		memcpy(h + 100, "0000644", 8);
		memcpy(h + 108, "0000000", 8);
		memcpy(h + 116, "0000000", 8);
		snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)m[i].len);
		memcpy(h + 136, "00000000000", 12);
		h[156] = '0';
		memcpy(h + 257, "ustar\0" "00", 8);
		/* The checksum counts its own field as spaces; written as 6 digits, NUL, space. */
		memset(h + 148, ' ', 8);
		for (size_t b = 0; b < SGX_STAGE_BLOCK; b++)
			sum += h[b];
		snprintf((char *)h + 148, 8, "%06o", sum);
		memcpy(h + SGX_STAGE_BLOCK, m[i].data, m[i].len);
		at += SGX_STAGE_BLOCK + (m[i].len + SGX_STAGE_BLOCK - 1) / SGX_STAGE_BLOCK *
						SGX_STAGE_BLOCK;
	}
	*ret_len = len;
	return tar;
}

/* An sgx stage image of the three files (malloc). */
static inline uint8_t *sgx_stage_image(const uint8_t *enclave, size_t enclave_len,
				       const char *layout_json,
				       const uint8_t sigstruct[EBCC_SGX_SIGSTRUCT_SIZE],
				       size_t *ret_len)
{
	const struct sgx_stage_member m[] = {
		{ "enclave.bin", enclave, enclave_len },
		{ "layout.json", layout_json, strlen(layout_json) },
		{ "sigstruct", sigstruct, EBCC_SGX_SIGSTRUCT_SIZE },
	};

	return sgx_stage_tar(m, 3, ret_len);
}

/* An enclave signing key: RSA-3072, e = 3. */
static inline EVP_PKEY *sgx_stage_key(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	BIGNUM *e = BN_new();
	EVP_PKEY *key = NULL;

	assert_non_null(ctx);
	assert_int_equal(BN_set_word(e, 3), 1);
	assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 3072), 1);
	assert_int_equal(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, e), 1);
	assert_int_equal(EVP_PKEY_generate(ctx, &key), 1);
	BN_free(e);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

/* The SIGSTRUCT fields of the test images (64-bit, XFRM x87|SSE, every bit masked) for the
 * layout's MRENCLAVE. */
static inline struct ebcc__sgx_sigstruct_params sgx_stage_params(const struct ebcc__sgx_layout *l)
{
	struct ebcc__sgx_sigstruct_params p = {
		.date = 0x20261207,
		.attributes = SGX_STAGE_ATTR_MODE64BIT,
		.xfrm = 3,
		.attributes_mask = ~UINT64_C(0),
		.xfrm_mask = ~UINT64_C(0),
		.isv_prod_id = 1,
	};

	assert_int_equal(ebcc__sgx_mrenclave(l, p.mrenclave), 0);
	return p;
}

/* sgx-image.h's enclave as enclave.bin: each segment's bytes at its offset. */
static inline void sgx_stage_enclave(const struct image *im, uint8_t out[8 * PAGE])
{
	memset(out, 0, 8 * PAGE);
	for (size_t i = 0; i < im->layout.n_segments; i++)
		memcpy(out + im->seg[i].offset, im->seg[i].data, im->seg[i].length);
}

/* The standard test image: sgx-image.h's enclave, SGX_STAGE_LAYOUT_JSON, signed with key
 * (malloc). */
static inline uint8_t *sgx_stage_test_image(EVP_PKEY *key, size_t *ret_len)
{
	struct image *im = malloc(sizeof(*im));
	uint8_t *enclave = malloc(8 * PAGE), *tar;
	uint8_t ss[EBCC_SGX_SIGSTRUCT_SIZE];
	struct ebcc__sgx_sigstruct_params p;

	assert_non_null(im);
	assert_non_null(enclave);
	image_init(im);
	sgx_stage_enclave(im, enclave);
	p = sgx_stage_params(&im->layout);
	assert_int_equal(ebcc__sgx_sigstruct_sign(&p, key, ss), 0);
	tar = sgx_stage_image(enclave, 8 * PAGE, SGX_STAGE_LAYOUT_JSON, ss, ret_len);
	free(enclave);
	free(im);
	return tar;
}

/* The standard test image signed with key, written to path (0644), for tests that name an
 * image by path. */
static inline void sgx_stage_test_image_write(const char *path, EVP_PKEY *key)
{
	size_t len;
	uint8_t *tar = sgx_stage_test_image(key, &len);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(ebcc__write_all(fd, tar, len), 0);
	assert_int_equal(close(fd), 0);
	free(tar);
}

#endif
