/* SPDX-License-Identifier: MIT */
/* The stage asks its TEE's monitor for a report over its report_data (attest.h). */
#include <errno.h>
#include <sys/socket.h>

#include <ebcc/ebcc.h>

#include "attest.h"

/* Whether descriptor EBCC_ATTEST_FD is the monitor's socket: a SOCK_SEQPACKET Unix socket.
 * Without one (tsm, whose host side is inside the TEE), the stage has no primitive. */
static int has_monitor(void)
{
	int type = 0;
	socklen_t len = sizeof(type);

	return getsockopt(EBCC_ATTEST_FD, SOL_SOCKET, SO_TYPE, &type, &len) == 0 &&
	       type == SOCK_SEQPACKET;
}

int ebcc__stage_attest(const uint8_t report_data[EBCC_FRAME_REPORT_DATA_SIZE], uint8_t *report,
		       size_t cap, size_t *ret_len)
{
	ssize_t n;

	if (!has_monitor())
		return 0;
	do
		n = send(EBCC_ATTEST_FD, report_data, EBCC_FRAME_REPORT_DATA_SIZE, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != EBCC_FRAME_REPORT_DATA_SIZE)
		return EBCC_ERR_IO;
	do
		n = recv(EBCC_ATTEST_FD, report, cap, MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return EBCC_ERR_IO;
	if (n == 0)
		return EBCC_ERR_STAGE; /* refused, or the monitor is gone */
	if ((size_t)n > cap)
		return EBCC_ERR_TOO_BIG;
	*ret_len = (size_t)n;
	return 1;
}
