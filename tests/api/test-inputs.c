/* SPDX-License-Identifier: MIT */
/*
 * Hostile documents through the public API: stage images too large to measure, keys and
 * strings with an escaped NUL in the manifest, config.json, state.json, envelopes and policies,
 * and backend options that no backend reads. Each is refused with the exact code, a message
 * naming the field, and nothing changed on disk.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <ebcc/ebcc.h>

#include "bundleutil.h"
#include "checkutil.h"

#define ONE_STAGE "[{\"name\": \"echo\", \"image\": \"stages/echo\"}]"
#define IMAGE_MAX (UINT64_C(512) << 20) /* ebcc_instance_create(3) */

struct fixture {
	char *root;
	char *bundle;
	struct ebcc_context *ctx;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->root = scratch_dir("root");
	f->bundle = scratch_dir("bundle");
	f->ctx = context_at(f->root);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ebcc_context_unref(f->ctx);
	scratch_remove(f->root);
	scratch_remove(f->bundle);
	free(f);
	return 0;
}

static void skip_without_stage(void)
{
	if (echo_stage_path() == NULL)
		skip();
}

static void assert_message_has(const char *needle)
{
	if (strstr(ebcc_last_error_message(), needle) == NULL)
		fail_msg("message \"%s\" does not name \"%s\"", ebcc_last_error_message(), needle);
}

static void assert_create_fails(struct fixture *f, int code, const char *needle)
{
	struct ebcc_instance *inst = NULL;
	int r = ebcc_instance_create(f->ctx, "bad", f->bundle, &inst);

	if (r != code)
		fail_msg("create gave %s, expected %s: %s", ebcc_error_name(r),
			 ebcc_error_name(code), ebcc_last_error_message());
	assert_message_has(needle);
	assert_null(inst);
	/* Nothing on disk: no composite, not even a state root. */
	assert_true(count_entries(f->root) <= 0);
}

static void write_manifest(struct fixture *f, const char *stages)
{
	char *manifest;

	assert_true(asprintf(&manifest, "{\"ebccVersion\": \"0.1\", \"stages\": %s}", stages) > 0);
	write_file(f->bundle, "ebcc.json", manifest, strlen(manifest));
	free(manifest);
}

/* ---- issue item 6: stage images are measured within the image limit --------------------- */

static void oversized_image_refused_before_hashing(void **state)
{
	struct fixture *f = *state;
	char path[4200];
	int fd;

	make_bundle(f->bundle, NULL, ONE_STAGE);
	snprintf(path, sizeof(path), "%s/stages/echo", f->bundle);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	/* Sparse: costs nothing to make, and seconds to hash. */
	assert_int_equal(ftruncate(fd, (off_t)(IMAGE_MAX + 1)), 0);
	close(fd);
	assert_create_fails(f, EBCC_ERR_TOO_BIG, "stage echo: image ");
	assert_message_has("is 536870913 bytes, more than the 536870912 bytes allowed");
}

/* ---- issue items 8 and 9: no NUL in any key or string ----------------------------------- */

static void nul_in_manifest_and_config(void **state)
{
	static const char nul_config[] =
		"{\"ociVersion\": \"1.0.2\", \"annotations\": {\"org.ebcc.manifest\\u0000x\": "
		"\"elsewhere.json\"}}";
	static const char nul_value[] =
		"{\"ociVersion\": \"1.0.2\", \"annotations\": {\"org.ebcc.manifest\": "
		"\"ebcc.json\\u0000x\"}}";
	struct fixture *f = *state;

	make_bundle(f->bundle, NULL, ONE_STAGE);
	/* Cut at the NUL, this would be stages/echo, which exists. */
	write_manifest(f, "[{\"name\": \"echo\", \"image\": \"stages/echo\\u0000/../x\"}]");
	assert_create_fails(f, EBCC_ERR_INVALID_ARG, "ebcc.json: \"stages[0].image\" contains a NUL");
	write_manifest(f, "[{\"name\": \"echo\", \"image\": \"stages/echo\", "
			  "\"memoryMiB\\u0000x\": 8}]");
	assert_create_fails(f, EBCC_ERR_INVALID_ARG, "the key \"stages[0].memoryMiB\\u0000x\"");
	write_manifest(f, "[{\"name\": \"echo\\u0000\", \"image\": \"stages/echo\"}]");
	assert_create_fails(f, EBCC_ERR_INVALID_ARG, "\"stages[0].name\" contains a NUL");
	write_manifest(f, ONE_STAGE);
	write_file(f->bundle, "config.json", nul_config, strlen(nul_config));
	assert_create_fails(f, EBCC_ERR_INVALID_ARG,
			    "config.json: the key \"annotations.org.ebcc.manifest\\u0000x\"");
	write_file(f->bundle, "config.json", nul_value, strlen(nul_value));
	assert_create_fails(f, EBCC_ERR_INVALID_ARG,
			    "config.json: \"annotations.org.ebcc.manifest\" contains a NUL");
}

