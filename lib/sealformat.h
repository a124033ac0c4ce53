/* SPDX-License-Identifier: MIT */
/*
 * The sealed-secret format, shared by the relying party's side (lib/seal.c, OpenSSL) and the
 * stage library (lib/stage/secret.c, BearSSL), so it uses only libc. ebcc-secrets(7) documents
 * it for implementers in other languages:
 *
 *   sealed = "EBCCSEAL" || u32be(1) || F(instance) || F(stage) || F(measurement) ||
 *            F(report_data) || F(public_key) || F(ephemeral_key) || F(iv) ||
 *            F(ciphertext || tag)                       F(x) = u32be(length of x) || x
 *
 *   shared = X25519(ephemeral private key, public_key)   (the stage: X25519(its key, ephemeral))
 *   key    = HKDF-SHA-256(salt = report_data, ikm = shared,
 *                         info = "EBCC-SEAL-V1" || ephemeral_key || public_key, 32 bytes)
 *   AES-256-GCM(key, iv, associated data = every byte before F(ciphertext || tag))
 *
 * report_data and public_key are the evidence's: the secret opens only in the stage whose key
 * that answer bound, and its header names the instance, stage and measurement it was released to.
 */
#ifndef EBCC_SEALFORMAT_H
#define EBCC_SEALFORMAT_H

#include <stddef.h>
#include <stdint.h>

#define EBCC_SEAL_MAGIC "EBCCSEAL"
#define EBCC_SEAL_MAGIC_SIZE 8
#define EBCC_SEAL_VERSION 1
#define EBCC_SEAL_HKDF_INFO "EBCC-SEAL-V1"
#define EBCC_SEAL_KEY_SIZE 32    /* X25519 public keys, the shared secret, the AES-256 key */
#define EBCC_SEAL_RD_SIZE 64     /* report_data */
#define EBCC_SEAL_IV_SIZE 12
#define EBCC_SEAL_TAG_SIZE 16
#define EBCC_SEAL_FIELDS 8
#define EBCC_SEAL_SECRET_MAX ((size_t)1 << 20) /* 1 MiB of plaintext */
/* The largest header: magic, version, 1024 bytes of instance, 64 of stage, 256 of measurement
 * and the fixed fields, with their length prefixes. */
#define EBCC_SEAL_HEADER_MAX                                                                      \
	(EBCC_SEAL_MAGIC_SIZE + 4 + 4 * EBCC_SEAL_FIELDS + 1024 + 64 + 256 + EBCC_SEAL_RD_SIZE +    \
	 2 * EBCC_SEAL_KEY_SIZE + EBCC_SEAL_IV_SIZE)

/* Decoder results: 0 well-formed, < 0 what is wrong. */
enum ebcc_seal_status {
	EBCC_SEAL_OK = 0,
	EBCC_SEAL_BAD_MAGIC = -1,   /* not "EBCCSEAL": not a sealed secret */
	EBCC_SEAL_BAD_VERSION = -2, /* a version this library does not read */
	EBCC_SEAL_TRUNCATED = -3,   /* a field's length runs past the end */
	EBCC_SEAL_BAD_FIELD = -4,   /* a field of the wrong length (which: bad_field) */
	EBCC_SEAL_TRAILING = -5,    /* bytes after the last field */
	EBCC_SEAL_TOO_BIG = -6,     /* plaintext above EBCC_SEAL_SECRET_MAX */
};

/* A decoded blob: every pointer into the decoded buffer. */
struct ebcc_seal_blob {
	const uint8_t *instance;
	size_t instance_len;
	const uint8_t *stage;
	size_t stage_len;
	const uint8_t *measurement;
	size_t measurement_len;
	const uint8_t *report_data;   /* EBCC_SEAL_RD_SIZE */
	const uint8_t *public_key;    /* EBCC_SEAL_KEY_SIZE: the stage's */
	const uint8_t *ephemeral_key; /* EBCC_SEAL_KEY_SIZE: the sealer's */
	const uint8_t *iv;            /* EBCC_SEAL_IV_SIZE */
	const uint8_t *ciphertext;    /* ciphertext_len bytes, then the tag */
	size_t ciphertext_len;
	const uint8_t *tag; /* EBCC_SEAL_TAG_SIZE */
	size_t ad_len;      /* the associated data: the first ad_len bytes of the blob */
	int bad_field;      /* for EBCC_SEAL_BAD_FIELD: 0 instance ... 7 ciphertext */
};

/* Decodes a blob of len bytes. Pure: never allocates, never reads beyond len. */
int ebcc__seal_decode(const uint8_t *buf, size_t len, struct ebcc_seal_blob *ret);

/* Writes the header (everything before F(ciphertext || tag)) and that field's length prefix
 * into out (cap bytes): the header's length (the associated data), or 0 when it does not fit.
 * ciphertext and tag, ciphertext_len + EBCC_SEAL_TAG_SIZE bytes, follow at the returned
 * offset + 4. */
size_t ebcc__seal_encode_header(const struct ebcc_seal_blob *b, uint8_t *out, size_t cap);

/* A static description of a decoder status, for messages. */
const char *ebcc__seal_status_text(int status);

/* A static name of field i of a blob ("instance", ..., "ciphertext"). */
const char *ebcc__seal_field_name(int i);

#endif /* EBCC_SEALFORMAT_H */
