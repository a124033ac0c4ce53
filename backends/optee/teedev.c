/* SPDX-License-Identifier: MIT */
/* /dev/tee0 through the host operations (see teedev.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "ebcc-base.h"
#include "teedev.h"

static const char *errno_name(int e)
{
	const char *name = strerrorname_np(e);

	return name != NULL ? name : "unknown errno";
}

static int ioctl_failed(const struct ebcc__teedev *d, const char *ioctl_name, int e)
{
	char dev[EBCC_PATH_MAX + 16];
	int code = e == ENOMEM ? EBCC_ERR_NO_MEMORY
		   : e == EBUSY || e == EAGAIN ? EBCC_ERR_BUSY
		   : e == EACCES || e == EPERM ? EBCC_ERR_PERMISSION
					       : EBCC_ERR_IO;

	return ebcc__error(code, "%s on %s: %s (%s)", ioctl_name,
			   ebcc__host_display(d->host, EBCC_OPTEE_DEVICE, dev, sizeof(dev)),
			   strerror(e), errno_name(e));
}

int ebcc__teedev_open(const struct ebcc__hostops *host, struct ebcc__teedev *ret)
{
	struct ebcc__teedev d = { .host = host, .fd = -1 };
	char dev[EBCC_PATH_MAX + 16];
	int r;

	ebcc__host_display(host, EBCC_OPTEE_DEVICE, dev, sizeof(dev));
	d.fd = ebcc__host_open(host, EBCC_OPTEE_DEVICE, O_RDWR);
	if (d.fd == -ENOENT || d.fd == -ENODEV || d.fd == -ENXIO)
		return ebcc__error(EBCC_ERR_UNAVAILABLE,
				   "no %s: %s (%s): no TEE driver (OP-TEE absent, or the optee "
				   "kernel module not loaded)",
				   dev, strerror(-d.fd), errno_name(-d.fd));
	if (d.fd == -EACCES || d.fd == -EPERM)
		return ebcc__error(EBCC_ERR_PERMISSION, "open %s: %s (%s): the TEE client device "
				   "needs root or the group that owns it",
				   dev, strerror(-d.fd), errno_name(-d.fd));
	if (d.fd < 0)
		return ebcc__error(EBCC_ERR_IO, "open %s: %s (%s)", dev, strerror(-d.fd),
				   errno_name(-d.fd));
	r = host->ioctl(d.fd, TEE_IOC_VERSION, &d.version, host->userdata);
	if (r < 0) {
		r = ioctl_failed(&d, "TEE_IOC_VERSION", -r);
		ebcc__teedev_close(&d);
		return r;
	}
	if (d.version.impl_id != TEE_IMPL_ID_OPTEE) {
		r = ebcc__error(EBCC_ERR_UNAVAILABLE, "%s is not OP-TEE: TEE_IOC_VERSION says "
				"implementation %u%s (OP-TEE is %d)",
				dev, d.version.impl_id,
				d.version.impl_id == TEE_IMPL_ID_AMDTEE ? " (AMD-TEE)" : "",
				TEE_IMPL_ID_OPTEE);
		ebcc__teedev_close(&d);
		return r;
	}
	if (!(d.version.gen_caps & TEE_GEN_CAP_GP)) {
		r = ebcc__error(EBCC_ERR_UNAVAILABLE, "%s is not a GlobalPlatform TEE client device "
				"(TEE_GEN_CAP_GP is not set: is it the supplicant's teepriv?)",
				dev);
		ebcc__teedev_close(&d);
		return r;
	}
	*ret = d;
	return 0;
}

void ebcc__teedev_close(struct ebcc__teedev *d)
{
	if (d->host != NULL)
		ebcc__host_close(d->host, &d->fd);
	d->fd = -1;
}

int ebcc__teedev_shm_alloc(struct ebcc__teedev *d, size_t size, struct ebcc__teeshm *ret)
{
	struct tee_ioctl_shm_alloc_data data = { .size = size > 0 ? size : 1 };
	struct ebcc__teeshm shm = { .fd = -1 };
	int fd, r;

	fd = d->host->ioctl(d->fd, TEE_IOC_SHM_ALLOC, &data, d->host->userdata);
	if (fd < 0)
		return ioctl_failed(d, "TEE_IOC_SHM_ALLOC", -fd);
	shm.fd = fd;
	shm.id = data.id;
	shm.size = (size_t)data.size;
	if (shm.size < (size > 0 ? size : 1)) {
		ebcc__host_close(d->host, &shm.fd);
		return ebcc__error(EBCC_ERR_BACKEND, "TEE_IOC_SHM_ALLOC gave %zu bytes for %zu",
				   shm.size, size);
	}
	r = d->host->mmap(shm.size, PROT_READ | PROT_WRITE, MAP_SHARED, shm.fd, 0, &shm.addr,
			  d->host->userdata);
	if (r < 0) {
		ebcc__host_close(d->host, &shm.fd);
		return ebcc__error(r == -ENOMEM ? EBCC_ERR_NO_MEMORY : EBCC_ERR_IO,
				   "mmap of %zu bytes of TEE shared memory: %s (%s)", shm.size,
				   strerror(-r), errno_name(-r));
	}
	*ret = shm;
	return 0;
}

void ebcc__teedev_shm_free(struct ebcc__teedev *d, struct ebcc__teeshm *shm)
{
	if (shm->addr != NULL)
		d->host->munmap(shm->addr, shm->size, d->host->userdata);
	ebcc__host_close(d->host, &shm->fd);
	*shm = (struct ebcc__teeshm){ .fd = -1 };
}

struct tee_ioctl_param ebcc__tee_memref(uint64_t attr, const struct ebcc__teeshm *shm,
					size_t size)
{
	return (struct tee_ioctl_param){ .attr = attr, .a = 0, .b = size, .c = (uint64_t)shm->id };
}

/* The argument of TEE_IOC_OPEN_SESSION / TEE_IOC_INVOKE: a header and its parameters. */
union arg_buffer {
	uint64_t align;
	uint8_t bytes[sizeof(struct tee_ioctl_open_session_arg) +
		      EBCC_TEE_PARAMS * sizeof(struct tee_ioctl_param)];
};

