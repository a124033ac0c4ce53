/* SPDX-License-Identifier: MIT */
/*
 * MRENCLAVE as the CPU computes it (Intel SDM vol. 3D, ECREATE, EADD and EEXTEND "Operation";
 * the Linux kernel's SGX selftest, sigstruct.c, does the same): SHA-256 over 64-byte records,
 * little endian, in the order the pages are added, finalised at EINIT:
 *
 *   ECREATE  "ECREATE\0" || u32 SSAFRAMESIZE (pages) || u64 SECS.SIZE || 44 zero bytes
 *   EADD     "EADD\0\0\0\0" || u64 page offset from the base || SECINFO's first 48 bytes
 *            (u64 flags, 40 zero bytes)
 *   EEXTEND  "EEXTEND\0" || u64 offset of the 256-byte chunk || 48 zero bytes, then the
 *            chunk's 256 bytes (four more blocks); for each chunk of a measured page
 *
 * An enclave is described as the driver's ADD_PAGES calls are made: segments of whole pages,
 * each with one SECINFO and whether its contents are measured (SGX_PAGE_MEASURE).
 */
#ifndef EBCC_SGX_MEASURE_H
#define EBCC_SGX_MEASURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EBCC_SGX_PAGE_SIZE 4096
#define EBCC_SGX_EEXTEND_CHUNK 256

/* SECINFO.FLAGS: permissions and page type (SDM "SECINFO"). */
#define EBCC_SGX_SECINFO_R 0x01
#define EBCC_SGX_SECINFO_W 0x02
#define EBCC_SGX_SECINFO_X 0x04
#define EBCC_SGX_SECINFO_TCS (UINT64_C(1) << 8)
#define EBCC_SGX_SECINFO_REG (UINT64_C(2) << 8)

/* Pages as one ADD_PAGES call adds them. */
struct ebcc__sgx_segment {
	uint64_t offset;        /* from the enclave's base, page aligned */
	uint64_t length;        /* a multiple of the page size, > 0 */
	uint64_t secinfo_flags; /* EBCC_SGX_SECINFO_* */
	bool measure;           /* EEXTEND every 256 bytes */
	const uint8_t *data;    /* length bytes */
};

/* An enclave as ECREATE and the ADD_PAGES calls build it. */
struct ebcc__sgx_layout {
	uint64_t size;           /* SECS.SIZE: a power of two, at least two pages */
	uint32_t ssa_frame_size; /* SECS.SSAFRAMESIZE, in pages, > 0 */
	const struct ebcc__sgx_segment *segments;
	size_t n_segments;
};

/*
 * Checks the layout as ECREATE and ADD_PAGES would (size a power of two; segments page
 * aligned, non-empty, inside the enclave, not overlapping, SECINFO of a known type with W
 * only with R and a TCS without permissions) and computes MRENCLAVE. Errors: EBCC_ERR_INVALID_ARG
 * naming the segment and the rule, EBCC_ERR_NO_MEMORY.
 */
int ebcc__sgx_mrenclave(const struct ebcc__sgx_layout *layout, uint8_t ret[32]);

/* Just the SECINFO rules of one segment (the driver's sgx_validate_secinfo()). */
int ebcc__sgx_secinfo_check(uint64_t flags, size_t index);

#endif
