/* SPDX-License-Identifier: MIT */
/*
 * Option structs that grow (struct ebcc_invoke_options, struct ebcc_instance_options): each
 * starts with its size as the caller was built, so that a caller of an older version keeps
 * working and one of a newer version is refused only if it set something this library does
 * not know.
 */
#include <inttypes.h>
#include <string.h>

#include "ebcc-private.h"

int ebcc__struct_options_copy(const void *in, size_t known, void *out, const char *function,
			      const char *init)
{
	uint32_t size;

	if (in == NULL)
		return 0; /* out holds the defaults */
	memcpy(&size, in, sizeof(size));
	/* There is no older version: a smaller struct was not set up by the _init() function. */
	if (size < known)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "%s: options of %" PRIu32 " bytes, fewer than the %zu of the first "
				   "version: set them up with %s()",
				   function, size, known, init);
	for (size_t i = known; i < size; i++)
		if (((const uint8_t *)in)[i] != 0)
			return ebcc__error(EBCC_ERR_ABI,
					   "%s: options of %" PRIu32 " bytes, and byte %zu, beyond "
					   "the %zu this library knows, is not zero",
					   function, size, i, known);
	memcpy(out, in, known);
	memcpy(out, &(uint32_t){ (uint32_t)known }, sizeof(uint32_t));
	return 0;
}
