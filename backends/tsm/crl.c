/* SPDX-License-Identifier: MIT */
/* Certificate revocation lists checked against their issuer (crl.h). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "crl.h"
#include "crypto.h"
#include "ebcc-base.h"

#define ERR EBCC_ERR_VERIFY

void ebcc__crl_list_free(STACK_OF(X509_CRL) *list)
{
	sk_X509_CRL_pop_free(list, X509_CRL_free);
}

int ebcc__crl_list_from_pem(const char *pem, size_t len, const char *what, int err,
			    STACK_OF(X509_CRL) **ret)
{
	STACK_OF(X509_CRL) *list;
	unsigned long e;
	BIO *bio;

	if (len > INT32_MAX)
		return ebcc__error(err, "%s: %zu bytes of PEM is too much", what, len);
	list = sk_X509_CRL_new_null();
	bio = BIO_new_mem_buf(pem, (int)len);
	if (list == NULL || bio == NULL) {
		sk_X509_CRL_free(list);
		BIO_free(bio);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	for (;;) {
		X509_CRL *crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);

		if (crl == NULL)
			break;
		if (sk_X509_CRL_push(list, crl) <= 0) {
			X509_CRL_free(crl);
			BIO_free(bio);
			ebcc__crl_list_free(list);
			return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
		}
	}
	BIO_free(bio);
	/* The end of the text reads as "no start line"; anything else is a broken block. */
	e = ERR_peek_last_error();
	ERR_clear_error();
	if ((e != 0 && ERR_GET_REASON(e) != PEM_R_NO_START_LINE) || sk_X509_CRL_num(list) == 0) {
		ebcc__crl_list_free(list);
		return ebcc__error(err, "%s: not a list of PEM CRLs (\"-----BEGIN X509 CRL-----\" "
				   "blocks; convert AMD's or Intel's DER with openssl crl -inform "
				   "der)", what);
	}
	*ret = list;
	return 0;
}

static void time_text(const ASN1_TIME *t, char *buf, size_t size)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1 ||
	    strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "(unreadable)");
}

static void serial_text(X509 *cert, char *buf, size_t size)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;

	snprintf(buf, size, "%s", hex != NULL ? hex : "?");
	OPENSSL_free(hex);
	BN_free(bn);
}

/* Signature and window of the CRL that issuer issued. */
static int current(X509_CRL *crl, X509 *issuer, const char *name, time_t t, const char *what)
{
	const ASN1_TIME *this_update = X509_CRL_get0_lastUpdate(crl);
	const ASN1_TIME *next_update = X509_CRL_get0_nextUpdate(crl);
	EVP_PKEY *key = X509_get0_pubkey(issuer);
	char from[32], to[32], at[32];
	struct tm tm;

	if (key == NULL || X509_CRL_verify(crl, key) != 1) {
		ERR_clear_error();
		return ebcc__error(ERR, "%s: the CRL of \"%s\" is not signed by its key", what,
				   name);
	}
	if (next_update == NULL)
		return ebcc__error(ERR, "%s: the CRL of \"%s\" has no nextUpdate, so nothing says "
				   "it is current", what, name);
	if (X509_cmp_time(this_update, &t) < 0 && X509_cmp_time(next_update, &t) > 0)
		return 0;
	ERR_clear_error();
	time_text(this_update, from, sizeof(from));
	time_text(next_update, to, sizeof(to));
	if (gmtime_r(&t, &tm) == NULL || strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(at, sizeof(at), "%lld", (long long)t);
	return ebcc__error(ERR, "%s: the CRL of \"%s\" is valid from %s to %s, not at %s (fetch a "
			   "current one)", what, name, from, to, at);
}

int ebcc__crl_check(STACK_OF(X509_CRL) *crls, X509 *issuer, X509 *const *certs, size_t n,
		    const int64_t *at, const char *what, char *detail, size_t detail_size)
{
	const X509_NAME *issuer_name = X509_get_subject_name(issuer);
	time_t t = at != NULL ? (time_t)*at : time(NULL);
	X509_CRL *crl = NULL;
	char name[128], next[32];
	int r;

	ebcc__x509_name(issuer, name, sizeof(name));
	for (int i = 0; i < sk_X509_CRL_num(crls) && crl == NULL; i++)
		if (X509_NAME_cmp(X509_CRL_get_issuer(sk_X509_CRL_value(crls, i)), issuer_name) == 0)
			crl = sk_X509_CRL_value(crls, i);
	if (crl == NULL)
		return ebcc__error(ERR, "%s: no CRL issued by \"%s\" among the %d given", what, name,
				   sk_X509_CRL_num(crls));
	r = current(crl, issuer, name, t, what);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		X509_REVOKED *revoked = NULL;
		char subject[128], serial[80];

		if (X509_NAME_cmp(X509_get_issuer_name(certs[i]), issuer_name) != 0)
			continue;
		if (X509_CRL_get0_by_cert(crl, &revoked, certs[i]) != 1)
			continue;
		ebcc__x509_name(certs[i], subject, sizeof(subject));
		serial_text(certs[i], serial, sizeof(serial));
		return ebcc__error(ERR, "%s: certificate \"%s\" (serial %s) is revoked by the CRL of "
				   "\"%s\"", what, subject, serial, name);
	}
	ERR_clear_error();
	time_text(X509_CRL_get0_nextUpdate(crl), next, sizeof(next));
	if (detail != NULL)
		snprintf(detail, detail_size, "not revoked: checked against the CRL of \"%s\" "
			 "(current until %s)", name, next);
	return 0;
}
