/* SPDX-License-Identifier: MIT */
/* The driver sequence of an SGX enclave (driver.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <asm/sgx.h>

#include "bytes.h"
#include "driver.h"
#include "ebcc-base.h"

#define ERR EBCC_ERR_BACKEND
#define ENCLU_EENTER 2
#define ENCLU_EEXIT 4

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int sgx_ioctl(struct ebcc__sgx_enclave *e, unsigned long request, void *arg)
{
	return e->host->ioctl(e->fd, request, arg, e->host->userdata);
}

void ebcc__sgx_enclave_destroy(struct ebcc__sgx_enclave *e)
{
	if (e->host != NULL) {
		/* One munmap of the reservation takes the enclave's mappings inside it too. */
		if (e->reservation != NULL)
			(void)e->host->munmap(e->reservation, e->reservation_len, e->host->userdata);
		(void)ebcc__host_close(e->host, &e->fd);
	}
	*e = (struct ebcc__sgx_enclave){ .fd = -1 };
}

static int open_device(struct ebcc__sgx_enclave *e)
{
	char dev[EBCC_PATH_MAX + 32];

	ebcc__host_display(e->host, EBCC_SGX_DEVICE, dev, sizeof(dev));
	e->fd = ebcc__host_open(e->host, EBCC_SGX_DEVICE, O_RDWR);
	if (e->fd == -ENOENT || e->fd == -ENODEV || e->fd == -ENXIO)
		return ebcc__error(EBCC_ERR_UNAVAILABLE, "no %s: %s: no SGX driver", dev,
				   strerror(-e->fd));
	if (e->fd == -EACCES || e->fd == -EPERM)
		return ebcc__error(EBCC_ERR_PERMISSION, "open %s: %s (the device is usually root's "
				   "or group sgx's)", dev, strerror(-e->fd));
	if (e->fd < 0)
		return ebcc__error(EBCC_ERR_UNAVAILABLE, "open %s: %s", dev, strerror(-e->fd));
	return 0;
}

/* Twice the size of address space, so that a base aligned to the size fits in it. */
static int reserve(struct ebcc__sgx_enclave *e)
{
	void *p = NULL;
	int r;

	if (e->size > SIZE_MAX / 2)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "SGX enclave of 0x%" PRIx64 " bytes is too "
				   "large to reserve", e->size);
	r = ebcc__host_mmap_at(e->host, NULL, 2 * e->size, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0, &p);
	if (r < 0)
		return ebcc__error(r == -ENOMEM ? EBCC_ERR_NO_MEMORY : ERR, "SGX enclave: reserving "
				   "0x%zx bytes of address space: %s", (size_t)(2 * e->size),
				   strerror(-r));
	e->reservation = p;
	e->reservation_len = 2 * e->size;
	e->base = ((uint64_t)(uintptr_t)p + e->size - 1) & ~(e->size - 1);
	e->base_ptr = (uint8_t *)p + (e->base - (uint64_t)(uintptr_t)p);
	return 0;
}

static int create(struct ebcc__sgx_enclave *e, const struct ebcc__sgx_layout *l,
		  const struct ebcc__sgx_secs_params *p)
{
	_Alignas(4096) uint8_t secs[EBCC_SGX_PAGE_SIZE] = { 0 };
	struct sgx_enclave_create arg = { .src = (uint64_t)(uintptr_t)secs };
	int r;

	put64(secs, e->size);
	put64(secs + 8, e->base);
	memcpy(secs + 16, &l->ssa_frame_size, 4);
	memcpy(secs + 20, &p->miscselect, 4);
	put64(secs + 48, p->attributes);
	put64(secs + 56, p->xfrm);
	r = sgx_ioctl(e, SGX_IOC_ENCLAVE_CREATE, &arg);
	if (r == 0)
		return 0;
	if (r == -EIO)
		return ebcc__error(ERR, "SGX_IOC_ENCLAVE_CREATE: %s: ECREATE failed on the SECS "
				   "(size 0x%" PRIx64 ", base 0x%" PRIx64 ", SSA frame size %" PRIu32
				   ", ATTRIBUTES 0x%" PRIx64 ", XFRM 0x%" PRIx64 "): reserved bits, "
				   "an XFRM the CPU does not allow, or an SSA frame too small for it",
				   strerror(-r), e->size, e->base, l->ssa_frame_size, p->attributes,
				   p->xfrm);
	if (r == -ENOMEM)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "SGX_IOC_ENCLAVE_CREATE: %s: no free EPC "
				   "page for the SECS", strerror(-r));
	return ebcc__error(ERR, "SGX_IOC_ENCLAVE_CREATE: %s: the driver refused the SECS (size "
			   "0x%" PRIx64 " at 0x%" PRIx64 ")", strerror(-r), e->size, e->base);
}

static const char *add_reason(int r)
{
	switch (r) {
	case -EINVAL:
		return "source, offset, length or SECINFO refused, or the enclave is not between "
		       "CREATE and INIT";
	case -EBUSY:
		return "a page of the range was added already";
	case -EACCES:
		return "the source page is in a mapping that may not execute";
	case -EIO:
		return "EADD or EEXTEND failed";
	case -ENOMEM:
		return "no free EPC page";
	default:
		return "";
	}
}

