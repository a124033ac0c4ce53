/* SPDX-License-Identifier: MIT */
/* A process-wide cache of decoded device keys (keycache.c). Thread-safe. */
#ifndef EBCC_SIM_KEYCACHE_H
#define EBCC_SIM_KEYCACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "ebcc-base.h"

/* What tells one version of a key file from another. */
struct ebcc__sim_key_identity {
	dev_t dev;
	ino_t ino;
	off_t size;
	int64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;
};

void ebcc__sim_key_identity_of(const struct stat *st, struct ebcc__sim_key_identity *ret);
/* A decoded device key: OpenSSL's (for the public key), its id, and the signing secret the
 * security monitor gets (libsodium's Ed25519 secret key). */
struct ebcc__sim_key {
	EVP_PKEY *pkey;
	uint8_t key_id[EBCC_SHA256_SIZE];
	uint8_t secret[64];
};

/* Releases and wipes a key (report.c). */
void ebcc__sim_key_clear(struct ebcc__sim_key *k);

/* The key decoded from that file (a new reference to its pkey); false when not cached. */
bool ebcc__sim_keycache_get(const struct ebcc__sim_key_identity *id, struct ebcc__sim_key *ret);
/* Remembers key (taking a reference of its own) for that file. */
void ebcc__sim_keycache_put(const struct ebcc__sim_key_identity *id, const struct ebcc__sim_key *key);

#endif
