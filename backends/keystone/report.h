/* SPDX-License-Identifier: MIT */
/*
 * Keystone attestation reports, verified offline. The report is the security monitor's own
 * 1352-byte struct report (sm/src/enclave.h, identical in sdk/include/verifier/Report.hpp),
 * integers little endian:
 *
 *   enclave report  hash 64 (the enclave measurement), data_len 8, data 1024, signature 64
 *                   signed by the SM key over hash || le64(data_len) || data[0, data_len)
 *   SM report       hash 64 (the security monitor's measurement), public_key 32, signature 64
 *                   signed by the device key over hash || public_key
 *   dev_public_key  32
 *
 * Signatures are Keystone's SHA3-512 Ed25519 (sig.h). The evidence format "ebcc.keystone.v1" is
 * exactly these 1352 bytes, with data_len 64 and data the evidence's report_data; the format
 * "raw" (ebcc_report_verify) is the same bytes with any data_len up to 1024.
 */
#ifndef EBCC_KEYSTONE_REPORT_H
#define EBCC_KEYSTONE_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "ebcc/backend.h"
#include "sig.h"

#define EBCC_KEYSTONE_FORMAT "ebcc.keystone.v1"
/* The measurement's "<alg>:" in evidence: Keystone's enclave hash, not a digest of a file. */
#define EBCC_KEYSTONE_MEASUREMENT_PREFIX "keystone:"

#define EBCC_KS_ATTEST_DATA_MAX 1024
#define EBCC_KS_ENCLAVE_REPORT_SIZE 1160
#define EBCC_KS_SM_REPORT_SIZE 160
#define EBCC_KS_REPORT_SIZE 1352
#define EBCC_KS_OFF_DATA_LEN 64
#define EBCC_KS_OFF_DATA 72
#define EBCC_KS_OFF_ENCLAVE_SIG 1096
#define EBCC_KS_OFF_SM 1160
#define EBCC_KS_OFF_SM_PUBLIC_KEY 1224
#define EBCC_KS_OFF_SM_SIG 1256
#define EBCC_KS_OFF_DEV_PUBLIC_KEY 1320

/* Keystone's published development device key (sdk/include/verifier/test_dev_key.h): its
 * secret is public too, so nothing it signs has a root of trust. */
extern const uint8_t ebcc__ks_test_dev_public_key[EBCC_KS_PUBLIC_KEY_SIZE];

/* The report's fields, pointing into the caller's bytes. */
struct ebcc__ks_report {
	const uint8_t *enclave_hash; /* 64 */
	uint64_t data_len;
	const uint8_t *data;
	const uint8_t *enclave_signature;
	const uint8_t *sm_hash; /* 64 */
	const uint8_t *sm_public_key;
	const uint8_t *sm_signature;
	const uint8_t *dev_public_key;
};

/* Splits a report: exactly 1352 bytes, data_len at most 1024. Errors: EBCC_ERR_VERIFY. */
int ebcc__ks_report_parse(const uint8_t *buf, size_t len, struct ebcc__ks_report *ret);

/* The enclave report's signed message: hash || le64(data_len) || data (72 + data_len bytes,
 * into out of at least 72 + 1024). */
size_t ebcc__ks_enclave_message(const struct ebcc__ks_report *r, uint8_t *out);

/*
 * verify_report for formats "ebcc.keystone.v1" and "raw": the SM report verifies under one of
 * the trusted device keys (Ed25519 PEM public keys) and the report's dev_public_key is that key;
 * the enclave report verifies under the SM's public key; the SM hash and enclave hash are the
 * policy's pins (backend_options.keystone) or, for evidence, the enclave hash is the claimed
 * measurement; for evidence, data is report_data. 0 with the verdict (malloc), or
 * EBCC_ERR_VERIFY with the reason.
 */
int ebcc__keystone_verify(const struct ebcc_backend_report_check *check, char **ret_verdict);

#endif
