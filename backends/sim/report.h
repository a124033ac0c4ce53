/* SPDX-License-Identifier: MIT */
/*
 * The sim backend's reports: signed with a simulated device key (ECDSA P-256) that lives in the
 * backend's data directory under the state root. There is no hardware root of trust: whoever
 * can read the key file can forge reports, and verifiers must say so (simulated: true).
 *
 * Report bytes (all integers little endian; trailing bytes are refused):
 *
 *   "EBSR"  magic               4
 *   version = 1                 1
 *   reserved = 0                1
 *   format_len, format          2 + <= 64
 *   measurement_len, measurement 2 + <= 128
 *   eid                         8
 *   report_data_len, report_data 2 + 1..64
 *   key_id                      32   SHA-256 of the signing key's DER SubjectPublicKeyInfo
 *   sig_len, signature          2 + <= 80   DER ECDSA-with-SHA-256
 *
 * The signature covers a canonical encoding in which every field is a 4-byte length followed
 * by its bytes: "EBCC-SIM-REPORT-V1", format, measurement, eid (8 bytes), report_data, key_id.
 */
#ifndef EBCC_SIM_REPORT_H
#define EBCC_SIM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ebcc/backend.h"

#define EBCC_SIM_FORMAT "ebcc.sim.v1"
#define EBCC_SIM_DEVICE_KEY_FILE "device-key.pem"
#define EBCC_SIM_DEVICE_KEY_LOCK "device-key.lock"
#define EBCC_SIM_REPORT_DATA_MAX 64

/* The public half of the device key as PEM (malloc), creating the key on first use. */
int ebcc__sim_key_public_pem(int data_dir_fd, bool durable, char **ret_pem);

/* A report over {format, measurement, eid, report_data} (malloc). */
int ebcc__sim_report_sign(int data_dir_fd, bool durable, const char *measurement, uint64_t eid,
			  const uint8_t *report_data, size_t report_data_len, uint8_t **ret_report,
			  size_t *ret_len);

/*
 * Checks a report against what the evidence claims and the trusted keys. 0 when it holds,
 * with a verdict JSON object (malloc) in *ret_verdict; EBCC_ERR_VERIFY with the reason in the
 * last-error message otherwise; EBCC_ERR_NO_MEMORY.
 */
int ebcc__sim_report_verify(const struct ebcc_backend_report_check *check, char **ret_verdict);

#endif
