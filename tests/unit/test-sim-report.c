/* SPDX-License-Identifier: MIT */
/*
 * White-box: simulated reports and the device key. A report signed through stage_invoke
 * verifies with the exported key, and no flipped byte, other key, or other claim verifies.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "../../backends/sim/report.h"
#include "sim-fixture.h"

#define MEASUREMENT "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct report_fixture {
	struct sim_fixture *f;
	uint8_t rd[EBCC_REPORT_DATA_SIZE];
	uint8_t *report;
	size_t report_len;
	char *pem;
};

static int setup(void **state)
{
	struct report_fixture *rf = calloc(1, sizeof(*rf));

	assert_non_null(rf);
	rf->f = fx_new();
	for (size_t i = 0; i < sizeof(rf->rd); i++)
		rf->rd[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(ebcc__sim_report_sign(rf->f->data_fd, false, MEASUREMENT, 42, rf->rd,
					       sizeof(rf->rd), &rf->report, &rf->report_len),
			 0);
	assert_int_equal(rf->f->ops->attestation_key(&rf->f->env, &rf->pem, NULL), 0);
	*state = rf;
	return 0;
}

static int teardown(void **state)
{
	struct report_fixture *rf = *state;

	free(rf->report);
	free(rf->pem);
	fx_free(rf->f);
	free(rf);
	return 0;
}

static struct ebcc_backend_report_check check_of(struct report_fixture *rf,
						 const char *const *keys, size_t n_keys)
{
	return (struct ebcc_backend_report_check){
		.size = sizeof(struct ebcc_backend_report_check),
		.format = EBCC_SIM_FORMAT,
		.measurement = MEASUREMENT,
		.eid = 42,
		.report_data = rf->rd,
		.report_data_len = sizeof(rf->rd),
		.report = rf->report,
		.report_len = rf->report_len,
		.trusted_keys = keys,
		.trusted_keys_count = n_keys,
	};
}

/* verify_report through the ops table, as the core calls it (no data directory). */
static int verify(struct report_fixture *rf, const struct ebcc_backend_report_check *c,
		  char **ret_verdict)
{
	struct ebcc_backend_env env = rf->f->env;
	char *verdict = NULL;
	int r;

	env.data_dir_fd = -1;
	env.data_dir = NULL;
	r = rf->f->ops->verify_report(&env, c, &verdict, NULL);
	if (ret_verdict != NULL)
		*ret_verdict = verdict;
	else
		free(verdict);
	return r;
}

static void sign_and_verify(void **state)
{
	struct report_fixture *rf = *state;
	const char *keys[] = { rf->pem };
	struct ebcc_backend_report_check c = check_of(rf, keys, 1);
	struct json_object *o, *v;
	char *verdict = NULL;

	assert_int_equal(verify(rf, &c, &verdict), 0);
	assert_non_null(verdict);
	o = json_tokener_parse(verdict);
	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "simulated", &v) && json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(o, "signature", &v));
	assert_string_equal(json_object_get_string(v), "valid");
	assert_true(json_object_object_get_ex(o, "format", &v));
	assert_string_equal(json_object_get_string(v), "ebcc.sim.v1");
	json_object_put(o);
	free(verdict);
}

static void every_flipped_byte_fails(void **state)
{
	struct report_fixture *rf = *state;
	const char *keys[] = { rf->pem };
	struct ebcc_backend_report_check c = check_of(rf, keys, 1);
	uint8_t *copy = malloc(rf->report_len);

	assert_non_null(copy);
	for (size_t i = 0; i < rf->report_len; i++) {
		for (int bit = 0; bit < 8; bit += 3) {
			memcpy(copy, rf->report, rf->report_len);
			copy[i] ^= (uint8_t)(1u << bit);
			c.report = copy;
			if (verify(rf, &c, NULL) != EBCC_ERR_VERIFY)
				fail_msg("flipping bit %d of byte %zu verified", bit, i);
		}
	}
	/* Truncated and extended reports, too. */
	memcpy(copy, rf->report, rf->report_len);
	for (size_t len = 0; len < rf->report_len; len++) {
		c.report = copy;
		c.report_len = len;
		assert_int_equal(verify(rf, &c, NULL), EBCC_ERR_VERIFY);
	}
	free(copy);
	copy = malloc(rf->report_len + 1);
	assert_non_null(copy);
	memcpy(copy, rf->report, rf->report_len);
	copy[rf->report_len] = 0;
	c.report = copy;
	c.report_len = rf->report_len + 1;
	assert_int_equal(verify(rf, &c, NULL), EBCC_ERR_VERIFY);
	assert_non_null(strstr(rf->f->error, "trailing"));
	free(copy);
}

