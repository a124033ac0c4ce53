/* SPDX-License-Identifier: MIT */
/* The frame headers of the hook's socket protocol (protocol.h): encoding and strict decoding. */
#include <string.h>

#include "protocol.h"

static const uint8_t request_magic[4] = { 'E', 'B', 'R', 'Q' };
static const uint8_t response_magic[4] = { 'E', 'B', 'R', 'S' };

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

void proto_request_header_encode(const struct proto_request_header *h,
				 uint8_t out[PROTO_REQUEST_HEADER_SIZE])
{
	memcpy(out, request_magic, 4);
	out[4] = PROTO_VERSION;
	out[5] = h->stage_len;
	out[6] = h->nonce_len;
	out[7] = 0;
	put_u32(out + 8, h->body_len);
}

void proto_response_header_encode(const struct proto_response_header *h,
				  uint8_t out[PROTO_RESPONSE_HEADER_SIZE])
{
	memcpy(out, response_magic, 4);
	out[4] = PROTO_VERSION;
	out[5] = out[6] = out[7] = 0;
	put_u32(out + 8, (uint32_t)h->status);
	put_u32(out + 12, h->message_len);
	put_u32(out + 16, h->body_len);
	put_u32(out + 20, h->evidence_len);
}

int proto_request_header_decode(const uint8_t in[PROTO_REQUEST_HEADER_SIZE],
				struct proto_request_header *h, const char **ret_problem)
{
	const char *problem = NULL;

	if (memcmp(in, request_magic, 4) != 0)
		problem = "the request does not start with \"EBRQ\"";
	else if (in[4] != PROTO_VERSION)
		problem = "the request's protocol version is not 1";
	else if (in[7] != 0)
		problem = "the request's reserved byte is not 0";
	else if (in[5] == 0 || in[5] > PROTO_STAGE_MAX)
		problem = "the request's stage name length is not 1..64";
	else if (in[6] > PROTO_NONCE_MAX)
		problem = "the request's nonce is longer than 64 bytes";
	else if (get_u32(in + 8) > PROTO_REQUEST_MAX)
		problem = "the request's body is longer than 67108864 bytes";
	if (problem != NULL) {
		*ret_problem = problem;
		return -1;
	}
	h->stage_len = in[5];
	h->nonce_len = in[6];
	h->body_len = get_u32(in + 8);
	return 0;
}

int proto_response_header_decode(const uint8_t in[PROTO_RESPONSE_HEADER_SIZE],
				 struct proto_response_header *h, const char **ret_problem)
{
	const char *problem = NULL;
	int32_t status = (int32_t)get_u32(in + 8);
	uint32_t message_len = get_u32(in + 12), body_len = get_u32(in + 16),
		 evidence_len = get_u32(in + 20);

	if (memcmp(in, response_magic, 4) != 0)
		problem = "the response does not start with \"EBRS\"";
	else if (in[4] != PROTO_VERSION)
		problem = "the response's protocol version is not 1";
	else if (in[5] != 0 || in[6] != 0 || in[7] != 0)
		problem = "the response's reserved bytes are not 0";
	else if (status > 0)
		problem = "the response's status is positive";
	else if (message_len > PROTO_MESSAGE_MAX)
		problem = "the response's message is longer than 4096 bytes";
	else if (body_len > PROTO_RESPONSE_MAX)
		problem = "the response's body is longer than 1073741824 bytes";
	else if (evidence_len > PROTO_EVIDENCE_MAX)
		problem = "the response's evidence is longer than 1048576 bytes";
	else if (status < 0 && (body_len != 0 || evidence_len != 0))
		problem = "a failed response carries a body or evidence";
	else if (status == 0 && evidence_len == 0)
		problem = "a successful response carries no evidence";
	if (problem != NULL) {
		*ret_problem = problem;
		return -1;
	}
	h->status = status;
	h->message_len = message_len;
	h->body_len = body_len;
	h->evidence_len = evidence_len;
	return 0;
}

int proto_stage_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > PROTO_STAGE_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}
