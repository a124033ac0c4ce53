/* SPDX-License-Identifier: MIT */
/*
 * Stages in their backend: loading one (checking that what the backend measured is what was
 * measured at create), reattaching to a loaded one from any process, and unloading.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "ebcc-private.h"

/* Stage directories live as long as the composite: each handle opens one once and hands out
 * duplicates (one syscall instead of a walk of two directories). */
static int cached_stage_dir(struct ebcc_instance *inst, const char *stage)
{
	int fd = -1;

	pthread_mutex_lock(&inst->lock);
	for (size_t i = 0; i < inst->n_stage_dirs && fd < 0; i++)
		if (strcmp(inst->stage_dirs[i].name, stage) == 0)
			fd = fcntl(inst->stage_dirs[i].fd, F_DUPFD_CLOEXEC, 3);
	pthread_mutex_unlock(&inst->lock);
	return fd;
}

static void remember_stage_dir(struct ebcc_instance *inst, const char *stage, int fd)
{
	pthread_mutex_lock(&inst->lock);
	if (inst->n_stage_dirs < EBCC_STAGES_MAX) {
		int copy = fcntl(fd, F_DUPFD_CLOEXEC, 3);

		if (copy >= 0) {
			snprintf(inst->stage_dirs[inst->n_stage_dirs].name,
				 sizeof(inst->stage_dirs[0].name), "%s", stage);
			inst->stage_dirs[inst->n_stage_dirs++].fd = copy;
		}
	}
	pthread_mutex_unlock(&inst->lock);
}

int ebcc__stage_dir_open(struct ebcc_instance *inst, const char *stage, bool create,
			 int *ret_fd)
{
	char path[EBCC_STAGE_NAME_MAX + 16];
	int fd = cached_stage_dir(inst, stage), r;

	if (fd >= 0) {
		*ret_fd = fd;
		return 0;
	}
	snprintf(path, sizeof(path), "stages/%s", stage);
	r = ebcc__open_dir_path_at(inst->dir_fd, path, create, &fd);
	if (r < 0)
		return r;
	remember_stage_dir(inst, stage, fd);
	*ret_fd = fd;
	return 0;
}

void ebcc__loaded_stage_clear(struct ebcc_loaded_stage *l)
{
	free(l->measurement);
	free(l->ref);
	free(l->isolation_json);
	*l = (struct ebcc_loaded_stage){ 0 };
}

static void params_init(struct ebcc_backend_stage_params *p, const struct ebcc_instance *inst,
			const struct ebcc_stage_decl *decl, int stage_dir_fd, const char *stage_dir,
			int image_fd)
{
	*p = (struct ebcc_backend_stage_params){
		.size = sizeof(*p),
		.lifetime = decl->lifetime,
		.instance_id = inst->id,
		.stage_name = decl->name,
		.image_fd = image_fd,
		.stage_dir_fd = stage_dir_fd,
		.stage_dir = stage_dir,
		.max_request = decl->max_request,
		.max_response = decl->max_response,
		.timeout_ms = decl->timeout_ms,
		.memory_mib = decl->memory_mib,
		.cpu_seconds = decl->cpu_seconds,
		.max_files = decl->max_files,
		.options_json = decl->options_json,
		.expected_measurement = decl->measurement,
	};
}

static void stage_dir_display(const struct ebcc_instance *inst, const char *stage, char *buf,
			      size_t size)
{
	snprintf(buf, size, "%s/stages/%s", inst->dir_name, stage);
}

/* What the backend hands back must be sane before the core stores it. */
static int check_loaded(const struct ebcc_backend_session *s, const struct ebcc_stage_decl *decl,
			const struct ebcc_loaded_stage *l)
{
	struct json_object *obj = NULL;
	int r;

	if (l->measurement == NULL || strcmp(l->measurement, decl->measurement) != 0)
		return ebcc__error(EBCC_ERR_VERIFY,
				   "stage %s: the backend measured %s, but the image measured %s "
				   "when the composite was created (was the image changed?)",
				   decl->name, l->measurement != NULL ? l->measurement : "nothing",
				   decl->measurement);
	if (l->ref != NULL && strlen(l->ref) > 4096)
		return ebcc__error(EBCC_ERR_BACKEND, "backend %s: stage reference too long",
				   s->backend->name);
	if (l->isolation_json != NULL && strlen(l->isolation_json) > 4096)
		return ebcc__error(EBCC_ERR_BACKEND, "backend %s: isolation description above "
				   "4096 bytes", s->backend->name);
	if (l->isolation_json != NULL) {
		r = ebcc__json_parse(l->isolation_json, strlen(l->isolation_json), EBCC_ERR_BACKEND,
				     "the backend's isolation description", &obj);
		if (r < 0)
			return r;
		r = json_object_is_type(obj, json_type_object)
			    ? 0
			    : ebcc__error(EBCC_ERR_BACKEND, "backend %s: isolation is not an object",
					  s->backend->name);
		json_object_put(obj);
		return r;
	}
	return 0;
}