static int add_segment(struct ebcc__sgx_enclave *e, const struct ebcc__sgx_segment *s, size_t i)
{
	_Alignas(64) uint8_t secinfo[64] = { 0 };
	uint8_t *copy = NULL;
	uint64_t done = 0;
	int r = 0;

	/* The driver wants a page-aligned source. */
	if (posix_memalign((void **)&copy, EBCC_SGX_PAGE_SIZE, s->length) != 0)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	memcpy(copy, s->data, s->length);
	put64(secinfo, s->secinfo_flags);
	while (done < s->length) {
		struct sgx_enclave_add_pages arg = {
			.src = (uint64_t)(uintptr_t)(copy + done),
			.offset = s->offset + done,
			.length = s->length - done,
			.secinfo = (uint64_t)(uintptr_t)secinfo,
			.flags = s->measure ? SGX_PAGE_MEASURE : 0,
		};

		r = sgx_ioctl(e, SGX_IOC_ENCLAVE_ADD_PAGES, &arg);
		if (r < 0 || arg.count == 0 || arg.count > arg.length) {
			if (r == 0)
				r = -EIO;
			r = ebcc__error(r == -ENOMEM ? EBCC_ERR_NO_MEMORY : ERR,
					"SGX_IOC_ENCLAVE_ADD_PAGES, segment %zu (0x%" PRIx64
					" bytes at 0x%" PRIx64 ", SECINFO 0x%" PRIx64 "): %s after "
					"0x%" PRIx64 " bytes: %s",
					i, s->length, s->offset, s->secinfo_flags, strerror(-r),
					done + (uint64_t)arg.count, add_reason(r));
			break;
		}
		/* Fewer pages than asked (a signal came): go on where the kernel stopped. */
		done += arg.count;
	}
	free(copy);
	return r;
}

/* Why EINIT may have refused, from what libebcc can see: the SECS against the SIGSTRUCT's
 * masks (the signature and ENCLAVEHASH were checked before). */
static void einit_hint(const struct ebcc__sgx_secs_params *p, const uint8_t *ss, char *buf,
		       size_t size)
{
	uint64_t attr = ebcc__le64(ss + EBCC_SGX_SS_ATTRIBUTES);
	uint64_t xfrm = ebcc__le64(ss + EBCC_SGX_SS_ATTRIBUTES + 8);
	uint64_t attr_mask = ebcc__le64(ss + EBCC_SGX_SS_ATTRIBUTES + 16);
	uint64_t xfrm_mask = ebcc__le64(ss + EBCC_SGX_SS_ATTRIBUTES + 24);
	uint32_t misc = ebcc__le32(ss + EBCC_SGX_SS_BODY);
	uint32_t misc_mask = ebcc__le32(ss + EBCC_SGX_SS_BODY + 4);

	if ((p->attributes & attr_mask) != (attr & attr_mask))
		snprintf(buf, size, "the SECS's ATTRIBUTES 0x%" PRIx64 " under the SIGSTRUCT's "
			 "ATTRIBUTEMASK 0x%" PRIx64 " are not its ATTRIBUTES 0x%" PRIx64,
			 p->attributes, attr_mask, attr);
	else if ((p->xfrm & xfrm_mask) != (xfrm & xfrm_mask))
		snprintf(buf, size, "the SECS's XFRM 0x%" PRIx64 " under the SIGSTRUCT's mask "
			 "0x%" PRIx64 " is not its XFRM 0x%" PRIx64, p->xfrm, xfrm_mask, xfrm);
	else if ((p->miscselect & misc_mask) != (misc & misc_mask))
		snprintf(buf, size, "the SECS's MISCSELECT 0x%" PRIx32 " under the SIGSTRUCT's "
			 "MISCMASK 0x%" PRIx32 " is not its MISCSELECT 0x%" PRIx32,
			 p->miscselect, misc_mask, misc);
	else
		snprintf(buf, size, "the SIGSTRUCT's signature and ENCLAVEHASH passed libebcc's "
			 "own check, so the CPU measured other pages or refused for a reason the "
			 "driver does not pass on (EINIT's error code)");
}

static int init(struct ebcc__sgx_enclave *e, const struct ebcc__sgx_secs_params *p,
		const uint8_t *ss)
{
	struct sgx_enclave_init arg = { .sigstruct = (uint64_t)(uintptr_t)ss };
	char hint[256];
	int r = sgx_ioctl(e, SGX_IOC_ENCLAVE_INIT, &arg);

	if (r == 0)
		return 0;
	if (r == -EPERM) {
		einit_hint(p, ss, hint, sizeof(hint));
		return ebcc__error(ERR, "SGX_IOC_ENCLAVE_INIT: %s: EINIT refused the enclave: %s",
				   strerror(-r), hint);
	}
	if (r == -EACCES)
		return ebcc__error(ERR, "SGX_IOC_ENCLAVE_INIT: %s: the SECS asks for an attribute "
				   "the driver does not allow this process (PROVISIONKEY needs "
				   "/dev/sgx_provision)", strerror(-r));
	if (r == -EIO)
		return ebcc__error(ERR, "SGX_IOC_ENCLAVE_INIT: %s: EINIT faulted", strerror(-r));
	return ebcc__error(ERR, "SGX_IOC_ENCLAVE_INIT: %s: the driver refused the SIGSTRUCT "
			   "(vendor, reserved bits) or the enclave is not just created",
			   strerror(-r));
}

