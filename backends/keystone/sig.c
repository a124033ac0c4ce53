/* SPDX-License-Identifier: MIT */
/* Keystone's SHA3-512 Ed25519 variant (see sig.h). */
#include <string.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "ebcc-base.h"
#include "sig.h"

int ebcc__ks_sha3_512(const void *const *parts, const size_t *lens, size_t n,
		      uint8_t out[EBCC_KS_MDSIZE])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned int len = 0;
	int ok;

	if (ctx == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	ok = EVP_DigestInit_ex(ctx, EVP_sha3_512(), NULL) == 1;
	for (size_t i = 0; ok && i < n; i++)
		ok = lens[i] == 0 || EVP_DigestUpdate(ctx, parts[i], lens[i]) == 1;
	ok = ok && EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == EBCC_KS_MDSIZE;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "SHA3-512 failed (out of memory?)");
	return 0;
}

/* SHA3-512(a || b || c) mod L. */
static int hash_scalar(const void *a, size_t a_len, const void *b, size_t b_len, const void *c,
		       size_t c_len, uint8_t out[32])
{
	const void *parts[] = { a, b, c };
	size_t lens[] = { a_len, b_len, c_len };
	uint8_t h[EBCC_KS_MDSIZE];
	int r = ebcc__ks_sha3_512(parts, lens, 3, h);

	if (r == 0)
		crypto_core_ed25519_scalar_reduce(out, h);
	sodium_memzero(h, sizeof(h));
	return r;
}

/* S < L: S reduces to itself. */
static bool scalar_canonical(const uint8_t s[32])
{
	uint8_t wide[64] = { 0 }, reduced[32];

	memcpy(wide, s, 32);
	crypto_core_ed25519_scalar_reduce(reduced, wide);
	return memcmp(reduced, s, 32) == 0;
}

int ebcc__ks_verify(const uint8_t signature[EBCC_KS_SIGNATURE_SIZE], const void *msg,
		    size_t msg_len, const uint8_t public_key[EBCC_KS_PUBLIC_KEY_SIZE])
{
	const uint8_t *R = signature, *S = signature + 32;
	uint8_t k[32], sb[32], ka[32], check[32];
	int r;

	if (!scalar_canonical(S) || crypto_core_ed25519_is_valid_point(public_key) != 1)
		return 0;
	r = hash_scalar(R, 32, public_key, EBCC_KS_PUBLIC_KEY_SIZE, msg, msg_len, k);
	if (r < 0)
		return r;
	/* Both fail only on an identity result (S or k zero mod L): never a valid signature. */
	if (crypto_scalarmult_ed25519_base_noclamp(sb, S) != 0 ||
	    crypto_scalarmult_ed25519_noclamp(ka, k, public_key) != 0 ||
	    crypto_core_ed25519_sub(check, sb, ka) != 0)
		return 0;
	/* orlp compares the encoding: a non-canonical R never matches. */
	return sodium_memcmp(check, R, 32) == 0;
}

int ebcc__ks_sign(uint8_t signature[EBCC_KS_SIGNATURE_SIZE], const void *msg, size_t msg_len,
		  const uint8_t public_key[EBCC_KS_PUBLIC_KEY_SIZE],
		  const uint8_t secret_key[EBCC_KS_SECRET_KEY_SIZE])
{
	uint8_t nonce[32], k[32], a[32], wide[64] = { 0 }, ka[32];
	int r;

	r = hash_scalar(secret_key + 32, 32, NULL, 0, msg, msg_len, nonce);
	if (r < 0)
		return r;
	if (crypto_scalarmult_ed25519_base_noclamp(signature, nonce) != 0) {
		sodium_memzero(nonce, sizeof(nonce));
		return ebcc__error(EBCC_ERR_INVALID_ARG, "signature nonce reduces to zero");
	}
	r = hash_scalar(signature, 32, public_key, EBCC_KS_PUBLIC_KEY_SIZE, msg, msg_len, k);
	if (r == 0) {
		memcpy(wide, secret_key, 32);
		crypto_core_ed25519_scalar_reduce(a, wide);
		crypto_core_ed25519_scalar_mul(ka, k, a);
		crypto_core_ed25519_scalar_add(signature + 32, ka, nonce);
	}
	sodium_memzero(nonce, sizeof(nonce));
	sodium_memzero(a, sizeof(a));
	sodium_memzero(wide, sizeof(wide));
	sodium_memzero(ka, sizeof(ka));
	return r;
}

int ebcc__ks_keypair(const uint8_t seed[32], uint8_t public_key[EBCC_KS_PUBLIC_KEY_SIZE],
		     uint8_t secret_key[EBCC_KS_SECRET_KEY_SIZE])
{
	const void *parts[] = { seed };
	size_t lens[] = { 32 };
	uint8_t wide[64] = { 0 }, a[32];
	int r = ebcc__ks_sha3_512(parts, lens, 1, secret_key);

	if (r < 0)
		return r;
	secret_key[0] &= 248;
	secret_key[31] &= 63;
	secret_key[31] |= 64;
	memcpy(wide, secret_key, 32);
	crypto_core_ed25519_scalar_reduce(a, wide);
	r = crypto_scalarmult_ed25519_base_noclamp(public_key, a) == 0
		    ? 0
		    : ebcc__error(EBCC_ERR_INVALID_ARG, "secret scalar reduces to zero");
	sodium_memzero(a, sizeof(a));
	sodium_memzero(wide, sizeof(wide));
	return r;
}
