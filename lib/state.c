/* SPDX-License-Identifier: MIT */
/*
 * state.json: what a composite records about itself between operations. It holds facts
 * (pids and their start times, what was loaded, whether it was killed), never a status: the
 * status is derived from these facts on every query.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "ebcc-private.h"

#define ERR EBCC_ERR_CORRUPT

void ebcc__state_free(struct ebcc_state *st)
{
	if (st == NULL || __atomic_sub_fetch(&st->refcount, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	free(st->oci_version);
	free(st->id);
	free(st->bundle);
	free(st->backend);
	json_object_put(st->annotations);
	ebcc__image_root_clear(&st->images);
	for (size_t i = 0; i < st->n_stages; i++)
		ebcc__stage_decl_clear(&st->stages[i]);
	free(st->stages);
	free(st);
}

const char *ebcc__phase_name(enum ebcc_phase phase)
{
	switch (phase) {
	case EBCC_PHASE_CREATING:
		return "creating";
	case EBCC_PHASE_RUNNING:
		return "running";
	default:
		return "created";
	}
}

static const char *anchor_mode_name(enum ebcc_anchor_mode mode)
{
	switch (mode) {
	case EBCC_ANCHOR_MODE_SPAWNED:
		return "spawned";
	case EBCC_ANCHOR_MODE_EXTERNAL:
		return "external";
	default:
		return "none";
	}
}

/* json-c helpers that never return NULL silently: the caller checks once at the end. */
static void add(struct json_object *obj, const char *key, struct json_object *value, bool *oom)
{
	if (value == NULL || json_object_object_add(obj, key, value) < 0) {
		json_object_put(value);
		*oom = true;
	}
}

static struct json_object *json_from_text(const char *text)
{
	return text != NULL ? json_tokener_parse(text) : NULL;
}

static struct json_object *stage_to_json(const struct ebcc_stage_decl *s, bool *oom)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL) {
		*oom = true;
		return NULL;
	}
	add(o, "name", json_object_new_string(s->name), oom);
	add(o, "image", json_object_new_string(s->image), oom);
	add(o, "lifetime", json_object_new_string(ebcc__lifetime_name(s->lifetime)), oom);
	add(o, "maxRequest", json_object_new_int64((int64_t)s->max_request), oom);
	add(o, "maxResponse", json_object_new_int64((int64_t)s->max_response), oom);
	add(o, "timeoutMs", json_object_new_int64(s->timeout_ms), oom);
	add(o, "memoryMiB", json_object_new_int64(s->memory_mib), oom);
	add(o, "cpuSeconds", json_object_new_int64(s->cpu_seconds), oom);
	add(o, "maxFiles", json_object_new_int64(s->max_files), oom);
	add(o, "measurement", json_object_new_string(s->measurement), oom);
	add(o, "backendOptions", json_from_text(s->options_json), oom);
	if (s->encrypted_image != NULL)
		add(o, "encryptedImage", ebcc__encrypted_image_json(s), oom);
	if (s->loaded) {
		add(o, "eid", json_object_new_int64((int64_t)s->eid), oom);
		if (s->ref != NULL)
			add(o, "ref", json_object_new_string(s->ref), oom);
		if (s->isolation_json != NULL)
			add(o, "isolation", json_from_text(s->isolation_json), oom);
	}
	return o;
}

static struct json_object *image_root_to_json(const struct ebcc_image_root *ir, bool *oom)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL) {
		*oom = true;
		return NULL;
	}
	add(o, "kind", json_object_new_string(ebcc__image_root_kind_name(ir->kind)), oom);
	add(o, "path", json_object_new_string(ir->path), oom);
	if (ir->kind == EBCC_IMAGE_ROOT_ROOTFS)
		add(o, "dir", json_object_new_string(ir->dir != NULL ? ir->dir : ""), oom);
	return o;
}

