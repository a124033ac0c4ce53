/* SPDX-License-Identifier: MIT */
/* The signature data of DCAP ECDSA quotes and its checks (layout in dcap.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "bytes.h"
#include "crypto.h"
#include "dcap.h"
#include "ebcc-base.h"

int ebcc__dcap_take(struct ebcc__dcap_cursor *c, size_t n, const char *field,
		    const uint8_t **ret)
{
	if (n > c->len - c->pos)
		return ebcc__error(c->err, "%s of %zu bytes is short: %s needs %zu bytes at "
				   "offset %zu, %zu are left",
				   c->what, c->len, field, n, c->pos, c->len - c->pos);
	*ret = c->data + c->pos;
	c->pos += n;
	return 0;
}

int ebcc__dcap_take_u16(struct ebcc__dcap_cursor *c, const char *field, uint16_t *ret)
{
	const uint8_t *p = NULL;
	int r = ebcc__dcap_take(c, 2, field, &p);

	if (r == 0)
		*ret = ebcc__le16(p);
	return r;
}

int ebcc__dcap_take_u32(struct ebcc__dcap_cursor *c, const char *field, uint32_t *ret)
{
	const uint8_t *p = NULL;
	int r = ebcc__dcap_take(c, 4, field, &p);

	if (r == 0)
		*ret = ebcc__le32(p);
	return r;
}

int ebcc__dcap_signature_length(struct ebcc__dcap_cursor *c, size_t *ret_padding)
{
	uint32_t sig_len = 0;
	size_t end;
	int r = ebcc__dcap_take_u32(c, "the signature data length", &sig_len);

	if (r < 0)
		return r;
	if (sig_len > c->len - c->pos)
		return ebcc__error(c->err, "%s of %zu bytes is short: the signature data length "
				   "says %" PRIu32 " bytes follow at offset %zu, but %zu do",
				   c->what, c->len, sig_len, c->pos, c->len - c->pos);
	end = c->pos + sig_len;
	/* Padding: the quote service's buffer is larger than the quote. */
	for (size_t i = end; i < c->len; i++)
		if (c->data[i] != 0)
			return ebcc__error(c->err, "%s of %zu bytes: %zu bytes follow its signature "
					   "data (%" PRIu32 " bytes at offset %zu), and they are "
					   "not all zero (byte at offset %zu is 0x%02x); only zero "
					   "padding may follow a quote",
					   c->what, c->len, c->len - end, sig_len, c->pos, i,
					   c->data[i]);
	*ret_padding = c->len - end;
	c->len = end;
	return 0;
}

int ebcc__dcap_sig_keys(struct ebcc__dcap_cursor *c, struct ebcc__dcap_sig *s)
{
	int r = ebcc__dcap_take(c, 64, "the quote signature", &s->signature);

	if (r == 0)
		r = ebcc__dcap_take(c, 64, "the attestation key", &s->att_key);
	return r;
}

static bool base64_char(uint8_t ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
	       ch == '+' || ch == '/' || ch == '=';
}

/* The PCK chain as Intel serves it: certificates in PEM, lines ended by '\n', base64 lines of
 * at most 64 characters, nothing between the blocks, NUL bytes after the last one. Anything
 * else is refused, so that no byte of the chain can change without the quote failing. */
static int pck_chain_strict(const uint8_t *p, size_t len, int err, const char *what)
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
			return ebcc__error(err, "%s: the PCK certificate chain's line %zu has no "
					   "newline", what, line);
		if (!inside && n == sizeof(begin) - 1 && memcmp(p + pos, begin, n) == 0) {
			inside = true;
		} else if (inside && n == sizeof(end) - 1 && memcmp(p + pos, end, n) == 0) {
			inside = false;
		} else if (inside && n > 0 && n <= 64) {
			for (size_t i = 0; i < n; i++)
				if (!base64_char(p[pos + i]))
					return ebcc__error(err, "%s: the PCK certificate chain's "
							   "line %zu holds a byte 0x%02x that is not "
							   "base64", what, line, p[pos + i]);
		} else {
			return ebcc__error(err, "%s: the PCK certificate chain's line %zu is not "
					   "PEM as Intel serves it (BEGIN/END lines and base64 lines "
					   "of at most 64 characters)", what, line);
		}
		pos += n + 1;
	}
	if (inside || line == 0)
		return ebcc__error(err, "%s: the PCK certificate chain ends inside a certificate "
				   "or holds none", what);
	return 0;
}

