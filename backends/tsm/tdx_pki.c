/* SPDX-License-Identifier: MIT */
/* The signers and CRLs of Intel's TDX collateral, checked with OpenSSL (tdx_collateral.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crypto.h"
#include "ebcc-private.h"
#include "tdx_collateral.h"

#define ERR EBCC_ERR_VERIFY

void ebcc__tdx_format_time(int64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "%" PRId64, t);
}

int ebcc__tdx_signer_check(const char *signed_text, size_t len, const uint8_t sig[64],
			   const char *chain_pem, size_t chain_len, const struct ebcc__tsm_policy *p,
			   int64_t t, const char *what, X509 **ret_signer)
{
	STACK_OF(X509) *chain = NULL, *rest = NULL;
	EVP_PKEY *key = NULL;
	char where[96];
	int r, ok;

	snprintf(where, sizeof(where), "%s_issuer_chain", what);
	r = ebcc__x509_list_from_pem(chain_pem, chain_len, where, ERR, &chain);
	if (r < 0)
		return r;
	key = X509_get0_pubkey(sk_X509_value(chain, 0));
	if (key == NULL || !ebcc__ec_key_is(key, "P-256")) {
		r = ebcc__error(ERR, "%s: its first certificate has no ECDSA P-256 key", where);
		goto out;
	}
	ok = ebcc__ecdsa_verify_raw(key, "SHA256", (const uint8_t *)signed_text, len, sig, sig + 32,
				    32, false);
	if (ok <= 0) {
		r = ok < 0 ? ok : ebcc__error(ERR, "%s: the signature does not verify with the first "
					      "certificate of %s (the text changed, or another "
					      "signer)", what, where);
		goto out;
	}
	rest = sk_X509_dup(chain);
	if (rest == NULL) {
		r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
		goto out;
	}
	(void)sk_X509_shift(rest);
	r = ebcc__x509_chain_verify(sk_X509_value(chain, 0), rest, p->tdx_roots, &t, where, NULL);
	if (r == 0 && X509_up_ref(sk_X509_value(chain, 0)) == 1)
		*ret_signer = sk_X509_value(chain, 0);
out:
	sk_X509_free(rest);
	ebcc__x509_list_free(chain);
	return r;
}

/* A CRL given as hex DER or PEM. */
static int crl_parse(const char *text, size_t len, const char *what, X509_CRL **ret)
{
	X509_CRL *crl = NULL;

	if (len > INT32_MAX)
		return ebcc__error(ERR, "%s: too large", what);
	if (strncmp(text, "-----BEGIN", 10) == 0) {
		BIO *bio = BIO_new_mem_buf(text, (int)len);

		crl = bio != NULL ? PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
	} else {
		size_t n = 0;
		uint8_t *der = malloc(len / 2 + 1);
		const unsigned char *p = der;
		char *lower = strdup(text);

		for (size_t i = 0; lower != NULL && i < len; i++)
			lower[i] = (char)(lower[i] >= 'A' && lower[i] <= 'F' ? lower[i] + 32 : lower[i]);
		if (der != NULL && lower != NULL && len > 0 &&
		    ebcc__hex_decode(lower, len, der, len / 2 + 1, &n) == 0) {
			crl = d2i_X509_CRL(NULL, &p, (long)n);
			if (crl != NULL && p != der + n) {
				X509_CRL_free(crl);
				crl = NULL;
			}
		}
		free(lower);
		free(der);
	}
	ERR_clear_error();
	if (crl == NULL)
		return ebcc__error(ERR, "%s is not a CRL in hex DER or PEM", what);
	*ret = crl;
	return 0;
}

/* Seconds since the epoch of an ASN1_TIME, or false. */
static bool asn1_seconds(const ASN1_TIME *at, int64_t *ret)
{
	ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
	int days = 0, secs = 0;
	bool ok = at != NULL && epoch != NULL && ASN1_TIME_diff(&days, &secs, epoch, at) == 1;

	ASN1_TIME_free(epoch);
	*ret = (int64_t)days * 86400 + secs;
	return ok;
}

/* Issued by issuer (name and signature) and current at t. */
static int crl_check(X509_CRL *crl, X509 *issuer, int64_t t, const char *what)
{
	int64_t from = 0, until = 0;
	char a[32], b[32], at[32], name[128];
	EVP_PKEY *key = X509_get0_pubkey(issuer);

	ebcc__x509_name(issuer, name, sizeof(name));
	if (X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0 ||
	    key == NULL || X509_CRL_verify(crl, key) != 1) {
		ERR_clear_error();
		return ebcc__error(ERR, "%s is not issued and signed by \"%s\"", what, name);
	}
	if (!asn1_seconds(X509_CRL_get0_lastUpdate(crl), &from) ||
	    !asn1_seconds(X509_CRL_get0_nextUpdate(crl), &until))
		return ebcc__error(ERR, "%s has no thisUpdate or nextUpdate", what);
	if (t < from || t > until) {
		ebcc__tdx_format_time(from, a);
		ebcc__tdx_format_time(until, b);
		ebcc__tdx_format_time(t, at);
		return ebcc__error(ERR, "%s is valid from %s to %s (thisUpdate to nextUpdate), not "
				   "at %s", what, a, b, at);
	}
	return 0;
}

