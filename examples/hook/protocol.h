/* SPDX-License-Identifier: MIT */
/*
 * The socket protocol between a container's process (ebcc-call) and the broker that
 * ebcc-oci-hook starts: one connection, one request in, one response (with evidence) out.
 * Documented in ebcc-oci-hook(8), section PROTOCOL. All integers are big-endian.
 *
 * Request:   "EBRQ" u8 version=1  u8 stage_len  u8 nonce_len  u8 reserved=0  u32 body_len
 *            stage[stage_len]  nonce[nonce_len]  body[body_len]
 * Response:  "EBRS" u8 version=1  u8 reserved[3]=0  i32 status  u32 message_len
 *            u32 body_len  u32 evidence_len
 *            message[message_len]  body[body_len]  evidence[evidence_len]
 *
 * Both sides use only libc: the client is linked statically and runs inside containers.
 */
#ifndef EBCC_HOOK_PROTOCOL_H
#define EBCC_HOOK_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

/* The socket's name inside the directory the manifest's tools.ociHook.socketDir names. */
#define PROTO_SOCKET_NAME "ebcc.sock"

#define PROTO_VERSION 1
#define PROTO_REQUEST_HEADER_SIZE 12
#define PROTO_RESPONSE_HEADER_SIZE 24

/* Limits, checked by both sides before anything is allocated. */
#define PROTO_STAGE_MAX 64                        /* a stage name: [a-z0-9_-]{1,64} */
#define PROTO_NONCE_MAX 64                        /* EBCC_NONCE_MAX */
#define PROTO_REQUEST_MAX (UINT32_C(64) << 20)    /* libebcc's default max_request */
#define PROTO_MESSAGE_MAX 4096                    /* one error line */
#define PROTO_RESPONSE_MAX (UINT32_C(1) << 30)    /* libebcc's largest maxResponse */
#define PROTO_EVIDENCE_MAX (UINT32_C(1) << 20)    /* what ebcc_evidence_parse() accepts */

struct proto_request_header {
	uint8_t stage_len;
	uint8_t nonce_len;
	uint32_t body_len;
};

struct proto_response_header {
	int32_t status; /* 0, or a negative EBCC_ERR_* code */
	uint32_t message_len;
	uint32_t body_len;
	uint32_t evidence_len;
};

void proto_request_header_encode(const struct proto_request_header *h,
				 uint8_t out[PROTO_REQUEST_HEADER_SIZE]);
void proto_response_header_encode(const struct proto_response_header *h,
				  uint8_t out[PROTO_RESPONSE_HEADER_SIZE]);

/* Decode and check every field against the limits above. 0, or -1 with *ret_problem saying
 * which field is wrong (static text). */
int proto_request_header_decode(const uint8_t in[PROTO_REQUEST_HEADER_SIZE],
				struct proto_request_header *h, const char **ret_problem);
int proto_response_header_decode(const uint8_t in[PROTO_RESPONSE_HEADER_SIZE],
				 struct proto_response_header *h, const char **ret_problem);

/* Whether name (len bytes) is a stage name as manifests spell them: [a-z0-9_-]{1,64}. */
int proto_stage_name_valid(const char *name, size_t len);

/* ---- fdio.c: whole reads and writes on descriptors, retried on EINTR -------------------- */

/* Reads exactly len bytes. 0; 1 on end of file before the first byte; -1 with errno set
 * (EPROTO for end of file in the middle). */
int fd_read_exact(int fd, void *buf, size_t len);

/* Writes all len bytes (send() with MSG_NOSIGNAL on sockets, so a vanished peer is EPIPE,
 * never SIGPIPE). 0 or -1 with errno set. */
int fd_write_all(int fd, const void *buf, size_t len);

/* Copies exactly len bytes from in to out through a small buffer. 0 or -1 with errno set;
 * *ret_read_failed says which side failed. */
int fd_copy_exact(int in, int out, uint64_t len, int *ret_read_failed);

#endif /* EBCC_HOOK_PROTOCOL_H */
