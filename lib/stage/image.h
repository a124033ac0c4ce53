/* SPDX-License-Identifier: MIT */
/*
 * The image a stage loaded (image.c, ebcc_stage_load_image()) as the request loop sees it: its
 * digest, which every answer from the load on binds (IMAGE frame, evidence version 4).
 */
#ifndef EBCC_STAGE_IMAGE_H
#define EBCC_STAGE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "../base/frame.h"

struct ebcc__stage_image {
	int loaded;
	uint8_t digest[EBCC_FRAME_IMAGE_SIZE]; /* SHA-256 of the decrypted image */
};

/* Defined in serve.c, so that a stage that loads no image links no AES (image.c). */
extern struct ebcc__stage_image ebcc__stage_image;

/* Decrypts an encrypted image (image_len bytes, ../imageformat.h) with key
 * (EBCC_IMAGE_KEY_SIZE bytes) into a new buffer (malloc): 0, EBCC_ERR_CORRUPT (not an
 * encrypted image, or its length field disagrees with its size), EBCC_ERR_VERIFY (the tag:
 * another key, or a changed byte), EBCC_ERR_NO_MEMORY. */
int ebcc__stage_image_decrypt(const uint8_t *image, size_t image_len, const uint8_t *key,
			      uint8_t **ret, size_t *ret_len);

#endif
