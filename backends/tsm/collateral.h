/* SPDX-License-Identifier: MIT */
/*
 * A DCAP quote's TCB against Intel's collateral (Intel PCS, API v4), the caller's copy of it,
 * at the policy's verification time; shared by tsm (TDX quotes) and sgx (SGX quotes v3):
 *
 *   - TCB info (TDX: id "TDX", SGX: id "SGX"; version 3) and QE identity (TDX: "TD_QE", SGX:
 *     "QE"; version 2): signed (ECDSA P-256, r || s over the exact bytes of the JSON object)
 *     by the leaf of their issuer chain, which chains to the policy's root CA;
 *     issueDate <= t <= nextUpdate.
 *   - The root CA CRL signed by the anchor, the PCK CRL by the PCK CRL issuer chain's leaf
 *     (the CA that issued the quote's PCK certificate); thisUpdate <= t <= nextUpdate; the PCK
 *     certificate not on the PCK CRL, the CAs and signers below the root not on the root CRL.
 *   - The PCK certificate's FMSPC and PCE-ID are the TCB info's.
 *   - The platform TCB level: the first of tcbLevels (newest first) whose SGX component SVNs
 *     and PCESVN the PCK certificate reaches and, for TDX, whose TDX component SVNs
 *     TEE_TCB_SVN does (SGX levels have no TDX components).
 *   - TDX only, the TDX module: MRSIGNERSEAM and SEAMATTRIBUTES (masked) are tdxModule's; a
 *     module of major version TEE_TCB_SVN[1] > 0 must have a tdxModuleIdentities entry
 *     "TDX_<2 hex>", whose tcbLevels give a status for the minor version TEE_TCB_SVN[0].
 *   - The QE: MRSIGNER, ISVPRODID, MISCSELECT and ATTRIBUTES (masked) are the identity's; the
 *     first tcbLevels entry with isvsvn <= the QE's ISVSVN gives the QE's status.
 *   - The statuses fold into one, which must be one the policy accepts.
 *
 * Failures: EBCC_ERR_VERIFY naming the item ("tdx_collateral.tcb_info: ...", for sgx
 * "collateral.tcb_info: ...") and field.
 */
#ifndef EBCC_TSM_COLLATERAL_H
#define EBCC_TSM_COLLATERAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#define EBCC_TCB_LEVELS_MAX 128
#define EBCC_TDX_MODULE_IDENTITIES_MAX 32
/* One collateral item: Intel's are a few KiB (a PCK CRL of a large platform CA some 100). */
#define EBCC_COLLATERAL_ITEM_MAX ((size_t)512 << 10)

struct json_object;
struct ebcc__dcap_sig;
struct ebcc__pck_ext;

/* TCB statuses of Intel's TCB info and QE identity, in the order of their names. */
enum ebcc__tcb_status {
	EBCC_TCB_UP_TO_DATE,
	EBCC_TCB_SW_HARDENING_NEEDED,
	EBCC_TCB_CONFIGURATION_NEEDED,
	EBCC_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
	EBCC_TCB_OUT_OF_DATE,
	EBCC_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
	EBCC_TCB_REVOKED,
	EBCC_TCB_STATUS_COUNT,
};

/* "UpToDate", ...; and back (-1 for a name that is none of them). */
const char *ebcc__tcb_status_name(enum ebcc__tcb_status s);
int ebcc__tcb_status_parse(const char *name, enum ebcc__tcb_status *ret);

/* The items of a policy's collateral object (tsm's tdx_collateral, sgx's collateral), in this
 * order; texts as given. */
enum ebcc__collateral_item {
	EBCC_COLL_TCB_INFO,
	EBCC_COLL_TCB_INFO_SIGNATURE,
	EBCC_COLL_TCB_INFO_ISSUER_CHAIN,
	EBCC_COLL_QE_IDENTITY,
	EBCC_COLL_QE_IDENTITY_SIGNATURE,
	EBCC_COLL_QE_IDENTITY_ISSUER_CHAIN,
	EBCC_COLL_PCK_CRL,
	EBCC_COLL_PCK_CRL_ISSUER_CHAIN,
	EBCC_COLL_ROOT_CA_CRL,
	EBCC_COLL_COUNT,
};
extern const char *const ebcc__collateral_keys[EBCC_COLL_COUNT + 1];

