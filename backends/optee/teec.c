/* SPDX-License-Identifier: MIT */
/* TEE Client API results: names, origins and their meaning for a stage (see teec.h). */
#include <stdio.h>

#include "ebcc-base.h"
#include "teec.h"

static const struct {
	uint32_t ret;
	const char *name;
} names[] = {
	{ TEEC_SUCCESS, "TEEC_SUCCESS" },
	{ TEEC_ERROR_GENERIC, "TEEC_ERROR_GENERIC" },
	{ TEEC_ERROR_ACCESS_DENIED, "TEEC_ERROR_ACCESS_DENIED" },
	{ TEEC_ERROR_CANCEL, "TEEC_ERROR_CANCEL" },
	{ TEEC_ERROR_ACCESS_CONFLICT, "TEEC_ERROR_ACCESS_CONFLICT" },
	{ TEEC_ERROR_EXCESS_DATA, "TEEC_ERROR_EXCESS_DATA" },
	{ TEEC_ERROR_BAD_FORMAT, "TEEC_ERROR_BAD_FORMAT" },
	{ TEEC_ERROR_BAD_PARAMETERS, "TEEC_ERROR_BAD_PARAMETERS" },
	{ TEEC_ERROR_BAD_STATE, "TEEC_ERROR_BAD_STATE" },
	{ TEEC_ERROR_ITEM_NOT_FOUND, "TEEC_ERROR_ITEM_NOT_FOUND" },
	{ TEEC_ERROR_NOT_IMPLEMENTED, "TEEC_ERROR_NOT_IMPLEMENTED" },
	{ TEEC_ERROR_NOT_SUPPORTED, "TEEC_ERROR_NOT_SUPPORTED" },
	{ TEEC_ERROR_NO_DATA, "TEEC_ERROR_NO_DATA" },
	{ TEEC_ERROR_OUT_OF_MEMORY, "TEEC_ERROR_OUT_OF_MEMORY" },
	{ TEEC_ERROR_BUSY, "TEEC_ERROR_BUSY" },
	{ TEEC_ERROR_COMMUNICATION, "TEEC_ERROR_COMMUNICATION" },
	{ TEEC_ERROR_SECURITY, "TEEC_ERROR_SECURITY" },
	{ TEEC_ERROR_SHORT_BUFFER, "TEEC_ERROR_SHORT_BUFFER" },
	{ TEEC_ERROR_EXTERNAL_CANCEL, "TEEC_ERROR_EXTERNAL_CANCEL" },
	{ TEEC_ERROR_OVERFLOW, "TEEC_ERROR_OVERFLOW" },
	{ TEEC_ERROR_TARGET_DEAD, "TEEC_ERROR_TARGET_DEAD" },
	{ TEEC_ERROR_STORAGE_NO_SPACE, "TEEC_ERROR_STORAGE_NO_SPACE" },
	{ TEEC_ERROR_SIGNATURE_INVALID, "TEEC_ERROR_SIGNATURE_INVALID" },
};

const char *ebcc__teec_name(uint32_t ret)
{
	static __thread char buf[16];

	for (size_t i = 0; i < EBCC_ARRAY_SIZE(names); i++)
		if (names[i].ret == ret)
			return names[i].name;
	snprintf(buf, sizeof(buf), "0x%08x", ret);
	return buf;
}

const char *ebcc__teec_origin(uint32_t origin)
{
	switch (origin) {
	case TEEC_ORIGIN_API:
		return "the client API";
	case TEEC_ORIGIN_COMMS:
		return "the communication stack";
	case TEEC_ORIGIN_TEE:
		return "the TEE";
	case TEEC_ORIGIN_TRUSTED_APP:
		return "the trusted application";
	default:
		return "an unknown origin";
	}
}

int ebcc__teec_error(uint32_t ret, uint32_t origin, const char *what)
{
	const char *name = ebcc__teec_name(ret), *from = ebcc__teec_origin(origin);

	switch (ret) {
	case TEEC_ERROR_TARGET_DEAD:
		return ebcc__error(EBCC_ERR_STAGE, "%s: %s from %s: the trusted application is dead "
				   "(it panicked or was stopped) and its session is over; unload the "
				   "stage and load it again",
				   what, name, from);
	case TEEC_ERROR_BUSY:
		return ebcc__error(EBCC_ERR_BUSY, "%s: %s from %s: the trusted application is busy "
				   "(a single-instance TA serving another session); try again",
				   what, name, from);
	case TEEC_ERROR_ITEM_NOT_FOUND:
		if (origin != TEEC_ORIGIN_TRUSTED_APP)
			return ebcc__error(EBCC_ERR_NOT_FOUND, "%s: %s from %s: no such trusted "
					   "application is installed where OP-TEE looks for it (for "
					   "tee-supplicant: /lib/optee_armtz/<uuid>.ta)",
					   what, name, from);
		break;
	case TEEC_ERROR_ACCESS_DENIED:
		return ebcc__error(EBCC_ERR_PERMISSION, "%s: %s from %s", what, name, from);
	case TEEC_ERROR_COMMUNICATION:
		return ebcc__error(EBCC_ERR_IO, "%s: %s from %s: the TEE could not be reached", what,
				   name, from);
	case TEEC_ERROR_OUT_OF_MEMORY:
		if (origin != TEEC_ORIGIN_TRUSTED_APP)
			return ebcc__error(EBCC_ERR_NO_MEMORY, "%s: %s from %s: the TEE ran out of "
					   "memory", what, name, from);
		break;
	default:
		break;
	}
	if (origin == TEEC_ORIGIN_TRUSTED_APP)
		return ebcc__error(EBCC_ERR_STAGE, "%s: the trusted application failed with %s", what,
				   name);
	return ebcc__error(EBCC_ERR_BACKEND, "%s: %s from %s", what, name, from);
}
