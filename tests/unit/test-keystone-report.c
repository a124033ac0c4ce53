/* SPDX-License-Identifier: MIT */
/*
 * The keystone backend's offline verification and measurement, white-box.
 *
 * Real bytes: the report a real Keystone security monitor printed in keystone issue #361 (its
 * SM keys all zero, the boot ROM absent) and Keystone's published test device key pair, read
 * from ../shared/realdata/keystone (EBCC_REALDATA), never copied into the tree; the tests that
 * need them are skipped, saying so, when the directory is absent. A complete report signed as
 * a Keystone boot ROM and SM sign is made here with that test key (make_report()).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "../../backends/common/bytes.h"
#include "../../backends/keystone/measure.h"
#include "../../backends/keystone/report.h"
#include "ebcc-private.h"
#include "ebcc/backend.h"
#include "ebcc/ebcc.h"
#include "check-policy.h"

#define SM_IMAGE_SIZE 0x1ff000 /* what the boot ROM hashes */

static uint8_t *read_realdata(const char *name, size_t want)
{
	const char *dir = getenv("EBCC_REALDATA");
	char path[4096];
	uint8_t *buf;
	FILE *f;
	size_t n;

	if (dir == NULL)
		return NULL;
	snprintf(path, sizeof(path), "%s/keystone/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	buf = malloc(want + 1);
	assert_non_null(buf);
	n = fread(buf, 1, want + 1, f);
	fclose(f);
	assert_int_equal(n, want);
	return buf;
}

#define NEED_REALDATA(p)                                                                        \
	do {                                                                                   \
		if ((p) == NULL) {                                                             \
			print_message("skipped: no ../shared/realdata/keystone (EBCC_REALDATA=%s)\n", \
				      getenv("EBCC_REALDATA") ? getenv("EBCC_REALDATA") : "unset"); \
			skip();                                                                \
		}                                                                              \
	} while (0)

static char *pem_of(const uint8_t pk[32])
{
	EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, 32);
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out;
	long len;

	assert_non_null(key);
	assert_int_equal(PEM_write_bio_PUBKEY(bio, key), 1);
	len = BIO_get_mem_data(bio, &data);
	out = strndup(data, (size_t)len);
	BIO_free(bio);
	EVP_PKEY_free(key);
	return out;
}

/* ---- the #361 known answer ----------------------------------------------------------------- */

static void test_issue361_signature_kat(void **state)
{
	uint8_t *report = read_realdata("issue361_report.derived.bin", EBCC_KS_REPORT_SIZE);
	uint8_t *signed_msg, msg[EBCC_KS_OFF_DATA + EBCC_KS_ATTEST_DATA_MAX], sig[64];
	const uint8_t zero_sk[64] = { 0 }, zero_pk[32] = { 0 };
	struct ebcc__ks_report rep;
	size_t len;

	(void)state;
	NEED_REALDATA(report);
	signed_msg = read_realdata("issue361_enclave_signed_message.derived.bin", 83);
	assert_non_null(signed_msg);
	assert_int_equal(ebcc__ks_report_parse(report, EBCC_KS_REPORT_SIZE, &rep), 0);
	assert_int_equal(rep.data_len, 11);
	assert_memory_equal(rep.data, "1804289383", 11);
	/* The message layout: hash || le64(data_len) || data. */
	len = ebcc__ks_enclave_message(&rep, msg);
	assert_int_equal(len, 83);
	assert_memory_equal(msg, signed_msg, 83);
	/* The SM's signature, bit for bit, from its (all-zero) key: SHA3-512 nonce, scalar
	 * reduction, point encoding. */
	assert_int_equal(ebcc__ks_sign(sig, msg, len, zero_pk, zero_sk), 0);
	assert_memory_equal(sig, rep.enclave_signature, 64);
	/* A zero public key is no key: nothing verifies under it. */
	assert_int_equal(ebcc__ks_verify(rep.enclave_signature, msg, len, rep.sm_public_key), 0);
	free(signed_msg);
	free(report);
}

