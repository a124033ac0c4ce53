/* SPDX-License-Identifier: MIT */
/*
 * Crash consistency: a process is SIGKILLed at every persistence point of create, start,
 * invoke, kill and delete in turn (EBCC_TEST_HOOK=<point>:kill, libebcc(7)), once with each
 * durability setting, then another
 * process checks what it left: the composite opens with the last completed state (or is
 * cleanly absent), its OCI state is valid, only complete invocations are visible and every
 * evidence file verifies, sequence numbers never repeat, the composite works on from there, a
 * forced delete removes it, and no monitor, anchor or stage process of it is left.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <ebcc/ebcc.h>

#include "bundleutil.h"
#include "checkutil.h"

enum op { OP_CREATE, OP_START, OP_INVOKE, OP_KILL, OP_DELETE };

#define ABSENT (-1)       /* the composite is gone */
#define ANY_EXIT (-1000)  /* the anchor's exit status is not checked */

struct point {
	enum op op;
	const char *name;
	int expect;      /* EBCC_STATUS_* right after the crash, or ABSENT */
	int exit_status; /* once stopped: what ebcc_instance_wait() reports, or ANY_EXIT */
	bool published;  /* invoke: the crashed invocation was published */
};

/* With an anchor (a long sleep) and both kinds of stage. */
static const struct point points[] = {
	{ OP_CREATE, "create:dir-made", EBCC_STATUS_CREATING, ANY_EXIT, false },
	{ OP_CREATE, "create:state-written", EBCC_STATUS_CREATING, ANY_EXIT, false },
	{ OP_CREATE, "create:config-written", EBCC_STATUS_CREATING, ANY_EXIT, false },
	{ OP_CREATE, "create:fifo-made", EBCC_STATUS_CREATING, ANY_EXIT, false },
	{ OP_CREATE, "create:anchor-spawned", EBCC_STATUS_CREATING, ANY_EXIT, false },
	{ OP_CREATE, "create:state-created", EBCC_STATUS_CREATED, ANY_EXIT, false },
	{ OP_START, "start:stages-unloaded", EBCC_STATUS_CREATED, ANY_EXIT, false },
	{ OP_START, "start:stage-spawned", EBCC_STATUS_CREATED, ANY_EXIT, false },
	{ OP_START, "start:stage-loaded", EBCC_STATUS_CREATED, ANY_EXIT, false },
	/* The gate is gone but the anchor never got its byte: it ends without running. */
	{ OP_START, "start:gate-unlinked", EBCC_STATUS_STOPPED, 125 << 8, false },
	{ OP_START, "start:anchor-released", EBCC_STATUS_RUNNING, ANY_EXIT, false },
	{ OP_START, "start:state-running", EBCC_STATUS_RUNNING, ANY_EXIT, false },
	{ OP_INVOKE, "invoke:seq-allocated", EBCC_STATUS_RUNNING, ANY_EXIT, false },
	{ OP_INVOKE, "invoke:tmpdir-made", EBCC_STATUS_RUNNING, ANY_EXIT, false },
	{ OP_INVOKE, "invoke:artifacts-written", EBCC_STATUS_RUNNING, ANY_EXIT, false },
	{ OP_INVOKE, "invoke:published", EBCC_STATUS_RUNNING, ANY_EXIT, true },
	{ OP_INVOKE, "invoke:pruned", EBCC_STATUS_RUNNING, ANY_EXIT, true },
	{ OP_KILL, "kill:stages-unloaded", EBCC_STATUS_RUNNING, ANY_EXIT, false },
	{ OP_KILL, "kill:state-written", EBCC_STATUS_RUNNING, ANY_EXIT, false },
	{ OP_KILL, "kill:signalled", EBCC_STATUS_STOPPED, SIGTERM, false },
	{ OP_DELETE, "delete:stages-unloaded", EBCC_STATUS_RUNNING, ANY_EXIT, false },
	{ OP_DELETE, "delete:stopped", EBCC_STATUS_STOPPED, SIGKILL, false },
	{ OP_DELETE, "delete:moved-to-trash", ABSENT, ANY_EXIT, false },
	{ OP_DELETE, "delete:removed", ABSENT, ANY_EXIT, false },
};

