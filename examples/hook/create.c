/* SPDX-License-Identifier: MIT */
/*
 * createRuntime: the container exists (its process waits to be started) and its mounts are in
 * place, including the bind mount of the socket directory. Make it a composite with its stages
 * loaded, and start the broker that serves them on the socket: in the directory the precreate
 * hook made for this container (annotation org.ebcc.socketDir), else in the manifest's
 * tools.ociHook.socketDir. Either all of it is in place
 * when the hook exits 0, or none of it: the runtime then aborts the container, as the OCI
 * specification says for a failed createRuntime hook.
 */
#include <stdlib.h>

#include "hook.h"

/* How long the broker gets to finish its connections when a later step fails. */
#define BROKER_STOP_GRACE_MS 5000

int hook_create_runtime(const struct hook_options *o, const struct hook_state *s)
{
	struct hook_config conf = { 0 };
	char *own_dir = NULL;
	struct hook_listener listener = { .fd = -1, .dir_fd = -1 };
	struct hook_record rec = { 0 };
	struct hook_broker_params params;
	uint64_t anchor_start;
	int claimed = 0, composite = 0, r = -1;

	/* The precreate stage's directory makes the manifest's tools.ociHook unneeded. */
	r = hook_sockdir_from_state(o, s, &own_dir);
	if (r == 0)
		r = hook_config_read(s, &conf);
	if (r < 0)
		return -1;
	r = -1;
	if (own_dir != NULL)
		conf.socket_dir = own_dir;
	if (hook_record_claim(o->run_dir, s->id) < 0)
		goto out;
	claimed = 1;
	/* The socket first: a bad socket directory fails before any stage is loaded. */
	if (hook_listener_open(conf.socket_dir, &listener) < 0)
		goto out;
	if (hook_composite_create(o, s) < 0)
		goto out;
	composite = 1;
	if (hook_proc_start_time(s->pid, &anchor_start) < 0) {
		hook_error("container %s: its process %d has exited", s->id, s->pid);
		goto out;
	}
	params = (struct hook_broker_params){
		.root = o->root,
		.id = s->id,
		.anchor_pid = s->pid,
		.anchor_start = anchor_start,
		.listener = &listener,
	};
	if (hook_broker_spawn(&params, &rec.broker_pid, &rec.broker_start) < 0)
		goto out;
	rec.socket_dir = conf.socket_dir;
	if (hook_record_write(o->run_dir, s->id, &rec) < 0)
		goto out;
	/* The broker holds its own copies now. */
	hook_listener_close(&listener);
	r = 0;
out:
	if (r < 0) {
		hook_error_hold();
		if (rec.broker_pid > 0)
			hook_proc_stop(rec.broker_pid, rec.broker_start, BROKER_STOP_GRACE_MS);
		hook_listener_remove(&listener);
		if (composite)
			hook_composite_remove(o->root, s->id);
		if (claimed)
			hook_record_remove(o->run_dir, s->id);
		if (own_dir != NULL)
			hook_sockdir_remove(own_dir);
		hook_error_release();
	}
	hook_config_clear(&conf);
	return r;
}
