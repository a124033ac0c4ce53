/* SPDX-License-Identifier: MIT */
/*
 * Sandboxed stage processes. The parent prepares everything (seccomp program, uid maps as text,
 * limits, argv); the child, created with clone() and new namespaces where allowed, runs only
 * async-signal-safe system calls and ends in execveat() of the image descriptor or _exit(127).
 *
 * A status pipe (close-on-exec, with the records of lib/base/spawn.h) tells the launcher how
 * it went. The child reports READY once its namespaces and descriptors are set up; the
 * launcher then sets its resource limits with prlimit() and lets it go on (a go pipe); end of
 * file after that means the image was executed, a FAIL record names the step and errno that
 * failed. For a detached stage an
 * intermediate process is the launcher: it hands the stage's pid up and exits once the parent
 * has read the stage's start time, so the stage is reparented and outlives us.
 *
 * Under valgrind (which runs the child until the exec, emulates setrlimit() and knows neither
 * the seccomp() system call nor execveat() of a memory file) the filter is loaded with prctl()
 * and the image executed with execve("/proc/self/fd/N"); the filter then also allows the
 * handful of calls valgrind makes for that execve, each bound to that one path's address,
 * and mmap/mprotect made from valgrind's own text (sandbox-seccomp.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "ebcc-base.h"
#include "sandbox-plan.h"
#include "sandbox-pool.h"

#define MIN_FILES 8


#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND() false
#endif

static const char *step_text(int step)
{
	static const char *const text[] = {
		[STEP_NONE] = "setup",
		[STEP_CLONE] = "clone",
		[STEP_SETGROUPS] = "writing /proc/self/setgroups",
		[STEP_UID_MAP] = "writing /proc/self/uid_map",
		[STEP_JOIN_NET] = "setns into the shared network namespace",
		[STEP_UNSHARE_USER] = "unshare(CLONE_NEWUSER)",
		[STEP_GID_MAP] = "writing /proc/self/gid_map",
		[STEP_SETSID] = "setsid",
		[STEP_PDEATHSIG] = "prctl(PR_SET_PDEATHSIG)",
		[STEP_SIGNALS] = "resetting signals",
		[STEP_FDS] = "arranging descriptors",
		[STEP_RLIMIT] = "setrlimit",
		[STEP_CAPS] = "dropping capabilities",
		[STEP_NO_NEW_PRIVS] = "prctl(PR_SET_NO_NEW_PRIVS)",
		[STEP_SECCOMP] = "loading the seccomp filter",
		[STEP_EXEC] = "execveat of the stage image",
		[STEP_PIPE] = "creating a pipe",
		[STEP_PID_RECORD] = "recording the stage's pid",
		[STEP_PARK] = "handing the stage to a pooled sandbox",
	};

	return step >= 0 && (size_t)step < EBCC_ARRAY_SIZE(text) && text[step] != NULL
		       ? text[step]
		       : "an unknown step";
}

const unsigned long ebcc__sandbox_ns_levels[EBCC_SANDBOX_NS_LEVELS] = {
	JOIN_SHARED_NET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNS,
	CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWNS,
	CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWNS,
	0,
};

/* The shared empty network namespace (for root), or -1: made once, kept for the process. */
static int shared_net_fd = -1;
static pthread_once_t shared_net_once = PTHREAD_ONCE_INIT;