static void wrong_claims_fail(void **state)
{
	struct report_fixture *rf = *state;
	const char *keys[] = { rf->pem };
	struct ebcc_backend_report_check c;
	uint8_t rd[EBCC_REPORT_DATA_SIZE];

	c = check_of(rf, keys, 1);
	c.measurement = "sha256:1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
	assert_int_equal(verify(rf, &c, NULL), EBCC_ERR_VERIFY);
	assert_non_null(strstr(rf->f->error, "measurement"));

	c = check_of(rf, keys, 1);
	c.eid = 43;
	assert_int_equal(verify(rf, &c, NULL), EBCC_ERR_VERIFY);
	assert_non_null(strstr(rf->f->error, "EID 42"));

	c = check_of(rf, keys, 1);
	memcpy(rd, rf->rd, sizeof(rd));
	rd[63] ^= 1;
	c.report_data = rd;
	assert_int_equal(verify(rf, &c, NULL), EBCC_ERR_VERIFY);
	assert_non_null(strstr(rf->f->error, "report_data"));

	c = check_of(rf, keys, 1);
	c.report_data_len = 32;
	assert_int_equal(verify(rf, &c, NULL), EBCC_ERR_VERIFY);

	c = check_of(rf, keys, 1);
	c.format = "ebcc.tsm.v1";
	assert_int_equal(verify(rf, &c, NULL), EBCC_ERR_VERIFY);
	assert_non_null(strstr(rf->f->error, "format"));
}

static char *other_key_pem(void)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *pem;
	long len;

	assert_non_null(key);
	assert_non_null(bio);
	assert_int_equal(PEM_write_bio_PUBKEY(bio, key), 1);
	len = BIO_get_mem_data(bio, &data);
	pem = strndup(data, (size_t)len);
	BIO_free(bio);
	EVP_PKEY_free(key);
	return pem;
}

static void keys_decide(void **state)
{
	struct report_fixture *rf = *state;
	char *other = other_key_pem();
	const char *only_other[] = { other };
	const char *both[] = { other, rf->pem };
	const char *garbage[] = { "-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n" };
	struct ebcc_backend_report_check c;
	char *verdict = NULL;

	c = check_of(rf, NULL, 0);
	assert_int_equal(verify(rf, &c, NULL), EBCC_ERR_VERIFY);
	assert_non_null(strstr(rf->f->error, "policy gives no trusted_keys"));

	c = check_of(rf, only_other, 1);
	assert_int_equal(verify(rf, &c, NULL), EBCC_ERR_VERIFY);
	assert_non_null(strstr(rf->f->error, "not among the 1 trusted_keys"));

	c = check_of(rf, both, 2);
	assert_int_equal(verify(rf, &c, &verdict), 0);
	assert_non_null(strstr(verdict, "\"trusted_key_index\":1"));
	free(verdict);

	c = check_of(rf, garbage, 1);
	assert_int_equal(verify(rf, &c, NULL), EBCC_ERR_VERIFY);
	assert_non_null(strstr(rf->f->error, "trusted_keys[0] is not a PEM public key"));
	free(other);
}

