/* SPDX-License-Identifier: MIT */
/* report_data on the protected side, with BearSSL's hashes (binding.h). */
#include <bearssl.h>

#include <ebcc/ebcc.h>
#include <ebcc/stage.h>

#include "binding.h"

/* The evidence versions this library's stages bind for: 3 when the answer binds a key, 4 once
 * the stage has loaded an image. */
static const char tag[] = EBCC_BINDING_TAG_V2;
static const char tag_keyed[] = EBCC_BINDING_TAG_V3;
static const char tag_image[] = EBCC_BINDING_TAG_V4;

void ebcc__stage_sha256(const void *data, size_t len, uint8_t out[32])
{
	br_sha256_context c;

	br_sha256_init(&c);
	br_sha256_update(&c, data, len);
	br_sha256_out(&c, out);
}

static void put_field(br_sha512_context *c, const void *data, uint32_t len)
{
	uint8_t prefix[4];

	ebcc__frame_put_be32(prefix, len);
	br_sha512_update(c, prefix, sizeof(prefix));
	br_sha512_update(c, data, len);
}

void ebcc__stage_report_data_bound(const uint8_t *bind, size_t bind_len,
				   const uint8_t request[32], const uint8_t response[32],
				   const uint8_t *image_digest, const uint8_t *public_key,
				   uint8_t out[EBCC_FRAME_REPORT_DATA_SIZE])
{
	br_sha512_context c;

	br_sha512_init(&c);
	if (image_digest != NULL)
		put_field(&c, tag_image, sizeof(tag_image) - 1);
	else if (public_key != NULL)
		put_field(&c, tag_keyed, sizeof(tag_keyed) - 1);
	else
		put_field(&c, tag, sizeof(tag) - 1);
	br_sha512_update(&c, bind, bind_len);
	put_field(&c, request, 32);
	put_field(&c, response, 32);
	if (image_digest != NULL) {
		put_field(&c, image_digest, EBCC_FRAME_IMAGE_SIZE);
		put_field(&c, public_key, public_key != NULL ? EBCC_FRAME_KEY_SIZE : 0);
	} else if (public_key != NULL) {
		put_field(&c, public_key, EBCC_FRAME_KEY_SIZE);
	}
	br_sha512_out(&c, out);
}

void ebcc__stage_report_data(const uint8_t *bind, size_t bind_len, const uint8_t request[32],
			     const uint8_t response[32], uint8_t out[EBCC_FRAME_REPORT_DATA_SIZE])
{
	ebcc__stage_report_data_bound(bind, bind_len, request, response, NULL, NULL, out);
}

int ebcc_stage_report_data(const void *bind, size_t bind_len, const void *request,
			   size_t request_len, const void *response, size_t response_len,
			   unsigned char report_data[64])
{
	struct ebcc_frame f = { .type = EBCC_FRAME_BIND, .length = (uint32_t)bind_len };
	uint8_t request_digest[32], response_digest[32];

	if (bind == NULL || report_data == NULL || bind_len > EBCC_FRAME_BIND_MAX ||
	    (request == NULL && request_len > 0) || (response == NULL && response_len > 0) ||
	    ebcc__frame_decode_payload(&f, bind) != EBCC_FRAME_OK)
		return EBCC_ERR_INVALID_ARG;
	ebcc__stage_sha256(request, request_len, request_digest);
	ebcc__stage_sha256(response, response_len, response_digest);
	ebcc__stage_report_data(bind, bind_len, request_digest, response_digest, report_data);
	return 0;
}
