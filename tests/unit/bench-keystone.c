/* SPDX-License-Identifier: MIT */
/*
 * meson test --benchmark bench-keystone: one warm keystone stage invoked through libebcc
 * (ebcc_stage_invoke: the core's binding, state, artifacts and evidence, the backend's checks)
 * against the same enclave driven directly through the driver sequence (backends/keystone/
 * driver.c), as a host program built on Keystone's SDK would drive it: the same eapp (the echo
 * example linked with libebcc-stage-keystone.a, attesting every answer), the same edge calls,
 * nothing else. Both run on the fake driver and SM (fake-keystone.c), so the numbers are of
 * the host side only: no RISC-V, no SM call, no world switch is timed. Prints the medians of
 * each (libebcc with durability fsync, its default, and none) and their ratios.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "../../backends/keystone/driver.h"
#include "../../backends/keystone/image.h"
#include "frame.h"
#include "keystone-edge.h"
#include "../api/bundleutil.h"
#include "ebcc-private.h"
#include "fake-keystone-shim.h"
#include "fake-keystone.h"

#define ROUNDS 400

int ks_echo_main(void);

static int eapp_main(void *userdata)
{
	(void)userdata;
	return ks_echo_main();
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp);
	return v[n / 2];
}

static uint8_t loader[6000], runtime[9000];
static const char eapp_file[] = "an eapp ELF would be here";

static void write_image(const char *bundle)
{
	char *cmd;

	write_file(bundle, "ks/loader.bin", (const char *)loader, sizeof(loader));
	write_file(bundle, "ks/eyrie-rt", (const char *)runtime, sizeof(runtime));
	write_file(bundle, "ks/eapp", eapp_file, strlen(eapp_file));
	assert_true(asprintf(&cmd, "cd '%s/ks' && tar --format=ustar -cf ../stages/k.tar loader.bin "
			     "eyrie-rt eapp", bundle) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void through_ebcc(uint64_t *ns, const char *durability)
{
	struct fake_ks_shim_main m = { .main = eapp_main };
	struct fake_ks *k = fake_ks_new(fake_ks_shim_eapp, &m);
	char *root = scratch_dir("ks-bench-root"), *bundle = scratch_dir("ks-bench-bundle");
	const char *stages = "[{\"name\": \"k\", \"image\": \"stages/k.tar\"}]";
	const char *manifest = "{\"ebccVersion\": \"0.1\", \"backend\": \"keystone\", \"stages\": "
			       "[{\"name\": \"k\", \"image\": \"stages/k.tar\"}]}";
	struct ebcc_context *ctx;
	struct ebcc_instance *inst = NULL;
	char request[64];

	memset(request, 'r', sizeof(request));
	make_bundle(bundle, NULL, stages);
	write_file(bundle, "ebcc.json", manifest, strlen(manifest));
	write_image(bundle);
	ctx = context_at(root);
	assert_int_equal(ebcc_context_set_option(ctx, "durability", durability), 0);
	ebcc__registry_free(ctx);
	assert_int_equal(ebcc__backend_keystone_register(ctx, fake_ks_host(k)), 0);
	assert_int_equal(ebcc_instance_create(ctx, "kb", bundle, &inst), 0);
	assert_int_equal(ebcc_instance_start(inst), 0);
	for (int i = 0; i < ROUNDS; i++) {
		struct ebcc_invocation *inv = NULL;
		uint64_t t = now_ns();

		assert_int_equal(ebcc_stage_invoke(inst, "k", request, sizeof(request), NULL, 0,
						   &inv), 0);
		ns[i] = now_ns() - t;
		ebcc_invocation_unref(inv);
	}
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
	ebcc_instance_unref(inst);
	ebcc_context_unref(ctx);
	assert_int_equal(fake_ks_live_enclaves(k), 0);
	fake_ks_free(k);
	scratch_remove(root);
	scratch_remove(bundle);
}

/* The host side of one exchange, as an SDK program would serve the same eapp. */
static void serve_one(struct ebcc__ks_enclave *e, const uint8_t *bind, size_t bind_len,
		      const char *request, size_t request_len, struct ebcc__edge_stop *stop)
{
	size_t cap, len;
	uint8_t *buf;

	for (;;) {
		assert_false(stop->exited);
		buf = ebcc__ks_edge_answer_buf(e, &cap);
		len = 0;
		if (stop->call_id == EBCC_EDGE_CALL_NEXT) {
			ebcc__frame_encode_header(buf, EBCC_FRAME_BIND, (uint32_t)bind_len);
			memcpy(buf + EBCC_FRAME_HEADER_SIZE, bind, bind_len);
			ebcc__frame_encode_header(buf + EBCC_FRAME_HEADER_SIZE + bind_len,
						  EBCC_FRAME_REQUEST, (uint32_t)request_len);
			len = 2 * EBCC_FRAME_HEADER_SIZE + bind_len;
		} else if (stop->call_id == EBCC_EDGE_CALL_READ) {
			memcpy(buf, request, request_len);
			len = request_len;
		} else if (stop->call_id == EBCC_EDGE_CALL_ANSWER) {
			return; /* the answer is in the UTM; it waits there */
		}
		ebcc__ks_edge_answer(e, len);
		assert_int_equal(ebcc__ks_enclave_enter(e, UINT64_MAX, stop), 0);
	}
}

