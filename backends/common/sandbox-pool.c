/* SPDX-License-Identifier: MIT */
/*
 * The pool of pre-warmed sandboxes (see sandbox-pool.h): its thread, which makes parked
 * children and ends the idle ones, and the hand-over of a stage to one of them.
 *
 * Why a thread and not a refill on demand by the caller: making a sandbox (a clone with new
 * namespaces, its uid maps) is what the pool exists to take out of the invocation, and a
 * refill by the caller after handing one out would put that cost back into the same call.
 * The parked children are the thread's children: their parent-death signal (SIGKILL) fires
 * when the thread ends, that is when the pool is freed or the process exits, and waitpid()
 * by pid works from every thread of the process.
 */
#include <errno.h>
#include <fcntl.h>
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

struct parked {
	pid_t pid;
	int level;
	int ctl;    /* our end of its park socket */
	int status; /* read end of its status pipe */
	uint64_t since_ms;
};

struct ebcc__sandbox_pool {
	pthread_mutex_t lock; /* guards everything below but owner */
	pthread_cond_t cond;  /* a take, a new configuration, stop */
	pid_t owner;          /* the process whose children the sandboxes are */
	unsigned size, idle_ms;
	bool wanted;          /* a sandbox was asked for since the pool last went quiet */
	bool stop, thread_started;
	/* The plan the sandboxes are made for, from the first spawn: a stage whose plan differs
	 * (descriptor limit, hence the image's slot and the seccomp program) is spawned as usual. */
	bool shaped;
	uint32_t max_files;
	int child_image_fd;
	char uid_map[64];
	struct parked ready[EBCC_SANDBOX_POOL_MAX];
	unsigned n_ready;
	bool helpers_wanted;
	struct parked helpers[EBCC_SANDBOX_POOL_MAX];
	unsigned n_helpers;
	struct ebcc__sandbox_pool_stats stats;
	pthread_t thread;
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

/* Makes one parked sandbox for the pool's plan (called without the lock). */
static int parked_make(uint32_t max_files, struct parked *ret)
{
	struct ebcc__sandbox_spec spec = { .image_fd = -1, .channel_fd = -1,
					   .max_files = max_files };
	struct record fail = { 0 };
	struct plan p;
	int sv[2], r;

	r = ebcc__sandbox_plan_init(&p, &spec);
	if (r < 0)
		return r;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = ebcc__error_errno(EBCC_ERR_IO, errno, "socketpair for a pooled sandbox");
		ebcc__sandbox_plan_clear(&p);
		return r;
	}
	/* Placeholders until the stage's own arrive: the child holds nothing else. */
	p.image_fd = p.devnull_fd;
	p.channel_fd = p.devnull_fd;
	p.park_fd = sv[1];
	*ret = (struct parked){ .ctl = sv[0], .status = -1 };
	r = ebcc__sandbox_launch_parked(&p, &ret->pid, &ret->level, &ret->status, &fail);
	close(sv[1]);
	ebcc__sandbox_plan_clear(&p);
	if (r < 0) {
		close(sv[0]);
		*ret = (struct parked){ .ctl = -1, .status = -1 };
		return ebcc__error(EBCC_ERR_BACKEND, "a pooled sandbox could not be made (step %d: %s)",
				   fail.step, strerror(fail.err));
	}
	ret->since_ms = now_ms();
	return 0;
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
	close(3);
	/* From now on it is the backend's process, which ends as it would on the spot. */
	(void)prctl(PR_SET_PDEATHSIG, 0);
	m.fn(m.payload, m.len, fd);
	_exit(127);
}

static int helper_make(struct parked *ret)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid = ebcc__sandbox_raw_clone(0);
	if (pid == 0) {
		close(sv[0]);
		helper_main(sv[1]);
	}
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		return -1;
	}
	*ret = (struct parked){ .pid = pid, .ctl = sv[0], .status = -1, .since_ms = now_ms() };
	return 0;
}

/* Moves what expired (or is above size) from list to end; the oldest come first. */
static unsigned expire(struct ebcc__sandbox_pool *pool, struct parked *list, unsigned *n,
		       uint64_t now, struct parked *end, unsigned n_end)
{
	unsigned keep = 0;

	for (unsigned i = 0; i < *n; i++) {
		bool idle = now - list[i].since_ms >= pool->idle_ms;

		if (idle || *n - i > pool->size) {
			end[n_end++] = list[i];
			if (idle) /* quiet: fill again on demand */
				*(list == pool->ready ? &pool->wanted : &pool->helpers_wanted) = false;
		} else {
			list[keep++] = list[i];
		}
	}
	*n = keep;
	return n_end;
}

