/* SPDX-License-Identifier: MIT */
/*
 * The enclave measurement Keystone's security monitor computes at FINALIZE
 * (sm/src/attest.c:validate_and_hash_epm; the SDK's Enclave::measure() computes the same
 * offline). The host SDK copies the loader, the runtime (Eyrie) and the eapp one after the
 * other into enclave memory, each starting on a page and its last page zero-padded, so:
 *
 *   SHA3-512( le64(PAGE_UP(|loader|)) || le64(PAGE_UP(|runtime|)) || le64(PAGE_UP(|eapp|))
 *             || loader, runtime, eapp, each zero-padded to a multiple of 4096 bytes )
 *
 * (the sizes are the SM's runtime−loader, eapp−runtime, free−eapp; uintptr_t, 64-bit on
 * RV64). Free memory, UTM size and free_requested are not measured.
 */
#ifndef EBCC_KEYSTONE_MEASURE_H
#define EBCC_KEYSTONE_MEASURE_H

#include <stddef.h>
#include <stdint.h>

#include "sig.h"

#define EBCC_KS_PAGE_SIZE 4096

enum { EBCC_KS_FILE_LOADER, EBCC_KS_FILE_RUNTIME, EBCC_KS_FILE_EAPP, EBCC_KS_FILES };

/* Errors: EBCC_ERR_NO_MEMORY. */
int ebcc__ks_measure(const uint8_t *const files[EBCC_KS_FILES],
		     const size_t lens[EBCC_KS_FILES], uint8_t out[EBCC_KS_MDSIZE]);

#endif
