/* SPDX-License-Identifier: MIT */
/* White-box: the frame codec with valid, malformed, truncated, oversized and hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"

static const struct ebcc_frame_limits host_side = {
	.accept = EBCC_FRAME_BIT(EBCC_FRAME_RESPONSE) | EBCC_FRAME_BIT(EBCC_FRAME_LOG) |
		  EBCC_FRAME_BIT(EBCC_FRAME_ERROR) | EBCC_FRAME_BIT(EBCC_FRAME_REPORT),
	.max_payload = 100,
};
static const struct ebcc_frame_limits stage_side = {
	.accept = EBCC_FRAME_BIT(EBCC_FRAME_REQUEST) | EBCC_FRAME_BIT(EBCC_FRAME_BIND),
	.max_payload = EBCC_FRAME_PAYLOAD_CAP,
};

/* header + payload into buf; returns the frame's size. Not inlined: gcc 12 -Warray-bounds then
 * misjudges the lengths. */
__attribute__((noinline)) static size_t make(uint8_t *buf, uint8_t type, const void *payload,
					    uint32_t len)
{
	ebcc__frame_encode_header(buf, type, len);
	if (len > 0)
		memcpy(buf + EBCC_FRAME_HEADER_SIZE, payload, len);
	return EBCC_FRAME_HEADER_SIZE + len;
}

static void round_trip(void **state)
{
	uint8_t buf[256];
	struct ebcc_frame f;
	size_t n, used = 0;

	(void)state;
	n = make(buf, EBCC_FRAME_RESPONSE, "hello", 5);
	assert_int_equal(n, 13);
	assert_memory_equal(buf, "\xeb\xcc\x02\x02\x05\x00\x00\x00", 8);
	assert_int_equal(ebcc__frame_decode(buf, n, &host_side, &f, &used), EBCC_FRAME_OK);
	assert_int_equal(used, 13);
	assert_int_equal(f.type, EBCC_FRAME_RESPONSE);
	assert_int_equal(f.length, 5);
	assert_memory_equal(f.payload, "hello", 5);

	/* An empty response and an empty log line are frames too. */
	n = make(buf, EBCC_FRAME_LOG, NULL, 0);
	assert_int_equal(ebcc__frame_decode(buf, n, &host_side, &f, &used), EBCC_FRAME_OK);
	assert_int_equal(f.text_len, 0);

	n = make(buf, EBCC_FRAME_LOG, "line", 4);
	assert_int_equal(ebcc__frame_decode(buf, n, &host_side, &f, &used), EBCC_FRAME_OK);
	assert_int_equal(f.text_len, 4);
	assert_memory_equal(f.text, "line", 4);

	n = make(buf, EBCC_FRAME_REQUEST, "req", 3);
	assert_int_equal(ebcc__frame_decode(buf, n, &stage_side, &f, &used), EBCC_FRAME_OK);
	assert_memory_equal(f.payload, "req", 3);
}

static void error_frames(void **state)
{
	uint8_t payload[EBCC_FRAME_ERROR_CODE_SIZE + 8], buf[64];
	struct ebcc_frame f;
	size_t n, used;

	(void)state;
	ebcc__frame_encode_error_code(payload, -16);
	memcpy(payload + 4, "bad", 3);
	n = make(buf, EBCC_FRAME_ERROR, payload, 7);
	assert_int_equal(ebcc__frame_decode(buf, n, &host_side, &f, &used), EBCC_FRAME_OK);
	assert_int_equal(f.error_code, -16);
	assert_int_equal(f.text_len, 3);
	assert_memory_equal(f.text, "bad", 3);

	ebcc__frame_encode_error_code(payload, INT32_MIN);
	n = make(buf, EBCC_FRAME_ERROR, payload, 4);
	assert_int_equal(ebcc__frame_decode(buf, n, &host_side, &f, &used), EBCC_FRAME_OK);
	assert_int_equal(f.error_code, INT32_MIN);

	/* A code that is not negative, or no room for the code at all. */
	ebcc__frame_encode_error_code(payload, 0);
	n = make(buf, EBCC_FRAME_ERROR, payload, 4);
	assert_int_equal(ebcc__frame_decode(buf, n, &host_side, &f, &used), EBCC_FRAME_BAD_ERROR);
	ebcc__frame_encode_error_code(payload, INT32_MAX);
	n = make(buf, EBCC_FRAME_ERROR, payload, 4);
	assert_int_equal(ebcc__frame_decode(buf, n, &host_side, &f, &used), EBCC_FRAME_BAD_ERROR);
	n = make(buf, EBCC_FRAME_ERROR, payload, 3);
	assert_int_equal(ebcc__frame_decode_header(buf, 8, &host_side, &f), EBCC_FRAME_BAD_ERROR);
}

