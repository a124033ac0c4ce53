/* SPDX-License-Identifier: MIT */
/*
 * Keystone stages: an eapp in an enclave of its own, created from the three files of the stage
 * image (image.h) through the driver (driver.h), talking to the host through edge calls
 * (lib/base/keystone-edge.h).
 *
 *  - instance lifetime: the enclave is created, filled, finalized and run at load until the
 *    eapp asks for its first request (NEXT); between invocations it stays stopped in an edge
 *    call. EID = the driver's enclave id. Keystone ends an enclave with the descriptor of
 *    /dev/keystone_enclave that created it (the driver's release), so a warm stage lives in
 *    the process that loaded it; from any other process a handle says which process that is.
 *  - invocation lifetime: every invocation creates, runs and destroys an enclave of its own
 *    (an enclave runs once: RUN a second time is NOT_FRESH). The load checks the image and the
 *    device and takes an EID from the backend's counter (eid.h), as no enclave lives between
 *    invocations; each invocation's driver id is logged.
 *
 * The eapp computes report_data and calls attest_enclave itself; the host only checks what
 * comes back: exactly one REPORT of report_data and the SM's 1352-byte report whose data is
 * that report_data and whose enclave hash is the image's measurement, then one RESPONSE within
 * maxResponse. Anything else, an edge call outside the protocol or outside the UTM, an eapp
 * that exits, or a deadline passed, ends the enclave (a warm stage is then dead).
 */
#ifndef EBCC_KEYSTONE_STAGE_H
#define EBCC_KEYSTONE_STAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ebcc/backend.h"
#include "driver.h"
#include "image.h"

/* The driver allocates the UTM from the buddy allocator: at most order 10, 4 MiB. */
#define EBCC_KS_UTM_MAX ((uint64_t)4 << 20)

struct ebcc__ks_stage;

/* Errors: EBCC_ERR_INVALID_ARG (image, options, limits), EBCC_ERR_UNAVAILABLE (no driver),
 * EBCC_ERR_NO_MEMORY, EBCC_ERR_STAGE (the SM refused, the eapp misbehaved), EBCC_ERR_IO. */
int ebcc__ks_stage_load(const struct ebcc__hostops *host, const struct ebcc_backend_env *env,
			const struct ebcc_backend_stage_params *params,
			struct ebcc__ks_stage **ret);

/* The stage's EID and measurement, and its ref for stage_open() (malloc'ed JSON text). */
uint64_t ebcc__ks_stage_eid(const struct ebcc__ks_stage *s);
const char *ebcc__ks_stage_measurement(const struct ebcc__ks_stage *s);
int ebcc__ks_stage_ref(const struct ebcc__ks_stage *s, char **ret);

/* A handle for a stage loaded earlier: this process's own, or one that names its owner. */
int ebcc__ks_stage_open(const struct ebcc__hostops *host,
			const struct ebcc_backend_stage_params *params, uint64_t eid,
			const char *ref, struct ebcc__ks_stage **ret);

int ebcc__ks_stage_invoke(struct ebcc__ks_stage *s, const struct ebcc_backend_env *env,
			  const struct ebcc_backend_binding *binding, const void *request,
			  size_t request_len, struct ebcc_backend_invocation *ret);

/* Drops a handle; unload also destroys the enclave. */
void ebcc__ks_stage_close(struct ebcc__ks_stage *s);
int ebcc__ks_stage_unload(struct ebcc__ks_stage *s);

#endif
