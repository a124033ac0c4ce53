/* SPDX-License-Identifier: MIT */
/*
 * The ownership rule of backend.h, through the public API: a plugin that fills its outputs
 * and then fails, in each callback in turn (tests/plugins/halfway.c). Each failure must reach
 * the caller with the backend's message, and what the outputs held must be freed exactly once:
 * run under AddressSanitizer and valgrind (.ci/run), a double free or a leak fails the test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <ebcc/backend.h>
#include <ebcc/ebcc.h>

#include "bundleutil.h"

#define MANIFEST                                                                                  \
	"{\"ebccVersion\": \"0.1\", \"backend\": \"halfway\","                                  \
	" \"stages\": [{\"name\": \"echo\", \"image\": \"stages/echo\"}]}"

static void expect(int r, int code, const char *what, const char *fragment)
{
	if (r != code)
		fail_msg("%s: %s instead of %s: %s", what, ebcc_error_name(r), ebcc_error_name(code),
			 ebcc_last_error_message());
	if (fragment != NULL && strstr(ebcc_last_error_message(), fragment) == NULL)
		fail_msg("%s: \"%s\" lacks \"%s\"", what, ebcc_last_error_message(), fragment);
}

static char *slurp_artifact(const char *root, const char *name)
{
	char path[4200], *data = calloc(1, 4096);
	FILE *f;

	assert_non_null(data);
	snprintf(path, sizeof(path), "%s/hw/stages/echo/1/%s", root, name);
	f = fopen(path, "r");
	if (f == NULL) {
		free(data);
		return NULL;
	}
	assert_true(fread(data, 1, 4095, f) > 0);
	fclose(f);
	return data;
}

/* Drives probe, key, create, start, invoke (stage_open, stage_invoke, stage_report) and
 * verify; the callback named by fail_in fails half-way, every other one succeeds. */
static void drive(const char *fail_in)
{
	const char *plugin = getenv("EBCC_PLUGIN_halfway");
	char *root = scratch_dir("halfway-root"), *bundle = scratch_dir("halfway-bundle");
	struct ebcc_context *ctx = context_at(root);
	struct ebcc_instance *inst = NULL;
	struct ebcc_invocation *inv = NULL;
	struct ebcc_evidence *ev = NULL;
	char *json = NULL, half[64];
	const void *response;
	size_t response_len;
	int r;

	assert_non_null(plugin);
	snprintf(half, sizeof(half), "%s failed half-way", fail_in);
	assert_int_equal(setenv("EBCC_HALFWAY_FAIL", fail_in, 1), 0);
	r = ebcc_backend_load(ctx, plugin);
	if (strcmp(fail_in, "init") == 0) {
		/* Refused with init's message; nothing of it stays registered. */
		expect(r, EBCC_ERR_BACKEND, "load", half);
		expect(ebcc_backend_probe(ctx, "halfway", &json), EBCC_ERR_NOT_FOUND, "probe", NULL);
		ebcc_context_unref(ctx);
		unsetenv("EBCC_HALFWAY_FAIL");
		scratch_remove(root);
		scratch_remove(bundle);
		return;
	}
	expect(r, 0, "load", NULL);

	r = ebcc_backend_probe(ctx, "halfway", &json);
	if (strcmp(fail_in, "probe") == 0) {
		expect(r, EBCC_ERR_BACKEND, "probe", half);
	} else {
		expect(r, 0, "probe", NULL);
		/* The plugin's per-context state, from its init. */
		assert_non_null(strstr(json, "\"probes\":1"));
	}
	ebcc_free(json);
	json = NULL;
	r = ebcc_backend_attestation_key(ctx, "halfway", &json);
	expect(r, strcmp(fail_in, "attestation_key") == 0 ? EBCC_ERR_BACKEND : 0, "key",
	       strcmp(fail_in, "attestation_key") == 0 ? half : NULL);
	ebcc_free(json);

	make_bundle(bundle, NULL, "[]");
	write_file(bundle, "ebcc.json", MANIFEST, strlen(MANIFEST));
	expect(ebcc_instance_create(ctx, "hw", bundle, &inst), 0, "create", NULL);
	r = ebcc_instance_start(inst);
	if (strcmp(fail_in, "stage_load") == 0) {
		expect(r, EBCC_ERR_BACKEND, "start", half);
		goto out;
	}
	expect(r, 0, "start", NULL);

	if (strcmp(fail_in, "stage_open") == 0) {
		/* The handle that started the composite invokes through the load's handle: only
		 * another one opens the stage. */
		struct ebcc_instance *other = NULL;

		expect(ebcc_instance_open(ctx, "hw", &other), 0, "open", NULL);
		expect(ebcc_stage_invoke(other, "echo", "ping", 4, "n", 1, &inv), EBCC_ERR_BACKEND,
		       "invoke through another handle", half);
		assert_null(inv);
		ebcc_instance_unref(other);
	}
	r = ebcc_stage_invoke(inst, "echo", "ping", 4, "n", 1, &inv);
	if (strcmp(fail_in, "stage_invoke") == 0 || strcmp(fail_in, "stage_report") == 0) {
		char *log = slurp_artifact(root, "log.txt");

		expect(r, EBCC_ERR_STAGE, "invoke", half);
		/* A failed stage_invoke's log is the core's too: it is kept. */
		if (strcmp(fail_in, "stage_invoke") == 0) {
			assert_non_null(log);
			assert_non_null(strstr(log, "halfway: the stage logged this"));
		}
		free(log);
	} else {
		expect(r, 0, "invoke", NULL);
		assert_int_equal(ebcc_invocation_response(inv, &response, &response_len), 0);
		assert_int_equal(response_len, 4);
		assert_memory_equal(response, "ping", 4);
		assert_int_equal(ebcc_invocation_evidence(inv, &ev), 0);
		r = ebcc_evidence_verify(ctx, ev, "{\"allow_simulated\": true}");
		expect(r, strcmp(fail_in, "verify_report") == 0 ? EBCC_ERR_VERIFY : 0, "verify",
		       strcmp(fail_in, "verify_report") == 0 ? half : NULL);
	}
out:
	ebcc_evidence_unref(ev);
	ebcc_invocation_unref(inv);
	expect(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0, "delete", NULL);
	ebcc_instance_unref(inst);
	ebcc_context_unref(ctx);
	unsetenv("EBCC_HALFWAY_FAIL");
	scratch_remove(root);
	scratch_remove(bundle);
}

static void nothing_fails(void **state)
{
	(void)state;
	drive("none");
}

#define HALFWAY(callback)                                                                         \
	static void callback##_fails(void **state)                                                \
	{                                                                                         \
		(void)state;                                                                      \
		drive(#callback);                                                                 \
	}
HALFWAY(init)
HALFWAY(probe)
HALFWAY(attestation_key)
HALFWAY(stage_load)
HALFWAY(stage_open)
HALFWAY(stage_invoke)
HALFWAY(stage_report)
HALFWAY(verify_report)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nothing_fails),	cmocka_unit_test(init_fails),
		cmocka_unit_test(probe_fails),
		cmocka_unit_test(attestation_key_fails), cmocka_unit_test(stage_load_fails),
		cmocka_unit_test(stage_open_fails),	cmocka_unit_test(stage_invoke_fails),
		cmocka_unit_test(stage_report_fails),	cmocka_unit_test(verify_report_fails),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
