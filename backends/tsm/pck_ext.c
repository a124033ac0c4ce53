/* SPDX-License-Identifier: MIT */
/* The Intel SGX extensions of a PCK certificate, with OpenSSL's DER decoder (layout in
 * pck_ext.h). */
#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/objects.h>

#include "ebcc-base.h"
#include "pck_ext.h"

#define ERR EBCC_ERR_VERIFY
#define SGX_OID "1.2.840.113741.1.13.1"
#define WHAT "the PCK certificate's SGX extension " SGX_OID
#define PAIRS_MAX 32 /* Intel's have 7 at the top and 18 in the TCB */

/* Decodes a SEQUENCE of len bytes, all of them, with at most PAIRS_MAX elements. */
static int decode_sequence(const uint8_t *der, size_t len, const char *oid,
			   STACK_OF(ASN1_TYPE) **ret)
{
	const unsigned char *p = der;
	STACK_OF(ASN1_TYPE) *seq;

	if (len == 0 || len > EBCC_PCK_EXT_MAX)
		return ebcc__error(ERR, WHAT ": %s of %zu bytes (1 to %d are accepted)", oid, len,
				   EBCC_PCK_EXT_MAX);
	seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, (long)len);
	ERR_clear_error();
	if (seq == NULL || p != der + len || sk_ASN1_TYPE_num(seq) > PAIRS_MAX) {
		sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
		return ebcc__error(ERR, WHAT ": %s is not a DER SEQUENCE of at most %d elements",
				   oid, PAIRS_MAX);
	}
	*ret = seq;
	return 0;
}

/* One element of a list of pairs: SEQUENCE { OID, value }; *ret_value borrowed from *ret_pair. */
static int decode_pair(const ASN1_TYPE *elem, const char *parent, char oid[64],
		       STACK_OF(ASN1_TYPE) **ret_pair, const ASN1_TYPE **ret_value)
{
	STACK_OF(ASN1_TYPE) *pair = NULL;
	const ASN1_TYPE *id;
	int r;

	if (ASN1_TYPE_get(elem) != V_ASN1_SEQUENCE)
		return ebcc__error(ERR, WHAT ": an element of %s is not a SEQUENCE", parent);
	r = decode_sequence(elem->value.sequence->data, (size_t)elem->value.sequence->length,
			    parent, &pair);
	if (r < 0)
		return r;
	id = sk_ASN1_TYPE_num(pair) == 2 ? sk_ASN1_TYPE_value(pair, 0) : NULL;
	if (id == NULL || ASN1_TYPE_get(id) != V_ASN1_OBJECT ||
	    OBJ_obj2txt(oid, 64, id->value.object, 1) <= 0 || strlen(oid) >= 63) {
		sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
		ERR_clear_error();
		return ebcc__error(ERR, WHAT ": an element of %s is not a pair (OBJECT IDENTIFIER, "
				   "value)", parent);
	}
	*ret_pair = pair;
	*ret_value = sk_ASN1_TYPE_value(pair, 1);
	return 0;
}

static int octets(const ASN1_TYPE *v, const char *oid, uint8_t *out, size_t n)
{
	if (ASN1_TYPE_get(v) != V_ASN1_OCTET_STRING ||
	    (size_t)v->value.octet_string->length != n)
		return ebcc__error(ERR, WHAT ": %s must be an OCTET STRING of %zu bytes", oid, n);
	memcpy(out, v->value.octet_string->data, n);
	return 0;
}

static int integer(const ASN1_TYPE *v, const char *oid, int64_t max, int64_t *ret)
{
	int64_t n = -1;

	if (ASN1_TYPE_get(v) != V_ASN1_INTEGER || ASN1_INTEGER_get_int64(&n, v->value.integer) != 1 ||
	    n < 0 || n > max) {
		ERR_clear_error();
		return ebcc__error(ERR, WHAT ": %s must be an INTEGER from 0 to %lld", oid,
				   (long long)max);
	}
	*ret = n;
	return 0;
}

/* The suffix of oid after prefix "." (a number 1..99), or 0 when oid is not under prefix. */
static int arc_under(const char *oid, const char *prefix)
{
	size_t n = strlen(prefix);
	char *end = NULL;
	long arc;

	if (strncmp(oid, prefix, n) != 0 || oid[n] != '.')
		return 0;
	arc = strtol(oid + n + 1, &end, 10);
	return *end == '\0' && arc > 0 && arc < 100 ? (int)arc : 0;
}