/* The device key: 0600, stable across calls, the same for processes racing to create it. */
static void device_key_created_once(void **state)
{
	enum { PROCS = 4 };
	struct report_fixture *rf = *state;
	struct sim_fixture *g = fx_new();
	char *first = NULL, *again = NULL;
	int pipes[PROCS][2];
	struct stat st;

	for (int i = 0; i < PROCS; i++) {
		pid_t pid;

		assert_int_equal(pipe(pipes[i]), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			char *pem = NULL;
			size_t len;

			int ok;

			if (ebcc__sim_key_public_pem(g->data_fd, false, &pem) < 0)
				_exit(1);
			len = strlen(pem);
			ok = write(pipes[i][1], pem, len) == (ssize_t)len;
			free(pem);
			free(g); /* the parent removes the state root */
			_exit(ok ? 0 : 1);
		}
		close(pipes[i][1]);
	}
	for (int i = 0; i < PROCS; i++) {
		char buf[1024] = "";
		ssize_t n = read(pipes[i][0], buf, sizeof(buf) - 1);
		int status;

		assert_true(n > 0);
		close(pipes[i][0]);
		assert_true(wait(&status) > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0);
		if (first == NULL)
			first = strdup(buf);
		else
			assert_string_equal(first, buf);
	}
	assert_int_equal(ebcc__sim_key_public_pem(g->data_fd, false, &again), 0);
	assert_string_equal(first, again);
	assert_int_equal(fstatat(g->data_fd, EBCC_SIM_DEVICE_KEY_FILE, &st, 0), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	/* Another state root, another key. */
	assert_string_not_equal(first, rf->pem);
	free(first);
	free(again);
	fx_free(g);
}

/* The stage binds; the device key signs exactly that, with the measurement and EID loaded. */
static void report_through_a_stage(void **state)
{
	struct report_fixture *rf = *state;
	struct sim_fixture *f = rf->f;
	const char *keys[] = { rf->pem };
	struct ebcc_backend_report_check c;
	struct ebcc_backend_invocation inv;
	uint8_t want[EBCC_REPORT_DATA_SIZE];
	struct fx_binding fb;
	struct fx_stage s;

	assert_int_equal(fx_load(f, fx_env_path("EBCC_STAGE_ECHO"), "echo",
				 EBCC_LIFETIME_INVOCATION, 20000, &s),
			 0);
	assert_int_equal(fx_invoke_raw(f, s.st.handle, "ping", 4, &inv), 0);
	fx_binding(&fb, 1);
	fx_expected_report_data(&fb, "ping", 4, inv.response.data, inv.response.len, want);
	assert_true(inv.bound);
	assert_memory_equal(inv.report_data, want, sizeof(want));
	c = check_of(rf, keys, 1);
	c.report_data = inv.report_data;
	c.report = inv.report.data;
	c.report_len = inv.report.len;
	c.measurement = s.st.measurement;
	c.eid = s.st.eid;
	assert_int_equal(verify(rf, &c, NULL), 0);
	/* Over any other report_data it does not verify. */
	c.report_data = rf->rd;
	assert_int_equal(verify(rf, &c, NULL), EBCC_ERR_VERIFY);
	fx_invocation_free(&inv);
	assert_int_equal(f->ops->stage_unload(&f->env, s.st.handle, NULL), 0);
	fx_stage_release(&s);
}

static void corrupt_device_key(void **state)
{
	struct report_fixture *rf = *state;
	uint8_t *report = NULL;
	size_t len = 0;

	assert_int_equal(ebcc__file_write_atomic(rf->f->data_fd, EBCC_SIM_DEVICE_KEY_FILE,
						 "not a key\n", 10, 0600, false, "key"),
			 0);
	assert_int_equal(ebcc__sim_report_sign(rf->f->data_fd, false, MEASUREMENT, 1, rf->rd,
					       sizeof(rf->rd), &report, &len),
			 EBCC_ERR_CORRUPT);
	assert_non_null(strstr(ebcc_last_error_message(), EBCC_SIM_DEVICE_KEY_FILE));
	assert_null(report);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(sign_and_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(every_flipped_byte_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(wrong_claims_fail, setup, teardown),
		cmocka_unit_test_setup_teardown(keys_decide, setup, teardown),
		cmocka_unit_test_setup_teardown(device_key_created_once, setup, teardown),
		cmocka_unit_test_setup_teardown(report_through_a_stage, setup, teardown),
		cmocka_unit_test_setup_teardown(corrupt_device_key, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
