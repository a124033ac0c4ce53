/* SPDX-License-Identifier: MIT */
/*
 * The frame codec of the host <-> stage channel, shared by libebcc and the stage library
 * (libebcc-stage.a), so it uses only libc. The wire format is documented in
 * ebcc-stage-protocol(7).
 *
 * A frame is an 8-byte header followed by its payload:
 *
 *   offset 0  uint8   0xEB    magic
 *   offset 1  uint8   0xCC    magic
 *   offset 2  uint8   1       protocol version
 *   offset 3  uint8   type    1 REQUEST, 2 RESPONSE, 3 LOG, 4 ERROR
 *   offset 4  uint32  length  payload bytes, little endian
 *
 * The decoders are pure functions over a buffer: they never allocate, never read beyond len,
 * and reject a header before its payload is read, so an oversized length costs nothing.
 */
#ifndef EBCC_FRAME_H
#define EBCC_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define EBCC_FRAME_HEADER_SIZE 8
#define EBCC_FRAME_MAGIC0 0xEB
#define EBCC_FRAME_MAGIC1 0xCC
#define EBCC_FRAME_VERSION 1

/* No frame is ever larger than this, whatever the limits say. */
#define EBCC_FRAME_PAYLOAD_CAP (UINT32_C(1) << 30) /* 1 GiB */
/* LOG text and ERROR messages: at most this many bytes, no NUL. */
#define EBCC_FRAME_TEXT_MAX 4096
/* An ERROR payload: int32 code (negative), then the message. */
#define EBCC_FRAME_ERROR_CODE_SIZE 4

enum ebcc_frame_type {
	EBCC_FRAME_REQUEST = 1,  /* host -> stage: opaque request bytes */
	EBCC_FRAME_RESPONSE = 2, /* stage -> host: opaque response bytes, ends a request */
	EBCC_FRAME_LOG = 3,      /* stage -> host: one log line, during a request */
	EBCC_FRAME_ERROR = 4,    /* stage -> host: int32 code + message, ends a request */
};

/* The bit of a type in ebcc_frame_limits.accept. */
#define EBCC_FRAME_BIT(type) (UINT32_C(1) << (type))

/* What a reader accepts: the types expected in its direction and the largest REQUEST or
 * RESPONSE payload (capped at EBCC_FRAME_PAYLOAD_CAP). LOG and ERROR are bounded by
 * EBCC_FRAME_TEXT_MAX. */
struct ebcc_frame_limits {
	uint32_t accept;      /* EBCC_FRAME_BIT() of each accepted type */
	uint64_t max_payload; /* for REQUEST and RESPONSE */
};

/* Decoder results: 0 a complete header/frame, 1 more bytes are needed, < 0 malformed. */
enum ebcc_frame_status {
	EBCC_FRAME_OK = 0,
	EBCC_FRAME_INCOMPLETE = 1,
	EBCC_FRAME_BAD_MAGIC = -1,
	EBCC_FRAME_BAD_VERSION = -2,
	EBCC_FRAME_BAD_TYPE = -3,   /* not a frame type at all */
	EBCC_FRAME_UNEXPECTED = -4, /* a type this reader does not accept */
	EBCC_FRAME_TOO_BIG = -5,    /* length above the reader's limit */
	EBCC_FRAME_BAD_ERROR = -6,  /* ERROR payload shorter than its code, or code not < 0 */
	EBCC_FRAME_BAD_TEXT = -7,   /* LOG or ERROR text with a NUL byte */
};

struct ebcc_frame {
	uint8_t type;            /* enum ebcc_frame_type */
	uint32_t length;         /* payload bytes */
	const uint8_t *payload;  /* into the decoded buffer; NULL after a header-only decode */
	int32_t error_code;      /* ERROR frames */
	const char *text;        /* LOG text or ERROR message (not NUL-terminated) */
	size_t text_len;
};

/* Decodes and checks a header from the first bytes of buf (payload not needed). */
int ebcc__frame_decode_header(const uint8_t *buf, size_t len, const struct ebcc_frame_limits *lim,
			      struct ebcc_frame *ret);

/* Decodes one whole frame at the start of buf; *ret_size is the bytes it spans. */
int ebcc__frame_decode(const uint8_t *buf, size_t len, const struct ebcc_frame_limits *lim,
		       struct ebcc_frame *ret, size_t *ret_size);

/* Checks a payload against its header's type (ERROR code, text without NUL) and fills the
 * payload, error_code and text fields of f. */
int ebcc__frame_decode_payload(struct ebcc_frame *f, const uint8_t *payload);

/* Writes a header. length must be <= EBCC_FRAME_PAYLOAD_CAP. */
void ebcc__frame_encode_header(uint8_t out[EBCC_FRAME_HEADER_SIZE], uint8_t type,
			       uint32_t length);

/* Writes the 4-byte code of an ERROR payload. */
void ebcc__frame_encode_error_code(uint8_t out[EBCC_FRAME_ERROR_CODE_SIZE], int32_t code);

/* A static description of a decoder status, for messages. */
const char *ebcc__frame_status_text(int status);

/* A static name of a frame type ("REQUEST", ...; "unknown" otherwise). */
const char *ebcc__frame_type_name(uint8_t type);

#endif /* EBCC_FRAME_H */