static int map_segment(struct ebcc__sgx_enclave *e, const struct ebcc__sgx_segment *s, size_t i)
{
	bool tcs = (s->secinfo_flags & (UINT64_C(0xff) << 8)) == EBCC_SGX_SECINFO_TCS;
	int prot = tcs ? PROT_READ | PROT_WRITE
		       : ((s->secinfo_flags & EBCC_SGX_SECINFO_R) ? PROT_READ : 0) |
				 ((s->secinfo_flags & EBCC_SGX_SECINFO_W) ? PROT_WRITE : 0) |
				 ((s->secinfo_flags & EBCC_SGX_SECINFO_X) ? PROT_EXEC : 0);
	void *want = e->base_ptr + s->offset, *got = NULL;
	int r = ebcc__host_mmap_at(e->host, want, s->length, prot, MAP_SHARED | MAP_FIXED, e->fd,
				   0, &got);

	if (r == 0 && got != want)
		r = -EFAULT;
	if (r < 0)
		return ebcc__error(ERR, "mmap of SGX segment %zu (0x%" PRIx64 " bytes at 0x%" PRIx64
				   "): %s%s", i, s->length, e->base + s->offset, strerror(-r),
				   r == -EACCES ? ": the protection exceeds the pages' SECINFO, or "
						  "/dev is mounted noexec" : "");
	return 0;
}

int ebcc__sgx_enclave_load(const struct ebcc__hostops *host, const struct ebcc__sgx_layout *l,
			   const struct ebcc__sgx_secs_params *secs,
			   const uint8_t sigstruct[EBCC_SGX_SIGSTRUCT_SIZE],
			   const uint8_t *expected_mrsigner, struct ebcc__sgx_enclave *ret)
{
	struct ebcc__sgx_enclave e = { .host = host, .fd = -1, .size = l->size };
	int r = ebcc__sgx_mrenclave(l, e.mrenclave);

	if (r == 0)
		r = ebcc__sgx_sigstruct_check(sigstruct, e.mrenclave, e.mrsigner);
	if (r == 0 && expected_mrsigner != NULL && memcmp(expected_mrsigner, e.mrsigner, 32) != 0) {
		char want[65], got[65];

		ebcc__hex_encode(expected_mrsigner, 32, want);
		ebcc__hex_encode(e.mrsigner, 32, got);
		r = ebcc__error(EBCC_ERR_VERIFY, "SIGSTRUCT: signed by MRSIGNER %s, not by the "
				"enclave signing key configured (MRSIGNER %s)", got, want);
	}
	if (r < 0)
		return r;
	r = open_device(&e);
	if (r == 0)
		r = reserve(&e);
	if (r == 0)
		r = create(&e, l, secs);
	for (size_t i = 0; r == 0 && i < l->n_segments; i++)
		r = add_segment(&e, &l->segments[i], i);
	if (r == 0)
		r = init(&e, secs, sigstruct);
	for (size_t i = 0; r == 0 && i < l->n_segments; i++)
		r = map_segment(&e, &l->segments[i], i);
	if (r < 0) {
		ebcc__sgx_enclave_destroy(&e);
		return r;
	}
	*ret = e;
	return 0;
}

int ebcc__sgx_enclave_enter(struct ebcc__sgx_enclave *e, uint64_t tcs_offset, void *buf,
			    size_t len)
{
	struct sgx_enclave_run run = { .tcs = e->base + tcs_offset };
	int r = ebcc__host_sgx_enter(e->host, (unsigned long)(uintptr_t)buf, len, 0, ENCLU_EENTER,
				     0, 0, &run);

	if (r == 0 && run.function == ENCLU_EEXIT)
		return 0;
	if (r == -ENOSYS)
		return ebcc__error(EBCC_ERR_UNAVAILABLE, "entering the SGX enclave: the vDSO has no "
				   "__vdso_sgx_enter_enclave (a kernel without SGX support)");
	if (r == -EFAULT)
		return ebcc__error(ERR, "the SGX enclave took exception vector %u (error code %u) "
				   "at 0x%llx after ENCLU function %u at TCS 0x%llx",
				   run.exception_vector, run.exception_error_code,
				   (unsigned long long)run.exception_addr, run.function,
				   (unsigned long long)run.tcs);
	if (r == 0)
		return ebcc__error(ERR, "the SGX enclave left with ENCLU function %u, not EEXIT (%d)",
				   run.function, ENCLU_EEXIT);
	return ebcc__error(ERR, "__vdso_sgx_enter_enclave: %s", strerror(r < 0 ? -r : r));
}
