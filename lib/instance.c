/* SPDX-License-Identifier: MIT */
/*
 * Composite handles: opening a composite's directory, its lock, reading and writing its state,
 * and deriving its status. Creation is in create.c, the lifecycle operations in lifecycle.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/syscall.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "ebcc-private.h"

#define STATE_NAME "state.json"
#define LOCK_NAME "lock"
/* state.json: every write is checked against STATE_MAX, so every read succeeds. A created
 * composite leaves STATE_LOADED_RESERVE per instance-lifetime stage for what start records
 * (eid, reference, isolation, each bounded in stageload.c) and STATE_BASE_RESERVE for the
 * anchor's pids. A forced delete reads up to
 * STATE_FORCE_MAX, to find the processes of a state written by something else. */
#define STATE_MAX (UINT64_C(1) << 20)
#define STATE_LOADED_RESERVE (UINT64_C(32) << 10)
#define STATE_BASE_RESERVE (UINT64_C(4) << 10)
#define STATE_FORCE_MAX (UINT64_C(64) << 20)
/* Ids longer than this are stored under a hashed directory name ("@<sha256>"): a directory
 * name is at most NAME_MAX bytes, an id up to EBCC_ID_MAX. */
#define ID_DIRECT_MAX 200

int ebcc__instance_check_id(const char *id)
{
	if (!ebcc__instance_id_valid(id)) {
		size_t len = strnlen(id, EBCC_ID_MAX + 1);

		if (len > EBCC_ID_MAX)
			return ebcc__error(EBCC_ERR_INVALID_ARG,
					   "instance id is longer than %d bytes", EBCC_ID_MAX);
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "instance id \"%.64s%s\" is not 1 to %d characters of "
				   "[A-Za-z0-9_.+-] (and not \".\" or \"..\")",
				   id, len > 64 ? "..." : "", EBCC_ID_MAX);
	}
	if (strcmp(id, EBCC_PRIVATE_DIR) == 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "instance id \"%s\" is reserved for the library's own data",
				   EBCC_PRIVATE_DIR);
	return 0;
}

void ebcc__instance_dir_name(const char *id, char out[NAME_MAX + 1])
{
	uint8_t digest[EBCC_SHA256_SIZE];

	if (strlen(id) <= ID_DIRECT_MAX) {
		snprintf(out, NAME_MAX + 1, "%s", id);
		return;
	}
	/* '@' is not an id character, so a hashed name never equals a real id. */
	ebcc__sha256(id, strlen(id), digest);
	out[0] = '@';
	ebcc__hex_encode(digest, sizeof(digest), out + 1);
}

struct ebcc_instance *ebcc__instance_new(struct ebcc_context *ctx, const char *id, int root_fd,
					char *root_path, int dir_fd)
{
	struct ebcc_instance *inst = calloc(1, sizeof(*inst));

	if (inst == NULL || (inst->id = strdup(id)) == NULL) {
		free(inst);
		ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
		return NULL;
	}
	inst->root_path = root_path;
	inst->refcount = 1;
	inst->anchor_pidfd = -1;
	inst->ctx = ebcc_context_ref(ctx);
	inst->root_fd = root_fd;
	inst->dir_fd = dir_fd;
	ebcc__instance_dir_name(id, inst->dir_name);
	pthread_mutex_init(&inst->lock, NULL);
	return inst;
}

EBCC_EXPORT struct ebcc_instance *ebcc_instance_ref(struct ebcc_instance *inst)
{
	if (inst != NULL)
		__atomic_add_fetch(&inst->refcount, 1, __ATOMIC_RELAXED);
	return inst;
}

EBCC_EXPORT struct ebcc_instance *ebcc_instance_unref(struct ebcc_instance *inst)
{
	if (inst == NULL || __atomic_sub_fetch(&inst->refcount, 1, __ATOMIC_ACQ_REL) > 0)
		return NULL;
	ebcc__instance_release_stages(inst);
	ebcc__state_free(inst->snapshot);
	if (inst->anchor_pidfd >= 0)
		close(inst->anchor_pidfd);
	if (inst->dir_fd >= 0)
		close(inst->dir_fd);
	if (inst->root_fd >= 0)
		close(inst->root_fd);
	pthread_mutex_destroy(&inst->lock);
	ebcc_context_unref(inst->ctx);
	free(inst->root_path);
	free(inst->id);
	free(inst);
	return NULL;
}

