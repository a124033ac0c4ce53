/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: the tsm backend's parsers of what a host hands over (backends/tsm/tdx.c, snp.c):
 * a TDX quote as configfs-tsm or a relying party gives it, an SEV-SNP attestation report, and
 * the SEV-SNP certificate table of the auxblob.
 *
 * An input is one selector byte, then the bytes for that parser:
 *   0  a TDX quote (v4 or v5, possibly followed by padding)
 *   1  an SEV-SNP report
 *   2  an SEV-SNP certificate table as a host lays it out
 *   3  the AMD extensions of a VCEK or VLEK: records of an OID index byte (taken modulo the
 *      table in endorsement()), a length byte and that many bytes of extension value, put
 *      into a certificate in that order
 * (the selector is taken modulo 4).
 *
 * Properties:
 *  - every failure is the error code asked for with a message;
 *  - a parsed TDX quote is version 4 or 5, accounts for every byte (quote_len + padding ==
 *    the input, the padding all zero), and every field it points at lies inside the quote,
 *    the signed part at its start;
 *  - a parsed SNP report is exactly EBCC_SNP_REPORT_SIZE bytes, its fields inside it;
 *  - a certificate table that canonicalizes gives a canonical table that parses and
 *    canonicalizes to itself; a table that parses is its own canonical form (or holds no
 *    certificate, and canonicalizes to nothing);
 *  - extensions that parse have every SPL, a productName that is a C string of its buffer, and
 *    a product line that matches the name's prefix.
 */
#include <openssl/x509v3.h>

#include "../../backends/tsm/snp.h"
#include "../../backends/tsm/snp_tcb.h"
#include "../../backends/tsm/tdx.h"
#include "fuzz-common.h"

#define ERR EBCC_ERR_VERIFY

static bool inside(const uint8_t *p, size_t n, const uint8_t *base, size_t len)
{
	return p != NULL && p >= base && n <= len && (size_t)(p - base) <= len - n;
}

static void failed(int r, int want, const char *what)
{
	FUZZ_CHECK(r == want || r == EBCC_ERR_NO_MEMORY, "%s failed with %d, not %d", what, r, want);
	FUZZ_CHECK(ebcc_last_error_message()[0] != '\0', "%s failed without a message", what);
}

static void tdx(const uint8_t *data, size_t len)
{
	struct ebcc__tdx_quote q;
	int r = ebcc__tdx_quote_parse(data, len, ERR, &q);

	if (r < 0) {
		failed(r, ERR, "TDX quote");
		return;
	}
	FUZZ_CHECK(q.version == EBCC_TDX_QUOTE_VERSION || q.version == EBCC_TDX_QUOTE_VERSION_5,
		   "version %u parsed", q.version);
	FUZZ_CHECK(q.quote_len + q.padding == len, "%zu + %zu bytes of %zu", q.quote_len,
		   q.padding, len);
	for (size_t i = q.quote_len; i < len; i++)
		FUZZ_CHECK(data[i] == 0, "padding byte %zu is %u", i, data[i]);
	FUZZ_CHECK(q.signed_part == data && q.signed_len <= q.quote_len, "signed part");
	FUZZ_CHECK(inside(q.mrtd, 48, data, q.signed_len) &&
			   inside(q.report_data, 64, data, q.signed_len) &&
			   inside(q.tee_tcb_svn, 16, data, q.signed_len),
		   "TD report fields outside the signed part");
	FUZZ_CHECK(inside(q.sig.signature, 64, data, q.quote_len) &&
			   inside(q.sig.att_key, 64, data, q.quote_len) &&
			   inside(q.sig.qe_report, EBCC_TDX_QE_REPORT_SIZE, data, q.quote_len) &&
			   inside(q.sig.qe_report_signature, 64, data, q.quote_len),
		   "signature data outside the quote");
	FUZZ_CHECK(q.sig.qe_auth_len == 0 || inside(q.sig.qe_auth, q.sig.qe_auth_len, data, q.quote_len),
		   "QE authentication data outside the quote");
	FUZZ_CHECK(q.sig.pck_chain_len == 0 || inside(q.sig.pck_chain, q.sig.pck_chain_len, data, q.quote_len),
		   "PCK chain outside the quote");
	FUZZ_CHECK((q.mrservicetd == NULL) == (q.tee_tcb_svn2 == NULL), "TD report 1.5 fields");
	if (q.mrservicetd != NULL)
		FUZZ_CHECK(inside(q.mrservicetd, 48, data, q.signed_len) &&
				   inside(q.tee_tcb_svn2, 16, data, q.signed_len),
			   "TD report 1.5 fields outside the signed part");
}

