/* SPDX-License-Identifier: MIT */
/*
 * Warm stages bound to the process that loaded them: an enclave that ends with the descriptor
 * or the address space that made it (Keystone, SGX). Such a stage is reachable from that
 * process only; stage_open() in the same process finds the loaded stage in a table of this
 * process's stages, and in any other process gets a handle that only says whose stage it is
 * (the ref: {"pid", "start_time", "eid"}), so that an invocation there fails saying so.
 *
 * A backend's stage struct starts with a struct ebcc__procbound; the last unref calls its
 * kind's free(). Thread-safe: the table has a lock, references are atomic.
 */
#ifndef EBCC_BACKEND_PROCBOUND_H
#define EBCC_BACKEND_PROCBOUND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ebcc-base.h"
#include "ebcc/backend.h"

struct ebcc__procbound;

struct ebcc__procbound_kind {
	void (*free)(struct ebcc__procbound *b);
	const char *backend; /* "sgx" */
	const char *what;    /* "SGX enclave" */
	const char *why;  /* why it is bound: "an SGX enclave lives in the address space..." */
};

struct ebcc__procbound {
	struct ebcc__procbound *next_listed;
	const struct ebcc__procbound_kind *kind;
	const void *host; /* the table's key with eid and the owner */
	uint64_t eid;
	int refcount;
	bool listed;
	bool local; /* loaded by this process (else opened from a ref) */
	bool dead;
	pid_t owner;
	uint64_t owner_start;
	char dead_reason[EBCC_ERROR_MESSAGE_MAX];
};

/* One reference, local, owned by this process. */
void ebcc__procbound_init(struct ebcc__procbound *b, const struct ebcc__procbound_kind *kind,
			  const void *host);
void ebcc__procbound_unref(struct ebcc__procbound *b);

/* Puts a loaded stage in this process's table under eid (the table holds a reference), and
 * takes it out. */
void ebcc__procbound_list(struct ebcc__procbound *b, uint64_t eid);
void ebcc__procbound_unlist(struct ebcc__procbound *b);

/*
 * For stage_open(): this process's stage of that kind, host and eid (a new reference; *ret_new
 * false), or a new handle of size bytes, zeroed but for its procbound read from ref, that
 * only says whose stage it is (*ret_new true: the caller fills the rest). Errors:
 * EBCC_ERR_NOT_FOUND without a ref or for a stage of invocation lifetime (nothing of an
 * unrecorded load survives its process), EBCC_ERR_CORRUPT (ref), EBCC_ERR_NO_MEMORY.
 */
int ebcc__procbound_open(const struct ebcc__procbound_kind *kind, const void *host,
			 const struct ebcc_backend_stage_params *params, uint64_t eid,
			 const char *ref, size_t size, struct ebcc__procbound **ret, bool *ret_new);

/* The ref of a loaded stage (malloc'ed JSON text). Errors: EBCC_ERR_NO_MEMORY. */
int ebcc__procbound_ref(const struct ebcc__procbound *b, char **ret);

/* Marks the stage dead, with the reason later invocations give. */
void ebcc__procbound_set_dead(struct ebcc__procbound *b, const char *reason);

/* 0 when this handle can invoke the stage; else EBCC_ERR_STAGE saying why (another process's
 * stage, that process gone, the stage dead), name naming the stage. */
int ebcc__procbound_usable(const struct ebcc__procbound *b, const char *name);

#endif
