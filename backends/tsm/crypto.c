/* SPDX-License-Identifier: MIT */
/* Certificates, chains, raw ECDSA signatures and raw EC keys for hardware reports. */
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "crypto.h"
#include "backend-env.h"
#include "ebcc-base.h"

#define RAW_COMPONENT_MAX 72 /* SNP pads P-384 integers to 72 bytes */

void ebcc__x509_list_free(STACK_OF(X509) *list)
{
	sk_X509_pop_free(list, X509_free);
}

int ebcc__x509_list_from_pem(const char *pem, size_t len, const char *what, int err,
			     STACK_OF(X509) **ret)
{
	STACK_OF(X509) *list;
	BIO *bio;

	if (len > INT32_MAX)
		return ebcc__error(err, "%s: %zu bytes of PEM is too much", what, len);
	list = sk_X509_new_null();
	bio = BIO_new_mem_buf(pem, (int)len);
	if (list == NULL || bio == NULL) {
		sk_X509_free(list);
		BIO_free(bio);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	for (;;) {
		X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);

		if (cert == NULL)
			break;
		if (sk_X509_push(list, cert) <= 0) {
			X509_free(cert);
			BIO_free(bio);
			ebcc__x509_list_free(list);
			return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
		}
	}
	BIO_free(bio);
	/* The end of the text reads as "no start line"; anything else is a broken PEM block. */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE &&
	    ERR_peek_last_error() != 0) {
		int r = ebcc__error(err, "%s: not a list of PEM certificates: %s", what,
				    ebcc__openssl_reason());

		ebcc__x509_list_free(list);
		return r;
	}
	ERR_clear_error();
	if (sk_X509_num(list) == 0) {
		ebcc__x509_list_free(list);
		return ebcc__error(err, "%s holds no PEM certificate", what);
	}
	*ret = list;
	return 0;
}

int ebcc__x509_from_der(const uint8_t *der, size_t len, const char *what, int err, X509 **ret)
{
	const unsigned char *p = der;
	X509 *cert;

	if (len == 0 || len > INT32_MAX)
		return ebcc__error(err, "%s: %zu bytes are not a DER certificate", what, len);
	cert = d2i_X509(NULL, &p, (long)len);
	if (cert == NULL)
		return ebcc__error(err, "%s is not a DER certificate: %s", what, ebcc__openssl_reason());
	if (p != der + len) {
		X509_free(cert);
		return ebcc__error(err, "%s: %zu bytes follow the DER certificate", what,
				   (size_t)(der + len - p));
	}
	*ret = cert;
	return 0;
}

void ebcc__x509_name(X509 *cert, char *buf, size_t size)
{
	X509_NAME *name = X509_get_subject_name(cert);
	int n = X509_NAME_get_text_by_NID(name, NID_commonName, buf, (int)size);

	if (n < 0)
		X509_NAME_oneline(name, buf, (int)size);
	ERR_clear_error();
}

int ebcc__x509_chain_verify(X509 *leaf, STACK_OF(X509) *untrusted, STACK_OF(X509) *anchors,
			    const int64_t *at, const char *what, X509 **ret_anchor)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	char name[128];
	int ok, code, r = 0;

	if (store == NULL || ctx == NULL) {
		r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
		goto out;
	}
	for (int i = 0; i < sk_X509_num(anchors); i++) {
		if (X509_STORE_add_cert(store, sk_X509_value(anchors, i)) != 1) {
			r = ebcc__error(EBCC_ERR_VERIFY, "%s: trust anchor %d: %s", what, i,
					ebcc__openssl_reason());
			goto out;
		}
	}
	/* Every certificate the verifier names is an anchor, not only self-signed roots. */
	X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
	if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
		r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory: %s", ebcc__openssl_reason());
		goto out;
	}
	if (at != NULL)
		X509_STORE_CTX_set_time(ctx, 0, (time_t)*at);
	ok = X509_verify_cert(ctx);
	if (ok != 1) {
		code = X509_STORE_CTX_get_error(ctx);
		ebcc__x509_name(leaf, name, sizeof(name));
		r = ebcc__error(EBCC_ERR_VERIFY,
				"%s: certificate \"%s\" does not chain to a trust anchor of the "
				"policy: %s (at depth %d)",
				what, name, X509_verify_cert_error_string(code),
				X509_STORE_CTX_get_error_depth(ctx));
		goto out;
	}
	/* Every certificate handed in is part of the chain (a copy of the anchor is the anchor):
	 * a certificate nothing checked is not carried along unverified. */
	for (int i = 0; untrusted != NULL && i < sk_X509_num(untrusted); i++) {
		STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
		X509 *cert = sk_X509_value(untrusted, i);
		bool used = false;

		for (int j = 0; chain != NULL && j < sk_X509_num(chain) && !used; j++)
			used = X509_cmp(cert, sk_X509_value(chain, j)) == 0;
		if (!used) {
			ebcc__x509_name(cert, name, sizeof(name));
			r = ebcc__error(EBCC_ERR_VERIFY, "%s: certificate \"%s\" is not part of the "
					"verified chain", what, name);
			goto out;
		}
	}
	if (ret_anchor != NULL) {
		STACK_OF(X509) *chain = X509_STORE_CTX_get0_chain(ctx);
		X509 *top = chain != NULL && sk_X509_num(chain) > 0
				    ? sk_X509_value(chain, sk_X509_num(chain) - 1)
				    : NULL;

		if (top == NULL || X509_up_ref(top) != 1) {
			r = ebcc__error(EBCC_ERR_VERIFY, "%s: no verified chain", what);
			goto out;
		}
		*ret_anchor = top;
	}
