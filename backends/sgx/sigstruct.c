/* SPDX-License-Identifier: MIT */
/* SIGSTRUCT: built and signed with OpenSSL's EVP interface, and checked (layout in sigstruct.h). */
#include <inttypes.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "bytes.h"
#include "ebcc-base.h"
#include "sigstruct.h"

#define PAYLOAD_PART 128

static const uint8_t header1[16] = { 0x06, 0, 0, 0, 0xe1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0 };
static const uint8_t header2[16] = { 0x01, 0x01, 0, 0, 0x60, 0, 0, 0, 0x60, 0, 0, 0, 1, 0, 0, 0 };

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int ossl_fail(const char *what)
{
	unsigned long e = ERR_get_error();
	char reason[256] = "unknown";

	if (e != 0)
		ERR_error_string_n(e, reason, sizeof(reason));
	ERR_clear_error();
	return ebcc__error(EBCC_ERR_BACKEND, "%s: %s", what, reason);
}

int ebcc__sgx_signing_key_check(EVP_PKEY *key)
{
	BIGNUM *e = NULL;
	bool three;

	if (key == NULL || !EVP_PKEY_is_a(key, "RSA"))
		return ebcc__error(EBCC_ERR_INVALID_ARG, "the SGX enclave signing key is not an "
				   "RSA key");
	if (EVP_PKEY_get_bits(key) != 8 * EBCC_SGX_MODULUS_SIZE)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "the SGX enclave signing key has %d bits, "
				   "SIGSTRUCT needs RSA-3072", EVP_PKEY_get_bits(key));
	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1)
		return ossl_fail("the SGX enclave signing key's exponent");
	three = BN_is_word(e, 3);
	BN_free(e);
	if (!three)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "the SGX enclave signing key's public "
				   "exponent is not 3 (openssl genrsa -3 3072 makes one)");
	return 0;
}

/* header (128) || body (128): what the signature covers. */
static void payload(const uint8_t *ss, uint8_t out[2 * PAYLOAD_PART])
{
	memcpy(out, ss, PAYLOAD_PART);
	memcpy(out + PAYLOAD_PART, ss + EBCC_SGX_SS_BODY, PAYLOAD_PART);
}

/* q1 = floor(s^2 / n), q2 = floor(s * (s^2 mod n) / n). */
static bool q1q2(const BIGNUM *s, const BIGNUM *n, BIGNUM *q1, BIGNUM *q2, BN_CTX *bn)
{
	BIGNUM *t = BN_new(), *rem = BN_new();
	bool ok = t != NULL && rem != NULL && BN_mul(t, s, s, bn) == 1 &&
		  BN_div(q1, rem, t, n, bn) == 1 && BN_mul(t, s, rem, bn) == 1 &&
		  BN_div(q2, NULL, t, n, bn) == 1;

	BN_free(t);
	BN_free(rem);
	return ok;
}

