/* SPDX-License-Identifier: MIT */
/*
 * The stage side of the channel (libebcc-stage.a): the request loop behind ebcc_stage_serve()
 * and ebcc_stage_log(). This is the protected side's trusted computing base: libc and BearSSL
 * only, one thread, no allocation beyond each request's buffer. Each answer carries the
 * report_data the stage computed over the request it received and the response it returns
 * (binding.h), and the report its own TEE primitive made over it (attest.h): the host never
 * chooses what the TEE reports over.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ebcc/ebcc.h>
#include <ebcc/stage.h>

#include "../base/frame.h"
#include "attest.h"
#include "binding.h"
#include "image.h"
#include "secret.h"

/* The connection of the request being handled, for ebcc_stage_log(); -1 outside a request. */
static int request_fd = -1;

struct ebcc__stage_image ebcc__stage_image;

/* Sends all of buf; MSG_NOSIGNAL: a host that hung up is an error, not a SIGPIPE. */
static int send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Frames gathered into one send, so that the host wakes once for all of them rather than once
 * per frame or part: a frame that does not fit goes after what is gathered, in parts. */
#define OUTBOX_SIZE 8192

struct outbox {
	int fd;
	size_t len;
	uint8_t buf[OUTBOX_SIZE];
};

static int outbox_flush(struct outbox *o)
{
	int r = o->len > 0 ? send_all(o->fd, o->buf, o->len) : 0;

	o->len = 0;
	return r;
}

static int outbox_add(struct outbox *o, uint8_t type, const void *head, size_t head_len,
		      const void *body, size_t body_len)
{
	size_t size = EBCC_FRAME_HEADER_SIZE + head_len + body_len;
	uint8_t *at;

	if (size > sizeof(o->buf) - o->len && outbox_flush(o) < 0)
		return -1;
	if (size > sizeof(o->buf)) {
		uint8_t hdr[EBCC_FRAME_HEADER_SIZE];

		ebcc__frame_encode_header(hdr, type, (uint32_t)(head_len + body_len));
		if (send_all(o->fd, hdr, sizeof(hdr)) < 0 || send_all(o->fd, head, head_len) < 0)
			return -1;
		return send_all(o->fd, body, body_len);
	}
	at = o->buf + o->len;
	ebcc__frame_encode_header(at, type, (uint32_t)(head_len + body_len));
	if (head_len > 0)
		memcpy(at + EBCC_FRAME_HEADER_SIZE, head, head_len);
	if (body_len > 0)
		memcpy(at + EBCC_FRAME_HEADER_SIZE + head_len, body, body_len);
	o->len += size;
	return 0;
}

/* One frame on its own (LOG, ERROR and the opening frames). */
static int send_frame(int fd, uint8_t type, const void *head, size_t head_len, const void *body,
		      size_t body_len)
{
	struct outbox o;

	o.fd = fd;
	o.len = 0;
	if (outbox_add(&o, type, head, head_len, body, body_len) < 0)
		return -1;
	return outbox_flush(&o);
}

/* The length of a LOG or ERROR text: at most EBCC_FRAME_TEXT_MAX bytes are sent. */
static size_t text_len(const char *text)
{
	size_t n = 0;

	while (n < EBCC_FRAME_TEXT_MAX && text[n] != '\0')
		n++;
	return n;
}

static int send_error(int fd, int code, const char *message)
{
	uint8_t raw[EBCC_FRAME_ERROR_CODE_SIZE];

	ebcc__frame_encode_error_code(raw, code < 0 ? code : EBCC_ERR_STAGE);
	return send_frame(fd, EBCC_FRAME_ERROR, raw, sizeof(raw), message, text_len(message));
}

/* Reads exactly len bytes into buf, or discards them when buf is NULL: 1 done, 0 end of stream
 * before the first byte, -1 otherwise (including end of stream in the middle). */
