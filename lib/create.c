/* SPDX-License-Identifier: MIT */
/*
 * ebcc_instance_create(): a composite's directory, its first state, its config and its anchor,
 * written so that a failure or a crash at any step leaves nothing a later call cannot finish
 * or remove.
 */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "ebcc-private.h"

#define CONFIG_NAME "config.json"

/* Builds the state of a new composite from its bundle (taking over the manifest's stages and
 * where their images are). */
static int state_from_bundle(const char *id, struct ebcc_bundle *b, const char *backend,
			     struct ebcc_state **ret)
{
	struct ebcc_state *st = calloc(1, sizeof(*st));

	if (st == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	st->refcount = 1;
	st->id = strdup(id);
	st->bundle = strdup(b->path);
	st->oci_version = strdup(b->config->oci_version);
	st->backend = strdup(backend);
	st->annotations = json_object_get(b->config->annotations);
	st->phase = EBCC_PHASE_CREATING;
	ebcc__format_time_now(st->created, sizeof(st->created));
	st->stages = b->manifest->stages;
	st->n_stages = b->manifest->n_stages;
	b->manifest->stages = NULL;
	b->manifest->n_stages = 0;
	/* Where the images are, so that start loads the very files measured here. */
	st->images = b->images;
	b->images = (struct ebcc_image_root){ 0 };
	if (st->id == NULL || st->bundle == NULL || st->oci_version == NULL || st->backend == NULL) {
		ebcc__state_free(st);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	*ret = st;
	return 0;
}

static int spawn_anchor(struct ebcc_instance *inst, const struct ebcc_process *p,
			struct ebcc_state *st)
{
	_cleanup_free_ char *path = NULL;
	struct ebcc_anchor_spawn a;
	struct ebcc_anchor_pids pids;
	int r;

	r = ebcc__anchor_resolve(p, &path);
	if (r < 0)
		return r;
	a = (struct ebcc_anchor_spawn){
		.path = path,
		.argv = p->args,
		.envp = p->env,
		.cwd = p->cwd,
		.rlimits = p->rlimits,
		.n_rlimits = p->n_rlimits,
		/* As root the process gets the config's user; otherwise it runs as the caller. */
		.set_user = p->has_user && geteuid() == 0,
		.uid = p->uid,
		.gid = p->gid,
		.gids = p->additional_gids,
		.n_gids = p->n_gids,
		.no_new_privs = p->no_new_privileges,
		.dir_fd = inst->dir_fd,
		.durable = ebcc__instance_durable(inst),
	};
	r = ebcc__anchor_spawn(&a, &pids);
	if (r < 0)
		return r;
	st->anchor_mode = EBCC_ANCHOR_MODE_SPAWNED;
	st->anchor_pid = pids.anchor;
	st->anchor_start = pids.anchor_start;
	st->monitor_pid = pids.monitor;
	st->monitor_start = pids.monitor_start;
	return 0;
}

/* Undoes a failed create: stops the anchor if there is one, removes the directory. */
static void create_rollback(struct ebcc_instance *inst, const struct ebcc_state *st)
{
	char saved[EBCC_ERROR_MESSAGE_MAX];

	ebcc__error_save(saved);
	if (st != NULL && st->anchor_pid > 0) {
		ebcc__proc_signal(st->anchor_pid, st->anchor_start, SIGKILL);
		ebcc__monitor_wait(st, 2000);
	}
	ebcc__anchor_stop_at_gate(inst->dir_fd, 0);
	ebcc__remove_tree_at(inst->root_fd, inst->dir_name);
	ebcc__error_restore(saved);
}

static int create_locked(struct ebcc_instance *inst, struct ebcc_bundle *b, const char *backend,
			 bool anchor_external)
{
	struct ebcc_state *st = NULL;
	char display[NAME_MAX + 32];
	int r;

	r = state_from_bundle(inst->id, b, backend, &st);
	if (r < 0)
		return r;
	/* From here on the id shows up as "creating" until the composite is complete. */
	r = ebcc__instance_write_state(inst, st);
	if (r < 0)
		goto out;
	ebcc__test_point("create:state-written");
	snprintf(display, sizeof(display), "%s/" CONFIG_NAME, inst->dir_name);
	r = ebcc__file_write_atomic(inst->dir_fd, CONFIG_NAME, b->config_text, b->config_len, 0600,
				    ebcc__instance_durable(inst), display);
	if (r < 0)
		goto out;
	ebcc__test_point("create:config-written");
	if (b->config->process != NULL && anchor_external)
		st->anchor_mode = EBCC_ANCHOR_MODE_EXTERNAL;
	else if (b->config->process != NULL)
		r = spawn_anchor(inst, b->config->process, st);
	if (r < 0)
		goto out;
	ebcc__test_point("create:anchor-spawned");
	st->phase = EBCC_PHASE_CREATED;
	r = ebcc__instance_write_state(inst, st);
	if (r == 0)
		ebcc__test_point("create:state-created");
out:
	if (r < 0)
		create_rollback(inst, st);
	ebcc__state_free(st);
	return r;
}

EBCC_EXPORT void ebcc_instance_options_init(struct ebcc_instance_options *options)
{
	if (options != NULL)
		*options = (struct ebcc_instance_options)EBCC_INSTANCE_OPTIONS_INIT;
}

/* The NULL arguments of a create, named for the call the caller made. */
static int create_args_check(const char *function, const struct ebcc_context *ctx,
			     const char *id, const char *bundle_dir,
			     struct ebcc_instance **ret_inst)
{
	if (ctx != NULL && id != NULL && bundle_dir != NULL && ret_inst != NULL)
		return 0;
	return ebcc__error(EBCC_ERR_INVALID_ARG, "%s: %s is NULL", function,
			   ctx == NULL	       ? "ctx"
			   : id == NULL	       ? "id"
			   : bundle_dir == NULL ? "bundle_dir"
						: "ret_inst");
}

EBCC_EXPORT int ebcc_instance_create(struct ebcc_context *ctx, const char *id,
				     const char *bundle_dir, struct ebcc_instance **ret_inst)
{
	int r = create_args_check("ebcc_instance_create", ctx, id, bundle_dir, ret_inst);

	return r < 0 ? r : ebcc_instance_create_with(ctx, id, bundle_dir, NULL, ret_inst);
}

EBCC_EXPORT int ebcc_instance_create_with(struct ebcc_context *ctx, const char *id,
					  const char *bundle_dir,
					  const struct ebcc_instance_options *options,
					  struct ebcc_instance **ret_inst)
{
	struct ebcc_instance_options opts;
	struct ebcc_bundle *b = NULL;
	struct ebcc_backend_session session;
	struct ebcc_instance *inst = NULL;
	const struct ebcc_backend *backend;
	_cleanup_free_ char *default_backend = NULL;
	char dir_name[NAME_MAX + 1];
	char *root_path = NULL;
	int root_fd = -1, dir_fd = -1, lock_fd = -1, r;
	bool anchor_external;

	r = create_args_check("ebcc_instance_create_with", ctx, id, bundle_dir, ret_inst);
	if (r < 0)
		return r;
	ebcc_instance_options_init(&opts);
	r = ebcc__struct_options_copy(options, sizeof(opts), &opts, "ebcc_instance_create_with",
				      "ebcc_instance_options_init");
	if (r < 0)
		return r;
	if (opts.anchor > EBCC_ANCHOR_EXTERNAL)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "ebcc_instance_create_with: options.anchor %" PRIu32 " is not "
				   "EBCC_ANCHOR_CONTEXT, EBCC_ANCHOR_SPAWN or EBCC_ANCHOR_EXTERNAL",
				   opts.anchor);
	r = ebcc__instance_check_id(id);
	if (r < 0)
		return r;
	pthread_mutex_lock(&ctx->lock);
	default_backend = strdup(opts.backend != NULL ? opts.backend : ctx->opts.default_backend);
	anchor_external = opts.anchor == EBCC_ANCHOR_CONTEXT ? ctx->opts.anchor_external
							     : opts.anchor == EBCC_ANCHOR_EXTERNAL;
	pthread_mutex_unlock(&ctx->lock);
	if (default_backend == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");

	/* Everything that can be checked without touching the state root comes first. */
	r = ebcc__bundle_load(bundle_dir, &b);
	if (r < 0)
		return r;
	r = ebcc__backend_find(ctx, b->manifest->backend != NULL ? b->manifest->backend
								  : default_backend,
			       &backend);
	if (r < 0)
		goto out;
	r = ebcc__backend_session_open(&session, ctx, backend, -1);
	if (r < 0)
		goto out;
	r = ebcc__bundle_measure(b, &session);
	ebcc__backend_session_close(&session);
	if (r < 0)
		goto out;

	r = ebcc__state_root_open(ctx, true, &root_fd, &root_path);
	if (r < 0)
		goto out;
	ebcc__instance_dir_name(id, dir_name);
	/* mkdir is the atomic claim on the id: of two racing creators exactly one succeeds. */
	if (mkdirat(root_fd, dir_name, 0700) < 0) {
		r = errno == EEXIST ? ebcc__error(EBCC_ERR_EXISTS, "composite %s already exists", id)
				    : ebcc__error_errno(ebcc__error_from_errno(errno), errno,
							"create the directory of composite %s", id);
		goto out;
	}
	ebcc__test_point("create:dir-made");
	r = ebcc__open_dir_at(root_fd, dir_name, dir_name, &dir_fd);
	if (r < 0) {
		unlinkat(root_fd, dir_name, AT_REMOVEDIR);
		goto out;
	}
	inst = ebcc__instance_new(ctx, id, root_fd, root_path, dir_fd);
	if (inst == NULL) {
		r = EBCC_ERR_NO_MEMORY;
		close(dir_fd);
		unlinkat(root_fd, dir_name, AT_REMOVEDIR);
		goto out;
	}
	root_fd = -1; /* owned by inst now */
	root_path = NULL;
	r = ebcc__instance_lock(inst, LOCK_EX, &lock_fd);
	if (r < 0) {
		ebcc__remove_tree_at(inst->root_fd, inst->dir_name);
		goto out;
	}
	r = create_locked(inst, b, backend->name, anchor_external);
	ebcc__instance_unlock(lock_fd);
	if (r == 0) {
		ebcc__log_info(ctx, "composite %s created from bundle %s", id, b->path);
		*ret_inst = EBCC_TAKE_PTR(inst);
	}
out:
	if (root_fd >= 0)
		close(root_fd);
	free(root_path);
	ebcc_instance_unref(inst);
	ebcc__bundle_free(b);
	return r;
}