static void nul_in_state(void **state)
{
	struct fixture *f = *state;
	struct ebcc_instance *inst = NULL;
	char path[4200], *text, *edited, *at;
	size_t len;

	make_bundle(f->bundle, NULL, ONE_STAGE);
	assert_int_equal(ebcc_instance_create(f->ctx, "nul", f->bundle, &inst), 0);
	snprintf(path, sizeof(path), "%s/nul/state.json", f->root);
	text = slurp(path, &len);
	assert_non_null(text);
	/* "id": "nul" becomes "nul\u0000x": still "nul" to a C reader. */
	at = strstr(text, "\"nul\"");
	assert_non_null(at);
	assert_true(asprintf(&edited, "%.*s\"nul\\u0000x\"%s", (int)(at - text), text,
			     at + 5) > 0);
	write_file(f->root, "nul/state.json", edited, strlen(edited));
	assert_int_equal(ebcc_instance_status(inst), EBCC_ERR_CORRUPT);
	assert_message_has("\"id\" contains a NUL");
	/* Its processes cannot be found from such a state: not removed, even by force. */
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), EBCC_ERR_CORRUPT);
	assert_message_has("not deleted");
	ebcc_instance_unref(inst);
	free(edited);
	free(text);
}

/* One invocation's evidence, as text, and a policy that verifies it. */
static void invoke_once(struct fixture *f, char **ret_envelope, char **ret_policy)
{
	struct ebcc_instance *inst = NULL;
	struct ebcc_invocation *inv = NULL;
	struct ebcc_evidence *ev = NULL;

	make_bundle(f->bundle, NULL, ONE_STAGE);
	assert_int_equal(ebcc_instance_create(f->ctx, "ev", f->bundle, &inst), 0);
	assert_int_equal(ebcc_instance_start(inst), 0);
	assert_int_equal(ebcc_stage_invoke(inst, "echo", "hi", 2, NULL, 0, &inv), 0);
	assert_int_equal(ebcc_invocation_evidence(inv, &ev), 0);
	assert_int_equal(ebcc_evidence_serialize(ev, ret_envelope), 0);
	*ret_policy = policy_for_sim(f->ctx);
	ebcc_evidence_unref(ev);
	ebcc_invocation_unref(inv);
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
	ebcc_instance_unref(inst);
}

/* The policy with text inserted before its closing brace. */
static char *policy_plus(const char *policy, const char *members)
{
	char *out;

	assert_true(asprintf(&out, "%.*s, %s}", (int)(strlen(policy) - 1), policy, members) > 0);
	return out;
}

static void verify_fails(struct fixture *f, const char *envelope, const char *policy,
			 const char *needle)
{
	struct ebcc_evidence *ev = NULL;
	int r;

	assert_int_equal(ebcc_evidence_parse(f->ctx, envelope, strlen(envelope), &ev), 0);
	r = ebcc_evidence_verify(f->ctx, ev, policy);
	if (r != EBCC_ERR_VERIFY)
		fail_msg("verify with %s gave %s: %s", policy, ebcc_error_name(r),
			 ebcc_last_error_message());
	assert_message_has(needle);
	ebcc_evidence_unref(ev);
}