static void malformed_headers(void **state)
{
	uint8_t buf[64];
	struct ebcc_frame f;
	size_t used;

	(void)state;
	make(buf, EBCC_FRAME_RESPONSE, "x", 1);
	buf[0] = 'G'; /* "GET / HTTP/1.1" and other garbage: refused on its first byte */
	assert_int_equal(ebcc__frame_decode_header(buf, 1, &host_side, &f), EBCC_FRAME_BAD_MAGIC);
	make(buf, EBCC_FRAME_RESPONSE, "x", 1);
	buf[1] = 0;
	assert_int_equal(ebcc__frame_decode_header(buf, 2, &host_side, &f), EBCC_FRAME_BAD_MAGIC);
	make(buf, EBCC_FRAME_RESPONSE, "x", 1);
	buf[2] = 1; /* a stage of libebcc-stage 0.1, which binds nothing */
	assert_int_equal(ebcc__frame_decode_header(buf, 3, &host_side, &f), EBCC_FRAME_BAD_VERSION);
	buf[2] = 3;
	assert_int_equal(ebcc__frame_decode_header(buf, 3, &host_side, &f), EBCC_FRAME_BAD_VERSION);
	for (unsigned t = 0; t < 256; t++) {
		int want = t >= 2 && t <= 4	   ? EBCC_FRAME_OK
			   : t == 1 || t == 5 || t == 7 || t == 8 ? EBCC_FRAME_UNEXPECTED
			   : t == 6	      ? EBCC_FRAME_BAD_REPORT /* 4 bytes, not 64 */
					      : EBCC_FRAME_BAD_TYPE;

		make(buf, EBCC_FRAME_RESPONSE, "xxxx", 4);
		buf[3] = (uint8_t)t;
		if (t == EBCC_FRAME_ERROR) {
			ebcc__frame_encode_error_code(buf + 8, -1);
		}
		assert_int_equal(ebcc__frame_decode(buf, 12, &host_side, &f, &used), want);
	}
	/* The stage side accepts requests only. */
	make(buf, EBCC_FRAME_RESPONSE, "x", 1);
	assert_int_equal(ebcc__frame_decode(buf, 9, &stage_side, &f, &used), EBCC_FRAME_UNEXPECTED);
	/* Text with a NUL byte. */
	make(buf, EBCC_FRAME_LOG, "a\0b", 3);
	assert_int_equal(ebcc__frame_decode(buf, 11, &host_side, &f, &used), EBCC_FRAME_BAD_TEXT);
}