static void test_issue361_refused(void **state)
{
	uint8_t *report = read_realdata("issue361_report.derived.bin", EBCC_KS_REPORT_SIZE);
	uint8_t *dev_pk = read_realdata("keystone_test_dev_public_key.derived.bin", 32);
	struct ebcc_context *ctx = NULL;
	struct ebcc_policy *pol = NULL;
	char *pem, *json = NULL, *claims = NULL;

	(void)state;
	NEED_REALDATA(report);
	assert_non_null(dev_pk);
	assert_memory_equal(dev_pk, ebcc__ks_test_dev_public_key, 32);
	pem = pem_of(dev_pk);
	assert_int_equal(ebcc_context_new(&ctx), 0);
	assert_int_equal(ebcc_policy_new(&pol), 0);
	assert_int_equal(ebcc_policy_add_trusted_key(pol, pem), 0);
	assert_int_equal(ebcc_policy_set_backend_json(pol, "keystone", "allow_any_sm", "true"), 0);
	/* The test key is tried only when the policy accepts it... */
	assert_int_equal(ebcc_policy_to_json(pol, &json), 0);
	assert_int_equal(ebcc_report_verify(ctx, "keystone", report, EBCC_KS_REPORT_SIZE, json,
					    &claims),
			 EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "Keystone's published test key"));
	ebcc_free(json);
	/* ...and even then the unsigned SM report (#361: no boot ROM) is refused. */
	assert_int_equal(ebcc_policy_set_backend_json(pol, "keystone", "allow_test_device_key",
						      "true"), 0);
	assert_int_equal(ebcc_policy_to_json(pol, &json), 0);
	assert_int_equal(ebcc_report_verify(ctx, "keystone", report, EBCC_KS_REPORT_SIZE, json,
					    &claims),
			 EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "SM report's signature"));
	assert_null(claims);
	ebcc_free(json);
	ebcc_policy_free(pol);
	ebcc_context_unref(ctx);
	free(pem);
	free(dev_pk);
	free(report);
}

/* ---- a report signed as a Keystone boot ROM and SM sign, with the published test key ------- */

struct made {
	uint8_t report[EBCC_KS_REPORT_SIZE];
	uint8_t sm_hash[64];
	uint8_t enclave_hash[64];
	uint8_t sm_sk[64];
};

static void sha3(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[64])
{
	const void *parts[] = { a, b };
	size_t lens[] = { alen, blen };

	assert_int_equal(ebcc__ks_sha3_512(parts, lens, 2, out), 0);
}

static const uint8_t loader[] = "loader.bin stands in here", runtime[5000] = { 1, 2, 3 },
		     eapp[4096] = { 9 };

/* The boot ROM (bootrom/bootloader.c): H_SM over the padded image, the SM seed from one byte
 * of SK_D and one of H_SM (its sizeof quirk), the SM key pair, SK_D's signature; then the SM's
 * enclave report over data. */
static void make_report(struct made *m, const uint8_t dev_sk[64], const uint8_t *data,
			size_t data_len)
{
	const uint8_t *files[] = { loader, runtime, eapp };
	const size_t lens[] = { sizeof(loader), sizeof(runtime), sizeof(eapp) };
	uint8_t *image = calloc(1, SM_IMAGE_SIZE), seed[64], msg[72 + 1024];
	uint8_t *r = m->report;

	assert_non_null(image);
	memcpy(image, "a security monitor", 18);
	sha3(image, SM_IMAGE_SIZE, NULL, 0, m->sm_hash);
	free(image);
	sha3(dev_sk, 1, m->sm_hash, 1, seed);
	memset(r, 0xa5, EBCC_KS_REPORT_SIZE); /* what the SM leaves past data_len */
	assert_int_equal(ebcc__ks_keypair(seed, r + EBCC_KS_OFF_SM_PUBLIC_KEY, m->sm_sk), 0);
	memcpy(r + EBCC_KS_OFF_SM, m->sm_hash, 64);
	assert_int_equal(ebcc__ks_sign(r + EBCC_KS_OFF_SM_SIG, r + EBCC_KS_OFF_SM, 96,
				       ebcc__ks_test_dev_public_key, dev_sk), 0);
	memcpy(r + EBCC_KS_OFF_DEV_PUBLIC_KEY, ebcc__ks_test_dev_public_key, 32);
	assert_int_equal(ebcc__ks_measure(files, lens, m->enclave_hash), 0);
	memcpy(r, m->enclave_hash, 64);
	ebcc__put_le64(r + EBCC_KS_OFF_DATA_LEN, data_len);
	memcpy(r + EBCC_KS_OFF_DATA, data, data_len);
	memcpy(msg, r, 72 + data_len);
	assert_int_equal(ebcc__ks_sign(r + EBCC_KS_OFF_ENCLAVE_SIG, msg, 72 + data_len,
				       r + EBCC_KS_OFF_SM_PUBLIC_KEY, m->sm_sk), 0);
}

