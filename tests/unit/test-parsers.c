/* SPDX-License-Identifier: MIT */
/*
 * White-box: what every JSON document the library reads shares (lib/base/json.c,
 * lib/base/jsoncheck.c): no key or string with an escaped NUL, named by its path; a backend's
 * check of its options; and the bounded hash of a stage image (lib/base/digest.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "../../backends/common/image.h"
#include "ebcc-private.h"

static void assert_contains(const char *text, const char *needle)
{
	if (strstr(text, needle) == NULL)
		fail_msg("\"%s\" does not contain \"%s\"", text, needle);
}

static void parse_fails(const char *text, const char *needle)
{
	struct json_object *obj = NULL;
	int r = ebcc__json_parse(text, strlen(text), EBCC_ERR_CORRUPT, "doc", &obj);

	if (r != EBCC_ERR_CORRUPT)
		fail_msg("%s: gave %s (%s), expected EBCC_ERR_CORRUPT", text, ebcc_error_name(r),
			 ebcc_last_error_message());
	assert_null(obj);
	assert_contains(ebcc_last_error_message(), needle);
}

static void parse_ok(const char *text)
{
	struct json_object *obj = NULL;
	int r = ebcc__json_parse(text, strlen(text), EBCC_ERR_CORRUPT, "doc", &obj);

	if (r != 0)
		fail_msg("%s: %s", text, ebcc_last_error_message());
	json_object_put(obj);
}

/* Issue item 8 and 9: json-c keeps a key only up to a NUL and a C string stops there. */
static void nul_escapes_are_refused_with_their_path(void **state)
{
	(void)state;
	parse_fails("{\"allow_simulated\\u0000 (ignored)\": true}",
		    "doc: the key \"allow_simulated\\u0000 (ignored)\" contains a NUL character");
	parse_fails("{\"stages\": [{\"name\": \"e\", \"image\": \"stages/echo\\u0000/../x\"}]}",
		    "doc: \"stages[0].image\" contains a NUL character");
	parse_fails("{\"a\": [{\"b\": 1}, \"x\\u0000\"]}", "\"a[1]\" contains");
	parse_fails("{\"a\": {\"b\": {}}, \"c\": [[1], [2, \"\\u0000\"]]}", "\"c[1][1]\" contains");
	parse_fails("{\"a\": {\"k\\u0000\": 1}}", "the key \"a.k\\u0000\" contains");
	parse_fails("[\"ok\", {\"\\u0000\": 0}]", "the key \"[1].\\u0000\" contains");
	parse_fails("\"\\u0000\"", "doc: the string contains a NUL character");
	/* Hidden behind other escapes, still found. */
	parse_fails("{\"a\": \"\\\"\\\\\\u0000\"}", "\"a\" contains");
	/* Not a NUL: an escaped backslash followed by the letters u0000, and other escapes. */
	parse_ok("{\"a\": \"\\\\u0000\", \"\\\\u0000\": 1}");
	parse_ok("{\"a\": \"\\u0001\\u0100\\u00e9\", \"b\": [\"\\\\\\\\u0000\"]}");
	parse_ok("{\"a\": \"u0000\"}");
}

/* Every document reader goes through the same check, and names its document. */
static void every_document_refuses_them(void **state)
{
	static const char manifest[] =
		"{\"ebccVersion\": \"0.1\", \"stages\": [{\"name\": \"echo\", "
		"\"image\": \"stages/echo\\u0000/../x\"}]}";
	static const char config[] =
		"{\"ociVersion\": \"1.0.2\", \"process\": {\"args\": [\"/bin/true\\u0000 -x\"], "
		"\"cwd\": \"/\"}}";
	static const char annotation[] =
		"{\"ociVersion\": \"1.0.2\", \"annotations\": {\"org.ebcc.manifest\\u0000\": \"x\"}}";
	static const char state_text[] = "{\"ociVersion\\u0000\": 1}";
	static const char envelope[] = "{\"simulated\\u0000x\": false}";
	struct ebcc_manifest *m = NULL;
	struct ebcc_oci_config *c = NULL;
	struct ebcc_evidence *ev = NULL;
	struct ebcc_state *st = NULL;
	struct ebcc__policy p;

	(void)state;
	assert_int_equal(ebcc__manifest_parse(manifest, strlen(manifest), "ebcc.json", &m),
			 EBCC_ERR_INVALID_ARG);
	assert_null(m);
	assert_contains(ebcc_last_error_message(), "ebcc.json: \"stages[0].image\" contains a NUL");
	assert_int_equal(ebcc__oci_config_parse(config, strlen(config), "config.json", &c),
			 EBCC_ERR_INVALID_ARG);
	assert_contains(ebcc_last_error_message(),
			"config.json: \"process.args[0]\" contains a NUL");
	assert_int_equal(ebcc__oci_config_parse(annotation, strlen(annotation), "config.json", &c),
			 EBCC_ERR_INVALID_ARG);
	assert_null(c);
	assert_contains(ebcc_last_error_message(),
			"config.json: the key \"annotations.org.ebcc.manifest\\u0000\"");
	assert_int_equal(ebcc__state_parse(state_text, strlen(state_text), "state.json", &st),
			 EBCC_ERR_CORRUPT);
	assert_null(st);
	assert_contains(ebcc_last_error_message(), "state.json: the key \"ociVersion\\u0000\"");
	assert_int_equal(ebcc__evidence_parse(envelope, strlen(envelope), EBCC_ERR_VERIFY, &ev),
			 EBCC_ERR_VERIFY);
	assert_null(ev);
	assert_contains(ebcc_last_error_message(), "evidence: the key \"simulated\\u0000x\"");
	assert_int_equal(ebcc__policy_parse("{\"allow_simulated\\u0000 (ignored)\": true}", &p),
			 EBCC_ERR_VERIFY);
	assert_contains(ebcc_last_error_message(),
			"policy: the key \"allow_simulated\\u0000 (ignored)\"");
}

