/* SPDX-License-Identifier: MIT */
/* Contexts: reference counting, every option's validation, and where log messages go. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <ebcc/ebcc.h>

static int setup_ctx(void **state)
{
	struct ebcc_context *ctx = NULL;

	unsetenv("EBCC_LOG_LEVEL");
	if (ebcc_context_new(&ctx) < 0)
		return -1;
	*state = ctx;
	return 0;
}

static int teardown_ctx(void **state)
{
	ebcc_context_unref(*state);
	return 0;
}

static void assert_option(struct ebcc_context *ctx, const char *key, const char *expected)
{
	char *value = NULL;

	assert_int_equal(ebcc_context_get_option(ctx, key, &value), 0);
	assert_string_equal(value, expected);
	ebcc_free(value);
}

/* A rejected value must name the key, leave the old value, and return INVALID_ARG. */
static void assert_rejected(struct ebcc_context *ctx, const char *key, const char *value)
{
	char *before = NULL;

	assert_int_equal(ebcc_context_get_option(ctx, key, &before), 0);
	assert_int_equal(ebcc_context_set_option(ctx, key, value), EBCC_ERR_INVALID_ARG);
	assert_non_null(strstr(ebcc_last_error_message(), key));
	assert_option(ctx, key, before);
	ebcc_free(before);
}

static void ref_and_unref(void **state)
{
	struct ebcc_context *ctx = *state;

	assert_ptr_equal(ebcc_context_ref(ctx), ctx);
	assert_null(ebcc_context_unref(ctx));
	/* Still alive: the fixture holds the first reference. */
	assert_option(ctx, "durability", "none");
	assert_null(ebcc_context_ref(NULL));
	assert_null(ebcc_context_unref(NULL));
}

static void defaults(void **state)
{
	struct ebcc_context *ctx = *state;

	assert_option(ctx, "default_backend", "sim");
	assert_option(ctx, "durability", "none");
	assert_option(ctx, "artifacts", "full");
	assert_option(ctx, "retention", "unlimited");
	assert_option(ctx, "max_request", "67108864");
	assert_option(ctx, "log_level", "warning");
	if (geteuid() == 0)
		assert_option(ctx, "state_root", "/run/ebcc");
}

static void valid_values(void **state)
{
	struct ebcc_context *ctx = *state;
	static const char *const pairs[][2] = {
		{ "state_root", "/tmp/ebcc-test-root" },
		{ "plugin_dir", "/usr/lib/ebcc/backends" },
		{ "default_backend", "my-backend_2" },
		{ "durability", "fsync" },
		{ "durability", "none" },
		{ "artifacts", "digests" },
		{ "retention", "1" },
		{ "retention", "1000000000" },
		{ "max_request", "1" },
		{ "max_request", "1073741824" },
		{ "log_level", "debug" },
		{ "log_level", "err" },
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		assert_int_equal(ebcc_context_set_option(ctx, pairs[i][0], pairs[i][1]), 0);
		assert_option(ctx, pairs[i][0], pairs[i][1]);
	}
	assert_int_equal(ebcc_context_set_option(ctx, "retention", "unlimited"), 0);
	assert_option(ctx, "retention", "unlimited");
	assert_int_equal(ebcc_context_set_option(ctx, "log_level", "6"), 0);
	assert_option(ctx, "log_level", "info");
	assert_int_equal(ebcc_context_set_option(ctx, "plugin_dir", ""), 0);
	assert_option(ctx, "plugin_dir", "");
}

