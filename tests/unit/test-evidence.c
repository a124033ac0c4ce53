/* SPDX-License-Identifier: MIT */
/*
 * White-box: the binding (report_data), the evidence envelope (constructor, serialise, strict
 * parse), the policy and ebcc_evidence_verify(), with reports from the testtee backend
 * (tests/api/testtee.c) so that nothing depends on a real or simulated TEE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "ebcc-private.h"
#include "testtee.h"

/* The test vectors' inputs; the outputs were computed independently with Python's hashlib
 * (tests/python/test_evidence.py recomputes them). */
#define M1 "sha256:737df3b18430aaf0c1f11f9409d70b513becef5736653bf30f35d93e4d3458e0"
#define M1_RD                                                                                  \
	"f16102f359457b4f5dc229182b81760875eecb18d66837acf3ef51f04254bdcc2d9e1767fcb7ca098541c2" \
	"24f0b648eda899b88099cc18068074a6a0c0433e8e"
/* The same binding as evidence version 1 ("EBCC-EVIDENCE-V1"), which the host bound. */
#define M1_RD_V1                                                                               \
	"5c83443c44f2788a700b1c9a74fd2f09de67b02275bd571ca9f1bec1ccdd43a098c873e3e4118da90e3ad9" \
	"ef6b819f6e01d783211e973a670f8ddbcbffd8d9c2"
/* The same binding as evidence version 3, with the public key 0x20 0x21 ... 0x3f. */
#define M1_RD_V3                                                                               \
	"4aca34dbf4ceda23d726442b941dcbe2cf37ad32a07de806c8d7cd1f62c5c787859d40204a3e1625fd8779" \
	"3482c23fb05320c928373eb27e5fbc302563904261"
#define M2 "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define M2_RD                                                                                  \
	"ab132be61d3d08210a334b5a9562bac35fe5891267ae881342b7921085b725b6fb1f12c0f7aae3bf5b7b44" \
	"c1d383099feeb25d7e38fed8c0b02d1cc7726c5689"
#define NONCE_HEX "000102030405060708090a0b0c0d0e0f"
#define REQ_DIGEST "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
#define RESP_DIGEST "sha256:486ea46224d1bb4fb680f34f7c9ad96a8f24ec88be73ea8e5a6c65260e9cb8a7"
/* As evidence version 4, with the image digest 0x40 0x41 ... 0x5f, without a key and with the
 * key above. */
#define M1_RD_V4                                                                               \
	"dcc1b3a6d3d94d5c2dad9f4713865c3ed48d68881e95b1119969d81301d0dd01e858bc45b3a1bd7cdfe2ab" \
	"b51dfa33b21827b6c5c807694bbd4e573e65c693d7"
#define M1_RD_V4_KEYED                                                                         \
	"73b23a4122f0b66a80dfdeb254f25fca2f7649be9f8d1ea4d48a7a837c611454d8915574552422d6ca9053" \
	"8344c0154598548c36993f4cb7dc465c5b0d3845ec"

static struct ebcc_context *ctx;
static struct testtee *tt;
static struct testtee *other_tt; /* a second key, never trusted by the good policy */
static char *good_policy;

/* ---- helpers -------------------------------------------------------------------------------- */

static void hex_to_bytes(const char *hex, uint8_t *out, size_t size)
{
	size_t n = 0;

	assert_int_equal(ebcc__hex_decode(hex, strlen(hex), out, size, &n), 0);
	assert_int_equal(n, size);
}

static void default_binding(struct ebcc_binding *b, uint8_t nonce[16])
{
	for (int i = 0; i < 16; i++)
		nonce[i] = (uint8_t)i;
	*b = (struct ebcc_binding){
		.instance = "demo-1",
		.stage = "scorer",
		.eid = 7,
		.seq = 42,
		.measurement = M1,
		.nonce = nonce,
		.nonce_len = 16,
	};
	assert_int_equal(ebcc__sha256("hello", 5, b->request_digest), 0);
	assert_int_equal(ebcc__sha256("world", 5, b->response_digest), 0);
}

/* Evidence for binding b, reported by signer with report_data computed from b. */
static struct ebcc_evidence *make_evidence_for(const struct ebcc_binding *b, const char *backend,
					       const char *format, bool simulated,
					       struct testtee *signer)
{
	struct ebcc_evidence_fields f = {
		.backend = backend, .format = format, .simulated = simulated, .binding = *b,
	};
	struct ebcc_evidence *ev = NULL;
	uint8_t *report = NULL;

	assert_int_equal(ebcc__binding_report_data(b, f.report_data), 0);
	assert_int_equal(testtee_report(signer, f.report_data, b->measurement, b->eid, &report,
					&f.report_len), 0);
	f.report = report;
	assert_int_equal(ebcc__evidence_new(&f, &ev), 0);
	free(report);
	return ev;
}

static struct ebcc_evidence *make_evidence(void)
{
	struct ebcc_binding b;
	uint8_t nonce[16];

	default_binding(&b, nonce);
	return make_evidence_for(&b, "testtee", "ebcc.testtee.v1", false, tt);
}

__attribute__((noinline)) static char *serialize(struct ebcc_evidence *ev)
{
	char *json = NULL;

	assert_int_equal(ebcc_evidence_serialize(ev, &json), 0);
	return json;
}

/* A policy text with the good policy's keys, edited: key = value (JSON text), or removed when
 * value is NULL. */
static char *policy_with(const char *key, const char *value)
{
	struct json_object *p = json_tokener_parse(good_policy);
	char *text;

	assert_non_null(p);
	if (value == NULL)
		json_object_object_del(p, key);
	else
		json_object_object_add(p, key, json_tokener_parse(value));
	text = strdup(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN));
	json_object_put(p);
	return text;
}

#define assert_contains(haystack, needle)                                                    \
	do {                                                                                 \
		if (strstr((haystack), (needle)) == NULL)                                    \
			fail_msg("\"%s\" does not contain \"%s\"", (haystack), (needle));     \
	} while (0)

/* Parsing text fails with EBCC_ERR_VERIFY (or code) naming `field` and returns nothing. */
static void parse_fails_code(const char *text, size_t len, int code, const char *field)
{
	struct ebcc_evidence *ev = NULL;
	int r = ebcc_evidence_parse(ctx, text, len, &ev);

	if (r != code)
		fail_msg("parse of <%.*s> gave %s (%s), expected %s", (int)(len > 300 ? 300 : len),
			 text, ebcc_error_name(r), ebcc_last_error_message(), ebcc_error_name(code));
	assert_null(ev);
	if (field != NULL)
		assert_contains(ebcc_last_error_message(), field);
}

static void parse_fails(const char *text, const char *field)
{
	parse_fails_code(text, strlen(text), EBCC_ERR_VERIFY, field);
}

/* text with the first occurrence of old replaced by new (malloc). */
static char *replace(const char *text, const char *old, const char *new)
{
	const char *at = strstr(text, old);
	size_t a, o = strlen(old), n = strlen(new);
	char *out;

	assert_non_null(at);
	a = (size_t)(at - text);
	out = malloc(strlen(text) - o + n + 1);
	assert_non_null(out);
	memcpy(out, text, a);
	memcpy(out + a, new, n);
	strcpy(out + a + n, at + o);
	return out;
}

static void parse_fails_replaced(const char *good, const char *old, const char *new,
				 const char *field)
{
	char *text = replace(good, old, new);

	parse_fails(text, field);
	free(text);
}

static int verify_policy(struct ebcc_evidence *ev, const char *policy)
{
	return ebcc_evidence_verify(ctx, ev, policy);
}

static void verify_fails(struct ebcc_evidence *ev, const char *policy, int code,
			 const char *field)
{
	int r = verify_policy(ev, policy);

	if (r != code)
		fail_msg("verify gave %s (%s), expected %s", ebcc_error_name(r),
			 ebcc_last_error_message(), ebcc_error_name(code));
	if (field != NULL)
		assert_contains(ebcc_last_error_message(), field);
}

/* ---- backends without a verifier, and ones that misbehave ------------------------------------ */

static int plain_probe(const struct ebcc_backend_env *env, char **ret, void *userdata)
{
	(void)env, (void)ret, (void)userdata;
	return 1;
}

static int plain_load(const struct ebcc_backend_env *env,
		      const struct ebcc_backend_stage_params *params, struct ebcc_backend_stage *ret,
		      void *userdata)
{
	(void)env, (void)params, (void)ret, (void)userdata;
	return EBCC_ERR_UNAVAILABLE;
}

static int plain_invoke(const struct ebcc_backend_env *env, void *handle,
			const struct ebcc_backend_binding *binding, const void *request, size_t len,
			struct ebcc_backend_invocation *ret, void *userdata)
{
	(void)env, (void)handle, (void)binding, (void)request, (void)len, (void)ret;
	(void)userdata;
	return EBCC_ERR_UNAVAILABLE;
}

static int plain_unload(const struct ebcc_backend_env *env, void *handle, void *userdata)
{
	(void)env, (void)handle, (void)userdata;
	return 0;
}

