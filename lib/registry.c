/* SPDX-License-Identifier: MIT */
/*
 * The backend registry: size-versioned tables copied in, plugins loaded with dlopen() on the
 * first lookup, backends found by name. Sessions are in session.c, probing in probe.c.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../backends/common/backend-env.h"
#include "ebcc-private.h"

/* The smallest table this library accepts: everything up to and including stage_unload. */
#define OPS_MIN_SIZE (offsetof(struct ebcc_backend_ops, stage_unload) + sizeof(void *))

const char *ebcc__isolation_name(uint32_t isolation)
{
	switch (isolation) {
	case EBCC_ISOLATION_ENCLAVE:
		return "enclave";
	case EBCC_ISOLATION_VM:
		return "vm";
	case EBCC_ISOLATION_EMBEDDED:
		return "embedded";
	default:
		return NULL;
	}
}

/* Checks a caller's table and copies it into *out, zero-filling what a smaller table lacks. */
static int copy_ops(const struct ebcc_backend_ops *ops, struct ebcc_backend_ops *out)
{
	size_t known = sizeof(*out);

	if (ops->abi_version != EBCC_BACKEND_ABI_VERSION)
		/* The name sits where every version has it; shown only if it is one. */
		return ebcc__error(EBCC_ERR_ABI,
				   "backend %s%s%shas ABI version %u; this library supports only "
				   "version %u%s",
				   ops->name != NULL && ebcc__backend_name_valid(ops->name) ? "\"" : "",
				   ops->name != NULL && ebcc__backend_name_valid(ops->name) ? ops->name
											    : "table",
				   ops->name != NULL && ebcc__backend_name_valid(ops->name) ? "\" " : " ",
				   ops->abi_version, EBCC_BACKEND_ABI_VERSION,
				   ops->abi_version == 1 ? " (in version 2 the stage binds request and "
							   "response: rebuild against this backend.h)"
							 : "");
	if (ops->size < OPS_MIN_SIZE)
		return ebcc__error(EBCC_ERR_ABI,
				   "backend table is %u bytes, smaller than the %zu bytes of ABI "
				   "version %u's required part",
				   ops->size, (size_t)OPS_MIN_SIZE, EBCC_BACKEND_ABI_VERSION);
	if (ops->size > known) {
		const uint8_t *tail = (const uint8_t *)ops + known;

		for (size_t i = 0; i < ops->size - known; i++)
			if (tail[i] != 0)
				return ebcc__error(EBCC_ERR_ABI,
						   "backend table is %u bytes and byte %zu, beyond "
						   "the %zu this library knows, is not zero",
						   ops->size, known + i, known);
	}
	memset(out, 0, sizeof(*out));
	memcpy(out, ops, ops->size < known ? ops->size : known);
	out->size = (uint32_t)known;

	if (out->name == NULL || !ebcc__backend_name_valid(out->name))
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "backend name \"%s\" is not [a-z0-9_-]{1,32}",
				   out->name != NULL ? out->name : "(null)");
	if (ebcc__isolation_name(out->isolation) == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "backend %s: isolation %u is not one of "
				   "EBCC_ISOLATION_ENCLAVE, _VM, _EMBEDDED",
				   out->name, out->isolation);
	if (out->evidence_format == NULL || out->evidence_format[0] == '\0')
		return ebcc__error(EBCC_ERR_INVALID_ARG, "backend %s: no evidence_format",
				   out->name);
	if (out->max_report_data < EBCC_REPORT_DATA_SIZE)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "backend %s: max_report_data %u is below %d bytes", out->name,
				   out->max_report_data, EBCC_REPORT_DATA_SIZE);
	if (out->probe == NULL || out->stage_load == NULL || out->stage_invoke == NULL ||
	    out->stage_unload == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "backend %s: probe, stage_load, stage_invoke and stage_unload are "
				   "required",
				   out->name);
	if (out->stage_report != NULL && !(out->flags & EBCC_BACKEND_HOST_IN_TCB))
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "backend %s: stage_report, a report over data the host chose, is "
				   "allowed only with EBCC_BACKEND_HOST_IN_TCB; a backend whose host "
				   "is outside the TEE returns the stage's report from stage_invoke",
				   out->name);
	return 0;
}

/* The backend's init(), outside the context's lock (the session's env takes it). */
static int backend_init(struct ebcc_context *ctx, struct ebcc_backend *b)
{
	struct ebcc_backend_session s;
	void *userdata = b->userdata;
	int r;

	if (b->ops.init == NULL)
		return 0;
	r = ebcc__backend_session_open(&s, ctx, b, -1);
	if (r < 0)
		return r;
	r = ebcc__call_init(&s, &userdata);
	if (r == 0)
		b->userdata = userdata;
	ebcc__backend_session_close(&s);
	return r;
}

/* Checks, initialises and adds a backend; on failure nothing of it remains (a plugin's handle
 * is the caller's to close). */
