/* SPDX-License-Identifier: MIT */
/*
 * The binding: report_data, the 64 bytes every backend report covers, computed from what an
 * invocation was about. ebcc_evidence_verify(3) documents the encoding for verifiers written
 * in other languages; tests/unit/test-evidence.c and tests/python/test_evidence.py hold test
 * vectors computed independently. The stage library computes the same bytes on the protected
 * side (lib/stage/binding.c) from the BIND frame's fields, which are the middle of this.
 *
 *   report_data = SHA-512( F(tag) || F(instance) || F(stage) || F(u64be(eid)) ||
 *                          F(u64be(seq)) || F(measurement) || F(nonce) ||
 *                          F(request_digest) || F(response_digest) )
 *   F(x)        = u32be(length of x) || x
 *   tag         = "EBCC-EVIDENCE-V2" (evidence version 2), "EBCC-EVIDENCE-V1" (version 1)
 *
 * Version 3 ("EBCC-EVIDENCE-V3") appends F(public_key), the X25519 key the stage made for the
 * answer (ebcc-secrets(7)): a host that puts its own key in the envelope breaks report_data.
 * Version 4 ("EBCC-EVIDENCE-V4") appends F(image_digest), the SHA-256 of the image the stage
 * decrypted and loaded, then F(public_key), of 0 bytes when the answer made no key.
 */
#include <string.h>

#include <openssl/evp.h>

#include "ebcc-base.h"
#include "frame.h"

void ebcc__binding_from_backend(const struct ebcc_backend_binding *in, struct ebcc_binding *out)
{
	*out = (struct ebcc_binding){
		.version = (int)in->evidence_version,
		.instance = in->instance_id,
		.stage = in->stage_name,
		.eid = in->eid,
		.seq = in->seq,
		.measurement = in->measurement,
		.nonce = in->nonce,
		.nonce_len = in->nonce_len,
	};
}

int ebcc__binding_encode_fields(const struct ebcc_binding *b, uint8_t *out, size_t cap,
				size_t *ret_len)
{
	struct ebcc_frame_bind f;

	if (b->instance == NULL || b->stage == NULL || b->measurement == NULL ||
	    (b->nonce == NULL && b->nonce_len > 0) || b->nonce_len > EBCC_NONCE_MAX)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "binding: a field is missing or too long");
	f = (struct ebcc_frame_bind){
		.instance = b->instance,
		.instance_len = strlen(b->instance),
		.stage = b->stage,
		.stage_len = strlen(b->stage),
		.eid = b->eid,
		.seq = b->seq,
		.measurement = b->measurement,
		.measurement_len = strlen(b->measurement),
		.nonce = b->nonce,
		.nonce_len = b->nonce_len,
	};
	*ret_len = ebcc__frame_encode_bind(&f, out, cap);
	if (*ret_len == 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "binding: the fields exceed %zu bytes", cap);
	return 0;
}

int ebcc__binding_report_data(const struct ebcc_binding *b, uint8_t out[EBCC_REPORT_DATA_SIZE])
{
	const char *tag = b->version == EBCC_EVIDENCE_VERSION_HOST_BOUND ? EBCC_BINDING_TAG_V1
			  : b->version == EBCC_EVIDENCE_VERSION_KEYED	  ? EBCC_BINDING_TAG_V3
			  : b->version == EBCC_EVIDENCE_VERSION_IMAGE	  ? EBCC_BINDING_TAG_V4
									  : EBCC_BINDING_TAG_V2;
	uint8_t buf[4 + sizeof(EBCC_BINDING_TAG_V2) + EBCC_FRAME_BIND_MAX +
		    3 * (4 + EBCC_SHA256_SIZE) + 4 + EBCC_PUBLIC_KEY_SIZE];
	size_t at = 4 + strlen(tag), n = 0;
	unsigned int md_len = 0;
	int r;

	/* Callers pass validated fields, so a failure here is an internal invariant. */
	ebcc__frame_put_field(buf, tag, (uint32_t)strlen(tag));
	r = ebcc__binding_encode_fields(b, buf + at, EBCC_FRAME_BIND_MAX, &n);
	if (r < 0)
		return r;
	at += n;
	ebcc__frame_put_field(buf + at, b->request_digest, EBCC_SHA256_SIZE);
	at += 4 + EBCC_SHA256_SIZE;
	ebcc__frame_put_field(buf + at, b->response_digest, EBCC_SHA256_SIZE);
	at += 4 + EBCC_SHA256_SIZE;
	if (b->version == EBCC_EVIDENCE_VERSION_KEYED) {
		if (b->public_key == NULL)
			return ebcc__error(EBCC_ERR_INVALID_ARG, "binding: version 3 without its "
					   "public key");
		ebcc__frame_put_field(buf + at, b->public_key, EBCC_PUBLIC_KEY_SIZE);
		at += 4 + EBCC_PUBLIC_KEY_SIZE;
	}
	if (b->version == EBCC_EVIDENCE_VERSION_IMAGE) {
		uint32_t key_len = b->public_key != NULL ? EBCC_PUBLIC_KEY_SIZE : 0;

		if (b->image_digest == NULL)
			return ebcc__error(EBCC_ERR_INVALID_ARG, "binding: version 4 without its "
					   "image digest");
		ebcc__frame_put_field(buf + at, b->image_digest, EBCC_SHA256_SIZE);
		at += 4 + EBCC_SHA256_SIZE;
		ebcc__frame_put_field(buf + at, b->public_key, key_len);
		at += 4 + key_len;
	}
	if (EVP_Digest(buf, at, out, &md_len, ebcc__md_sha512(), NULL) != 1 ||
	    md_len != EBCC_REPORT_DATA_SIZE)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "binding: SHA-512 failed (OpenSSL)");
	return 0;
}
