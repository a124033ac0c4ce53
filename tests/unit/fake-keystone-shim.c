/* SPDX-License-Identifier: MIT */
/* Eyrie's ecall for x86-64 eapps under the fake Keystone (fake-keystone-shim.h). Test code. */
#include <stddef.h>

#include "../../lib/stage/eyrie.h"
#include "fake-keystone-shim.h"

static __thread struct fake_ks_eyrie *current;

uintptr_t ebcc__eyrie_syscall(uintptr_t n, uintptr_t a0, uintptr_t a1, uintptr_t a2,
			      uintptr_t a3, uintptr_t a4)
{
	switch (n) {
	case EBCC_EYRIE_OCALL:
		/* Eyrie's dispatch_edgecall_ocall: 0, or 1 when the call failed. */
		return fake_ks_ocall(current, a0, (const void *)a1, (size_t)a2, (void *)a3,
				     (size_t)a4) < 0;
	case EBCC_EYRIE_ATTEST_ENCLAVE:
		/* The SM's error code, or 0 (2048 bytes copied back into the buffer). */
		return fake_ks_attest(current, (uint8_t *)a0, (const void *)a1, (size_t)a2) < 0;
	default:
		return (uintptr_t)-1; /* Eyrie's answer to a system call it does not implement */
	}
}

uint64_t fake_ks_shim_eapp(struct fake_ks_eyrie *y, void *userdata)
{
	struct fake_ks_shim_main *m = userdata;

	current = y;
	return (uint64_t)(int64_t)m->main(m->userdata);
}

struct fake_ks_eyrie *fake_ks_shim_current(void)
{
	return current;
}
