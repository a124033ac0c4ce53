/* SPDX-License-Identifier: MIT */
/*
 * Intel TDX quotes, versions 4 and 5 (what the tdx_guest provider returns as outblob): the
 * layout of Intel's "TDX DCAP Quoting Library API", appendix "Quote Format":
 *
 *   header      48   version 4, attestation key type 2 (ECDSA P-256), TEE type 0x81 (TDX),
 *                    QE vendor id, user data
 *   TD report  584   TEE_TCB_SVN, MRSEAM, MRSIGNERSEAM, SEAMATTRIBUTES, TDATTRIBUTES, XFAM,
 *                    MRTD (+136), MRCONFIGID, MROWNER, MROWNERCONFIG, RTMR0..3, REPORTDATA (+520)
 *                    Version 5 puts a body type (2) and size (4) between header and body: type
 *                    2 is the TD report 1.0 above (584 bytes), type 3 the TD report 1.5 (648:
 *                    the same, then TEE_TCB_SVN2 (16) and MRSERVICETD (48)); the quote
 *                    signature covers header, type, size and body.
 *   sig. length  4   then the signature data (dcap.h), for TDX inside a type-6 wrapper:
 *     quote signature       64  ECDSA P-256 (r || s, big endian) over header || TD report
 *     attestation key       64  raw P-256 public key (x || y)
 *     certification data        type 6 (2), size (4): QE report certification data:
 *       QE report          384  an SGX report body; REPORTDATA (+320) = SHA-256(attestation
 *                               key || QE authentication data) || 32 zero bytes
 *       QE report signature 64  ECDSA P-256 by the PCK key
 *       QE auth data            size (2), data
 *       certification data      type 5 (2), size (4): the PCK certificate chain in PEM
 *                               (PCK leaf, PCK platform or processor CA, root CA)
 *
 * All integers little endian. Only zero bytes may follow the signature data: Intel's quote
 * service answers with buffers of the v5 size (70 zero bytes after a v4 quote on QEMU/KVM hosts)
 * and some clouds with fixed 8000-byte buffers. A non-zero byte there is refused.
 */
#ifndef EBCC_TSM_TDX_H
#define EBCC_TSM_TDX_H

#include <stddef.h>
#include <stdint.h>

#include "dcap.h"
#include "options.h"

#define EBCC_TDX_HEADER_SIZE EBCC_DCAP_HEADER_SIZE
#define EBCC_TDX_BODY_SIZE 584
#define EBCC_TDX_SIGNED_SIZE (EBCC_TDX_HEADER_SIZE + EBCC_TDX_BODY_SIZE)
#define EBCC_TDX_QE_REPORT_SIZE EBCC_DCAP_QE_REPORT_SIZE
#define EBCC_TDX_QUOTE_VERSION 4
#define EBCC_TDX_QUOTE_VERSION_5 5
#define EBCC_TDX_BODY_DESCRIPTOR_SIZE 6
#define EBCC_TDX_BODY_TYPE_TD10 2
#define EBCC_TDX_BODY_TYPE_TD15 3
#define EBCC_TDX_BODY15_SIZE 648
#define EBCC_TDX_ATT_KEY_ECDSA_P256 EBCC_DCAP_ATT_KEY_ECDSA_P256
#define EBCC_TDX_TEE_TYPE 0x81
#define EBCC_TDX_BODY_TD_ATTRIBUTES 120
#define EBCC_TDX_BODY_MRTD 136
#define EBCC_TDX_BODY_REPORT_DATA 520
#define EBCC_TDX_TD_ATTR_DEBUG (UINT64_C(1) << 0)
#define EBCC_TDX_MEASUREMENT_SIZE 48

/* A parsed quote: pointers into the caller's bytes. */
struct ebcc__tdx_quote {
	const uint8_t *signed_part; /* header (|| v5 type and size) || TD report: signed_len */
	size_t signed_len;
	size_t quote_len; /* the quote without the zero bytes that follow it */
	size_t padding;   /* zero bytes after the quote */
	uint16_t version, att_key_type;
	uint16_t qe_svn, pce_svn; /* header (reserved, zero, in most TDX quotes) */
	uint16_t body_type;       /* EBCC_TDX_BODY_TYPE_TD10 for v4 */
	uint32_t tee_type;
	const uint8_t *qe_vendor_id; /* 16 */
	const uint8_t *tee_tcb_svn;  /* 16 */
	const uint8_t *mrseam;       /* 48 */
	const uint8_t *mrsignerseam; /* 48 */
	uint64_t seam_attributes;
	const uint8_t *mrtd;         /* 48 */
	const uint8_t *mrconfigid, *mrowner, *mrownerconfig; /* 48 each */
	const uint8_t *rtmr[4];      /* 48 each */
	const uint8_t *tee_tcb_svn2; /* 16, TD report 1.5 only (else NULL) */
	const uint8_t *mrservicetd;  /* 48, TD report 1.5 only (else NULL) */
	const uint8_t *report_data;  /* 64 */
	uint64_t td_attributes, xfam;
	struct ebcc__dcap_sig sig; /* the signature data (dcap.h) */
};

/* Parses a whole quote of len bytes. A malformed, short or padded one fails with err and a
 * message naming the field, its offset and the size. */
int ebcc__tdx_quote_parse(const uint8_t *data, size_t len, int err, struct ebcc__tdx_quote *ret);

/*
 * Checks the signatures of a parsed quote (ebcc__dcap_verify()) with what the policy trusts:
 * a chain to tdx_root_ca, or the PCK key in trusted_keys. 0 with *ret saying whether the
 * signature is verified and how (nothing in the policy to verify it with is not an error
 * here); EBCC_ERR_VERIFY when a check fails.
 */
int ebcc__tdx_quote_verify(const struct ebcc__tdx_quote *q, const struct ebcc__tsm_policy *p,
			   struct ebcc__tsm_signature *ret);

#endif
