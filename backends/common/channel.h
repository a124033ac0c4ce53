/* SPDX-License-Identifier: MIT */
/*
 * The host side of the frame channel to a stage process (the wire format is in
 * lib/base/frame.h and ebcc-stage-protocol(7)): a rendezvous socket in the stage directory, and
 * one request/answer exchange with a deadline, a response limit and a log budget. Generic: it
 * knows nothing of the backend that started the stage.
 */
#ifndef EBCC_BACKEND_CHANNEL_H
#define EBCC_BACKEND_CHANNEL_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

/* What a stage may log per invocation before the log is cut. */
#define EBCC_CHANNEL_LOG_BUDGET ((size_t)1 << 20)

struct ebcc__channel_limits {
	uint64_t max_request;  /* a larger request is refused (EBCC_ERR_TOO_BIG) */
	uint64_t max_response; /* a larger RESPONSE frame is a protocol violation */
	size_t log_budget;     /* bytes of log kept; the rest is dropped with a note */
	uint32_t timeout_ms;   /* for the whole exchange; 0: none */
};

enum ebcc__channel_outcome {
	EBCC_CHANNEL_RESPONSE,    /* a RESPONSE frame arrived */
	EBCC_CHANNEL_STAGE_ERROR, /* an ERROR frame arrived: stage_code, detail */
	EBCC_CHANNEL_TIMEOUT,     /* the deadline passed: detail says while doing what */
	EBCC_CHANNEL_HANGUP,      /* the stage closed the channel: detail says where */
	EBCC_CHANNEL_PROTOCOL,    /* malformed or oversized frame: detail says which */
};

/* Allocation of the response buffer, which the caller hands on (e.g. env->alloc). */
struct ebcc__channel_alloc {
	void *(*alloc)(size_t size, void *host);
	void (*release)(void *p, void *host);
	void *host;
};

struct ebcc__channel_result {
	enum ebcc__channel_outcome outcome;
	void *response; /* from the allocator, for EBCC_CHANNEL_RESPONSE; NULL when empty */
	size_t response_len;
	/* The REPORT frame that precedes every RESPONSE: the report_data the stage computed, and
	 * the report its TEE made over it (malloc; NULL when the stage sent none). */
	uint8_t report_data[EBCC_FRAME_REPORT_DATA_SIZE];
	uint8_t *report;
	size_t report_len;
	/* The IMAGE frame that may come first: the digest of the image the stage loaded. */
	int has_image_digest;
	uint8_t image_digest[EBCC_FRAME_IMAGE_SIZE];
	/* The KEY frame that may precede REPORT: the stage-held key report_data binds. */
	int has_public_key;
	uint8_t public_key[EBCC_FRAME_KEY_SIZE];
	char *log; /* malloc, NUL-terminated, one line per LOG frame; may be "" */
	size_t log_len;
	int32_t stage_code;  /* EBCC_CHANNEL_STAGE_ERROR */
	char detail[640];    /* printable text for messages */
};

/* Creates a listening socket dir_fd/name (a stale one is replaced), mode 0600. The path goes
 * through /proc/self/fd, so the directory's own path may be of any length. */
int ebcc__channel_listen(int dir_fd, const char *name, const char *display, int *ret_fd);

/* Connects to the listening socket dir_fd/name. 0, or -errno (ECONNREFUSED: nobody listens,
 * ENOENT: no socket, EAGAIN: backlog full). */
int ebcc__channel_connect(int dir_fd, const char *name, int *ret_fd);

/*
 * Sends one BIND (bind: its payload, the binding's fields) and REQUEST and reads LOG frames until
 * REPORT and RESPONSE, or ERROR, the deadline, a hangup or a protocol violation (a RESPONSE
 * without its REPORT is one). Returns 0 with ret->outcome set, or < 0 (EBCC_ERR_TOO_BIG for a
 * request above max_request, EBCC_ERR_NO_MEMORY, EBCC_ERR_IO) with the message set. On return
 * ret->log is set in every case; release it with ebcc__channel_result_clear(). It reads ahead of
 * the frame at hand, so bytes after the answer may be consumed: one call per connection.
 */
int ebcc__channel_call(int fd, const void *bind, size_t bind_len, const void *request,
		       size_t request_len, const struct ebcc__channel_limits *limits,
		       const struct ebcc__channel_alloc *alloc, struct ebcc__channel_result *ret);

/* Releases ret->log, ret->report and (with the allocator) ret->response. */
void ebcc__channel_result_clear(struct ebcc__channel_result *ret,
				const struct ebcc__channel_alloc *alloc);

/* The last line of a log, made printable and cut to size, or "" (for error messages). */
void ebcc__channel_log_tail(const char *log, size_t log_len, char *out, size_t size);

#endif
