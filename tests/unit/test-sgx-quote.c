/* SPDX-License-Identifier: MIT */
/*
 * The sgx backend's offline verification of DCAP quotes v3, through ebcc_report_verify().
 *
 * Real bytes, read from ../shared/realdata (EBCC_REALDATA) and never copied into the tree: a
 * quote a live SGX machine made (mobilecoinfoundation/sgx hw_quote.dat: a debug enclave, PCK
 * chain to Intel's SGX Root CA, with the chain's CRLs) and Intel QVL's synthetic sample (a
 * PPID instead of a PCK chain, signed under a test root). Without them the tests that need
 * them do not run and the program exits 77 (skipped) after the others.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "ebcc/backend.h"
#include "ebcc/ebcc.h"

/* Inside the mobilecoin chain (leaf 2022-06-13 .. 2029-06-13) and both its CRLs' windows
 * (processor CA CRL 2023-04-21 .. 2023-05-21, root CA CRL 2023-04-03 .. 2024-04-02). */
#define MC_AT "2023-05-01T00:00:00Z"
#define MC_MRENCLAVE "1dd0df84810e53e26b2b167dfe0f97cc4364085fe0bd41d5e18a759c21d5c189"
#define MC_MRSIGNER "d412a4f07ef83892a5915fb2ab584be31e186e5a4f95ab5f6950fd4eb8694d7b"
#define INTEL_ROOT_SHA256 "44a0196b2b99f889b8e149e95b807a350e7424964399e885a7cbb8ccfab674d3"
/* Offsets in a quote v3 (backends/sgx/quote.h). */
#define BODY 48
#define SIG 436
#define QE_REPORT (SIG + 128)
#define QE_SIG (QE_REPORT + 384)
#define QE_AUTH (QE_SIG + 64 + 2)

static const char *realdata(void)
{
	return getenv("EBCC_REALDATA");
}

/* A file of ../shared/realdata/<sub>/<name>; NULL when absent. */
static char *read_file(const char *sub, const char *name, size_t *ret_len)
{
	char path[4096];
	char *buf = NULL;
	long n;
	FILE *f;

	if (realdata() == NULL)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s/%s", realdata(), sub, name);
	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (ret_len != NULL)
		*ret_len = (size_t)n;
	return buf;
}

static char *must_read(const char *sub, const char *name, size_t *ret_len)
{
	char *p = read_file(sub, name, ret_len);

	assert_non_null(p);
	return p;
}

/* A DER CRL file as PEM text. */
static char *crl_pem(const char *name)
{
	size_t len = 0;
	char *der = must_read("sgx", name, &len), *data, *out;
	const unsigned char *p = (const unsigned char *)der;
	X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
	BIO *bio = BIO_new(BIO_s_mem());
	long n;

	assert_non_null(crl);
	assert_int_equal(PEM_write_bio_X509_CRL(bio, crl), 1);
	n = BIO_get_mem_data(bio, &data);
	out = strndup(data, (size_t)n);
	BIO_free(bio);
	X509_CRL_free(crl);
	free(der);
	return out;
}

/* {"verification_time": at, "backend_options": {"sgx": sgx}} (sgx is taken). */
static char *policy(const char *at, struct json_object *sgx)
{
	struct json_object *o = json_object_new_object(), *bo = json_object_new_object();
	char *text;

	if (at != NULL)
		json_object_object_add(o, "verification_time", json_object_new_string(at));
	json_object_object_add(bo, "sgx", sgx);
	json_object_object_add(o, "backend_options", bo);
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return text;
}

static struct json_object *with_root(const char *file_sub, const char *file)
{
	struct json_object *o = json_object_new_object();
	char *pem = must_read(file_sub, file, NULL);

	json_object_object_add(o, "root_ca", json_object_new_string(pem));
	free(pem);
	return o;
}

static struct json_object *intel_root(void)
{
	return with_root("tdx", "intel_sgx_root_ca.pem");
}

