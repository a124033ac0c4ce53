/* SPDX-License-Identifier: MIT */
/*
 * A state root that runs out of space, and one that becomes read-only: a small tmpfs mounted in
 * a private mount namespace of this test (root only; skipped otherwise). Every operation that
 * cannot write fails cleanly, with the right code and a message that names the file; the state
 * still reads, nothing half-written is visible, no process is left behind, and once there is
 * room again (or the file system is writable) everything works as before.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <ebcc/ebcc.h>

#include "bundleutil.h"
#include "checkutil.h"

#define FS_SIZE "2m"

struct fx {
	char *mnt, *bundle, *root;
	char warm[16], fresh[16];
	const char *names[2];
	struct ours ours;
	struct ebcc_context *ctx;
	char *policy;
	char filler[4200];
};

static bool private_mounts_done;

/* A mount namespace of our own, so that the tmpfs goes away with us. */
static bool private_mounts(void)
{
	if (private_mounts_done)
		return true;
	if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0)
		return false;
	private_mounts_done = true;
	return true;
}

static int setup(void **state)
{
	struct fx *f;
	char stages[512];

	if (echo_stage_path() == NULL || !private_mounts())
		return -1;
	f = calloc(1, sizeof(*f));
	f->mnt = scratch_dir("statefs");
	if (mount("tmpfs", f->mnt, "tmpfs", 0, "size=" FS_SIZE ",mode=0700") < 0)
		fail_msg("mount tmpfs on %s: %s", f->mnt, strerror(errno));
	assert_true(asprintf(&f->root, "%s/root", f->mnt) > 0);
	snprintf(f->filler, sizeof(f->filler), "%s/filler", f->mnt);
	snprintf(f->warm, sizeof(f->warm), "fw%x", (unsigned)getpid());
	snprintf(f->fresh, sizeof(f->fresh), "ff%x", (unsigned)getpid());
	f->names[0] = f->warm;
	f->names[1] = f->fresh;
	f->ours = (struct ours){ .root = f->mnt, .names = f->names, .n_names = 2 };
	f->bundle = scratch_dir("statefs-bundle");
	snprintf(stages, sizeof(stages),
		 "[{\"name\": \"%s\", \"image\": \"stages/echo\"},"
		 " {\"name\": \"%s\", \"image\": \"stages/echo\", \"lifetime\": \"invocation\"}]",
		 f->warm, f->fresh);
	make_bundle(f->bundle, NULL, stages);
	f->ctx = context_at(f->root);
	f->policy = policy_for_sim(f->ctx);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ours_kill(&f->ours);
	ebcc_context_unref(f->ctx);
	free(f->policy);
	mount("tmpfs", f->mnt, "tmpfs", MS_REMOUNT, "size=" FS_SIZE);
	umount2(f->mnt, MNT_DETACH);
	scratch_remove(f->mnt);
	scratch_remove(f->bundle);
	free(f->root);
	free(f);
	return 0;
}

#define assert_contains(haystack, needle)                                                  \
	do {                                                                               \
		if (strstr((haystack), (needle)) == NULL)                                  \
			fail_msg("\"%s\" does not contain \"%s\"", (haystack), (needle)); \
	} while (0)

static void must(int r, const char *what)
{
	if (r != 0)
		fail_msg("%s: %s: %s", what, ebcc_error_name(r), ebcc_last_error_message());
}

