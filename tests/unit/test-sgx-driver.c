/* SPDX-License-Identifier: MIT */
/*
 * The sgx backend's driver sequence (backends/sgx/driver.c) against fake-sgx.c, a fake of the
 * Linux SGX driver and of the CPU's ENCLS leaves (what it copies and what it cannot be: its
 * header), with the tests' own enclave image (sgx-image.h) and SIGSTRUCTs signed here. Every
 * failure is checked for its message and for nothing left: no open enclave file, no mapping,
 * no reservation.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <time.h>

#include <asm/sgx.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "../../backends/common/bytes.h"
#include "../../backends/sgx/driver.h"
#include "../../backends/sgx/qe.h"
#include "ebcc-private.h"
#include "ebcc/ebcc.h"
#include "fake-pki.h"
#include "fake-sgx.h"
#include "sgx-image.h"

#define ATTR_MODE64BIT 0x4
#define ATTR_DEBUG 0x2

/* The stand-in for the enclave's code: it answers in the caller's buffer (rdi, rsi) with what
 * it sees of itself, or takes the exception the test asks for. */
struct enclave_code {
	uint16_t vector;
	unsigned calls;
	bool quote;   /* make a quote over report_data instead */
	bool ereport; /* or a REPORT over report_data for target */
	uint8_t report_data[64];
	uint8_t target[EBCC_SGX_TARGETINFO_SIZE], report[EBCC_SGX_REPORT_SIZE];
	uint8_t *q;
	size_t q_len;
};

static void entry(struct fake_sgx_call *call, void *userdata)
{
	struct enclave_code *code = userdata;
	char hex[65];

	code->calls++;
	if (code->vector != 0) {
		call->exception_vector = code->vector;
		call->exception_error_code = 6;
		call->exception_addr = (uint64_t)(uintptr_t)call->base + 0x5000;
		return;
	}
	if (code->quote) {
		fake_sgx_quote(call, code->report_data, &code->q, &code->q_len);
		return;
	}
	if (code->ereport) {
		fake_sgx_ereport(call, code->target, code->report_data, code->report);
		return;
	}
	ebcc__hex_encode(call->mrenclave, 32, hex);
	/* Its "code" page, as mapped: the bytes the image put there. */
	snprintf((char *)(uintptr_t)call->rdi, call->rsi, "tcs 0x%llx mrenclave %s: %s",
		 (unsigned long long)call->tcs_offset, hex, (const char *)call->base + 2 * PAGE);
}

static EVP_PKEY *rsa3(void)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	BIGNUM *e = BN_new();
	EVP_PKEY *key = NULL;

	assert_int_equal(BN_set_word(e, 3), 1);
	assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 3072), 1);
	assert_int_equal(EVP_PKEY_CTX_set1_rsa_keygen_pubexp(ctx, e), 1);
	assert_int_equal(EVP_PKEY_generate(ctx, &key), 1);
	BN_free(e);
	EVP_PKEY_CTX_free(ctx);
	return key;
}

static int modulus_cmp(const EVP_PKEY *a, const EVP_PKEY *b)
{
	BIGNUM *na = NULL, *nb = NULL;
	int r;

	assert_int_equal(EVP_PKEY_get_bn_param(a, "n", &na), 1);
	assert_int_equal(EVP_PKEY_get_bn_param(b, "n", &nb), 1);
	r = BN_cmp(na, nb);
	BN_free(na);
	BN_free(nb);
	return r;
}

struct t {
	EVP_PKEY *signer, *other;
	struct image *im;
	struct enclave_code code;
	struct fake_sgx *fake;
	uint8_t ss[EBCC_SGX_SIGSTRUCT_SIZE], mrsigner[32];
	struct ebcc__sgx_secs_params secs;
};

static struct t *keys;

static int group_setup(void **state)
{
	(void)state;
	keys = calloc(1, sizeof(*keys));
	keys->signer = rsa3();
	keys->other = rsa3();
	/* The other key's modulus is the smaller, so its signatures are below the signer's
	 * modulus whatever keys were drawn: foreign_key's "does not verify" case is reached
	 * rather than, one run in two, the "not below MODULUS" check before it. */
	if (modulus_cmp(keys->other, keys->signer) > 0) {
		EVP_PKEY *k = keys->other;

		keys->other = keys->signer;
		keys->signer = k;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(keys->signer);
	EVP_PKEY_free(keys->other);
	free(keys);
	return 0;
}

/* A SIGSTRUCT for the layout (the mask covers every attribute: a release SIGSTRUCT cannot be
 * launched as a debug enclave, nor a debug one as a release enclave). */
static void sign_with(const struct ebcc__sgx_layout *l, EVP_PKEY *key, uint64_t attributes,
		      uint8_t ss[EBCC_SGX_SIGSTRUCT_SIZE])
{
	struct ebcc__sgx_sigstruct_params p = {
		.date = 0x20261207,
		.attributes = attributes,
		.xfrm = 3,
		.attributes_mask = ~UINT64_C(0),
		.xfrm_mask = ~UINT64_C(0),
		.isv_prod_id = 1,
	};

	assert_int_equal(ebcc__sgx_mrenclave(l, p.mrenclave), 0);
	assert_int_equal(ebcc__sgx_sigstruct_sign(&p, key, ss), 0);
}

static void sign(const struct ebcc__sgx_layout *l, EVP_PKEY *key, uint8_t ss[EBCC_SGX_SIGSTRUCT_SIZE])
{
	sign_with(l, key, ATTR_MODE64BIT, ss);
}

static int setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	t->signer = keys->signer;
	t->other = keys->other;
	t->im = malloc(sizeof(*t->im));
	image_init(t->im);
	t->fake = fake_sgx_new(entry, &t->code);
	sign(&t->im->layout, t->signer, t->ss);
	assert_int_equal(ebcc__sgx_sigstruct_check(t->ss, NULL, t->mrsigner), 0);
	t->secs = (struct ebcc__sgx_secs_params){ .attributes = ATTR_MODE64BIT, .xfrm = 3 };
	*state = t;
	return 0;
}