int ebcc__state_to_json(const struct ebcc_state *st, char **ret)
{
	struct json_object *root = json_object_new_object(), *e = json_object_new_object();
	struct json_object *stages = json_object_new_array();
	bool oom = root == NULL || e == NULL || stages == NULL;
	int r;

	if (oom) {
		json_object_put(root);
		json_object_put(e);
		json_object_put(stages);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	add(root, "ociVersion", json_object_new_string(st->oci_version), &oom);
	add(root, "id", json_object_new_string(st->id), &oom);
	add(root, "bundle", json_object_new_string(st->bundle), &oom);
	add(root, "annotations", json_object_get(st->annotations), &oom);
	add(e, "stateVersion", json_object_new_int(1), &oom);
	add(e, "created", json_object_new_string(st->created), &oom);
	add(e, "backend", json_object_new_string(st->backend), &oom);
	add(e, "phase", json_object_new_string(ebcc__phase_name(st->phase)), &oom);
	add(e, "killSignal", json_object_new_int(st->kill_signal), &oom);
	add(e, "anchorMode", json_object_new_string(anchor_mode_name(st->anchor_mode)), &oom);
	add(e, "anchorPid", json_object_new_int64(st->anchor_pid), &oom);
	add(e, "anchorStartTime", json_object_new_int64((int64_t)st->anchor_start), &oom);
	add(e, "monitorPid", json_object_new_int64(st->monitor_pid), &oom);
	add(e, "monitorStartTime", json_object_new_int64((int64_t)st->monitor_start), &oom);
	for (size_t i = 0; i < st->n_stages && !oom; i++) {
		struct json_object *s = stage_to_json(&st->stages[i], &oom);

		if (s != NULL && json_object_array_add(stages, s) < 0) {
			json_object_put(s);
			oom = true;
		}
	}
	add(e, "stages", stages, &oom);
	/* Without a path (a state made by hand): left out, which reads back as the bundle. */
	if (st->images.path != NULL)
		add(e, "imageRoot", image_root_to_json(&st->images, &oom), &oom);
	add(root, "ebcc", e, &oom);
	r = oom ? ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory")
		: ebcc__json_to_string(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED, ret);
	json_object_put(root);
	return r;
}

static int dup_string(struct json_object *obj, const char *key, const char *what, char **ret)
{
	const char *v;
	int r = ebcc__json_string_member(obj, key, true, ERR, what, &v);

	if (r < 0)
		return r;
	*ret = strdup(v);
	return *ret != NULL ? 0 : ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
}

/* The manifest's encryptedImage as create recorded it (checked then), if there was one. */
static int parse_encrypted_image(struct json_object *o, const char *what,
				 struct ebcc_stage_decl *s)
{
	struct json_object *enc, *policy;
	int r = ebcc__json_member(o, "encryptedImage", json_type_object, false, ERR, what, &enc);

	if (r < 0 || enc == NULL)
		return r;
	r = dup_string(enc, "image", what, &s->encrypted_image);
	if (r == 0)
		r = ebcc__json_member(enc, "keyPolicy", json_type_object, true, ERR, what, &policy);
	if (r == 0)
		r = ebcc__json_to_string(policy, JSON_C_TO_STRING_PLAIN, &s->key_policy_json);
	return r;
}

static int parse_stage(struct json_object *o, const char *what, struct ebcc_stage_decl *s)
{
	struct json_object *opts, *eid = NULL, *isolation;
	const char *name, *lifetime, *measurement, *ref;
	uint64_t v = 0;
	int r;

	if (!json_object_is_type(o, json_type_object))
		return ebcc__error(ERR, "%s is not an object", what);
	r = ebcc__json_string_member(o, "name", true, ERR, what, &name);
	if (r < 0)
		return r;
	if (!ebcc__stage_name_valid(name))
		return ebcc__error(ERR, "%s: bad stage name", what);
	snprintf(s->name, sizeof(s->name), "%s", name);
	r = dup_string(o, "image", what, &s->image);
	if (r == 0)
		r = ebcc__json_string_member(o, "lifetime", true, ERR, what, &lifetime);
	if (r < 0)
		return r;
	if (ebcc__lifetime_parse(lifetime, &s->lifetime) < 0)
		return ebcc__error(ERR, "%s: bad lifetime \"%s\"", what, lifetime);
	r = ebcc__json_u64_member(o, "maxRequest", true, 1, EBCC_MAX_REQUEST_CAP, ERR, what,
				  &s->max_request);
	if (r == 0)
		r = ebcc__json_u64_member(o, "maxResponse", true, 1, EBCC_MAX_REQUEST_CAP, ERR, what,
					  &s->max_response);
	if (r == 0 && (r = ebcc__json_u64_member(o, "timeoutMs", true, 1, UINT32_MAX, ERR, what,
						 &v)) == 0)
		s->timeout_ms = (uint32_t)v;
	if (r == 0 && (r = ebcc__json_u64_member(o, "memoryMiB", true, 1, UINT32_MAX, ERR, what,
						 &v)) == 0)
		s->memory_mib = (uint32_t)v;
	if (r == 0 && (r = ebcc__json_u64_member(o, "cpuSeconds", true, 1, UINT32_MAX, ERR, what,
						 &v)) == 0)
		s->cpu_seconds = (uint32_t)v;
	if (r == 0 && (r = ebcc__json_u64_member(o, "maxFiles", true, 1, UINT32_MAX, ERR, what,
						 &v)) == 0)
		s->max_files = (uint32_t)v;
	if (r == 0)
		r = ebcc__json_string_member(o, "measurement", true, ERR, what, &measurement);
	if (r < 0)
		return r;
	if (!ebcc__measurement_valid(measurement))
		return ebcc__error(ERR, "%s: bad measurement", what);
	snprintf(s->measurement, sizeof(s->measurement), "%s", measurement);
	r = ebcc__json_member(o, "backendOptions", json_type_object, true, ERR, what, &opts);
	if (r == 0)
		r = ebcc__json_to_string(opts, JSON_C_TO_STRING_PLAIN, &s->options_json);
	if (r == 0)
		r = parse_encrypted_image(o, what, s);
	if (r == 0)
		r = ebcc__json_member(o, "eid", json_type_int, false, ERR, what, &eid);
	if (r < 0 || eid == NULL)
		return r;
	s->loaded = true;
	r = ebcc__json_u64_member(o, "eid", true, 0, INT64_MAX - 1, ERR, what, &s->eid);
	if (r == 0)
		r = ebcc__json_string_member(o, "ref", false, ERR, what, &ref);
	if (r < 0)
		return r;
	if (ref != NULL && (s->ref = strdup(ref)) == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	r = ebcc__json_member(o, "isolation", json_type_object, false, ERR, what, &isolation);
	if (r == 0 && isolation != NULL)
		r = ebcc__json_to_string(isolation, JSON_C_TO_STRING_PLAIN, &s->isolation_json);
	return r;
}

static int parse_pid(struct json_object *e, const char *key, const char *what, pid_t *ret)
{
	uint64_t v = 0;
	int r = ebcc__json_u64_member(e, key, true, 0, INT32_MAX, ERR, what, &v);

	*ret = (pid_t)v;
	return r;
}

/*
 * Where the stage images are. Absent (state written before it was recorded): the bundle, where
 * images always were then. Checked as strictly as the manifest checks image paths: start opens
 * files by what it says.
 */
static int parse_image_root(struct json_object *e, const char *what, struct ebcc_state *st)
{
	struct json_object *o;
	const char *kind, *path, *dir = NULL;
	char where[EBCC_PATH_MAX + 96];
	int r;

	r = ebcc__json_member(e, "imageRoot", json_type_object, false, ERR, what, &o);
	if (r < 0)
		return r;
	if (o == NULL) {
		/* The bundle, which the library always wrote absolute: a relative one would be
		 * written back as an imageRoot that does not read. */
		if (st->bundle[0] != '/')
			return ebcc__error(ERR, "%s: no imageRoot, and \"bundle\" is not an "
					   "absolute path", what);
		st->images.kind = EBCC_IMAGE_ROOT_BUNDLE;
		st->images.path = strdup(st->bundle);
		return st->images.path != NULL ? 0 : ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	snprintf(where, sizeof(where), "%s.imageRoot", what);
	r = ebcc__json_string_member(o, "kind", true, ERR, where, &kind);
	if (r == 0)
		r = ebcc__json_string_member(o, "path", true, ERR, where, &path);
	if (r < 0)
		return r;
	if (ebcc__image_root_kind_parse(kind, &st->images.kind) < 0)
		return ebcc__error(ERR, "%s: bad kind \"%s\"", where, kind);
	if (path[0] != '/' || strlen(path) >= EBCC_PATH_MAX)
		return ebcc__error(ERR, "%s: \"path\" is not an absolute path", where);
	r = ebcc__json_string_member(o, "dir", st->images.kind == EBCC_IMAGE_ROOT_ROOTFS, ERR,
				     where, &dir);
	if (r < 0)
		return r;
	if (dir != NULL && (st->images.kind != EBCC_IMAGE_ROOT_ROOTFS ||
			    !ebcc__image_root_dir_valid(dir)))
		return ebcc__error(ERR, "%s: bad \"dir\"", where);
	st->images.path = strdup(path);
	st->images.dir = dir != NULL ? strdup(dir) : NULL;
	if (st->images.path == NULL || (dir != NULL && st->images.dir == NULL))
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	return 0;
}

static int parse_ebcc(struct json_object *e, const char *what, struct ebcc_state *st)
{
	struct json_object *stages;
	const char *created, *phase, *mode;
	uint64_t v = 0;
	int r;

	r = ebcc__json_u64_member(e, "stateVersion", true, 1, 1, ERR, what, &v);
	if (r == 0)
		r = ebcc__json_string_member(e, "created", true, ERR, what, &created);
	if (r < 0)
		return r;
	/* Cut, it could end inside a UTF-8 character and make the state unwritable. */
	if (strlen(created) >= sizeof(st->created))
		return ebcc__error(ERR, "%s: \"created\" is longer than %zu bytes", what,
				   sizeof(st->created) - 1);
	snprintf(st->created, sizeof(st->created), "%s", created);
	r = dup_string(e, "backend", what, &st->backend);
	if (r == 0)
		r = ebcc__json_string_member(e, "phase", true, ERR, what, &phase);
	if (r < 0)
		return r;
	if (strcmp(phase, "creating") == 0)
		st->phase = EBCC_PHASE_CREATING;
	else if (strcmp(phase, "created") == 0)
		st->phase = EBCC_PHASE_CREATED;
	else if (strcmp(phase, "running") == 0)
		st->phase = EBCC_PHASE_RUNNING;
	else
		return ebcc__error(ERR, "%s: bad phase \"%s\"", what, phase);
	r = ebcc__json_u64_member(e, "killSignal", true, 0, 64, ERR, what, &v);
	if (r < 0)
		return r;
	st->kill_signal = (int)v;
	r = ebcc__json_string_member(e, "anchorMode", true, ERR, what, &mode);
	if (r < 0)
		return r;
	if (strcmp(mode, "none") == 0)
		st->anchor_mode = EBCC_ANCHOR_MODE_NONE;
	else if (strcmp(mode, "spawned") == 0)
		st->anchor_mode = EBCC_ANCHOR_MODE_SPAWNED;
	else if (strcmp(mode, "external") == 0)
		st->anchor_mode = EBCC_ANCHOR_MODE_EXTERNAL;
	else
		return ebcc__error(ERR, "%s: bad anchorMode \"%s\"", what, mode);
	r = parse_pid(e, "anchorPid", what, &st->anchor_pid);
	if (r == 0)
		r = ebcc__json_u64_member(e, "anchorStartTime", true, 0, INT64_MAX - 1, ERR, what,
					  &st->anchor_start);
	if (r == 0)
		r = parse_pid(e, "monitorPid", what, &st->monitor_pid);
	if (r == 0)
		r = ebcc__json_u64_member(e, "monitorStartTime", true, 0, INT64_MAX - 1, ERR, what,
					  &st->monitor_start);
	if (r == 0)
		r = ebcc__json_member(e, "stages", json_type_array, true, ERR, what, &stages);
	if (r < 0)
		return r;
	st->n_stages = json_object_array_length(stages);
	if (st->n_stages > EBCC_STAGES_MAX)
		return ebcc__error(ERR, "%s: %zu stages", what, st->n_stages);
	st->stages = calloc(st->n_stages > 0 ? st->n_stages : 1, sizeof(*st->stages));
	if (st->stages == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	for (size_t i = 0; i < st->n_stages; i++) {
		char path[EBCC_PATH_MAX + 64];

		snprintf(path, sizeof(path), "%s.stages[%zu]", what, i);
		r = parse_stage(json_object_array_get_idx(stages, i), path, &st->stages[i]);
		if (r < 0)
			return r;
	}
	return parse_image_root(e, what, st);
}

int ebcc__state_parse(const char *text, size_t len, const char *display, struct ebcc_state **ret)
{
	struct json_object *root = NULL, *annotations, *e;
	struct ebcc_state *st;
	char what[EBCC_PATH_MAX + 16];
	int r;

	r = ebcc__json_parse_document(text, len, ERR, display, &root);
	if (r < 0)
		return r;
	st = calloc(1, sizeof(*st));
	if (st == NULL) {
		json_object_put(root);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	st->refcount = 1;
	r = dup_string(root, "ociVersion", display, &st->oci_version);
	if (r == 0)
		r = dup_string(root, "id", display, &st->id);
	if (r == 0)
		r = dup_string(root, "bundle", display, &st->bundle);
	if (r == 0)
		r = ebcc__json_member(root, "annotations", json_type_object, true, ERR, display,
				      &annotations);
	if (r < 0)
		goto out;
	st->annotations = json_object_get(annotations);
	r = ebcc__json_member(root, "ebcc", json_type_object, true, ERR, display, &e);
	if (r < 0)
		goto out;
	snprintf(what, sizeof(what), "%s: ebcc", display);
	r = parse_ebcc(e, what, st);
out:
	json_object_put(root);
	if (r < 0) {
		ebcc__state_free(st);
		return r;
	}
	*ret = st;
	return 0;
}

struct ebcc_stage_decl *ebcc__state_stage(struct ebcc_state *st, const char *name)
{
	for (size_t i = 0; i < st->n_stages; i++)
		if (strcmp(st->stages[i].name, name) == 0)
			return &st->stages[i];
	return NULL;
}
