/* SPDX-License-Identifier: MIT */
/* Keystone reports, verified offline (report.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bytes.h"
#include "ebcc-base.h"
#include "options.h"
#include "report.h"

#define ERR EBCC_ERR_VERIFY
#define WHAT "keystone report"

const uint8_t ebcc__ks_test_dev_public_key[EBCC_KS_PUBLIC_KEY_SIZE] = {
	0x0f, 0xaa, 0xd4, 0xff, 0x01, 0x17, 0x85, 0x83, 0xba, 0xa5, 0x88, 0x96, 0x6f, 0x7c, 0x1f, 0xf3,
	0x25, 0x64, 0xdd, 0x17, 0xd7, 0xdc, 0x2b, 0x46, 0xcb, 0x50, 0xa8, 0x4a, 0x69, 0x27, 0x0b, 0x4c,
};

int ebcc__ks_report_parse(const uint8_t *buf, size_t len, struct ebcc__ks_report *ret)
{
	if (buf == NULL || len != EBCC_KS_REPORT_SIZE)
		return ebcc__error(ERR, WHAT ": %zu bytes, a Keystone report has %d", buf != NULL ? len : 0,
				   EBCC_KS_REPORT_SIZE);
	*ret = (struct ebcc__ks_report){
		.enclave_hash = buf,
		.data_len = ebcc__le64(buf + EBCC_KS_OFF_DATA_LEN),
		.data = buf + EBCC_KS_OFF_DATA,
		.enclave_signature = buf + EBCC_KS_OFF_ENCLAVE_SIG,
		.sm_hash = buf + EBCC_KS_OFF_SM,
		.sm_public_key = buf + EBCC_KS_OFF_SM_PUBLIC_KEY,
		.sm_signature = buf + EBCC_KS_OFF_SM_SIG,
		.dev_public_key = buf + EBCC_KS_OFF_DEV_PUBLIC_KEY,
	};
	/* Checked before anything hashes data_len bytes (Keystone's own verifier does not). */
	if (ret->data_len > EBCC_KS_ATTEST_DATA_MAX)
		return ebcc__error(ERR, WHAT ": data_len %" PRIu64 " exceeds %d", ret->data_len,
				   EBCC_KS_ATTEST_DATA_MAX);
	return 0;
}

size_t ebcc__ks_enclave_message(const struct ebcc__ks_report *r, uint8_t *out)
{
	memcpy(out, r->enclave_hash, EBCC_KS_OFF_DATA);
	memcpy(out + EBCC_KS_OFF_DATA, r->data, r->data_len);
	return EBCC_KS_OFF_DATA + r->data_len;
}

static void hex64(const uint8_t *p, char out[2 * EBCC_KS_MDSIZE + 1])
{
	ebcc__hex_encode(p, EBCC_KS_MDSIZE, out);
}

/* The SM report under a trusted device key; *ret_key the index of the key. */
static int check_sm(const struct ebcc__ks_report *rep, const struct ebcc__ks_policy *pol,
		    size_t *ret_key)
{
	uint8_t msg[EBCC_KS_MDSIZE + EBCC_KS_PUBLIC_KEY_SIZE];
	int r;

	if (pol->n_keys == 0)
		return ebcc__error(ERR, WHAT ": the policy trusts no device key (trusted_keys: the "
				   "device's Ed25519 public key in PEM)");
	memcpy(msg, rep->sm_hash, EBCC_KS_MDSIZE);
	memcpy(msg + EBCC_KS_MDSIZE, rep->sm_public_key, EBCC_KS_PUBLIC_KEY_SIZE);
	for (size_t i = 0; i < pol->n_keys; i++) {
		bool test_key = memcmp(pol->keys[i], ebcc__ks_test_dev_public_key,
				       EBCC_KS_PUBLIC_KEY_SIZE) == 0;

		if (test_key && !pol->allow_test_device_key)
			continue;
		r = ebcc__ks_verify(rep->sm_signature, msg, sizeof(msg), pol->keys[i]);
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		if (memcmp(rep->dev_public_key, pol->keys[i], EBCC_KS_PUBLIC_KEY_SIZE) != 0)
			return ebcc__error(ERR, WHAT ": the SM report verifies under trusted_keys[%zu], "
					   "but the report's dev_public_key is another key", i);
		*ret_key = i;
		return 0;
	}
	for (size_t i = 0; i < pol->n_keys; i++)
		if (memcmp(pol->keys[i], ebcc__ks_test_dev_public_key, EBCC_KS_PUBLIC_KEY_SIZE) == 0 &&
		    !pol->allow_test_device_key)
			return ebcc__error(ERR, WHAT ": the SM report's signature (over sm.hash || "
					   "sm.public_key) does not verify under any trusted device "
					   "key; trusted_keys[%zu] is Keystone's published test key, "
					   "tried only with backend_options.keystone."
					   "allow_test_device_key", i);
	return ebcc__error(ERR, WHAT ": the SM report's signature (over sm.hash || sm.public_key) "
			   "does not verify under any of the %zu trusted device keys", pol->n_keys);
}

