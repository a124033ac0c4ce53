/* SPDX-License-Identifier: MIT */
/*
 * The x86-64 stand-in for an SGX enclave runtime, for stages built with libebcc-stage-sgx.a
 * (lib/stage/sgx.h) and run by the fake SGX driver (fake-sgx.h). It replaces exactly the
 * runtime's instructions: the first EENTER of an enclave starts the stage's main() on a thread
 * of its own (standing for the enclave's TCS and stack); ebcc__sgx_exit() is ENCLU[EEXIT] and
 * the resumption at the next EENTER (the host's thread waits while the stage runs, and the
 * stage's thread while the host does, so one of them runs at a time, as on one TCS);
 * ebcc__sgx_ereport() is ENCLU[EREPORT], fake_sgx_ereport() of the entered enclave; and
 * ebcc__sgx_outside_enclave() compares with the enclave's range. main() returning is the
 * runtime's exit: EBCC_SGX_CALL_EXIT with its status. When the fake releases an enclave whose
 * stage waits in an exit, that exit returns -1 and the thread is joined. Everything above,
 * the stage library and the stage, is the code that would run in the enclave.
 */
#ifndef EBCC_FAKE_SGX_SHIM_H
#define EBCC_FAKE_SGX_SHIM_H

#include "fake-sgx.h"

/* The stage: main is its main(), userdata its argument. */
struct fake_sgx_shim_main {
	int (*main)(void *userdata);
	void *userdata;
};

/* The fake's entry function (fake_sgx_new(fake_sgx_shim_entry, &main)); call
 * fake_sgx_shim_attach() on the fake once, so that the shim hears of released enclaves. */
void fake_sgx_shim_entry(struct fake_sgx_call *call, void *userdata);
void fake_sgx_shim_attach(struct fake_sgx *f);

/* How many stage threads are running (0 when every enclave has been released). */
unsigned fake_sgx_shim_threads(void);

#endif
