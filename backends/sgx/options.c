/* SPDX-License-Identifier: MIT */
/* The sgx backend's policy (options.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "../tsm/crl.h"
#include "../tsm/crypto.h"
#include "ebcc-private.h"
#include "options.h"

#define ERR EBCC_ERR_VERIFY
#define WHERE "policy: backend_options.sgx"

void ebcc__sgx_policy_clear(struct ebcc__sgx_policy *p)
{
	ebcc__x509_list_free(p->roots);
	ebcc__crl_list_free(p->crls);
	for (size_t i = 0; i < p->n_keys; i++)
		EVP_PKEY_free(p->keys[i]);
	free(p->keys);
	*p = (struct ebcc__sgx_policy){ 0 };
}

static int parse_keys(const char *const *pems, size_t n, struct ebcc__sgx_policy *p)
{
	if (n == 0)
		return 0;
	p->keys = calloc(n, sizeof(*p->keys));
	if (p->keys == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	for (size_t i = 0; i < n; i++) {
		BIO *bio = pems[i] != NULL ? BIO_new_mem_buf(pems[i], -1) : NULL;
		EVP_PKEY *key = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;

		BIO_free(bio);
		ERR_clear_error();
		if (key == NULL)
			return ebcc__error(ERR, "policy: trusted_keys[%zu] is not a PEM public key", i);
		p->keys[p->n_keys++] = key;
	}
	return 0;
}

static int string_member(struct json_object *o, const char *key, const char **ret,
			 size_t *ret_len)
{
	struct json_object *v;

	*ret = NULL;
	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return ebcc__error(ERR, WHERE ".%s must be a string, not %s", key,
				   ebcc__json_type_article(v));
	*ret = json_object_get_string(v);
	*ret_len = (size_t)json_object_get_string_len(v);
	if (strlen(*ret) != *ret_len)
		return ebcc__error(ERR, WHERE ".%s contains a NUL character", key);
	return 0;
}

static int hex_member(struct json_object *o, const char *key, uint8_t *out, size_t n, bool *has)
{
	const char *text = NULL;
	size_t len = 0, got = 0;
	int r = string_member(o, key, &text, &len);

	if (r < 0 || text == NULL)
		return r;
	if (len != 2 * n || ebcc__hex_decode(text, len, out, n, &got) < 0 || got != n)
		return ebcc__error(ERR, WHERE ".%s must be %zu lowercase hex digits", key, 2 * n);
	*has = true;
	return 0;
}

static int u16_member(struct json_object *o, const char *key, uint16_t *out, bool *has)
{
	struct json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	n = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || n < 0 || n > UINT16_MAX)
		return ebcc__error(ERR, WHERE ".%s must be an integer from 0 to 65535", key);
	*out = (uint16_t)n;
	*has = true;
	return 0;
}

static int bool_member(struct json_object *o, const char *key, bool *out)
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

static int parse_sgx(struct json_object *o, struct ebcc__sgx_policy *p)
{
	static const char *const known[] = { "root_ca", "crl", "mrenclave", "mrsigner",
					     "isv_prod_id", "min_isv_svn", "report_data",
					     "allow_debug", "allow_unverified_signature", NULL };
	const char *text = NULL;
	size_t len = 0;
	int r;

	if (!json_object_is_type(o, json_type_object))
		return ebcc__error(ERR, WHERE " must be an object, not %s", ebcc__json_type_article(o));
	if (ebcc__json_refuse_unknown(o, known, ERR, WHERE) < 0)
		return ERR;
	r = string_member(o, "root_ca", &text, &len);
	if (r == 0 && text != NULL)
		r = ebcc__x509_list_from_pem(text, len, WHERE ".root_ca", ERR, &p->roots);
	if (r == 0)
		r = string_member(o, "crl", &text, &len);
	if (r == 0 && text != NULL)
		r = ebcc__crl_list_from_pem(text, len, WHERE ".crl", ERR, &p->crls);
	if (r == 0)
		r = hex_member(o, "mrenclave", p->mrenclave, 32, &p->has_mrenclave);
	if (r == 0)
		r = hex_member(o, "mrsigner", p->mrsigner, 32, &p->has_mrsigner);
	if (r == 0)
		r = hex_member(o, "report_data", p->report_data, 64, &p->has_report_data);
	if (r == 0)
		r = u16_member(o, "isv_prod_id", &p->isv_prod_id, &p->has_isv_prod_id);
	if (r == 0)
		r = u16_member(o, "min_isv_svn", &p->min_isv_svn, &p->has_min_isv_svn);
	if (r == 0)
		r = bool_member(o, "allow_debug", &p->allow_debug);
	if (r == 0)
		r = bool_member(o, "allow_unverified_signature", &p->allow_unverified_signature);
	return r;
}

/* The top-level "verification_time", checked again here for callers other than the core. */
static int parse_time(struct json_object *root, struct ebcc__sgx_policy *p)
{
	struct json_object *v;

	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "verification_time", &v))
		return 0;
	if (!json_object_is_type(v, json_type_string) ||
	    ebcc__rfc3339_parse(json_object_get_string(v), (size_t)json_object_get_string_len(v),
				&p->verification_time) < 0)
		return ebcc__error(ERR, "policy: \"verification_time\" must be an RFC 3339 "
				   "date-time such as \"2024-05-01T12:00:00Z\"");
	p->has_verification_time = true;
	return 0;
}

int ebcc__sgx_policy_parse(const char *policy_json, const char *const *trusted_keys,
			   size_t n_trusted_keys, struct ebcc__sgx_policy *ret)
{
	struct ebcc__sgx_policy p = { 0 };
	struct json_object *root = NULL, *mine = NULL;
	int r;

	r = parse_keys(trusted_keys, n_trusted_keys, &p);
	if (r == 0)
		r = ebcc__policy_backend_options(policy_json, "sgx", &root, &mine);
	if (r == 0 && mine != NULL)
		r = parse_sgx(mine, &p);
	if (r == 0 && root != NULL)
		r = parse_time(root, &p);
	json_object_put(root);
	if (r < 0) {
		ebcc__sgx_policy_clear(&p);
		return r;
	}
	*ret = p;
	return 0;
}