struct fixture {
	struct ebcc_context *ctx;
	uint8_t *mc; /* mobilecoin_hw_quote.dat */
	size_t mc_len;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(ebcc_context_new(&f->ctx), 0);
	f->mc = (uint8_t *)read_file("sgx", "mobilecoin_hw_quote.dat", &f->mc_len);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ebcc_context_unref(f->ctx);
	free(f->mc);
	free(f);
	return 0;
}

/* Verifies, freeing the policy text; the claims parsed (NULL when refused). */
static int verify(struct fixture *f, const uint8_t *data, size_t len, char *pol,
		  struct json_object **ret_claims)
{
	char *claims = NULL;
	int r = ebcc_report_verify(f->ctx, "sgx", data, len, pol, &claims);

	free(pol);
	if (ret_claims != NULL)
		*ret_claims = r == 0 ? json_tokener_parse(claims) : NULL;
	ebcc_free(claims);
	return r;
}

/* Refused with EBCC_ERR_VERIFY and a message holding fragment. */
static void refused(struct fixture *f, const uint8_t *data, size_t len, char *pol,
		    const char *fragment)
{
	int r = verify(f, data, len, pol, NULL);

	if (r != EBCC_ERR_VERIFY || strstr(ebcc_last_error_message(), fragment) == NULL)
		fail_msg("expected EBCC_ERR_VERIFY with \"%s\", got %s: %s", fragment,
			 ebcc_error_name(r), r < 0 ? ebcc_last_error_message() : "(accepted)");
}

static const char *claim(struct json_object *claims, const char *key)
{
	struct json_object *v = NULL;

	assert_true(json_object_object_get_ex(claims, key, &v));
	return json_object_get_string(v);
}

static struct json_object *debug_ok(struct json_object *o)
{
	json_object_object_add(o, "allow_debug", json_object_new_boolean(1));
	return o;
}

/* ---- the live machine's quote ------------------------------------------------------------- */

static void mobilecoin_verifies(void **state)
{
	struct fixture *f = *state;
	struct json_object *claims = NULL, *qe = NULL;

	assert_int_equal(verify(f, f->mc, f->mc_len, policy(MC_AT, debug_ok(intel_root())),
				&claims), 0);
	assert_string_equal(claim(claims, "verified"), "true");
	assert_string_equal(claim(claims, "backend"), "sgx");
	assert_string_equal(claim(claims, "quote_version"), "3");
	assert_string_equal(claim(claims, "mrenclave"), MC_MRENCLAVE);
	assert_string_equal(claim(claims, "measurement"), MC_MRENCLAVE);
	assert_string_equal(claim(claims, "mrsigner"), MC_MRSIGNER);
	assert_string_equal(claim(claims, "debug"), "true");
	assert_string_equal(claim(claims, "attributes"), "0x0000000000000007");
	assert_string_equal(claim(claims, "qe_svn"), "7");
	assert_string_equal(claim(claims, "pce_svn"), "12");
	assert_string_equal(claim(claims, "report_data"),
			    "0000000000000000000000000000000000000000000000000000000000000000"
			    "0000000000000000000000000000000000000000000000000000000000000000");
	assert_string_equal(claim(claims, "signer"), "Intel SGX PCK Certificate");
	assert_string_equal(claim(claims, "root"), "Intel SGX Root CA");
	assert_string_equal(claim(claims, "root_sha256"), INTEL_ROOT_SHA256);
	assert_non_null(strstr(claim(claims, "signature"), "verified: the quote is signed by its "
							 "attestation key"));
	assert_non_null(strstr(claim(claims, "not_verified"), "revocation"));
	/* The QE is Intel's: its MRSIGNER is the one every DCAP quote shows. */
	assert_true(json_object_object_get_ex(claims, "qe_report", &qe));
	assert_string_equal(claim(qe, "mrsigner"),
			    "8c4f5775d796503e96137f77c68a829a0056ac8ded70140b081b094490c57bff");
	assert_string_equal(claim(qe, "debug"), "false");
	json_object_put(claims);
}

