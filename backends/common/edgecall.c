/* SPDX-License-Identifier: MIT */
/* One invocation over edge calls, on the host (edgecall.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend-env.h"
#include "channel.h"
#include "ebcc-base.h"
#include "edge.h"
#include "edgecall.h"
#include "frame.h"

uint64_t ebcc__edge_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int ebcc__edge_start(const struct ebcc__edge_enclave_ops *ops, void *enclave, const char *name,
		     uint64_t eid, uint64_t deadline_ms, struct ebcc__edge_session *session)
{
	struct ebcc__edge_stop stop;
	int r = ops->enter(enclave, deadline_ms, &stop);

	if (r < 0)
		return r;
	if (stop.exited)
		return ebcc__error(EBCC_ERR_STAGE, "%s: enclave %" PRIu64 ": %s with value %" PRIu64
				   " before asking for a request (not a stage built with %s?)",
				   name, eid, ops->ended_what, stop.value, ops->stage_library);
	if (stop.call_id != EBCC_EDGE_CALL_NEXT)
		return ebcc__error(EBCC_ERR_STAGE, "%s: enclave %" PRIu64 ": its first edge call is "
				   "%#" PRIx64 ", not libebcc's NEXT (%#x)", name, eid, stop.call_id,
				   EBCC_EDGE_CALL_NEXT);
	session->pending = stop;
	session->paused = EBCC_EDGE_PAUSED_NEXT;
	return 0;
}

static int fail(struct ebcc__edge_exchange *x, const char *fmt, ...) EBCC_PRINTF(2, 3);
static int fail(struct ebcc__edge_exchange *x, const char *fmt, ...)
{
	char detail[EBCC_ERROR_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return ebcc__error(EBCC_ERR_STAGE, "%s: enclave %" PRIu64 ": %s", x->name, x->eid, detail);
}

void ebcc__edge_log_append(struct ebcc__edge_exchange *x, const char *text, size_t len)
{
	if (x->log_cut)
		return;
	if (x->log_len + len + 1 > EBCC_CHANNEL_LOG_BUDGET) {
		x->log_cut = true;
		text = "(log cut: the stage logged more than 1 MiB)";
		len = strlen(text);
	}
	if (x->log_len + len + 2 > x->log_cap) {
		size_t cap = (x->log_len + len + 2) * 2;
		char *p = realloc(x->log, cap);

		if (p == NULL)
			return;
		x->log = p;
		x->log_cap = cap;
	}
	memcpy(x->log + x->log_len, text, len);
	x->log_len += len;
	x->log[x->log_len++] = '\n';
	x->log[x->log_len] = '\0';
}

static int serve_log(struct ebcc__edge_exchange *x, const struct ebcc__edge_stop *stop)
{
	static const struct ebcc_frame_limits limits = { .accept = EBCC_FRAME_BIT(EBCC_FRAME_LOG) };
	struct ebcc_frame f;
	size_t size = 0;
	int st = ebcc__frame_decode(stop->arg, stop->arg_len, &limits, &f, &size);

	if (st != EBCC_FRAME_OK || size != stop->arg_len)
		return fail(x, "its LOG edge call of %zu bytes is not one LOG frame (%s)",
			    stop->arg_len, st != EBCC_FRAME_OK ? ebcc__frame_status_text(st)
							       : "bytes after the frame");
	ebcc__edge_log_append(x, f.text, f.text_len);
	return 0;
}

/* The enclave's ANSWER: the stage's ERROR, or its REPORT and RESPONSE, checked here. */
static int take_answer(struct ebcc__edge_exchange *x, const struct ebcc__edge_stop *stop,
		       struct ebcc_backend_invocation *ret)
{
	static const struct ebcc_frame_limits first = {
		.accept = EBCC_FRAME_BIT(EBCC_FRAME_REPORT) | EBCC_FRAME_BIT(EBCC_FRAME_ERROR),
	};
	const struct ebcc_frame_limits second = {
		.accept = EBCC_FRAME_BIT(EBCC_FRAME_RESPONSE),
		.max_payload = x->max_response,
	};
	const size_t report_frame = EBCC_FRAME_REPORT_DATA_SIZE + x->ops->report_size;
	struct ebcc_frame f, resp;
	size_t size = 0, size2 = 0;
	int st = ebcc__frame_decode(stop->arg, stop->arg_len, &first, &f, &size), r;