static void make_shared_net(void)
{
	char path[64], byte = 0;
	int ready[2], hold[2];
	pid_t pid;

	if (geteuid() != 0 || pipe2(ready, O_CLOEXEC) < 0)
		return;
	if (pipe2(hold, O_CLOEXEC) < 0) {
		close(ready[0]);
		close(ready[1]);
		return;
	}
	/* A child makes the namespace and holds it until we have a descriptor on it. */
	pid = ebcc__spawn_clone(CLONE_NEWNET);
	if (pid == 0) {
		close(hold[1]); /* or the read below never sees the end of the pipe */
		close(ready[0]);
		(void)!write(ready[1], "", 1);
		(void)!read(hold[0], &byte, 1);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	if (pid > 0 && read(ready[0], &byte, 1) == 1) {
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
		shared_net_fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	close(hold[1]);
	close(ready[0]);
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}

__attribute__((destructor)) static void shared_net_release(void)
{
	if (shared_net_fd >= 0)
		close(shared_net_fd);
	shared_net_fd = -1;
}


/* ---- the parent ---------------------------------------------------------------------------- */

void ebcc__sandbox_plan_clear(struct plan *p)
{
	free(p->prog.filter);
	p->prog.filter = NULL;
	if (p->devnull_fd >= 0)
		close(p->devnull_fd);
	p->devnull_fd = -1;
}

int ebcc__sandbox_plan_init(struct plan *p, const struct ebcc__sandbox_spec *spec)
{
	uint32_t files = spec->max_files == 0 ? 64 : spec->max_files;
	struct rlimit ours;
	int r;

	/* The image goes to descriptor `files` in the child, which must fit under our own
	 * limit while the child arranges its descriptors. */
	if (getrlimit(RLIMIT_NOFILE, &ours) == 0 && ours.rlim_cur != RLIM_INFINITY &&
	    files + 8 > ours.rlim_cur)
		files = ours.rlim_cur > MIN_FILES + 8 ? (uint32_t)ours.rlim_cur - 8 : MIN_FILES;
	if (files < MIN_FILES)
		files = MIN_FILES;
	*p = (struct plan){ .image_fd = spec->image_fd, .channel_fd = spec->channel_fd,
			    .attest_fd = spec->attest ? spec->attest_fd : -1, .devnull_fd = -1, .shared_net_fd = -1, .park_fd = -1, .detach = spec->detach,
			    .child_image_fd = (int)files,
			    .valgrind = UNDER_VALGRIND() };
	snprintf(p->exec_path, sizeof(p->exec_path), "/proc/self/fd/%d", p->child_image_fd);
	if (spec->detach && spec->pid_record != NULL) {
		p->record_dir_fd = spec->pid_record_dir_fd;
		p->record_name = spec->pid_record;
		if ((size_t)snprintf(p->record_tmp, sizeof(p->record_tmp), ".%s.tmp",
				     spec->pid_record) >= sizeof(p->record_tmp))
			return ebcc__error(EBCC_ERR_INVALID_ARG, "pid record name %s is too long",
					   spec->pid_record);
	}
	snprintf(p->uid_map, sizeof(p->uid_map), "0 %u 1\n", (unsigned)geteuid());
	snprintf(p->gid_map, sizeof(p->gid_map), "0 %u 1\n", (unsigned)getegid());
	p->nofile = (struct rlimit){ files, files };
	if (spec->memory_mib > 0) {
		rlim_t bytes = (rlim_t)spec->memory_mib << 20;

		p->as = (struct rlimit){ bytes, bytes };
		p->set_as = true;
	}
	if (spec->cpu_seconds > 0) {
		/* soft = hard: the kernel's SIGKILL, which even a pid namespace's init gets. */
		p->cpu = (struct rlimit){ spec->cpu_seconds, spec->cpu_seconds };
		p->set_cpu = true;
	}
	p->argv[0] = (char *)(spec->argv0 != NULL ? spec->argv0 : "stage");
	p->argv[1] = NULL;
	p->envp[0] = NULL;
	pthread_once(&shared_net_once, make_shared_net);
	p->shared_net_fd = shared_net_fd;
	p->devnull_fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (p->devnull_fd < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "open /dev/null for a stage");
	r = ebcc__sandbox_build_filter(p);
	if (r < 0)
		ebcc__sandbox_plan_clear(p);
	return r;
}

static void isolation_from_level(int level, struct ebcc__sandbox_isolation *iso)
{
	unsigned long f = ebcc__sandbox_ns_levels[level];

	*iso = (struct ebcc__sandbox_isolation){
		.user_ns = f & (CLONE_NEWUSER | JOIN_SHARED_NET),
		.pid_ns = f & CLONE_NEWPID,
		.net_ns = f & (CLONE_NEWNET | JOIN_SHARED_NET),
		.net_ns_shared = f & JOIN_SHARED_NET,
		.ipc_ns = f & CLONE_NEWIPC,
		.mount_ns = f & CLONE_NEWNS,
		.no_new_privs = true,
		.seccomp = true,
		.caps_dropped = true,
	};
}

static int fail_error(const struct ebcc__spawn_record *rec, const struct ebcc__sandbox_spec *spec)
{
	char errbuf[128];
	const char *why = strerror_r(rec->err, errbuf, sizeof(errbuf));

	if (rec->step == STEP_PID_RECORD) /* a file like any other: disk full, read-only... */
		return ebcc__error(ebcc__error_from_errno(rec->err),
				   "could not record the stage's pid in %s: %s", spec->pid_record,
				   why);
	if (rec->step == STEP_EXEC)
		return ebcc__error(EBCC_ERR_STAGE, "the stage image could not be executed: %s%s",
				   why,
				   rec->err == ENOEXEC ? " (not an executable of this machine)" : "");
	return ebcc__error(rec->err == ENOMEM ? EBCC_ERR_NO_MEMORY : EBCC_ERR_BACKEND,
			   "sandbox setup failed at %s: %s", step_text(rec->step), why);
}

int ebcc__sandbox_probe(struct ebcc__sandbox_isolation *ret, char *reason, size_t reason_size)
{
	struct plan p;
	struct ebcc__spawn_record fail = { 0 };
	pid_t pid;
	int level, r;
	struct ebcc__sandbox_spec spec = { .image_fd = 0, .channel_fd = 0 };

	r = ebcc__sandbox_plan_init(&p, &spec);
	if (r < 0)
		return r;
	p.probe_only = true;
	p.channel_fd = p.devnull_fd;
	p.image_fd = p.devnull_fd;
	r = ebcc__sandbox_launch(&p, 0, &pid, &level, &fail);
	ebcc__sandbox_plan_clear(&p);
	if (r < 0) {
		char errbuf[128];

		*ret = (struct ebcc__sandbox_isolation){ 0 };
		snprintf(reason, reason_size, "stages cannot be sandboxed on this host: %s failed: %s",
			 step_text(fail.step), strerror_r(fail.err, errbuf, sizeof(errbuf)));
		return 0;
	}
	isolation_from_level(level, ret);
	return 1;
}

int ebcc__sandbox_spawn(const struct ebcc__sandbox_spec *spec, struct ebcc__sandbox_proc *ret)
{
	struct ebcc__spawn_record rec = { 0 };
	struct plan p;
	pid_t pid = -1;
	int level = 0, r;

	r = ebcc__sandbox_plan_init(&p, spec);
	if (r < 0)
		return r;

	if (!spec->detach && spec->pool != NULL && !p.valgrind) {
		/* A sandbox made beforehand with this very plan, if the pool has one. */
		r = ebcc__sandbox_pool_spawn(spec->pool, &p, spec, &pid, &level, &rec);
		if (r < 0) {
			ebcc__sandbox_plan_clear(&p);
			return fail_error(&rec, spec);
		}
		if (r > 0) {
			ebcc__sandbox_plan_clear(&p);
			*ret = (struct ebcc__sandbox_proc){ .pid = pid, .child = true };
			goto spawned;
		}
	}
	if (!spec->detach) {
		r = ebcc__sandbox_launch(&p, 0, &pid, &level, &rec);
		ebcc__sandbox_plan_clear(&p);
		if (r < 0)
			return fail_error(&rec, spec);
		*ret = (struct ebcc__sandbox_proc){ .pid = pid, .child = true };
	} else {
		int result_pipe[2], go_pipe[2];
		pid_t middle;
		ssize_t n;

		if (pipe2(result_pipe, O_CLOEXEC) < 0) {
			ebcc__sandbox_plan_clear(&p);
			return ebcc__error_errno(EBCC_ERR_IO, errno, "pipe for a stage");
		}
		if (pipe2(go_pipe, O_CLOEXEC) < 0) {
			r = errno;
			close(result_pipe[0]);
			close(result_pipe[1]);
			ebcc__sandbox_plan_clear(&p);
			return ebcc__error_errno(EBCC_ERR_IO, r, "pipe for a stage");
		}
		middle = ebcc__spawn_clone(0);
		if (middle == 0) {
			close(result_pipe[0]);
			close(go_pipe[1]);
			ebcc__sandbox_middle_main(&p, result_pipe[1], go_pipe[0]);
		}
		r = errno;
		close(result_pipe[1]);
		close(go_pipe[0]);
		ebcc__sandbox_plan_clear(&p);
		if (middle < 0) {
			close(result_pipe[0]);
			close(go_pipe[1]);
			return ebcc__error_errno(EBCC_ERR_IO, r, "fork for a stage");
		}
		n = ebcc__spawn_read(result_pipe[0], -1, &rec);
		close(result_pipe[0]);
		if (n == (ssize_t)sizeof(rec) && rec.kind == EBCC_SPAWN_SPAWNED && rec.pid > 0 &&
		    rec.level >= 0 && rec.level < (int)EBCC_SANDBOX_NS_LEVELS) {
			pid = rec.pid;
			level = rec.level;
			*ret = (struct ebcc__sandbox_proc){ .pid = pid, .child = false };
			/* Read while the stage is still a child of the intermediate process. */
			if (ebcc__proc_start_time(pid, &ret->start_time) < 0)
				ret->start_time = 0;
		}
		(void)!write(go_pipe[1], "", 1);
		close(go_pipe[1]);
		ebcc__sandbox_wait_pid(middle, NULL);
		if (pid < 0) {
			if (n != (ssize_t)sizeof(rec) || rec.kind != EBCC_SPAWN_FAIL)
				return ebcc__error(EBCC_ERR_BACKEND,
						   "sandbox setup failed: the intermediate process "
						   "died without a report");
			return fail_error(&rec, spec);
		}
		if (ret->start_time == 0)
			return ebcc__error(EBCC_ERR_STAGE,
					   "the stage process %d ended right after it started",
					   (int)pid);
	}
spawned:
	if (ret->child && ebcc__proc_start_time(pid, &ret->start_time) < 0)
		ret->start_time = 0; /* a child that already exited: still ours to reap */
	isolation_from_level(level, &ret->isolation);
	return 0;
}