struct fixture {
	struct made m;
	uint8_t *dev_sk;
	char *pem;
	char *policy; /* test key allowed, sm_hash and enclave_hash pinned */
	struct ebcc_context *ctx;
};

static char *policy_json(const char *pem, const char *const *kv)
{
	struct ebcc_policy *pol = NULL;
	char *json = NULL, *out;

	assert_int_equal(ebcc_policy_new(&pol), 0);
	if (pem != NULL)
		assert_int_equal(ebcc_policy_add_trusted_key(pol, pem), 0);
	for (; kv != NULL && kv[0] != NULL; kv += 2)
		assert_int_equal(ebcc_policy_set_backend_json(pol, "keystone", kv[0], kv[1]), 0);
	assert_int_equal(ebcc_policy_to_json(pol, &json), 0);
	ebcc_policy_free(pol);
	out = strdup(json);
	ebcc_free(json);
	return out;
}

static char *quoted_hex(const uint8_t h[64])
{
	char *s = malloc(131);

	s[0] = '"';
	ebcc__hex_encode(h, 64, s + 1);
	s[129] = '"';
	s[130] = '\0';
	return s;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	uint8_t data[64];
	char *sm, *encl;

	f->dev_sk = read_realdata("keystone_test_dev_secret_key.derived.bin", 64);
	if (f->dev_sk == NULL) {
		*state = f;
		return 0;
	}
	for (int i = 0; i < 64; i++)
		data[i] = (uint8_t)(i * 7);
	make_report(&f->m, f->dev_sk, data, sizeof(data));
	f->pem = pem_of(ebcc__ks_test_dev_public_key);
	sm = quoted_hex(f->m.sm_hash);
	encl = quoted_hex(f->m.enclave_hash);
	f->policy = policy_json(f->pem, (const char *const[]){ "allow_test_device_key", "true",
							       "sm_hash", sm, "enclave_hash",
							       encl, NULL });
	free(sm);
	free(encl);
	if (ebcc_context_new(&f->ctx) != 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ebcc_context_unref(f->ctx);
	free(f->policy);
	free(f->pem);
	free(f->dev_sk);
	free(f);
	return 0;
}

static int verify_raw(struct fixture *f, const uint8_t *report, size_t len, const char *policy,
		      char **claims)
{
	return ebcc_report_verify(f->ctx, "keystone", report, len, policy, claims);
}

static void test_signed_report_verifies(void **state)
{
	struct fixture *f = *state;
	char *claims = NULL, hex[129];

	NEED_REALDATA(f->dev_sk);
	/* The test device key pair is a pair: its secret signs what its public key verifies. */
	assert_int_equal(verify_raw(f, f->m.report, EBCC_KS_REPORT_SIZE, f->policy, &claims), 0);
	assert_non_null(strstr(claims, "\"hardware_root_of_trust\":false"));
	assert_non_null(strstr(claims, "Keystone's published test device key, whose secret is "
				       "public: no root of trust"));
	ebcc__hex_encode(f->m.enclave_hash, 64, hex);
	assert_non_null(strstr(claims, hex));
	assert_non_null(strstr(claims, "\"enclave_hash_pinned\":\"matches the policy\""));
	assert_non_null(strstr(claims, "\"sm_hash_pinned\":\"matches the policy\""));
	assert_non_null(strstr(claims, "\"data_len\":64"));
	ebcc_free(claims);
}

/* Every byte a signature covers, flipped, is refused; bytes no signature covers (data past
 * data_len) change nothing, as on Keystone. */
static void test_every_signed_byte(void **state)
{
	struct fixture *f = *state;
	uint8_t copy[EBCC_KS_REPORT_SIZE];
	size_t refused = 0, unsigned_bytes = 0;

	NEED_REALDATA(f->dev_sk);
	for (size_t i = 0; i < EBCC_KS_REPORT_SIZE; i++) {
		bool covered = i < EBCC_KS_OFF_DATA + 64 || i >= EBCC_KS_OFF_ENCLAVE_SIG;
		char *claims = NULL;
		int r;

		memcpy(copy, f->m.report, sizeof(copy));
		copy[i] ^= 0x01;
		r = verify_raw(f, copy, sizeof(copy), f->policy, &claims);
		ebcc_free(claims);
		if (covered) {
			if (r != EBCC_ERR_VERIFY)
				fail_msg("byte %zu flipped: verified", i);
			refused++;
		} else {
			assert_int_equal(r, 0);
			unsigned_bytes++;
		}
	}
	print_message("%zu signed bytes each refused when flipped; %zu unsigned past data_len\n",
		      refused, unsigned_bytes);
	assert_int_equal(refused, EBCC_KS_REPORT_SIZE - (1024 - 64));
}

static void expect_refused(struct fixture *f, const uint8_t *report, size_t len,
			   const char *policy, const char *needle)
{
	char *claims = NULL;

	assert_int_equal(verify_raw(f, report, len, policy, &claims), EBCC_ERR_VERIFY);
	assert_null(claims);
	if (strstr(ebcc_last_error_message(), needle) == NULL)
		fail_msg("\"%s\" not in \"%s\"", needle, ebcc_last_error_message());
}

static void test_policy_and_layout_refusals(void **state)
{
	struct fixture *f = *state;
	uint8_t copy[EBCC_KS_REPORT_SIZE + 1], other_pk[32], other_sk[64], seed[32] = { 42 };
	char *p, *other_pem, *zero;

	NEED_REALDATA(f->dev_sk);
	zero = quoted_hex((const uint8_t[64]){ 0 });
	memcpy(copy, f->m.report, EBCC_KS_REPORT_SIZE);
	copy[EBCC_KS_REPORT_SIZE] = 0;
	expect_refused(f, copy, EBCC_KS_REPORT_SIZE - 1, f->policy, "1351 bytes, a Keystone "
								    "report has 1352");
	expect_refused(f, copy, EBCC_KS_REPORT_SIZE + 1, f->policy, "1353 bytes");
	/* data_len is checked before anything hashes that many bytes. */
	ebcc__put_le64(copy + EBCC_KS_OFF_DATA_LEN, 1025);
	expect_refused(f, copy, EBCC_KS_REPORT_SIZE, f->policy, "data_len 1025 exceeds 1024");
	ebcc__put_le64(copy + EBCC_KS_OFF_DATA_LEN, UINT64_MAX);
	expect_refused(f, copy, EBCC_KS_REPORT_SIZE, f->policy, "exceeds 1024");
	/* No key; a key that is not Ed25519; the test key without the policy's consent. */
	p = policy_json(NULL, (const char *const[]){ "allow_any_sm", "true", NULL });
	expect_refused(f, f->m.report, EBCC_KS_REPORT_SIZE, p, "trusts no device key");
	free(p);
	p = policy_json(f->pem, (const char *const[]){ "allow_any_sm", "true", NULL });
	expect_refused(f, f->m.report, EBCC_KS_REPORT_SIZE, p, "allow_test_device_key");
	free(p);
	/* A real device key that is not this one. */
	assert_int_equal(ebcc__ks_keypair(seed, other_pk, other_sk), 0);
	other_pem = pem_of(other_pk);
	p = policy_json(other_pem, (const char *const[]){ "allow_any_sm", "true", NULL });
	expect_refused(f, f->m.report, EBCC_KS_REPORT_SIZE, p,
		       "does not verify under any of the 1 trusted device keys");
	free(p);
	/* SM hash: unpinned without consent, pinned to another. */
	p = policy_json(f->pem, (const char *const[]){ "allow_test_device_key", "true", NULL });
	expect_refused(f, f->m.report, EBCC_KS_REPORT_SIZE, p, "sm_hash (the security monitor's "
							       "measurement) is not pinned");
	free(p);
	p = policy_json(f->pem, (const char *const[]){ "allow_test_device_key", "true", "sm_hash",
						       zero, NULL });
	expect_refused(f, f->m.report, EBCC_KS_REPORT_SIZE, p, "SM hash expected 0000");
	free(p);
	p = policy_json(f->pem, (const char *const[]){ "allow_test_device_key", "true",
						       "allow_any_sm", "true", "enclave_hash",
						       zero, NULL });
	expect_refused(f, f->m.report, EBCC_KS_REPORT_SIZE, p, "enclave hash expected 0000");
	free(p);
	p = policy_json(f->pem, (const char *const[]){ "allow_any_sm", "true", "sm_hash", zero,
						       NULL });
	expect_refused(f, f->m.report, EBCC_KS_REPORT_SIZE, p, "exclude each other");
	free(p);
	p = policy_json(f->pem, (const char *const[]){ "sm_hash", "\"abc\"", NULL });
	expect_refused(f, f->m.report, EBCC_KS_REPORT_SIZE, p, "sm_hash must be 128 lowercase hex");
	free(p);
	p = policy_json(f->pem, (const char *const[]){ "sm_hahs", "true", NULL });
	expect_refused(f, f->m.report, EBCC_KS_REPORT_SIZE, p, "unknown key");
	free(p);
	/* The report's dev_public_key must be the key that verified it. */
	memcpy(copy, f->m.report, EBCC_KS_REPORT_SIZE);
	memcpy(copy + EBCC_KS_OFF_DEV_PUBLIC_KEY, other_pk, 32);
	expect_refused(f, copy, EBCC_KS_REPORT_SIZE, f->policy, "dev_public_key is another key");
	free(other_pem);
	free(zero);
}

/* S must be below the group order: S + L is the same scalar, refused. */
static void test_signature_malleability(void **state)
{
	static const uint8_t L[32] = { 0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58,
				       0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
				       [31] = 0x10 };
	struct fixture *f = *state;
	uint8_t copy[EBCC_KS_REPORT_SIZE], *s;
	unsigned carry = 0;

	NEED_REALDATA(f->dev_sk);
	memcpy(copy, f->m.report, sizeof(copy));
	s = copy + EBCC_KS_OFF_ENCLAVE_SIG + 32;
	for (int i = 0; i < 32; i++) {
		carry += s[i] + L[i];
		s[i] = (uint8_t)carry;
		carry >>= 8;
	}
	if (carry != 0 || s[31] >= 0x20) /* S + L must still fit where orlp would accept it */
		skip();
	expect_refused(f, copy, sizeof(copy), f->policy, "enclave report's signature");
}

/* The evidence format: report_data in data, the measurement "keystone:<enclave hash>". */
static void test_evidence_format(void **state)
{
	struct fixture *f = *state;
	uint8_t report_data[64];
	char measurement[9 + 129], *verdict = NULL;
	const char *keys[] = { f->pem };
	struct ebcc_backend_report_check c = {
		.size = sizeof(c),
		.format = EBCC_KEYSTONE_FORMAT,
		.measurement = measurement,
		.eid = 4096,
		.report_data = report_data,
		.report_data_len = 64,
		.report = f->m.report,
		.report_len = EBCC_KS_REPORT_SIZE,
		.trusted_keys = keys,
		.trusted_keys_count = 1,
	};
	struct made short_data;

	NEED_REALDATA(f->dev_sk);
	check_policy_set(&c, f->policy, "keystone");
	memcpy(report_data, f->m.report + EBCC_KS_OFF_DATA, 64);
	memcpy(measurement, "keystone:", 9);
	ebcc__hex_encode(f->m.enclave_hash, 64, measurement + 9);
	assert_int_equal(ebcc__keystone_verify(&c, &verdict), 0);
	assert_non_null(strstr(verdict, "\"format\":\"ebcc.keystone.v1\""));
	assert_non_null(strstr(verdict, "bound: the enclave's attestation data"));
	free(verdict);
	verdict = NULL;
	report_data[5] ^= 1;
	assert_int_equal(ebcc__keystone_verify(&c, &verdict), EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "not the evidence's report_data"));
	report_data[5] ^= 1;
	measurement[9] = measurement[9] == '0' ? '1' : '0';
	assert_int_equal(ebcc__keystone_verify(&c, &verdict), EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "the evidence's measurement"));
	c.measurement = "sha256:00";
	assert_int_equal(ebcc__keystone_verify(&c, &verdict), EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "is not keystone:<128"));
	c.format = "ebcc.sim.v1";
	assert_int_equal(ebcc__keystone_verify(&c, &verdict), EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "is not ebcc.keystone.v1"));
	/* Evidence needs exactly the 64 bytes of report_data. */
	make_report(&short_data, f->dev_sk, report_data, 11);
	c.format = EBCC_KEYSTONE_FORMAT;
	c.report = short_data.report;
	assert_int_equal(ebcc__keystone_verify(&c, &verdict), EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "data_len 11"));
	assert_null(verdict);
}