static const char *cert_type_name(uint16_t type)
{
	switch (type) {
	case 1:
		return "PPID in clear text";
	case 2:
		return "PPID encrypted with RSA-2048";
	case 3:
		return "PPID encrypted with RSA-3072";
	case 4:
		return "the PCK certificate alone";
	case EBCC_DCAP_CERT_QE_REPORT:
		return "QE report certification data";
	default:
		return "unknown";
	}
}

int ebcc__dcap_qe_part(struct ebcc__dcap_cursor *c, struct ebcc__dcap_sig *s)
{
	uint16_t auth_len = 0, type = 0;
	uint32_t size = 0;
	const uint8_t *p = NULL;
	int r = ebcc__dcap_take(c, EBCC_DCAP_QE_REPORT_SIZE, "the QE report", &s->qe_report);

	if (r == 0)
		r = ebcc__dcap_take(c, 64, "the QE report signature", &s->qe_report_signature);
	if (r == 0)
		r = ebcc__dcap_take_u16(c, "the QE authentication data size", &auth_len);
	if (r == 0)
		r = ebcc__dcap_take(c, auth_len, "the QE authentication data", &s->qe_auth);
	if (r == 0)
		r = ebcc__dcap_take_u16(c, "the PCK certification data type", &type);
	if (r == 0)
		r = ebcc__dcap_take_u32(c, "the PCK certification data size", &size);
	if (r < 0)
		return r;
	s->qe_auth_len = auth_len;
	s->qe_report_isvprodid = ebcc__le16(s->qe_report + EBCC_DCAP_QE_REPORT_ISVPRODID);
	s->qe_report_isvsvn = ebcc__le16(s->qe_report + EBCC_DCAP_QE_REPORT_ISVSVN);
	if (type != EBCC_DCAP_CERT_PCK_CHAIN)
		return ebcc__error(c->err, "%s: PCK certification data type %u (%s), only %d (the "
				   "PCK certificate chain in PEM) is understood",
				   c->what, type, cert_type_name(type), EBCC_DCAP_CERT_PCK_CHAIN);
	if (size != c->len - c->pos || size == 0)
		return ebcc__error(c->err, "%s: the PCK certificate chain says %" PRIu32 " bytes at "
				   "offset %zu, %zu are there",
				   c->what, size, c->pos, c->len - c->pos);
	r = ebcc__dcap_take(c, size, "the PCK certificate chain", &p);
	if (r == 0)
		r = pck_chain_strict(p, size, c->err, c->what);
	if (r < 0)
		return r;
	s->pck_chain = p;
	s->pck_chain_len = size;
	return 0;
}

/* ---- signatures ---------------------------------------------------------------------------- */

