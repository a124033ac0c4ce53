/* SPDX-License-Identifier: MIT */
/* Time as the library records it: monotonic nanoseconds for timings, RFC 3339 for humans. */
#include <stdio.h>
#include <time.h>

#include "ebcc-base.h"

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

static bool digits(const char *s, size_t n, int *ret)
{
	int v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return true;
}

/* Days from 1970-01-01 to year-month-day (proleptic Gregorian), without timegm()'s TZ state. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int ebcc__rfc3339_parse(const char *t, size_t len, int64_t *ret)
{
	static const int mdays[12] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int year, mon, day, hour, min, sec, oh = 0, om = 0;
	size_t i = 19;
	int64_t v;

	if (len < 20 || t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != 't') ||
	    t[13] != ':' || t[16] != ':' || !digits(t, 4, &year) || !digits(t + 5, 2, &mon) ||
	    !digits(t + 8, 2, &day) || !digits(t + 11, 2, &hour) || !digits(t + 14, 2, &min) ||
	    !digits(t + 17, 2, &sec))
		return -1;
	if (mon < 1 || mon > 12 || day < 1 || day > mdays[mon - 1] ||
	    (mon == 2 && day == 29 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))) ||
	    hour > 23 || min > 59 || sec > 60)
		return -1;
	if (t[i] == '.') {
		size_t start = ++i;

		while (i < len && t[i] >= '0' && t[i] <= '9')
			i++;
		if (i == start)
			return -1;
	}
	if (i + 1 == len && (t[i] == 'Z' || t[i] == 'z')) {
		/* UTC */
	} else if (i + 6 == len && (t[i] == '+' || t[i] == '-') && t[i + 3] == ':' &&
		   digits(t + i + 1, 2, &oh) && digits(t + i + 4, 2, &om) && oh <= 23 && om <= 59) {
		if (t[i] == '-') {
			oh = -oh;
			om = -om;
		}
	} else {
		return -1;
	}
	v = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + (sec > 59 ? 59 : sec);
	*ret = v - (int64_t)oh * 3600 - (int64_t)om * 60;
	return 0;
}
