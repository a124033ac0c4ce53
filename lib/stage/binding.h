/* SPDX-License-Identifier: MIT */
/*
 * report_data on the protected side: the stage library computes it over the request it received
 * and the response it returns, with the host's BIND fields in between, exactly as
 * lib/base/binding.c and every verifier do (the encoding is in lib/base/frame.h and
 * ebcc_evidence_verify(3)). SHA-256 and SHA-512 come from BearSSL, linked statically into the
 * stage.
 */
#ifndef EBCC_STAGE_BINDING_H
#define EBCC_STAGE_BINDING_H

#include <stddef.h>
#include <stdint.h>

#include "../base/frame.h"

/* SHA-256 of data, the digest the binding holds for a request or a response. */
void ebcc__stage_sha256(const void *data, size_t len, uint8_t out[32]);

/* report_data = SHA-512(F("EBCC-EVIDENCE-V2") || bind || F(request digest) || F(response
 * digest)), bind being a BIND payload that the frame decoder accepted. */
void ebcc__stage_report_data(const uint8_t *bind, size_t bind_len, const uint8_t request[32],
			     const uint8_t response[32], uint8_t out[EBCC_FRAME_REPORT_DATA_SIZE]);

/* The same with a loaded image's digest and a stage-held key, each NULL when there is none
 * (both NULL: the above). With a key only: SHA-512(F("EBCC-EVIDENCE-V3") || bind ||
 * F(request digest) || F(response digest) || F(public_key)), evidence version 3. With an image:
 * SHA-512(F("EBCC-EVIDENCE-V4") || bind || F(request digest) || F(response digest) ||
 * F(image_digest) || F(public_key, 0 bytes when there is none)), evidence version 4. */
void ebcc__stage_report_data_bound(const uint8_t *bind, size_t bind_len,
				   const uint8_t request[32], const uint8_t response[32],
				   const uint8_t *image_digest, const uint8_t *public_key,
				   uint8_t out[EBCC_FRAME_REPORT_DATA_SIZE]);

#endif
