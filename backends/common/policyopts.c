/* SPDX-License-Identifier: MIT */
/* A backend's part of a verification policy (policyopts.h). */
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

int ebcc__policy_backend_options(const char *policy_json, const char *backend,
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

int ebcc__policy_backend_part(const char *policy_json, const char *backend,
			      const char *const *known, struct json_object **ret_root,
			      struct json_object **ret_mine)
{
	char where[64];
	int r = ebcc__policy_backend_options(policy_json, backend, ret_root, ret_mine);

	if (r < 0 || *ret_mine == NULL)
		return r;
	snprintf(where, sizeof(where), "policy: backend_options.%s", backend);
	if (!json_object_is_type(*ret_mine, json_type_object))
		return ebcc__error(ERR, "%s must be an object, not %s", where,
				   ebcc__json_type_article(*ret_mine));
	return ebcc__json_refuse_unknown(*ret_mine, known, ERR, where) < 0 ? ERR : 0;
}

int ebcc__policy_time(struct json_object *root, bool *has, int64_t *ret)
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
