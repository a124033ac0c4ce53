/* SPDX-License-Identifier: MIT */
/*
 * Verification policies built key by key (struct ebcc_policy, ebcc.h). The policy is kept as
 * a JSON object; every change is made to a copy, which the core's policy parser (lib/policy.c)
 * must accept before it replaces the policy, so that a builder can never hold what a verifier
 * would refuse, and its refusals say what the verifier would.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "ebcc-private.h"

#define KEY_MAX 64

struct ebcc_policy {
	struct json_object *root;
};

static const char *const string_keys[] = {
	"measurement",	   "nonce",	   "request_digest",
	"response_digest", "image_digest", "verification_time", NULL,
};

static bool listed(const char *key, const char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++)
		if (strcmp(key, list[i]) == 0)
			return true;
	return false;
}

/* Replaces the policy's root with candidate if the core's parser accepts it; else puts it
 * and fails with the parser's message as EBCC_ERR_INVALID_ARG. */
static int commit(struct ebcc_policy *p, struct json_object *candidate)
{
	struct ebcc__policy parsed;
	char *text = NULL;
	int r = ebcc__json_to_string(candidate, JSON_C_TO_STRING_PLAIN, &text);

	if (r == 0)
		r = ebcc__policy_parse(text, &parsed);
	free(text);
	if (r < 0) {
		char saved[EBCC_ERROR_MESSAGE_MAX];

		json_object_put(candidate);
		if (r != EBCC_ERR_VERIFY)
			return r;
		ebcc__error_save(saved);
		return ebcc__error(EBCC_ERR_INVALID_ARG, "%s", saved);
	}
	ebcc__policy_clear(&parsed);
	json_object_put(p->root);
	p->root = candidate;
	return 0;
}

static struct json_object *copy(const struct ebcc_policy *p)
{
	struct json_object *c = NULL;

	return json_object_deep_copy(p->root, &c, NULL) == 0 ? c : NULL;
}

/* The object under key of parent, made when absent (NULL when out of memory). */
static struct json_object *object_member(struct json_object *parent, const char *key)
{
	struct json_object *o;

	if (json_object_object_get_ex(parent, key, &o))
		return o;
	o = json_object_new_object();
	if (o != NULL && json_object_object_add(parent, key, o) != 0) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

static int key_check(const char *fn, const char *key)
{
	size_t len = strlen(key);

	if (len == 0 || len > KEY_MAX)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "%s: key of %zu bytes (1 to %d)", fn, len,
				   KEY_MAX);
	return 0;
}

