/* SPDX-License-Identifier: MIT */
/* TDX quotes v4 and v5: parsing and the checks of their signatures (layout in tdx.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "../common/bytes.h"
#include "crypto.h"
#include "ebcc-private.h"
#include "tdx.h"

#define WHAT "TDX quote"

/* A cursor over the quote with bounds checks that name the field. */
struct cursor {
	const uint8_t *data;
	size_t len, pos;
	int err;
};

static int take(struct cursor *c, size_t n, const char *field, const uint8_t **ret)
{
	if (n > c->len - c->pos)
		return ebcc__error(c->err, WHAT " of %zu bytes is short: %s needs %zu bytes at "
				   "offset %zu, %zu are left",
				   c->len, field, n, c->pos, c->len - c->pos);
	*ret = c->data + c->pos;
	c->pos += n;
	return 0;
}

static int take_u16(struct cursor *c, const char *field, uint16_t *ret)
{
	const uint8_t *p = NULL;
	int r = take(c, 2, field, &p);

	if (r == 0)
		*ret = ebcc__le16(p);
	return r;
}

static int take_u32(struct cursor *c, const char *field, uint32_t *ret)
{
	const uint8_t *p = NULL;
	int r = take(c, 4, field, &p);

	if (r == 0)
		*ret = ebcc__le32(p);
	return r;
}

static int parse_header(struct cursor *c, struct ebcc__tdx_quote *q)
{
	const uint8_t *h = NULL, *body = NULL, *desc = NULL;
	size_t body_size = EBCC_TDX_BODY_SIZE;
	int r = take(c, EBCC_TDX_HEADER_SIZE, "the header", &h);

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

		r = take(c, EBCC_TDX_BODY_DESCRIPTOR_SIZE, "the body type and size", &desc);
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
	r = take(c, body_size, "the TD report body", &body);
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

static bool base64_char(uint8_t ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '+' || ch == '/' || ch == '=';
}

/* The PCK chain as Intel serves it: certificates in PEM, lines ended by '\n', base64 lines of
 * at most 64 characters, nothing between the blocks, NUL bytes after the last one. Anything
 * else is refused, so that no byte of the chain can change without the quote failing. */
static int pck_chain_strict(const uint8_t *p, size_t len, int err)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----", end[] = "-----END CERTIFICATE-----";
	size_t pos = 0, line = 0;
	bool inside = false;

	while (len > 0 && p[len - 1] == '\0')
		len--;
	while (pos < len) {
		const uint8_t *nl = memchr(p + pos, '\n', len - pos);
		size_t n = nl != NULL ? (size_t)(nl - (p + pos)) : len - pos;

		line++;
		if (nl == NULL)
			return ebcc__error(err, WHAT ": the PCK certificate chain's line %zu has no "
					   "newline", line);
		if (!inside && n == sizeof(begin) - 1 && memcmp(p + pos, begin, n) == 0) {
			inside = true;
		} else if (inside && n == sizeof(end) - 1 && memcmp(p + pos, end, n) == 0) {
			inside = false;
		} else if (inside && n > 0 && n <= 64) {
			for (size_t i = 0; i < n; i++)
				if (!base64_char(p[pos + i]))
					return ebcc__error(err, WHAT ": the PCK certificate chain's "
							   "line %zu holds a byte 0x%02x that is not "
							   "base64", line, p[pos + i]);
		} else {
			return ebcc__error(err, WHAT ": the PCK certificate chain's line %zu is not "
					   "PEM as Intel serves it (BEGIN/END lines and base64 lines "
					   "of at most 64 characters)", line);
		}
		pos += n + 1;
	}
	if (inside || line == 0)
		return ebcc__error(err, WHAT ": the PCK certificate chain ends inside a certificate "
				   "or holds none");
	return 0;
}