static int teardown(void **state)
{
	struct t *t = *state;

	fake_sgx_free(t->fake);
	free(t->im);
	free(t);
	return 0;
}

static void nothing_left(struct t *t)
{
	assert_int_equal(fake_sgx_open_files(t->fake), 0);
	assert_int_equal(fake_sgx_mappings(t->fake), 0);
}

static int load(struct t *t, const uint8_t *expected, struct ebcc__sgx_enclave *e)
{
	return ebcc__sgx_enclave_load(fake_sgx_host(t->fake), &t->im->layout, &t->secs, t->ss,
				      expected, e);
}

static void refused(int r, int code, const char *fragment)
{
	if (r != code || strstr(ebcc_last_error_message(), fragment) == NULL)
		fail_msg("expected %s with \"%s\", got %s: %s", ebcc_error_name(code), fragment,
			 ebcc_error_name(r), ebcc_last_error_message());
}

/* ---- through the driver ------------------------------------------------------------------- */

static void load_enter_destroy(void **state)
{
	struct t *t = *state;
	struct ebcc__sgx_enclave e;
	char buf[256], hex[65], want[256];

	assert_int_equal(load(t, t->mrsigner, &e), 0);
	assert_int_equal(fake_sgx_last_einit(t->fake), 0);
	/* The fake CPU measured the pages the driver added: the same MRENCLAVE. */
	assert_memory_equal(fake_sgx_last_mrenclave(t->fake), e.mrenclave, 32);
	assert_memory_equal(e.mrsigner, t->mrsigner, 32);
	assert_int_equal(e.base % e.size, 0);
	/* The reservation, and the four segments mapped over it. */
	assert_int_equal(fake_sgx_mappings(t->fake), 5);
	assert_int_equal(ebcc__sgx_enclave_enter(&e, 0, buf, sizeof(buf)), 0);
	ebcc__hex_encode(e.mrenclave, 32, hex);
	snprintf(want, sizeof(want), "tcs 0x0 mrenclave %s: libebcc test enclave: not code that "
		 "runs, bytes to measure", hex);
	assert_string_equal(buf, want);
	ebcc__sgx_enclave_destroy(&e);
	nothing_left(t);
	assert_int_equal(e.fd, -1);
	ebcc__sgx_enclave_destroy(&e);
}

/* ADD_PAGES stopped by a signal after one page: the driver goes on where count says. */
static void add_interrupted(void **state)
{
	struct t *t = *state;
	struct ebcc__sgx_enclave e;

	fake_sgx_faults(t->fake)->add_stop_after = 1;
	assert_int_equal(load(t, NULL, &e), 0);
	assert_memory_equal(fake_sgx_last_mrenclave(t->fake), e.mrenclave, 32);
	ebcc__sgx_enclave_destroy(&e);
	nothing_left(t);
}

static void wrong_mrenclave(void **state)
{
	struct t *t = *state;
	struct ebcc__sgx_enclave e;

	/* A SIGSTRUCT for the image with one code byte changed. */
	t->im->code[10] ^= 1;
	sign(&t->im->layout, t->signer, t->ss);
	t->im->code[10] ^= 1;
	refused(load(t, NULL, &e), EBCC_ERR_VERIFY, "SIGSTRUCT: ENCLAVEHASH ");
	refused(EBCC_ERR_VERIFY, EBCC_ERR_VERIFY, " is not the enclave's MRENCLAVE ");
	assert_int_equal(fake_sgx_opens(t->fake), 0);
	nothing_left(t);
}

static void foreign_key(void **state)
{
	struct t *t = *state;
	struct ebcc__sgx_enclave e;
	char got[65], want[65], msg[256];
	uint8_t other[32];

	sign(&t->im->layout, t->other, t->ss);
	assert_int_equal(ebcc__sgx_sigstruct_check(t->ss, NULL, other), 0);
	ebcc__hex_encode(other, 32, got);
	ebcc__hex_encode(t->mrsigner, 32, want);
	snprintf(msg, sizeof(msg), "SIGSTRUCT: signed by MRSIGNER %s, not by the enclave signing "
		 "key configured (MRSIGNER %s)", got, want);
	refused(load(t, t->mrsigner, &e), EBCC_ERR_VERIFY, msg);
	assert_int_equal(fake_sgx_opens(t->fake), 0);
	/* Another key's signature over this key's modulus. */
	{
		uint8_t mine[EBCC_SGX_SIGSTRUCT_SIZE];

		sign(&t->im->layout, t->signer, mine);
		memcpy(t->ss + EBCC_SGX_SS_MODULUS, mine + EBCC_SGX_SS_MODULUS, EBCC_SGX_MODULUS_SIZE);
		refused(load(t, NULL, &e), EBCC_ERR_VERIFY,
			"SIGSTRUCT: the signature does not verify under its modulus");
	}
	/* A signature equal to the modulus is refused before any arithmetic. */
	sign(&t->im->layout, t->signer, t->ss);
	memcpy(t->ss + EBCC_SGX_SS_SIGNATURE, t->ss + EBCC_SGX_SS_MODULUS, EBCC_SGX_MODULUS_SIZE);
	refused(load(t, NULL, &e), EBCC_ERR_VERIFY, "SIGSTRUCT: SIGNATURE is not below MODULUS");
	nothing_left(t);
}

/* A debug launch of a release SIGSTRUCT: the CPU refuses (SGX_INVALID_ATTRIBUTE), the driver
 * says -EPERM. */
static void einit_refused(void **state)
{
	struct t *t = *state;
	struct ebcc__sgx_enclave e;

	t->secs.attributes |= ATTR_DEBUG;
	refused(load(t, NULL, &e), EBCC_ERR_BACKEND,
		"SGX_IOC_ENCLAVE_INIT: Operation not permitted: EINIT refused the enclave: the "
		"SECS's ATTRIBUTES 0x6 under the SIGSTRUCT's ATTRIBUTEMASK 0xffffffffffffffff are "
		"not its ATTRIBUTES 0x4");
	assert_int_equal(fake_sgx_last_einit(t->fake), FAKE_SGX_INVALID_ATTRIBUTE);
	assert_int_equal(fake_sgx_opens(t->fake), 1);
	nothing_left(t);
}