static int check_hash(const char *what, const char *where, const uint8_t *want,
		      const uint8_t *got)
{
	char e[2 * EBCC_KS_MDSIZE + 1], g[sizeof(e)];

	if (memcmp(want, got, EBCC_KS_MDSIZE) == 0)
		return 0;
	hex64(want, e);
	hex64(got, g);
	return ebcc__error(ERR, WHAT ": %s expected %s (%s), found %s", what, e, where, g);
}

/* The claimed measurement is "keystone:" and the enclave hash. */
static int check_measurement(const char *claimed, const struct ebcc__ks_report *rep)
{
	const size_t plen = strlen(EBCC_KEYSTONE_MEASUREMENT_PREFIX);
	uint8_t want[EBCC_KS_MDSIZE];
	size_t n = 0;

	if (claimed == NULL || strncmp(claimed, EBCC_KEYSTONE_MEASUREMENT_PREFIX, plen) != 0 ||
	    strlen(claimed + plen) != 2 * EBCC_KS_MDSIZE ||
	    ebcc__hex_decode(claimed + plen, 2 * EBCC_KS_MDSIZE, want, sizeof(want), &n) < 0)
		return ebcc__error(ERR, WHAT ": the evidence's measurement \"%s\" is not "
				   EBCC_KEYSTONE_MEASUREMENT_PREFIX "<128 lowercase hex digits>",
				   claimed != NULL ? claimed : "(none)");
	return check_hash("enclave hash", "the evidence's measurement", want, rep->enclave_hash);
}

static const char *const never[] = {
	"the EID: Keystone does not sign it "
	"(the stage binds it in report_data)",
	"freshness beyond report_data: the SM signs what the enclave hands it, "
	"nothing else",
	"free memory and UTM sizes: the SM does not measure them",
	"the device key's origin: the boot ROM holds it and no manufacturer certifies it, so it "
	"is only as trusted as its enrolment",
	NULL,
};

