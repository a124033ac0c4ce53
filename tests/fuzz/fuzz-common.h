/* SPDX-License-Identifier: MIT */
/*
 * What every libFuzzer harness shares: a property check that reports and aborts (libFuzzer then
 * saves the input), and the checks on a failure's code and message.
 */
#ifndef EBCC_FUZZ_COMMON_H
#define EBCC_FUZZ_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ebcc-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A property that failed: say which, with the last error message, then abort. */
EBCC_PRINTF(3, 4) __attribute__((noreturn)) static inline void
fuzz_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: property violated: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n  last error message: %s\n", ebcc_last_error_message());
	abort();
}

#define FUZZ_CHECK(cond, ...)                                   \
	do {                                                    \
		if (!(cond))                                    \
			fuzz_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

/* The input being run, for checks that must tell the input's text from the library's. */
static const uint8_t *fuzz_data;
static size_t fuzz_size;

/* Empties this thread's last error message, so that a failure must set its own. */
static inline void fuzz_message_reset(void)
{
	ebcc__error(0, "%s", "");
}

/* At the start of each input. */
static inline void fuzz_begin(const uint8_t *data, size_t size)
{
	fuzz_data = data;
	fuzz_size = size;
	fuzz_message_reset();
}

/*
 * A call that returned r: success (0), or one of the codes its documentation lists, with a
 * message that is set, says something (not "(null)") and, when prefix is not NULL, starts with
 * it (the file or object the failure is about).
 */
static inline void fuzz_check_result(const char *call, int r, const int *allowed, size_t n,
				     const char *prefix)
{
	const char *msg = ebcc_last_error_message();
	bool known = r == 0;

	for (size_t i = 0; i < n && !known; i++)
		known = r == allowed[i];
	FUZZ_CHECK(known, "%s returned %d (%s), which its documentation does not list", call, r,
		   ebcc_error_name(r));
	if (r == 0)
		return;
	FUZZ_CHECK(msg[0] != '\0', "%s failed with %s and no message", call, ebcc_error_name(r));
	/* printf's spelling of a NULL string, unless the input itself says "(null)". */
	FUZZ_CHECK(strstr(msg, "(null)") == NULL ||
			   memmem(fuzz_data, fuzz_size, "(null)", 6) != NULL,
		   "%s: message prints a NULL string: %s", call, msg);
	FUZZ_CHECK(prefix == NULL || strncmp(msg, prefix, strlen(prefix)) == 0,
		   "%s: message does not start with \"%s\": %s", call, prefix, msg);
}

#define FUZZ_RESULT(call, r, prefix, ...)                                                   \
	do {                                                                                \
		static const int fuzz_allowed_[] = { __VA_ARGS__ };                         \
		fuzz_check_result(call, r, fuzz_allowed_, EBCC_ARRAY_SIZE(fuzz_allowed_), prefix); \
	} while (0)

#endif
