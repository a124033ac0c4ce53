/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: the optee backend's offline report check (ebcc__optee_verify, backends/optee/
 * attest.c), which reads an "ebcc.optee.v1" report from evidence an attacker hands a verifier.
 *
 * An input is
 *
 *   flags        1   bit 0: trusted_keys holds the key of fuzz-optee-key.h;
 *                    bit 1: backend_options.optee.allow_unverified_signature is true;
 *                    bit 2: backend_options.optee.ta_digest pins FUZZ_DIGEST (below);
 *                    bit 3: bits 1 and 2 are ignored and the policy is the input's own text
 *                    (below); the other bits are ignored
 *   report_data  64  what the report must cover
 *   eid          8   little endian: the EID the evidence claims
 *   report       ... the rest; with bit 3, the policy's text, a NUL, then the report
 *
 * The seeds (make-seeds.py) are reports signed with optee-pta-key.pem, as the attestation PTA
 * signs them, so the fuzzer starts on the success path.
 *
 * Properties, against a model of the layout attest.h documents:
 *  - the check fails only with EBCC_ERR_VERIFY (or EBCC_ERR_NO_MEMORY), with a message that
 *    starts with "ebcc.optee.v1 report: ", and leaves the verdict NULL;
 *  - it succeeds exactly when the model says it must: well formed (magic, version 1, kind 1 or
 *    2, reserved zero, a 256..512-byte signature filling the rest), for the claimed EID, signed
 *    over report_data || digest by the trusted key (RSASSA-PSS, SHA-256, salt 32) or, with no
 *    key, allowed unverified, and carrying the pinned digest when one is pinned;
 *  - the verdict of a success is JSON saying what the report holds: session, digest, kind,
 *    not simulated, a hardware root of trust exactly when a trusted key verified it;
 *  - a well-formed report re-encodes (ebcc__optee_report_encode) to the same bytes;
 *  - a verified report fails once any bit outside the unsigned kind byte is flipped, or a bit
 *    of report_data, or the EID is another;
 *  - with the input's own policy (bit 3): a malformed report or another EID still fails, a
 *    failure's message starts with "policy" or the report's prefix, and a success means the
 *    policy's backend_options.optee was an object of known keys whose ta_digest, if any, is
 *    64 lowercase hex digits of the report's digest, and whose allow_unverified_signature,
 *    if any, is a boolean that was true when no trusted key verified the report.
 */
#include <json-c/json.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "../../backends/optee/attest.h"
#include "fuzz-common.h"
#include "fuzz-optee-key.h"
#include "../unit/check-policy.h"

#define PREFIX EBCC_OPTEE_FORMAT " report: "
#define INPUT_HEADER (1 + EBCC_REPORT_DATA_SIZE + 8)
#define REPORT_HEADER (4 + 1 + 1 + 2 + 4 + EBCC_TA_DIGEST_SIZE + 2)
#define FLAG_TRUST 1u
#define FLAG_ALLOW_UNVERIFIED 2u
#define FLAG_PIN 4u
#define FLAG_OWN_POLICY 8u

/* The digest the seeds carry and bit 2 pins: SHA-256 of FUZZ_DIGEST_TEXT. */
#define FUZZ_DIGEST_TEXT "ebcc fuzz-optee-attest TA"
static uint8_t fuzz_digest[EBCC_TA_DIGEST_SIZE];
static char fuzz_digest_hex[2 * EBCC_TA_DIGEST_SIZE + 1];
static EVP_PKEY *trusted;
static char *policies[8];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	BIO *bio = BIO_new_mem_buf(fuzz_optee_public_key_pem, -1);

	(void)argc;
	(void)argv;
	trusted = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	BIO_free(bio);
	if (trusted == NULL || ebcc__sha256(FUZZ_DIGEST_TEXT, strlen(FUZZ_DIGEST_TEXT),
					     fuzz_digest) < 0)
		abort();
	ebcc__hex_encode(fuzz_digest, EBCC_TA_DIGEST_SIZE, fuzz_digest_hex);
	for (unsigned f = 0; f < 8; f++) {
		bool allow = f & FLAG_ALLOW_UNVERIFIED, pin = f & FLAG_PIN;

		if (!allow && !pin)
			continue;
		if (asprintf(&policies[f],
			     "{\"backend_options\": {\"optee\": {%s%s%s%s%s}}}",
			     allow ? "\"allow_unverified_signature\": true" : "",
			     allow && pin ? ", " : "", pin ? "\"ta_digest\": \"" : "",
			     pin ? fuzz_digest_hex : "", pin ? "\"" : "") < 0)
			abort();
	}
	return 0;
}

