/* SPDX-License-Identifier: MIT */
/*
 * An SGX enclave through the Linux driver (/dev/sgx_enclave, <asm/sgx.h>, kernel 5.11+), every
 * kernel call through the host operations:
 *
 *   1. MRENCLAVE computed from the layout (measure.h) and the SIGSTRUCT checked against it and,
 *      when given, against the operator's signer (MRSIGNER), before anything is opened;
 *   2. open /dev/sgx_enclave; reserve twice the enclave's size of address space (anonymous,
 *      PROT_NONE) and put the base at the first multiple of the size in it;
 *   3. SGX_IOC_ENCLAVE_CREATE with the SECS (size, base, SSA frame size, MISCSELECT,
 *      ATTRIBUTES, XFRM);
 *   4. SGX_IOC_ENCLAVE_ADD_PAGES per segment, from a page-aligned copy, with its SECINFO and
 *      SGX_PAGE_MEASURE when measured; continued where count says when the kernel stopped
 *      early (a signal);
 *   5. SGX_IOC_ENCLAVE_INIT with the SIGSTRUCT;
 *   6. each segment mapped MAP_SHARED | MAP_FIXED at base + offset with its SECINFO's
 *      permissions (a TCS read-write): after the pages are added, since they cap the mapping.
 *
 * Entering is the vDSO's __vdso_sgx_enter_enclave (EENTER at a TCS; the enclave's EEXIT
 * returns). Any failure undoes what was done: mappings, reservation, descriptor.
 */
#ifndef EBCC_SGX_DRIVER_H
#define EBCC_SGX_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "hostops.h"
#include "measure.h"
#include "sigstruct.h"

#define EBCC_SGX_DEVICE "/dev/sgx_enclave"

/* The SECS's fields beyond the layout's. */
struct ebcc__sgx_secs_params {
	uint64_t attributes, xfrm;
	uint32_t miscselect;
};

struct ebcc__sgx_enclave {
	const struct ebcc__hostops *host;
	int fd;
	void *reservation;
	size_t reservation_len;
	uint64_t base, size;
	uint8_t *base_ptr; /* base, inside the reservation */
	uint8_t mrenclave[32], mrsigner[32];
};

/*
 * Builds, initializes and maps the enclave. expected_mrsigner (may be NULL): the SIGSTRUCT
 * must be signed by that key. Errors: EBCC_ERR_INVALID_ARG (the layout), EBCC_ERR_VERIFY (the
 * SIGSTRUCT, or its signer), EBCC_ERR_UNAVAILABLE (no /dev/sgx_enclave), EBCC_ERR_PERMISSION,
 * EBCC_ERR_BACKEND naming the ioctl, the driver's error and what it means (EINIT's refusal
 * is -EPERM, an ECREATE fault -EIO, a size or order the driver refuses -EINVAL),
 * EBCC_ERR_NO_MEMORY. Nothing is left on failure.
 */
int ebcc__sgx_enclave_load(const struct ebcc__hostops *host, const struct ebcc__sgx_layout *l,
			   const struct ebcc__sgx_secs_params *secs,
			   const uint8_t sigstruct[EBCC_SGX_SIGSTRUCT_SIZE],
			   const uint8_t *expected_mrsigner, struct ebcc__sgx_enclave *ret);

/* EENTER at base + tcs_offset with rdi = buf, rsi = len, until the enclave's EEXIT. Errors:
 * EBCC_ERR_BACKEND (an exception in the enclave: vector, error code, address; no vDSO entry). */
int ebcc__sgx_enclave_enter(struct ebcc__sgx_enclave *e, uint64_t tcs_offset, void *buf,
			    size_t len);

/* Unmaps and closes; e is zeroed (fd -1). Safe on a zeroed or destroyed enclave. */
void ebcc__sgx_enclave_destroy(struct ebcc__sgx_enclave *e);

#endif
