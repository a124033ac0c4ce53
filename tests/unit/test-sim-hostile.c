/* SPDX-License-Identifier: MIT */
/*
 * White-box: hostile stages in the real sandbox. Each misdeed is contained and reported with
 * the right code and a message that says what happened; the host process and other stages
 * carry on. The stage (tests/unit/stages/hostile.c) speaks the frame protocol itself, so it can
 * also break it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "sim-fixture.h"

static const char *hostile(void)
{
	return fx_env_path("EBCC_STAGE_HOSTILE");
}

static int setup(void **state)
{
	*state = fx_new();
	return 0;
}

static int teardown(void **state)
{
	fx_free(*state);
	return 0;
}

#define assert_contains(haystack, needle)                                                  \
	do {                                                                               \
		if (strstr((haystack), (needle)) == NULL)                                  \
			fail_msg("\"%s\" does not contain \"%s\"", (haystack), (needle)); \
	} while (0)

/* Loads a fresh per-invocation hostile stage, asks it for `misdeed`, checks the outcome. */
static void expect(struct sim_fixture *f, const char *misdeed, int code, const char *m1,
		   const char *m2)
{
	struct fx_stage s;
	int r;

	assert_int_equal(fx_load(f, hostile(), "hostile", EBCC_LIFETIME_INVOCATION, 20000, &s), 0);
	r = fx_invoke(f, s.st.handle, misdeed, NULL, NULL);
	if (r != code)
		fail_msg("%s: %s instead of %s: %s", misdeed, ebcc_error_name(r),
			 ebcc_error_name(code), f->error);
	assert_contains(f->error, "stage hostile of inst");
	if (m1 != NULL)
		assert_contains(f->error, m1);
	if (m2 != NULL)
		assert_contains(f->error, m2);
	assert_int_equal(f->ops->stage_unload(&f->env, s.st.handle, NULL), 0);
	fx_stage_release(&s);
}

static void forbidden_system_calls(void **state)
{
	static const char *const misdeeds[] = { "open",	    "socket", "exec", "execveat",
						"fork",	    "ptrace", "kill", "mmapexec" };
	struct sim_fixture *f = *state;

	for (size_t i = 0; i < sizeof(misdeeds) / sizeof(misdeeds[0]); i++)
		expect(f, misdeeds[i], EBCC_ERR_STAGE, "killed by SIGSYS",
		       "a system call the sandbox forbids");
}

static void crash_and_exit(void **state)
{
	struct sim_fixture *f = *state;

	expect(f, "crash", EBCC_ERR_STAGE, "killed by SIGSEGV", "closed the channel without answering");
	expect(f, "exit", EBCC_ERR_STAGE, "exited with status 3", NULL);
	/* What it logged before it died is in the message... */
	expect(f, "logcrash", EBCC_ERR_STAGE, "killed by SIGSEGV",
	       "its last log line: \"about to crash\"");
}

/* ...and handed back with the failure, for the invocation's log.txt. */
static void log_of_a_failed_request(void **state)
{
	struct sim_fixture *f = *state;
	struct ebcc_backend_invocation inv;
	struct fx_stage s;

	assert_int_equal(fx_load(f, hostile(), "hostile", EBCC_LIFETIME_INVOCATION, 20000, &s), 0);
	assert_int_equal(fx_invoke_raw(f, s.st.handle, "logcrash", 8, &inv), EBCC_ERR_STAGE);
	assert_null(inv.response.data);
	assert_int_equal(inv.log.len, strlen("first line\nabout to crash\n"));
	assert_memory_equal(inv.log.data, "first line\nabout to crash\n", inv.log.len);
	fx_invocation_free(&inv);
	assert_int_equal(f->ops->stage_unload(&f->env, s.st.handle, NULL), 0);
	fx_stage_release(&s);
}

