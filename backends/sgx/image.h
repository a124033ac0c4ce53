/* SPDX-License-Identifier: MIT */
/*
 * An sgx stage image: what the driver sequence (driver.h) needs to build one enclave, in one
 * file so that a manifest names one image like every other backend's. A strict ustar archive
 * (ustar.h: `tar --format=ustar -cf IMAGE enclave.bin layout.json sigstruct`) of exactly:
 *
 *   enclave.bin  the enclave's initial memory from its base: whole pages, at least one, no
 *                more than the enclave's size
 *   layout.json  SECS and ADD_PAGES: {"size": SECS.SIZE (a power of two, 2 pages..64 GiB),
 *                "ssaFrameSize": pages (1..16), "segments": [1..256 of {"offset": page
 *                aligned, "pages": >= 1, "type": "tcs" or "reg", "permissions": "r", "rw",
 *                "rx", "rwx" or "x" (reg only, required there), "measure": true (default) or
 *                false}]}, segments in the order the pages are added, their bytes enclave.bin's
 *                at the same offset; the first "tcs" segment is the TCS entered
 *   sigstruct    the enclave's SIGSTRUCT (sigstruct.h), EBCC_SGX_SIGSTRUCT_SIZE bytes
 *
 * The image is refused unless the SIGSTRUCT verifies and its ENCLAVEHASH is the MRENCLAVE of
 * enclave.bin laid out so. The measurement is "sgx:<MRENCLAVE, 64 lowercase hex digits>".
 */
#ifndef EBCC_SGX_IMAGE_H
#define EBCC_SGX_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "driver.h"
#include "measure.h"
#include "sigstruct.h"

/* "sgx:" and 64 hex digits, with the NUL. */
#define EBCC_SGX_MEASUREMENT_SIZE (4 + 64 + 1)

struct ebcc__sgx_image {
	uint8_t *data; /* the whole archive (malloc) when read from a descriptor */
	size_t len;
	const uint8_t *enclave; /* into data */
	size_t enclave_len;
	const uint8_t *sigstruct; /* EBCC_SGX_SIGSTRUCT_SIZE bytes, into data */
	struct ebcc__sgx_segment *segments; /* malloc; their data point into enclave */
	size_t n_segments;
	struct ebcc__sgx_layout layout; /* of segments */
	struct ebcc__sgx_secs_params secs; /* the SIGSTRUCT's MISCSELECT, ATTRIBUTES and XFRM */
	uint64_t tcs_offset; /* the first TCS segment's */
	uint8_t mrenclave[32], mrsigner[32];
	char measurement[EBCC_SGX_MEASUREMENT_SIZE];
};

/*
 * Splits and checks an archive of len bytes (pointers into buf, which must outlive ret),
 * computes MRENCLAVE and checks the SIGSTRUCT against it. display names the image in errors.
 * Errors: EBCC_ERR_INVALID_ARG (not such an archive, or a layout.json at fault: the member,
 * key and rule), EBCC_ERR_VERIFY ("<display>: sigstruct: ...": the SIGSTRUCT does not verify
 * or is for another enclave), EBCC_ERR_NO_MEMORY. On failure ret is cleared (data untouched
 * and not freed).
 */
int ebcc__sgx_image_parse(const uint8_t *buf, size_t len, const char *display,
			  struct ebcc__sgx_image *ret);

/* Reads the image from fd (from its start, at most EBCC_STAGE_IMAGE_MAX bytes), then parses
 * it. Errors: those of ebcc__sgx_image_parse(), EBCC_ERR_IO, EBCC_ERR_TOO_BIG. Nothing is left
 * on failure. */
int ebcc__sgx_image_read(int fd, const char *display, struct ebcc__sgx_image *ret);

/* Frees what the image holds and zeroes it. Safe on a zeroed image. */
void ebcc__sgx_image_clear(struct ebcc__sgx_image *im);

/* For the core at create: the measurement of the image on fd into out
 * (EBCC_SGX_MEASUREMENT_SIZE bytes). Errors: those of ebcc__sgx_image_read(). */
int ebcc__sgx_image_measure_fd(int fd, const char *display, char *out, size_t out_size);

#endif
