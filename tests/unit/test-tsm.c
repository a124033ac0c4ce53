/* SPDX-License-Identifier: MIT */
/*
 * White-box: the tsm backend against a fake configfs-tsm (fake-tsm.c). The fake first shows it
 * behaves like the kernel; then reports through configfs, every fault the fake can inject with
 * its exact error, offline verification of TDX quotes and SNP reports (what the verdict says,
 * tampering, policies), and the whole lifecycle through the public API with the fake in place
 * of the kernel, verified in a context that has only the built-in backends.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "../../backends/tsm/configfs.h"
#include "../../backends/tsm/report.h"
#include "../../backends/tsm/snp.h"
#include "../../backends/tsm/tdx.h"
#include "../../backends/tsm/pck_ext.h"
#include "../../backends/tsm/tdx_collateral.h"
#include "bundleutil.h"
#include "fake-pki.h"
#include "fake-tsm.h"
#include "tee-fixture.h"
#include "check-policy.h"

#define REPORT_DIR "/sys/kernel/config/tsm/report"

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + 13 * i);
}

/* ---- the fake is a faithful configfs-tsm ---------------------------------------------------- */

static ssize_t read_text(const struct ebcc__hostops *h, int dir, const char *name, char *buf,
			 size_t size)
{
	int fd = h->openat(dir, name, O_RDONLY | O_CLOEXEC, 0, h->userdata);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = h->read(fd, buf, size - 1, h->userdata);
	h->close(fd, h->userdata);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

static void fake_behaves_like_configfs(void **state)
{
	struct fake_tsm *t = fake_tsm_new(FAKE_TSM_TDX), *none = fake_tsm_new(FAKE_TSM_NONE);
	const struct ebcc__hostops *h = fake_tsm_host(t), *hn = fake_tsm_host(none);
	const char *e = REPORT_DIR "/probe";
	uint8_t blob[65] = { 0 }, *out = NULL;
	char text[64];
	size_t len = 0;
	int dir, fd;
	struct ebcc__tdx_quote q;

	(void)state;
	/* Report instances: only under report/, and only with a provider. */
	assert_int_equal(hn->mkdir(e, 0700, hn->userdata), -ENXIO);
	assert_int_equal(h->mkdir("/sys/kernel/config/tsm/other", 0700, h->userdata), -EPERM);
	assert_int_equal(h->mkdir(e, 0700, h->userdata), 0);
	assert_int_equal(h->mkdir(e, 0700, h->userdata), -EEXIST);
	dir = h->open(e, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, h->userdata);
	assert_true(dir >= 0);
	assert_int_equal(read_text(h, dir, "provider", text, sizeof(text)), 10);
	assert_string_equal(text, "tdx_guest\n");
	assert_int_equal(read_text(h, dir, "generation", text, sizeof(text)), 2);
	assert_string_equal(text, "0\n");
	/* tdx_guest shows no auxblob and no privlevel. */
	assert_int_equal(h->openat(dir, "auxblob", O_RDONLY | O_CLOEXEC, 0, h->userdata), -ENOENT);
	assert_int_equal(h->openat(dir, "privlevel", O_WRONLY | O_CLOEXEC, 0, h->userdata), -ENOENT);
	/* Access modes of write-only and read-only attributes. */
	assert_int_equal(h->openat(dir, "inblob", O_RDONLY | O_CLOEXEC, 0, h->userdata), -EACCES);
	assert_int_equal(h->openat(dir, "outblob", O_WRONLY | O_CLOEXEC, 0, h->userdata), -EACCES);
	/* outblob before any inblob: EINVAL. */
	fd = h->openat(dir, "outblob", O_RDONLY | O_CLOEXEC, 0, h->userdata);
	assert_true(fd >= 0);
	assert_int_equal(h->read(fd, text, sizeof(text), h->userdata), -EINVAL);
	h->close(fd, h->userdata);
	/* inblob holds 64 bytes: the 65th is EFBIG; the buffer is handed over on close. */
	fd = h->openat(dir, "inblob", O_WRONLY | O_CLOEXEC, 0, h->userdata);
	assert_int_equal(h->write(fd, blob, 65, h->userdata), -EFBIG);
	fill(blob, 64, 3);
	assert_int_equal(h->write(fd, blob, 64, h->userdata), 64);
	assert_int_equal(read_text(h, dir, "generation", text, sizeof(text)), 2);
	assert_string_equal(text, "0\n");
	h->close(fd, h->userdata);
	assert_int_equal(read_text(h, dir, "generation", text, sizeof(text)), 2);
	assert_string_equal(text, "1\n");
	/* outblob: a whole TDX quote over the inblob, the same on every read while it holds. */
	fd = h->openat(dir, "outblob", O_RDONLY | O_CLOEXEC, 0, h->userdata);
	assert_int_equal(ebcc__host_pread_all(h, fd, 1 << 16, &out, &len), 0);
	h->close(fd, h->userdata);
	assert_int_equal(ebcc__tdx_quote_parse(out, len, EBCC_ERR_BACKEND, &q), 0);
	assert_memory_equal(q.report_data, blob, 64);
	assert_memory_equal(q.mrtd, fake_tsm_launch_measurement(t), 48);
	assert_int_equal(fake_tsm_reports(t), 1);
	free(out);
	fd = h->openat(dir, "outblob", O_RDONLY | O_CLOEXEC, 0, h->userdata);
	assert_int_equal(ebcc__host_pread_all(h, fd, 1 << 16, &out, &len), 0);
	h->close(fd, h->userdata);
	assert_int_equal(fake_tsm_reports(t), 1);
	free(out);
	/* A descriptor that is not the fake's is refused, not served. */
	assert_int_equal(h->read(0, text, 1, h->userdata), -EBADF);
	h->close(dir, h->userdata);
	assert_int_equal(h->rmdir(e, h->userdata), 0);
	assert_int_equal(h->rmdir(e, h->userdata), -ENOENT);
	assert_int_equal(fake_tsm_entries(t), 0);
	assert_int_equal(fake_tsm_open_fds(t), 0);
	assert_int_equal(fake_tsm_opens_without_cloexec(t), 0);
	fake_tsm_free(t);
	fake_tsm_free(none);
}

/* ---- reports through configfs ---------------------------------------------------------------- */

static void report_tdx(void **state)
{
	struct fake_tsm *t = fake_tsm_new(FAKE_TSM_TDX);
	struct ebcc__tsm_blobs b = { 0 };
	struct ebcc__tdx_quote q;
	uint8_t rd[64];

	(void)state;
	fill(rd, sizeof(rd), 1);
	assert_int_equal(ebcc__tsm_configfs_report(fake_tsm_host(t), rd, sizeof(rd), &b), 0);
	assert_int_equal(b.provider, EBCC_TSM_PROVIDER_TDX);
	assert_int_equal(b.attempts, 1);
	assert_null(b.auxblob);
	assert_int_equal(ebcc__tdx_quote_parse(b.outblob, b.outblob_len, EBCC_ERR_VERIFY, &q), 0);
	assert_memory_equal(q.report_data, rd, 64);
	/* Every instance removed, every descriptor closed, every open with O_CLOEXEC. */
	assert_int_equal(fake_tsm_mkdirs(t), 1);
	assert_int_equal(fake_tsm_entries(t), 0);
	assert_int_equal(fake_tsm_open_fds(t), 0);
	assert_int_equal(fake_tsm_opens_without_cloexec(t), 0);
	ebcc__tsm_blobs_clear(&b);
	fake_tsm_free(t);
}

static void report_snp(void **state)
{
	struct fake_tsm *t = fake_tsm_new(FAKE_TSM_SNP);
	struct ebcc__tsm_blobs b = { 0 };
	struct ebcc__snp_report rep;
	struct ebcc__snp_certs c;
	uint8_t rd[64], *canon = NULL;
	size_t used = 0;

	(void)state;
	fill(rd, sizeof(rd), 2);
	assert_int_equal(ebcc__tsm_configfs_report(fake_tsm_host(t), rd, sizeof(rd), &b), 0);
	assert_int_equal(b.provider, EBCC_TSM_PROVIDER_SNP);
	assert_int_equal(ebcc__snp_report_parse(b.outblob, b.outblob_len, EBCC_ERR_VERIFY, &rep), 0);
	assert_memory_equal(rep.report_data, rd, 64);
	assert_memory_equal(rep.measurement, fake_tsm_launch_measurement(t), 48);
	/* The certificate table, padded to pages by the kernel, is not canonical; the backend
	 * keeps it in the canonical form, which a verifier parses strictly. */
	assert_int_equal(b.auxblob_len % 4096, 0);
	assert_int_equal(ebcc__snp_certs_parse(b.auxblob, b.auxblob_len, EBCC_ERR_VERIFY, &c),
			 EBCC_ERR_VERIFY);
	assert_int_equal(ebcc__snp_certs_canonical(b.auxblob, b.auxblob_len, &canon, &used), 0);
	assert_true(used > 4 * 24 && used < b.auxblob_len);
	assert_int_equal(ebcc__snp_certs_parse(canon, used, EBCC_ERR_VERIFY, &c), 0);
	free(canon);
	assert_non_null(c.vcek);
	assert_non_null(c.ask);
	assert_non_null(c.ark);
	assert_null(c.vlek);
	ebcc__snp_certs_clear(&c);
	assert_int_equal(fake_tsm_entries(t), 0);
	assert_int_equal(fake_tsm_open_fds(t), 0);
	ebcc__tsm_blobs_clear(&b);
	fake_tsm_free(t);
}

struct fault_case {
	const char *name;
	enum fake_tsm_provider provider;
	struct fake_tsm_faults faults;
	int code;
	const char *message; /* a substring of the message */
	bool leaves_entry;   /* the instance cannot be removed */
};

static void faults(void **state)
{
	static const struct fault_case cases[] = {
		{ "unmounted", FAKE_TSM_TDX, { .unmounted = true }, EBCC_ERR_UNAVAILABLE,
		  "no " REPORT_DIR ": configfs-tsm not mounted or no TSM provider", false },
		{ "no provider", FAKE_TSM_NONE, { 0 }, EBCC_ERR_UNAVAILABLE,
		  "(ENXIO): no TSM provider is registered", false },
		{ "mkdir EACCES", FAKE_TSM_TDX, { .mkdir_errno = EACCES }, EBCC_ERR_PERMISSION,
		  "mkdir " REPORT_DIR "/ebcc-", false },
		{ "mkdir ENOMEM", FAKE_TSM_SNP, { .mkdir_errno = ENOMEM }, EBCC_ERR_NO_MEMORY,
		  "Cannot allocate memory (ENOMEM)", false },
		{ "EFBIG", FAKE_TSM_TDX, { .inblob_max = 32 }, EBCC_ERR_TOO_BIG,
		  "/inblob: the provider refused 64 bytes of report_data: File too large (EFBIG)",
		  false },
		{ "empty outblob", FAKE_TSM_TDX, { .empty_outblob = true }, EBCC_ERR_BACKEND,
		  "/outblob is empty: the tdx_guest provider produced no report", false },
		{ "short TDX outblob", FAKE_TSM_TDX, { .short_outblob = 700 }, EBCC_ERR_BACKEND,
		  "TDX quote of 700 bytes is short: the signature data length says", false },
		{ "short SNP outblob", FAKE_TSM_SNP, { .short_outblob = 1000 }, EBCC_ERR_BACKEND,
		  "SEV-SNP report of 1000 bytes: an ATTESTATION_REPORT is 1184 bytes (short)", false },
		{ "generation races", FAKE_TSM_TDX, { .races = 3 }, EBCC_ERR_BUSY,
		  "/generation moved from 4 to 6 while one report was made, so another writer used "
		  "the instance; gave up after 3 attempts", false },
		{ "report_new EIO", FAKE_TSM_TDX, { .outblob_errno = EIO }, EBCC_ERR_IO,
		  "/outblob: Input/output error (EIO)", false },
		{ "report_new EAGAIN", FAKE_TSM_SNP, { .outblob_errno = EAGAIN }, EBCC_ERR_BUSY,
		  "(EAGAIN)", false },
		{ "foreign REPORTDATA", FAKE_TSM_SNP, { .foreign_report_data = true }, EBCC_ERR_BACKEND,
		  "/outblob covers other REPORTDATA than the 64 bytes written to inblob", false },
		{ "unknown provider", FAKE_TSM_TDX, { .provider_name = "cca_guest" },
		  EBCC_ERR_UNAVAILABLE, "/provider is \"cca_guest\"", false },
		{ "rmdir EBUSY", FAKE_TSM_TDX, { .rmdir_errno = EBUSY }, EBCC_ERR_BUSY,
		  "rmdir " REPORT_DIR "/ebcc-", true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_tsm *t = fake_tsm_new(cases[i].provider);
		struct ebcc__tsm_blobs b = { 0 };
		uint8_t rd[64];
		int r;

		*fake_tsm_faults(t) = cases[i].faults;
		fill(rd, sizeof(rd), (uint8_t)i);
		r = ebcc__tsm_configfs_report(fake_tsm_host(t), rd, sizeof(rd), &b);
		if (r != cases[i].code || strstr(ebcc_last_error_message(), cases[i].message) == NULL)
			fail_msg("%s: got %s \"%s\", want %s with \"%s\"", cases[i].name,
				 ebcc_error_name(r), ebcc_last_error_message(),
				 ebcc_error_name(cases[i].code), cases[i].message);
		assert_null(b.outblob);
		assert_int_equal(fake_tsm_entries(t), cases[i].leaves_entry ? 1 : 0);
		assert_int_equal(fake_tsm_open_fds(t), 0);
		fake_tsm_free(t);
	}
}

static void generation_race_is_retried(void **state)
{
	struct fake_tsm *t = fake_tsm_new(FAKE_TSM_TDX);
	struct ebcc__tsm_blobs b = { 0 };
	struct ebcc__tdx_quote q;
	uint8_t rd[64];

	(void)state;
	fake_tsm_faults(t)->races = 2;
	fill(rd, sizeof(rd), 9);
	assert_int_equal(ebcc__tsm_configfs_report(fake_tsm_host(t), rd, sizeof(rd), &b), 0);
	assert_int_equal(b.attempts, 3);
	/* The report kept is over our report_data, not the other writer's. */
	assert_int_equal(ebcc__tdx_quote_parse(b.outblob, b.outblob_len, EBCC_ERR_VERIFY, &q), 0);
	assert_memory_equal(q.report_data, rd, 64);
	assert_int_equal(fake_tsm_reports(t), 3);
	ebcc__tsm_blobs_clear(&b);
	fake_tsm_free(t);
}

/* Real quote services pad: 70 zero bytes after a v4 quote, or a fixed 8000-byte buffer. Such
 * a quote is collected and verified as the host gave it; a non-zero byte after the quote is
 * refused at collection and at verification, naming how many bytes follow. */
static void tdx_padding(void **state)
{
	static const struct {
		size_t buffer;
		bool none;
		size_t expect_len; /* 0: the quote + 70 */
	} cases[] = { { 0, false, 0 }, { 8000, false, 8000 }, { 0, true, 0 } };
	uint8_t rd[64];

	(void)state;
	fill(rd, sizeof(rd), 5);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_tsm *t = fake_tsm_new(FAKE_TSM_TDX);
		struct ebcc__tsm_blobs b = { 0 };
		struct ebcc__tdx_quote q;

		fake_tsm_faults(t)->tdx_buffer = cases[i].buffer;
		fake_tsm_faults(t)->tdx_no_padding = cases[i].none;
		if (ebcc__tsm_configfs_report(fake_tsm_host(t), rd, sizeof(rd), &b) != 0)
			fail_msg("case %zu: %s", i, ebcc_last_error_message());
		assert_int_equal(ebcc__tdx_quote_parse(b.outblob, b.outblob_len, EBCC_ERR_VERIFY,
						       &q), 0);
		assert_int_equal(q.quote_len + q.padding, b.outblob_len);
		if (cases[i].none)
			assert_int_equal(q.padding, 0);
		else if (cases[i].expect_len == 0)
			assert_int_equal(q.padding, 70);
		else
			assert_int_equal(b.outblob_len, cases[i].expect_len);
		assert_memory_equal(q.report_data, rd, 64);
		ebcc__tsm_blobs_clear(&b);
		fake_tsm_free(t);
	}
	/* A non-zero byte in the padding: refused at collection, with the count. */
	{
		struct fake_tsm *t = fake_tsm_new(FAKE_TSM_TDX);
		struct ebcc__tsm_blobs b = { 0 };
		struct ebcc__tdx_quote q;
		int r;

		fake_tsm_faults(t)->tdx_buffer = 8000;
		fake_tsm_faults(t)->tdx_dirty_padding = true;
		r = ebcc__tsm_configfs_report(fake_tsm_host(t), rd, sizeof(rd), &b);
		assert_int_equal(r, EBCC_ERR_BACKEND);
		assert_non_null(strstr(ebcc_last_error_message(), "/outblob: TDX quote of 8000 bytes: "));
		assert_non_null(strstr(ebcc_last_error_message(), "and they are not all zero (byte at "
								  "offset 7999 is 0x01)"));
		assert_null(b.outblob);
		/* And at verification: the same bytes straight to the parser. */
		fake_tsm_faults(t)->tdx_dirty_padding = false;
		assert_int_equal(ebcc__tsm_configfs_report(fake_tsm_host(t), rd, sizeof(rd), &b), 0);
		assert_int_equal(ebcc__tdx_quote_parse(b.outblob, 8000, EBCC_ERR_VERIFY, &q), 0);
		b.outblob[7990] = 0x80;
		assert_int_equal(ebcc__tdx_quote_parse(b.outblob, 8000, EBCC_ERR_VERIFY, &q),
				 EBCC_ERR_VERIFY);
		assert_non_null(strstr(ebcc_last_error_message(), "bytes follow its signature data"));
		ebcc__tsm_blobs_clear(&b);
		fake_tsm_free(t);
	}
}

/* ---- offline verification -------------------------------------------------------------------- */

/* A report as stage_report() makes it. */
static void make_report(struct fake_tsm *t, const uint8_t rd[64], uint8_t **ret, size_t *ret_len)
{
	unsigned attempts = 0;

	if (ebcc__tsm_report_make(fake_tsm_host(t), rd, 64, ret, ret_len, &attempts) != 0)
		fail_msg("report: %s", ebcc_last_error_message());
	assert_int_equal(attempts, 1);
}

struct vcase {
	uint8_t rd[64];
	uint8_t *report;
	size_t report_len;
	struct ebcc_backend_report_check check;
};

static void vcase_init(struct vcase *v, struct fake_tsm *t)
{
	fill(v->rd, sizeof(v->rd), 0x42);
	make_report(t, v->rd, &v->report, &v->report_len);
	v->check = (struct ebcc_backend_report_check){
		.size = sizeof(v->check),
		.format = EBCC_TSM_FORMAT,
		.measurement = "sha256:00",
		.eid = 7,
		.report_data = v->rd,
		.report_data_len = 64,
		.report = v->report,
		.report_len = v->report_len,
	};
}

/* verify_report with policy (and trusted keys), the verdict in *verdict (may be NULL). */
static int verify(struct vcase *v, const char *policy, const char *const *keys, char **verdict,
		  char *error, size_t error_size)
{
	const struct ebcc_backend_ops *ops = ebcc__backend_tsm_entry();
	struct tee_env e;
	size_t n = 0;
	int r;

	while (keys != NULL && keys[n] != NULL)
		n++;
	tee_env_init(&e);
	v->check.trusted_keys = keys;
	v->check.trusted_keys_count = n;
	check_policy_set(&v->check, policy, "tsm");
	*verdict = NULL;
	r = ops->verify_report(&e.env, &v->check, verdict, NULL);
	snprintf(error, error_size, "%s", e.error);
	return r;
}

static char *root_policy(struct fake_tsm *t, const char *key, const char *extra_key,
			 const char *extra_value)
{
	char *pem = tee_json_string(fake_tsm_root_pem(t)), *policy;

	policy = tee_policy("tsm", NULL, key, pem, extra_key, extra_value, NULL);
	free(pem);
	return policy;
}

static void expect_verdict(const char *verdict, const char *key, const char *prefix)
{
	char *value = tee_json_get(verdict, key);

	if (value == NULL || strncmp(value, prefix, strlen(prefix)) != 0)
		fail_msg("verdict \"%s\" is \"%s\", want \"%s...\" in %s", key,
			 value != NULL ? value : "(none)", prefix, verdict);
	free(value);
}

static void expect_error(int r, const char *error, const char *substring)
{
	if (r != EBCC_ERR_VERIFY || strstr(error, substring) == NULL)
		fail_msg("got %s \"%s\", want EBCC_ERR_VERIFY with \"%s\"", ebcc_error_name(r), error,
			 substring);
}

static void verify_tdx(void **state)
{
	struct fake_tsm *t = fake_tsm_new(FAKE_TSM_TDX), *other = fake_tsm_new(FAKE_TSM_TDX);
	const char *pck[] = { fake_tsm_signer_key_pem(t), NULL };
	const char *wrong[] = { fake_tsm_signer_key_pem(other), NULL };
	char error[EBCC_ERROR_MESSAGE_MAX], *verdict, *policy, *pin;
	struct vcase v;
	int r;

	(void)state;
	vcase_init(&v, t);
	/* The chain to the policy's root CA: verified, and the verdict says what it holds. */
	policy = root_policy(t, "tdx_root_ca", NULL, NULL);
	r = verify(&v, policy, NULL, &verdict, error, sizeof(error));
	assert_int_equal(r, 0);
	expect_verdict(verdict, "signature", "verified: the quote is signed by its attestation key");
	expect_verdict(verdict, "provider", "tdx_guest");
	expect_verdict(verdict, "tee", "Intel TDX");
	expect_verdict(verdict, "launch_measurement_name", "MRTD");
	expect_verdict(verdict, "launch_measurement", fake_tsm_launch_measurement_hex(t));
	expect_verdict(verdict, "launch_measurement_pinned", "not pinned by the policy");
	expect_verdict(verdict, "hardware_root_of_trust", "true");
	expect_verdict(verdict, "debug", "false");
	expect_verdict(verdict, "report_data", "bound");
	assert_non_null(strstr(verdict, "\"not_verified\":[\"TCB status"));
	free(verdict);
	free(policy);

	/* Nothing to verify the signature with: refused, unless the policy allows it. */
	r = verify(&v, NULL, NULL, &verdict, error, sizeof(error));
	expect_error(r, error, "Intel TDX report: signature not verified: no certificate chain "
			       "(backend_options.tsm.tdx_root_ca) or key (trusted_keys) in the policy");
	free(verdict);
	policy = tee_policy("tsm", NULL, "allow_unverified_signature", "true", NULL);
	assert_int_equal(verify(&v, policy, NULL, &verdict, error, sizeof(error)), 0);
	expect_verdict(verdict, "signature", "not verified: no certificate chain");
	expect_verdict(verdict, "hardware_root_of_trust", "false");
	free(verdict);
	free(policy);

	/* The PCK key pinned in trusted_keys; another key; another root. */
	assert_int_equal(verify(&v, NULL, pck, &verdict, error, sizeof(error)), 0);
	expect_verdict(verdict, "signature", "verified:");
	assert_non_null(strstr(verdict, "whose key is trusted_keys[0]"));
	free(verdict);
	r = verify(&v, NULL, wrong, &verdict, error, sizeof(error));
	expect_error(r, error, "none of the 1 trusted_keys is the key of its PCK certificate");
	free(verdict);
	policy = root_policy(other, "tdx_root_ca", NULL, NULL);
	r = verify(&v, policy, NULL, &verdict, error, sizeof(error));
	expect_error(r, error, "the PCK certificate chain: certificate \"Fake Intel SGX PCK "
			       "Certificate\" does not chain to a trust anchor of the policy");
	free(verdict);
	free(policy);

	/* The launch measurement pinned: right and wrong. */
	pin = tee_json_string(fake_tsm_launch_measurement_hex(t));
	policy = root_policy(t, "tdx_root_ca", "launch_measurement", pin);
	assert_int_equal(verify(&v, policy, NULL, &verdict, error, sizeof(error)), 0);
	expect_verdict(verdict, "launch_measurement_pinned", "matches the policy");
	free(verdict);
	free(policy);
	free(pin);
	pin = tee_json_string("000000000000000000000000000000000000000000000000"
			      "000000000000000000000000000000000000000000000000");
	policy = root_policy(t, "tdx_root_ca", "launch_measurement", pin);
	r = verify(&v, policy, NULL, &verdict, error, sizeof(error));
	expect_error(r, error, "MRTD expected 000000");
	free(verdict);
	free(policy);
	free(pin);

	/* Only sev_guest accepted. */
	policy = root_policy(t, "tdx_root_ca", "provider", "\"sev_guest\"");
	r = verify(&v, policy, NULL, &verdict, error, sizeof(error));
	expect_error(r, error, "report from provider tdx_guest, the policy accepts only sev_guest");
	free(verdict);
	free(policy);

	/* Other report_data than the evidence's. */
	policy = root_policy(t, "tdx_root_ca", NULL, NULL);
	v.rd[5] ^= 1;
	r = verify(&v, policy, NULL, &verdict, error, sizeof(error));
	expect_error(r, error, "its REPORTDATA is not the evidence's report_data");
	v.rd[5] ^= 1;
	free(verdict);
	free(policy);
	free(v.report);
	fake_tsm_free(t);
	fake_tsm_free(other);
}

static void verify_debug_td(void **state)
{
	struct fake_tsm *t = fake_tsm_new(FAKE_TSM_TDX);
	char error[EBCC_ERROR_MESSAGE_MAX], *verdict, *policy;
	struct vcase v;

	(void)state;
	fake_tsm_faults(t)->debug = true;
	vcase_init(&v, t);
	policy = root_policy(t, "tdx_root_ca", NULL, NULL);
	expect_error(verify(&v, policy, NULL, &verdict, error, sizeof(error)), error,
		     "the TD is debuggable (TDATTRIBUTES.DEBUG)");
	free(verdict);
	free(policy);
	policy = root_policy(t, "tdx_root_ca", "allow_debug", "true");
	assert_int_equal(verify(&v, policy, NULL, &verdict, error, sizeof(error)), 0);
	expect_verdict(verdict, "debug", "true");
	free(verdict);
	free(policy);
	free(v.report);
	fake_tsm_free(t);
}

static void verify_snp(void **state)
{
	struct fake_tsm *t = fake_tsm_new(FAKE_TSM_SNP), *bare = fake_tsm_new(FAKE_TSM_SNP);
	const char *vcek[] = { fake_tsm_signer_key_pem(bare), NULL };
	char error[EBCC_ERROR_MESSAGE_MAX], *verdict, *policy, *certs, *ark;
	struct vcase v, nocerts;
	int r;

	(void)state;
	vcase_init(&v, t);
	/* VCEK and ASK from the auxblob, ARK from the policy. */
	policy = root_policy(t, "snp_ark", NULL, NULL);
	assert_int_equal(verify(&v, policy, NULL, &verdict, error, sizeof(error)), 0);
	expect_verdict(verdict, "signature", "verified: the report is signed by the VCEK \"Fake "
					     "SEV-VCEK\", which chains to the policy's snp_ark");
	expect_verdict(verdict, "tee", "AMD SEV-SNP");
	expect_verdict(verdict, "launch_measurement_name", "MEASUREMENT");
	expect_verdict(verdict, "launch_measurement", fake_tsm_launch_measurement_hex(t));
	expect_verdict(verdict, "signing_key", "VCEK");
	free(verdict);
	free(policy);
	r = verify(&v, NULL, NULL, &verdict, error, sizeof(error));
	expect_error(r, error, "signature not verified: no certificate chain "
			       "(backend_options.tsm.snp_ark) or key (trusted_keys) in the policy; "
			       "the signature verifies with the VCEK");
	free(verdict);
	free(v.report);

	/* A host that hands no certificates: the policy brings them, or a pinned VCEK key. */
	fake_tsm_faults(bare)->no_certs = true;
	vcase_init(&nocerts, bare);
	ark = tee_json_string(fake_tsm_root_pem(bare));
	policy = tee_policy("tsm", NULL, "snp_ark", ark, NULL);
	r = verify(&nocerts, policy, NULL, &verdict, error, sizeof(error));
	expect_error(r, error, "signature not verified: no VCEK certificate (neither the report's "
			       "auxblob nor backend_options.tsm.snp_certs carries one)");
	free(verdict);
	free(policy);
	certs = tee_json_string(fake_tsm_chain_pem(bare));
	policy = tee_policy("tsm", NULL, "snp_ark", ark, "snp_certs", certs, NULL);
	assert_int_equal(verify(&nocerts, policy, NULL, &verdict, error, sizeof(error)), 0);
	expect_verdict(verdict, "signature", "verified: the report is signed by the VCEK");
	free(verdict);
	free(policy);
	assert_int_equal(verify(&nocerts, NULL, vcek, &verdict, error, sizeof(error)), 0);
	expect_verdict(verdict, "signature", "verified: the report is signed by trusted_keys[0] "
					     "(the VCEK)");
	free(verdict);
	/* The ARK of another chip line does not do. */
	policy = root_policy(t, "snp_ark", "snp_certs", certs);
	r = verify(&nocerts, policy, NULL, &verdict, error, sizeof(error));
	expect_error(r, error, "does not chain to a trust anchor of the policy");
	free(verdict);
	free(policy);
	free(certs);
	free(ark);
	free(nocerts.report);
	fake_tsm_free(t);
	fake_tsm_free(bare);
}

/* SEV-SNP reports of versions 2, 3 and 5 from Milan, Genoa and Turin, signed by the VCEK or the
 * VLEK, with the certificate table as hosts lay it out (ARK, ASK, then the VCEK or VLEK, in
 * whole pages): collected, kept in canonical form, verified; the verdict names the product (a
 * version 2 report's from its certificate's productName), decodes the TCB in the product's
 * layout and says REPORTED_TCB is what the certificate certifies. */
static void snp_versions_and_keys(void **state)
{
	static const struct {
		uint32_t version;
		enum fake_snp_chip chip;
		bool vlek;
		const char *product, *tcb;
	} cases[] = {
		{ 2, FAKE_SNP_MILAN, false, "unknown", /* the verdict's: "Milan", from the VCEK */
		  "{\"raw\":\"0xdb18000000000004\",\"bootloader\":4,\"tee\":0,\"snp\":24,\"microcode\":219}" },
		{ 3, FAKE_SNP_MILAN, true, "Milan",
		  "{\"raw\":\"0xdb18000000000004\",\"bootloader\":4,\"tee\":0,\"snp\":24,\"microcode\":219}" },
		{ 3, FAKE_SNP_GENOA, false, "Genoa",
		  "{\"raw\":\"0xdb18000000000004\",\"bootloader\":4,\"tee\":0,\"snp\":24,\"microcode\":219}" },
		{ 5, FAKE_SNP_GENOA, true, "Genoa",
		  "{\"raw\":\"0xdb18000000000004\",\"bootloader\":4,\"tee\":0,\"snp\":24,\"microcode\":219}" },
		{ 5, FAKE_SNP_TURIN, false, "Turin",
		  "{\"raw\":\"0x4800000018000401\",\"fmc\":1,\"bootloader\":4,\"tee\":0,\"snp\":24,\"microcode\":72}" },
	};
	static const uint8_t guid_ark[4] = { 0xc0, 0xb4, 0x06, 0xa4 };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_tsm *t = fake_tsm_new(FAKE_TSM_SNP);
		char error[EBCC_ERROR_MESSAGE_MAX], *verdict, *policy, want[160];
		struct ebcc__tsm_blobs b = { 0 };
		struct ebcc__snp_report rep;
		struct ebcc__snp_certs c;
		uint8_t rd[64], *canon = NULL;
		size_t used = 0;
		struct vcase v;

		fake_tsm_faults(t)->snp_version = cases[i].version;
		fake_tsm_faults(t)->snp_chip = cases[i].chip;
		fake_tsm_faults(t)->snp_vlek = cases[i].vlek;
		fill(rd, sizeof(rd), 8);
		assert_int_equal(ebcc__tsm_configfs_report(fake_tsm_host(t), rd, 64, &b), 0);
		assert_int_equal(ebcc__snp_report_parse(b.outblob, b.outblob_len, EBCC_ERR_VERIFY,
							&rep), 0);
		assert_int_equal(rep.version, cases[i].version);
		assert_string_equal(ebcc__snp_product_name(rep.product), cases[i].product);
		assert_int_equal(rep.signing_key, cases[i].vlek ? 1 : 0);
		/* The table as the host wrote it: ARK first, whole pages; canonical: the signer
		 * first. */
		assert_memory_equal(b.auxblob, guid_ark, 4);
		assert_int_equal(b.auxblob_len % 4096, 0);
		assert_int_equal(ebcc__snp_certs_canonical(b.auxblob, b.auxblob_len, &canon, &used),
				 0);
		assert_int_equal(ebcc__snp_certs_parse(canon, used, EBCC_ERR_VERIFY, &c), 0);
		assert_non_null(cases[i].vlek ? c.vlek : c.vcek);
		assert_null(cases[i].vlek ? c.vcek : c.vlek);
		ebcc__snp_certs_clear(&c);
		free(canon);
		ebcc__tsm_blobs_clear(&b);

		vcase_init(&v, t);
		policy = root_policy(t, "snp_ark", NULL, NULL);
		if (verify(&v, policy, NULL, &verdict, error, sizeof(error)) != 0)
			fail_msg("case %zu: %s", i, error);
		expect_verdict(verdict, "signing_key", cases[i].vlek ? "VLEK" : "VCEK");
		expect_verdict(verdict, "product",
			       cases[i].version == 2 ? "Milan" : cases[i].product);
		expect_verdict(verdict, "root", "Fake ARK-Milan");
		expect_verdict(verdict, "tcb_status", "REPORTED_TCB is the TCB its signer was "
			       "certified for");
		assert_null(strstr(verdict, "REPORTED_TCB against the TCB extensions"));
		snprintf(want, sizeof(want), "\"report_version\":%u", cases[i].version);
		assert_non_null(strstr(verdict, want));
		snprintf(want, sizeof(want), "\"reported_tcb\":%s", cases[i].tcb);
		if (strstr(verdict, want) == NULL)
			fail_msg("case %zu: no %s in %s", i, want, verdict);
		free(verdict);
		free(policy);
		free(v.report);
		fake_tsm_free(t);
	}
}

