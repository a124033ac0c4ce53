/* SPDX-License-Identifier: MIT */
/*
 * White-box helpers for the backends on kernel TEE interfaces (tsm, optee): contexts whose
 * backends drive a fake kernel, an environment for calling a backend's callbacks directly,
 * policies built with json-c, and a backend's verdict on evidence.
 */
#ifndef EBCC_TEST_TEE_FIXTURE_H
#define EBCC_TEST_TEE_FIXTURE_H

#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ebcc-private.h"
#include "check-policy.h"

/* A scratch directory (free with tee_scratch_remove()). */
static inline char *tee_scratch(const char *tag)
{
	char *path = NULL;
	const char *tmp = getenv("TMPDIR");

	if (asprintf(&path, "%s/ebcc-%s-XXXXXX", tmp != NULL ? tmp : "/tmp", tag) < 0 ||
	    mkdtemp(path) == NULL)
		abort();
	return path;
}

static inline void tee_scratch_remove(char *path)
{
	if (path != NULL)
		ebcc__remove_tree_at(AT_FDCWD, path);
	free(path);
}

/*
 * A context at state root `root` whose registry holds sim and, bound to the given fake
 * kernels, tsm and optee (each when its host is not NULL): the mechanism of ebcc-private.h.
 */
static inline struct ebcc_context *tee_context(const char *root,
					       const struct ebcc__hostops *tsm_host,
					       const struct ebcc__hostops *optee_host)
{
	struct ebcc_context *ctx = NULL;

	if (ebcc_context_new(&ctx) < 0 || ebcc_context_set_option(ctx, "state_root", root) < 0)
		abort();
	ebcc__registry_free(ctx);
	if (ebcc_backend_register(ctx, ebcc__backend_sim_entry(), NULL) < 0 ||
	    (tsm_host != NULL && ebcc__backend_tsm_register(ctx, tsm_host) < 0) ||
	    (optee_host != NULL && ebcc__backend_optee_register(ctx, optee_host) < 0))
		abort();
	return ctx;
}

/* The environment the core would hand a callback, without a data directory. */
struct tee_env {
	struct ebcc_backend_env env;
	char error[EBCC_ERROR_MESSAGE_MAX];
	int errors;
};

static void *tee_env_alloc(size_t size, void *host)
{
	(void)host;
	return malloc(size > 0 ? size : 1);
}

static void tee_env_release(void *p, void *host)
{
	(void)host;
	free(p);
}

static void tee_env_log(int priority, const char *message, void *host)
{
	(void)priority;
	(void)message;
	(void)host;
}

static void tee_env_set_error(const char *message, void *host)
{
	struct tee_env *e = host;

	snprintf(e->error, sizeof(e->error), "%s", message);
	e->errors++;
}

static inline void tee_env_init(struct tee_env *e)
{
	memset(e, 0, sizeof(*e));
	e->env = (struct ebcc_backend_env){
		.size = sizeof(struct ebcc_backend_env),
		.alloc = tee_env_alloc,
		.log = tee_env_log,
		.set_error = tee_env_set_error,
		.host = e,
		.data_dir_fd = -1,
		.release = tee_env_release,
	};
}

/* A policy: key/value pairs (NULL-terminated) under backend_options.<backend>, values given as
 * JSON texts; trusted_keys from the NULL-terminated keys (may be NULL). malloc'ed text. */
static inline char *tee_policy(const char *backend, const char *const *keys, ...)
{
	struct json_object *root = json_object_new_object(), *opts = json_object_new_object(),
			   *mine = json_object_new_object();
	const char *key;
	char *text;
	va_list ap;

	va_start(ap, keys);
	while ((key = va_arg(ap, const char *)) != NULL) {
		const char *value = va_arg(ap, const char *);

		json_object_object_add(mine, key, json_tokener_parse(value));
	}
	va_end(ap);
	if (keys != NULL) {
		struct json_object *list = json_object_new_array();

		for (size_t i = 0; keys[i] != NULL; i++)
			json_object_array_add(list, json_object_new_string(keys[i]));
		json_object_object_add(root, "trusted_keys", list);
	}
	json_object_object_add(opts, backend, mine);
	json_object_object_add(root, "backend_options", opts);
	text = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
	if (text == NULL)
		abort();
	return text;
}

/* A JSON string value of text (malloc), for tee_policy(). */
static inline char *tee_json_string(const char *text)
{
	struct json_object *s = json_object_new_string(text);
	char *out = strdup(json_object_to_json_string_ext(s, JSON_C_TO_STRING_PLAIN));

	json_object_put(s);
	if (out == NULL)
		abort();
	return out;
}

/* The backend's verdict on evidence under policy: its verify_report's result, with the
 * verdict (malloc, may be NULL) in *ret_verdict and the message in e->error. */
static inline int tee_verdict(const struct ebcc_backend_ops *ops, struct tee_env *e,
			      struct ebcc_evidence *ev, const char *policy, char **ret_verdict)
{
	const struct ebcc_evidence_fields *f = ebcc__evidence_fields(ev);
	struct ebcc__policy p;
	struct ebcc_backend_report_check check;
	int r;

	*ret_verdict = NULL;
	if (ebcc__policy_parse(policy, &p) < 0)
		abort();
	check = (struct ebcc_backend_report_check){
		.size = sizeof(check),
		.format = f->format,
		.measurement = f->binding.measurement,
		.eid = f->binding.eid,
		.report_data = f->report_data,
		.report_data_len = EBCC_REPORT_DATA_SIZE,
		.report = f->report,
		.report_len = f->report_len,
		.trusted_keys = p.trusted_keys,
		.trusted_keys_count = p.n_trusted_keys,
	};
	check_policy_set(&check, policy, ops->name);
	e->error[0] = '\0';
	r = ops->verify_report(&e->env, &check, ret_verdict, NULL);
	ebcc__policy_clear(&p);
	return r;
}

/* A string member of a JSON object text, copied (malloc), or NULL. */
static inline char *tee_json_get(const char *json, const char *key)
{
	struct json_object *o = json != NULL ? json_tokener_parse(json) : NULL, *v;
	char *out = NULL;

	if (o != NULL && json_object_object_get_ex(o, key, &v))
		out = strdup(json_object_get_string(v));
	json_object_put(o);
	return out;
}

#endif
