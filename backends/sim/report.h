/* SPDX-License-Identifier: MIT */
/*
 * The sim backend's reports: made by the simulated security monitor (monitor.c) for the stage
 * that asks, signed with a simulated device key (Ed25519) that lives in the backend's data
 * directory under the state root. There is no hardware root of trust: whoever can read the key
 * file can forge reports, and verifiers must say so (simulated: true).
 *
 * Report bytes (all integers little endian; trailing bytes are refused):
 *
 *   "EBSR"  magic               4
 *   version = 2                 1   (1: ECDSA P-256, made by libebcc 0.1; still verified)
 *   reserved = 0                1
 *   format_len, format          2 + <= 64
 *   measurement_len, measurement 2 + <= 128
 *   eid                         8
 *   report_data_len, report_data 2 + 1..64
 *   key_id                      32   SHA-256 of the signing key's DER SubjectPublicKeyInfo
 *   sig_len, signature          2 + 64   Ed25519 (version 1: <= 80, DER ECDSA-with-SHA-256)
 *
 * The signature covers a canonical encoding in which every field is a 4-byte length followed
 * by its bytes: "EBCC-SIM-REPORT-V2" ("-V1" for version 1), format, measurement, eid (8
 * bytes), report_data, key_id.
 */
#ifndef EBCC_SIM_REPORT_H
#define EBCC_SIM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ebcc/backend.h"

#define EBCC_SIM_FORMAT "ebcc.sim.v1"
/* The Ed25519 key of reports of version 2. The P-256 key of 0.1, device-key.pem, is no longer
 * read. */
#define EBCC_SIM_DEVICE_KEY_FILE "device-key-ed25519.pem"
#define EBCC_SIM_DEVICE_KEY_LOCK "device-key.lock"
#define EBCC_SIM_REPORT_DATA_MAX 64
#define EBCC_SIM_MEASUREMENT_MAX 128

/* The public half of the device key as PEM (malloc), creating the key on first use. */
int ebcc__sim_key_public_pem(int data_dir_fd, bool durable, char **ret_pem);

/* The device key's id (SHA-256 of its DER SubjectPublicKeyInfo), creating it on first use. */
int ebcc__sim_key_id(int data_dir_fd, bool durable, uint8_t ret[32]);

/* What the security monitor of one stage holds: the device key's signing secret and id, and
 * the measurement and EID of the stage it loaded. */
struct ebcc__sim_signer {
	uint8_t secret[64]; /* libsodium's Ed25519 secret key: seed, then public key */
	uint8_t key_id[32];
	char measurement[EBCC_SIM_MEASUREMENT_MAX + 1];
	uint64_t eid;
};

/* Fills s from the device key (created on first use). Clear it with ebcc__sim_signer_clear. */
int ebcc__sim_signer_init(int data_dir_fd, bool durable, const char *measurement, uint64_t eid,
			  struct ebcc__sim_signer *ret);
void ebcc__sim_signer_clear(struct ebcc__sim_signer *s);

/*
 * The report over {format, measurement, eid, report_data} into out (cap bytes): its length, or
 * 0 when report_data is empty or longer than 64 bytes, or out is too small. Allocates nothing,
 * takes no lock, sets no error: it runs in the monitor, a process forked from the embedder.
 */
size_t ebcc__sim_report_make(const struct ebcc__sim_signer *s, const uint8_t *report_data,
			     size_t report_data_len, uint8_t *out, size_t cap);

/*
 * The host's check of a report a stage returned: a version 2 report of this format, for this
 * measurement, EID and report_data, naming the device key key_id. The signature is left to
 * verifiers (ebcc__sim_report_verify). EBCC_ERR_STAGE with the reason when it does not hold.
 */
int ebcc__sim_report_check(const uint8_t *report, size_t report_len, const char *measurement,
			   uint64_t eid, const uint8_t *report_data, size_t report_data_len,
			   const uint8_t key_id[32]);

/*
 * Checks a report against what the evidence claims and the trusted keys. 0 when it holds,
 * with a verdict JSON object (malloc) in *ret_verdict; EBCC_ERR_VERIFY with the reason in the
 * last-error message otherwise; EBCC_ERR_NO_MEMORY.
 */
int ebcc__sim_report_verify(const struct ebcc_backend_report_check *check, char **ret_verdict);

#endif
