/* SPDX-License-Identifier: MIT */
/*
 * The keystone backend's driver sequence (backends/keystone/driver.c) against the fake driver
 * and security monitor (fake-keystone.c): CREATE to DESTROY, the measurement the SM takes at
 * FINALIZE, the RUN/RESUME loop with timer interrupts and edge calls, a report made by the
 * eapp and verified offline, and every failure the issue names leaving nothing behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "../../backends/keystone/driver.h"
#include "../../backends/keystone/report.h"
#include "ebcc-private.h"
#include "fake-keystone.h"
#include "check-policy.h"

#define CALL_PING 1
#define CALL_REPORT 2

static uint8_t loader[5000], runtime[8192], eapp_file[300];
static const uint8_t *const files[] = { loader, runtime, eapp_file };
static const size_t lens[] = { sizeof(loader), sizeof(runtime), sizeof(eapp_file) };

enum behaviour { HONEST, HOSTILE_OFFSET };

struct run_state {
	enum behaviour behaviour;
	uint8_t report[EBCC_KS_REPORT_SIZE];
	size_t report_len;
	uint8_t report_data[64];
	char answer[16];
};

/* The eapp: one ping, a report over SHA-512 of the answer, the report out, exit 7. */
static uint64_t eapp(struct fake_ks_eyrie *y, void *userdata)
{
	struct run_state *s = userdata;
	uint8_t buf[2048];
	unsigned int n;

	if (s->behaviour == HOSTILE_OFFSET) {
		fake_ks_ocall_raw(y, CALL_PING, 1u << 30, 64);
		return 99;
	}
	if (fake_ks_ocall(y, CALL_PING, "ping", 4, s->answer, sizeof(s->answer) - 1) < 0)
		return 98;
	EVP_Digest(s->answer, strlen(s->answer), s->report_data, &n, EVP_sha512(), NULL);
	if (fake_ks_attest(y, buf, s->report_data, 64) < 0)
		return 97;
	if (fake_ks_ocall(y, CALL_REPORT, buf, EBCC_KS_REPORT_SIZE, NULL, 0) < 0)
		return 96;
	return 7;
}

