/* SPDX-License-Identifier: MIT */
/*
 * Keystone stages through the public API against the fake driver and security monitor
 * (fake-keystone.c) behind the host operations: the keystone backend's real code path from
 * ebcc_instance_start() and ebcc_stage_invoke() down to the ioctls, and as the eapp the echo
 * example stage (examples/stages/echo.c, unchanged) linked with libebcc-stage-keystone.a, its
 * Eyrie calls going through the x86-64 shim (fake-keystone-shim.h). Warm and per-invocation
 * stages; evidence verified offline in a context with only the built-in backends; and every
 * failure the issue names (an image changed after create, the SM refusing FINALIZE, ENOMEM at
 * CREATE, hostile eapps answering garbage, a report over other data or edge-call offsets out of
 * the UTM, an eapp that exits or never stops, no device) with its error and nothing left in the
 * fake: no descriptor, no mapping, no enclave.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "../../backends/keystone/image.h"
#include "frame.h"
#include "../../lib/stage/eyrie.h"
#include "keystone-edge.h"
#include "../api/bundleutil.h"
#include "ebcc-private.h"
#include "fake-keystone-shim.h"
#include "fake-keystone.h"

/* examples/stages/echo.c's main(), compiled with -Dmain=ks_echo_main. */
int ks_echo_main(void);

enum eapp_mode {
	ECHO,
	EXIT_AT_ONCE,
	GARBAGE,
	OTHER_DATA,
	OTHER_ENCLAVE,
	BIG_RESPONSE,
	BAD_OFFSET,
	UNKNOWN_CALL
};

static enum eapp_mode mode;

/* ---- hostile eapps: they speak the edge-call protocol themselves ------------------------------- */

static int raw_ocall(uint32_t id, const void *arg, size_t len, void *ret, size_t ret_len)
{
	return (int)ebcc__eyrie_syscall(EBCC_EYRIE_OCALL, id, (uintptr_t)arg, len, (uintptr_t)ret,
					ret_len);
}

/* Takes a request as the library would, then answers as mode says. */
static int hostile_main(void)
{
	static uint8_t next[EBCC_EDGE_NEXT_MAX], report[EBCC_KS_EYRIE_REPORT_BUF];
	uint8_t answer[2 * EBCC_FRAME_HEADER_SIZE + 64 + 1352 + 16] = { 0 };
	uint8_t data[64];

	if (mode == EXIT_AT_ONCE)
		return 3;
	if (raw_ocall(EBCC_EDGE_CALL_NEXT, NULL, 0, next, sizeof(next)) != 0)
		return 1;
	switch (mode) {
	case GARBAGE:
		memset(answer, 0x41, sizeof(answer));
		raw_ocall(EBCC_EDGE_CALL_ANSWER, answer, sizeof(answer), NULL, 0);
		return 0;
	case BAD_OFFSET:
		fake_ks_ocall_raw(fake_ks_shim_current(), EBCC_EDGE_CALL_LOG, 1u << 30, 64);
		return 0;
	case UNKNOWN_CALL:
		raw_ocall(0x1234, "x", 1, NULL, 0);
		return 0;
	case OTHER_DATA:
	case OTHER_ENCLAVE:
	case BIG_RESPONSE:
		/* A genuine SM report, but over data of the eapp's choosing, sent as if it
		 * covered the report_data it claims; or over that report_data, with another
		 * enclave's hash; or with a RESPONSE header larger than maxResponse. */
		memset(data, 0x66, sizeof(data));
		if (mode == OTHER_DATA)
			memset(data, 0x55, sizeof(data));
		if (ebcc__eyrie_syscall(EBCC_EYRIE_ATTEST_ENCLAVE, (uintptr_t)report,
					(uintptr_t)data, sizeof(data), 0, 0) != 0)
			return 2;
		ebcc__frame_encode_header(answer, EBCC_FRAME_REPORT, 64 + 1352);
		memset(answer + EBCC_FRAME_HEADER_SIZE, 0x66, 64);
		memcpy(answer + EBCC_FRAME_HEADER_SIZE + 64, report, 1352);
		if (mode == OTHER_ENCLAVE)
			answer[EBCC_FRAME_HEADER_SIZE + 64 + 5] ^= 1;
		ebcc__frame_encode_header(answer + EBCC_FRAME_HEADER_SIZE + 64 + 1352,
					  EBCC_FRAME_RESPONSE, mode == BIG_RESPONSE ? 1u << 21 : 0);
		raw_ocall(EBCC_EDGE_CALL_ANSWER, answer, 2 * EBCC_FRAME_HEADER_SIZE + 64 + 1352, NULL,
			  0);
		return 0;
	default:
		return 9;
	}
}