/* NOT_FOUND once the composite was deleted, here or by another process. */
int ebcc__instance_check(struct ebcc_instance *inst)
{
	struct stat here, there;

	if (__atomic_load_n(&inst->deleted, __ATOMIC_ACQUIRE))
		return ebcc__error(EBCC_ERR_NOT_FOUND, "composite %s was deleted", inst->id);
	if (fstat(inst->dir_fd, &here) < 0 ||
	    fstatat(inst->root_fd, inst->dir_name, &there, AT_SYMLINK_NOFOLLOW) < 0 ||
	    here.st_dev != there.st_dev || here.st_ino != there.st_ino)
		return ebcc__error(EBCC_ERR_NOT_FOUND, "composite %s was deleted", inst->id);
	return 0;
}

int ebcc__instance_lock(struct ebcc_instance *inst, int operation, int *ret_fd)
{
	int fd, r;

	r = ebcc__instance_check(inst);
	if (r < 0)
		return r;
	fd = openat(inst->dir_fd, LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 && errno == ELOOP)
		return ebcc__error(EBCC_ERR_PERMISSION,
				   "composite %s: %s/" LOCK_NAME " is a symbolic link, which is not "
				   "followed",
				   inst->id, inst->dir_name);
	if (fd < 0)
		return ebcc__error_errno(ebcc__error_from_errno(errno),
					 errno, "composite %s: open lock", inst->id);
	while (flock(fd, operation) < 0) {
		if (errno != EINTR) {
			r = ebcc__error_errno(EBCC_ERR_IO, errno, "composite %s: flock", inst->id);
			close(fd);
			return r;
		}
	}
	/* It may have been deleted while we waited for the lock. */
	r = ebcc__instance_check(inst);
	if (r < 0) {
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

void ebcc__instance_unlock(int lock_fd)
{
	if (lock_fd >= 0)
		close(lock_fd); /* releases the flock */
}

bool ebcc__instance_durable(struct ebcc_instance *inst)
{
	bool durable;

	pthread_mutex_lock(&inst->ctx->lock);
	durable = inst->ctx->opts.durability == EBCC_DURABILITY_FSYNC;
	pthread_mutex_unlock(&inst->ctx->lock);
	return durable;
}

static int read_state(struct ebcc_instance *inst, size_t max, struct ebcc_state **ret)
{
	_cleanup_free_ char *text = NULL;
	char display[NAME_MAX + 32];
	size_t len;
	int r;

	snprintf(display, sizeof(display), "%s/" STATE_NAME, inst->dir_name);
	r = ebcc__file_read_at(inst->dir_fd, STATE_NAME, display, max, &text, &len);
	if (r == EBCC_ERR_NOT_FOUND) {
		*ret = NULL; /* creation was interrupted before the first state was written */
		return 0;
	}
	if (r < 0)
		return r;
	r = ebcc__state_parse(text, len, display, ret);
	if (r == 0 && strcmp((*ret)->id, inst->id) != 0) {
		r = ebcc__error(EBCC_ERR_CORRUPT, "%s belongs to id \"%.64s\", not \"%.64s\"",
				display, (*ret)->id, inst->id);
		ebcc__state_free(*ret);
		*ret = NULL;
	}
	return r;
}

int ebcc__instance_read_state(struct ebcc_instance *inst, struct ebcc_state **ret)
{
	return read_state(inst, STATE_MAX, ret);
}

int ebcc__instance_read_state_for_delete(struct ebcc_instance *inst, struct ebcc_state **ret)
{
	int r = read_state(inst, STATE_MAX, ret);

	if (r == EBCC_ERR_TOO_BIG)
		r = read_state(inst, STATE_FORCE_MAX, ret);
	return r;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec &&
	       a->st_ctim.tv_sec == b->st_ctim.tv_sec && a->st_ctim.tv_nsec == b->st_ctim.tv_nsec;
}

int ebcc__instance_peek_state(struct ebcc_instance *inst, struct ebcc_state **ret)
{
	struct ebcc_state *st = NULL;
	struct stat before, after;
	bool have_before;
	int r;

	/* state.json is only ever replaced by rename: an unchanged file is an unchanged state. */
	have_before = fstatat(inst->dir_fd, STATE_NAME, &before, AT_SYMLINK_NOFOLLOW) == 0 &&
		      S_ISREG(before.st_mode);
	if (have_before) {
		pthread_mutex_lock(&inst->lock);
		if (inst->snapshot != NULL && same_file(&before, &inst->snapshot_stat)) {
			st = inst->snapshot;
			__atomic_add_fetch(&st->refcount, 1, __ATOMIC_RELAXED);
		}
		pthread_mutex_unlock(&inst->lock);
		if (st != NULL) {
			*ret = st;
			return 0;
		}
	}
	r = ebcc__instance_read_state(inst, &st);
	if (r < 0 || st == NULL) {
		*ret = st;
		return r;
	}
	/* Kept only if the file did not change while it was read. */
	if (have_before && fstatat(inst->dir_fd, STATE_NAME, &after, AT_SYMLINK_NOFOLLOW) == 0 &&
	    same_file(&before, &after)) {
		pthread_mutex_lock(&inst->lock);
		ebcc__state_free(inst->snapshot);
		inst->snapshot = st;
		inst->snapshot_stat = before;
		__atomic_add_fetch(&st->refcount, 1, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&inst->lock);
	}
	*ret = st;
	return 0;
}

void ebcc__instance_keep_state(struct ebcc_instance *inst, struct ebcc_state *st)
{
	struct stat now;

	/* Under the lock nobody else replaces the file: what is there is what st says. */
	if (fstatat(inst->dir_fd, STATE_NAME, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(now.st_mode))
		return;
	__atomic_add_fetch(&st->refcount, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&inst->lock);
	ebcc__state_free(inst->snapshot);
	inst->snapshot = st;
	inst->snapshot_stat = now;
	pthread_mutex_unlock(&inst->lock);
}

static size_t instance_stages(const struct ebcc_state *st)
{
	size_t n = 0;

	for (size_t i = 0; i < st->n_stages; i++)
		n += st->stages[i].lifetime == EBCC_LIFETIME_INSTANCE;
	return n;
}

/* The largest state.json create may write: what later operations add has room below
 * STATE_MAX (the anchor's pids, and what start records of each instance-lifetime stage). */
static uint64_t state_limit(const struct ebcc_state *st)
{
	uint64_t reserve = STATE_BASE_RESERVE + STATE_LOADED_RESERVE * instance_stages(st);

	if (st->phase != EBCC_PHASE_CREATING)
		return STATE_MAX;
	return reserve < STATE_MAX / 2 ? STATE_MAX - reserve : STATE_MAX / 2;
}

static int state_too_big(const struct ebcc_state *st, const char *display, size_t len,
			 uint64_t limit)
{
	_cleanup_free_ char *annotations = NULL;

	if (st->annotations != NULL &&
	    ebcc__json_to_string(st->annotations, JSON_C_TO_STRING_PLAIN, &annotations) < 0)
		annotations = NULL;
	return ebcc__error(EBCC_ERR_TOO_BIG,
			   "%s would be %zu bytes, above its limit of %" PRIu64 " bytes (%s); "
			   "the annotations take %zu bytes, the %zu stages most of the rest",
			   display, len, limit,
			   st->phase == EBCC_PHASE_CREATING
				   ? "at create, 1 MiB less room for what start records"
				   : "the largest state the library reads back",
			   annotations != NULL ? strlen(annotations) : 0, st->n_stages);
}

int ebcc__instance_write_state(struct ebcc_instance *inst, const struct ebcc_state *st)
{
	_cleanup_free_ char *text = NULL;
	char display[NAME_MAX + 32];
	uint64_t limit = state_limit(st);
	size_t len;
	int r;

	r = ebcc__state_to_json(st, &text);
	if (r < 0)
		return r;
	len = strlen(text);
	snprintf(display, sizeof(display), "%s/" STATE_NAME, inst->dir_name);
	if (len > limit)
		return state_too_big(st, display, len, limit);
	return ebcc__file_write_atomic(inst->dir_fd, STATE_NAME, text, len, 0600,
				       ebcc__instance_durable(inst), display);
}

/*
 * Whether the anchor still runs. The handle keeps a pidfd on it, opened once and checked
 * against the recorded start time: afterwards a poll() answers (readable once it has exited),
 * not a read of /proc. Without pidfds (old kernels, valgrind), /proc every time.
 */
static bool anchor_alive(struct ebcc_instance *inst, pid_t pid, uint64_t start)
{
	struct pollfd p = { .fd = -1, .events = POLLIN };

	pthread_mutex_lock(&inst->lock);
	if (inst->anchor_pidfd >= 0 && (inst->anchor_pid != pid || inst->anchor_start != start)) {
		close(inst->anchor_pidfd);
		inst->anchor_pidfd = -1;
	}
	if (inst->anchor_pidfd < 0) {
		int fd = (int)syscall(SYS_pidfd_open, pid, 0);

		/* The start time is read after the pidfd pins the process, so it is its own. */
		if (fd >= 0 && ebcc__proc_alive(pid, start)) {
			inst->anchor_pidfd = fd;
			inst->anchor_pid = pid;
			inst->anchor_start = start;
		} else if (fd >= 0) {
			close(fd);
			pthread_mutex_unlock(&inst->lock);
			return false;
		}
	}
	p.fd = inst->anchor_pidfd;
	/* A poll() with no timeout never blocks: fine under the lock. */
	while (p.fd >= 0 && poll(&p, 1, 0) < 0 && errno == EINTR)
		;
	pthread_mutex_unlock(&inst->lock);
	if (p.fd < 0)
		return ebcc__proc_alive(pid, start);
	return !(p.revents & POLLIN);
}

int ebcc__status_derive(struct ebcc_instance *inst, const struct ebcc_state *st,
			int *ret_exit_status)
{
	int dir_fd = inst->dir_fd;
	int exit_status = -1, r;
	bool alive;

	if (ret_exit_status != NULL)
		*ret_exit_status = -1;
	if (st == NULL || st->phase == EBCC_PHASE_CREATING)
		return EBCC_STATUS_CREATING;
	r = ebcc__exit_record_read(dir_fd, &exit_status);
	if (r == 0) {
		if (ret_exit_status != NULL)
			*ret_exit_status = exit_status;
		return EBCC_STATUS_STOPPED;
	}
	if (r != EBCC_ERR_NOT_FOUND)
		return r;
	if (st->anchor_pid > 0)
		alive = anchor_alive(inst, st->anchor_pid, st->anchor_start);
	else
		alive = st->kill_signal == 0; /* no anchor: running until killed */
	if (!alive)
		return EBCC_STATUS_STOPPED;
	/* Like runc's exec FIFO: a spawned anchor whose gate is gone was started, even if the
	 * start that opened it died before it could say so. */
	if (st->phase == EBCC_PHASE_CREATED && st->anchor_mode == EBCC_ANCHOR_MODE_SPAWNED &&
	    !ebcc__anchor_gate_exists(dir_fd))
		return EBCC_STATUS_RUNNING;
	return st->phase == EBCC_PHASE_RUNNING ? EBCC_STATUS_RUNNING : EBCC_STATUS_CREATED;
}

EBCC_EXPORT int ebcc_instance_open(struct ebcc_context *ctx, const char *id,
				   struct ebcc_instance **ret_inst)
{
	struct ebcc_instance *inst;
	char dir_name[NAME_MAX + 1];
	char *root_path = NULL;
	int root_fd = -1, dir_fd = -1, r;

	if (ctx == NULL || id == NULL || ret_inst == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_instance_open: %s is NULL",
				   ctx == NULL ? "ctx" : id == NULL ? "id" : "ret_inst");
	r = ebcc__instance_check_id(id);
	if (r < 0)
		return r;
	r = ebcc__state_root_open(ctx, false, &root_fd, &root_path);
	if (r == EBCC_ERR_NOT_FOUND)
		return ebcc__error(EBCC_ERR_NOT_FOUND, "composite %s does not exist", id);
	if (r < 0)
		return r;
	ebcc__instance_dir_name(id, dir_name);
	r = ebcc__open_dir_at(root_fd, dir_name, dir_name, &dir_fd);
	if (r < 0) {
		close(root_fd);
		free(root_path);
		if (r == EBCC_ERR_NOT_FOUND)
			return ebcc__error(EBCC_ERR_NOT_FOUND, "composite %s does not exist", id);
		return r;
	}
	inst = ebcc__instance_new(ctx, id, root_fd, root_path, dir_fd);
	if (inst == NULL) {
		close(root_fd);
		close(dir_fd);
		free(root_path);
		return EBCC_ERR_NO_MEMORY;
	}
	*ret_inst = inst;
	return 0;
}

EBCC_EXPORT int ebcc_instance_status(struct ebcc_instance *inst)
{
	struct ebcc_state *st = NULL;
	int r;

	if (inst == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_instance_status: inst is NULL");
	r = ebcc__instance_check(inst);
	if (r < 0)
		return r;
	r = ebcc__instance_peek_state(inst, &st);
	if (r < 0)
		return r;
	r = ebcc__status_derive(inst, st, NULL);
	ebcc__state_free(st);
	return r;
}
