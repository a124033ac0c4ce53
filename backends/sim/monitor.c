/* SPDX-License-Identifier: MIT */
/*
 * The simulated security monitor. The launcher side starts one per stage, before the stage: it
 * holds the device key's signing secret and the measurement and EID of the image that was
 * loaded, and answers only the stage, on the stage's descriptor 4 (EBCC_ATTEST_FD,
 * lib/base/frame.h): for each message of exactly 64 bytes, the stage's report_data, the report
 * over them; an empty message for anything else. The host library holds no end of that socket
 * and never asks it anything, so every report says what the stage computed, as a TEE's monitor
 * would. It ends when the stage's end is closed, that is when the stage has exited.
 *
 * It is forked from the embedder, which may have other threads: it makes only system calls and
 * libsodium's signature, which allocates nothing and takes no lock. A warm stage's monitor is
 * a grandchild (double fork) that outlives the loading process, reaped by init or the
 * embedder's subreaper; a per-invocation stage's is a child, reaped with the stage, forked
 * beforehand by the context's sandbox pool when it has one (sandbox-pool.h: a parked helper).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "sandbox-pool.h"
#include "sandbox.h"
#include "ebcc-base.h"
#include "frame.h"
#include "monitor.h"

#define MONITOR_FD 3

static void close_from(unsigned first)
{
	if (syscall(SYS_close_range, first, ~0U, 0) == 0)
		return;
	for (unsigned fd = first; fd < 65536; fd++)
		(void)close((int)fd);
}

__attribute__((noreturn)) static void monitor_main(const struct ebcc__sim_signer *signer, int fd)
{
	uint8_t rd[EBCC_FRAME_REPORT_DATA_SIZE + 1], report[EBCC_ATTEST_REPORT_MAX];
	sigset_t all;

	/* The embedder's signal handlers are still installed here: let none of them run. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	/* Not to be ptraced or read through /proc by other processes of this user. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	(void)prctl(PR_SET_NAME, "ebcc-sim-mon", 0, 0, 0);
	/* Hold nothing of the embedder's: no descriptor, no working directory on its mounts. */
	if (chdir("/") < 0 || (fd != MONITOR_FD && dup2(fd, MONITOR_FD) < 0))
		_exit(1);
	close(0);
	close(1);
	close(2);
	close_from(MONITOR_FD + 1);
	/* One report before the first request: its code and stack are faulted in while the stage
	 * is still starting, not during the first invocation. */
	memset(rd, 0, sizeof(rd));
	(void)ebcc__sim_report_make(signer, rd, EBCC_FRAME_REPORT_DATA_SIZE, report, sizeof(report));

	for (;;) {
		ssize_t n = recv(MONITOR_FD, rd, sizeof(rd), MSG_TRUNC);
		size_t len = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the stage is gone */
		if (n == EBCC_FRAME_REPORT_DATA_SIZE)
			len = ebcc__sim_report_make(signer, rd, EBCC_FRAME_REPORT_DATA_SIZE, report,
						    sizeof(report));
		while (send(MONITOR_FD, report, len, MSG_NOSIGNAL) < 0 && errno == EINTR)
			;
	}
	sodium_memzero((void *)signer, sizeof(*signer));
	_exit(0);
}

/* A per-invocation stage's monitor in a helper the sandbox pool forked beforehand: the signer
 * comes as its payload (wiped once copied). */
__attribute__((noreturn)) static void monitor_helper(const void *payload, size_t len, int fd)
{
	struct ebcc__sim_signer signer;

	if (len != sizeof(signer))
		_exit(1);
	memcpy(&signer, payload, sizeof(signer));
	sodium_memzero((void *)payload, len);
	monitor_main(&signer, fd);
}

/* A warm stage's monitor: forked by a short-lived intermediate, which tells us through a pipe
 * whether the fork worked (its exit status is not a reliable messenger: a memory checker the
 * embedder runs under may rewrite it). */
static int start_detached(const struct ebcc__sim_signer *signer, int sv[2])
{
	int pipefd[2], ok = 0, e;
	pid_t middle;
	ssize_t n;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "pipe for the security monitor");
	middle = ebcc__spawn_clone(0);
	if (middle == 0) {
		pid_t monitor;

		close(sv[1]);
		close(pipefd[0]);
		monitor = ebcc__spawn_clone(0);
		if (monitor == 0) {
			close(pipefd[1]);
			monitor_main(signer, sv[0]);
		}
		ok = monitor > 0;
		(void)!write(pipefd[1], &ok, sizeof(ok));
		_exit(0);
	}
	e = errno;
	close(pipefd[1]);
	if (middle < 0) {
		close(pipefd[0]);
		return ebcc__error_errno(EBCC_ERR_IO, e, "fork for the security monitor");
	}
	do
		n = read(pipefd[0], &ok, sizeof(ok));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	ebcc__sandbox_wait_pid(middle, NULL);
	if (n != sizeof(ok) || !ok)
		return ebcc__error(EBCC_ERR_BACKEND, "the security monitor could not be started "
				   "(fork failed)");
	return 0;
}

int ebcc__sim_monitor_start(const struct ebcc__sim_signer *signer, bool detach,
			    struct ebcc__sandbox_pool *pool, int *ret_stage_end, pid_t *ret_pid)
{
	int sv[2], r = 0;
	pid_t child = 0;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "socketpair for the security monitor");
	if (detach) {
		r = start_detached(signer, sv);
	} else if (pool != NULL && ebcc__sandbox_pool_helper(pool, monitor_helper, signer,
							     sizeof(*signer), sv[0], &child) > 0) {
		/* forked beforehand: child is ours to reap as below */
	} else {
		child = ebcc__spawn_clone(0);
		if (child == 0) {
			close(sv[1]);
			monitor_main(signer, sv[0]);
		}
		if (child < 0)
			r = ebcc__error_errno(EBCC_ERR_IO, errno, "fork for the security monitor");
	}
	close(sv[0]);
	if (r < 0) {
		close(sv[1]);
		return r;
	}
	*ret_stage_end = sv[1];
	*ret_pid = child;
	return 0;
}