int ebcc__sgx_sigstruct_sign(const struct ebcc__sgx_sigstruct_params *p, EVP_PKEY *key,
			     uint8_t ret[EBCC_SGX_SIGSTRUCT_SIZE])
{
	uint8_t ss[EBCC_SGX_SIGSTRUCT_SIZE] = { 0 }, msg[2 * PAYLOAD_PART];
	uint8_t sig[EBCC_SGX_MODULUS_SIZE];
	size_t sig_len = sizeof(sig);
	EVP_MD_CTX *md = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	BIGNUM *n = NULL, *s = NULL, *q1 = BN_new(), *q2 = BN_new();
	BN_CTX *bn = BN_CTX_new();
	int r = ebcc__sgx_signing_key_check(key);

	if (r == 0 && p->vendor != 0 && p->vendor != EBCC_SGX_VENDOR_INTEL)
		r = ebcc__error(EBCC_ERR_INVALID_ARG, "SIGSTRUCT vendor 0x%" PRIx32 " is neither "
				"0 nor 0x8086", p->vendor);
	if (r == 0 && (q1 == NULL || q2 == NULL || bn == NULL))
		r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	if (r < 0)
		goto out;
	memcpy(ss, header1, sizeof(header1));
	put32(ss + EBCC_SGX_SS_VENDOR, p->vendor);
	put32(ss + EBCC_SGX_SS_DATE, p->date);
	memcpy(ss + 24, header2, sizeof(header2));
	put32(ss + EBCC_SGX_SS_EXPONENT, 3);
	put32(ss + EBCC_SGX_SS_BODY, p->miscselect);
	put32(ss + EBCC_SGX_SS_BODY + 4, p->misc_mask);
	put64(ss + EBCC_SGX_SS_ATTRIBUTES, p->attributes);
	put64(ss + EBCC_SGX_SS_ATTRIBUTES + 8, p->xfrm);
	put64(ss + EBCC_SGX_SS_ATTRIBUTES + 16, p->attributes_mask);
	put64(ss + EBCC_SGX_SS_ATTRIBUTES + 24, p->xfrm_mask);
	memcpy(ss + EBCC_SGX_SS_MRENCLAVE, p->mrenclave, 32);
	ss[EBCC_SGX_SS_ISVPRODID] = (uint8_t)p->isv_prod_id;
	ss[EBCC_SGX_SS_ISVPRODID + 1] = (uint8_t)(p->isv_prod_id >> 8);
	ss[EBCC_SGX_SS_ISVSVN] = (uint8_t)p->isv_svn;
	ss[EBCC_SGX_SS_ISVSVN + 1] = (uint8_t)(p->isv_svn >> 8);
	if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    BN_bn2lebinpad(n, ss + EBCC_SGX_SS_MODULUS, EBCC_SGX_MODULUS_SIZE) < 0) {
		r = ossl_fail("SIGSTRUCT: the modulus");
		goto out;
	}
	payload(ss, msg);
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, key) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_DigestSign(md, sig, &sig_len, msg, sizeof(msg)) != 1 ||
	    sig_len != sizeof(sig)) {
		r = ossl_fail("SIGSTRUCT: signing");
		goto out;
	}
	s = BN_bin2bn(sig, (int)sig_len, NULL);
	if (s == NULL || BN_bn2lebinpad(s, ss + EBCC_SGX_SS_SIGNATURE, EBCC_SGX_MODULUS_SIZE) < 0 ||
	    !q1q2(s, n, q1, q2, bn) ||
	    BN_bn2lebinpad(q1, ss + EBCC_SGX_SS_Q1, EBCC_SGX_MODULUS_SIZE) < 0 ||
	    BN_bn2lebinpad(q2, ss + EBCC_SGX_SS_Q2, EBCC_SGX_MODULUS_SIZE) < 0) {
		r = ossl_fail("SIGSTRUCT: q1 and q2");
		goto out;
	}
	memcpy(ret, ss, sizeof(ss));
out:
	EVP_MD_CTX_free(md);
	BN_free(n);
	BN_free(s);
	BN_free(q1);
	BN_free(q2);
	BN_CTX_free(bn);
	return r;
}

/* An RSA public key of modulus n and exponent 3. */
static EVP_PKEY *public_key(const BIGNUM *n)
{
	OSSL_PARAM_BLD *b = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	EVP_PKEY *key = NULL;
	BIGNUM *e = BN_new();

	if (b != NULL && ctx != NULL && e != NULL && BN_set_word(e, 3) == 1 &&
	    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_N, n) == 1 &&
	    OSSL_PARAM_BLD_push_BN(b, OSSL_PKEY_PARAM_RSA_E, e) == 1)
		params = OSSL_PARAM_BLD_to_param(b);
	if (params == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
		key = NULL;
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(b);
	EVP_PKEY_CTX_free(ctx);
	BN_free(e);
	return key;
}

static int verify_signature(const uint8_t *ss, const BIGNUM *n, const BIGNUM *s)
{
	uint8_t msg[2 * PAYLOAD_PART], sig[EBCC_SGX_MODULUS_SIZE];
	EVP_PKEY *key = public_key(n);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok = -1;

	payload(ss, msg);
	if (key != NULL && md != NULL && BN_bn2binpad(s, sig, sizeof(sig)) == (int)sizeof(sig) &&
	    EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, key) == 1 &&
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1)
		ok = EVP_DigestVerify(md, sig, sizeof(sig), msg, sizeof(msg));
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	ERR_clear_error();
	if (ok < 0 && (key == NULL || md == NULL))
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	if (ok != 1)
		return ebcc__error(EBCC_ERR_VERIFY, "SIGSTRUCT: the signature does not verify "
				   "under its modulus (header or body changed, or another key "
				   "signed)");
	return 0;
}

