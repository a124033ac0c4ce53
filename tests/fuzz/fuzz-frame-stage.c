/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: the stage side of the channel (lib/stage/serve.c, the protected side's TCB). The
 * input is what a host sends to a stage (BIND and REQUEST frames or garbage); ebcc_stage_serve()
 * reads it from the channel descriptor, a socket pair here, and answers each request through a
 * handler whose behaviour the request's first byte picks:
 *   'L' logs the rest with ebcc_stage_log() and echoes,  'E' fails with EBCC_ERR_STAGE,
 *   'N' answers nothing (an empty response),  'X' answers NULL with a length,  else echoes.
 *
 * Properties: ebcc_stage_serve() returns what the frames call for (0 when the host hangs up
 * between requests, EBCC_ERR_CORRUPT for a bad header or BIND, EBCC_ERR_IO for a truncated
 * frame), and the stage writes exactly the frames the requests call for, byte for byte (built
 * here from the wire format in lib/base/frame.h, not with the encoder under test; the REPORT's
 * report_data with OpenSSL, not with the stage's BearSSL), which the host's decoder accepts.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>

#include <openssl/sha.h>

#include <ebcc/stage.h>

#include "frame.h"
#include "fuzz-common.h"

#define FUZZ_INPUT_MAX (64 << 10)
#define FAILED_MESSAGE "the stage's handler failed the request"
#define NULL_MESSAGE "stage response is larger than 1 GiB or NULL"

/* The stage library is libc-only: its fuzzer is not linked with libebcc, so the few things
 * fuzz-common.h uses from it are simple here. */
static char no_message[] = "";

const char *ebcc_last_error_message(void)
{
	return no_message;
}

const char *ebcc_error_name(int err)
{
	(void)err;
	return "";
}

int ebcc__error(int code, const char *fmt, ...)
{
	(void)fmt;
	return code;
}

static int handler(const void *request, size_t len, void **ret_response, size_t *ret_len,
		   void *userdata)
{
	const char *req = request;
	void *copy;

	(void)userdata;
	if (len > 0 && req[0] == 'E')
		return EBCC_ERR_STAGE;
	if (len > 0 && req[0] == 'N')
		return 0;
	if (len > 0 && req[0] == 'X') {
		*ret_len = 1;
		return 0;
	}
	if (len > 0 && req[0] == 'L') {
		char *text = malloc(len);

		if (text == NULL)
			abort();
		memcpy(text, req + 1, len - 1);
		text[len - 1] = '\0';
		ebcc_stage_log(text);
		free(text);
	}
	copy = malloc(len > 0 ? len : 1);
	if (copy == NULL)
		abort();
	if (len > 0)
		memcpy(copy, request, len);
	*ret_response = copy;
	*ret_len = len;
	return 0;
}

/* ---- the expected output, from the wire format ---------------------------------------- */

struct bytes {
	uint8_t *data;
	size_t len, cap;
};

static void put(struct bytes *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->data = realloc(b->data, b->cap);
		if (b->data == NULL)
			abort();
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void put_header(struct bytes *b, uint8_t type, uint32_t len)
{
	const uint8_t h[8] = { 0xeb, 0xcc, 2, type, (uint8_t)len, (uint8_t)(len >> 8),
			       (uint8_t)(len >> 16), (uint8_t)(len >> 24) };

	put(b, h, sizeof(h));
}

static void put_error(struct bytes *b, int32_t code, const char *message)
{
	uint32_t raw = (uint32_t)code;
	const uint8_t c[4] = { (uint8_t)raw, (uint8_t)(raw >> 8), (uint8_t)(raw >> 16),
			       (uint8_t)(raw >> 24) };

	put_header(b, EBCC_FRAME_ERROR, (uint32_t)(4 + strlen(message)));
	put(b, c, 4);
	put(b, message, strlen(message));
}

static void put_field(struct bytes *b, const void *p, uint32_t n)
{
	const uint8_t be[4] = { (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8),
				(uint8_t)n };

	put(b, be, 4);
	put(b, p, n);
}

/* REPORT: report_data over the BIND fields and the digests of request and response. */
static void put_report(struct bytes *b, const uint8_t *bind, uint32_t bind_len,
		       const uint8_t *req, uint32_t len)
{
	struct bytes in = { 0 };
	uint8_t digest[32], rd[64];

	put_field(&in, "EBCC-EVIDENCE-V2", 16);
	put(&in, bind, bind_len);
	SHA256(req, len, digest);
	put_field(&in, digest, 32);
	/* The handler echoes the request, or answers nothing ('N'). */
	SHA256(req, len > 0 && req[0] == 'N' ? 0 : len, digest);
	put_field(&in, digest, 32);
	SHA512(in.data, in.len, rd);
	free(in.data);
	put_header(b, EBCC_FRAME_REPORT, 64);
	put(b, rd, 64);
}

static void answer(struct bytes *b, const uint8_t *bind, uint32_t bind_len, const uint8_t *req,
		   uint32_t len)
{
	if (len > 0 && req[0] == 'E') {
		put_error(b, EBCC_ERR_STAGE, FAILED_MESSAGE);
		return;
	}
	if (len > 0 && req[0] == 'N') {
		put_report(b, bind, bind_len, req, len);
		put_header(b, EBCC_FRAME_RESPONSE, 0);
		return;
	}
	if (len > 0 && req[0] == 'X') {
		put_error(b, EBCC_ERR_TOO_BIG, NULL_MESSAGE);
		return;
	}
	if (len > 0 && req[0] == 'L') {
		size_t n = strnlen((const char *)req + 1, len - 1);

		n = n < EBCC_FRAME_TEXT_MAX ? n : EBCC_FRAME_TEXT_MAX;
		put_header(b, EBCC_FRAME_LOG, (uint32_t)n);
		put(b, req + 1, n);
	}
	put_report(b, bind, bind_len, req, len);
	put_header(b, EBCC_FRAME_RESPONSE, len);
	put(b, req, len);
}

/* Walks the input as serve.c must: a BIND, then a REQUEST; of each a whole header, judged,
 * then the whole payload. *huge is
 * set when a header announces more than any input holds: the stage allocates what a header
 * announces (up to 1 GiB) before reading it, and that costs AddressSanitizer a tenth of a
 * second for nothing but a truncated frame, which short frames test as well. */
static int expect(const uint8_t *data, size_t size, struct bytes *out, bool *huge)
{
	static const struct ebcc_frame_limits stage_side = {
		.accept = EBCC_FRAME_BIT(EBCC_FRAME_REQUEST),
		.max_payload = EBCC_FRAME_PAYLOAD_CAP,
	};
	static const struct ebcc_frame_limits bind_side = {
		.accept = EBCC_FRAME_BIT(EBCC_FRAME_BIND),
	};
	size_t off = 0;

	for (;;) {
		struct ebcc_frame f;
		const uint8_t *bind;
		uint32_t bind_len;
		size_t left = size - off;

		if (left == 0)
			return 0;
		if (left < EBCC_FRAME_HEADER_SIZE)
			return EBCC_ERR_IO;
		if (ebcc__frame_decode_header(data + off, EBCC_FRAME_HEADER_SIZE, &bind_side, &f) !=
		    EBCC_FRAME_OK)
			return EBCC_ERR_CORRUPT;
		if (f.length > left - EBCC_FRAME_HEADER_SIZE)
			return EBCC_ERR_IO;
		bind = data + off + EBCC_FRAME_HEADER_SIZE;
		bind_len = f.length;
		if (ebcc__frame_decode_payload(&f, bind) != EBCC_FRAME_OK)
			return EBCC_ERR_CORRUPT;
		off += EBCC_FRAME_HEADER_SIZE + f.length;

		left = size - off;
		if (left < EBCC_FRAME_HEADER_SIZE)
			return EBCC_ERR_IO;
		if (ebcc__frame_decode_header(data + off, EBCC_FRAME_HEADER_SIZE, &stage_side, &f) !=
		    EBCC_FRAME_OK)
			return EBCC_ERR_CORRUPT;
		*huge = *huge || f.length > FUZZ_INPUT_MAX;
		if (f.length > left - EBCC_FRAME_HEADER_SIZE)
			return EBCC_ERR_IO;
		answer(out, bind, bind_len, data + off + EBCC_FRAME_HEADER_SIZE, f.length);
		off += EBCC_FRAME_HEADER_SIZE + f.length;
	}
}

/* ---- running the stage ---------------------------------------------------------------- */

struct drain {
	int fd;
	struct bytes got;
};

static void *drain_fn(void *arg)
{
	struct drain *d = arg;
	uint8_t buf[16384];

	for (;;) {
		ssize_t n = read(d->fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		put(&d->got, buf, (size_t)n);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bytes want = { 0 };
	struct drain d = { .fd = -1 };
	pthread_t thread;
	int sv[2], saved, r, expected, big = 64 << 20;
	bool huge = false, threaded;

	if (size > FUZZ_INPUT_MAX)
		return -1;
	expected = expect(data, size, &want, &huge);
	if (huge) {
		free(want.data);
		return -1;
	}

	/* The stage's channel is a fixed descriptor: lend it ours for the call (and put back
	 * what it was before, saved before the socket pair could take its number). */
	saved = fcntl(EBCC_STAGE_CHANNEL_FD, F_DUPFD_CLOEXEC, 10);
	/* sv[1] plays the host: it sends the input, hangs up, and reads what comes back. */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		abort();
	if ((size > 0 && send(sv[1], data, size, MSG_NOSIGNAL) != (ssize_t)size) ||
	    shutdown(sv[1], SHUT_WR) < 0)
		abort();
	d.fd = sv[1];
	/* Room for everything the stage answers (at most a few thousand small frames): then the
	 * answers are read afterwards. Without the privilege to raise the limit, a thread reads
	 * them as they come, at a tenth of the speed. */
	threaded = setsockopt(sv[0], SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0;
	if (threaded && pthread_create(&thread, NULL, drain_fn, &d) != 0)
		abort();
	if (dup2(sv[0], EBCC_STAGE_CHANNEL_FD) < 0)
		abort();
	r = ebcc_stage_serve(handler, NULL);
	close(EBCC_STAGE_CHANNEL_FD);
	close(sv[0]);
	if (saved >= 0) {
		dup2(saved, EBCC_STAGE_CHANNEL_FD);
		close(saved);
	}
	if (threaded)
		pthread_join(thread, NULL);
	else
		drain_fn(&d);
	close(sv[1]);

	FUZZ_CHECK(r == expected, "ebcc_stage_serve returned %d, the frames call for %d", r,
		   expected);
	FUZZ_CHECK(d.got.len == want.len && (want.len == 0 || memcmp(d.got.data, want.data,
								      want.len) == 0),
		   "the stage wrote %zu bytes, the requests call for %zu", d.got.len, want.len);
	/* And the host reads it as frames. */
	for (size_t off = 0; off < d.got.len;) {
		static const struct ebcc_frame_limits host_side = {
			.accept = EBCC_FRAME_BIT(EBCC_FRAME_RESPONSE) |
				  EBCC_FRAME_BIT(EBCC_FRAME_LOG) | EBCC_FRAME_BIT(EBCC_FRAME_ERROR) |
				  EBCC_FRAME_BIT(EBCC_FRAME_REPORT),
			.max_payload = EBCC_FRAME_PAYLOAD_CAP,
		};
		struct ebcc_frame f;
		size_t used = 0;

		FUZZ_CHECK(ebcc__frame_decode(d.got.data + off, d.got.len - off, &host_side, &f,
					      &used) == EBCC_FRAME_OK,
			   "the host cannot read the stage's frame at byte %zu", off);
		off += used;
	}
	free(want.data);
	free(d.got.data);
	return 0;
}
