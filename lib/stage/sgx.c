/* SPDX-License-Identifier: MIT */
/*
 * The sgx flavour of the stage library (libebcc-stage-sgx.a, with edge.c): edge calls through
 * the channel the host entered with (sgx-edge.h), and a REPORT by EREPORT targeted at the
 * quoting enclave, whose TARGETINFO the host hands over (TARGET). The host turns the REPORT
 * into a quote; only the quoting enclave can check its MAC, so the host cannot make one over
 * other data.
 */
#include <stdint.h>
#include <string.h>

#include "../base/sgx-edge.h"
#include "edge.h"
#include "sgx.h"

_Static_assert(EBCC_SGX_REPORT_SIZE <= EBCC_EDGE_REPORT_MAX, "REPORT");

const char ebcc__edge_attest_what[] = "EREPORT";

static uint64_t get64(const volatile uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void put64(volatile uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The channel of the last EENTER and its capacity, read once; NULL when it is not one. */
static volatile uint8_t *channel(uint64_t *ret_capacity)
{
	void *rdi = NULL;
	size_t rsi = 0;
	volatile uint8_t *ch;
	uint64_t cap;

	ebcc__sgx_entry_regs(&rdi, &rsi);
	ch = rdi;
	if (ch == NULL || rsi < EBCC_SGX_CHANNEL_HEADER || !ebcc__sgx_outside_enclave(rdi, rsi))
		return NULL;
	cap = get64(ch + EBCC_SGX_CHANNEL_CAPACITY);
	if (cap > rsi - EBCC_SGX_CHANNEL_HEADER)
		return NULL;
	*ret_capacity = cap;
	return ch;
}

int ebcc__edge_ocall(uint32_t id, const void *arg, size_t len, void *ret, size_t ret_len)
{
	uint64_t cap = 0;
	volatile uint8_t *ch = channel(&cap);

	if (ch == NULL || len > cap)
		return -1;
	for (int i = 0; i < 4; i++)
		ch[EBCC_SGX_CHANNEL_CALL + i] = (uint8_t)(id >> (8 * i));
	put64(ch + EBCC_SGX_CHANNEL_ARG_LEN, len);
	if (len > 0)
		memcpy((void *)(ch + EBCC_SGX_CHANNEL_HEADER), arg, len);
	if (ebcc__sgx_exit() < 0)
		return -1;
	/* The host may enter with another channel: the answer is in that one. */
	ch = channel(&cap);
	if (ch == NULL || ret_len > cap)
		return -1;
	if (ret_len > 0)
		memcpy(ret, (const void *)(ch + EBCC_SGX_CHANNEL_HEADER), ret_len);
	return 0;
}

size_t ebcc__edge_attest(const uint8_t report_data[64], uint8_t *report)
{
	/* ENCLU wants TARGETINFO and REPORTDATA 512- and 128-byte aligned, in the enclave. */
	static _Alignas(512) uint8_t target[EBCC_SGX_TARGETINFO_SIZE];
	static _Alignas(128) uint8_t data[64];
	static _Alignas(512) uint8_t out[EBCC_SGX_REPORT_SIZE];

	if (ebcc__edge_ocall(EBCC_EDGE_CALL_TARGET, NULL, 0, target, sizeof(target)) < 0)
		return 0;
	memcpy(data, report_data, sizeof(data));
	ebcc__sgx_ereport(target, data, out);
	memcpy(report, out, sizeof(out));
	return sizeof(out);
}