/* ---- measurement ---------------------------------------------------------------------------- */

/* Against the definition, spelled out: the SM's three sizes (runtime-loader, eapp-runtime,
 * free-eapp) as le64, then every page of EPM from the loader to free memory, as the SDK lays
 * the files out (each from a page boundary, zero-padded). */
static void test_measurement(void **state)
{
	const uint8_t *files[] = { loader, runtime, eapp };
	const size_t lens[] = { sizeof(loader), sizeof(runtime), sizeof(eapp) };
	size_t epm_len = 4096 + 8192 + 4096, at = 0;
	uint8_t *epm = calloc(1, epm_len), got[64], want[64], sizes[24];
	uintptr_t runtime_off = 4096, eapp_off = 4096 + 8192, free_off = epm_len;

	(void)state;
	assert_non_null(epm);
	memcpy(epm + at, loader, sizeof(loader));
	memcpy(epm + runtime_off, runtime, sizeof(runtime));
	memcpy(epm + eapp_off, eapp, sizeof(eapp));
	ebcc__put_le64(sizes, runtime_off - 0);
	ebcc__put_le64(sizes + 8, eapp_off - runtime_off);
	ebcc__put_le64(sizes + 16, free_off - eapp_off);
	sha3(sizes, sizeof(sizes), epm, epm_len, want);
	assert_int_equal(ebcc__ks_measure(files, lens, got), 0);
	assert_memory_equal(got, want, 64);
	/* One byte more in the eapp is one more page, and another hash. */
	{
		const size_t longer[] = { sizeof(loader), sizeof(runtime), sizeof(eapp) + 1 };
		uint8_t *eapp2 = calloc(1, sizeof(eapp) + 1), other[64];
		const uint8_t *files2[] = { loader, runtime, eapp2 };

		memcpy(eapp2, eapp, sizeof(eapp));
		assert_int_equal(ebcc__ks_measure(files2, longer, other), 0);
		assert_memory_not_equal(other, got, 64);
		free(eapp2);
	}
	free(epm);
}

/* ---- the backend on this host ---------------------------------------------------------------- */

static void test_probe_unavailable(void **state)
{
	struct ebcc_context *ctx = NULL;
	char *json = NULL;

	(void)state;
	assert_int_equal(ebcc_context_new(&ctx), 0);
	assert_int_equal(ebcc_backend_probe(ctx, "keystone", &json), 0);
	assert_non_null(strstr(json, "\"available\":false"));
	assert_non_null(strstr(json, "/dev/keystone_enclave"));
	assert_non_null(strstr(json, "\"simulated\":false"));
	assert_non_null(strstr(json, "\"evidence_format\":\"ebcc.keystone.v1\""));
	print_message("%s\n", json);
	ebcc_free(json);
	ebcc_context_unref(ctx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_issue361_signature_kat),
		cmocka_unit_test(test_issue361_refused),
		cmocka_unit_test(test_measurement),
		cmocka_unit_test(test_probe_unavailable),
		cmocka_unit_test_setup_teardown(test_signed_report_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_signed_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_and_layout_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_signature_malleability, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evidence_format, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
