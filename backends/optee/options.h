/* SPDX-License-Identifier: MIT */
/*
 * What the optee backend reads from a stage's manifest entry ("backendOptions") and from a
 * verifier's policy ("backend_options": {"optee": {...}}).
 *
 * backendOptions of a stage:
 *   uuid           "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", required: the TA to open a session
 *                  with; the stage image must be that TA's signed file
 *   command        the TA command that takes a request (memref input, parameter 0) and
 *                  answers (memref output, parameter 1); default 0
 *   attestation    "ta-digest" (default): OP-TEE's attestation PTA signs the TA's signed-header
 *                  digest with report_data as the nonce (PTA_ATTESTATION_GET_TA_SHDR_DIGEST,
 *                  callable from the normal world); "ta-memory": the TA's own command
 *                  attestCommand (memref input report_data, memref output) forwards report_data
 *                  to PTA_ATTESTATION_HASH_TA_MEMORY, which only a TA may call, and returns its
 *                  output: a hash of the running TA's code and read-only data
 *   attestCommand  that command's id, required with "ta-memory"
 *
 * backend_options.optee of a policy:
 *   ta_digest                   64 lowercase hex digits: the digest the report must carry
 *   allow_unverified_signature  true: accept a report no trusted key verifies (default false)
 * and the top-level trusted_keys: the RSA public key(s) of the device's attestation PTA
 * (ebcc_backend_attestation_key(ctx, "optee", ...) on the device).
 */
#ifndef EBCC_OPTEE_OPTIONS_H
#define EBCC_OPTEE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "taimage.h"

struct ebcc_backend_report_check;

#define EBCC_OPTEE_UUID_TEXT 37 /* 36 characters and a NUL */

enum ebcc__optee_attestation {
	EBCC_OPTEE_ATTEST_TA_DIGEST = 1, /* PTA_ATTESTATION_GET_TA_SHDR_DIGEST */
	EBCC_OPTEE_ATTEST_TA_MEMORY = 2, /* PTA_ATTESTATION_HASH_TA_MEMORY, through the TA */
	/* The TA binds (ebcc_stage_report_data) and calls PTA_ATTESTATION_HASH_TA_MEMORY over
	 * its own report_data within the invocation: attest.h, "ta-binding". */
	EBCC_OPTEE_ATTEST_TA_BINDING = 3,
};

struct ebcc__optee_stage_options {
	uint8_t uuid[16]; /* RFC 4122 byte order */
	uint32_t command;
	enum ebcc__optee_attestation attestation;
	uint32_t attest_command;
};

/* Parses "xxxxxxxx-xxxx-..." (either case) into RFC 4122 bytes; -1 when malformed. */
int ebcc__optee_uuid_parse(const char *text, uint8_t out[16]);
void ebcc__optee_uuid_format(const uint8_t uuid[16], char out[EBCC_OPTEE_UUID_TEXT]);
const char *ebcc__optee_attestation_name(enum ebcc__optee_attestation a);

/* Errors: EBCC_ERR_INVALID_ARG naming the stage and the key. */
int ebcc__optee_stage_options_parse(const char *json, const char *stage,
				    struct ebcc__optee_stage_options *ret);

struct ebcc__optee_policy {
	EVP_PKEY **keys; /* trusted_keys */
	size_t n_keys;
	bool has_ta_digest;
	uint8_t ta_digest[EBCC_TA_DIGEST_SIZE];
	bool allow_unverified_signature;
	/* attestation: the kind the report must have (0: any but "ta-binding") */
	enum ebcc__optee_attestation attestation;
};

/* Errors: EBCC_ERR_VERIFY naming the key, EBCC_ERR_NO_MEMORY. */
int ebcc__optee_policy_parse(const struct ebcc_backend_report_check *check,
			     struct ebcc__optee_policy *ret);
void ebcc__optee_policy_clear(struct ebcc__optee_policy *p);

#endif
