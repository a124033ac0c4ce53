/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: a sealed secret arriving at a stage (ebcc_stage_open_secret() in
 * lib/stage/secret.c, the protected side's TCB, and the codec lib/sealformat.c it shares with
 * ebcc_secret_seal()). The stage holds a bound key; when the input decodes and the low bit of
 * its IV's first byte is set, its public_key and report_data are replaced by the stage's, so
 * that the input reaches the X25519, HKDF and AES-GCM path rather than stopping at the names.
 *
 * Properties: the decoder's verdict is one of its statuses; a blob it accepts has exactly the
 * header the encoder writes for its fields, and its fields fill it; ebcc_stage_open_secret()
 * refuses what the decoder refuses with EBCC_ERR_CORRUPT and anything else with
 * EBCC_ERR_VERIFY (no input here is sealed by the key's sealer) and then still holds its key.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>

#include <ebcc/ebcc.h>
#include <ebcc/stage.h>

#include "fuzz-stage-check.h"
#include "sealformat.h"
#include "stage/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static struct ebcc__stage_key bound;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	for (int i = 0; i < 32; i++)
		bound.secret[i] = (uint8_t)(0x40 + i);
	for (int i = 0; i < EBCC_FRAME_REPORT_DATA_SIZE; i++)
		bound.report_data[i] = (uint8_t)i;
	if (br_ec_c25519_m31.mulgen(bound.public_key, bound.secret, 32, BR_EC_curve25519) != 32)
		abort();
	bound.state = EBCC_STAGE_KEY_BOUND;
	bound.in_request = 1;
	return 0;
}

/* The decoded blob's header, as the encoder writes it, must be the input's. */
static void check_canonical(const uint8_t *data, size_t size, const struct ebcc_seal_blob *b)
{
	static uint8_t header[EBCC_SEAL_HEADER_MAX + 4];
	size_t n = ebcc__seal_encode_header(b, header, sizeof(header));

	CHECK(n == b->ad_len, "the encoder writes %zu header bytes, the input has %zu", n,
	      b->ad_len);
	CHECK(memcmp(header, data, n + 4) == 0, "the input's header is not the encoder's");
	CHECK(n + 4 + b->ciphertext_len + EBCC_SEAL_TAG_SIZE == size,
	      "the fields do not fill the %zu bytes", size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ebcc_seal_blob b;
	uint8_t *copy = malloc(size > 0 ? size : 1);
	void *secret = NULL;
	size_t secret_len = 0;
	int st, r;

	if (copy == NULL)
		abort();
	memcpy(copy, data, size);
	st = ebcc__seal_decode(copy, size, &b);
	CHECK(st <= EBCC_SEAL_OK && st >= EBCC_SEAL_TOO_BIG, "decoder status %d", st);
	CHECK(strcmp(ebcc__seal_status_text(st), "unknown status") != 0, "status %d unnamed", st);
	if (st == EBCC_SEAL_OK) {
		check_canonical(copy, size, &b);
		if (b.iv[0] & 1) {
			memcpy((uint8_t *)b.public_key, bound.public_key, EBCC_SEAL_KEY_SIZE);
			memcpy((uint8_t *)b.report_data, bound.report_data, EBCC_SEAL_RD_SIZE);
		}
	} else if (st == EBCC_SEAL_BAD_FIELD) {
		CHECK(strcmp(ebcc__seal_field_name(b.bad_field), "unknown") != 0,
		      "bad field %d unnamed", b.bad_field);
	}

	ebcc__stage_key = bound;
	r = ebcc_stage_open_secret(copy, size, &secret, &secret_len);
	if (st != EBCC_SEAL_OK) {
		CHECK(r == EBCC_ERR_CORRUPT, "a blob the decoder refuses (%s) gave %d",
		      ebcc__seal_status_text(st), r);
	} else {
		CHECK(r == EBCC_ERR_VERIFY, "a blob no sealer made gave %d", r);
		CHECK(secret == NULL, "a refusal returned a secret");
		CHECK(ebcc__stage_key.state == EBCC_STAGE_KEY_BOUND &&
			      memcmp(ebcc__stage_key.public_key, bound.public_key, 32) == 0,
		      "a refusal lost the key");
	}
	ebcc_stage_secret_free(secret, secret_len);
	ebcc__stage_key_wipe();
	free(copy);
	return 0;
}
