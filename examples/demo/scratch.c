/* SPDX-License-Identifier: MIT */
/* The demo's temporary directory, and removing it again without following symbolic links. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "demo.h"

char *demo_scratch_make(void)
{
	const char *tmp = getenv("TMPDIR");
	char *path;

	if (tmp == NULL || tmp[0] != '/')
		tmp = "/tmp";
	if (asprintf(&path, "%s/" DEMO_NAME "-XXXXXX", tmp) < 0)
		return NULL;
	if (mkdtemp(path) == NULL) {
		int saved = errno;

		free(path);
		errno = saved;
		return NULL;
	}
	return path;
}

/* Empties the directory open as dir_fd (which it closes). Depth is bounded by the tree the demo
 * made itself, a handful of levels. */
static int empty_dir(int dir_fd)
{
	struct dirent *e;
	DIR *d = fdopendir(dir_fd);
	int r = 0;

	if (d == NULL) {
		close(dir_fd);
		return -1;
	}
	while ((errno = 0, e = readdir(d)) != NULL) {
		int fd;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			continue;
		if (errno != EISDIR) {
			r = -1;
			continue;
		}
		fd = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || empty_dir(fd) < 0 || unlinkat(dirfd(d), e->d_name, AT_REMOVEDIR) < 0)
			r = -1;
	}
	if (errno != 0)
		r = -1;
	closedir(d);
	return r;
}

int demo_tree_remove(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (empty_dir(fd) < 0)
		return -1;
	return rmdir(path);
}
