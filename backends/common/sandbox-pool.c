/* SPDX-License-Identifier: MIT */
/*
 * The pool of pre-warmed sandboxes (see sandbox-pool.h): its zygote, which makes parked
 * children and tells idle ones to go, and the hand-over of a stage (or of a helper's work) to
 * one of them.
 *
 * Why a zygote process, not a thread of the embedder and not a refill by the caller: a refill
 * by the caller after handing one out would put the cost of making a sandbox back into the
 * same call; and every fork of the embedder write-protects its memory, so that the embedder
 * then takes a copy-on-write fault for each page it writes, each with a TLB flush that a
 * second thread in its address space turns into an inter-processor interrupt (measured: a
 * thread that refilled the pool made each per-invocation call cost more CPU than it saved).
 * The zygote is forked once; it makes the parked children with CLONE_PARENT, so that they are
 * the embedder's children (waitpid() by pid, exit statuses, SIGCHLD, as for a stage spawned on
 * the spot) while their forks copy only the zygote's address space. It runs only
 * async-signal-safe code (a fork of a process that may have other threads). Its children's
 * parent-death signal is that of the thread that started the zygote (the first per-invocation
 * stage's caller).
 *
 * The protocol on the zygote's socket (SOCK_SEQPACKET): the zygote sends each parked child as a
 * struct zmsg with its descriptors (a sandbox: the embedder's end of its park socket and its
 * status pipe; a helper: its socket), Z_EXPIRED when it told an idle one to go (the embedder
 * then reaps it, if it has not handed it work meanwhile: the child acts on whichever message
 * it reads first, and says which through its status pipe or acknowledgement), Z_FAILED when it
 * could not make one; the embedder sends C_TOOK for each child it takes, C_WANT after a miss,
 * C_CONFIG for new limits and C_STOP, answered by Z_BYE once nothing more is on its way.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ebcc-private.h"
#include "sandbox-plan.h"
#include "sandbox-pool.h"

enum { KIND_SANDBOX, KIND_HELPER, N_KINDS };
enum { Z_PARKED = 1, Z_EXPIRED, Z_FAILED, Z_BYE };
enum { C_TOOK = 1, C_WANT, C_CONFIG, C_STOP };

struct zmsg {
	int32_t type, kind, pid, level, step, err;
};

struct zcmd {
	int32_t type, kind, pid;
	uint32_t size, idle_ms;
};

struct parked {
	pid_t pid;
	int level;
	int ctl;    /* the embedder's end of its socket */
	int status; /* a sandbox: the read end of its status pipe */
	uint64_t since_ms;
};

