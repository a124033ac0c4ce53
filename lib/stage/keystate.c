/* SPDX-License-Identifier: MIT */
/*
 * The stage-held key's state as the request loop drives it (secret.h): no crypto here, so that
 * a stage that never makes a key links none of X25519 and AES-GCM (secret.c).
 */
#include <string.h>

#include "secret.h"

struct ebcc__stage_key ebcc__stage_key;

void ebcc__stage_key_wipe(void)
{
	int in_request = ebcc__stage_key.in_request;

	explicit_bzero(&ebcc__stage_key, sizeof(ebcc__stage_key));
	ebcc__stage_key.state = EBCC_STAGE_KEY_NONE;
	ebcc__stage_key.in_request = in_request;
}

void ebcc__stage_key_begin(void)
{
	ebcc__stage_key.in_request = 1;
}

const uint8_t *ebcc__stage_key_pending(void)
{
	return ebcc__stage_key.state == EBCC_STAGE_KEY_PENDING ? ebcc__stage_key.public_key : NULL;
}

void ebcc__stage_key_end(const uint8_t report_data[EBCC_FRAME_REPORT_DATA_SIZE], int ok)
{
	ebcc__stage_key.in_request = 0;
	if (ebcc__stage_key.state != EBCC_STAGE_KEY_PENDING)
		return;
	if (!ok || report_data == NULL) {
		ebcc__stage_key_wipe();
		return;
	}
	memcpy(ebcc__stage_key.report_data, report_data, EBCC_FRAME_REPORT_DATA_SIZE);
	ebcc__stage_key.state = EBCC_STAGE_KEY_BOUND;
}
