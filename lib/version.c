/* SPDX-License-Identifier: MIT */
/* The library's own version, as opposed to the header's EBCC_VERSION_* macros. */
#include "ebcc-private.h"

EBCC_EXPORT uint32_t ebcc_version(void)
{
	return EBCC_VERSION;
}

EBCC_EXPORT const char *ebcc_version_string(void)
{
	return EBCC_VERSION_STRING;
}