struct ebcc__sandbox_pool {
	pthread_mutex_t lock; /* guards everything below but owner */
	pid_t owner;          /* the process whose children the parked ones are */
	unsigned size, idle_ms;
	/* The plan the sandboxes are made for, from the first spawn: a stage whose plan differs
	 * (descriptor limit, hence the image's slot and the seccomp program) is spawned as usual. */
	bool shaped;
	uint32_t max_files;
	int child_image_fd;
	char uid_map[64];
	int level;          /* the namespace level the first sandbox got */
	pid_t zygote;       /* 0: not started */
	int zfd;            /* our end of its socket, or -1 */
	bool zygote_failed; /* it could not be started: the pool spawns nothing */
	bool starter_started, start_done;
	pthread_cond_t started; /* start_done */
	pthread_t starter;  /* started the zygote; waits on stop_pipe until the pool is freed */
	int stop_pipe[2];
	struct parked list[N_KINDS][EBCC_SANDBOX_POOL_MAX];
	unsigned n[N_KINDS];
	struct ebcc__sandbox_pool_stats stats;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void parked_end(struct parked *s)
{
	if (s->pid > 0) {
		(void)kill(s->pid, SIGKILL); /* an unreaped child: its pid cannot be reused */
		ebcc__sandbox_wait_pid(s->pid, NULL);
	}
	if (s->ctl >= 0)
		close(s->ctl);
	if (s->status >= 0)
		close(s->status);
	*s = (struct parked){ .pid = 0, .ctl = -1, .status = -1 };
}

static void zsend_fds(int fd, const void *msg, size_t len, const int *fds, int n_fds)
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

/* What a parked helper is handed. */
struct helper_msg {
	ebcc__sandbox_helper_fn fn;
	size_t len;
	unsigned char payload[EBCC_SANDBOX_HELPER_PAYLOAD_MAX];
};

/* A parked helper (async-signal-safe: a fork of a process with other threads). */
__attribute__((noreturn)) static void helper_main(int ctl)
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

/* ---- the zygote (async-signal-safe) ------------------------------------------------------- */

struct zchild {
	pid_t pid;
	int ctl; /* our copy of the embedder's end: to tell it to go */
	uint64_t since_ms;
};

struct zygote {
	const struct plan *plan;
	int fd, level;
	unsigned size, idle_ms;
	bool want[N_KINDS], stopping;
	struct zchild c[N_KINDS][EBCC_SANDBOX_POOL_MAX];
	unsigned n[N_KINDS];
};

/* Makes one parked child of the embedder and hands it over. */
static void zygote_make(struct zygote *z, const struct plan *plan, int kind)
{
	struct zmsg msg = { .type = Z_PARKED, .kind = kind, .level = z->level };
	struct record fail = { 0 };
	int sv[2], fds[2], n_fds = 1;
	pid_t pid = -1;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		fail = (struct record){ .step = STEP_PIPE, .err = errno };
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
		pid = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
		if (pid == 0) {
			close(sv[0]);
			close(z->fd);
			helper_main(sv[1]);
		}
		if (pid < 0) {
			fail = (struct record){ .step = STEP_CLONE, .err = errno };
			close(sv[0]);
			close(sv[1]);
			goto failed;
		}
	}
	close(sv[1]);
	fds[0] = sv[0];
	msg.pid = pid;
	zsend_fds(z->fd, &msg, sizeof(msg), fds, n_fds);
	if (n_fds == 2)
		close(fds[1]);
	z->c[kind][z->n[kind]++] = (struct zchild){ .pid = pid, .ctl = sv[0],
						    .since_ms = now_ms() };
	return;
failed:
	z->want[kind] = false; /* again on the next demand */
	msg = (struct zmsg){ .type = Z_FAILED, .kind = kind, .pid = pid > 0 ? pid : 0,
			     .step = fail.step, .err = fail.err };
	zsend_fds(z->fd, &msg, sizeof(msg), NULL, 0);
}

/* Tells child i of kind to go (a short message it reads instead of work) and the embedder to
 * reap it. */
static void zygote_expire(struct zygote *z, int kind, unsigned i)
{
	struct zmsg msg = { .type = Z_EXPIRED, .kind = kind, .pid = z->c[kind][i].pid };
	int32_t go = 0;

	(void)!send(z->c[kind][i].ctl, &go, sizeof(go), MSG_NOSIGNAL);
	close(z->c[kind][i].ctl);
	zsend_fds(z->fd, &msg, sizeof(msg), NULL, 0);
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

__attribute__((noreturn)) static void zygote_main(struct zygote *z)
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
		uint64_t now = now_ms(), wake = UINT64_MAX;
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
			zsend_fds(z->fd, &bye, sizeof(bye), NULL, 0);
		}
	}
	/* The embedder went without stopping us. What it never took ends by itself: the
	 * embedder's copies of their sockets are closed, ours go with us (end of file), and their
	 * parent-death signal fires with the embedder. No kill(): their pids, which the embedder's
	 * reaper may already have freed, could name another process by now. */
	_exit(0);
}

/* ---- the embedder's side -------------------------------------------------------------------- */

