/* SPDX-License-Identifier: MIT */
/*
 * The host side of one invocation over libebcc's edge calls (lib/base/edge.h), for backends
 * whose stages run in enclaves that stop for the host (keystone, sgx). The backend says how to
 * run its enclave to the next stop and how to check its TEE's report (struct
 * ebcc__edge_enclave_ops); this file serves NEXT, READ, LOG and ANSWER, checks every frame the
 * enclave hands over against the protocol and the stage's limits, and collects the log.
 */
#ifndef EBCC_BACKEND_EDGECALL_H
#define EBCC_BACKEND_EDGECALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ebcc/backend.h"

/* Where an enclave stopped: it ended (exited, with value), or made edge call call_id with
 * arg_len bytes of argument at arg, in memory it shares with the host. */
struct ebcc__edge_stop {
	int exited;
	uint64_t value;
	uint64_t call_id;
	uint8_t *arg;
	size_t arg_len;
};

struct ebcc__edge_enclave_ops {
	/* Runs the enclave until its next stop (the first time: from its start); EBCC_ERR_TIMEOUT
	 * once deadline_ms (ebcc__edge_now_ms()) has passed. */
	int (*enter)(void *enclave, uint64_t deadline_ms, struct ebcc__edge_stop *ret);
	/* Where the answer to the pending edge call goes, and how much fits there. */
	uint8_t *(*answer_buf)(void *enclave, size_t *ret_cap);
	/* Completes the pending edge call with len bytes of answer, before the next enter(). */
	void (*answer)(void *enclave, size_t len);
	/* The report of an ANSWER (len bytes after report_data): checks that it covers
	 * report_data and is of this stage's enclave, and stores the invocation's report in *ret
	 * (env->alloc). EBCC_ERR_STAGE naming what is wrong, or another error. */
	int (*take_report)(void *enclave, const uint8_t report_data[64], const uint8_t *report,
			   size_t len, const struct ebcc_backend_env *env,
			   struct ebcc_backend_buffer *ret);
	/* Answers an edge call of this TEE's only (sgx: TARGET) with *ret_len bytes into buf
	 * (cap bytes): 1, 0 when call_id is not one, or an error. NULL: there are none. */
	int (*other_call)(void *enclave, uint64_t call_id, uint8_t *buf, size_t cap,
			  size_t *ret_len);
	size_t report_size; /* the TEE's report in a REPORT frame, after report_data */
	const char *report_what; /* "the SM's 1352-byte report" */
	const char *stage_library; /* "libebcc-stage-keystone" */
	const char *ended_what;    /* "the eapp exited" */
};

/* A warm stage between invocations: where its enclave waits. */
enum ebcc__edge_paused { EBCC_EDGE_RUNNING, EBCC_EDGE_PAUSED_NEXT, EBCC_EDGE_PAUSED_ANSWER };
struct ebcc__edge_session {
	enum ebcc__edge_paused paused;
	struct ebcc__edge_stop pending; /* PAUSED_NEXT: the NEXT not yet answered */
};

/* One invocation. The caller fills the first block; the rest is the exchange's. */
struct ebcc__edge_exchange {
	const struct ebcc__edge_enclave_ops *ops;
	void *enclave;
	const char *name; /* the stage, for messages ("stage s of c (Keystone enclave 7)") */
	uint64_t eid;     /* the enclave's id, for messages */
	uint64_t max_response;
	uint32_t timeout_ms;
	const struct ebcc_backend_env *env;
	const struct ebcc_backend_binding *binding;
	const void *request;
	size_t request_len;

	bool delivered;
	bool answered; /* a well-formed ANSWER came: a warm enclave waits for the next request */
	char *log;     /* malloc */
	size_t log_len, log_cap;
	bool log_cut;
};

/* Starts an enclave and runs it to its first NEXT, which session keeps. Errors: those of
 * enter(), EBCC_ERR_STAGE (it ended or made another call first). */
int ebcc__edge_start(const struct ebcc__edge_enclave_ops *ops, void *enclave, const char *name,
		     uint64_t eid, uint64_t deadline_ms, struct ebcc__edge_session *session);

/* Runs the invocation to its ANSWER and fills ret (response, report, report_data; not the
 * log). Errors: EBCC_ERR_TIMEOUT, EBCC_ERR_STAGE (the stage failed the request, or broke the
 * protocol: x->answered tells them apart), those of enter() and take_report(). */
int ebcc__edge_run(struct ebcc__edge_exchange *x, struct ebcc__edge_session *session,
		   uint64_t deadline_ms, struct ebcc_backend_invocation *ret);

/* Adds a line to the exchange's log (cut at EBCC_CHANNEL_LOG_BUDGET). */
void ebcc__edge_log_append(struct ebcc__edge_exchange *x, const char *text, size_t len);

/* Hands the log to ret->log and frees the exchange's memory; r, or EBCC_ERR_NO_MEMORY when r
 * was 0 and the log could not be stored. */
int ebcc__edge_finish(struct ebcc__edge_exchange *x, struct ebcc_backend_invocation *ret, int r);

/* The monotonic clock in milliseconds, for deadlines. */
uint64_t ebcc__edge_now_ms(void);

#endif
