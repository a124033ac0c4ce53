/* SPDX-License-Identifier: MIT */
/*
 * One connection of the broker: one request in, the stage invoked through libebcc, one
 * response with its evidence out (protocol.h, ebcc-oci-hook(8)). Every length is checked
 * before anything is allocated; the body is refused unread when it is above the stage's
 * maxRequest. Runs on a worker thread: errors go to the peer, never to the hook's error line.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <json-c/json.h>

#include "hook.h"
#include "protocol.h"

/* A peer that stalls in the middle of a frame is dropped after this long. */
#define IO_TIMEOUT_S 30

void hook_serve_refuse(int conn_fd, int status, const char *message)
{
	/* strlen, not strnlen: callers pass buffers shorter than the bound, which gcc -O3 flags. */
	size_t len = strlen(message) < PROTO_MESSAGE_MAX ? strlen(message) : PROTO_MESSAGE_MAX;
	struct proto_response_header h = { .status = status, .message_len = (uint32_t)len };
	uint8_t header[PROTO_RESPONSE_HEADER_SIZE];

	proto_response_header_encode(&h, header);
	if (fd_write_all(conn_fd, header, sizeof(header)) == 0)
		fd_write_all(conn_fd, message, len);
}

/* Refuses with the library's message for the failed call that returned err. */
static void refuse_lib(int conn_fd, int err, const char *what)
{
	const char *detail = ebcc_last_error_message();
	char message[PROTO_MESSAGE_MAX];

	snprintf(message, sizeof(message), "%s%s%s (%s)", what, what[0] != '\0' ? ": " : "",
		 detail[0] != '\0' ? detail : ebcc_strerror(err), ebcc_error_name(err));
	hook_serve_refuse(conn_fd, err, message);
}

static void refuse_io(int conn_fd, int r, const char *what)
{
	char message[256];

	if (r == 1 || errno == EPROTO)
		snprintf(message, sizeof(message), "the request ends before its %s", what);
	else if (errno == EAGAIN || errno == EWOULDBLOCK)
		snprintf(message, sizeof(message), "no %s within %d s", what, IO_TIMEOUT_S);
	else
		snprintf(message, sizeof(message), "reading the %s: %s", what, strerror(errno));
	hook_serve_refuse(conn_fd, EBCC_ERR_INVALID_ARG, message);
}

/* The stage's maxRequest, from ebcc_stage_info(). 0, or the error code (refused already). */
static int stage_max_request(int conn_fd, struct ebcc_instance *inst, const char *stage,
			     uint64_t *ret)
{
	struct json_object *info, *limits, *max;
	char *json = NULL;
	int r = ebcc_stage_info(inst, stage, &json);

	if (r < 0) {
		refuse_lib(conn_fd, r, "");
		return r;
	}
	info = json_tokener_parse(json);
	ebcc_free(json);
	if (info == NULL || !json_object_object_get_ex(info, "limits", &limits) ||
	    !json_object_object_get_ex(limits, "maxRequest", &max) ||
	    !json_object_is_type(max, json_type_int) || json_object_get_int64(max) < 0) {
		json_object_put(info);
		hook_serve_refuse(conn_fd, EBCC_ERR_CORRUPT, "the stage's limits are unreadable");
		return EBCC_ERR_CORRUPT;
	}
	*ret = (uint64_t)json_object_get_int64(max);
	json_object_put(info);
	return 0;
}