static int host_ocall(uint64_t call_id, const uint8_t *arg, size_t arg_len, uint8_t *ret,
		      size_t ret_cap, size_t *ret_len, void *userdata)
{
	struct run_state *s = userdata;

	if (call_id == CALL_PING && arg_len == 4 && memcmp(arg, "ping", 4) == 0 && ret_cap >= 4) {
		memcpy(ret, "pong", 4);
		*ret_len = 4;
		return 0;
	}
	if (call_id == CALL_REPORT && arg_len == EBCC_KS_REPORT_SIZE) {
		memcpy(s->report, arg, arg_len);
		s->report_len = arg_len;
		*ret_len = 0;
		return 0;
	}
	return ebcc__error(EBCC_ERR_STAGE, "unexpected edge call %" PRIu64, call_id);
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

static void expect_clean(struct fake_ks *k)
{
	assert_int_equal(fake_ks_live_enclaves(k), 0);
	assert_int_equal(fake_ks_open_files(k), 0);
	assert_int_equal(fake_ks_live_maps(k), 0);
	assert_int_equal(fake_ks_use_after_free(k), 0);
}

static void test_load_run_report(void **state)
{
	struct run_state s = { .behaviour = HONEST };
	struct fake_ks *k = fake_ks_new(eapp, &s);
	struct ebcc__ks_enclave e;
	uint8_t hash[64];
	uint64_t value = 0;
	bool test_key;
	const uint8_t *dev = fake_ks_device_key(k, &test_key);
	char *pem = pem_of(dev), policy[512], sm[129], measurement[9 + 129], *verdict = NULL;
	const char *keys[] = { pem };

	(void)state;
	fake_ks_faults(k)->interrupt_every = 2;
	assert_int_equal(ebcc__ks_enclave_create(fake_ks_host(k), files, lens, 64 << 10, 8192, &e),
			 0);
	assert_true(e.eid >= 0x1000);
	/* What the SM measured over the pages written is what the files give offline. */
	assert_int_equal(ebcc__ks_measure(files, lens, hash), 0);
	assert_memory_equal(fake_ks_last_hash(k), hash, 64);
	assert_int_equal(fake_ks_live_maps(k), 1); /* the UTM */
	assert_int_equal(ebcc__ks_enclave_run(&e, host_ocall, &s, 5000, &value), 0);
	assert_int_equal(value, 7);
	assert_string_equal(s.answer, "pong");
	assert_true(fake_ks_interrupts(k) > 0);
	print_message("%u timer interrupts resumed\n", fake_ks_interrupts(k));
	/* An enclave runs once. */
	assert_int_equal(ebcc__ks_enclave_run(&e, host_ocall, &s, 5000, &value), EBCC_ERR_STAGE);
	assert_non_null(strstr(ebcc_last_error_message(), "NOT_FRESH"));
	assert_int_equal(ebcc__ks_enclave_destroy(&e), 0);
	expect_clean(k);

	/* The eapp's report verifies offline, for the measured enclave and its report_data. */
	assert_int_equal(s.report_len, EBCC_KS_REPORT_SIZE);
	ebcc__hex_encode(fake_ks_sm_hash(k), 64, sm);
	snprintf(policy, sizeof(policy),
		 "{\"backend_options\":{\"keystone\":{\"sm_hash\":\"%s\"%s}}}", sm,
		 test_key ? ",\"allow_test_device_key\":true" : "");
	memcpy(measurement, "keystone:", 9);
	ebcc__hex_encode(hash, 64, measurement + 9);
	{
		struct ebcc_backend_report_check c = {
			.size = sizeof(c),
			.format = EBCC_KEYSTONE_FORMAT,
			.measurement = measurement,
			.eid = e.eid,
			.report_data = s.report_data,
			.report_data_len = 64,
			.report = s.report,
			.report_len = s.report_len,
			.trusted_keys = keys,
			.trusted_keys_count = 1,
		};

		check_policy_set(&c, policy, "keystone");
		assert_int_equal(ebcc__keystone_verify(&c, &verdict), 0);
		print_message("device key: %s\n", test_key ? "Keystone's published test key"
							   : "the fake's own (no realdata)");
		free(verdict);
	}
	free(pem);
	fake_ks_free(k);
}

static void test_create_enomem(void **state)
{
	struct run_state s = { 0 };
	struct fake_ks *k = fake_ks_new(eapp, &s);
	struct ebcc__ks_enclave e;

	(void)state;
	fake_ks_faults(k)->create_enomem = true;
	assert_int_equal(ebcc__ks_enclave_create(fake_ks_host(k), files, lens, 0, 8192, &e),
			 EBCC_ERR_NO_MEMORY);
	assert_non_null(strstr(ebcc_last_error_message(), "KEYSTONE_IOC_CREATE_ENCLAVE on "
							  "/dev/keystone_enclave"));
	expect_clean(k);
	fake_ks_free(k);
}

static void test_finalize_refused(void **state)
{
	struct run_state s = { 0 };
	struct fake_ks *k = fake_ks_new(eapp, &s);
	struct ebcc__ks_enclave e;

	(void)state;
	fake_ks_faults(k)->finalize_refuse = true;
	assert_int_equal(ebcc__ks_enclave_create(fake_ks_host(k), files, lens, 0, 8192, &e),
			 EBCC_ERR_STAGE);
	assert_non_null(strstr(ebcc_last_error_message(), "the security monitor refused enclave "
							  "4096 at FINALIZE"));
	/* Closed, and the freed enclave's id never touched again. */
	expect_clean(k);
	fake_ks_faults(k)->finalize_refuse = false;
	assert_int_equal(ebcc__ks_enclave_create(fake_ks_host(k), files, lens, 0, 8192, &e), 0);
	assert_int_equal(ebcc__ks_enclave_destroy(&e), 0);
	expect_clean(k);
	fake_ks_free(k);
}

static void test_hostile_edge_call(void **state)
{
	struct run_state s = { .behaviour = HOSTILE_OFFSET };
	struct fake_ks *k = fake_ks_new(eapp, &s);
	struct ebcc__ks_enclave e;
	uint64_t value;

	(void)state;
	assert_int_equal(ebcc__ks_enclave_create(fake_ks_host(k), files, lens, 0, 8192, &e), 0);
	assert_int_equal(ebcc__ks_enclave_run(&e, host_ocall, &s, 5000, &value), EBCC_ERR_STAGE);
	assert_non_null(strstr(ebcc_last_error_message(), "has its argument at UTM offset "
							  "1073741824, 64 bytes, outside the "
							  "UTM's data (48 to 8192)"));
	assert_int_equal(ebcc__ks_enclave_destroy(&e), 0);
	expect_clean(k);
	fake_ks_free(k);
}

static void test_never_exits(void **state)
{
	struct run_state s = { 0 };
	struct fake_ks *k = fake_ks_new(eapp, &s);
	struct ebcc__ks_enclave e;
	uint64_t value;

	(void)state;
	fake_ks_faults(k)->spin = true;
	assert_int_equal(ebcc__ks_enclave_create(fake_ks_host(k), files, lens, 0, 8192, &e), 0);
	assert_int_equal(ebcc__ks_enclave_run(&e, host_ocall, &s, 100, &value), EBCC_ERR_TIMEOUT);
	assert_non_null(strstr(ebcc_last_error_message(), "still running after 100 ms"));
	/* Stopped by the timer, not running: DESTROY is allowed. */
	assert_int_equal(ebcc__ks_enclave_destroy(&e), 0);
	expect_clean(k);
	fake_ks_free(k);
}

/* The fake is the driver: its numbers, sizes and refusals. */
static void test_fake_driver_rules(void **state)
{
	struct run_state s = { 0 };
	struct fake_ks *k = fake_ks_new(eapp, &s);
	const struct ebcc__hostops *h = fake_ks_host(k);
	struct ebcc__ks_ioctl_create c = { .min_pages = 5 };
	uint8_t old_abi[136] = { 0 };
	void *p = NULL;
	int fd = h->open(EBCC_KS_DEVICE, O_RDWR | O_CLOEXEC, 0, h->userdata);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(h->ioctl(fd, EBCC_KS_IOC_CREATE, NULL, h->userdata), -EINVAL);
	/* The ABI before 874b3d8 (136-byte struct, so another number): unknown, -ENOSYS. */
	assert_int_equal(h->ioctl(fd, 0x8088a400u, old_abi, h->userdata), -ENOSYS);
	assert_int_equal(h->ioctl(fd, EBCC_KS_IOC_CREATE, &c, h->userdata), 0);
	assert_int_equal(c.eid, 0x1000);
	assert_int_equal(c.epm_size, 8 * 4096); /* 2^ceil(log2 5) pages */
	assert_true(c.epm_paddr != 0);
	assert_int_equal(h->mmap(8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0, &p, h->userdata),
			 -EINVAL);
	assert_int_equal(h->mmap(4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 4096, &p,
				 h->userdata), 0);
	h->munmap(p, 4096, h->userdata);
	/* FINALIZE without a UTM: the SM refuses, the enclave is gone, its id kept and poisoned. */
	c.runtime_paddr = c.epm_paddr + 4096;
	c.user_paddr = c.epm_paddr + 8192;
	c.free_paddr = c.epm_paddr + 12288;
	assert_int_equal(h->ioctl(fd, EBCC_KS_IOC_FINALIZE, &c, h->userdata), -EINVAL);
	assert_int_equal(h->ioctl(fd, EBCC_KS_IOC_DESTROY, &c, h->userdata), -EINVAL);
	assert_int_equal(fake_ks_use_after_free(k), 1);
	h->close(fd, h->userdata);
	assert_int_equal(fake_ks_live_enclaves(k), 0);
	fake_ks_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_run_report),
		cmocka_unit_test(test_create_enomem),
		cmocka_unit_test(test_finalize_refused),
		cmocka_unit_test(test_hostile_edge_call),
		cmocka_unit_test(test_never_exits),
		cmocka_unit_test(test_fake_driver_rules),
	};

	for (size_t i = 0; i < sizeof(loader); i++)
		loader[i] = (uint8_t)(i * 13);
	memset(runtime, 0x42, sizeof(runtime));
	memcpy(eapp_file, "an eapp", 7);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
