/* SPDX-License-Identifier: MIT */
/*
 * The cryptography hardware reports need, on OpenSSL: certificate lists from PEM and DER,
 * chain verification up to a verifier's trust anchors, raw ECDSA signatures (r and s as fixed
 * width integers, big endian in TDX quotes, little endian in SEV-SNP reports) and raw EC public
 * keys (x || y). Failures set this thread's last error message with OpenSSL's reason.
 */
#ifndef EBCC_TSM_CRYPTO_H
#define EBCC_TSM_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* Every certificate of a PEM text (at least one), in order. what names it in messages. */
int ebcc__x509_list_from_pem(const char *pem, size_t len, const char *what, int err,
			     STACK_OF(X509) **ret);

/* One DER certificate, all of len. */
int ebcc__x509_from_der(const uint8_t *der, size_t len, const char *what, int err, X509 **ret);

/* The subject's common name (or the whole subject) for messages. */
void ebcc__x509_name(X509 *cert, char *buf, size_t size);

/*
 * Verifies that leaf chains, through untrusted (may be NULL), to one of anchors (each a trust
 * anchor, self-signed or not), with validity periods checked at *at (seconds since the epoch)
 * or, when at is NULL, at the current time. 0 with the anchor the chain ends in (a reference
 * in *ret_anchor, unless NULL), or EBCC_ERR_VERIFY naming what and OpenSSL's verification
 * error.
 */
int ebcc__x509_chain_verify(X509 *leaf, STACK_OF(X509) *untrusted, STACK_OF(X509) *anchors,
			    const int64_t *at, const char *what, X509 **ret_anchor);

/* The SHA-256 fingerprint of the certificate's DER, lowercase hex ("" if it cannot be had). */
void ebcc__x509_sha256_hex(X509 *cert, char hex[2 * 32 + 1]);

/* An EC public key of group ("P-256", "P-384") from x || y (2 * field bytes). */
int ebcc__ec_key_from_raw(const char *group, const uint8_t *xy, size_t len, EVP_PKEY **ret);

/* Whether key is an EC key on group ("P-256", "P-384"). */
bool ebcc__ec_key_is(EVP_PKEY *key, const char *group);

/*
 * Checks an ECDSA signature given as r and s of n bytes each over msg, hashed with md
 * ("SHA256", "SHA384"). 1 valid, 0 invalid, < 0 (EBCC_ERR_*) when it could not be checked.
 */
int ebcc__ecdsa_verify_raw(EVP_PKEY *key, const char *md, const uint8_t *msg, size_t msg_len,
			   const uint8_t *r, const uint8_t *s, size_t n, bool little_endian);

/* Whether a and b are the same public key. */
bool ebcc__pkey_equal(EVP_PKEY *a, EVP_PKEY *b);

void ebcc__x509_list_free(STACK_OF(X509) *list);

#endif
