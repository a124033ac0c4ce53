/* SPDX-License-Identifier: MIT */
/*
 * What /proc says about a process: its start time, which tells a live anchor from an
 * unrelated process that reused its pid, and whether it has exited.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>

#include "ebcc-base.h"

/* Reads /proc/<pid>/stat: state letter and start time (field 22, clock ticks since boot). */
static int read_stat(pid_t pid, char *ret_state, uint64_t *ret_start)
{
	char path[64], buf[1024];
	const char *p;
	ssize_t n;
	int fd;
	unsigned long long start;
	char state;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	/* The command name may contain spaces and parentheses: parse after the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL)
		return -EIO;
	if (sscanf(p + 1, " %c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d "
			  "%*d %llu",
		   &state, &start) != 2)
		return -EIO;
	*ret_state = state;
	*ret_start = start;
	return 0;
}

int ebcc__proc_start_time(pid_t pid, uint64_t *ret_start)
{
	char state;

	if (pid <= 0)
		return -ESRCH;
	return read_stat(pid, &state, ret_start);
}

bool ebcc__proc_alive(pid_t pid, uint64_t start_time)
{
	uint64_t start;
	char state;

	if (pid <= 0 || read_stat(pid, &state, &start) < 0)
		return false;
	/* A zombie has exited; an unrelated process may have reused the pid. */
	return start == start_time && state != 'Z' && state != 'X';
}

int ebcc__proc_pidfd(pid_t pid, uint64_t start_time)
{
	int pidfd;

	if (pid <= 0)
		return -1;
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	/* Checked after opening: the descriptor cannot follow a process that reused the pid. */
	if (pidfd >= 0 && !ebcc__proc_alive(pid, start_time)) {
		close(pidfd);
		return -1;
	}
	return pidfd;
}

int ebcc__proc_signal(pid_t pid, uint64_t start_time, int signo)
{
	int pidfd, r = 0;

	if (pid <= 0)
		return -ESRCH;
	/* A pidfd pins the process: once its start time is checked, the signal cannot reach a
	 * process that reused the pid in between. */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0 && errno != ENOSYS)
		return -errno;
	if (!ebcc__proc_alive(pid, start_time))
		r = -ESRCH;
	else if (pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, signo, NULL, 0) < 0)
		r = -errno;
	else if (pidfd < 0 && kill(pid, signo) < 0)
		r = -errno;
	if (pidfd >= 0)
		close(pidfd);
	return r;
}
