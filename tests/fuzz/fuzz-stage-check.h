/* SPDX-License-Identifier: MIT */
/*
 * The property check of the stage-side harnesses, which link the stage library's sources
 * (libc and BearSSL) and not libebcc, so fuzz-common.h is not theirs.
 */
#ifndef EBCC_FUZZ_STAGE_CHECK_H
#define EBCC_FUZZ_STAGE_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define CHECK(cond, ...)                                                       \
	do {                                                                   \
		if (!(cond)) {                                                 \
			fprintf(stderr, "%s:%d: property violated: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                          \
			fputc('\n', stderr);                                   \
			abort();                                               \
		}                                                              \
	} while (0)

#endif