static void ecreate_fault(void **state)
{
	struct t *t = *state;
	struct ebcc__sgx_enclave e;

	t->secs.attributes |= 0x8; /* a reserved bit */
	refused(load(t, NULL, &e), EBCC_ERR_BACKEND,
		"SGX_IOC_ENCLAVE_CREATE: Input/output error: ECREATE failed on the SECS (size "
		"0x8000, base 0x");
	refused(EBCC_ERR_BACKEND, EBCC_ERR_BACKEND, "ATTRIBUTES 0xc, XFRM 0x3): reserved bits");
	nothing_left(t);
}

static void no_device(void **state)
{
	struct t *t = *state;
	struct ebcc__sgx_enclave e;

	fake_sgx_faults(t->fake)->no_device = true;
	refused(load(t, NULL, &e), EBCC_ERR_UNAVAILABLE,
		"no /dev/sgx_enclave: No such file or directory: no SGX driver");
	nothing_left(t);
}

static void enclave_exception(void **state)
{
	struct t *t = *state;
	struct ebcc__sgx_enclave e;
	char buf[64];

	assert_int_equal(load(t, NULL, &e), 0);
	t->code.vector = 14;
	refused(ebcc__sgx_enclave_enter(&e, 0, buf, sizeof(buf)), EBCC_ERR_BACKEND,
		"the SGX enclave took exception vector 14 (error code 6) at 0x");
	/* EENTER at the SSA page, which is no TCS: #GP, the code never runs. */
	t->code.vector = 0;
	t->code.calls = 0;
	refused(ebcc__sgx_enclave_enter(&e, PAGE, buf, sizeof(buf)), EBCC_ERR_BACKEND,
		"the SGX enclave took exception vector 13 (error code 0)");
	assert_int_equal(t->code.calls, 0);
	ebcc__sgx_enclave_destroy(&e);
	nothing_left(t);
}

/* ---- the quoting stand-in's quotes, verified offline ---------------------------------------- */

/* The entered enclave's quote verified by ebcc_report_verify() under pol (taken); 0 or the
 * error, *claims kept when asked. */
static int verify_policy(struct t *t, struct json_object *pol, struct json_object **claims)
{
	struct ebcc_context *ctx = NULL;
	char *out = NULL;
	int r;

	assert_int_equal(ebcc_context_new(&ctx), 0);
	r = ebcc_report_verify(ctx, "sgx", t->code.q, t->code.q_len,
			       json_object_to_json_string_ext(pol, JSON_C_TO_STRING_PLAIN), &out);
	if (r == 0 && claims != NULL)
		*claims = json_tokener_parse(out);
	ebcc_free(out);
	json_object_put(pol);
	ebcc_context_unref(ctx);
	return r;
}

/* The entered enclave's quote over report_data, verified by ebcc_report_verify() under the
 * fake's root with sgx pins; 0 or the error, *claims kept when asked. */
static int verify_quote(struct t *t, const struct ebcc__sgx_enclave *e, const char *mrenclave,
			bool allow_debug, struct json_object **claims)
{
	struct json_object *pol = json_object_new_object(), *bo = json_object_new_object();
	struct json_object *sgx = json_object_new_object();
	char hex[129];

	json_object_object_add(sgx, "root_ca", json_object_new_string(fake_sgx_root_pem(t->fake)));
	json_object_object_add(sgx, "mrenclave", json_object_new_string(mrenclave));
	ebcc__hex_encode(e->mrsigner, 32, hex);
	json_object_object_add(sgx, "mrsigner", json_object_new_string(hex));
	json_object_object_add(sgx, "isv_prod_id", json_object_new_int(1));
	ebcc__hex_encode(t->code.report_data, 64, hex);
	json_object_object_add(sgx, "report_data", json_object_new_string(hex));
	if (allow_debug)
		json_object_object_add(sgx, "allow_debug", json_object_new_boolean(1));
	json_object_object_add(bo, "sgx", sgx);
	json_object_object_add(pol, "backend_options", bo);
	return verify_policy(t, pol, claims);
}

static void quote_verifies(void **state)
{
	struct t *t = *state;
	struct ebcc__sgx_enclave e;
	struct json_object *claims = NULL, *v = NULL;
	char mr[65], buf[16];

	assert_int_equal(load(t, t->mrsigner, &e), 0);
	t->code.quote = true;
	for (int i = 0; i < 64; i++)
		t->code.report_data[i] = (uint8_t)(i * 3);
	assert_int_equal(ebcc__sgx_enclave_enter(&e, 0, buf, sizeof(buf)), 0);
	assert_non_null(t->code.q);
	ebcc__hex_encode(e.mrenclave, 32, mr);
	assert_int_equal(verify_quote(t, &e, mr, false, &claims), 0);
	assert_true(json_object_object_get_ex(claims, "mrenclave", &v));
	assert_string_equal(json_object_get_string(v), mr);
	assert_true(json_object_object_get_ex(claims, "root", &v));
	assert_string_equal(json_object_get_string(v), "Test SGX Root CA");
	json_object_put(claims);
	/* Pinned to another enclave: refused, saying which. */
	refused(verify_quote(t, &e, "0000000000000000000000000000000000000000000000000000000000000000",
			     false, NULL),
		EBCC_ERR_VERIFY, "SGX quote: MRENCLAVE expected 00000000");
	free(t->code.q);
	ebcc__sgx_enclave_destroy(&e);
	nothing_left(t);
}

/* A debug enclave (a SIGSTRUCT that asks for DEBUG, a SECS that has it): its quote says so. */
static void debug_quote(void **state)
{
	struct t *t = *state;
	struct ebcc__sgx_enclave e;
	char mr[65], buf[16];

	sign_with(&t->im->layout, t->signer, ATTR_MODE64BIT | ATTR_DEBUG, t->ss);
	t->secs.attributes |= ATTR_DEBUG;
	assert_int_equal(load(t, t->mrsigner, &e), 0);
	t->code.quote = true;
	assert_int_equal(ebcc__sgx_enclave_enter(&e, 0, buf, sizeof(buf)), 0);
	ebcc__hex_encode(e.mrenclave, 32, mr);
	refused(verify_quote(t, &e, mr, false, NULL), EBCC_ERR_VERIFY,
		"SGX quote: the enclave is a debug enclave (ATTRIBUTES.FLAGS 0x7 has DEBUG");
	assert_int_equal(verify_quote(t, &e, mr, true, NULL), 0);
	free(t->code.q);
	ebcc__sgx_enclave_destroy(&e);
	nothing_left(t);
}

