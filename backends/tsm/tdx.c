/* SPDX-License-Identifier: MIT */
/* TDX quotes v4 and v5: parsing and the checks of their signatures (layout in tdx.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "dcap.h"
#include "ebcc-base.h"
#include "tdx.h"

#define WHAT "TDX quote"

static int parse_header(struct ebcc__dcap_cursor *c, struct ebcc__tdx_quote *q)
{
	const uint8_t *h = NULL, *body = NULL, *desc = NULL;
	size_t body_size = EBCC_TDX_BODY_SIZE;
	int r = ebcc__dcap_take(c, EBCC_TDX_HEADER_SIZE, "the header", &h);

	if (r < 0)
		return r;
	q->signed_part = h;
	q->version = ebcc__le16(h);
	q->att_key_type = ebcc__le16(h + 2);
	q->tee_type = ebcc__le32(h + 4);
	q->qe_svn = ebcc__le16(h + 8);
	q->pce_svn = ebcc__le16(h + 10);
	q->qe_vendor_id = h + 12;
	if (q->version != EBCC_TDX_QUOTE_VERSION && q->version != EBCC_TDX_QUOTE_VERSION_5)
		return ebcc__error(c->err, WHAT ": version %u, only versions %d and %d are "
				   "understood", q->version, EBCC_TDX_QUOTE_VERSION,
				   EBCC_TDX_QUOTE_VERSION_5);
	if (q->att_key_type != EBCC_TDX_ATT_KEY_ECDSA_P256)
		return ebcc__error(c->err, WHAT ": attestation key type %u, only %d (ECDSA P-256) is "
				   "understood", q->att_key_type, EBCC_TDX_ATT_KEY_ECDSA_P256);
	if (q->tee_type != EBCC_TDX_TEE_TYPE)
		return ebcc__error(c->err, WHAT ": TEE type 0x%" PRIx32 " is not TDX (0x%x)",
				   q->tee_type, EBCC_TDX_TEE_TYPE);
	if (q->version == EBCC_TDX_QUOTE_VERSION_5) {
		uint32_t size;

		r = ebcc__dcap_take(c, EBCC_TDX_BODY_DESCRIPTOR_SIZE, "the body type and size", &desc);
		if (r < 0)
			return r;
		q->body_type = ebcc__le16(desc);
		size = ebcc__le32(desc + 2);
		if (q->body_type == EBCC_TDX_BODY_TYPE_TD10)
			body_size = EBCC_TDX_BODY_SIZE;
		else if (q->body_type == EBCC_TDX_BODY_TYPE_TD15)
			body_size = EBCC_TDX_BODY15_SIZE;
		else
			return ebcc__error(c->err, WHAT " v5: body type %u, only %d (TD report 1.0) "
					   "and %d (TD report 1.5) are understood",
					   q->body_type, EBCC_TDX_BODY_TYPE_TD10,
					   EBCC_TDX_BODY_TYPE_TD15);
		if (size != body_size)
			return ebcc__error(c->err, WHAT " v5: body size %" PRIu32 " at offset %d, a "
					   "body of type %u is %zu bytes",
					   size, EBCC_TDX_HEADER_SIZE + 2, q->body_type, body_size);
	} else {
		q->body_type = EBCC_TDX_BODY_TYPE_TD10;
	}
	r = ebcc__dcap_take(c, body_size, "the TD report body", &body);
	if (r < 0)
		return r;
	q->signed_len = (size_t)(body + body_size - h);
	q->tee_tcb_svn = body;
	q->mrseam = body + 16;
	q->mrsignerseam = body + 64;
	q->seam_attributes = ebcc__le64(body + 112);
	q->td_attributes = ebcc__le64(body + EBCC_TDX_BODY_TD_ATTRIBUTES);
	q->xfam = ebcc__le64(body + EBCC_TDX_BODY_TD_ATTRIBUTES + 8);
	q->mrtd = body + EBCC_TDX_BODY_MRTD;
	q->mrconfigid = body + 184;
	q->mrowner = body + 232;
	q->mrownerconfig = body + 280;
	for (int i = 0; i < 4; i++)
		q->rtmr[i] = body + 328 + 48 * i;
	q->report_data = body + EBCC_TDX_BODY_REPORT_DATA;
	if (q->body_type == EBCC_TDX_BODY_TYPE_TD15) {
		q->tee_tcb_svn2 = body + EBCC_TDX_BODY_SIZE;
		q->mrservicetd = body + EBCC_TDX_BODY_SIZE + 16;
	}
	return 0;
}

int ebcc__tdx_quote_parse(const uint8_t *data, size_t len, int err, struct ebcc__tdx_quote *ret)
{
	struct ebcc__tdx_quote q = { 0 };
	struct ebcc__dcap_cursor c = { .data = data, .len = len, .err = err, .what = WHAT };
	struct ebcc__dcap_sig s = { 0 };
	uint32_t outer_size = 0;
	uint16_t outer_type = 0;
	int r;

	if (data == NULL || len == 0)
		return ebcc__error(err, WHAT " is empty");
	r = parse_header(&c, &q);
	if (r == 0)
		r = ebcc__dcap_signature_length(&c, &q.padding);
	if (r < 0)
		return r;
	q.quote_len = c.len;
	r = ebcc__dcap_sig_keys(&c, &s);
	if (r == 0)
		r = ebcc__dcap_take_u16(&c, "the certification data type", &outer_type);
	if (r == 0)
		r = ebcc__dcap_take_u32(&c, "the certification data size", &outer_size);
	if (r < 0)
		return r;
	if (outer_type != EBCC_DCAP_CERT_QE_REPORT)
		return ebcc__error(err, WHAT ": certification data type %u, only %d (QE report "
				   "certification data) is understood",
				   outer_type, EBCC_DCAP_CERT_QE_REPORT);
	if (outer_size != c.len - c.pos)
		return ebcc__error(err, WHAT ": the QE report certification data says %" PRIu32
				   " bytes at offset %zu, %zu are there",
				   outer_size, c.pos, c.len - c.pos);
	r = ebcc__dcap_qe_part(&c, &s);
	if (r < 0)
		return r;
	q.sig = s;
	*ret = q;
	return 0;
}

int ebcc__tdx_quote_verify(const struct ebcc__tdx_quote *q, const struct ebcc__tsm_policy *p,
			   struct ebcc__tsm_signature *ret)
{
	const struct ebcc__dcap_trust t = {
		.roots = p->tdx_roots,
		.keys = p->keys,
		.n_keys = p->n_keys,
		.at = ebcc__tsm_policy_time(p),
		.root_option = "backend_options.tsm.tdx_root_ca",
	};

	return ebcc__dcap_verify(WHAT, q->signed_part, q->signed_len, &q->sig, &t, ret, NULL);
}
