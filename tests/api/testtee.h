/* SPDX-License-Identifier: MIT */
/*
 * testtee: a backend for the evidence tests, registered with ebcc_backend_register() through
 * the public backend ABI, so that evidence can be produced and verified without any real or
 * simulated TEE. Its reports are signed with an ECDSA P-256 key the test generates.
 *
 * Report layout (all integers big-endian):
 *   offset 0   8 bytes   magic "EBCCTT01"
 *   offset 8   64 bytes  report_data
 *   offset 72  8 bytes   eid
 *   offset 80  2 bytes   n, the length of the measurement text
 *   offset 82  n bytes   measurement ("<alg>:<hex>")
 *   82 + n     64 bytes  ECDSA P-256 signature r || s (32 bytes each) over SHA-256 of
 *                        bytes 0 .. 82 + n
 * verify_report() checks every field against the claim and the signature against each of the
 * policy's trusted_keys (PEM SubjectPublicKeyInfo).
 */
#ifndef EBCC_TESTS_TESTTEE_H
#define EBCC_TESTS_TESTTEE_H

#include <stddef.h>
#include <stdint.h>

#include <ebcc/backend.h>
#include <ebcc/ebcc.h>

struct testtee;

/* A new signer with a fresh P-256 key; NULL on failure. */
struct testtee *testtee_new(void);
void testtee_free(struct testtee *tt);

/* The public key as PEM, owned by tt. */
const char *testtee_public_pem(const struct testtee *tt);

/* Registers a backend called name in ctx whose reports tt signs. name and format must outlive
 * ctx (string literals). flags: EBCC_BACKEND_* (e.g. EBCC_BACKEND_SIMULATED). */
int testtee_register(struct testtee *tt, struct ebcc_context *ctx, const char *name,
		     const char *format, uint32_t flags);

/* A report over report_data (EBCC_REPORT_DATA_SIZE bytes) for measurement and eid (malloc). */
int testtee_report(const struct testtee *tt, const uint8_t *report_data, const char *measurement,
		   uint64_t eid, uint8_t **ret_report, size_t *ret_len);

/* The policy text the last verify_report() call received (NULL if it received none), owned
 * by tt; and how many calls there were. */
const char *testtee_last_policy(const struct testtee *tt);
unsigned testtee_verify_calls(const struct testtee *tt);

#endif