/* "echo": the report is report_data itself; verifies without keys (to test empty policies). */
static int echo_verify(const struct ebcc_backend_env *env,
		       const struct ebcc_backend_report_check *check, char **ret_verdict,
		       void *userdata)
{
	(void)ret_verdict, (void)userdata;
	if (check->report_len != check->report_data_len ||
	    memcmp(check->report, check->report_data, check->report_len) != 0) {
		env->set_error("report: is not report_data", env->host);
		return EBCC_ERR_VERIFY;
	}
	return 0;
}

/* "broken": fails with what userdata says, without a message. */
static int broken_verify(const struct ebcc_backend_env *env,
			 const struct ebcc_backend_report_check *check, char **ret_verdict,
			 void *userdata)
{
	(void)env, (void)check;
	*ret_verdict = NULL;
	return (int)(intptr_t)userdata;
}

static void register_plain(const char *name, const char *format,
			   int (*verify)(const struct ebcc_backend_env *,
					 const struct ebcc_backend_report_check *, char **, void *),
			   void *userdata)
{
	struct ebcc_backend_ops ops = {
		.size = sizeof(ops),
		.abi_version = EBCC_BACKEND_ABI_VERSION,
		.name = name,
		.isolation = EBCC_ISOLATION_ENCLAVE,
		.evidence_format = format,
		.max_report_data = EBCC_REPORT_DATA_SIZE,
		.probe = plain_probe,
		.stage_load = plain_load,
		.stage_invoke = plain_invoke,
		.stage_unload = plain_unload,
		.verify_report = verify,
	};

	assert_int_equal(ebcc_backend_register(ctx, &ops, userdata), 0);
}

static int setup(void **state)
{
	struct json_object *p, *keys;

	(void)state;
	if (ebcc_context_new(&ctx) < 0)
		return -1;
	tt = testtee_new();
	other_tt = testtee_new();
	if (tt == NULL || other_tt == NULL ||
	    testtee_register(tt, ctx, "testtee", "ebcc.testtee.v1", 0) < 0 ||
	    testtee_register(tt, ctx, "testtee-sim", "ebcc.testtee-sim.v1",
			     EBCC_BACKEND_SIMULATED) < 0)
		return -1;
	register_plain("noverify", "ebcc.noverify.v1", NULL, NULL);
	register_plain("echo", "ebcc.echo.v1", echo_verify, NULL);
	register_plain("broken-backend", "ebcc.broken.v1", broken_verify,
		       (void *)(intptr_t)EBCC_ERR_BACKEND);
	register_plain("broken-positive", "ebcc.broken.v1", broken_verify, (void *)(intptr_t)1);

	p = json_object_new_object();
	keys = json_object_new_array();
	json_object_array_add(keys, json_object_new_string(testtee_public_pem(tt)));
	json_object_object_add(p, "trusted_keys", keys);
	json_object_object_add(p, "measurement", json_object_new_string(M1));
	json_object_object_add(p, "nonce", json_object_new_string(NONCE_HEX));
	json_object_object_add(p, "request_digest", json_object_new_string(REQ_DIGEST));
	json_object_object_add(p, "response_digest", json_object_new_string(RESP_DIGEST));
	good_policy = strdup(json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN));
	json_object_put(p);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ebcc_context_unref(ctx);
	testtee_free(tt);
	testtee_free(other_tt);
	free(good_policy);
	return 0;
}

/* ---- the binding ------------------------------------------------------------------------------ */

