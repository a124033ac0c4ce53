/* SPDX-License-Identifier: MIT */
/* SGX DCAP quotes v3: parsing (layout in quote.h); the signature data is dcap.c's. */
#include <inttypes.h>

#include "bytes.h"
#include "ebcc-base.h"
#include "quote.h"

#define WHAT "SGX quote"

void ebcc__sgx_report_body_parse(const uint8_t body[EBCC_SGX_REPORT_BODY_SIZE],
				 struct ebcc__sgx_report_body *ret)
{
	ret->cpu_svn = body + EBCC_SGX_BODY_CPUSVN;
	ret->miscselect = ebcc__le32(body + EBCC_SGX_BODY_MISCSELECT);
	ret->isv_ext_prod_id = body + EBCC_SGX_BODY_ISV_EXT_PROD_ID;
	ret->flags = ebcc__le64(body + EBCC_SGX_BODY_ATTRIBUTES);
	ret->xfrm = ebcc__le64(body + EBCC_SGX_BODY_ATTRIBUTES + 8);
	ret->mrenclave = body + EBCC_SGX_BODY_MRENCLAVE;
	ret->mrsigner = body + EBCC_SGX_BODY_MRSIGNER;
	ret->config_id = body + EBCC_SGX_BODY_CONFIG_ID;
	ret->isv_prod_id = ebcc__le16(body + EBCC_SGX_BODY_ISV_PROD_ID);
	ret->isv_svn = ebcc__le16(body + EBCC_SGX_BODY_ISV_SVN);
	ret->config_svn = ebcc__le16(body + EBCC_SGX_BODY_CONFIG_SVN);
	ret->isv_family_id = body + EBCC_SGX_BODY_ISV_FAMILY_ID;
	ret->report_data = body + EBCC_SGX_BODY_REPORT_DATA;
}

static int parse_header(struct ebcc__dcap_cursor *c, struct ebcc__sgx_quote *q)
{
	const uint8_t *h = NULL, *body = NULL;
	int r = ebcc__dcap_take(c, EBCC_DCAP_HEADER_SIZE, "the header", &h);

	if (r < 0)
		return r;
	q->signed_part = h;
	q->version = ebcc__le16(h);
	q->att_key_type = ebcc__le16(h + 2);
	q->tee_type = ebcc__le32(h + 4);
	q->qe_svn = ebcc__le16(h + 8);
	q->pce_svn = ebcc__le16(h + 10);
	q->qe_vendor_id = h + 12;
	q->user_data = h + 28;
	if (q->version != EBCC_SGX_QUOTE_VERSION)
		return ebcc__error(c->err, WHAT ": version %u, only version %d is understood",
				   q->version, EBCC_SGX_QUOTE_VERSION);
	if (q->att_key_type != EBCC_DCAP_ATT_KEY_ECDSA_P256)
		return ebcc__error(c->err, WHAT ": attestation key type %u, only %d (ECDSA P-256) is "
				   "understood", q->att_key_type, EBCC_DCAP_ATT_KEY_ECDSA_P256);
	if (q->tee_type != EBCC_SGX_TEE_TYPE)
		return ebcc__error(c->err, WHAT ": TEE type 0x%" PRIx32 " is not SGX (0)",
				   q->tee_type);
	r = ebcc__dcap_take(c, EBCC_SGX_REPORT_BODY_SIZE, "the report body", &body);
	if (r == 0)
		ebcc__sgx_report_body_parse(body, &q->body);
	return r;
}

int ebcc__sgx_quote_parse(const uint8_t *data, size_t len, int err, struct ebcc__sgx_quote *ret)
{
	struct ebcc__sgx_quote q = { 0 };
	struct ebcc__dcap_cursor c = { .data = data, .len = len, .err = err, .what = WHAT };
	int r;

	if (data == NULL || len == 0)
		return ebcc__error(err, WHAT " is empty");
	r = parse_header(&c, &q);
	if (r == 0)
		r = ebcc__dcap_signature_length(&c, &q.padding);
	if (r < 0)
		return r;
	q.quote_len = c.len;
	r = ebcc__dcap_sig_keys(&c, &q.sig);
	if (r == 0)
		r = ebcc__dcap_qe_part(&c, &q.sig);
	if (r < 0)
		return r;
	ebcc__sgx_report_body_parse(q.sig.qe_report, &q.qe);
	*ret = q;
	return 0;
}
