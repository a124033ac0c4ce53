/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include <ebcc/backend.h>

#include "checkutil.h"

/* Paths below the state root, each level with room for the one above it. */
#define PATH_SIZE 4096
#define STAGE_PATH_SIZE (PATH_SIZE + 512)
#define INVOCATION_PATH_SIZE (STAGE_PATH_SIZE + 512)
#define FILE_PATH_SIZE (INVOCATION_PATH_SIZE + 64)

char *slurp(const char *path, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	size_t len = 0, cap = 4096;
	char *buf;

	if (fd < 0)
		return NULL;
	buf = malloc(cap + 1);
	assert_non_null(buf);
	for (;;) {
		ssize_t n;

		if (len == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (ret_len != NULL)
		*ret_len = len;
	return buf;
}

/* ---- processes ------------------------------------------------------------------------- */

struct proc_facts {
	char comm[32];
	char argv0[256], argv1[256];
	char fd3[4096];
};

static bool read_facts(pid_t pid, struct proc_facts *f)
{
	char path[64], *text;
	size_t len = 0;
	ssize_t n;

	memset(f, 0, sizeof(*f));
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	text = slurp(path, &len);
	if (text == NULL)
		return false;
	if (len > 0 && text[len - 1] == '\n')
		text[len - 1] = '\0';
	snprintf(f->comm, sizeof(f->comm), "%s", text);
	free(text);
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	text = slurp(path, &len);
	if (text != NULL) {
		size_t first = strnlen(text, len);

		snprintf(f->argv0, sizeof(f->argv0), "%s", text);
		if (first + 1 < len)
			snprintf(f->argv1, sizeof(f->argv1), "%s", text + first + 1);
		free(text);
	}
	snprintf(path, sizeof(path), "/proc/%d/fd/3", (int)pid);
	n = readlink(path, f->fd3, sizeof(f->fd3) - 1);
	f->fd3[n > 0 ? n : 0] = '\0';
	return true;
}

static bool is_ours(const struct ours *o, const struct proc_facts *f)
{
	size_t rl = strlen(o->root);

	if (strcmp(f->comm, "ebcc-monitor") == 0 && strncmp(f->fd3, o->root, rl) == 0 &&
	    f->fd3[rl] == '/')
		return true;
	for (size_t i = 0; i < o->n_names; i++)
		if (strcmp(f->argv0, o->names[i]) == 0 || strcmp(f->argv1, o->names[i]) == 0)
			return true;
	return false;
}

int ours_find(const struct ours *o, pid_t *pids, int max)
{
	DIR *dir = opendir("/proc");
	struct dirent *de;
	int n = 0;

	assert_non_null(dir);
	while ((de = readdir(dir)) != NULL) {
		struct proc_facts f;
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end != '\0' || pid <= 0 || pid == getpid())
			continue;
		if (!read_facts((pid_t)pid, &f) || !is_ours(o, &f))
			continue;
		if (n < max && pids != NULL)
			pids[n] = (pid_t)pid;
		n++;
	}
	closedir(dir);
	return n;
}

void ours_describe(const struct ours *o, char *buf, size_t size)
{
	pid_t pids[32];
	int n = ours_find(o, pids, 32);
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < n && i < 32 && used < size; i++) {
		struct proc_facts f;

		if (read_facts(pids[i], &f))
			used += (size_t)snprintf(buf + used, size - used, "%d %s [%s %s] fd3=%s; ",
						 (int)pids[i], f.comm, f.argv0, f.argv1, f.fd3);
	}
}

int ours_wait_gone(const struct ours *o, int timeout_ms)
{
	int left = ours_find(o, NULL, 0);

	for (int waited = 0; left > 0 && waited < timeout_ms; waited += 10) {
		nanosleep(&(struct timespec){ 0, 10000000 }, NULL);
		left = ours_find(o, NULL, 0);
	}
	return left;
}

void ours_kill(const struct ours *o)
{
	pid_t pids[256];
	int n = ours_find(o, pids, 256);

	for (int i = 0; i < n && i < 256; i++)
		kill(pids[i], SIGKILL);
	if (n > 0)
		ours_wait_gone(o, 5000);
}

