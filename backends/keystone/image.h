/* SPDX-License-Identifier: MIT */
/*
 * A keystone stage image: the three files Keystone loads into an enclave, in one file so that a
 * manifest names one image like every other backend's. It is a POSIX ustar archive (what
 * `tar --format=ustar -cf stage.tar loader.bin eyrie-rt eapp` writes; GNU tar's default format
 * writes the same headers for such short names) of exactly three regular files:
 *
 *   loader.bin   Keystone's loader (sdk: loader.bin), copied first into enclave memory
 *   eyrie-rt     the runtime (Eyrie)
 *   eapp         the eapp: the stage, linked with libebcc-stage-keystone.a
 *
 * each once, in any order, none empty, then nothing but zero blocks. Anything else (another
 * member, a directory, a link, a pax or GNU long-name header, a bad checksum, a size past the
 * file) is refused, naming the member and the field. The measurement is Keystone's enclave
 * hash of the three files (measure.h), "keystone:<128 lowercase hex digits>".
 */
#ifndef EBCC_KEYSTONE_IMAGE_H
#define EBCC_KEYSTONE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "measure.h"

/* "keystone:" and 128 hex digits, with the NUL. */
#define EBCC_KS_MEASUREMENT_SIZE (9 + 2 * EBCC_KS_MDSIZE + 1)

struct ebcc__ks_image {
	uint8_t *data; /* the whole archive (malloc) when read from a descriptor */
	size_t len;
	const uint8_t *files[EBCC_KS_FILES]; /* into data: loader, runtime, eapp */
	size_t lens[EBCC_KS_FILES];
	char measurement[EBCC_KS_MEASUREMENT_SIZE];
};

/* The member names, by EBCC_KS_FILE_*. */
extern const char *const ebcc__ks_image_names[EBCC_KS_FILES];

/*
 * Splits an archive of len bytes (pointers into buf, which must outlive ret) and measures it.
 * display names the image in errors. Errors: EBCC_ERR_INVALID_ARG (not such an archive, with
 * the reason), EBCC_ERR_NO_MEMORY.
 */
int ebcc__ks_image_parse(const uint8_t *buf, size_t len, const char *display,
			 struct ebcc__ks_image *ret);

/* Reads the image from fd (from its start, at most EBCC_STAGE_IMAGE_MAX bytes), then parses
 * it. Errors: those of ebcc__ks_image_parse(), EBCC_ERR_IO, EBCC_ERR_TOO_BIG. */
int ebcc__ks_image_read(int fd, const char *display, struct ebcc__ks_image *ret);

void ebcc__ks_image_clear(struct ebcc__ks_image *im);

/* For the core at create (lib/bundle.c): the measurement of the image on fd into out
 * (EBCC_KS_MEASUREMENT_SIZE bytes). */
int ebcc__ks_image_measure_fd(int fd, const char *display, char *out, size_t out_size);

#endif