/* ---- EREPORT, then the quoting enclave through Intel's quote library ------------------------ */

/* The enclave's REPORT over t->code.report_data for target, made inside an entry call. */
static void ereport(struct t *t, struct ebcc__sgx_enclave *e, const uint8_t *target)
{
	char buf[16];

	memcpy(t->code.target, target, EBCC_SGX_TARGETINFO_SIZE);
	t->code.ereport = true;
	assert_int_equal(ebcc__sgx_enclave_enter(e, 0, buf, sizeof(buf)), 0);
}

#define INVALID_REPORT                                                                         \
	"sgx_qe_get_quote_size or sgx_qe_get_quote: SGX_QL_INVALID_REPORT (0xe015): the QE "     \
	"refused the application enclave's REPORT: its MAC does not verify with the QE's report " \
	"key"

static void qe_quotes_report(void **state)
{
	struct t *t = *state;
	const struct ebcc__hostops *h = fake_sgx_host(t->fake);
	struct ebcc__sgx_enclave e;
	uint8_t target[EBCC_SGX_TARGETINFO_SIZE];
	char mr[65];

	assert_int_equal(load(t, t->mrsigner, &e), 0);
	assert_int_equal(ebcc__sgx_qe_target_info(h, target), 0);
	for (int i = 0; i < 64; i++)
		t->code.report_data[i] = (uint8_t)(0xa0 + i);
	ereport(t, &e, target);
	assert_memory_equal(t->code.report + EBCC_SGX_BODY_MRENCLAVE, e.mrenclave, 32);
	assert_memory_equal(t->code.report + EBCC_SGX_BODY_MRSIGNER, t->mrsigner, 32);
	assert_memory_equal(t->code.report + EBCC_SGX_BODY_REPORT_DATA, t->code.report_data, 64);
	assert_int_equal(ebcc__sgx_qe_quote(h, t->code.report, &t->code.q, &t->code.q_len), 0);
	/* The quote's body is the REPORT's; its QE report is of the enclave the TARGETINFO named
	 * (quote header 48, body 384, length 4, signature and key 128). */
	assert_memory_equal(t->code.q + 48, t->code.report, EBCC_SGX_REPORT_BODY_SIZE);
	assert_memory_equal(t->code.q + 436 + 128 + EBCC_SGX_BODY_MRENCLAVE, target, 32);
	/* Offline verification with the enclave and REPORTDATA pinned. */
	ebcc__hex_encode(e.mrenclave, 32, mr);
	assert_int_equal(verify_quote(t, &e, mr, false, NULL), 0);
	free(t->code.q);
	t->code.q = NULL;

	/* One byte of the body changed after EREPORT (another REPORTDATA). */
	t->code.report[EBCC_SGX_BODY_REPORT_DATA] ^= 1;
	refused(ebcc__sgx_qe_quote(h, t->code.report, &t->code.q, &t->code.q_len),
		EBCC_ERR_BACKEND, INVALID_REPORT);
	/* A REPORT for another TARGETINFO (another MRENCLAVE), with a MAC the QE cannot check. */
	target[0] ^= 1;
	ereport(t, &e, target);
	refused(ebcc__sgx_qe_quote(h, t->code.report, &t->code.q, &t->code.q_len),
		EBCC_ERR_BACKEND, INVALID_REPORT);
	assert_null(t->code.q);
	ebcc__sgx_enclave_destroy(&e);
	nothing_left(t);
}

static void qe_faults(void **state)
{
	struct t *t = *state;
	const struct ebcc__hostops *h = fake_sgx_host(t->fake);
	struct fake_sgx_faults *faults = fake_sgx_faults(t->fake);
	struct ebcc__sgx_enclave e;
	uint8_t target[EBCC_SGX_TARGETINFO_SIZE];

	faults->qe_absent = true;
	refused(ebcc__sgx_qe_target_info(h, target), EBCC_ERR_UNAVAILABLE,
		"sgx_qe_get_target_info: no libsgx_dcap_ql.so.1 with sgx_qe_get_target_info, "
		"sgx_qe_get_quote_size and sgx_qe_get_quote: Intel's DCAP quote library, not in "
		"Debian, which the sgx backend loads at run time");
	refused(ebcc__sgx_qe_quote(h, t->code.report, &t->code.q, &t->code.q_len),
		EBCC_ERR_UNAVAILABLE,
		"sgx_qe_get_quote_size or sgx_qe_get_quote: no libsgx_dcap_ql.so.1 with ");
	faults->qe_absent = false;

	/* The library's own errors on a REPORT the QE would quote: by name, or unknown by value. */
	assert_int_equal(load(t, NULL, &e), 0);
	assert_int_equal(ebcc__sgx_qe_target_info(h, target), 0);
	ereport(t, &e, target);
	faults->qe_error = 0xe00f;
	refused(ebcc__sgx_qe_quote(h, t->code.report, &t->code.q, &t->code.q_len),
		EBCC_ERR_BACKEND, "sgx_qe_get_quote_size or sgx_qe_get_quote: "
		"SGX_QL_ATT_KEY_NOT_INITIALIZED (0xe00f): the attestation key does not exist or is "
		"not certified");
	faults->qe_error = 0xe0fe;
	refused(ebcc__sgx_qe_quote(h, t->code.report, &t->code.q, &t->code.q_len),
		EBCC_ERR_BACKEND, "sgx_qe_get_quote: quote3_error_t 0xe0fe, unknown to libebcc");
	assert_null(t->code.q);
	faults->qe_error = 0;
	assert_int_equal(ebcc__sgx_qe_quote(h, t->code.report, &t->code.q, &t->code.q_len), 0);
	free(t->code.q);
	ebcc__sgx_enclave_destroy(&e);
	nothing_left(t);
}