/* BIND: six length-prefixed fields, eid and seq of 8 bytes; REPORT: report_data first. */
static void bind_and_report(void **state)
{
	const uint8_t nonce[3] = { 1, 2, 3 };
	struct ebcc_frame_bind b = {
		.instance = "web", .instance_len = 3, .stage = "scorer", .stage_len = 6,
		.eid = 7, .seq = 0x0102030405060708, .measurement = "sha256:ab",
		.measurement_len = 9, .nonce = nonce, .nonce_len = 3,
	};
	uint8_t payload[128], buf[256 + EBCC_FRAME_HEADER_SIZE], report[EBCC_FRAME_REPORT_DATA_SIZE + 4] = { 0 };
	struct ebcc_frame f;
	size_t len, n, used;

	(void)state;
	len = ebcc__frame_encode_bind(&b, payload, sizeof(payload));
	if (len != 6 * 4 + 3 + 6 + 8 + 8 + 9 + 3)
		fail_msg("BIND payload of %zu bytes", len);
	assert_memory_equal(payload, "\0\0\0\x03web\0\0\0\x06scorer\0\0\0\x08", 4 + 3 + 4 + 6 + 4);
	assert_memory_equal(payload + 21, "\0\0\0\0\0\0\0\x07\0\0\0\x08\x01\x02", 14);
	n = make(buf, EBCC_FRAME_BIND, payload, (uint32_t)len);
	assert_int_equal(ebcc__frame_decode(buf, n, &stage_side, &f, &used), EBCC_FRAME_OK);
	assert_int_equal(f.length, len);
	/* Too small a buffer; a field cut, one too many, an eid of 7 bytes. */
	assert_int_equal(ebcc__frame_encode_bind(&b, payload, len - 1), 0);
	n = make(buf, EBCC_FRAME_BIND, payload, (uint32_t)len - 1);
	assert_int_equal(ebcc__frame_decode(buf, n, &stage_side, &f, &used), EBCC_FRAME_BAD_BIND);
	memcpy(payload + len, "\0\0\0\0", 4);
	n = make(buf, EBCC_FRAME_BIND, payload, (uint32_t)len + 4);
	assert_int_equal(ebcc__frame_decode(buf, n, &stage_side, &f, &used), EBCC_FRAME_BAD_BIND);
	payload[4 + 3 + 4 + 6 + 3] = 7;
	n = make(buf, EBCC_FRAME_BIND, payload, (uint32_t)len);
	assert_int_equal(ebcc__frame_decode(buf, n, &stage_side, &f, &used), EBCC_FRAME_BAD_BIND);
	ebcc__frame_encode_header(buf, EBCC_FRAME_BIND, EBCC_FRAME_BIND_MAX + 1);
	assert_int_equal(ebcc__frame_decode_header(buf, 8, &stage_side, &f), EBCC_FRAME_TOO_BIG);

	n = make(buf, EBCC_FRAME_REPORT, report, sizeof(report));
	assert_int_equal(ebcc__frame_decode(buf, n, &host_side, &f, &used), EBCC_FRAME_OK);
	n = make(buf, EBCC_FRAME_REPORT, report, EBCC_FRAME_REPORT_DATA_SIZE - 1);
	assert_int_equal(ebcc__frame_decode(buf, n, &host_side, &f, &used), EBCC_FRAME_BAD_REPORT);
	ebcc__frame_encode_header(buf, EBCC_FRAME_REPORT, EBCC_FRAME_REPORT_MAX + 1);
	assert_int_equal(ebcc__frame_decode_header(buf, 8, &host_side, &f), EBCC_FRAME_TOO_BIG);
	assert_string_equal(ebcc__frame_type_name(EBCC_FRAME_BIND), "BIND");
	assert_string_equal(ebcc__frame_type_name(EBCC_FRAME_REPORT), "REPORT");
}

/* KEY and IMAGE: fixed 32-byte payloads, checked in the header and again with the payload. */
static void key_and_image(void **state)
{
	static const struct ebcc_frame_limits answer_side = {
		.accept = EBCC_FRAME_BIT(EBCC_FRAME_KEY) | EBCC_FRAME_BIT(EBCC_FRAME_IMAGE),
		.max_payload = 100,
	};
	static const struct {
		uint8_t type;
		int bad;
	} kinds[] = { { EBCC_FRAME_KEY, EBCC_FRAME_BAD_KEY }, { EBCC_FRAME_IMAGE, EBCC_FRAME_BAD_IMAGE } };
	uint8_t payload[33] = { 0 }, buf[64];
	struct ebcc_frame f;
	size_t n, used;

	(void)state;
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		n = make(buf, kinds[i].type, payload, 32);
		assert_int_equal(ebcc__frame_decode(buf, n, &answer_side, &f, &used), EBCC_FRAME_OK);
		assert_int_equal(f.length, 32);
		assert_int_equal(ebcc__frame_decode(buf, n, &host_side, &f, &used),
				 EBCC_FRAME_UNEXPECTED);
		for (uint32_t len = 31; len <= 33; len += 2) {
			n = make(buf, kinds[i].type, payload, len);
			assert_int_equal(ebcc__frame_decode_header(buf, 8, &answer_side, &f),
					 kinds[i].bad);
			f = (struct ebcc_frame){ .type = kinds[i].type, .length = len };
			assert_int_equal(ebcc__frame_decode_payload(&f, payload), kinds[i].bad);
		}
		assert_non_null(strstr(ebcc__frame_status_text(kinds[i].bad), "32-byte"));
	}
	assert_string_equal(ebcc__frame_type_name(EBCC_FRAME_IMAGE), "IMAGE");
}

static void truncated_input(void **state)
{
	uint8_t buf[64];
	struct ebcc_frame f = { .type = 99 };
	size_t n, used = 12345;

	(void)state;
	n = make(buf, EBCC_FRAME_RESPONSE, "0123456789", 10);
	for (size_t len = 0; len < n; len++) {
		assert_int_equal(ebcc__frame_decode(buf, len, &host_side, &f, &used),
				 EBCC_FRAME_INCOMPLETE);
		assert_int_equal(used, 12345); /* untouched */
	}
	assert_int_equal(f.type, 99);
	assert_int_equal(ebcc__frame_decode(buf, n, &host_side, &f, &used), EBCC_FRAME_OK);
	assert_int_equal(used, n);
	/* Two frames back to back: the first is decoded, its size says where the next starts. */
	memcpy(buf + n, buf, n);
	assert_int_equal(ebcc__frame_decode(buf, 2 * n, &host_side, &f, &used), EBCC_FRAME_OK);
	assert_int_equal(used, n);
}

