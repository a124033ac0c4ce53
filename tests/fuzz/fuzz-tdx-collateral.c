/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: the parsers of Intel's TDX collateral (backends/tsm/collateral.c, pck_ext.c),
 * which read what a relying party was handed: TCB info and QE identity JSON (the signed
 * object, or a PCS response body around it) and the PCK certificate's SGX extension DER.
 *
 * An input is one selector byte, then the bytes for that parser:
 *   0  a TCB info object          1  a QE identity object
 *   2  a PCS response body ("tcbInfo" and "signature")
 *   3  the DER value of the SGX extension 1.2.840.113741.1.13.1
 * (the selector is taken modulo 4).
 *
 * Properties:
 *  - every failure is EBCC_ERR_VERIFY (or out of memory) with a message;
 *  - parsed documents have 1..EBCC_TCB_LEVELS_MAX levels, each with a known status;
 *  - the signed part of a body lies inside the input, starts with '{' and ends with '}', and
 *    is itself one JSON object.
 */
#include <json-c/json.h>

#include "../../backends/tsm/pck_ext.h"
#include "../../backends/tsm/collateral.h"
#include "fuzz-common.h"

#define ERR EBCC_ERR_VERIFY

static void failed(int r, const char *what)
{
	FUZZ_CHECK(r == ERR || r == EBCC_ERR_NO_MEMORY, "%s failed with %d, not %d", what, r, ERR);
	FUZZ_CHECK(ebcc_last_error_message()[0] != '\0', "%s failed without a message", what);
}

static void levels_sane(const struct ebcc__tcb_level *l, size_t n, const char *what)
{
	FUZZ_CHECK(n >= 1 && n <= EBCC_TCB_LEVELS_MAX, "%s: %zu levels", what, n);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((unsigned)l[i].status < EBCC_TCB_STATUS_COUNT && l[i].date != NULL,
			   "%s: level %zu", what, i);
}

static void tcb_info(const char *text, size_t len)
{
	struct ebcc__tcb_info t;
	int r = ebcc__collateral_tcb_info_parse(EBCC_COLLATERAL_TDX, "tcb_info", text, len, &t);

	if (r < 0) {
		failed(r, "TCB info");
		return;
	}
	levels_sane(t.levels, t.n_levels, "TCB info");
	for (size_t i = 0; i < t.n_modules; i++)
		levels_sane(t.modules[i].levels, t.modules[i].n_levels, "TDX module identity");
	ebcc__collateral_tcb_info_clear(&t);
}

static void qe_identity(const char *text, size_t len)
{
	struct ebcc__qe_identity q;
	int r = ebcc__collateral_qe_identity_parse(EBCC_COLLATERAL_TDX, "qe_identity", text, len,
						   &q);

	if (r < 0) {
		failed(r, "QE identity");
		return;
	}
	levels_sane(q.levels, q.n_levels, "QE identity");
	ebcc__collateral_qe_identity_clear(&q);
}

static void body(const char *text, size_t len)
{
	static const char sig[] = "";
	const char *part = NULL;
	struct json_object *o = NULL;
	uint8_t s[64];
	size_t n = 0;
	int r = ebcc__collateral_signed_part(text, len, "tcbInfo", sig, "tcb_info", &part, &n,
					     s);

	if (r < 0) {
		failed(r, "PCS body");
		return;
	}
	FUZZ_CHECK(part >= text && n <= len && (size_t)(part - text) <= len - n, "outside");
	if (part == text && n == len)
		return; /* not a body: the text itself, with the (empty, so refused) signature */
	FUZZ_CHECK(n >= 2 && part[0] == '{' && part[n - 1] == '}', "not an object's text");
	r = ebcc__json_parse_document(part, n, ERR, "signed part", &o);
	FUZZ_CHECK(r == 0 || r == EBCC_ERR_NO_MEMORY, "the signed part is not one JSON object");
	json_object_put(o);
}

static void pck_ext(const uint8_t *data, size_t len)
{
	struct ebcc__pck_ext e;
	int r = ebcc__pck_ext_parse(data, len, &e);

	if (r < 0)
		failed(r, "SGX extension");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	fuzz_begin(data, size);
	switch (data[0] % 4) {
	case 0:
		tcb_info((const char *)data + 1, size - 1);
		break;
	case 1:
		qe_identity((const char *)data + 1, size - 1);
		break;
	case 2:
		body((const char *)data + 1, size - 1);
		break;
	default:
		pck_ext(data + 1, size - 1);
		break;
	}
	return 0;
}