int ebcc__tdx_quote_parse(const uint8_t *data, size_t len, int err, struct ebcc__tdx_quote *ret)
{
	struct ebcc__tdx_quote q = { 0 };
	struct cursor c = { .data = data, .len = len, .err = err };
	uint32_t sig_len = 0, outer_size = 0, inner_size = 0;
	uint16_t outer_type = 0, inner_type = 0, auth_len = 0;
	const uint8_t *p = NULL;
	int r;

	if (data == NULL || len == 0)
		return ebcc__error(err, WHAT " is empty");
	r = parse_header(&c, &q);
	if (r == 0)
		r = take_u32(&c, "the signature data length", &sig_len);
	if (r < 0)
		return r;
	if (sig_len > len - c.pos)
		return ebcc__error(err, WHAT " of %zu bytes is short: the signature data length "
				   "says %" PRIu32 " bytes follow at offset %zu, but %zu do",
				   len, sig_len, c.pos, len - c.pos);
	if (sig_len < len - c.pos) {
		/* Padding: the quote service's buffer is larger than the quote. */
		size_t end = c.pos + sig_len;

		for (size_t i = end; i < len; i++)
			if (data[i] != 0)
				return ebcc__error(err, WHAT " of %zu bytes: %zu bytes follow its "
						   "signature data (%" PRIu32 " bytes at offset "
						   "%zu), and they are not all zero (byte at "
						   "offset %zu is 0x%02x); only zero padding may "
						   "follow a quote",
						   len, len - end, sig_len, c.pos, i, data[i]);
		q.padding = len - end;
		len = end;
		c.len = end;
	}
	q.quote_len = len;
	r = take(&c, 64, "the quote signature", &q.signature);
	if (r == 0)
		r = take(&c, 64, "the attestation key", &q.att_key);
	if (r == 0)
		r = take_u16(&c, "the certification data type", &outer_type);
	if (r == 0)
		r = take_u32(&c, "the certification data size", &outer_size);
	if (r < 0)
		return r;
	if (outer_type != EBCC_TDX_CERT_QE_REPORT)
		return ebcc__error(err, WHAT ": certification data type %u, only %d (QE report "
				   "certification data) is understood",
				   outer_type, EBCC_TDX_CERT_QE_REPORT);
	if (outer_size != len - c.pos)
		return ebcc__error(err, WHAT ": the QE report certification data says %" PRIu32
				   " bytes at offset %zu, %zu are there",
				   outer_size, c.pos, len - c.pos);
	r = take(&c, EBCC_TDX_QE_REPORT_SIZE, "the QE report", &q.qe_report);
	if (r == 0)
		r = take(&c, 64, "the QE report signature", &q.qe_report_signature);
	if (r == 0)
		r = take_u16(&c, "the QE authentication data size", &auth_len);
	if (r == 0)
		r = take(&c, auth_len, "the QE authentication data", &q.qe_auth);
	if (r == 0)
		r = take_u16(&c, "the PCK certification data type", &inner_type);
	if (r == 0)
		r = take_u32(&c, "the PCK certification data size", &inner_size);
	if (r < 0)
		return r;
	q.qe_auth_len = auth_len;
	q.qe_report_isvprodid = ebcc__le16(q.qe_report + EBCC_TDX_QE_REPORT_ISVPRODID);
	q.qe_report_isvsvn = ebcc__le16(q.qe_report + EBCC_TDX_QE_REPORT_ISVSVN);
	if (inner_type != EBCC_TDX_CERT_PCK_CHAIN)
		return ebcc__error(err, WHAT ": PCK certification data type %u, only %d (the PCK "
				   "certificate chain in PEM) is understood",
				   inner_type, EBCC_TDX_CERT_PCK_CHAIN);
	if (inner_size != len - c.pos || inner_size == 0)
		return ebcc__error(err, WHAT ": the PCK certificate chain says %" PRIu32 " bytes at "
				   "offset %zu, %zu are there",
				   inner_size, c.pos, len - c.pos);
	r = take(&c, inner_size, "the PCK certificate chain", &p);
	if (r == 0)
		r = pck_chain_strict(p, inner_size, err);
	if (r < 0)
		return r;
	q.pck_chain = p;
	q.pck_chain_len = inner_size;
	*ret = q;
	return 0;
}

/* ---- signatures ---------------------------------------------------------------------------- */