static void oversized(void **state)
{
	uint8_t buf[16];
	struct ebcc_frame f;

	(void)state;
	ebcc__frame_encode_header(buf, EBCC_FRAME_RESPONSE, 100);
	assert_int_equal(ebcc__frame_decode_header(buf, 8, &host_side, &f), EBCC_FRAME_OK);
	ebcc__frame_encode_header(buf, EBCC_FRAME_RESPONSE, 101);
	assert_int_equal(ebcc__frame_decode_header(buf, 8, &host_side, &f), EBCC_FRAME_TOO_BIG);
	ebcc__frame_encode_header(buf, EBCC_FRAME_RESPONSE, UINT32_MAX);
	assert_int_equal(ebcc__frame_decode_header(buf, 8, &host_side, &f), EBCC_FRAME_TOO_BIG);
	/* The absolute cap holds whatever the limit says. */
	ebcc__frame_encode_header(buf, EBCC_FRAME_REQUEST, EBCC_FRAME_PAYLOAD_CAP);
	assert_int_equal(ebcc__frame_decode_header(buf, 8, &stage_side, &f), EBCC_FRAME_OK);
	ebcc__frame_encode_header(buf, EBCC_FRAME_REQUEST, EBCC_FRAME_PAYLOAD_CAP + 1);
	assert_int_equal(ebcc__frame_decode_header(buf, 8, &stage_side, &f), EBCC_FRAME_TOO_BIG);
	/* LOG and ERROR text is bounded on its own. */
	ebcc__frame_encode_header(buf, EBCC_FRAME_LOG, EBCC_FRAME_TEXT_MAX);
	assert_int_equal(ebcc__frame_decode_header(buf, 8, &host_side, &f), EBCC_FRAME_OK);
	ebcc__frame_encode_header(buf, EBCC_FRAME_LOG, EBCC_FRAME_TEXT_MAX + 1);
	assert_int_equal(ebcc__frame_decode_header(buf, 8, &host_side, &f), EBCC_FRAME_TOO_BIG);
	ebcc__frame_encode_header(buf, EBCC_FRAME_ERROR, 4 + EBCC_FRAME_TEXT_MAX + 1);
	assert_int_equal(ebcc__frame_decode_header(buf, 8, &host_side, &f), EBCC_FRAME_TOO_BIG);
}

/* Random bytes (a fixed seed): the decoder never claims more than it was given, and what it
 * accepts re-encodes to the same header. */
static void random_input(void **state)
{
	uint8_t buf[64];
	uint32_t seed = 12345;

	(void)state;
	for (int round = 0; round < 200000; round++) {
		size_t len = 0, used = 0;
		struct ebcc_frame f;
		int r;

		for (size_t i = 0; i < sizeof(buf); i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = (uint8_t)(seed >> 16);
		}
		/* Bias toward valid prefixes so that the deeper checks are reached. */
		if (round % 2 == 0) {
			buf[0] = EBCC_FRAME_MAGIC0;
			buf[1] = EBCC_FRAME_MAGIC1;
			buf[2] = EBCC_FRAME_VERSION;
			buf[3] = (uint8_t)(1 + round % 6);
			buf[5] = buf[6] = buf[7] = 0;
			buf[4] %= 64;
		}
		len = (size_t)(seed >> 8) % (sizeof(buf) + 1);
		r = ebcc__frame_decode(buf, len, &host_side, &f, &used);
		assert_true(r == EBCC_FRAME_OK || r == EBCC_FRAME_INCOMPLETE || r < 0);
		if (r == EBCC_FRAME_OK) {
			uint8_t again[EBCC_FRAME_HEADER_SIZE];

			assert_true(used <= len);
			assert_int_equal(used, EBCC_FRAME_HEADER_SIZE + f.length);
			ebcc__frame_encode_header(again, f.type, f.length);
			assert_memory_equal(again, buf, sizeof(again));
			assert_non_null(ebcc__frame_status_text(r));
		}
	}
	assert_string_equal(ebcc__frame_type_name(0), "unknown");
	assert_string_equal(ebcc__frame_status_text(-99), "unknown frame status");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),	   cmocka_unit_test(error_frames),
		cmocka_unit_test(malformed_headers), cmocka_unit_test(truncated_input),
		cmocka_unit_test(oversized),	   cmocka_unit_test(random_input),
		cmocka_unit_test(bind_and_report), cmocka_unit_test(key_and_image),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
