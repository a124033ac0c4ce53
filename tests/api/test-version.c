/* SPDX-License-Identifier: MIT */
/* The library's version agrees with the header it was built from. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <ebcc/ebcc.h>

static void version_matches_header(void **state)
{
	char expected[32];

	(void)state;
	assert_int_equal(ebcc_version(), EBCC_VERSION);
	assert_int_equal(ebcc_version() >> 16, EBCC_VERSION_MAJOR);
	assert_int_equal((ebcc_version() >> 8) & 0xff, EBCC_VERSION_MINOR);
	assert_int_equal(ebcc_version() & 0xff, EBCC_VERSION_MICRO);
	snprintf(expected, sizeof(expected), "%d.%d.%d", EBCC_VERSION_MAJOR, EBCC_VERSION_MINOR,
		 EBCC_VERSION_MICRO);
	assert_string_equal(ebcc_version_string(), expected);
	assert_string_equal(ebcc_version_string(), EBCC_VERSION_STRING);
}

static void version_encode(void **state)
{
	(void)state;
	assert_int_equal(EBCC_VERSION_ENCODE(1, 2, 3), 0x010203);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(version_matches_header),
		cmocka_unit_test(version_encode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
