/* SPDX-License-Identifier: MIT */
/*
 * libcrun-ebcc: a crun handler plugin (handler "ebcc") that makes a container a libebcc
 * composite, in an unmodified crun. See ebcc-crun-handler(7).
 *
 * crun dlopens every file of its handler directory in every command it runs (`crun --version`
 * and `crun list` included), so this file depends on libc alone and does no work unless a
 * container selected the handler. All libebcc work happens in ebcc-crun-helper, a host program
 * started here, from modify_oci_configuration (the crun process, host namespaces): the
 * container's init is a clone of crun and must not carry a library it did not ask for.
 *
 *   modify_oci_configuration   start the helper (detached) with one end of a socketpair
 *   configure BEFORE_MOUNTS    the init reports its pid (SCM_CREDENTIALS) and waits until the
 *                              composite exists with its stages loaded; else fails with why
 *   configure MOUNTS           make /run/ebcc in the rootfs while it is writable
 *   configure AFTER_MOUNTS     bind-mount the stages' socket directory there, read-only
 *   run_func, exec_func        execv: the container's own program is the composite's anchor
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "abi.h"
#include "wire.h"

#ifndef EBCC_CRUN_HELPER
#error "EBCC_CRUN_HELPER (the helper's absolute path) is set by the build"
#endif

#define NAME "ebcc"
/* Where the container finds its stages' socket (ebcc-call's default directory). */
#define MOUNT_PARENT "run"
#define MOUNT_LEAF "ebcc"
/* The init gives up on a helper that neither answers nor exits. */
#define READY_TIMEOUT_S 120

#define EXPORT __attribute__((visibility("default")))

struct cookie {
	int fd; /* the init's end of the socketpair; -1 until modify_oci_configuration */
	char socket_dir[WIRE_PATH_MAX];
};

/* ---- errors, as crun takes them ----------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static int fail(struct crun_error **err, int errnum,
							const char *fmt, ...)
{
	struct crun_error *e;
	va_list ap;
	char *msg;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&msg, fmt, ap);
	va_end(ap);
	e = malloc(sizeof(*e));
	if (n < 0 || e == NULL) {
		free(e);
		if (n >= 0)
			free(msg);
		/* Nothing to say it with; crun reports the failure without a message. */
		return -1;
	}
	e->status = errnum;
	e->msg = msg;
	if (err != NULL) {
		if (*err != NULL) {
			free((*err)->msg);
			free(*err);
		}
		*err = e;
	} else {
		free(msg);
		free(e);
	}
	return -1;
}

/* ---- load, unload ------------------------------------------------------------------------- */

static int ebcc_load(void **cookie, struct crun_error **err)
{
	struct cookie *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return fail(err, ENOMEM, NAME ": out of memory");
	c->fd = -1;
	*cookie = c;
	return 0;
}

static int ebcc_unload(void *cookie, struct crun_error **err)
{
	struct cookie *c = cookie;

	(void)err;
	if (c != NULL && c->fd >= 0)
		close(c->fd);
	free(c);
	return 0;
}

/* ---- modify_oci_configuration: the helper ------------------------------------------------- */