/* A VCEK or VLEK that certifies another TCB, chip or product than the report shows, or no TCB,
 * is refused even though it signed the report and chains to the ARK; with the signer's key
 * pinned instead (no chain) the TCB is not checked and the verdict says so. */
static void snp_tcb_against_certificate(void **state)
{
	static const struct {
		const char *what;
		struct fake_tsm_faults faults;
		const char *message;
	} cases[] = {
		{ "older TCB", { .snp_cert_older_tcb = true },
		  "REPORTED_TCB (bootloader 4, tee 0, snp 24, microcode 219) is not the TCB its VCEK "
		  "certificate was issued for (bootloader 4, tee 0, snp 24, microcode 218)" },
		{ "older TCB, VLEK", { .snp_cert_older_tcb = true, .snp_vlek = true },
		  "is not the TCB its VLEK certificate was issued for" },
		{ "older TCB, Turin", { .snp_cert_older_tcb = true, .snp_chip = FAKE_SNP_TURIN },
		  "REPORTED_TCB (fmc 1, bootloader 4, tee 0, snp 24, microcode 72) is not the TCB" },
		{ "another chip", { .snp_cert_other_chip = true },
		  "CHIP_ID is not the hwID of its VCEK certificate" },
		{ "another chip, hwID wrapped",
		  { .snp_cert_other_chip = true, .snp_cert_hwid_wrapped = true },
		  "CHIP_ID is not the hwID of its VCEK certificate" },
		{ "no ucodeSPL", { .snp_cert_no_tcb = true },
		  "VCEK certificate: no extension 1.3.6.1.4.1.3704.1.3.8 (ucodeSPL)" },
		{ "another product", { .snp_cert_product = "Genoa-B1" },
		  "its CPUID says Milan, its VCEK certificate's productName \"Genoa-B1\"" },
	};
	char error[EBCC_ERROR_MESSAGE_MAX], *verdict, *policy;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_tsm *t = fake_tsm_new(FAKE_TSM_SNP);
		struct vcase v;

		*fake_tsm_faults(t) = cases[i].faults;
		vcase_init(&v, t);
		policy = root_policy(t, "snp_ark", NULL, NULL);
		expect_error(verify(&v, policy, NULL, &verdict, error, sizeof(error)), error,
			     cases[i].message);
		free(verdict);
		free(policy);
		if (i == 0) {
			const char *keys[] = { fake_tsm_signer_key_pem(t), NULL };

			/* Both encodings of hwID are read. */
			fake_tsm_faults(t)->snp_cert_older_tcb = false;
			fake_tsm_faults(t)->snp_cert_hwid_wrapped = true;
			free(v.report);
			vcase_init(&v, t);
			policy = root_policy(t, "snp_ark", NULL, NULL);
			if (verify(&v, policy, NULL, &verdict, error, sizeof(error)) != 0)
				fail_msg("hwID wrapped: %s", error);
			free(verdict);
			free(policy);

			policy = tee_policy("tsm", NULL, NULL);
			assert_int_equal(verify(&v, policy, keys, &verdict, error, sizeof(error)),
					 0);
			expect_verdict(verdict, "tcb_status", "not checked: no certificate "
				       "chained to the policy's snp_ark");
			assert_non_null(strstr(verdict, "REPORTED_TCB against the TCB extensions"));
			free(verdict);
			free(policy);
		}
		free(v.report);
		fake_tsm_free(t);
	}
}

