/* SPDX-License-Identifier: MIT */
/*
 * The channel between an sgx stage (an enclave linked with libebcc-stage-sgx.a) and the sgx
 * backend on the host: libebcc's edge calls (edge.h) through memory outside the enclave. The
 * host maps the channel and enters the enclave with rdi = its address and rsi = its length
 * (EENTER through __vdso_sgx_enter_enclave). The enclave makes an edge call by writing the call
 * and its argument there and leaving (EEXIT); the host writes the answer at the same place and
 * enters again, and the enclave's runtime resumes the call, which copies back exactly the
 * length it asked for. The enclave reads every field once, checks that the whole channel is
 * outside the enclave and that what it copies fits, so a host that changes the channel while
 * the enclave runs gains nothing. Little endian:
 *
 *   @0   u32  call      enclave -> host: the edge call (EBCC_EDGE_CALL_*)
 *   @4   u32  reserved  0
 *   @8   u64  arg_len   enclave -> host: the argument's length, at data
 *   @16  u64  capacity  host -> enclave: bytes of data; header + capacity <= rsi
 *   @24  u64  reserved  0
 *   @32  data
 *
 * The first EENTER of an enclave starts the stage (the runtime calls its main()); the stage's
 * first edge call is NEXT. A stage whose main() returns leaves with call EBCC_SGX_CALL_EXIT and
 * its exit status as a u32 argument, and cannot be entered again.
 */
#ifndef EBCC_BASE_SGX_EDGE_H
#define EBCC_BASE_SGX_EDGE_H

#include "edge.h"

#define EBCC_SGX_CHANNEL_HEADER 32
#define EBCC_SGX_CHANNEL_CALL 0
#define EBCC_SGX_CHANNEL_ARG_LEN 8
#define EBCC_SGX_CHANNEL_CAPACITY 16
#define EBCC_SGX_CALL_EXIT 0xebcc00ffu

/* EREPORT's TARGETINFO and REPORT (sgx_target_info_t, sgx_report_t). */
#define EBCC_SGX_TARGETINFO_SIZE 512
#define EBCC_SGX_REPORT_SIZE 432

#endif
