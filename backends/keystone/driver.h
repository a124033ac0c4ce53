/* SPDX-License-Identifier: MIT */
/*
 * Keystone's kernel interface, /dev/keystone_enclave (keystone-enclave/keystone since 874b3d8:
 * sdk/include/shared/keystone_user.h, linux-keystone-driver/), driven as the host SDK drives it
 * (sdk/src/host/Enclave.cpp): CREATE with min_pages, UTM_INIT, the loader, runtime and eapp
 * copied page by page through one-page mmaps at EPM byte offsets (each file from a page
 * boundary, its last page zero-padded), FINALIZE (the SM measures then), the UTM mapped, then
 * RUN and RESUME until the eapp exits, serving its edge calls (ocalls) through the UTM.
 * Every kernel call goes through the host operations.
 *
 * The driver's quirks this code respects: it copies the whole struct in and out whatever the
 * ioctl's direction bits say; unknown commands give -ENOSYS; a failed FINALIZE frees the enclave
 * but leaves its id allocated, so the descriptor is closed and that id never used again;
 * DESTROY is refused while the enclave runs (it only ever runs inside RUN/RESUME here).
 */
#ifndef EBCC_KEYSTONE_DRIVER_H
#define EBCC_KEYSTONE_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "edgecall.h"
#include "hostops.h"
#include "measure.h"

#define EBCC_KS_DEVICE "/dev/keystone_enclave"

struct ebcc__ks_ioctl_create {
	uint64_t eid;
	uint64_t min_pages;
	uint64_t utm_size;
	uint64_t runtime_paddr;
	uint64_t user_paddr;
	uint64_t free_paddr;
	uint64_t free_requested;
	uint64_t epm_paddr;
	uint64_t epm_size;
	uint64_t utm_paddr;
};

struct ebcc__ks_ioctl_run {
	uint64_t eid;
	uint64_t error;
	uint64_t value;
};

/* _IOR/_IOW(0xa4, nr, struct ...) as the header defines them (asm-generic encoding). */
#define EBCC_KS_IOC_CREATE 0x8050a400u
#define EBCC_KS_IOC_DESTROY 0x4050a401u
#define EBCC_KS_IOC_RUN 0x8018a404u
#define EBCC_KS_IOC_RESUME 0x8018a405u
#define EBCC_KS_IOC_FINALIZE 0x8050a406u
#define EBCC_KS_IOC_UTM_INIT 0x8050a407u

/* sm_err.h: what RUN and RESUME put in error. */
#define EBCC_KS_SM_SUCCESS 0
#define EBCC_KS_SM_INTERRUPTED 100002
#define EBCC_KS_SM_NOT_DESTROYABLE 100005
#define EBCC_KS_SM_NOT_RESUMABLE 100010
#define EBCC_KS_SM_EDGE_CALL_HOST 100011
#define EBCC_KS_SM_NOT_FRESH 100016

/* sdk/include/edge/edge_common.h: at UTM offset 0; data from offset 48. */
struct ebcc__ks_edge_call {
	uint64_t call_id;
	uint64_t call_arg_offset;
	uint64_t call_arg_size;
	uint64_t call_status;
	uint64_t call_ret_offset;
	uint64_t call_ret_size;
};
#define EBCC_KS_EDGE_DATA_OFFSET 48
#define EBCC_EDGE_CALL_STATUS_OK 0
#define EBCC_EDGE_CALL_STATUS_BAD_CALL_ID 1

struct ebcc__ks_enclave {
	const struct ebcc__hostops *host;
	int fd;
	uint64_t eid;
	uint64_t epm_paddr, epm_size, utm_size;
	uint8_t *utm; /* mapped after FINALIZE */
	int started;  /* RUN was called: every later entry is a RESUME */
};

/*
 * Creates, fills and finalizes an enclave of the three files with freemem bytes of free memory
 * and a UTM of utm_size bytes. Errors name the step and the driver's errno:
 * EBCC_ERR_UNAVAILABLE (no device), EBCC_ERR_NO_MEMORY (-ENOMEM at CREATE or UTM_INIT),
 * EBCC_ERR_STAGE (FINALIZE refused by the SM), EBCC_ERR_IO (anything else). Nothing is left
 * on failure.
 */
int ebcc__ks_enclave_create(const struct ebcc__hostops *host,
			    const uint8_t *const files[EBCC_KS_FILES],
			    const size_t lens[EBCC_KS_FILES], uint64_t freemem, uint64_t utm_size,
			    struct ebcc__ks_enclave *ret);

/*
 * An edge call from the eapp: call_id, its argument (in the UTM), and room for the answer
 * (in the UTM, after the argument's start: the SDK answers in place). Stores the answer's
 * length; a negative EBCC_ERR_* stops the run.
 */
typedef int (*ebcc__ks_ocall_fn)(uint64_t call_id, const uint8_t *arg, size_t arg_len,
				 uint8_t *ret, size_t ret_cap, size_t *ret_len, void *userdata);

/*
 * RUN, then RESUME after each timer interrupt and served edge call, until the eapp exits
 * (*ret_value its exit value) or timeout_ms passes (EBCC_ERR_TIMEOUT; the enclave is stopped,
 * not running). An edge call whose offsets leave the UTM is EBCC_ERR_STAGE.
 */
int ebcc__ks_enclave_run(struct ebcc__ks_enclave *e, ebcc__ks_ocall_fn ocall, void *userdata,
			 uint32_t timeout_ms, uint64_t *ret_value);

/*
 * Enters the enclave (RUN the first time, RESUME after that, each timer interrupt resumed) until
 * it stops for an edge call or exits, or until the monotonic deadline_ms (EBCC_ERR_TIMEOUT; it
 * is stopped, not running). An edge call's argument is checked against the UTM (else
 * EBCC_ERR_STAGE). The caller answers an edge call with ebcc__ks_edge_answer() before it enters
 * again.
 */
int ebcc__ks_enclave_enter(struct ebcc__ks_enclave *e, uint64_t deadline_ms,
			   struct ebcc__edge_stop *ret);

/* Where an edge call's answer goes (in place, UTM offset 48) and how much fits there. */
uint8_t *ebcc__ks_edge_answer_buf(const struct ebcc__ks_enclave *e, size_t *ret_cap);

/* Completes the pending edge call with len bytes of answer (written to the answer buffer). */
void ebcc__ks_edge_answer(struct ebcc__ks_enclave *e, size_t len);

/* DESTROY, unmap, close. The first failure, but everything is released anyway. */
int ebcc__ks_enclave_destroy(struct ebcc__ks_enclave *e);

/* The SDK's min_pages for these files and free memory. */
uint64_t ebcc__ks_min_pages(const size_t lens[EBCC_KS_FILES], uint64_t freemem);

#endif
