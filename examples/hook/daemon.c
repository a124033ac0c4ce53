/* SPDX-License-Identifier: MIT */
/*
 * Starting the broker, detached from the runtime that runs the hook. The runtime waits until
 * every copy of the hook's stdout and stderr is closed, so the broker keeps none of them and
 * no other descriptor of the hook either: it runs in its own session (double fork: never a
 * child of the runtime's hook process, never able to regain a terminal), with /dev/null as
 * stdio and only the listening socket, its directory and the readiness pipe open. The hook
 * waits on that pipe until the broker serves, or says why it cannot.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hook.h"
#include "protocol.h"

#define EXIT_DAEMON_FAIL 70

/* What the broker sends once: its pid when it serves, or why it cannot. */
struct ready_message {
	int32_t pid;
	int32_t ok;
	char text[1024];
};

/* Closes every descriptor from 3 up except those in keep (sorted, each >= 3). */
static void close_all_but(const int *keep, size_t n)
{
	unsigned int from = 3;

	for (size_t i = 0; i <= n; i++) {
		unsigned int to = i < n ? (unsigned int)keep[i] : UINT_MAX;

		if (to > from && close_range(from, to - 1, 0) < 0) {
			long max = sysconf(_SC_OPEN_MAX);

			/* Kernels before 5.9: one by one, up to the limit. */
			for (long fd = from; fd < (i < n ? (long)to : max); fd++)
				close((int)fd);
		}
		if (i < n)
			from = (unsigned int)keep[i] + 1;
	}
}

static int sort_ints(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

static int detach(const struct hook_broker_params *p, int ready_fd)
{
	int keep[] = { p->listener->fd, p->listener->dir_fd, ready_fd };
	sigset_t none;
	int null;

	/* Dispositions set to SIG_IGN and blocked signals survive exec: start from defaults. */
	for (int signo = 1; signo < NSIG; signo++)
		if (signo != SIGKILL && signo != SIGSTOP)
			signal(signo, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* "ebcc-broker" in ps and top, rather than the hook's name. */
	prctl(PR_SET_NAME, "ebcc-broker");
	if (chdir("/") < 0)
		return -1;
	null = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (null < 0)
		return -1;
	for (int fd = 0; fd <= 2; fd++)
		if (dup2(null, fd) < 0)
			return -1;
	if (null > 2)
		close(null);
	qsort(keep, sizeof(keep) / sizeof(keep[0]), sizeof(keep[0]), sort_ints);
	close_all_but(keep, sizeof(keep) / sizeof(keep[0]));
	return 0;
}

int hook_broker_spawn(const struct hook_broker_params *p, pid_t *ret_pid, uint64_t *ret_start)
{
	struct ready_message m;
	int ready[2], status, r;
	pid_t child;

	/* Buffered output copied into the child would be written twice. */
	fflush(NULL);
	if (pipe2(ready, O_CLOEXEC) < 0)
		return hook_error_errno(errno, "broker: pipe");
	child = fork();
	if (child < 0) {
		int saved = errno;

		close(ready[0]);
		close(ready[1]);
		return hook_error_errno(saved, "broker: fork");
	}
	if (child == 0) {
		pid_t grandchild;

		close(ready[0]);
		if (setsid() < 0)
			_exit(EXIT_DAEMON_FAIL);
		grandchild = fork();
		if (grandchild != 0)
			_exit(grandchild < 0 ? EXIT_DAEMON_FAIL : 0);
		if (detach(p, ready[1]) < 0) {
			hook_broker_ready(ready[1], strerror(errno));
			_exit(EXIT_DAEMON_FAIL);
		}
		exit(hook_broker_run(p, ready[1]));
	}
	close(ready[1]);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	r = fd_read_exact(ready[0], &m, sizeof(m));
	close(ready[0]);
	if (r != 0)
		return hook_error("broker: exited while starting");
	m.text[sizeof(m.text) - 1] = '\0';
	if (!m.ok) {
		/* It is on its way out; make sure it is gone before the caller cleans up. */
		if (hook_proc_start_time(m.pid, ret_start) == 0)
			hook_proc_stop(m.pid, *ret_start, 10000);
		return hook_error("%s", m.text);
	}
	*ret_pid = m.pid;
	if (hook_proc_start_time(m.pid, ret_start) < 0)
		return hook_error("broker: pid %d vanished after it started", (int)m.pid);
	return 0;
}

int hook_broker_ready(int ready_fd, const char *failure)
{
	struct ready_message m = { .pid = getpid(), .ok = failure == NULL };

	if (failure != NULL)
		snprintf(m.text, sizeof(m.text), "%s", failure);
	return fd_write_all(ready_fd, &m, sizeof(m));
}
