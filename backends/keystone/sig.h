/* SPDX-License-Identifier: MIT */
/*
 * Keystone's hash and signature scheme. Keystone's security monitor, boot ROM and verifier
 * (keystone-enclave/keystone: sm/src/ed25519, bootrom, sdk/src/verifier/ed25519) use
 * orlp/ed25519 with every SHA-512 replaced by SHA3-512 (FIPS 202):
 *
 *   expanded secret key  a || prefix = SHA3-512(seed), a clamped;  public key A = [a]B
 *   sign(M)              r = SHA3-512(prefix || M) mod L, R = [r]B,
 *                        k = SHA3-512(R || A || M) mod L, S = r + k·a mod L, signature R || S
 *   verify               S < L, A a valid point of the prime-order subgroup, and
 *                        [S]B - [k]A encodes to exactly R
 *
 * Standard Ed25519 (OpenSSL's, libsodium's crypto_sign) cannot verify these signatures; this
 * builds the scheme from libsodium's group operations and OpenSSL's SHA3-512.
 */
#ifndef EBCC_KEYSTONE_SIG_H
#define EBCC_KEYSTONE_SIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EBCC_KS_MDSIZE 64
#define EBCC_KS_PUBLIC_KEY_SIZE 32
#define EBCC_KS_SECRET_KEY_SIZE 64 /* a || prefix, as Keystone keeps it */
#define EBCC_KS_SIGNATURE_SIZE 64

/* SHA3-512 over the concatenation of n parts. Errors: EBCC_ERR_NO_MEMORY. */
int ebcc__ks_sha3_512(const void *const *parts, const size_t *lens, size_t n,
		      uint8_t out[EBCC_KS_MDSIZE]);

/* 1 when signature is Keystone's signature of msg under public_key, 0 when not (a malformed
 * key or signature is "not"), or EBCC_ERR_NO_MEMORY. */
int ebcc__ks_verify(const uint8_t signature[EBCC_KS_SIGNATURE_SIZE], const void *msg,
		    size_t msg_len, const uint8_t public_key[EBCC_KS_PUBLIC_KEY_SIZE]);

/*
 * Keystone's signature of msg with the expanded secret key and the public key stored beside it
 * (which is hashed as given, as the SM does: its keys may be all zero, issue #361). Used by
 * the tests' fake security monitor. Errors: EBCC_ERR_NO_MEMORY, EBCC_ERR_INVALID_ARG (a nonce
 * that reduces to zero).
 */
int ebcc__ks_sign(uint8_t signature[EBCC_KS_SIGNATURE_SIZE], const void *msg, size_t msg_len,
		  const uint8_t public_key[EBCC_KS_PUBLIC_KEY_SIZE],
		  const uint8_t secret_key[EBCC_KS_SECRET_KEY_SIZE]);

/* orlp's ed25519_create_keypair with SHA3-512. Errors: EBCC_ERR_NO_MEMORY. */
int ebcc__ks_keypair(const uint8_t seed[32], uint8_t public_key[EBCC_KS_PUBLIC_KEY_SIZE],
		     uint8_t secret_key[EBCC_KS_SECRET_KEY_SIZE]);

#endif