static void snp(const uint8_t *data, size_t len)
{
	struct ebcc__snp_report rep;
	int r = ebcc__snp_report_parse(data, len, ERR, &rep);

	if (r < 0) {
		failed(r, ERR, "SNP report");
		return;
	}
	FUZZ_CHECK(len == EBCC_SNP_REPORT_SIZE, "a %zu-byte report parsed", len);
	FUZZ_CHECK(rep.raw == data, "raw");
	FUZZ_CHECK(rep.report_data == data + EBCC_SNP_REPORT_DATA &&
			   rep.measurement == data + EBCC_SNP_MEASUREMENT,
		   "report data or measurement elsewhere than the layout says");
	FUZZ_CHECK(inside(rep.chip_id, 64, data, len) && inside(rep.host_data, 32, data, len) &&
			   inside(rep.sig_r, EBCC_SNP_SIG_COMPONENT, data, len) &&
			   inside(rep.sig_s, EBCC_SNP_SIG_COMPONENT, data, len),
		   "fields outside the report");
	FUZZ_CHECK(ebcc__snp_product_name(rep.product) != NULL, "no product name");
}

static void certs(const uint8_t *data, size_t len)
{
	struct ebcc__snp_certs c = { 0 };
	uint8_t *canon = NULL, *again = NULL;
	size_t canon_len = 0, again_len = 0;
	int r = ebcc__snp_certs_parse(data, len, ERR, &c);
	bool none = c.vcek == NULL && c.vlek == NULL && c.ask == NULL && c.ark == NULL;

	ebcc__snp_certs_clear(&c);
	if (r < 0) {
		failed(r, ERR, "certificate table");
	} else {
		/* Parsing accepts only the canonical form (a table of no certificate, a bare
		 * terminator, canonicalizes to nothing at all). */
		FUZZ_CHECK(ebcc__snp_certs_canonical(data, len, &canon, &canon_len) == 0,
			   "a table that parses does not canonicalize");
		FUZZ_CHECK((canon_len == 0 && none) ||
				   (canon_len == len && memcmp(canon, data, len) == 0),
			   "a parsed table is not its own canonical form");
		free(canon);
		canon = NULL;
	}
	fuzz_message_reset();
	r = ebcc__snp_certs_canonical(data, len, &canon, &canon_len);
	if (r < 0) {
		failed(r, EBCC_ERR_BACKEND, "canonical certificate table");
		return;
	}
	r = ebcc__snp_certs_parse(canon, canon_len, ERR, &c);
	ebcc__snp_certs_clear(&c);
	FUZZ_CHECK(r == 0 || r == EBCC_ERR_NO_MEMORY || r == ERR,
		   "the canonical table fails with %d", r);
	if (r == 0) {
		FUZZ_CHECK(ebcc__snp_certs_canonical(canon, canon_len, &again, &again_len) == 0,
			   "the canonical table does not canonicalize");
		FUZZ_CHECK(again_len == canon_len &&
				   (canon_len == 0 || memcmp(again, canon, canon_len) == 0),
			   "canonicalizing twice changes the table");
	}
	free(again);
	free(canon);
}

static void endorsement(const uint8_t *data, size_t len)
{
	static const char *const oids[] = {
		"1.3.6.1.4.1.3704.1.1",	  "1.3.6.1.4.1.3704.1.2",   "1.3.6.1.4.1.3704.1.3.1",
		"1.3.6.1.4.1.3704.1.3.2", "1.3.6.1.4.1.3704.1.3.3", "1.3.6.1.4.1.3704.1.3.8",
		"1.3.6.1.4.1.3704.1.3.9", "1.3.6.1.4.1.3704.1.4",   "1.3.6.1.4.1.3704.1.5",
	};
	struct ebcc__snp_endorsement e;
	X509 *cert = X509_new();
	int r;

	if (cert == NULL)
		return;
	for (size_t at = 0; at + 2 <= len && at + 2 + data[at + 1] <= len; at += 2 + data[at + 1]) {
		ASN1_OBJECT *obj = OBJ_txt2obj(oids[data[at] % EBCC_ARRAY_SIZE(oids)], 1);
		ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
		X509_EXTENSION *ext = NULL;

		if (obj != NULL && value != NULL &&
		    ASN1_OCTET_STRING_set(value, data + at + 2, data[at + 1]) == 1)
			ext = X509_EXTENSION_create_by_OBJ(NULL, obj, 0, value);
		if (ext != NULL)
			X509_add_ext(cert, ext, -1);
		X509_EXTENSION_free(ext);
		ASN1_OCTET_STRING_free(value);
		ASN1_OBJECT_free(obj);
	}
	r = ebcc__snp_endorsement_parse(cert, "VCEK", &e);
	X509_free(cert);
	if (r < 0) {
		failed(r, ERR, "VCEK extensions");
		return;
	}
	FUZZ_CHECK(e.present && strlen(e.product) > 0 && strlen(e.product) < sizeof(e.product),
		   "productName");
	FUZZ_CHECK(strlen(e.csp_id) < sizeof(e.csp_id), "csp_id");
	FUZZ_CHECK(e.product_line == EBCC_SNP_PRODUCT_OTHER ||
			   strncmp(e.product, ebcc__snp_product_name(e.product_line),
				   strlen(ebcc__snp_product_name(e.product_line))) == 0,
		   "product line %d for \"%s\"", e.product_line, e.product);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	fuzz_begin(data, size);
	switch (data[0] % 4) {
	case 0:
		tdx(data + 1, size - 1);
		break;
	case 1:
		snp(data + 1, size - 1);
		break;
	case 2:
		certs(data + 1, size - 1);
		break;
	default:
		endorsement(data + 1, size - 1);
		break;
	}
	return 0;
}