static void *pool_thread(void *arg)
{
	struct ebcc__sandbox_pool *pool = arg;
	struct parked end[2 * EBCC_SANDBOX_POOL_MAX];

	pthread_mutex_lock(&pool->lock);
	while (!pool->stop) {
		uint64_t now = now_ms(), wake = 0;
		unsigned n_end;

		n_end = expire(pool, pool->ready, &pool->n_ready, now, end, 0);
		n_end = expire(pool, pool->helpers, &pool->n_helpers, now, end, n_end);
		pool->stats.expired += n_end;
		if (n_end > 0) {
			pthread_mutex_unlock(&pool->lock);
			for (unsigned i = 0; i < n_end; i++)
				parked_end(&end[i]);
			pthread_mutex_lock(&pool->lock);
			continue;
		}
		if (pool->wanted && pool->n_ready < pool->size) {
			struct parked s;
			uint32_t files = pool->max_files;
			int r;

			pthread_mutex_unlock(&pool->lock);
			r = parked_make(files, &s);
			pthread_mutex_lock(&pool->lock);
			if (r < 0) {
				/* Try again on the next demand; the stage spawned on the spot will
				 * say what is wrong. */
				pool->wanted = false;
			} else if (pool->stop || pool->n_ready >= pool->size ||
				   files != pool->max_files) {
				pthread_mutex_unlock(&pool->lock);
				parked_end(&s);
				pthread_mutex_lock(&pool->lock);
			} else {
				pool->ready[pool->n_ready++] = s;
				pool->stats.made++;
			}
			continue;
		}
		if (pool->helpers_wanted && pool->n_helpers < pool->size) {
			struct parked h;
			int r;

			pthread_mutex_unlock(&pool->lock);
			r = helper_make(&h);
			pthread_mutex_lock(&pool->lock);
			if (r < 0) {
				pool->helpers_wanted = false;
			} else if (pool->stop || pool->n_helpers >= pool->size) {
				pthread_mutex_unlock(&pool->lock);
				parked_end(&h);
				pthread_mutex_lock(&pool->lock);
			} else {
				pool->helpers[pool->n_helpers++] = h;
			}
			continue;
		}
		if (pool->n_ready > 0 || pool->n_helpers > 0) {
			struct timespec ts;

			wake = UINT64_MAX;
			if (pool->n_ready > 0)
				wake = pool->ready[0].since_ms + pool->idle_ms;
			if (pool->n_helpers > 0 && pool->helpers[0].since_ms + pool->idle_ms < wake)
				wake = pool->helpers[0].since_ms + pool->idle_ms;
			ts.tv_sec = (time_t)(wake / 1000);
			ts.tv_nsec = (long)(wake % 1000) * 1000000;
			pthread_cond_timedwait(&pool->cond, &pool->lock, &ts);
		} else {
			pthread_cond_wait(&pool->cond, &pool->lock);
		}
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

int ebcc__sandbox_pool_new(unsigned size, unsigned idle_ms, struct ebcc__sandbox_pool **ret)
{
	struct ebcc__sandbox_pool *pool;
	pthread_condattr_t attr;

	if (size == 0 || size > EBCC_SANDBOX_POOL_MAX || idle_ms == 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "sandbox pool: size %u not in 1..%d, or an idle limit of 0", size,
				   EBCC_SANDBOX_POOL_MAX);
	pool = calloc(1, sizeof(*pool));
	if (pool == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	if (pthread_condattr_init(&attr) != 0) {
		free(pool);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->cond, &attr);
	pthread_condattr_destroy(&attr);
	pool->owner = getpid();
	pool->size = size;
	pool->idle_ms = idle_ms;
	*ret = pool;
	return 0;
}

void ebcc__sandbox_pool_configure(struct ebcc__sandbox_pool *pool, unsigned size, unsigned idle_ms)
{
	if (pool == NULL || getpid() != pool->owner)
		return;
	pthread_mutex_lock(&pool->lock);
	pool->size = size > EBCC_SANDBOX_POOL_MAX ? EBCC_SANDBOX_POOL_MAX : size;
	if (idle_ms > 0)
		pool->idle_ms = idle_ms;
	pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
}

void ebcc__sandbox_pool_free(struct ebcc__sandbox_pool *pool)
{
	if (pool == NULL)
		return;
	if (getpid() != pool->owner) {
		/* A child of a fork(): the sandboxes and the thread are the parent's. Only our
		 * copies of its descriptors go; the lock may have been held across the fork. */
		for (unsigned i = 0; i < pool->n_ready; i++) {
			close(pool->ready[i].ctl);
			close(pool->ready[i].status);
		}
		for (unsigned i = 0; i < pool->n_helpers; i++)
			close(pool->helpers[i].ctl);
		free(pool);
		return;
	}
	pthread_mutex_lock(&pool->lock);
	pool->stop = true;
	pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	if (pool->thread_started)
		pthread_join(pool->thread, NULL);
	for (unsigned i = 0; i < pool->n_ready; i++)
		parked_end(&pool->ready[i]);
	for (unsigned i = 0; i < pool->n_helpers; i++)
		parked_end(&pool->helpers[i]);
	pthread_cond_destroy(&pool->cond);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

void ebcc__sandbox_pool_stats(struct ebcc__sandbox_pool *pool, struct ebcc__sandbox_pool_stats *ret)
{
	*ret = (struct ebcc__sandbox_pool_stats){ 0 };
	if (pool == NULL || getpid() != pool->owner)
		return;
	pthread_mutex_lock(&pool->lock);
	*ret = pool->stats;
	ret->ready = pool->n_ready;
	ret->helpers_ready = pool->n_helpers;
	pthread_mutex_unlock(&pool->lock);
}

/* Starts the thread with every signal blocked: the embedder's handlers never run on it. */
static void thread_start(struct ebcc__sandbox_pool *pool)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pool->thread_started = pthread_create(&pool->thread, NULL, pool_thread, pool) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* Takes the oldest parked sandbox made for plan p, or none. */
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
		pool->wanted = pool->size > 0;
		if (pool->n_ready > 0) {
			*ret = pool->ready[0];
			memmove(&pool->ready[0], &pool->ready[1],
				(pool->n_ready - 1) * sizeof(pool->ready[0]));
			pool->n_ready--;
			hit = true;
		}
	}
	if (!hit)
		pool->stats.misses++;
	if (!pool->thread_started && (pool->wanted || pool->helpers_wanted) && !pool->stop)
		thread_start(pool);
	pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	return hit;
}

/* 1: the sandbox runs the stage; 0: it had died (ended, reaped); -1: it failed with *fail. */
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
	if (n == (ssize_t)sizeof(rec) && rec.kind == RECORD_FAIL) {
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
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct helper_msg m = { .fn = fn, .len = len };
	struct iovec iov = { .iov_base = &m, .iov_len = sizeof(m) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *c;
	int r = 0;

	if (pool == NULL || getpid() != pool->owner || len > sizeof(m.payload))
		return 0;
	memcpy(m.payload, payload, len);
	for (;;) {
		struct parked h;
		bool hit = false;
		ssize_t n;

		pthread_mutex_lock(&pool->lock);
		pool->helpers_wanted = pool->size > 0;
		if (pool->n_helpers > 0) {
			h = pool->helpers[0];
			memmove(&pool->helpers[0], &pool->helpers[1],
				(pool->n_helpers - 1) * sizeof(pool->helpers[0]));
			pool->n_helpers--;
			hit = true;
		} else {
			pool->stats.helper_misses++;
		}
		if (!pool->thread_started && pool->helpers_wanted && !pool->stop)
			thread_start(pool);
		pthread_cond_signal(&pool->cond);
		pthread_mutex_unlock(&pool->lock);
		if (!hit)
			break;
		memset(control.buf, 0, sizeof(control.buf));
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(fd));
		do
			n = sendmsg(h.ctl, &msg, MSG_NOSIGNAL);
		while (n < 0 && errno == EINTR);
		close(h.ctl);
		h.ctl = -1;
		if (n == (ssize_t)sizeof(m)) {
			pthread_mutex_lock(&pool->lock);
			pool->stats.helper_hits++;
			pthread_mutex_unlock(&pool->lock);
			*ret_pid = h.pid;
			r = 1;
			break;
		}
		parked_end(&h); /* it had died: the next one */
	}
	/* The payload may be a secret (sim: the monitor's signing key). */
	explicit_bzero(m.payload, sizeof(m.payload));
	return r;
}
