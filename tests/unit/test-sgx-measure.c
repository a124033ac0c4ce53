/* SPDX-License-Identifier: MIT */
/*
 * The sgx backend's MRENCLAVE, SIGSTRUCT and MRSIGNER, white-box, against sgx-reference.py: an
 * implementation of the same definitions (Intel's SDM, the kernel's SGX selftest) in Python's
 * hashlib and integers, run on this test's own enclave image (a TCS, an SSA page, two pages of
 * code, four unmeasured heap pages) and on every SIGSTRUCT signed here.
 */
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

#include "../../backends/common/bytes.h"
#include "../../backends/sgx/sigstruct.h"
#include "ebcc-private.h"
#include "ebcc/ebcc.h"

#include "sgx-image.h"

/* What sgx-reference.py printed. */
struct reference {
	char mrenclave[65], mrsigner[65], enclavehash[65];
	char header[8], signature[8], q1[8], q2[8];
};

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* A value of the reference's output into a field of the given size (refusing what does not
 * fit, which would be a broken reference). */
static void field(char *dst, size_t size, const char *value)
{
	size_t n = strlen(value);

	assert_true(n < size);
	memcpy(dst, value, n + 1);
}

static void reference(const struct ebcc__sgx_layout *l, const uint8_t *ss, struct reference *ret)
{
	char dir[] = "/tmp/ebcc-sgx-ref-XXXXXX", path[3][128], cmd[1024], line[256];
	const char *python = getenv("PYTHON"), *script = getenv("EBCC_SGX_REFERENCE");
	FILE *f, *out;

	assert_non_null(python);
	assert_non_null(script);
	assert_non_null(mkdtemp(dir));
	for (int i = 0; i < 3; i++)
		snprintf(path[i], sizeof(path[i]), "%s/%s", dir,
			 i == 0 ? "layout" : i == 1 ? "image" : "sigstruct");
	f = fopen(path[0], "w");
	assert_non_null(f);
	fprintf(f, "size %x %llx\n", l->ssa_frame_size, (unsigned long long)l->size);
	for (size_t i = 0; i < l->n_segments; i++)
		fprintf(f, "segment %llx %llx %llx %d\n", (unsigned long long)l->segments[i].offset,
			(unsigned long long)l->segments[i].length,
			(unsigned long long)l->segments[i].secinfo_flags, l->segments[i].measure);
	assert_int_equal(fclose(f), 0);
	f = fopen(path[1], "wb");
	assert_non_null(f);
	for (size_t i = 0; i < l->n_segments; i++)
		assert_int_equal(fwrite(l->segments[i].data, 1, l->segments[i].length, f),
				 l->segments[i].length);
	assert_int_equal(fclose(f), 0);
	if (ss != NULL)
		write_file(path[2], ss, EBCC_SGX_SIGSTRUCT_SIZE);
	snprintf(cmd, sizeof(cmd), "'%s' '%s' '%s' '%s' %s%s%s", python, script, path[0], path[1],
		 ss != NULL ? "'" : "", ss != NULL ? path[2] : "", ss != NULL ? "'" : "");
	memset(ret, 0, sizeof(*ret));
	out = popen(cmd, "r");
	assert_non_null(out);
	while (fgets(line, sizeof(line), out) != NULL) {
		char key[32], value[80];

		if (sscanf(line, "%31s %79s", key, value) != 2)
			continue;
		if (strcmp(key, "mrenclave") == 0)
			field(ret->mrenclave, sizeof(ret->mrenclave), value);
		else if (strcmp(key, "mrsigner") == 0)
			field(ret->mrsigner, sizeof(ret->mrsigner), value);
		else if (strcmp(key, "enclavehash") == 0)
			field(ret->enclavehash, sizeof(ret->enclavehash), value);
		else if (strcmp(key, "header") == 0)
			field(ret->header, sizeof(ret->header), value);
		else if (strcmp(key, "signature") == 0)
			field(ret->signature, sizeof(ret->signature), value);
		else if (strcmp(key, "q1") == 0)
			field(ret->q1, sizeof(ret->q1), value);
		else if (strcmp(key, "q2") == 0)
			field(ret->q2, sizeof(ret->q2), value);
	}
	assert_int_equal(pclose(out), 0);
	for (int i = 0; i < 3; i++)
		(void)unlink(path[i]);
	assert_int_equal(rmdir(dir), 0);
}

static void hex(const uint8_t *p, size_t n, char *out)
{
	ebcc__hex_encode(p, n, out);
}