static int verdict(const struct ebcc__ks_report *rep, const struct ebcc__ks_policy *pol,
		   size_t key, bool raw, char **ret)
{
	struct json_object *o = json_object_new_object(), *nv = json_object_new_array();
	bool test_key = memcmp(pol->keys[key], ebcc__ks_test_dev_public_key,
			       EBCC_KS_PUBLIC_KEY_SIZE) == 0;
	char h[2 * EBCC_KS_MDSIZE + 1], d[2 * EBCC_KS_ATTEST_DATA_MAX + 1], k[65], detail[200];
	int r;

	if (o == NULL || nv == NULL) {
		json_object_put(o);
		json_object_put(nv);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	json_object_object_add(o, "format",
			       json_object_new_string(raw ? "keystone report" : EBCC_KEYSTONE_FORMAT));
	json_object_object_add(o, "tee", json_object_new_string("Keystone (RISC-V)"));
	json_object_object_add(o, "simulated", json_object_new_boolean(0));
	json_object_object_add(o, "hardware_root_of_trust", json_object_new_boolean(!test_key));
	hex64(rep->enclave_hash, h);
	json_object_object_add(o, "enclave_hash", json_object_new_string(h));
	if (raw)
		json_object_object_add(o, "enclave_hash_pinned",
				       json_object_new_string(pol->has_enclave_hash
								      ? "matches the policy"
								      : "not pinned by the policy"));
	hex64(rep->sm_hash, h);
	json_object_object_add(o, "sm_hash", json_object_new_string(h));
	json_object_object_add(o, "sm_hash_pinned",
			       json_object_new_string(pol->has_sm_hash
							      ? "matches the policy"
							      : "not pinned: allow_any_sm (any "
								"security monitor the device key signed)"));
	ebcc__hex_encode(rep->sm_public_key, EBCC_KS_PUBLIC_KEY_SIZE, k);
	json_object_object_add(o, "sm_public_key", json_object_new_string(k));
	ebcc__hex_encode(rep->dev_public_key, EBCC_KS_PUBLIC_KEY_SIZE, k);
	json_object_object_add(o, "device_public_key", json_object_new_string(k));
	snprintf(detail, sizeof(detail), "trusted_keys[%zu]%s", key,
		 test_key ? ": Keystone's published test device key, whose secret is public: no "
			    "root of trust"
			  : "");
	json_object_object_add(o, "device_key", json_object_new_string(detail));
	ebcc__hex_encode(rep->data, rep->data_len, d);
	json_object_object_add(o, "data", json_object_new_string(d));
	json_object_object_add(o, "data_len", json_object_new_int64((int64_t)rep->data_len));
	if (!raw)
		json_object_object_add(o, "report_data",
				       json_object_new_string("bound: the enclave's attestation data "
							      "is the evidence's report_data"));
	json_object_object_add(o, "signatures",
			       json_object_new_string("verified: SM report by the device key, enclave "
						      "report by the SM key (Ed25519 with SHA3-512, "
						      "as Keystone signs)"));
	for (size_t i = 0; never[i] != NULL; i++)
		json_object_array_add(nv, json_object_new_string(never[i]));
	json_object_object_add(o, "not_verified", nv);
	r = ebcc__json_to_string(o, JSON_C_TO_STRING_PLAIN, ret);
	json_object_put(o);
	return r;
}

int ebcc__keystone_verify(const struct ebcc_backend_report_check *check, char **ret_verdict)
{
	bool raw = check->format != NULL && strcmp(check->format, EBCC_BACKEND_FORMAT_RAW) == 0 &&
		   check->report_data == NULL;
	uint8_t msg[EBCC_KS_OFF_DATA + EBCC_KS_ATTEST_DATA_MAX];
	struct ebcc__ks_policy pol;
	struct ebcc__ks_report rep;
	size_t key = 0, msg_len;
	int r;

	if (!raw && (check->format == NULL || strcmp(check->format, EBCC_KEYSTONE_FORMAT) != 0))
		return ebcc__error(ERR, "report format \"%s\" is not " EBCC_KEYSTONE_FORMAT,
				   check->format != NULL ? check->format : "(none)");
	if (!raw && (check->report_data == NULL || check->report_data_len != EBCC_REPORT_DATA_SIZE))
		return ebcc__error(ERR, "report_data of %zu bytes (%d expected)",
				   check->report_data_len, EBCC_REPORT_DATA_SIZE);
	r = ebcc__ks_report_parse(check->report, check->report_len, &rep);
	if (r < 0)
		return r;
	if (!raw && rep.data_len != EBCC_REPORT_DATA_SIZE)
		return ebcc__error(ERR, WHAT ": data_len %" PRIu64 ", evidence carries report_data "
				   "of %d bytes", rep.data_len, EBCC_REPORT_DATA_SIZE);
	r = ebcc__ks_policy_parse(check, &pol);
	if (r < 0)
		return r;
	if (!pol.has_sm_hash && !pol.allow_any_sm) {
		r = ebcc__error(ERR, "policy: backend_options.keystone.sm_hash (the security "
				"monitor's measurement) is not pinned; set allow_any_sm to accept "
				"any SM the device key signed");
		goto out;
	}
	r = check_sm(&rep, &pol, &key);
	if (r < 0)
		goto out;
	msg_len = ebcc__ks_enclave_message(&rep, msg);
	r = ebcc__ks_verify(rep.enclave_signature, msg, msg_len, rep.sm_public_key);
	if (r == 0)
		r = ebcc__error(ERR, WHAT ": the enclave report's signature (over hash || "
				"le64(data_len) || data) does not verify under the SM's public key");
	if (r < 0)
		goto out;
	r = pol.has_sm_hash ? check_hash("SM hash", "backend_options.keystone.sm_hash",
					 pol.sm_hash, rep.sm_hash)
			    : 0;
	if (r == 0 && raw && pol.has_enclave_hash)
		r = check_hash("enclave hash", "backend_options.keystone.enclave_hash",
			       pol.enclave_hash, rep.enclave_hash);
	if (r == 0 && !raw)
		r = check_measurement(check->measurement, &rep);
	if (r == 0 && !raw && memcmp(rep.data, check->report_data, EBCC_REPORT_DATA_SIZE) != 0)
		r = ebcc__error(ERR, WHAT ": the enclave's attestation data is not the evidence's "
				"report_data");
	if (r == 0)
		r = verdict(&rep, &pol, key, raw, ret_verdict);
out:
	ebcc__ks_policy_clear(&pol);
	return r;
}