static int register_backend(struct ebcc_context *ctx, const struct ebcc_backend_ops *ops,
			    void *userdata, void *dl_handle)
{
	struct ebcc_backend *b, **grown = NULL;
	int r;

	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory registering a backend");
	r = copy_ops(ops, &b->ops);
	if (r < 0) {
		free(b);
		return r;
	}
	/* Keep our own copy of the name: a plugin's string table outlives nothing of ours. */
	snprintf(b->name, sizeof(b->name), "%s", b->ops.name);
	b->ops.name = b->name;
	b->userdata = userdata;
	b->dl_handle = dl_handle;
	r = backend_init(ctx, b);
	if (r < 0) {
		free(b);
		return r;
	}
	pthread_mutex_lock(&ctx->lock);
	for (size_t i = 0; i < ctx->n_backends && r == 0; i++)
		if (strcmp(ctx->backends[i]->ops.name, b->ops.name) == 0)
			r = ebcc__error(EBCC_ERR_EXISTS, "a backend named %s is already registered",
					b->ops.name);
	if (r == 0) {
		grown = realloc(ctx->backends, (ctx->n_backends + 1) * sizeof(*grown));
		if (grown == NULL)
			r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory registering a backend");
	}
	if (r == 0) {
		ctx->backends = grown;
		ctx->backends[ctx->n_backends++] = b;
	}
	pthread_mutex_unlock(&ctx->lock);
	if (r < 0) {
		/* init() succeeded: what it made is released as at the context's end. */
		if (b->ops.init != NULL)
			ebcc__call_destroy(b);
		free(b);
	}
	return r;
}

EBCC_EXPORT int ebcc_backend_register(struct ebcc_context *ctx, const struct ebcc_backend_ops *ops,
				      void *userdata)
{
	int r;

	if (ctx == NULL || ops == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_backend_register: %s is NULL",
				   ctx == NULL ? "ctx" : "ops");
	r = register_backend(ctx, ops, userdata, NULL);
	if (r == 0)
		ebcc__log_debug(ctx, "backend %s registered", ops->name);
	return r;
}

static int load_plugin(struct ebcc_context *ctx, const char *path)
{
	ebcc_backend_entry_fn entry;
	const struct ebcc_backend_ops *ops;
	struct stat st;
	void *handle;
	int r;

	if (stat(path, &st) < 0)
		return ebcc__error_errno(ebcc__error_from_errno(errno), errno, "backend plugin %s",
					 path);
	if (!S_ISREG(st.st_mode))
		return ebcc__error(EBCC_ERR_INVALID_ARG, "backend plugin %s is not a regular file",
				   path);
	handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (handle == NULL) {
		const char *why = dlerror();

		return ebcc__error(EBCC_ERR_ABI, "cannot load backend plugin %s: %s", path,
				   why != NULL ? why : "unknown dlopen error");
	}
	*(void **)&entry = dlsym(handle, EBCC_BACKEND_ENTRY_SYMBOL);
	if (entry == NULL) {
		const char *why = dlerror();

		r = ebcc__error(EBCC_ERR_NOT_FOUND, "backend plugin %s has no %s symbol: %s", path,
				EBCC_BACKEND_ENTRY_SYMBOL, why != NULL ? why : "not found");
		dlclose(handle);
		return r;
	}
	ops = entry();
	if (ops == NULL) {
		dlclose(handle);
		return ebcc__error(EBCC_ERR_ABI, "backend plugin %s: %s() returned NULL", path,
				   EBCC_BACKEND_ENTRY_SYMBOL);
	}
	r = register_backend(ctx, ops, NULL, handle);
	if (r < 0) {
		dlclose(handle);
		return ebcc__error_prefix(r, "backend plugin %s", path);
	}
	ebcc__log_debug(ctx, "backend plugin %s loaded", path);
	return 0;
}

EBCC_EXPORT int ebcc_backend_load(struct ebcc_context *ctx, const char *path)
{
	if (ctx == NULL || path == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_backend_load: %s is NULL",
				   ctx == NULL ? "ctx" : "path");
	return load_plugin(ctx, path);
}

