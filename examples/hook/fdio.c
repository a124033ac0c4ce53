/* SPDX-License-Identifier: MIT */
/* Whole reads and writes on descriptors (protocol.h), shared by the broker and ebcc-call. */
#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "protocol.h"

int fd_read_exact(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = read(fd, p + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			if (done == 0)
				return 1;
			errno = EPROTO;
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

static int is_socket(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

int fd_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	int sock = is_socket(fd);

	while (len > 0) {
		ssize_t n = sock ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int fd_copy_exact(int in, int out, uint64_t len, int *ret_read_failed)
{
	char buf[65536];

	while (len > 0) {
		size_t chunk = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		int r = fd_read_exact(in, buf, chunk);

		if (r != 0) {
			if (r == 1)
				errno = EPROTO;
			*ret_read_failed = 1;
			return -1;
		}
		if (fd_write_all(out, buf, chunk) < 0) {
			*ret_read_failed = 0;
			return -1;
		}
		len -= chunk;
	}
	return 0;
}