static void binding_vectors(void **state)
{
	struct ebcc_binding b;
	uint8_t nonce[16], out[EBCC_REPORT_DATA_SIZE], want[EBCC_REPORT_DATA_SIZE];

	(void)state;
	default_binding(&b, nonce);
	assert_int_equal(ebcc__binding_report_data(&b, out), 0);
	hex_to_bytes(M1_RD, want, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	b.version = EBCC_EVIDENCE_VERSION_HOST_BOUND;
	assert_int_equal(ebcc__binding_report_data(&b, out), 0);
	hex_to_bytes(M1_RD_V1, want, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
	{
		uint8_t pk[32];

		for (int i = 0; i < 32; i++)
			pk[i] = (uint8_t)(32 + i);
		b.version = EBCC_EVIDENCE_VERSION_KEYED;
		b.public_key = pk;
		assert_int_equal(ebcc__binding_report_data(&b, out), 0);
		hex_to_bytes(M1_RD_V3, want, sizeof(want));
		assert_memory_equal(out, want, sizeof(want));
		b.public_key = NULL; /* version 3 needs its key */
		assert_int_equal(ebcc__binding_report_data(&b, out), EBCC_ERR_INVALID_ARG);
	}
	{
		uint8_t pk[32], image[32];

		for (int i = 0; i < 32; i++) {
			pk[i] = (uint8_t)(32 + i);
			image[i] = (uint8_t)(64 + i);
		}
		b.version = EBCC_EVIDENCE_VERSION_IMAGE;
		b.image_digest = image;
		assert_int_equal(ebcc__binding_report_data(&b, out), 0);
		hex_to_bytes(M1_RD_V4, want, sizeof(want));
		assert_memory_equal(out, want, sizeof(want));
		b.public_key = pk;
		assert_int_equal(ebcc__binding_report_data(&b, out), 0);
		hex_to_bytes(M1_RD_V4_KEYED, want, sizeof(want));
		assert_memory_equal(out, want, sizeof(want));
		b.image_digest = NULL; /* version 4 needs its digest */
		assert_int_equal(ebcc__binding_report_data(&b, out), EBCC_ERR_INVALID_ARG);
		b.public_key = NULL;
		b.version = EBCC_EVIDENCE_VERSION;
	}

	b = (struct ebcc_binding){ .instance = "x", .stage = "s", .eid = 0, .seq = 1,
				   .measurement = M2, .nonce = NULL, .nonce_len = 0 };
	assert_int_equal(ebcc__sha256("", 0, b.request_digest), 0);
	assert_int_equal(ebcc__sha256("", 0, b.response_digest), 0);
	assert_int_equal(ebcc__binding_report_data(&b, out), 0);
	hex_to_bytes(M2_RD, want, sizeof(want));
	assert_memory_equal(out, want, sizeof(want));
}

/* Every field, and where one field ends and the next begins, changes report_data. */
static void binding_covers_every_field(void **state)
{
	struct ebcc_binding base, b;
	uint8_t nonce[16], nonce2[16], ref[EBCC_REPORT_DATA_SIZE], out[EBCC_REPORT_DATA_SIZE];

	(void)state;
	default_binding(&base, nonce);
	memcpy(nonce2, nonce, sizeof(nonce2));
	nonce2[15] ^= 1;
	assert_int_equal(ebcc__binding_report_data(&base, ref), 0);
	for (int field = 0; field < 11; field++) {
		b = base;
		switch (field) {
		case 0: b.instance = "demo-2"; break;
		case 1: b.stage = "scorer2"; break;
		case 2: b.eid = 8; break;
		case 3: b.seq = 43; break;
		case 4: b.measurement = M2; break;
		case 5: b.nonce = nonce2; break;
		case 6: b.nonce_len = 15; break;
		case 7: b.request_digest[0] ^= 1; break;
		case 8: b.response_digest[31] ^= 0x80; break;
		case 9: b.instance = "demo-1s"; b.stage = "corer"; break; /* boundary moved */
		case 10: b.eid = 42; b.seq = 7; break;                    /* fields swapped */
		}
		assert_int_equal(ebcc__binding_report_data(&b, out), 0);
		if (memcmp(out, ref, sizeof(out)) == 0)
			fail_msg("changing field case %d left report_data unchanged", field);
	}
	b = base;
	b.stage = NULL;
	assert_int_equal(ebcc__binding_report_data(&b, out), EBCC_ERR_INVALID_ARG);
}

/* ---- the constructor ---------------------------------------------------------------------------- */

static void new_checks_fields(void **state)
{
	static const struct {
		int field;
		const char *value;
		const char *name;
	} bad[] = {
		{ 0, "Sim", "backend" },	   { 0, "", "backend" },
		{ 0, "a-very-long-backend-name-of-33-ch", "backend" },
		{ 1, "", "format" },		   { 1, "ebcc sim", "format" },
		{ 1, "a\"b", "format" },	   { 2, "", "instance" },
		{ 2, ".", "instance" },	   { 2, "..", "instance" },
		{ 2, "a/b", "instance" },	   { 2, "a b", "instance" },
		{ 3, "Scorer", "stage" },	   { 3, "", "stage" },
		{ 3, "a.b", "stage" },	   { 4, "sha256:abc", "measurement" },
		{ 4, "737df3b18430aaf0c1f11f9409d70b51", "measurement" },
		{ 4, "SHA256:737df3b18430aaf0c1f11f9409d70b51", "measurement" },
		{ 4, "sha256:737DF3B18430AAF0C1F11F9409D70B51", "measurement" },
		{ 4, "sha256:737df3b18430aaf0c1f11f9409d70b5", "measurement" },
		{ 4, "sha256:" M1 "", "measurement" },
		{ 4, "a-b:737df3b18430aaf0c1f11f9409d70b51", "measurement" },
	};
	char long_id[1026], long_stage[66];
	struct ebcc_binding b;
	uint8_t nonce[16];
	struct ebcc_evidence *ev = NULL;

	(void)state;
	memset(long_id, 'a', 1025);
	long_id[1025] = '\0';
	memset(long_stage, 'a', 65);
	long_stage[65] = '\0';
	default_binding(&b, nonce);
	for (size_t i = 0; i < EBCC_ARRAY_SIZE(bad) + 7; i++) {
		uint8_t report[16] = { 1 };
		struct ebcc_evidence_fields f = {
			.backend = "testtee", .format = "ebcc.testtee.v1", .binding = b,
			.report = report, .report_len = sizeof(report),
		};
		const char *name;

		if (i < EBCC_ARRAY_SIZE(bad)) {
			const char *v = bad[i].value;

			switch (bad[i].field) {
			case 0: f.backend = v; break;
			case 1: f.format = v; break;
			case 2: f.binding.instance = v; break;
			case 3: f.binding.stage = v; break;
			case 4: f.binding.measurement = v; break;
			}
			name = bad[i].name;
		} else {
			switch (i - EBCC_ARRAY_SIZE(bad)) {
			case 0: f.binding.instance = long_id; name = "instance"; break;
			case 1: f.binding.stage = long_stage; name = "stage"; break;
			case 2: f.binding.seq = 0; name = "seq"; break;
			case 3: f.binding.eid = (uint64_t)INT64_MAX + 1; name = "eid"; break;
			case 4: f.binding.nonce_len = EBCC_NONCE_MAX + 1; name = "nonce"; break;
			case 5: f.report_len = 0; name = "report"; break;
			default: f.report_len = EBCC_EVIDENCE_REPORT_MAX + 1; name = "report"; break;
			}
		}
		assert_int_equal(ebcc__evidence_new(&f, &ev), EBCC_ERR_INVALID_ARG);
		assert_null(ev);
		assert_contains(ebcc_last_error_message(), name);
	}
	/* The longest allowed values are accepted. */
	long_id[1024] = '\0';
	long_stage[64] = '\0';
	b.instance = long_id;
	b.stage = long_stage;
	b.eid = INT64_MAX;
	b.seq = INT64_MAX;
	ev = make_evidence_for(&b, "testtee", "ebcc.testtee.v1", false, tt);
	assert_int_equal(ebcc__evidence_fields(ev)->binding.eid, INT64_MAX);
	assert_int_equal(verify_policy(ev, good_policy), 0);
	{
		char *json = serialize(ev);
		struct ebcc_evidence *back = NULL;

		assert_contains(json, "\"eid\":9223372036854775807,\"seq\":9223372036854775807,");
		assert_int_equal(ebcc_evidence_parse(ctx, json, strlen(json), &back), 0);
		assert_int_equal(verify_policy(back, good_policy), 0);
		ebcc_evidence_unref(back);
		free(json);
	}
	ebcc_evidence_unref(ev);
}

/* ---- serialise and parse ------------------------------------------------------------------------ */

static void round_trip(void **state)
{
	struct ebcc_evidence *ev = make_evidence(), *back = NULL;
	const struct ebcc_evidence_fields *a, *b;
	char *json = serialize(ev), *again;
	size_t len = strlen(json);

	(void)state;
	assert_contains(json, "{\"version\":2,\"format\":\"ebcc.testtee.v1\",\"backend\":\"testtee\","
			"\"simulated\":false,\"instance\":\"demo-1\",\"stage\":\"scorer\",\"eid\":7,"
			"\"seq\":42,\"measurement\":\"" M1 "\",\"nonce\":\"" NONCE_HEX "\","
			"\"request_digest\":\"" REQ_DIGEST "\",\"response_digest\":\"" RESP_DIGEST "\","
			"\"report_data\":\"" M1_RD "\",\"report\":\"");
	assert_true(strncmp(json, "{\"version\"", 10) == 0);
	assert_true(json[len - 1] == '}' && json[len - 2] == '"');
	for (size_t i = 0; i < len; i++)
		assert_true(strchr(" \t\r\n", json[i]) == NULL);

	assert_int_equal(ebcc_evidence_parse(ctx, json, len, &back), 0);
	again = serialize(back);
	assert_string_equal(again, json);
	a = ebcc__evidence_fields(ev);
	b = ebcc__evidence_fields(back);
	assert_string_equal(a->backend, b->backend);
	assert_string_equal(a->format, b->format);
	assert_int_equal(a->simulated, b->simulated);
	assert_string_equal(a->binding.instance, b->binding.instance);
	assert_string_equal(a->binding.stage, b->binding.stage);
	assert_int_equal(a->binding.eid, b->binding.eid);
	assert_int_equal(a->binding.seq, b->binding.seq);
	assert_string_equal(a->binding.measurement, b->binding.measurement);
	assert_int_equal(a->binding.nonce_len, b->binding.nonce_len);
	assert_memory_equal(a->binding.nonce, b->binding.nonce, a->binding.nonce_len);
	assert_memory_equal(a->binding.request_digest, b->binding.request_digest, 32);
	assert_memory_equal(a->binding.response_digest, b->binding.response_digest, 32);
	assert_memory_equal(a->report_data, b->report_data, 64);
	assert_int_equal(a->report_len, b->report_len);
	assert_memory_equal(a->report, b->report, a->report_len);
	assert_int_equal(verify_policy(back, good_policy), 0);

	/* Not NUL-terminated: only len bytes are read. */
	{
		char *copy = malloc(len);

		memcpy(copy, json, len);
		ebcc_evidence_unref(back);
		back = NULL;
		assert_int_equal(ebcc_evidence_parse(ctx, copy, len, &back), 0);
		free(copy);
	}
	/* Trailing whitespace is allowed and serialisation gives the canonical text back. */
	free(again);
	again = malloc(len + 3);
	memcpy(again, json, len);
	memcpy(again + len, " \n", 3);
	ebcc_evidence_unref(back);
	back = NULL;
	assert_int_equal(ebcc_evidence_parse(ctx, again, len + 2, &back), 0);
	free(again);
	again = serialize(back);
	assert_string_equal(again, json);
	/* An empty nonce is "" and round-trips too. */
	{
		struct ebcc_binding bb;
		uint8_t nonce[16];
		struct ebcc_evidence *e2, *e3 = NULL;
		char *j2, *j3;

		default_binding(&bb, nonce);
		bb.nonce = NULL;
		bb.nonce_len = 0;
		e2 = make_evidence_for(&bb, "testtee-sim", "ebcc.testtee-sim.v1", true, tt);
		j2 = serialize(e2);
		assert_contains(j2, "\"simulated\":true");
		assert_contains(j2, "\"nonce\":\"\"");
		assert_int_equal(ebcc_evidence_parse(ctx, j2, strlen(j2), &e3), 0);
		j3 = serialize(e3);
		assert_string_equal(j2, j3);
		free(j2);
		free(j3);
		ebcc_evidence_unref(e2);
		ebcc_evidence_unref(e3);
	}
	free(again);
	free(json);
	ebcc_evidence_unref(back);
	ebcc_evidence_unref(ev);
}

/* The other spellings the parser accepts: whitespace and any key order. */
static void parse_accepts_pretty_json(void **state)
{
	struct ebcc_evidence *ev = make_evidence(), *back = NULL;
	char *json = serialize(ev), *again;
	struct json_object *obj = json_tokener_parse(json), *reordered = json_object_new_object();
	const char *pretty;

	(void)state;
	/* Reverse the key order. */
	{
		const char *keys[20];
		size_t n = 0;
		struct json_object_iterator it = json_object_iter_begin(obj);
		struct json_object_iterator end = json_object_iter_end(obj);

		for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
			keys[n++] = json_object_iter_peek_name(&it);
		while (n-- > 0) {
			struct json_object *v;

			json_object_object_get_ex(obj, keys[n], &v);
			json_object_object_add(reordered, keys[n], json_object_get(v));
		}
	}
	pretty = json_object_to_json_string_ext(reordered, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_NOSLASHESCAPE);
	assert_int_equal(strncmp(pretty, "{\n", 2), 0);
	assert_int_equal(ebcc_evidence_parse(ctx, pretty, strlen(pretty), &back), 0);
	again = serialize(back);
	assert_string_equal(again, json);
	assert_int_equal(verify_policy(back, good_policy), 0);
	free(again);
	json_object_put(obj);
	json_object_put(reordered);
	free(json);
	ebcc_evidence_unref(back);
	ebcc_evidence_unref(ev);
}

static const char *const all_keys[] = {
	"version",	  "format",	     "backend",     "simulated", "instance",
	"stage",	  "eid",	     "seq",	    "measurement", "nonce",
	"request_digest", "response_digest", "report_data", "report",
};

static void parse_rejects_missing_and_mistyped(void **state)
{
	static const char *const values[] = { "1", "\"x\"", "true", "null", "[]", "{}", "1.5" };
	struct ebcc_evidence *ev = make_evidence();
	char *json = serialize(ev);

	(void)state;
	for (size_t k = 0; k < EBCC_ARRAY_SIZE(all_keys); k++) {
		struct json_object *obj = json_tokener_parse(json);
		char field[40];
		const char *text;

		snprintf(field, sizeof(field), "\"%s\"", all_keys[k]);
		json_object_object_del(obj, all_keys[k]);
		text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
		parse_fails(text, field);
		assert_contains(ebcc_last_error_message(), "missing");
		json_object_put(obj);

		for (size_t v = 0; v < EBCC_ARRAY_SIZE(values); v++) {
			struct json_object *value = json_tokener_parse(values[v]);
			bool same_type;

			obj = json_tokener_parse(json);
			{
				struct json_object *orig;

				json_object_object_get_ex(obj, all_keys[k], &orig);
				same_type = json_object_get_type(orig) == json_object_get_type(value);
			}
			json_object_object_add(obj, all_keys[k], value);
			text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
			/* (Values of the right type are the business of parse_rejects_bad_values.) */
			if (!same_type) {
				parse_fails(text, field);
				assert_contains(ebcc_last_error_message(), "must be");
			}
			json_object_put(obj);
		}
	}
	free(json);
	ebcc_evidence_unref(ev);
}

static void parse_rejects_bad_values(void **state)
{
	static const struct {
		const char *old, *new, *field;
	} cases[] = {
		/* versions */
		{ "\"version\":2", "\"version\":4", "version" },
		{ "\"version\":2", "\"version\":0", "version" },
		{ "\"version\":2", "\"version\":-1", "version" },
		{ "\"version\":2", "\"version\":18446744073709551617", "version" },
		{ "\"version\":2", "\"version\":2.0", "version" },
		{ "\"version\":2", "\"version\":\"2\"", "version" },
		/* unknown fields, also ones differing only in case */
		{ "\"version\":2", "\"version\":2,\"extra\":1", "extra" },
		{ "\"version\":2", "\"version\":2,\"Nonce\":\"\"", "Nonce" },
		{ "\"version\":2", "\"version\":2,\"\":1", "unknown field" },
		/* duplicates, also spelled differently */
		{ "\"version\":2", "\"nonce\":\"\",\"version\":2", "duplicate key \"nonce\"" },
		{ "\"version\":2", "\"version\":2,\"version\":2", "duplicate key \"version\"" },
		{ "\"version\":2", "\"\\u006eonce\":\"00\",\"version\":2",
		  "duplicate key \"nonce\"" },
		{ "\"version\":2", "\"version\":2,\"x\":{\"a\":1,\"a\":2}", "duplicate key" },
		/* what json-c tolerates but JSON is not */
		{ "\"version\":2", "'version':2", "single-quoted" },
		{ "\"eid\":7", "\"eid\":NaN", "NaN" },
		{ "\"eid\":7", "\"eid\":Infinity", "Infinity" },
		{ "\"eid\":7", "\"eid\":07", "invalid JSON" },
		{ "\"eid\":7", "\"eid\":+7", "invalid JSON" },
		{ "\"stage\":\"scorer\"", "\"stage\":\"sco\trer\"", "control character" },
		{ "\"version\":2", "\"version\":2,/*c*/", "invalid JSON" },
		{ "\"version\":2", "\"version\":2,", "invalid JSON" },
		/* integers */
		{ "\"eid\":7", "\"eid\":-1", "eid" },
		{ "\"eid\":7", "\"eid\":9223372036854775808", "eid" },
		{ "\"eid\":7", "\"eid\":18446744073709551616", "eid" },
		{ "\"eid\":7", "\"eid\":7.0", "eid" },
		{ "\"eid\":7", "\"eid\":7e0", "eid" },
		{ "\"seq\":42", "\"seq\":0", "seq" },
		{ "\"seq\":42", "\"seq\":-42", "seq" },
		/* strings with a syntax */
		{ "\"instance\":\"demo-1\"", "\"instance\":\".\"", "instance" },
		{ "\"instance\":\"demo-1\"", "\"instance\":\"..\"", "instance" },
		{ "\"instance\":\"demo-1\"", "\"instance\":\"\"", "instance" },
		{ "\"instance\":\"demo-1\"", "\"instance\":\"a/b\"", "instance" },
		{ "\"instance\":\"demo-1\"", "\"instance\":\"demo\\u0000-1\"", "instance" },
		{ "\"instance\":\"demo-1\"", "\"instance\":\"d\xc3\xa9mo\"", "instance" },
		{ "\"instance\":\"demo-1\"", "\"instance\":\"d\xc3\x28mo\"", "utf-8" },
		{ "\"stage\":\"scorer\"", "\"stage\":\"Scorer\"", "stage" },
		{ "\"stage\":\"scorer\"", "\"stage\":\"\"", "stage" },
		{ "\"backend\":\"testtee\"", "\"backend\":\"Testtee\"", "backend" },
		{ "\"backend\":\"testtee\"", "\"backend\":\"\"", "backend" },
		{ "\"format\":\"ebcc.testtee.v1\"", "\"format\":\"\"", "format" },
		{ "\"format\":\"ebcc.testtee.v1\"", "\"format\":\"ebcc testtee\"", "format" },
		{ "\"format\":\"ebcc.testtee.v1\"", "\"format\":\"a\\\"b\"", "format" },
		{ "\"format\":\"ebcc.testtee.v1\"", "\"format\":\"ebcc\\u0000x\"", "format" },
		{ "\"simulated\":false", "\"simulated\":0", "simulated" },
		{ "\"simulated\":false", "\"simulated\":\"false\"", "simulated" },
		/* lengths and hex */
		{ "\"nonce\":\"" NONCE_HEX "\"", "\"nonce\":\"0\"", "nonce" },
		{ "\"nonce\":\"" NONCE_HEX "\"", "\"nonce\":\"000102030405060708090A0B0C0D0E0F\"",
		  "nonce" },
		{ "\"nonce\":\"" NONCE_HEX "\"", "\"nonce\":\"0g\"", "nonce" },
		{ "\"nonce\":\"" NONCE_HEX "\"", "\"nonce\":\" 00\"", "nonce" },
		{ "\"report_data\":\"f1", "\"report_data\":\"f", "report_data" },
		{ "\"report_data\":\"f1", "\"report_data\":\"f100", "report_data" },
		{ "\"report_data\":\"f161", "\"report_data\":\"F161", "report_data" },
		{ "a6a0c0433e8e\"", "a6a0c0433e8\"", "report_data" },
		{ "\"request_digest\":\"sha256:", "\"request_digest\":\"sha512:", "request_digest" },
		{ "\"request_digest\":\"sha256:", "\"request_digest\":\"SHA256:", "request_digest" },
		{ "\"request_digest\":\"sha256:2c", "\"request_digest\":\"sha256:2C",
		  "request_digest" },
		{ "\"request_digest\":\"sha256:2c", "\"request_digest\":\"sha256:", "request_digest" },
		{ "\"request_digest\":\"sha256:2c", "\"request_digest\":\"sha256:002c",
		  "request_digest" },
		{ "\"response_digest\":\"sha256:48", "\"response_digest\":\"sha256:4",
		  "response_digest" },
		{ "\"response_digest\":\"sha256:48", "\"response_digest\":\"48", "response_digest" },
		{ "\"measurement\":\"sha256:73", "\"measurement\":\"sha256:7", "measurement" },
		{ "\"measurement\":\"sha256:73", "\"measurement\":\"sha256:7D", "measurement" },
		{ "\"measurement\":\"sha256:73", "\"measurement\":\"sha256:sha256:73",
		  "measurement" },
		{ "\"measurement\":\"sha256:73", "\"measurement\":\":73", "measurement" },
		/* base64 */
		{ "\"report\":\"", "\"report\":\"A", "report" },
		{ "\"report\":\"", "\"report\":\" ", "report" },
		{ "\"report\":\"", "\"report\":\"AAAA\\n", "report" },
		{ "\"report\":\"", "\"report\":\"====", "report" },
		{ "\"report\":\"", "\"report\":\"-_-_", "report" },
	};
	struct ebcc_evidence *ev = make_evidence();
	char *json = serialize(ev);

	(void)state;
	for (size_t i = 0; i < EBCC_ARRAY_SIZE(cases); i++)
		parse_fails_replaced(json, cases[i].old, cases[i].new, cases[i].field);
	free(json);
	ebcc_evidence_unref(ev);
}

static void parse_rejects_bad_base64(void **state)
{
	static const char *const reports[] = {
		"",	  "A",	      "AA",	  "AAA",       "AA=A",	   "A===",     "AAAA====",
		"AB==",	  "AAB=",     "AAAA AAAA", "AAAA\\nAAA", "AAAA\\r\\n", "@AAA",	   "AA AA",
		"AAA-",	  "AAA_",     "AAAA=",	  "=AAA",      "AA==AAAA", "AAA=AAAA", "\\u0041AAA=",
	};
	struct ebcc_evidence *ev = make_evidence();
	char *json = serialize(ev);
	const char *start = strstr(json, "\"report\":\"") + 10;
	size_t prefix = (size_t)(start - json);

	(void)state;
	for (size_t i = 0; i < EBCC_ARRAY_SIZE(reports); i++) {
		char text[4096];

		snprintf(text, sizeof(text), "%.*s%s\"}", (int)prefix, json, reports[i]);
		parse_fails(text, "report");
	}
	/* "\u0041AAA" decodes to the canonical "AAAA": escapes are JSON's business, base64
	 * sees the decoded string. */
	{
		char text[4096];
		struct ebcc_evidence *e = NULL;

		snprintf(text, sizeof(text), "%.*s\\u0041AAA\"}", (int)prefix, json);
		assert_int_equal(ebcc_evidence_parse(ctx, text, strlen(text), &e), 0);
		assert_int_equal(ebcc__evidence_fields(e)->report_len, 3);
		ebcc_evidence_unref(e);
	}
	/* The largest report parses; one byte more is refused. */
	for (int extra = 0; extra < 2; extra++) {
		size_t n = EBCC_EVIDENCE_REPORT_MAX + (size_t)extra;
		uint8_t *raw = calloc(1, n);
		char *b64 = ebcc__base64_encode(raw, n);
		size_t tlen = prefix + strlen(b64) + 3;
		char *text = malloc(tlen);
		struct ebcc_evidence *e = NULL;

		snprintf(text, tlen, "%.*s%s\"}", (int)prefix, json, b64);
		if (extra == 0) {
			assert_int_equal(ebcc_evidence_parse(ctx, text, strlen(text), &e), 0);
			ebcc_evidence_unref(e);
		} else {
			parse_fails(text, "report");
		}
		free(raw);
		free(b64);
		free(text);
	}
	free(json);
	ebcc_evidence_unref(ev);
}

static void parse_rejects_malformed_text(void **state)
{
	struct ebcc_evidence *ev = make_evidence(), *e = NULL;
	char *json = serialize(ev), *text;
	size_t len = strlen(json);

	(void)state;
	/* Every truncation. */
	for (size_t n = 0; n < len; n++)
		parse_fails_code(json, n, EBCC_ERR_VERIFY, "evidence");
	/* A NUL byte anywhere. */
	text = malloc(len + 1);
	for (size_t i = 0; i < len; i++) {
		memcpy(text, json, len);
		text[i] = '\0';
		parse_fails_code(text, len, EBCC_ERR_VERIFY, "evidence");
	}
	free(text);
	/* Trailing and leading garbage. */
	{
		static const char *const tails[] = { "x", "{}", "}", ",", "\"\"", "0", "\x01", "\v" };
		static const char *const heads[] = { "x", "\xef\xbb\xbf", "[", "\v" };
		char buf[8192];

		for (size_t i = 0; i < EBCC_ARRAY_SIZE(tails); i++) {
			snprintf(buf, sizeof(buf), "%s%s", json, tails[i]);
			parse_fails(buf, "evidence");
		}
		for (size_t i = 0; i < EBCC_ARRAY_SIZE(heads); i++) {
			snprintf(buf, sizeof(buf), "%s%s", heads[i], json);
			parse_fails(buf, "evidence");
		}
		snprintf(buf, sizeof(buf), "%s%s", json, json);
		parse_fails(buf, "evidence");
	}
	/* Not an object. */
	parse_fails("[]", "object");
	parse_fails("1", "evidence"); /* json-c cannot tell a bare number is complete */
	parse_fails("null", "evidence"); /* json-c gives no object for null: "truncated" */
	parse_fails("\"evidence\"", "object");
	parse_fails("", "evidence");
	parse_fails("{}", "version");
	/* Deep nesting, in an unknown field and in a known one. */
	{
		char deep[512];
		size_t o = 0;

		o += (size_t)snprintf(deep, sizeof(deep), "{\"version\":2,\"x\":");
		for (int i = 0; i < 100; i++)
			deep[o++] = '[';
		for (int i = 0; i < 100; i++)
			deep[o++] = ']';
		deep[o++] = '}';
		deep[o] = '\0';
		parse_fails(deep, "evidence");
		parse_fails_replaced(json, "\"nonce\":\"" NONCE_HEX "\"",
				     "\"nonce\":[[[[[[[[\"00\"]]]]]]]]", "\"nonce\" must be a string");
	}
	/* Size: exactly 1 MiB (padded with whitespace) parses, one byte more is refused. */
	text = malloc(EBCC_EVIDENCE_TEXT_MAX + 1);
	memset(text, ' ', EBCC_EVIDENCE_TEXT_MAX + 1);
	memcpy(text, json, len);
	assert_int_equal(ebcc_evidence_parse(ctx, text, EBCC_EVIDENCE_TEXT_MAX, &e), 0);
	ebcc_evidence_unref(e);
	e = NULL;
	parse_fails_code(text, EBCC_EVIDENCE_TEXT_MAX + 1, EBCC_ERR_TOO_BIG, "1048576");
	free(text);
	/* NULL arguments. */
	assert_int_equal(ebcc_evidence_parse(ctx, NULL, 0, &e), EBCC_ERR_INVALID_ARG);
	assert_int_equal(ebcc_evidence_parse(NULL, json, len, &e), EBCC_ERR_INVALID_ARG);
	assert_int_equal(ebcc_evidence_parse(ctx, json, len, NULL), EBCC_ERR_INVALID_ARG);
	assert_null(e);
	/* The internal parser can report another code, for files on disk. */
	assert_int_equal(ebcc__evidence_parse(json, len - 1, EBCC_ERR_CORRUPT, &e), EBCC_ERR_CORRUPT);
	assert_int_equal(ebcc__evidence_parse(json, len, EBCC_ERR_CORRUPT, &e), 0);
	ebcc_evidence_unref(e);
	free(json);
	ebcc_evidence_unref(ev);
}

/* ---- tampering ----------------------------------------------------------------------------------- */

static void tamper_every_byte_of_the_envelope(void **state)
{
	static const uint8_t masks[] = { 0x01, 0x80 };
	struct ebcc_evidence *ev = make_evidence();
	char *json = serialize(ev), *text;
	size_t len = strlen(json), parse_failures = 0, verify_failures = 0;

	(void)state;
	text = malloc(len);
	for (size_t m = 0; m < EBCC_ARRAY_SIZE(masks); m++) {
		for (size_t i = 0; i < len; i++) {
			struct ebcc_evidence *e = NULL;
			int r;

			memcpy(text, json, len);
			text[i] = (char)(text[i] ^ masks[m]);
			r = ebcc_evidence_parse(ctx, text, len, &e);
			if (r < 0) {
				assert_int_equal(r, EBCC_ERR_VERIFY);
				parse_failures++;
				continue;
			}
			r = verify_policy(e, good_policy);
			if (r != EBCC_ERR_VERIFY && r != EBCC_ERR_NOT_FOUND)
				fail_msg("flipping byte %zu ('%c') with 0x%02x: verify gave %s", i,
					 json[i], masks[m], ebcc_error_name(r));
			verify_failures++;
			ebcc_evidence_unref(e);
		}
	}
	/* Both layers took part: flips in the syntax fail to parse, flips in values fail to
	 * verify. */
	assert_int_equal(parse_failures + verify_failures, 2 * len);
	assert_true(parse_failures > 0);
	assert_true(verify_failures > 0);
	print_message("envelope of %zu bytes: %zu variants refused by parse, %zu by verify\n", len,
		      parse_failures, verify_failures);
	/* The untouched text still verifies. */
	{
		struct ebcc_evidence *e = NULL;

		assert_int_equal(ebcc_evidence_parse(ctx, json, len, &e), 0);
		assert_int_equal(verify_policy(e, good_policy), 0);
		ebcc_evidence_unref(e);
	}
	free(text);
	free(json);
	ebcc_evidence_unref(ev);
}

static void tamper_every_byte_of_the_report(void **state)
{
	static const uint8_t masks[] = { 0x01, 0x80 };
	struct ebcc_evidence *ev = make_evidence();
	struct ebcc_evidence_fields f = *ebcc__evidence_fields(ev);
	uint8_t *report = malloc(f.report_len);

	(void)state;
	assert_int_equal(verify_policy(ev, good_policy), 0);
	for (size_t m = 0; m < EBCC_ARRAY_SIZE(masks); m++) {
		for (size_t i = 0; i < f.report_len; i++) {
			struct ebcc_evidence_fields g = f;
			struct ebcc_evidence *e = NULL;
			char *json;

			memcpy(report, f.report, f.report_len);
			report[i] ^= masks[m];
			g.report = report;
			assert_int_equal(ebcc__evidence_new(&g, &e), 0);
			verify_fails(e, good_policy, EBCC_ERR_VERIFY, "report");
			/* And the same through JSON. */
			json = serialize(e);
			ebcc_evidence_unref(e);
			e = NULL;
			assert_int_equal(ebcc_evidence_parse(ctx, json, strlen(json), &e), 0);
			verify_fails(e, good_policy, EBCC_ERR_VERIFY, "report");
			ebcc_evidence_unref(e);
			free(json);
		}
	}
	/* Cut short and extended. */
	for (size_t n = 1; n < f.report_len; n += 7) {
		struct ebcc_evidence_fields g = f;
		struct ebcc_evidence *e = NULL;

		g.report_len = n;
		assert_int_equal(ebcc__evidence_new(&g, &e), 0);
		verify_fails(e, good_policy, EBCC_ERR_VERIFY, "report");
		ebcc_evidence_unref(e);
	}
	free(report);
	ebcc_evidence_unref(ev);
}

/* ---- verification and the policy ------------------------------------------------------------ */

static void verify_applies_the_policy(void **state)
{
	static const struct {
		const char *key, *value, *field;
	} mismatches[] = {
		{ "nonce", "\"000102030405060708090a0b0c0d0e0e\"", "nonce expected" },
		{ "nonce", "\"\"", "nonce expected" },
		{ "nonce", "\"000102030405060708090a0b0c0d0e0f00\"", "nonce expected" },
		{ "measurement", "\"" M2 "\"", "measurement expected \"" M2 "\", found \"" M1 "\"" },
		{ "request_digest", "\"" RESP_DIGEST "\"",
		  "request_digest expected \"" RESP_DIGEST "\", found \"" REQ_DIGEST "\"" },
		{ "response_digest", "\"" REQ_DIGEST "\"",
		  "response_digest expected \"" REQ_DIGEST "\", found \"" RESP_DIGEST "\"" },
		{ "trusted_keys", NULL, "trusted_keys" },
		{ "trusted_keys", "[]", "trusted_keys" },
		{ "allow_simulated", "false", NULL },
	};
	struct ebcc_evidence *ev = make_evidence();

	(void)state;
	assert_int_equal(verify_policy(ev, good_policy), 0);
	for (size_t i = 0; i < EBCC_ARRAY_SIZE(mismatches); i++) {
		char *policy = policy_with(mismatches[i].key, mismatches[i].value);

		if (mismatches[i].field == NULL)
			assert_int_equal(verify_policy(ev, policy), 0);
		else
			verify_fails(ev, policy, EBCC_ERR_VERIFY, mismatches[i].field);
		free(policy);
	}
	/* Each expectation is optional. */
	{
		static const char *const optional[] = { "measurement", "nonce", "request_digest",
							"response_digest" };

		for (size_t i = 0; i < EBCC_ARRAY_SIZE(optional); i++) {
			char *policy = policy_with(optional[i], NULL);

			assert_int_equal(verify_policy(ev, policy), 0);
			free(policy);
		}
	}
	ebcc_evidence_unref(ev);
}

static void verify_checks_the_key(void **state)
{
	struct ebcc_evidence *ev = make_evidence();
	char keys[16384], *policy;

	(void)state;
	/* Another key. */
	{
		struct json_object *arr = json_object_new_array();

		json_object_array_add(arr, json_object_new_string(testtee_public_pem(other_tt)));
		snprintf(keys, sizeof(keys), "%s", json_object_to_json_string(arr));
		json_object_put(arr);
	}
	policy = policy_with("trusted_keys", keys);
	verify_fails(ev, policy, EBCC_ERR_VERIFY, "trusted_keys");
	assert_contains(ebcc_last_error_message(), "none of the 1 keys");
	free(policy);
	/* Signed by the other key, checked against the right one. */
	{
		struct ebcc_binding b;
		uint8_t nonce[16];
		struct ebcc_evidence *forged;

		default_binding(&b, nonce);
		forged = make_evidence_for(&b, "testtee", "ebcc.testtee.v1", false, other_tt);
		verify_fails(forged, good_policy, EBCC_ERR_VERIFY, "trusted_keys");
		ebcc_evidence_unref(forged);
	}
	/* The right key among others. */
	{
		struct json_object *arr = json_object_new_array();
		char *text;

		json_object_array_add(arr, json_object_new_string(testtee_public_pem(other_tt)));
		json_object_array_add(arr, json_object_new_string(testtee_public_pem(tt)));
		text = policy_with("trusted_keys", json_object_to_json_string(arr));
		assert_int_equal(verify_policy(ev, text), 0);
		free(text);
		json_object_put(arr);
	}
	/* Not a key. */
	policy = policy_with("trusted_keys", "[\"-----BEGIN PUBLIC KEY-----\\nAAAA\\n-----END PUBLIC "
					     "KEY-----\\n\"]");
	verify_fails(ev, policy, EBCC_ERR_VERIFY, "trusted_keys[0]");
	free(policy);
	ebcc_evidence_unref(ev);
}

static void verify_refuses_simulated_unless_allowed(void **state)
{
	struct ebcc_binding b;
	uint8_t nonce[16];
	struct ebcc_evidence *ev;
	char *policy;

	(void)state;
	default_binding(&b, nonce);
	ev = make_evidence_for(&b, "testtee-sim", "ebcc.testtee-sim.v1", true, tt);
	verify_fails(ev, good_policy, EBCC_ERR_VERIFY, "allow_simulated");
	assert_contains(ebcc_last_error_message(), "simulated");
	policy = policy_with("allow_simulated", "false");
	verify_fails(ev, policy, EBCC_ERR_VERIFY, "allow_simulated");
	free(policy);
	policy = policy_with("allow_simulated", "true");
	assert_int_equal(verify_policy(ev, policy), 0);
	free(policy);
	ebcc_evidence_unref(ev);
}

/* Version 1 evidence (the host bound request and response): verified only under
 * allow_evidence_v1, and neither version passes for the other. */
static void verify_refuses_v1_unless_allowed(void **state)
{
	struct ebcc_binding b;
	uint8_t nonce[16];
	struct ebcc_evidence *ev, *relabeled = NULL;
	char *policy, *json, *text;

	(void)state;
	default_binding(&b, nonce);
	b.version = EBCC_EVIDENCE_VERSION_HOST_BOUND;
	ev = make_evidence_for(&b, "testtee", "ebcc.testtee.v1", false, tt);
	json = serialize(ev);
	assert_true(strncmp(json, "{\"version\":1,", 13) == 0);
	verify_fails(ev, good_policy, EBCC_ERR_VERIFY, "allow_evidence_v1 is not true");
	policy = policy_with("allow_evidence_v1", "true");
	assert_int_equal(verify_policy(ev, policy), 0);
	/* Relabeled as version 2, its report_data binds nothing of version 2. */
	text = replace(json, "{\"version\":1,", "{\"version\":2,");
	assert_int_equal(ebcc_evidence_parse(ctx, text, strlen(text), &relabeled), 0);
	verify_fails(relabeled, policy, EBCC_ERR_VERIFY, "report_data does not bind");
	ebcc_evidence_unref(relabeled);
	free(text);
	free(json);
	ebcc_evidence_unref(ev);
	/* And version 2 evidence relabeled as version 1, under a policy that allows it. */
	default_binding(&b, nonce);
	ev = make_evidence_for(&b, "testtee", "ebcc.testtee.v1", false, tt);
	json = serialize(ev);
	text = replace(json, "{\"version\":2,", "{\"version\":1,");
	relabeled = NULL;
	assert_int_equal(ebcc_evidence_parse(ctx, text, strlen(text), &relabeled), 0);
	verify_fails(relabeled, policy, EBCC_ERR_VERIFY, "report_data does not bind");
	ebcc_evidence_unref(relabeled);
	free(text);
	free(json);
	free(policy);
	ebcc_evidence_unref(ev);
}

static void verify_refuses_bad_policies(void **state)
{
	static const struct {
		const char *policy, *field;
	} bad[] = {
		{ "[]", "object" },
		{ "null", "policy" },
		{ "1", "policy" },
		{ "true ", "object" },
		{ "\"x\"", "object" },
		{ " ", "policy" },
		{ "{", "policy" },
		{ "{}x", "policy" },
		{ "{\"trusted_key\":[]}", "unknown key \"trusted_key\"" },
		{ "{\"allow_simulated\":true,\"Measurement\":\"x\"}", "Measurement" },
		{ "{\"trusted_keys\":\"pem\"}", "trusted_keys" },
		{ "{\"trusted_keys\":[1]}", "trusted_keys\"[0]" },
		{ "{\"trusted_keys\":[\"\"]}", "trusted_keys\"[0]" },
		{ "{\"trusted_keys\":[\"a\\u0000b\"]}", "\"trusted_keys[0]\" contains a NUL" },
		/* json-c cuts keys at a NUL: this one would read as allow_simulated. */
		{ "{\"allow_simulated\\u0000 (ignored)\":true}",
		  "key \"allow_simulated\\u0000 (ignored)\" contains a NUL" },
		{ "{\"measurement\":\"sha256:00\\u0000\"}", "\"measurement\" contains a NUL" },
		{ "{\"backend_options\":{\"testtee\\u0000\":{}}}",
		  "key \"backend_options.testtee\\u0000\" contains a NUL" },
		/* Options for a backend that is not the evidence's are read by nobody. */
		{ "{\"backend_options\":{\"tdx\":{\"tdx_root_ca\":\"x\"}}}",
		  "backend_options.tdx would be read by no backend: the evidence is from backend "
		  "testtee" },
		{ "{\"backend_options\":{\"level\":[1,2]}}", "backend_options.level" },
		{ "{\"measurement\":1}", "measurement" },
		{ "{\"measurement\":\"sha256:abc\"}", "measurement" },
		{ "{\"nonce\":\"0\"}", "nonce" },
		{ "{\"nonce\":\"0A\"}", "nonce" },
		{ "{\"nonce\":null}", "nonce" },
		{ "{\"request_digest\":\"sha256:00\"}", "request_digest" },
		{ "{\"response_digest\":\"" M1 "x\"}", "response_digest" },
		{ "{\"response_digest\":[]}", "response_digest" },
		{ "{\"allow_simulated\":\"yes\"}", "allow_simulated" },
		{ "{\"allow_simulated\":1}", "allow_simulated" },
		{ "{\"backend_options\":[]}", "backend_options" },
		{ "{\"backend_options\":\"x\"}", "backend_options" },
		{ "{\"nonce\":\"00\",\"nonce\":\"01\"}", "duplicate key \"nonce\"" },
		{ "{\"backend_options\":{\"a\":1,\"a\":1}}", "duplicate key" },
		{ "{'nonce':\"00\"}", "single-quoted" },
	};
	struct ebcc_evidence *ev = make_evidence();

	(void)state;
	for (size_t i = 0; i < EBCC_ARRAY_SIZE(bad); i++)
		verify_fails(ev, bad[i].policy, EBCC_ERR_VERIFY, bad[i].field);
	/* Limits: 64 keys, 1 MiB of text. */
	{
		struct json_object *p = json_object_new_object(), *keys = json_object_new_array();
		char *big;

		for (int i = 0; i < EBCC_POLICY_KEYS_MAX + 1; i++)
			json_object_array_add(keys, json_object_new_string(testtee_public_pem(tt)));
		json_object_object_add(p, "trusted_keys", keys);
		verify_fails(ev, json_object_to_json_string(p), EBCC_ERR_VERIFY, "at most 64");
		json_object_array_del_idx(keys, 0, 1);
		assert_int_equal(verify_policy(ev, json_object_to_json_string(p)), 0);
		json_object_put(p);

		big = malloc(EBCC_EVIDENCE_TEXT_MAX + 2);
		memset(big, ' ', EBCC_EVIDENCE_TEXT_MAX + 1);
		big[EBCC_EVIDENCE_TEXT_MAX + 1] = '\0';
		memcpy(big, good_policy, strlen(good_policy));
		verify_fails(ev, big, EBCC_ERR_VERIFY, "1048576");
		big[EBCC_EVIDENCE_TEXT_MAX] = '\0';
		assert_int_equal(verify_policy(ev, big), 0);
		free(big);
	}
	/* backend_options is passed through with the whole policy. */
	{
		char *policy = policy_with("backend_options", "{\"testtee\":{\"level\":[1,2]}}");

		assert_int_equal(verify_policy(ev, policy), 0);
		assert_non_null(testtee_last_policy(tt));
		assert_string_equal(testtee_last_policy(tt), policy);
		free(policy);
	}
	/* A refused policy never reaches the backend. */
	{
		unsigned calls = testtee_verify_calls(tt);

		verify_fails(ev, "{\"x\":1}", EBCC_ERR_VERIFY, "x");
		assert_int_equal(testtee_verify_calls(tt), calls);
	}
	ebcc_evidence_unref(ev);
}

static void verify_with_empty_policies(void **state)
{
	struct ebcc_binding b;
	uint8_t nonce[16];
	struct ebcc_evidence_fields f = { .backend = "echo", .format = "ebcc.echo.v1" };
	struct ebcc_evidence *ev = NULL;

	(void)state;
	default_binding(&b, nonce);
	f.binding = b;
	assert_int_equal(ebcc__binding_report_data(&b, f.report_data), 0);
	f.report = f.report_data;
	f.report_len = sizeof(f.report_data);
	assert_int_equal(ebcc__evidence_new(&f, &ev), 0);
	assert_int_equal(verify_policy(ev, NULL), 0);
	assert_int_equal(verify_policy(ev, ""), 0);
	assert_int_equal(verify_policy(ev, "{}"), 0);
	assert_int_equal(verify_policy(ev, " {\n} \n"), 0);
	verify_fails(ev, "{\"nonce\":\"\"}", EBCC_ERR_VERIFY, "nonce expected");
	ebcc_evidence_unref(ev);
}

static void verify_checks_envelope_against_backend(void **state)
{
	struct ebcc_binding b;
	uint8_t nonce[16];
	struct ebcc_evidence *ev;
	struct ebcc_evidence_fields f;
	char *policy = policy_with("allow_simulated", "true");

	(void)state;
	default_binding(&b, nonce);
	/* Backend not registered. */
	ev = make_evidence_for(&b, "nosuch", "ebcc.testtee.v1", false, tt);
	verify_fails(ev, good_policy, EBCC_ERR_NOT_FOUND, "nosuch");
	ebcc_evidence_unref(ev);
	/* Format of another backend. */
	ev = make_evidence_for(&b, "testtee", "ebcc.testtee-sim.v1", false, tt);
	verify_fails(ev, good_policy, EBCC_ERR_VERIFY, "format expected \"ebcc.testtee.v1\"");
	ebcc_evidence_unref(ev);
	/* Claims to be simulated or not, against what the backend is. */
	ev = make_evidence_for(&b, "testtee", "ebcc.testtee.v1", true, tt);
	verify_fails(ev, policy, EBCC_ERR_VERIFY, "simulated expected false");
	ebcc_evidence_unref(ev);
	ev = make_evidence_for(&b, "testtee-sim", "ebcc.testtee-sim.v1", false, tt);
	verify_fails(ev, policy, EBCC_ERR_VERIFY, "simulated expected true");
	ebcc_evidence_unref(ev);
	/* A backend that cannot verify, and ones that fail oddly. */
	ev = make_evidence_for(&b, "noverify", "ebcc.noverify.v1", false, tt);
	verify_fails(ev, policy, EBCC_ERR_VERIFY, "backend noverify cannot verify reports");
	ebcc_evidence_unref(ev);
	ev = make_evidence_for(&b, "broken-backend", "ebcc.broken.v1", false, tt);
	verify_fails(ev, policy, EBCC_ERR_VERIFY, "EBCC_ERR_BACKEND");
	ebcc_evidence_unref(ev);
	ev = make_evidence_for(&b, "broken-positive", "ebcc.broken.v1", false, tt);
	verify_fails(ev, policy, EBCC_ERR_VERIFY, "returned 1");
	ebcc_evidence_unref(ev);
	/* report_data that does not bind the fields, even with a valid report over it. */
	ev = make_evidence();
	f = *ebcc__evidence_fields(ev);
	ebcc_evidence_unref(ev);
	{
		uint8_t *report = NULL;
		struct ebcc_evidence *e = NULL;

		f.report_data[0] ^= 1;
		assert_int_equal(testtee_report(tt, f.report_data, M1, 7, &report, &f.report_len), 0);
		f.report = report;
		f.binding.nonce = nonce;
		f.backend = "testtee";
		f.format = "ebcc.testtee.v1";
		f.binding.instance = "demo-1";
		f.binding.stage = "scorer";
		f.binding.measurement = M1;
		assert_int_equal(ebcc__evidence_new(&f, &e), 0);
		verify_fails(e, good_policy, EBCC_ERR_VERIFY, "report_data does not bind");
		ebcc_evidence_unref(e);
		free(report);
	}
	free(policy);
	/* NULL arguments. */
	assert_int_equal(ebcc_evidence_verify(NULL, NULL, NULL), EBCC_ERR_INVALID_ARG);
	assert_int_equal(ebcc_evidence_verify(ctx, NULL, NULL), EBCC_ERR_INVALID_ARG);
}

/* A verifier with nothing but a fresh context, the JSON text, the policy and the key. */
static void verify_offline_in_a_fresh_context(void **state)
{
	struct ebcc_evidence *ev = make_evidence(), *back = NULL;
	char *json = serialize(ev);
	struct ebcc_context *other;

	(void)state;
	ebcc_evidence_unref(ev);
	assert_int_equal(ebcc_context_new(&other), 0);
	assert_int_equal(ebcc_context_set_option(other, "state_root", "/nonexistent/ebcc"), 0);
	assert_int_equal(testtee_register(tt, other, "testtee", "ebcc.testtee.v1", 0), 0);
	assert_int_equal(ebcc_evidence_parse(other, json, strlen(json), &back), 0);
	assert_int_equal(ebcc_evidence_verify(other, back, good_policy), 0);
	ebcc_context_unref(other);
	/* The evidence outlives the context it was parsed and verified with. */
	free(json);
	json = serialize(back);
	assert_non_null(json);
	free(json);
	ebcc_evidence_unref(back);
}

struct log_capture {
	char lines[8][512];
	int n;
};

static void capture(int priority, const char *message, void *userdata)
{
	struct log_capture *c = userdata;

	if (priority == EBCC_LOG_DEBUG && c->n < 8)
		snprintf(c->lines[c->n++], sizeof(c->lines[0]), "%s", message);
}

static void verify_logs_the_verdict(void **state)
{
	struct ebcc_evidence *ev = make_evidence();
	struct log_capture c = { .n = 0 };
	char *policy = policy_with("nonce", "\"\"");

	(void)state;
	assert_int_equal(ebcc_context_set_option(ctx, "log_level", "debug"), 0);
	assert_int_equal(ebcc_context_set_log_fn(ctx, capture, &c), 0);
	assert_int_equal(verify_policy(ev, good_policy), 0);
	assert_int_equal(c.n, 1);
	assert_contains(c.lines[0], "demo-1/scorer seq 42");
	assert_contains(c.lines[0], "verified");
	assert_contains(c.lines[0], "\"key_index\":0");
	verify_fails(ev, policy, EBCC_ERR_VERIFY, "nonce");
	assert_int_equal(c.n, 2);
	assert_contains(c.lines[1], "rejected");
	assert_contains(c.lines[1], "nonce expected");
	assert_int_equal(ebcc_context_set_log_fn(ctx, NULL, NULL), 0);
	assert_int_equal(ebcc_context_set_option(ctx, "log_level", "warning"), 0);
	free(policy);
	ebcc_evidence_unref(ev);
}

static void reference_counting(void **state)
{
	struct ebcc_evidence *ev = make_evidence();
	char *json = NULL;

	(void)state;
	assert_ptr_equal(ebcc_evidence_ref(ev), ev);
	assert_null(ebcc_evidence_unref(ev));
	assert_int_equal(ebcc_evidence_serialize(ev, &json), 0); /* still alive */
	free(json);
	assert_null(ebcc_evidence_unref(ev));
	assert_null(ebcc_evidence_ref(NULL));
	assert_null(ebcc_evidence_unref(NULL));
	assert_int_equal(ebcc_evidence_serialize(NULL, &json), EBCC_ERR_INVALID_ARG);
	assert_int_equal(ebcc__evidence_new(NULL, &ev), EBCC_ERR_INVALID_ARG);
}

/* ---- the JSON text checks ------------------------------------------------------------------- */

static int check_text(const char *text)
{
	struct json_object *obj = NULL;
	int r = ebcc__json_parse(text, strlen(text), EBCC_ERR_CORRUPT, "t", &obj);

	if (r == 0)
		r = ebcc__json_check_text(text, strlen(text), obj, EBCC_ERR_CORRUPT, "t");
	json_object_put(obj);
	return r;
}

/* The times meta.json and state.json record, against gmtime_r(), and read back. */
static void formatted_times(void **state)
{
	static const int64_t fixed[] = { 0, -1, 951782400 /* 2000-02-29 */, 4107542399 /* 2100-02-28T23:59:59 */,
					 253402300799 /* 9999-12-31T23:59:59 */, -62135596800 /* 0001-01-01 */ };
	uint64_t x = 0x9e3779b97f4a7c15u;
	char ours[EBCC_TIME_TEXT_SIZE], theirs[64], cut[8];

	(void)state;
	for (size_t i = 0; i < 20000; i++) {
		struct timespec ts;
		struct tm tm;
		int64_t back;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		ts.tv_sec = i < sizeof(fixed) / sizeof(fixed[0]) ? fixed[i]
								 : (time_t)(x % 253402300800u) - 62135596800;
		ts.tv_nsec = (long)(x % 1000000000u);
		ebcc__format_time(&ts, ours, sizeof(ours));
		assert_non_null(gmtime_r(&ts.tv_sec, &tm));
		snprintf(theirs, sizeof(theirs), "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ",
			 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ts.tv_nsec);
		assert_string_equal(ours, theirs);
		assert_int_equal(ebcc__rfc3339_parse(ours, strlen(ours), &back), 0);
		assert_int_equal(back, ts.tv_sec);
	}
	ebcc__format_time(&(struct timespec){ .tv_sec = 253402300800 }, ours, sizeof(ours));
	assert_string_equal(ours, ""); /* the year 10000 */
	ebcc__format_time(&(struct timespec){ .tv_sec = 0 }, cut, sizeof(cut));
	assert_string_equal(cut, "1970-01");
}

/* The policy's verification_time: RFC 3339 as written by Intel's and AMD's collateral. */
static void rfc3339_times(void **state)
{
	static const struct {
		const char *text;
		int64_t expect; /* -2: refused */
	} cases[] = {
		{ "1970-01-01T00:00:00Z", 0 },
		{ "2024-02-29T12:34:56Z", 1709210096 },
		{ "2023-10-01T01:02:03.123456Z", 1696122123 },
		{ "2023-10-01T03:02:03+02:00", 1696122123 },
		{ "2023-09-30T20:02:03-05:00", 1696122123 },
		{ "2023-02-29T00:00:00Z", -2 },
		{ "2023-13-01T00:00:00Z", -2 },
		{ "2023-10-01 01:02:03Z", -2 },
		{ "2023-10-01T01:02:03", -2 },
		{ "2023-10-01T01:02:03.Z", -2 },
		{ "2023-10-01T01:02:03Zjunk", -2 },
		{ "2023-10-01T01:02:03+0200", -2 },
	};
	struct ebcc__policy p;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t v = -1;
		int r = ebcc__rfc3339_parse(cases[i].text, strlen(cases[i].text), &v);

		if (cases[i].expect == -2) {
			assert_int_equal(r, -1);
		} else {
			assert_int_equal(r, 0);
			assert_int_equal(v, cases[i].expect);
		}
	}
	assert_int_equal(ebcc__policy_parse("{\"verification_time\": \"2024-02-29T12:34:56Z\"}", &p), 0);
	assert_true(p.has_verification_time);
	assert_int_equal(p.verification_time, 1709210096);
	ebcc__policy_clear(&p);
	assert_int_equal(ebcc__policy_parse("{\"verification_time\": \"yesterday\"}", &p),
			 EBCC_ERR_VERIFY);
	assert_non_null(strstr(ebcc_last_error_message(), "verification_time"));
	assert_int_equal(ebcc__policy_parse("{\"verification_time\": 1709210096}", &p),
			 EBCC_ERR_VERIFY);
}

static void json_text_checks(void **state)
{
	static const char *const good[] = {
		"{}",
		"[]",
		"{\"a\":{\"a\":1},\"b\":[{\"a\":1},{\"a\":2}]}",
		"{\"a:b\":\"c:d\",\"e\":\"{'\\\":\\\\\"}",
		"{\"a\":true,\"b\":false,\"c\":null,\"d\":-1.5e+3,\"E\":1E2}",
		"{\"\\u00e9\":\"\xc3\xa9\",\"e\":\"\\u00e9\"}",
		"[1,\"a\",{\"x\":[{\"y\":{}}]}]",
	};
	static const struct {
		const char *text, *message;
	} bad[] = {
		{ "{\"a\":1,\"a\":1}", "duplicate key \"a\"" },
		{ "{\"a\":1,\"\\u0061\":1}", "duplicate key \"a\"" },
		{ "{\"x\":{\"a\":1,\"a\":1}}", "nested object has a duplicate key" },
		{ "[{\"a\":1,\"a\":{\"b\":1,\"c\":2}}]", "nested object has a duplicate key" },
		{ "{\"a\":{\"b\":1},\"a\":{}}", "duplicate key \"a\"" },
		{ "{'a':1}", "single-quoted" },
		{ "[NaN]", "NaN" },
		{ "[-Infinity]", "Infinity" },
		{ "[\"a\tb\"]", "control character 0x09" },
		{ "{\"a\\nb\":1,\"a\nb\":2}", "control character" },
	};

	(void)state;
	for (size_t i = 0; i < EBCC_ARRAY_SIZE(good); i++)
		if (check_text(good[i]) != 0)
			fail_msg("%s refused: %s", good[i], ebcc_last_error_message());
	for (size_t i = 0; i < EBCC_ARRAY_SIZE(bad); i++) {
		assert_int_equal(check_text(bad[i].text), EBCC_ERR_CORRUPT);
		assert_contains(ebcc_last_error_message(), bad[i].message);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(binding_vectors),
		cmocka_unit_test(binding_covers_every_field),
		cmocka_unit_test(new_checks_fields),
		cmocka_unit_test(round_trip),
		cmocka_unit_test(parse_accepts_pretty_json),
		cmocka_unit_test(parse_rejects_missing_and_mistyped),
		cmocka_unit_test(parse_rejects_bad_values),
		cmocka_unit_test(parse_rejects_bad_base64),
		cmocka_unit_test(parse_rejects_malformed_text),
		cmocka_unit_test(tamper_every_byte_of_the_envelope),
		cmocka_unit_test(tamper_every_byte_of_the_report),
		cmocka_unit_test(verify_applies_the_policy),
		cmocka_unit_test(verify_checks_the_key),
		cmocka_unit_test(verify_refuses_simulated_unless_allowed),
		cmocka_unit_test(verify_refuses_v1_unless_allowed),
		cmocka_unit_test(verify_refuses_bad_policies),
		cmocka_unit_test(verify_with_empty_policies),
		cmocka_unit_test(verify_checks_envelope_against_backend),
		cmocka_unit_test(verify_offline_in_a_fresh_context),
		cmocka_unit_test(verify_logs_the_verdict),
		cmocka_unit_test(reference_counting),
		cmocka_unit_test(json_text_checks),
		cmocka_unit_test(rfc3339_times),
		cmocka_unit_test(formatted_times),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
