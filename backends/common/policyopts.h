/* SPDX-License-Identifier: MIT */
/*
 * A backend's part of a verification policy, read the same way by every backend: the
 * policy's trusted_keys as OpenSSL public keys, its verification_time, and the members of
 * backend_options.<backend> as the core hands them over, with one set of checks and messages
 * ("policy: backend_options.<backend>.<key> must be ..."). Every refusal is EBCC_ERR_VERIFY.
 */
#ifndef EBCC_BACKENDS_COMMON_POLICYOPTS_H
#define EBCC_BACKENDS_COMMON_POLICYOPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;
struct ebcc_backend_report_check;
typedef struct evp_pkey_st EVP_PKEY;

/* trusted_keys[0..n) as public keys (*ret_keys NULL when n is 0); on failure nothing is kept
 * and the message names the index. Free with ebcc__policy_keys_free(). */
int ebcc__policy_keys_load(const char *const *pems, size_t n, EVP_PKEY ***ret_keys,
			   size_t *ret_n);
void ebcc__policy_keys_free(EVP_PKEY **keys, size_t n);

/* A backend's part of the policy of one check. */
struct ebcc__policy_part {
	struct json_object *mine; /* backend_options.<backend>, NULL when absent; owned */
	bool has_verification_time;
	int64_t verification_time; /* seconds since the epoch */
};

/* The core hands a check the policy's part for the backend as it is registered, and the
 * verification time (ebcc_backend_report_check since 0.2); from an older core they are found
 * in check->policy_json under backend_options.<backend>. With known (NULL-terminated), the part
 * must be an object of only those keys ("policy: backend_options.<backend>..." names backend as
 * given here). Clear *ret with ebcc__policy_part_clear(). */
int ebcc__policy_part_get(const struct ebcc_backend_report_check *check, const char *backend,
			  const char *const *known, struct ebcc__policy_part *ret);
void ebcc__policy_part_clear(struct ebcc__policy_part *p);

/* Members of the backend's object; an absent one leaves the outputs as they were. */
int ebcc__policy_string(struct json_object *o, const char *backend, const char *key,
			const char **ret, size_t *ret_len);
int ebcc__policy_bool(struct json_object *o, const char *backend, const char *key, bool *ret);
/* Exactly 2 * n lowercase hex digits; *has set when present. */
int ebcc__policy_hex(struct json_object *o, const char *backend, const char *key, uint8_t *out,
		     size_t n, bool *has);

#endif
