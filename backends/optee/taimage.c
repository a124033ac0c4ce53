/* SPDX-License-Identifier: MIT */
/* The signed header of OP-TEE trusted application files (layout in taimage.h). */
#include <inttypes.h>
#include <string.h>

#include "bytes.h"
#include "ebcc-base.h"
#include "taimage.h"

int ebcc__ta_image_parse(const uint8_t *data, size_t len, const char *display,
			 struct ebcc__ta_image *ret)
{
	struct ebcc__ta_image t = { 0 };
	uint32_t magic, img_size;
	uint16_t hash_size, sig_size;
	size_t boot;

	if (len < EBCC_TA_SHDR_SIZE)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "stage image %s is %zu bytes: too short for "
				   "an OP-TEE TA's signed header", display, len);
	magic = ebcc__le32(data);
	t.img_type = ebcc__le32(data + 4);
	img_size = ebcc__le32(data + 8);
	hash_size = ebcc__le16(data + 16);
	sig_size = ebcc__le16(data + 18);
	if (magic != EBCC_TA_SHDR_MAGIC)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "stage image %s is not an OP-TEE trusted "
				   "application: no signed header (magic 0x%08" PRIx32 ", 0x%08x "
				   "expected)", display, magic, EBCC_TA_SHDR_MAGIC);
	if (t.img_type != EBCC_TA_IMG_BOOTSTRAP && t.img_type != EBCC_TA_IMG_ENCRYPTED)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "stage image %s: signed header image type "
				   "%" PRIu32 " (1, a bootstrap TA, or 2, an encrypted TA, carry the "
				   "UUID this backend checks; legacy and subkey-signed TAs do not)",
				   display, t.img_type);
	if (hash_size != EBCC_TA_DIGEST_SIZE)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "stage image %s: hash size %u, %d (SHA-256) "
				   "expected", display, hash_size, EBCC_TA_DIGEST_SIZE);
	boot = EBCC_TA_SHDR_SIZE + (size_t)hash_size + sig_size;
	if (len < boot + 20 || img_size > len - boot)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "stage image %s: %zu bytes, but its signed "
				   "header promises %zu bytes of headers and %" PRIu32 " of image",
				   display, len, boot + 20, img_size);
	memcpy(t.digest, data + EBCC_TA_SHDR_SIZE, EBCC_TA_DIGEST_SIZE);
	memcpy(t.uuid, data + boot, 16);
	t.ta_version = ebcc__le32(data + boot + 16);
	*ret = t;
	return 0;
}
