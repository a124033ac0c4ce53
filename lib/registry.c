/* SPDX-License-Identifier: MIT */
/*
 * The backend registry: size-versioned tables copied in, plugins loaded with dlopen(), and the
 * environment every backend callback receives.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "ebcc-private.h"

/* The smallest table this library accepts: everything up to and including stage_unload. */
#define OPS_MIN_SIZE (offsetof(struct ebcc_backend_ops, stage_unload) + sizeof(void *))

static bool name_valid(const char *name)
{
	size_t len = strnlen(name, 33);

	if (len == 0 || len > 32)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '_' || name[i] == '-'))
			return false;
	return true;
}

static const char *isolation_name(uint32_t isolation)
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
		return ebcc__error(EBCC_ERR_ABI,
				   "backend table has ABI version %u; this library supports %u",
				   ops->abi_version, EBCC_BACKEND_ABI_VERSION);
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

	if (out->name == NULL || !name_valid(out->name))
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "backend name \"%s\" is not [a-z0-9_-]{1,32}",
				   out->name != NULL ? out->name : "(null)");
	if (isolation_name(out->isolation) == NULL)
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
	    out->stage_report == NULL || out->stage_unload == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "backend %s: probe, stage_load, stage_invoke, stage_report and "
				   "stage_unload are required",
				   out->name);
	return 0;
}

static int register_locked(struct ebcc_context *ctx, const struct ebcc_backend_ops *ops,
			   void *userdata, void *dl_handle)
{
	struct ebcc_backend *b, **grown;
	int r;

	b = calloc(1, sizeof(*b));
	if (b == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory registering a backend");
	r = copy_ops(ops, &b->ops);
	if (r < 0) {
		free(b);
		return r;
	}
	for (size_t i = 0; i < ctx->n_backends; i++) {
		if (strcmp(ctx->backends[i]->ops.name, b->ops.name) == 0) {
			r = ebcc__error(EBCC_ERR_EXISTS, "a backend named %s is already registered",
					b->ops.name);
			free(b);
			return r;
		}
	}
	grown = realloc(ctx->backends, (ctx->n_backends + 1) * sizeof(*grown));
	if (grown == NULL) {
		free(b);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory registering a backend");
	}
	/* Keep our own copy of the name: a plugin's string table outlives nothing of ours. */
	snprintf(b->name, sizeof(b->name), "%s", b->ops.name);
	b->ops.name = b->name;
	b->userdata = userdata;
	b->dl_handle = dl_handle;
	ctx->backends = grown;
	ctx->backends[ctx->n_backends++] = b;
	return 0;
}

EBCC_EXPORT int ebcc_backend_register(struct ebcc_context *ctx, const struct ebcc_backend_ops *ops,
				      void *userdata)
{
	int r;

	if (ctx == NULL || ops == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_backend_register: %s is NULL",
				   ctx == NULL ? "ctx" : "ops");
	pthread_mutex_lock(&ctx->lock);
	r = register_locked(ctx, ops, userdata, NULL);
	pthread_mutex_unlock(&ctx->lock);
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
	pthread_mutex_lock(&ctx->lock);
	r = register_locked(ctx, ops, NULL, handle);
	pthread_mutex_unlock(&ctx->lock);
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

void ebcc__registry_load_dir(struct ebcc_context *ctx, const char *dir)
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
		ebcc__backend_tsm_entry,
		ebcc__backend_optee_entry,
	};

	for (size_t i = 0; i < EBCC_ARRAY_SIZE(builtins); i++) {
		int r = register_locked(ctx, builtins[i](), NULL, NULL);

		if (r < 0)
			return r;
	}
	if (ctx->opts.plugin_dir != NULL)
		ebcc__registry_load_dir(ctx, ctx->opts.plugin_dir);
	return 0;
}

void ebcc__registry_free(struct ebcc_context *ctx)
{
	for (size_t i = 0; i < ctx->n_data_dirs; i++)
		close(ctx->data_dirs[i].fd);
	ctx->n_data_dirs = 0;
	for (size_t i = ctx->n_backends; i-- > 0;) {
		struct ebcc_backend *b = ctx->backends[i];

		if (b->ops.destroy != NULL)
			b->ops.destroy(b->userdata);
		if (b->dl_handle != NULL)
			dlclose(b->dl_handle);
		free(b);
	}
	free(ctx->backends);
	ctx->backends = NULL;
	ctx->n_backends = 0;
}

int ebcc__backend_find(struct ebcc_context *ctx, const char *name,
		       const struct ebcc_backend **ret)
{
	const struct ebcc_backend *found = NULL;

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
	pthread_mutex_lock(&ctx->lock);
	if (index >= 0 && (size_t)index < ctx->n_backends)
		name = ctx->backends[index]->name;
	pthread_mutex_unlock(&ctx->lock);
	if (name == NULL)
		ebcc__error(EBCC_ERR_INVALID_ARG, "backend index %d is out of range", index);
	return name;
}