int ebcc__sandbox_pool_new(unsigned size, unsigned idle_ms, struct ebcc__sandbox_pool **ret)
{
	struct ebcc__sandbox_pool *pool;

	if (size == 0 || size > EBCC_SANDBOX_POOL_MAX || idle_ms == 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "sandbox pool: size %u not in 1..%d, or an idle limit of 0", size,
				   EBCC_SANDBOX_POOL_MAX);
	pool = calloc(1, sizeof(*pool));
	if (pool == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->started, NULL);
	pool->owner = getpid();
	pool->size = size;
	pool->idle_ms = idle_ms;
	pool->zfd = -1;
	*ret = pool;
	return 0;
}

static void zcmd_send(struct ebcc__sandbox_pool *pool, int type, int kind, pid_t pid)
{
	struct zcmd cmd = { .type = type, .kind = kind, .pid = pid, .size = pool->size,
			    .idle_ms = pool->idle_ms };

	if (pool->zfd >= 0)
		zsend_fds(pool->zfd, &cmd, sizeof(cmd), NULL, 0);
}

static void list_remove(struct ebcc__sandbox_pool *pool, int kind, unsigned i)
{
	memmove(&pool->list[kind][i], &pool->list[kind][i + 1],
		(pool->n[kind] - i - 1) * sizeof(pool->list[kind][0]));
	pool->n[kind]--;
}

/* Reads what the zygote sent (under the lock). Blocking until Z_BYE when `until_bye`. Returns
 * true when Z_BYE was read. */
static bool drain(struct ebcc__sandbox_pool *pool, bool until_bye)
{
	while (pool->zfd >= 0) {
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(2 * sizeof(int))];
		} control;
		struct zmsg m;
		struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
				      .msg_controllen = sizeof(control.buf) };
		struct cmsghdr *c;
		int fds[2] = { -1, -1 }, kind;
		ssize_t n;

		if (until_bye) {
			struct pollfd pfd = { .fd = pool->zfd, .events = POLLIN };

			if (poll(&pfd, 1, 5000) <= 0)
				return false;
		}
		n = recvmsg(pool->zfd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != (ssize_t)sizeof(m))
			return false;
		c = CMSG_FIRSTHDR(&msg);
		if (c != NULL && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(int)))
			memcpy(fds, CMSG_DATA(c),
			       c->cmsg_len - CMSG_LEN(0) < sizeof(fds) ? c->cmsg_len - CMSG_LEN(0)
								       : sizeof(fds));
		kind = m.kind == KIND_HELPER ? KIND_HELPER : KIND_SANDBOX;
		if (m.type == Z_BYE)
			return true;
		if (m.type == Z_PARKED && m.pid > 0) {
			struct parked s = { .pid = m.pid, .level = m.level, .ctl = fds[0],
					    .status = fds[1], .since_ms = now_ms() };

			if (pool->n[kind] < EBCC_SANDBOX_POOL_MAX && s.ctl >= 0 &&
			    (kind == KIND_HELPER || s.status >= 0)) {
				pool->list[kind][pool->n[kind]++] = s;
				pool->stats.made++;
			} else {
				parked_end(&s);
			}
			continue;
		}
		for (int i = 0; i < 2; i++)
			if (fds[i] >= 0)
				close(fds[i]);
		if (m.type == Z_EXPIRED) {
			/* Ours to reap, unless we handed it work meanwhile (then the hand-over
			 * found it gone and reaped it). */
			for (unsigned i = 0; i < pool->n[kind]; i++)
				if (pool->list[kind][i].pid == m.pid) {
					parked_end(&pool->list[kind][i]);
					list_remove(pool, kind, i);
					pool->stats.expired++;
					break;
				}
		} else if (m.type == Z_FAILED && m.pid > 0) {
			ebcc__sandbox_wait_pid(m.pid, NULL); /* a child of ours that died */
		}
	}
	return false;
}

/*
 * The thread that starts the zygote and then only waits for the pool to be freed: the
 * parent-death signal of the zygote's children is that of this thread, which lives as long as
 * the pool, not that of whichever thread of the embedder asked first (which may exit). It
 * sleeps: it takes no part in the embedder's TLB flushes.
 */
