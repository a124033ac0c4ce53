/* SPDX-License-Identifier: MIT */
/*
 * The composite around a low-level runtime's container. create: libebcc creates the composite
 * from the bundle (manifest checked, images measured) with anchor=external, the low-level
 * runtime creates the container, whose init process, held before its program until start,
 * becomes the anchor (ebcc_instance_set_pid), and the stages load in a broker that serves them
 * to the container on the socket of a directory made for this container (sockets.c),
 * bind-mounted read-only at /run/ebcc by a rewritten config.json, exactly as the hook's broker
 * does (hook/broker.c): it keeps the stages' processes and ends with the container's process.
 * The manifest's tools.ociHook.socketDir is ebcc-oci-hook's and is not used here: a shared
 * directory would let one container reach another's stages.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../hook/hook.h"
#include "runtime.h"

/* How long a broker gets to finish its connections when a later step of create fails. */
#define BROKER_STOP_GRACE_MS 5000

int rt_container_open(struct rt *rt, const char *verb, const char *id,
		      struct ebcc_instance **ret_inst)
{
	int r = ebcc_instance_open(rt->ctx, id, ret_inst);

	/* An id libebcc refuses can name no composite; the low-level runtime judges it. */
	if (r == EBCC_ERR_NOT_FOUND || r == EBCC_ERR_INVALID_ARG)
		return 0;
	if (r < 0)
		return rt_fail(r, "%s %s", verb, id), -1;
	return 1;
}

/* The pid the low-level runtime wrote to the engine's pid file. */
static int pid_from_file(const char *id, const char *path, int *ret)
{
	char *text = NULL;
	size_t len;
	uint64_t pid;
	int r;

	if (access(path, F_OK) < 0)
		return rt_fail_plain("create %s: the low-level runtime wrote no pid file %s: %s", id,
				     path, strerror(errno)),
		       -1;
	if (rt_read_file(path, 64, &text, &len) < 0)
		return -1;
	text[strcspn(text, "\n")] = '\0';
	r = rt_parse_u64(text, &pid);
	free(text);
	if (r < 0 || pid == 0 || pid > INT32_MAX)
		return rt_fail_plain("create %s: pid file %s holds no process id", id, path), -1;
	*ret = (int)pid;
	return 0;
}

/* The pid of the container's init process: from the pid file, else from the state. */
static int container_pid(struct rt *rt, const struct rt_container_create *c, int *ret)
{
	struct json_object *state = NULL, *pid;
	int r;

	if (c->pid_file != NULL)
		return pid_from_file(c->id, c->pid_file, ret);
	r = rt_lowlevel_state(rt, c->id, &state);
	if (r > 0)
		rt_fail_plain("create %s: %s state exited with %d", c->id, rt_lowlevel_name(rt), r);
	if (r != 0)
		return -1;
	if (!json_object_object_get_ex(state, "pid", &pid) ||
	    !json_object_is_type(pid, json_type_int) || json_object_get_int(pid) <= 0) {
		json_object_put(state);
		return rt_fail_plain("create %s: the state from %s has no \"pid\" of its process",
				     c->id, rt_lowlevel_name(rt)),
		       -1;
	}
	*ret = json_object_get_int(pid);
	json_object_put(state);
	return 0;
}

/* Loads the stages in a broker that serves them on the socket. */
static int load_stages(struct rt *rt, const char *id, int pid, struct hook_listener *listener,
		       pid_t *ret_broker, uint64_t *ret_start)
{
	struct hook_broker_params params;
	uint64_t anchor_start;

	if (hook_proc_start_time(pid, &anchor_start) < 0)
		return rt_fail_plain("create %s: the container's process %d has exited", id, pid), -1;
	params = (struct hook_broker_params){
		.root = rt_state_root(rt),
		.id = id,
		.anchor_pid = pid,
		.anchor_start = anchor_start,
		.listener = listener,
	};
	if (hook_broker_spawn(&params, ret_broker, ret_start) < 0)
		return rt_fail_plain("create %s: %s", id, hook_error_message()), -1;
	return 0;
}

static void delete_container(struct rt *rt, const char *id)
{
	char *args[] = { (char *)"delete", (char *)"--force", (char *)id };
	int r = rt_lowlevel_run(rt, 3, args, NULL);

	if (r > 0)
		rt_log(EBCC_LOG_WARNING, "create %s: %s delete --force exited with %d", id,
		       rt_lowlevel_name(rt), r);
}