struct ebcc__collateral_text {
	char *text[EBCC_COLL_COUNT]; /* malloc, NUL-terminated */
	size_t len[EBCC_COLL_COUNT];
};

/* ---- the policy's part (collateral_policy.c) ----------------------------------------------- */

/* The collateral object o: every item a string of at most EBCC_COLLATERAL_ITEM_MAX bytes,
 * copied into *ret (cleared by the caller even on failure); unknown and missing keys refused.
 * where names o in messages: "policy: backend_options.tsm.tdx_collateral". */
int ebcc__collateral_text_parse(struct json_object *o, const char *where,
				struct ebcc__collateral_text *ret);
void ebcc__collateral_text_clear(struct ebcc__collateral_text *c);

/* A non-empty array of status names, Revoked not one, as bits (1u << status) in *ret. where:
 * "policy: backend_options.tsm.tdx_tcb_status". */
int ebcc__collateral_status_parse(struct json_object *o, const char *where, unsigned *ret);

/* ---- documents (collateral.c) -------------------------------------------------------------- */

/* Whose documents: the TCB info's and QE identity's ids, and what TCB info holds. */
enum ebcc__collateral_tee {
	EBCC_COLLATERAL_SGX, /* "SGX" and "QE" */
	EBCC_COLLATERAL_TDX, /* "TDX" and "TD_QE": TDX components, tdxModule */
};

/* One entry of a tcbLevels array. Strings borrowed from the parsed document. */
struct ebcc__tcb_level {
	uint8_t sgx_svn[16], tdx_svn[16]; /* TCB info's platform levels (tdx_svn: TDX only) */
	uint16_t pcesvn;
	uint16_t isvsvn;                  /* QE identity's and module identities' levels */
	enum ebcc__tcb_status status;
	const char *date;
	struct json_object *advisory_ids; /* an array of strings, or NULL */
};

struct ebcc__tdx_module_identity {
	const char *id; /* "TDX_01" */
	uint8_t mrsigner[48], attributes[8], attributes_mask[8];
	struct ebcc__tcb_level *levels;
	size_t n_levels;
};

struct ebcc__tcb_info {
	struct json_object *root;
	int64_t issue_date, next_update, tcb_evaluation_data_number;
	uint8_t fmspc[6], pce_id[2];
	/* TDX only */
	uint8_t module_mrsigner[48], module_attributes[8], module_attributes_mask[8];
	struct ebcc__tdx_module_identity *modules;
	size_t n_modules;
	struct ebcc__tcb_level *levels;
	size_t n_levels;
};

struct ebcc__qe_identity {
	struct json_object *root;
	int64_t issue_date, next_update, tcb_evaluation_data_number;
	uint32_t miscselect, miscselect_mask;
	uint8_t attributes[16], attributes_mask[16], mrsigner[32];
	uint16_t isvprodid;
	struct ebcc__tcb_level *levels;
	size_t n_levels;
};

/* The tcbInfo / enclaveIdentity object's JSON text (exactly what Intel signed), of tee's kind.
 * what names the document in messages: "tdx_collateral.tcb_info". */
int ebcc__collateral_tcb_info_parse(enum ebcc__collateral_tee tee, const char *what,
				    const char *text, size_t len, struct ebcc__tcb_info *ret);
void ebcc__collateral_tcb_info_clear(struct ebcc__tcb_info *t);
int ebcc__collateral_qe_identity_parse(enum ebcc__collateral_tee tee, const char *what,
				       const char *text, size_t len,
				       struct ebcc__qe_identity *ret);
void ebcc__collateral_qe_identity_clear(struct ebcc__qe_identity *q);

/*
 * The signed bytes of a collateral item and its signature: text is either the signed object
 * itself (then sig_hex is the item's signature) or Intel PCS's response body {"<inner>": {...},
 * "signature": "<hex>"}, whose inner object's exact text is what was signed. *ret_text points
 * into text; *ret_sig into text or sig_hex. what names the item in messages.
 */