static void *starter_main(void *arg)
{
	struct ebcc__sandbox_pool *pool = arg;
	struct ebcc__sandbox_spec spec = { .image_fd = -1, .channel_fd = -1 };
	struct zygote z = { .want = { true, true } };
	struct record fail = { 0 };
	struct parked first = { .pid = 0, .ctl = -1, .status = -1 };
	struct plan p;
	int sv[2] = { -1, -1 }, csv[2], level = 0;
	pid_t pid = -1;
	char byte;

	pthread_mutex_lock(&pool->lock);
	spec.max_files = pool->max_files;
	z.size = pool->size;
	z.idle_ms = pool->idle_ms;
	pthread_mutex_unlock(&pool->lock);
	if (ebcc__sandbox_plan_init(&p, &spec) < 0)
		goto done;
	p.image_fd = p.devnull_fd; /* placeholders until the stage's own arrive */
	p.channel_fd = p.devnull_fd;
	/* The first parked sandbox, made here, finds the namespace level that works. */
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, csv) == 0) {
		p.park_fd = csv[1];
		if (ebcc__sandbox_launch_parked(&p, 0, &first.pid, &level, &first.status, &fail) ==
		    0) {
			first.ctl = csv[0];
			first.level = level;
			first.since_ms = now_ms();
		} else {
			first.pid = 0;
			close(csv[0]);
		}
		close(csv[1]);
	}
	if (first.pid > 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0) {
		p.park_fd = -1;
		p.zygote = true;
		z.plan = &p;
		z.fd = sv[1];
		z.level = level;
		/* The one already made counts against the size. */
		z.c[KIND_SANDBOX][0] = (struct zchild){ .pid = first.pid, .ctl = -1,
							.since_ms = first.since_ms };
		z.n[KIND_SANDBOX] = 1;
		pid = ebcc__sandbox_raw_clone(0);
		if (pid == 0) {
			close(sv[0]);
			zygote_main(&z);
		}
		close(sv[1]);
		if (pid < 0)
			close(sv[0]);
	}
	ebcc__sandbox_plan_clear(&p);