/* Without a process: kill writes the exit record itself. */
static const struct point plain_points[] = {
	{ OP_START, "start:stage-spawned", EBCC_STATUS_CREATED, ANY_EXIT, false },
	{ OP_START, "start:stage-loaded", EBCC_STATUS_CREATED, ANY_EXIT, false },
	{ OP_KILL, "kill:stages-unloaded", EBCC_STATUS_RUNNING, ANY_EXIT, false },
	{ OP_KILL, "kill:state-written", EBCC_STATUS_STOPPED, -1, false },
	{ OP_KILL, "kill:signalled", EBCC_STATUS_STOPPED, SIGTERM, false },
};

struct fx {
	char *root, *bundle, *plain;
	char warm[16], fresh[16], sleep_arg[32];
	const char *names[3];
	struct ours ours, fresh_only;
	pid_t guard;
	int guard_fd;
	struct ebcc_context *ctx;
	char *policy;
	int n;
	const char *fresh_names[1];
	const char *durability; /* of the crashing process */
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char process[256], stages[512];
	if (echo_stage_path() == NULL) {
		free(f);
		return -1;
	}
	/* Names no other test uses: the processes of this test are found by them. */
	snprintf(f->warm, sizeof(f->warm), "cw%x", (unsigned)getpid());
	snprintf(f->fresh, sizeof(f->fresh), "cf%x", (unsigned)getpid());
	snprintf(f->sleep_arg, sizeof(f->sleep_arg), "86400.%d", (int)getpid());
	f->names[0] = f->warm;
	f->names[1] = f->fresh;
	f->names[2] = f->sleep_arg;
	f->fresh_names[0] = f->fresh;
	f->root = scratch_dir("crash-root");
	f->bundle = scratch_dir("crash-bundle");
	f->plain = scratch_dir("crash-plain");
	f->ours = (struct ours){ .root = f->root, .names = f->names, .n_names = 3 };
	f->fresh_only = (struct ours){ .root = "/nonexistent", .names = f->fresh_names,
				       .n_names = 1 };
	f->guard = guard_start(&f->ours, (const char *const[]){ f->root, f->bundle, f->plain }, 3,
			       &f->guard_fd);
	snprintf(process, sizeof(process),
		 "{\"args\": [\"/bin/sleep\", \"%s\"], \"cwd\": \"/\", \"env\": [\"PATH=/bin\"]}",
		 f->sleep_arg);
	snprintf(stages, sizeof(stages),
		 "[{\"name\": \"%s\", \"image\": \"stages/echo\"},"
		 " {\"name\": \"%s\", \"image\": \"stages/echo\", \"lifetime\": \"invocation\"}]",
		 f->warm, f->fresh);
	make_bundle(f->bundle, process, stages);
	make_bundle(f->plain, NULL, stages);
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
	scratch_remove(f->root);
	scratch_remove(f->bundle);
	scratch_remove(f->plain);
	guard_stop(f->guard, f->guard_fd);
	free(f);
	return 0;
}

/* In a child process: the operation, with the hook armed. Returns only in the parent: the
 * child's wait status. */
static int crash_child(struct fx *f, const struct point *p, const char *id, const char *bundle,
		       const char *stage)
{
	char hook[96];
	int status;
	pid_t pid;

	snprintf(hook, sizeof(hook), "%s:kill", p->name);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ebcc_context *ctx = NULL;
		struct ebcc_instance *inst = NULL;
		struct ebcc_invocation *inv = NULL;
		int r;

		setenv("EBCC_TEST_HOOK", hook, 1);
		if (ebcc_context_new(&ctx) < 0 ||
		    ebcc_context_set_option(ctx, "state_root", f->root) < 0 ||
		    ebcc_context_set_option(ctx, "retention", "2") < 0 ||
		    ebcc_context_set_option(ctx, "durability", f->durability) < 0)
			_exit(90);
		if (p->op == OP_CREATE)
			r = ebcc_instance_create(ctx, id, bundle, &inst);
		else
			r = ebcc_instance_open(ctx, id, &inst);
		if (r == 0 && p->op == OP_START)
			r = ebcc_instance_start(inst);
		else if (r == 0 && p->op == OP_INVOKE)
			r = ebcc_stage_invoke(inst, stage, "crash", 5, "n", 1, &inv);
		else if (r == 0 && p->op == OP_KILL)
			r = ebcc_instance_kill(inst, SIGTERM);
		else if (r == 0 && p->op == OP_DELETE)
			r = ebcc_instance_delete(inst, EBCC_DELETE_FORCE);
		fprintf(stderr, "%s: the operation returned %s: %s\n", hook, ebcc_error_name(r),
			ebcc_last_error_message());
		_exit(91);
	}
	while (waitpid(pid, &status, 0) < 0)
		assert_int_equal(errno, EINTR);
	return status;
}

