/* SPDX-License-Identifier: MIT */
/*
 * SGX stages through the public API against the fake SGX driver, CPU and quoting enclave
 * (fake-sgx.c) behind the host operations: the sgx backend's real code path from
 * ebcc_instance_create() (the measurement), ebcc_instance_start() and ebcc_stage_invoke() down
 * to the ioctls, EENTER and the quote library's calls; as the enclave's code the echo example
 * stage (examples/stages/echo.c, unchanged) linked with libebcc-stage-sgx.a, its runtime's
 * instructions going through the x86-64 shim (fake-sgx-shim.h). Warm and per-invocation
 * stages; evidence verified offline in a context with only the built-in backends; and each
 * refusal the issue names (a wrong MRENCLAVE pin, a SIGSTRUCT by another signer, EINIT's
 * refusal, hostile enclaves answering garbage, no device, no quote library) with its error
 * and nothing left: no descriptor, no mapping, no stage thread.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "../../backends/sgx/image.h"
#include "../../lib/base/sgx-edge.h"
#include "../../lib/stage/sgx.h"
#include "../api/bundleutil.h"
#include "ebcc-private.h"
#include "fake-sgx-shim.h"
#include "fake-sgx.h"
#include "frame.h"
#include "sgx-stage-image.h"

/* examples/stages/echo.c's main(), compiled with -Dmain=sgx_echo_main. */
int sgx_echo_main(void);

enum enclave_mode { ECHO, EXIT_AT_ONCE, GARBAGE, OTHER_DATA, LONG_ARGUMENT, UNKNOWN_CALL };

static enum enclave_mode mode;
static EVP_PKEY *signer, *other_signer;

/* ---- hostile enclaves: they use the channel themselves ------------------------------------- */

static uint8_t *channel(void)
{
	void *rdi = NULL;
	size_t rsi = 0;

	ebcc__sgx_entry_regs(&rdi, &rsi);
	return rdi;
}

/* An edge call with arg_len as given (whatever the argument's size). */
static int raw_call(uint32_t id, const void *arg, size_t len, uint64_t arg_len)
{
	uint8_t *ch = channel();

	memset(ch, 0, EBCC_SGX_CHANNEL_HEADER);
	for (int i = 0; i < 4; i++)
		ch[EBCC_SGX_CHANNEL_CALL + i] = (uint8_t)(id >> (8 * i));
	for (int i = 0; i < 8; i++)
		ch[EBCC_SGX_CHANNEL_ARG_LEN + i] = (uint8_t)(arg_len >> (8 * i));
	ch[EBCC_SGX_CHANNEL_CAPACITY] = 0; /* the host's field: the host does not read it back */
	if (len > 0)
		memcpy(ch + EBCC_SGX_CHANNEL_HEADER, arg, len);
	return ebcc__sgx_exit();
}

/* Takes a request as the library would, then answers as mode says. */
static int hostile_main(void)
{
	static _Alignas(512) uint8_t target[512], report[432];
	static _Alignas(128) uint8_t data[64];
	uint8_t answer[2 * EBCC_FRAME_HEADER_SIZE + 64 + 432];

	if (mode == EXIT_AT_ONCE)
		return 3;
	if (raw_call(EBCC_EDGE_CALL_NEXT, NULL, 0, 0) < 0)
		return 1;
	switch (mode) {
	case GARBAGE:
		memset(answer, 0x41, sizeof(answer));
		raw_call(EBCC_EDGE_CALL_ANSWER, answer, sizeof(answer), sizeof(answer));
		return 0;
	case LONG_ARGUMENT:
		raw_call(EBCC_EDGE_CALL_LOG, NULL, 0, UINT64_C(1) << 40);
		return 0;
	case UNKNOWN_CALL:
		raw_call(0x1234, "x", 1, 1);
		return 0;
	case OTHER_DATA:
		/* A genuine REPORT for the quoting enclave, but over data of the enclave's
		 * choosing, sent as if it covered the report_data it claims. */
		if (raw_call(EBCC_EDGE_CALL_TARGET, NULL, 0, 0) < 0)
			return 2;
		memcpy(target, channel() + EBCC_SGX_CHANNEL_HEADER, sizeof(target));
		memset(data, 0x55, sizeof(data));
		ebcc__sgx_ereport(target, data, report);
		ebcc__frame_encode_header(answer, EBCC_FRAME_REPORT, 64 + 432);
		memset(answer + EBCC_FRAME_HEADER_SIZE, 0x66, 64);
		memcpy(answer + EBCC_FRAME_HEADER_SIZE + 64, report, 432);
		ebcc__frame_encode_header(answer + EBCC_FRAME_HEADER_SIZE + 64 + 432,
					  EBCC_FRAME_RESPONSE, 0);
		raw_call(EBCC_EDGE_CALL_ANSWER, answer, sizeof(answer), sizeof(answer));
		return 0;
	default:
		return 9;
	}
}