/* The TCB pair's value: 16 component SVNs, PCESVN, CPUSVN, each exactly once. */
static int parse_tcb(const ASN1_TYPE *v, struct ebcc__pck_ext *e)
{
	STACK_OF(ASN1_TYPE) *seq = NULL;
	uint32_t seen = 0;
	int r;

	if (ASN1_TYPE_get(v) != V_ASN1_SEQUENCE)
		return ebcc__error(ERR, WHAT ": " SGX_OID ".2 (TCB) must be a SEQUENCE");
	r = decode_sequence(v->value.sequence->data, (size_t)v->value.sequence->length,
			    SGX_OID ".2", &seq);
	for (int i = 0; r == 0 && i < sk_ASN1_TYPE_num(seq); i++) {
		STACK_OF(ASN1_TYPE) *pair = NULL;
		const ASN1_TYPE *val = NULL;
		char oid[64];
		int64_t n = 0;
		int arc;

		r = decode_pair(sk_ASN1_TYPE_value(seq, i), SGX_OID ".2", oid, &pair, &val);
		if (r < 0)
			break;
		arc = arc_under(oid, SGX_OID ".2");
		if (arc >= 1 && arc <= 18 && (seen & (1u << arc)) != 0)
			r = ebcc__error(ERR, WHAT ": %s occurs twice", oid);
		else if (arc >= 1 && arc <= 16)
			r = integer(val, oid, 255, &n);
		else if (arc == 17)
			r = integer(val, oid, 65535, &n);
		else if (arc == 18)
			r = octets(val, oid, e->cpusvn, sizeof(e->cpusvn));
		if (r == 0 && arc >= 1 && arc <= 16)
			e->sgx_svn[arc - 1] = (uint8_t)n;
		if (r == 0 && arc == 17)
			e->pcesvn = (uint16_t)n;
		if (arc >= 1 && arc <= 18)
			seen |= 1u << arc;
		sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
	}
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	if (r == 0 && seen != 0x7fffeu)
		r = ebcc__error(ERR, WHAT ": " SGX_OID ".2 (TCB) lacks some of " SGX_OID ".2.1 "
				"to .2.18 (16 SVNs, PCESVN, CPUSVN)");
	return r;
}

int ebcc__pck_ext_parse(const uint8_t *der, size_t len, struct ebcc__pck_ext *ret)
{
	struct ebcc__pck_ext e = { 0 };
	STACK_OF(ASN1_TYPE) *seq = NULL;
	uint32_t seen = 0;
	int r = decode_sequence(der, len, SGX_OID, &seq);

	for (int i = 0; r == 0 && i < sk_ASN1_TYPE_num(seq); i++) {
		STACK_OF(ASN1_TYPE) *pair = NULL;
		const ASN1_TYPE *val = NULL;
		char oid[64];
		int arc;

		r = decode_pair(sk_ASN1_TYPE_value(seq, i), SGX_OID, oid, &pair, &val);
		if (r < 0)
			break;
		arc = arc_under(oid, SGX_OID);
		if (arc >= 2 && arc <= 4 && (seen & (1u << arc)) != 0)
			r = ebcc__error(ERR, WHAT ": %s occurs twice", oid);
		else if (arc == 2)
			r = parse_tcb(val, &e);
		else if (arc == 3)
			r = octets(val, oid, e.pce_id, sizeof(e.pce_id));
		else if (arc == 4)
			r = octets(val, oid, e.fmspc, sizeof(e.fmspc));
		if (arc >= 2 && arc <= 4)
			seen |= 1u << arc;
		sk_ASN1_TYPE_pop_free(pair, ASN1_TYPE_free);
	}
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	if (r == 0 && seen != 0x1cu)
		r = ebcc__error(ERR, WHAT ": %s is missing",
				(seen & 4u) == 0   ? SGX_OID ".2 (TCB)"
				: (seen & 8u) == 0 ? SGX_OID ".3 (PCE-ID)"
						   : SGX_OID ".4 (FMSPC)");
	if (r == 0)
		*ret = e;
	return r;
}

int ebcc__pck_ext_from_cert(X509 *cert, struct ebcc__pck_ext *ret)
{
	ASN1_OBJECT *obj = OBJ_txt2obj(SGX_OID, 1);
	const ASN1_OCTET_STRING *data;
	X509_EXTENSION *ext;
	int at, again;

	if (obj == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	at = X509_get_ext_by_OBJ(cert, obj, -1);
	again = at >= 0 ? X509_get_ext_by_OBJ(cert, obj, at) : -1;
	ASN1_OBJECT_free(obj);
	ERR_clear_error();
	if (at < 0 || again >= 0)
		return ebcc__error(ERR, "the PCK certificate has %s SGX extension " SGX_OID,
				   at < 0 ? "no" : "more than one");
	ext = X509_get_ext(cert, at);
	data = X509_EXTENSION_get_data(ext);
	if (data == NULL)
		return ebcc__error(ERR, WHAT " has no value");
	return ebcc__pck_ext_parse(data->data, (size_t)data->length, ret);
}
