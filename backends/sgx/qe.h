/* SPDX-License-Identifier: MIT */
/*
 * An SGX enclave's quote from Intel's quoting enclave (QE3), through Intel's DCAP quote
 * library libsgx_dcap_ql.so.1 (sgx_dcap_ql_wrapper.h) behind the host operations:
 *
 *   1. the host asks for the QE's TARGETINFO (sgx_target_info_t);
 *   2. the enclave runs EREPORT with it and its REPORTDATA: a REPORT (sgx_report_t) whose MAC
 *      only the QE can check, with a key the CPU derives for the target;
 *   3. the host hands the REPORT to the QE, which checks the MAC and signs a DCAP quote v3
 *      (quote.h) whose report body is the REPORT's body.
 *
 *   TARGETINFO 512   mr_enclave @0, attributes @32 (flags u64, xfrm u64), config_svn @50,
 *                    misc_select @52, config_id @64, the rest reserved
 *   REPORT     432   body 384 @0 (the quote's report body: EBCC_SGX_BODY_*), key_id 32 @384,
 *                    mac 16 @416 (AES-128-CMAC of the body)
 */
#ifndef EBCC_SGX_QE_H
#define EBCC_SGX_QE_H

#include <stddef.h>
#include <stdint.h>

#include "hostops.h"
#include "quote.h"
#include "sgx-edge.h" /* EBCC_SGX_TARGETINFO_SIZE, EBCC_SGX_REPORT_SIZE */

/* The QE's TARGETINFO, for the enclave's EREPORT. Errors: EBCC_ERR_UNAVAILABLE (no
 * libsgx_dcap_ql.so.1, or host operations without the quote library), EBCC_ERR_BACKEND naming
 * the library's function and its quote3_error_t by name and value. */
int ebcc__sgx_qe_target_info(const struct ebcc__hostops *host,
			     uint8_t ret[EBCC_SGX_TARGETINFO_SIZE]);

/* The DCAP quote of an enclave's REPORT (malloc'ed, *ret_len bytes; not verified here).
 * Errors as above, and EBCC_ERR_TOO_BIG (a quote above EBCC_HOST_SGX_QUOTE_MAX),
 * EBCC_ERR_NO_MEMORY. */
int ebcc__sgx_qe_quote(const struct ebcc__hostops *host,
		       const uint8_t report[EBCC_SGX_REPORT_SIZE], uint8_t **ret, size_t *ret_len);

#endif
