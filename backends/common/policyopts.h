/* SPDX-License-Identifier: MIT */
/*
 * A backend's part of a verification policy, read the same way by every backend: the
 * policy's trusted_keys as OpenSSL public keys, its top-level verification_time, and the
 * members of backend_options.<backend>, with one set of checks and messages ("policy:
 * backend_options.<backend>.<key> must be ..."). Every refusal is EBCC_ERR_VERIFY.
 */
#ifndef EBCC_BACKENDS_COMMON_POLICYOPTS_H
#define EBCC_BACKENDS_COMMON_POLICYOPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;
typedef struct evp_pkey_st EVP_PKEY;

/* trusted_keys[0..n) as public keys (*ret_keys NULL when n is 0); on failure nothing is kept
 * and the message names the index. Free with ebcc__policy_keys_free(). */
int ebcc__policy_keys_load(const char *const *pems, size_t n, EVP_PKEY ***ret_keys,
			   size_t *ret_n);
void ebcc__policy_keys_free(EVP_PKEY **keys, size_t n);

/* The policy text parsed (*ret_root, to be put) and its backend_options.<backend>
 * (*ret_options, NULL when absent, of any type). Both NULL for an empty policy. */
int ebcc__policy_backend_options(const char *policy_json, const char *backend,
				 struct json_object **ret_root, struct json_object **ret_options);

/* Parses policy_json (NULL or "" is the empty policy): *ret_root holds the whole policy (NULL
 * for the empty one; json_object_put() it), *ret_mine its backend_options.<backend> (NULL when
 * absent), which must be an object of only the keys in known (NULL-terminated). */
int ebcc__policy_backend_part(const char *policy_json, const char *backend,
			      const char *const *known, struct json_object **ret_root,
			      struct json_object **ret_mine);

/* The top-level "verification_time" (RFC 3339), checked again for callers other than the
 * core's verifiers; *has stays false when absent. */
int ebcc__policy_time(struct json_object *root, bool *has, int64_t *ret);

/* Members of the backend's object; an absent one leaves the outputs as they were. */
int ebcc__policy_string(struct json_object *o, const char *backend, const char *key,
			const char **ret, size_t *ret_len);
int ebcc__policy_bool(struct json_object *o, const char *backend, const char *key, bool *ret);
/* Exactly 2 * n lowercase hex digits; *has set when present. */
int ebcc__policy_hex(struct json_object *o, const char *backend, const char *key, uint8_t *out,
		     size_t n, bool *has);

#endif
