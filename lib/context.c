/* SPDX-License-Identifier: MIT */
/* The context: reference counting, options under a lock, and the log destination. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "ebcc-private.h"
#include "../backends/common/sandbox-pool.h"

EBCC_EXPORT void ebcc_context_options_init(struct ebcc_context_options *options)
{
	if (options != NULL)
		*options = (struct ebcc_context_options)EBCC_CONTEXT_OPTIONS_INIT;
}

static void read_environment(struct ebcc_context *ctx)
{
	const char *env_level = secure_getenv("EBCC_LOG_LEVEL");
	int level;

	if (env_level == NULL || *env_level == '\0')
		return;
	level = ebcc__log_level_parse(env_level);
	ctx->log_stderr = true;
	if (level >= 0)
		ctx->opts.log_level = level;
	else
		ebcc__log_warning(ctx, "EBCC_LOG_LEVEL=\"%s\" is not one of err, warning, info, "
				  "debug, 3..7; using warning",
				  env_level);
}

/* The settings of struct ebcc_context_options, applied in order; the first refused one ends
 * the creation with its own message, prefixed with where it was. */
static int apply_settings(struct ebcc_context *ctx, const char *const *settings)
{
	for (size_t i = 0; settings != NULL && settings[i] != NULL; i += 2) {
		int r;

		if (settings[i + 1] == NULL)
			return ebcc__error(EBCC_ERR_INVALID_ARG,
					   "ebcc_context_new_with: settings[%zu] \"%s\" has no value "
					   "(the list is key, value, ..., NULL)",
					   i, settings[i]);
		r = ebcc_context_set_option(ctx, settings[i], settings[i + 1]);
		if (r < 0)
			return ebcc__error_prefix(r, "ebcc_context_new_with: settings[%zu]", i);
	}
	return 0;
}

EBCC_EXPORT int ebcc_context_new_with(const struct ebcc_context_options *options,
				      struct ebcc_context **ret_ctx)
{
	struct ebcc_context_options o;
	struct ebcc_context *ctx;
	int r;

	if (ret_ctx == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_context_new_with: ret_ctx is NULL");
	ebcc_context_options_init(&o);
	r = ebcc__struct_options_copy(options, sizeof(o), &o, "ebcc_context_new_with",
				      "ebcc_context_options_init");
	if (r < 0)
		return r;
	if ((o.flags & ~EBCC_CONTEXT_IGNORE_ENV) != 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "ebcc_context_new_with: unknown flags 0x%" PRIx32 " (known: "
				   "EBCC_CONTEXT_IGNORE_ENV)",
				   o.flags & ~EBCC_CONTEXT_IGNORE_ENV);
	ctx = calloc(1, sizeof(*ctx));
	if (ctx == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory allocating a context");
	r = ebcc__options_init(&ctx->opts);
	if (r < 0) {
		free(ctx);
		return ebcc__error(r, "out of memory initialising context options");
	}
	pthread_mutex_init(&ctx->lock, NULL);
	ctx->refcount = 1;
	ctx->log_fn = o.log_fn;
	ctx->log_userdata = o.log_fn != NULL ? o.log_userdata : NULL;
	if ((o.flags & EBCC_CONTEXT_IGNORE_ENV) == 0)
		read_environment(ctx);
	r = ebcc__registry_init(ctx);
	if (r >= 0)
		r = apply_settings(ctx, o.settings);
	if (r < 0) {
		ebcc__log_err(ctx, "%s", ebcc_last_error_message());
		ebcc_context_unref(ctx);
		return r;
	}
	*ret_ctx = ctx;
	return 0;
}

EBCC_EXPORT int ebcc_context_new(struct ebcc_context **ret_ctx)
{
	if (ret_ctx == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_context_new: ret_ctx is NULL");
	return ebcc_context_new_with(NULL, ret_ctx);
}

EBCC_EXPORT struct ebcc_context *ebcc_context_ref(struct ebcc_context *ctx)
{
	if (ctx != NULL)
		__atomic_add_fetch(&ctx->refcount, 1, __ATOMIC_RELAXED);
	return ctx;
}

EBCC_EXPORT struct ebcc_context *ebcc_context_unref(struct ebcc_context *ctx)
{
	if (ctx == NULL || __atomic_sub_fetch(&ctx->refcount, 1, __ATOMIC_ACQ_REL) > 0)
		return NULL;
	ebcc__sandbox_pool_free(ctx->sandbox_pool);
	ebcc__registry_free(ctx);
	ebcc__options_clear(&ctx->opts);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx);
	return NULL;
}

EBCC_EXPORT int ebcc_context_set_option(struct ebcc_context *ctx, const char *key,
					const char *value)
{
	int r;

	if (ctx == NULL || key == NULL || value == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_context_set_option: %s is NULL",
				   ctx == NULL ? "ctx" : key == NULL ? "key" : "value");
	pthread_mutex_lock(&ctx->lock);
	r = ebcc__options_set(&ctx->opts, key, value);
	pthread_mutex_unlock(&ctx->lock);
	if (r < 0)
		return r;
	ebcc__log_debug(ctx, "option %s set to \"%s\"", key, value);
	if (strcmp(key, "plugin_dir") == 0)
		ebcc__registry_plugin_dir_changed(ctx);
	return 0;
}

EBCC_EXPORT int ebcc_context_get_option(struct ebcc_context *ctx, const char *key,
					char **ret_value)
{
	int r;

	if (ctx == NULL || key == NULL || ret_value == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_context_get_option: %s is NULL",
				   ctx == NULL ? "ctx" : key == NULL ? "key" : "ret_value");
	pthread_mutex_lock(&ctx->lock);
	r = ebcc__options_get(&ctx->opts, key, ret_value);
	pthread_mutex_unlock(&ctx->lock);
	return r;
}

EBCC_EXPORT int ebcc_context_set_log_fn(struct ebcc_context *ctx, ebcc_log_fn fn, void *userdata)
{
	if (ctx == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_context_set_log_fn: ctx is NULL");
	pthread_mutex_lock(&ctx->lock);
	ctx->log_fn = fn;
	ctx->log_userdata = fn != NULL ? userdata : NULL;
	pthread_mutex_unlock(&ctx->lock);
	return 0;
}

struct ebcc__sandbox_pool *ebcc__context_sandbox_pool(struct ebcc_context *ctx)
{
	struct ebcc__sandbox_pool *pool;

	pthread_mutex_lock(&ctx->lock);
	/* Made even with no sandboxes to keep (sandbox_pool=0): it then only reaps the stages
	 * and monitors that invocations ended, at its next use, so that no call waits for their
	 * exit. */
	if (ctx->sandbox_pool == NULL)
		(void)ebcc__sandbox_pool_new(ctx->opts.sandbox_pool, ctx->opts.sandbox_pool_idle_ms,
					     &ctx->sandbox_pool);
	else
		ebcc__sandbox_pool_configure(ctx->sandbox_pool, ctx->opts.sandbox_pool,
					     ctx->opts.sandbox_pool_idle_ms);
	pool = ctx->sandbox_pool;
	pthread_mutex_unlock(&ctx->lock);
	return pool;
}