static int check_qe_binding(const char *what, const struct ebcc__dcap_sig *s)
{
	uint8_t expected[EBCC_SHA256_SIZE], *buf;
	static const uint8_t zero[32];
	size_t n = 64 + s->qe_auth_len;
	int r;

	buf = malloc(n);
	if (buf == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	memcpy(buf, s->att_key, 64);
	if (s->qe_auth_len > 0)
		memcpy(buf + 64, s->qe_auth, s->qe_auth_len);
	r = ebcc__sha256(buf, n, expected);
	free(buf);
	if (r < 0)
		return r;
	if (memcmp(s->qe_report + EBCC_DCAP_QE_REPORT_DATA, expected, sizeof(expected)) != 0 ||
	    memcmp(s->qe_report + EBCC_DCAP_QE_REPORT_DATA + 32, zero, sizeof(zero)) != 0)
		return ebcc__error(EBCC_ERR_VERIFY,
				   "%s: the QE report does not vouch for the attestation key: its "
				   "REPORTDATA is not SHA-256(attestation key || QE authentication "
				   "data) followed by zeros", what);
	return 0;
}

static int trust_pck(const char *what, STACK_OF(X509) *chain, EVP_PKEY *pck_key,
		     const char *pck_name, const struct ebcc__dcap_trust *t,
		     struct ebcc__tsm_signature *ret)
{
	static const char checked[] = "the quote is signed by its attestation key, which the QE "
				      "report vouches for; the QE report is signed by the PCK "
				      "certificate";
	char where[160];
	int r;

	if (t->roots != NULL) {
		STACK_OF(X509) *rest = sk_X509_dup(chain);
		X509 *top = NULL;

		if (rest == NULL)
			return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
		(void)sk_X509_shift(rest);
		snprintf(where, sizeof(where), "%s: the PCK certificate chain", what);
		r = ebcc__x509_chain_verify(sk_X509_value(chain, 0), rest, t->roots, t->at, where,
					    &top);
		sk_X509_free(rest);
		if (r < 0)
			return r;
		ebcc__x509_name(top, ret->root, sizeof(ret->root));
		ebcc__x509_sha256_hex(top, ret->root_sha256);
		X509_free(top);
		ret->verified = true;
		snprintf(ret->detail, sizeof(ret->detail),
			 "verified: %s \"%s\", which chains to the policy's %s (\"%s\")",
			 checked, pck_name, t->root_option, ret->root);
		return 0;
	}
	if (t->n_keys > 0) {
		for (size_t i = 0; i < t->n_keys; i++) {
			if (ebcc__pkey_equal(t->keys[i], pck_key)) {
				ret->verified = true;
				snprintf(ret->detail, sizeof(ret->detail),
					 "verified: %s \"%s\", whose key is trusted_keys[%zu]",
					 checked, pck_name, i);
				return 0;
			}
		}
		return ebcc__error(EBCC_ERR_VERIFY,
				   "%s: none of the %zu trusted_keys is the key of its PCK "
				   "certificate \"%s\", and the policy gives no %s",
				   what, t->n_keys, pck_name, t->root_option);
	}
	ret->verified = false;
	snprintf(ret->detail, sizeof(ret->detail),
		 "not verified: no certificate chain (%s) or key (trusted_keys) in the policy; the "
		 "quote's own signatures agree (%s \"%s\" it carries), but nothing ties that "
		 "certificate to Intel",
		 t->root_option, checked, pck_name);
	return 0;
}

int ebcc__dcap_verify(const char *what, const uint8_t *signed_part, size_t signed_len,
		      const struct ebcc__dcap_sig *s, const struct ebcc__dcap_trust *t,
		      struct ebcc__tsm_signature *ret, STACK_OF(X509) **ret_chain)
{
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *pck_key = NULL, *att_key = NULL;
	char pck_name[128], where[96];
	int r, ok;

	snprintf(where, sizeof(where), "%s: the PCK certificate chain", what);
	r = ebcc__x509_list_from_pem((const char *)s->pck_chain, s->pck_chain_len, where,
				     EBCC_ERR_VERIFY, &chain);
	if (r < 0)
		return r;
	ebcc__x509_name(sk_X509_value(chain, 0), pck_name, sizeof(pck_name));
	snprintf(ret->signer, sizeof(ret->signer), "%s", pck_name);
	pck_key = X509_get_pubkey(sk_X509_value(chain, 0));
	if (pck_key == NULL || !ebcc__ec_key_is(pck_key, "P-256")) {
		r = ebcc__error(EBCC_ERR_VERIFY, "%s: the PCK certificate \"%s\" has no ECDSA "
				"P-256 key", what, pck_name);
		goto out;
	}
	ok = ebcc__ecdsa_verify_raw(pck_key, "SHA256", s->qe_report, EBCC_DCAP_QE_REPORT_SIZE,
				    s->qe_report_signature, s->qe_report_signature + 32, 32, false);
	if (ok <= 0) {
		r = ok < 0 ? ok : ebcc__error(EBCC_ERR_VERIFY,
					      "%s: the QE report signature does not verify with "
					      "the PCK certificate \"%s\"",
					      what, pck_name);
		goto out;
	}
	r = check_qe_binding(what, s);
	if (r < 0)
		goto out;
	r = ebcc__ec_key_from_raw("P-256", s->att_key, 64, &att_key);
	if (r < 0) {
		r = ebcc__error_prefix(r, "%s: the attestation key", what);
		goto out;
	}
	ok = ebcc__ecdsa_verify_raw(att_key, "SHA256", signed_part, signed_len, s->signature,
				    s->signature + 32, 32, false);
	if (ok <= 0) {
		r = ok < 0 ? ok : ebcc__error(EBCC_ERR_VERIFY,
					      "%s: the quote signature does not verify with its "
					      "attestation key (header or report body changed?)",
					      what);
		goto out;
	}
	r = trust_pck(what, chain, pck_key, pck_name, t, ret);
out:
	EVP_PKEY_free(att_key);
	EVP_PKEY_free(pck_key);
	if (r == 0 && ret_chain != NULL)
		*ret_chain = chain;
	else
		ebcc__x509_list_free(chain);
	return r;
}