static void mobilecoin_debug_refused(void **state)
{
	struct fixture *f = *state;

	refused(f, f->mc, f->mc_len, policy(MC_AT, intel_root()),
		"SGX quote: the enclave is a debug enclave (ATTRIBUTES.FLAGS 0x7 has DEBUG, bit 1)"
		", so its memory is open to the host; set backend_options.sgx.allow_debug");
}

static void mobilecoin_pins(void **state)
{
	struct fixture *f = *state;
	struct json_object *o;

	o = debug_ok(intel_root());
	json_object_object_add(o, "mrenclave", json_object_new_string(MC_MRENCLAVE));
	json_object_object_add(o, "mrsigner", json_object_new_string(MC_MRSIGNER));
	json_object_object_add(o, "isv_prod_id", json_object_new_int(0));
	json_object_object_add(o, "min_isv_svn", json_object_new_int(0));
	assert_int_equal(verify(f, f->mc, f->mc_len, policy(MC_AT, o), NULL), 0);

	o = debug_ok(intel_root());
	json_object_object_add(o, "mrenclave", json_object_new_string(MC_MRSIGNER));
	refused(f, f->mc, f->mc_len, policy(MC_AT, o),
		"SGX quote: MRENCLAVE expected " MC_MRSIGNER " (backend_options.sgx.mrenclave), "
		"found " MC_MRENCLAVE);
	o = debug_ok(intel_root());
	json_object_object_add(o, "mrsigner", json_object_new_string(MC_MRENCLAVE));
	refused(f, f->mc, f->mc_len, policy(MC_AT, o),
		"SGX quote: MRSIGNER expected " MC_MRENCLAVE " (backend_options.sgx.mrsigner), "
		"found " MC_MRSIGNER);
	o = debug_ok(intel_root());
	json_object_object_add(o, "isv_prod_id", json_object_new_int(1));
	refused(f, f->mc, f->mc_len, policy(MC_AT, o),
		"SGX quote: ISVPRODID expected 1 (backend_options.sgx.isv_prod_id), found 0");
	o = debug_ok(intel_root());
	json_object_object_add(o, "min_isv_svn", json_object_new_int(1));
	refused(f, f->mc, f->mc_len, policy(MC_AT, o),
		"SGX quote: ISVSVN 0 is below backend_options.sgx.min_isv_svn 1");
	o = debug_ok(intel_root());
	json_object_object_add(o, "report_data",
			       json_object_new_string("01000000000000000000000000000000"
						      "00000000000000000000000000000000"
						      "00000000000000000000000000000000"
						      "00000000000000000000000000000000"));
	refused(f, f->mc, f->mc_len, policy(MC_AT, o),
		"SGX quote: REPORTDATA expected 0100");
}

/* The chain's CRLs, as Intel PCS serves them, checked at the verification time. */
static void mobilecoin_crls(void **state)
{
	struct fixture *f = *state;
	char *processor = crl_pem("mobilecoin_processor_crl.der");
	char *root = crl_pem("mobilecoin_root_crl.der");
	size_t n = strlen(processor) + strlen(root) + 1;
	char *both = malloc(n);
	struct json_object *o, *claims = NULL;

	snprintf(both, n, "%s%s", processor, root);
	o = debug_ok(intel_root());
	json_object_object_add(o, "crl", json_object_new_string(both));
	assert_int_equal(verify(f, f->mc, f->mc_len, policy(MC_AT, o), &claims), 0);
	assert_non_null(strstr(claim(claims, "revocation"), "Intel SGX PCK Processor CA"));
	assert_null(strstr(claim(claims, "not_verified"), "revocation"));
	json_object_put(claims);
	/* After the processor CA CRL's nextUpdate. */
	o = debug_ok(intel_root());
	json_object_object_add(o, "crl", json_object_new_string(both));
	refused(f, f->mc, f->mc_len, policy("2023-06-01T00:00:00Z", o),
		"Intel SGX PCK Processor CA");
	/* Without the processor CA's CRL. */
	o = debug_ok(intel_root());
	json_object_object_add(o, "crl", json_object_new_string(root));
	refused(f, f->mc, f->mc_len, policy(MC_AT, o), "Intel SGX PCK Processor CA");
	free(both);
	free(processor);
	free(root);
}