static void invoke_ok(struct fx *f, struct ebcc_instance *inst, const char *stage,
		      uint64_t *ret_seq)
{
	struct ebcc_invocation *inv = NULL;
	const void *data;
	size_t len;
	int r = ebcc_stage_invoke(inst, stage, "hello", 5, "nonce", 5, &inv);

	(void)f;
	if (r != 0)
		fail_msg("invoke %s: %s: %s", stage, ebcc_error_name(r), ebcc_last_error_message());
	assert_int_equal(ebcc_invocation_response(inv, &data, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(data, "hello", 5);
	if (ret_seq != NULL)
		*ret_seq = ebcc_invocation_seq(inv);
	ebcc_invocation_unref(inv);
}

static void must(int r, const char *what)
{
	if (r != 0)
		fail_msg("%s: %s: %s", what, ebcc_error_name(r), ebcc_last_error_message());
}

/* Checks every stage's published invocations; returns the largest seq of `stage`. */
static uint64_t artifacts_ok(struct fx *f, const char *id, const char *stage)
{
	struct stage_seen seen[4];
	int n = check_artifacts(f->ctx, f->root, id, id, f->policy, seen, 4);
	uint64_t max = 0;

	for (int i = 0; i < n && i < 4; i++)
		if (strcmp(seen[i].name, stage) == 0)
			max = seen[i].max_seq;
	return max;
}

static void no_process_left(struct fx *f, const char *after)
{
	char buf[2048];

	if (ours_wait_gone(&f->ours, 5000) != 0) {
		ours_describe(&f->ours, buf, sizeof(buf));
		fail_msg("%s: processes left: %s", after, buf);
	}
}

static void crash_at(struct fx *f, const struct point *p, bool plain, bool fresh)
{
	const char *bundle = plain ? f->plain : f->bundle;
	const char *stage = fresh ? f->fresh : f->warm;
	struct ebcc_instance *inst = NULL;
	uint64_t before = 0, seq = 0;
	char id[96], *list = NULL;
	int status, r, code;

	snprintf(id, sizeof(id), "c%02d-%s%s", f->n++, p->name, fresh ? "-fresh" : "");
	for (char *c = id; *c != '\0'; c++)
		if (*c == ':')
			*c = '.';
	print_message("%s\n", id);

	/* The composite as the operation expects to find it. */
	if (p->op != OP_CREATE) {
		must(ebcc_instance_create(f->ctx, id, bundle, &inst), "create");
		if (p->op != OP_START)
			must(ebcc_instance_start(inst), "start");
		if (p->op == OP_INVOKE || p->op == OP_DELETE) {
			invoke_ok(f, inst, stage, NULL);
			invoke_ok(f, inst, stage, &before);
		}
		ebcc_instance_unref(inst);
		inst = NULL;
	}

	status = crash_child(f, p, id, bundle, stage);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		fail_msg("%s: the hook was not reached (wait status 0x%x)", p->name, status);
	if (fresh) /* a per-invocation stage ends with the process that started it */
		assert_int_equal(ours_wait_gone(&f->fresh_only, 5000), 0);

	r = ebcc_instance_open(f->ctx, id, &inst);
	if (p->expect == ABSENT) {
		assert_int_equal(r, EBCC_ERR_NOT_FOUND);
		/* Listing sweeps what an interrupted delete left in the trash. */
		must(ebcc_instance_list(f->ctx, &list), "list");
		assert_null(strstr(list, id));
		ebcc_free(list);
		{
			char trash[4200];

			snprintf(trash, sizeof(trash), "%s/.ebcc/trash", f->root);
			assert_true(count_entries(trash) <= 0);
		}
		no_process_left(f, p->name);
		return;
	}
	must(r, "open after the crash");

	if (p->expect == EBCC_STATUS_STOPPED) {
		int exit_status = -2;

		must(ebcc_instance_wait(inst, 20000, &exit_status), "wait");
		if (p->exit_status != ANY_EXIT && exit_status != p->exit_status)
			fail_msg("%s: exit status 0x%x, 0x%x expected", p->name, exit_status,
				 p->exit_status);
	}
	code = check_oci_state(inst, id);
	if (code != p->expect)
		fail_msg("%s: status %d after the crash, %d expected", p->name, code, p->expect);
	artifacts_ok(f, id, stage);

	if (p->op == OP_INVOKE) {
		/* The crashed invocation took the next number, published or not... */
		assert_int_equal(stage_last_seq(inst, stage), before + 1);
		assert_int_equal(artifacts_ok(f, id, stage), p->published ? before + 1 : before);
	}

	/* ...and from here the composite works on. */
	switch (code) {
	case EBCC_STATUS_CREATING:
		assert_int_equal(ebcc_instance_delete(inst, 0), EBCC_ERR_STATE);
		break;
	case EBCC_STATUS_CREATED:
		must(ebcc_instance_start(inst), "start after the crash");
		/* fall through */
	case EBCC_STATUS_RUNNING:
		if (p->op == OP_KILL) {
			int exit_status = -2;

			must(ebcc_instance_kill(inst, SIGTERM), "kill after the crash");
			must(ebcc_instance_wait(inst, 20000, &exit_status), "wait");
			if (!plain)
				assert_true(WIFSIGNALED(exit_status) && WTERMSIG(exit_status) == SIGTERM);
			break;
		}
		/* A delete that died after stopping the stages leaves a composite whose stages
		 * are gone: it is deleted again, not used. */
		if (p->op == OP_DELETE)
			break;
		invoke_ok(f, inst, f->warm, NULL);
		invoke_ok(f, inst, f->fresh, &seq);
		invoke_ok(f, inst, stage, &seq);
		/* ...and never reuses a number. */
		if (p->op == OP_INVOKE)
			assert_int_equal(seq, before + 3);
		break;
	default:
		assert_int_equal(ebcc_stage_invoke(inst, f->warm, "x", 1, NULL, 0,
						   &(struct ebcc_invocation *){ NULL }),
				 EBCC_ERR_STATE);
		break;
	}
	artifacts_ok(f, id, stage);
	if (code == EBCC_STATUS_STOPPED)
		must(ebcc_instance_delete(inst, 0), "delete a stopped composite");
	else
		must(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), "forced delete");
	ebcc_instance_unref(inst);
	assert_int_equal(ebcc_instance_open(f->ctx, id, &inst), EBCC_ERR_NOT_FOUND);
	no_process_left(f, p->name);
}

static void run(void **state, enum op op)
{
	static const char *const durabilities[] = { "none", "fsync" };
	struct fx *f = *state;

	/* Each point is reached once with plain writes and once on the fsync'ing paths. */
	for (size_t d = 0; d < 2; d++) {
		f->durability = durabilities[d];
		for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
			if (points[i].op != op)
				continue;
			crash_at(f, &points[i], false, false);
			if (op == OP_INVOKE)
				crash_at(f, &points[i], false, true);
		}
		for (size_t i = 0; i < sizeof(plain_points) / sizeof(plain_points[0]); i++)
			if (plain_points[i].op == op)
				crash_at(f, &plain_points[i], true, false);
	}
	/* Nothing of the composites is left but the library's own directory. */
	assert_int_equal(count_entries(f->root), 1);
}

static void crash_in_create(void **state)
{
	run(state, OP_CREATE);
}

static void crash_in_start(void **state)
{
	run(state, OP_START);
}

static void crash_in_invoke(void **state)
{
	run(state, OP_INVOKE);
}

static void crash_in_kill(void **state)
{
	run(state, OP_KILL);
}

static void crash_in_delete(void **state)
{
	run(state, OP_DELETE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(crash_in_create, setup, teardown),
		cmocka_unit_test_setup_teardown(crash_in_start, setup, teardown),
		cmocka_unit_test_setup_teardown(crash_in_invoke, setup, teardown),
		cmocka_unit_test_setup_teardown(crash_in_kill, setup, teardown),
		cmocka_unit_test_setup_teardown(crash_in_delete, setup, teardown),
	};
	const char *hooks_built = getenv("EBCC_TEST_HOOKS_BUILT");

	if (hooks_built == NULL || strcmp(hooks_built, "1") != 0) {
		fprintf(stderr, "the library is built without -Dtest_hooks: skipped\n");
		return 77;
	}
	if (echo_stage_path() == NULL) {
		fprintf(stderr, "the echo stage is not built: skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
