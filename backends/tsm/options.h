/* SPDX-License-Identifier: MIT */
/*
 * What a verifier's policy says to the tsm backend: the top-level "trusted_keys" (public keys
 * trusted in place of a certificate chain: the PCK key of a TDX platform, the VCEK or VLEK of
 * an SEV-SNP chip) and the object "backend_options": {"tsm": {...}}:
 *
 *   tdx_root_ca                 PEM certificate(s): trust anchors of the PCK chain a TDX quote
 *                               carries (Intel's SGX Root CA in production)
 *   snp_ark                     PEM certificate(s): trust anchors of the VCEK/VLEK chain (AMD's
 *                               ARK of the product line in production)
 *   snp_certs                   PEM certificates: the ASK and the VCEK or VLEK, when the
 *                               report's auxblob does not carry them
 *   launch_measurement          96 lowercase hex digits: the MRTD (TDX) or MEASUREMENT (SNP)
 *                               the report must show
 *   report_data                 128 lowercase hex digits: the REPORTDATA the report must carry
 *                               (for raw reports, ebcc_report_verify(); evidence binds its own)
 *   provider                    "tdx_guest" or "sev_guest": the only provider accepted
 *   allow_unverified_signature  true: accept a report whose signature nothing in the policy
 *                               lets the backend verify (default false)
 *   allow_debug                 true: accept a debuggable TD or guest (default false)
 *   snp_crl                     PEM CRL(s): AMD KDS's CRL of the product line
 *                               (https://kdsintf.amd.com/vcek/v1/{Milan,Genoa,Turin}/crl, DER:
 *                               openssl crl -inform der converts it), signed by the ARK; the
 *                               ASK or ASVK of the chain must not be on it
 *   snp_min_tcb                 {"bootloader": N, "tee": N, "snp": N, "microcode": N,
 *                               "fmc": N}: the lowest SEV-SNP TCB accepted, component by
 *                               component (0..255; absent components 0; fmc counts on Turin),
 *                               for REPORTED_TCB and COMMITTED_TCB; AMD's security bulletins
 *                               name the firmware that fixes each flaw
 *   snp_allow_migration_agent   true: accept a guest whose POLICY lets a migration agent
 *                               export it (MIGRATE_MA, bit 18; default false)
 *   snp_allow_smt               false: refuse a guest whose POLICY allows SMT (bit 16;
 *                               default true: every cloud's guests have it)
 *   tdx_collateral              an object: Intel's collateral for a TDX quote's TCB, checked
 *                               at the verification time (collateral.h). Its keys, all
 *                               required, are those of Intel's QVL collateral structure:
 *                                 tcb_info, qe_identity     the exact JSON text Intel signed
 *                                     (the tcbInfo / enclaveIdentity object), or the whole
 *                                     PCS response body {"tcbInfo": {...}, "signature": ...}
 *                                 tcb_info_signature, qe_identity_signature
 *                                     128 hex digits (r || s, P-256, SHA-256 of the text);
 *                                     "" when the body gives it
 *                                 tcb_info_issuer_chain, qe_identity_issuer_chain,
 *                                 pck_crl_issuer_chain      PEM: the signer, then the root
 *                                 pck_crl, root_ca_crl      hex DER or PEM
 *                               Where an operator gets them (Intel PCS, API v4):
 *                                 GET /tdx/certification/v4/tcb?fmspc=<FMSPC>  (chain in the
 *                                     response header TCB-Info-Issuer-Chain)
 *                                 GET /tdx/certification/v4/qe/identity  (SGX-Enclave-Identity-
 *                                     Issuer-Chain)
 *                                 GET /sgx/certification/v4/pckcrl?ca=platform|processor
 *                                     (SGX-PCK-CRL-Issuer-Chain)
 *                                 the root CA CRL at the root certificate's CRL distribution
 *                                     point, https://certificates.trustedservices.intel.com/
 *                                     IntelSGXRootCA.der
 *                               Cache them and refresh before the earliest nextUpdate.
 *   tdx_tcb_status              array of the TCB statuses accepted (default ["UpToDate"]):
 *                               UpToDate, SWHardeningNeeded, ConfigurationNeeded,
 *                               ConfigurationAndSWHardeningNeeded, OutOfDate,
 *                               OutOfDateConfigurationNeeded ("Revoked" never is)
 *
 * The policy's top-level "verification_time" (RFC 3339) is the instant at which certificates
 * are checked (default: now).
 *
 * Any other key under "tsm" is refused, so that a typo cannot weaken a check; other backends'
 * objects under backend_options are not this backend's business.
 */
