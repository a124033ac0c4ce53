/* SPDX-License-Identifier: MIT */
/* The sealed-secret codec (sealformat.h): libc and the frame codec only, shared with the stage
 * library. */
#include <string.h>

#include "base/frame.h"
#include "sealformat.h"

static const char *const field_names[EBCC_SEAL_FIELDS] = {
	"instance", "stage", "measurement", "report_data", "public_key", "ephemeral_key", "iv",
	"ciphertext",
};

/* The exact length of each field, or 0 for the variable ones (with their own bounds). */
static const size_t field_sizes[EBCC_SEAL_FIELDS] = {
	0, 0, 0, EBCC_SEAL_RD_SIZE, EBCC_SEAL_KEY_SIZE, EBCC_SEAL_KEY_SIZE, EBCC_SEAL_IV_SIZE, 0,
};
static const size_t field_max[3] = { 1024, 64, 256 };

int ebcc__seal_decode(const uint8_t *buf, size_t len, struct ebcc_seal_blob *ret)
{
	const uint8_t *at[EBCC_SEAL_FIELDS];
	size_t n[EBCC_SEAL_FIELDS], pos = EBCC_SEAL_MAGIC_SIZE + 4;

	*ret = (struct ebcc_seal_blob){ .bad_field = -1 };
	if (len < EBCC_SEAL_MAGIC_SIZE || memcmp(buf, EBCC_SEAL_MAGIC, EBCC_SEAL_MAGIC_SIZE) != 0)
		return EBCC_SEAL_BAD_MAGIC;
	if (len < pos)
		return EBCC_SEAL_TRUNCATED;
	if (ebcc__frame_get_be32(buf + EBCC_SEAL_MAGIC_SIZE) != EBCC_SEAL_VERSION)
		return EBCC_SEAL_BAD_VERSION;
	for (int i = 0; i < EBCC_SEAL_FIELDS; i++) {
		if (len - pos < 4)
			return EBCC_SEAL_TRUNCATED;
		n[i] = ebcc__frame_get_be32(buf + pos);
		if (i == EBCC_SEAL_FIELDS - 1)
			ret->ad_len = pos;
		pos += 4;
		if (n[i] > len - pos)
			return EBCC_SEAL_TRUNCATED;
		at[i] = buf + pos;
		pos += n[i];
		if ((field_sizes[i] != 0 && n[i] != field_sizes[i]) ||
		    (i < 3 && (n[i] == 0 || n[i] > field_max[i])) ||
		    (i == EBCC_SEAL_FIELDS - 1 && n[i] < EBCC_SEAL_TAG_SIZE)) {
			ret->bad_field = i;
			return EBCC_SEAL_BAD_FIELD;
		}
	}
	if (pos != len)
		return EBCC_SEAL_TRAILING;
	if (n[7] - EBCC_SEAL_TAG_SIZE > EBCC_SEAL_SECRET_MAX)
		return EBCC_SEAL_TOO_BIG;
	ret->instance = at[0];
	ret->instance_len = n[0];
	ret->stage = at[1];
	ret->stage_len = n[1];
	ret->measurement = at[2];
	ret->measurement_len = n[2];
	ret->report_data = at[3];
	ret->public_key = at[4];
	ret->ephemeral_key = at[5];
	ret->iv = at[6];
	ret->ciphertext = at[7];
	ret->ciphertext_len = n[7] - EBCC_SEAL_TAG_SIZE;
	ret->tag = at[7] + ret->ciphertext_len;
	return EBCC_SEAL_OK;
}

size_t ebcc__seal_encode_header(const struct ebcc_seal_blob *b, uint8_t *out, size_t cap)
{
	const void *data[EBCC_SEAL_FIELDS - 1] = { b->instance,	  b->stage,	    b->measurement,
						   b->report_data, b->public_key, b->ephemeral_key,
						   b->iv };
	const size_t lens[EBCC_SEAL_FIELDS - 1] = { b->instance_len,	b->stage_len,
						    b->measurement_len, EBCC_SEAL_RD_SIZE,
						    EBCC_SEAL_KEY_SIZE, EBCC_SEAL_KEY_SIZE,
						    EBCC_SEAL_IV_SIZE };
	size_t pos = EBCC_SEAL_MAGIC_SIZE + 4;

	if (cap < pos + 4)
		return 0;
	memcpy(out, EBCC_SEAL_MAGIC, EBCC_SEAL_MAGIC_SIZE);
	ebcc__frame_put_be32(out + EBCC_SEAL_MAGIC_SIZE, EBCC_SEAL_VERSION);
	for (int i = 0; i < EBCC_SEAL_FIELDS - 1; i++) {
		if (cap - pos < 4 + lens[i] || lens[i] > UINT32_MAX)
			return 0;
		ebcc__frame_put_be32(out + pos, (uint32_t)lens[i]);
		memcpy(out + pos + 4, data[i], lens[i]);
		pos += 4 + lens[i];
	}
	if (cap - pos < 4 || b->ciphertext_len > EBCC_SEAL_SECRET_MAX)
		return 0;
	ebcc__frame_put_be32(out + pos, (uint32_t)(b->ciphertext_len + EBCC_SEAL_TAG_SIZE));
	return pos;
}

const char *ebcc__seal_status_text(int status)
{
	switch (status) {
	case EBCC_SEAL_OK:
		return "well-formed";
	case EBCC_SEAL_BAD_MAGIC:
		return "it does not start with \"EBCCSEAL\": not a sealed secret";
	case EBCC_SEAL_BAD_VERSION:
		return "a format version other than 1";
	case EBCC_SEAL_TRUNCATED:
		return "truncated: a field's length runs past the end";
	case EBCC_SEAL_BAD_FIELD:
		return "a field of the wrong length";
	case EBCC_SEAL_TRAILING:
		return "bytes after the ciphertext";
	case EBCC_SEAL_TOO_BIG:
		return "a secret of more than 1 MiB";
	default:
		return "unknown status";
	}
}

const char *ebcc__seal_field_name(int i)
{
	return i >= 0 && i < EBCC_SEAL_FIELDS ? field_names[i] : "unknown";
}
