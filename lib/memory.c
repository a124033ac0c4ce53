/* SPDX-License-Identifier: MIT */
/* Releasing what the library allocated for the caller, so allocators never mix. */
#include "ebcc-private.h"

EBCC_EXPORT void ebcc_free(void *p)
{
	free(p);
}