static int enclave_main(void *userdata)
{
	(void)userdata;
	return mode == ECHO ? sgx_echo_main() : hostile_main();
}

/* ---- fixture ------------------------------------------------------------------------------- */

struct fixture {
	struct fake_sgx *sgx;
	struct fake_sgx_shim_main main;
	char *root, *bundle;
	struct ebcc_context *ctx;
	struct ebcc_instance *inst;
	int fds;
	char measurement[EBCC_SGX_MEASUREMENT_SIZE];
};

/* The test image signed by key, with one code byte set to tweak; its measurement. */
static void write_stage(const char *bundle, EVP_PKEY *key, uint8_t tweak, char *measurement)
{
	struct image *im = malloc(sizeof(*im));
	uint8_t *enclave = malloc(8 * PAGE), *tar, ss[EBCC_SGX_SIGSTRUCT_SIZE];
	struct ebcc__sgx_sigstruct_params p;
	struct ebcc__sgx_image parsed;
	char *path;
	size_t len;

	assert_non_null(im);
	assert_non_null(enclave);
	image_init(im);
	im->code[100] = tweak;
	sgx_stage_enclave(im, enclave);
	p = sgx_stage_params(&im->layout);
	assert_int_equal(ebcc__sgx_sigstruct_sign(&p, key, ss), 0);
	tar = sgx_stage_image(enclave, 8 * PAGE, SGX_STAGE_LAYOUT_JSON, ss, &len);
	assert_int_equal(ebcc__sgx_image_parse(tar, len, "test image", &parsed), 0);
	memcpy(measurement, parsed.measurement, EBCC_SGX_MEASUREMENT_SIZE);
	ebcc__sgx_image_clear(&parsed);
	assert_true(asprintf(&path, "%s/stages", bundle) > 0);
	write_file(path, "s.tar", (const char *)tar, len);
	free(path);
	free(tar);
	free(enclave);
	free(im);
}

static void write_manifest(struct fixture *f, const char *lifetime, const char *extra)
{
	char *stages, *manifest;

	assert_true(asprintf(&stages, "[{\"name\": \"s\", \"image\": \"stages/s.tar\", "
			     "\"lifetime\": \"%s\"%s}]", lifetime, extra) > 0);
	assert_true(asprintf(&manifest, "{\"ebccVersion\": \"0.1\", \"backend\": \"sgx\", "
			     "\"stages\": %s}", stages) > 0);
	write_file(f->bundle, "ebcc.json", manifest, strlen(manifest));
	free(manifest);
	free(stages);
}

