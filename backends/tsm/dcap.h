/* SPDX-License-Identifier: MIT */
/*
 * What Intel's DCAP ECDSA quotes share, whatever their TEE: the signature data that follows
 * header and body in an SGX quote v3 (backends/sgx) and a TDX quote v4/v5 (tdx.h), and its
 * checks. The signature data, all integers little endian:
 *
 *   quote signature       64  ECDSA P-256 (r || s, big endian) over header || body
 *   attestation key       64  raw P-256 public key (x || y)
 *   [TDX: certification data type 6 (2), size (4): the rest is its content]
 *   QE report            384  an SGX report body; REPORTDATA (+320) = SHA-256(attestation key
 *                             || QE authentication data) || 32 zero bytes
 *   QE report signature   64  ECDSA P-256 by the PCK key
 *   QE auth data              size (2), data
 *   certification data        type 5 (2), size (4): the PCK certificate chain in PEM (PCK
 *                             leaf, PCK platform or processor CA, root CA; NULs may follow)
 *
 * Only zero bytes may follow the signature data (quote services hand out larger buffers).
 */
#ifndef EBCC_TSM_DCAP_H
#define EBCC_TSM_DCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "options.h"

#define EBCC_DCAP_HEADER_SIZE 48
#define EBCC_DCAP_ATT_KEY_ECDSA_P256 2
#define EBCC_DCAP_QE_REPORT_SIZE 384
#define EBCC_DCAP_QE_REPORT_DATA 320
#define EBCC_DCAP_QE_REPORT_ISVPRODID 256
#define EBCC_DCAP_QE_REPORT_ISVSVN 258
#define EBCC_DCAP_CERT_PPID_CLEARTEXT 1
#define EBCC_DCAP_CERT_PCK_CHAIN 5
#define EBCC_DCAP_CERT_QE_REPORT 6

/* A cursor over a quote with bounds checks that name the field; what names the quote ("TDX
 * quote", "SGX quote") in messages, err is the error code of a malformed one. */
struct ebcc__dcap_cursor {
	const uint8_t *data;
	size_t len, pos;
	int err;
	const char *what;
};

int ebcc__dcap_take(struct ebcc__dcap_cursor *c, size_t n, const char *field,
		    const uint8_t **ret);
int ebcc__dcap_take_u16(struct ebcc__dcap_cursor *c, const char *field, uint16_t *ret);
int ebcc__dcap_take_u32(struct ebcc__dcap_cursor *c, const char *field, uint32_t *ret);

/* The signature data's parts: pointers into the quote. */
struct ebcc__dcap_sig {
	const uint8_t *signature; /* 64 */
	const uint8_t *att_key;   /* 64 */
	const uint8_t *qe_report; /* 384 */
	uint16_t qe_report_isvprodid, qe_report_isvsvn; /* the QE's product id and SVN */
	const uint8_t *qe_report_signature; /* 64 */
	const uint8_t *qe_auth;
	size_t qe_auth_len;
	const uint8_t *pck_chain; /* PEM */
	size_t pck_chain_len;
};

/*
 * Reads the signature data length at the cursor and drops the zero padding after the signature
 * data (the cursor then ends with it): *ret_padding is how many bytes were dropped. A length
 * beyond the end, or a non-zero byte after it, fails naming both.
 */
int ebcc__dcap_signature_length(struct ebcc__dcap_cursor *c, size_t *ret_padding);

/* The quote signature and attestation key at the cursor. */
int ebcc__dcap_sig_keys(struct ebcc__dcap_cursor *c, struct ebcc__dcap_sig *s);

/* From the QE report to the end of the cursor: QE report, its signature, QE authentication
 * data and a type-5 certification data that fills the rest, in PEM as Intel serves it. */
int ebcc__dcap_qe_part(struct ebcc__dcap_cursor *c, struct ebcc__dcap_sig *s);

/* What the policy trusts a PCK certificate with: a chain to roots (NULL: none) at *at (NULL:
 * now), or its key among keys. root_option names where roots come from in messages
 * ("backend_options.tsm.tdx_root_ca"). */
struct ebcc__dcap_trust {
	STACK_OF(X509) *roots;
	EVP_PKEY *const *keys;
	size_t n_keys;
	const int64_t *at;
	const char *root_option;
};

/*
 * Checks the signatures: the QE report by the PCK certificate the quote carries, the QE
 * report's binding of the attestation key, the quote (signed_part, signed_len bytes) by the
 * attestation key; then whether the trust vouches for the PCK certificate. 0 with *ret saying
 * whether the signature is verified and how (nothing to verify it with is not an error here);
 * EBCC_ERR_VERIFY when a check fails. *ret_chain, unless NULL, is the PCK chain as parsed
 * (free with ebcc__x509_list_free()).
 */
int ebcc__dcap_verify(const char *what, const uint8_t *signed_part, size_t signed_len,
		      const struct ebcc__dcap_sig *s, const struct ebcc__dcap_trust *t,
		      struct ebcc__tsm_signature *ret, STACK_OF(X509) **ret_chain);

#endif
