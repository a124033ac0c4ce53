/* SPDX-License-Identifier: MIT */
/*
 * What the scenarios stand on: OCI bundles with one echo stage, contexts on a given state root,
 * the filesystem a state root is on (from /proc/self/mountinfo), the stage's artifact directory
 * (from ebcc_stage_info()), this process's resident memory, and failure messages.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bench.h"

int fail_ebcc(const char *what, int r)
{
	fprintf(stderr, "ebcc-bench: %s: %s: %s\n", what, ebcc_error_name(r),
		ebcc_last_error_message());
	return -1;
}

int fail_errno(const char *what)
{
	fprintf(stderr, "ebcc-bench: %s: %s\n", what, strerror(errno));
	return -1;
}

int pathf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "ebcc-bench: path too long: %s...\n", buf);
		return -1;
	}
	return 0;
}

void make_id(char *buf, size_t size, const char *tag, unsigned n)
{
	snprintf(buf, size, "bench-%d-%s-%u", (int)getpid(), tag, n);
}

/* ---- filesystems ------------------------------------------------------------------------------ */

/* Undoes mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *o = s;

	for (char *i = s; *i != '\0'; i++) {
		if (i[0] == '\\' && i[1] >= '0' && i[1] <= '7' && i[2] >= '0' && i[2] <= '7' &&
		    i[3] >= '0' && i[3] <= '7') {
			*o++ = (char)((i[1] - '0') * 64 + (i[2] - '0') * 8 + (i[3] - '0'));
			i += 3;
		} else {
			*o++ = *i;
		}
	}
	*o = '\0';
}

/* Whether mount point mp contains path (on a component boundary). */
static bool contains(const char *mp, const char *path)
{
	size_t n = strlen(mp);

	if (strcmp(mp, "/") == 0)
		return true;
	return strncmp(mp, path, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

void fs_describe(const char *path, char *type, size_t type_size, char *source, size_t source_size)
{
	char real[PATH_MAX], line[8192];
	size_t best = 0;
	FILE *f;

	snprintf(type, type_size, "unknown");
	snprintf(source, source_size, "unknown");
	if (realpath(path, real) == NULL || (f = fopen("/proc/self/mountinfo", "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *fields[16], *save = NULL, *tok, *dash = strstr(line, " - ");
		size_t n = 0;
		char fstype[64], src[256];

		if (dash == NULL)
			continue;
		*dash = '\0';
		for (tok = strtok_r(line, " ", &save); tok != NULL && n < 16;
		     tok = strtok_r(NULL, " ", &save))
			fields[n++] = tok;
		if (n < 5 || sscanf(dash + 3, "%63s %255s", fstype, src) != 2)
			continue;
		unescape(fields[4]);
		/* The longest mount point containing the path; a later mount shadows an earlier. */
		if (contains(fields[4], real) && strlen(fields[4]) >= best) {
			best = strlen(fields[4]);
			snprintf(type, type_size, "%s", fstype);
			snprintf(source, source_size, "%s", src);
		}
	}
	fclose(f);
}

/* ---- bundles ---------------------------------------------------------------------------------- */

static int write_text(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX];
	size_t len = strlen(text);
	int fd;

	if (pathf(path, sizeof(path), "%s/%s", dir, name) < 0)
		return -1;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail_errno(path);
	if (write(fd, text, len) != (ssize_t)len) {
		close(fd);
		return fail_errno(path);
	}
	return close(fd);
}

static int copy_file(const char *src, const char *dst, mode_t mode)
{
	char buf[65536];
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, r = -1;
	ssize_t n;

	if (in < 0)
		return fail_errno(src);
	out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		fail_errno(dst);
		goto out;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			goto out;
	r = n == 0 ? 0 : -1;
out:
	if (r < 0 && out >= 0)
		fail_errno(dst);
	if (out >= 0 && close(out) < 0)
		r = -1;
	close(in);
	return r;
}

static struct json_object *config_json(const char *const *anchor)
{
	struct json_object *c = json_object_new_object(), *root = json_object_new_object();

	json_object_object_add(c, "ociVersion", json_object_new_string("1.0.2"));
	json_object_object_add(root, "path", json_object_new_string("rootfs"));
	json_object_object_add(c, "root", root);
	if (anchor != NULL) {
		struct json_object *p = json_object_new_object(), *args = json_object_new_array(),
				   *env = json_object_new_array();

		for (size_t i = 0; anchor[i] != NULL; i++)
			json_object_array_add(args, json_object_new_string(anchor[i]));
		json_object_array_add(env, json_object_new_string("PATH=/usr/bin:/bin"));
		json_object_object_add(p, "args", args);
		json_object_object_add(p, "env", env);
		json_object_object_add(p, "cwd", json_object_new_string("/"));
		json_object_object_add(c, "process", p);
	}
	return c;
}

static struct json_object *manifest_json(const struct bundle_spec *spec)
{
	struct json_object *m = json_object_new_object(), *stages = json_object_new_array(),
			   *s = json_object_new_object();

	json_object_object_add(m, "ebccVersion", json_object_new_string("0.1"));
	json_object_object_add(m, "backend", json_object_new_string("sim"));
	json_object_object_add(s, "name", json_object_new_string("echo"));
	json_object_object_add(s, "image", json_object_new_string("stages/echo"));
	json_object_object_add(s, "lifetime", json_object_new_string(spec->lifetime));
	if (spec->max_request > 0) {
		json_object_object_add(s, "maxRequest", json_object_new_int64((int64_t)spec->max_request));
		json_object_object_add(s, "maxResponse",
				       json_object_new_int64((int64_t)spec->max_request));
	}
	if (spec->memory_mib > 0)
		json_object_object_add(s, "memoryMiB", json_object_new_int64(spec->memory_mib));
	if (spec->timeout_ms > 0)
		json_object_object_add(s, "timeoutMs", json_object_new_int64(spec->timeout_ms));
	json_object_array_add(stages, s);
	json_object_object_add(m, "stages", stages);
	return m;
}

int bundle_write(const char *dir, const char *stage_image, const struct bundle_spec *spec)
{
	struct json_object *config = config_json(spec->anchor), *manifest = manifest_json(spec);
	char stages[PATH_MAX], image[PATH_MAX];
	int r = -1;

	if (pathf(stages, sizeof(stages), "%s/stages", dir) < 0 ||
	    pathf(image, sizeof(image), "%s/stages/echo", dir) < 0)
		goto out;
	if ((mkdir(dir, 0755) < 0 && errno != EEXIST) || (mkdir(stages, 0755) < 0 && errno != EEXIST)) {
		fail_errno(dir);
		goto out;
	}
	if (write_text(dir, "config.json",
		       json_object_to_json_string_ext(config, JSON_C_TO_STRING_PLAIN)) < 0 ||
	    write_text(dir, "ebcc.json",
		       json_object_to_json_string_ext(manifest, JSON_C_TO_STRING_PLAIN)) < 0 ||
	    copy_file(stage_image, image, 0755) < 0)
		goto out;
	r = 0;
out:
	json_object_put(config);
	json_object_put(manifest);
	return r;
}

int busybox_rootfs(const char *rootfs, char *ret_busybox, size_t size)
{
	static const char *const candidates[] = { "/bin/busybox", "/usr/bin/busybox" };
	const char *src = NULL;
	char bin[PATH_MAX], link[PATH_MAX];

	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]) && src == NULL; i++)
		if (access(candidates[i], X_OK) == 0)
			src = candidates[i];
	if (src == NULL) {
		fprintf(stderr, "ebcc-bench: no busybox (Debian package busybox-static)\n");
		return -1;
	}
	if (pathf(bin, sizeof(bin), "%s/bin", rootfs) < 0 ||
	    pathf(ret_busybox, size, "%s/bin/busybox", rootfs) < 0)
		return -1;
	if ((mkdir(rootfs, 0755) < 0 && errno != EEXIST) || (mkdir(bin, 0755) < 0 && errno != EEXIST))
		return fail_errno(rootfs);
	if (copy_file(src, ret_busybox, 0755) < 0)
		return -1;
	for (const char *const *name = (const char *const[]){ "true", "sh", "sleep", NULL }; *name;
	     name++) {
		if (pathf(link, sizeof(link), "%s/bin/%s", rootfs, *name) < 0)
			return -1;
		if (symlink("busybox", link) < 0 && errno != EEXIST)
			return fail_errno(link);
	}
	return 0;
}