static struct fixture *setup(const char *lifetime)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->fds = count_fds();
	mode = ECHO;
	f->main = (struct fake_sgx_shim_main){ .main = enclave_main };
	f->sgx = fake_sgx_new(fake_sgx_shim_entry, &f->main);
	fake_sgx_shim_attach(f->sgx);
	f->root = scratch_dir("sgx-root");
	f->bundle = scratch_dir("sgx-bundle");
	make_bundle(f->bundle, NULL, "[{\"name\": \"s\", \"image\": \"stages/s.tar\"}]");
	write_manifest(f, lifetime, "");
	write_stage(f->bundle, signer, 0, f->measurement);
	f->ctx = context_at(f->root);
	/* The registry of ebcc-private.h: sgx bound to the fake, and nothing else. */
	ebcc__registry_free(f->ctx);
	assert_int_equal(ebcc__backend_sgx_register(f->ctx, fake_sgx_host(f->sgx)), 0);
	return f;
}

static void create(struct fixture *f)
{
	int r = ebcc_instance_create(f->ctx, "sgx1", f->bundle, &f->inst);

	if (r < 0)
		fail_msg("create: %s", ebcc_last_error_message());
}

/* Nothing of the fake left, no stage thread running. */
static void expect_clean(struct fake_sgx *sgx)
{
	assert_int_equal(fake_sgx_open_files(sgx), 0);
	assert_int_equal(fake_sgx_mappings(sgx), 0);
	assert_int_equal(fake_sgx_shim_threads(), 0);
}

static void teardown(struct fixture *f)
{
	if (f->inst != NULL) {
		assert_int_equal(ebcc_instance_delete(f->inst, EBCC_DELETE_FORCE), 0);
		ebcc_instance_unref(f->inst);
	}
	expect_clean(f->sgx);
	ebcc_context_unref(f->ctx);
	fake_sgx_free(f->sgx);
	scratch_remove(f->root);
	scratch_remove(f->bundle);
	assert_int_equal(count_fds(), f->fds);
	free(f);
}

static void expect_error(int r, int code, const char *text)
{
	if (r != code || strstr(ebcc_last_error_message(), text) == NULL)
		fail_msg("wanted %s with \"%s\", got %s: %s", ebcc_error_name(code), text,
			 ebcc_error_name(r), ebcc_last_error_message());
}

/* A verifier's policy: the fake's root, pinning measurement. */
static char *policy_for(struct fake_sgx *sgx, const char *measurement)
{
	struct json_object *root = json_object_new_object(), *opts = json_object_new_object(),
			   *s = json_object_new_object();
	char *text;

	json_object_object_add(root, "measurement", json_object_new_string(measurement));
	json_object_object_add(s, "root_ca", json_object_new_string(fake_sgx_root_pem(sgx)));
	json_object_object_add(opts, "sgx", s);
	json_object_object_add(root, "backend_options", opts);
	text = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
	return text;
}

/* One invocation: its response and, verified offline, its evidence's EID. */
static void invoke_and_verify(struct fixture *f, const char *request, const char *want,
			      uint64_t *ret_eid)
{
	struct ebcc_invocation *inv = NULL;
	struct ebcc_evidence *ev = NULL, *parsed = NULL;
	struct ebcc_context *verifier = NULL;
	const void *resp;
	size_t len;
	char *json = NULL, *policy = policy_for(f->sgx, f->measurement), *wrong;
	int r;

	r = ebcc_stage_invoke(f->inst, "s", request, strlen(request), "n0nce", 5, &inv);
	if (r < 0)
		fail_msg("invoke: %s", ebcc_last_error_message());
	assert_int_equal(ebcc_invocation_response(inv, &resp, &len), 0);
	assert_int_equal(len, strlen(want));
	assert_memory_equal(resp, want, len);
	assert_int_equal(ebcc_invocation_evidence(inv, &ev), 0);
	assert_int_equal(ebcc_evidence_serialize(ev, &json), 0);
	/* Offline: a context of its own with the built-in backends only. */
	assert_int_equal(ebcc_context_new(&verifier), 0);
	assert_int_equal(ebcc_evidence_parse(verifier, json, strlen(json), &parsed), 0);
	r = ebcc_evidence_verify(verifier, parsed, policy);
	if (r < 0)
		fail_msg("verify: %s", ebcc_last_error_message());
	assert_int_equal(ebcc_evidence_get_u64(parsed, EBCC_EVIDENCE_EID, ret_eid), 0);
	/* A verifier expecting another enclave refuses it. */
	wrong = policy_for(f->sgx, "sgx:0000000000000000000000000000000000000000000000000000000000"
				   "000000");
	assert_true(ebcc_evidence_verify(verifier, parsed, wrong) < 0);
	free(wrong);
	free(policy);
	ebcc_free(json);
	ebcc_evidence_unref(parsed);
	ebcc_evidence_unref(ev);
	ebcc_invocation_unref(inv);
	ebcc_context_unref(verifier);
}