int ebcc__stage_load(struct ebcc_instance *inst, const struct ebcc_state *st,
		     const struct ebcc_backend_session *s, const struct ebcc_stage_decl *decl,
		     struct ebcc_loaded_stage *ret)
{
	struct ebcc_backend_stage_params params;
	struct ebcc_backend_stage out = { .size = sizeof(out) };
	char stage_dir[NAME_MAX + EBCC_STAGE_NAME_MAX + 16];
	_cleanup_close_ int root_fd = -1, image_fd = -1, stage_dir_fd = -1;
	int r;

	*ret = (struct ebcc_loaded_stage){ 0 };
	/*
	 * The file create measured, opened again by the same rules beneath the same root. It may
	 * have changed since (a container can write its own rootfs): this descriptor is the one
	 * the backend measures and loads, and check_loaded() refuses any measurement but
	 * create's.
	 */
	r = ebcc__image_root_open(&st->images, decl->name, &root_fd);
	if (r == 0)
		r = ebcc__image_root_open_image(&st->images, root_fd, decl, &image_fd);
	if (r < 0)
		return r;
	r = ebcc__stage_dir_open(inst, decl->name, true, &stage_dir_fd);
	if (r < 0)
		return r;
	stage_dir_display(inst, decl->name, stage_dir, sizeof(stage_dir));
	params_init(&params, inst, decl, stage_dir_fd, stage_dir, image_fd);

	r = ebcc__call_stage_load(s, &params, &out);
	if (r < 0)
		return r;
	*ret = (struct ebcc_loaded_stage){
		.handle = out.handle,
		.eid = out.eid,
		.measurement = out.measurement,
		.ref = out.ref,
		.isolation_json = out.isolation_json,
	};
	r = check_loaded(s, decl, ret);
	if (r < 0) {
		ebcc__stage_unload(s, ret->handle);
		ebcc__loaded_stage_clear(ret);
		return r;
	}
	ebcc__log_debug(inst->ctx, "composite %s: stage %s loaded in %s as EID %" PRIu64,
			inst->id, decl->name, s->backend->name, ret->eid);
	return 0;
}

int ebcc__stage_attach(struct ebcc_instance *inst, const struct ebcc_backend_session *s,
		       const struct ebcc_stage_decl *decl, void **ret_handle)
{
	struct ebcc_backend_stage_params params;
	char stage_dir[NAME_MAX + EBCC_STAGE_NAME_MAX + 16];
	_cleanup_close_ int stage_dir_fd = -1;
	int r;

	r = ebcc__stage_dir_open(inst, decl->name, false, &stage_dir_fd);
	if (r < 0)
		return r;
	stage_dir_display(inst, decl->name, stage_dir, sizeof(stage_dir));
	params_init(&params, inst, decl, stage_dir_fd, stage_dir, -1);
	return ebcc__call_stage_open(s, &params, decl->eid, decl->ref, ret_handle);
}

int ebcc__stage_unload(const struct ebcc_backend_session *s, void *handle)
{
	return ebcc__call_stage_unload(s, handle);
}

void ebcc__stage_close(const struct ebcc_backend_session *s, void *handle)
{
	ebcc__call_stage_close(s->backend, handle);
}

/*
 * An instance stage the state does not record may still run: the process that loaded it died
 * before it could record it. The backend is asked to reach it without a ref (eid 0, ref NULL;
 * see stage_open in backend.h) and, if it finds one, it is unloaded. Quiet either way.
 */
