/* SPDX-License-Identifier: MIT */
/*
 * ebcc_stage_serve() and ebcc_stage_log() over edge calls (edge.h), for the enclave flavours of
 * the stage library (libebcc-stage-keystone.a, libebcc-stage-sgx.a). Instead of descriptors 3
 * and 4 the stage talks to the host through edge calls, and its TEE reports over report_data
 * computed here, over the request this enclave received and the response it returns
 * (binding.h), exactly as serve.c does: the host only ever sees the report the TEE made over
 * it. The same stage source builds for every flavour.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ebcc/ebcc.h>
#include <ebcc/stage.h>

#include "../base/edge.h"
#include "../base/frame.h"
#include "binding.h"
#include "edge.h"

/* Whether a handler is running, for ebcc_stage_log(). */
static int in_request;

static size_t text_len(const char *text)
{
	size_t n = 0;

	while (n < EBCC_FRAME_TEXT_MAX && text[n] != '\0')
		n++;
	return n;
}

/* One LOG or ERROR frame as an edge call's argument. */
static int send_text(uint32_t call, uint8_t type, int code, const char *text)
{
	static uint8_t buf[EBCC_FRAME_HEADER_SIZE + EBCC_FRAME_ERROR_CODE_SIZE +
			   EBCC_FRAME_TEXT_MAX];
	size_t n = text_len(text), head = type == EBCC_FRAME_ERROR ? EBCC_FRAME_ERROR_CODE_SIZE : 0;

	ebcc__frame_encode_header(buf, type, (uint32_t)(head + n));
	if (head > 0)
		ebcc__frame_encode_error_code(buf + EBCC_FRAME_HEADER_SIZE,
					      code < 0 ? code : EBCC_ERR_STAGE);
	memcpy(buf + EBCC_FRAME_HEADER_SIZE + head, text, n);
	return ebcc__edge_ocall(call, buf, EBCC_FRAME_HEADER_SIZE + head + n, NULL, 0);
}

static int send_error(int code, const char *message)
{
	return send_text(EBCC_EDGE_CALL_ANSWER, EBCC_FRAME_ERROR, code, message) < 0 ? EBCC_ERR_IO : 1;
}

/* REPORT (report_data and the TEE's report over it) and RESPONSE, in one ANSWER. */
static int send_answer(const uint8_t *bind, size_t bind_len, const uint8_t request_digest[32],
		       const void *response, size_t response_len)
{
	static uint8_t report[EBCC_EDGE_REPORT_MAX];
	uint8_t response_digest[32], report_data[EBCC_FRAME_REPORT_DATA_SIZE], *buf, *p;
	size_t report_len, report_frame, total;
	int r;

	ebcc__stage_sha256(response, response_len, response_digest);
	ebcc__stage_report_data(bind, bind_len, request_digest, response_digest, report_data);
	report_len = ebcc__edge_attest(report_data, report);
	if (report_len == 0 || report_len > sizeof(report)) {
		char message[128];

		snprintf(message, sizeof(message), "stage: %s gave no report over the answer",
			 ebcc__edge_attest_what);
		return send_error(EBCC_ERR_STAGE, message);
	}
	report_frame = EBCC_FRAME_REPORT_DATA_SIZE + report_len;
	total = 2 * EBCC_FRAME_HEADER_SIZE + report_frame + response_len;
	buf = malloc(total);
	if (buf == NULL)
		return send_error(EBCC_ERR_NO_MEMORY, "stage: no memory for the answer");
	ebcc__frame_encode_header(buf, EBCC_FRAME_REPORT, (uint32_t)report_frame);
	p = buf + EBCC_FRAME_HEADER_SIZE;
	memcpy(p, report_data, sizeof(report_data));
	memcpy(p + sizeof(report_data), report, report_len);
	p += report_frame;
	ebcc__frame_encode_header(p, EBCC_FRAME_RESPONSE, (uint32_t)response_len);
	if (response_len > 0)
		memcpy(p + EBCC_FRAME_HEADER_SIZE, response, response_len);
	r = ebcc__edge_ocall(EBCC_EDGE_CALL_ANSWER, buf, total, NULL, 0);
	free(buf);
	return r < 0 ? EBCC_ERR_IO : 1;
}

/* Serves one request. 1 served, 0 the host is gone (the enclave is being destroyed), < 0 the
 * host broke the protocol. */
static int serve_one(ebcc_stage_handler_fn handler, void *userdata)
{
	static const struct ebcc_frame_limits bind_limits = {
		.accept = EBCC_FRAME_BIT(EBCC_FRAME_BIND),
	};
	static const struct ebcc_frame_limits request_limits = {
		.accept = EBCC_FRAME_BIT(EBCC_FRAME_REQUEST),
		.max_payload = EBCC_FRAME_PAYLOAD_CAP,
	};
	static uint8_t next[EBCC_EDGE_NEXT_MAX];
	uint8_t request_digest[32];
	struct ebcc_frame bind, req;
	void *request, *response = NULL;
	size_t response_len = 0;
	int r;

	memset(next, 0, sizeof(next));
	if (ebcc__edge_ocall(EBCC_EDGE_CALL_NEXT, NULL, 0, next, sizeof(next)) < 0)
		return 0;
	if (ebcc__frame_decode_header(next, EBCC_FRAME_HEADER_SIZE, &bind_limits, &bind) !=
		    EBCC_FRAME_OK ||
	    ebcc__frame_decode_payload(&bind, next + EBCC_FRAME_HEADER_SIZE) != EBCC_FRAME_OK ||
	    ebcc__frame_decode_header(next + EBCC_FRAME_HEADER_SIZE + bind.length,
				      EBCC_FRAME_HEADER_SIZE, &request_limits,
				      &req) != EBCC_FRAME_OK)
		return EBCC_ERR_CORRUPT;
	request = malloc(req.length > 0 ? req.length : 1);
	if (request == NULL)
		return send_error(EBCC_ERR_NO_MEMORY, "stage: no memory for the request");
	if (req.length > 0 && ebcc__edge_ocall(EBCC_EDGE_CALL_READ, NULL, 0, request, req.length) < 0) {
		free(request);
		return 0;
	}
	/* Hashed before the handler runs: what it may do to the buffer changes nothing. */
	ebcc__stage_sha256(request, req.length, request_digest);
	in_request = 1;
	r = handler(request, req.length, &response, &response_len, userdata);
	in_request = 0;
	free(request);
	if (r < 0) {
		free(response);
		return send_error(r, "the stage's handler failed the request");
	}
	if (response_len > EBCC_FRAME_PAYLOAD_CAP || (response == NULL && response_len > 0)) {
		free(response);
		return send_error(EBCC_ERR_TOO_BIG, "stage response is larger than 1 GiB or NULL");
	}
	r = send_answer(next + EBCC_FRAME_HEADER_SIZE, bind.length, request_digest, response,
			response_len);
	free(response);
	return r;
}

int ebcc_stage_serve(ebcc_stage_handler_fn handler, void *userdata)
{
	if (handler == NULL)
		return EBCC_ERR_INVALID_ARG;
	for (;;) {
		int r = serve_one(handler, userdata);

		if (r <= 0)
			return r;
	}
}

void ebcc_stage_log(const char *message)
{
	if (!in_request || message == NULL)
		return;
	if (send_text(EBCC_EDGE_CALL_LOG, EBCC_FRAME_LOG, 0, message) < 0)
		in_request = 0; /* the host is gone; the handler's result will say so */
}
