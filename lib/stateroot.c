/* SPDX-License-Identifier: MIT */
/*
 * The state root: created 0700 on first use, opened as a directory descriptor that every
 * other path is resolved against. Library-wide data lives in <state_root>/.ebcc/.
 *
 * Like OpenSSH's StrictModes, nothing another user could have written is trusted: the state
 * root, its ancestors and every directory below it must belong to the caller or root and not
 * be writable by group or others (an ancestor may be, with the sticky bit, as /tmp is); key
 * files must belong to the caller and be accessible to nobody else. Otherwise another user
 * could plant a device key that signs reports, or a composite naming any process as its anchor.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ebcc-private.h"

/* mkdir -p with mode for every directory it creates. */
static int mkdir_parents(char *path, mode_t mode)
{
	for (char *p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, mode) < 0 && errno != EEXIST) {
			int e = errno;

			*p = '/';
			return -e;
		}
		*p = '/';
	}
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Every ancestor of path: the caller's or root's, and not writable by others unless sticky
 * (then nobody else can rename or replace what is in it). */
static int check_ancestors(const char *path)
{
	char prefix[EBCC_PATH_MAX];
	size_t len = strnlen(path, sizeof(prefix));

	if (len >= sizeof(prefix))
		return ebcc__error(EBCC_ERR_TOO_BIG, "state root path too long");
	memcpy(prefix, path, len + 1);
	for (char *slash = strrchr(prefix, '/'); slash != NULL; slash = strrchr(prefix, '/')) {
		struct stat st;

		slash[slash == prefix] = '\0'; /* "/a/b" -> "/a" -> "/" */
		if (stat(prefix, &st) < 0)
			return ebcc__error_errno(ebcc__error_from_errno(errno), errno, "stat %s",
						 prefix);
		if (!(st.st_mode & S_ISVTX) && ebcc__check_trusted(&st, prefix, false) < 0)
			return ebcc__error_prefix(EBCC_ERR_PERMISSION,
						  "state root %s is not safe, for its ancestor", path);
		if (st.st_mode & S_ISVTX && st.st_uid != geteuid() && st.st_uid != 0)
			return ebcc__error(EBCC_ERR_PERMISSION,
					   "state root %s is not safe: its parent %s is owned by uid "
					   "%u", path, prefix, (unsigned)st.st_uid);
		if (strcmp(prefix, "/") == 0)
			break;
	}
	return 0;
}

int ebcc__state_root_path(struct ebcc_context *ctx, char **ret_path)
{
	char *path;

	pthread_mutex_lock(&ctx->lock);
	path = ctx->opts.state_root != NULL ? strdup(ctx->opts.state_root) : NULL;
	pthread_mutex_unlock(&ctx->lock);
	if (path == NULL && ctx->opts.state_root == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "no state root: set the state_root option (XDG_RUNTIME_DIR is "
				   "not set and the process is not root)");
	if (path == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	*ret_path = path;
	return 0;
}

int ebcc__state_root_open(struct ebcc_context *ctx, bool create, int *ret_fd, char **ret_path)
{
	_cleanup_free_ char *path = NULL;
	int fd, r;

	r = ebcc__state_root_path(ctx, &path);
	if (r < 0)
		return r;
	if (create) {
		r = mkdir_parents(path, 0700);
		if (r < 0)
			return ebcc__error_errno(ebcc__error_from_errno(-r), -r,
						 "create state root %s", path);
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return ebcc__error(EBCC_ERR_NOT_FOUND, "state root %s does not exist", path);
		return ebcc__error_errno(ebcc__error_from_errno(errno), errno, "open state root %s",
					 path);
	}
	r = check_ancestors(path);
	if (r == 0 && (r = ebcc__check_trusted_fd(fd, path)) < 0)
		r = ebcc__error_prefix(r, "state root");
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret_fd = fd;
	if (ret_path != NULL)
		*ret_path = EBCC_TAKE_PTR(path);
	return 0;
}

int ebcc__private_dir_open(int root_fd, const char *sub, bool create, int *ret_fd)
{
	char path[EBCC_PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", EBCC_PRIVATE_DIR, sub) >= sizeof(path))
		return ebcc__error(EBCC_ERR_TOO_BIG, "private path too long: %s", sub);
	return ebcc__open_dir_path_at(root_fd, path, create, ret_fd);
}
