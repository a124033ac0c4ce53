/* SPDX-License-Identifier: MIT */
/*
 * Encrypted stage images, shared by ebcc-runtime's encrypt-image and load-image (OpenSSL) and
 * the stage library (lib/stage/image.c, BearSSL), so it uses only libc. ebcc-secrets(7)
 * documents it for implementers in other languages:
 *
 *   image   = "EBCCEI01" || iv (12 bytes) || u64be(plaintext length) || ciphertext || tag (16)
 *             AES-256-GCM under the image key (32 random bytes), the associated data the 28
 *             bytes before the ciphertext
 *   request = "EBCCLD01" || u32be(length of sealed) || sealed || image
 *             sealed: the image key sealed to the loader stage's key (ebcc_secret_seal(3))
 *
 * The image key is released only to a loader whose evidence a relying party verified; the
 * host carries the request and sees neither the key nor the plaintext.
 */
#ifndef EBCC_IMAGEFORMAT_H
#define EBCC_IMAGEFORMAT_H

#define EBCC_IMAGE_MAGIC "EBCCEI01"
#define EBCC_IMAGE_MAGIC_SIZE 8
#define EBCC_IMAGE_IV_SIZE 12
#define EBCC_IMAGE_HEADER_SIZE (EBCC_IMAGE_MAGIC_SIZE + EBCC_IMAGE_IV_SIZE + 8)
#define EBCC_IMAGE_TAG_SIZE 16
#define EBCC_IMAGE_KEY_SIZE 32
#define EBCC_LOAD_MAGIC "EBCCLD01"
#define EBCC_LOAD_MAGIC_SIZE 8
#define EBCC_LOAD_HEADER_SIZE (EBCC_LOAD_MAGIC_SIZE + 4)

#endif