/* snp_min_tcb against REPORTED_TCB and COMMITTED_TCB, the migration agent and SMT bits. */
static void snp_policy_rules(void **state)
{
	static const struct {
		const char *key, *value;
		uint64_t policy_bits;
		const char *message; /* NULL: verifies */
	} cases[] = {
		{ "snp_min_tcb", "{\"bootloader\":4,\"snp\":24,\"microcode\":219}", 0, NULL },
		{ "snp_min_tcb", "{\"microcode\":220}", 0,
		  "REPORTED_TCB (bootloader 4, tee 0, snp 24, microcode 219) is below "
		  "backend_options.tsm.snp_min_tcb (bootloader 0, tee 0, snp 0, microcode 220)" },
		{ "snp_min_tcb", "{\"tee\":1}", 0, "is below backend_options.tsm.snp_min_tcb" },
		{ NULL, NULL, 1u << 18, "POLICY.MIGRATE_MA is set" },
		{ "snp_allow_migration_agent", "true", 1u << 18, NULL },
		{ "snp_allow_smt", "false", 0, "POLICY.SMT is set" },
		{ "snp_allow_smt", "true", 0, NULL },
		{ "snp_min_tcb", "3", 0, "backend_options.tsm.snp_min_tcb must be an object, not an "
		  "integer" },
		{ "snp_min_tcb", "{\"ucode\":1}", 0,
		  "backend_options.tsm.snp_min_tcb: unknown key \"ucode\"" },
		{ "snp_min_tcb", "{\"snp\":256}", 0,
		  "backend_options.tsm.snp_min_tcb.snp must be an integer from 0 to 255" },
		{ "snp_min_tcb", "{\"snp\":\"24\"}", 0,
		  "backend_options.tsm.snp_min_tcb.snp must be an integer from 0 to 255" },
		{ "snp_allow_smt", "0", 0, "backend_options.tsm.snp_allow_smt must be true or false" },
	};
	char error[EBCC_ERROR_MESSAGE_MAX], *verdict, *policy;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake_tsm *t = fake_tsm_new(FAKE_TSM_SNP);
		struct vcase v;
		int r;

		fake_tsm_faults(t)->snp_policy_bits = cases[i].policy_bits;
		vcase_init(&v, t);
		policy = root_policy(t, "snp_ark", cases[i].key, cases[i].value);
		r = verify(&v, policy, NULL, &verdict, error, sizeof(error));
		if (cases[i].message == NULL && r != 0)
			fail_msg("case %zu: %s", i, error);
		if (cases[i].message != NULL)
			expect_error(r, error, cases[i].message);
		free(verdict);
		free(policy);
		free(v.report);
		fake_tsm_free(t);
	}
}