/* crun's state directory of the container: <root>/<id>, root as crun chooses it. */
static int crun_state_root(const struct crun_context_prefix *ctx, char *buf, size_t size)
{
	const char *xdg;
	int n;

	if (ctx->state_root != NULL)
		n = snprintf(buf, size, "%s", ctx->state_root);
	else if (geteuid() == 0)
		n = snprintf(buf, size, "/run/crun");
	else if ((xdg = getenv("XDG_RUNTIME_DIR")) != NULL && xdg[0] == '/')
		n = snprintf(buf, size, "%s/crun", xdg);
	else
		return -1;
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* In the grandchild of crun, before exec: only what is safe after fork. On failure the init
 * still gets a message (the helper's end is fd 3), so that crun shows why. */
__attribute__((noreturn)) static void exec_helper(int fd, char *const argv[])
{
	struct wire_ready m = { .pid = getpid(), .ok = 0 };
	sigset_t none;
	int null;

	if (fd != WIRE_HELPER_FD) {
		if (dup2(fd, WIRE_HELPER_FD) < 0)
			_exit(127);
	} else {
		fcntl(fd, F_SETFD, 0);
	}
	/* Nothing of crun's (its sync sockets, the exec fifo, the terminal) may stay open in the
	 * helper: crun and its callers wait for some of them to close. */
	close_range(WIRE_HELPER_FD + 1, ~0U, 0);
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	for (int signo = 1; signo < NSIG; signo++)
		if (signo != SIGKILL && signo != SIGSTOP)
			signal(signo, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv(EBCC_CRUN_HELPER, argv);
	snprintf(m.text, sizeof(m.text), "cannot run %s: %s", EBCC_CRUN_HELPER,
		 strerror(errno));
	if (write(WIRE_HELPER_FD, &m, sizeof(m)) < 0)
		_exit(127);
	_exit(127);
}

static int ebcc_modify_oci_configuration(void *cookie, struct crun_context_prefix *ctx, void *def,
					 struct crun_error **err)
{
	struct cookie *c = cookie;
	char root[PATH_MAX], status_file[PATH_MAX + 64], bundle[PATH_MAX];
	int sv[2], one = 1, subreaper = 0, wstatus;
	pid_t child;
	int n;

	(void)def;
	if (c == NULL || ctx == NULL || ctx->id == NULL)
		return fail(err, EINVAL, NAME ": crun gave no container id");
	if (crun_state_root(ctx, root, sizeof(root)) < 0)
		return fail(err, EINVAL, NAME ": cannot tell crun's state directory (no --root, "
				  "not root, no XDG_RUNTIME_DIR)");
	/* crun update calls this too, for a container that runs: its status file exists, which
	 * crun writes only once the container is created. */
	n = snprintf(status_file, sizeof(status_file), "%s/%s/status", root, ctx->id);
	if (n < 0 || (size_t)n >= sizeof(status_file))
		return fail(err, ENAMETOOLONG, NAME ": state directory of %s is too long", ctx->id);
	if (access(status_file, F_OK) == 0)
		return 0;
	if (c->fd >= 0)
		return fail(err, EBUSY, NAME ": container %s already has a helper", ctx->id);
	if (realpath(ctx->bundle != NULL ? ctx->bundle : ".", bundle) == NULL)
		return fail(err, errno, NAME ": bundle %s: %s", ctx->bundle ? ctx->bundle : ".",
			    strerror(errno));
	/* crun run in the foreground is a subreaper that waits for every descendant before it
	 * removes the container: the helper must then end with the container's process. */
	if (prctl(PR_GET_CHILD_SUBREAPER, &subreaper) < 0)
		subreaper = 0;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return fail(err, errno, NAME ": socketpair: %s", strerror(errno));
	if (setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
		int saved = errno;

		close(sv[0]);
		close(sv[1]);
		return fail(err, saved, NAME ": SO_PASSCRED: %s", strerror(saved));
	}
	{
		/* execv's argv is not const; nothing writes to it. */
		char *const argv[] = { (char *)"ebcc-crun-helper", (char *)"--crun-root", root,
				       (char *)"--id", (char *)ctx->id, (char *)"--bundle", bundle,
				       subreaper ? (char *)"--subreaper" : NULL, NULL };

		child = fork();
		if (child == 0) {
			/* Own session, and not crun's child: crun create returns at once. */
			close(sv[0]);
			if (setsid() < 0)
				_exit(127);
			child = fork();
			if (child != 0)
				_exit(child < 0 ? 127 : 0);
			exec_helper(sv[1], argv);
		}
	}
	close(sv[1]);
	if (child < 0) {
		int saved = errno;

		close(sv[0]);
		return fail(err, saved, NAME ": fork: %s", strerror(saved));
	}
	while (waitpid(child, &wstatus, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
		close(sv[0]);
		return fail(err, 0, NAME ": could not start %s", EBCC_CRUN_HELPER);
	}
	c->fd = sv[0];
	return 0;
}

/* ---- configure_container ------------------------------------------------------------------ */

static int report_pid(int fd)
{
	struct wire_report r = { .magic = WIRE_REPORT_MAGIC };
	struct ucred cred = { .pid = getpid(), .uid = getuid(), .gid = getgid() };
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = &r, .iov_len = sizeof(r) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *cm;
	ssize_t n;

	memset(&control, 0, sizeof(control));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_CREDENTIALS;
	cm->cmsg_len = CMSG_LEN(sizeof(struct ucred));
	memcpy(CMSG_DATA(cm), &cred, sizeof(cred));
	while ((n = sendmsg(fd, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	return n == (ssize_t)sizeof(r) ? 0 : -1;
}

/* In the container's init (host mount view, full capabilities): the pid goes to the helper,
 * then the init waits until the composite is ready, taking the socket directory on the way. */
static int before_mounts(struct cookie *c, const char *id, struct crun_error **err)
{
	struct timeval tv = { .tv_sec = READY_TIMEOUT_S };
	union {
		struct wire_socket_dir dir;
		struct wire_ready ready;
	} m;

	if (c->fd < 0)
		return fail(err, EINVAL, NAME ": no helper was started for container %s", id);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (report_pid(c->fd) < 0)
		return fail(err, errno, NAME ": container %s: the helper is gone (%s)", id,
			    strerror(errno));
	for (;;) {
		ssize_t n = recv(c->fd, &m, sizeof(m), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return fail(err, ETIMEDOUT, NAME ": container %s: no answer from the helper "
					  "in %d s", id, READY_TIMEOUT_S);
		if (n <= 0)
			return fail(err, n < 0 ? errno : EPIPE, NAME ": container %s: the helper "
				    "exited before the composite was ready", id);
		if (n == (ssize_t)sizeof(m.dir) && m.dir.magic == WIRE_SOCKDIR_MAGIC) {
			m.dir.path[sizeof(m.dir.path) - 1] = '\0';
			memcpy(c->socket_dir, m.dir.path, sizeof(c->socket_dir));
			continue;
		}
		if (n != (ssize_t)sizeof(m.ready))
			return fail(err, EPROTO, NAME ": container %s: a message of %zd bytes from "
				    "the helper", id, n);
		m.ready.text[sizeof(m.ready.text) - 1] = '\0';
		if (!m.ready.ok)
			return fail(err, 0, NAME ": %s", m.ready.text);
		close(c->fd);
		c->fd = -1;
		return 0;
	}
}

/* <rootfs>/run, and ebcc in it, made if missing, without following any link the image holds.
 * Returns the descriptor of <rootfs>/run. */
static int open_mount_parent(const char *rootfs, struct crun_error **err)
{
	int fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC), next;

	if (fd < 0)
		return fail(err, errno, NAME ": rootfs %s: %s", rootfs, strerror(errno));
	if (mkdirat(fd, MOUNT_PARENT, 0755) < 0 && errno != EEXIST) {
		int saved = errno;

		close(fd);
		return fail(err, saved, NAME ": cannot make /run in the rootfs %s: %s", rootfs,
			    strerror(saved));
	}
	next = openat(fd, MOUNT_PARENT, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(fd);
	if (next < 0)
		return fail(err, errno, NAME ": /run in the rootfs %s: %s (a link?)", rootfs,
			    strerror(errno));
	if (mkdirat(next, MOUNT_LEAF, 0755) < 0 && errno != EEXIST) {
		int saved = errno;

		close(next);
		return fail(err, saved, NAME ": cannot make /run/ebcc in the rootfs %s: %s", rootfs,
			    strerror(saved));
	}
	return next;
}

/* ebcc in the directory parent, as a path mount(2) takes, without following a link. */
static int open_leaf(int parent, char *path, size_t size, struct crun_error **err)
{
	int fd = openat(parent, MOUNT_LEAF, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return fail(err, errno, NAME ": /run/ebcc in the rootfs: %s (a link?)",
			    strerror(errno));
	snprintf(path, size, "/proc/self/fd/%d", fd);
	return fd;
}

/* MOUNTS: the rootfs is still writable (a read-only root is remounted later): make the mount
 * point now, best effort; a failure is reported at AFTER_MOUNTS, which needs it. */
static void make_mount_point(const char *rootfs)
{
	int fd;

	if (rootfs == NULL)
		return;
	fd = open_mount_parent(rootfs, NULL);
	if (fd >= 0)
		close(fd);
}

/* AFTER_MOUNTS: after the config's own mounts, so that a tmpfs on /run (containerd's default
 * spec has one) does not cover the socket directory. */
static int mount_socket_dir(struct cookie *c, const char *rootfs, struct crun_error **err)
{
	char target[64];
	int parent, fd, r = 0;

	if (c->socket_dir[0] == '\0' || rootfs == NULL)
		return 0;
	parent = open_mount_parent(rootfs, err);
	if (parent < 0)
		return -1;
	fd = open_leaf(parent, target, sizeof(target), err);
	if (fd < 0) {
		close(parent);
		return -1;
	}
	if (mount(c->socket_dir, target, NULL, MS_BIND, NULL) < 0) {
		r = fail(err, errno, NAME ": bind-mount %s at /run/ebcc: %s", c->socket_dir,
			 strerror(errno));
		goto out;
	}
	/* The remount needs the new mount's root, not the directory it covers. */
	close(fd);
	fd = open_leaf(parent, target, sizeof(target), err);
	if (fd < 0) {
		r = -1;
		goto out;
	}
	if (mount(NULL, target, NULL,
		  MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		r = fail(err, errno, NAME ": make /run/ebcc read-only: %s", strerror(errno));
out:
	if (fd >= 0)
		close(fd);
	close(parent);
	return r;
}

static int ebcc_configure_container(void *cookie, int phase, struct crun_context_prefix *ctx,
				    void *container, const char *rootfs, struct crun_error **err)
{
	struct cookie *c = cookie;

	(void)container;
	if (c == NULL)
		return fail(err, EINVAL, NAME ": the handler was not loaded");
	switch (phase) {
	case CRUN_CONFIGURE_BEFORE_MOUNTS:
		return before_mounts(c, ctx != NULL && ctx->id != NULL ? ctx->id : "?", err);
	case CRUN_CONFIGURE_MOUNTS:
		if (c->socket_dir[0] != '\0')
			make_mount_point(rootfs);
		return 0;
	case CRUN_CONFIGURE_AFTER_MOUNTS:
		return mount_socket_dir(c, rootfs, err);
	default:
		return 0;
	}
}

/* ---- run_func, exec_func ------------------------------------------------------------------ */

/* Nothing but exec: the container's program keeps the pid crun reports and the composite holds
 * as its anchor. crun returns a non-zero value as the errno of its error. */
static int ebcc_exec(void *cookie, void *container, const char *pathname, char *const argv[])
{
	(void)cookie;
	(void)container;
	execv(pathname, argv);
	return errno != 0 ? errno : EINVAL;
}

/* The table, followed by zeroes for the callbacks later crun releases append. */
static struct {
	struct crun_handler table;
	void *tail[32];
} handler = {
	.table = {
		.name = NAME,
		.feature_string = "EBCC",
		.alias = NULL,
		.load = ebcc_load,
		.unload = ebcc_unload,
		.run_func = ebcc_exec,
		.exec_func = ebcc_exec,
		.configure_container = ebcc_configure_container,
		/* Only a container that names the handler gets it. */
		.can_handle_container = NULL,
		.modify_oci_configuration = ebcc_modify_oci_configuration,
	},
};

EXPORT struct crun_handler *run_oci_handler_get_handler(void);

struct crun_handler *run_oci_handler_get_handler(void)
{
	return &handler.table;
}
