/* SPDX-License-Identifier: MIT */
/* The error table's lookups and the last-error message (its slot is lib/base/error.c). */
#include "ebcc-private.h"

EBCC_EXPORT const char *ebcc_strerror(int err)
{
	switch (err) {
	case EBCC_OK:
		return "success";
#define EBCC__ERROR_MESSAGE(name, value, message) \
	case value:                                \
		return message;
		EBCC_ERROR_TABLE(EBCC__ERROR_MESSAGE)
#undef EBCC__ERROR_MESSAGE
	default:
		return "unknown error";
	}
}

EBCC_EXPORT const char *ebcc_error_name(int err)
{
	switch (err) {
	case EBCC_OK:
		return "EBCC_OK";
#define EBCC__ERROR_NAME(name, value, message) \
	case value:                             \
		return #name;
		EBCC_ERROR_TABLE(EBCC__ERROR_NAME)
#undef EBCC__ERROR_NAME
	default:
		return "EBCC_ERR_UNKNOWN";
	}
}

EBCC_EXPORT const char *ebcc_last_error_message(void)
{
	return ebcc__error_message();
}
