/* SPDX-License-Identifier: MIT */
/* Time as the library records it: monotonic nanoseconds for timings, RFC 3339 for humans. */
#include <string.h>
#include <time.h>

#include "ebcc-base.h"

uint64_t ebcc__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The inverse of days_from_civil() below: year, month and day of a count of days since
 * 1970-01-01 (proleptic Gregorian). */
static void civil_from_days(int64_t z, int64_t *ret_y, unsigned *ret_m, unsigned *ret_d)
{
	int64_t era;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*ret_d = doy - (153 * mp + 2) / 5 + 1;
	*ret_m = mp < 10 ? mp + 3 : mp - 9;
	*ret_y = (int64_t)yoe + era * 400 + (*ret_m <= 2);
}

static char *put_digits(char *at, uint64_t v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		at[i] = (char)('0' + v % 10);
	return at + width;
}

/* Digit by digit rather than through strftime() and snprintf(): this is on every invocation's
 * path, and needs neither a locale nor the time zone. Years past 9999 are not written. */
void ebcc__format_time(const struct timespec *ts, char *buf, size_t size)
{
	char text[EBCC_TIME_TEXT_SIZE], *at = text;
	int64_t days = ts->tv_sec / 86400, secs = ts->tv_sec % 86400, year;
	unsigned month, day;
	size_t n;

	if (size == 0)
		return;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	civil_from_days(days, &year, &month, &day);
	if (year < 0 || year > 9999) {
		buf[0] = '\0';
		return;
	}
	at = put_digits(at, (uint64_t)year, 4);
	*at++ = '-';
	at = put_digits(at, month, 2);
	*at++ = '-';
	at = put_digits(at, day, 2);
	*at++ = 'T';
	at = put_digits(at, (uint64_t)secs / 3600, 2);
	*at++ = ':';
	at = put_digits(at, (uint64_t)secs / 60 % 60, 2);
	*at++ = ':';
	at = put_digits(at, (uint64_t)secs % 60, 2);
	*at++ = '.';
	at = put_digits(at, (uint64_t)ts->tv_nsec % 1000000000u, 9);
	*at++ = 'Z';
	n = size - 1 < (size_t)(at - text) ? size - 1 : (size_t)(at - text);
	memcpy(buf, text, n);
	buf[n] = '\0';
}

void ebcc__format_time_now(char *buf, size_t size)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ebcc__format_time(&ts, buf, size);
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
