/* SPDX-License-Identifier: MIT */
/* A process-wide cache of decoded device keys (keycache.c). Thread-safe. */
#ifndef EBCC_SIM_KEYCACHE_H
#define EBCC_SIM_KEYCACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "ebcc-private.h"

/* What tells one version of a key file from another. */
struct ebcc__sim_key_identity {
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
};

void ebcc__sim_key_identity_of(const struct stat *st, struct ebcc__sim_key_identity *ret);
/* A new reference to the key decoded from that file, and its key id; false when not cached. */
bool ebcc__sim_keycache_get(const struct ebcc__sim_key_identity *id, EVP_PKEY **ret_key,
			    uint8_t kid[EBCC_SHA256_SIZE]);
/* Remembers key (taking a reference of its own) and its id for that file. */
void ebcc__sim_keycache_put(const struct ebcc__sim_key_identity *id, EVP_PKEY *key,
			    const uint8_t kid[EBCC_SHA256_SIZE]);

/* A signing context (ECDSA with SHA-256) for a cached key, ready for EVP_DigestSign(); NULL
 * when key is not cached or OpenSSL fails (the caller sets one up itself then). */
EVP_MD_CTX *ebcc__sim_keycache_sign_ctx(EVP_PKEY *key);

#endif
