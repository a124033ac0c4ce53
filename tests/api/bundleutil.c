/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "bundleutil.h"

char *scratch_dir(const char *tag)
{
	const char *tmp = getenv("TMPDIR");
	char *path;

	assert_true(asprintf(&path, "%s/ebcc-test-%s-XXXXXX", tmp != NULL ? tmp : "/tmp", tag) > 0);
	assert_non_null(mkdtemp(path));
	return path;
}

void scratch_remove(char *path)
{
	char *cmd;

	if (path == NULL)
		return;
	assert_true(asprintf(&cmd, "rm -rf '%s'", path) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(path);
}

static void mkdir_parents(const char *dir, const char *name)
{
	char *path, *slash;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	for (slash = strchr(path + strlen(dir) + 1, '/'); slash != NULL; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
		*slash = '/';
	}
	free(path);
}

void write_file(const char *dir, const char *name, const char *text, size_t len)
{
	char *path;
	FILE *f;

	mkdir_parents(dir, name);
	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	free(path);
}

void copy_file(const char *src, const char *dir, const char *name, unsigned mode)
{
	char buf[65536], *path;
	int in, out;
	ssize_t n;

	mkdir_parents(dir, name);
	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	in = open(src, O_RDONLY | O_CLOEXEC);
	assert_true(in >= 0);
	out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	assert_true(out >= 0);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		assert_int_equal(write(out, buf, (size_t)n), n);
	close(in);
	close(out);
	free(path);
}

const char *echo_stage_path(void)
{
	const char *p = getenv("EBCC_TEST_ECHO_STAGE");

	return p != NULL && access(p, X_OK) == 0 ? p : NULL;
}

void make_bundle(const char *dir, const char *process_json, const char *stages_json)
{
	char *config, *manifest;
	const char *stage = echo_stage_path();

	assert_true(asprintf(&config,
			     "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
			     " \"annotations\": {\"org.example.team\": \"tests\"}%s%s}",
			     process_json != NULL ? ", \"process\": " : "",
			     process_json != NULL ? process_json : "") > 0);
	assert_true(asprintf(&manifest, "{\"ebccVersion\": \"0.1\", \"stages\": %s}",
			     stages_json) > 0);
	write_file(dir, "config.json", config, strlen(config));
	write_file(dir, "ebcc.json", manifest, strlen(manifest));
	copy_file(stage != NULL ? stage : "/bin/true", dir, "stages/echo", 0755);
	free(config);
	free(manifest);
}

struct ebcc_context *context_at(const char *root)
{
	struct ebcc_context *ctx = NULL;

	assert_int_equal(ebcc_context_new(&ctx), 0);
	assert_int_equal(ebcc_context_set_option(ctx, "state_root", root), 0);
	return ctx;
}

int count_entries(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *de;
	int n = 0;

	if (dir == NULL)
		return -1;
	while ((de = readdir(dir)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(dir);
	return n;
}

int count_fds(void)
{
	return count_entries("/proc/self/fd") - 1; /* minus the one opendir() uses */
}
