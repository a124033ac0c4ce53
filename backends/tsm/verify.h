/* SPDX-License-Identifier: MIT */
/*
 * Offline verification of a tsm report (the verify_report callback). The evidence is accepted
 * only when all of these hold:
 *
 *  1. the report is a well-formed ebcc.tsm.v1 container whose outblob is a TDX quote (v4, v5)
 *     or SEV-SNP attestation report of the provider it names (and of the policy's provider);
 *  2. the hardware report's REPORTDATA equals the evidence's report_data: the binding of
 *     instance, stage, EID, sequence number, measurement, nonce, request and response;
 *  3. the signature is verified (tdx.c, snp.c) — a chain to the policy's tdx_root_ca /
 *     snp_ark, or a key in trusted_keys — or, when the policy gives nothing to verify it with,
 *     backend_options.tsm.allow_unverified_signature is true. A check that fails is never
 *     excused;
 *  4. the launch measurement (MRTD, MEASUREMENT) equals backend_options.tsm.launch_measurement
 *     when the policy pins it;
 *  5. the TD or guest is not debuggable, unless backend_options.tsm.allow_debug is true.
 *
 * The verdict says what was verified and lists what never is: TCB status and collateral,
 * revocation, runtime measurements.
 */
#ifndef EBCC_TSM_VERIFY_H
#define EBCC_TSM_VERIFY_H

#include "ebcc/backend.h"

/* 0 with the verdict (malloc'ed JSON) in *ret_verdict, EBCC_ERR_VERIFY with the reason, or
 * EBCC_ERR_NO_MEMORY. */
int ebcc__tsm_verify(const struct ebcc_backend_report_check *check, char **ret_verdict);

#endif
