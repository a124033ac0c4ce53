/* SPDX-License-Identifier: MIT */
/*
 * OP-TEE trusted application files (<uuid>.ta, as optee_os' scripts/sign_encrypt.py writes
 * them): a signed header, then for a bootstrap or encrypted TA the TA's UUID and version, then
 * the ELF image. Integers little endian:
 *
 *   struct shdr      magic 0x4f545348 ("HSTO"), img_type (1 bootstrap TA, 2 encrypted TA),
 *                    img_size, algo, hash_size (32), sig_size
 *   hash             hash_size bytes: SHA-256 over the header, the bootstrap header and the
 *                    image; what OP-TEE's attestation PTA reports as the TA's digest
 *   signature        sig_size bytes, by the TA signing key (checked by OP-TEE when loading)
 *   bootstrap header uuid (16 bytes, RFC 4122 order), ta_version (4)
 *
 * The backend does not check the signature (OP-TEE does, against the key it was built with);
 * it reads the UUID and the digest so that what OP-TEE runs can be compared with the measured
 * file.
 */
#ifndef EBCC_OPTEE_TAIMAGE_H
#define EBCC_OPTEE_TAIMAGE_H

#include <stddef.h>
#include <stdint.h>

#define EBCC_TA_SHDR_MAGIC 0x4f545348u
#define EBCC_TA_SHDR_SIZE 20
#define EBCC_TA_IMG_BOOTSTRAP 1
#define EBCC_TA_IMG_ENCRYPTED 2
#define EBCC_TA_DIGEST_SIZE 32
#define EBCC_TA_IMAGE_MAX ((size_t)32 << 20)

struct ebcc__ta_image {
	uint32_t img_type;
	uint8_t uuid[16];
	uint32_t ta_version;
	uint8_t digest[EBCC_TA_DIGEST_SIZE];
};

/* Parses the start of a TA file of len bytes. Errors: EBCC_ERR_INVALID_ARG naming what is
 * wrong and where (display names the file). */
int ebcc__ta_image_parse(const uint8_t *data, size_t len, const char *display,
			 struct ebcc__ta_image *ret);

#endif
