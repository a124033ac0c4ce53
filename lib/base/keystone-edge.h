/* SPDX-License-Identifier: MIT */
/*
 * The channel between a keystone stage (an eapp linked with libebcc-stage-keystone.a) and the
 * keystone backend on the host: Keystone edge calls (ocalls) through the UTM, carrying the
 * frames of ebcc-stage-protocol(7). Eyrie copies an ocall's argument into the UTM and copies
 * back exactly the length the eapp asked for from where the host put its answer, whatever
 * length the host gave (runtime/call/syscall.c), so every answer is self-delimiting or of a
 * length the eapp already knows, and what follows it is ignored.
 *
 *   NEXT    argument none; answer the BIND frame, then the REQUEST frame's 8-byte header
 *           (at most EBCC_KS_NEXT_MAX bytes; the eapp asks for that many)
 *   READ    argument none; answer the request's payload, exactly the REQUEST header's length
 *   LOG     argument one LOG frame; answer none
 *   ANSWER  argument REPORT frame (report_data || the 1352-byte SM report over it) then the
 *           RESPONSE frame, or one ERROR frame; answer none. A warm stage's next NEXT follows.
 *
 * The ids are not Keystone's: an eapp defines its own (sdk/include/edge/edge_common.h leaves
 * call ids to the application).
 */
#ifndef EBCC_STAGE_KEYSTONE_EDGE_H
#define EBCC_STAGE_KEYSTONE_EDGE_H

#include "frame.h"

#define EBCC_KS_CALL_NEXT 0xebcc0001u
#define EBCC_KS_CALL_READ 0xebcc0002u
#define EBCC_KS_CALL_LOG 0xebcc0003u
#define EBCC_KS_CALL_ANSWER 0xebcc0004u

#define EBCC_KS_NEXT_MAX (2 * EBCC_FRAME_HEADER_SIZE + EBCC_FRAME_BIND_MAX)

/* The SM's report (struct report, sm/src/enclave.h) and what Eyrie's attest_enclave copies
 * back into the eapp's buffer. */
#define EBCC_KS_STAGE_REPORT_SIZE 1352
#define EBCC_KS_EYRIE_REPORT_BUF 2048

#endif
