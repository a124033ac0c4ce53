/* SPDX-License-Identifier: MIT */
/*
 * White-box: simulated reports, the device key and the security monitor. A report the monitor
 * made verifies with the exported key, and no flipped byte, other key, or other claim
 * verifies; reports of version 1 (ECDSA P-256, libebcc 0.1) still verify with their key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <sys/socket.h>

#include "../../backends/common/bytes.h"
#include "../../backends/sim/monitor.h"
#include "../../backends/sim/report.h"
#include "frame.h"
#include "sim-fixture.h"

#define MEASUREMENT "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct report_fixture {
	struct sim_fixture *f;
	uint8_t rd[EBCC_REPORT_DATA_SIZE];
	uint8_t *report;
	size_t report_len;
	char *pem;
};

/* A report of the device key under data_fd, as the monitor makes it (malloc). */
static uint8_t *make_report(int data_fd, uint64_t eid, const uint8_t *rd, size_t *ret_len)
{
	struct ebcc__sim_signer signer;
	uint8_t buf[EBCC_ATTEST_REPORT_MAX], *copy;

	assert_int_equal(ebcc__sim_signer_init(data_fd, false, MEASUREMENT, eid, &signer), 0);
	*ret_len = ebcc__sim_report_make(&signer, rd, EBCC_REPORT_DATA_SIZE, buf, sizeof(buf));
	ebcc__sim_signer_clear(&signer);
	assert_true(*ret_len > 0);
	copy = malloc(*ret_len);
	assert_non_null(copy);
	memcpy(copy, buf, *ret_len);
	return copy;
}

static int setup(void **state)
{
	struct report_fixture *rf = calloc(1, sizeof(*rf));

	assert_non_null(rf);
	rf->f = fx_new();
	for (size_t i = 0; i < sizeof(rf->rd); i++)
		rf->rd[i] = (uint8_t)(i * 7 + 1);
	rf->report = make_report(rf->f->data_fd, 42, rf->rd, &rf->report_len);
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

static char *pem_of(EVP_PKEY *key)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data = NULL, *pem;
	long len;

	assert_non_null(key);
	assert_non_null(bio);
	assert_int_equal(PEM_write_bio_PUBKEY(bio, key), 1);
	len = BIO_get_mem_data(bio, &data);
	pem = strndup(data, (size_t)len);
	BIO_free(bio);
	return pem;
}

static char *other_key_pem(const char *type)
{
	EVP_PKEY *key = strcmp(type, "ED25519") == 0 ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")
						     : EVP_EC_gen("P-256");
	char *pem = pem_of(key);

	EVP_PKEY_free(key);
	return pem;
}

static void keys_decide(void **state)
{
	struct report_fixture *rf = *state;
	char *other = other_key_pem("ED25519"), *ecdsa = other_key_pem("P-256");
	const char *only_other[] = { other };
	const char *both[] = { other, rf->pem };
	const char *other_kind[] = { ecdsa };
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

	/* A key of the other algorithm is never tried: the trusted key decides, not the report. */
	c = check_of(rf, other_kind, 1);
	assert_int_equal(verify(rf, &c, NULL), EBCC_ERR_VERIFY);
	assert_non_null(strstr(rf->f->error, "not among the 1 trusted_keys"));
	free(other);
	free(ecdsa);
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

/* The stage binds and asks its monitor, which signs exactly that, with the measurement and
 * EID loaded. */
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
	struct ebcc__sim_signer signer;

	assert_int_equal(ebcc__file_write_atomic(rf->f->data_fd, EBCC_SIM_DEVICE_KEY_FILE,
						 "not a key\n", 10, 0600, false, "key"),
			 0);
	assert_int_equal(ebcc__sim_signer_init(rf->f->data_fd, false, MEASUREMENT, 1, &signer),
			 EBCC_ERR_CORRUPT);
	assert_non_null(strstr(ebcc_last_error_message(), EBCC_SIM_DEVICE_KEY_FILE));
}

/* The monitor answers a message of exactly 64 bytes with its report over them, anything else
 * with an empty message, and one request after another. */
