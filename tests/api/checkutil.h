/* SPDX-License-Identifier: MIT */
/*
 * Consistency checks of a state root for the crash, hostile and soak tests, through the public
 * API and the files the library documents (libebcc(7)): the processes a test's composites
 * left, the published invocations of a composite and their evidence, its OCI state.
 */
#ifndef EBCC_TESTS_CHECKUTIL_H
#define EBCC_TESTS_CHECKUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ebcc/ebcc.h>

/* What identifies a test's processes: monitors (and anchors held at their gate), whose
 * descriptor 3 is their composite's directory under root; and every process whose argv[0] or
 * argv[1] is one of names (stage processes carry their stage's name as argv[0]; give the
 * anchor's program a unique argument). */
struct ours {
	const char *root;
	const char *const *names;
	size_t n_names;
};

/* Fills pids (up to max) and returns how many processes are ours. */
int ours_find(const struct ours *o, pid_t *pids, int max);
/* Polls until none is left or timeout_ms passed; returns how many are left. */
int ours_wait_gone(const struct ours *o, int timeout_ms);
/* SIGKILLs every one of them (clean-up, also after a failed test) and waits a little. */
void ours_kill(const struct ours *o);
/* Describes the processes found ("pid comm argv0 argv1; ...") into buf, for messages. */
void ours_describe(const struct ours *o, char *buf, size_t size);

/*
 * A guard process for a test's leftovers: when the test process ends in any way (a failed
 * assertion, the SIGTERM of a meson timeout, a crash), the guard kills the processes of o and
 * removes dirs (rm -rf). It runs in its own session, so that a signal to the test's process
 * group does not take it along. guard_stop() ends it after a normal clean-up. o and dirs are
 * copied (the guard is a fork).
 */
pid_t guard_start(const struct ours *o, const char *const *dirs, size_t n_dirs, int *ret_fd);
void guard_stop(pid_t guard, int fd);

/* The sim backend's attestation key as a verification policy that allows simulated
 * evidence (malloc). */
char *policy_for_sim(struct ebcc_context *ctx);

/* What check_artifacts() found for one stage. */
struct stage_seen {
	char name[65];
	size_t published;      /* complete invocation directories */
	size_t with_evidence;  /* of those, successful ones whose evidence verified */
	uint64_t max_seq;      /* the largest published seq, 0 when none */
};

/*
 * Walks <root>/<dir_name>/stages/: every visible entry of a stage directory is either the
 * library's own file (seq, invoke.lock, sockets) or a published invocation <seq>/ with exactly
 * the files its meta.json promises (meta.json, log.txt, request.bin; response.bin and
 * evidence.json when it succeeded), meta.json and evidence.json name that seq, id and stage,
 * and the evidence verifies under policy. Fails the test (cmocka) otherwise. Fills up to max
 * entries of seen; returns the number of stages.
 */
int check_artifacts(struct ebcc_context *ctx, const char *root, const char *dir_name,
		    const char *id, const char *policy, struct stage_seen *seen, int max);

/* lastSeq of ebcc_stage_info(); fails the test when the call fails. */
uint64_t stage_last_seq(struct ebcc_instance *inst, const char *stage);

/* Checks ebcc_instance_state() against the OCI state rules (runtime-spec state-schema.json
 * and runtime.md) and the status the library reports; returns the status. */
int check_oci_state(struct ebcc_instance *inst, const char *id);

/* Reads a whole file (malloc, NUL-terminated) or returns NULL. */
char *slurp(const char *path, size_t *ret_len);

#endif