static void protocol_violations(void **state)
{
	struct sim_fixture *f = *state;

	expect(f, "garbage", EBCC_ERR_STAGE, "broke the channel protocol", "bad magic");
	expect(f, "oversize", EBCC_ERR_STAGE, "RESPONSE frame of 1073741824 bytes",
	       "limit of 1048576 bytes");
	expect(f, "half", EBCC_ERR_STAGE,
	       "closed the channel in the middle of a RESPONSE frame (100 of 1000 bytes)", NULL);
	expect(f, "halfexit", EBCC_ERR_STAGE, "in the middle of a RESPONSE frame",
	       "exited with status 0");
	expect(f, "badlog", EBCC_ERR_STAGE, "malformed LOG frame", "NUL");
	/* Only its security monitor reports for a stage: bytes of its own are refused. */
	expect(f, "ownreport", EBCC_ERR_STAGE, "its report is not the monitor's", NULL);
}

static void infinite_loop_times_out(void **state)
{
	struct sim_fixture *f = *state;
	struct fx_stage s;

	assert_int_equal(fx_load(f, hostile(), "hostile", EBCC_LIFETIME_INVOCATION, 300, &s), 0);
	assert_int_equal(fx_invoke(f, s.st.handle, "loop", NULL, NULL), EBCC_ERR_TIMEOUT);
	assert_contains(f->error, "did not answer within 300 ms");
	assert_contains(f->error, "stopped by the host");
	/* It is gone: a second request is refused, not hung. */
	assert_int_equal(fx_invoke(f, s.st.handle, "echo:x", NULL, NULL), EBCC_ERR_STAGE);
	assert_contains(f->error, "is not running");
	assert_int_equal(f->ops->stage_unload(&f->env, s.st.handle, NULL), 0);
	fx_stage_release(&s);
}

