/* SPDX-License-Identifier: MIT */
/* Test-only keys, certificates and raw signatures (see fake-pki.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>

#include "fake-pki.h"

static void die(const char *what)
{
	fprintf(stderr, "fake-pki: %s failed\n", what);
	ERR_print_errors_fp(stderr);
	abort();
}

EVP_PKEY *fake_pki_ec_key(const char *group)
{
	EVP_PKEY *key = EVP_EC_gen(group);

	if (key == NULL)
		die("EVP_EC_gen");
	return key;
}

EVP_PKEY *fake_pki_rsa_key(int bits)
{
	EVP_PKEY *key = EVP_RSA_gen((unsigned)bits);

	if (key == NULL)
		die("EVP_RSA_gen");
	return key;
}

static void add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (ext == NULL || X509_add_ext(cert, ext, -1) != 1)
		die("X509_add_ext");
	X509_EXTENSION_free(ext);
}

static void add_raw_ext(X509 *cert, const struct fake_pki_ext *e)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(e->oid, 1);
	ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
	X509_EXTENSION *ext = NULL;

	if (obj == NULL || value == NULL ||
	    ASN1_OCTET_STRING_set(value, e->value, (int)e->len) != 1)
		die("extension value");
	ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, value);
	if (ext == NULL || X509_add_ext(cert, ext, -1) != 1)
		die("X509_add_ext");
	X509_EXTENSION_free(ext);
	ASN1_OCTET_STRING_free(value);
	ASN1_OBJECT_free(obj);
}

X509 *fake_pki_cert(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key, bool ca)
{
	return fake_pki_cert_with(cn, key, issuer, issuer_key, ca, NULL, 0);
}

X509 *fake_pki_cert_with(const char *cn, EVP_PKEY *key, X509 *issuer, EVP_PKEY *issuer_key,
			 bool ca, const struct fake_pki_ext *ext, size_t n_ext)
{
	static long serial = 1;
	X509 *cert = X509_new();
	X509_NAME *name;
	const EVP_MD *md;

	if (cert == NULL)
		die("X509_new");
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), __atomic_add_fetch(&serial, 1,
									  __ATOMIC_RELAXED));
	X509_gmtime_adj(X509_getm_notBefore(cert), -86400);
	X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 86400);
	X509_set_pubkey(cert, key);
	name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"ebcc tests",
				   -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(cert, issuer != NULL ? X509_get_subject_name(issuer) : name);
	add_ext(cert, issuer != NULL ? issuer : cert, NID_basic_constraints,
		ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
	add_ext(cert, issuer != NULL ? issuer : cert, NID_key_usage,
		ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
	add_ext(cert, issuer != NULL ? issuer : cert, NID_subject_key_identifier, "hash");
	if (issuer != NULL)
		add_ext(cert, issuer, NID_authority_key_identifier, "keyid:always");
	for (size_t i = 0; i < n_ext; i++)
		add_raw_ext(cert, &ext[i]);
	md = EVP_PKEY_is_a(issuer_key != NULL ? issuer_key : key, "EC") &&
			     EVP_PKEY_get_bits(issuer_key != NULL ? issuer_key : key) > 256
		     ? EVP_sha384()
		     : EVP_sha256();
	if (X509_sign(cert, issuer_key != NULL ? issuer_key : key, md) <= 0)
		die("X509_sign");
	return cert;
}

/* ---- DER of the SGX extension, written out by hand as Intel's profile lays it out -------- */

struct der {
	uint8_t buf[1024];
	size_t len;
};

static void der_put(struct der *d, const void *p, size_t n)
{
	if (d->len + n > sizeof(d->buf))
		die("the SGX extension's DER buffer");
	memcpy(d->buf + d->len, p, n);
	d->len += n;
}

static void der_tlv(struct der *d, uint8_t tag, const uint8_t *v, size_t n)
{
	uint8_t head[4] = { tag };
	size_t h = 2;

	if (n < 0x80) {
		head[1] = (uint8_t)n;
	} else if (n < 0x100) {
		head[1] = 0x81;
		head[2] = (uint8_t)n;
		h = 3;
	} else {
		head[1] = 0x82;
		head[2] = (uint8_t)(n >> 8);
		head[3] = (uint8_t)n;
		h = 4;
	}
	der_put(d, head, h);
	der_put(d, v, n);
}

