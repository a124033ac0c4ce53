/* SPDX-License-Identifier: MIT */
/*
 * A socket directory made for one container: <base>/<name>, created fresh (mode 0711: the
 * container's processes, whatever their uid, reach ebcc.sock by its name and need not list
 * the directory) under a base of mode 0700 that only its owner enters on the host. The
 * container sees it through a read-only bind mount at /run/ebcc (ocimount.c), so no other
 * container's socket is even in its mount namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hook.h"
#include "protocol.h"

#define BASE_MODE 0700
#define DIR_MODE 0711

/* Creates every missing component of path (absolute) with mode 0700; the last one, new or
 * not, must be a directory of ours that nobody else may write. */
static int make_base(const char *path)
{
	char buf[PATH_MAX];
	struct stat st;
	size_t len = strlen(path);

	if (path[0] != '/' || len >= sizeof(buf))
		return hook_error("socket base directory \"%s\": not an absolute path of at most "
				  "%d bytes",
				  path, PATH_MAX - 1);
	memcpy(buf, path, len + 1);
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(buf, BASE_MODE) < 0 && errno != EEXIST)
			return hook_error_errno(errno, "creating %s", buf);
		*p = saved;
		if (saved == '\0')
			break;
	}
	if (lstat(path, &st) < 0)
		return hook_error_errno(errno, "socket base directory %s", path);
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return hook_error("socket base directory %s: must be a directory owned by uid %d "
				  "and writable by nobody else (it is uid %d, mode %04o)",
				  path, (int)geteuid(), (int)st.st_uid,
				  (unsigned)(st.st_mode & 07777));
	return 0;
}

int hook_sockdir_make(const char *base, const char *name, char **ret_path)
{
	char path[PATH_MAX];
	int n;

	if (make_base(base) < 0)
		return -1;
	n = snprintf(path, sizeof(path), "%s/%s", base, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return hook_error("socket directory %s/%s: path too long", base, name);
	/* A directory of that name is another container's (or a crashed create's): never
	 * shared. */
	if (mkdir(path, DIR_MODE) < 0)
		return hook_error_errno(errno, "creating the socket directory %s", path);
	/* mkdir's mode went through the umask. */
	if (chmod(path, DIR_MODE) < 0) {
		int saved = errno;

		rmdir(path);
		return hook_error_errno(saved, "socket directory %s", path);
	}
	*ret_path = strdup(path);
	if (*ret_path == NULL) {
		rmdir(path);
		return hook_error("out of memory");
	}
	return 0;
}

int hook_sockdir_remove(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return errno == ENOENT ? 0 : hook_error_errno(errno, "socket directory %s", path);
	/* The socket of a broker that has gone; one that still answers stays, and so does the
	 * directory. */
	hook_socket_unlink(path);
	close(fd);
	if (rmdir(path) < 0 && errno != ENOENT)
		return hook_error_errno(errno, "removing the socket directory %s", path);
	return 0;
}

int hook_sockdir_name_valid(const char *name)
{
	size_t len = strlen(name);

	if (len != HOOK_SOCKDIR_NAME_LEN)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
			return 0;
	return 1;
}
