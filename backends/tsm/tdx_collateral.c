/* SPDX-License-Identifier: MIT */
/* A TDX quote's collateral: the tsm policy's part handed to collateral.c (tdx_collateral.h). */
#include <time.h>

#include "tdx_collateral.h"

/* What the tsm policy gives collateral.c, at t. */
static struct ebcc__collateral collateral_of(const struct ebcc__tsm_policy *p, int64_t t)
{
	return (struct ebcc__collateral){
		.tee = EBCC_COLLATERAL_TDX,
		.name = "tdx_collateral",
		.option = "backend_options.tsm.tdx_collateral",
		.root_option = "backend_options.tsm.tdx_root_ca",
		.status_option = "backend_options.tsm.tdx_tcb_status",
		.quote = "TDX quote",
		.text = &p->tdx_collateral,
		.roots = p->tdx_roots,
		.accepted = p->tdx_tcb_status_accepted,
		.at = t,
	};
}

int ebcc__tdx_collateral_check(const struct ebcc__tdx_quote *q, const struct ebcc__tsm_policy *p,
			       struct ebcc__tcb_result *ret)
{
	const int64_t *at = ebcc__tsm_policy_time(p);
	const struct ebcc__collateral c = collateral_of(p, at != NULL ? *at : (int64_t)time(NULL));
	const struct ebcc__collateral_tdx tdx = {
		.mrsignerseam = q->mrsignerseam,
		.tee_tcb_svn = q->tee_tcb_svn,
	};

	return ebcc__collateral_check(&c, &q->sig, &tdx, ret);
}

int ebcc__tdx_crls_check(X509 *pck_leaf, X509 *const *signers, size_t n,
			 const struct ebcc__tsm_policy *p, int64_t t, char *detail,
			 size_t detail_size)
{
	const struct ebcc__collateral c = collateral_of(p, t);

	return ebcc__collateral_crls_check(pck_leaf, signers, n, &c, t, detail, detail_size);
}
