/* SPDX-License-Identifier: MIT */
/*
 * OP-TEE attestation for the optee backend: OP-TEE's attestation pseudo TA (optee_os
 * core/pta/attestation.c, UUID 39800861-182a-4720-9b67-2bcd622bc0b5) signs a digest of a TA
 * together with a nonce, here the evidence's report_data:
 *
 *   output = digest (32) || RSASSA-PSS-SHA256(SHA-256(nonce || digest)), MGF1-SHA256, salt 32
 *
 * with a device RSA key it generates on first use and keeps in OP-TEE's secure storage
 * (PTA_ATTESTATION_GET_PUBKEY returns it). Two commands give the digest:
 * PTA_ATTESTATION_GET_TA_SHDR_DIGEST (1), from the normal world, the SHA-256 in the signed
 * header of the TA file OP-TEE loads for a UUID; PTA_ATTESTATION_HASH_TA_MEMORY (2), from a TA
 * only, a hash of the calling TA's code and read-only pages as they are in memory.
 *
 * The report ("ebcc.optee.v1"), integers little endian, nothing may follow:
 *
 *   "EBOP"  magic                 4
 *   version = 1                   1
 *   kind                          1   1 ta-digest, 2 ta-memory, 3 ta-binding (not signed: a
 *                                     label; what the TA's pinned digest runs decides)
 *   reserved = 0                  2
 *   session                       4   the TEE session id, which must be the evidence's EID
 *                                     (not signed by OP-TEE; bound through report_data)
 *   digest                        32  signed
 *   sig_len, signature            2 + 256..512   over report_data || digest
 *
 * The TA's UUID is not in the report: OP-TEE does not sign it, and the signed-header digest
 * covers it (the UUID is in the bootstrap header the digest is computed over).
 */
#ifndef EBCC_OPTEE_ATTEST_H
#define EBCC_OPTEE_ATTEST_H

#include <stddef.h>
#include <stdint.h>

#include "ebcc/backend.h"
#include "options.h"
#include "teedev.h"

#define EBCC_OPTEE_FORMAT "ebcc.optee.v1"
#define EBCC_OPTEE_PTA_UUID "39800861-182a-4720-9b67-2bcd622bc0b5"
#define EBCC_PTA_ATTESTATION_GET_PUBKEY 0
#define EBCC_PTA_ATTESTATION_GET_TA_SHDR_DIGEST 1
#define EBCC_PTA_ATTESTATION_HASH_TA_MEMORY 2
#define EBCC_TEE_ALG_RSASSA_PKCS1_PSS_MGF1_SHA256 0x70414930u
#define EBCC_OPTEE_SIG_MIN 256 /* RSA-2048 */
#define EBCC_OPTEE_SIG_MAX 512 /* RSA-4096, the PTA's MAX_KEY_SIZE */

/* What the PTA signed: the digest and the signature over nonce || digest. */
struct ebcc__optee_attestation_out {
	uint8_t digest[EBCC_TA_DIGEST_SIZE];
	uint8_t signature[EBCC_OPTEE_SIG_MAX];
	size_t signature_len;
};

/* PTA_ATTESTATION_GET_TA_SHDR_DIGEST for the TA uuid, from the normal world (a PTA session on
 * d opened and closed here). */
int ebcc__optee_attest_ta_digest(struct ebcc__teedev *d, const uint8_t uuid[16],
				 const uint8_t *nonce, size_t nonce_len,
				 struct ebcc__optee_attestation_out *ret);

/* The TA's command attest_command of session, which returns what PTA_ATTESTATION_HASH_TA_MEMORY
 * gave it for the nonce. */
int ebcc__optee_attest_ta_memory(struct ebcc__teedev *d, uint32_t session,
				 uint32_t attest_command, const uint8_t *nonce, size_t nonce_len,
				 struct ebcc__optee_attestation_out *ret);

/*
 * "ta-binding": the TA's answer to an invocation made with four parameters (request in,
 * response out, the BIND payload in, and this out): report_data (64, which the TA computed with
 * ebcc_stage_report_data()) || what PTA_ATTESTATION_HASH_TA_MEMORY gave it for that nonce.
 * Splits it; EBCC_ERR_STAGE naming what is wrong.
 */
#define EBCC_OPTEE_BINDING_OUT_MAX (64 + EBCC_TA_DIGEST_SIZE + EBCC_OPTEE_SIG_MAX)
int ebcc__optee_binding_split(const uint8_t *buf, size_t len, const char *what,
			      uint8_t report_data[64], struct ebcc__optee_attestation_out *ret);

/* The PTA's public key (PTA_ATTESTATION_GET_PUBKEY) as PEM (malloc). */
int ebcc__optee_attest_public_key(struct ebcc__teedev *d, char **ret_pem);

/* The report (malloc). */
int ebcc__optee_report_encode(enum ebcc__optee_attestation kind, uint32_t session,
			      const struct ebcc__optee_attestation_out *out, uint8_t **ret,
			      size_t *ret_len);

/*
 * verify_report: the report is well formed and for the evidence's EID; its signature over
 * report_data || digest verifies with one of the trusted_keys (RSA, at least 2048 bits) — or,
 * with none given, backend_options.optee.allow_unverified_signature is true; the digest
 * matches the policy's pin. 0 with the verdict (malloc) in *ret_verdict, or
 * EBCC_ERR_VERIFY with the reason.
 */
int ebcc__optee_verify(const struct ebcc_backend_report_check *check, char **ret_verdict);

#endif
