/* SPDX-License-Identifier: MIT */
/*
 * The container state a runtime writes on a hook's stdin (OCI runtime specification,
 * runtime.md "State"): ociVersion, id, status, pid, bundle, annotations. Additional properties
 * are allowed by the specification (crun adds "root") and ignored; everything the hook uses is
 * checked for type and form before anything is created.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "hook.h"

#define STATE_MAX (1 << 20)
#define ID_MAX 1024
#define WHAT "container state on stdin"

static int read_bounded(int fd, char **ret_text, size_t *ret_len)
{
	size_t len = 0, size = 0;
	char *text = NULL;

	for (;;) {
		ssize_t n;

		if (len == size) {
			/* One byte more than the limit tells "exactly at" from "above". */
			size_t want = size ? size * 2 : 4096;
			char *grown;

			if (want > STATE_MAX + 1)
				want = STATE_MAX + 1;
			if (want <= size)
				break;
			grown = realloc(text, want);
			if (grown == NULL) {
				free(text);
				return hook_error(WHAT ": out of memory");
			}
			text = grown;
			size = want;
		}
		n = read(fd, text + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;

			free(text);
			return hook_error_errno(saved, "reading the " WHAT);
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > STATE_MAX) {
		free(text);
		return hook_error(WHAT ": more than %d bytes", STATE_MAX);
	}
	if (len == 0) {
		free(text);
		return hook_error(WHAT ": empty (run me as an OCI hook: the runtime writes the "
				  "state on stdin)");
	}
	*ret_text = text;
	*ret_len = len;
	return 0;
}

/* major.minor[.patch][-pre][+build]: runc writes "1.0.2-dev", crun "1.0". */
static int version_valid(const char *v)
{
	int parts = 0;

	for (;;) {
		size_t digits = strspn(v, "0123456789");

		if (digits == 0 || (digits > 1 && v[0] == '0'))
			return 0;
		v += digits;
		parts++;
		if (*v != '.' || parts == 3)
			break;
		v++;
	}
	if (parts < 2)
		return 0;
	if (*v == '-' || *v == '+') {
		const char *rest = v + 1;

		return rest[0] != '\0' &&
		       strspn(rest, "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-+") ==
			       strlen(rest);
	}
	return *v == '\0';
}

/* As libebcc and runc take them: 1..1024 of [A-Za-z0-9_.+-], not "." or "..". */
static int id_valid(const char *id)
{
	size_t len = strlen(id);

	return len > 0 && len <= ID_MAX && strcmp(id, ".") != 0 && strcmp(id, "..") != 0 &&
	       strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-") ==
		       len;
}

static int required_string(struct json_object *o, const char *key, const char **ret)
{
	if (hook_json_string(o, key, WHAT, ret) < 0)
		return -1;
	if (*ret == NULL)
		return hook_error(WHAT ": \"%s\" is missing", key);
	return 0;
}

static int check_annotations(struct json_object *o, struct json_object **ret)
{
	struct json_object_iter it;
	struct json_object *a;

	*ret = NULL;
	if (!json_object_object_get_ex(o, "annotations", &a))
		return 0;
	if (!json_object_is_type(a, json_type_object))
		return hook_error(WHAT ": \"annotations\" is not an object");
	json_object_object_foreachC(a, it) {
		const char *s;

		if (hook_json_string(a, it.key, WHAT ": annotations", &s) < 0)
			return -1;
	}
	*ret = a;
	return 0;
}

static int check_pid(struct json_object *o, int *ret)
{
	struct json_object *p;
	int64_t v;

	*ret = 0;
	if (!json_object_object_get_ex(o, "pid", &p))
		return 0;
	if (!json_object_is_type(p, json_type_int))
		return hook_error(WHAT ": \"pid\" is not an integer");
	errno = 0;
	v = json_object_get_int64(p);
	if (errno != 0 || v < 0 || v > INT_MAX)
		return hook_error(WHAT ": \"pid\" %s is not a process id",
				  json_object_to_json_string(p));
	*ret = (int)v;
	return 0;
}

static int check_phase(const struct hook_state *s, enum hook_phase phase)
{
	if (phase == HOOK_CREATE_RUNTIME) {
		/* runc says "creating", crun "created": the process exists, not yet started. */
		if (strcmp(s->status, "creating") != 0 && strcmp(s->status, "created") != 0)
			return hook_error(WHAT ": status \"%s\" is not creating or created: is this "
					  "hook registered as createRuntime?",
					  s->status);
		if (s->pid <= 0)
			return hook_error(WHAT ": no \"pid\" of the container process");
	} else if (strcmp(s->status, "stopped") != 0) {
		return hook_error(WHAT ": status \"%s\" is not stopped: is this hook registered as "
				  "poststop?",
				  s->status);
	}
	return 0;
}

int hook_state_read(int fd, enum hook_phase phase, struct hook_state *ret)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	r = read_bounded(fd, &text, &len);
	if (r < 0)
		return r;
	r = hook_state_parse(text, len, phase, ret);
	free(text);
	return r;
}

int hook_state_parse(const char *text, size_t len, enum hook_phase phase, struct hook_state *ret)
{
	struct hook_state s = { 0 };
	int r;

	if (len > STATE_MAX)
		return hook_error(WHAT ": more than %d bytes", STATE_MAX);
	r = hook_json_parse(text, len, WHAT, &s.json);
	if (r < 0)
		return r;
	if (!json_object_is_type(s.json, json_type_object)) {
		r = hook_error(WHAT ": not a JSON object");
		goto fail;
	}
	if (required_string(s.json, "ociVersion", &s.oci_version) < 0 ||
	    required_string(s.json, "id", &s.id) < 0 ||
	    required_string(s.json, "status", &s.status) < 0 ||
	    required_string(s.json, "bundle", &s.bundle) < 0 || check_pid(s.json, &s.pid) < 0 ||
	    check_annotations(s.json, &s.annotations) < 0) {
		r = -1;
		goto fail;
	}
	if (!version_valid(s.oci_version))
		r = hook_error(WHAT ": ociVersion \"%s\" is not a version", s.oci_version);
	else if (!id_valid(s.id))
		r = hook_error(WHAT ": id \"%.64s%s\" is not 1 to %d of [A-Za-z0-9_.+-]", s.id,
			       strlen(s.id) > 64 ? "..." : "", ID_MAX);
	else if (strcmp(s.status, "creating") != 0 && strcmp(s.status, "created") != 0 &&
		 strcmp(s.status, "running") != 0 && strcmp(s.status, "stopped") != 0)
		r = hook_error(WHAT ": status \"%s\" is not creating, created, running or stopped",
			       s.status);
	else if (s.bundle[0] != '/' || strlen(s.bundle) >= PATH_MAX)
		r = hook_error(WHAT ": bundle \"%s\" is not an absolute path", s.bundle);
	else
		r = check_phase(&s, phase);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	json_object_put(s.json);
	return r;
}

void hook_state_clear(struct hook_state *s)
{
	json_object_put(s->json);
	*s = (struct hook_state){ 0 };
}
