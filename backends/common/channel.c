/* SPDX-License-Identifier: MIT */
/*
 * The host side of the frame channel: rendezvous sockets, and one exchange (REQUEST out; LOG
 * frames, then RESPONSE or ERROR back) under a deadline, with every read bounded: a header is
 * judged before its payload is read, a response never exceeds its limit, and the log budget
 * caps what a chatty stage can make the host keep.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

#include "channel.h"
#include "ebcc-base.h"
#include "frame.h"

static const char truncation_note[] = "[ebcc: log truncated: the stage logged more than the "
				      "per-invocation budget]\n";

static int socket_path(int dir_fd, const char *name, struct sockaddr_un *sa, socklen_t *ret_len)
{
	int n;

	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	n = snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", dir_fd, name);
	if (n < 0 || (size_t)n >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	*ret_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)n + 1);
	return 0;
}

int ebcc__channel_listen(int dir_fd, const char *name, const char *display, int *ret_fd)
{
	_cleanup_close_ int fd = -1;
	struct sockaddr_un sa;
	socklen_t len;
	int r;

	r = socket_path(dir_fd, name, &sa, &len);
	if (r < 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "socket name %s is too long", name);
	if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "remove stale socket %s", display);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "socket for %s", display);
	if (bind(fd, (const struct sockaddr *)&sa, len) < 0)
		return ebcc__error_errno(ebcc__error_from_errno(errno), errno, "bind %s", display);
	/* The directory is 0700 already; the socket itself is for its owner only as well. */
	if (fchmodat(dir_fd, name, 0600, 0) < 0 || listen(fd, 16) < 0) {
		r = errno;
		unlinkat(dir_fd, name, 0);
		return ebcc__error_errno(EBCC_ERR_IO, r, "listen on %s", display);
	}
	*ret_fd = fd;
	fd = -1;
	return 0;
}

int ebcc__channel_connect(int dir_fd, const char *name, int *ret_fd)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd, r;

	r = socket_path(dir_fd, name, &sa, &len);
	if (r < 0)
		return r;
	/* Non-blocking: a stage that stopped accepting makes connect() fail, not hang. */
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&sa, len) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	*ret_fd = fd;
	return 0;
}

/* ---- one exchange ------------------------------------------------------------------------- */

/* What arrived beyond the bytes asked for: a stage's frames usually come several to a send, and
 * reading them a header and a payload at a time would cost two system calls each. */
#define READ_AHEAD 4096

struct conn {
	int fd;
	bool has_deadline;
	uint64_t deadline_ns;
	size_t ahead_at, ahead_len;
	uint8_t ahead[READ_AHEAD];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* 1 ready (or hung up: the next call says), 0 deadline passed, -errno. */
static int wait_ready(const struct conn *c, short events)
{
	for (;;) {
		struct pollfd p = { .fd = c->fd, .events = events };
		int ms = -1, n;

		if (c->has_deadline) {
			uint64_t now = now_ns();

			if (now >= c->deadline_ns)
				return 0;
			ms = (c->deadline_ns - now + 999999) / 1000000 > INT_MAX
				     ? INT_MAX
				     : (int)((c->deadline_ns - now + 999999) / 1000000);
		}
		n = poll(&p, 1, ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n > 0)
			return 1;
	}
}

enum xfer { XFER_OK, XFER_EOF, XFER_TIMEOUT, XFER_ERROR };

/* After an operation found nothing to do: waits for the socket, or says why not. */
static enum xfer wait_or_fail(const struct conn *c, short events, int *ret_errno)
{
	int r = wait_ready(c, events);

