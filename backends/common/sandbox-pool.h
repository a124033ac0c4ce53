/* SPDX-License-Identifier: MIT */
/*
 * A pool of pre-warmed sandboxes for per-invocation stages: children that already have their
 * namespaces (user and uid maps, pid, IPC, mount, network), their signals reset, their session
 * and their parent-death signal, hold nothing of the embedder's but /dev/null, and wait, parked,
 * for a stage. Handing one a stage sends it the sealed image, the channel and the attestation
 * descriptor; it then arranges its descriptors, sets its limits, drops its capabilities, sets
 * no_new_privs, loads the seccomp program compiled beforehand and executes that very image
 * descriptor, exactly as a sandbox spawned on the spot does (sandbox-launch.c runs the same
 * code for both), and the exec is confirmed the same way (end of file on its status pipe).
 * Each pooled sandbox runs exactly one stage and is never reused.
 *
 * A zygote, a small process forked once per pool, refills it in the background (see
 * sandbox-pool.c for why a process and not a thread), so that the time to make a sandbox is
 * spent between invocations, not in them, and not in the embedder's address space; it refills
 * only after a sandbox was asked for and stops once one has sat idle longer than the idle
 * limit (the pool then empties and fills again on the next demand). All functions are
 * thread-safe (one lock): any thread may spawn from a pool while another configures it. In a
 * child of a fork() of the embedder the pool is never used (its processes are the parent's
 * children): the pool checks its owner's pid.
 */
#ifndef EBCC_BACKEND_SANDBOX_POOL_H
#define EBCC_BACKEND_SANDBOX_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ebcc__sandbox_pool;
struct ebcc__sandbox_spec;
struct plan;
struct ebcc__spawn_record;

#define EBCC_SANDBOX_POOL_MAX 32
#define EBCC_SANDBOX_POOL_IDLE_DEFAULT_MS 10000
#define EBCC_SANDBOX_POOL_IDLE_MAX_MS 3600000

/* size: sandboxes kept ready (0..EBCC_SANDBOX_POOL_MAX; 0: none, the pool only reaps what it
 * adopts); idle_ms: how long one may wait unused before it is ended. Nothing is started before
 * the first spawn from the pool.
 * Errors: EBCC_ERR_INVALID_ARG, EBCC_ERR_NO_MEMORY. */
int ebcc__sandbox_pool_new(unsigned size, unsigned idle_ms, struct ebcc__sandbox_pool **ret);

/* New limits (size 0: keep none), applied by the pool's zygote. */
void ebcc__sandbox_pool_configure(struct ebcc__sandbox_pool *pool, unsigned size,
				  unsigned idle_ms);

/* Stops the pool's zygote and thread and ends and reaps every process it holds. NULL is
 * ignored. */
void ebcc__sandbox_pool_free(struct ebcc__sandbox_pool *pool);

struct ebcc__sandbox_pool_stats {
	uint64_t hits;    /* stages that ran in a pooled sandbox */
	uint64_t misses;  /* spawns the pool had no sandbox for */
	uint64_t made;    /* sandboxes the pool made */
	uint64_t expired; /* ended unused, after the idle limit or a smaller size */
	unsigned ready;   /* parked now */
	uint64_t helper_hits, helper_misses;
	unsigned helpers_ready;
};
void ebcc__sandbox_pool_stats(struct ebcc__sandbox_pool *pool,
			      struct ebcc__sandbox_pool_stats *ret);

/*
 * Parked helpers: plain children (no sandbox) forked beforehand by the pool's zygote, for the
 * process a backend starts beside each per-invocation stage (sim: its security monitor), so
 * that its fork is out of the invocation too. A parked helper blocks every signal, holds only
 * /dev/null and its socket, and has SIGKILL as its parent-death signal until it is handed
 * work: then it takes the payload and the descriptor, clears its parent-death signal and
 * calls fn(payload, len, fd), which must not return and may run only async-signal-safe code
 * (the helper is a fork of a process that may have other threads). fn is an address in this
 * very program: the helper is a fork of it.
 */
#define EBCC_SANDBOX_HELPER_PAYLOAD_MAX 512
typedef void (*ebcc__sandbox_helper_fn)(const void *payload, size_t len, int fd);

/* 1 and *ret_pid (a child of this process, to reap) when a parked helper took the work; 0
 * when the pool had none (fork one yourself). The pool keeps as many helpers as sandboxes once
 * one was asked for. */
int ebcc__sandbox_pool_helper(struct ebcc__sandbox_pool *pool, ebcc__sandbox_helper_fn fn,
			      const void *payload, size_t len, int fd, pid_t *ret_pid);

/* Takes over reaping a child of this process that was killed or is ending (a per-invocation
 * stage that ran in a pooled sandbox, its monitor), so that the call that stopped it does not
 * wait for its exit: it is reaped, by pid, at the pool's next use or when the pool is freed.
 * false: reap it yourself (a child of a fork(), or too many waiting). */
bool ebcc__sandbox_pool_adopt(struct ebcc__sandbox_pool *pool, pid_t pid);

/* sandbox.c: runs the plan's stage in a pooled sandbox made for the same plan. 1 with *ret_pid
 * and *ret_level; 0 when the pool has none (spawn it on the spot); -1 with *fail when the
 * sandbox failed at a step after it was handed the stage (the exec, a limit). */
int ebcc__sandbox_pool_spawn(struct ebcc__sandbox_pool *pool, const struct plan *p,
			     const struct ebcc__sandbox_spec *spec, pid_t *ret_pid, int *ret_level,
			     struct ebcc__spawn_record *fail);

#endif
