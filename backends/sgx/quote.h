/* SPDX-License-Identifier: MIT */
/*
 * Intel SGX DCAP ECDSA quotes, version 3 (Intel's sgx_quote_3.h, packed, little endian):
 *
 *   header       48   version 3, attestation key type 2 (ECDSA P-256), TEE type 0 (SGX),
 *                     QE SVN, PCE SVN, QE vendor id (16), user data (20)
 *   report body 384   the enclave's SGX report body (sgx_report.h; offsets below)
 *   sig. length   4   then the signature data (../tsm/dcap.h), directly: quote signature,
 *                     attestation key, QE report, its signature, QE authentication data and
 *                     the type-5 PCK chain (a TDX quote wraps the same in a type-6 item)
 *
 * Only zero bytes may follow the signature data.
 */
#ifndef EBCC_SGX_QUOTE_H
#define EBCC_SGX_QUOTE_H

#include <stddef.h>
#include <stdint.h>

#include "../tsm/dcap.h"

#define EBCC_SGX_QUOTE_VERSION 3
#define EBCC_SGX_TEE_TYPE 0
#define EBCC_SGX_REPORT_BODY_SIZE 384
#define EBCC_SGX_SIGNED_SIZE (EBCC_DCAP_HEADER_SIZE + EBCC_SGX_REPORT_BODY_SIZE)

/* Offsets in a report body (sgx_report_body_t). */
#define EBCC_SGX_BODY_CPUSVN 0
#define EBCC_SGX_BODY_MISCSELECT 16
#define EBCC_SGX_BODY_ISV_EXT_PROD_ID 32
#define EBCC_SGX_BODY_ATTRIBUTES 48 /* flags u64, xfrm u64 */
#define EBCC_SGX_BODY_MRENCLAVE 64
#define EBCC_SGX_BODY_MRSIGNER 128
#define EBCC_SGX_BODY_CONFIG_ID 192
#define EBCC_SGX_BODY_ISV_PROD_ID 256
#define EBCC_SGX_BODY_ISV_SVN 258
#define EBCC_SGX_BODY_CONFIG_SVN 260
#define EBCC_SGX_BODY_ISV_FAMILY_ID 304
#define EBCC_SGX_BODY_REPORT_DATA 320

/* ATTRIBUTES.FLAGS bits (SDM vol. 3D, "SECS": ATTRIBUTES). */
#define EBCC_SGX_FLAG_INIT (UINT64_C(1) << 0)
#define EBCC_SGX_FLAG_DEBUG (UINT64_C(1) << 1)
#define EBCC_SGX_FLAG_MODE64BIT (UINT64_C(1) << 2)
#define EBCC_SGX_FLAG_PROVISIONKEY (UINT64_C(1) << 4)
#define EBCC_SGX_FLAG_EINITTOKEN_KEY (UINT64_C(1) << 5)
#define EBCC_SGX_FLAG_KSS (UINT64_C(1) << 7)

/* A report body's fields: pointers into its 384 bytes. */
struct ebcc__sgx_report_body {
	const uint8_t *cpu_svn;         /* 16 */
	uint32_t miscselect;
	const uint8_t *isv_ext_prod_id; /* 16 */
	uint64_t flags, xfrm;
	const uint8_t *mrenclave;       /* 32 */
	const uint8_t *mrsigner;        /* 32 */
	const uint8_t *config_id;       /* 64 */
	uint16_t isv_prod_id, isv_svn, config_svn;
	const uint8_t *isv_family_id;   /* 16 */
	const uint8_t *report_data;     /* 64 */
};

void ebcc__sgx_report_body_parse(const uint8_t body[EBCC_SGX_REPORT_BODY_SIZE],
				 struct ebcc__sgx_report_body *ret);

/* A parsed quote: pointers into the caller's bytes. */
struct ebcc__sgx_quote {
	const uint8_t *signed_part; /* header || report body: EBCC_SGX_SIGNED_SIZE */
	size_t quote_len;           /* without the zero bytes that follow it */
	size_t padding;
	uint16_t version, att_key_type, qe_svn, pce_svn;
	uint32_t tee_type;
	const uint8_t *qe_vendor_id; /* 16 */
	const uint8_t *user_data;    /* 20 */
	struct ebcc__sgx_report_body body;
	struct ebcc__dcap_sig sig;
	struct ebcc__sgx_report_body qe; /* the QE report's fields */
};

/* Parses a whole quote of len bytes. A malformed, short or padded one fails with err and a
 * message naming the field, its offset and the size. */
int ebcc__sgx_quote_parse(const uint8_t *data, size_t len, int err, struct ebcc__sgx_quote *ret);

#endif
