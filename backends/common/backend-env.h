/* SPDX-License-Identifier: MIT */
/*
 * What every built-in backend does with the environment the core hands it: report a failure
 * with this thread's last error message, hand strings and buffers over in the core's memory,
 * and read the durability the context asks for.
 */
#ifndef EBCC_BACKEND_ENV_H
#define EBCC_BACKEND_ENV_H

#include <stdbool.h>
#include <stddef.h>

#include "ebcc/backend.h"

struct json_object;
struct ebcc__sandbox_pool;

/* The sandbox pool of the context behind env, or NULL: the core that links the built-in
 * backends sets the lookup (a context's pool is the core's); a backend built out of tree has
 * none, and spawns every sandbox on the spot. */
struct ebcc__sandbox_pool *ebcc__env_sandbox_pool(const struct ebcc_backend_env *env);
void ebcc__env_set_sandbox_pool_lookup(
	struct ebcc__sandbox_pool *(*lookup)(const struct ebcc_backend_env *env));

/* The checks every backend makes of the core's stage parameters: their size, the lifetime,
 * the names and, when loading, the image descriptor. Errors: EBCC_ERR_ABI, _INVALID_ARG. */
int ebcc__stage_params_check(const struct ebcc_backend_stage_params *p, bool loading);

/* OpenSSL's reason for this thread's last failure (then cleared), for messages; valid until
 * the next call on the thread. */
const char *ebcc__openssl_reason(void);

/* Hands this thread's last error message to the core (env->set_error) and returns r. */
int ebcc__env_fail(const struct ebcc_backend_env *env, int r);

bool ebcc__env_durable(const struct ebcc_backend_env *env);

/* Whether the core gave env->release (older cores did not). */
bool ebcc__env_has_release(const struct ebcc_backend_env *env);

/* A copy of text in memory from env->alloc(), or NULL. */
char *ebcc__env_strdup(const struct ebcc_backend_env *env, const char *text);

/* Gives memory from env->alloc() back (when the core allows it; else it is left). */
void ebcc__env_free(const struct ebcc_backend_env *env, void *p);

/* obj as compact JSON in memory from env->alloc(). Errors: EBCC_ERR_NO_MEMORY. */
int ebcc__env_json(const struct ebcc_backend_env *env, struct json_object *obj, char **ret);

/* A copy of len bytes into ret (env->alloc()). Errors: EBCC_ERR_NO_MEMORY. */
int ebcc__env_buffer(const struct ebcc_backend_env *env, const void *data, size_t len,
		     struct ebcc_backend_buffer *ret);

/* The verify_report callback around a backend's verifier (which returns a malloc'ed verdict):
 * checks the check's size, hands the verdict over in env's memory, and reports failures
 * through ebcc__env_fail(). */
int ebcc__env_verify_report(const struct ebcc_backend_env *env,
			    const struct ebcc_backend_report_check *check,
			    int (*verify)(const struct ebcc_backend_report_check *check,
					  char **ret_verdict),
			    char **ret_verdict_json);

#endif
