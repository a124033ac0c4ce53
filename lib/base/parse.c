/* SPDX-License-Identifier: MIT */
/* Strict parsing of numbers given as text (options, manifests, command lines). */
#include <errno.h>
#include <inttypes.h>

#include "ebcc-base.h"

int ebcc__parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *ret)
{
	uint64_t value = 0;

	if (text == NULL || *text == '\0')
		return -EINVAL;
	for (const char *p = text; *p != '\0'; p++) {
		unsigned digit;

		if (*p < '0' || *p > '9')
			return -EINVAL;
		digit = (unsigned)(*p - '0');
		if (value > (UINT64_MAX - digit) / 10)
			return -ERANGE;
		value = value * 10 + digit;
	}
	if (value < min || value > max)
		return -ERANGE;
	*ret = value;
	return 0;
}
