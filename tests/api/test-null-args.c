/* SPDX-License-Identifier: MIT */
/*
 * Every exported function, called with NULL for each handle or pointer argument, answers
 * EBCC_ERR_INVALID_ARG (or the documented NULL result) and does not crash. tests/abi checks
 * that every exported symbol is named in this file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include <ebcc/backend.h>
#include <ebcc/ebcc.h>

static struct ebcc_context *ctx;

static int setup(void **state)
{
	(void)state;
	return ebcc_context_new(&ctx) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	ebcc_context_unref(ctx);
	return 0;
}

#define assert_invalid(call)                                                  \
	do {                                                                  \
		assert_int_equal((call), EBCC_ERR_INVALID_ARG);               \
		assert_string_not_equal(ebcc_last_error_message(), "");       \
	} while (0)

static void library_functions(void **state)
{
	(void)state;
	/* These take no pointers; they cannot be given NULL and never fail. */
	assert_true(ebcc_version() > 0);
	assert_non_null(ebcc_version_string());
	assert_non_null(ebcc_strerror(0));
	assert_non_null(ebcc_error_name(0));
	assert_non_null(ebcc_last_error_message());
	ebcc_free(NULL);
	{
		int64_t value = 7;

		assert_invalid(ebcc_constant(NULL, &value));
		assert_invalid(ebcc_constant("EBCC_OK", NULL));
		assert_int_equal(value, 7);
	}
}

static void context_functions(void **state)
{
	char *value = NULL;

	(void)state;
	assert_invalid(ebcc_context_new(NULL));
	assert_null(ebcc_context_ref(NULL));
	assert_null(ebcc_context_unref(NULL));
	assert_invalid(ebcc_context_set_option(NULL, "durability", "none"));
	assert_invalid(ebcc_context_set_option(ctx, NULL, "none"));
	assert_invalid(ebcc_context_set_option(ctx, "durability", NULL));
	assert_invalid(ebcc_context_get_option(NULL, "durability", &value));
	assert_invalid(ebcc_context_get_option(ctx, NULL, &value));
	assert_invalid(ebcc_context_get_option(ctx, "durability", NULL));
	assert_null(value);
	assert_invalid(ebcc_context_set_log_fn(NULL, NULL, NULL));
}

static void backend_functions(void **state)
{
	struct ebcc_backend_ops ops = { .size = sizeof(ops), .abi_version = EBCC_BACKEND_ABI_VERSION };
	char *json = NULL;

	(void)state;
	assert_invalid(ebcc_backend_register(NULL, &ops, NULL));
	assert_invalid(ebcc_backend_register(ctx, NULL, NULL));
	assert_invalid(ebcc_backend_load(NULL, "/nonexistent.so"));
	assert_invalid(ebcc_backend_load(ctx, NULL));
	assert_invalid(ebcc_backend_count(NULL));
	assert_null(ebcc_backend_name(NULL, 0));
	assert_invalid(ebcc_backend_probe(NULL, "sim", &json));
	assert_invalid(ebcc_backend_probe(ctx, NULL, &json));
	assert_invalid(ebcc_backend_probe(ctx, "sim", NULL));
	assert_invalid(ebcc_backend_attestation_key(NULL, "sim", &json));
	assert_invalid(ebcc_backend_attestation_key(ctx, NULL, &json));
	assert_invalid(ebcc_backend_attestation_key(ctx, "sim", NULL));
	assert_null(json);
}

static void instance_functions(void **state)
{
	struct ebcc_instance *inst = NULL;
	char *json = NULL;
	int status = 7;

	(void)state;
	assert_invalid(ebcc_instance_create(NULL, "id", "/tmp", &inst));
	assert_invalid(ebcc_instance_create(ctx, NULL, "/tmp", &inst));
	assert_invalid(ebcc_instance_create(ctx, "id", NULL, &inst));
	assert_invalid(ebcc_instance_create(ctx, "id", "/tmp", NULL));
	assert_invalid(ebcc_instance_open(NULL, "id", &inst));
	assert_invalid(ebcc_instance_open(ctx, NULL, &inst));
	assert_invalid(ebcc_instance_open(ctx, "id", NULL));
	assert_null(inst);
	assert_null(ebcc_instance_ref(NULL));
	assert_null(ebcc_instance_unref(NULL));
	assert_invalid(ebcc_instance_start(NULL));
	assert_invalid(ebcc_instance_kill(NULL, 15));
	assert_invalid(ebcc_instance_wait(NULL, 0, &status));
	assert_int_equal(status, 7);
	assert_invalid(ebcc_instance_delete(NULL, 0));
	assert_invalid(ebcc_instance_status(NULL));
	assert_invalid(ebcc_instance_state(NULL, &json));
	assert_invalid(ebcc_instance_set_pid(NULL, 1));
	assert_invalid(ebcc_instance_list(NULL, &json));
	assert_invalid(ebcc_instance_list(ctx, NULL));
	assert_null(json);
}