/* ---- the lifecycle ------------------------------------------------------------------------- */

static void warm_stage(void **state)
{
	struct fixture *f = setup("instance");
	uint64_t eid1 = 0, eid2 = 0;
	struct ebcc_invocation *inv = NULL;
	const void *resp;
	size_t len;

	(void)state;
	create(f);
	assert_int_equal(ebcc_instance_start(f->inst), 0);
	/* Loaded: one enclave, initialized with the MRENCLAVE measured at create, its stage
	 * waiting in its first edge call. */
	assert_int_equal(fake_sgx_open_files(f->sgx), 1);
	assert_int_equal(fake_sgx_last_einit(f->sgx), 0);
	assert_int_equal(fake_sgx_shim_threads(), 1);
	{
		char hex[65];

		ebcc__hex_encode(fake_sgx_last_mrenclave(f->sgx), 32, hex);
		assert_string_equal(hex, f->measurement + 4);
	}
	invoke_and_verify(f, "upper:sgx", "SGX", &eid1);
	invoke_and_verify(f, "plain", "plain", &eid2);
	assert_int_equal(eid1, eid2);
	/* The handler's own failure leaves the stage running. */
	expect_error(ebcc_stage_invoke(f->inst, "s", "fail:x", 6, NULL, 0, &inv), EBCC_ERR_STAGE,
		     "failed the request: EBCC_ERR_INVALID_ARG");
	ebcc_invocation_unref(inv);
	inv = NULL;
	assert_int_equal(ebcc_stage_invoke(f->inst, "s", "again", 5, NULL, 0, &inv), 0);
	assert_int_equal(ebcc_invocation_response(inv, &resp, &len), 0);
	assert_int_equal(len, 5);
	ebcc_invocation_unref(inv);
	assert_int_equal(fake_sgx_opens(f->sgx), 1);
	assert_int_equal(ebcc_instance_kill(f->inst, 9), 0);
	expect_clean(f->sgx);
	teardown(f);
}

static void per_invocation_stage(void **state)
{
	struct fixture *f = setup("invocation");
	uint64_t eid1 = 0, eid2 = 0;

	(void)state;
	create(f);
	assert_int_equal(ebcc_instance_start(f->inst), 0);
	assert_int_equal(fake_sgx_open_files(f->sgx), 0);
	invoke_and_verify(f, "upper:one", "ONE", &eid1);
	/* Each invocation's enclave is gone with it. */
	expect_clean(f->sgx);
	invoke_and_verify(f, "two", "two", &eid2);
	expect_clean(f->sgx);
	/* A fresh enclave, and EID, per invocation. */
	assert_true(eid1 != eid2);
	teardown(f);
}

/* ---- refusals ------------------------------------------------------------------------------ */

static void wrong_mrenclave_pin(void **state)
{
	struct fixture *f = setup("instance");

	(void)state;
	write_manifest(f, "instance", ", \"measurement\": \"sgx:00000000000000000000000000000000"
				      "00000000000000000000000000000000\"");
	expect_error(ebcc_instance_create(f->ctx, "sgx1", f->bundle, &f->inst), EBCC_ERR_VERIFY,
		     f->measurement);
	assert_int_equal(fake_sgx_opens(f->sgx), 0);
	teardown(f);
}

