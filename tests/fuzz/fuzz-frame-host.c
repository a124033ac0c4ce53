/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: the host side of the stage channel. The input is what a stage sends back (LOG,
 * REPORT, RESPONSE, ERROR frames or garbage); ebcc__channel_call() (backends/common/channel.c)
 * sends a BIND and a request over a socket pair and reads the input from it, exactly as it reads
 * a real stage.
 *
 * Properties:
 *  - the frame header decoder judges bytes as they arrive consistently: a verdict on a prefix
 *    of a header is never contradicted by the whole header;
 *  - the streaming reader agrees with the pure decoder (ebcc__frame_decode over the whole
 *    input): the same outcome (response, stage error, hangup or protocol violation), the same
 *    response bytes, report_data and report or error code, image digest and public key, and
 *    the log the frames carry, cut at the budget with a note; a RESPONSE counts only after
 *    exactly one REPORT, which may follow an IMAGE, then a KEY, and nothing else;
 *  - every message for the operator (detail) is set and printable, and the call never fails.
 */
#include <sys/socket.h>

#include "channel.h"
#include "frame.h"
#include "fuzz-common.h"

#define FUZZ_INPUT_MAX (64 << 10) /* fits a socket buffer: the peer is never read while writing */
#define MAX_RESPONSE 4096
#define LOG_BUDGET 1024

static const char request[] = "fuzz";
/* Six empty fields but eid and seq: the smallest BIND. */
static const uint8_t bind_fields[40] = { [11] = 8, [23] = 8 };
static const char note[] = "[ebcc: log truncated: the stage logged more than the "
			   "per-invocation budget]\n";

static void *alloc_fn(size_t size, void *host)
{
	(void)host;
	return malloc(size);
}

static void release_fn(void *p, void *host)
{
	(void)host;
	free(p);
}

static const struct ebcc__channel_alloc alloc = { alloc_fn, release_fn, NULL };
static const struct ebcc__channel_limits limits = {
	.max_request = sizeof(request),
	.max_response = MAX_RESPONSE,
	.log_budget = LOG_BUDGET,
	.timeout_ms = 0, /* everything is already there, or the peer has hung up */
};
/* What the host accepts before the REPORT, right after an IMAGE, right after a KEY, and after
 * the REPORT. */
static const struct ebcc_frame_limits host_side = {
	.accept = EBCC_FRAME_BIT(EBCC_FRAME_REPORT) | EBCC_FRAME_BIT(EBCC_FRAME_LOG) |
		  EBCC_FRAME_BIT(EBCC_FRAME_ERROR) | EBCC_FRAME_BIT(EBCC_FRAME_KEY) |
		  EBCC_FRAME_BIT(EBCC_FRAME_IMAGE),
	.max_payload = MAX_RESPONSE,
};
static const struct ebcc_frame_limits after_image = {
	.accept = EBCC_FRAME_BIT(EBCC_FRAME_KEY) | EBCC_FRAME_BIT(EBCC_FRAME_REPORT),
	.max_payload = MAX_RESPONSE,
};
static const struct ebcc_frame_limits after_key = {
	.accept = EBCC_FRAME_BIT(EBCC_FRAME_REPORT),
	.max_payload = MAX_RESPONSE,
};
static const struct ebcc_frame_limits after_report = {
	.accept = EBCC_FRAME_BIT(EBCC_FRAME_RESPONSE),
	.max_payload = MAX_RESPONSE,
};

/* What the channel should make of the input, from the pure decoder. */
struct expected {
	enum ebcc__channel_outcome outcome;
	const uint8_t *response;
	size_t response_len;
	int32_t stage_code;
	const uint8_t *report; /* the REPORT payload: report_data, then the report */
	size_t report_len;
	const uint8_t *public_key; /* the KEY payload, if one came */
	const uint8_t *image;      /* the IMAGE payload, if one came */
	char log[LOG_BUDGET + sizeof(note) + 1];
	size_t log_len;
	bool truncated;
};

static void log_model(struct expected *e, const char *text, size_t len)
{
	if (e->truncated)
		return;
	if (e->log_len + len + 1 > LOG_BUDGET) {
		memcpy(e->log + e->log_len, note, sizeof(note) - 1);
		e->log_len += sizeof(note) - 1;
		e->truncated = true;
		return;
	}
	memcpy(e->log + e->log_len, text, len);
	e->log_len += len;
	e->log[e->log_len++] = '\n';
}