pid_t guard_start(const struct ours *o, const char *const *dirs, size_t n_dirs, int *ret_fd)
{
	int pipefd[2];
	pid_t pid;

	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* The test's end of the pipe closes with it (or in guard_stop()); a descendant
		 * that still holds a copy is outwaited by watching the test process itself. */
		struct pollfd p[2] = { { .fd = pipefd[0], .events = POLLIN },
				       { .fd = (int)syscall(SYS_pidfd_open, getppid(), 0),
					 .events = POLLIN } };

		close(pipefd[1]);
		setsid();
		while (poll(p, p[1].fd >= 0 ? 2 : 1, -1) < 0 && errno == EINTR)
			;
		ours_kill(o);
		for (size_t i = 0; i < n_dirs; i++) {
			char *cmd;

			if (dirs[i] != NULL && asprintf(&cmd, "rm -rf '%s'", dirs[i]) > 0) {
				if (system(cmd) != 0)
					fprintf(stderr, "guard: %s failed\n", cmd);
				free(cmd);
			}
		}
		_exit(0);
	}
	close(pipefd[0]);
	*ret_fd = pipefd[1];
	return pid;
}

void guard_stop(pid_t guard, int fd)
{
	close(fd);
	while (waitpid(guard, NULL, 0) < 0 && errno == EINTR)
		;
}

/* ---- evidence and artifacts ------------------------------------------------------------ */

char *policy_for_sim(struct ebcc_context *ctx)
{
	char *key = NULL, *escaped, *o, *policy;

	assert_int_equal(ebcc_backend_attestation_key(ctx, "sim", &key), 0);
	escaped = malloc(2 * strlen(key) + 1);
	assert_non_null(escaped);
	o = escaped;
	for (const char *p = key; *p != '\0'; p++) {
		if (*p == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	assert_true(asprintf(&policy, "{\"trusted_keys\": [\"%s\"], \"allow_simulated\": true}",
			     escaped) > 0);
	free(escaped);
	ebcc_free(key);
	return policy;
}

static struct json_object *parse_json_file(const char *path)
{
	size_t len = 0;
	char *text = slurp(path, &len);
	struct json_object *o;

	if (text == NULL)
		fail_msg("%s cannot be read", path);
	o = json_tokener_parse(text);
	if (o == NULL)
		fail_msg("%s is not JSON: %.200s", path, text);
	free(text);
	return o;
}

static int64_t get_int(struct json_object *o, const char *key, const char *what)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		fail_msg("%s: no integer %s", what, key);
	return json_object_get_int64(v);
}

static const char *get_string(struct json_object *o, const char *key, const char *what)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		fail_msg("%s: no string %s", what, key);
	return json_object_get_string(v);
}

static off_t file_size(const char *dir, const char *name)
{
	char path[FILE_PATH_SIZE];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	return st.st_size;
}

