/* SPDX-License-Identifier: MIT */
/* /dev/keystone_enclave, driven as Keystone's host SDK drives it (driver.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>

#include "ebcc-base.h"
#include "driver.h"

_Static_assert(sizeof(struct ebcc__ks_ioctl_create) == 80, "keystone_ioctl_create_enclave");
_Static_assert(sizeof(struct ebcc__ks_ioctl_run) == 24, "keystone_ioctl_run_enclave");
_Static_assert(EBCC_KS_IOC_CREATE == _IOR(0xa4, 0x00, struct ebcc__ks_ioctl_create), "CREATE");
_Static_assert(EBCC_KS_IOC_DESTROY == _IOW(0xa4, 0x01, struct ebcc__ks_ioctl_create), "DESTROY");
_Static_assert(EBCC_KS_IOC_RUN == _IOR(0xa4, 0x04, struct ebcc__ks_ioctl_run), "RUN");
_Static_assert(EBCC_KS_IOC_RESUME == _IOR(0xa4, 0x05, struct ebcc__ks_ioctl_run), "RESUME");
_Static_assert(EBCC_KS_IOC_FINALIZE == _IOR(0xa4, 0x06, struct ebcc__ks_ioctl_create),
	       "FINALIZE");
_Static_assert(EBCC_KS_IOC_UTM_INIT == _IOR(0xa4, 0x07, struct ebcc__ks_ioctl_create),
	       "UTM_INIT");
_Static_assert(sizeof(struct ebcc__ks_edge_call) == EBCC_KS_EDGE_DATA_OFFSET, "edge_call");

static uint64_t page_up(uint64_t n)
{
	return (n + EBCC_KS_PAGE_SIZE - 1) & ~(uint64_t)(EBCC_KS_PAGE_SIZE - 1);
}

uint64_t ebcc__ks_min_pages(const size_t lens[EBCC_KS_FILES], uint64_t freemem)
{
	/* Enclave.cpp: ROUND_UP(freemem, PAGE_BITS) / PAGE_SIZE + the files' whole pages (its
	 * ceil() of an integer division floors) + 16 for the loader. */
	uint64_t pages = page_up(freemem) / EBCC_KS_PAGE_SIZE + 16;

	for (int i = 0; i < EBCC_KS_FILES; i++)
		pages += lens[i] / EBCC_KS_PAGE_SIZE;
	return pages;
}

static const char *const step_names[] = {
	[0] = "KEYSTONE_IOC_CREATE_ENCLAVE",  [1] = "KEYSTONE_IOC_DESTROY_ENCLAVE",
	[4] = "KEYSTONE_IOC_RUN_ENCLAVE",     [5] = "KEYSTONE_IOC_RESUME_ENCLAVE",
	[6] = "KEYSTONE_IOC_FINALIZE_ENCLAVE", [7] = "KEYSTONE_IOC_UTM_INIT",
};

static int ks_ioctl(struct ebcc__ks_enclave *e, unsigned long cmd, void *arg)
{
	int r = e->host->ioctl(e->fd, cmd, arg, e->host->userdata);
	const char *name = step_names[cmd & 0xff];
	int err = r < 0 ? -r : 0;

	if (r >= 0)
		return 0;
	if (err == ENOSYS)
		return ebcc__error(EBCC_ERR_IO, "%s on %s: %s: the driver does not know the command "
				   "(a driver older than keystone 874b3d8?)", name, EBCC_KS_DEVICE,
				   strerror(err));
	return ebcc__error(err == ENOMEM ? EBCC_ERR_NO_MEMORY : EBCC_ERR_IO,
			   "%s on %s (enclave %" PRIu64 "): %s", name, EBCC_KS_DEVICE, e->eid,
			   strerror(err));
}

/* One file into EPM from byte offset at, page by page, the last page zero-padded. */
static int copy_file(struct ebcc__ks_enclave *e, const uint8_t *data, size_t len, uint64_t at,
		     const char *what)
{
	for (size_t done = 0; done < len; done += EBCC_KS_PAGE_SIZE) {
		size_t n = len - done < EBCC_KS_PAGE_SIZE ? len - done : EBCC_KS_PAGE_SIZE;
		void *page = NULL;
		int r = e->host->mmap(EBCC_KS_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, e->fd,
				      (off_t)(at + done), &page, e->host->userdata);

		if (r < 0)
			return ebcc__error(EBCC_ERR_IO, "mmap of EPM page at offset %" PRIu64 " (%s) "
					   "on %s: %s", at + done, what, EBCC_KS_DEVICE,
					   strerror(-r));
		memcpy(page, data + done, n);
		memset((uint8_t *)page + n, 0, EBCC_KS_PAGE_SIZE - n);
		e->host->munmap(page, EBCC_KS_PAGE_SIZE, e->host->userdata);
	}
	return 0;
}

