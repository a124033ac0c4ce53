/* SPDX-License-Identifier: MIT */
/*
 * Files under the state root: bounded reads and atomic writes, always relative to a directory
 * descriptor and never following a symlink.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "ebcc-base.h"

int ebcc__random_hex(char *buf, size_t bytes)
{
	static const char digits[] = "0123456789abcdef";
	uint8_t raw[32];

	if (bytes > sizeof(raw))
		bytes = sizeof(raw);
	if (getrandom(raw, bytes, 0) != (ssize_t)bytes)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "getrandom");
	for (size_t i = 0; i < bytes; i++) {
		buf[2 * i] = digits[raw[i] >> 4];
		buf[2 * i + 1] = digits[raw[i] & 15];
	}
	buf[2 * bytes] = '\0';
	return 0;
}

int ebcc__read_all(int fd, size_t max, const char *display, char **ret_data, size_t *ret_len)
{
	struct stat st;
	size_t cap, len = 0;
	char *buf;

	if (fstat(fd, &st) < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "stat %s", display);
	if (!S_ISREG(st.st_mode))
		return ebcc__error(EBCC_ERR_INVALID_ARG, "%s is not a regular file", display);
	if ((uint64_t)st.st_size > max)
		return ebcc__error(EBCC_ERR_TOO_BIG, "%s is %jd bytes, more than the limit of %zu",
				   display, (intmax_t)st.st_size, max);
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (buf == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory reading %s", display);
	for (;;) {
		ssize_t n;

		if (len + 1 == cap) {
			/* The file grew since fstat: allow it up to max. */
			size_t ncap = cap * 2 > max + 2 ? max + 2 : cap * 2;
			char *nbuf;

			if (len > max) {
				free(buf);
				return ebcc__error(EBCC_ERR_TOO_BIG,
						   "%s is more than the limit of %zu bytes", display,
						   max);
			}
			nbuf = realloc(buf, ncap);
			if (nbuf == NULL) {
				free(buf);
				return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory reading %s",
						   display);
			}
			buf = nbuf;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			free(buf);
			return ebcc__error_errno(EBCC_ERR_IO, e, "read %s", display);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max) {
		free(buf);
		return ebcc__error(EBCC_ERR_TOO_BIG, "%s is more than the limit of %zu bytes",
				   display, max);
	}
	buf[len] = '\0';
	*ret_data = buf;
	if (ret_len != NULL)
		*ret_len = len;
	return 0;
}

static int read_at(int dir_fd, const char *name, const char *display, size_t max,
		   bool quiet_absent, char **ret_data, size_t *ret_len)
{
	_cleanup_close_ int fd = openat(dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY |
							     O_NONBLOCK);
	int r;

	if (fd < 0 && errno == ENOENT && quiet_absent)
		return EBCC_ERR_NOT_FOUND;
	if (fd < 0) {
		if (errno == ELOOP)
			return ebcc__error(EBCC_ERR_PERMISSION,
					   "%s is a symbolic link, which is not followed", display);
		return ebcc__error_errno(ebcc__error_from_errno(errno), errno, "open %s", display);
	}
	r = ebcc__read_all(fd, max, display, ret_data, ret_len);
	/* The library's own files: anything but a regular file (a FIFO, a device) was put there
	 * by someone else. */
	return r == EBCC_ERR_INVALID_ARG ? EBCC_ERR_CORRUPT : r;
}

int ebcc__file_read_at(int dir_fd, const char *name, const char *display, size_t max,
		       char **ret_data, size_t *ret_len)
{
	return read_at(dir_fd, name, display, max, false, ret_data, ret_len);
}

int ebcc__file_read_optional_at(int dir_fd, const char *name, const char *display, size_t max,
				char **ret_data, size_t *ret_len)
{
	return read_at(dir_fd, name, display, max, true, ret_data, ret_len);
}

