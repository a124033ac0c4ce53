/* SPDX-License-Identifier: MIT */
/*
 * The stage manifest (ebcc.json): which backend, and each stage's name, image, lifetime,
 * limits and optional pinned measurement. Strict: unknown fields are refused, so that a typo
 * never silently drops a limit.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "ebcc-private.h"

#define ERR EBCC_ERR_INVALID_ARG

/* Limits: the default and the accepted range of each. */
#define MAX_REQUEST_DEFAULT (UINT64_C(1) << 20)
#define TIMEOUT_MS_DEFAULT 5000
#define TIMEOUT_MS_MAX 3600000
#define MEMORY_MIB_DEFAULT 64
#define MEMORY_MIB_MIN 8
#define MEMORY_MIB_MAX 65536
#define CPU_SECONDS_DEFAULT 3600
#define CPU_SECONDS_MAX 1000000
#define MAX_FILES_DEFAULT 16
#define MAX_FILES_MIN 4
#define MAX_FILES_MAX 1024

const char *ebcc__lifetime_name(uint32_t lifetime)
{
	return lifetime == EBCC_LIFETIME_INVOCATION ? "invocation" : "instance";
}

int ebcc__lifetime_parse(const char *text, uint32_t *ret)
{
	if (strcmp(text, "instance") == 0)
		*ret = EBCC_LIFETIME_INSTANCE;
	else if (strcmp(text, "invocation") == 0)
		*ret = EBCC_LIFETIME_INVOCATION;
	else
		return -1;
	return 0;
}

/* A path inside the bundle: relative, no "." or ".." component, no empty component. */
static bool bundle_path_valid(const char *path)
{
	const char *p = path;

	if (path[0] == '\0' || path[0] == '/' || strlen(path) >= EBCC_PATH_MAX)
		return false;
	while (*p != '\0') {
		size_t n = strcspn(p, "/");

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += n;
		if (*p == '/')
			p++;
		if (*p == '\0' && p[-1] == '/')
			return false;
	}
	return true;
}

/* Levels in v as json-c counts them when it parses: v itself, and a scalar inside an object or
 * array is a level too (so {} is 1 and {"a":1} 2). */
static int json_depth(struct json_object *v)
{
	int deepest = 0;

	if (json_object_is_type(v, json_type_object)) {
		struct json_object_iter it;

		json_object_object_foreachC(v, it) {
			int d = json_depth(it.val);

			deepest = d > deepest ? d : deepest;
		}
	} else if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			int d = json_depth(json_object_array_get_idx(v, i));

			deepest = d > deepest ? d : deepest;
		}
	}
	return deepest + 1;
}

void ebcc__stage_decl_clear(struct ebcc_stage_decl *s)
{
	free(s->image);
	free(s->options_json);
	free(s->ref);
	free(s->isolation_json);
	free(s->encrypted_image);
	free(s->key_policy_json);
	free(s->key_policy_measurement);
	*s = (struct ebcc_stage_decl){ 0 };
}

void ebcc__manifest_free(struct ebcc_manifest *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->n_stages; i++)
		ebcc__stage_decl_clear(&m->stages[i]);
	free(m->stages);
	free(m->backend);
	free(m);
}

/* "encryptedImage": {"image": <path beside the stage's image>, "keyPolicy": <a policy>}: what
 * a loader stage decrypts (ebcc-secrets(7)) and what its key is released under, named for the
 * operator and checked for sense; the key's owner applies the policy, not this library. */