static void mobilecoin_trust(void **state)
{
	struct fixture *f = *state;
	struct json_object *o, *keys, *claims = NULL;
	size_t len = 0;
	char *der = must_read("sgx", "mobilecoin_leaf_cert.der", &len), *data, *pol;
	const unsigned char *p = (const unsigned char *)der;
	X509 *leaf = d2i_X509(NULL, &p, (long)len);
	BIO *bio = BIO_new(BIO_s_mem());
	long n;

	/* Past the PCK certificate's notAfter. */
	refused(f, f->mc, f->mc_len, policy("2030-01-01T00:00:00Z", debug_ok(intel_root())),
		"SGX quote: the PCK certificate chain");
	/* A root that is not Intel's. */
	refused(f, f->mc, f->mc_len,
		policy(MC_AT, debug_ok(with_root("sgx", "intelqvl_trustedRootCaCert.pem"))),
		"SGX quote: the PCK certificate chain");
	/* Nothing to verify with. */
	refused(f, f->mc, f->mc_len, policy(MC_AT, debug_ok(json_object_new_object())),
		"SGX quote: signature not verified: no certificate chain (backend_options.sgx."
		"root_ca) or key (trusted_keys) in the policy");
	o = debug_ok(json_object_new_object());
	json_object_object_add(o, "allow_unverified_signature", json_object_new_boolean(1));
	assert_int_equal(verify(f, f->mc, f->mc_len, policy(MC_AT, o), &claims), 0);
	assert_string_equal(claim(claims, "verified"), "false");
	json_object_put(claims);
	/* The PCK key itself in trusted_keys. */
	assert_non_null(leaf);
	assert_int_equal(PEM_write_bio_PUBKEY(bio, X509_get0_pubkey(leaf)), 1);
	n = BIO_get_mem_data(bio, &data);
	pol = policy(MC_AT, debug_ok(json_object_new_object()));
	o = json_tokener_parse(pol);
	free(pol);
	keys = json_object_new_array();
	json_object_array_add(keys, json_object_new_string_len(data, (int)n));
	json_object_object_add(o, "trusted_keys", keys);
	pol = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	assert_int_equal(verify(f, f->mc, f->mc_len, pol, &claims), 0);
	assert_non_null(strstr(claim(claims, "signature"), "whose key is trusted_keys[0]"));
	json_object_put(claims);
	BIO_free(bio);
	X509_free(leaf);
	free(der);
}

/* Every bit of the signed part, the QE report and the signatures that can change something
 * is refused with the check that sees it. */
static void mobilecoin_flips(void **state)
{
	struct fixture *f = *state;
	uint8_t *q = malloc(f->mc_len);
	struct {
		size_t from, to;
		const char *fragment;
	} regions[] = {
		{ 8, BODY, "the quote signature does not verify" },           /* header after type */
		{ BODY, SIG - 4, "the quote signature does not verify" },     /* report body */
		{ SIG, SIG + 64, "the quote signature does not verify" },     /* its signature */
		{ SIG + 64, SIG + 128, "does not vouch for the attestation key" },
		{ QE_REPORT, QE_SIG, "the QE report signature does not verify" },
		{ QE_SIG, QE_SIG + 64, "the QE report signature does not verify" },
		{ QE_AUTH, QE_AUTH + 32, "does not vouch for the attestation key" },
	};
	size_t count = 0;

	assert_non_null(q);
	for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
		for (size_t at = regions[i].from; at < regions[i].to; at++) {
			memcpy(q, f->mc, f->mc_len);
			q[at] ^= 0x01;
			refused(f, q, f->mc_len, policy(MC_AT, debug_ok(intel_root())),
				regions[i].fragment);
			count++;
		}
	}
	assert_int_equal(count, (SIG - 4 - 8) + 64 * 3 + 384 + 32);
	memcpy(q, f->mc, f->mc_len);
	q[0] ^= 1;
	refused(f, q, f->mc_len, policy(MC_AT, intel_root()), "SGX quote: version 2, only "
							      "version 3 is understood");
	memcpy(q, f->mc, f->mc_len);
	q[4] = 0x81;
	refused(f, q, f->mc_len, policy(MC_AT, intel_root()), "SGX quote: TEE type 0x81 is not "
							      "SGX (0)");
	free(q);
}

