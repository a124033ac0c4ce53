/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: the keystone backend's offline report check (ebcc__keystone_verify,
 * backends/keystone/report.c), which reads a Keystone report handed to a verifier.
 *
 * At start the harness signs one valid report as a Keystone boot ROM and SM do (a device key
 * made from a fixed seed, the SM key pair from SHA3-512 of one byte of each, as the boot ROM's
 * sizeof quirk has it; report_data in data, data_len 64). An input is
 *
 *   flags   1   bit 0: the check is for the "raw" format (ebcc_report_verify), else for
 *               evidence ("ebcc.keystone.v1", the valid report_data and measurement);
 *               bit 1: the report is one byte short; the other bits are ignored
 *   delta   ... XORed over the valid report from its first byte; bytes past 1352 are
 *               appended to it
 *
 * so the empty delta is the success path. Properties:
 *  - the check fails only with EBCC_ERR_VERIFY (or EBCC_ERR_NO_MEMORY) and leaves the verdict
 *    NULL;
 *  - it succeeds exactly when the report is 1352 bytes and the delta is zero over every byte a
 *    signature covers (enclave hash, data_len, the 64 bytes of data, both signatures, the SM
 *    report, the device key): a change anywhere else (data past data_len) is not refused, a
 *    change there always is;
 *  - the verdict of a success is a JSON object that says the report is not simulated.
 */
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "../../backends/keystone/measure.h"
#include "../../backends/keystone/report.h"
#include "bytes.h"
#include "fuzz-common.h"
#include "../unit/check-policy.h"

static uint8_t valid[EBCC_KS_REPORT_SIZE];
static char *policy, *pem, measurement[9 + 2 * EBCC_KS_MDSIZE + 1];

static void make_pem(const uint8_t pk[32])
{
	EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pk, 32);
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;

	if (key == NULL || bio == NULL || PEM_write_bio_PUBKEY(bio, key) != 1)
		abort();
	len = BIO_get_mem_data(bio, &data);
	pem = strndup(data, (size_t)len);
	BIO_free(bio);
	EVP_PKEY_free(key);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const uint8_t dev_seed[32] = "ebcc fuzz-keystone-report dev";
	static const uint8_t loader[] = "loader", runtime[] = "eyrie", eapp[] = "eapp";
	const uint8_t *files[] = { loader, runtime, eapp };
	const size_t lens[] = { sizeof(loader), sizeof(runtime), sizeof(eapp) };
	uint8_t dev_pk[32], dev_sk[64], sm_sk[64], seed[64];
	const void *parts[2];
	size_t plens[2] = { 1, 1 };
	char hex[2 * EBCC_KS_MDSIZE + 1];
	uint8_t *r = valid;

	(void)argc;
	(void)argv;
	if (ebcc__ks_keypair(dev_seed, dev_pk, dev_sk) < 0)
		abort();
	memset(r, 0xa5, EBCC_KS_REPORT_SIZE);
	memset(r + EBCC_KS_OFF_SM, 0x5e, EBCC_KS_MDSIZE); /* the SM hash the policy pins */
	parts[0] = dev_sk;
	parts[1] = r + EBCC_KS_OFF_SM;
	if (ebcc__ks_sha3_512(parts, plens, 2, seed) < 0 ||
	    ebcc__ks_keypair(seed, r + EBCC_KS_OFF_SM_PUBLIC_KEY, sm_sk) < 0 ||
	    ebcc__ks_sign(r + EBCC_KS_OFF_SM_SIG, r + EBCC_KS_OFF_SM, 96, dev_pk, dev_sk) < 0 ||
	    ebcc__ks_measure(files, lens, r) < 0)
		abort();
	memcpy(r + EBCC_KS_OFF_DEV_PUBLIC_KEY, dev_pk, 32);
	ebcc__put_le64(r + EBCC_KS_OFF_DATA_LEN, EBCC_REPORT_DATA_SIZE);
	for (int i = 0; i < EBCC_REPORT_DATA_SIZE; i++)
		r[EBCC_KS_OFF_DATA + i] = (uint8_t)(3 * i + 1);
	if (ebcc__ks_sign(r + EBCC_KS_OFF_ENCLAVE_SIG, r, EBCC_KS_OFF_DATA + EBCC_REPORT_DATA_SIZE,
			  r + EBCC_KS_OFF_SM_PUBLIC_KEY, sm_sk) < 0)
		abort();
	make_pem(dev_pk);
	ebcc__hex_encode(r + EBCC_KS_OFF_SM, EBCC_KS_MDSIZE, hex);
	if (asprintf(&policy, "{\"backend_options\": {\"keystone\": {\"sm_hash\": \"%s\"}}}",
		     hex) < 0)
		abort();
	memcpy(measurement, EBCC_KEYSTONE_MEASUREMENT_PREFIX, 9);
	ebcc__hex_encode(r, EBCC_KS_MDSIZE, measurement + 9);
	return 0;
}

static bool covered(size_t i)
{
	return i < EBCC_KS_OFF_DATA + EBCC_REPORT_DATA_SIZE || i >= EBCC_KS_OFF_ENCLAVE_SIG;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *keys[1] = { pem };
	uint8_t *report;
	size_t len = EBCC_KS_REPORT_SIZE, delta_len;
	bool raw, changed = false;
	char *verdict = NULL;
	int r;

	if (size < 1)
		return 0;
	raw = data[0] & 1;
	delta_len = size - 1;
	if (delta_len > len)
		len = delta_len;
	if (data[0] & 2)
		len--;
	report = calloc(1, len + 1);
	if (report == NULL)
		abort();
	memcpy(report, valid, len < EBCC_KS_REPORT_SIZE ? len : EBCC_KS_REPORT_SIZE);
	for (size_t i = 0; i < delta_len && i < len; i++) {
		report[i] ^= data[1 + i];
		changed |= i < EBCC_KS_REPORT_SIZE && covered(i) && data[1 + i] != 0;
	}
	{
		struct ebcc_backend_report_check c = {
			.size = sizeof(c),
			.format = raw ? EBCC_BACKEND_FORMAT_RAW : EBCC_KEYSTONE_FORMAT,
			.measurement = raw ? NULL : measurement,
			.eid = 4096,
			.report_data = raw ? NULL : valid + EBCC_KS_OFF_DATA,
			.report_data_len = raw ? 0 : EBCC_REPORT_DATA_SIZE,
			.report = report,
			.report_len = len,
			.trusted_keys = keys,
			.trusted_keys_count = 1,
		};

		check_policy_set(&c, policy, "keystone");
		r = ebcc__keystone_verify(&c, &verdict);
	}
	if (r == 0) {
		FUZZ_CHECK(len == EBCC_KS_REPORT_SIZE && !changed,
			   "a report of %zu bytes with a changed signed byte verified", len);
		FUZZ_CHECK(verdict != NULL && verdict[0] == '{' &&
				   strstr(verdict, "\"simulated\":false") != NULL,
			   "a success without a verdict object");
	} else {
		FUZZ_CHECK(r == EBCC_ERR_VERIFY || r == EBCC_ERR_NO_MEMORY, "failed with %d", r);
		FUZZ_CHECK(verdict == NULL, "a failure left a verdict");
		FUZZ_CHECK(r == EBCC_ERR_NO_MEMORY || len != EBCC_KS_REPORT_SIZE || changed,
			   "the valid report, changed only past data_len, was refused");
	}
	free(verdict);
	free(report);
	return 0;
}
