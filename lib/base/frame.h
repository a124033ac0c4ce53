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
 *   offset 2  uint8   2       protocol version
 *   offset 3  uint8   type    1 REQUEST, 2 RESPONSE, 3 LOG, 4 ERROR, 5 BIND, 6 REPORT, 7 KEY,
 *                             8 IMAGE
 *   offset 4  uint32  length  payload bytes, little endian
 *
 * One exchange: the host sends BIND then REQUEST; the stage answers LOG frames, then REPORT and
 * RESPONSE, or ERROR; a stage that made a key for the answer (ebcc_stage_key_public()) sends
 * KEY, its X25519 public key, right before REPORT; a stage that loaded an encrypted image
 * (ebcc_stage_load_image()) sends IMAGE, the image's SHA-256, first in every answer from then
 * on. The BIND payload is the binding's fields in its own encoding (below), so that the stage
 * computes report_data over exactly what the verifier will:
 *
 *   BIND   = F(instance) || F(stage) || F(u64be(eid)) || F(u64be(seq)) || F(measurement) ||
 *            F(nonce)                           F(x) = u32be(length of x) || x
 *   REPORT = report_data (64 bytes) || the TEE's report over it (may be empty: then the TEE's
 *            driver on the host side obtains it, for backends whose host runs inside the TEE)
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
#define EBCC_FRAME_VERSION 2

/* No frame is ever larger than this, whatever the limits say. */
#define EBCC_FRAME_PAYLOAD_CAP (UINT32_C(1) << 30) /* 1 GiB */
/* LOG text and ERROR messages: at most this many bytes, no NUL. */
#define EBCC_FRAME_TEXT_MAX 4096
/* An ERROR payload: int32 code (negative), then the message. */
#define EBCC_FRAME_ERROR_CODE_SIZE 4
/* A BIND payload: at most this many bytes (an id of 1024 bytes and every other field at its
 * largest fit). */
#define EBCC_FRAME_BIND_MAX 4096
#define EBCC_FRAME_BIND_FIELDS 6
/* The first field of the binding, for host and stage alike: the evidence version, so that one
 * version's report_data is never another's. */
#define EBCC_BINDING_TAG_V1 "EBCC-EVIDENCE-V1"
#define EBCC_BINDING_TAG_V2 "EBCC-EVIDENCE-V2"
/* Version 3: version 2 and, last, F(public_key), the stage-held key the answer binds. */
#define EBCC_BINDING_TAG_V3 "EBCC-EVIDENCE-V3"
/* Version 4: version 2, then F(image_digest), the SHA-256 of the image the stage loaded
 * (ebcc_stage_load_image()), then F(public_key), empty when the answer binds no key. */
#define EBCC_BINDING_TAG_V4 "EBCC-EVIDENCE-V4"
/* An IMAGE payload: exactly this many bytes, the SHA-256 of the decrypted image. */
#define EBCC_FRAME_IMAGE_SIZE 32
/* A KEY payload: exactly this many bytes, an X25519 public key (RFC 7748). */
#define EBCC_FRAME_KEY_SIZE 32
/* A REPORT payload: report_data, then at most 64 KiB of report. */
#define EBCC_FRAME_REPORT_DATA_SIZE 64
#define EBCC_FRAME_REPORT_MAX (EBCC_FRAME_REPORT_DATA_SIZE + (UINT32_C(1) << 16))

/*
 * The stage's own attestation primitive, where its backend hands it one: descriptor 4, a
 * SOCK_SEQPACKET socket to the TEE's monitor (the sim backend's simulated security monitor).
 * The stage sends one message of exactly EBCC_FRAME_REPORT_DATA_SIZE bytes, its report_data;
 * the monitor answers with one message, the report over it (at most EBCC_ATTEST_REPORT_MAX
 * bytes), or an empty message when it refuses. The host holds no end of that socket.
 */
#define EBCC_ATTEST_FD 4
#define EBCC_ATTEST_REPORT_MAX 1024

enum ebcc_frame_type {
	EBCC_FRAME_REQUEST = 1,  /* host -> stage: opaque request bytes */
	EBCC_FRAME_RESPONSE = 2, /* stage -> host: opaque response bytes, ends a request */
	EBCC_FRAME_LOG = 3,      /* stage -> host: one log line, during a request */
	EBCC_FRAME_ERROR = 4,    /* stage -> host: int32 code + message, ends a request */
	EBCC_FRAME_BIND = 5,     /* host -> stage: the binding's fields, before each REQUEST */
	EBCC_FRAME_REPORT = 6,   /* stage -> host: report_data and report, before RESPONSE */
	EBCC_FRAME_KEY = 7,      /* stage -> host: the public key report_data binds, before REPORT */
	EBCC_FRAME_IMAGE = 8,    /* stage -> host: the loaded image's digest, before KEY and REPORT */
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
	EBCC_FRAME_BAD_BIND = -8,   /* BIND payload: not six fields, or eid/seq not 8 bytes */
	EBCC_FRAME_BAD_REPORT = -9, /* REPORT payload shorter than report_data */
	EBCC_FRAME_BAD_KEY = -10,   /* KEY payload not EBCC_FRAME_KEY_SIZE bytes */
	EBCC_FRAME_BAD_IMAGE = -11, /* IMAGE payload not EBCC_FRAME_IMAGE_SIZE bytes */
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

/* The fields of a BIND frame. */
struct ebcc_frame_bind {
	const char *instance;
	size_t instance_len;
	const char *stage;
	size_t stage_len;
	uint64_t eid;
	uint64_t seq;
	const char *measurement;
	size_t measurement_len;
	const uint8_t *nonce;
	size_t nonce_len;
};

/* Encodes a BIND payload into out (cap bytes): its length, or 0 when it does not fit. */
size_t ebcc__frame_encode_bind(const struct ebcc_frame_bind *b, uint8_t *out, size_t cap);

/* Encodes F(x) = u32be(len) || x at out (4 + len bytes). */
void ebcc__frame_put_field(uint8_t *out, const void *data, uint32_t len);
/* The big-endian 32-bit number at p (the fields' length prefixes), and its writer. */
uint32_t ebcc__frame_get_be32(const uint8_t *p);
void ebcc__frame_put_be32(uint8_t *p, uint32_t v);

/* A static description of a decoder status, for messages. */
const char *ebcc__frame_status_text(int status);

/* A static name of a frame type ("REQUEST", ...; "unknown" otherwise). */
const char *ebcc__frame_type_name(uint8_t type);

#endif /* EBCC_FRAME_H */