static void monitor_answers_only_report_data(void **state)
{
	struct report_fixture *rf = *state;
	const char *keys[] = { rf->pem };
	struct ebcc__sim_signer signer;
	struct ebcc_backend_report_check c;
	uint8_t reply[EBCC_ATTEST_REPORT_MAX + 1], big[EBCC_REPORT_DATA_SIZE + 1] = { 0 };
	int fd = -1, status = 0;
	pid_t pid = 0;
	ssize_t n;

	assert_int_equal(ebcc__sim_signer_init(rf->f->data_fd, false, MEASUREMENT, 42, &signer),
			 0);
	assert_int_equal(ebcc__sim_monitor_start(&signer, false, NULL, &fd, &pid), 0);
	assert_true(pid > 0);
	ebcc__sim_signer_clear(&signer);
	for (int round = 0; round < 2; round++) {
		assert_int_equal(send(fd, rf->rd, sizeof(rf->rd), 0), (ssize_t)sizeof(rf->rd));
		n = recv(fd, reply, sizeof(reply), 0);
		assert_true(n > 0 && (size_t)n <= EBCC_ATTEST_REPORT_MAX);
		c = check_of(rf, keys, 1);
		c.report = reply;
		c.report_len = (size_t)n;
		assert_int_equal(verify(rf, &c, NULL), 0);
		assert_int_equal(ebcc__sim_report_check(reply, (size_t)n, MEASUREMENT, 42, rf->rd,
							sizeof(rf->rd), signer.key_id),
				 EBCC_ERR_STAGE); /* the signer was wiped: its key id is zero */
	}
	assert_int_equal(send(fd, rf->rd, 63, 0), 63);
	assert_int_equal(recv(fd, reply, sizeof(reply), 0), 0);
	assert_int_equal(send(fd, big, sizeof(big), 0), (ssize_t)sizeof(big));
	assert_int_equal(recv(fd, reply, sizeof(reply), 0), 0);
	/* It ends with the stage's end of its socket. */
	close(fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* The host's check of a stage's report: only the monitor's for this stage and this answer. */
static void host_check_of_a_report(void **state)
{
	struct report_fixture *rf = *state;
	uint8_t kid[32], rd[EBCC_REPORT_DATA_SIZE];

	assert_int_equal(ebcc__sim_key_id(rf->f->data_fd, false, kid), 0);
	assert_int_equal(ebcc__sim_report_check(rf->report, rf->report_len, MEASUREMENT, 42, rf->rd,
						sizeof(rf->rd), kid),
			 0);
	assert_int_equal(ebcc__sim_report_check(rf->report, rf->report_len, MEASUREMENT, 41, rf->rd,
						sizeof(rf->rd), kid),
			 EBCC_ERR_STAGE);
	memcpy(rd, rf->rd, sizeof(rd));
	rd[0] ^= 1;
	assert_int_equal(ebcc__sim_report_check(rf->report, rf->report_len, MEASUREMENT, 42, rd,
						sizeof(rd), kid),
			 EBCC_ERR_STAGE);
	assert_int_equal(ebcc__sim_report_check(rf->report, rf->report_len - 1, MEASUREMENT, 42,
						rf->rd, sizeof(rf->rd), kid),
			 EBCC_ERR_STAGE);
	assert_non_null(strstr(ebcc_last_error_message(), "not the monitor's"));
}

/* A report of version 1, as libebcc 0.1 signed it (ECDSA P-256 over SHA-256 of the canonical
 * encoding with the domain "EBCC-SIM-REPORT-V1"), still verifies with its P-256 key. */
static void put_field(uint8_t *buf, size_t *len, const void *p, size_t n)
{
	ebcc__put_le32(buf + *len, (uint32_t)n);
	memcpy(buf + *len + 4, p, n);
	*len += 4 + n;
}

static void put_var(uint8_t *buf, size_t *len, const void *p, size_t n)
{
	buf[*len] = (uint8_t)n;
	buf[*len + 1] = (uint8_t)(n >> 8);
	memcpy(buf + *len + 2, p, n);
	*len += 2 + n;
}

static void version_1_reports_verify(void **state)
{
	struct report_fixture *rf = *state;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	char *pem = pem_of(key);
	const char *keys[] = { pem, rf->pem };
	struct ebcc_backend_report_check c = check_of(rf, keys, 2);
	uint8_t msg[512], report[512], kid[32], eid[8], sig[80], *der = NULL;
	size_t msg_len = 0, len = 0, sig_len = sizeof(sig);
	int der_len = i2d_PUBKEY(key, &der);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	char *verdict = NULL;

	assert_true(der_len > 0);
	assert_int_equal(ebcc__sha256(der, (size_t)der_len, kid), 0);
	OPENSSL_free(der);
	ebcc__put_le64(eid, 42);
	put_field(msg, &msg_len, "EBCC-SIM-REPORT-V1", 18);
	put_field(msg, &msg_len, EBCC_SIM_FORMAT, strlen(EBCC_SIM_FORMAT));
	put_field(msg, &msg_len, MEASUREMENT, strlen(MEASUREMENT));
	put_field(msg, &msg_len, eid, 8);
	put_field(msg, &msg_len, rf->rd, sizeof(rf->rd));
	put_field(msg, &msg_len, kid, 32);
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &sig_len, msg, msg_len), 1);
	EVP_MD_CTX_free(md);

	memcpy(report, "EBSR\x01\x00", 6);
	len = 6;
	put_var(report, &len, EBCC_SIM_FORMAT, strlen(EBCC_SIM_FORMAT));
	put_var(report, &len, MEASUREMENT, strlen(MEASUREMENT));
	memcpy(report + len, eid, 8);
	len += 8;
	put_var(report, &len, rf->rd, sizeof(rf->rd));
	memcpy(report + len, kid, 32);
	len += 32;
	put_var(report, &len, sig, sig_len);

	c.report = report;
	c.report_len = len;
	assert_int_equal(verify(rf, &c, &verdict), 0);
	assert_non_null(strstr(verdict, "\"report_version\":1"));
	assert_non_null(strstr(verdict, "\"trusted_key_index\":0"));
	free(verdict);
	/* Relabeled as version 2, the same bytes verify with no key. */
	report[4] = 2;
	assert_int_equal(verify(rf, &c, NULL), EBCC_ERR_VERIFY);
	/* Nor does the host take a version 1 report from a stage. */
	report[4] = 1;
	assert_int_equal(ebcc__sim_report_check(report, len, MEASUREMENT, 42, rf->rd,
						sizeof(rf->rd), kid),
			 EBCC_ERR_STAGE);
	free(pem);
	EVP_PKEY_free(key);
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
		cmocka_unit_test_setup_teardown(monitor_answers_only_report_data, setup, teardown),
		cmocka_unit_test_setup_teardown(host_check_of_a_report, setup, teardown),
		cmocka_unit_test_setup_teardown(version_1_reports_verify, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
