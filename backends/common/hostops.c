/* SPDX-License-Identifier: MIT */
/*
 * The system implementation of the host operations (real system calls under a root
 * directory, Intel's SGX quote library loaded at run time), and helpers that every user of a
 * host table needs: reading a whole attribute with a limit, writing all of a buffer, closing
 * through the table.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "ebcc-base.h"
#include "hostops.h"

struct system_host {
	struct ebcc__hostops ops;
	char root[PATH_MAX]; /* without a trailing slash: "" for "/" */
};

/* root + path into out: 0, or -ENAMETOOLONG / -EINVAL (a relative path). */
static int resolve(const struct system_host *s, const char *path, char out[PATH_MAX])
{
	int n;

	if (path == NULL || path[0] != '/')
		return -EINVAL;
	n = snprintf(out, PATH_MAX, "%s%s", s->root, path);
	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

static int sys_open(const char *path, int flags, mode_t mode, void *userdata)
{
	char full[PATH_MAX];
	int r = resolve(userdata, path, full), fd;

	if (r < 0)
		return r;
	do
		fd = open(full, flags | O_CLOEXEC, mode);
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

static int sys_openat(int dir_fd, const char *name, int flags, mode_t mode, void *userdata)
{
	int fd;

	(void)userdata;
	do
		fd = openat(dir_fd, name, flags | O_CLOEXEC, mode);
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

static int sys_close(int fd, void *userdata)
{
	(void)userdata;
	/* Linux releases the descriptor even when close() fails, EINTR included: no retry. */
	return close(fd) < 0 ? -errno : 0;
}

static ssize_t sys_read(int fd, void *buf, size_t len, void *userdata)
{
	ssize_t n;

	(void)userdata;
	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static ssize_t sys_pread(int fd, void *buf, size_t len, off_t offset, void *userdata)
{
	ssize_t n;

	(void)userdata;
	do
		n = pread(fd, buf, len, offset);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static ssize_t sys_write(int fd, const void *buf, size_t len, void *userdata)
{
	ssize_t n;

	(void)userdata;
	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

static int sys_ioctl(int fd, unsigned long request, void *arg, void *userdata)
{
	int r;

	(void)userdata;
	do
		r = ioctl(fd, request, arg);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

static int sys_mkdir(const char *path, mode_t mode, void *userdata)
{
	char full[PATH_MAX];
	int r = resolve(userdata, path, full);

	if (r < 0)
		return r;
	return mkdir(full, mode) < 0 ? -errno : 0;
}

static int sys_mkdirat(int dir_fd, const char *name, mode_t mode, void *userdata)
{
	(void)userdata;
	return mkdirat(dir_fd, name, mode) < 0 ? -errno : 0;
}

static int sys_rmdir(const char *path, void *userdata)
{
	char full[PATH_MAX];
	int r = resolve(userdata, path, full);

	if (r < 0)
		return r;
	return rmdir(full) < 0 ? -errno : 0;
}

static int sys_mmap(size_t len, int prot, int flags, int fd, off_t offset, void **ret_addr,
		    void *userdata)
{
	void *p;

	(void)userdata;
	p = mmap(NULL, len, prot, flags, fd, offset);
	if (p == MAP_FAILED)
		return -errno;
	*ret_addr = p;
	return 0;
}

static int sys_munmap(void *addr, size_t len, void *userdata)
{
	(void)userdata;
	return munmap(addr, len) < 0 ? -errno : 0;
}

static int sys_mmap_at(void *addr, size_t len, int prot, int flags, int fd, off_t offset,
		       void **ret_addr, void *userdata)
{
	void *p;

	(void)userdata;
	p = mmap(addr, len, prot, flags, fd, offset);
	if (p == MAP_FAILED)
		return -errno;
	*ret_addr = p;
	return 0;
}

typedef int (*enter_fn)(unsigned long rdi, unsigned long rsi, unsigned long rdx,
			unsigned int function, unsigned long r8, unsigned long r9, void *run);

static enter_fn sgx_enter_fn;
static pthread_once_t sgx_enter_once = PTHREAD_ONCE_INIT;

static void sgx_enter_lookup(void)
{
	void *p = ebcc__vdso_symbol("__vdso_sgx_enter_enclave");

	/* A data pointer to a function pointer without a cast ISO C leaves undefined. */
	memcpy(&sgx_enter_fn, &p, sizeof(p));
}

static int sys_sgx_enter(unsigned long rdi, unsigned long rsi, unsigned long rdx,
			 unsigned int function, unsigned long r8, unsigned long r9, void *run,
			 void *userdata)
{
	(void)userdata;
	(void)pthread_once(&sgx_enter_once, sgx_enter_lookup);
	if (sgx_enter_fn == NULL)
		return -ENOSYS;
	return sgx_enter_fn(rdi, rsi, rdx, function, r8, r9, run);
}

/* Intel's DCAP quote library: not in Debian, so loaded at the first call rather than linked,
 * and kept loaded for the life of the process (its quoting enclave stays loaded with it). */
#define DCAP_QL "libsgx_dcap_ql.so.1"

/* quote3_error_t is an enum of small non-negative values: an unsigned int in the C ABI. */
static struct {
	unsigned int (*target_info)(uint8_t *target_info);
	unsigned int (*quote_size)(uint32_t *size);
	unsigned int (*quote)(const uint8_t *report, uint32_t size, uint8_t *quote);
} dcap;
static pthread_once_t dcap_once = PTHREAD_ONCE_INIT;

static void dcap_load(void)
{
	void *lib = dlopen(DCAP_QL, RTLD_NOW | RTLD_LOCAL);
	void *f[3];

	if (lib == NULL)
		return;
	f[0] = dlsym(lib, "sgx_qe_get_target_info");
	f[1] = dlsym(lib, "sgx_qe_get_quote_size");
	f[2] = dlsym(lib, "sgx_qe_get_quote");
	if (f[0] == NULL || f[1] == NULL || f[2] == NULL) {
		dlclose(lib);
		return;
	}
	memcpy(&dcap.target_info, &f[0], sizeof(f[0]));
	memcpy(&dcap.quote_size, &f[1], sizeof(f[1]));
	memcpy(&dcap.quote, &f[2], sizeof(f[2]));
}

static int sys_sgx_qe_target_info(uint8_t target_info[512], void *userdata)
{
	(void)userdata;
	(void)pthread_once(&dcap_once, dcap_load);
	if (dcap.target_info == NULL)
		return -ENOENT;
	return (int)dcap.target_info(target_info);
}

static int sys_sgx_qe_quote(const uint8_t report[432], uint8_t **ret_quote, size_t *ret_len,
			    void *userdata)
{
	uint32_t size = 0;
	unsigned int code;
	uint8_t *q;

	(void)userdata;
	(void)pthread_once(&dcap_once, dcap_load);
	if (dcap.quote == NULL)
		return -ENOENT;
	code = dcap.quote_size(&size);
	if (code != 0)
		return (int)code;
	if (size == 0)
		return -EIO; /* a library that sizes its quotes at nothing is broken */
	if (size > EBCC_HOST_SGX_QUOTE_MAX)
		return -EFBIG;
	q = calloc(1, size);
	if (q == NULL)
		return -ENOMEM;
	code = dcap.quote(report, size, q);
	if (code != 0) {
		free(q);
		return (int)code;
	}
	*ret_quote = q;
	*ret_len = size;
	return 0;
}

static void system_init(struct system_host *s)
{
	s->ops = (struct ebcc__hostops){
		.root = s->root,
		.open = sys_open,
		.openat = sys_openat,
		.close = sys_close,
		.read = sys_read,
		.pread = sys_pread,
		.write = sys_write,
		.ioctl = sys_ioctl,
		.mkdir = sys_mkdir,
		.mkdirat = sys_mkdirat,
		.rmdir = sys_rmdir,
		.mmap = sys_mmap,
		.munmap = sys_munmap,
		.userdata = s,
		.mmap_at = sys_mmap_at,
		.sgx_enter = sys_sgx_enter,
		.sgx_qe_target_info = sys_sgx_qe_target_info,
		.sgx_qe_quote = sys_sgx_qe_quote,
	};
}

static struct system_host system_root;
static pthread_once_t system_once = PTHREAD_ONCE_INIT;

static void system_root_init(void)
{
	system_root.root[0] = '\0';
	system_init(&system_root);
}

const struct ebcc__hostops *ebcc__hostops_system(void)
{
	pthread_once(&system_once, system_root_init);
	return &system_root.ops;
}

int ebcc__hostops_system_new(const char *root, struct ebcc__hostops **ret)
{
	struct system_host *s;
	size_t len;

	if (root == NULL || root[0] != '/')
		return ebcc__error(EBCC_ERR_INVALID_ARG, "host root \"%s\" is not an absolute path",
				   root != NULL ? root : "(null)");
	len = strlen(root);
	while (len > 0 && root[len - 1] == '/')
		len--;
	if (len >= PATH_MAX)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "host root is longer than %d bytes",
				   PATH_MAX - 1);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	memcpy(s->root, root, len);
	s->root[len] = '\0';
	system_init(s);
	*ret = &s->ops;
	return 0;
}

void ebcc__hostops_system_free(struct ebcc__hostops *host)
{
	if (host != NULL && host != &system_root.ops)
		free(host->userdata);
}

const char *ebcc__host_display(const struct ebcc__hostops *host, const char *path, char *buf,
			       size_t size)
{
	snprintf(buf, size, "%s%s", host->root != NULL ? host->root : "", path);
	return buf;
}

void ebcc__hostfd_closep(struct ebcc__hostfd *f)
{
	if (f->fd >= 0)
		f->host->close(f->fd, f->host->userdata);
	f->fd = -1;
}

int ebcc__host_open(const struct ebcc__hostops *host, const char *path, int flags)
{
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		return -EINVAL; /* kernel interfaces are opened, never created */
	return host->open(path, flags | O_CLOEXEC, 0, host->userdata);
}

int ebcc__host_openat(const struct ebcc__hostops *host, int dir_fd, const char *name, int flags)
{
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		return -EINVAL;
	return host->openat(dir_fd, name, flags | O_CLOEXEC, 0, host->userdata);
}

int ebcc__host_close(const struct ebcc__hostops *host, int *fd)
{
	int r = 0;

	if (*fd >= 0)
		r = host->close(*fd, host->userdata);
	*fd = -1;
	return r;
}

static int read_all(const struct ebcc__hostops *host, int fd, size_t max, bool positional,
		    uint8_t **ret, size_t *ret_len)
{
	size_t cap = 4096, len = 0;
	uint8_t *buf = malloc(cap + 1);

	if (buf == NULL)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			/* One byte beyond max tells "exactly max" from "more". */
			size_t ncap = cap > max ? cap : (cap * 2 > max + 1 ? max + 1 : cap * 2);
			uint8_t *nbuf;

			if (len > max) {
				free(buf);
				return -EFBIG;
			}
			nbuf = realloc(buf, ncap + 1);
			if (nbuf == NULL) {
				free(buf);
				return -ENOMEM;
			}
			buf = nbuf;
			cap = ncap;
		}
		n = positional ? host->pread(fd, buf + len, cap - len, (off_t)len, host->userdata)
			       : host->read(fd, buf + len, cap - len, host->userdata);
		if (n < 0) {
			free(buf);
			return (int)n;
		}
		if (n == 0)
			break;
		if ((size_t)n > cap - len) {
			/* A table that claims more than it was asked for is broken. */
			free(buf);
			return -EIO;
		}
		len += (size_t)n;
	}
	if (len > max) {
		free(buf);
		return -EFBIG;
	}
	buf[len] = 0;
	*ret = buf;
	*ret_len = len;
	return 0;
}

int ebcc__host_pread_all(const struct ebcc__hostops *host, int fd, size_t max, uint8_t **ret,
			 size_t *ret_len)
{
	return read_all(host, fd, max, true, ret, ret_len);
}

int ebcc__host_read_all(const struct ebcc__hostops *host, int fd, size_t max, uint8_t **ret,
			size_t *ret_len)
{
	return read_all(host, fd, max, false, ret, ret_len);
}

int ebcc__host_write_all(const struct ebcc__hostops *host, int fd, const void *data,
			 size_t len)
{
	const uint8_t *p = data;

	while (len > 0) {
		ssize_t n = host->write(fd, p, len, host->userdata);

		if (n < 0)
			return (int)n;
		if (n == 0 || (size_t)n > len)
			return -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ebcc__host_mmap_at(const struct ebcc__hostops *host, void *addr, size_t len, int prot,
		       int flags, int fd, off_t offset, void **ret_addr)
{
	if (host->mmap_at == NULL)
		return -ENOSYS;
	return host->mmap_at(addr, len, prot, flags, fd, offset, ret_addr, host->userdata);
}

int ebcc__host_sgx_enter(const struct ebcc__hostops *host, unsigned long rdi, unsigned long rsi,
			 unsigned long rdx, unsigned int function, unsigned long r8,
			 unsigned long r9, void *run)
{
	if (host->sgx_enter == NULL)
		return -ENOSYS;
	return host->sgx_enter(rdi, rsi, rdx, function, r8, r9, run, host->userdata);
}

int ebcc__host_sgx_qe_target_info(const struct ebcc__hostops *host, uint8_t target_info[512])
{
	if (host->sgx_qe_target_info == NULL)
		return -ENOSYS;
	return host->sgx_qe_target_info(target_info, host->userdata);
}

int ebcc__host_sgx_qe_quote(const struct ebcc__hostops *host, const uint8_t report[432],
			    uint8_t **ret, size_t *ret_len)
{
	if (host->sgx_qe_quote == NULL)
		return -ENOSYS;
	return host->sgx_qe_quote(report, ret, ret_len, host->userdata);
}