/* SEQUENCE { OID 1.2.840.113741.1.13.1.<arcs>, value (a whole TLV) }. */
static void der_pair(struct der *d, const uint8_t *arcs, size_t n_arcs, const struct der *value)
{
	static const uint8_t sgx[] = { 0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01 };
	struct der oid = { .len = 0 }, pair = { .len = 0 };

	der_put(&oid, sgx, sizeof(sgx));
	der_put(&oid, arcs, n_arcs);
	der_tlv(&pair, 0x06, oid.buf, oid.len);
	der_put(&pair, value->buf, value->len);
	der_tlv(d, 0x30, pair.buf, pair.len);
}

static void der_uint(struct der *d, unsigned v)
{
	uint8_t b[3] = { (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	size_t i = 0;

	/* The fewest bytes that keep the sign bit clear. */
	while (i < 2 && b[i] == 0 && (b[i + 1] & 0x80) == 0)
		i++;
	der_tlv(d, 0x02, b + i, 3 - i);
}

size_t fake_pki_sgx_ext(const struct fake_pki_sgx_tcb *tcb, uint8_t **ret)
{
	static const uint8_t ppid[16] = { 0x11 }, type = 0;
	struct der top = { .len = 0 }, tcb_pairs = { .len = 0 }, v = { .len = 0 };
	struct der all = { .len = 0 };

	for (unsigned i = 1; i <= 18; i++) {
		uint8_t arcs[2] = { 2, (uint8_t)i };

		v.len = 0;
		if (i <= 16)
			der_uint(&v, tcb->svn[i - 1]);
		else if (i == 17)
			der_uint(&v, tcb->pcesvn);
		else
			der_tlv(&v, 0x04, tcb->cpusvn, 16);
		der_pair(&tcb_pairs, arcs, 2, &v);
	}
	v.len = 0;
	der_tlv(&v, 0x04, ppid, sizeof(ppid));
	der_pair(&top, (const uint8_t[]){ 1 }, 1, &v);
	v.len = 0;
	der_tlv(&v, 0x30, tcb_pairs.buf, tcb_pairs.len);
	der_pair(&top, (const uint8_t[]){ 2 }, 1, &v);
	v.len = 0;
	der_tlv(&v, 0x04, tcb->pce_id, 2);
	der_pair(&top, (const uint8_t[]){ 3 }, 1, &v);
	v.len = 0;
	der_tlv(&v, 0x04, tcb->fmspc, 6);
	der_pair(&top, (const uint8_t[]){ 4 }, 1, &v);
	v.len = 0;
	der_tlv(&v, 0x0a, &type, 1);
	der_pair(&top, (const uint8_t[]){ 5 }, 1, &v);
	der_tlv(&all, 0x30, top.buf, top.len);
	*ret = malloc(all.len);
	if (*ret == NULL)
		abort();
	memcpy(*ret, all.buf, all.len);
	return all.len;
}

static char *bio_text(BIO *bio);

char *fake_pki_crl_pem(X509 *issuer, EVP_PKEY *issuer_key, X509 *const *revoked, size_t n,
		       long this_update, long next_update)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *from = ASN1_TIME_adj(NULL, time(NULL), 0, this_update);
	ASN1_TIME *to = ASN1_TIME_adj(NULL, time(NULL), 0, next_update);
	BIO *bio = BIO_new(BIO_s_mem());

	if (crl == NULL || from == NULL || to == NULL || bio == NULL ||
	    X509_CRL_set_version(crl, 1) != 1 ||
	    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) != 1 ||
	    X509_CRL_set1_lastUpdate(crl, from) != 1 || X509_CRL_set1_nextUpdate(crl, to) != 1)
		die("X509_CRL");
	for (size_t i = 0; i < n; i++) {
		X509_REVOKED *r = X509_REVOKED_new();

		if (r == NULL ||
		    X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(revoked[i])) != 1 ||
		    X509_REVOKED_set_revocationDate(r, from) != 1 || X509_CRL_add0_revoked(crl, r) != 1)
			die("X509_REVOKED");
	}
	if (X509_CRL_sort(crl) != 1 || X509_CRL_sign(crl, issuer_key, EVP_sha384()) <= 0 ||
	    PEM_write_bio_X509_CRL(bio, crl) != 1)
		die("X509_CRL_sign");
	ASN1_TIME_free(from);
	ASN1_TIME_free(to);
	X509_CRL_free(crl);
	return bio_text(bio);
}