/* ---- Intel's collateral for the quotes: TCB info "SGX" and QE identity "QE" ---------------- */

/* No real SGX collateral is at hand (../shared/realdata has TDX collateral only, which the TDX
 * tests use): these documents are written here in Intel's format (PCS API v4) and signed by a
 * test TCB signing certificate under the fake's root, with CRLs of the fake's root and
 * processor CA. */
struct coll {
	EVP_PKEY *tcb_key;
	char *tcb_chain, *ca_chain, *root_crl, *pck_crl, *root_pem;
	char mrsigner[65]; /* the QE report's */
	char issue[32], next[32], at[32];
	time_t now;
};

static void rfc3339(time_t t, char buf[32])
{
	struct tm tm;

	assert_non_null(gmtime_r(&t, &tm));
	assert_true(strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0);
}

static void coll_init(struct coll *c, struct t *t)
{
	X509 *root, *ca, *signer;
	EVP_PKEY *root_key, *ca_key;
	char *pem;

	fake_sgx_pki(t->fake, &root, &root_key, &ca, &ca_key);
	c->tcb_key = fake_pki_ec_key("P-256");
	signer = fake_pki_cert("Test SGX TCB Signing", c->tcb_key, root, root_key, false);
	pem = fake_pki_cert_pem(signer);
	c->root_pem = fake_pki_cert_pem(root);
	c->tcb_chain = malloc(strlen(pem) + strlen(c->root_pem) + 1);
	assert_non_null(c->tcb_chain);
	strcpy(c->tcb_chain, pem);
	strcat(c->tcb_chain, c->root_pem);
	free(pem);
	pem = fake_pki_cert_pem(ca);
	c->ca_chain = malloc(strlen(pem) + strlen(c->root_pem) + 1);
	assert_non_null(c->ca_chain);
	strcpy(c->ca_chain, pem);
	strcat(c->ca_chain, c->root_pem);
	c->root_crl = fake_pki_crl_pem(root, root_key, NULL, 0, -3600, 30 * 86400);
	c->pck_crl = fake_pki_crl_pem(ca, ca_key, NULL, 0, -3600, 30 * 86400);
	/* The QE report's MRSIGNER: quote header 48, body 384, length 4, signature and key 128. */
	ebcc__hex_encode(t->code.q + 436 + 128 + 128, 32, c->mrsigner);
	c->now = time(NULL);
	rfc3339(c->now - 86400, c->issue);
	rfc3339(c->now + 10 * 86400, c->next);
	rfc3339(c->now, c->at);
	free(pem);
	X509_free(signer);
}

static void coll_clear(struct coll *c)
{
	EVP_PKEY_free(c->tcb_key);
	free(c->tcb_chain);
	free(c->ca_chain);
	free(c->root_crl);
	free(c->pck_crl);
	free(c->root_pem);
}

/* One tcbLevels entry of an SGX TCB info: every component SVN svn. */
static void sgx_level(char *out, size_t size, unsigned svn, unsigned pcesvn, const char *status,
		      const char *date, const char *advisories)
{
	size_t n = (size_t)snprintf(out, size, "{\"tcb\":{\"sgxtcbcomponents\":[");

	for (int i = 0; i < 16; i++)
		n += (size_t)snprintf(out + n, size - n, "%s{\"svn\":%u}", i > 0 ? "," : "", svn);
	snprintf(out + n, size - n, "],\"pcesvn\":%u},\"tcbDate\":\"%s\",\"tcbStatus\":\"%s\","
		 "\"advisoryIDs\":[%s]}", pcesvn, date, status, advisories);
}

static char *tcb_info(const struct coll *c, const char *id, const char *fmspc, const char *levels)
{
	char *s = NULL;

	assert_true(asprintf(&s, "{\"id\":\"%s\",\"version\":3,\"issueDate\":\"%s\",\"nextUpdate\":"
			     "\"%s\",\"fmspc\":\"%s\",\"pceId\":\"0000\",\"tcbType\":0,"
			     "\"tcbEvaluationDataNumber\":17,\"tcbLevels\":[%s]}", id, c->issue,
			     c->next, fmspc, levels) > 0);
	return s;
}

static char *qe_identity(const struct coll *c, const char *mrsigner)
{
	char *s = NULL;

	assert_true(asprintf(&s, "{\"id\":\"QE\",\"version\":2,\"issueDate\":\"%s\",\"nextUpdate\":"
			     "\"%s\",\"tcbEvaluationDataNumber\":17,\"miscselect\":\"00000000\","
			     "\"miscselectMask\":\"FFFFFFFF\",\"attributes\":"
			     "\"11000000000000000000000000000000\",\"attributesMask\":"
			     "\"FBFFFFFFFFFFFFFF0000000000000000\",\"mrsigner\":\"%s\","
			     "\"isvprodid\":1,\"tcbLevels\":[{\"tcb\":{\"isvsvn\":8},\"tcbDate\":"
			     "\"2024-03-13T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}",
			     c->issue, c->next, mrsigner) > 0);
	return s;
}

static char *sign_hex(const struct coll *c, const char *text)
{
	uint8_t sig[64];
	char *hex = malloc(129);

	assert_non_null(hex);
	fake_pki_ecdsa_sign_raw(c->tcb_key, "SHA256", (const uint8_t *)text, strlen(text), sig,
				sig + 32, 32, false);
	ebcc__hex_encode(sig, 64, hex);
	return hex;
}

/* backend_options.sgx.collateral for these documents (taken), each signed as it is. */
static struct json_object *collateral(const struct coll *c, char *tcb, char *qe)
{
	struct json_object *o = json_object_new_object();
	char *tcb_sig = sign_hex(c, tcb), *qe_sig = sign_hex(c, qe);

