/* SPDX-License-Identifier: MIT */
/*
 * Processes the hook knows by pid and start time (the broker, the container's process): a pid
 * alone may have been recycled by the time a later hook acts on it. Signals go through a pidfd
 * opened while the start time still matched, so a recycled pid is never signalled.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hook.h"

/* The fields of /proc/<pid>/stat after the command name, from field 3 (state) on: the name in
 * parentheses may hold spaces and parentheses, so they start after the last ')'. */
static const char *stat_fields(pid_t pid, char *buf, size_t size)
{
	char path[64];
	const char *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' ? p + 2 : NULL;
}

int hook_proc_start_time(pid_t pid, uint64_t *ret)
{
	char buf[1024];
	const char *p = stat_fields(pid, buf, sizeof(buf));

	/* Field 22, counted from field 3. */
	for (int field = 3; field < 22 && p != NULL; field++) {
		p = strchr(p, ' ');
		if (p != NULL)
			p++;
	}
	return p != NULL && sscanf(p, "%" SCNu64, ret) == 1 ? 0 : -1;
}

static int pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

static int pidfd_signal(int pidfd, int signo)
{
#ifdef SYS_pidfd_send_signal
	return (int)syscall(SYS_pidfd_send_signal, pidfd, signo, NULL, 0);
#else
	(void)pidfd;
	(void)signo;
	errno = ENOSYS;
	return -1;
#endif
}

static int same_process(pid_t pid, uint64_t start)
{
	uint64_t now;

	return hook_proc_start_time(pid, &now) == 0 && now == start;
}

int hook_proc_pidfd(pid_t pid, uint64_t start)
{
	int fd = pidfd_open(pid);

	if (fd < 0)
		return -1;
	/* Checked after opening: from here on the pidfd pins this very process. */
	if (!same_process(pid, start)) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}

/* Whether the process has exited (a zombie counts: it runs no more). */
static int exited(pid_t pid, uint64_t start)
{
	char buf[1024];
	const char *p;

	if (!same_process(pid, start))
		return 1;
	p = stat_fields(pid, buf, sizeof(buf));
	return p == NULL || p[0] == 'Z' || p[0] == 'X';
}

int hook_proc_running(pid_t pid, uint64_t start)
{
	return !exited(pid, start);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits up to timeout_ms for the process to exit: on its pidfd, or by polling /proc. */
static int wait_exit(int pidfd, pid_t pid, uint64_t start, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	for (;;) {
		int64_t left = deadline - now_ms();

		if (exited(pid, start))
			return 0;
		if (left <= 0)
			return -1;
		if (pidfd >= 0) {
			struct pollfd p = { .fd = pidfd, .events = POLLIN };

			if (poll(&p, 1, (int)left) > 0)
				return 0;
		} else {
			usleep(10000);
		}
	}
}

static int send_signal(int pidfd, pid_t pid, int signo)
{
	int r = pidfd >= 0 ? pidfd_signal(pidfd, signo) : kill(pid, signo);

	return r < 0 && errno != ESRCH ? -1 : 0;
}

int hook_proc_stop(pid_t pid, uint64_t start, int grace_ms)
{
	int pidfd = hook_proc_pidfd(pid, start);
	int r;

	if (pidfd < 0 && errno == ESRCH)
		return 0;
	if (pidfd < 0 && errno != ENOSYS)
		return hook_error_errno(errno, "pidfd of process %d", (int)pid);
	/* Without pidfds (old kernels) the start time is the only guard. */
	if (pidfd < 0 && !same_process(pid, start))
		return 0;
	if (send_signal(pidfd, pid, SIGTERM) < 0)
		r = hook_error_errno(errno, "SIGTERM to process %d", (int)pid);
	else if (wait_exit(pidfd, pid, start, grace_ms) == 0)
		r = 0;
	else if (send_signal(pidfd, pid, SIGKILL) < 0)
		r = hook_error_errno(errno, "SIGKILL to process %d", (int)pid);
	else if (wait_exit(pidfd, pid, start, 10000) < 0)
		r = hook_error("process %d survived SIGKILL for 10 s", (int)pid);
	else
		r = 0;
	if (pidfd >= 0)
		close(pidfd);
	return r;
}

/* The parent pid of pid (/proc/<pid>/stat field 4), or -1. */
static pid_t parent_of(pid_t pid)
{
	char buf[1024];
	const char *p = stat_fields(pid, buf, sizeof(buf));
	int ppid;

	return p != NULL && sscanf(p, "%*c %d", &ppid) == 1 ? ppid : -1;
}

/* Sends SIGKILL to every child of ours; how many there were. */
static int kill_children(void)
{
	pid_t self = getpid();
	struct dirent *e;
	DIR *proc = opendir("/proc");
	int n = 0;

	if (proc == NULL)
		return 0;
	while ((e = readdir(proc)) != NULL) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);

		if (*end != '\0' || pid <= 0 || pid > INT32_MAX || parent_of((pid_t)pid) != self)
			continue;
		kill((pid_t)pid, SIGKILL);
		n++;
	}
	closedir(proc);
	return n;
}

void hook_proc_end_children(void)
{
	/* Each round reaps at least one child; a grandchild adopted when its parent died shows
	 * up in the next round. Blocking waits are safe: every child has had SIGKILL. */
	for (;;) {
		int killed = kill_children();
		pid_t pid = waitpid(-1, NULL, killed > 0 ? 0 : WNOHANG);

		if (pid < 0 && errno == EINTR)
			continue;
		if (pid <= 0)
			return;
	}
}