	if (st != EBCC_FRAME_OK)
		return fail(x, "its answer (%zu bytes) does not start with a REPORT or ERROR frame "
			    "(%s)", stop->arg_len, ebcc__frame_status_text(st));
	if (f.type == EBCC_FRAME_ERROR) {
		if (size != stop->arg_len)
			return fail(x, "%zu bytes after its ERROR frame", stop->arg_len - size);
		x->answered = true;
		return ebcc__error(EBCC_ERR_STAGE, "%s failed the request: %s (%" PRId32 "): %.*s",
				   x->name, ebcc_error_name(f.error_code), f.error_code,
				   (int)f.text_len, f.text);
	}
	if (f.length != report_frame)
		return fail(x, "its REPORT is %" PRIu32 " bytes; an answer's is report_data and %s "
			    "(%zu)", f.length, x->ops->report_what, report_frame);
	st = ebcc__frame_decode(stop->arg + size, stop->arg_len - size, &second, &resp, &size2);
	if (st == EBCC_FRAME_TOO_BIG)
		return fail(x, "its RESPONSE is larger than maxResponse (%" PRIu64 " bytes)",
			    x->max_response);
	if (st != EBCC_FRAME_OK)
		return fail(x, "no RESPONSE frame after its REPORT (%s)",
			    ebcc__frame_status_text(st));
	if (size + size2 != stop->arg_len)
		return fail(x, "%zu bytes after its RESPONSE frame", stop->arg_len - size - size2);
	r = x->ops->take_report(x->enclave, f.payload, f.payload + EBCC_FRAME_REPORT_DATA_SIZE,
				x->ops->report_size, x->env, &ret->report);
	if (r < 0)
		return r;
	memcpy(ret->report_data, f.payload, EBCC_FRAME_REPORT_DATA_SIZE);
	ret->bound = 1;
	x->answered = true;
	return ebcc__env_buffer(x->env, resp.payload, resp.length, &ret->response);
}

/* Answers one edge call of the exchange; 1 when the ANSWER came (the exchange is over). */
static int serve_call(struct ebcc__edge_exchange *x, const struct ebcc__edge_stop *stop,
		      struct ebcc_backend_invocation *ret)
{
	size_t cap, len = 0;
	uint8_t *buf = x->ops->answer_buf(x->enclave, &cap);
	int r;

	switch (stop->call_id) {
	case EBCC_EDGE_CALL_NEXT:
		if (x->delivered)
			return fail(x, "it asked for the next request before answering this one");
		/* The shared memory was sized for these at load. */
		ebcc__frame_encode_header(buf, EBCC_FRAME_BIND, (uint32_t)x->binding->encoded_len);
		memcpy(buf + EBCC_FRAME_HEADER_SIZE, x->binding->encoded, x->binding->encoded_len);
		len = EBCC_FRAME_HEADER_SIZE + x->binding->encoded_len;
		ebcc__frame_encode_header(buf + len, EBCC_FRAME_REQUEST, (uint32_t)x->request_len);
		len += EBCC_FRAME_HEADER_SIZE;
		x->delivered = true;
		break;
	case EBCC_EDGE_CALL_READ:
		if (!x->delivered)
			return fail(x, "it read a request it had not asked for");
		if (x->request_len > 0)
			memcpy(buf, x->request, x->request_len);
		len = x->request_len;
		break;
	case EBCC_EDGE_CALL_LOG:
		r = serve_log(x, stop);
		if (r < 0)
			return r;
		break;
	case EBCC_EDGE_CALL_ANSWER:
		if (!x->delivered)
			return fail(x, "it answered before asking for the request");
		r = take_answer(x, stop, ret);
		return r < 0 ? r : 1;
	default:
		r = x->ops->other_call != NULL
			    ? x->ops->other_call(x->enclave, stop->call_id, buf, cap, &len)
			    : 0;
		if (r == 0)
			return fail(x, "it made edge call %#" PRIx64 ", which is not one of "
				    "libebcc's (lib/base/edge.h)", stop->call_id);
		if (r < 0)
			return r;
	}
	x->ops->answer(x->enclave, len);
	return 0;
}

int ebcc__edge_run(struct ebcc__edge_exchange *x, struct ebcc__edge_session *session,
		   uint64_t deadline_ms, struct ebcc_backend_invocation *ret)
{
	struct ebcc__edge_stop stop;
	int r = 0;

	if (session->paused == EBCC_EDGE_PAUSED_NEXT) {
		stop = session->pending;
	} else {
		if (session->paused == EBCC_EDGE_PAUSED_ANSWER)
			x->ops->answer(x->enclave, 0);
		r = x->ops->enter(x->enclave, deadline_ms, &stop);
	}
	session->paused = EBCC_EDGE_RUNNING;
	for (;;) {
		if (r == EBCC_ERR_TIMEOUT)
			return ebcc__error(EBCC_ERR_TIMEOUT, "%s timed out: the enclave was still "
					   "running after %" PRIu32 " ms and was destroyed", x->name,
					   x->timeout_ms);
		if (r < 0)
			return ebcc__error_prefix(r, "%s", x->name);
		if (stop.exited)
			return fail(x, "%s with value %" PRIu64 " without answering",
				    x->ops->ended_what, stop.value);
		r = serve_call(x, &stop, ret);
		if (r != 0)
			return r < 0 ? r : 0;
		r = x->ops->enter(x->enclave, deadline_ms, &stop);
	}
}

int ebcc__edge_finish(struct ebcc__edge_exchange *x, struct ebcc_backend_invocation *ret, int r)
{
	if (x->log_len > 0 && ebcc__env_buffer(x->env, x->log, x->log_len, &ret->log) < 0 &&
	    r == 0)
		r = EBCC_ERR_NO_MEMORY;
	free(x->log);
	x->log = NULL;
	return r;
}
