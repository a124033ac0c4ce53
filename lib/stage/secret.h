/* SPDX-License-Identifier: MIT */
/*
 * The stage-held key (secret.c) as the request loop sees it: a key made during a request is
 * bound by that request's answer (KEY frame, evidence version 3) and only then opens secrets.
 */
#ifndef EBCC_STAGE_SECRET_H
#define EBCC_STAGE_SECRET_H

#include <stdint.h>

#include "../base/frame.h"

/* The one key a stage process holds (keystate.c); the crypto that fills and uses it is in
 * secret.c, linked only into stages that call ebcc_stage_key_public(). */
enum ebcc__stage_key_state { EBCC_STAGE_KEY_NONE, EBCC_STAGE_KEY_PENDING, EBCC_STAGE_KEY_BOUND };

struct ebcc__stage_key {
	enum ebcc__stage_key_state state;
	int in_request;
	uint8_t secret[32]; /* BearSSL's X25519 scalar: 32 random bytes, clamped by it */
	uint8_t public_key[EBCC_FRAME_KEY_SIZE];
	uint8_t report_data[EBCC_FRAME_REPORT_DATA_SIZE]; /* of the answer that bound it */
};

extern struct ebcc__stage_key ebcc__stage_key;

/* Wipes the key: none held. */
void ebcc__stage_key_wipe(void);

/* A request begins: ebcc_stage_key_public() may be called until it ends. */
void ebcc__stage_key_begin(void);

/* The handler returned: the public key made during this request, for its answer to bind, or
 * NULL when it made none. */
const uint8_t *ebcc__stage_key_pending(void);

/* The answer that binds the pending key was computed over report_data: from now on the key
 * opens secrets sealed to that answer. With ok 0 the answer was not sent (the handler failed,
 * or its TEE gave no report): the pending key is wiped. Ends the request. */
void ebcc__stage_key_end(const uint8_t report_data[EBCC_FRAME_REPORT_DATA_SIZE], int ok);

#endif
