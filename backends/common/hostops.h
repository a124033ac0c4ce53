/* SPDX-License-Identifier: MIT */
/*
 * Host operations: the system calls a backend makes on a kernel TEE interface (configfs-tsm,
 * /dev/tee0), and its calls into a vendor's library on the host (Intel's SGX quote library),
 * behind a table so that tests put a fake that behaves like the kernel driver or the library
 * in their place. Backends that drive hardware make every such call through this table.
 *
 * Conventions of every operation: paths are absolute, as on a real system ("/dev/tee0"); the
 * result is what the system call returns on success and -errno on failure (errno itself is
 * not the interface); interrupted calls are retried by the implementation. Descriptors handed
 * out belong to the table that opened them and are closed through it.
 *
 * The system implementation resolves every path under a root directory ("/" in production):
 * "<root>/dev/tee0". The root is what messages show, so that an operator sees which file was
 * missing. Libraries are found by the dynamic loader's search path, not under the root.
 */
#ifndef EBCC_BACKEND_HOSTOPS_H
#define EBCC_BACKEND_HOSTOPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ebcc__hostops {
	/* The root directory paths are resolved under, as messages show it ("" for "/"). */
	const char *root;
	int (*open)(const char *path, int flags, mode_t mode, void *userdata);
	int (*openat)(int dir_fd, const char *name, int flags, mode_t mode, void *userdata);
	int (*close)(int fd, void *userdata);
	ssize_t (*read)(int fd, void *buf, size_t len, void *userdata);
	ssize_t (*pread)(int fd, void *buf, size_t len, off_t offset, void *userdata);
	ssize_t (*write)(int fd, const void *buf, size_t len, void *userdata);
	/* The ioctl's non-negative result (TEE_IOC_SHM_ALLOC returns a descriptor). */
	int (*ioctl)(int fd, unsigned long request, void *arg, void *userdata);
	int (*mkdir)(const char *path, mode_t mode, void *userdata);
	int (*mkdirat)(int dir_fd, const char *name, mode_t mode, void *userdata);
	int (*rmdir)(const char *path, void *userdata);
	/* mmap(NULL, len, prot, flags, fd, offset) into *ret_addr. */
	int (*mmap)(size_t len, int prot, int flags, int fd, off_t offset, void **ret_addr,
		    void *userdata);
	int (*munmap)(void *addr, size_t len, void *userdata);
	void *userdata;
	/* mmap(addr, len, prot, flags, fd, offset) into *ret_addr: an address reserved (fd -1,
	 * MAP_ANONYMOUS) or mapped over (MAP_FIXED), as an SGX enclave's pages are. NULL in a
	 * table that cannot (the call then fails with -ENOSYS). */
	int (*mmap_at)(void *addr, size_t len, int prot, int flags, int fd, off_t offset,
		       void **ret_addr, void *userdata);
	/* The vDSO's __vdso_sgx_enter_enclave(rdi, rsi, rdx, function, r8, r9, run) (run: a
	 * struct sgx_enclave_run): its result, -ENOSYS where the vDSO has no such function (no
	 * SGX in the kernel) or the table has none. */
	int (*sgx_enter)(unsigned long rdi, unsigned long rsi, unsigned long rdx,
			 unsigned int function, unsigned long r8, unsigned long r9, void *run,
			 void *userdata);
	/* Intel's quote library (libsgx_dcap_ql.so.1): sgx_qe_get_target_info() into
	 * target_info (512 bytes). 0, a quote3_error_t of the library (> 0), or -errno: -ENOENT
	 * when the library or one of its functions is not there, -ENOSYS when the table has
	 * none. */
	int (*sgx_qe_target_info)(uint8_t target_info[512], void *userdata);
	/* sgx_qe_get_quote_size() and sgx_qe_get_quote() of report (432 bytes): the quote,
	 * malloc'ed, in *ret_quote and *ret_len. Results as above, and -EFBIG for a quote size
	 * above EBCC_HOST_SGX_QUOTE_MAX, -EIO for a size of 0, -ENOMEM. */
	int (*sgx_qe_quote)(const uint8_t report[432], uint8_t **ret_quote, size_t *ret_len,
			    void *userdata);
};

