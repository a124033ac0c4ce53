/* SPDX-License-Identifier: MIT */
/* What a composite looks like from outside: its OCI state document, and the list of ids. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "ebcc-private.h"

/* The runtime-spec version whose state schema the document follows. */
#define OCI_STATE_VERSION "1.2.0"

static int add(struct json_object *obj, const char *key, struct json_object *value)
{
	if (value == NULL || json_object_object_add(obj, key, value) < 0) {
		json_object_put(value);
		return -1;
	}
	return 0;
}

static struct json_object *stages_json(const struct ebcc_state *st)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; arr != NULL && i < st->n_stages; i++) {
		const struct ebcc_stage_decl *s = &st->stages[i];
		struct json_object *o = json_object_new_object();

		if (o == NULL || add(o, "name", json_object_new_string(s->name)) < 0 ||
		    add(o, "lifetime", json_object_new_string(ebcc__lifetime_name(s->lifetime))) < 0 ||
		    add(o, "measurement", json_object_new_string(s->measurement)) < 0 ||
		    json_object_object_add(o, "eid",
					   s->loaded ? json_object_new_int64((int64_t)s->eid) : NULL) < 0 ||
		    json_object_array_add(arr, o) < 0) {
			json_object_put(o);
			json_object_put(arr);
			return NULL;
		}
	}
	return arr;
}

static int state_document(struct ebcc_instance *inst, const struct ebcc_state *st, int status,
			  int exit_status, char **ret)
{
	struct json_object *root = json_object_new_object(), *e = json_object_new_object();
	bool live = status == EBCC_STATUS_CREATED || status == EBCC_STATUS_RUNNING;
	int fail = root == NULL || e == NULL;
	int r;

	fail |= add(root, "ociVersion", json_object_new_string(st != NULL ? st->oci_version
									  : OCI_STATE_VERSION));
	fail |= add(root, "id", json_object_new_string(inst->id));
	fail |= add(root, "status", json_object_new_string(ebcc__status_name(status)));
	/* The pid only while the anchor runs: 0 when there is none or it has stopped. */
	fail |= add(root, "pid",
		    json_object_new_int(live && st != NULL && st->anchor_pid > 0 ? st->anchor_pid : 0));
	fail |= add(root, "bundle", json_object_new_string(st != NULL ? st->bundle : ""));
	fail |= add(root, "annotations", st != NULL ? json_object_get(st->annotations)
						    : json_object_new_object());
	if (st != NULL) {
		fail |= add(e, "backend", json_object_new_string(st->backend));
		fail |= add(e, "created", json_object_new_string(st->created));
		fail |= add(e, "stages", stages_json(st));
		if (status == EBCC_STATUS_STOPPED)
			fail |= add(e, "exitStatus", json_object_new_int(exit_status));
	}
	fail |= add(root, "ebcc", json_object_get(e));
	r = fail ? ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory")
		 : ebcc__json_to_string(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED, ret);
	json_object_put(e);
	json_object_put(root);
	return r;
}

EBCC_EXPORT int ebcc_instance_state(struct ebcc_instance *inst, char **ret_json)
{
	struct ebcc_state *st = NULL;
	int status, exit_status = -1, r;

	if (inst == NULL || ret_json == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_instance_state: %s is NULL",
				   inst == NULL ? "inst" : "ret_json");
	r = ebcc__instance_check(inst);
	if (r == 0)
		r = ebcc__instance_peek_state(inst, &st);
	if (r < 0)
		return r;
	status = ebcc__status_derive(inst, st, &exit_status);
	r = status < 0 ? status : state_document(inst, st, status, exit_status, ret_json);
	ebcc__state_free(st);
	return r;
}

/* The status of the composite in directory name (its id read from its state). */
static int list_entry(struct ebcc_context *ctx, int root_fd, const char *name,
		      struct json_object *arr)
{
	struct ebcc_instance *inst = NULL;
	struct ebcc_state *st = NULL;
	struct json_object *o;
	const char *id = name;
	int status, r, fail;

