/* SPDX-License-Identifier: MIT */
/*
 * What the sgx flavour of the stage library needs of an enclave runtime: the registers of the
 * host's last EENTER, EEXIT with resumption at the next EENTER on this TCS, EREPORT (ENCLU leaf
 * 0), and whether memory lies outside the enclave (the SDK's sgx_is_outside_enclave()).
 *
 * libebcc ships no enclave runtime for real SGX (an entry stub, TCS and SSA layout, the saved
 * context across EEXIT): on hardware these would be its few instructions. Here they are
 * external functions that a test links in (tests/unit/fake-sgx-shim.c, which hands them to the
 * fake SGX driver and CPU); they replace exactly those instructions and nothing above them.
 */
#ifndef EBCC_STAGE_SGX_H
#define EBCC_STAGE_SGX_H

#include <stddef.h>
#include <stdint.h>

/* rdi and rsi of the EENTER that entered the enclave last: the channel and its length. */
void ebcc__sgx_entry_regs(void **rdi, size_t *rsi);

/* EEXIT; returns 0 when the host has entered again, -1 when the enclave is being destroyed. */
int ebcc__sgx_exit(void);

/* EREPORT: a REPORT (432 bytes) of this enclave for the target (512-byte TARGETINFO) over
 * report_data. All three in enclave memory, as ENCLU requires. */
void ebcc__sgx_ereport(const uint8_t *target_info, const uint8_t report_data[64],
		       uint8_t *report);

/* 1 when [p, p + len) lies wholly outside the enclave. */
int ebcc__sgx_outside_enclave(const void *p, size_t len);

#endif