/* The report as attest.h lays it out. */
struct model {
	bool well_formed;
	uint8_t kind;
	uint32_t session;
	const uint8_t *digest, *sig;
	size_t sig_len;
};

static struct model model_of(const uint8_t *r, size_t len)
{
	struct model m = { 0 };

	if (len < REPORT_HEADER || memcmp(r, "EBOP", 4) != 0 || r[4] != 1 ||
	    (r[5] != 1 && r[5] != 2) || r[6] != 0 || r[7] != 0)
		return m;
	m.kind = r[5];
	m.session = (uint32_t)r[8] | (uint32_t)r[9] << 8 | (uint32_t)r[10] << 16 |
		    (uint32_t)r[11] << 24;
	m.digest = r + 12;
	m.sig_len = (size_t)r[44] | (size_t)r[45] << 8;
	m.sig = r + REPORT_HEADER;
	m.well_formed = m.sig_len >= 256 && m.sig_len <= 512 && m.sig_len == len - REPORT_HEADER;
	return m;
}

/* Whether the trusted key signed report_data || digest into sig, as OP-TEE's PTA does. */
static bool signed_by_trusted(const uint8_t *report_data, const struct model *m)
{
	uint8_t msg[EBCC_REPORT_DATA_SIZE + EBCC_TA_DIGEST_SIZE];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	bool ok;

	if (ctx == NULL)
		abort();
	memcpy(msg, report_data, EBCC_REPORT_DATA_SIZE);
	memcpy(msg + EBCC_REPORT_DATA_SIZE, m->digest, EBCC_TA_DIGEST_SIZE);
	ok = (size_t)EVP_PKEY_get_size(trusted) == m->sig_len &&
	     EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, trusted) == 1 &&
	     EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, EBCC_TA_DIGEST_SIZE) == 1 &&
	     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1 &&
	     EVP_DigestVerify(ctx, m->sig, m->sig_len, msg, sizeof(msg)) == 1;
	EVP_MD_CTX_free(ctx);
	return ok;
}

/* The policy text of an input with FLAG_OWN_POLICY (malloc, NUL-terminated), or NULL. */
static char *own_policy;

static int verify(unsigned flags, const uint8_t *report_data, uint64_t eid,
		  const uint8_t *report, size_t report_len, char **ret_verdict)
{
	const char *keys[1] = { fuzz_optee_public_key_pem };
	struct ebcc_backend_report_check check = {
		.size = sizeof(check),
		.format = EBCC_OPTEE_FORMAT,
		.measurement = "sha256:0000000000000000000000000000000000000000000000000000000000000000",
		.eid = eid,
		.report_data = report_data,
		.report_data_len = EBCC_REPORT_DATA_SIZE,
		.report = report,
		.report_len = report_len,
		.trusted_keys = (flags & FLAG_TRUST) ? keys : NULL,
		.trusted_keys_count = (flags & FLAG_TRUST) ? 1 : 0,
	};
	int r;

	check_policy_set(&check, (flags & FLAG_OWN_POLICY) ? own_policy : policies[flags & 7],
			 "optee");
	fuzz_message_reset();
	*ret_verdict = NULL;
	r = ebcc__optee_verify(&check, ret_verdict);
	if (flags & FLAG_OWN_POLICY) {
		FUZZ_RESULT("ebcc__optee_verify", r, NULL, EBCC_ERR_VERIFY, EBCC_ERR_NO_MEMORY);
		FUZZ_CHECK(r == 0 || r == EBCC_ERR_NO_MEMORY ||
				   strncmp(ebcc_last_error_message(), PREFIX, strlen(PREFIX)) == 0 ||
				   strncmp(ebcc_last_error_message(), "policy", 6) == 0,
			   "message names neither the report nor the policy");
	} else {
		FUZZ_RESULT("ebcc__optee_verify", r, PREFIX, EBCC_ERR_VERIFY, EBCC_ERR_NO_MEMORY);
	}
	FUZZ_CHECK(r == 0 || *ret_verdict == NULL, "a failed check left a verdict");
	FUZZ_CHECK(r != 0 || *ret_verdict != NULL, "a passed check gave no verdict");
	return r;
}

