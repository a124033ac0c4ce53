/* SPDX-License-Identifier: MIT */
/* White-box: option parsing helpers and the options table, without a context. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "ebcc-private.h"

static void parse_u64_strict(void **state)
{
	uint64_t v = 42;

	(void)state;
	assert_int_equal(ebcc__parse_u64("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ebcc__parse_u64("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	v = 7;
	assert_int_equal(ebcc__parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(ebcc__parse_u64("11", 0, 10, &v), -ERANGE);
	assert_int_equal(ebcc__parse_u64("", 0, 10, &v), -EINVAL);
	assert_int_equal(ebcc__parse_u64(NULL, 0, 10, &v), -EINVAL);
	assert_int_equal(ebcc__parse_u64("1 ", 0, 10, &v), -EINVAL);
	assert_int_equal(ebcc__parse_u64("-1", 0, 10, &v), -EINVAL);
	assert_int_equal(ebcc__parse_u64("1e3", 0, 10000, &v), -EINVAL);
	assert_int_equal(v, 7); /* untouched on failure */
}

static void options_set_is_atomic(void **state)
{
	struct ebcc_options o;
	char *value = NULL;

	(void)state;
	assert_int_equal(ebcc__options_init(&o), 0);
	assert_int_equal(ebcc__options_set(&o, "state_root", "/a"), 0);
	assert_int_equal(ebcc__options_set(&o, "state_root", "b"), EBCC_ERR_INVALID_ARG);
	assert_string_equal(o.state_root, "/a");
	assert_int_equal(ebcc__options_set(&o, "max_request", "99"), 0);
	assert_int_equal(o.max_request, 99);
	assert_int_equal(ebcc__options_set(&o, "max_request", "x"), EBCC_ERR_INVALID_ARG);
	assert_int_equal(o.max_request, 99);
	assert_int_equal(ebcc__options_get(&o, "max_request", &value), 0);
	assert_string_equal(value, "99");
	free(value);
	/* An unknown key is named, with every key the table knows. */
	assert_int_equal(ebcc__options_set(&o, "state-root", "/b"), EBCC_ERR_INVALID_ARG);
	assert_string_equal(ebcc_last_error_message(),
			    "unknown option \"state-root\" (known: anchor, artifacts, default_backend, "
			    "durability, log_level, max_request, plugin_dir, retention, sandbox_pool, "
			    "sandbox_pool_idle_ms, state_root)");
	/* The sandbox pool: off by default, a count in 0..32, an idle limit in ms. */
	assert_int_equal(ebcc__options_get(&o, "sandbox_pool", &value), 0);
	assert_string_equal(value, "0");
	free(value);
	assert_int_equal(ebcc__options_get(&o, "sandbox_pool_idle_ms", &value), 0);
	assert_string_equal(value, "10000");
	free(value);
	assert_int_equal(ebcc__options_set(&o, "sandbox_pool", "4"), 0);
	assert_int_equal(o.sandbox_pool, 4);
	assert_int_equal(ebcc__options_set(&o, "sandbox_pool", "33"), EBCC_ERR_INVALID_ARG);
	assert_string_equal(ebcc_last_error_message(),
			    "option sandbox_pool: \"33\" is not a count of sandboxes in 0..32");
	assert_int_equal(o.sandbox_pool, 4);
	assert_int_equal(ebcc__options_set(&o, "sandbox_pool_idle_ms", "0"), EBCC_ERR_INVALID_ARG);
	assert_int_equal(ebcc__options_set(&o, "sandbox_pool_idle_ms", "250"), 0);
	assert_int_equal(o.sandbox_pool_idle_ms, 250);
	ebcc__options_clear(&o);
}

static void log_level_names(void **state)
{
	(void)state;
	assert_int_equal(ebcc__log_level_parse("err"), EBCC_LOG_ERR);
	assert_int_equal(ebcc__log_level_parse("error"), EBCC_LOG_ERR);
	assert_int_equal(ebcc__log_level_parse("warning"), EBCC_LOG_WARNING);
	assert_int_equal(ebcc__log_level_parse("info"), EBCC_LOG_INFO);
	assert_int_equal(ebcc__log_level_parse("debug"), EBCC_LOG_DEBUG);
	assert_int_equal(ebcc__log_level_parse("7"), 7);
	assert_int_equal(ebcc__log_level_parse("77"), -1);
	assert_int_equal(ebcc__log_level_parse(""), -1);
	assert_int_equal(ebcc__log_level_parse("DEBUG"), -1);
}

static void errno_mapping(void **state)
{
	(void)state;
	assert_int_equal(ebcc__error_from_errno(ENOENT), EBCC_ERR_NOT_FOUND);
	assert_int_equal(ebcc__error_from_errno(EEXIST), EBCC_ERR_EXISTS);
	assert_int_equal(ebcc__error_from_errno(EACCES), EBCC_ERR_PERMISSION);
	assert_int_equal(ebcc__error_from_errno(ENOMEM), EBCC_ERR_NO_MEMORY);
	assert_int_equal(ebcc__error_from_errno(EIO), EBCC_ERR_IO);
}

static void error_message_prefix(void **state)
{
	(void)state;
	assert_int_equal(ebcc__error_errno(EBCC_ERR_IO, ENOENT, "open %s", "x"), EBCC_ERR_IO);
	assert_string_equal(ebcc_last_error_message(), "open x: No such file or directory");
	assert_int_equal(ebcc__error_prefix(EBCC_ERR_IO, "stage %s", "s"), EBCC_ERR_IO);
	assert_string_equal(ebcc_last_error_message(), "stage s: open x: No such file or directory");
}

static void json_quote_round_trips(void **state)
{
	static const char *const texts[] = {
		"", "plain", "quote \" and backslash \\", "line\nbreak\ttab\r", "\x01\x1f\x7f",
		"ünïcödé", "/slash/",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct json_object *obj = NULL;
		char *quoted = NULL;

		assert_int_equal(ebcc__json_quote(texts[i], &quoted), 0);
		assert_int_equal(ebcc__json_parse(quoted, strlen(quoted), EBCC_ERR_CORRUPT, "quoted",
						  &obj),
				 0);
		assert_string_equal(json_object_get_string(obj), texts[i]);
		json_object_put(obj);
		free(quoted);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parse_u64_strict),
		cmocka_unit_test(options_set_is_atomic),
		cmocka_unit_test(log_level_names),
		cmocka_unit_test(errno_mapping),
		cmocka_unit_test(error_message_prefix),
		cmocka_unit_test(json_quote_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
