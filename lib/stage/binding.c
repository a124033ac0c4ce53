/* SPDX-License-Identifier: MIT */
/* report_data on the protected side, with BearSSL's hashes (binding.h). */
#include <bearssl.h>

#include "binding.h"

/* The evidence version this library's stages bind for. */
static const char tag[] = EBCC_BINDING_TAG_V2;

void ebcc__stage_sha256(const void *data, size_t len, uint8_t out[32])
{
	br_sha256_context c;

	br_sha256_init(&c);
	br_sha256_update(&c, data, len);
	br_sha256_out(&c, out);
}

static void put_field(br_sha512_context *c, const void *data, uint32_t len)
{
	uint8_t prefix[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			      (uint8_t)len };

	br_sha512_update(c, prefix, sizeof(prefix));
	br_sha512_update(c, data, len);
}

void ebcc__stage_report_data(const uint8_t *bind, size_t bind_len, const uint8_t request[32],
			     const uint8_t response[32], uint8_t out[EBCC_FRAME_REPORT_DATA_SIZE])
{
	br_sha512_context c;

	br_sha512_init(&c);
	put_field(&c, tag, sizeof(tag) - 1);
	br_sha512_update(&c, bind, bind_len);
	put_field(&c, request, 32);
	put_field(&c, response, 32);
	br_sha512_out(&c, out);
}