static void release(struct ebcc__ks_enclave *e)
{
	if (e->utm != NULL)
		e->host->munmap(e->utm, e->utm_size, e->host->userdata);
	e->utm = NULL;
	ebcc__host_close(e->host, &e->fd);
}

int ebcc__ks_enclave_create(const struct ebcc__hostops *host,
			    const uint8_t *const files[EBCC_KS_FILES],
			    const size_t lens[EBCC_KS_FILES], uint64_t freemem, uint64_t utm_size,
			    struct ebcc__ks_enclave *ret)
{
	static const char *const what[] = { "loader", "runtime", "eapp" };
	struct ebcc__ks_enclave e = { .host = host, .fd = -1 };
	struct ebcc__ks_ioctl_create c = { 0 };
	uint64_t at[EBCC_KS_FILES + 1] = { 0 };
	void *utm = NULL;
	int r;

	for (int i = 0; i < EBCC_KS_FILES; i++) {
		if (lens[i] == 0)
			return ebcc__error(EBCC_ERR_INVALID_ARG, "keystone: the %s is empty", what[i]);
		at[i + 1] = at[i] + page_up(lens[i]);
	}
	if (utm_size < EBCC_KS_PAGE_SIZE)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "keystone: a UTM of %" PRIu64 " bytes; the "
				   "SM refuses an enclave without one", utm_size);
	e.fd = ebcc__host_open(host, EBCC_KS_DEVICE, O_RDWR);
	if (e.fd == -ENOENT || e.fd == -ENODEV || e.fd == -ENXIO)
		return ebcc__error(EBCC_ERR_UNAVAILABLE, "no %s: %s", EBCC_KS_DEVICE,
				   strerror(-e.fd));
	if (e.fd < 0)
		return ebcc__error(e.fd == -EACCES ? EBCC_ERR_PERMISSION : EBCC_ERR_IO,
				   "open %s: %s", EBCC_KS_DEVICE, strerror(-e.fd));
	c.min_pages = ebcc__ks_min_pages(lens, freemem);
	r = ks_ioctl(&e, EBCC_KS_IOC_CREATE, &c);
	if (r == 0 && (c.eid == 0 || c.epm_size < at[EBCC_KS_FILES]))
		/* The driver returns eid 0 when its IDR is full, and success anyway. */
		r = c.eid == 0 ? ebcc__error(EBCC_ERR_IO, "KEYSTONE_IOC_CREATE_ENCLAVE on %s gave "
					     "enclave id 0: the driver's id space is full",
					     EBCC_KS_DEVICE)
			       : ebcc__error(EBCC_ERR_NO_MEMORY, "KEYSTONE_IOC_CREATE_ENCLAVE gave "
					     "%" PRIu64 " bytes of EPM for %" PRIu64 " pages; the "
					     "files need %" PRIu64, c.epm_size, c.min_pages,
					     at[EBCC_KS_FILES]);
	if (r < 0)
		goto fail;
	e.eid = c.eid;
	e.epm_paddr = c.epm_paddr;
	e.epm_size = c.epm_size;
	c.utm_size = utm_size;
	r = ks_ioctl(&e, EBCC_KS_IOC_UTM_INIT, &c);
	for (int i = 0; r == 0 && i < EBCC_KS_FILES; i++)
		r = copy_file(&e, files[i], lens[i], at[i], what[i]);
	if (r < 0)
		goto fail;
	c = (struct ebcc__ks_ioctl_create){
		.eid = e.eid,
		.runtime_paddr = e.epm_paddr + at[1],
		.user_paddr = e.epm_paddr + at[2],
		.free_paddr = e.epm_paddr + at[3],
		.free_requested = freemem,
	};
	r = ks_ioctl(&e, EBCC_KS_IOC_FINALIZE, &c);
	if (r < 0) {
		/* The driver freed the enclave but not its id: close, never touch that id again. */
		r = ebcc__error_prefix(EBCC_ERR_STAGE, "the security monitor refused enclave %" PRIu64
				       " at FINALIZE", e.eid);
		e.eid = 0;
		goto fail;
	}
	e.utm_size = page_up(utm_size);
	r = host->mmap(e.utm_size, PROT_READ | PROT_WRITE, MAP_SHARED, e.fd, 0, &utm,
		       host->userdata);
	if (r < 0) {
		r = ebcc__error(EBCC_ERR_IO, "mmap of the UTM (%" PRIu64 " bytes) on %s: %s",
				e.utm_size, EBCC_KS_DEVICE, strerror(-r));
		goto fail;
	}
	e.utm = utm;
	*ret = e;
	return 0;
fail:
	if (e.eid != 0) {
		c = (struct ebcc__ks_ioctl_create){ .eid = e.eid };
		host->ioctl(e.fd, EBCC_KS_IOC_DESTROY, &c, host->userdata);
	}
	release(&e);
	return r;
}

