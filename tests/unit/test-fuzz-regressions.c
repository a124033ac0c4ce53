/* SPDX-License-Identifier: MIT */
/*
 * White-box: every input that broke a property of a fuzz harness (tests/fuzz), replayed exactly
 * as found, with the neighbouring inputs that must keep working. Each input is also in the
 * harness's seed corpus under tests/fuzz/corpus/<harness>/regression-*.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "ebcc-private.h"

/* A state.json with no stages, no imageRoot, the given "bundle" and "created". */
static char *state_text_in(const char *bundle, const char *created)
{
	char *text = NULL;

	assert_true(asprintf(&text,
			     "{\"ociVersion\":\"1.0.2\",\"id\":\"fz\",\"bundle\":\"%s\","
			     "\"annotations\":{},\"ebcc\":{\"stateVersion\":1,\"created\":\"%s\","
			     "\"backend\":\"sim\",\"phase\":\"created\",\"killSignal\":0,"
			     "\"anchorMode\":\"none\",\"anchorPid\":0,\"anchorStartTime\":0,"
			     "\"monitorPid\":0,\"monitorStartTime\":0,\"stages\":[]}}",
			     bundle, created) > 0);
	return text;
}

static char *state_text(const char *created)
{
	return state_text_in("/b", created);
}

/*
 * fuzz-state, tests/fuzz/corpus/state/regression-created-cut-in-utf8: "created" of 38 ASCII
 * bytes and a two-byte character was cut to 39 bytes, inside the character, and the state
 * written back was not UTF-8, so the next read called the composite corrupt. A "created" that
 * does not fit is refused when read.
 */
static void state_created_cut_inside_utf8(void **state)
{
	_cleanup_free_ char *text = state_text("2026-11-21T09:00:42.471333150000000000\xc3\xa9");
	struct ebcc_state *st = NULL;

	(void)state;
	assert_int_equal(ebcc__state_parse(text, strlen(text), "state.json", &st),
			 EBCC_ERR_CORRUPT);
	assert_null(st);
	assert_non_null(strstr(ebcc_last_error_message(), "state.json: ebcc: \"created\" is longer "
							 "than 39 bytes"));
}

/* The longest "created" that fits is read and written back unchanged. */
static void state_created_longest_round_trips(void **state)
{
	static const char created[] = "2026-11-21T09:00:42.471333150000000000Z";
	_cleanup_free_ char *text = state_text(created), *written = NULL;
	struct ebcc_state *st = NULL, *back = NULL;

	(void)state;
	assert_int_equal(strlen(created), 39);
	assert_int_equal(ebcc__state_parse(text, strlen(text), "state.json", &st), 0);
	assert_string_equal(st->created, created);
	assert_int_equal(ebcc__state_to_json(st, &written), 0);
	assert_int_equal(ebcc__state_parse(written, strlen(written), "state.json", &back), 0);
	assert_string_equal(back->created, created);
	ebcc__state_free(st);
	ebcc__state_free(back);
}

/* A manifest whose stage "s" has backendOptions {"a": depth nested arrays}. */
static char *manifest_text(int depth)
{
	char *text = NULL;

	assert_true(asprintf(&text,
			     "{\"ebccVersion\":\"0.1\",\"stages\":[{\"name\":\"s\",\"image\":\"i\","
			     "\"backendOptions\":{\"a\":%.*s%.*s}}]}",
			     depth, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", depth,
			     "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]") > 0);
	return text;
}

/* state.json of a composite made from m (as create writes it): 0 when it reads back. */
static int state_round_trip(struct ebcc_manifest *m)
{
	static char oci_version[] = "1.0.2", id[] = "fz", bundle[] = "/b", sim[] = "sim";
	struct ebcc_state st = {
		.refcount = 1,
		.oci_version = oci_version,
		.id = id,
		.bundle = bundle,
		.annotations = json_object_new_object(),
		.backend = sim,
		.created = "2026-01-01T00:00:00Z",
		.phase = EBCC_PHASE_CREATED,
		.n_stages = m->n_stages,
		.stages = m->stages,
	};
	_cleanup_free_ char *text = NULL;
	struct ebcc_state *back = NULL;
	int r;

	for (size_t i = 0; i < m->n_stages; i++)
		snprintf(m->stages[i].measurement, sizeof(m->stages[i].measurement), "sha256:%064x",
			 0);
	r = ebcc__state_to_json(&st, &text);
	if (r == 0)
		r = ebcc__state_parse(text, strlen(text), "state.json", &back);
	ebcc__state_free(back);
	json_object_put(st.annotations);
	return r;
}

