/* SPDX-License-Identifier: MIT */
/* Typed reads of an evidence envelope's fields: ebcc_evidence_get_text(), _u64(), _bytes(). */
#include <stddef.h>

#include "ebcc-private.h"

enum field_type { FIELD_TEXT, FIELD_U64, FIELD_BYTES };

static const struct {
	const char *name;
	enum field_type type;
} fields[EBCC_EVIDENCE_IMAGE_DIGEST + 1] = {
	[EBCC_EVIDENCE_BACKEND] = { "backend", FIELD_TEXT },
	[EBCC_EVIDENCE_FORMAT] = { "format", FIELD_TEXT },
	[EBCC_EVIDENCE_INSTANCE] = { "instance", FIELD_TEXT },
	[EBCC_EVIDENCE_STAGE] = { "stage", FIELD_TEXT },
	[EBCC_EVIDENCE_MEASUREMENT] = { "measurement", FIELD_TEXT },
	[EBCC_EVIDENCE_EID] = { "eid", FIELD_U64 },
	[EBCC_EVIDENCE_SEQ] = { "seq", FIELD_U64 },
	[EBCC_EVIDENCE_SIMULATED] = { "simulated", FIELD_U64 },
	[EBCC_EVIDENCE_NONCE] = { "nonce", FIELD_BYTES },
	[EBCC_EVIDENCE_REQUEST_DIGEST] = { "request_digest", FIELD_BYTES },
	[EBCC_EVIDENCE_RESPONSE_DIGEST] = { "response_digest", FIELD_BYTES },
	[EBCC_EVIDENCE_REPORT_DATA] = { "report_data", FIELD_BYTES },
	[EBCC_EVIDENCE_REPORT] = { "report", FIELD_BYTES },
	[EBCC_EVIDENCE_PUBLIC_KEY] = { "public_key", FIELD_BYTES },
	[EBCC_EVIDENCE_IMAGE_DIGEST] = { "image_digest", FIELD_BYTES },
};

static const char *const getter[] = {
	[FIELD_TEXT] = "ebcc_evidence_get_text",
	[FIELD_U64] = "ebcc_evidence_get_u64",
	[FIELD_BYTES] = "ebcc_evidence_get_bytes",
};

/* The envelope's fields when field is one of type; else EBCC_ERR_INVALID_ARG naming why. */
static int lookup(struct ebcc_evidence *ev, const void *ret, int field, enum field_type type,
		  const struct ebcc_evidence_fields **ret_f)
{
	if (ev == NULL || ret == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "%s: %s is NULL", getter[type],
				   ev == NULL ? "ev" : "ret");
	if (field < EBCC_EVIDENCE_BACKEND || field > EBCC_EVIDENCE_IMAGE_DIGEST)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "%s: no evidence field %d (EBCC_EVIDENCE_*: "
				   "%d to %d)", getter[type], field, EBCC_EVIDENCE_BACKEND,
				   EBCC_EVIDENCE_IMAGE_DIGEST);
	if (fields[field].type != type)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "%s: field %d (%s) is read with %s",
				   getter[type], field, fields[field].name,
				   getter[fields[field].type]);
	*ret_f = ebcc__evidence_fields(ev);
	return 0;
}

EBCC_EXPORT int ebcc_evidence_get_text(struct ebcc_evidence *ev, int field, const char **ret)
{
	const struct ebcc_evidence_fields *f = NULL;
	int r = lookup(ev, ret, field, FIELD_TEXT, &f);

	if (r < 0)
		return r;
	switch (field) {
	case EBCC_EVIDENCE_BACKEND:
		*ret = f->backend;
		break;
	case EBCC_EVIDENCE_FORMAT:
		*ret = f->format;
		break;
	case EBCC_EVIDENCE_INSTANCE:
		*ret = f->binding.instance;
		break;
	case EBCC_EVIDENCE_STAGE:
		*ret = f->binding.stage;
		break;
	default:
		*ret = f->binding.measurement;
		break;
	}
	return 0;
}

EBCC_EXPORT int ebcc_evidence_get_u64(struct ebcc_evidence *ev, int field, uint64_t *ret)
{
	const struct ebcc_evidence_fields *f = NULL;
	int r = lookup(ev, ret, field, FIELD_U64, &f);

	if (r < 0)
		return r;
	*ret = field == EBCC_EVIDENCE_EID   ? f->binding.eid
	       : field == EBCC_EVIDENCE_SEQ ? f->binding.seq
					    : (uint64_t)f->simulated;
	return 0;
}

EBCC_EXPORT int ebcc_evidence_get_bytes(struct ebcc_evidence *ev, int field,
					const uint8_t **ret, size_t *ret_len)
{
	const struct ebcc_evidence_fields *f = NULL;
	int r;

	if (ret_len == NULL && ev != NULL && ret != NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_evidence_get_bytes: ret_len is NULL");
	r = lookup(ev, ret, field, FIELD_BYTES, &f);
	if (r < 0)
		return r;
	switch (field) {
	case EBCC_EVIDENCE_NONCE:
		/* Never NULL, so that "no nonce" and "not read" cannot be confused. */
		*ret = f->binding.nonce != NULL ? f->binding.nonce : f->report_data;
		*ret_len = f->binding.nonce_len;
		break;
	case EBCC_EVIDENCE_REQUEST_DIGEST:
		*ret = f->binding.request_digest;
		*ret_len = EBCC_SHA256_SIZE;
		break;
	case EBCC_EVIDENCE_RESPONSE_DIGEST:
		*ret = f->binding.response_digest;
		*ret_len = EBCC_SHA256_SIZE;
		break;
	case EBCC_EVIDENCE_REPORT_DATA:
		*ret = f->report_data;
		*ret_len = EBCC_REPORT_DATA_SIZE;
		break;
	case EBCC_EVIDENCE_PUBLIC_KEY:
		/* 0 bytes (not NULL) for evidence that binds no key. */
		*ret = f->binding.public_key != NULL ? f->binding.public_key : f->report_data;
		*ret_len = f->binding.public_key != NULL ? EBCC_PUBLIC_KEY_SIZE : 0;
		break;
	case EBCC_EVIDENCE_IMAGE_DIGEST:
		*ret = f->binding.image_digest != NULL ? f->binding.image_digest : f->report_data;
		*ret_len = f->binding.image_digest != NULL ? EBCC_SHA256_SIZE : 0;
		break;
	default:
		*ret = f->report;
		*ret_len = f->report_len;
		break;
	}
	return 0;
}