static void respond(int conn_fd, struct ebcc_invocation *inv)
{
	struct ebcc_evidence *ev = NULL;
	struct proto_response_header h = { 0 };
	uint8_t header[PROTO_RESPONSE_HEADER_SIZE];
	const void *data = NULL;
	char *evidence = NULL;
	size_t len = 0;
	int r;

	r = ebcc_invocation_response(inv, &data, &len);
	if (r == 0)
		r = ebcc_invocation_evidence(inv, &ev);
	if (r == 0)
		r = ebcc_evidence_serialize(ev, &evidence);
	ebcc_evidence_unref(ev);
	if (r < 0) {
		refuse_lib(conn_fd, r, "the invocation's result");
		return;
	}
	if (len > PROTO_RESPONSE_MAX || strlen(evidence) > PROTO_EVIDENCE_MAX) {
		ebcc_free(evidence);
		hook_serve_refuse(conn_fd, EBCC_ERR_TOO_BIG,
				  "the response or its evidence is above the protocol's limits");
		return;
	}
	h.body_len = (uint32_t)len;
	h.evidence_len = (uint32_t)strlen(evidence);
	proto_response_header_encode(&h, header);
	/* A peer gone by now has its invocation recorded anyway: nothing more to do. */
	if (fd_write_all(conn_fd, header, sizeof(header)) == 0 &&
	    fd_write_all(conn_fd, data, len) == 0)
		fd_write_all(conn_fd, evidence, h.evidence_len);
	ebcc_free(evidence);
}

void hook_serve_connection(struct ebcc_instance *inst, int conn_fd)
{
	const struct timeval timeout = { .tv_sec = IO_TIMEOUT_S };
	uint8_t header[PROTO_REQUEST_HEADER_SIZE], nonce[PROTO_NONCE_MAX];
	char stage[PROTO_STAGE_MAX + 1], message[256];
	struct proto_request_header h;
	struct ebcc_invocation *inv = NULL;
	const char *problem;
	uint64_t max_request;
	char *body;
	int r;

	setsockopt(conn_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	setsockopt(conn_fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
	r = fd_read_exact(conn_fd, header, sizeof(header));
	if (r == 1)
		return; /* connected and hung up: nothing asked */
	if (r < 0) {
		refuse_io(conn_fd, r, "header");
		return;
	}
	if (proto_request_header_decode(header, &h, &problem) < 0) {
		hook_serve_refuse(conn_fd, EBCC_ERR_INVALID_ARG, problem);
		return;
	}
	r = fd_read_exact(conn_fd, stage, h.stage_len);
	if (r != 0) {
		refuse_io(conn_fd, r, "stage name");
		return;
	}
	stage[h.stage_len] = '\0';
	if (!proto_stage_name_valid(stage, h.stage_len)) {
		hook_serve_refuse(conn_fd, EBCC_ERR_INVALID_ARG,
				  "the stage name is not 1 to 64 of [a-z0-9_-]");
		return;
	}
	r = h.nonce_len > 0 ? fd_read_exact(conn_fd, nonce, h.nonce_len) : 0;
	if (r != 0) {
		refuse_io(conn_fd, r, "nonce");
		return;
	}
	if (stage_max_request(conn_fd, inst, stage, &max_request) < 0)
		return;
	if (h.body_len > max_request) {
		snprintf(message, sizeof(message),
			 "a request of %" PRIu32 " bytes is above stage %s's maxRequest of %" PRIu64
			 " bytes (EBCC_ERR_TOO_BIG)",
			 h.body_len, stage, max_request);
		hook_serve_refuse(conn_fd, EBCC_ERR_TOO_BIG, message);
		return;
	}
	body = malloc(h.body_len > 0 ? h.body_len : 1);
	if (body == NULL) {
		hook_serve_refuse(conn_fd, EBCC_ERR_NO_MEMORY, "out of memory for the request");
		return;
	}
	r = h.body_len > 0 ? fd_read_exact(conn_fd, body, h.body_len) : 0;
	if (r != 0) {
		refuse_io(conn_fd, r, "body");
		free(body);
		return;
	}
	r = ebcc_stage_invoke(inst, stage, body, h.body_len, nonce, h.nonce_len, &inv);
	free(body);
	if (r < 0)
		refuse_lib(conn_fd, r, "");
	else
		respond(conn_fd, inv);
	ebcc_invocation_unref(inv);
}
