/* SPDX-License-Identifier: MIT */
/*
 * Two documents in one fuzz input: the bytes before the first NUL and the bytes after it (JSON
 * text never holds a raw NUL); without a NUL, both are the whole input. Each is copied into a
 * buffer of exactly its length, so that AddressSanitizer sees a read one byte too far.
 */
#ifndef EBCC_FUZZ_SPLIT_H
#define EBCC_FUZZ_SPLIT_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct fuzz_split {
	char *first, *second;
	size_t first_len, second_len;
};

static inline char *fuzz_copy(const uint8_t *data, size_t len)
{
	char *p = malloc(len > 0 ? len : 1);

	if (p == NULL)
		abort();
	if (len > 0)
		memcpy(p, data, len);
	return p;
}

static inline struct fuzz_split fuzz_split(const uint8_t *data, size_t size)
{
	const uint8_t *nul = size > 0 ? memchr(data, '\0', size) : NULL;
	struct fuzz_split s;

	if (nul == NULL) {
		s.first_len = s.second_len = size;
		s.first = fuzz_copy(data, size);
		s.second = fuzz_copy(data, size);
	} else {
		s.first_len = (size_t)(nul - data);
		s.second_len = size - s.first_len - 1;
		s.first = fuzz_copy(data, s.first_len);
		s.second = fuzz_copy(nul + 1, s.second_len);
	}
	return s;
}

static inline void fuzz_split_free(struct fuzz_split *s)
{
	free(s->first);
	free(s->second);
}

#endif