static int eapp_main(void *userdata)
{
	(void)userdata;
	return mode == ECHO ? ks_echo_main() : hostile_main();
}

/* ---- fixture ------------------------------------------------------------------------------------ */

struct fixture {
	struct fake_ks *k;
	struct fake_ks_shim_main main;
	char *root, *bundle;
	struct ebcc_context *ctx;
	struct ebcc_instance *inst;
	int fds;
	char measurement[EBCC_KS_MEASUREMENT_SIZE];
};

static void write_stage(const char *bundle, const char *eapp_text, char *measurement)
{
	static uint8_t loader[6000], runtime[9000];
	char *dir, *cmd;
	const uint8_t *files[3] = { loader, runtime, (const uint8_t *)eapp_text };
	size_t lens[3] = { sizeof(loader), sizeof(runtime), strlen(eapp_text) };
	uint8_t hash[64];

	for (size_t i = 0; i < sizeof(loader); i++)
		loader[i] = (uint8_t)(i * 3 + 1);
	for (size_t i = 0; i < sizeof(runtime); i++)
		runtime[i] = (uint8_t)(i * 11 + 7);
	assert_true(asprintf(&dir, "%s/ks", bundle) > 0);
	write_file(bundle, "ks/loader.bin", (const char *)loader, sizeof(loader));
	write_file(bundle, "ks/eyrie-rt", (const char *)runtime, sizeof(runtime));
	/* The eapp file is only hashed: what runs is this test's x86-64 build of echo.c. */
	write_file(bundle, "ks/eapp", eapp_text, strlen(eapp_text));
	assert_true(asprintf(&cmd, "cd '%s' && tar --format=ustar -cf ../stages/k.tar loader.bin "
			     "eyrie-rt eapp", dir) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(dir);
	assert_int_equal(ebcc__ks_measure(files, lens, hash), 0);
	memcpy(measurement, "keystone:", 9);
	ebcc__hex_encode(hash, 64, measurement + 9);
}

static struct fixture *setup(const char *lifetime, const char *timeout_ms)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char *stages, *manifest;

	assert_non_null(f);
	f->fds = count_fds();
	mode = ECHO;
	f->main = (struct fake_ks_shim_main){ .main = eapp_main };
	f->k = fake_ks_new(fake_ks_shim_eapp, &f->main);
	f->root = scratch_dir("ks-root");
	f->bundle = scratch_dir("ks-bundle");
	assert_true(asprintf(&stages, "[{\"name\": \"k\", \"image\": \"stages/k.tar\", "
			     "\"lifetime\": \"%s\", \"timeoutMs\": %s}]", lifetime,
			     timeout_ms) > 0);
	make_bundle(f->bundle, NULL, stages);
	assert_true(asprintf(&manifest, "{\"ebccVersion\": \"0.1\", \"backend\": \"keystone\", "
			     "\"stages\": %s}", stages) > 0);
	write_file(f->bundle, "ebcc.json", manifest, strlen(manifest));
	free(manifest);
	free(stages);
	write_stage(f->bundle, "an eapp ELF would be here", f->measurement);
	f->ctx = context_at(f->root);
	/* The registry of ebcc-private.h: keystone bound to the fake, and nothing else. */
	ebcc__registry_free(f->ctx);
	assert_int_equal(ebcc__backend_keystone_register(f->ctx, fake_ks_host(f->k)), 0);
	return f;
}

static void create(struct fixture *f)
{
	assert_int_equal(ebcc_instance_create(f->ctx, "ks1", f->bundle, &f->inst), 0);
}

/* Nothing of the fake left, no descriptor of this process leaked. */
static void expect_clean(struct fake_ks *k)
{
	assert_int_equal(fake_ks_live_enclaves(k), 0);
	assert_int_equal(fake_ks_open_files(k), 0);
	assert_int_equal(fake_ks_live_maps(k), 0);
	assert_int_equal(fake_ks_use_after_free(k), 0);
}

