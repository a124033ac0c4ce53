/* SPDX-License-Identifier: MIT */
/*
 * White-box: a backend's part of a verification policy (backends/common/policyopts.c). The
 * core hands it over parsed out (ebcc_backend_report_check since 0.2: backend_options_json and
 * the verification time); from a core that fills only the 0.1 fields the backend finds it in
 * policy_json itself. Both ways must read the same part, the same time and refuse the same
 * parts with the same messages.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "check-policy.h"
#include "ebcc-private.h"
#include "policyopts.h"

/* The size of the check as a 0.1 core fills it: up to policy_json. */
#define CHECK_SIZE_0_1 offsetof(struct ebcc_backend_report_check, backend_options_json)

static const char *const known[] = { "allow_debug", "provider", NULL };

/* part_get on a check filled the 0.2 way (new) or the 0.1 way (!new), for backend "tsm". */
static int part_of(const char *policy, bool new, struct ebcc__policy_part *part, char *message,
		   size_t size)
{
	struct ebcc_backend_report_check c = { .size = sizeof(c) };
	int r;

	check_policy_set(&c, policy, "tsm");
	if (!new) {
		c.size = CHECK_SIZE_0_1;
		/* What lies beyond a 0.1 core's check is never read. */
		c.backend_options_json = "{\"provider\": 7}";
		c.has_verification_time = 1;
	}
	r = ebcc__policy_part_get(&c, "tsm", known, part);
	snprintf(message, size, "%s", r < 0 ? ebcc_last_error_message() : "");
	return r;
}

/* Both ways agree on policy: same result, part (as compact JSON), time and message. */
static void both_ways(const char *policy, int expected, const char *part_json, int64_t time,
		      const char *needle)
{
	for (int way = 0; way < 2; way++) {
		struct ebcc__policy_part p = { 0 };
		char message[EBCC_ERROR_MESSAGE_MAX];
		int r = part_of(policy, way == 0, &p, message, sizeof(message));

		if (r != expected)
			fail_msg("%s (%s): %s, expected %s: %s", policy, way == 0 ? "0.2" : "0.1",
				 ebcc_error_name(r), ebcc_error_name(expected), message);
		if (r < 0) {
			if (strstr(message, needle) == NULL)
				fail_msg("%s: \"%s\" does not contain \"%s\"", policy, message,
					 needle);
			assert_null(p.mine);
			continue;
		}
		if (part_json == NULL)
			assert_null(p.mine);
		else
			assert_string_equal(json_object_to_json_string_ext(p.mine,
									   JSON_C_TO_STRING_PLAIN),
					    part_json);
		assert_int_equal(p.has_verification_time, time != 0);
		assert_int_equal(p.verification_time, time);
		ebcc__policy_part_clear(&p);
	}
}

static void test_the_part_and_the_time(void **state)
{
	(void)state;
	both_ways("{\"verification_time\":\"2024-05-01T12:00:00Z\",\"backend_options\":{\"tsm\":"
		  "{\"allow_debug\":true}}}", 0, "{\"allow_debug\":true}", 1714564800, NULL);
	both_ways("{\"backend_options\":{\"tsm\":{}}}", 0, "{}", 0, NULL);
	both_ways("{\"allow_simulated\":true}", 0, NULL, 0, NULL);
	both_ways(NULL, 0, NULL, 0, NULL);
	both_ways("", 0, NULL, 0, NULL);
}

static void test_the_same_refusals(void **state)
{
	(void)state;
	both_ways("{\"backend_options\":{\"tsm\":[1]}}", EBCC_ERR_VERIFY, NULL, 0,
		  "policy: backend_options.tsm must be an object, not an array");
	both_ways("{\"backend_options\":{\"tsm\":{\"colour\":1}}}", EBCC_ERR_VERIFY, NULL, 0,
		  "policy: backend_options.tsm: unknown key \"colour\" (known: allow_debug, "
		  "provider)");
}

/* The core hands over the part under the name the backend is registered as, and policy_json
 * is then not read at all. */
static void test_the_core_names_the_part(void **state)
{
	struct ebcc_backend_report_check c = {
		.size = sizeof(c),
		.policy_json = "not JSON",
		.backend_options_json = "{\"provider\":\"tdx_guest\"}",
		.has_verification_time = 1,
		.verification_time = 42,
	};
	struct ebcc__policy_part p;

	(void)state;
	assert_int_equal(ebcc__policy_part_get(&c, "tsm", known, &p), 0);
	assert_string_equal(json_object_get_string(json_object_object_get(p.mine, "provider")),
			    "tdx_guest");
	assert_true(p.has_verification_time);
	assert_int_equal(p.verification_time, 42);
	ebcc__policy_part_clear(&p);

	check_policy_set(&c, "{\"backend_options\":{\"tsm-plugin\":{\"allow_debug\":true}}}",
			 "tsm-plugin");
	assert_string_equal(c.backend_options_json, "{\"allow_debug\":true}");
	assert_int_equal(ebcc__policy_part_get(&c, "tsm", known, &p), 0);
	assert_non_null(p.mine);
	ebcc__policy_part_clear(&p);

	/* A part that is not JSON (no core hands one over) is refused, not read as absent. */
	c.backend_options_json = "{\"provider\":";
	assert_int_equal(ebcc__policy_part_get(&c, "tsm", known, &p), EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "policy: backend_options"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_part_and_the_time),
		cmocka_unit_test(test_the_same_refusals),
		cmocka_unit_test(test_the_core_names_the_part),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