/* snp_crl: the ARK's CRL, checked for its signature, its window and the ASK. */
static void snp_crl(void **state)
{
	static const struct {
		bool revoke, forged;
		long from, to;
		const char *message; /* NULL: verifies */
	} cases[] = {
		{ false, false, -3600, 86400, NULL },
		{ true, false, -3600, 86400, "certificate \"Fake SEV-Milan\" (serial " },
		{ false, false, -7200, -3600, "the CRL of \"Fake ARK-Milan\" is valid from " },
		{ false, false, 3600, 7200, "(fetch a current one)" },
		{ false, true, -3600, 86400, "the CRL of \"Fake ARK-Milan\" is not signed by its key" },
	};
	char error[EBCC_ERROR_MESSAGE_MAX], *verdict, *policy, *crl, *json;
	struct fake_tsm *t = fake_tsm_new(FAKE_TSM_SNP), *other = fake_tsm_new(FAKE_TSM_SNP);
	struct vcase v;

	(void)state;
	vcase_init(&v, t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r;

		crl = fake_tsm_crl_pem(t, cases[i].revoke, cases[i].from, cases[i].to,
				       cases[i].forged);
		json = tee_json_string(crl);
		policy = root_policy(t, "snp_ark", "snp_crl", json);
		r = verify(&v, policy, NULL, &verdict, error, sizeof(error));
		if (cases[i].message == NULL) {
			if (r != 0)
				fail_msg("case %zu: %s", i, error);
			expect_verdict(verdict, "revocation", "not revoked: checked against the CRL "
				       "of \"Fake ARK-Milan\"");
			assert_null(strstr(verdict, "revocation of the ASK"));
		} else {
			expect_error(r, error, cases[i].message);
		}
		free(verdict);
		free(policy);
		free(json);
		free(crl);
	}
	/* A CRL of another ARK (same name, other key: the issuer found by name fails its
	 * signature), and text that is no CRL. */
	crl = fake_tsm_crl_pem(other, false, -3600, 86400, false);
	json = tee_json_string(crl);
	policy = root_policy(t, "snp_ark", "snp_crl", json);
	expect_error(verify(&v, policy, NULL, &verdict, error, sizeof(error)), error,
		     "is not signed by its key");
	free(verdict);
	free(policy);
	free(json);
	free(crl);
	policy = root_policy(t, "snp_ark", "snp_crl", "\"no CRL\"");
	expect_error(verify(&v, policy, NULL, &verdict, error, sizeof(error)), error,
		     "policy: backend_options.tsm.snp_crl: not a list of PEM CRLs");
	free(verdict);
	free(policy);
	/* Without snp_crl the verdict says revocation was not checked. */
	policy = root_policy(t, "snp_ark", NULL, NULL);
	assert_int_equal(verify(&v, policy, NULL, &verdict, error, sizeof(error)), 0);
	assert_non_null(strstr(verdict, "revocation of the ASK or ASVK"));
	free(verdict);
	free(policy);
	free(v.report);
	fake_tsm_free(t);
	fake_tsm_free(other);
}