static void check_verdict(const char *text, const struct model *m, bool verified)
{
	struct json_object *v = json_tokener_parse(text), *x;
	char hex[2 * EBCC_TA_DIGEST_SIZE + 1];

	FUZZ_CHECK(v != NULL && json_object_is_type(v, json_type_object), "verdict is not a JSON "
		   "object: %s", text);
	ebcc__hex_encode(m->digest, EBCC_TA_DIGEST_SIZE, hex);
	FUZZ_CHECK(json_object_object_get_ex(v, "session", &x) &&
			   json_object_get_int64(x) == (int64_t)m->session,
		   "verdict's session is not the report's %u: %s", m->session, text);
	FUZZ_CHECK(json_object_object_get_ex(v, "ta_digest", &x) &&
			   strcmp(json_object_get_string(x), hex) == 0,
		   "verdict's ta_digest is not the report's %s: %s", hex, text);
	FUZZ_CHECK(json_object_object_get_ex(v, "attestation", &x) &&
			   strcmp(json_object_get_string(x),
				  m->kind == 1 ? "ta-digest" : "ta-memory") == 0,
		   "verdict's attestation is not kind %u: %s", m->kind, text);
	FUZZ_CHECK(json_object_object_get_ex(v, "simulated", &x) && !json_object_get_boolean(x),
		   "verdict says simulated: %s", text);
	FUZZ_CHECK(json_object_object_get_ex(v, "hardware_root_of_trust", &x) &&
			   json_object_get_boolean(x) == verified,
		   "verdict's hardware_root_of_trust is not %d: %s", verified, text);
	json_object_put(v);
}

/* What a policy that let the report pass must have said (json-c reads more leniently than the
 * library, so whatever the library accepted it reads too). */