static void direct(uint64_t *ns)
{
	struct fake_ks_shim_main m = { .main = eapp_main };
	struct fake_ks *k = fake_ks_new(fake_ks_shim_eapp, &m);
	const uint8_t *files[] = { loader, runtime, (const uint8_t *)eapp_file };
	const size_t lens[] = { sizeof(loader), sizeof(runtime), strlen(eapp_file) };
	struct ebcc_frame_bind b = { "kb", 2, "k", 1, 4096, 0, "keystone:00", 11, NULL, 0 };
	struct ebcc__ks_enclave e;
	struct ebcc__edge_stop stop;
	uint8_t bind[512];
	size_t bind_len = ebcc__frame_encode_bind(&b, bind, sizeof(bind));
	char request[64];

	memset(request, 'r', sizeof(request));
	assert_int_equal(ebcc__ks_enclave_create(fake_ks_host(k), files, lens, (uint64_t)64 << 20,
						 (uint64_t)2 << 20, &e), 0);
	assert_int_equal(ebcc__ks_enclave_enter(&e, UINT64_MAX, &stop), 0);
	for (int i = 0; i < ROUNDS; i++) {
		uint64_t t = now_ns();

		if (i > 0) { /* complete the last ANSWER, on to the next NEXT */
			ebcc__ks_edge_answer(&e, 0);
			assert_int_equal(ebcc__ks_enclave_enter(&e, UINT64_MAX, &stop), 0);
		}
		serve_one(&e, bind, bind_len, request, sizeof(request), &stop);
		ns[i] = now_ns() - t;
	}
	assert_int_equal(ebcc__ks_enclave_destroy(&e), 0);
	fake_ks_free(k);
}

static void compare(void **state)
{
	static uint64_t a[ROUNDS], b[ROUNDS], c[ROUNDS];
	uint64_t ma, mb, mc;

	(void)state;
	for (size_t i = 0; i < sizeof(loader); i++)
		loader[i] = (uint8_t)(i * 3 + 1);
	for (size_t i = 0; i < sizeof(runtime); i++)
		runtime[i] = (uint8_t)(i * 11 + 7);
	direct(b);
	through_ebcc(a, "fsync");
	through_ebcc(c, "none");
	ma = median(a, ROUNDS);
	mb = median(b, ROUNDS);
	mc = median(c, ROUNDS);
	printf("keystone (fake driver and SM), warm stage, 64-byte request, %d rounds each:\n"
	       "  ebcc_stage_invoke, durability fsync  median %8.1f us  ratio to direct %6.2f\n"
	       "  ebcc_stage_invoke, durability none   median %8.1f us  ratio to direct %6.2f\n"
	       "  driven directly (driver.c only)      median %8.1f us\n",
	       ROUNDS, (double)ma / 1e3, (double)ma / (double)mb, (double)mc / 1e3,
	       (double)mc / (double)mb, (double)mb / 1e3);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(compare) };

	return cmocka_run_group_tests(tests, NULL, NULL);
}
