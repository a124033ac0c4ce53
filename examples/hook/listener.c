/* SPDX-License-Identifier: MIT */
/*
 * The stages' socket, <socketDir>/ebcc.sock, in the directory that config.json bind-mounts
 * into the container. The directory must already exist when the runtime sets up the mounts
 * (before this hook runs); it is opened once and everything else happens relative to it, so
 * that the socket lands where it was checked.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "hook.h"
#include "protocol.h"

#define BACKLOG 64
/* Anyone may connect: file modes cannot say "processes of this container" (whose uid may be
 * mapped by a user namespace); the broker checks each peer's namespaces instead. */
#define SOCKET_MODE 0666

/* The address of name in the directory dir_fd, through /proc so that no path is re-resolved. */
static int address_in(int dir_fd, const char *name, struct sockaddr_un *addr)
{
	int n;

	*addr = (struct sockaddr_un){ .sun_family = AF_UNIX };
	n = snprintf(addr->sun_path, sizeof(addr->sun_path), "/proc/self/fd/%d/%s", dir_fd, name);
	return n > 0 && (size_t)n < sizeof(addr->sun_path) ? 0 : -1;
}

static int open_dir(const char *dir, int *ret_fd)
{
	struct stat st;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return hook_error_errno(errno, "socket directory %s (tools.ociHook.socketDir; it "
					       "must exist before the runtime mounts it)",
					dir);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return hook_error_errno(errno, "socket directory %s", dir);
	}
	/* Whoever else could write there could swap the socket under the container. */
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		close(fd);
		return hook_error("socket directory %s: must be owned by uid %d and writable by "
				  "nobody else (it is uid %d, mode %04o)",
				  dir, (int)geteuid(), (int)st.st_uid, (unsigned)(st.st_mode & 07777));
	}
	*ret_fd = fd;
	return 0;
}

/* A socket left by a broker that died is replaced; one that answers belongs to a live broker
 * (another container sharing the directory) and is never taken over. */
static int clear_stale(int dir_fd, const char *dir)
{
	struct sockaddr_un addr;
	struct stat st;
	int fd, r;

	if (fstatat(dir_fd, PROTO_SOCKET_NAME, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : hook_error_errno(errno, "%s/" PROTO_SOCKET_NAME, dir);
	if (!S_ISSOCK(st.st_mode))
		return hook_error("%s/" PROTO_SOCKET_NAME " exists and is not a socket", dir);
	if (address_in(dir_fd, PROTO_SOCKET_NAME, &addr) < 0)
		return hook_error("%s/" PROTO_SOCKET_NAME ": address too long", dir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return hook_error_errno(errno, "socket");
	r = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
	close(fd);
	if (r == 0)
		return hook_error("%s/" PROTO_SOCKET_NAME " is in use by another broker: is the "
				  "socket directory shared by two containers?",
				  dir);
	if (unlinkat(dir_fd, PROTO_SOCKET_NAME, 0) < 0 && errno != ENOENT)
		return hook_error_errno(errno, "removing the stale %s/" PROTO_SOCKET_NAME, dir);
	return 0;
}

int hook_listener_open(const char *dir, struct hook_listener *ret)
{
	struct hook_listener l = { .fd = -1, .dir_fd = -1 };
	struct sockaddr_un addr;
	struct stat st;

	if (open_dir(dir, &l.dir_fd) < 0)
		return -1;
	if (clear_stale(l.dir_fd, dir) < 0)
		goto fail;
	if (address_in(l.dir_fd, PROTO_SOCKET_NAME, &addr) < 0) {
		hook_error("%s/" PROTO_SOCKET_NAME ": address too long", dir);
		goto fail;
	}
	l.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l.fd < 0) {
		hook_error_errno(errno, "socket");
		goto fail;
	}
	if (bind(l.fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		hook_error_errno(errno, "bind %s/" PROTO_SOCKET_NAME, dir);
		goto fail;
	}
	if (fstatat(l.dir_fd, PROTO_SOCKET_NAME, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    fchmodat(l.dir_fd, PROTO_SOCKET_NAME, SOCKET_MODE, 0) < 0 || listen(l.fd, BACKLOG) < 0) {
		hook_error_errno(errno, "%s/" PROTO_SOCKET_NAME, dir);
		unlinkat(l.dir_fd, PROTO_SOCKET_NAME, 0);
		goto fail;
	}
	l.dev = st.st_dev;
	l.ino = st.st_ino;
	*ret = l;
	return 0;
fail:
	hook_listener_close(&l);
	return -1;
}

void hook_listener_remove(struct hook_listener *l)
{
	struct stat st;

	if (l->dir_fd >= 0 &&
	    fstatat(l->dir_fd, PROTO_SOCKET_NAME, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_dev == l->dev && st.st_ino == l->ino)
		unlinkat(l->dir_fd, PROTO_SOCKET_NAME, 0);
	hook_listener_close(l);
}

void hook_listener_close(struct hook_listener *l)
{
	if (l->fd >= 0)
		close(l->fd);
	if (l->dir_fd >= 0)
		close(l->dir_fd);
	l->fd = l->dir_fd = -1;
}

void hook_socket_unlink(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return;
	/* Only a stale socket: one that still answers is not ours to remove. */
	hook_error_hold();
	clear_stale(fd, dir);
	hook_error_release();
	close(fd);
}