/* Without a deadline, the CPU-time limit still ends a spinning stage. */
static void cpu_limit(void **state)
{
	struct sim_fixture *f = *state;
	struct fx_stage s;
	int fd = open(hostile(), O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	memset(&s, 0, sizeof(s));
	s.params = fx_params(EBCC_LIFETIME_INVOCATION, "hostile", fd, -1);
	s.params.timeout_ms = 0;
	s.params.cpu_seconds = 1;
	assert_int_equal(f->ops->stage_load(&f->env, &s.params, &s.st, NULL), 0);
	close(fd);
	assert_int_equal(fx_invoke(f, s.st.handle, "loop", NULL, NULL), EBCC_ERR_STAGE);
	assert_contains(f->error, "killed by SIGKILL");
	assert_int_equal(f->ops->stage_unload(&f->env, s.st.handle, NULL), 0);
	s.dir_fd = -1;
	fx_stage_release(&s);
}

static void one_gib_malloc_fails_inside(void **state)
{
	struct sim_fixture *f = *state;
	char *resp = NULL;
	struct fx_stage s;

	assert_int_equal(fx_load(f, hostile(), "hostile", EBCC_LIFETIME_INVOCATION, 20000, &s), 0);
	assert_int_equal(fx_invoke(f, s.st.handle, "malloc", NULL, NULL), EBCC_ERR_STAGE);
	assert_contains(f->error, "EBCC_ERR_NO_MEMORY");
	assert_contains(f->error, "malloc of 1 GiB failed");
	/* RLIMIT_AS made malloc fail; the stage itself is fine and answers on. */
	assert_int_equal(fx_invoke(f, s.st.handle, "echo:still alive", &resp, NULL), 0);
	assert_string_equal(resp, "still alive");
	free(resp);
	assert_int_equal(f->ops->stage_unload(&f->env, s.st.handle, NULL), 0);
	fx_stage_release(&s);
}

static void log_budget(void **state)
{
	struct sim_fixture *f = *state;
	char *resp = NULL, *log = NULL;
	struct fx_stage s;
	size_t len;

	assert_int_equal(fx_load(f, hostile(), "hostile", EBCC_LIFETIME_INVOCATION, 20000, &s), 0);
	assert_int_equal(fx_invoke(f, s.st.handle, "logflood", &resp, &log), 0);
	assert_string_equal(resp, "done");
	len = strlen(log);
	assert_true(len <= (1u << 20) + 128);
	assert_true(len > (1u << 20) - 8192);
	assert_contains(log, "[ebcc: log truncated");
	assert_int_equal(log[len - 1], '\n');
	free(resp);
	free(log);
	assert_int_equal(f->ops->stage_unload(&f->env, s.st.handle, NULL), 0);
	fx_stage_release(&s);
}

/* What the stage sees of its world: uid 0 of its own namespace, descriptors 0-3 and its
 * security monitor's socket on 4, no environment, the limits it was given. */
static void stage_world(void **state)
{
	struct sim_fixture *f = *state;
	struct fx_stage s, w;
	char *resp = NULL;

	assert_int_equal(fx_load(f, hostile(), "hostile", EBCC_LIFETIME_INVOCATION, 20000, &s), 0);
	assert_int_equal(fx_invoke(f, s.st.handle, "fds", &resp, NULL), 0);
	assert_string_equal(resp, "0,1,2,3,4");
	free(resp);
	assert_int_equal(fx_invoke(f, s.st.handle, "env", &resp, NULL), 0);
	assert_string_equal(resp, "0");
	free(resp);
	assert_int_equal(fx_invoke(f, s.st.handle, "stat", &resp, NULL), 0);
	assert_string_equal(resp, "stat refused");
	free(resp);
	assert_int_equal(fx_invoke(f, s.st.handle, "uid", &resp, NULL), 0);
	assert_string_equal(resp, "0");
	free(resp);
	assert_int_equal(fx_invoke(f, s.st.handle, "limits", &resp, NULL), 0);
	assert_string_equal(resp, "as=67108864 nofile=16 cpu=60 core=0");
	free(resp);
	assert_int_equal(f->ops->stage_unload(&f->env, s.st.handle, NULL), 0);
	fx_stage_release(&s);

	/* A warm stage has its listening socket on 3 and the accepted connection on 5. */
	assert_int_equal(fx_load(f, hostile(), "warm", EBCC_LIFETIME_INSTANCE, 20000, &w), 0);
	assert_int_equal(fx_invoke(f, w.st.handle, "fds", &resp, NULL), 0);
	assert_string_equal(resp, "0,1,2,3,4,5");
	free(resp);
	assert_int_equal(f->ops->stage_unload(&f->env, w.st.handle, NULL), 0);
	fx_stage_release(&w);
}

/* A warm hostile stage dies; a warm echo stage beside it and the host carry on. */
static void neighbours_unaffected(void **state)
{
	struct sim_fixture *f = *state;
	struct fx_stage good, bad;
	char *resp = NULL;

	assert_int_equal(fx_load(f, fx_env_path("EBCC_STAGE_ECHO"), "good",
				 EBCC_LIFETIME_INSTANCE, 20000, &good),
			 0);
	assert_int_equal(fx_load(f, hostile(), "bad", EBCC_LIFETIME_INSTANCE, 20000, &bad), 0);
	assert_int_equal(fx_invoke(f, bad.st.handle, "echo:hi", &resp, NULL), 0);
	assert_string_equal(resp, "hi");
	free(resp);

	assert_int_equal(fx_invoke(f, bad.st.handle, "open", NULL, NULL), EBCC_ERR_STAGE);
	assert_contains(f->error, "stage bad of inst");
	assert_contains(f->error, "closed the channel without answering");
	/* Reported dead at once, not hung. */
	assert_int_equal(fx_invoke(f, bad.st.handle, "echo:hi", NULL, NULL), EBCC_ERR_STAGE);
	assert_contains(f->error, "is not running");

	assert_int_equal(fx_invoke(f, good.st.handle, "upper:fine", &resp, NULL), 0);
	assert_string_equal(resp, "FINE");
	free(resp);
	assert_int_equal(f->ops->stage_unload(&f->env, bad.st.handle, NULL), 0);
	assert_int_equal(f->ops->stage_unload(&f->env, good.st.handle, NULL), 0);
	fx_stage_release(&good);
	fx_stage_release(&bad);
}

/* A warm stage that breaks the protocol loses that connection only; one that hangs is killed. */
static void warm_stage_misbehaves(void **state)
{
	struct sim_fixture *f = *state;
	struct fx_stage s;
	char *resp = NULL;

	assert_int_equal(fx_load(f, hostile(), "warm", EBCC_LIFETIME_INSTANCE, 300, &s), 0);
	assert_int_equal(fx_invoke(f, s.st.handle, "half", NULL, NULL), EBCC_ERR_STAGE);
	assert_contains(f->error, "in the middle of a RESPONSE frame (100 of 1000 bytes)");
	assert_int_equal(fx_invoke(f, s.st.handle, "garbage", NULL, NULL), EBCC_ERR_STAGE);
	assert_contains(f->error, "bad magic");
	assert_int_equal(fx_invoke(f, s.st.handle, "echo:served on", &resp, NULL), 0);
	assert_string_equal(resp, "served on");
	free(resp);

	assert_int_equal(fx_invoke(f, s.st.handle, "loop", NULL, NULL), EBCC_ERR_TIMEOUT);
	assert_contains(f->error, "did not answer within 300 ms");
	assert_contains(f->error, "was killed");
	assert_int_equal(fx_invoke(f, s.st.handle, "echo:x", NULL, NULL), EBCC_ERR_STAGE);
	assert_contains(f->error, "is not running");
	assert_int_equal(f->ops->stage_unload(&f->env, s.st.handle, NULL), 0);
	fx_stage_release(&s);
}

static void warm_stage_exits(void **state)
{
	struct sim_fixture *f = *state;
	struct fx_stage s;

	assert_int_equal(fx_load(f, hostile(), "warm", EBCC_LIFETIME_INSTANCE, 20000, &s), 0);
	assert_int_equal(fx_invoke(f, s.st.handle, "exit", NULL, NULL), EBCC_ERR_STAGE);
	assert_contains(f->error, "closed the channel without answering");
	assert_int_equal(fx_invoke(f, s.st.handle, "echo:x", NULL, NULL), EBCC_ERR_STAGE);
	assert_contains(f->error, "is not running");
	assert_int_equal(f->ops->stage_unload(&f->env, s.st.handle, NULL), 0);
	fx_stage_release(&s);
}

/* An embedder that ignores SIGCHLD has its children reaped by the kernel: the stage's end is
 * still reported, without a status, and nothing hangs. */
static void embedder_ignores_sigchld(void **state)
{
	struct sim_fixture *f = *state;
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	struct fx_stage s;
	char *resp = NULL;

	assert_int_equal(sigaction(SIGCHLD, &ign, &old), 0);
	assert_int_equal(fx_load(f, hostile(), "hostile", EBCC_LIFETIME_INVOCATION, 20000, &s), 0);
	assert_int_equal(fx_invoke(f, s.st.handle, "echo:fine", &resp, NULL), 0);
	assert_string_equal(resp, "fine");
	free(resp);
	assert_int_equal(fx_invoke(f, s.st.handle, "crash", NULL, NULL), EBCC_ERR_STAGE);
	assert_contains(f->error, "closed the channel without answering");
	assert_contains(f->error, "collected by someone else");
	assert_int_equal(f->ops->stage_unload(&f->env, s.st.handle, NULL), 0);
	assert_int_equal(sigaction(SIGCHLD, &old, NULL), 0);
	fx_stage_release(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(forbidden_system_calls, setup, teardown),
		cmocka_unit_test_setup_teardown(crash_and_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(log_of_a_failed_request, setup, teardown),
		cmocka_unit_test_setup_teardown(protocol_violations, setup, teardown),
		cmocka_unit_test_setup_teardown(infinite_loop_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(cpu_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(one_gib_malloc_fails_inside, setup, teardown),
		cmocka_unit_test_setup_teardown(log_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(stage_world, setup, teardown),
		cmocka_unit_test_setup_teardown(neighbours_unaffected, setup, teardown),
		cmocka_unit_test_setup_teardown(warm_stage_misbehaves, setup, teardown),
		cmocka_unit_test_setup_teardown(warm_stage_exits, setup, teardown),
		cmocka_unit_test_setup_teardown(embedder_ignores_sigchld, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