static void teardown(struct fixture *f)
{
	if (f->inst != NULL) {
		assert_int_equal(ebcc_instance_delete(f->inst, EBCC_DELETE_FORCE), 0);
		ebcc_instance_unref(f->inst);
	}
	expect_clean(f->k);
	ebcc_context_unref(f->ctx);
	fake_ks_free(f->k);
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

static char *pem_of(const uint8_t pk[32])
{
	EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, 32);
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out;
	long len;

	assert_int_equal(PEM_write_bio_PUBKEY(bio, key), 1);
	len = BIO_get_mem_data(bio, &data);
	out = strndup(data, (size_t)len);
	BIO_free(bio);
	EVP_PKEY_free(key);
	return out;
}

/* A verifier's policy for the fake's device key and SM, pinning measurement. */
static char *policy_for(struct fake_ks *k, const char *measurement)
{
	bool test_key;
	char *pem = pem_of(fake_ks_device_key(k, &test_key)), sm[129], *text;
	struct json_object *root = json_object_new_object(), *keys = json_object_new_array(),
			   *opts = json_object_new_object(), *ks = json_object_new_object();

	ebcc__hex_encode(fake_ks_sm_hash(k), 64, sm);
	json_object_array_add(keys, json_object_new_string(pem));
	json_object_object_add(root, "trusted_keys", keys);
	json_object_object_add(root, "measurement", json_object_new_string(measurement));
	json_object_object_add(ks, "sm_hash", json_object_new_string(sm));
	if (test_key)
		json_object_object_add(ks, "allow_test_device_key", json_object_new_boolean(1));
	json_object_object_add(opts, "keystone", ks);
	json_object_object_add(root, "backend_options", opts);
	text = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
	free(pem);
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
	char *json = NULL, *policy = policy_for(f->k, f->measurement), *wrong;
	int r;

	r = ebcc_stage_invoke(f->inst, "k", request, strlen(request), "n0nce", 5, &inv);
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
	wrong = policy_for(f->k, "keystone:00000000000000000000000000000000000000000000000000000000"
				 "000000000000000000000000000000000000000000000000000000000000000"
				 "00000");
	assert_true(ebcc_evidence_verify(verifier, parsed, wrong) < 0);
	free(wrong);
	free(policy);
	ebcc_free(json);
	ebcc_evidence_unref(parsed);
	ebcc_evidence_unref(ev);
	ebcc_invocation_unref(inv);
	ebcc_context_unref(verifier);
}

/* ---- the lifecycle ------------------------------------------------------------------------------ */

static void warm_stage(void **state)
{
	struct fixture *f = setup("instance", "5000");
	uint64_t eid1 = 0, eid2 = 0;
	struct ebcc_invocation *inv = NULL;
	const void *resp;
	size_t len;

	(void)state;
	fake_ks_faults(f->k)->interrupt_every = 3;
	create(f);
	assert_int_equal(ebcc_instance_start(f->inst), 0);
	/* Loaded: one enclave, waiting in its first edge call; the UTM its one mapping. */
	assert_int_equal(fake_ks_live_enclaves(f->k), 1);
	assert_int_equal(fake_ks_live_maps(f->k), 1);
	assert_memory_equal(fake_ks_last_hash(f->k), (uint8_t[64]){ 0 }, 0);
	invoke_and_verify(f, "upper:keystone", "KEYSTONE", &eid1);
	invoke_and_verify(f, "plain", "plain", &eid2);
	/* One warm enclave served both: its EID is the driver's enclave id. */
	assert_true(eid1 >= 0x1000);
	assert_int_equal(eid1, eid2);
	assert_true(fake_ks_interrupts(f->k) > 0);
	/* The handler's own failure leaves the stage running. */
	expect_error(ebcc_stage_invoke(f->inst, "k", "fail:x", 6, NULL, 0, &inv), EBCC_ERR_STAGE,
		     "failed the request: EBCC_ERR_INVALID_ARG");
	ebcc_invocation_unref(inv);
	inv = NULL;
	assert_int_equal(ebcc_stage_invoke(f->inst, "k", "again", 5, NULL, 0, &inv), 0);
	assert_int_equal(ebcc_invocation_response(inv, &resp, &len), 0);
	assert_int_equal(len, 5);
	ebcc_invocation_unref(inv);
	assert_int_equal(fake_ks_live_enclaves(f->k), 1);
	assert_int_equal(ebcc_instance_kill(f->inst, 9), 0);
	expect_clean(f->k);
	teardown(f);
}

