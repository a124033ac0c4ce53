/* SPDX-License-Identifier: MIT */
/*
 * The tsm and optee backends on this host, through the public API only: they are built in,
 * they say whether the kernel interface they drive is here and, when it is not, name what is
 * missing; a composite on them fails to start with EBCC_ERR_UNAVAILABLE and that reason; and
 * nothing of it disturbs the other backends. The expectations follow the host: where
 * configfs-tsm or /dev/tee0 exist, the precise reason is not asserted.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <ebcc/backend.h>
#include <ebcc/ebcc.h>

#include "bundleutil.h"

#define REPORT_DIR "/sys/kernel/config/tsm/report"

static void built_in(void **state)
{
	struct ebcc_context *ctx = NULL;
	bool tsm = false, optee = false;

	(void)state;
	assert_int_equal(ebcc_context_new(&ctx), 0);
	for (int i = 0; i < ebcc_backend_count(ctx); i++) {
		tsm |= strcmp(ebcc_backend_name(ctx, i), "tsm") == 0;
		optee |= strcmp(ebcc_backend_name(ctx, i), "optee") == 0;
	}
	assert_true(tsm && optee);
	ebcc_context_unref(ctx);
}

static void probe(void **state)
{
	struct ebcc_context *ctx = NULL;
	char *json = NULL;

	(void)state;
	assert_int_equal(ebcc_context_new(&ctx), 0);
	assert_int_equal(ebcc_backend_probe(ctx, "tsm", &json), 0);
	assert_non_null(strstr(json, "\"name\":\"tsm\""));
	assert_non_null(strstr(json, "\"isolation\":\"vm\""));
	assert_non_null(strstr(json, "\"simulated\":false"));
	assert_non_null(strstr(json, "\"evidence_format\":\"ebcc.tsm.v1\""));
	if (access(REPORT_DIR, F_OK) != 0) {
		assert_non_null(strstr(json, "\"available\":false"));
		assert_non_null(strstr(json, "\"reason\":\"no " REPORT_DIR ": configfs-tsm not "
					     "mounted or no TSM provider\""));
	}
	ebcc_free(json);
	assert_int_equal(ebcc_backend_probe(ctx, "optee", &json), 0);
	assert_non_null(strstr(json, "\"name\":\"optee\""));
	assert_non_null(strstr(json, "\"isolation\":\"embedded\""));
	assert_non_null(strstr(json, "\"evidence_format\":\"ebcc.optee.v1\""));
	if (access("/dev/tee0", F_OK) != 0) {
		assert_non_null(strstr(json, "\"available\":false"));
		assert_non_null(strstr(json, "\"reason\":\"no /dev/tee0: No such file or directory "
					     "(ENOENT): no TEE driver"));
	}
	ebcc_free(json);
	/* The others are untouched by them. */
	assert_int_equal(ebcc_backend_probe(ctx, "sim", &json), 0);
	assert_non_null(strstr(json, "\"available\":true"));
	ebcc_free(json);
	ebcc_context_unref(ctx);
}

static void keys(void **state)
{
	char *root = scratch_dir("tee-keys"), *pem = NULL;
	struct ebcc_context *ctx = context_at(root);

	(void)state;
	/* tsm has no key of its own: vendors' roots vouch for its reports. */
	assert_int_equal(ebcc_backend_attestation_key(ctx, "tsm", &pem), EBCC_ERR_UNAVAILABLE);
	assert_non_null(strstr(ebcc_last_error_message(), "backend tsm has no attestation key"));
	if (access("/dev/tee0", F_OK) != 0) {
		assert_int_equal(ebcc_backend_attestation_key(ctx, "optee", &pem),
				 EBCC_ERR_UNAVAILABLE);
		assert_non_null(strstr(ebcc_last_error_message(), "no /dev/tee0"));
	}
	assert_null(pem);
	ebcc_context_unref(ctx);
	scratch_remove(root);
}

static void start(const char *backend, const char *options, const char *missing,
		  const char *reason)
{
	static const char config[] = "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}}";
	char *root = scratch_dir("tee-root"), *bundle = scratch_dir("tee-bundle"), *manifest;
	struct ebcc_context *ctx = context_at(root);
	struct ebcc_instance *inst = NULL;
	const char *image = echo_stage_path();

	assert_true(asprintf(&manifest,
			     "{\"ebccVersion\": \"0.1\", \"backend\": \"%s\", \"stages\": ["
			     "{\"name\": \"s\", \"image\": \"stages/s\", \"backendOptions\": %s}]}",
			     backend, options) > 0);
	write_file(bundle, "config.json", config, strlen(config));
	write_file(bundle, "ebcc.json", manifest, strlen(manifest));
	copy_file(image != NULL ? image : "/bin/true", bundle, "stages/s", 0755);
	assert_int_equal(ebcc_instance_create(ctx, "t", bundle, &inst), 0);
	if (access(missing, F_OK) != 0) {
		assert_int_equal(ebcc_instance_start(inst), EBCC_ERR_UNAVAILABLE);
		assert_non_null(strstr(ebcc_last_error_message(), reason));
		assert_int_equal(ebcc_instance_status(inst), EBCC_STATUS_CREATED);
	}
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
	ebcc_instance_unref(inst);
	ebcc_context_unref(ctx);
	free(manifest);
	scratch_remove(root);
	scratch_remove(bundle);
}

static void start_tsm(void **state)
{
	(void)state;
	start("tsm", "{}", REPORT_DIR,
	      "stage s: no " REPORT_DIR ": configfs-tsm not mounted or no TSM provider");
}

static void start_optee(void **state)
{
	(void)state;
	start("optee", "{\"uuid\": \"8aaaf200-2450-11e4-abe2-0002a5d5c51b\"}", "/dev/tee0",
	      "stage s: no /dev/tee0: No such file or directory (ENOENT)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(built_in),
		cmocka_unit_test(probe),
		cmocka_unit_test(keys),
		cmocka_unit_test(start_tsm),
		cmocka_unit_test(start_optee),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
