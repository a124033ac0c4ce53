/* SPDX-License-Identifier: MIT */
/*
 * The sandbox pool's zygote and its parked helpers: the processes that make and hold the
 * pool's children. Everything here runs in a fork of a process that may have other threads,
 * so only async-signal-safe code.
 *
 * Why a zygote process, not a thread of the embedder and not a refill by the caller: a refill
 * by the caller after handing one out would put the cost of making a sandbox back into the
 * same call; and every fork of the embedder write-protects its memory, so that the embedder
 * then takes a copy-on-write fault for each page it writes, each with a TLB flush that a
 * second thread in its address space turns into an inter-processor interrupt (measured: a
 * thread that refilled the pool made each per-invocation call cost more CPU than it saved).
 * The zygote is forked once; it makes the parked children with CLONE_PARENT, so that they are
 * the embedder's children (waitpid() by pid, exit statuses, SIGCHLD, as for a stage spawned on
 * the spot) while their forks copy only the zygote's address space. Its children's
 * parent-death signal is that of the pool's starter thread (sandbox-pool.c), which lives as
 * long as the pool.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ebcc-base.h"
#include "sandbox-plan.h"
#include "sandbox-zygote.h"

uint64_t ebcc__sandbox_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void ebcc__sandbox_send_fds(int fd, const void *msg, size_t len, const int *fds, int n_fds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} control;
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	if (n_fds > 0) {
		struct cmsghdr *c;

		memset(control.buf, 0, sizeof(control.buf));
		m.msg_control = control.buf;
		m.msg_controllen = CMSG_SPACE((size_t)n_fds * sizeof(int));
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)n_fds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)n_fds * sizeof(int));
	}
	do
		n = sendmsg(fd, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
}

/* A parked helper (async-signal-safe: a fork of a process with other threads). */
void ebcc__sandbox_helper_main(int ctl)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct helper_msg m;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *c;
	sigset_t all;
	int nul, fd;
	ssize_t n;

	/* The embedder's signal handlers are still installed here: let none of them run. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || dup2(ctl, 3) < 0)
		_exit(127);
	nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(nul, 2) < 0 ||
	    syscall(SYS_close_range, 4U, ~0U, 0) < 0)
		_exit(127);
	do
		n = recvmsg(3, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	c = n == (ssize_t)sizeof(m) ? CMSG_FIRSTHDR(&msg) : NULL;
	if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN(sizeof(int)) || m.len > sizeof(m.payload))
		_exit(0); /* never used (the pool is gone), or not by us */
	memcpy(&fd, CMSG_DATA(c), sizeof(fd));
	/* The acknowledgement: the pool's zygote may have told us to go at the same time. */
	if (send(3, "A", 1, MSG_NOSIGNAL) != 1)
		_exit(0);
	close(3);
	/* From now on it is the backend's process, which ends as it would on the spot. */
	(void)prctl(PR_SET_PDEATHSIG, 0);
	m.fn(m.payload, m.len, fd);
	_exit(127);
}

/* Makes one parked child of the embedder and hands it over. */
static void zygote_make(struct zygote *z, const struct plan *plan, int kind)
{
	struct zmsg msg = { .type = Z_PARKED, .kind = kind, .level = z->level };
	struct ebcc__spawn_record fail = { 0 };
	int sv[2], fds[2], n_fds = 1;
	pid_t pid = -1;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		fail = (struct ebcc__spawn_record){ .step = STEP_PIPE, .err = errno };
		goto failed;
	}
	if (kind == KIND_SANDBOX) {
		struct plan p = *plan;
		int level = 0, status = -1;

		p.park_fd = sv[1];
		if (ebcc__sandbox_launch_parked(&p, z->level, &pid, &level, &status, &fail) < 0) {
			close(sv[0]);
			close(sv[1]);
			pid = fail.pid;
			goto failed;
		}
		fds[1] = status;
		n_fds = 2;
	} else {
		pid = ebcc__spawn_clone(CLONE_PARENT);
		if (pid == 0) {
			close(sv[0]);
			close(z->fd);
			ebcc__sandbox_helper_main(sv[1]);
		}
		if (pid < 0) {
			fail = (struct ebcc__spawn_record){ .step = STEP_CLONE, .err = errno };
			close(sv[0]);
			close(sv[1]);
			goto failed;
		}
	}
	close(sv[1]);
	fds[0] = sv[0];
	msg.pid = pid;
	ebcc__sandbox_send_fds(z->fd, &msg, sizeof(msg), fds, n_fds);
	if (n_fds == 2)
		close(fds[1]);
	z->c[kind][z->n[kind]++] = (struct zchild){ .pid = pid, .ctl = sv[0],
						    .since_ms = ebcc__sandbox_now_ms() };
	return;
failed:
	z->want[kind] = false; /* again on the next demand */
	msg = (struct zmsg){ .type = Z_FAILED, .kind = kind, .pid = pid > 0 ? pid : 0,
			     .step = fail.step, .err = fail.err };
	ebcc__sandbox_send_fds(z->fd, &msg, sizeof(msg), NULL, 0);
}

