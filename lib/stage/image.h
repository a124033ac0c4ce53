/* SPDX-License-Identifier: MIT */
/*
 * The image a stage loaded (image.c, ebcc_stage_load_image()) as the request loop sees it: its
 * digest, which every answer from the load on binds (IMAGE frame, evidence version 4).
 */
#ifndef EBCC_STAGE_IMAGE_H
#define EBCC_STAGE_IMAGE_H

#include <stdint.h>

#include "../frame.h"

struct ebcc__stage_image {
	int loaded;
	uint8_t digest[EBCC_FRAME_IMAGE_SIZE]; /* SHA-256 of the decrypted image */
};

/* Defined in serve.c, so that a stage that loads no image links no AES (image.c). */
extern struct ebcc__stage_image ebcc__stage_image;

#endif
