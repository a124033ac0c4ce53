/* SPDX-License-Identifier: MIT */
/*
 * A fake of Keystone's driver (/dev/keystone_enclave) and security monitor, behind the host
 * operations, copying the real ones (keystone-enclave/keystone @ 88c49ee9: linux-keystone-driver/,
 * sm/src/): the ioctl numbers and 80/24-byte structs copied in and out whole, -EINVAL for a NULL
 * argument or an unknown eid, -ENOSYS for an unknown command, -ENOMEM; one enclave per open
 * file, eids from 0x1000 (the lowest free, as the IDR gives them); EPM of 2^ceil(log2 min_pages)
 * pages (or exactly min_pages, as with CMA), UTM of 2^order pages; mmap of one EPM page at a
 * byte offset before FINALIZE, of the UTM from 0 after; FINALIZE checked as
 * is_create_args_valid, a refusal freeing the enclave but keeping its id (any later use of that
 * id is counted as a use after free and fails); the SM's measurement over the EPM pages written;
 * RUN once (again: NOT_FRESH), RESUME, timer interrupts (100002) every few calls, edge calls
 * (100011) with a real struct edge_call in the UTM, the exit value; DESTROY; close destroys.
 *
 * Reports are the SM's 1352-byte struct report, SHA3-512 Ed25519, with the SM key derived from
 * a device key as Keystone's boot ROM derives it (one byte of each, its sizeof quirk) and the SM
 * hash over an SM image padded to 0x1ff000 bytes. The device key is Keystone's published test
 * key when ../shared/realdata has it, else one made from a fixed seed (fake_ks_device_key()).
 *
 * What it cannot be: RISC-V. The "eapp" is a C function of the test run on a thread of its own,
 * and struct fake_ks_eyrie's calls stand in for Eyrie's syscalls: fake_ks_ocall() for
 * ocall (1001: the argument copied to UTM+48, struct edge_call at UTM+0, a stop to the host,
 * the answer copied back as Eyrie copies it: the length the eapp asked for), fake_ks_attest()
 * for attest_enclave (1003: the SM signs, 2048 bytes come back), the function's return for exit
 * (1101). With fake-keystone-shim.c that function is a real stage linked with
 * libebcc-stage-keystone.a. No PMP isolation, no loader ELF parsing, no timing.
 */
#ifndef EBCC_FAKE_KEYSTONE_H
#define EBCC_FAKE_KEYSTONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../backends/common/hostops.h"

struct fake_ks;
struct fake_ks_eyrie;

/* The eapp: its return value is the exit value. */
typedef uint64_t (*fake_ks_eapp_fn)(struct fake_ks_eyrie *eyrie, void *userdata);

struct fake_ks_faults {
	bool no_device;
	bool create_enomem;   /* CREATE: -ENOMEM */
	bool cma;             /* EPM of exactly min_pages */
	bool finalize_refuse; /* the SM refuses FINALIZE (-EINVAL) */
	bool spin;            /* RUN/RESUME: always interrupted (an eapp that never exits) */
	unsigned interrupt_every; /* a timer interrupt before every n-th step (0: never) */
};

struct fake_ks *fake_ks_new(fake_ks_eapp_fn eapp, void *userdata);
void fake_ks_free(struct fake_ks *k);
const struct ebcc__hostops *fake_ks_host(struct fake_ks *k);
struct fake_ks_faults *fake_ks_faults(struct fake_ks *k);

/* The device key the fake SM's key is certified by, and whether it is Keystone's test key. */
const uint8_t *fake_ks_device_key(struct fake_ks *k, bool *is_test_key);
const uint8_t *fake_ks_sm_hash(struct fake_ks *k);
/* The last enclave's hash as the fake SM measured it at FINALIZE. */
const uint8_t *fake_ks_last_hash(struct fake_ks *k);

unsigned fake_ks_live_enclaves(struct fake_ks *k);
unsigned fake_ks_open_files(struct fake_ks *k);
unsigned fake_ks_live_maps(struct fake_ks *k);
unsigned fake_ks_use_after_free(struct fake_ks *k);
unsigned fake_ks_interrupts(struct fake_ks *k);

/* Eyrie's calls, for the eapp. 0, or -1 when the enclave is being destroyed (the eapp must
 * then return). */
int fake_ks_ocall(struct fake_ks_eyrie *y, uint64_t call_id, const void *data, size_t len,
		  void *ret, size_t ret_len);
/* Writes the raw arg offset/size into the edge call instead (a hostile eapp). */
int fake_ks_ocall_raw(struct fake_ks_eyrie *y, uint64_t call_id, uint64_t arg_offset,
		      uint64_t arg_size);
/* buf receives 2048 bytes, as from Eyrie. */
int fake_ks_attest(struct fake_ks_eyrie *y, uint8_t buf[2048], const void *data, size_t len);

#endif