/* A table entry that points into the table itself is refused. */
static void snp_table_inside(void **state)
{
	uint8_t aux[3 * 24 + 16] = { 0 };
	uint8_t *canon = NULL;
	size_t used = 0;

	(void)state;
	aux[0] = 0x63; /* any GUID */
	aux[16] = 8;   /* offset 8: inside the entries */
	aux[20] = 16;
	assert_int_equal(ebcc__snp_certs_canonical(aux, sizeof(aux), &canon, &used),
			 EBCC_ERR_BACKEND);
	assert_non_null(strstr(ebcc_last_error_message(), "entry 0 points at offset 8, inside the "
							  "table of 1 entries"));
	assert_null(canon);
}

/* One flipped bit anywhere: in the container, the quote or report, its signatures, the
 * certification data, the certificate table. Sampled with a stride so that it also runs
 * under valgrind; every region is hit. */
static void flips_of(enum fake_tsm_provider provider, uint16_t tdx_body_type,
		     const char *anchor_key, size_t stride)
{
	struct fake_tsm *t = fake_tsm_new(provider);
	char error[EBCC_ERROR_MESSAGE_MAX], *verdict, *policy = root_policy(t, anchor_key, NULL, NULL);
	struct vcase v;
	size_t tried = 0;

	fake_tsm_faults(t)->tdx_body_type = tdx_body_type;
	vcase_init(&v, t);
	assert_int_equal(verify(&v, policy, NULL, &verdict, error, sizeof(error)), 0);
	free(verdict);
	for (size_t i = 0; i < v.report_len; i += (i < 64 ? 1 : stride)) {
		uint8_t bit = (uint8_t)(1u << (i % 8));
		int r;

		v.report[i] ^= bit;
		r = verify(&v, policy, NULL, &verdict, error, sizeof(error));
		v.report[i] ^= bit;
		if (r != EBCC_ERR_VERIFY)
			fail_msg("flipping bit %u of byte %zu of %zu: %s", (unsigned)(i % 8), i,
				 v.report_len,
				 r == 0 ? "still verifies" : ebcc_error_name(r));
		free(verdict);
		tried++;
	}
	assert_true(tried > 40);
	free(policy);
	free(v.report);
	fake_tsm_free(t);
}

static void flips(enum fake_tsm_provider provider, const char *anchor_key, size_t stride)
{
	flips_of(provider, 0, anchor_key, stride);
}

static void tdx_flips_fail(void **state)
{
	(void)state;
	flips(FAKE_TSM_TDX, "tdx_root_ca", 37);
}

/* Quote version 5 (TDX module 1.5): TD report 1.0 and 1.5 bodies, the signature over header,
 * body type and size and body; a body type or size that is not Intel's is refused. */
static void tdx_quote_v5(void **state)
{
	static const uint16_t types[] = { 2, 3 };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct fake_tsm *t = fake_tsm_new(FAKE_TSM_TDX);
		char error[EBCC_ERROR_MESSAGE_MAX], *verdict, *policy;
		struct ebcc__tsm_blobs b = { 0 };
		struct ebcc__tdx_quote q;
		struct vcase v;
		uint8_t rd[64];

		fake_tsm_faults(t)->tdx_body_type = types[i];
		fill(rd, sizeof(rd), 6);
		assert_int_equal(ebcc__tsm_configfs_report(fake_tsm_host(t), rd, 64, &b), 0);
		assert_int_equal(ebcc__tdx_quote_parse(b.outblob, b.outblob_len, EBCC_ERR_VERIFY,
						       &q), 0);
		assert_int_equal(q.version, 5);
		assert_int_equal(q.body_type, types[i]);
		assert_int_equal(q.padding, 0);
		assert_int_equal(q.signed_len, 48 + 6 + (types[i] == 3 ? 648 : 584));
		assert_memory_equal(q.mrtd, fake_tsm_launch_measurement(t), 48);
		assert_memory_equal(q.report_data, rd, 64);
		assert_int_equal(q.sig.qe_report_isvsvn, 7);
		if (types[i] == 3) {
			assert_non_null(q.mrservicetd);
			assert_int_equal(q.tee_tcb_svn2[0], 0x05);
			assert_int_equal(q.mrservicetd[0], 0x66);
		} else {
			assert_null(q.mrservicetd);
		}
		/* Another body type; a size that does not fit the type. */
		b.outblob[48] = 4;
		assert_int_equal(ebcc__tdx_quote_parse(b.outblob, b.outblob_len, EBCC_ERR_VERIFY,
						       &q), EBCC_ERR_VERIFY);
		assert_non_null(strstr(ebcc_last_error_message(), "body type 4, only 2"));
		b.outblob[48] = (uint8_t)types[i];
		b.outblob[50] ^= 0x40;
		assert_int_equal(ebcc__tdx_quote_parse(b.outblob, b.outblob_len, EBCC_ERR_VERIFY,
						       &q), EBCC_ERR_VERIFY);
		assert_non_null(strstr(ebcc_last_error_message(), "body size"));
		ebcc__tsm_blobs_clear(&b);

		vcase_init(&v, t);
		policy = root_policy(t, "tdx_root_ca", NULL, NULL);
		assert_int_equal(verify(&v, policy, NULL, &verdict, error, sizeof(error)), 0);
		expect_verdict(verdict, "quote_version", "5");
		expect_verdict(verdict, "launch_measurement", fake_tsm_launch_measurement_hex(t));
		free(verdict);
		free(policy);
		free(v.report);
		fake_tsm_free(t);
	}
	flips_of(FAKE_TSM_TDX, 3, "tdx_root_ca", 41);
}

static void snp_flips_fail(void **state)
{
	(void)state;
	flips(FAKE_TSM_SNP, "snp_ark", 29);
}

static void bad_policies_and_containers(void **state)
{
	static const struct {
		const char *key, *value, *message;
	} policies[] = {
		{ "tdx_root_ca", "\"not a certificate\"",
		  "policy: backend_options.tsm.tdx_root_ca holds no PEM certificate" },
		{ "snp_ark", "[]", "backend_options.tsm.snp_ark must be a string, not an array" },
		{ "launch_measurement", "\"abcd\"",
		  "backend_options.tsm.launch_measurement must be 96 lowercase hex digits" },
		{ "provider", "\"sgx\"", "backend_options.tsm.provider is \"sgx\"" },
		{ "allow_debug", "1", "backend_options.tsm.allow_debug must be true or false" },
		{ "allow_unverified", "true", "backend_options.tsm: unknown key \"allow_unverified\"" },
	};
	struct fake_tsm *t = fake_tsm_new(FAKE_TSM_TDX);
	char error[EBCC_ERROR_MESSAGE_MAX], *verdict, *policy;
	uint8_t *copy;
	struct vcase v;

	(void)state;
	vcase_init(&v, t);
	for (size_t i = 0; i < sizeof(policies) / sizeof(policies[0]); i++) {
		policy = tee_policy("tsm", NULL, policies[i].key, policies[i].value, NULL);
		expect_error(verify(&v, policy, NULL, &verdict, error, sizeof(error)), error,
			     policies[i].message);
		free(verdict);
		free(policy);
	}
	policy = strdup("{\"backend_options\":{\"tsm\":[]}}");
	expect_error(verify(&v, policy, NULL, &verdict, error, sizeof(error)), error,
		     "backend_options.tsm must be an object, not an array");
	free(verdict);
	free(policy);

	/* Containers: truncated, padded, another version, a provider it does not know. */
	policy = root_policy(t, "tdx_root_ca", NULL, NULL);
	v.check.report_len = v.report_len - 1;
	expect_error(verify(&v, policy, NULL, &verdict, error, sizeof(error)), error,
		     "ebcc.tsm.v1 report: no auxblob length at offset");
	free(verdict);
	copy = malloc(v.report_len + 1);
	memcpy(copy, v.report, v.report_len);
	copy[v.report_len] = 0;
	v.check.report = copy;
	v.check.report_len = v.report_len + 1;
	expect_error(verify(&v, policy, NULL, &verdict, error, sizeof(error)), error,
		     "but 1 bytes follow");
	free(verdict);
	v.check.report_len = v.report_len;
	copy[4] = 2;
	expect_error(verify(&v, policy, NULL, &verdict, error, sizeof(error)), error,
		     "version 2, only 1 is understood");
	free(verdict);
	copy[4] = 1;
	copy[5] = 9;
	expect_error(verify(&v, policy, NULL, &verdict, error, sizeof(error)), error,
		     "provider 9 is not 1 (tdx_guest) or 2 (sev_guest)");
	free(verdict);
	copy[5] = 2; /* a TDX quote labelled sev_guest */
	expect_error(verify(&v, policy, NULL, &verdict, error, sizeof(error)), error,
		     "SEV-SNP report of");
	free(verdict);
	v.check.format = "ebcc.sim.v1";
	expect_error(verify(&v, policy, NULL, &verdict, error, sizeof(error)), error,
		     "report format \"ebcc.sim.v1\" is not ebcc.tsm.v1");
	free(verdict);
	free(copy);
	free(policy);
	free(v.report);
	fake_tsm_free(t);
}

/* ---- the lifecycle through the public API, the fake in place of the kernel -------------------- */

#define STAGES_JSON                                                                          \
	"{\"ebccVersion\": \"0.1\", \"backend\": \"tsm\", \"stages\": ["                   \
	"{\"name\": \"echo\", \"image\": \"stages/echo\", \"maxRequest\": 4096},"          \
	" {\"name\": \"fresh\", \"image\": \"stages/echo\", \"lifetime\": \"invocation\"}]}"

struct life {
	char *root, *bundle;
	struct fake_tsm *t;
	struct ebcc_context *ctx;
	struct ebcc_instance *inst;
};

static const char *echo_image(void)
{
	const char *p = getenv("EBCC_STAGE_ECHO");

	if (p == NULL)
		fail_msg("EBCC_STAGE_ECHO is not set (run through meson test)");
	return p;
}