/* Fills the file system with a filler file until nothing more fits (keep_kib free). */
static void fill(struct fx *f, size_t keep_kib)
{
	static char block[4096];
	int fd = open(f->filler, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	struct stat st;

	assert_true(fd >= 0);
	memset(block, 'F', sizeof(block));
	while (write(fd, block, sizeof(block)) == (ssize_t)sizeof(block))
		;
	assert_int_equal(errno, ENOSPC);
	assert_int_equal(fstat(fd, &st), 0);
	if (keep_kib > 0)
		assert_int_equal(ftruncate(fd, st.st_size > (off_t)keep_kib * 1024
							? st.st_size - (off_t)keep_kib * 1024
							: 0),
				 0);
	close(fd);
}

static void unfill(struct fx *f)
{
	assert_int_equal(unlink(f->filler), 0);
}

static void invoke_ok(struct ebcc_instance *inst, const char *stage, const void *req,
		      size_t len, uint64_t *ret_seq)
{
	struct ebcc_invocation *inv = NULL;
	const void *data;
	size_t n;

	must(ebcc_stage_invoke(inst, stage, req, len, "nonce", 5, &inv), stage);
	assert_int_equal(ebcc_invocation_response(inv, &data, &n), 0);
	assert_int_equal(n, len);
	if (ret_seq != NULL)
		*ret_seq = ebcc_invocation_seq(inv);
	ebcc_invocation_unref(inv);
}

static void consistent(struct fx *f, struct ebcc_instance *inst, const char *id, int status)
{
	struct stage_seen seen[4];

	assert_int_equal(check_oci_state(inst, id), status);
	check_artifacts(f->ctx, f->root, id, id, f->policy, seen, 4);
}

/* Invocations until the disk is full: the one that does not fit fails cleanly. */
static void disk_full_invocations(void **state)
{
	struct fx *f = *state;
	struct ebcc_instance *inst = NULL;
	struct ebcc_invocation *inv = NULL;
	static char big[48 * 1024];
	uint64_t last = 0, seq = 0, failed_seq;
	/* Under valgrind a fresh stage's child runs as valgrind's guest until its exec, with the
	 * stage's address-space limit already set: valgrind itself may then fail to map memory,
	 * which says nothing of the disk. There, only the warm stage (spawned before) is used. */
	const char *preload = getenv("LD_PRELOAD");
	bool valgrind = preload != NULL && strstr(preload, "vgpreload") != NULL;
	int r = 0, n;

	must(ebcc_instance_create(f->ctx, "full", f->bundle, &inst), "create");
	must(ebcc_instance_start(inst), "start");
	memset(big, 'b', sizeof(big));
	fill(f, 512);
	for (n = 0; n < 200; n++) {
		r = ebcc_stage_invoke(inst, n % 2 && !valgrind ? f->fresh : f->warm, big,
				      sizeof(big), NULL, 0, &inv);
		if (r < 0)
			break;
		last = ebcc_invocation_seq(inv);
		ebcc_invocation_unref(inv);
		inv = NULL;
	}
	if (r == 0)
		fail_msg("%d invocations of %zu bytes fit into %s", n, sizeof(big), FS_SIZE);
	assert_true(n > 0);
	assert_int_equal(r, EBCC_ERR_IO);
	assert_contains(ebcc_last_error_message(), "No space left on device");
	/* The message names the file that could not be written. */
	if (strstr(ebcc_last_error_message(), ".bin") == NULL &&
	    strstr(ebcc_last_error_message(), ".json") == NULL &&
	    strstr(ebcc_last_error_message(), "log.txt") == NULL)
		fail_msg("no file named in \"%s\"", ebcc_last_error_message());
	print_message("after %d invocations: %s\n", n, ebcc_last_error_message());
	failed_seq = stage_last_seq(inst, n % 2 && !valgrind ? f->fresh : f->warm);

	/* Nothing half-written is visible, the state reads, the stage still runs. */
	consistent(f, inst, "full", EBCC_STATUS_RUNNING);
	assert_int_equal(ebcc_instance_status(inst), EBCC_STATUS_RUNNING);

	/* Room again: everything works, and the number of the failed one is not reused. */
	unfill(f);
	invoke_ok(inst, n % 2 && !valgrind ? f->fresh : f->warm, "again", 5, &seq);
	assert_int_equal(seq, failed_seq + 1);
	invoke_ok(inst, f->warm, big, sizeof(big), NULL);
	consistent(f, inst, "full", EBCC_STATUS_RUNNING);
	(void)last;
	must(ebcc_instance_kill(inst, SIGKILL), "kill");
	must(ebcc_instance_delete(inst, 0), "delete");
	ebcc_instance_unref(inst);
	assert_int_equal(ours_wait_gone(&f->ours, 5000), 0);
}

/* Every mutating operation on a full disk. */
static void disk_full_lifecycle(void **state)
{
	struct fx *f = *state;
	struct ebcc_instance *a = NULL, *b = NULL, *c = NULL;
	struct ours warm_only = { .root = "/nonexistent", .names = f->names, .n_names = 1 };
	char *list = NULL;

	must(ebcc_instance_create(f->ctx, "a", f->bundle, &a), "create a");
	must(ebcc_instance_create(f->ctx, "b", f->bundle, &b), "create b");
	must(ebcc_instance_start(b), "start b");
	invoke_ok(b, f->warm, "x", 1, NULL);
	fill(f, 0);

	/* create: refused, and the id stays free. */
	assert_int_equal(ebcc_instance_create(f->ctx, "c", f->bundle, &c), EBCC_ERR_IO);
	print_message("create: %s\n", ebcc_last_error_message());
	assert_contains(ebcc_last_error_message(), "c/state.json");
	assert_contains(ebcc_last_error_message(), "No space left on device");
	assert_int_equal(ebcc_instance_open(f->ctx, "c", &c), EBCC_ERR_NOT_FOUND);

	/* kill of a composite with nothing to stop (which would free room): refused; a is
	 * still created. */
	assert_int_equal(ebcc_instance_kill(a, SIGTERM), EBCC_ERR_IO);
	print_message("kill: %s\n", ebcc_last_error_message());
	assert_contains(ebcc_last_error_message(), "a/state.json");
	assert_contains(ebcc_last_error_message(), "No space left on device");
	consistent(f, a, "a", EBCC_STATUS_CREATED);

	/* start: refused; no stage of a is left running, a is still created. */
	assert_int_equal(ebcc_instance_start(a), EBCC_ERR_IO);
	print_message("start: %s\n", ebcc_last_error_message());
	assert_contains(ebcc_last_error_message(), "No space left on device");
	consistent(f, a, "a", EBCC_STATUS_CREATED);
	assert_int_equal(ours_find(&warm_only, NULL, 0), 1); /* b's */

	/* invoke: refused, nothing published, the warm stage runs on. */
	assert_int_equal(ebcc_stage_invoke(b, f->warm, "y", 1, NULL, 0,
					   &(struct ebcc_invocation *){ NULL }),
			 EBCC_ERR_IO);
	print_message("invoke: %s\n", ebcc_last_error_message());
	assert_contains(ebcc_last_error_message(), "No space left on device");
	consistent(f, b, "b", EBCC_STATUS_RUNNING);
	must(ebcc_instance_list(f->ctx, &list), "list");
	assert_contains(list, "\"a\"");
	assert_contains(list, "\"b\"");
	assert_null(strstr(list, "\"c\""));
	ebcc_free(list);

	/* Room again: all of it works. */
	unfill(f);
	must(ebcc_instance_start(a), "start a");
	invoke_ok(a, f->warm, "z", 1, NULL);
	invoke_ok(b, f->warm, "z", 1, NULL);
	must(ebcc_instance_kill(b, SIGTERM), "kill b");
	consistent(f, b, "b", EBCC_STATUS_STOPPED);
	must(ebcc_instance_delete(b, 0), "delete b");
	must(ebcc_instance_delete(a, EBCC_DELETE_FORCE), "delete a");
	ebcc_instance_unref(a);
	ebcc_instance_unref(b);
	assert_int_equal(ours_wait_gone(&f->ours, 5000), 0);
}

/* A state root that turns read-only under a running composite. */
static void read_only(void **state)
{
	struct fx *f = *state;
	struct ebcc_instance *inst = NULL, *other = NULL;
	char *list = NULL, *state_json = NULL;
	int exit_status = 0;

	must(ebcc_instance_create(f->ctx, "ro", f->bundle, &inst), "create");
	must(ebcc_instance_start(inst), "start");
	invoke_ok(inst, f->warm, "before", 6, NULL);
	if (mount("tmpfs", f->mnt, "tmpfs", MS_REMOUNT | MS_RDONLY, "size=" FS_SIZE) < 0)
		fail_msg("remount %s read-only: %s", f->mnt, strerror(errno));

	/* Reading works. */
	consistent(f, inst, "ro", EBCC_STATUS_RUNNING);
	must(ebcc_instance_state(inst, &state_json), "state");
	ebcc_free(state_json);
	must(ebcc_instance_list(f->ctx, &list), "list");
	assert_contains(list, "\"ro\"");
	ebcc_free(list);
	must(ebcc_instance_open(f->ctx, "ro", &other), "open");
	ebcc_instance_unref(other);
	other = NULL;

	/* Writing is refused, with the file and the reason. */
	assert_int_equal(ebcc_instance_create(f->ctx, "ro2", f->bundle, &other),
			 EBCC_ERR_PERMISSION);
	print_message("create: %s\n", ebcc_last_error_message());
	assert_contains(ebcc_last_error_message(), "Read-only file system");
	assert_int_equal(ebcc_stage_invoke(inst, f->warm, "x", 1, NULL, 0,
					   &(struct ebcc_invocation *){ NULL }),
			 EBCC_ERR_PERMISSION);
	print_message("invoke: %s\n", ebcc_last_error_message());
	assert_contains(ebcc_last_error_message(), "Read-only file system");
	assert_contains(ebcc_last_error_message(), "stage ");
	assert_contains(ebcc_last_error_message(), "sequence counter seq");
	assert_int_equal(ebcc_stage_invoke(inst, f->fresh, "x", 1, NULL, 0,
					   &(struct ebcc_invocation *){ NULL }),
			 EBCC_ERR_PERMISSION);
	assert_int_equal(ebcc_instance_kill(inst, SIGTERM), EBCC_ERR_PERMISSION);
	print_message("kill: %s\n", ebcc_last_error_message());
	assert_contains(ebcc_last_error_message(), "lock");
	assert_contains(ebcc_last_error_message(), "Read-only file system");
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), EBCC_ERR_PERMISSION);
	assert_int_equal(ebcc_instance_wait(inst, 0, &exit_status), EBCC_ERR_TIMEOUT);
	consistent(f, inst, "ro", EBCC_STATUS_RUNNING);

	/* Writable again: everything works. */
	if (mount("tmpfs", f->mnt, "tmpfs", MS_REMOUNT, "size=" FS_SIZE) < 0)
		fail_msg("remount %s read-write: %s", f->mnt, strerror(errno));
	invoke_ok(inst, f->warm, "after", 5, NULL);
	invoke_ok(inst, f->fresh, "after", 5, NULL);
	consistent(f, inst, "ro", EBCC_STATUS_RUNNING);
	must(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), "delete");
	ebcc_instance_unref(inst);
	assert_int_equal(ours_wait_gone(&f->ours, 5000), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(disk_full_invocations, setup, teardown),
		cmocka_unit_test_setup_teardown(disk_full_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(read_only, setup, teardown),
	};

	if (echo_stage_path() == NULL) {
		fprintf(stderr, "the echo stage is not built: skipped\n");
		return 77;
	}
	if (!private_mounts()) {
		fprintf(stderr, "needs root and a private mount namespace: skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