static int check_q(const uint8_t *ss, const BIGNUM *n, const BIGNUM *s)
{
	uint8_t want[EBCC_SGX_MODULUS_SIZE];
	BIGNUM *q1 = BN_new(), *q2 = BN_new();
	BN_CTX *bn = BN_CTX_new();
	int r = 0;

	if (q1 == NULL || q2 == NULL || bn == NULL || !q1q2(s, n, q1, q2, bn))
		r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	else if (BN_bn2lebinpad(q1, want, sizeof(want)) < 0 ||
		 memcmp(want, ss + EBCC_SGX_SS_Q1, sizeof(want)) != 0)
		r = ebcc__error(EBCC_ERR_VERIFY, "SIGSTRUCT: q1 (offset %d) is not "
				"floor(signature^2 / modulus)", EBCC_SGX_SS_Q1);
	else if (BN_bn2lebinpad(q2, want, sizeof(want)) < 0 ||
		 memcmp(want, ss + EBCC_SGX_SS_Q2, sizeof(want)) != 0)
		r = ebcc__error(EBCC_ERR_VERIFY, "SIGSTRUCT: q2 (offset %d) is not "
				"floor(signature * (signature^2 mod modulus) / modulus)",
				EBCC_SGX_SS_Q2);
	BN_free(q1);
	BN_free(q2);
	BN_CTX_free(bn);
	return r;
}

int ebcc__sgx_sigstruct_check(const uint8_t ss[EBCC_SGX_SIGSTRUCT_SIZE], const uint8_t *mrenclave,
			      uint8_t *ret_mrsigner)
{
	uint32_t vendor = ebcc__le32(ss + EBCC_SGX_SS_VENDOR);
	uint32_t exponent = ebcc__le32(ss + EBCC_SGX_SS_EXPONENT);
	BIGNUM *n = NULL, *s = NULL;
	int r = 0;

	if (memcmp(ss, header1, sizeof(header1)) != 0 || memcmp(ss + 24, header2, sizeof(header2)) != 0)
		return ebcc__error(EBCC_ERR_VERIFY, "SIGSTRUCT: HEADER or HEADER2 is not the "
				   "architectural constant");
	if (vendor != 0 && vendor != EBCC_SGX_VENDOR_INTEL)
		return ebcc__error(EBCC_ERR_VERIFY, "SIGSTRUCT: VENDOR 0x%" PRIx32 " is neither 0 "
				   "nor 0x8086", vendor);
	if (exponent != 3)
		return ebcc__error(EBCC_ERR_VERIFY, "SIGSTRUCT: EXPONENT %" PRIu32 ", SGX needs 3",
				   exponent);
	n = BN_lebin2bn(ss + EBCC_SGX_SS_MODULUS, EBCC_SGX_MODULUS_SIZE, NULL);
	s = BN_lebin2bn(ss + EBCC_SGX_SS_SIGNATURE, EBCC_SGX_MODULUS_SIZE, NULL);
	if (n == NULL || s == NULL)
		r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	else if (BN_num_bits(n) != 8 * EBCC_SGX_MODULUS_SIZE || !BN_is_odd(n))
		r = ebcc__error(EBCC_ERR_VERIFY, "SIGSTRUCT: MODULUS is not an odd 3072-bit number");
	else if (BN_cmp(s, n) >= 0)
		r = ebcc__error(EBCC_ERR_VERIFY, "SIGSTRUCT: SIGNATURE is not below MODULUS");
	if (r == 0)
		r = verify_signature(ss, n, s);
	if (r == 0)
		r = check_q(ss, n, s);
	BN_free(n);
	BN_free(s);
	if (r == 0 && mrenclave != NULL &&
	    memcmp(ss + EBCC_SGX_SS_MRENCLAVE, mrenclave, 32) != 0) {
		char want[65], got[65];

		ebcc__hex_encode(mrenclave, 32, want);
		ebcc__hex_encode(ss + EBCC_SGX_SS_MRENCLAVE, 32, got);
		r = ebcc__error(EBCC_ERR_VERIFY, "SIGSTRUCT: ENCLAVEHASH %s is not the enclave's "
				"MRENCLAVE %s", got, want);
	}
	if (r == 0 && ret_mrsigner != NULL)
		r = ebcc__sha256(ss + EBCC_SGX_SS_MODULUS, EBCC_SGX_MODULUS_SIZE, ret_mrsigner);
	return r;
}
