/* SPDX-License-Identifier: MIT */
/*
 * What the parts of the sandbox share (sandbox.c prepares a plan and spawns; sandbox-seccomp.c
 * compiles its filter; sandbox-launch.c is the child and the launcher; sandbox-proc.c follows
 * the stage process): the plan the child runs from, the records of the status pipe and the
 * namespace levels. Private to backends/common.
 */
#ifndef EBCC_BACKEND_SANDBOX_PLAN_H
#define EBCC_BACKEND_SANDBOX_PLAN_H

#include <limits.h>
#include <linux/filter.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "sandbox.h"

enum step {
	STEP_NONE,
	STEP_CLONE,
	STEP_SETGROUPS,
	STEP_UID_MAP,
	STEP_GID_MAP,
	STEP_SETSID,
	STEP_PDEATHSIG,
	STEP_SIGNALS,
	STEP_FDS,
	STEP_RLIMIT,
	STEP_CAPS,
	STEP_NO_NEW_PRIVS,
	STEP_SECCOMP,
	STEP_EXEC,
	STEP_PIPE,
	STEP_PID_RECORD,
	STEP_JOIN_NET,
	STEP_UNSHARE_USER,
	STEP_PARK,
};

/*
 * The namespace levels, tried in order. The first exists for a launcher running as root: a
 * fresh network namespace costs more than the rest of a spawn (the kernel registers and later
 * tears down its sysctls and devices), so every stage joins one empty network namespace made
 * once per process instead, then makes its user namespace (after the pid, IPC and mount
 * namespaces, which it therefore holds no capability over). A stage cannot create a socket
 * (seccomp), so what it could share there is nothing.
 */
#define JOIN_SHARED_NET (1UL << 63) /* not a clone flag: setns, then unshare(CLONE_NEWUSER) */
#define EBCC_SANDBOX_NS_LEVELS 4
extern const unsigned long ebcc__sandbox_ns_levels[EBCC_SANDBOX_NS_LEVELS];

/* Everything the child needs, prepared before the fork. It lives on the parent's stack while
 * the child runs, so the address of exec_path is the same in both, and the
 * seccomp filter compares the exec's path argument against them. */
struct plan {
	int image_fd, channel_fd, devnull_fd;
	int attest_fd; /* -1: the stage gets no descriptor 4 */
	int shared_net_fd; /* for the first level, or -1 when it cannot be used */
	int child_image_fd; /* = the stage's RLIMIT_NOFILE */
	bool detach;
	bool probe_only; /* stop after the seccomp filter: _exit(0) instead of exec */
	bool valgrind;   /* exec through execve(exec_path), as valgrind knows no execveat */
	char uid_map[64], gid_map[64];
	char exec_path[32]; /* "/proc/self/fd/<child_image_fd>" */
	struct rlimit as, cpu, nofile;
	bool set_as, set_cpu;
	struct sock_fprog prog;
	char *argv[2];
	char *envp[1];
	/* >= 0: a pooled sandbox (sandbox-pool.c). The child parks once its namespaces and
	 * signals are set up, holding only this socket, the status pipe and /dev/null, until a
	 * struct park_msg and the stage's descriptors arrive on it. */
	int park_fd;
	/* A parked child made by the pool's zygote: CLONE_PARENT (the embedder's child, not the
	 * zygote's), at exactly first_level (no fallback: the level was found beforehand). */
	bool zygote;
	int record_dir_fd; /* with record_name: where the launcher records the stage's pid */
	const char *record_name;
	char record_tmp[NAME_MAX + 1];
};

/* What a parked child receives (with the image, the channel and, when has_attest, the
 * attestation descriptor, in that order, as SCM_RIGHTS). */
struct park_msg {
	struct rlimit as, cpu;
	bool set_as, set_cpu, has_attest;
	char argv0[64];
};

/* sandbox.c, for sandbox-pool.c: the plan of a stage (plan_clear() releases it). */
int ebcc__sandbox_plan_init(struct plan *p, const struct ebcc__sandbox_spec *spec);
void ebcc__sandbox_plan_clear(struct plan *p);

/* sandbox-seccomp.c: the allow-list compiled into p->prog (or copied from the cache). The
 * path execveat() gets: the filter compares the pointer, so it lives at one address for the
 * whole process. */
extern const char ebcc__sandbox_empty_path[1];
int ebcc__sandbox_build_filter(struct plan *p);

/* sandbox-launch.c */
/* Clones the stage at the first namespace level that works, from first_level on. Async-signal
 * safe (it also runs in the intermediate process). 0 and *ret_pid, *ret_level; or -1 with
 * *fail. */
int ebcc__sandbox_launch(const struct plan *p, int first_level, pid_t *ret_pid, int *ret_level,
			 struct ebcc__spawn_record *fail);
/* The same for a parked child (p->park_fd >= 0): returns once it is parked, with the read end
 * of its status pipe in *ret_status_fd (end of file there will mean the exec happened). */
int ebcc__sandbox_launch_parked(const struct plan *p, int first_level, pid_t *ret_pid,
				int *ret_level, int *ret_status_fd, struct ebcc__spawn_record *fail);
/* The intermediate process of a detached stage: launches it, hands its pid and level up on
 * result_fd, waits on go_fd until the parent has read its start time, and exits. */
__attribute__((noreturn)) void ebcc__sandbox_middle_main(const struct plan *p, int result_fd,
							  int go_fd);

#endif
