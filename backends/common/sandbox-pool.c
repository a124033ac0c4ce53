/* SPDX-License-Identifier: MIT */
/*
 * The pool of pre-warmed sandboxes (see sandbox-pool.h), the embedder's side: the children the
 * zygote (sandbox-zygote.c) handed over, taking one under the lock, handing it a stage or a
 * helper's work, and starting and stopping the zygote.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ebcc-base.h"
#include "sandbox-plan.h"
#include "sandbox-pool.h"
#include "sandbox-zygote.h"

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
	pid_t adopted[2 * EBCC_SANDBOX_POOL_MAX]; /* ended children, to reap */
	unsigned n_adopted;
};

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

int ebcc__sandbox_pool_new(unsigned size, unsigned idle_ms, struct ebcc__sandbox_pool **ret)
{
	struct ebcc__sandbox_pool *pool;

	if (size > EBCC_SANDBOX_POOL_MAX || idle_ms == 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "sandbox pool: size %u not in 0..%d, or an idle limit of 0", size,
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
		ebcc__sandbox_send_fds(pool->zfd, &cmd, sizeof(cmd), NULL, 0);
}

static void list_remove(struct ebcc__sandbox_pool *pool, int kind, unsigned i)
{
	memmove(&pool->list[kind][i], &pool->list[kind][i + 1],
		(pool->n[kind] - i - 1) * sizeof(pool->list[kind][0]));
	pool->n[kind]--;
}

/* Reaps the adopted children that have exited (all of them, waiting, when `all`). */
static void reap_adopted(struct ebcc__sandbox_pool *pool, bool all)
{
	unsigned keep = 0;

	for (unsigned i = 0; i < pool->n_adopted; i++) {
		pid_t r;

		do
			r = waitpid(pool->adopted[i], NULL, all ? 0 : WNOHANG);
		while (r < 0 && errno == EINTR);
		if (r == 0)
			pool->adopted[keep++] = pool->adopted[i];
	}
	pool->n_adopted = keep;
}

bool ebcc__sandbox_pool_adopt(struct ebcc__sandbox_pool *pool, pid_t pid)
{
	bool taken = false;

	if (pool == NULL || pid <= 0 || getpid() != pool->owner)
		return false;
	pthread_mutex_lock(&pool->lock);
	if (pool->n_adopted == EBCC_ARRAY_SIZE(pool->adopted))
		reap_adopted(pool, false);
	if (pool->n_adopted < EBCC_ARRAY_SIZE(pool->adopted)) {
		pool->adopted[pool->n_adopted++] = pid;
		taken = true;
	}
	pthread_mutex_unlock(&pool->lock);
	return taken;
}

/* Reads what the zygote sent (under the lock). Blocking until Z_BYE when `until_bye`. Returns
 * true when Z_BYE was read. */
static bool drain(struct ebcc__sandbox_pool *pool, bool until_bye)
{
	reap_adopted(pool, false);
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
					    .status = fds[1], .since_ms = ebcc__sandbox_now_ms() };

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
	struct ebcc__spawn_record fail = { 0 };
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
			first.since_ms = ebcc__sandbox_now_ms();
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
		pid = ebcc__spawn_clone(0);
		if (pid == 0) {
			close(sv[0]);
			ebcc__sandbox_zygote_main(&z);
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
	reap_adopted(pool, true);
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
	if (pool->size == 0)
		return false; /* keeping none: not a miss */
	if (pool->n[kind] == 0) {
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
static int hand(struct parked *s, const struct plan *p, struct ebcc__spawn_record *fail)
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
	struct ebcc__spawn_record rec = { 0 };
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
	n = ebcc__spawn_read(s->status, -1, &rec);
	close(s->status);
	s->status = -1;
	if (n == 0)
		return 1;
	ebcc__sandbox_wait_pid(s->pid, NULL);
	s->pid = 0;
	/* STEP_PARK: it read the zygote's "go" (idle) before our stage: take another. */
	if (n == (ssize_t)sizeof(rec) && rec.kind == EBCC_SPAWN_FAIL && rec.step != STEP_PARK) {
		*fail = rec;
		return -1;
	}
	return 0;
}

int ebcc__sandbox_pool_spawn(struct ebcc__sandbox_pool *pool, const struct plan *p,
			     const struct ebcc__sandbox_spec *spec, pid_t *ret_pid, int *ret_level,
			     struct ebcc__spawn_record *fail)
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
		ebcc__sandbox_send_fds(h.ctl, &m, sizeof(m), &fd, 1);
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
