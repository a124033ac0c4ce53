/* SPDX-License-Identifier: MIT */
/*
 * Sandboxed stage processes: a stage image executed from a descriptor in new namespaces (where
 * the kernel allows), with no_new_privs, no capabilities, a seccomp allow-list, resource limits,
 * an empty environment and no descriptor but its channel. Generic: any backend that runs stages
 * as processes (sim, or tsm inside a confidential VM) uses it.
 *
 * After fork() the child runs only async-signal-safe code prepared by the parent (the seccomp
 * program is compiled before the fork), so the embedder may have other threads. The library
 * never calls waitpid(-1): only this module's own children are reaped, by pid.
 */
#ifndef EBCC_BACKEND_SANDBOX_H
#define EBCC_BACKEND_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "spawn.h"

struct json_object;
struct ebcc__sandbox_pool;

/* Where the stage finds what the sandbox hands it. */
#define EBCC_SANDBOX_CHANNEL_FD 3 /* = EBCC_STAGE_CHANNEL_FD */
#define EBCC_SANDBOX_ATTEST_FD 4  /* = EBCC_ATTEST_FD (lib/base/frame.h) */

struct ebcc__sandbox_spec {
	int image_fd;           /* the executable, run with execveat(fd, "", AT_EMPTY_PATH) */
	int channel_fd;         /* becomes descriptor 3 of the stage */
	bool channel_listening; /* a listening socket: the stage may accept() on it */
	bool attest;            /* attest_fd becomes descriptor 4: the stage's own TEE primitive */
	int attest_fd;
	bool detach;            /* outlive this process (double fork); else a child to reap */
	const char *argv0;      /* argv[0] of the stage */
	uint32_t memory_mib;    /* RLIMIT_AS; 0: none */
	uint32_t cpu_seconds;   /* RLIMIT_CPU (soft = hard: SIGKILL); 0: none */
	uint32_t max_files;     /* RLIMIT_NOFILE, at least 8; 0: 64 */
	/* detach only, optional: the launcher writes "<pid> <start time>\n" to this file in
	 * pid_record_dir_fd before it lets the stage run, so that no stage ever runs unrecorded,
	 * not even when the loading process dies before it could record the stage itself. */
	int pid_record_dir_fd;
	const char *pid_record;
	/* Not detach only, optional: take a sandbox made beforehand from this pool
	 * (sandbox-pool.h) when it has one for this plan; else the stage is spawned as usual. */
	struct ebcc__sandbox_pool *pool;
};

/* What the sandbox achieved for a stage (or, from ebcc__sandbox_probe(), can achieve). */
struct ebcc__sandbox_isolation {
	bool user_ns, pid_ns, net_ns, ipc_ns, mount_ns;
	bool net_ns_shared; /* one empty network namespace shared by the stages of this process */
	bool no_new_privs;
	bool seccomp;
	bool caps_dropped;
};

struct ebcc__sandbox_proc {
	pid_t pid;           /* in this process's pid namespace */
	uint64_t start_time; /* /proc/<pid>/stat field 22: tells a recycled pid apart */
	bool child;          /* a child of this process, reaped by ebcc__sandbox_reap() */
	bool reaped;
	int status;          /* wait status once reaped; -1 when the embedder reaped it */
	struct ebcc__sandbox_isolation isolation;
};

/*
 * Tries, in a throw-away child, what isolation this host allows. Returns 1 when stages can be
 * sandboxed (seccomp works), 0 when not (reason filled), < 0 on a local failure.
 */
int ebcc__sandbox_probe(struct ebcc__sandbox_isolation *ret, char *reason, size_t reason_size);

/*
 * Starts a stage. Returns once the image has been executed (or failed to be: that failure is
 * the error, with the step and errno in the message). Namespaces fall back step by step: all of
 * user, pid, net, ipc, mount; then the same without a user namespace (root); then none.
 * Errors: EBCC_ERR_STAGE (exec failed), EBCC_ERR_BACKEND (the sandbox could not be set up),
 * EBCC_ERR_NO_MEMORY, EBCC_ERR_IO.
 */
int ebcc__sandbox_spawn(const struct ebcc__sandbox_spec *spec, struct ebcc__sandbox_proc *ret);

/* Waits for a child of ours by pid (EINTR retried); its wait status in *ret_status if not
 * NULL. */
void ebcc__sandbox_wait_pid(pid_t pid, int *ret_status);

/* Whether the process still runs (a child is polled with waitpid(pid, WNOHANG)). */
bool ebcc__sandbox_alive(struct ebcc__sandbox_proc *p);

/* Whether the process has exited or is exiting (the kernel's PF_EXITING): after the stage
 * hung up, this tells a dying stage from one that closed its channel and runs on. */
bool ebcc__sandbox_exiting(struct ebcc__sandbox_proc *p);

/* For a process that is exiting: a child is reaped (its status recorded), another process
 * is waited for (at most 5 s). */
void ebcc__sandbox_wait(struct ebcc__sandbox_proc *p);

/* SIGKILLs the process if it is still the one started (pid and start time, checked through a
 * pidfd so that a recycled pid is never signalled) and waits until it has exited: a child is
 * reaped, another process is waited for (at most 5 s). Safe to call more than once. */
void ebcc__sandbox_kill(struct ebcc__sandbox_proc *p);

/* The same for a child that ran in a pooled sandbox, without waiting for it to exit: pool
 * reaps it later (ebcc__sandbox_pool_adopt()); its status is then not known. */
void ebcc__sandbox_kill_adopted(struct ebcc__sandbox_proc *p, struct ebcc__sandbox_pool *pool);

/* A child only: waits for it to exit (blocking) and records its status. */
int ebcc__sandbox_reap(struct ebcc__sandbox_proc *p);

/* "exited with status 3", "killed by SIGSYS (a system call the sandbox forbids)", ... */
void ebcc__sandbox_status_text(int status, char *buf, size_t size);

/* {"user_ns": true, ..., "seccomp": true} as a new json-c object, or NULL without memory. */
struct json_object *ebcc__sandbox_isolation_json(const struct ebcc__sandbox_isolation *iso);

#endif
