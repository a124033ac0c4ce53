/* SPDX-License-Identifier: MIT */
/* Files the runtime reads and writes: requests, policies, keys and evidence in; responses and
 * pid files out. "-" means stdin or stdout. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime.h"

static const char *display(const char *path)
{
	return strcmp(path, "-") == 0 ? "stdin" : path;
}

int rt_read_file(const char *path, size_t max, char **ret_data, size_t *ret_len)
{
	size_t len = 0, size = 0;
	char *data = NULL;
	int fd, saved;

	fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return rt_fail_plain("%s: %s", path, strerror(errno)), -1;
	for (;;) {
		ssize_t n;

		if (len == size) {
			/* Room for max + 1 bytes: reading one byte past the limit tells "exactly
			 * max" from "too big" without trusting st_size (pipes have none). */
			size_t want = size ? size * 2 : 65536;
			char *grown;

			if (want > max + 1)
				want = max + 1;
			if (want <= size)
				break;
			grown = realloc(data, want + 1);
			if (grown == NULL) {
				errno = ENOMEM;
				goto fail;
			}
			data = grown;
			size = want;
		}
		n = read(fd, data + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (len > max) {
		free(data);
		return rt_fail_plain("%s: more than %zu bytes", display(path), max), -1;
	}
	if (data == NULL && (data = malloc(1)) == NULL)
		return rt_fail_plain("%s: out of memory", display(path)), -1;
	data[len] = '\0';
	*ret_data = data;
	*ret_len = len;
	return 0;

fail:
	saved = errno;
	if (fd != STDIN_FILENO)
		close(fd);
	free(data);
	return rt_fail_plain("reading %s: %s", display(path), strerror(saved)), -1;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static const char *file_type(mode_t mode)
{
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISDIR(mode))
		return "a directory";
	return "not a regular file";
}

/* Opens path for writing without replacing what is there (runc writes its pid file in place
 * too): a symbolic link is refused, a regular file is kept (its inode, owner and links) and
 * truncated once it is private enough, and only RT_OUT_STREAM writes through a device or FIFO
 * as a shell redirection would. */
static int open_output(const char *path, enum rt_output kind, mode_t create_mode)
{
	int flags = O_WRONLY | O_CREAT | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC;
	struct stat st;
	int fd, saved;

	/* O_NONBLOCK: a FIFO without a reader must not hang a pid file write. */
	fd = open(path, flags | (kind == RT_OUT_PID_FILE ? O_NONBLOCK : 0), create_mode);
	if (fd < 0 && errno == ELOOP)
		return rt_fail_plain("%s: is a symbolic link; not written through", path), -1;
	if (fd < 0 && errno == ENXIO)
		return rt_fail_plain("%s: a FIFO without a reader; not written", path), -1;
	if (fd < 0)
		return rt_fail_plain("%s: %s", path, strerror(errno)), -1;
	if (fstat(fd, &st) < 0)
		goto fail_errno;
	if (!S_ISREG(st.st_mode)) {
		if (kind == RT_OUT_STREAM && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode) ||
					      S_ISSOCK(st.st_mode)))
			return fd;
		close(fd);
		return rt_fail_plain("%s: is %s; not written", path, file_type(st.st_mode)), -1;
	}
	if (kind == RT_OUT_PID_FILE && fcntl(fd, F_SETFL, 0) < 0)
		goto fail_errno;
	/* The response is confidential: group and others lose access before it is written,
	 * a file already stricter than 0600 keeps its mode. */
	if (kind == RT_OUT_STREAM && (st.st_mode & 077) != 0 &&
	    fchmod(fd, st.st_mode & 0600) < 0) {
		saved = errno;
		close(fd);
		return rt_fail_plain("%s: mode %04o, cannot make it private (%s); not written", path,
				     (unsigned)(st.st_mode & 07777), strerror(saved)),
		       -1;
	}
	if (ftruncate(fd, 0) < 0)
		goto fail_errno;
	return fd;

fail_errno:
	saved = errno;
	close(fd);
	return rt_fail_plain("%s: %s", path, strerror(saved)), -1;
}

int rt_write_file(const char *path, enum rt_output kind, const void *data, size_t len)
{
	struct stat st;
	int fd, saved;

	if (strcmp(path, "-") == 0) {
		fflush(stdout);
		if (write_all(STDOUT_FILENO, data, len) < 0)
			return rt_fail_plain("writing stdout: %s", strerror(errno)), -1;
		return 0;
	}
	fd = open_output(path, kind, kind == RT_OUT_STREAM ? 0600 : 0644);
	if (fd < 0)
		return -1;
	if (write_all(fd, data, len) < 0) {
		saved = errno;
		/* A regular file is left empty rather than holding part of the output. */
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ftruncate(fd, 0) < 0)
			saved = errno;
		close(fd);
		return rt_fail_plain("writing %s: %s", path, strerror(saved)), -1;
	}
	if (close(fd) < 0)
		return rt_fail_plain("writing %s: %s", path, strerror(errno)), -1;
	return 0;
}

char *rt_absolute_path(const char *path)
{
	char cwd[PATH_MAX], *out = NULL;

	if (path[0] == '/')
		return strdup(path);
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return NULL;
	if (asprintf(&out, "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, path) < 0)
		return NULL;
	return out;
}