out:
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return r;
}

int ebcc__ec_key_from_raw(const char *group, const uint8_t *xy, size_t len, EVP_PKEY **ret)
{
	uint8_t point[1 + 2 * RAW_COMPONENT_MAX];
	EVP_PKEY_CTX *ctx = NULL;
	OSSL_PARAM params[3];
	EVP_PKEY *key = NULL;
	int r = 0;

	if (len == 0 || len > 2 * RAW_COMPONENT_MAX || len % 2 != 0)
		return ebcc__error(EBCC_ERR_VERIFY, "a raw %s key of %zu bytes", group, len);
	point[0] = 0x04; /* uncompressed */
	memcpy(point + 1, xy, len);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, len + 1);
	params[2] = OSSL_PARAM_construct_end();
	ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
		r = ebcc__error(EBCC_ERR_VERIFY, "the raw %s public key is not a point of the curve: "
				"%s", group, ebcc__openssl_reason());
	EVP_PKEY_CTX_free(ctx);
	if (r == 0 && key != NULL) {
		/* fromdata does not check the point; a public check does. */
		EVP_PKEY_CTX *check = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);

		if (check == NULL || EVP_PKEY_public_check(check) != 1)
			r = ebcc__error(EBCC_ERR_VERIFY, "the raw %s public key is not a valid "
					"point: %s", group, ebcc__openssl_reason());
		EVP_PKEY_CTX_free(check);
	}
	if (r < 0) {
		EVP_PKEY_free(key);
		return r;
	}
	*ret = key;
	return 0;
}

bool ebcc__ec_key_is(EVP_PKEY *key, const char *group)
{
	char name[64] = "";
	const char *want = strcmp(group, "P-256") == 0 ? "prime256v1"
			   : strcmp(group, "P-384") == 0 ? "secp384r1"
							 : group;
	bool ok = EVP_PKEY_is_a(key, "EC") &&
		  EVP_PKEY_get_group_name(key, name, sizeof(name), NULL) == 1 &&
		  (strcmp(name, want) == 0 || strcmp(name, group) == 0);

	ERR_clear_error();
	return ok;
}

int ebcc__ecdsa_verify_raw(EVP_PKEY *key, const char *md, const uint8_t *msg, size_t msg_len,
			   const uint8_t *r, const uint8_t *s, size_t n, bool little_endian)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *br = NULL, *bs = NULL;
	unsigned char *der = NULL;
	EVP_MD_CTX *ctx = NULL;
	EVP_MD *digest = NULL;
	int der_len, ok, ret;

	if (sig == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	br = little_endian ? BN_lebin2bn(r, (int)n, NULL) : BN_bin2bn(r, (int)n, NULL);
	bs = little_endian ? BN_lebin2bn(s, (int)n, NULL) : BN_bin2bn(s, (int)n, NULL);
	if (br == NULL || bs == NULL || ECDSA_SIG_set0(sig, br, bs) != 1) {
		BN_free(br);
		BN_free(bs);
		ECDSA_SIG_free(sig);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	der_len = i2d_ECDSA_SIG(sig, &der);
	ECDSA_SIG_free(sig);
	if (der_len <= 0)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory: %s", ebcc__openssl_reason());
	digest = EVP_MD_fetch(NULL, md, NULL);
	ctx = EVP_MD_CTX_new();
	if (digest == NULL || ctx == NULL) {
		ret = ebcc__error(EBCC_ERR_NO_MEMORY, "no %s digest: %s", md, ebcc__openssl_reason());
	} else {
		ok = EVP_DigestVerifyInit(ctx, NULL, digest, NULL, key) == 1 &&
		     EVP_DigestVerify(ctx, der, (size_t)der_len, msg, msg_len) == 1;
		ret = ok ? 1 : 0;
	}
	ERR_clear_error();
	EVP_MD_CTX_free(ctx);
	EVP_MD_free(digest);
	OPENSSL_free(der);
	return ret;
}

bool ebcc__pkey_equal(EVP_PKEY *a, EVP_PKEY *b)
{
	bool eq = a != NULL && b != NULL && EVP_PKEY_eq(a, b) == 1;

	ERR_clear_error();
	return eq;
}

void ebcc__x509_sha256_hex(X509 *cert, char hex[2 * 32 + 1])
{
	unsigned char md[32];
	unsigned int n = 0;

	hex[0] = '\0';
	if (X509_digest(cert, EVP_sha256(), md, &n) == 1 && n == sizeof(md))
		ebcc__hex_encode(md, sizeof(md), hex);
	ERR_clear_error();
}
