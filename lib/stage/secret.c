/* SPDX-License-Identifier: MIT */
/*
 * The stage-held key (ebcc_stage_key_public()), with BearSSL's X25519 and randomness from
 * getrandom(). The private key never leaves this process's memory and is wiped when a new key
 * replaces it or when its answer was never sent.
 *
 * One key at a time, per stage process: made during request N (pending), bound by N's answer
 * (its evidence carries the public key under report_data).
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <bearssl.h>

#include <ebcc/ebcc.h>
#include <ebcc/stage.h>

#include "secret.h"

static int fill_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ebcc_stage_key_public(unsigned char public_key[32])
{
	const br_ec_impl *ec = &br_ec_c25519_m31;

	if (public_key == NULL)
		return EBCC_ERR_INVALID_ARG;
	if (!ebcc__stage_key.in_request)
		return EBCC_ERR_STATE; /* only an answer can bind it */
	if (ebcc__stage_key.state != EBCC_STAGE_KEY_PENDING) {
		/* A new key replaces the bound one. */
		ebcc__stage_key_wipe();
		if (fill_random(ebcc__stage_key.secret, sizeof(ebcc__stage_key.secret)) < 0)
			return EBCC_ERR_IO;
		if (ec->mulgen(ebcc__stage_key.public_key, ebcc__stage_key.secret,
			       sizeof(ebcc__stage_key.secret), BR_EC_curve25519) != EBCC_FRAME_KEY_SIZE) {
			ebcc__stage_key_wipe();
			return EBCC_ERR_STAGE;
		}
		ebcc__stage_key.state = EBCC_STAGE_KEY_PENDING;
	}
	memcpy(public_key, ebcc__stage_key.public_key, EBCC_FRAME_KEY_SIZE);
	return 0;
}
