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

int rt_write_file(const char *path, const void *data, size_t len)
{
	char *tmp = NULL;
	int fd, saved;

	if (strcmp(path, "-") == 0) {
		fflush(stdout);
		if (write_all(STDOUT_FILENO, data, len) < 0)
			return rt_fail_plain("writing stdout: %s", strerror(errno)), -1;
		return 0;
	}
	/* A temporary name beside the target, renamed over it: a reader (a pid file's reader
	 * above all) sees the old content or the whole new one. */
	if (asprintf(&tmp, "%s.tmp-XXXXXX", path) < 0)
		return rt_fail_plain("%s: out of memory", path), -1;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		saved = errno;
		free(tmp);
		return rt_fail_plain("%s: %s", path, strerror(saved)), -1;
	}
	if (write_all(fd, data, len) < 0 || fchmod(fd, 0644) < 0) {
		saved = errno;
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		saved = errno;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		saved = errno;
		goto fail;
	}
	free(tmp);
	return 0;

fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	return rt_fail_plain("writing %s: %s", path, strerror(saved)), -1;
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
