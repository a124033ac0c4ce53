/* SPDX-License-Identifier: MIT */
/*
 * The OCI lifecycle of a composite: start, kill, wait, delete, and reporting an anchor the
 * embedder runs. Each mutating operation holds the composite's lock, re-reads its state,
 * derives the status, and writes the new state atomically before unlocking, so that
 * operations from different processes serialize and a crash leaves the last complete state.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "ebcc-private.h"

#define GATE_TIMEOUT_MS 5000
#define GATE_ARRIVAL_MS 1000
#define TRASH_DIR "trash"

static const char *status_name(int status)
{
	static const char *const names[] = { "creating", "created", "running", "stopped" };

	return status >= 0 && status <= EBCC_STATUS_STOPPED ? names[status] : "unknown";
}

const char *ebcc__status_name(int status)
{
	return status_name(status);
}

static int64_t now_ms(void)
{
	return (int64_t)(ebcc__now_ns() / 1000000);
}

/* Waits (bounded) until the monitor has written the exit record and gone. */
void ebcc__monitor_wait(const struct ebcc_state *st, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	while (st->monitor_pid > 0 && ebcc__proc_alive(st->monitor_pid, st->monitor_start) &&
	       now_ms() < deadline)
		usleep(5000);
}

/* Locks the composite and reads its state and status for a mutating operation. */
static int begin(struct ebcc_instance *inst, int *ret_lock, struct ebcc_state **ret_st,
		 int *ret_status)
{
	int r = ebcc__instance_lock(inst, LOCK_EX, ret_lock);

	if (r < 0)
		return r;
	r = ebcc__instance_read_state(inst, ret_st);
	if (r == 0)
		r = ebcc__status_derive(inst, *ret_st, NULL);
	if (r < 0) {
		/* The state may have been read when the status could not be derived. */
		ebcc__state_free(*ret_st);
		*ret_st = NULL;
		ebcc__instance_unlock(*ret_lock);
		*ret_lock = -1;
		return r;
	}
	*ret_status = r;
	return 0;
}

static int wrong_status(struct ebcc_instance *inst, const char *op, int status,
			const char *allowed)
{
	return ebcc__error(EBCC_ERR_STATE, "cannot %s composite %s: it is %s, not %s", op, inst->id,
			   status_name(status), allowed);
}

static int backend_session(struct ebcc_instance *inst, const struct ebcc_state *st,
			   struct ebcc_backend_session *s)
{
	const struct ebcc_backend *b;
	int r = ebcc__backend_find(inst->ctx, st->backend, &b);

	return r < 0 ? r : ebcc__backend_session_open(s, inst->ctx, b, inst->root_fd);
}

/* Unloads every recorded stage (best effort) and forgets this process's handles on them. */
static void unload_stages(struct ebcc_instance *inst, struct ebcc_state *st)
{
	struct ebcc_backend_session s;
	bool any = false;

	/* Instance stages that are not recorded count too: one may be left by a load that
	 * died before it recorded it (ebcc__stage_unload_recorded() reclaims it). */
	for (size_t i = 0; i < st->n_stages; i++)
		any = any || st->stages[i].loaded || st->stages[i].lifetime == EBCC_LIFETIME_INSTANCE;
	ebcc__instance_release_stages(inst);
	if (!any)
		return;
	if (backend_session(inst, st, &s) < 0) {
		ebcc__log_warning(inst->ctx, "composite %s: cannot unload stages: %s", inst->id,
				  ebcc_last_error_message());
		return;
	}
	for (size_t i = 0; i < st->n_stages; i++)
		ebcc__stage_unload_recorded(inst, &s, &st->stages[i]);
	ebcc__backend_session_close(&s);
}

