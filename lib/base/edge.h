/* SPDX-License-Identifier: MIT */
/*
 * Edge calls: how a stage inside an enclave-style TEE (Keystone, SGX), which has no descriptors
 * of the host, talks to its backend. The enclave stops with a call id and an argument in
 * memory the host shares (Keystone's UTM, an SGX channel outside the enclave); the host puts
 * its answer there and lets the enclave go on. The enclave then copies back exactly the length
 * it asked for, whatever length the host gave (as Keystone's Eyrie does: runtime/call/
 * syscall.c), so every answer is self-delimiting or of a length the enclave already knows. The
 * payloads are the frames of ebcc-stage-protocol(7):
 *
 *   NEXT    argument none; answer the BIND frame, then the REQUEST frame's 8-byte header
 *           (at most EBCC_EDGE_NEXT_MAX bytes; the enclave asks for that many)
 *   READ    argument none; answer the request's payload, exactly the REQUEST header's length
 *   LOG     argument one LOG frame; answer none
 *   TARGET  (SGX only) argument none; answer the quoting enclave's 512-byte TARGETINFO, for
 *           the stage's EREPORT
 *   ANSWER  argument REPORT frame (report_data || the TEE's report over it) then the
 *           RESPONSE frame, or one ERROR frame; answer none. A warm stage's next NEXT follows.
 *
 * The ids are libebcc's own (Keystone's edge calls and an SGX enclave's exits leave them to
 * the application).
 */
#ifndef EBCC_BASE_EDGE_H
#define EBCC_BASE_EDGE_H

#include "frame.h"

#define EBCC_EDGE_CALL_NEXT 0xebcc0001u
#define EBCC_EDGE_CALL_READ 0xebcc0002u
#define EBCC_EDGE_CALL_LOG 0xebcc0003u
#define EBCC_EDGE_CALL_ANSWER 0xebcc0004u
#define EBCC_EDGE_CALL_TARGET 0xebcc0005u

#define EBCC_EDGE_NEXT_MAX (2 * EBCC_FRAME_HEADER_SIZE + EBCC_FRAME_BIND_MAX)

#endif
