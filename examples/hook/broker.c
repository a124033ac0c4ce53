/* SPDX-License-Identifier: MIT */
/*
 * The broker: starts the container's composite, then serves its stages on the socket in the
 * socket directory until the poststop hook stops it (SIGTERM) or the container's process
 * exits. Each accepted connection whose peer belongs to the container gets a worker thread;
 * libebcc handles are thread-safe.
 *
 * The broker is the stages' keeper: it loads them (ebcc_instance_start) as a child subreaper,
 * so that the stage processes, which the backend detaches, are adopted by it rather than by
 * the runtime. On the way out it removes its socket, waits for the workers (bounded by their
 * I/O timeouts and the stages' own), and ends the stage processes. Once the container's
 * process has exited its composite is stopped, and libebcc unloads the stages of a stopped
 * composite only when it is deleted, at poststop; but crun's `run` waits for every process it
 * has adopted before it runs poststop, so stages left running would wait forever.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hook.h"

/* Connections served at once; more are refused with EBCC_ERR_BUSY rather than queued. */
#define WORKERS_MAX 32
/* Without a pidfd (kernels before 5.3) the anchor is checked this often. */
#define ANCHOR_POLL_MS 1000

struct broker {
	struct ebcc_instance *inst;
	struct hook_peer_rule rule;
	pthread_mutex_t lock;
	pthread_cond_t idle;
	int active;
};

struct worker {
	struct broker *b;
	int fd;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct broker *b = w->b;

	hook_serve_connection(b->inst, w->fd);
	close(w->fd);
	free(w);
	pthread_mutex_lock(&b->lock);
	if (--b->active == 0)
		pthread_cond_signal(&b->idle);
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

static void dispatch(struct broker *b, int fd)
{
	struct worker *w = malloc(sizeof(*w));
	pthread_attr_t attr;
	pthread_t thread;
	int full, r = -1;

	pthread_mutex_lock(&b->lock);
	full = b->active >= WORKERS_MAX;
	if (!full)
		b->active++;
	pthread_mutex_unlock(&b->lock);
	if (full || w == NULL) {
		hook_serve_refuse(fd, full ? EBCC_ERR_BUSY : EBCC_ERR_NO_MEMORY,
				  full ? "the broker serves too many connections; try again"
				       : "out of memory");
		goto fail;
	}
	*w = (struct worker){ .b = b, .fd = fd };
	if (pthread_attr_init(&attr) == 0) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		r = pthread_create(&thread, &attr, worker_main, w);
		pthread_attr_destroy(&attr);
	}
	if (r == 0)
		return;
	hook_serve_refuse(fd, EBCC_ERR_NO_MEMORY, "the broker cannot start a thread");
	pthread_mutex_lock(&b->lock);
	b->active--;
	pthread_mutex_unlock(&b->lock);
fail:
	free(w);
	close(fd);
}

static void accept_one(struct broker *b, int listen_fd)
{
	char why[256];
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0) {
		/* Out of descriptors: the connection stays queued; do not spin on it. */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
			usleep(100000);
		return;
	}
	if (hook_peer_check(fd, &b->rule, why, sizeof(why)) < 0) {
		hook_serve_refuse(fd, EBCC_ERR_PERMISSION, why);
		close(fd);
		return;
	}
	dispatch(b, fd);
}

/* Serves until a stop signal arrives or the anchor exits. */
static void serve(struct broker *b, int listen_fd, int signal_fd, int anchor_fd,
		  const struct hook_broker_params *p)
{
	for (;;) {
		struct pollfd fds[3] = {
			{ .fd = listen_fd, .events = POLLIN },
			{ .fd = signal_fd, .events = POLLIN },
			{ .fd = anchor_fd, .events = POLLIN },
		};
		int n = poll(fds, anchor_fd >= 0 ? 3 : 2, anchor_fd >= 0 ? -1 : ANCHOR_POLL_MS);

		if (n < 0 && errno != EINTR)
			return;
		if (n > 0 && (fds[1].revents != 0 || (anchor_fd >= 0 && fds[2].revents != 0)))
			return;
		if (anchor_fd < 0 && !hook_proc_running(p->anchor_pid, p->anchor_start))
			return;
		if (n > 0 && fds[0].revents != 0)
			accept_one(b, listen_fd);
	}
}

static int setup(const struct hook_broker_params *p, struct broker *b,
		 struct ebcc_context **ret_ctx, int *ret_signal_fd, int *ret_anchor_fd)
{
	sigset_t stop;
	int r;

	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGQUIT);
	/* Blocked before any thread exists, so that only the signalfd ever sees them. */
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	*ret_signal_fd = signalfd(-1, &stop, SFD_CLOEXEC);
	if (*ret_signal_fd < 0)
		return hook_error_errno(errno, "signalfd");
	*ret_anchor_fd = hook_proc_pidfd(p->anchor_pid, p->anchor_start);
	if (*ret_anchor_fd < 0 && errno != ENOSYS)
		return hook_error_errno(errno, "the container's process %d", (int)p->anchor_pid);
	if (hook_ns_read(p->anchor_pid, &b->rule) < 0)
		return hook_error_errno(errno, "namespaces of the container's process %d",
					(int)p->anchor_pid);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return hook_error_errno(errno, "becoming the stages' subreaper");
	if (hook_context_new(p->root, ret_ctx) < 0)
		return -1;
	r = ebcc_instance_open(*ret_ctx, p->id, &b->inst);
	if (r < 0)
		return hook_error_lib(r, "open composite %s", p->id);
	r = ebcc_instance_start(b->inst);
	return r < 0 ? hook_error_lib(r, "start composite %s (load its stages)", p->id) : 0;
}

int hook_broker_run(const struct hook_broker_params *p, int ready_fd)
{
	struct broker b = { .lock = PTHREAD_MUTEX_INITIALIZER, .idle = PTHREAD_COND_INITIALIZER };
	struct ebcc_context *ctx = NULL;
	int signal_fd = -1, anchor_fd = -1, code = 1;

	if (setup(p, &b, &ctx, &signal_fd, &anchor_fd) < 0) {
		hook_broker_ready(ready_fd, hook_error_message());
		close(ready_fd);
		goto out;
	}
	hook_broker_ready(ready_fd, NULL);
	close(ready_fd);
	serve(&b, p->listener->fd, signal_fd, anchor_fd, p);
	/* No new connections from here on; the ones being served finish. */
	hook_listener_remove(p->listener);
	pthread_mutex_lock(&b.lock);
	while (b.active > 0)
		pthread_cond_wait(&b.idle, &b.lock);
	pthread_mutex_unlock(&b.lock);
	code = 0;
out:
	hook_listener_close(p->listener);
	ebcc_instance_unref(b.inst);
	ebcc_context_unref(ctx);
	if (signal_fd >= 0)
		close(signal_fd);
	if (anchor_fd >= 0)
		close(anchor_fd);
	hook_proc_end_children();
	return code;
}
