/* SPDX-License-Identifier: MIT */
/* The keystone backend's policy (options.h). */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "ebcc-private.h"
#include "options.h"

#define ERR EBCC_ERR_VERIFY
#define WHERE "policy: backend_options.keystone"

void ebcc__ks_policy_clear(struct ebcc__ks_policy *p)
{
	free(p->keys);
	*p = (struct ebcc__ks_policy){ 0 };
}

static int parse_keys(const char *const *pems, size_t n, struct ebcc__ks_policy *p)
{
	if (n == 0)
		return 0;
	p->keys = calloc(n, sizeof(*p->keys));
	if (p->keys == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	for (size_t i = 0; i < n; i++) {
		BIO *bio = pems[i] != NULL ? BIO_new_mem_buf(pems[i], -1) : NULL;
		EVP_PKEY *key = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
		size_t len = EBCC_KS_PUBLIC_KEY_SIZE;
		bool ok = key != NULL && EVP_PKEY_is_a(key, "ED25519") &&
			  EVP_PKEY_get_raw_public_key(key, p->keys[i], &len) == 1 &&
			  len == EBCC_KS_PUBLIC_KEY_SIZE;

		BIO_free(bio);
		EVP_PKEY_free(key);
		ERR_clear_error();
		if (!ok)
			return ebcc__error(ERR, "policy: trusted_keys[%zu] is not an Ed25519 PEM public "
					   "key (a Keystone device key)", i);
		p->n_keys++;
	}
	return 0;
}

static int parse_hash(struct json_object *o, const char *key, uint8_t out[EBCC_KS_MDSIZE],
		      bool *has)
{
	struct json_object *v;
	size_t n = 0;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string) ||
	    json_object_get_string_len(v) != 2 * EBCC_KS_MDSIZE ||
	    ebcc__hex_decode(json_object_get_string(v), 2 * EBCC_KS_MDSIZE, out, EBCC_KS_MDSIZE,
			     &n) < 0)
		return ebcc__error(ERR, WHERE ".%s must be %d lowercase hex digits", key,
				   2 * EBCC_KS_MDSIZE);
	*has = true;
	return 0;
}

static int parse_bool(struct json_object *o, const char *key, bool *out)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return ebcc__error(ERR, WHERE ".%s must be true or false, not %s", key,
				   ebcc__json_type_article(v));
	*out = json_object_get_boolean(v);
	return 0;
}

static int parse_keystone(struct json_object *o, struct ebcc__ks_policy *p)
{
	static const char *const known[] = { "sm_hash", "allow_any_sm", "enclave_hash",
					     "allow_test_device_key", NULL };
	int r;

	if (!json_object_is_type(o, json_type_object))
		return ebcc__error(ERR, WHERE " must be an object, not %s", ebcc__json_type_article(o));
	if (ebcc__json_refuse_unknown(o, known, ERR, WHERE) < 0)
		return ERR;
	r = parse_hash(o, "sm_hash", p->sm_hash, &p->has_sm_hash);
	if (r == 0)
		r = parse_hash(o, "enclave_hash", p->enclave_hash, &p->has_enclave_hash);
	if (r == 0)
		r = parse_bool(o, "allow_any_sm", &p->allow_any_sm);
	if (r == 0)
		r = parse_bool(o, "allow_test_device_key", &p->allow_test_device_key);
	if (r == 0 && p->has_sm_hash && p->allow_any_sm)
		r = ebcc__error(ERR, WHERE ": sm_hash and allow_any_sm exclude each other");
	return r;
}

int ebcc__ks_policy_parse(const char *policy_json, const char *const *trusted_keys,
			  size_t n_trusted_keys, struct ebcc__ks_policy *ret)
{
	struct ebcc__ks_policy p = { 0 };
	struct json_object *root = NULL, *mine = NULL;
	int r;

	r = parse_keys(trusted_keys, n_trusted_keys, &p);
	if (r == 0)
		r = ebcc__policy_backend_options(policy_json, "keystone", &root, &mine);
	if (r == 0 && mine != NULL)
		r = parse_keystone(mine, &p);
	json_object_put(root);
	if (r < 0) {
		ebcc__ks_policy_clear(&p);
		return r;
	}
	*ret = p;
	return 0;
}
