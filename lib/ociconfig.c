/* SPDX-License-Identifier: MIT */
/*
 * The parts of an OCI bundle's config.json that a composite uses: the version, the
 * annotations, root.path (for a stage manifest inside the image), and the process that becomes
 * the REE anchor (args, env, cwd, rlimits, user).
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include <json-c/json.h>

#include "ebcc-private.h"

#define ERR EBCC_ERR_INVALID_ARG

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
	{ "RLIMIT_AS", RLIMIT_AS },		{ "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU },		{ "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE },	{ "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE },		{ "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },	{ "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },	{ "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

void ebcc__process_free(struct ebcc_process *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n_args; i++)
		free(p->args[i]);
	for (size_t i = 0; i < p->n_env; i++)
		free(p->env[i]);
	free(p->args);
	free(p->env);
	free(p->cwd);
	free(p->rlimits);
	free(p->additional_gids);
	free(p);
}

void ebcc__oci_config_free(struct ebcc_oci_config *c)
{
	if (c == NULL)
		return;
	free(c->oci_version);
	free(c->root_path);
	json_object_put(c->annotations);
	ebcc__process_free(c->process);
	free(c);
}

/* Copies a JSON array of strings into a NULL-terminated vector. */
static int string_array(struct json_object *arr, const char *what, const char *field,
			char ***ret, size_t *ret_n)
{
	size_t n = json_object_array_length(arr);
	char **v;

	if (n > 65536)
		return ebcc__error(EBCC_ERR_TOO_BIG, "%s.%s has %zu entries, more than 65536", what,
				   field, n);
	v = calloc(n + 1, sizeof(*v));
	if (v == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	*ret = v;
	*ret_n = 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *item = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(item, json_type_string))
			return ebcc__error(ERR, "%s.%s[%zu] is not a string", what, field, i);
		v[i] = strdup(json_object_get_string(item));
		if (v[i] == NULL)
			return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
		*ret_n = i + 1;
	}
	return 0;
}

static int parse_rlimits(struct json_object *arr, const char *what, struct ebcc_process *p)
{
	size_t n = json_object_array_length(arr);

	if (n > EBCC_ARRAY_SIZE(rlimit_names))
		return ebcc__error(ERR, "%s.rlimits has %zu entries; there are only %zu kinds", what,
				   n, EBCC_ARRAY_SIZE(rlimit_names));
	p->rlimits = calloc(n > 0 ? n : 1, sizeof(*p->rlimits));
	if (p->rlimits == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct json_object *item = json_object_array_get_idx(arr, i);
		struct ebcc_rlimit *rl = &p->rlimits[i];
		char path[EBCC_PATH_MAX + 64];
		const char *type;
		int r;

		snprintf(path, sizeof(path), "%s.rlimits[%zu]", what, i);
		if (!json_object_is_type(item, json_type_object))
			return ebcc__error(ERR, "%s is not an object", path);
		r = ebcc__json_string_member(item, "type", true, ERR, path, &type);
		if (r < 0)
			return r;
		rl->resource = -1;
		for (size_t k = 0; k < EBCC_ARRAY_SIZE(rlimit_names); k++)
			if (strcmp(rlimit_names[k].name, type) == 0)
				rl->resource = rlimit_names[k].resource;
		if (rl->resource < 0)
			return ebcc__error(ERR, "%s: unknown rlimit type \"%s\"", path, type);
		for (size_t k = 0; k < i; k++)
			if (p->rlimits[k].resource == rl->resource)
				return ebcc__error(ERR, "%s: %s is given twice", path, type);
		r = ebcc__json_u64_member(item, "soft", true, 0, INT64_MAX - 1, ERR, path, &rl->soft);
		if (r == 0)
			r = ebcc__json_u64_member(item, "hard", true, 0, INT64_MAX - 1, ERR, path,
						  &rl->hard);
		if (r < 0)
			return r;
		if (rl->soft > rl->hard)
			return ebcc__error(ERR, "%s: soft limit %" PRIu64 " is above hard limit %" PRIu64,
					   path, rl->soft, rl->hard);
		p->n_rlimits = i + 1;
	}
	return 0;
}