static EVP_PKEY *rsa_key(int bits, unsigned long e)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	BIGNUM *exp = BN_new();
	EVP_PKEY *key = NULL;

	assert_non_null(ctx);
	assert_non_null(exp);
	assert_int_equal(BN_set_word(exp, e), 1);
	assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, bits), 1);
	assert_int_equal(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, exp), 1);
	assert_int_equal(EVP_PKEY_generate(ctx, &key), 1);
	BN_free(exp);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

struct keys {
	EVP_PKEY *signer, *other;
};

static int keys_setup(void **state)
{
	struct keys *k = calloc(1, sizeof(*k));

	k->signer = rsa_key(3072, 3);
	k->other = rsa_key(3072, 3);
	*state = k;
	return 0;
}

static int keys_teardown(void **state)
{
	struct keys *k = *state;

	EVP_PKEY_free(k->signer);
	EVP_PKEY_free(k->other);
	free(k);
	return 0;
}

/* ---- MRENCLAVE ---------------------------------------------------------------------------- */

static void mrenclave_matches_reference(void **state)
{
	struct image *im = malloc(sizeof(*im));
	uint8_t mr[32], again[32];
	struct reference ref;
	char text[65];

	(void)state;
	image_init(im);
	assert_int_equal(ebcc__sgx_mrenclave(&im->layout, mr), 0);
	hex(mr, 32, text);
	reference(&im->layout, NULL, &ref);
	assert_string_equal(text, ref.mrenclave);
	/* An unmeasured page's contents do not count; its offset and SECINFO do. */
	im->heap[100] ^= 1;
	assert_int_equal(ebcc__sgx_mrenclave(&im->layout, again), 0);
	assert_memory_equal(mr, again, 32);
	/* A measured byte, a SECINFO, the measure flag, the SSA frame size, the size: each
	 * changes it, as the reference says. */
	for (int change = 0; change < 5; change++) {
		image_init(im);
		if (change == 0)
			im->code[PAGE + 255] ^= 0x80;
		else if (change == 1)
			im->seg[3].secinfo_flags = RX;
		else if (change == 2)
			im->seg[3].measure = true;
		else if (change == 3)
			im->layout.ssa_frame_size = 2;
		else
			im->layout.size = 0x10000;
		assert_int_equal(ebcc__sgx_mrenclave(&im->layout, again), 0);
		assert_memory_not_equal(mr, again, 32);
		hex(again, 32, text);
		reference(&im->layout, NULL, &ref);
		assert_string_equal(text, ref.mrenclave);
	}
	free(im);
}

static void layout_refused(void **state)
{
	struct image *im = malloc(sizeof(*im));
	struct {
		int what;
		const char *message;
	} cases[] = {
		{ 0, "SGX enclave size 0x6000 is not a power of two of at least two pages" },
		{ 1, "SGX segment 2: offset 0x2001 or length 0x2000 is not a non-zero multiple of "
		     "the page size" },
		{ 2, "SGX segment 3: 0x5000 bytes at 0x4000 end beyond the enclave's 0x8000 bytes" },
		{ 3, "SGX segment 2 at 0x0 overlaps or precedes the one before it (which ends at "
		     "0x2000)" },
		{ 4, "SGX segment 0: a TCS page's SECINFO must give no permissions" },
		{ 5, "SGX segment 1: SECINFO allows writing without reading" },
		{ 6, "SGX segment 1: SECINFO page type 4 is neither REG (2) nor TCS (1)" },
		{ 7, "SGX segment 1: SECINFO flags 0x10203 set reserved bits" },
		{ 8, "SGX enclave: SSA frame size 0" },
	};
	uint8_t mr[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		image_init(im);
		switch (cases[i].what) {
		case 0:
			im->layout.size = 0x6000;
			break;
		case 1:
			im->seg[2].offset += 1;
			break;
		case 2:
			im->seg[3].length = 5 * PAGE;
			break;
		case 3:
			im->seg[2].offset = 0;
			break;
		case 4:
			im->seg[0].secinfo_flags |= EBCC_SGX_SECINFO_R;
			break;
		case 5:
			im->seg[1].secinfo_flags = EBCC_SGX_SECINFO_REG | EBCC_SGX_SECINFO_W;
			break;
		case 6:
			im->seg[1].secinfo_flags = (UINT64_C(4) << 8) | EBCC_SGX_SECINFO_R;
			break;
		case 7:
			im->seg[1].secinfo_flags = RW | 0x10000;
			break;
		default:
			im->layout.ssa_frame_size = 0;
			break;
		}
		assert_int_equal(ebcc__sgx_mrenclave(&im->layout, mr), EBCC_ERR_INVALID_ARG);
		assert_string_equal(ebcc_last_error_message(), cases[i].message);
	}
	free(im);
}