/* The largest quote the system table takes from Intel's library (a DCAP quote v3 with its PCK
 * chain is under 5 KiB). */
#define EBCC_HOST_SGX_QUOTE_MAX (64 * 1024)

/* The real system under "/". Static storage; never freed. */
const struct ebcc__hostops *ebcc__hostops_system(void);

/* The real system under root (an absolute directory path, copied). Release it with
 * ebcc__hostops_system_free(). Errors: EBCC_ERR_INVALID_ARG (root not absolute, or longer
 * than PATH_MAX), EBCC_ERR_NO_MEMORY. */
int ebcc__hostops_system_new(const char *root, struct ebcc__hostops **ret);
void ebcc__hostops_system_free(struct ebcc__hostops *host);

/* "<root><path>" into buf, for messages (cut when it does not fit). Returns buf. */
const char *ebcc__host_display(const struct ebcc__hostops *host, const char *path, char *buf,
			       size_t size);

/* A descriptor of a host table, closed through it by _cleanup_hostfd_. */
struct ebcc__hostfd {
	const struct ebcc__hostops *host;
	int fd;
};

void ebcc__hostfd_closep(struct ebcc__hostfd *f);
#define _cleanup_hostfd_ __attribute__((cleanup(ebcc__hostfd_closep)))
#define EBCC_HOSTFD_INIT(h) { .host = (h), .fd = -1 }

/* The operations above that a table may lack, -ENOSYS when it does. */
int ebcc__host_mmap_at(const struct ebcc__hostops *host, void *addr, size_t len, int prot,
		       int flags, int fd, off_t offset, void **ret_addr);
int ebcc__host_sgx_enter(const struct ebcc__hostops *host, unsigned long rdi, unsigned long rsi,
			 unsigned long rdx, unsigned int function, unsigned long r8,
			 unsigned long r9, void *run);
int ebcc__host_sgx_qe_target_info(const struct ebcc__hostops *host, uint8_t target_info[512]);
int ebcc__host_sgx_qe_quote(const struct ebcc__hostops *host, const uint8_t report[432],
			    uint8_t **ret, size_t *ret_len);

/* A function the vDSO exports ("__vdso_sgx_enter_enclave"), or NULL (backends/common/vdso.c). */
void *ebcc__vdso_symbol(const char *name);

/* Opens with O_CLOEXEC added: the descriptor (>= 0) or -errno; -EINVAL for O_CREAT or
 * O_TMPFILE (kernel interfaces are opened, never created). */
int ebcc__host_open(const struct ebcc__hostops *host, const char *path, int flags);
int ebcc__host_openat(const struct ebcc__hostops *host, int dir_fd, const char *name, int flags);

/* Closes fd (if >= 0) and sets it to -1; the close's result (0 or -errno). */
int ebcc__host_close(const struct ebcc__hostops *host, int *fd);

/*
 * Reads from fd until end of file, at most max bytes, with pread from offset 0 (the file
 * offset is left alone). The result is malloc'ed with a NUL after the data (NULL data is
 * never returned, even for an empty file). 0, -errno of the failed read, or -EFBIG when there
 * is more than max.
 */
int ebcc__host_pread_all(const struct ebcc__hostops *host, int fd, size_t max, uint8_t **ret,
			 size_t *ret_len);

/* As ebcc__host_pread_all() with read(): for attributes that do not support offsets. */
int ebcc__host_read_all(const struct ebcc__hostops *host, int fd, size_t max, uint8_t **ret,
			size_t *ret_len);

/* Writes all of data: 0 or -errno (a write that makes no progress is -EIO). */
int ebcc__host_write_all(const struct ebcc__hostops *host, int fd, const void *data,
			 size_t len);

#endif