static int parse_user(struct json_object *user, const char *what, struct ebcc_process *p)
{
	struct json_object *gids;
	uint64_t v = 0;
	char path[EBCC_PATH_MAX + 64];
	int r;

	snprintf(path, sizeof(path), "%s.user", what);
	r = ebcc__json_u64_member(user, "uid", true, 0, UINT32_MAX - 1, ERR, path, &v);
	if (r < 0)
		return r;
	p->uid = (uint32_t)v;
	r = ebcc__json_u64_member(user, "gid", true, 0, UINT32_MAX - 1, ERR, path, &v);
	if (r < 0)
		return r;
	p->gid = (uint32_t)v;
	p->has_user = true;
	r = ebcc__json_member(user, "additionalGids", json_type_array, false, ERR, path, &gids);
	if (r < 0 || gids == NULL)
		return r;
	p->n_gids = json_object_array_length(gids);
	if (p->n_gids > 256)
		return ebcc__error(ERR, "%s.additionalGids has %zu entries, more than 256", path,
				   p->n_gids);
	p->additional_gids = calloc(p->n_gids + 1, sizeof(uint32_t));
	if (p->additional_gids == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	for (size_t i = 0; i < p->n_gids; i++) {
		struct json_object *g = json_object_array_get_idx(gids, i);
		int64_t gid = json_object_get_int64(g);

		if (!json_object_is_type(g, json_type_int) || gid < 0 || gid >= UINT32_MAX)
			return ebcc__error(ERR, "%s.additionalGids[%zu] is not a gid", path, i);
		p->additional_gids[i] = (uint32_t)gid;
	}
	return 0;
}

static int parse_process(struct json_object *obj, const char *what, struct ebcc_process **ret)
{
	struct ebcc_process *p = calloc(1, sizeof(*p));
	struct json_object *args, *env, *rlimits, *user, *terminal, *nnp;
	const char *cwd;
	int r;

	if (p == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	*ret = p; /* freed by the caller on failure */

	r = ebcc__json_member(obj, "args", json_type_array, true, ERR, what, &args);
	if (r < 0)
		return r;
	r = string_array(args, what, "args", &p->args, &p->n_args);
	if (r < 0)
		return r;
	if (p->n_args == 0 || p->args[0][0] == '\0')
		return ebcc__error(ERR, "%s.args must name a program", what);

	r = ebcc__json_member(obj, "env", json_type_array, false, ERR, what, &env);
	if (r < 0)
		return r;
	if (env != NULL) {
		r = string_array(env, what, "env", &p->env, &p->n_env);
		if (r < 0)
			return r;
		for (size_t i = 0; i < p->n_env; i++)
			if (strchr(p->env[i], '=') == NULL || p->env[i][0] == '=')
				return ebcc__error(ERR, "%s.env[%zu] \"%s\" is not NAME=value", what, i,
						   p->env[i]);
	} else {
		p->env = calloc(1, sizeof(*p->env));
		if (p->env == NULL)
			return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}

	r = ebcc__json_string_member(obj, "cwd", true, ERR, what, &cwd);
	if (r < 0)
		return r;
	if (cwd[0] != '/')
		return ebcc__error(ERR, "%s.cwd \"%s\" is not an absolute path", what, cwd);
	p->cwd = strdup(cwd);
	if (p->cwd == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");

	r = ebcc__json_member(obj, "rlimits", json_type_array, false, ERR, what, &rlimits);
	if (r == 0 && rlimits != NULL)
		r = parse_rlimits(rlimits, what, p);
	if (r < 0)
		return r;
	r = ebcc__json_member(obj, "user", json_type_object, false, ERR, what, &user);
	if (r == 0 && user != NULL)
		r = parse_user(user, what, p);
	if (r < 0)
		return r;
	r = ebcc__json_member(obj, "terminal", json_type_boolean, false, ERR, what, &terminal);
	if (r < 0)
		return r;
	if (terminal != NULL && json_object_get_boolean(terminal))
		return ebcc__error(ERR, "%s.terminal is true: a console for the anchor is not "
				   "supported; set it to false or let the runtime run the process",
				   what);
	r = ebcc__json_member(obj, "noNewPrivileges", json_type_boolean, false, ERR, what, &nnp);
	if (r < 0)
		return r;
	p->no_new_privileges = nnp != NULL && json_object_get_boolean(nnp);
	return 0;
}

int ebcc__oci_config_parse(const char *text, size_t len, const char *display,
			   struct ebcc_oci_config **ret)
{
	struct json_object *root = NULL, *annotations, *process, *rootfs = NULL;
	struct ebcc_oci_config *c;
	const char *version, *rootfs_path = NULL;
	char what[EBCC_PATH_MAX + 32];
	int r;

	/* One text, one meaning: a duplicated key must not silently override a limit. */
	r = ebcc__json_parse_document(text, len, ERR, display, &root);
	if (r < 0)
		return r;
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		json_object_put(root);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	r = ebcc__json_string_member(root, "ociVersion", true, ERR, display, &version);
	if (r < 0)
		goto out;
	if (version[0] == '\0' || strlen(version) > 64) {
		r = ebcc__error(ERR, "%s: \"ociVersion\" is not a version", display);
		goto out;
	}
	c->oci_version = strdup(version);
	r = ebcc__json_member(root, "annotations", json_type_object, false, ERR, display,
			      &annotations);
	if (r < 0)
		goto out;
	if (annotations != NULL) {
		struct json_object_iter it;

		json_object_object_foreachC(annotations, it) {
			if (!json_object_is_type(it.val, json_type_string)) {
				r = ebcc__error(ERR, "%s: annotation \"%s\" is not a string", display,
						it.key);
				goto out;
			}
		}
		c->annotations = json_object_get(annotations);
	} else {
		c->annotations = json_object_new_object();
	}
	if (c->oci_version == NULL || c->annotations == NULL) {
		r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
		goto out;
	}
	/* Only a stage manifest inside the image ("rootfs:/...") needs root.path. */
	r = ebcc__json_member(root, "root", json_type_object, false, ERR, display, &rootfs);
	if (r == 0 && rootfs != NULL) {
		snprintf(what, sizeof(what), "%s: root", display);
		r = ebcc__json_string_member(rootfs, "path", false, ERR, what, &rootfs_path);
	}
	if (r < 0)
		goto out;
	if (rootfs_path != NULL && (c->root_path = strdup(rootfs_path)) == NULL) {
		r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
		goto out;
	}
	r = ebcc__json_member(root, "process", json_type_object, false, ERR, display, &process);
	if (r < 0)
		goto out;
	if (process != NULL) {
		snprintf(what, sizeof(what), "%s: process", display);
		r = parse_process(process, what, &c->process);
	}
out:
	json_object_put(root);
	if (r < 0) {
		ebcc__oci_config_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

const char *ebcc__oci_config_annotation(const struct ebcc_oci_config *c, const char *key)
{
	struct json_object *value;

	if (!json_object_object_get_ex(c->annotations, key, &value))
		return NULL;
	return json_object_get_string(value);
}