	json_object_object_add(o, "tcb_info", json_object_new_string(tcb));
	json_object_object_add(o, "tcb_info_signature", json_object_new_string(tcb_sig));
	json_object_object_add(o, "tcb_info_issuer_chain", json_object_new_string(c->tcb_chain));
	json_object_object_add(o, "qe_identity", json_object_new_string(qe));
	json_object_object_add(o, "qe_identity_signature", json_object_new_string(qe_sig));
	json_object_object_add(o, "qe_identity_issuer_chain", json_object_new_string(c->tcb_chain));
	json_object_object_add(o, "pck_crl", json_object_new_string(c->pck_crl));
	json_object_object_add(o, "pck_crl_issuer_chain", json_object_new_string(c->ca_chain));
	json_object_object_add(o, "root_ca_crl", json_object_new_string(c->root_crl));
	free(tcb_sig);
	free(qe_sig);
	free(tcb);
	free(qe);
	return o;
}

/* The quote under the fake's root with coll as backend_options.sgx.collateral (taken), the
 * accepted statuses (NULL: the default) at verification time at; 0 or the error. */
static int verify_collateral(struct t *t, const struct coll *c, struct json_object *coll,
			     const char *tcb_status, const char *at, struct json_object **claims)
{
	struct json_object *pol = json_object_new_object(), *bo = json_object_new_object();
	struct json_object *sgx = json_object_new_object();

	json_object_object_add(sgx, "root_ca", json_object_new_string(c->root_pem));
	json_object_object_add(sgx, "collateral", coll);
	if (tcb_status != NULL)
		json_object_object_add(sgx, "tcb_status", json_tokener_parse(tcb_status));
	json_object_object_add(bo, "sgx", sgx);
	json_object_object_add(pol, "backend_options", bo);
	json_object_object_add(pol, "verification_time", json_object_new_string(at));
	return verify_policy(t, pol, claims);
}