static void mobilecoin_lengths(void **state)
{
	struct fixture *f = *state;
	uint8_t *q = calloc(1, f->mc_len + 70);
	struct json_object *claims = NULL;

	assert_non_null(q);
	/* Every truncation is refused by the parser (no signature is checked). */
	for (size_t len = 1; len < f->mc_len; len++) {
		char *claims_text = NULL;
		int r = ebcc_report_verify(f->ctx, "sgx", f->mc, len, NULL, &claims_text);

		if (r != EBCC_ERR_VERIFY || strstr(ebcc_last_error_message(), "SGX quote") == NULL)
			fail_msg("%zu bytes: %s: %s", len, ebcc_error_name(r),
				 ebcc_last_error_message());
	}
	refused(f, f->mc, 100, NULL, "SGX quote of 100 bytes is short: the report body needs "
				     "384 bytes at offset 48, 52 are left");
	/* Zero padding, as quote services hand out, is allowed; anything else is not. */
	memcpy(q, f->mc, f->mc_len);
	assert_int_equal(verify(f, q, f->mc_len + 70, policy(MC_AT, debug_ok(intel_root())),
				&claims), 0);
	assert_string_equal(claim(claims, "padding"), "70");
	json_object_put(claims);
	q[f->mc_len + 69] = 1;
	refused(f, q, f->mc_len + 70, NULL, "only zero padding may follow a quote");
	/* A signature data length one more than there is. */
	memcpy(q, f->mc, f->mc_len);
	q[SIG - 4] += 1;
	refused(f, q, f->mc_len, NULL, "the signature data length says 4168 bytes follow at "
				       "offset 436, but 4167 do");
	free(q);
}

/* ---- Intel's synthetic sample ------------------------------------------------------------- */

static void intelqvl_refused(void **state)
{
	struct fixture *f = *state;
	size_t len = 0;
	uint8_t *q = (uint8_t *)must_read("sgx", "intelqvl_quote.dat", &len);

	refused(f, q, len, policy(MC_AT, intel_root()),
		"SGX quote: PCK certification data type 1 (PPID in clear text), only 5 (the PCK "
		"certificate chain in PEM) is understood");
	free(q);
}

/*
 * The same quote with its certification data replaced by the PCK chain its signatures were
 * made under (the QVL's sample PCK certificate and signing chain): Intel's root refuses the
 * chain, the test root it was made for accepts it — so the refusal above is for the chain,
 * not for broken signatures.
 */
static void intelqvl_test_root(void **state)
{
	struct fixture *f = *state;
	size_t len = 0, cert_off;
	uint8_t *orig = (uint8_t *)must_read("sgx", "intelqvl_quote.dat", &len), *q;
	char *leaf = must_read("sgx", "intelqvl_pckCert.pem", NULL);
	char *chain = must_read("sgx", "intelqvl_pckSignChain.pem", NULL);
	size_t chain_len = strlen(leaf) + strlen(chain);
	struct json_object *claims = NULL;
	uint32_t sig_len;

	cert_off = QE_AUTH + (size_t)(orig[QE_AUTH - 2] | orig[QE_AUTH - 1] << 8);
	q = malloc(cert_off + 6 + chain_len);
	assert_non_null(q);
	memcpy(q, orig, cert_off);
	q[cert_off] = 5;
	q[cert_off + 1] = 0;
	for (int i = 0; i < 4; i++)
		q[cert_off + 2 + i] = (uint8_t)(chain_len >> (8 * i));
	memcpy(q + cert_off + 6, leaf, strlen(leaf));
	memcpy(q + cert_off + 6 + strlen(leaf), chain, strlen(chain));
	sig_len = (uint32_t)(cert_off + 6 + chain_len - SIG);
	for (int i = 0; i < 4; i++)
		q[SIG - 4 + i] = (uint8_t)(sig_len >> (8 * i));
	refused(f, q, cert_off + 6 + chain_len, policy(MC_AT, intel_root()),
		"SGX quote: the PCK certificate chain");
	assert_int_equal(verify(f, q, cert_off + 6 + chain_len,
				policy(MC_AT, with_root("sgx", "intelqvl_trustedRootCaCert.pem")),
				&claims), 0);
	assert_string_equal(claim(claims, "verified"), "true");
	assert_string_equal(claim(claims, "mrenclave"),
			    "0000000000000000000000000000000000000000000000000000000000000000");
	json_object_put(claims);
	free(q);
	free(orig);
	free(leaf);
	free(chain);
}