/* ---- the environment handed to callbacks ------------------------------------------------ */

static void *env_alloc(size_t size, void *host)
{
	(void)host;
	return malloc(size > 0 ? size : 1);
}

static void env_release(void *ptr, void *host)
{
	(void)host;
	free(ptr);
}

static void env_log(int priority, const char *message, void *host)
{
	struct ebcc_backend_session *s = host;

	ebcc__log(s->ctx, priority, "backend %s: %s", s->backend->name,
		  message != NULL ? message : "(no message)");
}

static void env_set_error(const char *message, void *host)
{
	struct ebcc_backend_session *s = host;

	s->error_set = true;
	ebcc__error(EBCC_ERR_BACKEND, "backend %s: %s", s->backend->name,
		    message != NULL ? message : "(no message)");
}

/* A backend's data directory, once opened under a state root, is kept open by the context:
 * every call into the backend needs it, and walking .ebcc/backends/<name> is three lookups. */
static int cached_data_dir(struct ebcc_context *ctx, const struct ebcc_backend *b, int root_fd)
{
	struct stat st;
	int fd = -1;

	if (fstat(root_fd, &st) < 0)
		return -1;
	pthread_mutex_lock(&ctx->lock);
	for (size_t i = 0; i < ctx->n_data_dirs && fd < 0; i++)
		if (ctx->data_dirs[i].backend == b && ctx->data_dirs[i].root_dev == st.st_dev &&
		    ctx->data_dirs[i].root_ino == st.st_ino)
			fd = fcntl(ctx->data_dirs[i].fd, F_DUPFD_CLOEXEC, 3);
	pthread_mutex_unlock(&ctx->lock);
	return fd;
}

static void keep_data_dir(struct ebcc_context *ctx, const struct ebcc_backend *b, int root_fd,
			  int fd)
{
	struct stat st;
	int copy;

	if (fstat(root_fd, &st) < 0)
		return;
	pthread_mutex_lock(&ctx->lock);
	if (ctx->n_data_dirs < EBCC_ARRAY_SIZE(ctx->data_dirs) &&
	    (copy = fcntl(fd, F_DUPFD_CLOEXEC, 3)) >= 0) {
		ctx->data_dirs[ctx->n_data_dirs].backend = b;
		ctx->data_dirs[ctx->n_data_dirs].root_dev = st.st_dev;
		ctx->data_dirs[ctx->n_data_dirs].root_ino = st.st_ino;
		ctx->data_dirs[ctx->n_data_dirs++].fd = copy;
	}
	pthread_mutex_unlock(&ctx->lock);
}

int ebcc__backend_session_open(struct ebcc_backend_session *s, struct ebcc_context *ctx,
			       const struct ebcc_backend *b, int root_fd)
{
	char sub[64];
	int fd = -1, r;
	enum ebcc_durability durability;

	pthread_mutex_lock(&ctx->lock);
	durability = ctx->opts.durability;
	pthread_mutex_unlock(&ctx->lock);

	*s = (struct ebcc_backend_session){
		.env = {
			.size = sizeof(struct ebcc_backend_env),
			.durability = durability == EBCC_DURABILITY_FSYNC
					      ? EBCC_BACKEND_DURABILITY_FSYNC
					      : EBCC_BACKEND_DURABILITY_NONE,
			.alloc = env_alloc,
			.log = env_log,
			.set_error = env_set_error,
			.data_dir_fd = -1,
			.release = env_release,
		},
		.ctx = ctx,
		.backend = b,
	};
	s->env.host = s;
	if (root_fd < 0)
		return 0;

	snprintf(sub, sizeof(sub), "backends/%s", b->name);
	snprintf(s->data_dir, sizeof(s->data_dir), "%s/%s", EBCC_PRIVATE_DIR, sub);
	fd = cached_data_dir(ctx, b, root_fd);
	if (fd < 0) {
		r = ebcc__private_dir_open(root_fd, sub, true, &fd);
		if (r < 0)
			return r;
		keep_data_dir(ctx, b, root_fd, fd);
	}
	s->env.data_dir_fd = fd;
	s->env.data_dir = s->data_dir;
	return 0;
}

void ebcc__backend_session_close(struct ebcc_backend_session *s)
{
	if (s->env.data_dir_fd >= 0)
		close(s->env.data_dir_fd);
	s->env.data_dir_fd = -1;
}

