/* SPDX-License-Identifier: MIT */
/* The channel's frame codec: pure functions over buffers, shared by host and stage (libc only). */
#include <stdbool.h>
#include <string.h>

#include "frame.h"

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

int ebcc__frame_decode_header(const uint8_t *buf, size_t len, const struct ebcc_frame_limits *lim,
			      struct ebcc_frame *ret)
{
	uint64_t max;
	uint32_t length;
	uint8_t type;

	/* Judge what has arrived as early as possible: garbage is refused on its first byte. */
	if (len >= 1 && buf[0] != EBCC_FRAME_MAGIC0)
		return EBCC_FRAME_BAD_MAGIC;
	if (len >= 2 && buf[1] != EBCC_FRAME_MAGIC1)
		return EBCC_FRAME_BAD_MAGIC;
	if (len >= 3 && buf[2] != EBCC_FRAME_VERSION)
		return EBCC_FRAME_BAD_VERSION;
	if (len < EBCC_FRAME_HEADER_SIZE)
		return EBCC_FRAME_INCOMPLETE;

	type = buf[3];
	length = get_le32(buf + 4);
	if (type < EBCC_FRAME_REQUEST || type > EBCC_FRAME_IMAGE)
		return EBCC_FRAME_BAD_TYPE;
	if (!(lim->accept & EBCC_FRAME_BIT(type)))
		return EBCC_FRAME_UNEXPECTED;
	switch (type) {
	case EBCC_FRAME_LOG:
		max = EBCC_FRAME_TEXT_MAX;
		break;
	case EBCC_FRAME_ERROR:
		max = EBCC_FRAME_ERROR_CODE_SIZE + EBCC_FRAME_TEXT_MAX;
		if (length < EBCC_FRAME_ERROR_CODE_SIZE)
			return EBCC_FRAME_BAD_ERROR;
		break;
	case EBCC_FRAME_BIND:
		max = EBCC_FRAME_BIND_MAX;
		break;
	case EBCC_FRAME_REPORT:
		max = EBCC_FRAME_REPORT_MAX;
		if (length < EBCC_FRAME_REPORT_DATA_SIZE)
			return EBCC_FRAME_BAD_REPORT;
		break;
	case EBCC_FRAME_KEY:
		max = EBCC_FRAME_KEY_SIZE;
		if (length != EBCC_FRAME_KEY_SIZE)
			return EBCC_FRAME_BAD_KEY;
		break;
	case EBCC_FRAME_IMAGE:
		max = EBCC_FRAME_IMAGE_SIZE;
		if (length != EBCC_FRAME_IMAGE_SIZE)
			return EBCC_FRAME_BAD_IMAGE;
		break;
	default:
		max = lim->max_payload < EBCC_FRAME_PAYLOAD_CAP ? lim->max_payload
								 : EBCC_FRAME_PAYLOAD_CAP;
		break;
	}
	if (length > max)
		return EBCC_FRAME_TOO_BIG;

	*ret = (struct ebcc_frame){ .type = type, .length = length };
	return EBCC_FRAME_OK;
}

uint32_t ebcc__frame_get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

void ebcc__frame_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Six length-prefixed fields filling the payload exactly, the third and fourth of 8 bytes. */
static bool bind_well_formed(const uint8_t *p, size_t len)
{
	size_t at = 0;

	for (int i = 0; i < EBCC_FRAME_BIND_FIELDS; i++) {
		uint32_t n;

		if (len - at < 4)
			return false;
		n = ebcc__frame_get_be32(p + at);
		at += 4;
		if (n > len - at || ((i == 2 || i == 3) && n != 8))
			return false;
		at += n;
	}
	return at == len;
}

int ebcc__frame_decode_payload(struct ebcc_frame *f, const uint8_t *payload)
{
	const uint8_t *text = NULL;
	size_t text_len = 0;
	int32_t code = 0;

	if (f->type == EBCC_FRAME_BIND && !bind_well_formed(payload, f->length))
		return EBCC_FRAME_BAD_BIND;
	if (f->type == EBCC_FRAME_REPORT && f->length < EBCC_FRAME_REPORT_DATA_SIZE)
		return EBCC_FRAME_BAD_REPORT;
	if (f->type == EBCC_FRAME_KEY && f->length != EBCC_FRAME_KEY_SIZE)
		return EBCC_FRAME_BAD_KEY;
	if (f->type == EBCC_FRAME_IMAGE && f->length != EBCC_FRAME_IMAGE_SIZE)
		return EBCC_FRAME_BAD_IMAGE;
	if (f->type == EBCC_FRAME_ERROR) {
		uint32_t raw;

		if (f->length < EBCC_FRAME_ERROR_CODE_SIZE)
			return EBCC_FRAME_BAD_ERROR;
		raw = get_le32(payload);
		if (raw < UINT32_C(0x80000000)) /* not negative as int32 */
			return EBCC_FRAME_BAD_ERROR;
		code = (int32_t)(raw - UINT32_C(0x80000000)) - INT32_C(0x7fffffff) - 1;
		text = payload + EBCC_FRAME_ERROR_CODE_SIZE;
		text_len = f->length - EBCC_FRAME_ERROR_CODE_SIZE;
	} else if (f->type == EBCC_FRAME_LOG) {
		text = payload;
		text_len = f->length;
	}
	if (text_len > 0 && memchr(text, '\0', text_len) != NULL)
		return EBCC_FRAME_BAD_TEXT;
	f->payload = payload;
	f->error_code = code;
	f->text = (const char *)text;
	f->text_len = text_len;
	return EBCC_FRAME_OK;
}