_Static_assert(sizeof(struct tee_ioctl_invoke_arg) <= sizeof(struct tee_ioctl_open_session_arg),
	       "one buffer holds either argument");

int ebcc__teedev_open_session(struct ebcc__teedev *d, const uint8_t uuid[16],
			      uint32_t *ret_session, struct ebcc__tee_result *ret)
{
	union arg_buffer buf;
	struct tee_ioctl_open_session_arg *arg = (void *)buf.bytes;
	struct tee_ioctl_buf_data data = {
		.buf_ptr = (uintptr_t)buf.bytes,
		.buf_len = sizeof(*arg),
	};
	int r;

	memset(&buf, 0, sizeof(buf));
	memcpy(arg->uuid, uuid, TEE_IOCTL_UUID_LEN);
	arg->clnt_login = TEE_IOCTL_LOGIN_PUBLIC;
	arg->num_params = 0;
	r = d->host->ioctl(d->fd, TEE_IOC_OPEN_SESSION, &data, d->host->userdata);
	if (r < 0)
		return ioctl_failed(d, "TEE_IOC_OPEN_SESSION", -r);
	ret->ret = arg->ret;
	ret->origin = arg->ret_origin;
	*ret_session = arg->session;
	return 0;
}

int ebcc__teedev_close_session(struct ebcc__teedev *d, uint32_t session)
{
	struct tee_ioctl_close_session_arg arg = { .session = session };
	int r = d->host->ioctl(d->fd, TEE_IOC_CLOSE_SESSION, &arg, d->host->userdata);

	return r < 0 ? ioctl_failed(d, "TEE_IOC_CLOSE_SESSION", -r) : 0;
}

int ebcc__teedev_invoke(struct ebcc__teedev *d, uint32_t session, uint32_t func,
			struct tee_ioctl_param *params, size_t n, struct ebcc__tee_result *ret)
{
	union arg_buffer buf;
	struct tee_ioctl_invoke_arg *arg = (void *)buf.bytes;
	struct tee_ioctl_param *p = (void *)(buf.bytes + sizeof(*arg));
	struct tee_ioctl_buf_data data = {
		.buf_ptr = (uintptr_t)buf.bytes,
		.buf_len = sizeof(*arg) + n * sizeof(*p),
	};
	int r;

	if (n > EBCC_TEE_PARAMS)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "%zu TEE parameters, at most %d", n,
				   EBCC_TEE_PARAMS);
	memset(&buf, 0, sizeof(buf));
	arg->func = func;
	arg->session = session;
	arg->num_params = (uint32_t)n;
	memcpy(p, params, n * sizeof(*p));
	r = d->host->ioctl(d->fd, TEE_IOC_INVOKE, &data, d->host->userdata);
	if (r < 0)
		return ioctl_failed(d, "TEE_IOC_INVOKE", -r);
	memcpy(params, p, n * sizeof(*p));
	ret->ret = arg->ret;
	ret->origin = arg->ret_origin;
	return 0;
}
