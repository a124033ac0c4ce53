/* SPDX-License-Identifier: MIT */
/* Helpers for built-in backends: failures, strings and buffers through the core's env. */
#include <string.h>

#include <json-c/json.h>
#include <openssl/err.h>

#include "backend-env.h"
#include "ebcc-base.h"

int ebcc__env_fail(const struct ebcc_backend_env *env, int r)
{
	env->set_error(ebcc__error_message(), env->host);
	return r;
}

bool ebcc__env_durable(const struct ebcc_backend_env *env)
{
	return env->durability == EBCC_BACKEND_DURABILITY_FSYNC;
}

bool ebcc__env_has_release(const struct ebcc_backend_env *env)
{
	return env->size >= offsetof(struct ebcc_backend_env, release) + sizeof(env->release) &&
	       env->release != NULL;
}

char *ebcc__env_strdup(const struct ebcc_backend_env *env, const char *text)
{
	size_t len = strlen(text);
	char *copy = env->alloc(len + 1, env->host);

	if (copy != NULL)
		memcpy(copy, text, len + 1);
	return copy;
}

void ebcc__env_free(const struct ebcc_backend_env *env, void *p)
{
	if (p != NULL && ebcc__env_has_release(env))
		env->release(p, env->host);
}

int ebcc__env_json(const struct ebcc_backend_env *env, struct json_object *obj, char **ret)
{
	const char *text = obj != NULL ? json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN)
				       : NULL;

	*ret = text != NULL ? ebcc__env_strdup(env, text) : NULL;
	if (*ret == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	return 0;
}

int ebcc__env_buffer(const struct ebcc_backend_env *env, const void *data, size_t len,
		     struct ebcc_backend_buffer *ret)
{
	void *out = env->alloc(len, env->host);

	if (out == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory for a %zu-byte buffer", len);
	if (len > 0)
		memcpy(out, data, len);
	ret->data = out;
	ret->len = len;
	return 0;
}

int ebcc__env_verify_report(const struct ebcc_backend_env *env,
			    const struct ebcc_backend_report_check *check,
			    int (*verify)(const struct ebcc_backend_report_check *check,
					  char **ret_verdict),
			    char **ret_verdict_json)
{
	_cleanup_free_ char *verdict = NULL;
	int r;

	if (check == NULL || check->size < sizeof(*check))
		return ebcc__env_fail(env, ebcc__error(EBCC_ERR_ABI,
						       "report check of an unknown size"));
	r = verify(check, &verdict);
	if (r < 0)
		return ebcc__env_fail(env, r);
	*ret_verdict_json = ebcc__env_strdup(env, verdict);
	if (*ret_verdict_json == NULL)
		return ebcc__env_fail(env, ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory"));
	return 0;
}

int ebcc__stage_params_check(const struct ebcc_backend_stage_params *p, bool loading)
{
	if (p->size < sizeof(*p))
		return ebcc__error(EBCC_ERR_ABI, "stage parameters of %u bytes, %zu expected",
				   p->size, sizeof(*p));
	if (p->lifetime != EBCC_LIFETIME_INSTANCE && p->lifetime != EBCC_LIFETIME_INVOCATION)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "stage lifetime %u is not known",
				   p->lifetime);
	if (p->stage_name == NULL || p->instance_id == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "stage parameters without names");
	if (loading && p->image_fd < 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "stage %s: no image descriptor",
				   p->stage_name);
	return 0;
}

const char *ebcc__openssl_reason(void)
{
	static __thread char buf[256];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "no detail from OpenSSL";
	ERR_error_string_n(e, buf, sizeof(buf));
	ERR_clear_error();
	return buf;
}

static struct ebcc__sandbox_pool *(*sandbox_pool_lookup)(const struct ebcc_backend_env *env);

void ebcc__env_set_sandbox_pool_lookup(
	struct ebcc__sandbox_pool *(*lookup)(const struct ebcc_backend_env *env))
{
	__atomic_store_n(&sandbox_pool_lookup, lookup, __ATOMIC_RELEASE);
}

struct ebcc__sandbox_pool *ebcc__env_sandbox_pool(const struct ebcc_backend_env *env)
{
	struct ebcc__sandbox_pool *(*lookup)(const struct ebcc_backend_env *) =
		__atomic_load_n(&sandbox_pool_lookup, __ATOMIC_ACQUIRE);

	return lookup != NULL ? lookup(env) : NULL;
}