/* What was written to a memory BIO, as a malloc'ed string; frees the BIO. */
static char *bio_text(BIO *bio)
{
	char *data, *copy;
	long len = BIO_get_mem_data(bio, &data);

	copy = malloc((size_t)len + 1);
	if (copy == NULL)
		abort();
	memcpy(copy, data, (size_t)len);
	copy[len] = '\0';
	BIO_free(bio);
	return copy;
}

char *fake_pki_cert_pem(X509 *cert)
{
	BIO *bio = BIO_new(BIO_s_mem());

	if (bio == NULL || PEM_write_bio_X509(bio, cert) != 1)
		die("PEM_write_bio_X509");
	return bio_text(bio);
}

char *fake_pki_pubkey_pem(EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());

	if (bio == NULL || PEM_write_bio_PUBKEY(bio, key) != 1)
		die("PEM_write_bio_PUBKEY");
	return bio_text(bio);
}

size_t fake_pki_cert_der(X509 *cert, uint8_t **ret)
{
	unsigned char *der = NULL;
	int len = i2d_X509(cert, &der);

	if (len <= 0)
		die("i2d_X509");
	*ret = malloc((size_t)len);
	if (*ret == NULL)
		abort();
	memcpy(*ret, der, (size_t)len);
	OPENSSL_free(der);
	return (size_t)len;
}

void fake_pki_ec_raw_public(EVP_PKEY *key, uint8_t *xy, size_t n)
{
	uint8_t point[1 + 2 * 72];
	size_t len = 0;

	if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point),
					    &len) != 1 ||
	    len != 1 + 2 * n || point[0] != 0x04)
		die("EVP_PKEY_get_octet_string_param(pub)");
	memcpy(xy, point + 1, 2 * n);
}

static void put_int(const BIGNUM *bn, uint8_t *out, size_t n, bool little_endian)
{
	int ok = little_endian ? BN_bn2lebinpad(bn, out, (int)n) : BN_bn2binpad(bn, out, (int)n);

	if (ok != (int)n)
		die("BN_bn2binpad");
}

void fake_pki_ecdsa_sign_raw(EVP_PKEY *key, const char *md, const uint8_t *msg, size_t len,
			     uint8_t *r, uint8_t *s, size_t n, bool little_endian)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_MD *digest = EVP_MD_fetch(NULL, md, NULL);
	unsigned char der[160];
	const unsigned char *p = der;
	size_t der_len = sizeof(der);
	ECDSA_SIG *sig;

	if (ctx == NULL || digest == NULL || EVP_DigestSignInit(ctx, NULL, digest, NULL, key) != 1 ||
	    EVP_DigestSign(ctx, der, &der_len, msg, len) != 1)
		die("EVP_DigestSign(ECDSA)");
	sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	if (sig == NULL)
		die("d2i_ECDSA_SIG");
	memset(r, 0, n);
	memset(s, 0, n);
	put_int(ECDSA_SIG_get0_r(sig), r, n, little_endian);
	put_int(ECDSA_SIG_get0_s(sig), s, n, little_endian);
	ECDSA_SIG_free(sig);
	EVP_MD_free(digest);
	EVP_MD_CTX_free(ctx);
}

size_t fake_pki_rsa_pss_sign(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t **ret)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	size_t sig_len = 0;

	if (ctx == NULL || EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, key) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1 ||
	    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1 ||
	    EVP_DigestSign(ctx, NULL, &sig_len, msg, len) != 1)
		die("EVP_DigestSign(RSA-PSS) setup");
	*ret = malloc(sig_len);
	if (*ret == NULL)
		abort();
	if (EVP_DigestSign(ctx, *ret, &sig_len, msg, len) != 1)
		die("EVP_DigestSign(RSA-PSS)");
	EVP_MD_CTX_free(ctx);
	return sig_len;
}

static void bn_out(const char *param, EVP_PKEY *key, uint8_t **out, size_t *out_len)
{
	BIGNUM *bn = NULL;
	int n;

	if (EVP_PKEY_get_bn_param(key, param, &bn) != 1)
		die("EVP_PKEY_get_bn_param");
	n = BN_num_bytes(bn);
	*out = malloc((size_t)n);
	if (*out == NULL)
		abort();
	BN_bn2bin(bn, *out);
	*out_len = (size_t)n;
	BN_free(bn);
}

void fake_pki_rsa_public(EVP_PKEY *key, uint8_t **e, size_t *e_len, uint8_t **n,
			 size_t *n_len)
{
	bn_out(OSSL_PKEY_PARAM_RSA_E, key, e, e_len);
	bn_out(OSSL_PKEY_PARAM_RSA_N, key, n, n_len);
}