static int check_qe_binding(const struct ebcc__tdx_quote *q)
{
	uint8_t expected[EBCC_SHA256_SIZE], *buf;
	static const uint8_t zero[32];
	size_t n = 64 + q->qe_auth_len;
	int r;

	buf = malloc(n);
	if (buf == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	memcpy(buf, q->att_key, 64);
	if (q->qe_auth_len > 0)
		memcpy(buf + 64, q->qe_auth, q->qe_auth_len);
	r = ebcc__sha256(buf, n, expected);
	free(buf);
	if (r < 0)
		return r;
	if (memcmp(q->qe_report + EBCC_TDX_QE_REPORT_DATA, expected, sizeof(expected)) != 0 ||
	    memcmp(q->qe_report + EBCC_TDX_QE_REPORT_DATA + 32, zero, sizeof(zero)) != 0)
		return ebcc__error(EBCC_ERR_VERIFY,
				   WHAT ": the QE report does not vouch for the attestation key: its "
				   "REPORTDATA is not SHA-256(attestation key || QE authentication "
				   "data) followed by zeros");
	return 0;
}

static int trust_pck(STACK_OF(X509) *chain,
		     EVP_PKEY *pck_key, const char *pck_name, const struct ebcc__tsm_policy *p,
		     struct ebcc__tsm_signature *ret)
{
	static const char checked[] = "the quote is signed by its attestation key, which the QE "
				      "report vouches for; the QE report is signed by the PCK "
				      "certificate";
	int r;

	if (p->tdx_roots != NULL) {
		STACK_OF(X509) *rest = sk_X509_dup(chain);
		X509 *top = NULL;

		if (rest == NULL)
			return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
		(void)sk_X509_shift(rest);
		r = ebcc__x509_chain_verify(sk_X509_value(chain, 0), rest, p->tdx_roots,
					    ebcc__tsm_policy_time(p), WHAT ": the PCK certificate chain",
					    &top);
		sk_X509_free(rest);
		if (r < 0)
			return r;
		ebcc__x509_name(top, ret->root, sizeof(ret->root));
		ebcc__x509_sha256_hex(top, ret->root_sha256);
		X509_free(top);
		ret->verified = true;
		snprintf(ret->detail, sizeof(ret->detail),
			 "verified: %s \"%s\", which chains to the policy's tdx_root_ca (\"%s\")",
			 checked, pck_name, ret->root);
		return 0;
	}
	if (p->n_keys > 0) {
		for (size_t i = 0; i < p->n_keys; i++) {
			if (ebcc__pkey_equal(p->keys[i], pck_key)) {
				ret->verified = true;
				snprintf(ret->detail, sizeof(ret->detail),
					 "verified: %s \"%s\", whose key is trusted_keys[%zu]",
					 checked, pck_name, i);
				return 0;
			}
		}
		return ebcc__error(EBCC_ERR_VERIFY,
				   WHAT ": none of the %zu trusted_keys is the key of its PCK "
				   "certificate \"%s\", and the policy gives no "
				   "backend_options.tsm.tdx_root_ca",
				   p->n_keys, pck_name);
	}
	ret->verified = false;
	snprintf(ret->detail, sizeof(ret->detail),
		 "not verified: no certificate chain (backend_options.tsm.tdx_root_ca) or key "
		 "(trusted_keys) in the policy; the quote's own signatures agree (%s \"%s\" it "
		 "carries), but nothing ties that certificate to Intel",
		 checked, pck_name);
	return 0;
}

int ebcc__tdx_quote_verify(const struct ebcc__tdx_quote *q, const struct ebcc__tsm_policy *p,
			   struct ebcc__tsm_signature *ret)
{
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *pck_key = NULL, *att_key = NULL;
	char pck_name[128];
	int r, ok;

	r = ebcc__x509_list_from_pem((const char *)q->pck_chain, q->pck_chain_len,
				     WHAT ": the PCK certificate chain", EBCC_ERR_VERIFY, &chain);
	if (r < 0)
		return r;
	ebcc__x509_name(sk_X509_value(chain, 0), pck_name, sizeof(pck_name));
	snprintf(ret->signer, sizeof(ret->signer), "%s", pck_name);
	pck_key = X509_get_pubkey(sk_X509_value(chain, 0));
	if (pck_key == NULL || !ebcc__ec_key_is(pck_key, "P-256")) {
		r = ebcc__error(EBCC_ERR_VERIFY, WHAT ": the PCK certificate \"%s\" has no ECDSA "
				"P-256 key", pck_name);
		goto out;
	}
	ok = ebcc__ecdsa_verify_raw(pck_key, "SHA256", q->qe_report, EBCC_TDX_QE_REPORT_SIZE,
				    q->qe_report_signature, q->qe_report_signature + 32, 32, false);
	if (ok <= 0) {
		r = ok < 0 ? ok : ebcc__error(EBCC_ERR_VERIFY,
					      WHAT ": the QE report signature does not verify "
					      "with the PCK certificate \"%s\"",
					      pck_name);
		goto out;
	}
	r = check_qe_binding(q);
	if (r < 0)
		goto out;
	r = ebcc__ec_key_from_raw("P-256", q->att_key, 64, &att_key);
	if (r < 0) {
		r = ebcc__error_prefix(r, WHAT ": the attestation key");
		goto out;
	}
	ok = ebcc__ecdsa_verify_raw(att_key, "SHA256", q->signed_part, q->signed_len,
				    q->signature, q->signature + 32, 32, false);
	if (ok <= 0) {
		r = ok < 0 ? ok : ebcc__error(EBCC_ERR_VERIFY,
					      WHAT ": the quote signature does not verify with its "
					      "attestation key (header or TD report changed?)");
		goto out;
	}
	r = trust_pck(chain, pck_key, pck_name, p, ret);
out:
	EVP_PKEY_free(att_key);
	EVP_PKEY_free(pck_key);
	ebcc__x509_list_free(chain);
	return r;
}
