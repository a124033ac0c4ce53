/* SPDX-License-Identifier: MIT */
/*
 * White-box: the system implementation of the host operations under a root directory (a
 * scratch directory standing in for "/"), and the helpers every backend uses: reading with a
 * limit, writing all, closing through the table. Errors come back as -errno.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../backends/common/hostops.h"
#include "tee-fixture.h"

static void under_a_root(void **state)
{
	char *root = tee_scratch("hostops"), display[256], path[512];
	struct ebcc__hostops *h = NULL;
	uint8_t *data = NULL;
	size_t len = 0;
	char buf[16];
	int dir, fd, flags;
	void *map;

	(void)state;
	assert_int_equal(ebcc__hostops_system_new("relative", &h), EBCC_ERR_INVALID_ARG);
	assert_int_equal(ebcc__hostops_system_new(root, &h), 0);
	assert_string_equal(ebcc__host_display(h, "/sys/x", display, sizeof(display)) + strlen(root),
			    "/sys/x");
	/* Paths are absolute as on a real system and land under the root. */
	assert_int_equal(h->mkdir("sys", 0700, h->userdata), -EINVAL);
	assert_int_equal(h->mkdir("/sys", 0700, h->userdata), 0);
	assert_int_equal(h->mkdir("/sys", 0700, h->userdata), -EEXIST);
	snprintf(path, sizeof(path), "%s/sys", root);
	assert_int_equal(access(path, F_OK), 0);
	dir = ebcc__host_open(h, "/sys", O_RDONLY | O_DIRECTORY);
	assert_true(dir >= 0);
	/* Every descriptor is close-on-exec, whatever the caller asked. */
	flags = fcntl(dir, F_GETFD);
	assert_true(flags & FD_CLOEXEC);
	assert_int_equal(h->mkdirat(dir, "report", 0700, h->userdata), 0);
	fd = ebcc__host_openat(h, dir, "attr", O_WRONLY | O_CREAT);
	assert_int_equal(fd, -EINVAL); /* kernel interfaces are opened, never created */
	assert_int_equal(ebcc__host_open(h, "/sys", O_TMPFILE | O_RDWR), -EINVAL);
	snprintf(path, sizeof(path), "%s/sys/attr", root);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	fd = ebcc__host_openat(h, dir, "attr", O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(ebcc__host_write_all(h, fd, "0123456789", 10), 0);
	/* pread from offset 0 leaves the file offset alone; read continues from it. */
	assert_int_equal(ebcc__host_pread_all(h, fd, 64, &data, &len), 0);
	assert_int_equal(len, 10);
	assert_memory_equal(data, "0123456789", 10);
	assert_int_equal(data[10], 0);
	free(data);
	assert_int_equal(ebcc__host_pread_all(h, fd, 9, &data, &len), -EFBIG);
	assert_int_equal(ebcc__host_pread_all(h, fd, 10, &data, &len), 0);
	free(data);
	assert_int_equal(h->read(fd, buf, sizeof(buf), h->userdata), 0); /* at the end */
	assert_int_equal(h->pread(fd, buf, 4, 6, h->userdata), 4);
	assert_memory_equal(buf, "6789", 4);
	assert_int_equal(h->ioctl(fd, _IO(0xa4, 0x7f), NULL, h->userdata), -ENOTTY);
	assert_int_equal(h->mmap(10, PROT_READ, MAP_SHARED, fd, 0, &map, h->userdata), 0);
	assert_memory_equal(map, "0123", 4);
	assert_int_equal(h->munmap(map, 10, h->userdata), 0);
	assert_int_equal(ebcc__host_close(h, &fd), 0);
	assert_int_equal(fd, -1);
	assert_int_equal(ebcc__host_close(h, &fd), 0);
	assert_int_equal(h->close(123456, h->userdata), -EBADF);
	/* rmdir: of an empty directory only. */
	assert_int_equal(h->rmdir("/sys", h->userdata), -ENOTEMPTY);
	assert_int_equal(h->rmdir("/sys/report", h->userdata), 0);
	assert_int_equal(h->rmdir("/sys/report", h->userdata), -ENOENT);
	assert_int_equal(ebcc__host_open(h, "/dev/tee0", O_RDWR), -ENOENT);
	close(dir);
	ebcc__hostops_system_free(h);
	tee_scratch_remove(root);
}

static void the_real_root(void **state)
{
	const struct ebcc__hostops *h = ebcc__hostops_system();
	char display[64];
	uint8_t *data = NULL;
	size_t len = 0;
	int fd;

	(void)state;
	assert_ptr_equal(h, ebcc__hostops_system());
	assert_string_equal(ebcc__host_display(h, "/dev/tee0", display, sizeof(display)),
			    "/dev/tee0");
	fd = ebcc__host_open(h, "/proc/self/status", O_RDONLY);
	assert_true(fd >= 0);
	/* /proc files say they are empty: read until end of file, not by size. */
	assert_int_equal(ebcc__host_read_all(h, fd, 1 << 16, &data, &len), 0);
	assert_true(len > 0);
	assert_non_null(strstr((char *)data, "Name:"));
	free(data);
	ebcc__host_close(h, &fd);
	/* Freeing the static table is a no-op. */
	ebcc__hostops_system_free((struct ebcc__hostops *)h);
	assert_ptr_equal(ebcc__hostops_system(), h);
}

/* Intel's SGX quote library: a table without its operations says -ENOSYS; the system's says
 * -ENOENT where the library is not installed (as on Debian, which does not package it). */
static void sgx_quote_library(void **state)
{
	struct ebcc__hostops none = { .root = "" };
	uint8_t target_info[512], report[432] = { 0 }, *quote = NULL;
	size_t len = 0;
	void *lib;

	(void)state;
	assert_int_equal(ebcc__host_sgx_qe_target_info(&none, target_info), -ENOSYS);
	assert_int_equal(ebcc__host_sgx_qe_quote(&none, report, &quote, &len), -ENOSYS);
	lib = dlopen("libsgx_dcap_ql.so.1", RTLD_NOW | RTLD_LOCAL);
	if (lib != NULL) {
		dlclose(lib);
		skip(); /* installed here: what it answers depends on the platform */
	}
	assert_int_equal(ebcc__host_sgx_qe_target_info(ebcc__hostops_system(), target_info),
			 -ENOENT);
	assert_int_equal(ebcc__host_sgx_qe_quote(ebcc__hostops_system(), report, &quote, &len),
			 -ENOENT);
	assert_null(quote);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(under_a_root),
		cmocka_unit_test(the_real_root),
		cmocka_unit_test(sgx_quote_library),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
