/* SPDX-License-Identifier: MIT */
/* The spawn-and-report protocol (spawn.h). */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "spawn.h"

pid_t ebcc__spawn_clone(unsigned long flags)
{
	return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

void ebcc__spawn_send(int fd, const struct ebcc__spawn_record *rec)
{
	ssize_t n;

	do
		n = write(fd, rec, sizeof(*rec));
	while (n < 0 && errno == EINTR);
}

void ebcc__spawn_fail(int fd, int step)
{
	struct ebcc__spawn_record rec = { .kind = EBCC_SPAWN_FAIL, .step = step, .err = errno };

	ebcc__spawn_send(fd, &rec);
	_exit(127);
}

ssize_t ebcc__spawn_read(int fd, int timeout_ms, struct ebcc__spawn_record *rec)
{
	size_t got = 0;

	while (got < sizeof(*rec)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (timeout_ms >= 0) {
			int r = poll(&p, 1, timeout_ms);

			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return -1;
			if (r == 0) {
				errno = ETIMEDOUT;
				return -1;
			}
		}
		n = read(fd, (char *)rec + got, sizeof(*rec) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}
