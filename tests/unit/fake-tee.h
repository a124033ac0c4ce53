/* SPDX-License-Identifier: MIT */
/*
 * A fake /dev/tee0, for tests only: host operations (backends/common/hostops.h) that answer the
 * Linux TEE subsystem's ioctls (<linux/tee.h>: the same numbers and structures) the way the
 * kernel's tee core and an OP-TEE driver do, with a scripted echo TA and OP-TEE's attestation
 * PTA behind them.
 *
 * Kernel side: open("/dev/tee0") (ENOENT without a device), TEE_IOC_VERSION, TEE_IOC_SHM_ALLOC
 * (flags must be 0, the size > 0; returns a descriptor to mmap: a real memfd here),
 * TEE_IOC_OPEN_SESSION / TEE_IOC_INVOKE (buf_len must be exactly the header and num_params
 * parameters, at most TEE_MAX_ARG_SIZE; a memref must name shared memory of the same
 * descriptor and lie within it; a session must belong to the descriptor: else EINVAL),
 * TEE_IOC_CLOSE_SESSION, unknown ioctls ENOTTY; closing the descriptor ends its sessions.
 *
 * TEE side: TAs installed by UUID (fake_tee_install()); a session to an unknown UUID answers
 * TEEC_ERROR_ITEM_NOT_FOUND from the TEE. The echo TA's command 0 takes (memref input, memref
 * output) and answers with the input, or by its content: "panic" kills the TA
 * (TEEC_ERROR_TARGET_DEAD from the TEE, then and for every later call on the session),
 * "busy" is TEEC_ERROR_BUSY from the TEE, "fail" TEEC_ERROR_BAD_PARAMETERS from the TA,
 * "grow:N" an answer of N bytes (TEEC_ERROR_SHORT_BUFFER with the size needed when the output
 * is smaller). Command FAKE_TEE_CMD_ATTEST forwards its input to
 * PTA_ATTESTATION_HASH_TA_MEMORY and answers with the PTA's output. Command FAKE_TEE_CMD_BIND
 * is a TA built with libebcc-stage's binding: (request in, response out, BIND in, binding out)
 * echoes, computes report_data with ebcc_stage_report_data() and answers report_data ||
 * what HASH_TA_MEMORY signed for it. The attestation PTA
 * (39800861-182a-4720-9b67-2bcd622bc0b5) implements GET_PUBKEY, GET_TA_SHDR_DIGEST and
 * HASH_TA_MEMORY (TEEC_ERROR_ACCESS_DENIED unless a TA calls it) with an RSA-2048 key made
 * for the test run, parameter checks and TEEC_ERROR_SHORT_BUFFER as optee_os does.
 */
#ifndef EBCC_TEST_FAKE_TEE_H
#define EBCC_TEST_FAKE_TEE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../backends/common/hostops.h"

#define FAKE_TEE_CMD_ECHO 0
#define FAKE_TEE_CMD_ATTEST 0x100
#define FAKE_TEE_CMD_BIND 0x200

struct fake_tee_faults {
	bool no_device;        /* open("/dev/tee0"): ENOENT */
	int open_errno;        /* open("/dev/tee0") fails with it (EACCES...) */
	uint32_t impl_id;      /* TEE_IOC_VERSION's implementation (0: TEE_IMPL_ID_OPTEE) */
	bool busy_open;        /* opening a TA session: TEEC_ERROR_BUSY from the TEE */
	bool no_pta;           /* OP-TEE without the attestation PTA */
	int shm_errno;         /* TEE_IOC_SHM_ALLOC fails with it */
};

struct fake_tee;

struct fake_tee *fake_tee_new(void);
void fake_tee_free(struct fake_tee *t);

const struct ebcc__hostops *fake_tee_host(struct fake_tee *t);
struct fake_tee_faults *fake_tee_faults(struct fake_tee *t);

/* Installs the echo TA under uuid (RFC 4122 bytes) with the signed-header digest OP-TEE would
 * report for it. */
void fake_tee_install(struct fake_tee *t, const uint8_t uuid[16], const uint8_t digest[32]);

/* Uninstalls every TA and clears the faults (the PTA keeps its key). */
void fake_tee_reset(struct fake_tee *t);

/* A signed-TA file (bootstrap TA) for uuid around payload (malloc), as sign_encrypt.py lays it
 * out, and its signed-header digest. */
size_t fake_tee_ta_file(const uint8_t uuid[16], const char *payload, uint8_t **ret,
			uint8_t digest[32]);

/* The hash HASH_TA_MEMORY reports for the TA uuid. */
void fake_tee_memory_hash(const uint8_t uuid[16], uint8_t out[32]);

/* The attestation PTA's public key (PEM, owned by t). */
const char *fake_tee_pubkey_pem(struct fake_tee *t);

/* Counters: descriptors of /dev/tee0 open, sessions open, shared memory objects alive, opens
 * without O_CLOEXEC. */
unsigned fake_tee_open_contexts(struct fake_tee *t);
unsigned fake_tee_open_sessions(struct fake_tee *t);
unsigned fake_tee_shm_alive(struct fake_tee *t);
unsigned fake_tee_opens_without_cloexec(struct fake_tee *t);

#endif
