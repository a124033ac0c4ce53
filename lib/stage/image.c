/* SPDX-License-Identifier: MIT */
/*
 * Encrypted stage images, opened inside the stage (ebcc_stage_load_image()): the image key
 * comes sealed to this stage's key (secret.c), the image is decrypted with AES-256-GCM here,
 * and its SHA-256 is bound by every answer from then on (image.h). Formats in
 * ../imageformat.h.
 */
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>

#include <ebcc/ebcc.h>
#include <ebcc/stage.h>

#include "../imageformat.h"
#include "binding.h"
#include "image.h"

int ebcc__stage_image_decrypt(const uint8_t *image, size_t image_len, const uint8_t *key,
			      uint8_t **ret, size_t *ret_len)
{
	/* AES-NI and PCLMULQDQ where the CPU has them (constant-time, and an image may be large),
	 * else BearSSL's constant-time 64-bit code. */
	const br_block_ctr_class *ctr = br_aes_x86ni_ctr_get_vtable();
	br_ghash ghash = br_ghash_pclmul_get();
	br_aes_gen_ctr_keys aes;
	br_gcm_context gcm;
	const uint8_t *length;
	uint8_t *plain;
	uint64_t len;
	uint32_t ok;

	if (ctr == NULL)
		ctr = &br_aes_ct64_ctr_vtable;
	if (ghash == 0)
		ghash = br_ghash_ctmul64;
	if (image_len < EBCC_IMAGE_HEADER_SIZE + EBCC_IMAGE_TAG_SIZE ||
	    memcmp(image, EBCC_IMAGE_MAGIC, EBCC_IMAGE_MAGIC_SIZE) != 0)
		return EBCC_ERR_CORRUPT;
	length = image + EBCC_IMAGE_MAGIC_SIZE + EBCC_IMAGE_IV_SIZE; /* u64be */
	len = (uint64_t)ebcc__frame_get_be32(length) << 32 | ebcc__frame_get_be32(length + 4);
	if (len != image_len - EBCC_IMAGE_HEADER_SIZE - EBCC_IMAGE_TAG_SIZE)
		return EBCC_ERR_CORRUPT;
	plain = malloc(len > 0 ? (size_t)len : 1);
	if (plain == NULL)
		return EBCC_ERR_NO_MEMORY;
	memcpy(plain, image + EBCC_IMAGE_HEADER_SIZE, (size_t)len);
	ctr->init(&aes.vtable, key, EBCC_IMAGE_KEY_SIZE);
	br_gcm_init(&gcm, &aes.vtable, ghash);
	br_gcm_reset(&gcm, image + EBCC_IMAGE_MAGIC_SIZE, EBCC_IMAGE_IV_SIZE);
	br_gcm_aad_inject(&gcm, image, EBCC_IMAGE_HEADER_SIZE);
	br_gcm_flip(&gcm);
	br_gcm_run(&gcm, 0, plain, (size_t)len);
	ok = br_gcm_check_tag(&gcm, image + EBCC_IMAGE_HEADER_SIZE + len);
	explicit_bzero(&aes, sizeof(aes));
	explicit_bzero(&gcm, sizeof(gcm));
	if (!ok) {
		explicit_bzero(plain, (size_t)len);
		free(plain);
		return EBCC_ERR_VERIFY;
	}
	*ret = plain;
	*ret_len = (size_t)len;
	return 0;
}

int ebcc_stage_load_image(const void *request, size_t request_len, void **ret_image,
			  size_t *ret_len)
{
	const uint8_t *req = request;
	void *key = NULL;
	uint8_t *plain = NULL;
	size_t key_len = 0, plain_len = 0, sealed_len;
	int r;

	if (request == NULL || ret_image == NULL || ret_len == NULL)
		return EBCC_ERR_INVALID_ARG;
	if (ebcc__stage_image.loaded)
		return EBCC_ERR_STATE; /* one image per stage process: its digest binds every answer */
	if (request_len < EBCC_LOAD_HEADER_SIZE ||
	    memcmp(req, EBCC_LOAD_MAGIC, EBCC_LOAD_MAGIC_SIZE) != 0)
		return EBCC_ERR_CORRUPT;
	sealed_len = ebcc__frame_get_be32(req + EBCC_LOAD_MAGIC_SIZE);
	if (sealed_len > request_len - EBCC_LOAD_HEADER_SIZE)
		return EBCC_ERR_CORRUPT;
	r = ebcc_stage_open_secret(req + EBCC_LOAD_HEADER_SIZE, sealed_len, &key, &key_len);
	if (r < 0)
		return r;
	if (key_len != EBCC_IMAGE_KEY_SIZE) {
		ebcc_stage_secret_free(key, key_len);
		return EBCC_ERR_VERIFY; /* a secret, but not an image key */
	}
	r = ebcc__stage_image_decrypt(req + EBCC_LOAD_HEADER_SIZE + sealed_len,
				      request_len - EBCC_LOAD_HEADER_SIZE - sealed_len, key, &plain,
				      &plain_len);
	ebcc_stage_secret_free(key, key_len);
	if (r < 0)
		return r;
	ebcc__stage_sha256(plain, plain_len, ebcc__stage_image.digest);
	ebcc__stage_image.loaded = 1;
	*ret_image = plain;
	*ret_len = plain_len;
	return 0;
}
