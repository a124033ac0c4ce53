/* SPDX-License-Identifier: MIT */
/*
 * Stages that are sandboxed processes, the way the sim backend (a software TEE) and the tsm
 * backend (inside a confidential VM) run them: a static executable sealed, measured (SHA-256)
 * and executed from that very descriptor in a sandbox (sandbox.c), reached over the frame
 * channel (channel.c), with an EID from the backend's persistent counter (eid.c). An
 * instance-lifetime stage listens on a socket in its stage directory and outlives the loading
 * process; an invocation-lifetime stage is a child on a socketpair, stopped with its handle.
 *
 * The functions set this thread's last error message and return EBCC_ERR_* codes; the backend
 * hands the message to the core (ebcc__env_fail()). Reports are the backend's business.
 */
#ifndef EBCC_BACKEND_PROCSTAGE_H
#define EBCC_BACKEND_PROCSTAGE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ebcc/backend.h"

struct json_object;
struct ebcc__procstage;

/* What differs between the backends that run process stages. */
struct ebcc__procstage_kind {
	const char *backend; /* the backend's name, for messages */
	const char *socket;  /* the instance stage's socket in its stage directory, e.g. "sim.sock" */
	/* Optional: starts the stage's own attestation primitive for the image measured (sim:
	 * its security monitor) and gives the stage's end, which becomes its descriptor 4. With
	 * detach false (a per-invocation stage) the primitive's process is a child of ours, in
	 * *ret_pid, which is reaped once the stage has been stopped; else *ret_pid is 0. */
	int (*attest_start)(const struct ebcc_backend_env *env, const char *measurement,
			    uint64_t eid, bool detach, int *ret_stage_end, pid_t *ret_pid);
	/* Optional: checks the report a stage sent with an answer before anything is handed
	 * back (sim: that its monitor made it for this stage and answer); an error fails the
	 * invocation, keeping only the log. */
	int (*report_check)(const struct ebcc_backend_env *env, const struct ebcc__procstage *s,
			    const uint8_t *report_data, const uint8_t *report, size_t report_len);
};

/* Checks params, takes an EID and starts the stage. */
int ebcc__procstage_load(const struct ebcc__procstage_kind *kind,
			 const struct ebcc_backend_env *env,
			 const struct ebcc_backend_stage_params *params,
			 struct ebcc__procstage **ret);

/* Reattaches to an instance stage loaded earlier (its ref, see ebcc__procstage_ref()); with
 * ref NULL, to the one its pid record in the stage directory names (EBCC_ERR_NOT_FOUND when
 * there is none): a stage whose load died before the core recorded it. */
int ebcc__procstage_open(const struct ebcc__procstage_kind *kind,
			 const struct ebcc_backend_env *env,
			 const struct ebcc_backend_stage_params *params, uint64_t eid,
			 const char *ref, struct ebcc__procstage **ret);

/* The stage's ref: {"pid", "start_time", "measurement", "socket"} (malloc). */
int ebcc__procstage_ref(const struct ebcc__procstage *s, char **ret);

/* Adds "sandbox" (what isolation was achieved) and "pid" to obj. EBCC_ERR_NO_MEMORY. */
int ebcc__procstage_isolation_add(const struct ebcc__procstage *s, struct json_object *obj);

/* One request (see the stage_invoke callback of backend.h for the contract). */
int ebcc__procstage_invoke(const struct ebcc_backend_env *env, struct ebcc__procstage *s,
			   const struct ebcc_backend_binding *binding, const void *request,
			   size_t request_len, struct ebcc_backend_invocation *ret);

const char *ebcc__procstage_measurement(const struct ebcc__procstage *s);
uint64_t ebcc__procstage_eid(const struct ebcc__procstage *s);
/* "stage <name> of <instance> (eid N)", for messages. */
const char *ebcc__procstage_name(const struct ebcc__procstage *s);

/* Releases the handle; a per-invocation stage (our child) is stopped with it. */
void ebcc__procstage_close(struct ebcc__procstage *s);

/* Stops the stage for good and releases the handle. */
void ebcc__procstage_unload(struct ebcc__procstage *s);

/* Hands a loaded stage to the core in env's allocations: its EID, measurement, ref, and the
 * isolation report made of the backend's facts in isolation (taken; NULL means out of memory)
 * and the sandbox's. On failure the stage is unloaded and the error goes through
 * ebcc__env_fail(). */
int ebcc__procstage_publish(const struct ebcc_backend_env *env, struct ebcc__procstage *s,
			    struct json_object *isolation, struct ebcc_backend_stage *ret_stage);

/* The measure_image callback of such a backend: "sha256:" and the image's SHA-256, as the
 * core's default, but taken from the sealed copy this process's loads made of the same version
 * of the file when there is one (ebcc__image_measure()), so that a runtime creating many
 * composites from one image does not hash it for each. */
int ebcc__procstage_measure_image(const struct ebcc_backend_env *env, int image_fd,
				  const char *what, char **ret_measurement, void *userdata);

/* The stage_invoke, stage_close and stage_unload callbacks of such a backend. */
int ebcc__procstage_stage_invoke(const struct ebcc_backend_env *env, void *handle,
				 const struct ebcc_backend_binding *binding, const void *request,
				 size_t request_len, struct ebcc_backend_invocation *ret,
				 void *userdata);
void ebcc__procstage_stage_close(void *handle, void *userdata);
int ebcc__procstage_stage_unload(const struct ebcc_backend_env *env, void *handle, void *userdata);

#endif
