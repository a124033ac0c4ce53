/* SPDX-License-Identifier: MIT */
/*
 * ebcc-crun-helper: the host side of the crun handler plugin libcrun-ebcc. The plugin starts it
 * from crun (detached, own session) with one end of a socketpair on fd 3; everything that
 * touches libebcc happens here, through the public API:
 *
 *   1. create the composite of the container from its bundle (anchor=external), and open the
 *      stages' socket in the container's socket directory, while crun sets the container up;
 *   2. take the init's pid, which the kernel translates (SCM_CREDENTIALS), as the anchor;
 *   3. run ebcc-oci-hook's broker (examples/hook): it loads the stages, tells the init they are
 *      ready (or why not) and serves them until the container's process exits;
 *   4. remove the composite when crun removes the container's state directory (inotify on
 *      crun's state root): crun delete, crun run returning, and a failed create all end that
 *      way. Under a crun that waits for all its descendants (crun run in the foreground, a
 *      subreaper: --subreaper) it is removed when the container's process exits instead,
 *      because crun removes the state directory only after this process is gone.
 *
 * Settings come from crun's environment, which whoever runs crun controls (the operator, the
 * engine), never from the container's config, which its author controls:
 * EBCC_CRUN_STATE_ROOT (libebcc's state root) and EBCC_CRUN_RUN_DIR (where the socket
 * directories live; /run/ebcc-crun by default). See ebcc-crun-handler(7).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../examples/hook/hook.h"
#include "wire.h"

#define RUN_DIR_DEFAULT "/run/ebcc-crun"
/* A missed inotify event (the root replaced, the queue overflowing) costs at most this long. */
#define RECHECK_MS 2000

struct helper {
	const char *crun_root, *id, *bundle;
	int subreaper;
	char *state_root; /* NULL: the library's default */
	char *run_dir;
	char sock_dir[PATH_MAX];
	int fd;        /* to the container's init */
	int inotify_fd;
};

static int usage(void)
{
	fprintf(stderr, "usage: ebcc-crun-helper --crun-root DIR --id ID --bundle DIR "
			"[--subreaper]\n(started by crun's handler plugin libcrun-ebcc, on fd 3)\n");
	return 2;
}

/* ---- settings ------------------------------------------------------------------------ */

/* An absolute path from environment variable name, or def when it is unset. */
static int setting_path(const char *name, const char *def, char **ret)
{
	const char *value = secure_getenv(name);

	if (value != NULL && value[0] != '/')
		return hook_error("%s: \"%s\" is not an absolute path", name, value);
	if (value == NULL && def == NULL) {
		*ret = NULL;
		return 0;
	}
	*ret = strdup(value != NULL ? value : def);
	return *ret == NULL ? hook_error("out of memory") : 0;
}

static int read_settings(struct helper *h)
{
	return setting_path("EBCC_CRUN_STATE_ROOT", NULL, &h->state_root) < 0 ||
			       setting_path("EBCC_CRUN_RUN_DIR", RUN_DIR_DEFAULT, &h->run_dir) < 0
		       ? -1
		       : 0;
}

/* ---- crun's state directory ------------------------------------------------------------- */

static int state_dir_exists(const struct helper *h)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", h->crun_root, h->id);
	return stat(path, &st) == 0;
}

static int watch_state_dir(struct helper *h)
{
	h->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (h->inotify_fd < 0)
		return hook_error_errno(errno, "inotify");
	if (inotify_add_watch(h->inotify_fd, h->crun_root,
			      IN_DELETE | IN_MOVED_FROM | IN_DELETE_SELF | IN_MOVE_SELF) < 0)
		return hook_error_errno(errno, "watch crun's state root %s", h->crun_root);
	return 0;
}

/* Whether the events waiting say the container's directory (or the root) went. */
static int drain_events(struct helper *h)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int gone = 0;
	ssize_t n;

	while ((n = read(h->inotify_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;

			if ((e->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_Q_OVERFLOW)) != 0 ||
			    (e->len > 0 && strcmp(e->name, h->id) == 0))
				gone = 1;
			p += sizeof(*e) + e->len;
		}
	}
	return gone && !state_dir_exists(h);
}

/* Until crun has removed the container. */
static void wait_state_dir_gone(struct helper *h)
{
	while (state_dir_exists(h)) {
		struct pollfd p = { .fd = h->inotify_fd, .events = POLLIN };

		if (poll(&p, 1, RECHECK_MS) > 0 && drain_events(h))
			return;
	}
}

/* ---- the init's report --------------------------------------------------------------------- */

/* The init's pid, translated by the kernel; 0 when crun and the init are gone first. */
static pid_t wait_report(struct helper *h)
{
	for (;;) {
		struct pollfd p[2] = { { .fd = h->fd, .events = POLLIN },
				       { .fd = h->inotify_fd, .events = POLLIN } };
		union {
			char buf[CMSG_SPACE(sizeof(struct ucred))];
			struct cmsghdr align;
		} control;
		struct wire_report r;
		struct iovec iov = { .iov_base = &r, .iov_len = sizeof(r) };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = control.buf,
				      .msg_controllen = sizeof(control.buf) };
		struct cmsghdr *cm;
		ssize_t n;

		if (poll(p, 2, RECHECK_MS) < 0 && errno != EINTR)
			return 0;
		if (p[1].revents != 0 && drain_events(h))
			return 0;
		if (!state_dir_exists(h))
			return 0;
		if (p[0].revents == 0)
			continue;
		n = recvmsg(h->fd, &msg, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n != (ssize_t)sizeof(r) || r.magic != WIRE_REPORT_MAGIC)
			return 0;
		for (cm = CMSG_FIRSTHDR(&msg); cm != NULL; cm = CMSG_NXTHDR(&msg, cm)) {
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS) {
				struct ucred cred;

				memcpy(&cred, CMSG_DATA(cm), sizeof(cred));
				return cred.pid > 0 ? cred.pid : 0;
			}
		}
		return 0;
	}
}