static void reclaim_unrecorded(struct ebcc_instance *inst, const struct ebcc_backend_session *s,
			       const struct ebcc_stage_decl *decl)
{
	struct ebcc_backend_stage_params params;
	char stage_dir[NAME_MAX + EBCC_STAGE_NAME_MAX + 16], saved[EBCC_ERROR_MESSAGE_MAX];
	_cleanup_close_ int stage_dir_fd = -1;
	void *handle = NULL;

	if (decl->lifetime != EBCC_LIFETIME_INSTANCE || !ebcc__backend_can_open(s->backend))
		return;
	ebcc__error_save(saved);
	if (ebcc__stage_dir_open(inst, decl->name, false, &stage_dir_fd) == 0) {
		stage_dir_display(inst, decl->name, stage_dir, sizeof(stage_dir));
		params_init(&params, inst, decl, stage_dir_fd, stage_dir, -1);
		if (ebcc__call_stage_open(s, &params, 0, NULL, &handle) == 0) {
			ebcc__log_info(inst->ctx, "composite %s: stopping stage %s, left running by "
				       "an interrupted load",
				       inst->id, decl->name);
			ebcc__stage_unload(s, handle);
		}
	}
	ebcc__error_restore(saved);
}

int ebcc__stage_unload_recorded(struct ebcc_instance *inst, const struct ebcc_backend_session *s,
				struct ebcc_stage_decl *decl)
{
	void *handle = NULL;
	int r;

	if (!decl->loaded) {
		reclaim_unrecorded(inst, s, decl);
		return 0;
	}
	r = ebcc__stage_attach(inst, s, decl, &handle);
	if (r == 0)
		r = ebcc__stage_unload(s, handle);
	if (r < 0)
		ebcc__log_warning(inst->ctx, "composite %s: unloading stage %s: %s", inst->id,
				  decl->name, ebcc_last_error_message());
	decl->loaded = false;
	decl->eid = 0;
	free(decl->ref);
	free(decl->isolation_json);
	decl->ref = NULL;
	decl->isolation_json = NULL;
	return r;
}

void *ebcc__stage_handle_cached(struct ebcc_instance *inst, const char *stage, uint64_t eid)
{
	void *handle = NULL;

	pthread_mutex_lock(&inst->lock);
	for (size_t i = 0; i < inst->n_stage_handles && handle == NULL; i++)
		if (strcmp(inst->stage_handles[i].name, stage) == 0 &&
		    inst->stage_handles[i].eid == eid)
			handle = inst->stage_handles[i].handle;
	pthread_mutex_unlock(&inst->lock);
	return handle;
}

static void close_handle(const struct ebcc_backend *b, void *handle)
{
	ebcc__call_stage_close(b, handle);
}

void ebcc__stage_handle_keep(struct ebcc_instance *inst, const struct ebcc_backend *b,
			     const char *stage, uint64_t eid, void *handle)
{
	const struct ebcc_backend *old_backend = NULL;
	void *old = NULL;
	size_t i;

	pthread_mutex_lock(&inst->lock);
	for (i = 0; i < inst->n_stage_handles; i++)
		if (strcmp(inst->stage_handles[i].name, stage) == 0)
			break;
	if (i < inst->n_stage_handles) {
		/* A handle on an older load of the stage (it was unloaded and loaded again). */
		old = inst->stage_handles[i].handle;
		old_backend = inst->stage_handles[i].backend;
	} else if (i < EBCC_STAGES_MAX) {
		inst->n_stage_handles++; /* a new slot: what it held was released already */
	}
	if (i < inst->n_stage_handles) {
		snprintf(inst->stage_handles[i].name, sizeof(inst->stage_handles[i].name), "%s",
			 stage);
		inst->stage_handles[i].eid = eid;
		inst->stage_handles[i].handle = handle;
		inst->stage_handles[i].backend = b;
	} else {
		old = handle;
		old_backend = b;
	}
	pthread_mutex_unlock(&inst->lock);
	if (old != NULL)
		close_handle(old_backend, old);
}

void ebcc__instance_release_stages(struct ebcc_instance *inst)
{
	pthread_mutex_lock(&inst->lock);
	for (size_t i = 0; i < inst->n_stage_dirs; i++)
		close(inst->stage_dirs[i].fd);
	inst->n_stage_dirs = 0;
	for (size_t i = 0; i < inst->n_stage_handles; i++)
		close_handle(inst->stage_handles[i].backend, inst->stage_handles[i].handle);
	inst->n_stage_handles = 0;
	pthread_mutex_unlock(&inst->lock);
}
