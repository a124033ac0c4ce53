/* SPDX-License-Identifier: MIT */
/* The error table: fixed values, names, messages, and the thread-local last message. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <ebcc/ebcc.h>

/* The released numbering; a change here is an ABI break. */
static const struct {
	int code;
	const char *name;
} released[] = {
	{ 0, "EBCC_OK" },
	{ -1, "EBCC_ERR_INVALID_ARG" },
	{ -2, "EBCC_ERR_NO_MEMORY" },
	{ -3, "EBCC_ERR_NOT_FOUND" },
	{ -4, "EBCC_ERR_EXISTS" },
	{ -5, "EBCC_ERR_STATE" },
	{ -6, "EBCC_ERR_BACKEND" },
	{ -7, "EBCC_ERR_UNAVAILABLE" },
	{ -8, "EBCC_ERR_IO" },
	{ -9, "EBCC_ERR_CORRUPT" },
	{ -10, "EBCC_ERR_TOO_BIG" },
	{ -11, "EBCC_ERR_TIMEOUT" },
	{ -12, "EBCC_ERR_BUSY" },
	{ -13, "EBCC_ERR_PERMISSION" },
	{ -14, "EBCC_ERR_VERIFY" },
	{ -15, "EBCC_ERR_ABI" },
	{ -16, "EBCC_ERR_STAGE" },
};

static void numbering_is_fixed(void **state)
{
	(void)state;
	assert_int_equal(EBCC_OK, 0);
	assert_int_equal(EBCC_ERR_INVALID_ARG, -1);
	assert_int_equal(EBCC_ERR_STAGE, -16);
	for (size_t i = 0; i < sizeof(released) / sizeof(released[0]); i++)
		assert_string_equal(ebcc_error_name(released[i].code), released[i].name);
}

#define CHECK_TABLE_ROW(name, value, message)                   \
	assert_int_equal(name, value);                          \
	assert_string_equal(ebcc_error_name(value), #name);     \
	assert_string_equal(ebcc_strerror(value), message);

static void table_and_functions_agree(void **state)
{
	(void)state;
	EBCC_ERROR_TABLE(CHECK_TABLE_ROW)
}

static void unknown_codes(void **state)
{
	(void)state;
	assert_string_equal(ebcc_error_name(1), "EBCC_ERR_UNKNOWN");
	assert_string_equal(ebcc_error_name(-1000), "EBCC_ERR_UNKNOWN");
	assert_string_equal(ebcc_error_name(-17), "EBCC_ERR_UNKNOWN");
	assert_string_equal(ebcc_strerror(12345), "unknown error");
	assert_string_equal(ebcc_strerror(0), "success");
	assert_non_null(ebcc_strerror(-2147483647 - 1));
}

/* The lowest defined code, found the way a binding without macros would. */
static int lowest_code(void)
{
	int code = -1;

	while (strcmp(ebcc_error_name(code - 1), "EBCC_ERR_UNKNOWN") != 0)
		code--;
	return code;
}

static void codes_are_dense_and_distinct(void **state)
{
	int lowest = lowest_code();

	(void)state;
	assert_true(lowest <= EBCC_ERR_STAGE);
	for (int a = lowest; a <= 0; a++) {
		assert_string_not_equal(ebcc_error_name(a), "EBCC_ERR_UNKNOWN");
		for (int b = a + 1; b <= 0; b++) {
			assert_string_not_equal(ebcc_strerror(a), ebcc_strerror(b));
			assert_string_not_equal(ebcc_error_name(a), ebcc_error_name(b));
		}
	}
}

static void *fail_in_thread(void *arg)
{
	struct ebcc_context *ctx = NULL;

	(void)arg;
	if (ebcc_context_new(&ctx) < 0)
		return (void *)1;
	if (ebcc_context_set_option(ctx, "no_such_thread_option", "x") != EBCC_ERR_INVALID_ARG)
		return (void *)2;
	ebcc_context_unref(ctx);
	return strstr(ebcc_last_error_message(), "no_such_thread_option") ? NULL : (void *)3;
}

static void last_error_is_per_thread(void **state)
{
	struct ebcc_context *ctx = NULL;
	pthread_t thread;
	void *result;

	(void)state;
	assert_int_equal(ebcc_context_new(&ctx), 0);
	assert_int_equal(ebcc_context_set_option(ctx, "main_thread_option", "x"),
			 EBCC_ERR_INVALID_ARG);
	assert_int_equal(pthread_create(&thread, NULL, fail_in_thread, NULL), 0);
	assert_int_equal(pthread_join(thread, &result), 0);
	assert_null(result);
	assert_non_null(strstr(ebcc_last_error_message(), "main_thread_option"));
	/* Successful calls leave the message alone. */
	assert_int_equal(ebcc_context_set_option(ctx, "durability", "fsync"), 0);
	assert_non_null(strstr(ebcc_last_error_message(), "main_thread_option"));
	ebcc_context_unref(ctx);
}

static void *fresh_thread_message(void *arg)
{
	(void)arg;
	return strcmp(ebcc_last_error_message(), "") == 0 ? NULL : (void *)1;
}

static void last_error_starts_empty(void **state)
{
	pthread_t thread;
	void *result;

	(void)state;
	assert_int_equal(pthread_create(&thread, NULL, fresh_thread_message, NULL), 0);
	assert_int_equal(pthread_join(thread, &result), 0);
	assert_null(result);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(numbering_is_fixed),
		cmocka_unit_test(table_and_functions_agree),
		cmocka_unit_test(unknown_codes),
		cmocka_unit_test(codes_are_dense_and_distinct),
		cmocka_unit_test(last_error_is_per_thread),
		cmocka_unit_test(last_error_starts_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
