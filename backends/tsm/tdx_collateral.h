/* SPDX-License-Identifier: MIT */
/*
 * A TDX quote's TCB against Intel's collateral (Intel PCS, API v4), the caller's copy of it,
 * at the policy's verification time:
 *
 *   - TCB info ("TDX", version 3) and QE identity ("TD_QE", version 2): signed (ECDSA P-256,
 *     r || s over the exact bytes of the JSON object) by the leaf of their issuer chain, which
 *     chains to the policy's tdx_root_ca; issueDate <= t <= nextUpdate.
 *   - The root CA CRL signed by the anchor, the PCK CRL by the PCK CRL issuer chain's leaf
 *     (the CA that issued the quote's PCK certificate); thisUpdate <= t <= nextUpdate; the PCK
 *     certificate not on the PCK CRL, the CAs and signers below the root not on the root CRL.
 *   - The PCK certificate's FMSPC and PCE-ID are the TCB info's.
 *   - The platform TCB level: the first of tcbLevels (newest first) whose SGX component SVNs
 *     and PCESVN the PCK certificate reaches and whose TDX component SVNs TEE_TCB_SVN does.
 *   - The TDX module: MRSIGNERSEAM and SEAMATTRIBUTES (masked) are tdxModule's; a module of
 *     major version TEE_TCB_SVN[1] > 0 must have a tdxModuleIdentities entry "TDX_<2 hex>",
 *     whose tcbLevels give a status for the minor version TEE_TCB_SVN[0].
 *   - The QE: MRSIGNER, ISVPRODID, MISCSELECT and ATTRIBUTES (masked) are the identity's; the
 *     first tcbLevels entry with isvsvn <= the QE's ISVSVN gives the QE's status.
 *
 * Failures: EBCC_ERR_VERIFY naming the item ("tdx_collateral.tcb_info: ...") and field.
 */
#ifndef EBCC_TSM_TDX_COLLATERAL_H
#define EBCC_TSM_TDX_COLLATERAL_H

#include <stddef.h>
#include <stdint.h>

#include "options.h"
#include "tdx.h"

#define EBCC_TDX_TCB_LEVELS_MAX 128
#define EBCC_TDX_MODULE_IDENTITIES_MAX 32

struct json_object;

/* One entry of a tcbLevels array. Strings borrowed from the parsed document. */
struct ebcc__tdx_tcb_level {
	uint8_t sgx_svn[16], tdx_svn[16]; /* TCB info's platform levels */
	uint16_t pcesvn;
	uint16_t isvsvn;                  /* QE identity's and module identities' levels */
	enum ebcc__tdx_tcb_status status;
	const char *date;
	struct json_object *advisory_ids; /* an array of strings, or NULL */
};

struct ebcc__tdx_module_identity {
	const char *id; /* "TDX_01" */
	uint8_t mrsigner[48], attributes[8], attributes_mask[8];
	struct ebcc__tdx_tcb_level *levels;
	size_t n_levels;
};

struct ebcc__tdx_tcb_info {
	struct json_object *root;
	int64_t issue_date, next_update, tcb_evaluation_data_number;
	uint8_t fmspc[6], pce_id[2];
	uint8_t module_mrsigner[48], module_attributes[8], module_attributes_mask[8];
	struct ebcc__tdx_module_identity *modules;
	size_t n_modules;
	struct ebcc__tdx_tcb_level *levels;
	size_t n_levels;
};

struct ebcc__tdx_qe_identity {
	struct json_object *root;
	int64_t issue_date, next_update, tcb_evaluation_data_number;
	uint32_t miscselect, miscselect_mask;
	uint8_t attributes[16], attributes_mask[16], mrsigner[32];
	uint16_t isvprodid;
	struct ebcc__tdx_tcb_level *levels;
	size_t n_levels;
};

/* The tcbInfo / enclaveIdentity object's JSON text (exactly what Intel signed). */
int ebcc__tdx_tcb_info_parse(const char *text, size_t len, struct ebcc__tdx_tcb_info *ret);
void ebcc__tdx_tcb_info_clear(struct ebcc__tdx_tcb_info *t);
int ebcc__tdx_qe_identity_parse(const char *text, size_t len, struct ebcc__tdx_qe_identity *ret);
void ebcc__tdx_qe_identity_clear(struct ebcc__tdx_qe_identity *q);

/*
 * The signed bytes of a collateral item and its signature: text is either the signed object
 * itself (then sig_hex is the item's signature) or Intel PCS's response body {"<inner>": {...},
 * "signature": "<hex>"}, whose inner object's exact text is what was signed. *ret_text points
 * into text; *ret_sig into text or sig_hex. what names the item in messages.
 */
int ebcc__tdx_signed_part(const char *text, size_t len, const char *inner, const char *sig_hex,
			  const char *what, const char **ret_text, size_t *ret_len,
			  uint8_t ret_sig[64]);

struct ebcc__pck_ext;

/* The platform's TCB level: the first of t's levels whose SGX SVNs and PCESVN the PCK
 * certificate reaches and whose TDX SVNs TEE_TCB_SVN does (from byte 2 when the module's major
 * version TEE_TCB_SVN[1] is not 0: its identity grades bytes 0 and 1); NULL if none. */
const struct ebcc__tdx_tcb_level *ebcc__tdx_platform_level(const struct ebcc__tdx_tcb_info *t,
							  const struct ebcc__pck_ext *pck,
							  const uint8_t tee_tcb_svn[16]);

/* What the collateral said about the quote. */
struct ebcc__tdx_tcb_result {
	enum ebcc__tdx_tcb_status status;    /* platform, module and QE combined */
	enum ebcc__tdx_tcb_status qe_status;
	char tcb_date[32];
	char fmspc[13];
	int64_t tcb_evaluation_data_number;
	struct json_object *advisory_ids; /* a new array of strings (to be put) */
	char revocation[512];             /* what the CRLs were checked for */
};

/* Checks q against p's tdx_collateral (p->has_tdx_collateral) as above, and that the status
 * is one of tdx_tcb_status. */
int ebcc__tdx_collateral_check(const struct ebcc__tdx_quote *q, const struct ebcc__tsm_policy *p,
			       struct ebcc__tdx_tcb_result *ret);


/* ---- signers and CRLs (tdx_pki.c) ---------------------------------------------------------- */

#include <openssl/x509.h>

/* "2025-06-19T10:16:03Z" */
void ebcc__tdx_format_time(int64_t t, char buf[32]);

/* Verifies that chain_pem's first certificate signed signed_text (sig: r || s, P-256,
 * SHA-256) and that the chain leads to the policy's tdx_root_ca at t. *ret_signer: a
 * reference to that certificate. what: "tdx_collateral.tcb_info". */
int ebcc__tdx_signer_check(const char *signed_text, size_t len, const uint8_t sig[64],
			   const char *chain_pem, size_t chain_len, const struct ebcc__tsm_policy *p,
			   int64_t t, const char *what, X509 **ret_signer);

/* The CRLs of the collateral at t: the root CA CRL signed by the anchor, the PCK CRL by the
 * PCK CRL issuer chain's leaf, which must have issued pck_leaf; pck_leaf not on the PCK CRL;
 * the PCK CA and each of the n signers not on the root CA CRL. detail: what was checked. */
int ebcc__tdx_crls_check(X509 *pck_leaf, X509 *const *signers, size_t n,
			 const struct ebcc__tsm_policy *p, int64_t t, char *detail, size_t detail_size);

#endif