static void image_changed_after_create(void **state)
{
	struct fixture *f = setup("instance");
	char other[EBCC_SGX_MEASUREMENT_SIZE];

	(void)state;
	create(f);
	write_stage(f->bundle, signer, 1, other);
	expect_error(ebcc_instance_start(f->inst), EBCC_ERR_VERIFY,
		     "stage s: backend sgx: the image measures sgx:");
	expect_error(ebcc_instance_start(f->inst), EBCC_ERR_VERIFY, f->measurement);
	/* Nothing reached the driver. */
	assert_int_equal(fake_sgx_opens(f->sgx), 0);
	teardown(f);
}

static void signed_by_another_key(void **state)
{
	struct fixture *f = setup("instance");
	struct image im;
	struct ebcc__sgx_sigstruct_params p;
	uint8_t ss[EBCC_SGX_SIGSTRUCT_SIZE], mrsigner[32];
	char extra[160], hex[65];

	(void)state;
	/* The operator's signer is other_signer (MRSIGNER from a SIGSTRUCT it signed); the
	 * image is signed by signer. */
	image_init(&im);
	p = sgx_stage_params(&im.layout);
	assert_int_equal(ebcc__sgx_sigstruct_sign(&p, other_signer, ss), 0);
	assert_int_equal(ebcc__sgx_sigstruct_check(ss, NULL, mrsigner), 0);
	ebcc__hex_encode(mrsigner, 32, hex);
	snprintf(extra, sizeof(extra), ", \"backendOptions\": {\"mrsigner\": \"%s\"}", hex);
	write_manifest(f, "instance", extra);
	create(f);
	expect_error(ebcc_instance_start(f->inst), EBCC_ERR_VERIFY,
		     "is signed by MRSIGNER");
	expect_error(ebcc_instance_start(f->inst), EBCC_ERR_VERIFY, hex);
	assert_int_equal(fake_sgx_opens(f->sgx), 0);
	teardown(f);
}

static void einit_refused(void **state)
{
	struct fixture *f = setup("instance");

	(void)state;
	fake_sgx_faults(f->sgx)->einit_error = FAKE_SGX_INVALID_EINITTOKEN;
	create(f);
	expect_error(ebcc_instance_start(f->inst), EBCC_ERR_BACKEND, "SGX_IOC_ENCLAVE_INIT");
	assert_int_equal(fake_sgx_last_einit(f->sgx), FAKE_SGX_INVALID_EINITTOKEN);
	teardown(f);
}

/* A warm stage whose enclave misbehaves on its first request: the error, the enclave
 * destroyed, and the stage dead from then on. */
static void hostile(enum enclave_mode m, int code, const char *why)
{
	struct fixture *f = setup("instance");
	struct ebcc_invocation *inv = NULL;

	create(f);
	mode = m;
	assert_int_equal(ebcc_instance_start(f->inst), 0);
	expect_error(ebcc_stage_invoke(f->inst, "s", "x", 1, NULL, 0, &inv), code, why);
	ebcc_invocation_unref(inv);
	inv = NULL;
	expect_clean(f->sgx);
	expect_error(ebcc_stage_invoke(f->inst, "s", "x", 1, NULL, 0, &inv), EBCC_ERR_STAGE,
		     "is not running: its enclave was destroyed after: ");
	ebcc_invocation_unref(inv);
	teardown(f);
}

static void hostile_garbage(void **state)
{
	(void)state;
	hostile(GARBAGE, EBCC_ERR_STAGE, "its answer (512 bytes) does not start with a REPORT or "
		"ERROR frame (bad magic (not a frame))");
}

static void hostile_report_for_other_data(void **state)
{
	(void)state;
	hostile(OTHER_DATA, EBCC_ERR_STAGE, "its REPORT's REPORTDATA is 5555");
}

static void hostile_long_argument(void **state)
{
	(void)state;
	hostile(LONG_ARGUMENT, EBCC_ERR_STAGE, "has an argument of 1099511627776 bytes; the "
		"channel holds");
}