done:
	pthread_mutex_lock(&pool->lock);
	if (first.pid > 0) {
		pool->list[KIND_SANDBOX][pool->n[KIND_SANDBOX]++] = first;
		pool->stats.made++;
		pool->level = level;
	}
	if (pid > 0) {
		pool->zygote = pid;
		pool->zfd = sv[0];
	} else {
		pool->zygote_failed = true; /* stages are spawned on the spot */
	}
	pool->start_done = true;
	pthread_cond_broadcast(&pool->started);
	pthread_mutex_unlock(&pool->lock);
	while (read(pool->stop_pipe[0], &byte, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

/* Starts the starter thread (under the lock), once, with every signal blocked. */
static void zygote_start(struct ebcc__sandbox_pool *pool)
{
	sigset_t all, old;

	if (pool->starter_started || pool->zygote_failed)
		return;
	if (pipe2(pool->stop_pipe, O_CLOEXEC) < 0) {
		pool->zygote_failed = true;
		return;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pool->starter_started = pthread_create(&pool->starter, NULL, starter_main, pool) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!pool->starter_started) {
		close(pool->stop_pipe[0]);
		close(pool->stop_pipe[1]);
		pool->zygote_failed = true;
	}
}

void ebcc__sandbox_pool_configure(struct ebcc__sandbox_pool *pool, unsigned size, unsigned idle_ms)
{
	if (pool == NULL || getpid() != pool->owner)
		return;
	pthread_mutex_lock(&pool->lock);
	size = size > EBCC_SANDBOX_POOL_MAX ? EBCC_SANDBOX_POOL_MAX : size;
	if (size != pool->size || (idle_ms > 0 && idle_ms != pool->idle_ms)) {
		pool->size = size;
		if (idle_ms > 0)
			pool->idle_ms = idle_ms;
		zcmd_send(pool, C_CONFIG, 0, 0);
	}
	drain(pool, false);
	pthread_mutex_unlock(&pool->lock);
}

void ebcc__sandbox_pool_free(struct ebcc__sandbox_pool *pool)
{
	if (pool == NULL)
		return;
	if (getpid() != pool->owner) {
		/* A child of a fork(): the parked children and the zygote are the parent's. Only
		 * our copies of their descriptors go; the lock may have been held across the fork. */
		for (int kind = 0; kind < N_KINDS; kind++)
			for (unsigned i = 0; i < pool->n[kind]; i++) {
				close(pool->list[kind][i].ctl);
				if (pool->list[kind][i].status >= 0)
					close(pool->list[kind][i].status);
			}
		if (pool->zfd >= 0)
			close(pool->zfd);
		if (pool->starter_started) {
			close(pool->stop_pipe[0]);
			close(pool->stop_pipe[1]);
		}
		free(pool);
		return;
	}
	pthread_mutex_lock(&pool->lock);
	while (pool->starter_started && !pool->start_done)
		pthread_cond_wait(&pool->started, &pool->lock);
	if (pool->zfd >= 0) {
		/* Everything it made is then in our hands: end it all. */
		zcmd_send(pool, C_STOP, 0, 0);
		(void)drain(pool, true);
		close(pool->zfd);
		pool->zfd = -1;
		(void)kill(pool->zygote, SIGKILL);
		ebcc__sandbox_wait_pid(pool->zygote, NULL);
	}
	for (int kind = 0; kind < N_KINDS; kind++)
		for (unsigned i = 0; i < pool->n[kind]; i++)
			parked_end(&pool->list[kind][i]);
	pthread_mutex_unlock(&pool->lock);
	if (pool->starter_started) {
		close(pool->stop_pipe[1]);
		pthread_join(pool->starter, NULL);
		close(pool->stop_pipe[0]);
	}
	pthread_cond_destroy(&pool->started);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

void ebcc__sandbox_pool_stats(struct ebcc__sandbox_pool *pool, struct ebcc__sandbox_pool_stats *ret)
{
	*ret = (struct ebcc__sandbox_pool_stats){ 0 };
	if (pool == NULL || getpid() != pool->owner)
		return;
	pthread_mutex_lock(&pool->lock);
	drain(pool, false);
	*ret = pool->stats;
	ret->ready = pool->n[KIND_SANDBOX];
	ret->helpers_ready = pool->n[KIND_HELPER];
	pthread_mutex_unlock(&pool->lock);
}

/* Takes the oldest parked child of kind (under the lock), telling the zygote. */
static bool take_locked(struct ebcc__sandbox_pool *pool, int kind, struct parked *ret)
{
	drain(pool, false);
	if (pool->n[kind] == 0 || pool->size == 0) {
		if (kind == KIND_SANDBOX)
			pool->stats.misses++;
		else
			pool->stats.helper_misses++;
		zcmd_send(pool, C_WANT, kind, 0);
		return false;
	}
	*ret = pool->list[kind][0];
	list_remove(pool, kind, 0);
	zcmd_send(pool, C_TOOK, kind, ret->pid);
	return true;
}

static bool take(struct ebcc__sandbox_pool *pool, const struct plan *p,
		 const struct ebcc__sandbox_spec *spec, struct parked *ret)
{
	bool hit = false;

	pthread_mutex_lock(&pool->lock);
	if (!pool->shaped) {
		pool->shaped = true;
		pool->max_files = spec->max_files;
		pool->child_image_fd = p->child_image_fd;
		snprintf(pool->uid_map, sizeof(pool->uid_map), "%s", p->uid_map);
	}
	if (pool->child_image_fd == p->child_image_fd && strcmp(pool->uid_map, p->uid_map) == 0) {
		hit = take_locked(pool, KIND_SANDBOX, ret);
		if (!hit && pool->size > 0)
			zygote_start(pool); /* its first sandbox is for the next call */
	} else {
		pool->stats.misses++;
	}
	pthread_mutex_unlock(&pool->lock);
	return hit;
}

/* 1: the sandbox runs the stage; 0: it had gone (reaped); -1: it failed with *fail. */
static int hand(struct parked *s, const struct plan *p, struct record *fail)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(3 * sizeof(int))];
	} control;
	struct park_msg m = { .as = p->as, .cpu = p->cpu, .set_as = p->set_as,
			      .set_cpu = p->set_cpu, .has_attest = p->attest_fd >= 0 };
	int fds[3] = { p->image_fd, p->channel_fd, p->attest_fd }, n_fds = m.has_attest ? 3 : 2;
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = CMSG_SPACE((size_t)n_fds * sizeof(int)) };
	struct cmsghdr *c;
	struct record rec = { 0 };
	ssize_t n;

	snprintf(m.argv0, sizeof(m.argv0), "%s", p->argv[0]);
	memset(control.buf, 0, sizeof(control.buf));
	c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN((size_t)n_fds * sizeof(int));
	memcpy(CMSG_DATA(c), fds, (size_t)n_fds * sizeof(int));
	do
		n = sendmsg(s->ctl, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	close(s->ctl);
	s->ctl = -1;
	if (n != (ssize_t)sizeof(m)) {
		parked_end(s);
		return 0;
	}
	/* As on the spot: end of file means the exec happened, a record names what failed. */
	n = ebcc__sandbox_read_record(s->status, &rec);
	close(s->status);
	s->status = -1;
	if (n == 0)
		return 1;
	ebcc__sandbox_wait_pid(s->pid, NULL);
	s->pid = 0;
	/* STEP_PARK: it read the zygote's "go" (idle) before our stage: take another. */
	if (n == (ssize_t)sizeof(rec) && rec.kind == RECORD_FAIL && rec.step != STEP_PARK) {
		*fail = rec;
		return -1;
	}
	return 0;
}

