/* SPDX-License-Identifier: MIT */
/*
 * The thread-local last-error message. Every module sets it; the core's
 * ebcc_last_error_message() reads it. A backend built out of tree against the backend support
 * library has a copy of its own and hands its message over with env->set_error.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ebcc-base.h"

static __thread char last_error[EBCC_ERROR_MESSAGE_MAX];

const char *ebcc__error_message(void)
{
	return last_error;
}

EBCC_PRINTF(1, 0) static void set_message(const char *fmt, va_list ap, int errnum)
{
	char buf[EBCC_ERROR_MESSAGE_MAX];
	char errbuf[256];
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);

	if (n < 0)
		n = 0;
	if (errnum != 0 && (size_t)n < sizeof(buf))
		snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s",
			 strerror_r(errnum, errbuf, sizeof(errbuf)));
	memcpy(last_error, buf, sizeof(buf));
}

int ebcc__error(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_message(fmt, ap, 0);
	va_end(ap);
	return code;
}

int ebcc__error_errno(int code, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_message(fmt, ap, errnum);
	va_end(ap);
	return code;
}

int ebcc__error_prefix(int code, const char *fmt, ...)
{
	char message[EBCC_ERROR_MESSAGE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	/* The prefix, then as much of the current message as fits (truncated, always terminated). */
	if (n >= 0 && (size_t)n < sizeof(message)) {
		size_t used = (size_t)n;
		const char *parts[] = {": ", last_error};

		for (size_t i = 0; i < EBCC_ARRAY_SIZE(parts); i++) {
			size_t len = strnlen(parts[i], sizeof(message) - 1 - used);

			memcpy(message + used, parts[i], len);
			used += len;
		}
		message[used] = '\0';
	}
	memcpy(last_error, message, sizeof(message));
	return code;
}

int ebcc__error_from_errno(int errnum)
{
	switch (errnum) {
	case ENOMEM:
		return EBCC_ERR_NO_MEMORY;
	case ENOENT:
	case ESRCH:
		return EBCC_ERR_NOT_FOUND;
	case EEXIST:
	case ENOTEMPTY:
		return EBCC_ERR_EXISTS;
	case EACCES:
	case EPERM:
	case EROFS:
		return EBCC_ERR_PERMISSION;
	case EBUSY:
	case EAGAIN:
		return EBCC_ERR_BUSY;
	case ETIMEDOUT:
		return EBCC_ERR_TIMEOUT;
	case EFBIG:
	case E2BIG:
	case ENAMETOOLONG:
		return EBCC_ERR_TOO_BIG;
	case EINVAL:
		return EBCC_ERR_INVALID_ARG;
	default:
		return EBCC_ERR_IO;
	}
}

void ebcc__error_save(char saved[EBCC_ERROR_MESSAGE_MAX])
{
	memcpy(saved, last_error, EBCC_ERROR_MESSAGE_MAX);
}

void ebcc__error_restore(const char saved[EBCC_ERROR_MESSAGE_MAX])
{
	memcpy(last_error, saved, EBCC_ERROR_MESSAGE_MAX);
}