/* ---- SIGSTRUCT and MRSIGNER --------------------------------------------------------------- */

static void params_of(const struct image *im, struct ebcc__sgx_sigstruct_params *p)
{
	memset(p, 0, sizeof(*p));
	p->date = 0x20261207;
	p->attributes = 0x4; /* MODE64BIT */
	p->xfrm = 0x3;
	p->attributes_mask = ~UINT64_C(0);
	p->xfrm_mask = ~UINT64_C(0);
	p->isv_prod_id = 7;
	p->isv_svn = 2;
	assert_int_equal(ebcc__sgx_mrenclave(&im->layout, p->mrenclave), 0);
}

static void sigstruct_matches_reference(void **state)
{
	struct keys *k = *state;
	struct image *im = malloc(sizeof(*im));
	struct ebcc__sgx_sigstruct_params p;
	uint8_t ss[EBCC_SGX_SIGSTRUCT_SIZE], mrsigner[32], modulus_be[EBCC_SGX_MODULUS_SIZE];
	struct reference ref;
	char text[65];
	BIGNUM *n = NULL;

	image_init(im);
	params_of(im, &p);
	assert_int_equal(ebcc__sgx_sigstruct_sign(&p, k->signer, ss), 0);
	assert_int_equal(ebcc__sgx_sigstruct_check(ss, p.mrenclave, mrsigner), 0);
	reference(&im->layout, ss, &ref);
	assert_string_equal(ref.header, "ok");
	assert_string_equal(ref.signature, "ok");
	assert_string_equal(ref.q1, "ok");
	assert_string_equal(ref.q2, "ok");
	assert_string_equal(ref.enclavehash, ref.mrenclave);
	hex(mrsigner, 32, text);
	assert_string_equal(text, ref.mrsigner);
	/* The fields where SDM puts them; the modulus little endian, as SGX stores it. */
	assert_int_equal(ebcc__le32(ss + EBCC_SGX_SS_DATE), 0x20261207);
	assert_int_equal(ebcc__le32(ss + EBCC_SGX_SS_EXPONENT), 3);
	assert_int_equal(ebcc__le16(ss + EBCC_SGX_SS_ISVPRODID), 7);
	assert_int_equal(ebcc__le16(ss + EBCC_SGX_SS_ISVSVN), 2);
	assert_int_equal(EVP_PKEY_get_bn_param(k->signer, "n", &n), 1);
	assert_int_equal(BN_bn2binpad(n, modulus_be, sizeof(modulus_be)), sizeof(modulus_be));
	for (size_t i = 0; i < sizeof(modulus_be); i++)
		assert_int_equal(ss[EBCC_SGX_SS_MODULUS + i], modulus_be[sizeof(modulus_be) - 1 - i]);
	BN_free(n);
	free(im);
}