int ebcc__sandbox_pool_spawn(struct ebcc__sandbox_pool *pool, const struct plan *p,
			     const struct ebcc__sandbox_spec *spec, pid_t *ret_pid, int *ret_level,
			     struct record *fail)
{
	struct parked s;

	if (getpid() != pool->owner)
		return 0; /* a child of a fork(): those sandboxes are not ours */
	while (take(pool, p, spec, &s)) {
		int r = hand(&s, p, fail);

		if (r < 0)
			return -1;
		if (r > 0) {
			pthread_mutex_lock(&pool->lock);
			pool->stats.hits++;
			pthread_mutex_unlock(&pool->lock);
			*ret_pid = s.pid;
			*ret_level = s.level;
			return 1;
		}
	}
	return 0;
}

int ebcc__sandbox_pool_helper(struct ebcc__sandbox_pool *pool, ebcc__sandbox_helper_fn fn,
			      const void *payload, size_t len, int fd, pid_t *ret_pid)
{
	struct helper_msg m = { .fn = fn, .len = len };
	int r = 0;

	if (pool == NULL || getpid() != pool->owner || len > sizeof(m.payload))
		return 0;
	memcpy(m.payload, payload, len);
	for (;;) {
		struct parked h;
		char ack = 0;
		ssize_t n;
		bool hit;

		pthread_mutex_lock(&pool->lock);
		hit = take_locked(pool, KIND_HELPER, &h);
		pthread_mutex_unlock(&pool->lock);
		if (!hit)
			break;
		zsend_fds(h.ctl, &m, sizeof(m), &fd, 1);
		/* It acknowledges, unless it read the zygote's "go" (idle) first. */
		do
			n = recv(h.ctl, &ack, 1, 0);
		while (n < 0 && errno == EINTR);
		close(h.ctl);
		h.ctl = -1;
		if (n == 1 && ack == 'A') {
			pthread_mutex_lock(&pool->lock);
			pool->stats.helper_hits++;
			pthread_mutex_unlock(&pool->lock);
			*ret_pid = h.pid;
			r = 1;
			break;
		}
		parked_end(&h); /* it had gone: the next one */
	}
	/* The payload may be a secret (sim: the monitor's signing key). */
	explicit_bzero(m.payload, sizeof(m.payload));
	return r;
}
