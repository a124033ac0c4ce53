/* SPDX-License-Identifier: MIT */
/*
 * SGX stages: an enclave built from the stage image (image.h) through the driver (driver.h),
 * talking to the host over libebcc's edge calls through a channel outside the enclave
 * (lib/base/sgx-edge.h), entered at the image's first TCS.
 *
 *  - instance lifetime: the enclave is built, initialized and entered at load and runs until
 *    its stage asks for the first request (NEXT); between invocations it waits there. An
 *    enclave lives in the address space of the process that mapped it, so a warm stage lives in
 *    the process that loaded it; from any other process a handle says which process that is.
 *  - invocation lifetime: every invocation builds, runs and destroys an enclave of its own.
 *    The load checks the image and the device.
 *  EID: the backend's counter (eid.h), unique under the state root (an enclave's base address
 *  is only unique in its process); each enclave's base is logged.
 *
 * The stage computes report_data, asks for the quoting enclave's TARGETINFO (TARGET) and makes
 * its REPORT with EREPORT; the host checks that the REPORT's REPORTDATA is the answer's
 * report_data and its MRENCLAVE and MRSIGNER this enclave's, then has the quoting enclave turn
 * it into a DCAP quote (qe.h), which is the invocation's report. The REPORT's MAC is for the
 * quoting enclave alone, so the host cannot forge one over other data. Anything else, an edge
 * call outside the protocol, a channel length past the channel, an enclave that ends, or a
 * deadline passed between two edge calls, ends the enclave (a warm stage is then dead). A
 * stage that never leaves the enclave is not interrupted (no AEX handling).
 */
#ifndef EBCC_SGX_STAGE_H
#define EBCC_SGX_STAGE_H

#include <stdint.h>

#include "ebcc/backend.h"
#include "hostops.h"

struct ebcc__sgx_stage;

/* Errors: EBCC_ERR_INVALID_ARG (image, options), EBCC_ERR_VERIFY (the measurement, the
 * SIGSTRUCT or its signer), EBCC_ERR_UNAVAILABLE (no driver, no quote library),
 * EBCC_ERR_PERMISSION, EBCC_ERR_BACKEND (the driver refused: EINIT's -EPERM...),
 * EBCC_ERR_STAGE (the enclave misbehaved), EBCC_ERR_NO_MEMORY, EBCC_ERR_IO. */
int ebcc__sgx_stage_load(const struct ebcc__hostops *host, const struct ebcc_backend_env *env,
			 const struct ebcc_backend_stage_params *params,
			 struct ebcc__sgx_stage **ret);

/* The stage's EID and measurement, and its ref for stage_open() (malloc'ed JSON text). */
uint64_t ebcc__sgx_stage_eid(const struct ebcc__sgx_stage *s);
const char *ebcc__sgx_stage_measurement(const struct ebcc__sgx_stage *s);
int ebcc__sgx_stage_ref(const struct ebcc__sgx_stage *s, char **ret);

/* A handle for a stage loaded earlier: this process's own, or one that names its owner. */
int ebcc__sgx_stage_open(const struct ebcc__hostops *host,
			 const struct ebcc_backend_stage_params *params, uint64_t eid,
			 const char *ref, struct ebcc__sgx_stage **ret);

int ebcc__sgx_stage_invoke(struct ebcc__sgx_stage *s, const struct ebcc_backend_env *env,
			   const struct ebcc_backend_binding *binding, const void *request,
			   size_t request_len, struct ebcc_backend_invocation *ret);

/* Drops a handle; unload also destroys the enclave. */
void ebcc__sgx_stage_close(struct ebcc__sgx_stage *s);
void ebcc__sgx_stage_unload(struct ebcc__sgx_stage *s);

#endif
