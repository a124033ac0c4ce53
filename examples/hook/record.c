/* SPDX-License-Identifier: MIT */
/*
 * The hook's own record of a container: which broker serves its socket, so that poststop (a
 * later process) stops exactly that one. It lives in the hook's run directory, outside the
 * container's reach and outside libebcc's state root:
 *
 *   <run-dir>/id-<id>.json            (ids up to 200 bytes)
 *   <run-dir>/sha256-<hex>.json       (longer ids, by their SHA-256)
 *   { "id": "...", "broker": { "pid": N, "startTime": T }, "socketDir": "..." }
 *
 * createRuntime claims the name first (an empty file, O_EXCL) and fills it in once the broker
 * runs; an empty record is a claim whose broker never started.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "hook.h"
#include "protocol.h"

#define RECORD_MAX 65536
#define PLAIN_ID_MAX 200

static int record_name(const char *id, char *name, size_t size)
{
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int digest_len = 0;
	size_t used;

	if (strlen(id) <= PLAIN_ID_MAX) {
		snprintf(name, size, "id-%s.json", id);
		return 0;
	}
	if (EVP_Digest(id, strlen(id), digest, &digest_len, EVP_sha256(), NULL) != 1)
		return hook_error("record of container %.64s...: SHA-256 failed", id);
	used = (size_t)snprintf(name, size, "sha256-");
	for (unsigned int i = 0; i < digest_len && used + 3 < size; i++)
		used += (size_t)snprintf(name + used, size - used, "%02x", digest[i]);
	snprintf(name + used, size - used, ".json");
	return 0;
}

static int open_run_dir(const char *run_dir, int create)
{
	int fd;

	if (create && mkdir(run_dir, 0700) < 0 && errno != EEXIST)
		return hook_error_errno(errno, "run directory %s", run_dir);
	fd = open(run_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 && !(errno == ENOENT && !create))
		return hook_error_errno(errno, "run directory %s", run_dir);
	return fd < 0 ? -2 : fd; /* -2: no run directory, hence no record */
}

int hook_record_claim(const char *run_dir, const char *id)
{
	char name[256];
	int dir, fd;

	if (record_name(id, name, sizeof(name)) < 0)
		return -1;
	dir = open_run_dir(run_dir, 1);
	if (dir < 0)
		return -1;
	fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int saved = errno;

		close(dir);
		if (saved == EEXIST)
			return hook_error("container %s: %s/%s exists: the hook already serves a "
					  "container of this id (or its poststop never ran)",
					  id, run_dir, name);
		return hook_error_errno(saved, "%s/%s", run_dir, name);
	}
	close(fd);
	close(dir);
	return 0;
}

int hook_record_write(const char *run_dir, const char *id, const struct hook_record *rec)
{
	struct json_object *o = json_object_new_object(), *broker = json_object_new_object();
	char name[256], tmp[272];
	const char *text;
	int dir = -1, fd = -1, r = -1;

	if (o == NULL || broker == NULL) {
		json_object_put(broker);
		json_object_put(o);
		return hook_error("out of memory");
	}
	json_object_object_add(broker, "pid", json_object_new_int64(rec->broker_pid));
	json_object_object_add(broker, "startTime", json_object_new_uint64(rec->broker_start));
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "broker", broker);
	json_object_object_add(o, "socketDir", json_object_new_string(rec->socket_dir));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text == NULL || record_name(id, name, sizeof(name)) < 0) {
		if (text == NULL)
			hook_error("out of memory");
		goto out;
	}
	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	dir = open_run_dir(run_dir, 0);
	if (dir < 0) {
		if (dir == -2)
			hook_error("run directory %s vanished", run_dir);
		goto out;
	}
	fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || fd_write_all(fd, text, strlen(text)) < 0 || close(fd) < 0) {
		hook_error_errno(errno, "writing %s/%s", run_dir, tmp);
		fd = -1;
		unlinkat(dir, tmp, 0);
		goto out;
	}
	fd = -1;
	if (renameat(dir, tmp, dir, name) < 0) {
		hook_error_errno(errno, "renaming %s/%s", run_dir, tmp);
		unlinkat(dir, tmp, 0);
		goto out;
	}
	r = 0;
out:
	if (dir >= 0)
		close(dir);
	json_object_put(o);
	return r;
}

static int parse_record(const char *text, size_t len, const char *what, const char *id,
			struct hook_record *rec)
{
	struct json_object *o = NULL, *broker, *v;
	const char *rid, *dir;
	int r = -1;

	if (hook_json_parse(text, len, what, &o) < 0)
		return -1;
	if (!json_object_is_type(o, json_type_object) ||
	    hook_json_string(o, "id", what, &rid) < 0 || rid == NULL ||
	    hook_json_string(o, "socketDir", what, &dir) < 0 || dir == NULL ||
	    !json_object_object_get_ex(o, "broker", &broker) ||
	    !json_object_is_type(broker, json_type_object)) {
		hook_error("%s: not a record of this hook", what);
		goto out;
	}
	if (strcmp(rid, id) != 0) {
		hook_error("%s: the record of container \"%.64s\", not of this one", what, rid);
		goto out;
	}
	if (!json_object_object_get_ex(broker, "pid", &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) <= 0 || json_object_get_int64(v) > INT32_MAX) {
		hook_error("%s: broker.pid is not a process id", what);
		goto out;
	}
	rec->broker_pid = (pid_t)json_object_get_int64(v);
	if (!json_object_object_get_ex(broker, "startTime", &v) ||
	    !json_object_is_type(v, json_type_int)) {
		hook_error("%s: broker.startTime is not a number", what);
		goto out;
	}
	rec->broker_start = json_object_get_uint64(v);
	rec->socket_dir = strdup(dir);
	r = rec->socket_dir != NULL ? 0 : hook_error("out of memory");
out:
	json_object_put(o);
	return r;
}

int hook_record_read(const char *run_dir, const char *id, struct hook_record *ret)
{
	struct hook_record rec = { 0 };
	char name[256], what[PATH_MAX + 272];
	char text[RECORD_MAX + 1];
	size_t len = 0;
	ssize_t n;
	int dir, fd, r;

	if (record_name(id, name, sizeof(name)) < 0)
		return -1;
	dir = open_run_dir(run_dir, 0);
	if (dir == -2)
		return 1;
	if (dir < 0)
		return -1;
	snprintf(what, sizeof(what), "%s/%s", run_dir, name);
	fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	close(dir);
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0)
		return hook_error_errno(errno, "%s", what);
	while ((n = read(fd, text + len, sizeof(text) - len)) > 0 || (n < 0 && errno == EINTR))
		if (n > 0)
			len += (size_t)n;
	r = n < 0 ? hook_error_errno(errno, "reading %s", what) : 0;
	close(fd);
	if (r == 0 && len > RECORD_MAX)
		r = hook_error("%s: more than %d bytes", what, RECORD_MAX);
	if (r == 0 && len > 0)
		r = parse_record(text, len, what, id, &rec);
	if (r < 0)
		return r;
	*ret = rec;
	return 0;
}

void hook_record_remove(const char *run_dir, const char *id)
{
	char name[256];
	int dir;

	if (record_name(id, name, sizeof(name)) < 0)
		return;
	dir = open_run_dir(run_dir, 0);
	if (dir < 0)
		return;
	unlinkat(dir, name, 0);
	close(dir);
}

void hook_record_clear(struct hook_record *rec)
{
	free(rec->socket_dir);
	*rec = (struct hook_record){ 0 };
}
