/* SPDX-License-Identifier: MIT */
/*
 * Backend sessions: the environment every backend callback receives (allocation, log, error,
 * the backend's data directory, kept open per state root); the calls themselves are in
 * lib/backendcall.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ebcc-private.h"

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

struct ebcc__sandbox_pool *ebcc__session_sandbox_pool(const struct ebcc_backend_env *env)
{
	const struct ebcc_backend_session *s;

	/* Only an environment of ours has a session (and a context) as its host. */
	if (env == NULL || env->alloc != env_alloc || env->host == NULL)
		return NULL;
	s = env->host;
	return ebcc__context_sandbox_pool(s->ctx);
}
