/* SPDX-License-Identifier: MIT */
/*
 * The TEE sessions of this process. An OP-TEE session belongs to the /dev/tee0 descriptor that
 * opened it and ends when that descriptor is closed, so a warm (instance-lifetime) stage lives
 * in the process that loaded it: the session and its descriptor are kept here, keyed by host
 * table and session id (the EID), for stage_open() in the same process to find. From another
 * process stage_open() gets a handle that says where the session lives, and invocations
 * through it fail naming that process. A fork()ed child does not inherit the table's sessions
 * (the owner pid differs).
 *
 * Sessions are reference counted: the table holds one reference for a listed session, every
 * handle one. The last reference closes the session and the descriptor.
 */
#ifndef EBCC_OPTEE_SESSIONS_H
#define EBCC_OPTEE_SESSIONS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ebcc-base.h"
#include "options.h"
#include "taimage.h"
#include "teedev.h"

struct ebcc__optee_session {
	int refcount;
	bool listed;
	bool local;           /* this process opened the session (else: a handle from a ref) */
	bool closed;          /* closed by unload */
	pid_t owner;          /* the process that opened it */
	uint64_t owner_start; /* its start time, to tell a reused pid apart */
	const struct ebcc__hostops *host;
	struct ebcc__teedev dev;
	uint32_t session;
	uint32_t lifetime;
	uint64_t max_request, max_response;
	struct ebcc__optee_stage_options opts;
	struct ebcc__ta_image ta;
	char measurement[EBCC_MEASUREMENT_MAX];
	char *name; /* "stage <stage> of <instance> (TEE session N)" */
};

/* Lists s (an instance-lifetime session of this process); the table takes a reference. */
void ebcc__optee_sessions_add(struct ebcc__optee_session *s);

/* The listed session of host with that id opened by this process, with a new reference, or
 * NULL. */
struct ebcc__optee_session *ebcc__optee_sessions_find(const struct ebcc__hostops *host,
						      uint32_t session);

/* Unlists s (dropping the table's reference) if it is listed. */
void ebcc__optee_sessions_remove(struct ebcc__optee_session *s);

/* Closes the TEE session and its descriptor now (unload); later uses fail. */
int ebcc__optee_session_close(struct ebcc__optee_session *s);

struct ebcc__optee_session *ebcc__optee_session_ref(struct ebcc__optee_session *s);
void ebcc__optee_session_unref(struct ebcc__optee_session *s);

#endif