static void per_invocation_stage(void **state)
{
	struct fixture *f = setup("invocation", "5000");
	uint64_t eid1 = 0, eid2 = 0;

	(void)state;
	create(f);
	assert_int_equal(ebcc_instance_start(f->inst), 0);
	invoke_and_verify(f, "upper:one", "ONE", &eid1);
	/* Each invocation's enclave is gone with it. */
	assert_int_equal(fake_ks_live_enclaves(f->k), 0);
	assert_int_equal(fake_ks_open_files(f->k), 0);
	invoke_and_verify(f, "two", "two", &eid2);
	assert_int_equal(fake_ks_live_enclaves(f->k), 0);
	teardown(f);
}

/* ---- refusals ----------------------------------------------------------------------------------- */

static void image_changed_after_create(void **state)
{
	struct fixture *f = setup("instance", "5000");
	char other[EBCC_KS_MEASUREMENT_SIZE];

	(void)state;
	create(f);
	write_stage(f->bundle, "another eapp", other);
	expect_error(ebcc_instance_start(f->inst), EBCC_ERR_VERIFY, "stage k: backend keystone: the image measures keystone:");
	expect_error(ebcc_instance_start(f->inst), EBCC_ERR_VERIFY, f->measurement);
	/* Nothing reached the driver. */
	assert_int_equal(fake_ks_open_files(f->k), 0);
	teardown(f);
}

static void sm_refuses_finalize(void **state)
{
	struct fixture *f = setup("instance", "5000");

	(void)state;
	fake_ks_faults(f->k)->finalize_refuse = true;
	create(f);
	expect_error(ebcc_instance_start(f->inst), EBCC_ERR_STAGE,
		     "the security monitor refused enclave 4096 at FINALIZE");
	teardown(f);
}

static void create_enomem(void **state)
{
	struct fixture *f = setup("instance", "5000");

	(void)state;
	fake_ks_faults(f->k)->create_enomem = true;
	create(f);
	expect_error(ebcc_instance_start(f->inst), EBCC_ERR_NO_MEMORY,
		     "KEYSTONE_IOC_CREATE_ENCLAVE on /dev/keystone_enclave");
	teardown(f);
}

/* A warm stage whose eapp misbehaves on its first request: the error, the enclave destroyed,
 * and the stage dead from then on. */
static void hostile(enum eapp_mode m, int code, const char *why)
{
	struct fixture *f = setup("instance", "5000");
	struct ebcc_invocation *inv = NULL;

	create(f);
	mode = m;
	assert_int_equal(ebcc_instance_start(f->inst), 0);
	expect_error(ebcc_stage_invoke(f->inst, "k", "x", 1, NULL, 0, &inv), code, why);
	ebcc_invocation_unref(inv);
	inv = NULL;
	assert_int_equal(fake_ks_live_enclaves(f->k), 0);
	assert_int_equal(fake_ks_open_files(f->k), 0);
	expect_error(ebcc_stage_invoke(f->inst, "k", "x", 1, NULL, 0, &inv), EBCC_ERR_STAGE,
		     "is not running: its enclave was destroyed after: ");
	ebcc_invocation_unref(inv);
	teardown(f);
}

static void hostile_garbage(void **state)
{
	(void)state;
	hostile(GARBAGE, EBCC_ERR_STAGE, "its answer (1448 bytes) does not start with a REPORT or "
		"ERROR frame (bad magic (not a frame))");
}

static void hostile_report_for_other_data(void **state)
{
	(void)state;
	hostile(OTHER_DATA, EBCC_ERR_STAGE, "the SM's report covers other data (64 bytes) than "
		"the report_data of its answer");
}

static void hostile_report_of_other_enclave(void **state)
{
	(void)state;
	hostile(OTHER_ENCLAVE, EBCC_ERR_STAGE, "the SM's report is of another enclave");
}

static void hostile_response_too_big(void **state)
{
	(void)state;
	hostile(BIG_RESPONSE, EBCC_ERR_STAGE, "its RESPONSE is larger than maxResponse (1048576 bytes)");
}

static void hostile_offsets(void **state)
{
	(void)state;
	hostile(BAD_OFFSET, EBCC_ERR_STAGE, "has its argument at UTM offset 1073741824, 64 bytes, "
		"outside the UTM's data");
}

static void hostile_call_id(void **state)
{
	(void)state;
	hostile(UNKNOWN_CALL, EBCC_ERR_STAGE, "it made edge call 0x1234, which is not one of "
		"libebcc's");
}

static void eapp_exits_at_load(void **state)
{
	struct fixture *f = setup("instance", "5000");

	(void)state;
	create(f);
	mode = EXIT_AT_ONCE;
	expect_error(ebcc_instance_start(f->inst), EBCC_ERR_STAGE,
		     "the eapp exited with value 3 before asking for a request");
	teardown(f);
}