static int not_revoked(X509_CRL *crl, X509 *cert, const char *what)
{
	X509_REVOKED *entry = NULL;
	char name[128], serial[80] = "";
	BIGNUM *bn;
	char *hex;

	if (X509_CRL_get0_by_serial(crl, &entry, X509_get0_serialNumber(cert)) != 1)
		return 0;
	ebcc__x509_name(cert, name, sizeof(name));
	bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	hex = bn != NULL ? BN_bn2hex(bn) : NULL;
	snprintf(serial, sizeof(serial), "%.64s", hex != NULL ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);
	return ebcc__error(ERR, "%s: certificate \"%s\" (serial %s) is revoked", what, name,
			   serial);
}

/* The PCK CRL's issuer chain: its leaf issued pck_leaf and chains to an anchor. */
static int pck_ca(X509 *pck_leaf, const struct ebcc__tsm_policy *p, int64_t t,
		  STACK_OF(X509) **ret_chain, X509 **ret_anchor)
{
	const struct ebcc__tdx_collateral_text *c = &p->tdx_collateral;
	const char *what = "tdx_collateral.pck_crl_issuer_chain";
	STACK_OF(X509) *chain = NULL, *rest;
	EVP_PKEY *key;
	int r = ebcc__x509_list_from_pem(c->text[EBCC_TDX_COLL_PCK_CRL_ISSUER_CHAIN],
					 c->len[EBCC_TDX_COLL_PCK_CRL_ISSUER_CHAIN], what, ERR, &chain);

	if (r < 0)
		return r;
	key = X509_get0_pubkey(sk_X509_value(chain, 0));
	if (X509_check_issued(sk_X509_value(chain, 0), pck_leaf) != X509_V_OK || key == NULL ||
	    X509_verify(pck_leaf, key) != 1) {
		ERR_clear_error();
		ebcc__x509_list_free(chain);
		return ebcc__error(ERR, "%s: its first certificate did not issue the quote's PCK "
				   "certificate", what);
	}
	rest = sk_X509_dup(chain);
	if (rest == NULL) {
		ebcc__x509_list_free(chain);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	(void)sk_X509_shift(rest);
	r = ebcc__x509_chain_verify(sk_X509_value(chain, 0), rest, p->tdx_roots, &t, what,
				    ret_anchor);
	sk_X509_free(rest);
	if (r < 0) {
		ebcc__x509_list_free(chain);
		return r;
	}
	*ret_chain = chain;
	return 0;
}

int ebcc__tdx_crls_check(X509 *pck_leaf, X509 *const *signers, size_t n,
			 const struct ebcc__tsm_policy *p, int64_t t)
{
	const struct ebcc__tdx_collateral_text *c = &p->tdx_collateral;
	STACK_OF(X509) *chain = NULL;
	X509_CRL *root_crl = NULL, *pck_crl = NULL;
	X509 *anchor = NULL;
	int r = pck_ca(pck_leaf, p, t, &chain, &anchor);

	if (r == 0)
		r = crl_parse(c->text[EBCC_TDX_COLL_ROOT_CA_CRL], c->len[EBCC_TDX_COLL_ROOT_CA_CRL],
			      "tdx_collateral.root_ca_crl", &root_crl);
	if (r == 0)
		r = crl_check(root_crl, anchor, t, "tdx_collateral.root_ca_crl");
	if (r == 0)
		r = crl_parse(c->text[EBCC_TDX_COLL_PCK_CRL], c->len[EBCC_TDX_COLL_PCK_CRL],
			      "tdx_collateral.pck_crl", &pck_crl);
	if (r == 0)
		r = crl_check(pck_crl, sk_X509_value(chain, 0), t, "tdx_collateral.pck_crl");
	if (r == 0)
		r = not_revoked(pck_crl, pck_leaf, "tdx_collateral.pck_crl");
	/* Every certificate below the anchor: the PCK CA and the collateral's signers. */
	for (int i = 0; r == 0 && i < sk_X509_num(chain); i++)
		if (X509_cmp(sk_X509_value(chain, i), anchor) != 0)
			r = not_revoked(root_crl, sk_X509_value(chain, i),
					"tdx_collateral.root_ca_crl");
	for (size_t i = 0; r == 0 && i < n; i++)
		r = not_revoked(root_crl, signers[i], "tdx_collateral.root_ca_crl");
	X509_CRL_free(pck_crl);
	X509_CRL_free(root_crl);
	X509_free(anchor);
	ebcc__x509_list_free(chain);
	return r;
}