static int load_stages(struct ebcc_instance *inst, struct ebcc_state *st)
{
	struct ebcc_backend_session s;
	int r = backend_session(inst, st, &s);

	if (r < 0)
		return r;
	for (size_t i = 0; i < st->n_stages && r == 0; i++) {
		struct ebcc_stage_decl *decl = &st->stages[i];
		struct ebcc_loaded_stage l;

		if (decl->lifetime != EBCC_LIFETIME_INSTANCE)
			continue;
		r = ebcc__stage_load(inst, st, &s, decl, &l);
		if (r < 0)
			break;
		ebcc__test_point("start:stage-spawned");
		/* Serialized backends share one handle per instance handle: the load's is the
		 * first invocation's (attaching again would cost it a reference parse). */
		if (s.backend->ops.flags & EBCC_BACKEND_CONCURRENT_INVOKE)
			ebcc__stage_close(&s, l.handle);
		else
			ebcc__stage_handle_keep(inst, s.backend, decl->name, l.eid, l.handle);
		decl->loaded = true;
		decl->eid = l.eid;
		decl->ref = EBCC_TAKE_PTR(l.ref);
		decl->isolation_json = EBCC_TAKE_PTR(l.isolation_json);
		ebcc__loaded_stage_clear(&l);
		ebcc__invocation_files_prepare(inst, decl->name);
		/* Recorded at once, so that a crash never leaves a running stage unknown. */
		r = ebcc__instance_write_state(inst, st);
		ebcc__test_point("start:stage-loaded");
	}
	ebcc__backend_session_close(&s);
	return r;
}