static int read_exact(int fd, void *buf, size_t len)
{
	uint8_t scratch[4096];
	size_t got = 0;

	while (got < len) {
		uint8_t *to = buf != NULL ? (uint8_t *)buf + got : scratch;
		size_t want = len - got;
		ssize_t n;

		if (buf == NULL && want > sizeof(scratch))
			want = sizeof(scratch);
		n = read(fd, to, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return got == 0 ? 0 : -1;
		got += (size_t)n;
	}
	return 1;
}

/* Reads the BIND frame that opens an exchange into bind (EBCC_FRAME_BIND_MAX bytes). 1 read, 0
 * the host hung up between requests, < 0 broken. */
static int read_bind(int fd, uint8_t *bind, size_t *ret_len)
{
	static const struct ebcc_frame_limits limits = {
		.accept = EBCC_FRAME_BIT(EBCC_FRAME_BIND),
	};
	uint8_t hdr[EBCC_FRAME_HEADER_SIZE];
	struct ebcc_frame f;
	int r = read_exact(fd, hdr, sizeof(hdr));

	if (r <= 0)
		return r == 0 ? 0 : EBCC_ERR_IO;
	if (ebcc__frame_decode_header(hdr, sizeof(hdr), &limits, &f) != EBCC_FRAME_OK)
		return EBCC_ERR_CORRUPT;
	if (read_exact(fd, bind, f.length) <= 0 && f.length > 0)
		return EBCC_ERR_IO;
	if (ebcc__frame_decode_payload(&f, bind) != EBCC_FRAME_OK)
		return EBCC_ERR_CORRUPT;
	*ret_len = f.length;
	return 1;
}

/* The answer: IMAGE once an image is loaded (image.h), KEY when the handler made a key
 * (secret.h), REPORT (report_data over what was received and is returned, that digest and that
 * key, and the report of the stage's own TEE primitive over it, when it has one: attest.h) and
 * RESPONSE. Without a primitive the TEE's driver on the host side reports, for the backends
 * whose host is inside the TEE. A key whose answer is not sent whole is wiped. */
static int send_answer(int fd, const uint8_t *bind, size_t bind_len,
		       const uint8_t request_digest[32], const void *response, size_t response_len)
{
	struct outbox answer;
	uint8_t response_digest[32];
	uint8_t payload[EBCC_FRAME_REPORT_DATA_SIZE + EBCC_ATTEST_REPORT_MAX];
	const uint8_t *public_key = ebcc__stage_key_pending();
	const uint8_t *image = ebcc__stage_image.loaded ? ebcc__stage_image.digest : NULL;
	size_t report_len = 0;
	int r;

	ebcc__stage_sha256(response, response_len, response_digest);
	ebcc__stage_report_data_bound(bind, bind_len, request_digest, response_digest, image,
				      public_key, payload);
	r = ebcc__stage_attest(payload, payload + EBCC_FRAME_REPORT_DATA_SIZE,
			       EBCC_ATTEST_REPORT_MAX, &report_len);
	if (r < 0) {
		ebcc__stage_key_end(NULL, 0);
		return send_error(fd, r, "stage: its TEE's monitor gave no report over the answer");
	}
	answer.fd = fd;
	answer.len = 0;
	if ((image != NULL &&
	     outbox_add(&answer, EBCC_FRAME_IMAGE, NULL, 0, image, EBCC_FRAME_IMAGE_SIZE) < 0) ||
	    (public_key != NULL &&
	     outbox_add(&answer, EBCC_FRAME_KEY, NULL, 0, public_key, EBCC_FRAME_KEY_SIZE) < 0) ||
	    outbox_add(&answer, EBCC_FRAME_REPORT, NULL, 0, payload,
		       EBCC_FRAME_REPORT_DATA_SIZE + report_len) < 0 ||
	    outbox_add(&answer, EBCC_FRAME_RESPONSE, NULL, 0, response, response_len) < 0 ||
	    outbox_flush(&answer) < 0) {
		ebcc__stage_key_end(NULL, 0);
		return -1;
	}
	ebcc__stage_key_end(payload, 1);
	return 0;
}

/* Serves one request. 1 served, 0 the host hung up between requests, < 0 broken. */
static int serve_one(int fd, ebcc_stage_handler_fn handler, void *userdata)
{
	static const struct ebcc_frame_limits limits = {
		.accept = EBCC_FRAME_BIT(EBCC_FRAME_REQUEST),
		.max_payload = EBCC_FRAME_PAYLOAD_CAP,
	};
	static uint8_t bind[EBCC_FRAME_BIND_MAX];
	uint8_t hdr[EBCC_FRAME_HEADER_SIZE], request_digest[32];
	struct ebcc_frame f;
	void *request, *response = NULL;
	size_t response_len = 0, bind_len = 0;
	int r;

	r = read_bind(fd, bind, &bind_len);
	if (r <= 0)
		return r;
	if (read_exact(fd, hdr, sizeof(hdr)) <= 0)
		return EBCC_ERR_IO;
	if (ebcc__frame_decode_header(hdr, sizeof(hdr), &limits, &f) != EBCC_FRAME_OK)
		return EBCC_ERR_CORRUPT;

	request = malloc(f.length > 0 ? f.length : 1);
	if (request == NULL) {
		char msg[96];

		/* Drain the request so the channel stays in step, then say why. */
		if (read_exact(fd, NULL, f.length) <= 0 && f.length > 0)
			return EBCC_ERR_IO;
		snprintf(msg, sizeof(msg), "stage: no memory for a request of %u bytes", f.length);
		return send_error(fd, EBCC_ERR_NO_MEMORY, msg) < 0 ? EBCC_ERR_IO : 1;
	}
	if (f.length > 0 && read_exact(fd, request, f.length) <= 0) {
		free(request);
		return EBCC_ERR_IO;
	}
	/* Hashed before the handler runs: what it may do to the buffer changes nothing. */
	ebcc__stage_sha256(request, f.length, request_digest);

	request_fd = fd;
	ebcc__stage_key_begin();
	r = handler(request, f.length, &response, &response_len, userdata);
	request_fd = -1;
	free(request);

	if (r < 0 || response_len > EBCC_FRAME_PAYLOAD_CAP || (response == NULL && response_len > 0))
		ebcc__stage_key_end(NULL, 0); /* no answer binds a key made for this one */
	if (r < 0) {
		free(response);
		return send_error(fd, r, "the stage's handler failed the request") < 0 ? EBCC_ERR_IO
											: 1;
	}
	if (response_len > EBCC_FRAME_PAYLOAD_CAP || (response == NULL && response_len > 0)) {
		free(response);
		return send_error(fd, EBCC_ERR_TOO_BIG, "stage response is larger than 1 GiB or NULL") <
				       0
			       ? EBCC_ERR_IO
			       : 1;
	}
	r = send_answer(fd, bind, bind_len, request_digest, response, response_len);
	free(response);
	return r < 0 ? EBCC_ERR_IO : 1;
}

static int serve_connection(int fd, ebcc_stage_handler_fn handler, void *userdata)
{
	for (;;) {
		int r = serve_one(fd, handler, userdata);

		if (r <= 0)
			return r;
	}
}

/* The host's uid as seen here: with or without a user namespace, a peer of another user never
 * has our uid. */
static int peer_is_host(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && len == sizeof(cred) &&
	       cred.uid == getuid();
}

int ebcc_stage_serve(ebcc_stage_handler_fn handler, void *userdata)
{
	int listening = 0;
	socklen_t len = sizeof(listening);

	if (handler == NULL)
		return EBCC_ERR_INVALID_ARG;
	if (getsockopt(EBCC_STAGE_CHANNEL_FD, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) < 0)
		return EBCC_ERR_NOT_FOUND; /* no channel: not started by a backend */
	if (!listening)
		return serve_connection(EBCC_STAGE_CHANNEL_FD, handler, userdata);

	/* A warm stage: one connection at a time, each with any number of requests. A host that
	 * hangs up, even in the middle of a frame, only ends its own connection. */
	for (;;) {
		int c = accept4(EBCC_STAGE_CHANNEL_FD, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return EBCC_ERR_IO;
		}
		if (peer_is_host(c))
			(void)serve_connection(c, handler, userdata);
		close(c);
	}
}

void ebcc_stage_log(const char *message)
{
	if (request_fd < 0 || message == NULL)
		return;
	if (send_frame(request_fd, EBCC_FRAME_LOG, NULL, 0, message, text_len(message)) < 0)
		request_fd = -1; /* the host is gone; the handler's result will say so */
}