int ebcc__frame_decode(const uint8_t *buf, size_t len, const struct ebcc_frame_limits *lim,
		       struct ebcc_frame *ret, size_t *ret_size)
{
	struct ebcc_frame f;
	int r = ebcc__frame_decode_header(buf, len, lim, &f);

	if (r != EBCC_FRAME_OK)
		return r;
	if (len - EBCC_FRAME_HEADER_SIZE < f.length)
		return EBCC_FRAME_INCOMPLETE;
	r = ebcc__frame_decode_payload(&f, buf + EBCC_FRAME_HEADER_SIZE);
	if (r != EBCC_FRAME_OK)
		return r;
	*ret = f;
	*ret_size = EBCC_FRAME_HEADER_SIZE + (size_t)f.length;
	return EBCC_FRAME_OK;
}

void ebcc__frame_encode_header(uint8_t out[EBCC_FRAME_HEADER_SIZE], uint8_t type, uint32_t length)
{
	out[0] = EBCC_FRAME_MAGIC0;
	out[1] = EBCC_FRAME_MAGIC1;
	out[2] = EBCC_FRAME_VERSION;
	out[3] = type;
	put_le32(out + 4, length);
}

void ebcc__frame_encode_error_code(uint8_t out[EBCC_FRAME_ERROR_CODE_SIZE], int32_t code)
{
	put_le32(out, (uint32_t)code);
}

void ebcc__frame_put_field(uint8_t *out, const void *data, uint32_t len)
{
	ebcc__frame_put_be32(out, len);
	if (len > 0)
		memcpy(out + 4, data, len);
}

size_t ebcc__frame_encode_bind(const struct ebcc_frame_bind *b, uint8_t *out, size_t cap)
{
	const void *data[EBCC_FRAME_BIND_FIELDS] = { b->instance, b->stage, NULL, NULL,
						     b->measurement, b->nonce };
	size_t lens[EBCC_FRAME_BIND_FIELDS] = { b->instance_len, b->stage_len, 8, 8,
						b->measurement_len, b->nonce_len };
	uint8_t eid[8], seq[8];
	size_t at = 0;

	for (int i = 0; i < 8; i++) {
		eid[i] = (uint8_t)(b->eid >> (56 - 8 * i));
		seq[i] = (uint8_t)(b->seq >> (56 - 8 * i));
	}
	data[2] = eid;
	data[3] = seq;
	for (int i = 0; i < EBCC_FRAME_BIND_FIELDS; i++) {
		if (lens[i] > cap - at || cap - at - lens[i] < 4 || (data[i] == NULL && lens[i] > 0))
			return 0;
		ebcc__frame_put_field(out + at, data[i], (uint32_t)lens[i]);
		at += 4 + lens[i];
	}
	return at;
}

const char *ebcc__frame_status_text(int status)
{
	switch (status) {
	case EBCC_FRAME_OK:
		return "valid frame";
	case EBCC_FRAME_INCOMPLETE:
		return "incomplete frame";
	case EBCC_FRAME_BAD_MAGIC:
		return "bad magic (not a frame)";
	case EBCC_FRAME_BAD_VERSION:
		return "unsupported protocol version";
	case EBCC_FRAME_BAD_TYPE:
		return "unknown frame type";
	case EBCC_FRAME_UNEXPECTED:
		return "frame type not allowed in this direction";
	case EBCC_FRAME_TOO_BIG:
		return "frame larger than the limit";
	case EBCC_FRAME_BAD_ERROR:
		return "ERROR frame without a negative code";
	case EBCC_FRAME_BAD_TEXT:
		return "text with a NUL byte";
	case EBCC_FRAME_BAD_BIND:
		return "BIND payload that is not six length-prefixed fields (eid and seq of 8 bytes)";
	case EBCC_FRAME_BAD_REPORT:
		return "REPORT payload shorter than its 64 bytes of report_data";
	case EBCC_FRAME_BAD_KEY:
		return "KEY payload that is not a 32-byte X25519 public key";
	case EBCC_FRAME_BAD_IMAGE:
		return "IMAGE payload that is not a 32-byte SHA-256 digest";
	default:
		return "unknown frame status";
	}
}

const char *ebcc__frame_type_name(uint8_t type)
{
	switch (type) {
	case EBCC_FRAME_REQUEST:
		return "REQUEST";
	case EBCC_FRAME_RESPONSE:
		return "RESPONSE";
	case EBCC_FRAME_LOG:
		return "LOG";
	case EBCC_FRAME_ERROR:
		return "ERROR";
	case EBCC_FRAME_BIND:
		return "BIND";
	case EBCC_FRAME_REPORT:
		return "REPORT";
	case EBCC_FRAME_KEY:
		return "KEY";
	case EBCC_FRAME_IMAGE:
		return "IMAGE";
	default:
		return "unknown";
	}
}
