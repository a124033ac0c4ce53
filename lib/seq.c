/* SPDX-License-Identifier: MIT */
/*
 * Per-stage sequence numbers: a counter file in the stage's directory, advanced under its own
 * flock by whichever process invokes, so numbers are gap-free and never repeat across
 * processes. The counter is written in place, always the same 21 bytes, so that a crash
 * leaves either the old or the new value.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>

#include "ebcc-private.h"

#define SEQ_NAME "seq"
#define SEQ_WIDTH 20 /* digits of UINT64_MAX */

static int read_counter(int fd, uint64_t *ret)
{
	char buf[SEQ_WIDTH + 2];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n < 0)
		return errno == ESPIPE ? -EBADMSG : -errno; /* a FIFO put in its place */
	if (n == 0) {
		*ret = 0; /* a fresh counter */
		return 0;
	}
	if (n != SEQ_WIDTH + 1 || buf[SEQ_WIDTH] != '\n')
		return -EBADMSG;
	buf[SEQ_WIDTH] = '\0';
	return ebcc__parse_u64(buf, 0, INT64_MAX - 1, ret) < 0 ? -EBADMSG : 0;
}

int ebcc__seq_open(int stage_dir_fd, int *ret_fd)
{
	int fd = openat(stage_dir_fd, SEQ_NAME, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0)
		return ebcc__error_errno(ebcc__error_from_errno(errno), errno,
					 "open the sequence counter " SEQ_NAME);
	*ret_fd = fd;
	return 0;
}

int ebcc__seq_next(int seq_fd, bool durable, uint64_t *ret)
{
	char buf[SEQ_WIDTH + 2];
	uint64_t seq;
	int r;

	while (flock(seq_fd, LOCK_EX) < 0)
		if (errno != EINTR)
			return ebcc__error_errno(EBCC_ERR_IO, errno,
						 "lock the sequence counter " SEQ_NAME);
	r = read_counter(seq_fd, &seq);
	if (r == 0) {
		seq++;
		snprintf(buf, sizeof(buf), "%0*" PRIu64 "\n", SEQ_WIDTH, seq);
		if (pwrite(seq_fd, buf, SEQ_WIDTH + 1, 0) != SEQ_WIDTH + 1 ||
		    (durable && fdatasync(seq_fd) < 0))
			r = errno != 0 ? -errno : -EIO;
	}
	flock(seq_fd, LOCK_UN);
	if (r == -EBADMSG)
		return ebcc__error(EBCC_ERR_CORRUPT, "the sequence counter " SEQ_NAME " is corrupt");
	if (r < 0)
		return ebcc__error_errno(ebcc__error_from_errno(-r), -r,
					 "advance the sequence counter " SEQ_NAME);
	*ret = seq;
	return 0;
}

int ebcc__seq_last(int stage_dir_fd, uint64_t *ret)
{
	int fd = openat(stage_dir_fd, SEQ_NAME, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int r;

	if (fd < 0) {
		if (errno == ENOENT) {
			*ret = 0;
			return 0;
		}
		return ebcc__error_errno(ebcc__error_from_errno(errno), errno,
					 "open the sequence counter " SEQ_NAME);
	}
	while (flock(fd, LOCK_SH) < 0 && errno == EINTR)
		;
	r = read_counter(fd, ret);
	close(fd);
	return r < 0 ? ebcc__error(EBCC_ERR_CORRUPT, "the sequence counter " SEQ_NAME " is corrupt")
		     : 0;
}