static void expect(const uint8_t *data, size_t size, struct expected *e)
{
	size_t off = 0;

	*e = (struct expected){ 0 };
	for (;;) {
		struct ebcc_frame f;
		size_t used = 0;
		const struct ebcc_frame_limits *lim = &host_side;
		int st;

		if (e->report != NULL)
			lim = &after_report;
		else if (e->public_key != NULL)
			lim = &after_key;
		else if (e->image != NULL)
			lim = &after_image;
		st = ebcc__frame_decode(data + off, size - off, lim, &f, &used);

		if (st == EBCC_FRAME_INCOMPLETE) {
			e->outcome = EBCC_CHANNEL_HANGUP;
			return;
		}
		if (st != EBCC_FRAME_OK) {
			e->outcome = EBCC_CHANNEL_PROTOCOL;
			return;
		}
		FUZZ_CHECK(used == EBCC_FRAME_HEADER_SIZE + f.length && used <= size - off,
			   "a frame of %u bytes spans %zu", f.length, used);
		off += used;
		switch (f.type) {
		case EBCC_FRAME_LOG:
			log_model(e, f.text, f.text_len);
			break;
		case EBCC_FRAME_KEY:
			FUZZ_CHECK(f.length == EBCC_FRAME_KEY_SIZE, "a KEY of %u bytes", f.length);
			e->public_key = f.payload;
			break;
		case EBCC_FRAME_IMAGE:
			FUZZ_CHECK(f.length == EBCC_FRAME_IMAGE_SIZE, "an IMAGE of %u bytes", f.length);
			e->image = f.payload;
			break;
		case EBCC_FRAME_REPORT:
			FUZZ_CHECK(f.length >= EBCC_FRAME_REPORT_DATA_SIZE, "a REPORT of %u bytes",
				   f.length);
			e->report = f.payload;
			e->report_len = f.length;
			break;
		case EBCC_FRAME_ERROR:
			FUZZ_CHECK(f.error_code < 0, "an ERROR frame with code %d", f.error_code);
			e->outcome = EBCC_CHANNEL_STAGE_ERROR;
			e->stage_code = f.error_code;
			return;
		default:
			FUZZ_CHECK(f.type == EBCC_FRAME_RESPONSE && f.length <= MAX_RESPONSE,
				   "a %s frame of %u bytes decoded", ebcc__frame_type_name(f.type),
				   f.length);
			e->outcome = EBCC_CHANNEL_RESPONSE;
			e->response = f.payload;
			e->response_len = f.length;
			return;
		}
	}
}

/* A verdict on part of a header stands once the rest arrives. */
static void check_header_prefixes(const uint8_t *data, size_t size)
{
	size_t n = size < EBCC_FRAME_HEADER_SIZE ? size : EBCC_FRAME_HEADER_SIZE;
	struct ebcc_frame f;
	int whole = ebcc__frame_decode_header(data, n, &host_side, &f);

	for (size_t k = 0; k < n; k++) {
		int part = ebcc__frame_decode_header(data, k, &host_side, &f);

		FUZZ_CHECK(part == EBCC_FRAME_INCOMPLETE || part == whole,
			   "%zu header bytes give %d, %zu give %d", k, part, n, whole);
	}
}

static bool printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ebcc__channel_result res;
	struct expected e;
	int sv[2], r;

	if (size > FUZZ_INPUT_MAX)
		return -1;
	check_header_prefixes(data, size);
	expect(data, size, &e);

	/* sv[1] plays the stage: it has sent the input and hung up. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if ((size > 0 && send(sv[1], data, size, MSG_NOSIGNAL) != (ssize_t)size) ||
	    shutdown(sv[1], SHUT_WR) < 0)
		abort();
	r = ebcc__channel_call(sv[0], bind_fields, sizeof(bind_fields), request, sizeof(request), &limits, &alloc,
			       &res);
	FUZZ_CHECK(r == 0, "ebcc__channel_call failed: %s", ebcc_error_name(r));
	close(sv[0]);
	close(sv[1]);

	FUZZ_CHECK(res.outcome == e.outcome, "outcome %d, the decoder says %d (%s)", res.outcome,
		   e.outcome, res.detail);
	FUZZ_CHECK(res.log != NULL && res.log_len == strlen(res.log) && res.log_len == e.log_len &&
			   memcmp(res.log, e.log, e.log_len) == 0,
		   "log of %zu bytes, expected %zu:\n%s", res.log_len, e.log_len,
		   res.log != NULL ? res.log : "(none)");
	FUZZ_CHECK(strlen(res.detail) < sizeof(res.detail) && printable(res.detail),
		   "detail not printable: %s", res.detail);
	switch (res.outcome) {
	case EBCC_CHANNEL_RESPONSE:
		FUZZ_CHECK(res.response_len == e.response_len &&
				   (res.response_len == 0 ? res.response == NULL
							  : memcmp(res.response, e.response,
								   e.response_len) == 0),
			   "response of %zu bytes differs", res.response_len);
		FUZZ_CHECK(memcmp(res.report_data, e.report, EBCC_FRAME_REPORT_DATA_SIZE) == 0 &&
				   res.report_len == e.report_len - EBCC_FRAME_REPORT_DATA_SIZE &&
				   (res.report_len == 0
					    ? res.report == NULL
					    : memcmp(res.report, e.report + EBCC_FRAME_REPORT_DATA_SIZE,
						     res.report_len) == 0),
			   "report of %zu bytes differs", res.report_len);
		FUZZ_CHECK(res.has_public_key == (e.public_key != NULL) &&
				   (e.public_key == NULL ||
				    memcmp(res.public_key, e.public_key, EBCC_FRAME_KEY_SIZE) == 0),
			   "public key %s, expected %s", res.has_public_key ? "present" : "absent",
			   e.public_key != NULL ? "present" : "absent");
		FUZZ_CHECK(res.has_image_digest == (e.image != NULL) &&
				   (e.image == NULL ||
				    memcmp(res.image_digest, e.image, EBCC_FRAME_IMAGE_SIZE) == 0),
			   "image digest %s, expected %s", res.has_image_digest ? "present" : "absent",
			   e.image != NULL ? "present" : "absent");
		break;
	case EBCC_CHANNEL_STAGE_ERROR:
		FUZZ_CHECK(res.stage_code == e.stage_code, "stage code %d, expected %d",
			   res.stage_code, e.stage_code);
		break;
	default:
		FUZZ_CHECK(res.detail[0] != '\0' && res.response == NULL,
			   "outcome %d without a detail, or with a response", res.outcome);
		break;
	}
	ebcc__channel_result_clear(&res, &alloc);
	return 0;
}