/* A composite "cvm" of manifest, whose one image (at stages/<image_name>) is a copy of image. */
static void life_start_with(struct life *l, enum fake_tsm_provider provider, const char *manifest,
			    const char *image, const char *image_name)
{
	static const char config[] = "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}}";
	char dest[64];

	l->root = scratch_dir("tsm-root");
	l->bundle = scratch_dir("tsm-bundle");
	l->t = fake_tsm_new(provider);
	l->ctx = tee_context(l->root, fake_tsm_host(l->t), NULL);
	write_file(l->bundle, "config.json", config, strlen(config));
	write_file(l->bundle, "ebcc.json", manifest, strlen(manifest));
	snprintf(dest, sizeof(dest), "stages/%s", image_name);
	copy_file(image, l->bundle, dest, 0755);
	assert_int_equal(ebcc_instance_create(l->ctx, "cvm", l->bundle, &l->inst), 0);
}

static void life_start(struct life *l, enum fake_tsm_provider provider)
{
	life_start_with(l, provider, STAGES_JSON, echo_image(), "echo");
}

static void life_end(struct life *l)
{
	if (l->inst != NULL) {
		ebcc_instance_delete(l->inst, EBCC_DELETE_FORCE);
		ebcc_instance_unref(l->inst);
	}
	ebcc_context_unref(l->ctx);
	/* No report instance and no descriptor left behind in the kernel. */
	assert_int_equal(fake_tsm_entries(l->t), 0);
	assert_int_equal(fake_tsm_open_fds(l->t), 0);
	assert_int_equal(fake_tsm_opens_without_cloexec(l->t), 0);
	fake_tsm_free(l->t);
	scratch_remove(l->root);
	scratch_remove(l->bundle);
}

static void lifecycle(enum fake_tsm_provider provider, const char *anchor_key)
{
	static const char nonce[] = "0123456789abcdef";
	struct life l = { 0 };
	struct ebcc_context *plain = NULL;
	struct ebcc_invocation *inv = NULL;
	struct ebcc_evidence *ev = NULL, *parsed = NULL, *tampered = NULL;
	struct ebcc_evidence_fields f;
	const void *data;
	size_t len;
	char *json = NULL, *info = NULL, *policy, *pin, *root, *verdict = NULL;
	uint8_t *report;
	struct tee_env e;

	life_start(&l, provider);
	assert_int_equal(ebcc_instance_start(l.inst), 0);
	assert_int_equal(ebcc_stage_info(l.inst, "echo", &info), 0);
	assert_non_null(strstr(info, provider == FAKE_TSM_TDX ? "\"tee\": \"Intel TDX\""
							      : "\"tee\": \"AMD SEV-SNP\""));
	ebcc_free(info);

	/* A warm stage and a per-invocation one: responses and evidence. */
	assert_int_equal(ebcc_stage_invoke(l.inst, "echo", "hello", 5, nonce, 16, &inv), 0);
	assert_int_equal(ebcc_invocation_response(inv, &data, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(data, "hello", 5);
	ebcc_invocation_unref(inv);
	assert_int_equal(ebcc_stage_invoke(l.inst, "fresh", "again", 5, NULL, 0, &inv), 0);
	ebcc_invocation_unref(inv);
	assert_int_equal(fake_tsm_reports(l.t), 2);

	/* The evidence, serialized and parsed in a context with only the built-in backends:
	 * verification needs no kernel. */
	assert_int_equal(ebcc_evidence_get(l.inst, "echo", 0, &ev), 0);
	assert_int_equal(ebcc_evidence_serialize(ev, &json), 0);
	assert_non_null(strstr(json, "\"format\":\"ebcc.tsm.v1\",\"backend\":\"tsm\","
				     "\"simulated\":false"));
	assert_int_equal(ebcc_context_new(&plain), 0);
	assert_int_equal(ebcc_evidence_parse(plain, json, strlen(json), &parsed), 0);
	root = tee_json_string(fake_tsm_root_pem(l.t));
	pin = tee_json_string(fake_tsm_launch_measurement_hex(l.t));
	policy = tee_policy("tsm", NULL, anchor_key, root, "launch_measurement", pin, NULL);
	assert_int_equal(ebcc_evidence_verify(plain, parsed, policy), 0);
	/* No policy: the signature cannot be verified, so the evidence is refused. */
	assert_int_equal(ebcc_evidence_verify(plain, parsed, NULL), EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "signature not verified"));
	/* What the backend verified. */
	tee_env_init(&e);
	assert_int_equal(tee_verdict(ebcc__backend_tsm_entry(), &e, parsed, policy, &verdict), 0);
	expect_verdict(verdict, "signature", "verified:");
	expect_verdict(verdict, "launch_measurement_pinned", "matches the policy");
	free(verdict);

	/* Tampered: one bit of the hardware report. */
	f = *ebcc__evidence_fields(parsed);
	report = malloc(f.report_len);
	memcpy(report, f.report, f.report_len);
	report[EBCC_TSM_CONTAINER_HEADER + 4 + 200] ^= 0x10;
	f.report = report;
	assert_int_equal(ebcc__evidence_new(&f, &tampered), 0);
	assert_int_equal(ebcc_evidence_verify(plain, tampered, policy), EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "evidence: report rejected"));
	free(report);

	ebcc_evidence_unref(tampered);
	ebcc_evidence_unref(parsed);
	ebcc_evidence_unref(ev);
	ebcc_free(json);
	free(policy);
	free(pin);
	free(root);
	ebcc_context_unref(plain);
	assert_int_equal(ebcc_instance_kill(l.inst, 9), 0);
	assert_int_equal(ebcc_instance_delete(l.inst, 0), 0);
	ebcc_instance_unref(l.inst);
	l.inst = NULL;
	life_end(&l);
}

static void lifecycle_tdx(void **state)
{
	(void)state;
	lifecycle(FAKE_TSM_TDX, "tdx_root_ca");
}

static void lifecycle_snp(void **state)
{
	(void)state;
	lifecycle(FAKE_TSM_SNP, "snp_ark");
}

/* The relying party's side of a release on tsm: the stage makes a key in the answer to "key"
 * with nonce; its hardware-format evidence, parsed in a context of the relying party's own, and
 * the policy the release is made under (the TEE's root and launch measurement, the stage's
 * measurement, the nonce). */
struct release {
	struct ebcc_context *plain;
	struct ebcc_evidence *ev, *parsed;
	struct json_object *policy;
	char *json, *root, *pin, *base;
};

static void release_prepare(struct life *l, const char *stage, const char *anchor_key,
			    const char *nonce, struct release *rel)
{
	struct ebcc_invocation *inv = NULL;
	const char *text;
	char nonce_hex[2 * 64 + 1] = "";

	*rel = (struct release){ 0 };
	assert_true(strlen(nonce) <= 64);
	assert_int_equal(ebcc_stage_invoke(l->inst, stage, "key", 3, nonce, strlen(nonce), &inv), 0);
	ebcc_invocation_unref(inv);
	assert_int_equal(ebcc_evidence_get(l->inst, stage, 0, &rel->ev), 0);
	assert_int_equal(ebcc_evidence_serialize(rel->ev, &rel->json), 0);
	assert_non_null(strstr(rel->json, "\"format\":\"ebcc.tsm.v1\""));
	assert_non_null(strstr(rel->json, "\"public_key\":"));
	assert_int_equal(ebcc_context_new(&rel->plain), 0);
	assert_int_equal(ebcc_evidence_parse(rel->plain, rel->json, strlen(rel->json), &rel->parsed),
			 0);
	assert_int_equal(ebcc_evidence_get_text(rel->parsed, EBCC_EVIDENCE_MEASUREMENT, &text), 0);
	rel->root = tee_json_string(fake_tsm_root_pem(l->t));
	rel->pin = tee_json_string(fake_tsm_launch_measurement_hex(l->t));
	rel->base = tee_policy("tsm", NULL, anchor_key, rel->root, "launch_measurement", rel->pin,
			       NULL);
	rel->policy = json_tokener_parse(rel->base);
	for (size_t i = 0; nonce[i] != '\0'; i++)
		snprintf(nonce_hex + 2 * i, 3, "%02x", (unsigned char)nonce[i]);
	json_object_object_add(rel->policy, "measurement", json_object_new_string(text));
	json_object_object_add(rel->policy, "nonce", json_object_new_string(nonce_hex));
}

static const char *release_policy(const struct release *rel)
{
	return json_object_to_json_string_ext(rel->policy, JSON_C_TO_STRING_PLAIN);
}

static void release_clear(struct release *rel)
{
	json_object_put(rel->policy);
	free(rel->base);
	free(rel->pin);
	free(rel->root);
	ebcc_evidence_unref(rel->parsed);
	ebcc_evidence_unref(rel->ev);
	ebcc_free(rel->json);
	ebcc_context_unref(rel->plain);
}

/* A stage-held key on tsm: the same API as sim (ebcc-secrets(7)), with hardware-format evidence
 * from the fake. The vault stage makes a key, the relying party verifies the evidence and
 * seals a secret to it, and only that stage opens it. */
static void stage_key_and_secret(enum fake_tsm_provider provider, const char *anchor_key)
{
	static const char manifest[] =
		"{\"ebccVersion\": \"0.1\", \"backend\": \"tsm\", \"stages\": ["
		"{\"name\": \"vault\", \"image\": \"stages/vault\"}]}";
	static const char secret[] = "the database password";
	struct life l = { 0 };
	struct release rel;
	struct ebcc_invocation *inv = NULL;
	struct ebcc_verify_options opts;
	const char *vault = getenv("EBCC_STAGE_VAULT");
	const uint8_t *pk = NULL;
	const void *data;
	size_t len, pk_len = 0, sealed_len = 0;
	char *request, mac_hex[2 * 32 + 1];
	unsigned char mac[32];
	unsigned int mac_len = 0;
	void *sealed = NULL;

	if (vault == NULL)
		fail_msg("EBCC_STAGE_VAULT is not set (run through meson test)");
	life_start_with(&l, provider, manifest, vault, "vault");
	assert_int_equal(ebcc_instance_start(l.inst), 0);

	/* The key, bound into this answer's hardware-format evidence. */
	release_prepare(&l, "vault", anchor_key, "fresh nonce of the relying party", &rel);
	assert_int_equal(ebcc_evidence_get_bytes(rel.parsed, EBCC_EVIDENCE_PUBLIC_KEY, &pk, &pk_len),
			 0);
	assert_int_equal(pk_len, 32);
	ebcc_verify_options_init(&opts);
	opts.policy_json = release_policy(&rel);
	assert_int_equal(ebcc_secret_seal(rel.plain, rel.parsed, &opts, secret, sizeof(secret) - 1,
					  &sealed, &sealed_len),
			 0);

	/* Only the stage opens it, and uses it without answering it. */
	request = malloc(5 + sealed_len);
	memcpy(request, "open:", 5);
	memcpy(request + 5, sealed, sealed_len);
	assert_int_equal(ebcc_stage_invoke(l.inst, "vault", request, 5 + sealed_len, NULL, 0, &inv),
			 0);
	assert_int_equal(ebcc_invocation_response(inv, &data, &len), 0);
	assert_int_equal(len, strlen("opened 21 bytes"));
	assert_memory_equal(data, "opened 21 bytes", len);
	ebcc_invocation_unref(inv);
	assert_int_equal(ebcc_stage_invoke(l.inst, "vault", "hmac:hello", 10, NULL, 0, &inv), 0);
	assert_int_equal(ebcc_invocation_response(inv, &data, &len), 0);
	assert_non_null(HMAC(EVP_sha256(), secret, (int)sizeof(secret) - 1,
			     (const unsigned char *)"hello", 5, mac, &mac_len));
	for (unsigned int i = 0; i < mac_len; i++)
		snprintf(mac_hex + 2 * i, 3, "%02x", mac[i]);
	assert_int_equal(len, 64);
	assert_memory_equal(data, mac_hex, 64);
	ebcc_invocation_unref(inv);
	/* Good for one secret: the same blob again is refused inside the stage. */
	assert_int_not_equal(ebcc_stage_invoke(l.inst, "vault", request, 5 + sealed_len, NULL, 0,
					       &inv),
			     0);

	/* Another nonce than the one the evidence binds: nothing is released. */
	ebcc_free(sealed);
	sealed = NULL;
	json_object_object_add(rel.policy, "nonce", json_object_new_string("00"));
	opts.policy_json = release_policy(&rel);
	assert_int_equal(ebcc_secret_seal(rel.plain, rel.parsed, &opts, secret, sizeof(secret) - 1,
					  &sealed, &sealed_len),
			 EBCC_ERR_VERIFY);
	assert_null(sealed);

	free(request);
	release_clear(&rel);
	life_end(&l);
}