/* Loads every *.so in dir; failures are logged and skipped. */
static void load_dir(struct ebcc_context *ctx, const char *dir)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort);

	if (n < 0) {
		if (errno != ENOENT)
			ebcc__log_warning(ctx, "plugin directory %s: %s", dir, strerror(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		size_t len = strlen(name);
		char path[EBCC_PATH_MAX];

		if (len > 3 && strcmp(name + len - 3, ".so") == 0 &&
		    (size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) < sizeof(path) &&
		    load_plugin(ctx, path) < 0)
			ebcc__log_warning(ctx, "skipping backend plugin: %s", ebcc_last_error_message());
		free(names[i]);
	}
	free(names);
}

int ebcc__registry_init(struct ebcc_context *ctx)
{
	static const struct ebcc_backend_ops *(*const builtins[])(void) = {
		ebcc__backend_sim_entry,
#if EBCC_WITH_TSM
		ebcc__backend_tsm_entry,
#endif
#if EBCC_WITH_OPTEE
		ebcc__backend_optee_entry,
#endif
#if EBCC_WITH_KEYSTONE
		ebcc__backend_keystone_entry,
#endif
#if EBCC_WITH_SGX
		ebcc__backend_sgx_entry,
#endif
	};

	pthread_mutex_init(&ctx->plugin_lock, NULL);
	ebcc__env_set_sandbox_pool_lookup(ebcc__session_sandbox_pool);
	for (size_t i = 0; i < EBCC_ARRAY_SIZE(builtins); i++) {
		int r = register_backend(ctx, builtins[i](), NULL, NULL);

		if (r < 0)
			return r;
	}
	if (ctx->opts.plugin_dir != NULL)
		ebcc__registry_plugin_dir_changed(ctx);
	return 0;
}

void ebcc__registry_plugin_dir_changed(struct ebcc_context *ctx)
{
	__atomic_add_fetch(&ctx->plugin_dir_wanted, 1, __ATOMIC_RELEASE);
}

/* Loads the plugins of plugin_dir if it changed since they were last loaded. A lookup that
 * comes while another thread loads waits for it: no plugin is missed half-way. */
static void load_plugins(struct ebcc_context *ctx)
{
	_cleanup_free_ char *dir = NULL;
	unsigned wanted = __atomic_load_n(&ctx->plugin_dir_wanted, __ATOMIC_ACQUIRE);

	if (__atomic_load_n(&ctx->plugin_dir_loaded, __ATOMIC_ACQUIRE) == wanted)
		return;
	pthread_mutex_lock(&ctx->plugin_lock);
	wanted = __atomic_load_n(&ctx->plugin_dir_wanted, __ATOMIC_ACQUIRE);
	if (__atomic_load_n(&ctx->plugin_dir_loaded, __ATOMIC_ACQUIRE) != wanted) {
		pthread_mutex_lock(&ctx->lock);
		if (ctx->opts.plugin_dir != NULL && ctx->opts.plugin_dir[0] != '\0')
			dir = strdup(ctx->opts.plugin_dir);
		pthread_mutex_unlock(&ctx->lock);
		if (dir != NULL)
			load_dir(ctx, dir);
		__atomic_store_n(&ctx->plugin_dir_loaded, wanted, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&ctx->plugin_lock);
}

void ebcc__registry_free(struct ebcc_context *ctx)
{
	for (size_t i = 0; i < ctx->n_data_dirs; i++)
		close(ctx->data_dirs[i].fd);
	ctx->n_data_dirs = 0;
	for (size_t i = ctx->n_backends; i-- > 0;) {
		struct ebcc_backend *b = ctx->backends[i];

		ebcc__call_destroy(b);
		if (b->dl_handle != NULL)
			dlclose(b->dl_handle);
		free(b);
	}
	free(ctx->backends);
	ctx->backends = NULL;
	ctx->n_backends = 0;
	pthread_mutex_destroy(&ctx->plugin_lock);
}

int ebcc__backend_find(struct ebcc_context *ctx, const char *name,
		       const struct ebcc_backend **ret)
{
	const struct ebcc_backend *found = NULL;

	load_plugins(ctx);
	pthread_mutex_lock(&ctx->lock);
	for (size_t i = 0; i < ctx->n_backends && found == NULL; i++)
		if (strcmp(ctx->backends[i]->name, name) == 0)
			found = ctx->backends[i];
	pthread_mutex_unlock(&ctx->lock);
	if (found == NULL)
		return ebcc__error(EBCC_ERR_NOT_FOUND, "no backend named \"%s\" is registered", name);
	*ret = found;
	return 0;
}

EBCC_EXPORT int ebcc_backend_count(struct ebcc_context *ctx)
{
	int n;

	if (ctx == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_backend_count: ctx is NULL");
	load_plugins(ctx);
	pthread_mutex_lock(&ctx->lock);
	n = (int)ctx->n_backends;
	pthread_mutex_unlock(&ctx->lock);
	return n;
}

EBCC_EXPORT const char *ebcc_backend_name(struct ebcc_context *ctx, int index)
{
	const char *name = NULL;

	if (ctx == NULL) {
		ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_backend_name: ctx is NULL");
		return NULL;
	}
	load_plugins(ctx);
	pthread_mutex_lock(&ctx->lock);
	if (index >= 0 && (size_t)index < ctx->n_backends)
		name = ctx->backends[index]->name;
	pthread_mutex_unlock(&ctx->lock);
	if (name == NULL)
		ebcc__error(EBCC_ERR_INVALID_ARG, "backend index %d is out of range", index);
	return name;
}
