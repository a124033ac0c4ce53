/* SPDX-License-Identifier: MIT */
/* The enclave id allocator: a decimal counter file, read and advanced under an exclusive lock. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ebcc-base.h"
#include "eid.h"

static int lock_exclusive(int dir_fd, int *ret_fd)
{
	int fd = openat(dir_fd, EBCC_EID_LOCK_FILE,
			O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);

	if (fd < 0)
		return ebcc__error_errno(ebcc__error_from_errno(errno), errno,
					 "open the enclave id lock %s", EBCC_EID_LOCK_FILE);
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;

			close(fd);
			return ebcc__error_errno(EBCC_ERR_IO, e, "lock %s", EBCC_EID_LOCK_FILE);
		}
	}
	*ret_fd = fd;
	return 0;
}

/* The counter is rewritten in place: it only grows, so its new decimal text covers the old
 * one, and a write of a few bytes at offset 0 needs no temporary file (whose creation costs
 * more than the rest of an allocation on a disk filesystem). */
int ebcc__eid_next(int data_dir_fd, bool durable, uint64_t *ret_eid)
{
	_cleanup_close_ int lock = -1, fd = -1;
	char text[32], next[32];
	uint64_t last = 0;
	struct stat st;
	ssize_t n;
	int r, len;

	r = lock_exclusive(data_dir_fd, &lock);
	if (r < 0)
		return r;
	fd = openat(data_dir_fd, EBCC_EID_COUNTER_FILE,
		    O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK, 0600);
	if (fd < 0)
		return ebcc__error_errno(ebcc__error_from_errno(errno), errno,
					 "open the enclave id counter %s", EBCC_EID_COUNTER_FILE);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return ebcc__error(EBCC_ERR_CORRUPT,
				   "the enclave id counter %s is not a regular file",
				   EBCC_EID_COUNTER_FILE);
	n = pread(fd, text, sizeof(text) - 1, 0);
	if (n < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "read the enclave id counter %s",
					 EBCC_EID_COUNTER_FILE);
	text[n] = '\0';
	if (n > 0 && text[n - 1] == '\n')
		text[--n] = '\0';
	if (st.st_size > 0 &&
	    ((size_t)st.st_size >= sizeof(text) || ebcc__parse_u64(text, 0, UINT64_MAX - 1, &last) < 0))
		return ebcc__error(EBCC_ERR_CORRUPT,
				   "enclave id counter %s holds \"%.31s\", not a number",
				   EBCC_EID_COUNTER_FILE, text);
	if (last >= (UINT64_C(1) << 53))
		return ebcc__error(EBCC_ERR_TOO_BIG, "enclave ids are exhausted (%" PRIu64 ")",
				   last);
	len = snprintf(next, sizeof(next), "%" PRIu64 "\n", last + 1);
	errno = EIO; /* what a short write reports */
	if (pwrite(fd, next, (size_t)len, 0) != len || (durable && fdatasync(fd) < 0) ||
	    (durable && st.st_size == 0 && fsync(data_dir_fd) < 0))
		return ebcc__error_errno(ebcc__error_from_errno(errno), errno,
					 "write the enclave id counter %s", EBCC_EID_COUNTER_FILE);
	*ret_eid = last + 1;
	return 0;
}