/* An encrypted image (ebcc-secrets(7)) loaded by a tsm stage: the image key released to the
 * loader's hardware-format evidence, the table decrypted inside the stage, and every later
 * answer's evidence binding its digest. The image is made here with OpenSSL, from the format. */
static void stage_image_load(enum fake_tsm_provider provider, const char *anchor_key)
{
	static const char manifest[] =
		"{\"ebccVersion\": \"0.1\", \"backend\": \"tsm\", \"stages\": ["
		"{\"name\": \"loader\", \"image\": \"stages/loader\"}]}";
	static const char table[] = "owner=acme\nmodel=secret weights\n";
	struct life l = { 0 };
	struct release rel;
	struct ebcc_invocation *inv = NULL;
	struct ebcc_evidence *ev = NULL, *parsed = NULL;
	struct ebcc_verify_options opts;
	const char *loader = getenv("EBCC_STAGE_LOADER");
	const uint8_t *digest = NULL;
	const void *data;
	uint8_t key[32], image[28 + sizeof(table) - 1 + 16], want[32];
	unsigned int want_len = 0;
	size_t len, digest_len = 0, sealed_len = 0;
	char *json = NULL, *request, pin_digest[8 + 64] = "sha256:";
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	void *sealed = NULL;
	int n = 0;

	if (loader == NULL)
		fail_msg("EBCC_STAGE_LOADER is not set (run through meson test)");
	life_start_with(&l, provider, manifest, loader, "loader");
	assert_int_equal(ebcc_instance_start(l.inst), 0);

	/* The image: "EBCCEI01" || iv || u64be(length) || ciphertext || tag. */
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)(0xa0 + i);
	memset(image, 0, sizeof(image));
	memcpy(image, "EBCCEI01", 8);
	memset(image + 8, 0x5a, 12);
	image[27] = (uint8_t)(sizeof(table) - 1);
	assert_non_null(c);
	assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, image + 8), 1);
	assert_int_equal(EVP_EncryptUpdate(c, NULL, &n, image, 28), 1);
	assert_int_equal(EVP_EncryptUpdate(c, image + 28, &n, (const uint8_t *)table,
					   (int)sizeof(table) - 1), 1);
	assert_int_equal(EVP_EncryptFinal_ex(c, image + 28 + sizeof(table) - 1, &n), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16,
					     image + 28 + sizeof(table) - 1), 1);
	EVP_CIPHER_CTX_free(c);

	/* The loader's key, in hardware-format evidence; the image key sealed to it. */
	release_prepare(&l, "loader", anchor_key, "the image owner's nonce", &rel);
	ebcc_verify_options_init(&opts);
	opts.policy_json = release_policy(&rel);
	assert_int_equal(ebcc_secret_seal(rel.plain, rel.parsed, &opts, key, sizeof(key), &sealed,
					  &sealed_len), 0);

	/* "EBCCLD01" || u32be(sealed length) || sealed || image. */
	request = malloc(12 + sealed_len + sizeof(image));
	memcpy(request, "EBCCLD01", 8);
	for (int i = 0; i < 4; i++)
		request[8 + i] = (char)(sealed_len >> (24 - 8 * i));
	memcpy(request + 12, sealed, sealed_len);
	memcpy(request + 12 + sealed_len, image, sizeof(image));
	assert_int_equal(ebcc_stage_invoke(l.inst, "loader", request, 12 + sealed_len + sizeof(image),
					   NULL, 0, &inv), 0);
	ebcc_invocation_unref(inv);
	assert_int_equal(ebcc_stage_invoke(l.inst, "loader", "get:model", 9, NULL, 0, &inv), 0);
	assert_int_equal(ebcc_invocation_response(inv, &data, &len), 0);
	assert_int_equal(len, strlen("secret weights"));
	assert_memory_equal(data, "secret weights", len);
	ebcc_invocation_unref(inv);

	/* The hardware-format evidence of that answer binds the table's digest and verifies with
	 * it pinned; another digest is refused. */
	assert_int_equal(ebcc_evidence_get(l.inst, "loader", 0, &ev), 0);
	assert_int_equal(ebcc_evidence_serialize(ev, &json), 0);
	assert_non_null(strstr(json, "\"version\":4"));
	assert_int_equal(ebcc_evidence_parse(rel.plain, json, strlen(json), &parsed), 0);
	assert_int_equal(ebcc_evidence_get_bytes(parsed, EBCC_EVIDENCE_IMAGE_DIGEST, &digest,
						 &digest_len), 0);
	assert_int_equal(EVP_Digest(table, sizeof(table) - 1, want, &want_len, EVP_sha256(), NULL),
			 1);
	assert_int_equal(digest_len, 32);
	assert_memory_equal(digest, want, 32);
	for (size_t i = 0; i < 32; i++)
		snprintf(pin_digest + 7 + 2 * i, 3, "%02x", want[i]);
	json_object_object_del(rel.policy, "nonce");
	json_object_object_add(rel.policy, "image_digest", json_object_new_string(pin_digest));
	assert_int_equal(ebcc_evidence_verify(rel.plain, parsed, release_policy(&rel)), 0);
	pin_digest[7] = pin_digest[7] == '0' ? '1' : '0';
	json_object_object_add(rel.policy, "image_digest", json_object_new_string(pin_digest));
	assert_int_equal(ebcc_evidence_verify(rel.plain, parsed, release_policy(&rel)),
			 EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "image_digest expected"));

	free(request);
	ebcc_free(sealed);
	ebcc_free(json);
	ebcc_evidence_unref(parsed);
	ebcc_evidence_unref(ev);
	release_clear(&rel);
	life_end(&l);
}

static void stage_image_load_tdx(void **state)
{
	(void)state;
	stage_image_load(FAKE_TSM_TDX, "tdx_root_ca");
}

static void stage_image_load_snp(void **state)
{
	(void)state;
	stage_image_load(FAKE_TSM_SNP, "snp_ark");
}

static void stage_key_and_secret_tdx(void **state)
{
	(void)state;
	stage_key_and_secret(FAKE_TSM_TDX, "tdx_root_ca");
}

static void stage_key_and_secret_snp(void **state)
{
	(void)state;
	stage_key_and_secret(FAKE_TSM_SNP, "snp_ark");
}

static void lifecycle_faults(void **state)
{
	struct life l = { 0 };
	struct ebcc_invocation *inv = NULL;

	(void)state;
	life_start(&l, FAKE_TSM_TDX);
	assert_int_equal(ebcc_instance_start(l.inst), 0);
	/* A concurrent writer on every attempt: EBCC_ERR_BUSY, and a failed invocation. */
	fake_tsm_faults(l.t)->races = 3;
	assert_int_equal(ebcc_stage_invoke(l.inst, "echo", "x", 1, NULL, 0, &inv), EBCC_ERR_BUSY);
	assert_non_null(strstr(ebcc_last_error_message(), "gave up after 3 attempts"));
	/* An empty outblob is never a report. */
	fake_tsm_faults(l.t)->empty_outblob = true;
	assert_int_equal(ebcc_stage_invoke(l.inst, "echo", "x", 1, NULL, 0, &inv),
			 EBCC_ERR_BACKEND);
	assert_non_null(strstr(ebcc_last_error_message(), "outblob is empty"));
	fake_tsm_faults(l.t)->empty_outblob = false;
	assert_int_equal(ebcc_stage_invoke(l.inst, "echo", "x", 1, NULL, 0, &inv), 0);
	ebcc_invocation_unref(inv);
	life_end(&l);
}

static void start_without_report_instances(void **state)
{
	struct life l = { 0 };

	(void)state;
	life_start(&l, FAKE_TSM_NONE);
	assert_int_equal(ebcc_instance_start(l.inst), EBCC_ERR_UNAVAILABLE);
	assert_non_null(strstr(ebcc_last_error_message(), "no TSM provider is registered"));
	assert_int_equal(ebcc_instance_status(l.inst), EBCC_STATUS_CREATED);
	life_end(&l);
	/* Not allowed to make report instances: the cause, not "unavailable". */
	life_start(&l, FAKE_TSM_SNP);
	fake_tsm_faults(l.t)->mkdir_errno = EACCES;
	assert_int_equal(ebcc_instance_start(l.inst), EBCC_ERR_PERMISSION);
	assert_non_null(strstr(ebcc_last_error_message(), "stage echo: mkdir " REPORT_DIR "/ebcc-"));
	assert_non_null(strstr(ebcc_last_error_message(), "Permission denied (EACCES)"));
	life_end(&l);
}