static bool all_digits(const char *s)
{
	if (*s == '\0' || *s == '0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* One published invocation: complete, consistent, and its evidence verifies. */
static bool check_invocation(struct ebcc_context *ctx, const char *dir, const char *id,
			     const char *stage, uint64_t seq, const char *policy)
{
	static const char *const names[] = { "meta.json", "log.txt", "request.bin",
					     "response.bin", "evidence.json" };
	bool want[5] = { true, true, false, false, false };
	struct json_object *meta, *body;
	char path[FILE_PATH_SIZE];
	bool ok;
	DIR *d;
	struct dirent *de;
	size_t n_files = 0, n_want = 0;

	snprintf(path, sizeof(path), "%s/meta.json", dir);
	meta = parse_json_file(path);
	if ((uint64_t)get_int(meta, "seq", path) != seq)
		fail_msg("%s: seq %" PRId64 " in directory %" PRIu64, path, get_int(meta, "seq", path),
			 seq);
	assert_string_equal(get_string(meta, "instance", path), id);
	assert_string_equal(get_string(meta, "stage", path), stage);
	ok = strcmp(get_string(meta, "status", path), "ok") == 0;
	if (!ok)
		assert_string_equal(get_string(meta, "status", path), "error");
	if (get_int(meta, "log_size", path) != file_size(dir, "log.txt"))
		fail_msg("%s: log_size %" PRId64 ", log.txt has %jd bytes", path,
			 get_int(meta, "log_size", path), (intmax_t)file_size(dir, "log.txt"));
	if (json_object_object_get_ex(meta, "request", &body) &&
	    json_object_get_boolean(json_object_object_get(body, "stored"))) {
		want[2] = true;
		assert_int_equal(get_int(body, "size", path), file_size(dir, "request.bin"));
	}
	if (ok) {
		want[4] = true;
		if (json_object_object_get_ex(meta, "response", &body) &&
		    json_object_get_boolean(json_object_object_get(body, "stored"))) {
			want[3] = true;
			assert_int_equal(get_int(body, "size", path), file_size(dir, "response.bin"));
		}
	}
	json_object_put(meta);

	/* Exactly the promised files, nothing half-written beside them. */
	d = opendir(dir);
	assert_non_null(d);
	while ((de = readdir(d)) != NULL) {
		size_t i;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		for (i = 0; i < 5 && strcmp(de->d_name, names[i]) != 0; i++)
			;
		if (i == 5 || !want[i])
			fail_msg("%s holds %s, which it should not", dir, de->d_name);
		n_files++;
	}
	closedir(d);
	for (size_t i = 0; i < 5; i++)
		n_want += want[i];
	if (n_files != n_want)
		fail_msg("%s holds %zu files, %zu expected", dir, n_files, n_want);

	if (ok) {
		struct ebcc_evidence *ev = NULL;
		struct json_object *e;
		size_t len = 0;
		char *text;
		int r;

		snprintf(path, sizeof(path), "%s/evidence.json", dir);
		text = slurp(path, &len);
		assert_non_null(text);
		r = ebcc_evidence_parse(ctx, text, len, &ev);
		if (r != 0)
			fail_msg("%s: %s: %s", path, ebcc_error_name(r), ebcc_last_error_message());
		r = ebcc_evidence_verify(ctx, ev, policy);
		if (r != 0)
			fail_msg("%s does not verify: %s: %s", path, ebcc_error_name(r),
				 ebcc_last_error_message());
		ebcc_evidence_unref(ev);
		e = json_tokener_parse(text);
		assert_non_null(e);
		assert_int_equal(get_int(e, "seq", path), seq);
		assert_string_equal(get_string(e, "instance", path), id);
		assert_string_equal(get_string(e, "stage", path), stage);
		json_object_put(e);
		free(text);
	}
	return ok;
}

int check_artifacts(struct ebcc_context *ctx, const char *root, const char *dir_name,
		    const char *id, const char *policy, struct stage_seen *seen, int max)
{
	char stages[PATH_SIZE];
	struct dirent *de;
	DIR *top;
	int n = 0;

	snprintf(stages, sizeof(stages), "%s/%s/stages", root, dir_name);
	top = opendir(stages);
	if (top == NULL)
		return 0;
	while ((de = readdir(top)) != NULL) {
		struct stage_seen s = { .max_seq = 0 };
		char sdir[STAGE_PATH_SIZE];
		struct dirent *ie;
		DIR *inner;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(s.name, sizeof(s.name), "%.64s", de->d_name);
		snprintf(sdir, sizeof(sdir), "%.4095s/%.255s", stages, de->d_name);
		inner = opendir(sdir);
		if (inner == NULL)
			fail_msg("%s is not a directory: %s", sdir, strerror(errno));
		while ((ie = readdir(inner)) != NULL) {
			char idir[INVOCATION_PATH_SIZE];
			struct stat st;

			if (strcmp(ie->d_name, ".") == 0 || strcmp(ie->d_name, "..") == 0)
				continue;
			snprintf(idir, sizeof(idir), "%.4607s/%.255s", sdir, ie->d_name);
			assert_int_equal(lstat(idir, &st), 0);
			if (ie->d_name[0] == '.') {
				/* Out of sight: an invocation being built or removed. */
				if (strncmp(ie->d_name, ".tmp-", 5) != 0 &&
				    strncmp(ie->d_name, ".pruned-", 8) != 0 &&
				    !(S_ISREG(st.st_mode) && strstr(ie->d_name, ".tmp") != NULL))
					fail_msg("unexpected hidden entry %s", idir);
				continue;
			}
			if (!all_digits(ie->d_name)) {
				if (S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode))
					fail_msg("unexpected entry %s", idir);
				continue; /* seq, invoke.lock, the backend's socket */
			}
			if (!S_ISDIR(st.st_mode))
				fail_msg("%s is not a directory", idir);
			s.published++;
			if (check_invocation(ctx, idir, id, s.name, strtoull(ie->d_name, NULL, 10),
					     policy))
				s.with_evidence++;
			if (strtoull(ie->d_name, NULL, 10) > s.max_seq)
				s.max_seq = strtoull(ie->d_name, NULL, 10);
		}
		closedir(inner);
		if (n < max && seen != NULL)
			seen[n] = s;
		n++;
	}
	closedir(top);
	return n;
}

uint64_t stage_last_seq(struct ebcc_instance *inst, const char *stage)
{
	struct json_object *o;
	char *info = NULL;
	uint64_t last;
	int r = ebcc_stage_info(inst, stage, &info);

	if (r != 0)
		fail_msg("stage_info %s: %s: %s", stage, ebcc_error_name(r), ebcc_last_error_message());
	o = json_tokener_parse(info);
	assert_non_null(o);
	last = (uint64_t)get_int(o, "last_seq", "stage info");
	json_object_put(o);
	ebcc_free(info);
	return last;
}

int check_oci_state(struct ebcc_instance *inst, const char *id)
{
	static const char *const names[] = { "creating", "created", "running", "stopped" };
	struct json_object *o, *v;
	const char *status, *version;
	char *text = NULL;
	int r = ebcc_instance_state(inst, &text), code;

	if (r != 0)
		fail_msg("state of %s: %s: %s", id, ebcc_error_name(r), ebcc_last_error_message());
	o = json_tokener_parse(text);
	if (o == NULL || !json_object_is_type(o, json_type_object))
		fail_msg("state of %s is not a JSON object: %s", id, text);
	version = get_string(o, "ociVersion", "state");
	assert_true(strlen(version) >= 5 && version[0] >= '0' && version[0] <= '9' &&
		    strchr(version, '.') != NULL);
	assert_string_equal(get_string(o, "id", "state"), id);
	status = get_string(o, "status", "state");
	for (code = 0; code < 4 && strcmp(status, names[code]) != 0; code++)
		;
	if (code == 4)
		fail_msg("state of %s: status \"%s\"", id, status);
	/* The bundle is an absolute path, known from the first state written during create. */
	v = json_object_object_get(o, "bundle");
	assert_true(json_object_is_type(v, json_type_string));
	if (code != 0)
		assert_int_equal(json_object_get_string(v)[0], '/');
	/* pid: required while created or running, never negative. */
	if (code == 1 || code == 2)
		assert_true(json_object_object_get_ex(o, "pid", &v));
	if (json_object_object_get_ex(o, "pid", &v)) {
		assert_true(json_object_is_type(v, json_type_int));
		assert_true(json_object_get_int64(v) >= 0);
	}
	if (json_object_object_get_ex(o, "annotations", &v)) {
		assert_true(json_object_is_type(v, json_type_object));
		struct json_object_iterator it = json_object_iter_begin(v);
		struct json_object_iterator end = json_object_iter_end(v);

		for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
			assert_true(json_object_is_type(json_object_iter_peek_value(&it),
							json_type_string));
	}
	json_object_put(o);
	ebcc_free(text);
	r = ebcc_instance_status(inst);
	/* The status may move on between the two calls (an anchor exits), never back. */
	if (r < 0 || r < code)
		fail_msg("status of %s: %d after state said %s", id, r, status);
	return code;
}