int ebcc__backend_failed(const struct ebcc_backend_session *s, const char *what, int r)
{
	if (r >= 0 || strcmp(ebcc_error_name(r), "EBCC_ERR_UNKNOWN") == 0)
		r = EBCC_ERR_BACKEND;
	if (!s->error_set)
		return ebcc__error(r, "backend %s: %s failed: %s", s->backend->name, what,
				   ebcc_strerror(r));
	return r;
}

/* ---- probe and keys ---------------------------------------------------------------------- */

static int probe_json(struct ebcc_context *ctx, const struct ebcc_backend *b, char **ret_json)
{
	struct ebcc_backend_session s;
	struct json_object *obj = NULL, *reason = NULL;
	char *details = NULL;
	int available, r;

	r = ebcc__backend_session_open(&s, ctx, b, -1);
	if (r < 0)
		return r;
	available = b->ops.probe(&s.env, &details, b->userdata);
	if (available < 0) {
		free(details);
		r = ebcc__backend_failed(&s, "probe", available);
		ebcc__backend_session_close(&s);
		return r;
	}
	ebcc__backend_session_close(&s);

	if (details != NULL) {
		r = ebcc__json_parse(details, strlen(details), EBCC_ERR_BACKEND, "probe details", &obj);
		free(details);
		if (r < 0)
			return ebcc__error_prefix(r, "backend %s", b->name);
		if (!json_object_is_type(obj, json_type_object)) {
			json_object_put(obj);
			return ebcc__error(EBCC_ERR_BACKEND,
					   "backend %s: probe details are not a JSON object", b->name);
		}
	} else {
		obj = json_object_new_object();
		if (obj == NULL)
			return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	if (!available && !json_object_object_get_ex(obj, "reason", &reason))
		json_object_object_add(obj, "reason", json_object_new_string("not available"));
	/* The core's fields come last so that a backend cannot misstate them. */
	json_object_object_add(obj, "name", json_object_new_string(b->name));
	json_object_object_add(obj, "available", json_object_new_boolean(available > 0));
	json_object_object_add(obj, "isolation",
			       json_object_new_string(isolation_name(b->ops.isolation)));
	json_object_object_add(obj, "simulated",
			       json_object_new_boolean(b->ops.flags & EBCC_BACKEND_SIMULATED));
	json_object_object_add(obj, "evidence_format",
			       json_object_new_string(b->ops.evidence_format));
	json_object_object_add(obj, "max_report_data", json_object_new_int64(b->ops.max_report_data));
	json_object_object_add(obj, "concurrent_invoke",
			       json_object_new_boolean(b->ops.flags & EBCC_BACKEND_CONCURRENT_INVOKE));
	json_object_object_add(obj, "plugin", json_object_new_boolean(b->dl_handle != NULL));
	r = ebcc__json_to_string(obj, JSON_C_TO_STRING_PLAIN, ret_json);
	json_object_put(obj);
	return r;
}

EBCC_EXPORT int ebcc_backend_probe(struct ebcc_context *ctx, const char *name, char **ret_json)
{
	const struct ebcc_backend *b = NULL;
	int r;

	if (ctx == NULL || name == NULL || ret_json == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_backend_probe: %s is NULL",
				   ctx == NULL ? "ctx" : name == NULL ? "name" : "ret_json");
	r = ebcc__backend_find(ctx, name, &b);
	if (r < 0)
		return r;
	return probe_json(ctx, b, ret_json);
}

EBCC_EXPORT int ebcc_backend_attestation_key(struct ebcc_context *ctx, const char *name,
					     char **ret_pem)
{
	const struct ebcc_backend *b = NULL;
	struct ebcc_backend_session s;
	char *pem = NULL;
	int root_fd = -1, r;

	if (ctx == NULL || name == NULL || ret_pem == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_backend_attestation_key: %s is NULL",
				   ctx == NULL ? "ctx" : name == NULL ? "name" : "ret_pem");
	r = ebcc__backend_find(ctx, name, &b);
	if (r < 0)
		return r;
	if (b->ops.attestation_key == NULL)
		return ebcc__error(EBCC_ERR_UNAVAILABLE,
				   "backend %s has no attestation key on this host", name);
	r = ebcc__state_root_open(ctx, true, &root_fd, NULL);
	if (r < 0)
		return r;
	r = ebcc__backend_session_open(&s, ctx, b, root_fd);
	close(root_fd);
	if (r < 0)
		return r;
	r = b->ops.attestation_key(&s.env, &pem, b->userdata);
	if (r < 0) {
		free(pem);
		r = ebcc__backend_failed(&s, "attestation_key", r);
	} else if (pem == NULL) {
		r = ebcc__error(EBCC_ERR_BACKEND, "backend %s returned no attestation key", name);
	} else {
		*ret_pem = pem;
	}
	ebcc__backend_session_close(&s);
	return r;
}
