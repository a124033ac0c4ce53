/* SPDX-License-Identifier: MIT */
/*
 * What the sgx backend reads from a verifier's policy: the top-level "trusted_keys" (PCK public
 * keys trusted in place of a certificate chain), "verification_time" (RFC 3339: the instant at
 * which certificates and CRLs are checked, default now) and backend_options.sgx:
 *
 *   root_ca                     PEM certificate(s): trust anchors of the PCK chain a quote
 *                               carries (Intel's SGX Root CA in production)
 *   crl                         PEM CRL(s): Intel PCS's PCK CRL (processor or platform CA) and
 *                               the root CA's CRL; when given, every CA of the quote's chain
 *                               must have a current one and no certificate may be on it
 *   mrenclave, mrsigner         64 lowercase hex digits: the enclave's MRENCLAVE / MRSIGNER
 *   isv_prod_id                 0..65535: the enclave's ISVPRODID
 *   min_isv_svn                 0..65535: the lowest ISVSVN accepted
 *   report_data                 128 lowercase hex digits: the REPORTDATA the quote must carry
 *                               (raw quotes; evidence binds its own)
 *   allow_debug                 true: accept a debug enclave (ATTRIBUTES.DEBUG; default false)
 *   allow_unverified_signature  true: accept a quote whose PCK certificate nothing in the
 *                               policy vouches for (default false)
 *   collateral                  an object: Intel's collateral for the quote's TCB (TCB info
 *                               "SGX" version 3, QE identity "QE" version 2), checked at the
 *                               verification time (../tsm/collateral.h); the keys and forms of
 *                               tsm's tdx_collateral (../tsm/options.h), all required:
 *                               tcb_info, tcb_info_signature, tcb_info_issuer_chain,
 *                               qe_identity, qe_identity_signature, qe_identity_issuer_chain,
 *                               pck_crl, pck_crl_issuer_chain, root_ca_crl. Intel PCS serves
 *                               them at /sgx/certification/v4/tcb?fmspc=<FMSPC>,
 *                               /sgx/certification/v4/qe/identity and .../pckcrl. Needs root_ca.
 *   tcb_status                  array of the TCB statuses accepted (default ["UpToDate"]):
 *                               UpToDate, SWHardeningNeeded, ConfigurationNeeded,
 *                               ConfigurationAndSWHardeningNeeded, OutOfDate,
 *                               OutOfDateConfigurationNeeded ("Revoked" never is)
 *
 * Any other key under "sgx" is refused, so that a typo cannot weaken a check.
 */
#ifndef EBCC_SGX_OPTIONS_H
#define EBCC_SGX_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "../tsm/collateral.h"

struct ebcc_backend_report_check;

struct ebcc__sgx_policy {
	STACK_OF(X509) *roots;    /* NULL when not given */
	STACK_OF(X509_CRL) *crls; /* NULL when not given */
	EVP_PKEY **keys;          /* trusted_keys */
	size_t n_keys;
	bool has_mrenclave, has_mrsigner, has_report_data, has_isv_prod_id, has_min_isv_svn;
	uint8_t mrenclave[32], mrsigner[32], report_data[64];
	uint16_t isv_prod_id, min_isv_svn;
	bool allow_debug, allow_unverified_signature;
	bool has_verification_time;
	int64_t verification_time; /* seconds since the epoch */
	bool has_collateral;
	struct ebcc__collateral_text collateral;
	unsigned tcb_status_accepted; /* bits (1u << status); UpToDate alone by default */
};

static inline const int64_t *ebcc__sgx_policy_time(const struct ebcc__sgx_policy *p)
{
	return p->has_verification_time ? &p->verification_time : NULL;
}

/* Errors: EBCC_ERR_VERIFY naming the key ("policy: backend_options.sgx.mrenclave: ..."),
 * EBCC_ERR_NO_MEMORY. */
int ebcc__sgx_policy_parse(const struct ebcc_backend_report_check *check,
			   struct ebcc__sgx_policy *ret);
void ebcc__sgx_policy_clear(struct ebcc__sgx_policy *p);

#endif
