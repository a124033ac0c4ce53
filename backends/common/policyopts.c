/* SPDX-License-Identifier: MIT */
/* A backend's part of a verification policy (policyopts.h). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "ebcc-base.h"
#include "policyopts.h"

#define ERR EBCC_ERR_VERIFY

void ebcc__policy_keys_free(EVP_PKEY **keys, size_t n)
{
	for (size_t i = 0; i < n; i++)
		EVP_PKEY_free(keys[i]);
	free(keys);
}

int ebcc__policy_keys_load(const char *const *pems, size_t n, EVP_PKEY ***ret_keys,
			   size_t *ret_n)
{
	EVP_PKEY **keys;

	*ret_keys = NULL;
	*ret_n = 0;
	if (n == 0)
		return 0;
	keys = calloc(n, sizeof(*keys));
	if (keys == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	for (size_t i = 0; i < n; i++) {
		BIO *bio = pems[i] != NULL ? BIO_new_mem_buf(pems[i], -1) : NULL;

		keys[i] = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
		BIO_free(bio);
		ERR_clear_error();
		if (keys[i] == NULL) {
			ebcc__policy_keys_free(keys, i);
			return ebcc__error(ERR, "policy: trusted_keys[%zu] is %s", i,
					   pems[i] == NULL ? "NULL" : "not a PEM public key");
		}
	}
	*ret_keys = keys;
	*ret_n = n;
	return 0;
}

/* An older core hands over only the whole policy: backend_options.<backend> is found in it. */
static int backend_options_of(const char *policy_json, const char *backend,
			      struct json_object **ret_root, struct json_object **ret_options)
{
	struct json_object *options;
	int r;

	*ret_root = NULL;
	*ret_options = NULL;
	if (policy_json == NULL || policy_json[0] == '\0')
		return 0;
	r = ebcc__json_parse(policy_json, strnlen(policy_json, EBCC_EVIDENCE_TEXT_MAX + 1), ERR,
			     "policy", ret_root);
	if (r == 0 && json_object_is_type(*ret_root, json_type_object) &&
	    json_object_object_get_ex(*ret_root, "backend_options", &options) &&
	    json_object_is_type(options, json_type_object))
		json_object_object_get_ex(options, backend, ret_options);
	return r;
}

static int policy_time(struct json_object *root, bool *has, int64_t *ret)
{
	struct json_object *v;

	if (root == NULL || !json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "verification_time", &v))
		return 0;
	if (!json_object_is_type(v, json_type_string) ||
	    ebcc__rfc3339_parse(json_object_get_string(v), (size_t)json_object_get_string_len(v),
				ret) < 0)
		return ebcc__error(ERR, "policy: \"verification_time\" must be an RFC 3339 "
				   "date-time such as \"2024-05-01T12:00:00Z\"");
	*has = true;
	return 0;
}

/* Whether the core filled the fields a 0.2 core appended to the check. */
static bool check_has_part(const struct ebcc_backend_report_check *check)
{
	return check->size >= offsetof(struct ebcc_backend_report_check, reserved1) +
				      sizeof(check->reserved1);
}

int ebcc__policy_part_get(const struct ebcc_backend_report_check *check, const char *backend,
			  const char *const *known, struct ebcc__policy_part *ret)
{
	struct ebcc__policy_part p = { 0 };
	char where[64];
	int r = 0;

	if (check_has_part(check)) {
		const char *text = check->backend_options_json;

		p.has_verification_time = check->has_verification_time != 0;
		p.verification_time = check->verification_time;
		if (text != NULL)
			r = ebcc__json_parse(text, strnlen(text, EBCC_EVIDENCE_TEXT_MAX + 1), ERR,
					     "policy: backend_options", &p.mine);
	} else {
		struct json_object *root = NULL, *mine = NULL;

		r = backend_options_of(check->policy_json, backend, &root, &mine);
		if (r == 0)
			r = policy_time(root, &p.has_verification_time, &p.verification_time);
		p.mine = json_object_get(mine);
		json_object_put(root);
	}
	snprintf(where, sizeof(where), "policy: backend_options.%s", backend);
	if (r == 0 && p.mine != NULL && known != NULL) {
		if (!json_object_is_type(p.mine, json_type_object))
			r = ebcc__error(ERR, "%s must be an object, not %s", where,
					ebcc__json_type_article(p.mine));
		else if (ebcc__json_refuse_unknown(p.mine, known, ERR, where) < 0)
			r = ERR;
	}
	if (r < 0) {
		ebcc__policy_part_clear(&p);
		return r;
	}
	*ret = p;
	return 0;
}

void ebcc__policy_part_clear(struct ebcc__policy_part *p)
{
	json_object_put(p->mine);
	p->mine = NULL;
}

int ebcc__policy_string(struct json_object *o, const char *backend, const char *key,
			const char **ret, size_t *ret_len)
{
	struct json_object *v;

	*ret = NULL;
	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return ebcc__error(ERR, "policy: backend_options.%s.%s must be a string, not %s",
				   backend, key, ebcc__json_type_article(v));
	*ret = json_object_get_string(v);
	*ret_len = (size_t)json_object_get_string_len(v);
	if (strlen(*ret) != *ret_len)
		return ebcc__error(ERR, "policy: backend_options.%s.%s contains a NUL character",
				   backend, key);
	return 0;
}

int ebcc__policy_bool(struct json_object *o, const char *backend, const char *key, bool *ret)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return ebcc__error(ERR, "policy: backend_options.%s.%s must be true or false, not %s",
				   backend, key, ebcc__json_type_article(v));
	*ret = json_object_get_boolean(v);
	return 0;
}

int ebcc__policy_hex(struct json_object *o, const char *backend, const char *key, uint8_t *out,
		     size_t n, bool *has)
{
	const char *text = NULL;
	size_t len = 0, got = 0;
	int r = ebcc__policy_string(o, backend, key, &text, &len);

	if (r < 0 || text == NULL)
		return r;
	if (len != 2 * n || ebcc__hex_decode(text, len, out, n, &got) < 0 || got != n)
		return ebcc__error(ERR, "policy: backend_options.%s.%s must be %zu lowercase hex "
				   "digits", backend, key, 2 * n);
	*has = true;
	return 0;
}
