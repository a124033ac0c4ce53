/* SPDX-License-Identifier: MIT */
/*
 * What the invocations left on disk: <state_root>/<id>/stages/<stage>/<seq>/ with request.bin,
 * response.bin, meta.json, log.txt and evidence.json (the layout libebcc(7) documents). Read
 * with directory descriptors and O_NOFOLLOW, as the library itself does.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "demo.h"

/* Names in directory fd, sorted: numerically when every name is a number (sequence numbers),
 * else alphabetically. Returns the count, or -1 with errno. */
static int sorted_names(int fd, char ***ret_names)
{
	char **names = NULL;
	size_t n = 0, allocated = 0;
	struct dirent *e;
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;

	if (d == NULL) {
		if (dup_fd >= 0)
			close(dup_fd);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue; /* ., .. and the library's hidden temporaries */
		if (n == allocated) {
			char **grown = reallocarray(names, allocated ? 2 * allocated : 16,
						    sizeof(*names));

			if (grown == NULL)
				goto fail;
			names = grown;
			allocated = allocated ? 2 * allocated : 16;
		}
		names[n] = strdup(e->d_name);
		if (names[n] == NULL)
			goto fail;
		n++;
	}
	closedir(d);
	/* Insertion sort: a demo has a handful of entries. */
	for (size_t i = 1; i < n; i++) {
		for (size_t j = i; j > 0; j--) {
			char *a = names[j - 1], *b = names[j];
			int numeric = isdigit((unsigned char)a[0]) && isdigit((unsigned char)b[0]);
			int after = numeric ? strtoull(a, NULL, 10) > strtoull(b, NULL, 10)
					    : strcmp(a, b) > 0;

			if (!after)
				break;
			names[j - 1] = b;
			names[j] = a;
		}
	}
	*ret_names = names;
	return (int)n;

fail:
	closedir(d);
	while (n > 0)
		free(names[--n]);
	free(names);
	errno = ENOMEM;
	return -1;
}

static void free_names(char **names, int n)
{
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int open_dir_at(int dir_fd, const char *name)
{
	return openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/* Adds every regular file of one invocation directory. */
static int list_invocation(int seq_fd, const char *prefix, struct json_object *out)
{
	char **files = NULL;
	int n = sorted_names(seq_fd, &files);

	if (n < 0)
		return -1;
	for (int i = 0; i < n; i++) {
		struct json_object *entry;
		struct stat st;
		char path[1024];

		if (fstatat(seq_fd, files[i], &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
			continue;
		snprintf(path, sizeof(path), "%s/%s", prefix, files[i]);
		entry = json_object_new_object();
		if (entry == NULL)
			break;
		json_object_object_add(entry, "path", json_object_new_string(path));
		json_object_object_add(entry, "bytes", json_object_new_int64((int64_t)st.st_size));
		json_object_array_add(out, entry);
	}
	free_names(files, n);
	return 0;
}

struct json_object *demo_artifacts_list(const char *root, const char *id)
{
	struct json_object *out = json_object_new_array();
	char **stages = NULL, path[4096];
	int stages_fd, n_stages;

	snprintf(path, sizeof(path), "%s/%s/stages", root, id);
	stages_fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (out == NULL || stages_fd < 0)
		goto fail;
	n_stages = sorted_names(stages_fd, &stages);
	if (n_stages < 0)
		goto fail;
	for (int i = 0; i < n_stages; i++) {
		int stage_fd = open_dir_at(stages_fd, stages[i]);
		char **seqs = NULL;
		int n_seqs;

		if (stage_fd < 0)
			continue;
		n_seqs = sorted_names(stage_fd, &seqs);
		for (int j = 0; j < n_seqs; j++) {
			int seq_fd;
			char prefix[512];

			/* Only the invocations: the stage's own files (its sequence counter, lock,
			 * socket) are the library's business. */
			if (!isdigit((unsigned char)seqs[j][0]))
				continue;
			seq_fd = open_dir_at(stage_fd, seqs[j]);
			if (seq_fd < 0)
				continue;
			snprintf(prefix, sizeof(prefix), "stages/%s/%s", stages[i], seqs[j]);
			list_invocation(seq_fd, prefix, out);
			close(seq_fd);
		}
		if (n_seqs > 0)
			free_names(seqs, n_seqs);
		close(stage_fd);
	}
	free_names(stages, n_stages);
	close(stages_fd);
	return out;

fail:
	if (stages_fd >= 0)
		close(stages_fd);
	json_object_put(out);
	return NULL;
}