int ebcc__collateral_signed_part(const char *text, size_t len, const char *inner,
				 const char *sig_hex, const char *what, const char **ret_text,
				 size_t *ret_len, uint8_t ret_sig[64]);

/* The platform's TCB level: the first of t's levels whose SGX SVNs and PCESVN the PCK
 * certificate reaches and, unless tee_tcb_svn is NULL (SGX), whose TDX SVNs TEE_TCB_SVN does
 * (from byte 2 when the module's major version TEE_TCB_SVN[1] is not 0: its identity grades
 * bytes 0 and 1); NULL if none. */
const struct ebcc__tcb_level *
ebcc__collateral_platform_level(const struct ebcc__tcb_info *t,
				const struct ebcc__pck_ext *pck, const uint8_t *tee_tcb_svn);

/* ---- a quote against the collateral (collateral.c) ----------------------------------------- */

/* What the policy gives to check a quote's collateral with, and how messages name it. */
struct ebcc__collateral {
	enum ebcc__collateral_tee tee;
	const char *name;          /* "tdx_collateral": prefix of the items in messages */
	const char *option;        /* "backend_options.tsm.tdx_collateral" */
	const char *root_option;   /* "backend_options.tsm.tdx_root_ca" */
	const char *status_option; /* "backend_options.tsm.tdx_tcb_status" */
	const char *quote;         /* "TDX quote" */
	const struct ebcc__collateral_text *text;
	STACK_OF(X509) *roots;     /* NULL when the policy gives none */
	unsigned accepted;         /* bits (1u << status) */
	int64_t at;                /* the verification time */
};

/* What only a TDX quote has: the TDX module's signer, attributes and version. */
struct ebcc__collateral_tdx {
	const uint8_t *mrsignerseam;   /* 48, then SEAMATTRIBUTES (8) as the quote has them */
	const uint8_t *tee_tcb_svn;    /* 16 */
};

/* What the collateral said about the quote. */
struct ebcc__tcb_result {
	enum ebcc__tcb_status status;     /* platform, TDX module and QE combined */
	enum ebcc__tcb_status qe_status;
	char tcb_date[32];
	char fmspc[13];
	int64_t tcb_evaluation_data_number;
	struct json_object *advisory_ids; /* a new array of strings (to be put) */
	char revocation[512];             /* what the CRLs were checked for */
};

/* Checks the quote's signature data sig (and, for TDX, tdx; NULL for SGX) against c as above,
 * and that the status is one c accepts. */
int ebcc__collateral_check(const struct ebcc__collateral *c, const struct ebcc__dcap_sig *sig,
			   const struct ebcc__collateral_tdx *tdx,
			   struct ebcc__tcb_result *ret);

/* ---- signers and CRLs (collateral_pki.c) --------------------------------------------------- */

/* "2025-06-19T10:16:03Z" */
void ebcc__collateral_format_time(int64_t t, char buf[32]);

/* Verifies that chain_pem's first certificate signed signed_text (sig: r || s, P-256,
 * SHA-256) and that the chain leads to roots at t. *ret_signer: a reference to that
 * certificate. what: "tdx_collateral.tcb_info". */
int ebcc__collateral_signer_check(const char *signed_text, size_t len, const uint8_t sig[64],
				  const char *chain_pem, size_t chain_len, STACK_OF(X509) *roots,
				  int64_t t, const char *what, X509 **ret_signer);

/* The CRLs of c at t: the root CA CRL signed by the anchor, the PCK CRL by the PCK CRL issuer
 * chain's leaf, which must have issued pck_leaf; pck_leaf not on the PCK CRL; the PCK CA and
 * each of the n signers not on the root CA CRL. detail: what was checked. */
int ebcc__collateral_crls_check(X509 *pck_leaf, X509 *const *signers, size_t n,
				const struct ebcc__collateral *c, int64_t t, char *detail,
				size_t detail_size);

#endif
