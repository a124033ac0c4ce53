/* SPDX-License-Identifier: MIT */
/*
 * Certificate revocation lists a verifier hands over (AMD KDS's per-product CRL, Intel PCS's
 * PCK and root CA CRLs), checked with OpenSSL against the certificate that issued them at a
 * given time. Failures set this thread's last error message, naming what was checked.
 */
#ifndef EBCC_TSM_CRL_H
#define EBCC_TSM_CRL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

/* Every CRL of a PEM text ("-----BEGIN X509 CRL-----" blocks, at least one), in order. */
int ebcc__crl_list_from_pem(const char *pem, size_t len, const char *what, int err,
			    STACK_OF(X509_CRL) **ret);
void ebcc__crl_list_free(STACK_OF(X509_CRL) *list);

/*
 * Finds the CRL of crls issued by issuer (by name), verifies its signature with issuer's key
 * and that it is current at *at (seconds since the epoch; NULL: now): thisUpdate <= t <=
 * nextUpdate. Then none of the n certs that issuer issued may be on it. 0 with a line saying
 * what was checked in detail (may be NULL); EBCC_ERR_VERIFY naming what, the issuer and the
 * fault: no CRL of that issuer, a bad signature, outside its window, a revoked certificate
 * (subject and serial).
 */
int ebcc__crl_check(STACK_OF(X509_CRL) *crls, X509 *issuer, X509 *const *certs, size_t n,
		    const int64_t *at, const char *what, char *detail, size_t detail_size);

#endif