/* ---- the library ------------------------------------------------------------------------------ */

int context_open(const char *state_root, const char *durability, const char *artifacts,
		 struct ebcc_context **ret)
{
	struct ebcc_context *ctx = NULL;
	int r = ebcc_context_new(&ctx);

	if (r == 0)
		r = ebcc_context_set_option(ctx, "state_root", state_root);
	if (r == 0 && durability != NULL)
		r = ebcc_context_set_option(ctx, "durability", durability);
	if (r == 0 && artifacts != NULL)
		r = ebcc_context_set_option(ctx, "artifacts", artifacts);
	if (r < 0) {
		ebcc_context_unref(ctx);
		return fail_ebcc("context", r);
	}
	*ret = ctx;
	return 0;
}

char *stage_directory(struct ebcc_instance *inst, const char *stage)
{
	struct json_object *o, *d;
	char *json = NULL, *dir = NULL;
	int r = ebcc_stage_info(inst, stage, &json);

	if (r < 0) {
		fail_ebcc("ebcc_stage_info", r);
		return NULL;
	}
	o = json_tokener_parse(json);
	if (json_object_object_get_ex(o, "directory", &d) && json_object_is_type(d, json_type_string))
		dir = strdup(json_object_get_string(d));
	else
		fprintf(stderr, "ebcc-bench: ebcc_stage_info gave no \"directory\": %s\n", json);
	json_object_put(o);
	ebcc_free(json);
	return dir;
}

long rss_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "re");

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}
