/* SPDX-License-Identifier: MIT */
/*
 * The stage side of libebcc's edge calls (lib/base/edge.h), for stages in enclave-style TEEs:
 * edge.c serves requests with them (ebcc_stage_serve(), ebcc_stage_log()); each TEE's flavour
 * (keystone.c, sgx.c) provides the two things that differ, the edge call itself and the
 * TEE's report over report_data. Single-threaded, as an enclave runs one stage thread.
 */
#ifndef EBCC_STAGE_EDGE_H
#define EBCC_STAGE_EDGE_H

#include <stddef.h>
#include <stdint.h>

/* The largest report a flavour makes (Eyrie copies 2048 bytes back). */
#define EBCC_EDGE_REPORT_MAX 2048

/* One edge call: len bytes of arg to the host, then exactly ret_len bytes of its answer into
 * ret. 0, or -1 when the host is gone (the enclave is being destroyed) or broke the channel. */
int ebcc__edge_ocall(uint32_t id, const void *arg, size_t len, void *ret, size_t ret_len);

/* The TEE's report over report_data into report (EBCC_EDGE_REPORT_MAX bytes): its length, or
 * 0 when the TEE gave none. */
size_t ebcc__edge_attest(const uint8_t report_data[64], uint8_t *report);

/* What makes the report, for the message when there is none ("Eyrie's attest_enclave"). */
extern const char ebcc__edge_attest_what[];

#endif
