/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: the sgx backend's DCAP quote v3 parser (backends/sgx/quote.c, with the signature
 * data of backends/tsm/dcap.c) and its raw verification under a policy that lets an
 * unverified PCK certificate through (so that the signature checks run on whatever parses).
 * The input is the quote.
 *
 * Properties:
 *  - every failure is EBCC_ERR_VERIFY (or out of memory) with a message;
 *  - a parsed quote is version 3, TEE type 0, accounts for every byte (quote_len + padding ==
 *    the input, the padding all zero), and every field it points at lies inside the quote,
 *    the signed part at its start;
 *  - verification accepts only what parses, and its claims are a JSON object naming the
 *    quote's MRENCLAVE.
 */
#include <json-c/json.h>

#include "../../backends/sgx/quote.h"
#include "../../backends/sgx/verify.h"
#include "../../backends/common/bytes.h"
#include "fuzz-common.h"
#include "../unit/check-policy.h"

#define ERR EBCC_ERR_VERIFY

static bool inside(const uint8_t *p, size_t n, const uint8_t *base, size_t len)
{
	return p != NULL && p >= base && n <= len && (size_t)(p - base) <= len - n;
}

static void failed(int r, const char *what)
{
	FUZZ_CHECK(r == ERR || r == EBCC_ERR_NO_MEMORY, "%s failed with %d, not %d", what, r, ERR);
	FUZZ_CHECK(ebcc_last_error_message()[0] != '\0', "%s failed without a message", what);
}

static void check_verify(const uint8_t *data, size_t len, bool parsed,
			 const struct ebcc__sgx_quote *q)
{
	static const char policy[] =
		"{\"backend_options\":{\"sgx\":{\"allow_unverified_signature\":true,"
		"\"allow_debug\":true}}}";
	struct ebcc_backend_report_check check = {
		.size = sizeof(check),
		.format = EBCC_BACKEND_FORMAT_RAW,
		.report = data,
		.report_len = len,
	};
	struct json_object *o = NULL, *v = NULL;
	char *claims = NULL, hex[65];
	int r;

	check_policy_set(&check, policy, "sgx");
	fuzz_message_reset();
	r = ebcc__sgx_verify(&check, &claims);
	if (r < 0) {
		failed(r, "SGX quote verification");
		return;
	}
	FUZZ_CHECK(parsed, "a quote that does not parse verified");
	o = json_tokener_parse(claims);
	FUZZ_CHECK(o != NULL && json_object_object_get_ex(o, "mrenclave", &v), "claims");
	ebcc__hex_encode(q->body.mrenclave, 32, hex);
	FUZZ_CHECK(strcmp(json_object_get_string(v), hex) == 0, "claimed MRENCLAVE");
	json_object_put(o);
	free(claims);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ebcc__sgx_quote q;
	int r;

	fuzz_begin(data, size);
	r = ebcc__sgx_quote_parse(data, size, ERR, &q);
	if (r < 0) {
		failed(r, "SGX quote");
		check_verify(data, size, false, &q);
		return 0;
	}
	FUZZ_CHECK(q.version == EBCC_SGX_QUOTE_VERSION && q.tee_type == EBCC_SGX_TEE_TYPE,
		   "version %u, TEE type %u parsed", q.version, q.tee_type);
	FUZZ_CHECK(q.quote_len + q.padding == size, "%zu + %zu bytes of %zu", q.quote_len,
		   q.padding, size);
	for (size_t i = q.quote_len; i < size; i++)
		FUZZ_CHECK(data[i] == 0, "padding byte %zu is %u", i, data[i]);
	FUZZ_CHECK(q.signed_part == data && EBCC_SGX_SIGNED_SIZE <= q.quote_len, "signed part");
	FUZZ_CHECK(inside(q.body.mrenclave, 32, data, EBCC_SGX_SIGNED_SIZE) &&
			   inside(q.body.report_data, 64, data, EBCC_SGX_SIGNED_SIZE),
		   "report body fields outside the signed part");
	FUZZ_CHECK(inside(q.sig.signature, 64, data, q.quote_len) &&
			   inside(q.sig.att_key, 64, data, q.quote_len) &&
			   inside(q.sig.qe_report, EBCC_DCAP_QE_REPORT_SIZE, data, q.quote_len) &&
			   inside(q.sig.qe_report_signature, 64, data, q.quote_len) &&
			   q.qe.mrenclave == q.sig.qe_report + EBCC_SGX_BODY_MRENCLAVE,
		   "signature data outside the quote");
	FUZZ_CHECK(q.sig.qe_auth_len == 0 ||
			   inside(q.sig.qe_auth, q.sig.qe_auth_len, data, q.quote_len),
		   "QE authentication data outside the quote");
	FUZZ_CHECK(q.sig.pck_chain_len > 0 &&
			   inside(q.sig.pck_chain, q.sig.pck_chain_len, data, q.quote_len) &&
			   q.sig.pck_chain + q.sig.pck_chain_len == data + q.quote_len,
		   "PCK chain not at the quote's end");
	check_verify(data, size, true, &q);
	return 0;
}