/* A well-formed envelope (parse checks its form, not its report). */
static const char envelope[] =
	"{\"version\":1,\"format\":\"ebcc.sim.v1\",\"backend\":\"sim\",\"simulated\":true,"
	"\"instance\":\"c1\",\"stage\":\"s\",\"eid\":1,\"seq\":1,\"measurement\":\"sha256:"
	"0000000000000000000000000000000000000000000000000000000000000000\",\"nonce\":\"\","
	"\"request_digest\":\"sha256:"
	"0000000000000000000000000000000000000000000000000000000000000000\",\"response_digest\":"
	"\"sha256:0000000000000000000000000000000000000000000000000000000000000000\","
	"\"report_data\":\"00000000000000000000000000000000000000000000000000000000000000000000000"
	"000000000000000000000000000000000000000000000000000000000\",\"report\":\"AAAA\"}";

static void evidence_functions(void **state)
{
	struct ebcc_evidence *ev = NULL;
	char *json = NULL;

	(void)state;
	assert_invalid(ebcc_evidence_parse(NULL, envelope, sizeof(envelope) - 1, &ev));
	assert_invalid(ebcc_evidence_parse(ctx, NULL, sizeof(envelope) - 1, &ev));
	assert_invalid(ebcc_evidence_parse(ctx, envelope, sizeof(envelope) - 1, NULL));
	assert_null(ev);
	assert_int_equal(ebcc_evidence_parse(ctx, envelope, sizeof(envelope) - 1, &ev), 0);
	assert_invalid(ebcc_evidence_serialize(NULL, &json));
	assert_invalid(ebcc_evidence_serialize(ev, NULL));
	assert_null(json);
	assert_invalid(ebcc_evidence_verify(NULL, ev, NULL));
	assert_invalid(ebcc_evidence_verify(ctx, NULL, NULL));
	assert_null(ebcc_evidence_ref(NULL));
	assert_null(ebcc_evidence_unref(NULL));
	assert_ptr_equal(ebcc_evidence_ref(ev), ev);
	assert_null(ebcc_evidence_unref(ev));
	assert_null(ebcc_evidence_unref(ev));
}

static void stage_functions(void **state)
{
	struct ebcc_invocation *inv = NULL;
	struct ebcc_evidence *ev = NULL;
	const void *data = NULL;
	char *json = NULL;
	size_t len = 0;

	(void)state;
	assert_invalid(ebcc_stage_invoke(NULL, "s", "x", 1, NULL, 0, &inv));
	assert_invalid(ebcc_stage_invoke(NULL, NULL, NULL, 1, NULL, 1, NULL));
	assert_invalid(ebcc_stage_info(NULL, "s", &json));
	assert_invalid(ebcc_stage_info(NULL, NULL, NULL));
	assert_invalid(ebcc_invocation_response(NULL, &data, &len));
	assert_int_equal(ebcc_invocation_seq(NULL), 0);
	assert_invalid(ebcc_invocation_evidence(NULL, &ev));
	assert_null(ebcc_invocation_ref(NULL));
	assert_null(ebcc_invocation_unref(NULL));
	assert_invalid(ebcc_evidence_get(NULL, "s", 0, &ev));
	assert_null(inv);
	assert_null(ev);
	assert_null(json);
}

static void report_functions(void **state)
{
	char *claims = NULL;

	(void)state;
	assert_invalid(ebcc_report_verify(NULL, "tsm", "x", 1, NULL, &claims));
	assert_invalid(ebcc_report_verify(ctx, NULL, "x", 1, NULL, &claims));
	assert_invalid(ebcc_report_verify(ctx, "tsm", NULL, 1, NULL, &claims));
	assert_invalid(ebcc_report_verify(ctx, "tsm", "x", 1, NULL, NULL));
	assert_null(claims);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(library_functions),
		cmocka_unit_test(context_functions),
		cmocka_unit_test(backend_functions),
		cmocka_unit_test(instance_functions),
		cmocka_unit_test(stage_functions),
		cmocka_unit_test(evidence_functions),
		cmocka_unit_test(report_functions),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