	/* Hashed directories hold long ids: the id comes from the state. */
	if (name[0] == '@') {
		_cleanup_close_ int dir_fd = -1;
		_cleanup_free_ char *text = NULL;
		size_t len;

		if (ebcc__open_dir_at(root_fd, name, name, &dir_fd) < 0 ||
		    ebcc__file_read_at(dir_fd, "state.json", name, 1 << 20, &text, &len) < 0 ||
		    ebcc__state_parse(text, len, name, &st) < 0)
			return 0; /* half-created: not addressable by id */
		id = st->id;
	}
	if (!ebcc__instance_id_valid(id)) {
		ebcc__state_free(st);
		return 0; /* not ours */
	}
	r = ebcc_instance_open(ctx, id, &inst);
	ebcc__state_free(st);
	st = NULL;
	if (r == EBCC_ERR_NOT_FOUND)
		return 0; /* deleted while we listed */
	if (r < 0)
		return r;
	r = ebcc__instance_peek_state(inst, &st);
	status = r < 0 ? r : ebcc__status_derive(inst, st, NULL);
	o = json_object_new_object();
	fail = o == NULL;
	fail |= add(o, "id", json_object_new_string(inst->id));
	fail |= add(o, "status", json_object_new_string(status >= 0 ? ebcc__status_name(status)
								   : ebcc_error_name(status)));
	if (st != NULL) {
		bool live = status == EBCC_STATUS_CREATED || status == EBCC_STATUS_RUNNING;

		fail |= add(o, "pid", json_object_new_int(live ? st->anchor_pid : 0));
		fail |= add(o, "bundle", json_object_new_string(st->bundle));
		fail |= add(o, "created", json_object_new_string(st->created));
	}
	ebcc__state_free(st);
	ebcc_instance_unref(inst);
	if (fail || json_object_array_add(arr, o) < 0) {
		json_object_put(o);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	return 0;
}

static int compare_ids(const void *a, const void *b)
{
	struct json_object *const *x = a, *const *y = b;
	struct json_object *ix, *iy;

	json_object_object_get_ex(*x, "id", &ix);
	json_object_object_get_ex(*y, "id", &iy);
	return strcmp(json_object_get_string(ix), json_object_get_string(iy));
}

EBCC_EXPORT int ebcc_instance_list(struct ebcc_context *ctx, char **ret_json)
{
	struct json_object *arr;
	struct dirent *de;
	DIR *dir;
	int root_fd = -1, r = 0;

	if (ctx == NULL || ret_json == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_instance_list: %s is NULL",
				   ctx == NULL ? "ctx" : "ret_json");
	arr = json_object_new_array();
	if (arr == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	r = ebcc__state_root_open(ctx, false, &root_fd, NULL);
	if (r == EBCC_ERR_NOT_FOUND) {
		r = 0;
		goto done;
	}
	if (r < 0)
		goto done;
	ebcc__trash_sweep(root_fd);
	dir = fdopendir(root_fd);
	if (dir == NULL) {
		r = ebcc__error_errno(EBCC_ERR_IO, errno, "read the state root");
		close(root_fd);
		goto done;
	}
	while (r == 0 && (de = readdir(dir)) != NULL) {
		if (de->d_name[0] == '.' && (strcmp(de->d_name, ".") == 0 ||
					     strcmp(de->d_name, "..") == 0 ||
					     strcmp(de->d_name, EBCC_PRIVATE_DIR) == 0))
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		r = list_entry(ctx, dirfd(dir), de->d_name, arr);
	}
	closedir(dir);
	json_object_array_sort(arr, compare_ids);
done:
	if (r == 0)
		r = ebcc__json_to_string(arr, JSON_C_TO_STRING_PLAIN, ret_json);
	json_object_put(arr);
	return r;
}
