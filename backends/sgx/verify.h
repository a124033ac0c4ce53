/* SPDX-License-Identifier: MIT */
/*
 * Offline verification of an SGX DCAP quote v3 (the verify_report callback): the report of an
 * sgx stage's evidence (format EBCC_SGX_FORMAT: its REPORTDATA must be the evidence's
 * report_data and "sgx:<MRENCLAVE>" its measurement), or a raw quote through
 * ebcc_report_verify(ctx, "sgx", ...). A quote is accepted only when all of these hold:
 *
 *  1. it parses (quote.h) with a type-5 PCK certificate chain;
 *  2. its signatures verify (../tsm/dcap.h): the QE report by the PCK certificate, the QE
 *     report's binding of the attestation key, the quote by the attestation key;
 *  3. the PCK certificate chains to backend_options.sgx.root_ca at the verification time, or
 *     its key is in trusted_keys — or the policy gives neither and allow_unverified_signature
 *     is true; with backend_options.sgx.crl, no certificate of the chain is revoked;
 *  4. the pins the policy gives hold: report_data, mrenclave, mrsigner, isv_prod_id,
 *     min_isv_svn;
 *  5. the enclave is not a debug enclave, unless allow_debug is true;
 *  6. with backend_options.sgx.collateral, the quote's TCB against Intel's TCB info ("SGX")
 *     and QE identity ("QE") at the verification time (../tsm/collateral.h): signers, CRLs,
 *     FMSPC and PCE-ID, the platform's TCB level and the QE's, their status one of tcb_status.
 *
 * What is not verified (without collateral, Intel's TCB info and QE identity) is listed in the
 * claims' "not_verified".
 */
#ifndef EBCC_SGX_VERIFY_H
#define EBCC_SGX_VERIFY_H

#include "ebcc/backend.h"

#define EBCC_SGX_FORMAT "ebcc.sgx.v1"

/* 0 with the claims (malloc'ed JSON) in *ret, EBCC_ERR_VERIFY with the reason, or
 * EBCC_ERR_NO_MEMORY. */
int ebcc__sgx_verify(const struct ebcc_backend_report_check *check, char **ret);

#endif
