/* SPDX-License-Identifier: MIT */
/* The signers and CRLs of Intel's DCAP collateral, checked with OpenSSL (collateral.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "crl.h"
#include "crypto.h"
#include "ebcc-base.h"
#include "collateral.h"

#define ERR EBCC_ERR_VERIFY

void ebcc__collateral_format_time(int64_t t, char buf[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, 32, "%" PRId64, t);
}

int ebcc__collateral_signer_check(const char *signed_text, size_t len, const uint8_t sig[64],
				  const char *chain_pem, size_t chain_len, STACK_OF(X509) *roots,
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
	r = ebcc__x509_chain_verify(sk_X509_value(chain, 0), rest, roots, &t, where, NULL);
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

		if (der != NULL && len > 0 &&
		    ebcc__hex_decode_either_case(text, len, der, len / 2 + 1, &n) == 0) {
			crl = d2i_X509_CRL(NULL, &p, (long)n);
			if (crl != NULL && p != der + n) {
				X509_CRL_free(crl);
				crl = NULL;
			}
		}
		free(der);
	}
	ERR_clear_error();
	if (crl == NULL)
		return ebcc__error(ERR, "%s is not a CRL in hex DER or PEM", what);
	*ret = crl;
	return 0;
}

/* One CRL as the one-element list crl.c checks. */
static int crl_list(const char *text, size_t len, const char *what, STACK_OF(X509_CRL) **ret)
{
	X509_CRL *crl = NULL;
	int r = crl_parse(text, len, what, &crl);

	if (r < 0)
		return r;
	*ret = sk_X509_CRL_new_null();
	if (*ret == NULL || sk_X509_CRL_push(*ret, crl) <= 0) {
		X509_CRL_free(crl);
		sk_X509_CRL_free(*ret);
		*ret = NULL;
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	return 0;
}

/* The PCK CRL's issuer chain: its leaf issued pck_leaf and chains to an anchor. */
static int pck_ca(X509 *pck_leaf, const struct ebcc__collateral *coll, int64_t t,
		  STACK_OF(X509) **ret_chain, X509 **ret_anchor)
{
	const struct ebcc__collateral_text *c = coll->text;
	STACK_OF(X509) *chain = NULL, *rest;
	EVP_PKEY *key;
	char what[96];
	int r;

	snprintf(what, sizeof(what), "%s.pck_crl_issuer_chain", coll->name);
	r = ebcc__x509_list_from_pem(c->text[EBCC_COLL_PCK_CRL_ISSUER_CHAIN],
				     c->len[EBCC_COLL_PCK_CRL_ISSUER_CHAIN], what, ERR, &chain);
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
	r = ebcc__x509_chain_verify(sk_X509_value(chain, 0), rest, coll->roots, &t, what,
				    ret_anchor);
	sk_X509_free(rest);
	if (r < 0) {
		ebcc__x509_list_free(chain);
		return r;
	}
	*ret_chain = chain;
	return 0;
}

int ebcc__collateral_crls_check(X509 *pck_leaf, X509 *const *signers, size_t n,
				const struct ebcc__collateral *coll, int64_t t, char *detail,
				size_t detail_size)
{
	const struct ebcc__collateral_text *c = coll->text;
	STACK_OF(X509) *chain = NULL;
	STACK_OF(X509_CRL) *root_crl = NULL, *pck_crl = NULL;
	X509 *anchor = NULL, **below = NULL;
	size_t n_below = 0;
	char root_detail[160] = "", pck_detail[160] = "", root_what[64], pck_what[64];
	int r = pck_ca(pck_leaf, coll, t, &chain, &anchor);

	snprintf(root_what, sizeof(root_what), "%s.root_ca_crl", coll->name);
	snprintf(pck_what, sizeof(pck_what), "%s.pck_crl", coll->name);

	/* The root CA CRL covers every certificate the anchor issued: the PCK CA and the
	 * collateral's signers (crl.c skips those of another issuer). */
	if (r == 0) {
		below = calloc((size_t)sk_X509_num(chain) + n, sizeof(*below));
		if (below == NULL)
			r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	for (int i = 0; r == 0 && i < sk_X509_num(chain); i++)
		if (X509_cmp(sk_X509_value(chain, i), anchor) != 0)
			below[n_below++] = sk_X509_value(chain, i);
	for (size_t i = 0; r == 0 && i < n; i++)
		below[n_below++] = signers[i];
	if (r == 0)
		r = crl_list(c->text[EBCC_COLL_ROOT_CA_CRL], c->len[EBCC_COLL_ROOT_CA_CRL],
			     root_what, &root_crl);
	if (r == 0)
		r = ebcc__crl_check(root_crl, anchor, below, n_below, &t, root_what, root_detail,
				    sizeof(root_detail));
	if (r == 0)
		r = crl_list(c->text[EBCC_COLL_PCK_CRL], c->len[EBCC_COLL_PCK_CRL],
			     pck_what, &pck_crl);
	if (r == 0)
		r = ebcc__crl_check(pck_crl, sk_X509_value(chain, 0), &pck_leaf, 1, &t, pck_what,
				    pck_detail, sizeof(pck_detail));
	if (r == 0)
		snprintf(detail, detail_size, "PCK certificate %s; PCK CA and collateral signers %s",
			 pck_detail, root_detail);
	ebcc__crl_list_free(pck_crl);
	ebcc__crl_list_free(root_crl);
	free(below);
	X509_free(anchor);
	ebcc__x509_list_free(chain);
	return r;
}
