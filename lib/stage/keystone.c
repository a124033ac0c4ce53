/* SPDX-License-Identifier: MIT */
/*
 * The keystone flavour of the stage library (libebcc-stage-keystone.a, with edge.c): edge calls
 * are Keystone ocalls through the UTM (Eyrie's ocall, keystone-edge.h), and the report is the
 * security monitor's, from Eyrie's attest_enclave (eyrie.h).
 */
#include <stdint.h>

#include "../base/keystone-edge.h"
#include "edge.h"
#include "eyrie.h"

_Static_assert(EBCC_KS_EYRIE_REPORT_BUF <= EBCC_EDGE_REPORT_MAX, "Eyrie's report buffer");

const char ebcc__edge_attest_what[] = "Eyrie's attest_enclave";

int ebcc__edge_ocall(uint32_t id, const void *arg, size_t len, void *ret, size_t ret_len)
{
	return ebcc__eyrie_syscall(EBCC_EYRIE_OCALL, id, (uintptr_t)arg, len, (uintptr_t)ret,
				   ret_len) == 0
		       ? 0
		       : -1;
}

size_t ebcc__edge_attest(const uint8_t report_data[64], uint8_t *report)
{
	return ebcc__eyrie_syscall(EBCC_EYRIE_ATTEST_ENCLAVE, (uintptr_t)report,
				   (uintptr_t)report_data, 64, 0, 0) == 0
		       ? EBCC_KS_STAGE_REPORT_SIZE
		       : 0;
}
