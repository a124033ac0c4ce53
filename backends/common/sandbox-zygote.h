/* SPDX-License-Identifier: MIT */
/*
 * The pool's zygote (sandbox-zygote.c) and the embedder's side of the pool (sandbox-pool.c):
 * what they say to each other, and what the zygote's parked helpers are handed. Private to
 * backends/common.
 *
 * The protocol on the zygote's socket (SOCK_SEQPACKET): the zygote sends each parked child as a
 * struct zmsg with its descriptors (a sandbox: the embedder's end of its park socket and its
 * status pipe; a helper: its socket), Z_EXPIRED when it told an idle one to go (the embedder
 * then reaps it, if it has not handed it work meanwhile: the child acts on whichever message
 * it reads first, and says which through its status pipe or acknowledgement), Z_FAILED when it
 * could not make one; the embedder sends C_TOOK for each child it takes, C_WANT after a miss,
 * C_CONFIG for new limits and C_STOP, answered by Z_BYE once nothing more is on its way.
 */
#ifndef EBCC_BACKEND_SANDBOX_ZYGOTE_H
#define EBCC_BACKEND_SANDBOX_ZYGOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "sandbox-pool.h"

struct plan;

enum { KIND_SANDBOX, KIND_HELPER, N_KINDS };
enum { Z_PARKED = 1, Z_EXPIRED, Z_FAILED, Z_BYE };
enum { C_TOOK = 1, C_WANT, C_CONFIG, C_STOP };

struct zmsg {
	int32_t type, kind, pid, level, step, err;
};

struct zcmd {
	int32_t type, kind, pid;
	uint32_t size, idle_ms;
};

/* What a parked helper is handed. */
struct helper_msg {
	ebcc__sandbox_helper_fn fn;
	size_t len;
	unsigned char payload[EBCC_SANDBOX_HELPER_PAYLOAD_MAX];
};

struct zchild {
	pid_t pid;
	int ctl; /* our copy of the embedder's end: to tell it to go */
	uint64_t since_ms;
};

struct zygote {
	const struct plan *plan;
	int fd, level;
	unsigned size, idle_ms;
	bool want[N_KINDS], stopping;
	struct zchild c[N_KINDS][EBCC_SANDBOX_POOL_MAX];
	unsigned n[N_KINDS];
};

/* CLOCK_MONOTONIC in milliseconds (async-signal-safe). */
uint64_t ebcc__sandbox_now_ms(void);

/* One message with n_fds descriptors (SCM_RIGHTS), EINTR retried, errors ignored: the other
 * side sees what is missing. */
void ebcc__sandbox_send_fds(int fd, const void *msg, size_t len, const int *fds, int n_fds);

/* The zygote's loop; z->plan is the sandboxes' plan. Never returns. */
__attribute__((noreturn)) void ebcc__sandbox_zygote_main(struct zygote *z);

/* A parked helper on its socket ctl. Never returns. */
__attribute__((noreturn)) void ebcc__sandbox_helper_main(int ctl);

#endif