/*
 * fuzz-config, tests/fuzz/corpus/config/regression-options-too-deep-for-state: backendOptions
 * nested as deep as the manifest allows were accepted, but state.json keeps them one level
 * deeper, beyond what a state may nest, so a composite created from the bundle could never be
 * opened again. The manifest refuses them.
 */
/*
 * fuzz-state: a state.json without imageRoot (as libebcc 0.1 wrote it) whose "bundle" is
 * relative. The image root derived from it was written back as an imageRoot with a relative
 * path, which does not read. Refused when read; an absolute bundle still round-trips.
 */
static void state_relative_bundle_without_image_root(void **state)
{
	_cleanup_free_ char *text = state_text("2026-11-21T09:00:42Z"), *written = NULL;
	_cleanup_free_ char *relative = state_text_in("b", "2026-11-21T09:00:42Z");
	struct ebcc_state *st = NULL, *back = NULL;

	(void)state;
	assert_int_equal(ebcc__state_parse(text, strlen(text), "state.json", &st), 0);
	assert_int_equal(ebcc__state_to_json(st, &written), 0);
	assert_int_equal(ebcc__state_parse(written, strlen(written), "state.json", &back), 0);
	ebcc__state_free(st);
	ebcc__state_free(back);
	st = NULL;
	assert_int_equal(ebcc__state_parse(relative, strlen(relative), "state.json", &st),
			 EBCC_ERR_CORRUPT);
	assert_null(st);
	assert_non_null(strstr(ebcc_last_error_message(), "\"bundle\" is not an absolute path"));
}

static void manifest_options_too_deep_for_state(void **state)
{
	_cleanup_free_ char *text = manifest_text(28);
	struct ebcc_manifest *m = NULL;

	(void)state;
	assert_int_equal(ebcc__manifest_parse(text, strlen(text), "ebcc.json", &m),
			 EBCC_ERR_INVALID_ARG);
	assert_null(m);
	assert_string_equal(ebcc_last_error_message(),
			    "stage s: backendOptions nest 29 levels deep; at most 28 are allowed");
}

/* fuzz-config, regression-backend-options-depth-in-state: a scalar inside the deepest array is a
 * level of its own to json-c, so [[1]] nests as deep as [[[]]]; such options were accepted one
 * level too deep for state.json. */
static void manifest_options_scalar_is_a_level(void **state)
{
	_cleanup_free_ char *text = NULL;
	struct ebcc_manifest *m = NULL;

	(void)state;
	assert_true(asprintf(&text,
			     "{\"ebccVersion\":\"0.1\",\"stages\":[{\"name\":\"s\",\"image\":\"i\","
			     "\"backendOptions\":{\"a\":%.*s1%.*s}}]}",
			     27, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", 27,
			     "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]") > 0);
	assert_int_equal(ebcc__manifest_parse(text, strlen(text), "ebcc.json", &m),
			 EBCC_ERR_INVALID_ARG);
	assert_null(m);
	assert_string_equal(ebcc_last_error_message(),
			    "stage s: backendOptions nest 29 levels deep; at most 28 are allowed");
}

/* One level less is accepted, and the state of a composite made from it reads back. */
static void manifest_options_deepest_round_trips(void **state)
{
	_cleanup_free_ char *text = manifest_text(27);
	struct ebcc_manifest *m = NULL;

	(void)state;
	assert_int_equal(ebcc__manifest_parse(text, strlen(text), "ebcc.json", &m), 0);
	assert_int_equal(state_round_trip(m), 0);
	ebcc__manifest_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(state_created_cut_inside_utf8),
		cmocka_unit_test(state_created_longest_round_trips),
		cmocka_unit_test(state_relative_bundle_without_image_root),
		cmocka_unit_test(manifest_options_too_deep_for_state),
		cmocka_unit_test(manifest_options_deepest_round_trips),
		cmocka_unit_test(manifest_options_scalar_is_a_level),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