/* ---- the composite ------------------------------------------------------------------------ */

static int create_composite(struct helper *h, struct ebcc_context **ret_ctx,
			    struct ebcc_instance **ret_inst)
{
	int r;

	if (hook_context_new(h->state_root, ret_ctx) < 0)
		return -1;
	r = hook_instance_create_external(*ret_ctx, h->id, h->bundle, ret_inst);
	if (r < 0)
		return hook_error_lib(r, "create composite %s from bundle %s", h->id, h->bundle);
	return 0;
}

static int open_socket_dir(struct helper *h, struct hook_listener *l)
{
	int n;

	/* The id names a directory under the run directory: one component, nothing else. */
	if (strchr(h->id, '/') != NULL || strcmp(h->id, ".") == 0 || strcmp(h->id, "..") == 0 ||
	    h->id[0] == '\0')
		return hook_error("container id \"%s\" cannot name a socket directory", h->id);

	/* The run directory is traversable, not listable: a container sees only its own. */
	if (mkdir(h->run_dir, 0711) < 0 && errno != EEXIST)
		return hook_error_errno(errno, "run directory %s", h->run_dir);
	n = snprintf(h->sock_dir, sizeof(h->sock_dir), "%s/%s", h->run_dir, h->id);
	if (n < 0 || (size_t)n >= sizeof(h->sock_dir) || (size_t)n >= WIRE_PATH_MAX)
		return hook_error("socket directory %s/%s: too long", h->run_dir, h->id);
	if (mkdir(h->sock_dir, 0755) < 0 && errno != EEXIST)
		return hook_error_errno(errno, "socket directory %s", h->sock_dir);
	return hook_listener_open(h->sock_dir, l);
}

static int send_socket_dir(struct helper *h)
{
	struct wire_socket_dir m = { .magic = WIRE_SOCKDIR_MAGIC };

	snprintf(m.path, sizeof(m.path), "%s", h->sock_dir);
	return send(h->fd, &m, sizeof(m), MSG_NOSIGNAL) == (ssize_t)sizeof(m) ? 0 : -1;
}

static void remove_socket_dir(struct helper *h)
{
	if (h->sock_dir[0] == '\0')
		return;
	hook_socket_unlink(h->sock_dir);
	rmdir(h->sock_dir);
}

static int serve(struct helper *h, pid_t pid, struct hook_listener *l,
		 struct ebcc_instance *inst)
{
	struct hook_broker_params p = { .root = h->state_root, .id = h->id, .anchor_pid = pid,
					.listener = l };
	int r = ebcc_instance_set_pid(inst, pid);

	if (r < 0)
		return hook_error_lib(r, "composite %s: container process %d as its anchor", h->id,
				      (int)pid);
	if (hook_proc_start_time(pid, &p.anchor_start) < 0)
		return hook_error("composite %s: the container's process %d is gone", h->id, (int)pid);
	if (send_socket_dir(h) < 0)
		return hook_error_errno(errno, "composite %s: the container's init", h->id);
	/* The broker answers the init (on h->fd, which it closes) and serves until the container's
	 * process exits. */
	hook_broker_run(&p, h->fd);
	h->fd = -1;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "crun-root", required_argument, NULL, 'r' },
		{ "id", required_argument, NULL, 'i' },
		{ "bundle", required_argument, NULL, 'b' },
		{ "subreaper", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	struct helper h = { .fd = WIRE_HELPER_FD, .inotify_fd = -1 };
	struct ebcc_context *ctx = NULL;
	struct ebcc_instance *inst = NULL;
	struct hook_listener l = { .fd = -1, .dir_fd = -1 };
	int opt, failed = 0, served = 0, created;
	pid_t pid;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'r': h.crun_root = optarg; break;
		case 'i': h.id = optarg; break;
		case 'b': h.bundle = optarg; break;
		case 's': h.subreaper = 1; break;
		default: return usage();
		}
	}
	if (optind != argc || h.crun_root == NULL || h.id == NULL || h.bundle == NULL ||
	    fcntl(WIRE_HELPER_FD, F_GETFD) < 0)
		return usage();
	signal(SIGPIPE, SIG_IGN);

	/* First what tells us when to give up, then the work that can fail, whose message is kept
	 * for the init. */
	if (watch_state_dir(&h) < 0 || read_settings(&h) < 0 || create_composite(&h, &ctx, &inst) < 0 ||
	    open_socket_dir(&h, &l) < 0)
		failed = 1;
	/* Without inotify (failed above) the wait polls crun's state directory instead. */
	pid = wait_report(&h);
	if (pid > 0 && !failed && serve(&h, pid, &l, inst) == 0)
		served = 1;
	else if (pid > 0)
		hook_broker_ready(h.fd, hook_error_message());
	created = inst != NULL;
	ebcc_instance_unref(inst);
	ebcc_context_unref(ctx);

	/* The container's process has exited, or the container never ran. */
	if (served && !h.subreaper)
		wait_state_dir_gone(&h);
	if (created)
		hook_composite_remove(h.state_root, h.id);
	hook_listener_close(&l);
	remove_socket_dir(&h);
	if (h.fd >= 0)
		close(h.fd);
	if (h.inotify_fd >= 0)
		close(h.inotify_fd);
	free(h.state_root);
	free(h.run_dir);
	return served ? 0 : 1;
}
