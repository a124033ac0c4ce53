/* SPDX-License-Identifier: MIT */
/*
 * How the library makes a child that runs a program, every time (the REE anchor and its monitor,
 * a stage's sandbox, the pool's zygote and parked sandboxes, sim's monitor): a raw clone, no
 * atfork handlers, and from then until its exec only async-signal-safe system calls, because
 * the embedder may have other threads. The child reports to its parent over a close-on-exec
 * pipe in fixed-size records, one write() each: what it made (SPAWNED), that it is ready for
 * the next step (READY), or the step that failed and its errno (FAIL, then it exits 127). End
 * of file with no FAIL means the exec happened; a child that died before it wrote anything
 * reads the same, so a caller that must know waits for it.
 */
#ifndef EBCC_BASE_SPAWN_H
#define EBCC_BASE_SPAWN_H

#include <stdint.h>
#include <sys/types.h>

enum ebcc__spawn_kind {
	EBCC_SPAWN_FAIL = 1,    /* step and err say what failed */
	EBCC_SPAWN_SPAWNED = 2, /* pid (and pid2, level) of what an intermediate process made */
	EBCC_SPAWN_READY = 3,   /* the child waits for its parent's next step */
};

struct ebcc__spawn_record {
	int32_t kind;  /* enum ebcc__spawn_kind */
	int32_t step;  /* FAIL: the step that failed, in the caller's own numbering */
	int32_t err;   /* FAIL: errno */
	int32_t pid;   /* SPAWNED: the process made */
	int32_t pid2;  /* SPAWNED: a second one (the anchor's monitor reports the anchor here) */
	int32_t level; /* SPAWNED: the caller's detail (a sandbox's namespace level) */
};

/* fork() without atfork handlers: clone(flags | SIGCHLD), flags being CLONE_NEW* or
 * CLONE_PARENT bits or 0. In the child only system calls may follow (no malloc, no stdio, no
 * glibc wrapper that assumes its threads, such as setuid()). */
pid_t ebcc__spawn_clone(unsigned long flags);

/* Writes rec to fd in one write(), EINTR retried. Async-signal-safe. */
void ebcc__spawn_send(int fd, const struct ebcc__spawn_record *rec);

/* Sends FAIL with step and the current errno, then _exit(127). Async-signal-safe. */
__attribute__((noreturn)) void ebcc__spawn_fail(int fd, int step);

/* Reads one record: sizeof(*rec); 0 at end of file; fewer bytes when the writer died in the
 * middle; -1 with errno on a read error, or ETIMEDOUT when timeout_ms (>= 0) passed first
 * (timeout_ms < 0 waits for ever). */
ssize_t ebcc__spawn_read(int fd, int timeout_ms, struct ebcc__spawn_record *rec);

#endif