int ebcc__write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ebcc__file_write_atomic(int dir_fd, const char *name, const void *data, size_t len,
			    mode_t mode, bool durable, const char *display)
{
	char tmp[NAME_MAX + 1];
	char suffix[17];
	int fd, r;

	r = ebcc__random_hex(suffix, 8);
	if (r < 0)
		return r;
	if ((size_t)snprintf(tmp, sizeof(tmp), ".%s.%s.tmp", name, suffix) >= sizeof(tmp))
		return ebcc__error(EBCC_ERR_TOO_BIG, "file name %s is too long", name);
	fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return ebcc__error_errno(ebcc__error_from_errno(errno), errno, "create %s (%s)",
					 display, tmp);
	r = ebcc__write_all(fd, data, len);
	if (r == 0 && durable && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0 && errno != EINTR)
		r = -errno;
	if (r == 0 && renameat(dir_fd, tmp, dir_fd, name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dir_fd, tmp, 0);
		return ebcc__error_errno(r == -ENOSPC || r == -EDQUOT ? EBCC_ERR_IO
								       : ebcc__error_from_errno(-r),
					 -r, "write %s", display);
	}
	if (durable && fsync(dir_fd) < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "fsync directory of %s", display);
	return 0;
}

int ebcc__open_dir_at(int dir_fd, const char *name, const char *display, int *ret_fd)
{
	int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		int e = errno;

		if (e == ELOOP || e == ENOTDIR) {
			struct stat st;

			if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
				return ebcc__error(EBCC_ERR_PERMISSION,
						   "%s is a symbolic link, which is not followed",
						   display);
			return ebcc__error(EBCC_ERR_CORRUPT, "%s is not a directory", display);
		}
		return ebcc__error_errno(ebcc__error_from_errno(e), e, "open %s", display);
	}
	if (ebcc__check_trusted_fd(fd, display) < 0) {
		close(fd);
		return EBCC_ERR_PERMISSION;
	}
	*ret_fd = fd;
	return 0;
}

int ebcc__open_dir_path_at(int dir_fd, const char *relpath, bool create, int *ret_fd)
{
	char path[EBCC_PATH_MAX];
	char *save = NULL;
	int cur;

	if ((size_t)snprintf(path, sizeof(path), "%s", relpath) >= sizeof(path))
		return ebcc__error(EBCC_ERR_TOO_BIG, "path too long: %s", relpath);
	cur = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
	if (cur < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "dup");
	/* One component at a time, so that no symlink anywhere on the way is followed. */
	for (char *part = strtok_r(path, "/", &save); part != NULL; part = strtok_r(NULL, "/", &save)) {
		int next, r;

		/* Usually it exists: try that first, create only when it does not. */
		next = openat(cur, part, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
		if (next >= 0) {
			close(cur);
			cur = next;
			if (ebcc__check_trusted_fd(cur, relpath) < 0) {
				close(cur);
				return EBCC_ERR_PERMISSION;
			}
			continue;
		}
		if (create && errno == ENOENT && mkdirat(cur, part, 0700) < 0 && errno != EEXIST) {
			int e = errno;

			close(cur);
			return ebcc__error_errno(ebcc__error_from_errno(e), e, "create %s", relpath);
		}
		r = ebcc__open_dir_at(cur, part, relpath, &next);
		close(cur);
		if (r < 0)
			return r;
		cur = next;
	}
	*ret_fd = cur;
	return 0;
}

/* Removes parent_fd/name and everything below it, never following symlinks. */
int ebcc__remove_tree_at(int parent_fd, const char *name)
{
	DIR *dir;
	int fd, r = 0;
	struct dirent *de;

	if (unlinkat(parent_fd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	dir = fdopendir(fd);
	if (dir == NULL) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(dir)) != NULL) {
		int q;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		q = ebcc__remove_tree_at(dirfd(dir), de->d_name);
		if (q < 0 && r == 0)
			r = q;
	}
	closedir(dir);
	if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT && r == 0)
		r = -errno;
	return r;
}