EBCC_EXPORT int ebcc_policy_new(struct ebcc_policy **ret_policy)
{
	struct ebcc_policy *p;

	if (ret_policy == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_policy_new: ret_policy is NULL");
	p = calloc(1, sizeof(*p));
	if (p != NULL)
		p->root = json_object_new_object();
	if (p == NULL || p->root == NULL) {
		free(p);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	*ret_policy = p;
	return 0;
}

EBCC_EXPORT struct ebcc_policy *ebcc_policy_free(struct ebcc_policy *policy)
{
	if (policy != NULL) {
		json_object_put(policy->root);
		free(policy);
	}
	return NULL;
}

EBCC_EXPORT int ebcc_policy_add_trusted_key(struct ebcc_policy *policy, const char *pem)
{
	struct json_object *c, *keys, *value;

	if (policy == NULL || pem == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_policy_add_trusted_key: %s is NULL",
				   policy == NULL ? "policy" : "pem");
	if (strncmp(pem, "-----BEGIN ", 11) != 0 || strstr(pem, "-----END ") == NULL ||
	    strstr(strstr(pem, "-----END ") + 9, "-----BEGIN ") != NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_policy_add_trusted_key: not one PEM "
				   "block (\"-----BEGIN ...\" to \"-----END ...\")");
	c = copy(policy);
	keys = c != NULL ? json_object_object_get(c, "trusted_keys") : NULL;
	if (c != NULL && keys == NULL) {
		keys = json_object_new_array();
		if (keys != NULL && json_object_object_add(c, "trusted_keys", keys) != 0) {
			json_object_put(keys);
			keys = NULL;
		}
	}
	value = json_object_new_string(pem);
	if (keys == NULL || value == NULL || json_object_array_add(keys, value) != 0) {
		json_object_put(value);
		json_object_put(c);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	return commit(policy, c);
}

static int set_top(struct ebcc_policy *policy, const char *key, struct json_object *value)
{
	struct json_object *c = copy(policy);

	if (c == NULL || value == NULL || json_object_object_add(c, key, value) != 0) {
		json_object_put(value);
		json_object_put(c);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	return commit(policy, c);
}

EBCC_EXPORT int ebcc_policy_set_string(struct ebcc_policy *policy, const char *key,
				       const char *value)
{
	if (policy == NULL || key == NULL || value == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_policy_set_string: %s is NULL",
				   policy == NULL ? "policy" : key == NULL ? "key" : "value");
	if (!listed(key, string_keys))
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_policy_set_string: \"%.64s\" is not "
				   "a string key of a policy (measurement, nonce, request_digest, "
				   "response_digest, verification_time; allow_simulated and "
				   "allow_evidence_v1 are set with "
				   "ebcc_policy_set_bool, trusted keys with "
				   "ebcc_policy_add_trusted_key)", key);
	return set_top(policy, key, json_object_new_string(value));
}

EBCC_EXPORT int ebcc_policy_set_bool(struct ebcc_policy *policy, const char *key, int value)
{
	if (policy == NULL || key == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_policy_set_bool: %s is NULL",
				   policy == NULL ? "policy" : "key");
	if (strcmp(key, "allow_simulated") != 0 && strcmp(key, "allow_evidence_v1") != 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_policy_set_bool: \"%.64s\" is not a "
				   "boolean key of a policy (allow_simulated, allow_evidence_v1; a "
				   "backend's are set with ebcc_policy_set_backend_json)", key);
	return set_top(policy, key, json_object_new_boolean(value != 0));
}

static int set_backend(struct ebcc_policy *policy, const char *fn, const char *backend,
		       const char *key, struct json_object *value)
{
	struct json_object *c, *options, *mine;
	int r = key_check(fn, key);

	if (r < 0) {
		json_object_put(value);
		return r;
	}
	if (!ebcc__backend_name_valid(backend)) {
		json_object_put(value);
		return ebcc__error(EBCC_ERR_INVALID_ARG, "%s: backend \"%.64s\" is not a backend "
				   "name ([a-z0-9_-], 1 to 32)", fn, backend);
	}
	c = copy(policy);
	options = c != NULL ? object_member(c, "backend_options") : NULL;
	mine = options != NULL && json_object_is_type(options, json_type_object)
		       ? object_member(options, backend)
		       : NULL;
	/* value NULL is JSON null, which the backend will judge. */
	if (mine == NULL || !json_object_is_type(mine, json_type_object) ||
	    json_object_object_add(mine, key, value) != 0) {
		json_object_put(value);
		json_object_put(c);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	return commit(policy, c);
}

EBCC_EXPORT int ebcc_policy_set_backend_json(struct ebcc_policy *policy, const char *backend,
					     const char *key, const char *value_json)
{
	static const char fn[] = "ebcc_policy_set_backend_json";
	struct json_object *doc = NULL, *value = NULL;
	char *text;
	int r;

	if (policy == NULL || backend == NULL || key == NULL || value_json == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "%s: %s is NULL", fn,
				   policy == NULL ? "policy"
				   : backend == NULL ? "backend"
				   : key == NULL	? "key"
							: "value_json");
	/* One value, as strict as a policy document: parsed as the member of an object. */
	if (asprintf(&text, "{\"v\":%s}", value_json) < 0)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	r = ebcc__json_parse_document(text, strlen(text), EBCC_ERR_INVALID_ARG, fn, &doc);
	free(text);
	if (r == 0 && (json_object_object_length(doc) != 1 ||
		       !json_object_object_get_ex(doc, "v", &value)))
		r = ebcc__error(EBCC_ERR_INVALID_ARG, "%s: value_json is not one JSON value", fn);
	if (r == 0)
		value = json_object_get(value);
	json_object_put(doc);
	if (r < 0)
		return r;
	return set_backend(policy, fn, backend, key, value);
}

EBCC_EXPORT int ebcc_policy_set_backend_string(struct ebcc_policy *policy, const char *backend,
					       const char *key, const char *value)
{
	static const char fn[] = "ebcc_policy_set_backend_string";
	struct json_object *v;

	if (policy == NULL || backend == NULL || key == NULL || value == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "%s: %s is NULL", fn,
				   policy == NULL ? "policy"
				   : backend == NULL ? "backend"
				   : key == NULL	? "key"
							: "value");
	v = json_object_new_string(value);
	if (v == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	return set_backend(policy, fn, backend, key, v);
}

EBCC_EXPORT int ebcc_policy_to_json(struct ebcc_policy *policy, char **ret_json)
{
	if (policy == NULL || ret_json == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_policy_to_json: %s is NULL",
				   policy == NULL ? "policy" : "ret_json");
	return ebcc__json_to_string(policy->root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED,
				    ret_json);
}