static void eapp_never_stops(void **state)
{
	struct fixture *f = setup("instance", "200");

	(void)state;
	create(f);
	fake_ks_faults(f->k)->spin = true;
	expect_error(ebcc_instance_start(f->inst), EBCC_ERR_TIMEOUT, "still running at its "
		     "deadline");
	teardown(f);
}

/* A warm eapp that stops answering mid-invocation: the deadline, then DESTROY. */
static void eapp_never_answers(void **state)
{
	struct fixture *f = setup("instance", "200");
	struct ebcc_invocation *inv = NULL;

	(void)state;
	create(f);
	assert_int_equal(ebcc_instance_start(f->inst), 0);
	fake_ks_faults(f->k)->spin = true;
	expect_error(ebcc_stage_invoke(f->inst, "k", "x", 1, NULL, 0, &inv), EBCC_ERR_TIMEOUT,
		     "timed out: the enclave was still running after 200 ms and was destroyed");
	ebcc_invocation_unref(inv);
	assert_int_equal(fake_ks_live_enclaves(f->k), 0);
	assert_int_equal(fake_ks_open_files(f->k), 0);
	teardown(f);
}

/* Limits the driver's UTM cannot hold are refused before the driver is asked. */
static void limits_beyond_the_utm(void **state)
{
	struct fixture *f = setup("instance", "5000");
	const char *manifest = "{\"ebccVersion\": \"0.1\", \"backend\": \"keystone\", \"stages\": "
			       "[{\"name\": \"k\", \"image\": \"stages/k.tar\", "
			       "\"maxRequest\": 8388608}]}";

	(void)state;
	write_file(f->bundle, "ebcc.json", manifest, strlen(manifest));
	create(f);
	expect_error(ebcc_instance_start(f->inst), EBCC_ERR_INVALID_ARG,
		     "stage k: backend keystone: maxRequest 8388608 and maxResponse 8388608 need a "
		     "UTM of 8392704 bytes; Keystone's driver allocates at most 4194304");
	assert_int_equal(fake_ks_open_files(f->k), 0);
	teardown(f);
}

static void no_device(void **state)
{
	struct fixture *f = setup("instance", "5000");
	char *json = NULL;

	(void)state;
	fake_ks_faults(f->k)->no_device = true;
	assert_int_equal(ebcc_backend_probe(f->ctx, "keystone", &json), 0);
	assert_non_null(strstr(json, "\"available\":false"));
	if (strstr(json, "no /dev/keystone_enclave: No such file or directory: no Keystone driver") == NULL ||
	    strstr(json, "never falls back to sim") == NULL)
		fail_msg("probe: %s", json);
	ebcc_free(json);
	create(f);
	expect_error(ebcc_instance_start(f->inst), EBCC_ERR_UNAVAILABLE,
		     "no /dev/keystone_enclave");
	teardown(f);
}

/* From another process the warm enclave cannot be reached: its descriptor is the loader's. */
static void warm_stage_from_another_process(void **state)
{
	struct fixture *f = setup("instance", "5000");
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
		if (ebcc__backend_keystone_register(ctx, fake_ks_host(f->k)) < 0 ||
		    ebcc_instance_open(ctx, "ks1", &inst) < 0)
			_exit(2);
		r = ebcc_stage_invoke(inst, "k", "x", 1, NULL, 0, &inv);
		_exit(r == EBCC_ERR_STAGE && strstr(ebcc_last_error_message(),
						    "a warm keystone stage is reached only from "
						    "that process") != NULL ? 0 : 1);
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
		cmocka_unit_test(image_changed_after_create),
		cmocka_unit_test(sm_refuses_finalize),
		cmocka_unit_test(create_enomem),
		cmocka_unit_test(hostile_garbage),
		cmocka_unit_test(hostile_report_for_other_data),
		cmocka_unit_test(hostile_report_of_other_enclave),
		cmocka_unit_test(hostile_response_too_big),
		cmocka_unit_test(hostile_offsets),
		cmocka_unit_test(hostile_call_id),
		cmocka_unit_test(eapp_exits_at_load),
		cmocka_unit_test(eapp_never_stops),
		cmocka_unit_test(eapp_never_answers),
		cmocka_unit_test(limits_beyond_the_utm),
		cmocka_unit_test(no_device),
		cmocka_unit_test(warm_stage_from_another_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