static void probe_through_the_api(void **state)
{
	struct fake_tsm *tdx = fake_tsm_new(FAKE_TSM_TDX), *none = fake_tsm_new(FAKE_TSM_NONE),
			*gone = fake_tsm_new(FAKE_TSM_SNP);
	char *root = scratch_dir("tsm-probe"), *json = NULL;
	struct ebcc_context *ctx;

	(void)state;
	ctx = tee_context(root, fake_tsm_host(tdx), NULL);
	assert_int_equal(ebcc_backend_probe(ctx, "tsm", &json), 0);
	assert_non_null(strstr(json, "\"provider\":\"tdx_guest\""));
	assert_non_null(strstr(json, "\"available\":true"));
	assert_non_null(strstr(json, "\"isolation\":\"vm\""));
	assert_non_null(strstr(json, "\"simulated\":false"));
	ebcc_free(json);
	ebcc_context_unref(ctx);

	ctx = tee_context(root, fake_tsm_host(none), NULL);
	assert_int_equal(ebcc_backend_probe(ctx, "tsm", &json), 0);
	assert_non_null(strstr(json, "\"available\":false"));
	assert_non_null(strstr(json, "no TSM provider is registered with configfs-tsm"));
	ebcc_free(json);
	ebcc_context_unref(ctx);

	fake_tsm_faults(gone)->unmounted = true;
	ctx = tee_context(root, fake_tsm_host(gone), NULL);
	assert_int_equal(ebcc_backend_probe(ctx, "tsm", &json), 0);
	assert_non_null(strstr(json, "\"reason\":\"no /sys/kernel/config/tsm/report: "
				     "configfs-tsm not mounted or no TSM provider\""));
	ebcc_free(json);
	ebcc_context_unref(ctx);
	assert_int_equal(fake_tsm_entries(tdx) + fake_tsm_open_fds(tdx), 0);
	fake_tsm_free(tdx);
	fake_tsm_free(none);
	fake_tsm_free(gone);
	scratch_remove(root);
}

/* ---- TDX collateral: revocation through the PCK CRL and the root CA CRL ------------------ */

/* A CRL by issuer, current from a day ago for a month, revoking cert (unless NULL); hex DER. */
/* The platform level of TCB info: newest first; TEE_TCB_SVN[0..1] are left to the module
 * identity when the module's major version is not 0, as in Intel's QVL. */
static void tdx_platform_level(void **state)
{
	struct ebcc__tcb_level levels[2] = {
		{ .sgx_svn = { 3 }, .tdx_svn = { 5, 0, 2 }, .pcesvn = 11 },
		{ .sgx_svn = { 2 }, .tdx_svn = { 3, 0, 1 }, .pcesvn = 10 },
	};
	struct ebcc__tcb_info t = { .levels = levels, .n_levels = 2 };
	struct ebcc__pck_ext pck = { .sgx_svn = { 3 }, .pcesvn = 11 };
	uint8_t svn[16] = { 6, 1, 2 };

	(void)state;
	assert_ptr_equal(ebcc__collateral_platform_level(&t, &pck, svn), &levels[0]);
	svn[0] = 4; /* below level 0's byte 0, which the module identity grades at major 1 */
	assert_ptr_equal(ebcc__collateral_platform_level(&t, &pck, svn), &levels[0]);
	svn[1] = 0; /* major 0: byte 0 counts */
	assert_ptr_equal(ebcc__collateral_platform_level(&t, &pck, svn), &levels[1]);
	svn[1] = 1;
	svn[2] = 1; /* byte 2 always counts */
	assert_ptr_equal(ebcc__collateral_platform_level(&t, &pck, svn), &levels[1]);
	pck.pcesvn = 10;
	svn[2] = 2;
	assert_ptr_equal(ebcc__collateral_platform_level(&t, &pck, svn), &levels[1]);
	pck.sgx_svn[0] = 1;
	assert_null(ebcc__collateral_platform_level(&t, &pck, svn));
}

static char *crl_hex(X509 *issuer, EVP_PKEY *key, X509 *cert)
{
	X509_CRL *crl = X509_CRL_new();
	ASN1_TIME *from = X509_gmtime_adj(NULL, -86400), *until = X509_gmtime_adj(NULL, 30 * 86400);
	unsigned char *der = NULL;
	char *hex;
	int n;

	assert_non_null(crl);
	assert_int_equal(X509_CRL_set_version(crl, 1), 1);
	assert_int_equal(X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)), 1);
	assert_int_equal(X509_CRL_set1_lastUpdate(crl, from), 1);
	assert_int_equal(X509_CRL_set1_nextUpdate(crl, until), 1);
	if (cert != NULL) {
		X509_REVOKED *r = X509_REVOKED_new();

		assert_int_equal(X509_REVOKED_set_serialNumber(r, X509_get_serialNumber(cert)), 1);
		assert_int_equal(X509_REVOKED_set_revocationDate(r, from), 1);
		assert_int_equal(X509_CRL_add0_revoked(crl, r), 1);
	}
	assert_true(X509_CRL_sign(crl, key, EVP_sha256()) > 0);
	n = i2d_X509_CRL(crl, &der);
	assert_true(n > 0);
	hex = malloc(2 * (size_t)n + 1);
	assert_non_null(hex);
	ebcc__hex_encode(der, (size_t)n, hex);
	OPENSSL_free(der);
	ASN1_TIME_free(from);
	ASN1_TIME_free(until);
	X509_CRL_free(crl);
	return hex;
}

static void set_item(struct ebcc__tsm_policy *p, int item, char *text)
{
	free(p->tdx_collateral.text[item]);
	p->tdx_collateral.text[item] = text;
	p->tdx_collateral.len[item] = strlen(text);
}

static void tdx_collateral_revocation(void **state)
{
	EVP_PKEY *root_key = fake_pki_ec_key("P-256"), *ca_key = fake_pki_ec_key("P-256");
	EVP_PKEY *leaf_key = fake_pki_ec_key("P-256");
	X509 *root = fake_pki_cert("Test Root CA", root_key, NULL, NULL, true);
	X509 *ca = fake_pki_cert("Test PCK Platform CA", ca_key, root, root_key, true);
	X509 *leaf = fake_pki_cert("Test PCK Certificate", leaf_key, ca, ca_key, false);
	X509 *other = fake_pki_cert("Test other", leaf_key, ca, ca_key, false);
	X509 *signer = fake_pki_cert("Test TCB Signing", leaf_key, root, root_key, false);
	char detail[512];
	struct ebcc__tsm_policy p = { 0 };
	char *chain, *ca_pem = fake_pki_cert_pem(ca), *root_pem = fake_pki_cert_pem(root);
	int64_t now = (int64_t)time(NULL);

	(void)state;
	chain = malloc(strlen(ca_pem) + strlen(root_pem) + 1);
	assert_non_null(chain);
	strcpy(chain, ca_pem);
	strcat(chain, root_pem);
	p.tdx_roots = sk_X509_new_null();
	assert_int_equal(X509_up_ref(root), 1);
	assert_true(sk_X509_push(p.tdx_roots, root) > 0);
	set_item(&p, EBCC_COLL_PCK_CRL_ISSUER_CHAIN, chain);
	/* Nothing revoked: passes; then each revocation is found, naming the certificate. */
	set_item(&p, EBCC_COLL_ROOT_CA_CRL, crl_hex(root, root_key, NULL));
	set_item(&p, EBCC_COLL_PCK_CRL, crl_hex(ca, ca_key, other));
	assert_int_equal(ebcc__tdx_crls_check(leaf, NULL, 0, &p, now, detail, sizeof(detail)), 0);
	assert_non_null(strstr(detail, "PCK certificate not revoked: checked against the CRL of "
				       "\"Test PCK Platform CA\""));
	assert_non_null(strstr(detail, "signers not revoked: checked against the CRL of \"Test "
				       "Root CA\""));
	set_item(&p, EBCC_COLL_PCK_CRL, crl_hex(ca, ca_key, leaf));
	assert_int_equal(ebcc__tdx_crls_check(leaf, NULL, 0, &p, now, detail, sizeof(detail)), EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "tdx_collateral.pck_crl: certificate "
							  "\"Test PCK Certificate\" (serial "));
	set_item(&p, EBCC_COLL_PCK_CRL, crl_hex(ca, ca_key, NULL));
	set_item(&p, EBCC_COLL_ROOT_CA_CRL, crl_hex(root, root_key, ca));
	assert_int_equal(ebcc__tdx_crls_check(leaf, NULL, 0, &p, now, detail, sizeof(detail)), EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "tdx_collateral.root_ca_crl: "
							  "certificate \"Test PCK Platform CA\""));
	/* A signer of the TCB info on the root CRL; a CRL the CA did not sign. */
	set_item(&p, EBCC_COLL_ROOT_CA_CRL, crl_hex(root, root_key, signer));
	assert_int_equal(ebcc__tdx_crls_check(leaf, &signer, 1, &p, now, detail, sizeof(detail)),
			 EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "\"Test TCB Signing\" (serial"));
	set_item(&p, EBCC_COLL_PCK_CRL, crl_hex(root, root_key, NULL));
	assert_int_equal(ebcc__tdx_crls_check(leaf, NULL, 0, &p, now, detail, sizeof(detail)), EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "tdx_collateral.pck_crl: no CRL issued "
							  "by \"Test PCK Platform CA\""));
	/* Outside the CRLs' window. */
	set_item(&p, EBCC_COLL_PCK_CRL, crl_hex(ca, ca_key, NULL));
	assert_int_equal(ebcc__tdx_crls_check(leaf, NULL, 0, &p, now + 40 * 86400, detail,
					      sizeof(detail)),
			 EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "tdx_collateral.root_ca_crl: the CRL of "
							  "\"Test Root CA\" is valid from "));
	ebcc__tsm_policy_clear(&p);
	free(ca_pem);
	free(root_pem);
	X509_free(signer);
	X509_free(other);
	X509_free(leaf);
	X509_free(ca);
	X509_free(root);
	EVP_PKEY_free(leaf_key);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(root_key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fake_behaves_like_configfs),
		cmocka_unit_test(report_tdx),
		cmocka_unit_test(report_snp),
		cmocka_unit_test(faults),
		cmocka_unit_test(generation_race_is_retried),
		cmocka_unit_test(tdx_padding),
		cmocka_unit_test(verify_tdx),
		cmocka_unit_test(verify_debug_td),
		cmocka_unit_test(verify_snp),
		cmocka_unit_test(tdx_flips_fail),
		cmocka_unit_test(tdx_quote_v5),
		cmocka_unit_test(snp_flips_fail),
		cmocka_unit_test(snp_versions_and_keys),
		cmocka_unit_test(snp_table_inside),
		cmocka_unit_test(snp_tcb_against_certificate),
		cmocka_unit_test(snp_policy_rules),
		cmocka_unit_test(snp_crl),
		cmocka_unit_test(bad_policies_and_containers),
		cmocka_unit_test(probe_through_the_api),
		cmocka_unit_test(lifecycle_tdx),
		cmocka_unit_test(lifecycle_snp),
		cmocka_unit_test(stage_key_and_secret_tdx),
		cmocka_unit_test(stage_key_and_secret_snp),
		cmocka_unit_test(stage_image_load_tdx),
		cmocka_unit_test(stage_image_load_snp),
		cmocka_unit_test(lifecycle_faults),
		cmocka_unit_test(start_without_report_instances),
		cmocka_unit_test(tdx_platform_level),
		cmocka_unit_test(tdx_collateral_revocation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