int rt_container_create(struct rt *rt, struct rt_container_create *c)
{
	struct hook_listener listener = { .fd = -1, .dir_fd = -1 };
	struct ebcc_instance *inst = NULL;
	char *bundle_abs = NULL, *dir = NULL, *original = NULL;
	int created = 0, pid_file_new = 0, pid = 0, code = RT_EXIT_FAIL, r;
	uint64_t broker_start = 0;
	size_t original_len = 0;
	pid_t broker = 0;
	struct stat st;

	c->pid = c->broker_pid = 0;

	bundle_abs = realpath(c->bundle, NULL);
	if (bundle_abs == NULL)
		return rt_fail_plain("create %s: bundle %s: %s", c->id, c->bundle, strerror(errno));
	/* The composite first: a bad manifest or a wrong measurement fails before there is a
	 * container to remove. */
	/* The low-level runtime runs the container's process; the composite is told its pid. */
	r = hook_instance_create_external(rt->ctx, c->id, bundle_abs, &inst);
	if (r < 0) {
		rt_fail(r, "create %s", c->id);
		free(bundle_abs);
		return RT_EXIT_FAIL;
	}
	if (rt_sockets_make(rt, c->id, &dir) < 0)
		goto fail;
	if (rt_bundle_mount_socket(bundle_abs, c->id, dir, &original, &original_len) < 0)
		goto fail;
	if (hook_listener_open(dir, &listener) < 0) {
		rt_fail_plain("create %s: %s", c->id, hook_error_message());
		goto fail;
	}
	pid_file_new = c->pid_file != NULL && lstat(c->pid_file, &st) < 0 && errno == ENOENT;
	r = rt_lowlevel_run(rt, c->argc, c->argv, NULL);
	if (r != 0) {
		/* Its own error is on stderr and in the log already. */
		if (r > 0)
			rt_fail_plain("create %s: %s create exited with %d", c->id,
				      rt_lowlevel_name(rt), r);
		code = r > 0 ? r : RT_EXIT_FAIL;
		goto fail;
	}
	created = 1;
	if (container_pid(rt, c, &pid) < 0)
		goto fail;
	r = ebcc_instance_set_pid(inst, pid);
	if (r < 0) {
		rt_fail(r, "create %s: the container's process %d as its anchor", c->id, pid);
		goto fail;
	}
	if (load_stages(rt, c->id, pid, &listener, &broker, &broker_start) < 0)
		goto fail;
	if (rt_sockets_record(rt, c->id, dir, broker, broker_start) < 0)
		goto fail;
	/* The broker holds its own copies of the socket now. */
	hook_listener_close(&listener);
	rt_log(EBCC_LOG_INFO, "created %s from bundle %s: container pid %d, stages served on %s",
	       c->id, bundle_abs, pid, dir);
	c->pid = pid;
	c->broker_pid = broker;
	c->broker_start = broker_start;
	code = RT_EXIT_OK;
	goto out;

fail:
	/* Like runc: a create that cannot finish leaves nothing behind. */
	if (broker > 0)
		hook_proc_stop(broker, broker_start, BROKER_STOP_GRACE_MS);
	hook_listener_remove(&listener);
	if (created)
		delete_container(rt, c->id);
	if (pid_file_new)
		unlink(c->pid_file);
	if (dir != NULL)
		rt_sockets_remove(rt, "create", c->id);
	if (original != NULL)
		rt_bundle_restore(bundle_abs, c->id, original, original_len);
	ebcc_instance_delete(inst, EBCC_DELETE_FORCE);
out:
	free(original);
	free(dir);
	ebcc_instance_unref(inst);
	free(bundle_abs);
	return code;
}

int rt_container_remove(struct rt *rt, struct ebcc_instance *inst, const char *verb,
			const char *id)
{
	int status = ebcc_instance_status(inst), r;

	/* Its container is gone, so a composite still "running" has lost its anchor's exit
	 * to a race; kill it the hard way so that its stages are unloaded. */
	if (status == EBCC_STATUS_CREATED || status == EBCC_STATUS_RUNNING) {
		r = ebcc_instance_kill(inst, SIGKILL);
		if (r < 0 && r != EBCC_ERR_STATE)
			rt_log(EBCC_LOG_WARNING, "%s %s: kill: %s", verb, id,
			       ebcc_last_error_message());
	}
	r = ebcc_instance_delete(inst, EBCC_DELETE_FORCE);
	if (r < 0)
		return rt_fail(r, "%s %s: removing the composite", verb, id), -1;
	return rt_sockets_remove(rt, verb, id);
}
