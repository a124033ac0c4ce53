/* SPDX-License-Identifier: MIT */
/*
 * The Linux TEE subsystem's user API (<linux/tee.h>) through the host operations: open
 * /dev/tee0 and check it is OP-TEE (TEE_IOC_VERSION), shared memory (TEE_IOC_SHM_ALLOC and
 * mmap of the descriptor it returns), sessions (TEE_IOC_OPEN_SESSION, TEE_IOC_CLOSE_SESSION)
 * and commands (TEE_IOC_INVOKE) with up to four parameters.
 *
 * An ioctl that fails is an error with errno's text; one that succeeds hands back the TEE's
 * own result (ret, origin: teec.h) for the caller to judge. A session belongs to the
 * descriptor that opened it and ends when that is closed.
 */
#ifndef EBCC_OPTEE_TEEDEV_H
#define EBCC_OPTEE_TEEDEV_H

#include <stddef.h>
#include <stdint.h>

#include <linux/tee.h>

#include "hostops.h"

#define EBCC_OPTEE_DEVICE "/dev/tee0"
#define EBCC_TEE_PARAMS 4

struct ebcc__teedev {
	const struct ebcc__hostops *host;
	int fd;
	struct tee_ioctl_version_data version;
};

struct ebcc__teeshm {
	int fd;
	int id;
	void *addr;
	size_t size;
};

struct ebcc__tee_result {
	uint32_t ret;
	uint32_t origin;
};

/*
 * Opens /dev/tee0 and checks it is OP-TEE and GlobalPlatform compliant. Errors:
 * EBCC_ERR_UNAVAILABLE naming what is missing (no device, another TEE implementation),
 * EBCC_ERR_PERMISSION, EBCC_ERR_IO.
 */
int ebcc__teedev_open(const struct ebcc__hostops *host, struct ebcc__teedev *ret);
void ebcc__teedev_close(struct ebcc__teedev *d);

/* Shared memory of size bytes (>= 1), mapped. Errors: EBCC_ERR_NO_MEMORY, EBCC_ERR_IO. */
int ebcc__teedev_shm_alloc(struct ebcc__teedev *d, size_t size, struct ebcc__teeshm *ret);
void ebcc__teedev_shm_free(struct ebcc__teedev *d, struct ebcc__teeshm *shm);

/* A memref parameter over all of shm, of size bytes (<= shm->size). */
struct tee_ioctl_param ebcc__tee_memref(uint64_t attr, const struct ebcc__teeshm *shm,
					size_t size);

/* Opens a session to the TA uuid (RFC 4122 byte order) with public login. */
int ebcc__teedev_open_session(struct ebcc__teedev *d, const uint8_t uuid[16],
			      uint32_t *ret_session, struct ebcc__tee_result *ret);
int ebcc__teedev_close_session(struct ebcc__teedev *d, uint32_t session);

/* Invokes func of a session with n (<= 4) parameters, updated in place as the TEE left them. */
int ebcc__teedev_invoke(struct ebcc__teedev *d, uint32_t session, uint32_t func,
			struct tee_ioctl_param *params, size_t n, struct ebcc__tee_result *ret);

#endif