/* ---- without real data -------------------------------------------------------------------- */

static void policy_errors(void **state)
{
	struct fixture *f = *state;
	static const uint8_t junk[8] = { 3, 0, 2, 0 };
	struct {
		const char *key, *json, *fragment;
	} cases[] = {
		{ "mrenclav", "\"00\"", "policy: backend_options.sgx" },
		{ "mrenclave", "\"00\"", "policy: backend_options.sgx.mrenclave must be 64 "
					 "lowercase hex digits" },
		{ "isv_prod_id", "65536", "policy: backend_options.sgx.isv_prod_id must be an "
					  "integer from 0 to 65535" },
		{ "allow_debug", "1", "policy: backend_options.sgx.allow_debug must be true or "
				      "false" },
		{ "root_ca", "\"no\"", "policy: backend_options.sgx.root_ca" },
		{ "crl", "\"no\"", "policy: backend_options.sgx.crl" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256];
		struct json_object *o;

		snprintf(text, sizeof(text), "{\"%s\": %s}", cases[i].key, cases[i].json);
		o = json_tokener_parse(text);
		assert_non_null(o);
		/* The policy is read before the quote. */
		refused(f, junk, sizeof(junk), policy(NULL, o), cases[i].fragment);
	}
	refused(f, junk, sizeof(junk), NULL, "SGX quote of 8 bytes is short: the header needs "
					     "48 bytes at offset 0, 8 are left");
}

static void probe_unavailable(void **state)
{
	struct fixture *f = *state;
	char *json = NULL;

	assert_int_equal(ebcc_backend_probe(f->ctx, "sgx", &json), 0);
	assert_non_null(strstr(json, "\"name\":\"sgx\""));
	assert_non_null(strstr(json, "\"isolation\":\"enclave\""));
	assert_non_null(strstr(json, "\"simulated\":false"));
	if (access("/dev/sgx_enclave", F_OK) != 0) {
		assert_non_null(strstr(json, "\"available\":false"));
		assert_non_null(strstr(json, "\"reason\":\"no /dev/sgx_enclave: No such file or "
					     "directory: no SGX driver"));
	}
	ebcc_free(json);
}

int main(void)
{
	const struct CMUnitTest always[] = {
		cmocka_unit_test_setup_teardown(policy_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(probe_unavailable, setup, teardown),
	};
	const struct CMUnitTest real[] = {
		cmocka_unit_test_setup_teardown(mobilecoin_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(mobilecoin_debug_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(mobilecoin_pins, setup, teardown),
		cmocka_unit_test_setup_teardown(mobilecoin_crls, setup, teardown),
		cmocka_unit_test_setup_teardown(mobilecoin_trust, setup, teardown),
		cmocka_unit_test_setup_teardown(mobilecoin_flips, setup, teardown),
		cmocka_unit_test_setup_teardown(mobilecoin_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(intelqvl_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(intelqvl_test_root, setup, teardown),
	};
	char *probe = read_file("sgx", "mobilecoin_hw_quote.dat", NULL);
	int r = cmocka_run_group_tests_name("sgx without real data", always, NULL, NULL);

	if (probe == NULL) {
		fprintf(stderr, "SKIP: no ../shared/realdata/sgx (EBCC_REALDATA=%s)\n",
			realdata() != NULL ? realdata() : "unset");
		return r != 0 ? r : 77;
	}
	free(probe);
	return r + cmocka_run_group_tests_name("sgx real quotes", real, NULL, NULL);
}
