/* SPDX-License-Identifier: MIT */
/*
 * The composite of a container, through the public libebcc API: created from the bundle with
 * the container's own process as the anchor (anchor=external: the runtime runs it), and
 * removed at poststop. Starting it (loading the stages) is the broker's part: the stages'
 * processes belong with the process that serves them (broker.c).
 */
#include <signal.h>

#include "hook.h"

int hook_context_new(const char *root, struct ebcc_context **ret)
{
	struct ebcc_context *ctx = NULL;
	int r = ebcc_context_new(&ctx);

	if (r < 0)
		return hook_error_lib(r, "libebcc context");
	if (root != NULL && (r = ebcc_context_set_option(ctx, "state_root", root)) < 0) {
		hook_error_lib(r, "--root %s", root);
		ebcc_context_unref(ctx);
		return -1;
	}
	*ret = ctx;
	return 0;
}

int hook_instance_create_external(struct ebcc_context *ctx, const char *id, const char *bundle,
				  struct ebcc_instance **ret)
{
	struct ebcc_instance_options opts = EBCC_INSTANCE_OPTIONS_INIT;

	opts.anchor = EBCC_ANCHOR_EXTERNAL;
	return ebcc_instance_create_with(ctx, id, bundle, &opts, ret);
}

int hook_composite_create(const struct hook_options *o, const struct hook_state *s)
{
	struct ebcc_context *ctx = NULL;
	struct ebcc_instance *inst = NULL;
	int r;

	if (hook_context_new(o->root, &ctx) < 0)
		return -1;
	r = hook_instance_create_external(ctx, s->id, s->bundle, &inst);
	if (r < 0) {
		/* Nothing of the composite exists: the library left nothing behind. */
		hook_error_lib(r, "create composite %s from bundle %s", s->id, s->bundle);
		ebcc_context_unref(ctx);
		return -1;
	}
	r = ebcc_instance_set_pid(inst, s->pid);
	if (r < 0) {
		hook_error_lib(r, "composite %s: container process %d as its anchor", s->id, s->pid);
		ebcc_instance_delete(inst, EBCC_DELETE_FORCE);
	}
	ebcc_instance_unref(inst);
	ebcc_context_unref(ctx);
	return r < 0 ? -1 : 0;
}

int hook_composite_remove(const char *root, const char *id)
{
	struct ebcc_context *ctx = NULL;
	struct ebcc_instance *inst = NULL;
	int r, status;

	if (hook_context_new(root, &ctx) < 0)
		return -1;
	r = ebcc_instance_open(ctx, id, &inst);
	if (r == EBCC_ERR_NOT_FOUND) {
		/* Never created (a failed createRuntime cleaned up after itself), or gone. */
		ebcc_context_unref(ctx);
		return 0;
	}
	if (r < 0) {
		hook_error_lib(r, "open composite %s", id);
		ebcc_context_unref(ctx);
		return -1;
	}
	/* The container's process has exited by poststop; a composite still running (its
	 * anchor outlived the container somehow) is stopped the hard way. */
	status = ebcc_instance_status(inst);
	if (status == EBCC_STATUS_CREATED || status == EBCC_STATUS_RUNNING) {
		r = ebcc_instance_kill(inst, SIGKILL);
		if (r < 0 && r != EBCC_ERR_STATE)
			hook_error_lib(r, "kill composite %s", id);
	}
	r = ebcc_instance_delete(inst, EBCC_DELETE_FORCE);
	if (r < 0)
		hook_error_lib(r, "delete composite %s", id);
	ebcc_instance_unref(inst);
	ebcc_context_unref(ctx);
	return r < 0 ? -1 : 0;
}