/* The edge call waiting in the UTM, its argument checked against the UTM's data area. */
static int read_edge_call(struct ebcc__ks_enclave *e, struct ebcc__edge_stop *ret)
{
	struct ebcc__ks_edge_call call;
	uint64_t data_end = e->utm_size;

	memcpy(&call, e->utm, sizeof(call));
	if (call.call_arg_offset < EBCC_KS_EDGE_DATA_OFFSET || call.call_arg_offset > data_end ||
	    call.call_arg_size > data_end - call.call_arg_offset)
		return ebcc__error(EBCC_ERR_STAGE, "enclave %" PRIu64 ": edge call %" PRIu64 " has "
				   "its argument at UTM offset %" PRIu64 ", %" PRIu64 " bytes, "
				   "outside the UTM's data (%d to %" PRIu64 ")", e->eid,
				   call.call_id, call.call_arg_offset, call.call_arg_size,
				   EBCC_KS_EDGE_DATA_OFFSET, data_end);
	*ret = (struct ebcc__edge_stop){
		.call_id = call.call_id,
		.arg = e->utm + call.call_arg_offset,
		.arg_len = (size_t)call.call_arg_size,
	};
	return 0;
}

uint8_t *ebcc__ks_edge_answer_buf(const struct ebcc__ks_enclave *e, size_t *ret_cap)
{
	*ret_cap = (size_t)e->utm_size - EBCC_KS_EDGE_DATA_OFFSET;
	return e->utm + EBCC_KS_EDGE_DATA_OFFSET;
}

void ebcc__ks_edge_answer(struct ebcc__ks_enclave *e, size_t len)
{
	struct ebcc__ks_edge_call call;

	memcpy(&call, e->utm, sizeof(call));
	call.call_status = EBCC_EDGE_CALL_STATUS_OK;
	call.call_ret_offset = EBCC_KS_EDGE_DATA_OFFSET;
	call.call_ret_size = len;
	memcpy(e->utm, &call, sizeof(call));
}

int ebcc__ks_enclave_enter(struct ebcc__ks_enclave *e, uint64_t deadline_ms,
			   struct ebcc__edge_stop *ret)
{
	struct ebcc__ks_ioctl_run run = { .eid = e->eid };
	int r = ks_ioctl(e, e->started ? EBCC_KS_IOC_RESUME : EBCC_KS_IOC_RUN, &run);

	e->started = 1;
	while (r == 0) {
		switch (run.error) {
		case EBCC_KS_SM_SUCCESS:
			*ret = (struct ebcc__edge_stop){ .exited = 1, .value = run.value };
			return 0;
		case EBCC_KS_SM_EDGE_CALL_HOST:
			return read_edge_call(e, ret);
		case EBCC_KS_SM_INTERRUPTED:
			break;
		default:
			return ebcc__error(EBCC_ERR_STAGE, "enclave %" PRIu64 " stopped with SM error "
					   "%" PRIu64 "%s", e->eid, run.error,
					   run.error == EBCC_KS_SM_NOT_FRESH ? " (NOT_FRESH: an "
									       "enclave runs once)"
									     : "");
		}
		if (ebcc__edge_now_ms() >= deadline_ms)
			return ebcc__error(EBCC_ERR_TIMEOUT, "enclave %" PRIu64 " still running at its "
					   "deadline", e->eid);
		run = (struct ebcc__ks_ioctl_run){ .eid = e->eid };
		r = ks_ioctl(e, EBCC_KS_IOC_RESUME, &run);
	}
	return r;
}

int ebcc__ks_enclave_run(struct ebcc__ks_enclave *e, ebcc__ks_ocall_fn ocall, void *userdata,
			 uint32_t timeout_ms, uint64_t *ret_value)
{
	uint64_t deadline = ebcc__edge_now_ms() + timeout_ms;

	e->started = 0; /* RUN, as the SDK's run() does: a second run gets NOT_FRESH */
	for (;;) {
		struct ebcc__edge_stop stop;
		size_t cap, ret_len = 0;
		uint8_t *buf;
		int r = ebcc__ks_enclave_enter(e, deadline, &stop);

		if (r == EBCC_ERR_TIMEOUT)
			return ebcc__error(EBCC_ERR_TIMEOUT, "enclave %" PRIu64 " still running after "
					   "%" PRIu32 " ms", e->eid, timeout_ms);
		if (r < 0)
			return r;
		if (stop.exited) {
			*ret_value = stop.value;
			return 0;
		}
		buf = ebcc__ks_edge_answer_buf(e, &cap);
		r = ocall(stop.call_id, stop.arg, stop.arg_len, buf, cap, &ret_len, userdata);
		if (r < 0)
			return r;
		ebcc__ks_edge_answer(e, ret_len);
	}
}

int ebcc__ks_enclave_destroy(struct ebcc__ks_enclave *e)
{
	struct ebcc__ks_ioctl_create c = { .eid = e->eid };
	int r = 0;

	if (e->fd >= 0 && e->eid != 0)
		r = ks_ioctl(e, EBCC_KS_IOC_DESTROY, &c);
	e->eid = 0;
	release(e);
	return r;
}