/* Issue item 10: a backend's options object, checked against the keys it reads. */
static void options_check_names_backend_and_key(void **state)
{
	static const char *const none[] = { NULL };
	static const char *const two[] = { "uuid", "command", NULL };

	(void)state;
	assert_int_equal(ebcc__json_options_check(NULL, none, "sim", EBCC_ERR_INVALID_ARG, "o"), 0);
	assert_int_equal(ebcc__json_options_check("", none, "sim", EBCC_ERR_INVALID_ARG, "o"), 0);
	assert_int_equal(ebcc__json_options_check("{}", none, "sim", EBCC_ERR_INVALID_ARG, "o"), 0);
	assert_int_equal(ebcc__json_options_check("{\"tdx\": {}}", none, "sim",
						  EBCC_ERR_INVALID_ARG, "stage s: backendOptions"),
			 EBCC_ERR_INVALID_ARG);
	assert_string_equal(ebcc_last_error_message(),
			    "stage s: backendOptions: unknown key \"tdx\" (the sim backend reads "
			    "none)");
	assert_int_equal(ebcc__json_options_check("{\"uuid\": 1, \"colour\": 2}", two, "optee",
						  EBCC_ERR_VERIFY, "w"),
			 EBCC_ERR_VERIFY);
	assert_string_equal(ebcc_last_error_message(),
			    "w: unknown key \"colour\" (the optee backend reads uuid, command)");
	assert_int_equal(ebcc__json_options_check("{\"uuid\": 1}", two, "optee", EBCC_ERR_VERIFY,
						  "w"),
			 0);
	assert_int_equal(ebcc__json_options_check("[]", none, "sim", EBCC_ERR_VERIFY, "w"),
			 EBCC_ERR_VERIFY);
	assert_contains(ebcc_last_error_message(), "w must be an object");
}

/* Issue item 6: the size is checked before a byte is hashed, and hashing stops at the limit. */
static void image_hash_is_bounded(void **state)
{
	char path[] = "/tmp/ebcc-test-hash-XXXXXX";
	uint8_t digest[EBCC_SHA256_SIZE], expected[EBCC_SHA256_SIZE];
	int fd = mkstemp(path), zero;

	(void)state;
	/* What create measures is what a process backend will load. */
	assert_true(EBCC_STAGE_IMAGE_MAX == EBCC_IMAGE_MAX);
	assert_true(fd >= 0);
	unlink(path);
	/* Sparse, 64 GiB: refused at once by its size. */
	assert_int_equal(ftruncate(fd, (off_t)64 << 30), 0);
	assert_int_equal(ebcc__sha256_fd(fd, "stage s: image big", digest), EBCC_ERR_TOO_BIG);
	assert_contains(ebcc_last_error_message(), "stage s: image big is 68719476736 bytes, "
						   "more than the 536870912 bytes allowed");
	/* At the limit it is hashed; one byte more is refused. */
	assert_int_equal(ftruncate(fd, 4096), 0);
	assert_int_equal(ebcc__sha256_fd_max(fd, "f", 4096, digest), 0);
	{
		uint8_t zeros[4096] = { 0 };

		assert_int_equal(ebcc__sha256(zeros, sizeof(zeros), expected), 0);
		assert_memory_equal(digest, expected, sizeof(digest));
	}
	assert_int_equal(ftruncate(fd, 4097), 0);
	assert_int_equal(ebcc__sha256_fd_max(fd, "f", 4096, digest), EBCC_ERR_TOO_BIG);
	close(fd);
	/* A file whose size fstat() does not know (0) but that never ends: the loop stops. */
	zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
	assert_true(zero >= 0);
	assert_int_equal(ebcc__sha256_fd_max(zero, "/dev/zero", (uint64_t)1 << 20, digest),
			 EBCC_ERR_TOO_BIG);
	assert_contains(ebcc_last_error_message(), "/dev/zero: more than the 1048576 bytes");
	close(zero);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nul_escapes_are_refused_with_their_path),
		cmocka_unit_test(every_document_refuses_them),
		cmocka_unit_test(options_check_names_backend_and_key),
		cmocka_unit_test(image_hash_is_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
