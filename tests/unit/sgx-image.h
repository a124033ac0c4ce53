/* SPDX-License-Identifier: MIT */
/*
 * The sgx tests' own enclave image: a 0x8000-byte enclave of a TCS (OSSA the SSA page, NSSA 1,
 * OENTRY the code), an SSA page, two pages of bytes standing for code (not x86 code: the fake
 * never executes them) and four unmeasured heap pages.
 */
#ifndef EBCC_TEST_SGX_IMAGE_H
#define EBCC_TEST_SGX_IMAGE_H

#include <stdint.h>
#include <string.h>

#include "../../backends/sgx/measure.h"

#define PAGE EBCC_SGX_PAGE_SIZE
#define RW (EBCC_SGX_SECINFO_REG | EBCC_SGX_SECINFO_R | EBCC_SGX_SECINFO_W)
#define RX (EBCC_SGX_SECINFO_REG | EBCC_SGX_SECINFO_R | EBCC_SGX_SECINFO_X)

/* The test enclave: 8 pages of a 0x8000-byte enclave. */
struct image {
	uint8_t tcs[PAGE], ssa[PAGE], code[2 * PAGE], heap[4 * PAGE];
	struct ebcc__sgx_segment seg[4];
	struct ebcc__sgx_layout layout;
};

static inline void image_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void image_init(struct image *im)
{
	static const char text[] = "libebcc test enclave: not code that runs, bytes to measure";

	memset(im, 0, sizeof(*im));
	/* struct sgx_tcs: OSSA @16 = the SSA page, NSSA @28 = 1, OENTRY @32 = the code. */
	image_put64(im->tcs + 16, PAGE);
	im->tcs[28] = 1;
	image_put64(im->tcs + 32, 2 * PAGE);
	for (size_t i = 0; i < sizeof(im->code); i++)
		im->code[i] = (uint8_t)(i * 31 + 7);
	memcpy(im->code, text, sizeof(text));
	memset(im->heap, 0xa5, sizeof(im->heap));
	im->seg[0] = (struct ebcc__sgx_segment){ 0, PAGE, EBCC_SGX_SECINFO_TCS, true, im->tcs };
	im->seg[1] = (struct ebcc__sgx_segment){ PAGE, PAGE, RW, true, im->ssa };
	im->seg[2] = (struct ebcc__sgx_segment){ 2 * PAGE, 2 * PAGE, RX, true, im->code };
	im->seg[3] = (struct ebcc__sgx_segment){ 4 * PAGE, 4 * PAGE, RW, false, im->heap };
	im->layout = (struct ebcc__sgx_layout){ 0x8000, 1, im->seg, 4 };
}

#endif
