/* SPDX-License-Identifier: MIT */
/*
 * A TDX quote's TCB against Intel's collateral: backend_options.tsm.tdx_collateral, checked by
 * collateral.c (the rules in collateral.h) with the TCB info "TDX" (version 3), the QE identity
 * "TD_QE" (version 2) and the TDX module's checks; accepted statuses from tdx_tcb_status.
 *
 * Failures: EBCC_ERR_VERIFY naming the item ("tdx_collateral.tcb_info: ...") and field.
 */
#ifndef EBCC_TSM_TDX_COLLATERAL_H
#define EBCC_TSM_TDX_COLLATERAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "collateral.h"
#include "options.h"
#include "tdx.h"

/* Checks q against p's tdx_collateral (p->has_tdx_collateral) as above, and that the status
 * is one of tdx_tcb_status. */
int ebcc__tdx_collateral_check(const struct ebcc__tdx_quote *q, const struct ebcc__tsm_policy *p,
			       struct ebcc__tcb_result *ret);

/* The CRLs of p's tdx_collateral at t (ebcc__collateral_crls_check()). */
int ebcc__tdx_crls_check(X509 *pck_leaf, X509 *const *signers, size_t n,
			 const struct ebcc__tsm_policy *p, int64_t t, char *detail,
			 size_t detail_size);

#endif
