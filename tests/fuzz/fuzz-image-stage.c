/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: an encrypted image and its load request arriving at a stage (lib/stage/image.c,
 * the protected side's TCB). The first input byte chooses:
 *  - bit 0 clear: the rest is an image, decrypted under the harness's key;
 *  - bit 0 set: the rest is an IV (12 bytes) and a payload, which the harness encrypts under
 *    its key into a genuine image (BearSSL, as the format says), then, with bit 1 set, flips
 *    the bit the input's first bytes choose.
 * Every input is also handed to ebcc_stage_load_image() as a load request, with no key bound.
 *
 * Properties: an image that decrypts is canonical (encrypting its plaintext again under its
 * IV gives it back, byte for byte); a genuine image decrypts to its payload, and with a bit
 * flipped never does (EBCC_ERR_CORRUPT when the flip is in the magic or the length field,
 * else EBCC_ERR_VERIFY); a load request never loads without a bound key, and loads nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>

#include <ebcc/ebcc.h>
#include <ebcc/stage.h>

#include "fuzz-stage-check.h"
#include "imageformat.h"
#include "stage/image.h"
#include "stage/secret.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The stage library keeps this in serve.c, which is not linked here. */
struct ebcc__stage_image ebcc__stage_image;

static const uint8_t key[EBCC_IMAGE_KEY_SIZE] = {
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
	0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
};

/* The image of payload under key and iv: EBCC_IMAGE_HEADER_SIZE + len + tag bytes at out. */
static void encrypt(const uint8_t iv[EBCC_IMAGE_IV_SIZE], const uint8_t *payload, size_t len,
		    uint8_t *out)
{
	br_aes_ct_ctr_keys aes;
	br_gcm_context gcm;

	memcpy(out, EBCC_IMAGE_MAGIC, EBCC_IMAGE_MAGIC_SIZE);
	memcpy(out + EBCC_IMAGE_MAGIC_SIZE, iv, EBCC_IMAGE_IV_SIZE);
	for (int i = 0; i < 8; i++)
		out[EBCC_IMAGE_MAGIC_SIZE + EBCC_IMAGE_IV_SIZE + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
	memcpy(out + EBCC_IMAGE_HEADER_SIZE, payload, len);
	br_aes_ct_ctr_init(&aes, key, sizeof(key));
	br_gcm_init(&gcm, &aes.vtable, br_ghash_ctmul64);
	br_gcm_reset(&gcm, iv, EBCC_IMAGE_IV_SIZE);
	br_gcm_aad_inject(&gcm, out, EBCC_IMAGE_HEADER_SIZE);
	br_gcm_flip(&gcm);
	br_gcm_run(&gcm, 1, out + EBCC_IMAGE_HEADER_SIZE, len);
	br_gcm_get_tag(&gcm, out + EBCC_IMAGE_HEADER_SIZE + len);
}

static void raw_image(const uint8_t *image, size_t size)
{
	uint8_t *plain = NULL, *again;
	size_t len = 0;
	int r = ebcc__stage_image_decrypt(image, size, key, &plain, &len);

	CHECK(r == 0 || r == EBCC_ERR_CORRUPT || r == EBCC_ERR_VERIFY || r == EBCC_ERR_NO_MEMORY,
	      "decrypt gave %d", r);
	if (r < 0) {
		CHECK(plain == NULL, "a refusal returned a plaintext");
		return;
	}
	CHECK(size == EBCC_IMAGE_HEADER_SIZE + len + EBCC_IMAGE_TAG_SIZE,
	      "%zu bytes of plaintext from an image of %zu", len, size);
	again = malloc(size);
	if (again == NULL)
		abort();
	encrypt(image + EBCC_IMAGE_MAGIC_SIZE, plain, len, again);
	CHECK(memcmp(again, image, size) == 0, "an accepted image is not its own encryption");
	free(again);
	free(plain);
}

static void genuine_image(const uint8_t *data, size_t size, int flip)
{
	uint8_t iv[EBCC_IMAGE_IV_SIZE] = { 0 }, *image, *plain = NULL;
	size_t n = size < sizeof(iv) ? size : sizeof(iv), len = size - n, image_len, at = 0;
	int r;

	memcpy(iv, data, n);
	image_len = EBCC_IMAGE_HEADER_SIZE + len + EBCC_IMAGE_TAG_SIZE;
	image = malloc(image_len);
	if (image == NULL)
		abort();
	encrypt(iv, data + n, len, image);
	if (flip) {
		for (size_t i = 0; i < n && i < 4; i++)
			at = at << 8 | iv[i];
		at %= image_len * 8;
		image[at / 8] ^= (uint8_t)(1u << (at % 8));
	}
	r = ebcc__stage_image_decrypt(image, image_len, key, &plain, &len);
	if (!flip) {
		CHECK(r == 0 && len == size - n && memcmp(plain, data + n, len) == 0,
		      "a genuine image gave %d", r);
	} else {
		at /= 8;
		CHECK(r == (at < EBCC_IMAGE_MAGIC_SIZE ||
					    (at >= EBCC_IMAGE_MAGIC_SIZE + EBCC_IMAGE_IV_SIZE &&
					     at < EBCC_IMAGE_HEADER_SIZE)
				    ? EBCC_ERR_CORRUPT
				    : EBCC_ERR_VERIFY),
		      "a flip in byte %zu gave %d", at, r);
		CHECK(plain == NULL, "a changed image decrypted");
	}
	if (plain != NULL)
		explicit_bzero(plain, len);
	free(plain);
	free(image);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *loaded = NULL;
	size_t loaded_len = 0;
	int r;

	if (size == 0)
		return 0;
	if (data[0] & 1)
		genuine_image(data + 1, size - 1, data[0] & 2);
	else
		raw_image(data + 1, size - 1);

	/* As a load request: no key is bound, so nothing loads. */
	ebcc__stage_key_wipe();
	r = ebcc_stage_load_image(data, size, &loaded, &loaded_len);
	CHECK(r == EBCC_ERR_CORRUPT || r == EBCC_ERR_STATE, "a load without a key gave %d", r);
	CHECK(loaded == NULL && !ebcc__stage_image.loaded, "a refused load loaded");
	return 0;
}
