/* SPDX-License-Identifier: MIT */
/*
 * poststop: the container has stopped. Stop its broker (and with it the socket), then kill
 * and delete the composite, so that nothing of libebcc's remains for this id. Runtimes also
 * run poststop after a failed createRuntime, whose hook has cleaned up already: finding
 * nothing is success. Each step runs even when an earlier one failed; the first failure is
 * the one reported. A socket directory the precreate hook made goes too: the record names it,
 * and so does the state's annotation where the engine passes it on (runc's own poststop).
 */
#include <stdlib.h>

#include "hook.h"

/* How long the broker gets to finish the connections it is serving. */
#define BROKER_STOP_GRACE_MS 10000

int hook_poststop(const struct hook_options *o, const struct hook_state *s)
{
	struct hook_record rec = { 0 };
	char *own_dir = NULL;
	int failed = 0, r;

	r = hook_record_read(o->run_dir, s->id, &rec);
	if (r < 0) {
		/* Unreadable: its broker, if any, leaves by itself now that the container's
		 * process has exited. Removing the record frees the id. */
		failed = 1;
		hook_error_hold();
		hook_record_remove(o->run_dir, s->id);
	} else if (r == 0) {
		if (rec.broker_pid > 0 &&
		    hook_proc_stop(rec.broker_pid, rec.broker_start, BROKER_STOP_GRACE_MS) < 0) {
			failed = 1;
			hook_error_hold();
		} else {
			/* A directory precreate made goes; a manifest's socketDir stays. */
			if (rec.socket_dir != NULL && hook_sockdir_owned(o, rec.socket_dir))
				hook_sockdir_remove(rec.socket_dir);
			else if (rec.socket_dir != NULL)
				hook_socket_unlink(rec.socket_dir);
			hook_record_remove(o->run_dir, s->id);
		}
	}
	if (hook_composite_remove(o->root, s->id) < 0 && !failed) {
		failed = 1;
		hook_error_hold();
	}
	/* After the broker: a socket that still answers keeps its directory. */
	if ((hook_sockdir_from_state(o, s, &own_dir) < 0 ||
	     (own_dir != NULL && hook_sockdir_remove(own_dir) < 0)) &&
	    !failed) {
		failed = 1;
		hook_error_hold();
	}
	free(own_dir);
	if (failed)
		hook_error_release();
	hook_record_clear(&rec);
	return failed ? -1 : 0;
}
