/* SPDX-License-Identifier: MIT */
/*
 * Leaving nothing behind, even when interrupted: SIGINT, SIGTERM and SIGHUP only set a flag
 * that every measuring loop checks; the scratch directories, the composites in the state roots
 * below them, the stage processes started without the library and the runtimes' containers are
 * released by cleanups registered as they are made, run newest first at the end or at exit.
 * A second signal ends the program at once.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bench.h"

#define CLEANUPS_MAX 256

volatile sig_atomic_t bench_interrupted;

static struct {
	bench_cleanup_fn fn;
	void *arg;
} cleanups[CLEANUPS_MAX];
static int n_cleanups;

static void on_signal(int signo)
{
	if (bench_interrupted) {
		signal(signo, SIG_DFL);
		raise(signo);
		return;
	}
	bench_interrupted = 1;
}

void bench_signals_install(void)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	atexit(cleanup_all);
}

int cleanup_push(bench_cleanup_fn fn, void *arg)
{
	if (n_cleanups == CLEANUPS_MAX) {
		fprintf(stderr, "ebcc-bench: too many cleanups; running this one now\n");
		fn(arg);
		return -1;
	}
	cleanups[n_cleanups].fn = fn;
	cleanups[n_cleanups].arg = arg;
	return n_cleanups++;
}

void cleanup_run(int handle)
{
	bench_cleanup_fn fn;

	if (handle < 0 || handle >= n_cleanups || cleanups[handle].fn == NULL)
		return;
	fn = cleanups[handle].fn;
	cleanups[handle].fn = NULL;
	fn(cleanups[handle].arg);
	while (n_cleanups > 0 && cleanups[n_cleanups - 1].fn == NULL)
		n_cleanups--;
}

void cleanup_all(void)
{
	while (n_cleanups > 0)
		cleanup_run(n_cleanups - 1);
}

/* ---- composites ------------------------------------------------------------------------------ */

/* Force-deletes every composite of the state root (killing their anchors and stages). */
static void delete_composites(const char *state_root)
{
	struct ebcc_context *ctx = NULL;
	struct json_object *list = NULL;
	char *text = NULL;

	if (ebcc_context_new(&ctx) < 0 || ebcc_context_set_option(ctx, "state_root", state_root) < 0 ||
	    ebcc_instance_list(ctx, &text) < 0)
		goto out;
	list = json_tokener_parse(text);
	for (size_t i = 0; json_object_is_type(list, json_type_array) &&
			   i < json_object_array_length(list);
	     i++) {
		struct json_object *id;
		struct ebcc_instance *inst = NULL;

		if (!json_object_object_get_ex(json_object_array_get_idx(list, i), "id", &id))
			continue;
		if (ebcc_instance_open(ctx, json_object_get_string(id), &inst) == 0 &&
		    ebcc_instance_delete(inst, EBCC_DELETE_FORCE) < 0)
			fprintf(stderr, "ebcc-bench: cleanup: delete %s: %s\n",
				json_object_get_string(id), ebcc_last_error_message());
		ebcc_instance_unref(inst);
	}
out:
	json_object_put(list);
	ebcc_free(text);
	ebcc_context_unref(ctx);
}

/* Every state root below dir (a directory holding .ebcc), up to depth levels down. */
static void delete_composites_below(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (strcmp(de->d_name, ".ebcc") == 0) {
			delete_composites(dir);
			continue;
		}
		if (depth == 0 || (size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
					  sizeof(path))
			continue;
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			delete_composites_below(path, depth - 1);
	}
	closedir(d);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) < 0 && errno != ENOENT)
		fprintf(stderr, "ebcc-bench: cleanup: remove %s: %s\n", path, strerror(errno));
	return 0;
}

static void scratch_remove(void *arg)
{
	char *path = arg;

	delete_composites_below(path, 3);
	nftw(path, remove_entry, 32, FTW_DEPTH | FTW_PHYS);
	free(path);
}

/* Writes back what earlier scenarios left on this file system (their files, and the removal
 * of their scratch directories), so that a scenario's figures do not carry their disk work: on
 * ext4 a lifecycle measured right after the warm scenario's thousands of files took 18 ms
 * against 9 ms when measured alone. */
static void settle_disk(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)syncfs(fd);
		close(fd);
	}
}

char *scratch_dir(const char *parent, const char *tag, int *ret_handle)
{
	char *path;

	if (asprintf(&path, "%s/ebcc-bench-%s-XXXXXX", parent, tag) < 0)
		return NULL;
	if (mkdtemp(path) == NULL) {
		fprintf(stderr, "ebcc-bench: mkdtemp %s: %s\n", path, strerror(errno));
		free(path);
		return NULL;
	}
	*ret_handle = cleanup_push(scratch_remove, path);
	if (*ret_handle < 0)
		return NULL;
	settle_disk(path);
	return path;
}