static void nul_in_envelope_and_policy(void **state)
{
	struct fixture *f = *state;
	struct ebcc_evidence *ev = NULL;
	char *envelope, *policy, *bad, *at;

	skip_without_stage();
	invoke_once(f, &envelope, &policy);
	/* The simulated evidence needs allow_simulated: a key cut at its NUL would say it. */
	at = strstr(policy, "\"allow_simulated\"");
	assert_non_null(at);
	assert_true(asprintf(&bad, "%.*s\"allow_simulated\\u0000 (ignored)\"%s",
			     (int)(at - policy), policy, at + 17) > 0);
	verify_fails(f, envelope, bad, "policy: the key \"allow_simulated\\u0000 (ignored)\" "
				       "contains a NUL");
	free(bad);
	/* An envelope key cut at a NUL would be a duplicate or a known field. */
	at = strstr(envelope, "\"simulated\"");
	assert_non_null(at);
	bad = malloc(strlen(envelope) + 8);
	sprintf(bad, "%.*s\"simulated\\u0000\"%s", (int)(at - envelope), envelope, at + 11);
	assert_int_equal(ebcc_evidence_parse(f->ctx, bad, strlen(bad), &ev), EBCC_ERR_VERIFY);
	assert_null(ev);
	assert_message_has("evidence: the key \"simulated\\u0000\" contains a NUL");
	free(bad);
	free(envelope);
	free(policy);
}

/* ---- issue item 10: backend options nobody reads ------------------------------------------- */

static void policy_backend_options_must_be_read(void **state)
{
	struct fixture *f = *state;
	struct ebcc_evidence *ev = NULL;
	char *envelope, *policy, *bad;

	skip_without_stage();
	invoke_once(f, &envelope, &policy);
	bad = policy_plus(policy, "\"backend_options\": {\"tdx\": {\"tdx_root_ca\": \"x\"}}");
	verify_fails(f, envelope, bad, "policy: backend_options.tdx would be read by no backend: "
				       "the evidence is from backend sim");
	free(bad);
	bad = policy_plus(policy, "\"backend_options\": {\"tsm\": {}}");
	verify_fails(f, envelope, bad, "backend_options.tsm would be read by no backend");
	free(bad);
	bad = policy_plus(policy, "\"backend_options\": {\"sim\": {\"strict\": true}}");
	verify_fails(f, envelope, bad, "policy: backend_options.sim: unknown key \"strict\" (the "
				       "sim backend reads none)");
	free(bad);
	/* An empty object for the evidence's own backend is no option at all. */
	bad = policy_plus(policy, "\"backend_options\": {\"sim\": {}}");
	assert_int_equal(ebcc_evidence_parse(f->ctx, envelope, strlen(envelope), &ev), 0);
	assert_int_equal(ebcc_evidence_verify(f->ctx, ev, bad), 0);
	assert_int_equal(ebcc_evidence_verify(f->ctx, ev, policy), 0);
	ebcc_evidence_unref(ev);
	free(bad);
	free(envelope);
	free(policy);
}

static void stage_backend_options_must_be_read(void **state)
{
	static const char *const stages[] = {
		"[{\"name\": \"echo\", \"image\": \"stages/echo\", \"backendOptions\": "
		"{\"tdx\": {}}}]",
		"[{\"name\": \"echo\", \"image\": \"stages/echo\", \"lifetime\": \"invocation\", "
		"\"backendOptions\": {\"uuid\": \"x\"}}]",
	};
	struct fixture *f = *state;

	skip_without_stage();
	for (size_t i = 0; i < sizeof(stages) / sizeof(stages[0]); i++) {
		struct ebcc_instance *inst = NULL;
		struct ebcc_invocation *inv = NULL;
		int r;

		make_bundle(f->bundle, NULL, stages[i]);
		assert_int_equal(ebcc_instance_create(f->ctx, "opts", f->bundle, &inst), 0);
		r = ebcc_instance_start(inst);
		if (r == 0)
			r = ebcc_stage_invoke(inst, "echo", "x", 1, NULL, 0, &inv);
		if (r != EBCC_ERR_INVALID_ARG)
			fail_msg("stages %s: gave %s: %s", stages[i], ebcc_error_name(r),
				 ebcc_last_error_message());
		assert_null(inv);
		assert_message_has("stage echo: backendOptions: unknown key \"");
		assert_message_has("\" (the sim backend reads none)");
		assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
		ebcc_instance_unref(inst);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(oversized_image_refused_before_hashing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(nul_in_manifest_and_config, setup, teardown),
		cmocka_unit_test_setup_teardown(nul_in_state, setup, teardown),
		cmocka_unit_test_setup_teardown(nul_in_envelope_and_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(policy_backend_options_must_be_read, setup,
						teardown),
		cmocka_unit_test_setup_teardown(stage_backend_options_must_be_read, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