static void sigstruct_refused(void **state)
{
	struct keys *k = *state;
	struct image *im = malloc(sizeof(*im));
	struct ebcc__sgx_sigstruct_params p;
	uint8_t ss[EBCC_SGX_SIGSTRUCT_SIZE], bad[EBCC_SGX_SIGSTRUCT_SIZE], other[32];
	struct {
		size_t at;
		const char *message;
	} flips[] = {
		{ 0, "SIGSTRUCT: HEADER or HEADER2 is not the architectural constant" },
		{ EBCC_SGX_SS_VENDOR, "SIGSTRUCT: VENDOR 0x1 is neither 0 nor 0x8086" },
		{ EBCC_SGX_SS_DATE, "SIGSTRUCT: the signature does not verify under its modulus" },
		{ EBCC_SGX_SS_EXPONENT, "SIGSTRUCT: EXPONENT 2, SGX needs 3" },
		{ EBCC_SGX_SS_MRENCLAVE, "SIGSTRUCT: the signature does not verify" },
		{ EBCC_SGX_SS_ISVSVN, "SIGSTRUCT: the signature does not verify" },
		{ EBCC_SGX_SS_MODULUS, "SIGSTRUCT: MODULUS is not an odd 3072-bit number" },
		{ EBCC_SGX_SS_MODULUS + 1, "SIGSTRUCT: the signature does not verify" },
		{ EBCC_SGX_SS_SIGNATURE, "SIGSTRUCT: the signature does not verify" },
		{ EBCC_SGX_SS_Q1, "SIGSTRUCT: q1 (offset 1040) is not floor(signature^2 / modulus)" },
		{ EBCC_SGX_SS_Q2 + 383, "SIGSTRUCT: q2 (offset 1424) is not" },
	};
	struct reference ref;

	image_init(im);
	params_of(im, &p);
	assert_int_equal(ebcc__sgx_sigstruct_sign(&p, k->signer, ss), 0);
	for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		memcpy(bad, ss, sizeof(ss));
		bad[flips[i].at] ^= 1;
		assert_int_equal(ebcc__sgx_sigstruct_check(bad, NULL, NULL), EBCC_ERR_VERIFY);
		if (strstr(ebcc_last_error_message(), flips[i].message) == NULL)
			fail_msg("byte %zu: \"%s\", not \"%s\"", flips[i].at,
				 ebcc_last_error_message(), flips[i].message);
	}
	/* The reference agrees that a changed body breaks the signature. */
	memcpy(bad, ss, sizeof(ss));
	bad[EBCC_SGX_SS_MRENCLAVE] ^= 1;
	reference(&im->layout, bad, &ref);
	assert_string_equal(ref.signature, "bad");
	/* A SIGSTRUCT for another enclave. */
	im->code[0] ^= 1;
	assert_int_equal(ebcc__sgx_mrenclave(&im->layout, other), 0);
	assert_int_equal(ebcc__sgx_sigstruct_check(ss, other, NULL), EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "SIGSTRUCT: ENCLAVEHASH "));
	assert_non_null(strstr(ebcc_last_error_message(), " is not the enclave's MRENCLAVE "));
	/* Another key signs: valid, but another MRSIGNER. */
	{
		uint8_t ss2[EBCC_SGX_SIGSTRUCT_SIZE], a[32], b[32];

		assert_int_equal(ebcc__sgx_sigstruct_sign(&p, k->other, ss2), 0);
		assert_int_equal(ebcc__sgx_sigstruct_check(ss, NULL, a), 0);
		assert_int_equal(ebcc__sgx_sigstruct_check(ss2, NULL, b), 0);
		assert_memory_not_equal(a, b, 32);
		/* Its signature over the first SIGSTRUCT's modulus does not verify. */
		memcpy(bad, ss2, sizeof(ss2));
		memcpy(bad + EBCC_SGX_SS_MODULUS, ss + EBCC_SGX_SS_MODULUS, EBCC_SGX_MODULUS_SIZE);
		assert_int_equal(ebcc__sgx_sigstruct_check(bad, NULL, NULL), EBCC_ERR_VERIFY);
	}
	free(im);
}

static void signing_keys_refused(void **state)
{
	struct ebcc__sgx_sigstruct_params p = { 0 };
	uint8_t ss[EBCC_SGX_SIGSTRUCT_SIZE];
	EVP_PKEY *f4 = rsa_key(3072, 65537), *small = rsa_key(2048, 3);
	struct keys *k = *state;

	assert_int_equal(ebcc__sgx_sigstruct_sign(&p, f4, ss), EBCC_ERR_INVALID_ARG);
	assert_string_equal(ebcc_last_error_message(),
			    "the SGX enclave signing key's public exponent is not 3 (openssl "
			    "genrsa -3 3072 makes one)");
	assert_int_equal(ebcc__sgx_sigstruct_sign(&p, small, ss), EBCC_ERR_INVALID_ARG);
	assert_string_equal(ebcc_last_error_message(),
			    "the SGX enclave signing key has 2048 bits, SIGSTRUCT needs RSA-3072");
	p.vendor = 1;
	assert_int_equal(ebcc__sgx_sigstruct_sign(&p, k->signer, ss), EBCC_ERR_INVALID_ARG);
	assert_string_equal(ebcc_last_error_message(), "SIGSTRUCT vendor 0x1 is neither 0 nor 0x8086");
	p.vendor = EBCC_SGX_VENDOR_INTEL;
	assert_int_equal(ebcc__sgx_sigstruct_sign(&p, k->signer, ss), 0);
	assert_int_equal(ebcc__sgx_sigstruct_check(ss, NULL, NULL), 0);
	EVP_PKEY_free(f4);
	EVP_PKEY_free(small);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mrenclave_matches_reference),
		cmocka_unit_test(layout_refused),
		cmocka_unit_test(sigstruct_matches_reference),
		cmocka_unit_test(sigstruct_refused),
		cmocka_unit_test(signing_keys_refused),
	};

	return cmocka_run_group_tests_name("sgx measurement", tests, keys_setup, keys_teardown);
}