static int parse_encrypted_image(struct json_object *obj, struct ebcc_stage_decl *s)
{
	static const char *const allowed[] = { "image", "keyPolicy", NULL };
	struct json_object *policy;
	struct ebcc__policy parsed;
	char what[EBCC_STAGE_NAME_MAX + 32];
	const char *image;
	int r;

	snprintf(what, sizeof(what), "stage %s: encryptedImage", s->name);
	if (!json_object_is_type(obj, json_type_object))
		return ebcc__error(ERR, "%s is not an object", what);
	r = ebcc__json_check_keys(obj, allowed, ERR, what);
	if (r == 0)
		r = ebcc__json_string_member(obj, "image", true, ERR, what, &image);
	if (r == 0)
		r = ebcc__json_member(obj, "keyPolicy", json_type_object, true, ERR, what, &policy);
	if (r < 0)
		return r;
	if (!bundle_path_valid(image))
		return ebcc__error(ERR, "%s: image \"%s\" must be a relative path inside the bundle, "
				   "without \".\" or \"..\" components", what, image);
	if (s->lifetime != EBCC_LIFETIME_INSTANCE)
		return ebcc__error(ERR, "%s: the stage's lifetime must be instance: a per-invocation "
				   "stage cannot hold the key that opens the image's key",
				   what);
	/* state.json keeps it one level deeper than backendOptions, and must stay readable. */
	if (json_depth(policy) > EBCC_JSON_DEPTH_MAX - 5)
		return ebcc__error(ERR, "%s: keyPolicy nests %d levels deep; at most %d are allowed",
				   what, json_depth(policy), EBCC_JSON_DEPTH_MAX - 5);
	s->encrypted_image = strdup(image);
	if (s->encrypted_image == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	r = ebcc__json_to_string(policy, JSON_C_TO_STRING_PLAIN, &s->key_policy_json);
	if (r < 0)
		return r;
	r = ebcc__policy_parse(s->key_policy_json, &parsed);
	if (r < 0)
		return ebcc__error_prefix(ERR, "%s: keyPolicy", what);
	if (parsed.measurement != NULL &&
	    (s->key_policy_measurement = strdup(parsed.measurement)) == NULL)
		r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	ebcc__policy_clear(&parsed);
	return r;
}

struct json_object *ebcc__encrypted_image_json(const struct ebcc_stage_decl *s)
{
	struct json_object *o = json_object_new_object(), *image, *policy;

	image = json_object_new_string(s->encrypted_image);
	policy = json_tokener_parse(s->key_policy_json);
	if (o == NULL || image == NULL || policy == NULL ||
	    json_object_object_add(o, "image", image) < 0) {
		json_object_put(o);
		json_object_put(image);
		json_object_put(policy);
		return NULL;
	}
	if (json_object_object_add(o, "keyPolicy", policy) < 0) {
		json_object_put(o);
		json_object_put(policy);
		return NULL;
	}
	return o;
}

static int parse_stage(struct json_object *obj, const char *what, struct ebcc_stage_decl *s)
{
	static const char *const allowed[] = {
		"name",	      "image",	     "lifetime", "maxRequest", "maxResponse", "timeoutMs",
		"memoryMiB", "cpuSeconds", "maxFiles", "measurement", "backendOptions",
		"encryptedImage", NULL,
	};
	struct json_object *options;
	const char *name, *image, *lifetime, *pin;
	uint64_t v;
	int r;

	if (!json_object_is_type(obj, json_type_object))
		return ebcc__error(ERR, "%s is not an object", what);
	r = ebcc__json_check_keys(obj, allowed, ERR, what);
	if (r < 0)
		return r;
	r = ebcc__json_string_member(obj, "name", true, ERR, what, &name);
	if (r < 0)
		return r;
	if (!ebcc__stage_name_valid(name))
		return ebcc__error(ERR, "%s: name \"%s\" is not [a-z0-9_-]{1,%d}", what, name,
				   EBCC_STAGE_NAME_MAX);
	snprintf(s->name, sizeof(s->name), "%s", name);

	r = ebcc__json_string_member(obj, "image", true, ERR, what, &image);
	if (r < 0)
		return r;
	if (!bundle_path_valid(image))
		return ebcc__error(ERR, "stage %s: image \"%s\" must be a relative path inside the "
				   "bundle, without \".\" or \"..\" components",
				   name, image);
	s->image = strdup(image);
	if (s->image == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");

	s->lifetime = EBCC_LIFETIME_INSTANCE;
	r = ebcc__json_string_member(obj, "lifetime", false, ERR, what, &lifetime);
	if (r < 0)
		return r;
	if (lifetime != NULL && ebcc__lifetime_parse(lifetime, &s->lifetime) < 0)
		return ebcc__error(ERR, "stage %s: lifetime \"%s\" is not instance or invocation",
				   name, lifetime);

	s->max_request = MAX_REQUEST_DEFAULT;
	r = ebcc__json_u64_member(obj, "maxRequest", false, 1, EBCC_MAX_REQUEST_CAP, ERR, what,
				  &s->max_request);
	if (r < 0)
		return r;
	s->max_response = s->max_request;
	r = ebcc__json_u64_member(obj, "maxResponse", false, 1, EBCC_MAX_REQUEST_CAP, ERR, what,
				  &s->max_response);
	if (r < 0)
		return r;
	v = TIMEOUT_MS_DEFAULT;
	r = ebcc__json_u64_member(obj, "timeoutMs", false, 1, TIMEOUT_MS_MAX, ERR, what, &v);
	if (r < 0)
		return r;
	s->timeout_ms = (uint32_t)v;
	v = MEMORY_MIB_DEFAULT;
	r = ebcc__json_u64_member(obj, "memoryMiB", false, MEMORY_MIB_MIN, MEMORY_MIB_MAX, ERR,
				  what, &v);
	if (r < 0)
		return r;
	s->memory_mib = (uint32_t)v;
	v = CPU_SECONDS_DEFAULT;
	r = ebcc__json_u64_member(obj, "cpuSeconds", false, 1, CPU_SECONDS_MAX, ERR, what, &v);
	if (r < 0)
		return r;
	s->cpu_seconds = (uint32_t)v;
	v = MAX_FILES_DEFAULT;
	r = ebcc__json_u64_member(obj, "maxFiles", false, MAX_FILES_MIN, MAX_FILES_MAX, ERR, what,
				  &v);
	if (r < 0)
		return r;
	s->max_files = (uint32_t)v;

	r = ebcc__json_string_member(obj, "measurement", false, ERR, what, &pin);
	if (r < 0)
		return r;
	if (pin != NULL) {
		if (!ebcc__measurement_valid(pin))
			return ebcc__error(ERR, "stage %s: measurement \"%s\" is not "
					   EBCC_MEASUREMENT_FORMS, name, pin);
		snprintf(s->pinned, sizeof(s->pinned), "%s", pin);
	}
	r = ebcc__json_member(obj, "encryptedImage", json_type_object, false, ERR, what, &options);
	if (r == 0 && options != NULL)
		r = parse_encrypted_image(options, s);
	if (r == 0)
		r = ebcc__json_member(obj, "backendOptions", json_type_object, false, ERR, what,
				      &options);
	if (r < 0)
		return r;
	/* state.json keeps them one level deeper than the manifest does (ebcc.stages[i]), and
	 * must stay readable. */
	if (options != NULL && json_depth(options) > EBCC_JSON_DEPTH_MAX - 4)
		return ebcc__error(ERR, "stage %s: backendOptions nest %d levels deep; at most %d "
				   "are allowed", name, json_depth(options), EBCC_JSON_DEPTH_MAX - 4);
	if (options != NULL)
		return ebcc__json_to_string(options, JSON_C_TO_STRING_PLAIN, &s->options_json);
	s->options_json = strdup("{}");
	return s->options_json != NULL ? 0 : ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
}

int ebcc__manifest_parse(const char *text, size_t len, const char *display,
			 struct ebcc_manifest **ret)
{
	/* "tools": an object the library does not read, for programs built on it (such as the
	 * OCI hook's socket directory). */
	static const char *const allowed[] = { "ebccVersion", "backend", "stages", "tools", NULL };
	struct json_object *tools;
	struct json_object *root = NULL, *stages;
	struct ebcc_manifest *m;
	const char *version, *backend;
	size_t n;
	int r;

	/* One text, one meaning: a duplicated key must not silently override a limit. */
	r = ebcc__json_parse_document(text, len, ERR, display, &root);
	if (r < 0)
		return r;
	m = calloc(1, sizeof(*m));
	if (m == NULL) {
		json_object_put(root);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	r = ebcc__json_check_keys(root, allowed, ERR, display);
	if (r < 0)
		goto out;
	r = ebcc__json_string_member(root, "ebccVersion", true, ERR, display, &version);
	if (r < 0)
		goto out;
	if (strcmp(version, "0.1") != 0) {
		r = ebcc__error(ERR, "%s: ebccVersion \"%s\" is not supported (this library reads "
				"\"0.1\")",
				display, version);
		goto out;
	}
	r = ebcc__json_string_member(root, "backend", false, ERR, display, &backend);
	if (r < 0)
		goto out;
	if (backend != NULL && (m->backend = strdup(backend)) == NULL) {
		r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
		goto out;
	}
	r = ebcc__json_member(root, "tools", json_type_object, false, ERR, display, &tools);
	if (r < 0)
		goto out;
	r = ebcc__json_member(root, "stages", json_type_array, true, ERR, display, &stages);
	if (r < 0)
		goto out;
	n = json_object_array_length(stages);
	if (n == 0 || n > EBCC_STAGES_MAX) {
		r = ebcc__error(ERR, "%s: \"stages\" has %zu entries; 1 to %d are allowed", display,
				n, EBCC_STAGES_MAX);
		goto out;
	}
	m->stages = calloc(n, sizeof(*m->stages));
	if (m->stages == NULL) {
		r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char what[EBCC_PATH_MAX + 32];

		snprintf(what, sizeof(what), "%s: stages[%zu]", display, i);
		m->n_stages = i + 1;
		r = parse_stage(json_object_array_get_idx(stages, i), what, &m->stages[i]);
		if (r < 0)
			goto out;
		for (size_t k = 0; k < i; k++) {
			if (strcmp(m->stages[k].name, m->stages[i].name) == 0) {
				r = ebcc__error(ERR, "%s: stage name \"%s\" is used twice (stages[%zu] "
						"and stages[%zu])",
						display, m->stages[i].name, k, i);
				goto out;
			}
		}
	}
out:
	json_object_put(root);
	if (r < 0) {
		ebcc__manifest_free(m);
		return r;
	}
	*ret = m;
	return 0;
}