	if (r == 0)
		return XFER_TIMEOUT;
	if (r < 0) {
		*ret_errno = -r;
		return XFER_ERROR;
	}
	return XFER_OK;
}

static bool deadline_passed(const struct conn *c)
{
	return c->has_deadline && now_ns() >= c->deadline_ns;
}

/* Sends the iovec (header and payload) from byte *sent on. Each send is tried first and the
 * socket polled only when it is full: most exchanges never poll. */
static enum xfer send_all_iov(const struct conn *c, struct iovec *iov, size_t n_iov,
			      size_t *sent, int *ret_errno)
{
	size_t total = 0, skip = *sent;

	for (size_t i = 0; i < n_iov; i++)
		total += iov[i].iov_len;
	while (*sent < total) {
		struct msghdr msg = { .msg_iov = iov, .msg_iovlen = n_iov };
		ssize_t n;

		/* Drop what was sent already from the front of the iovec. */
		while (msg.msg_iovlen > 0 && skip >= msg.msg_iov->iov_len) {
			skip -= msg.msg_iov->iov_len;
			msg.msg_iov++;
			msg.msg_iovlen--;
		}
		msg.msg_iov->iov_base = (uint8_t *)msg.msg_iov->iov_base + skip;
		msg.msg_iov->iov_len -= skip;
		iov = msg.msg_iov;
		n_iov = msg.msg_iovlen;
		skip = 0;
		if (deadline_passed(c))
			return XFER_TIMEOUT;
		n = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN) {
			enum xfer x = wait_or_fail(c, POLLOUT, ret_errno);

			if (x != XFER_OK)
				return x;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return XFER_EOF;
		if (n < 0) {
			*ret_errno = errno;
			return XFER_ERROR;
		}
		*sent += (size_t)n;
		skip = (size_t)n;
	}
	return XFER_OK;
}

/* Reads at most len bytes (at least one) into buf, trying before polling: from what was read
 * ahead first; a short read goes through the read-ahead buffer, a long one straight to buf. */
static enum xfer recv_some(struct conn *c, void *buf, size_t len, size_t *got, int *ret_errno)
{
	for (;;) {
		bool through = len < sizeof(c->ahead);
		ssize_t n;

		if (c->ahead_len > 0) {
			size_t take = len < c->ahead_len ? len : c->ahead_len;

			memcpy(buf, c->ahead + c->ahead_at, take);
			c->ahead_at += take;
			c->ahead_len -= take;
			*got += take;
			return XFER_OK;
		}
		if (deadline_passed(c))
			return XFER_TIMEOUT;
		n = recv(c->fd, through ? c->ahead : buf, through ? sizeof(c->ahead) : len,
			 MSG_DONTWAIT);
		if (n < 0 && errno == EAGAIN) {
			enum xfer x = wait_or_fail(c, POLLIN, ret_errno);

			if (x != XFER_OK)
				return x;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return XFER_EOF;
		if (n < 0) {
			*ret_errno = errno;
			return XFER_ERROR;
		}
		if (!through) {
			*got += (size_t)n;
			return XFER_OK;
		}
		c->ahead_at = 0;
		c->ahead_len = (size_t)n;
	}
}

static enum xfer recv_exact(struct conn *c, void *buf, size_t len, size_t *got,
			    int *ret_errno)
{
	while (*got < len) {
		enum xfer x = recv_some(c, (uint8_t *)buf + *got, len - *got, got, ret_errno);

		if (x != XFER_OK)
			return x;
	}
	return XFER_OK;
}

/* ASCII only, control characters as '?', cut with "..." to fit size. */
static void printable(const char *in, size_t len, char *out, size_t size)
{
	size_t o = 0;

	if (size == 0)
		return;
	for (size_t i = 0; i < len && o + 1 < size; i++) {
		unsigned char ch = (unsigned char)in[i];

		out[o++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	if (o < len && size > 4) {
		o = o > size - 4 ? size - 4 : o;
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

EBCC_PRINTF(2, 3) static void set_detail(struct ebcc__channel_result *ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ret->detail, sizeof(ret->detail), fmt, ap);
	va_end(ap);
}

struct logbuf {
	size_t cap;
	size_t budget;
	bool truncated;
};

static int log_append(struct ebcc__channel_result *ret, struct logbuf *lb, const char *text,
		      size_t len)
{
	size_t need;

	if (lb->truncated)
		return 0;
	if (ret->log_len + len + 1 > lb->budget) {
		text = truncation_note;
		len = sizeof(truncation_note) - 2; /* without its newline: added below */
		lb->truncated = true;
	}
	need = ret->log_len + len + 2;
	if (need > lb->cap) {
		size_t cap = lb->cap * 2 > need ? lb->cap * 2 : need;
		char *grown = realloc(ret->log, cap);

		if (grown == NULL)
			return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory keeping a stage's log");
		ret->log = grown;
		lb->cap = cap;
	}
	memcpy(ret->log + ret->log_len, text, len);
	ret->log_len += len;
	ret->log[ret->log_len++] = '\n';
	ret->log[ret->log_len] = '\0';
	return 0;
}

static void header_detail(struct ebcc__channel_result *ret, const uint8_t *hdr, size_t got,
			  int status, const struct ebcc__channel_limits *lim)
{
	char hex[3 * EBCC_FRAME_HEADER_SIZE + 1] = "";
	uint32_t length = got >= 8 ? (uint32_t)hdr[4] | (uint32_t)hdr[5] << 8 |
					     (uint32_t)hdr[6] << 16 | (uint32_t)hdr[7] << 24
				   : 0;

	for (size_t i = 0; i < got; i++)
		snprintf(hex + 3 * i, sizeof(hex) - 3 * i, "%s%02x", i ? " " : "", hdr[i]);
	if (status == EBCC_FRAME_TOO_BIG && hdr[3] == EBCC_FRAME_RESPONSE)
		set_detail(ret,
			   "it sent a RESPONSE frame of %" PRIu32 " bytes, more than the stage's "
			   "limit of %" PRIu64 " bytes",
			   length,
			   lim->max_response < EBCC_FRAME_PAYLOAD_CAP ? lim->max_response
								   : (uint64_t)EBCC_FRAME_PAYLOAD_CAP);
	else if (status == EBCC_FRAME_TOO_BIG)
		set_detail(ret, "it sent a %s frame of %" PRIu32 " bytes, more than %d",
			   ebcc__frame_type_name(hdr[3]), length,
			   hdr[3] == EBCC_FRAME_ERROR	 ? EBCC_FRAME_ERROR_CODE_SIZE + EBCC_FRAME_TEXT_MAX
			   : hdr[3] == EBCC_FRAME_REPORT ? (int)EBCC_FRAME_REPORT_MAX
							 : EBCC_FRAME_TEXT_MAX);
	else if (status == EBCC_FRAME_BAD_VERSION && hdr[2] < EBCC_FRAME_VERSION)
		set_detail(ret, "it speaks channel protocol %u, not %d: rebuild the stage with this "
				"libebcc-stage (its answers carry the report_data it computed)",
			   hdr[2], EBCC_FRAME_VERSION);
	else if (status == EBCC_FRAME_UNEXPECTED && hdr[3] == EBCC_FRAME_RESPONSE)
		set_detail(ret, "it sent a RESPONSE without the REPORT frame that must come first");
	else
		set_detail(ret, "malformed frame header (%s): %s",
			   ebcc__frame_status_text(status), hex);
}

/* A payload buffer read into for nothing: the response's from the caller's allocator, the
 * report's from malloc, the text buffer on the stack. */
static void release_payload(const struct ebcc__channel_alloc *alloc, const struct ebcc_frame *f,
			    void *payload, void *text)
{
	if (payload == NULL || payload == text)
		return;
	if (f->type == EBCC_FRAME_REPORT)
		free(payload);
	else
		alloc->release(payload, alloc->host);
}

int ebcc__channel_call(int fd, const void *bind, size_t bind_len, const void *request,
		       size_t request_len, const struct ebcc__channel_limits *lim,
		       const struct ebcc__channel_alloc *alloc, struct ebcc__channel_result *ret)
{
	struct ebcc_frame_limits accept = {
		.accept = EBCC_FRAME_BIT(EBCC_FRAME_REPORT) | EBCC_FRAME_BIT(EBCC_FRAME_LOG) |
			  EBCC_FRAME_BIT(EBCC_FRAME_ERROR) | EBCC_FRAME_BIT(EBCC_FRAME_KEY) |
			  EBCC_FRAME_BIT(EBCC_FRAME_IMAGE),
		.max_payload = lim->max_response,
	};
	struct conn c = { .fd = fd, .has_deadline = lim->timeout_ms > 0 };
	struct logbuf lb = { .cap = 256, .budget = lim->log_budget };
	uint8_t hdr[EBCC_FRAME_HEADER_SIZE], bind_hdr[EBCC_FRAME_HEADER_SIZE];
	size_t sent = 0;
	int err = 0;
	enum xfer x;

	*ret = (struct ebcc__channel_result){ 0 };
	ret->log = malloc(lb.cap);
	if (ret->log == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory for a stage's log");
	ret->log[0] = '\0';
	if (request_len > lim->max_request || request_len > EBCC_FRAME_PAYLOAD_CAP)
		return ebcc__error(EBCC_ERR_TOO_BIG,
				   "request of %zu bytes exceeds the stage's limit of %" PRIu64
				   " bytes",
				   request_len,
				   lim->max_request < EBCC_FRAME_PAYLOAD_CAP
					   ? lim->max_request
					   : (uint64_t)EBCC_FRAME_PAYLOAD_CAP);
	if (bind_len == 0 || bind_len > EBCC_FRAME_BIND_MAX)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "a BIND payload of %zu bytes", bind_len);
	if (c.has_deadline)
		c.deadline_ns = now_ns() + (uint64_t)lim->timeout_ms * 1000000u;

	ebcc__frame_encode_header(bind_hdr, EBCC_FRAME_BIND, (uint32_t)bind_len);
	ebcc__frame_encode_header(hdr, EBCC_FRAME_REQUEST, (uint32_t)request_len);
	{
		/* sendmsg does not write through iov_base. */
		struct iovec iov[4] = {
			{ .iov_base = bind_hdr, .iov_len = sizeof(bind_hdr) },
			{ .iov_base = (void *)bind, .iov_len = bind_len },
			{ .iov_base = hdr, .iov_len = sizeof(hdr) },
			{ .iov_base = (void *)request, .iov_len = request_len },
		};
		size_t head = sizeof(bind_hdr) + bind_len + sizeof(hdr);

		x = send_all_iov(&c, iov, request_len > 0 ? 4 : 3, &sent, &err);
		/* What the messages count is the request's own bytes. */
		sent = sent > head ? sent - head : 0;
	}
	switch (x) {
	case XFER_OK:
		break;
	case XFER_TIMEOUT:
		ret->outcome = EBCC_CHANNEL_TIMEOUT;
		set_detail(ret, "it did not take the request within %" PRIu32 " ms (%zu of %zu "
				"bytes taken)",
			   lim->timeout_ms, sent, request_len);
		return 0;
	case XFER_EOF:
		ret->outcome = EBCC_CHANNEL_HANGUP;
		set_detail(ret, "it closed the channel before it took the whole request");
		return 0;
	case XFER_ERROR:
		return ebcc__error_errno(EBCC_ERR_IO, err, "send a request to the stage");
	}

	for (;;) {
		uint8_t text[EBCC_FRAME_ERROR_CODE_SIZE + EBCC_FRAME_TEXT_MAX];
		struct ebcc_frame f;
		size_t got = 0;
		int st = EBCC_FRAME_INCOMPLETE;
		void *payload;

		/* The header, judged as its bytes arrive: garbage is cut off at once. */
		while (st == EBCC_FRAME_INCOMPLETE) {
			x = recv_some(&c, hdr + got, sizeof(hdr) - got, &got, &err);
			if (x != XFER_OK)
				break;
			st = ebcc__frame_decode_header(hdr, got, &accept, &f);
		}
		if (x == XFER_EOF) {
			ret->outcome = EBCC_CHANNEL_HANGUP;
			if (got == 0)
				set_detail(ret, "it closed the channel without answering");
			else
				set_detail(ret, "it closed the channel in the middle of a frame header "
						"(%zu of %d bytes)",
					   got, EBCC_FRAME_HEADER_SIZE);
			return 0;
		}
		if (x == XFER_TIMEOUT) {
			ret->outcome = EBCC_CHANNEL_TIMEOUT;
			set_detail(ret, "it did not answer within %" PRIu32 " ms", lim->timeout_ms);
			return 0;
		}
		if (x == XFER_ERROR)
			return ebcc__error_errno(EBCC_ERR_IO, err, "read from the stage");
		if (st != EBCC_FRAME_OK) {
			ret->outcome = EBCC_CHANNEL_PROTOCOL;
			header_detail(ret, hdr, got, st, lim);
			return 0;
		}

		/* The payload: LOG and ERROR into a bounded stack buffer, RESPONSE into the
		 * caller's allocation and REPORT into one of ours, whose sizes the header has
		 * just been checked against. */
		if (f.type == EBCC_FRAME_RESPONSE && f.length > 0) {
			payload = alloc->alloc(f.length, alloc->host);
			if (payload == NULL)
				return ebcc__error(EBCC_ERR_NO_MEMORY,
						   "out of memory for a response of %" PRIu32 " bytes",
						   f.length);
		} else if (f.type == EBCC_FRAME_REPORT) {
			payload = malloc(f.length);
			if (payload == NULL)
				return ebcc__error(EBCC_ERR_NO_MEMORY,
						   "out of memory for a report of %" PRIu32 " bytes",
						   f.length);
		} else {
			payload = f.type == EBCC_FRAME_RESPONSE ? NULL : text;
		}
		got = 0;
		x = recv_exact(&c, payload, f.length, &got, &err);
		if (x != XFER_OK) {
			release_payload(alloc, &f, payload, text);
			if (x == XFER_ERROR)
				return ebcc__error_errno(EBCC_ERR_IO, err, "read from the stage");
			ret->outcome = x == XFER_EOF ? EBCC_CHANNEL_HANGUP : EBCC_CHANNEL_TIMEOUT;
			set_detail(ret, "%s in the middle of a %s frame (%zu of %" PRIu32 " bytes)",
				   x == XFER_EOF ? "it closed the channel"
						 : "it stopped sending before the deadline",
				   ebcc__frame_type_name(f.type), got, f.length);
			return 0;
		}
		st = ebcc__frame_decode_payload(&f, payload != NULL ? payload : text);
		if (st != EBCC_FRAME_OK) {
			release_payload(alloc, &f, payload, text);
			ret->outcome = EBCC_CHANNEL_PROTOCOL;
			set_detail(ret, "malformed %s frame: %s", ebcc__frame_type_name(f.type),
				   ebcc__frame_status_text(st));
			return 0;
		}

		switch (f.type) {
		case EBCC_FRAME_LOG: {
			int r = log_append(ret, &lb, f.text, f.text_len);

			if (r < 0)
				return r;
			break;
		}
		case EBCC_FRAME_IMAGE:
			/* The loaded image's digest, then at once the KEY or the REPORT. */
			memcpy(ret->image_digest, payload, EBCC_FRAME_IMAGE_SIZE);
			ret->has_image_digest = 1;
			accept.accept = EBCC_FRAME_BIT(EBCC_FRAME_KEY) | EBCC_FRAME_BIT(EBCC_FRAME_REPORT);
			break;
		case EBCC_FRAME_KEY:
			/* The key, then at once the REPORT that binds it. */
			memcpy(ret->public_key, payload, EBCC_FRAME_KEY_SIZE);
			ret->has_public_key = 1;
			accept.accept = EBCC_FRAME_BIT(EBCC_FRAME_REPORT);
			break;
		case EBCC_FRAME_REPORT:
			/* One REPORT, then only the RESPONSE it is about. */
			memcpy(ret->report_data, payload, EBCC_FRAME_REPORT_DATA_SIZE);
			ret->report_len = f.length - EBCC_FRAME_REPORT_DATA_SIZE;
			if (ret->report_len > 0) {
				memmove(payload, (uint8_t *)payload + EBCC_FRAME_REPORT_DATA_SIZE,
					ret->report_len);
				ret->report = payload;
			} else {
				free(payload);
			}
			accept.accept = EBCC_FRAME_BIT(EBCC_FRAME_RESPONSE);
			break;
		case EBCC_FRAME_ERROR:
			ret->outcome = EBCC_CHANNEL_STAGE_ERROR;
			ret->stage_code = f.error_code;
			printable(f.text, f.text_len, ret->detail, sizeof(ret->detail));
			return 0;
		default: /* RESPONSE */
			ret->outcome = EBCC_CHANNEL_RESPONSE;
			ret->response = f.length > 0 ? payload : NULL;
			ret->response_len = f.length;
			return 0;
		}
	}
}

void ebcc__channel_result_clear(struct ebcc__channel_result *ret,
				const struct ebcc__channel_alloc *alloc)
{
	if (ret->response != NULL)
		alloc->release(ret->response, alloc->host);
	free(ret->report);
	ret->report = NULL;
	ret->report_len = 0;
	free(ret->log);
	ret->response = NULL;
	ret->response_len = 0;
	ret->log = NULL;
	ret->log_len = 0;
}

void ebcc__channel_log_tail(const char *log, size_t log_len, char *out, size_t size)
{
	size_t end = log_len, start;

	while (end > 0 && log[end - 1] == '\n')
		end--;
	start = end;
	while (start > 0 && log[start - 1] != '\n')
		start--;
	printable(log + start, end - start, out, size);
}