/* Tells child i of kind to go (a short message it reads instead of work) and the embedder to
 * reap it. */
static void zygote_expire(struct zygote *z, int kind, unsigned i)
{
	struct zmsg msg = { .type = Z_EXPIRED, .kind = kind, .pid = z->c[kind][i].pid };
	int32_t go = 0;

	(void)!send(z->c[kind][i].ctl, &go, sizeof(go), MSG_NOSIGNAL);
	close(z->c[kind][i].ctl);
	ebcc__sandbox_send_fds(z->fd, &msg, sizeof(msg), NULL, 0);
	memmove(&z->c[kind][i], &z->c[kind][i + 1], (z->n[kind] - i - 1) * sizeof(z->c[kind][0]));
	z->n[kind]--;
}

static void zygote_forget(struct zygote *z, int kind, pid_t pid)
{
	for (unsigned i = 0; i < z->n[kind]; i++)
		if (z->c[kind][i].pid == pid) {
			close(z->c[kind][i].ctl);
			memmove(&z->c[kind][i], &z->c[kind][i + 1],
				(z->n[kind] - i - 1) * sizeof(z->c[kind][0]));
			z->n[kind]--;
			return;
		}
}

void ebcc__sandbox_zygote_main(struct zygote *z)
{
	struct plan p = *z->plan;
	sigset_t all;
	int nul;

	/* The embedder's signal handlers are still installed here: let none of them run. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	(void)prctl(PR_SET_NAME, "ebcc-zygote", 0, 0, 0);
	/* Hold nothing of the embedder's but what the children need: its socket (3), /dev/null
	 * (0-2, 4) and the shared network namespace (5); no working directory on its mounts. */
	nul = fcntl(p.devnull_fd, F_DUPFD_CLOEXEC, 10);
	if (nul < 0 || fcntl(z->fd, F_DUPFD_CLOEXEC, 10) < 0 || chdir("/") < 0)
		_exit(1);
	if (dup3(fcntl(z->fd, F_DUPFD_CLOEXEC, 10), 3, O_CLOEXEC) < 0 ||
	    dup3(nul, 4, O_CLOEXEC) < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 ||
	    dup2(nul, 2) < 0 ||
	    (p.shared_net_fd >= 0 &&
	     dup3(fcntl(p.shared_net_fd, F_DUPFD_CLOEXEC, 10), 5, O_CLOEXEC) < 0) ||
	    syscall(SYS_close_range, p.shared_net_fd >= 0 ? 6U : 5U, ~0U, 0) < 0)
		_exit(1);
	z->fd = 3;
	p.devnull_fd = p.image_fd = p.channel_fd = 4;
	if (p.shared_net_fd >= 0)
		p.shared_net_fd = 5;
	for (;;) {
		struct pollfd pfd = { .fd = z->fd, .events = POLLIN };
		uint64_t now = ebcc__sandbox_now_ms(), wake = UINT64_MAX;
		struct zcmd cmd;
		ssize_t n;
		int kind, timeout;

		for (kind = 0; kind < N_KINDS; kind++) {
			while (z->n[kind] > 0 &&
			       (now - z->c[kind][0].since_ms >= z->idle_ms || z->n[kind] > z->size)) {
				if (now - z->c[kind][0].since_ms >= z->idle_ms)
					z->want[kind] = false; /* quiet: fill again on demand */
				zygote_expire(z, kind, 0);
			}
			if (z->n[kind] > 0 && z->c[kind][0].since_ms + z->idle_ms < wake)
				wake = z->c[kind][0].since_ms + z->idle_ms;
		}
		if (!z->stopping) {
			for (kind = 0; kind < N_KINDS; kind++)
				if (z->want[kind] && z->n[kind] < z->size)
					break;
			if (kind < N_KINDS) {
				zygote_make(z, &p, kind);
				continue;
			}
		}
		timeout = wake == UINT64_MAX ? -1 : (int)(wake > now ? wake - now : 0);
		if (poll(&pfd, 1, timeout) <= 0)
			continue;
		n = recv(z->fd, &cmd, sizeof(cmd), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(cmd))
			break; /* the embedder is gone */
		kind = cmd.kind == KIND_HELPER ? KIND_HELPER : KIND_SANDBOX;
		if (cmd.type == C_TOOK) {
			zygote_forget(z, kind, cmd.pid);
			z->want[kind] = true;
		} else if (cmd.type == C_WANT) {
			z->want[kind] = true;
		} else if (cmd.type == C_CONFIG) {
			z->size = cmd.size;
			if (cmd.idle_ms > 0)
				z->idle_ms = cmd.idle_ms;
		} else if (cmd.type == C_STOP) {
			struct zmsg bye = { .type = Z_BYE };

			z->stopping = true;
			ebcc__sandbox_send_fds(z->fd, &bye, sizeof(bye), NULL, 0);
		}
	}
	/* The embedder went without stopping us. What it never took ends by itself: the
	 * embedder's copies of their sockets are closed, ours go with us (end of file), and their
	 * parent-death signal fires with the embedder. No kill(): their pids, which the embedder's
	 * reaper may already have freed, could name another process by now. */
	_exit(0);
}
