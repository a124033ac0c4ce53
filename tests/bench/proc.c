/* SPDX-License-Identifier: MIT */
/*
 * Running other programs (runc, crun, strip, size): posix_spawnp with stdin on /dev/null, one
 * output captured through a pipe (drained to the end, kept up to a limit), the other on
 * /dev/null, then waitpid.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

extern char **environ;

/* Runs argv with fd `into` (1 or 2) captured into buf, the other on /dev/null. */
static int run(char *const argv[], int into, char *buf, size_t size)
{
	posix_spawn_file_actions_t fa;
	int pipefd[2] = { -1, -1 }, status, r;
	size_t used = 0;
	pid_t pid;

	if (buf != NULL && size > 0)
		buf[0] = '\0';
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, into == 1 ? 2 : 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], into);
	r = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (r != 0) {
		close(pipefd[0]);
		return -r;
	}
	for (;;) {
		char chunk[4096];
		ssize_t n = read(pipefd[0], chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (buf != NULL && used + 1 < size) {
			size_t take = (size_t)n < size - 1 - used ? (size_t)n : size - 1 - used;

			memcpy(buf + used, chunk, take);
			used += take;
			buf[used] = '\0';
		}
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return status;
}

int proc_run(char *const argv[], char *err, size_t err_size)
{
	return run(argv, 2, err, err_size);
}

int proc_capture(char *const argv[], char *out, size_t out_size)
{
	return run(argv, 1, out, out_size);
}

void proc_kill(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}