EBCC_EXPORT int ebcc_instance_start(struct ebcc_instance *inst)
{
	struct ebcc_state *st = NULL;
	int lock = -1, status, r;

	if (inst == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_instance_start: inst is NULL");
	r = begin(inst, &lock, &st, &status);
	if (r < 0)
		return r;
	if (status != EBCC_STATUS_CREATED) {
		r = wrong_status(inst, "start", status, "created");
		goto out;
	}
	/* Stages left loaded by a start that crashed are replaced, not trusted. */
	unload_stages(inst, st);
	ebcc__test_point("start:stages-unloaded");
	r = load_stages(inst, st);
	if (r == 0 && st->anchor_mode == EBCC_ANCHOR_MODE_SPAWNED)
		r = ebcc__anchor_release(inst->dir_fd, st->anchor_pid, st->anchor_start,
					 GATE_TIMEOUT_MS);
	if (r < 0) {
		char saved[EBCC_ERROR_MESSAGE_MAX];

		ebcc__error_save(saved);
		unload_stages(inst, st);
		ebcc__instance_write_state(inst, st);
		ebcc__error_restore(saved);
		goto out;
	}
	ebcc__test_point("start:anchor-released");
	st->phase = EBCC_PHASE_RUNNING;
	r = ebcc__instance_write_state(inst, st);
	if (r == 0) {
		ebcc__instance_keep_state(inst, st);
		ebcc__test_point("start:state-running");
		ebcc__log_info(inst->ctx, "composite %s started", inst->id);
	}
out:
	ebcc__state_free(st);
	ebcc__instance_unlock(lock);
	return r;
}

EBCC_EXPORT int ebcc_instance_kill(struct ebcc_instance *inst, int signo)
{
	struct ebcc_state *st = NULL;
	int lock = -1, status, r;

	if (inst == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_instance_kill: inst is NULL");
	if (signo < 1 || signo > 64)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "signal %d is not in 1..64", signo);
	r = begin(inst, &lock, &st, &status);
	if (r < 0)
		return r;
	if (status != EBCC_STATUS_CREATED && status != EBCC_STATUS_RUNNING) {
		r = wrong_status(inst, "kill", status, "created or running");
		goto out;
	}
	unload_stages(inst, st);
	ebcc__test_point("kill:stages-unloaded");
	st->kill_signal = signo;
	r = ebcc__instance_write_state(inst, st);
	if (r < 0)
		goto out;
	ebcc__test_point("kill:state-written");
	if (st->anchor_pid > 0) {
		r = ebcc__proc_signal(st->anchor_pid, st->anchor_start, signo);
		if (r == -ESRCH)
			r = 0; /* it exited meanwhile: stopped either way */
		else if (r < 0)
			r = ebcc__error_errno(ebcc__error_from_errno(-r), -r,
					      "composite %s: signal %d to anchor pid %d", inst->id,
					      signo, (int)st->anchor_pid);
	} else {
		/* No process to signal: the composite stops as if its anchor got the signal. */
		r = ebcc__exit_record_write(inst->dir_fd, signo, ebcc__instance_durable(inst));
	}
	if (r == 0) {
		ebcc__test_point("kill:signalled");
		ebcc__log_info(inst->ctx, "composite %s killed with signal %d", inst->id, signo);
	}
out:
	ebcc__state_free(st);
	ebcc__instance_unlock(lock);
	return r;
}

EBCC_EXPORT int ebcc_instance_set_pid(struct ebcc_instance *inst, int pid)
{
	struct ebcc_state *st = NULL;
	uint64_t start;
	int lock = -1, status, r;

	if (inst == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_instance_set_pid: inst is NULL");
	if (pid <= 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "pid %d is not a process id", pid);
	r = begin(inst, &lock, &st, &status);
	if (r < 0)
		return r;
	if (status != EBCC_STATUS_CREATED && status != EBCC_STATUS_RUNNING) {
		r = wrong_status(inst, "set the anchor of", status, "created or running");
		goto out;
	}
	if (st->anchor_pid > 0) {
		r = ebcc__error(EBCC_ERR_STATE, "composite %s already has an anchor (pid %d)",
				inst->id, (int)st->anchor_pid);
		goto out;
	}
	if (ebcc__proc_start_time(pid, &start) < 0 || !ebcc__proc_alive(pid, start)) {
		r = ebcc__error(EBCC_ERR_NOT_FOUND, "no running process with pid %d", pid);
		goto out;
	}
	st->anchor_mode = EBCC_ANCHOR_MODE_EXTERNAL;
	st->anchor_pid = pid;
	st->anchor_start = start;
	r = ebcc__instance_write_state(inst, st);
out:
	ebcc__state_free(st);
	ebcc__instance_unlock(lock);
	return r;
}

/* An inotify watch on the instance directory: wakes a waiter when a composite without a
 * process to watch changes state. Closing one costs the kernel a grace period (~15 ms here),
 * so it is made only for such composites. */
static int watch_dir(struct ebcc_instance *inst)
{
	char path[64];
	int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);

	if (fd < 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", inst->dir_fd);
	if (inotify_add_watch(fd, path, IN_MOVED_TO | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF) <
	    0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The process whose exit a waiter awaits: the monitor, which records the exit status and then
 * exits, or an embedder's anchor. -1 when there is none alive. */
static int exit_pidfd(const struct ebcc_state *st)
{
	if (st->anchor_mode == EBCC_ANCHOR_MODE_SPAWNED)
		return ebcc__proc_pidfd(st->monitor_pid, st->monitor_start);
	return ebcc__proc_pidfd(st->anchor_pid, st->anchor_start);
}

EBCC_EXPORT int ebcc_instance_wait(struct ebcc_instance *inst, int timeout_ms,
				   int *ret_exit_status)
{
	int64_t deadline;
	int watch = -1, r;

	if (inst == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_instance_wait: inst is NULL");
	deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : INT64_MAX;
	for (;;) {
		struct ebcc_state *st = NULL;
		int exit_status = -1, status, pidfd = -1;
		bool final = false;
		int64_t left;

		r = ebcc__instance_check(inst);
		if (r == 0)
			r = ebcc__instance_peek_state(inst, &st);
		if (r < 0)
			break;
		status = ebcc__status_derive(inst, st, &exit_status);
		if (status == EBCC_STATUS_STOPPED) {
			/* A spawned anchor's status comes from its monitor, moments after it died. */
			final = exit_status != -1 || st->anchor_mode != EBCC_ANCHOR_MODE_SPAWNED ||
				!ebcc__proc_alive(st->monitor_pid, st->monitor_start);
			/* A monitor found gone may have written the record since it was read. */
			if (final && exit_status == -1 && st->anchor_mode == EBCC_ANCHOR_MODE_SPAWNED)
				ebcc__exit_record_read(inst->dir_fd, &exit_status);
		}
		if (status >= 0 && !final && st != NULL) /* no state yet while "creating" */
			pidfd = exit_pidfd(st);
		ebcc__state_free(st);
		if (status < 0) {
			r = status;
			break;
		}
		if (final) {
			if (ret_exit_status != NULL)
				*ret_exit_status = exit_status;
			r = 0;
			break;
		}
		left = deadline - now_ms();
		if (left <= 0) {
			if (pidfd >= 0)
				close(pidfd);
			r = ebcc__error(EBCC_ERR_TIMEOUT,
					"composite %s is still %s after %d ms", inst->id,
					status_name(status), timeout_ms);
			break;
		}
		/* Woken by the process's exit, or by a change in the directory when there is no
		 * process; either way the state is read again, at least every 100 ms (a delete or a
		 * kill from elsewhere). */
		if (pidfd < 0 && watch < 0)
			watch = watch_dir(inst);
		{
			struct pollfd p = { .fd = pidfd >= 0 ? pidfd : watch, .events = POLLIN };
			char buf[4096];

			if (p.fd < 0)
				usleep(10000);
			else if (poll(&p, 1, left < 100 ? (int)left : 100) > 0 && p.fd == watch)
				while (read(watch, buf, sizeof(buf)) > 0)
					;
		}
		if (pidfd >= 0)
			close(pidfd);
	}
	if (watch >= 0)
		close(watch);
	return r;
}

/* Moves the composite's directory out of sight at once, then removes it at leisure. */
static int remove_instance_dir(struct ebcc_instance *inst)
{
	char name[NAME_MAX + 1], suffix[17];
	_cleanup_close_ int trash = -1;
	int r;

	r = ebcc__private_dir_open(inst->root_fd, TRASH_DIR, true, &trash);
	if (r == 0)
		r = ebcc__random_hex(suffix, 8);
	if (r < 0)
		return r;
	snprintf(name, sizeof(name), "%.200s.%s", inst->dir_name, suffix);
	if (renameat(inst->root_fd, inst->dir_name, trash, name) < 0)
		return ebcc__error_errno(ebcc__error_from_errno(errno), errno,
					 "composite %s: move to trash", inst->id);
	__atomic_store_n(&inst->deleted, true, __ATOMIC_RELEASE);
	ebcc__test_point("delete:moved-to-trash");
	r = ebcc__remove_tree_at(trash, name);
	if (r == 0)
		ebcc__test_point("delete:removed");
	if (r < 0)
		ebcc__log_warning(inst->ctx, "composite %s: removing %s/%s/%s: %s", inst->id,
				  EBCC_PRIVATE_DIR, TRASH_DIR, name, strerror(-r));
	return 0;
}

void ebcc__trash_sweep(int root_fd)
{
	_cleanup_close_ int trash = -1;
	char path[64];

	if (ebcc__private_dir_open(root_fd, TRASH_DIR, false, &trash) < 0)
		return;
	snprintf(path, sizeof(path), "%s/%s", EBCC_PRIVATE_DIR, TRASH_DIR);
	/* Entries of interrupted deletions; a concurrent deleter removing the same entry is
	 * harmless, both ignore what is already gone. */
	ebcc__remove_tree_at(root_fd, path);
}

EBCC_EXPORT int ebcc_instance_delete(struct ebcc_instance *inst, uint32_t flags)
{
	struct ebcc_state *st = NULL;
	bool force = flags & EBCC_DELETE_FORCE;
	int lock = -1, status, r;

	if (inst == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_instance_delete: inst is NULL");
	if (flags & ~EBCC_DELETE_FORCE)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "unknown delete flags 0x%x", flags);
	r = ebcc__instance_lock(inst, LOCK_EX, &lock);
	if (r < 0)
		return r;
	r = ebcc__instance_read_state_for_delete(inst, &st);
	status = r < 0 ? r : ebcc__status_derive(inst, st, NULL);
	if (r < 0 && force) {
		/* Without its state nobody knows which processes the composite runs: removing it
		 * would report success while they live on. */
		r = ebcc__error_prefix(r, "composite %s: not deleted: without its state its "
					  "processes cannot be found; stop them and remove %s/%s by hand",
				       inst->id, inst->root_path,
				       inst->dir_name);
		goto out;
	}
	if (!force) {
		if (status < 0) {
			r = status;
			goto out;
		}
		if (status != EBCC_STATUS_STOPPED) {
			r = wrong_status(inst, "delete", status,
					 "stopped (use EBCC_DELETE_FORCE to kill it first)");
			goto out;
		}
	}
	/* Even a half-created composite can be removed by force. */
	if (st != NULL) {
		unload_stages(inst, st);
		ebcc__test_point("delete:stages-unloaded");
		if (st->anchor_pid > 0)
			ebcc__proc_signal(st->anchor_pid, st->anchor_start, SIGKILL);
		ebcc__monitor_wait(st, 2000);
	}
	/* An interrupted create may have left an anchor the state does not name yet, on its way
	 * to the gate: it gets a moment to arrive and be told to end. */
	ebcc__anchor_stop_at_gate(inst->dir_fd, st == NULL || st->anchor_pid == 0
							? GATE_ARRIVAL_MS
							: 0);
	ebcc__test_point("delete:stopped");
	r = remove_instance_dir(inst);
	if (r == 0)
		ebcc__log_info(inst->ctx, "composite %s deleted", inst->id);
out:
	ebcc__state_free(st);
	ebcc__instance_unlock(lock);
	return r;
}
