/* SPDX-License-Identifier: MIT */
/* The enclave id allocator: a decimal counter file, read and advanced under an exclusive lock. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>

#include "ebcc-private.h"
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

int ebcc__eid_next(int data_dir_fd, bool durable, uint64_t *ret_eid)
{
	_cleanup_close_ int lock = -1;
	_cleanup_free_ char *text = NULL;
	uint64_t last = 0;
	char next[32];
	size_t len = 0;
	int r;

	r = lock_exclusive(data_dir_fd, &lock);
	if (r < 0)
		return r;
	r = ebcc__file_read_at(data_dir_fd, EBCC_EID_COUNTER_FILE,
			       "enclave id counter " EBCC_EID_COUNTER_FILE, 64, &text, &len);
	if (r == EBCC_ERR_NOT_FOUND) {
		last = 0;
	} else if (r < 0) {
		return r;
	} else {
		if (len > 0 && text[len - 1] == '\n')
			text[--len] = '\0';
		if (ebcc__parse_u64(text, 0, UINT64_MAX - 1, &last) < 0)
			return ebcc__error(EBCC_ERR_CORRUPT,
					   "enclave id counter %s holds \"%.32s\", not a number",
					   EBCC_EID_COUNTER_FILE, text);
	}
	if (last >= (UINT64_C(1) << 53))
		return ebcc__error(EBCC_ERR_TOO_BIG, "enclave ids are exhausted (%" PRIu64 ")",
				   last);
	snprintf(next, sizeof(next), "%" PRIu64 "\n", last + 1);
	r = ebcc__file_write_atomic(data_dir_fd, EBCC_EID_COUNTER_FILE, next, strlen(next), 0600,
				    durable, "enclave id counter " EBCC_EID_COUNTER_FILE);
	if (r < 0)
		return r;
	*ret_eid = last + 1;
	return 0;
}