static void check_own_policy(const struct model *m, bool verified)
{
	struct json_object *root = json_tokener_parse(own_policy), *bo, *o, *v;
	bool allow = false;

	FUZZ_CHECK(root != NULL, "a policy json-c cannot read was accepted: %s", own_policy);
	if (json_object_is_type(root, json_type_object) &&
	    json_object_object_get_ex(root, "backend_options", &bo) &&
	    json_object_is_type(bo, json_type_object) && json_object_object_get_ex(bo, "optee", &o)) {
		FUZZ_CHECK(json_object_is_type(o, json_type_object),
			   "backend_options.optee that is not an object was accepted");
		FUZZ_CHECK(json_object_object_length(o) ==
				   json_object_object_get_ex(o, "ta_digest", NULL) +
					   json_object_object_get_ex(o, "allow_unverified_signature",
								     NULL),
			   "an unknown key in backend_options.optee was accepted: %s",
			   json_object_to_json_string(o));
		if (json_object_object_get_ex(o, "ta_digest", &v)) {
			char hex[2 * EBCC_TA_DIGEST_SIZE + 1];

			ebcc__hex_encode(m->digest, EBCC_TA_DIGEST_SIZE, hex);
			FUZZ_CHECK(json_object_is_type(v, json_type_string) &&
					   strcmp(json_object_get_string(v), hex) == 0,
				   "ta_digest %s passed a report with digest %s",
				   json_object_to_json_string(v), hex);
		}
		if (json_object_object_get_ex(o, "allow_unverified_signature", &v)) {
			FUZZ_CHECK(json_object_is_type(v, json_type_boolean),
				   "allow_unverified_signature that is not a boolean was accepted");
			allow = json_object_get_boolean(v);
		}
	}
	FUZZ_CHECK(verified || allow, "a report no trusted key verified passed without "
		   "allow_unverified_signature");
	json_object_put(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *report_data = data + 1, *report = data + INPUT_HEADER;
	uint8_t *copy, *encoded = NULL;
	char *verdict = NULL, *again = NULL;
	struct model m;
	size_t report_len, encoded_len = 0;
	unsigned flags;
	uint64_t eid = 0;
	bool expect, verified;
	int r;

	if (size < INPUT_HEADER)
		return 0;
	fuzz_begin(data, size);
	flags = data[0] & 15;
	for (int i = 7; i >= 0; i--)
		eid = eid << 8 | data[1 + EBCC_REPORT_DATA_SIZE + i];
	report_len = size - INPUT_HEADER;
	if (flags & FLAG_OWN_POLICY) {
		const uint8_t *nul = memchr(report, '\0', report_len);
		size_t policy_len = nul != NULL ? (size_t)(nul - report) : report_len;

		own_policy = malloc(policy_len + 1);
		if (own_policy == NULL)
			abort();
		memcpy(own_policy, report, policy_len);
		own_policy[policy_len] = '\0';
		if (nul != NULL) {
			report_len -= policy_len + 1;
			report = nul + 1;
		}
		/* The flags that build a policy do not apply. */
		flags &= FLAG_OWN_POLICY | FLAG_TRUST;
	}
	/* A buffer of exactly the report's length, so that a read past it is seen. */
	copy = malloc(report_len > 0 ? report_len : 1);
	if (copy == NULL)
		abort();
	memcpy(copy, report, report_len);

	m = model_of(copy, report_len);
	verified = m.well_formed && (flags & FLAG_TRUST) && signed_by_trusted(report_data, &m);
	expect = m.well_formed && m.session == eid &&
		 ((flags & FLAG_TRUST) ? verified : (flags & FLAG_ALLOW_UNVERIFIED) != 0) &&
		 (!(flags & FLAG_PIN) || memcmp(m.digest, fuzz_digest, EBCC_TA_DIGEST_SIZE) == 0);

	r = verify(flags, report_data, eid, copy, report_len, &verdict);
	/* With the input's own policy the model knows only what must fail; check_own_policy()
	 * says what a success implies. */
	if (flags & FLAG_OWN_POLICY)
		expect = m.well_formed && m.session == eid && r == 0;
	FUZZ_CHECK((r == 0) == expect || r == EBCC_ERR_NO_MEMORY,
		   "check gave %s, the layout of attest.h says %s (well formed %d, session %u, "
		   "eid %" PRIu64 ", flags %u, signed by the trusted key %d)",
		   ebcc_error_name(r), expect ? "success" : "EBCC_ERR_VERIFY", m.well_formed,
		   m.session, eid, flags, verified);

	if (m.well_formed) {
		struct ebcc__optee_attestation_out out = { .signature_len = m.sig_len };

		memcpy(out.digest, m.digest, EBCC_TA_DIGEST_SIZE);
		memcpy(out.signature, m.sig, m.sig_len);
		if (ebcc__optee_report_encode((enum ebcc__optee_attestation)m.kind, m.session, &out,
					      &encoded, &encoded_len) == 0) {
			FUZZ_CHECK(encoded_len == report_len &&
					   memcmp(encoded, copy, report_len) == 0,
				   "a well-formed report does not re-encode to its own bytes");
			free(encoded);
		}
	}

	if (r == 0) {
		check_verdict(verdict, &m, verified);
		if (flags & FLAG_OWN_POLICY)
			check_own_policy(&m, verified);
		/* The same input, the same answer. */
		FUZZ_CHECK(verify(flags, report_data, eid, copy, report_len, &again) == 0 &&
				   strcmp(again, verdict) == 0,
			   "a second check of the same report disagrees");
		free(again);
	}

	if (r == 0 && verified) {
		uint8_t rd[EBCC_REPORT_DATA_SIZE];
		uint64_t h = 1469598103934665603ULL;

		for (size_t i = 0; i < size; i++)
			h = (h ^ data[i]) * 1099511628211ULL;
		/* A few bits of the report, chosen by the input, none in the unsigned kind byte. */
		for (int k = 0; k < 4; k++) {
			size_t bit = (size_t)((h >> (16 * k)) % (report_len * 8));

			if (bit / 8 == 5)
				bit += 8;
			if (bit / 8 >= report_len)
				bit = 0;
			copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
			FUZZ_CHECK(verify(flags, report_data, eid, copy, report_len, &again) ==
					   EBCC_ERR_VERIFY,
				   "a verified report still passes with bit %zu flipped", bit);
			copy[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		}
		memcpy(rd, report_data, sizeof(rd));
		rd[h % sizeof(rd)] ^= (uint8_t)(1u << (h >> 8 & 7));
		FUZZ_CHECK(verify(flags, rd, eid, copy, report_len, &again) == EBCC_ERR_VERIFY,
			   "a verified report still passes for other report_data");
		FUZZ_CHECK(verify(flags, report_data, eid ^ (1u + (h >> 20 & 0xffff)), copy,
				  report_len, &again) == EBCC_ERR_VERIFY,
			   "a verified report still passes for another EID");
	}
	free(verdict);
	free(copy);
	free(own_policy);
	own_policy = NULL;
	return 0;
}