static void invalid_values(void **state)
{
	struct ebcc_context *ctx = *state;
	char long_path[5000];
	static const char *const pairs[][2] = {
		{ "state_root", "relative/path" },
		{ "state_root", "" },
		{ "plugin_dir", "plugins" },
		{ "default_backend", "" },
		{ "default_backend", "Sim" },
		{ "default_backend", "a/b" },
		{ "default_backend", "abcdefghijklmnopqrstuvwxyz0123456" },
		{ "durability", "FSYNC" },
		{ "durability", "" },
		{ "durability", "fsync " },
		{ "artifacts", "none" },
		{ "retention", "0" },
		{ "retention", "-1" },
		{ "retention", "+5" },
		{ "retention", " 5" },
		{ "retention", "5x" },
		{ "retention", "1000000001" },
		{ "retention", "99999999999999999999999" },
		{ "max_request", "0" },
		{ "max_request", "1073741825" },
		{ "max_request", "1k" },
		{ "max_request", "0x10" },
		{ "log_level", "verbose" },
		{ "log_level", "8" },
		{ "log_level", "2" },
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		assert_rejected(ctx, pairs[i][0], pairs[i][1]);

	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	assert_rejected(ctx, "state_root", long_path);
}

static void unknown_key(void **state)
{
	struct ebcc_context *ctx = *state;
	char *value = NULL;

	assert_int_equal(ebcc_context_set_option(ctx, "statе_root", "/x"), EBCC_ERR_INVALID_ARG);
	assert_int_equal(ebcc_context_set_option(ctx, "", "/x"), EBCC_ERR_INVALID_ARG);
	assert_int_equal(ebcc_context_set_option(ctx, "no_such_key", "1"), EBCC_ERR_INVALID_ARG);
	assert_non_null(strstr(ebcc_last_error_message(), "no_such_key"));
	assert_int_equal(ebcc_context_get_option(ctx, "no_such_key", &value), EBCC_ERR_INVALID_ARG);
	assert_null(value);
	assert_non_null(strstr(ebcc_last_error_message(), "no_such_key"));
}

struct captured {
	int calls;
	int last_priority;
	char last_message[256];
};

static void capture(int priority, const char *message, void *userdata)
{
	struct captured *c = userdata;

	c->calls++;
	c->last_priority = priority;
	snprintf(c->last_message, sizeof(c->last_message), "%s", message);
}

static void log_callback_gets_debug_lines(void **state)
{
	struct ebcc_context *ctx = *state;
	struct captured c = { 0 };

	assert_int_equal(ebcc_context_set_log_fn(ctx, capture, &c), 0);
	/* At the default level (warning) a debug line is not delivered. */
	assert_int_equal(ebcc_context_set_option(ctx, "durability", "fsync"), 0);
	assert_int_equal(c.calls, 0);
	assert_int_equal(ebcc_context_set_option(ctx, "log_level", "debug"), 0);
	assert_int_equal(ebcc_context_set_option(ctx, "artifacts", "digests"), 0);
	assert_true(c.calls >= 1);
	assert_int_equal(c.last_priority, EBCC_LOG_DEBUG);
	assert_non_null(strstr(c.last_message, "artifacts"));

	/* Removing the callback silences the context again. */
	c.calls = 0;
	assert_int_equal(ebcc_context_set_log_fn(ctx, NULL, NULL), 0);
	assert_int_equal(ebcc_context_set_option(ctx, "artifacts", "full"), 0);
	assert_int_equal(c.calls, 0);
}

/* Runs fn with stderr redirected to a pipe; returns what was written (static buffer). */
static const char *stderr_of(void (*fn)(void))
{
	static char buf[4096];
	int fds[2], saved;
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fds[1], 2);
	close(fds[1]);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void set_option_with_env_level(void)
{
	struct ebcc_context *ctx = NULL;

	assert_int_equal(ebcc_context_new(&ctx), 0);
	assert_int_equal(ebcc_context_set_option(ctx, "retention", "7"), 0);
	ebcc_context_unref(ctx);
}

static void env_log_level_turns_on_stderr(void **state)
{
	(void)state;
	unsetenv("EBCC_LOG_LEVEL");
	assert_string_equal(stderr_of(set_option_with_env_level), "");
	setenv("EBCC_LOG_LEVEL", "debug", 1);
	assert_non_null(strstr(stderr_of(set_option_with_env_level), "retention"));
	setenv("EBCC_LOG_LEVEL", "warning", 1);
	assert_string_equal(stderr_of(set_option_with_env_level), "");
	setenv("EBCC_LOG_LEVEL", "bogus", 1);
	assert_non_null(strstr(stderr_of(set_option_with_env_level), "EBCC_LOG_LEVEL"));
	unsetenv("EBCC_LOG_LEVEL");
}

/* ebcc_context_new_with(): the log function hears the first settings; settings apply in
 * order; EBCC_CONTEXT_IGNORE_ENV leaves the environment unread. */
static void new_with_log_and_settings(void **state)
{
	static const char *const settings[] = { "log_level", "debug", "retention", "5", NULL };
	struct ebcc_context_options opts;
	struct ebcc_context *ctx = NULL;
	struct captured c = { 0 };

	(void)state;
	ebcc_context_options_init(&opts);
	assert_int_equal(opts.size, sizeof(opts));
	opts.log_fn = capture;
	opts.log_userdata = &c;
	opts.settings = settings;
	assert_int_equal(ebcc_context_new_with(&opts, &ctx), 0);
	assert_option(ctx, "retention", "5");
	assert_true(c.calls >= 1);
	assert_non_null(strstr(c.last_message, "retention"));
	ebcc_context_unref(ctx);

	/* NULL options are the defaults. */
	assert_int_equal(ebcc_context_new_with(NULL, &ctx), 0);
	assert_option(ctx, "retention", "unlimited");
	ebcc_context_unref(ctx);
}

static void new_with_refusals(void **state)
{
	static const char *const bad_value[] = { "retention", "5", "durability", "sometimes", NULL };
	static const char *const no_value[] = { "retention", NULL };
	struct ebcc_context_options opts = EBCC_CONTEXT_OPTIONS_INIT;
	struct ebcc_context *ctx = NULL;
	struct captured c = { 0 };
	uint8_t bigger[sizeof(opts) + 8] = { 0 };

	(void)state;
	opts.settings = bad_value;
	opts.log_fn = capture;
	opts.log_userdata = &c;
	assert_int_equal(ebcc_context_new_with(&opts, &ctx), EBCC_ERR_INVALID_ARG);
	assert_null(ctx);
	assert_non_null(strstr(ebcc_last_error_message(), "settings[2]"));
	assert_non_null(strstr(ebcc_last_error_message(), "durability"));
	/* The log function, installed first, heard why. */
	assert_int_equal(c.last_priority, EBCC_LOG_ERR);
	assert_non_null(strstr(c.last_message, "durability"));

	opts.settings = no_value;
	assert_int_equal(ebcc_context_new_with(&opts, &ctx), EBCC_ERR_INVALID_ARG);
	assert_non_null(strstr(ebcc_last_error_message(), "has no value"));

	opts.settings = NULL;
	opts.flags = UINT32_C(1) << 7;
	assert_int_equal(ebcc_context_new_with(&opts, &ctx), EBCC_ERR_INVALID_ARG);
	assert_non_null(strstr(ebcc_last_error_message(), "0x80"));

	opts.flags = 0;
	opts.size = 4;
	assert_int_equal(ebcc_context_new_with(&opts, &ctx), EBCC_ERR_INVALID_ARG);
	assert_non_null(strstr(ebcc_last_error_message(), "ebcc_context_options_init()"));

	/* A newer caller's struct: accepted while what this library does not know is zero. */
	ebcc_context_options_init((struct ebcc_context_options *)bigger);
	((struct ebcc_context_options *)bigger)->size = sizeof(bigger);
	assert_int_equal(ebcc_context_new_with((struct ebcc_context_options *)bigger, &ctx), 0);
	ebcc_context_unref(ctx);
	bigger[sizeof(opts) + 3] = 1;
	assert_int_equal(ebcc_context_new_with((struct ebcc_context_options *)bigger, &ctx),
			 EBCC_ERR_ABI);
	assert_int_equal(ebcc_context_new_with(&opts, NULL), EBCC_ERR_INVALID_ARG);
}

static void new_with_ignoring_env(void)
{
	struct ebcc_context_options opts = EBCC_CONTEXT_OPTIONS_INIT;
	struct ebcc_context *ctx = NULL;

	opts.flags = EBCC_CONTEXT_IGNORE_ENV;
	assert_int_equal(ebcc_context_new_with(&opts, &ctx), 0);
	assert_int_equal(ebcc_context_set_option(ctx, "retention", "7"), 0);
	ebcc_context_unref(ctx);
}

static void ignore_env_flag_keeps_stderr_quiet(void **state)
{
	(void)state;
	setenv("EBCC_LOG_LEVEL", "debug", 1);
	assert_non_null(strstr(stderr_of(set_option_with_env_level), "retention"));
	assert_string_equal(stderr_of(new_with_ignoring_env), "");
	unsetenv("EBCC_LOG_LEVEL");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(ref_and_unref, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(defaults, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(valid_values, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(invalid_values, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(unknown_key, setup_ctx, teardown_ctx),
		cmocka_unit_test_setup_teardown(log_callback_gets_debug_lines, setup_ctx, teardown_ctx),
		cmocka_unit_test(env_log_level_turns_on_stderr),
		cmocka_unit_test(new_with_log_and_settings),
		cmocka_unit_test(new_with_refusals),
		cmocka_unit_test(ignore_env_flag_keeps_stderr_quiet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
