/* SPDX-License-Identifier: MIT */
/* Callbacks shared by the test plugins: a backend that loads nothing. Public headers only. */
#ifndef EBCC_TEST_PLUGIN_COMMON_H
#define EBCC_TEST_PLUGIN_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include <ebcc/backend.h>

#define PLUGIN_EXPORT __attribute__((visibility("default")))

static int tp_probe(const struct ebcc_backend_env *env, char **ret, void *userdata)
{
	(void)env;
	(void)ret;
	(void)userdata;
	return 1;
}

static int tp_load(const struct ebcc_backend_env *env, const struct ebcc_backend_stage_params *p,
		   struct ebcc_backend_stage *ret, void *userdata)
{
	(void)p;
	(void)ret;
	(void)userdata;
	env->set_error("test plugin: loads nothing", env->host);
	return EBCC_ERR_UNAVAILABLE;
}

/* abi1.c has its own, of the old signature. */
__attribute__((unused))
static int tp_invoke(const struct ebcc_backend_env *env, void *h,
		     const struct ebcc_backend_binding *binding, const void *req, size_t len,
		     struct ebcc_backend_invocation *ret, void *userdata)
{
	(void)env;
	(void)h;
	(void)binding;
	(void)req;
	(void)len;
	(void)ret;
	(void)userdata;
	return EBCC_ERR_STAGE;
}

static int tp_unload(const struct ebcc_backend_env *env, void *h, void *userdata)
{
	(void)env;
	(void)h;
	(void)userdata;
	return 0;
}

#endif