static const char *claim(struct json_object *claims, const char *key)
{
	struct json_object *v = NULL;

	if (!json_object_object_get_ex(claims, key, &v))
		fail_msg("no \"%s\" in the claims", key);
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

static void collateral_checked(void **state)
{
	struct t *t = *state;
	struct ebcc__sgx_enclave e;
	struct json_object *claims = NULL, *coll_obj;
	struct coll c;
	char up[1024], old[1024], high[1024], levels[2100], buf[16], later[32], msg[256], mr[65];
	char other_qe[65];

	assert_int_equal(load(t, t->mrsigner, &e), 0);
	t->code.quote = true;
	assert_int_equal(ebcc__sgx_enclave_enter(&e, 0, buf, sizeof(buf)), 0);
	coll_init(&c, t);
	sgx_level(up, sizeof(up), FAKE_SGX_TCB_SVN, FAKE_SGX_PCESVN, "UpToDate",
		  "2024-03-13T00:00:00Z", "");
	sgx_level(high, sizeof(high), FAKE_SGX_TCB_SVN + 1, FAKE_SGX_PCESVN, "UpToDate",
		  "2024-11-13T00:00:00Z", "");
	sgx_level(old, sizeof(old), FAKE_SGX_TCB_SVN, FAKE_SGX_PCESVN, "OutOfDate",
		  "2023-08-09T00:00:00Z", "\"INTEL-SA-00837\",\"INTEL-SA-00615\"");

	/* Up to date: the verdict says what the collateral said, and no longer lists it. */
	assert_int_equal(verify_collateral(t, &c, collateral(&c, tcb_info(&c, "SGX",
							FAKE_SGX_FMSPC_HEX, up),
							qe_identity(&c, c.mrsigner)),
					   NULL, c.at, &claims), 0);
	assert_string_equal(claim(claims, "tcb_status"), "\"UpToDate\"");
	assert_string_equal(claim(claims, "qe_tcb_status"), "\"UpToDate\"");
	assert_string_equal(claim(claims, "tcb_date"), "\"2024-03-13T00:00:00Z\"");
	assert_string_equal(claim(claims, "fmspc"), "\"" FAKE_SGX_FMSPC_HEX "\"");
	assert_string_equal(claim(claims, "tcb_evaluation_data_number"), "17");
	assert_string_equal(claim(claims, "advisory_ids"), "[]");
	assert_non_null(strstr(claim(claims, "revocation"), "PCK certificate not revoked"));
	assert_null(strstr(claim(claims, "not_verified"), "TCB info"));
	assert_null(strstr(claim(claims, "not_verified"), "QE identity"));
	json_object_put(claims);

	/* OutOfDate (the newer level is above the PCK certificate): refused naming the status
	 * and its advisories, unless the policy accepts it. */
	snprintf(levels, sizeof(levels), "%s,%s", high, old);
	refused(verify_collateral(t, &c, collateral(&c, tcb_info(&c, "SGX", FAKE_SGX_FMSPC_HEX,
								 levels),
						    qe_identity(&c, c.mrsigner)),
				  NULL, c.at, NULL),
		EBCC_ERR_VERIFY, "collateral: the TCB status is OutOfDate (TCB level of "
		"2023-08-09T00:00:00Z, QE UpToDate; advisories: INTEL-SA-00837, INTEL-SA-00615), "
		"which backend_options.sgx.tcb_status does not accept");
	assert_int_equal(verify_collateral(t, &c, collateral(&c, tcb_info(&c, "SGX",
							FAKE_SGX_FMSPC_HEX, levels),
							qe_identity(&c, c.mrsigner)),
					   "[\"UpToDate\", \"OutOfDate\"]", c.at, &claims), 0);
	assert_string_equal(claim(claims, "tcb_status"), "\"OutOfDate\"");
	assert_string_equal(claim(claims, "advisory_ids"),
			    "[\"INTEL-SA-00837\",\"INTEL-SA-00615\"]");
	json_object_put(claims);

	/* The PCK certificate's TCB below every level. */
	refused(verify_collateral(t, &c, collateral(&c, tcb_info(&c, "SGX", FAKE_SGX_FMSPC_HEX,
								 high),
						    qe_identity(&c, c.mrsigner)),
				  NULL, c.at, NULL),
		EBCC_ERR_VERIFY, "collateral.tcb_info: no TCB level of TCB info matches the PCK "
		"certificate's SGX TCB component SVNs and PCESVN 13");

	/* Another platform's TCB info. */
	refused(verify_collateral(t, &c, collateral(&c, tcb_info(&c, "SGX", "00906ed50001", up),
						    qe_identity(&c, c.mrsigner)),
				  NULL, c.at, NULL),
		EBCC_ERR_VERIFY, "collateral.tcb_info: fmspc 00906ed50001 is not the PCK "
		"certificate's " FAKE_SGX_FMSPC_HEX);

	/* Another QE's identity. */
	memset(other_qe, '0', 64);
	other_qe[64] = '\0';
	refused(verify_collateral(t, &c, collateral(&c, tcb_info(&c, "SGX", FAKE_SGX_FMSPC_HEX,
								 up),
						    qe_identity(&c, other_qe)),
				  NULL, c.at, NULL),
		EBCC_ERR_VERIFY,
		"collateral.qe_identity: mrsigner is not the QE report's MRSIGNER");

	/* One byte of the TCB info changed after it was signed. */
	coll_obj = collateral(&c, tcb_info(&c, "SGX", FAKE_SGX_FMSPC_HEX, up),
			      qe_identity(&c, c.mrsigner));
	{
		char *text = strdup(json_object_get_string(json_object_object_get(coll_obj,
										  "tcb_info")));
		char *at = strstr(text, "\"tcbEvaluationDataNumber\":17");

		at[strlen("\"tcbEvaluationDataNumber\":1")] = '8';
		json_object_object_add(coll_obj, "tcb_info", json_object_new_string(text));
		free(text);
	}
	refused(verify_collateral(t, &c, coll_obj, NULL, c.at, NULL), EBCC_ERR_VERIFY,
		"collateral.tcb_info: the signature does not verify with the first certificate of "
		"collateral.tcb_info_issuer_chain");

	/* After the TCB info's nextUpdate (the CRLs are current for longer). */
	rfc3339(c.now + 20 * 86400, later);
	snprintf(msg, sizeof(msg), "collateral.tcb_info is valid from %s to %s (issueDate to "
		 "nextUpdate), not at %s", c.issue, c.next, later);
	refused(verify_collateral(t, &c, collateral(&c, tcb_info(&c, "SGX", FAKE_SGX_FMSPC_HEX,
								 up),
						    qe_identity(&c, c.mrsigner)),
				  NULL, later, NULL),
		EBCC_ERR_VERIFY, msg);

	/* A TDX quote's TCB info, even signed by the right key. */
	refused(verify_collateral(t, &c, collateral(&c, tcb_info(&c, "TDX", FAKE_SGX_FMSPC_HEX,
								 up),
						    qe_identity(&c, c.mrsigner)),
				  NULL, c.at, NULL),
		EBCC_ERR_VERIFY, "collateral.tcb_info: id \"TDX\" is not \"SGX\"");

	/* A key collateral does not know: refused by name before any quote is read. */
	coll_obj = collateral(&c, tcb_info(&c, "SGX", FAKE_SGX_FMSPC_HEX, up),
			      qe_identity(&c, c.mrsigner));
	json_object_object_add(coll_obj, "tcb_infos", json_object_new_string("{}"));
	refused(verify_collateral(t, &c, coll_obj, NULL, c.at, NULL), EBCC_ERR_VERIFY,
		"policy: backend_options.sgx.collateral: unknown key \"tcb_infos\"");
	refused(verify_collateral(t, &c, collateral(&c, tcb_info(&c, "SGX", FAKE_SGX_FMSPC_HEX,
								 up),
						    qe_identity(&c, c.mrsigner)),
				  "[\"Revoked\"]", c.at, NULL),
		EBCC_ERR_VERIFY, "policy: backend_options.sgx.tcb_status[0] is \"Revoked\"");

	/* Without collateral, the verdict still says the TCB was not checked. */
	ebcc__hex_encode(e.mrenclave, 32, mr);
	assert_int_equal(verify_quote(t, &e, mr, false, &claims), 0);
	assert_non_null(strstr(claim(claims, "not_verified"), "Intel's TCB info"));
	assert_null(json_object_object_get(claims, "tcb_status"));
	json_object_put(claims);

	coll_clear(&c);
	free(t->code.q);
	ebcc__sgx_enclave_destroy(&e);
	nothing_left(t);
}

/* ---- the fake's own rules, without the driver's checks before it -------------------------- */

static int ioc(struct t *t, int fd, unsigned long request, void *arg)
{
	const struct ebcc__hostops *h = fake_sgx_host(t->fake);

	return h->ioctl(fd, request, arg, h->userdata);
}

static void fake_rules(void **state)
{
	struct t *t = *state;
	const struct ebcc__hostops *h = fake_sgx_host(t->fake);
	_Alignas(4096) static uint8_t secs[PAGE], page[PAGE];
	_Alignas(64) uint8_t secinfo[64] = { 0 };
	struct sgx_enclave_create create = { (uint64_t)(uintptr_t)secs };
	struct sgx_enclave_add_pages add = { (uint64_t)(uintptr_t)page, 0, PAGE,
					     (uint64_t)(uintptr_t)secinfo, SGX_PAGE_MEASURE, 0 };
	struct sgx_enclave_init init = { (uint64_t)(uintptr_t)t->ss };
	void *res = NULL, *p = NULL;
	uint64_t base;
	int fd = h->open("/dev/sgx_enclave", O_RDWR, 0, h->userdata);

	assert_true(fd >= 0);
	assert_int_equal(h->mmap_at(NULL, 0x10000, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0,
				    &res, h->userdata), 0);
	base = ((uint64_t)(uintptr_t)res + 0x7fff) & ~UINT64_C(0x7fff);
	/* Order: nothing before CREATE. */
	secinfo[0] = 0x03;
	secinfo[1] = 0x02; /* REG, RW */
	assert_int_equal(ioc(t, fd, SGX_IOC_ENCLAVE_ADD_PAGES, &add), -EINVAL);
	assert_int_equal(ioc(t, fd, SGX_IOC_ENCLAVE_INIT, &init), -EINVAL);
	/* Sizes: not a power of two, then ECREATE's fault for a misaligned base. */
	image_put64(secs, 0x6000);
	image_put64(secs + 8, base);
	secs[16] = 1;
	secs[48] = ATTR_MODE64BIT;
	secs[56] = 3;
	assert_int_equal(ioc(t, fd, SGX_IOC_ENCLAVE_CREATE, &create), -EINVAL);
	image_put64(secs, 0x8000);
	image_put64(secs + 8, base + PAGE);
	assert_int_equal(ioc(t, fd, SGX_IOC_ENCLAVE_CREATE, &create), -EIO);
	image_put64(secs + 8, base);
	assert_int_equal(ioc(t, fd, SGX_IOC_ENCLAVE_CREATE, &create), 0);
	assert_int_equal(ioc(t, fd, SGX_IOC_ENCLAVE_CREATE, &create), -EINVAL);
	/* ADD_PAGES: alignment, range, SECINFO, twice. */
	add.src += 1;
	assert_int_equal(ioc(t, fd, SGX_IOC_ENCLAVE_ADD_PAGES, &add), -EINVAL);
	add.src -= 1;
	add.offset = 0x8000;
	assert_int_equal(ioc(t, fd, SGX_IOC_ENCLAVE_ADD_PAGES, &add), -EINVAL);
	add.offset = PAGE;
	secinfo[0] = 0x02; /* W without R */
	assert_int_equal(ioc(t, fd, SGX_IOC_ENCLAVE_ADD_PAGES, &add), -EINVAL);
	secinfo[0] = 0x01;
	secinfo[1] = 0x01; /* a TCS with permissions */
	assert_int_equal(ioc(t, fd, SGX_IOC_ENCLAVE_ADD_PAGES, &add), -EINVAL);
	secinfo[0] = 0x03;
	secinfo[1] = 0x02;
	assert_int_equal(ioc(t, fd, SGX_IOC_ENCLAVE_ADD_PAGES, &add), 0);
	assert_int_equal(add.count, PAGE);
	assert_int_equal(ioc(t, fd, SGX_IOC_ENCLAVE_ADD_PAGES, &add), -EBUSY);
	assert_int_equal(add.count, 0);
	/* EINIT recomputes MRENCLAVE from these pages: the image's SIGSTRUCT does not match. */
	assert_int_equal(ioc(t, fd, SGX_IOC_ENCLAVE_INIT, &init), -EPERM);
	assert_int_equal(fake_sgx_last_einit(t->fake), FAKE_SGX_INVALID_MEASUREMENT);
	t->ss[EBCC_SGX_SS_SIGNATURE] ^= 1;
	assert_int_equal(ioc(t, fd, SGX_IOC_ENCLAVE_INIT, &init), -EPERM);
	assert_int_equal(fake_sgx_last_einit(t->fake), FAKE_SGX_INVALID_SIGNATURE);
	t->ss[EBCC_SGX_SS_VENDOR] = 1;
	assert_int_equal(ioc(t, fd, SGX_IOC_ENCLAVE_INIT, &init), -EINVAL);
	/* mmap: shared only, within the pages' permissions. */
	assert_int_equal(h->mmap_at((void *)(uintptr_t)(base + PAGE), PAGE, PROT_READ,
				    MAP_PRIVATE | MAP_FIXED, fd, 0, &p, h->userdata), -EINVAL);
	assert_int_equal(h->mmap_at((void *)(uintptr_t)(base + PAGE), PAGE, PROT_READ | PROT_EXEC,
				    MAP_SHARED | MAP_FIXED, fd, 0, &p, h->userdata), -EACCES);
	assert_int_equal(h->mmap_at((void *)(uintptr_t)(base + PAGE), PAGE, PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_FIXED, fd, 0, &p, h->userdata), 0);
	assert_int_equal(h->munmap(res, 0x10000, h->userdata), 0);
	assert_int_equal(h->close(fd, h->userdata), 0);
	nothing_left(t);
}

/* ---- the real system's operations on this host -------------------------------------------- */

static void system_vdso(void **state)
{
	struct timespec a, b;
	void *p = ebcc__vdso_symbol("__vdso_clock_gettime");
	int (*gettime)(clockid_t, struct timespec *);
	struct sgx_enclave_run run = { 0 };

	(void)state;
	if (getauxval(AT_SYSINFO_EHDR) == 0) {
		/* No vDSO (valgrind hides it): nothing is found, nothing can be entered. */
		assert_null(p);
		assert_null(ebcc__vdso_symbol("__vdso_sgx_enter_enclave"));
	} else {
		/* The lookup works on this vDSO (x86-64 exports __vdso_clock_gettime)... */
		assert_non_null(p);
		memcpy(&gettime, &p, sizeof(p));
		assert_int_equal(clock_gettime(CLOCK_REALTIME, &a), 0);
		assert_int_equal(gettime(CLOCK_REALTIME, &b), 0);
		assert_true(b.tv_sec - a.tv_sec <= 1);
		assert_null(ebcc__vdso_symbol("__vdso_no_such_function"));
	}
	/* ...and the enter operation is unavailable exactly when there is no SGX entry. */
	if (ebcc__vdso_symbol("__vdso_sgx_enter_enclave") == NULL)
		assert_int_equal(ebcc__host_sgx_enter(ebcc__hostops_system(), 0, 0, 0, 2, 0, 0, &run),
				 -ENOSYS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(load_enter_destroy, setup, teardown),
		cmocka_unit_test_setup_teardown(add_interrupted, setup, teardown),
		cmocka_unit_test_setup_teardown(wrong_mrenclave, setup, teardown),
		cmocka_unit_test_setup_teardown(foreign_key, setup, teardown),
		cmocka_unit_test_setup_teardown(einit_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(ecreate_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(no_device, setup, teardown),
		cmocka_unit_test_setup_teardown(enclave_exception, setup, teardown),
		cmocka_unit_test_setup_teardown(quote_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(debug_quote, setup, teardown),
		cmocka_unit_test_setup_teardown(qe_quotes_report, setup, teardown),
		cmocka_unit_test_setup_teardown(qe_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(collateral_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(fake_rules, setup, teardown),
		cmocka_unit_test(system_vdso),
	};

	return cmocka_run_group_tests_name("sgx driver", tests, group_setup, group_teardown);
}