#ifndef EBCC_TSM_OPTIONS_H
#define EBCC_TSM_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "collateral.h"
#include "configfs.h"

struct ebcc_backend_report_check;

#define EBCC_TSM_LAUNCH_MEASUREMENT_SIZE 48
/* An SEV-SNP TCB_VERSION's security patch levels (snp.h has the byte layouts). */
struct ebcc__snp_tcb {
	uint8_t fmc; /* Turin only */
	uint8_t bootloader, tee, snp, microcode;
};

struct ebcc__tsm_policy {
	STACK_OF(X509) *tdx_roots; /* NULL when not given */
	STACK_OF(X509) *snp_roots;
	STACK_OF(X509) *snp_certs;
	STACK_OF(X509_CRL) *snp_crls; /* snp_crl, NULL when not given */
	EVP_PKEY **keys; /* trusted_keys */
	size_t n_keys;
	bool allow_unverified_signature;
	bool allow_debug;
	bool has_launch_measurement;
	bool has_report_data;
	uint8_t report_data[64];
	uint8_t launch_measurement[EBCC_TSM_LAUNCH_MEASUREMENT_SIZE];
	enum ebcc__tsm_provider provider; /* UNKNOWN: any */
	bool has_snp_min_tcb;
	struct ebcc__snp_tcb snp_min_tcb;
	bool snp_allow_migration_agent;
	bool snp_allow_smt;
	/* The policy's top-level "verification_time": certificates, CRLs and collateral are
	 * checked at this instant instead of the current time. */
	bool has_verification_time;
	int64_t verification_time; /* seconds since the epoch */
	bool has_tdx_collateral;
	struct ebcc__collateral_text tdx_collateral;
	unsigned tdx_tcb_status_accepted; /* bit (1u << status); UpToDate alone by default */
};

/* The instant to check validity periods at: the policy's, or NULL for the current time. */
static inline const int64_t *ebcc__tsm_policy_time(const struct ebcc__tsm_policy *p)
{
	return p->has_verification_time ? &p->verification_time : NULL;
}

/* What checking a report's signature against the policy came to, when it did not fail. */
struct ebcc__tsm_signature {
	bool verified;    /* chained to a trust anchor of the policy, or made by a trusted key */
	char detail[640]; /* what was checked, or why nothing could be */
	char signer[128]; /* the subject of the certificate whose key signed ("" if none) */
	/* The trust anchor the signer chains to: its subject and SHA-256 fingerprint ("" when
	 * trusted by key or not verified). */
	char root[128];
	char root_sha256[65];
	char revocation[512]; /* what a CRL check found ("" when none was made) */
};

/* Parses what applies to tsm. Errors: EBCC_ERR_VERIFY naming the key ("policy:
 * backend_options.tsm.snp_ark: ..."), EBCC_ERR_NO_MEMORY. */
int ebcc__tsm_policy_parse(const struct ebcc_backend_report_check *check,
			   struct ebcc__tsm_policy *ret);
void ebcc__tsm_policy_clear(struct ebcc__tsm_policy *p);

/* Whether the policy gives anything to verify a signature with. */
bool ebcc__tsm_policy_has_trust(const struct ebcc__tsm_policy *p,
				enum ebcc__tsm_provider provider);

#endif
