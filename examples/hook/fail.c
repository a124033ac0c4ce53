/* SPDX-License-Identifier: MIT */
/*
 * The hook's one error line. A hook that fails makes the runtime abort the container and
 * show the hook's stderr, so each failure is kept as one message and printed once, at the top,
 * as "ebcc-oci-hook: <what>: <detail>". Only the hook's main thread uses it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hook.h"

static char message[4096];
/* While > 0, cleanup after a failure runs: its own failures must not replace the first. */
static int held;

void hook_error_hold(void)
{
	held++;
}

void hook_error_release(void)
{
	held--;
}

__attribute__((format(printf, 1, 0))) static void set(const char *fmt, va_list ap)
{
	vsnprintf(message, sizeof(message), fmt, ap);
}

__attribute__((format(printf, 1, 2))) static void append(const char *fmt, ...)
{
	size_t used = strlen(message);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message + used, sizeof(message) - used, fmt, ap);
	va_end(ap);
}

int hook_error(const char *fmt, ...)
{
	va_list ap;

	if (held > 0)
		return -1;
	va_start(ap, fmt);
	set(fmt, ap);
	va_end(ap);
	return -1;
}

int hook_error_errno(int errnum, const char *fmt, ...)
{
	va_list ap;

	if (held > 0)
		return -1;
	va_start(ap, fmt);
	set(fmt, ap);
	va_end(ap);
	append(": %s", strerror(errnum));
	return -1;
}

int hook_error_lib(int err, const char *fmt, ...)
{
	const char *detail = ebcc_last_error_message();
	va_list ap;

	if (held > 0)
		return -1;
	va_start(ap, fmt);
	set(fmt, ap);
	va_end(ap);
	/* The library's message says what failed on what; the name lets scripts match. */
	append(": %s (%s)", detail[0] != '\0' ? detail : ebcc_strerror(err), ebcc_error_name(err));
	return -1;
}

const char *hook_error_message(void)
{
	return message;
}

int hook_report(void)
{
	/* One line, whatever the messages held. */
	for (char *p = message; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, HOOK_NAME ": %s\n", message[0] != '\0' ? message : "failed");
	return 1;
}
