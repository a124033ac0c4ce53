/* SPDX-License-Identifier: MIT */
/*
 * Eyrie's system calls, as a Keystone eapp makes them (keystone-enclave/keystone
 * sdk/include/app/syscall.h, sdk/src/app/syscall.c): `ecall` with the number in a7 and the
 * arguments in a0..a4, the result in a0.
 *
 * On riscv64 that is the instruction itself. Anywhere else there is no Eyrie to trap into, so
 * ebcc__eyrie_syscall() is an external function that a test links in (the shim of
 * tests/unit/fake-keystone-shim.c, which hands the call to a fake Eyrie and SM): it replaces
 * exactly the `ecall` and nothing above it.
 */
#ifndef EBCC_STAGE_EYRIE_H
#define EBCC_STAGE_EYRIE_H

#include <stdint.h>

#define EBCC_EYRIE_OCALL 1001          /* ocall(call_id, data, len, ret, ret_len) */
#define EBCC_EYRIE_ATTEST_ENCLAVE 1003 /* attest_enclave(report, data, len) */

#if defined(__riscv) && __riscv_xlen == 64
static inline uintptr_t ebcc__eyrie_syscall(uintptr_t n, uintptr_t a0, uintptr_t a1,
					    uintptr_t a2, uintptr_t a3, uintptr_t a4)
{
	register uintptr_t r_a0 __asm__("a0") = a0;
	register uintptr_t r_a1 __asm__("a1") = a1;
	register uintptr_t r_a2 __asm__("a2") = a2;
	register uintptr_t r_a3 __asm__("a3") = a3;
	register uintptr_t r_a4 __asm__("a4") = a4;
	register uintptr_t r_a7 __asm__("a7") = n;

	__asm__ volatile("ecall"
			 : "+r"(r_a0)
			 : "r"(r_a1), "r"(r_a2), "r"(r_a3), "r"(r_a4), "r"(r_a7)
			 : "memory");
	return r_a0;
}
#else
uintptr_t ebcc__eyrie_syscall(uintptr_t n, uintptr_t a0, uintptr_t a1, uintptr_t a2,
			      uintptr_t a3, uintptr_t a4);
#endif

#endif
