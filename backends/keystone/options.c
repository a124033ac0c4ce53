/* SPDX-License-Identifier: MIT */
/* The keystone backend's policy (options.h). */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "policyopts.h"
#include "ebcc-base.h"
#include "options.h"

#define ERR EBCC_ERR_VERIFY
#define WHERE "policy: backend_options.keystone"

void ebcc__ks_policy_clear(struct ebcc__ks_policy *p)
{
	free(p->keys);
	*p = (struct ebcc__ks_policy){ 0 };
}

/* Keystone's device keys are Ed25519, kept raw: its signature scheme is not OpenSSL's. */
static int parse_keys(const char *const *pems, size_t n, struct ebcc__ks_policy *p)
{
	EVP_PKEY **keys = NULL;
	size_t n_keys = 0;
	int r = ebcc__policy_keys_load(pems, n, &keys, &n_keys);

	if (r < 0 || n_keys == 0)
		return r;
	p->keys = calloc(n_keys, sizeof(*p->keys));
	if (p->keys == NULL)
		r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	for (size_t i = 0; r == 0 && i < n_keys; i++) {
		size_t len = EBCC_KS_PUBLIC_KEY_SIZE;

		if (!EVP_PKEY_is_a(keys[i], "ED25519") ||
		    EVP_PKEY_get_raw_public_key(keys[i], p->keys[i], &len) != 1 ||
		    len != EBCC_KS_PUBLIC_KEY_SIZE)
			r = ebcc__error(ERR, "policy: trusted_keys[%zu] is not an Ed25519 PEM public "
					"key (a Keystone device key)", i);
		else
			p->n_keys++;
	}
	ERR_clear_error();
	ebcc__policy_keys_free(keys, n_keys);
	return r;
}

static int parse_keystone(struct json_object *o, struct ebcc__ks_policy *p)
{
	int r;

	r = ebcc__policy_hex(o, "keystone", "sm_hash", p->sm_hash, EBCC_KS_MDSIZE,
			     &p->has_sm_hash);
	if (r == 0)
		r = ebcc__policy_hex(o, "keystone", "enclave_hash", p->enclave_hash, EBCC_KS_MDSIZE,
				     &p->has_enclave_hash);
	if (r == 0)
		r = ebcc__policy_bool(o, "keystone", "allow_any_sm", &p->allow_any_sm);
	if (r == 0)
		r = ebcc__policy_bool(o, "keystone", "allow_test_device_key",
				      &p->allow_test_device_key);
	if (r == 0 && p->has_sm_hash && p->allow_any_sm)
		r = ebcc__error(ERR, WHERE ": sm_hash and allow_any_sm exclude each other");
	return r;
}

int ebcc__ks_policy_parse(const struct ebcc_backend_report_check *check,
			  struct ebcc__ks_policy *ret)
{
	static const char *const known[] = { "sm_hash", "allow_any_sm", "enclave_hash",
					     "allow_test_device_key", NULL };
	struct ebcc__ks_policy p = { 0 };
	struct ebcc__policy_part part = { 0 };
	int r;

	r = parse_keys(check->trusted_keys, check->trusted_keys_count, &p);
	if (r == 0)
		r = ebcc__policy_part_get(check, "keystone", known, &part);
	if (r == 0 && part.mine != NULL)
		r = parse_keystone(part.mine, &p);
	ebcc__policy_part_clear(&part);
	if (r < 0) {
		ebcc__ks_policy_clear(&p);
		return r;
	}
	*ret = p;
	return 0;
}
