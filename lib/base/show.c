/* SPDX-License-Identifier: MIT */
/* A printable excerpt of untrusted text, for messages. */
#include <string.h>

#include "ebcc-base.h"

void ebcc__evidence_show(const char *s, size_t len, char out[EBCC_EVIDENCE_SHOW_SIZE])
{
	size_t n = len < EBCC_EVIDENCE_SHOW_MAX ? len : EBCC_EVIDENCE_SHOW_MAX, o = 0;

	for (size_t i = 0; i < n; i++)
		out[o++] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (len > n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}
