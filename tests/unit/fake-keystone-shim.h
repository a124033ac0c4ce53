/* SPDX-License-Identifier: MIT */
/*
 * The x86-64 stand-in for Eyrie's `ecall`, for eapps built from libebcc-stage-keystone.a
 * (lib/stage/eyrie.h) and run by the fake Keystone (fake-keystone.h). It replaces exactly the
 * trap into Eyrie: ebcc__eyrie_syscall(1001 ocall) becomes fake_ks_ocall() and (1003
 * attest_enclave) fake_ks_attest() on the eapp's enclave, any other number -ENOSYS as Eyrie
 * answers an unknown syscall. Everything above it, the stage library and the stage, is the code
 * that would run in the enclave. The eapp's main() returning is Eyrie's exit (1101).
 */
#ifndef EBCC_FAKE_KEYSTONE_SHIM_H
#define EBCC_FAKE_KEYSTONE_SHIM_H

#include <stdint.h>

#include "fake-keystone.h"

/* The eapp a fake Keystone runs: main is the stage's main(), called on the enclave's thread
 * with that enclave as the target of its Eyrie calls. userdata: a struct fake_ks_shim_main. */
struct fake_ks_shim_main {
	int (*main)(void *userdata);
	void *userdata;
};
uint64_t fake_ks_shim_eapp(struct fake_ks_eyrie *y, void *userdata);

/* The enclave of the calling eapp thread, for hostile eapps that go around the library. */
struct fake_ks_eyrie *fake_ks_shim_current(void);

#endif
