/* SPDX-License-Identifier: MIT */
/* A spawned stage process: alive, exiting, waited for, killed, reaped, its status as text. */
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
#include <sys/syscall.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "ebcc-base.h"
#include "sandbox-pool.h"
#include "sandbox.h"


/* A wait status no process can have: the child was reaped by someone else. */
#define STATUS_UNKNOWN (-1)

/* How long ebcc__sandbox_kill() waits for a SIGKILLed stage that is not our child to go. */
#define KILL_WAIT_MS 5000

bool ebcc__sandbox_alive(struct ebcc__sandbox_proc *p)
{
	if (p->child) {
		int status;
		pid_t r;

		if (p->reaped)
			return false;
		do
			r = waitpid(p->pid, &status, WNOHANG);
		while (r < 0 && errno == EINTR);
		if (r == p->pid || (r < 0 && errno == ECHILD)) {
			p->reaped = true;
			p->status = r == p->pid ? status : STATUS_UNKNOWN;
			return false;
		}
		return r == 0;
	}
	return ebcc__proc_alive(p->pid, p->start_time);
}

/* The kernel's PF_EXITING task flag (/proc/<pid>/stat field 9), set when do_exit() begins,
 * before the process's descriptors are closed. */
#define PROC_FLAG_EXITING 0x4u

bool ebcc__sandbox_exiting(struct ebcc__sandbox_proc *p)
{
	char path[64], buf[1024], state = 0;
	unsigned int flags = 0;
	const char *rp;
	ssize_t n;
	int fd;

	if (!ebcc__sandbox_alive(p))
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)p->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	rp = strrchr(buf, ')');
	if (rp == NULL || sscanf(rp + 1, " %c %*d %*d %*d %*d %*d %u", &state, &flags) != 2)
		return false;
	return state == 'Z' || state == 'X' || (flags & PROC_FLAG_EXITING);
}

/*
 * Waits (at most KILL_WAIT_MS) until a process that is not our child has exited, optionally
 * SIGKILLing it first. A pidfd pins the process, so the start-time check made after opening it
 * cannot be fooled by a recycled pid; without pidfds (Linux < 5.3, or valgrind) the process is
 * polled instead.
 */
static void other_wait(const struct ebcc__sandbox_proc *p, bool kill_it)
{
	struct pollfd pfd = { .events = POLLIN };

	pfd.fd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	if (pfd.fd >= 0) {
		if (ebcc__proc_alive(p->pid, p->start_time) &&
		    (!kill_it || syscall(SYS_pidfd_send_signal, pfd.fd, SIGKILL, NULL, 0) == 0))
			while (poll(&pfd, 1, KILL_WAIT_MS) < 0 && errno == EINTR)
				;
		close(pfd.fd);
		return;
	}
	if (errno == ESRCH || !ebcc__proc_alive(p->pid, p->start_time))
		return;
	if (kill_it)
		(void)kill(p->pid, SIGKILL);
	for (int ms = 0; ms < KILL_WAIT_MS && ebcc__proc_alive(p->pid, p->start_time); ms++)
		(void)nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
}

void ebcc__sandbox_wait(struct ebcc__sandbox_proc *p)
{
	if (p->child)
		(void)ebcc__sandbox_reap(p);
	else
		other_wait(p, false);
}

void ebcc__sandbox_kill(struct ebcc__sandbox_proc *p)
{
	if (p->child) {
		/* An unreaped child's pid cannot have been reused. */
		if (!p->reaped) {
			(void)kill(p->pid, SIGKILL);
			(void)ebcc__sandbox_reap(p);
		}
		return;
	}
	other_wait(p, true);
}

void ebcc__sandbox_kill_adopted(struct ebcc__sandbox_proc *p, struct ebcc__sandbox_pool *pool)
{
	if (p->child && !p->reaped) {
		(void)kill(p->pid, SIGKILL);
		if (ebcc__sandbox_pool_adopt(pool, p->pid)) {
			p->reaped = true;
			p->status = STATUS_UNKNOWN;
		} else {
			(void)ebcc__sandbox_reap(p);
		}
		return;
	}
	ebcc__sandbox_kill(p);
}

int ebcc__sandbox_reap(struct ebcc__sandbox_proc *p)
{
	int status = 0;
	pid_t r;

	if (!p->child)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "process %d is not a child to reap",
				   (int)p->pid);
	if (p->reaped)
		return 0;
	do
		r = waitpid(p->pid, &status, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0 && errno == ECHILD) {
		/* The embedder reaped it (waitpid(-1), or SIGCHLD ignored): it is gone, and how
		 * it ended is not ours to know. */
		p->reaped = true;
		p->status = STATUS_UNKNOWN;
		return 0;
	}
	if (r < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "waitpid %d", (int)p->pid);
	p->reaped = true;
	p->status = status;
	return 0;
}

void ebcc__sandbox_status_text(int status, char *buf, size_t size)
{
	if (status == STATUS_UNKNOWN) {
		snprintf(buf, size, "ended, with an exit status collected by someone else");
	} else if (WIFEXITED(status)) {
		snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		const char *name = sigabbrev_np(sig);
		const char *why = sig == SIGSYS	   ? " (a system call the sandbox forbids)"
				  : sig == SIGSEGV ? " (invalid memory access)"
				  : sig == SIGBUS  ? " (bus error)"
				  : sig == SIGXCPU ? " (CPU-time limit)"
				  : sig == SIGABRT ? " (aborted)"
				  : sig == SIGKILL ? " (the CPU-time limit, or killed by the host)"
						   : "";

		if (name != NULL)
			snprintf(buf, size, "killed by SIG%s%s", name, why);
		else
			snprintf(buf, size, "killed by signal %d%s", sig, why);
	} else {
		snprintf(buf, size, "ended with wait status 0x%x", (unsigned)status);
	}
}

struct json_object *ebcc__sandbox_isolation_json(const struct ebcc__sandbox_isolation *iso)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	if (json_object_object_add(o, "user_ns", json_object_new_boolean(iso->user_ns)) < 0 ||
	    json_object_object_add(o, "pid_ns", json_object_new_boolean(iso->pid_ns)) < 0 ||
	    json_object_object_add(o, "net_ns", json_object_new_boolean(iso->net_ns)) < 0 ||
	    json_object_object_add(o, "net_ns_shared", json_object_new_boolean(iso->net_ns_shared)) <
		    0 ||
	    json_object_object_add(o, "ipc_ns", json_object_new_boolean(iso->ipc_ns)) < 0 ||
	    json_object_object_add(o, "mount_ns", json_object_new_boolean(iso->mount_ns)) < 0 ||
	    json_object_object_add(o, "no_new_privs", json_object_new_boolean(iso->no_new_privs)) <
		    0 ||
	    json_object_object_add(o, "seccomp", json_object_new_boolean(iso->seccomp)) < 0 ||
	    json_object_object_add(o, "capabilities_dropped",
				   json_object_new_boolean(iso->caps_dropped)) < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

