/* SPDX-License-Identifier: MIT */
/*
 * Stage images as a process-based backend runs them: a statically linked ELF executable, copied
 * once into a sealed memory file so that what is measured is byte for byte what is executed.
 * Generic: any backend that runs stages as sandboxed processes (sim, tsm) uses it.
 */
#ifndef EBCC_BACKEND_IMAGE_H
#define EBCC_BACKEND_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "ebcc-base.h"

/* The largest stage image accepted. */
#define EBCC_IMAGE_MAX (UINT64_C(512) << 20)

/*
 * Checks that fd is a regular, non-empty ELF executable of this machine's class and byte order
 * without a PT_INTERP (statically linked). Errors: EBCC_ERR_INVALID_ARG with the reason,
 * EBCC_ERR_TOO_BIG, EBCC_ERR_IO. display names the image in messages.
 */
int ebcc__image_check_static(int fd, const char *display);

/*
 * Copies the image (read with pread, the offset of fd is left alone) into a memory file sealed
 * against any change and returns it (O_CLOEXEC), or, where the kernel has no sealable memory
 * files, a duplicate of fd with *ret_sealed false. Errors: EBCC_ERR_IO, EBCC_ERR_TOO_BIG,
 * EBCC_ERR_NO_MEMORY.
 */
int ebcc__image_seal(int fd, const char *display, int *ret_fd, bool *ret_sealed);

/*
 * ebcc__image_seal() followed by the SHA-256 of the sealed copy, but each version of an image
 * file (device, inode, size, modification and change times) is copied and measured only once
 * per process (imagecache.c); later loads get a duplicate of the same sealed copy. Where no
 * sealed copy can be made the caller's file is measured and run as it is, and not cached.
 */
int ebcc__image_seal_measured(int fd, const char *display, int *ret_fd,
			      uint8_t digest[EBCC_SHA256_SIZE]);

/*
 * The SHA-256 an ebcc__image_seal_measured() of fd would give: that of the sealed copy this
 * process already made of this version of the file, else the file's own, hashed as it is (no
 * copy is made, and none kept: a one-shot process that only creates a composite pays for the
 * hash alone). Errors: those of ebcc__sha256_fd().
 */
int ebcc__image_measure(int fd, const char *display, uint8_t digest[EBCC_SHA256_SIZE]);

#endif