static void hostile_call_id(void **state)
{
	(void)state;
	hostile(UNKNOWN_CALL, EBCC_ERR_STAGE, "it made edge call 0x1234, which is not one of "
		"libebcc's");
}

static void enclave_returns_at_load(void **state)
{
	struct fixture *f = setup("instance");

	(void)state;
	create(f);
	mode = EXIT_AT_ONCE;
	expect_error(ebcc_instance_start(f->inst), EBCC_ERR_STAGE,
		     "the stage's main() returned with value 3 before asking for a request");
	teardown(f);
}

static void no_device(void **state)
{
	struct fixture *f = setup("instance");
	char *json = NULL;

	(void)state;
	fake_sgx_faults(f->sgx)->no_device = true;
	assert_int_equal(ebcc_backend_probe(f->ctx, "sgx", &json), 0);
	assert_non_null(strstr(json, "\"available\":false"));
	if (strstr(json, "no /dev/sgx_enclave: No such file or directory: no SGX driver") == NULL ||
	    strstr(json, "never falls back to sim") == NULL)
		fail_msg("probe: %s", json);
	ebcc_free(json);
	create(f);
	expect_error(ebcc_instance_start(f->inst), EBCC_ERR_UNAVAILABLE, "/dev/sgx_enclave");
	teardown(f);
}

static void no_quote_library(void **state)
{
	struct fixture *f = setup("invocation");
	struct ebcc_invocation *inv = NULL;

	(void)state;
	fake_sgx_faults(f->sgx)->qe_absent = true;
	create(f);
	assert_int_equal(ebcc_instance_start(f->inst), 0);
	expect_error(ebcc_stage_invoke(f->inst, "s", "x", 1, NULL, 0, &inv), EBCC_ERR_UNAVAILABLE,
		     "libsgx_dcap_ql.so.1");
	ebcc_invocation_unref(inv);
	expect_clean(f->sgx);
	teardown(f);
}

/* From another process the warm enclave cannot be reached: it is in the loader's memory. */
static void warm_stage_from_another_process(void **state)
{
	struct fixture *f = setup("instance");
	pid_t pid;
	int status = 0;

	(void)state;
	create(f);
	assert_int_equal(ebcc_instance_start(f->inst), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ebcc_context *ctx = context_at(f->root);
		struct ebcc_instance *inst = NULL;
		struct ebcc_invocation *inv = NULL;
		int r;

		ebcc__registry_free(ctx);
		if (ebcc__backend_sgx_register(ctx, fake_sgx_host(f->sgx)) < 0 ||
		    ebcc_instance_open(ctx, "sgx1", &inst) < 0)
			_exit(2);
		r = ebcc_stage_invoke(inst, "s", "x", 1, NULL, 0, &inv);
		_exit(r == EBCC_ERR_STAGE && strstr(ebcc_last_error_message(),
						    "a warm sgx stage is reached only from that "
						    "process") != NULL ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	teardown(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(warm_stage),
		cmocka_unit_test(per_invocation_stage),
		cmocka_unit_test(wrong_mrenclave_pin),
		cmocka_unit_test(image_changed_after_create),
		cmocka_unit_test(signed_by_another_key),
		cmocka_unit_test(einit_refused),
		cmocka_unit_test(hostile_garbage),
		cmocka_unit_test(hostile_report_for_other_data),
		cmocka_unit_test(hostile_long_argument),
		cmocka_unit_test(hostile_call_id),
		cmocka_unit_test(enclave_returns_at_load),
		cmocka_unit_test(no_device),
		cmocka_unit_test(no_quote_library),
		cmocka_unit_test(warm_stage_from_another_process),
	};
	int r;

	signer = sgx_stage_key();
	other_signer = sgx_stage_key();
	r = cmocka_run_group_tests(tests, NULL, NULL);
	EVP_PKEY_free(signer);
	EVP_PKEY_free(other_signer);
	return r;
}
