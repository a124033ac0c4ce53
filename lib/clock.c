/* SPDX-License-Identifier: MIT */
/* Time as the library records it: monotonic nanoseconds for timings, RFC 3339 for humans. */
#include <stdio.h>
#include <time.h>

#include "ebcc-private.h"

uint64_t ebcc__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void ebcc__format_time_now(char *buf, size_t size)
{
	struct timespec ts;
	struct tm tm;
	char date[24];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	if (strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		date[0] = '\0';
	snprintf(buf, size, "%.19s.%09dZ", date, (int)(ts.tv_nsec % 1000000000));
}
