/* SPDX-License-Identifier: MIT */
/*
 * The stage-held key and the secrets sealed to it (ebcc_stage_key_public(),
 * ebcc_stage_open_secret()), with BearSSL: X25519, HKDF-SHA-256 and AES-256-GCM, randomness
 * from getrandom(). The private key never leaves this process's memory and is wiped when it has
 * opened its secret, when a new key replaces it, or when its answer was never sent.
 *
 * One key at a time, per stage process: made during request N (pending), bound by N's answer
 * (its evidence carries the public key under report_data), it opens one secret sealed to that
 * answer in a later request and is then wiped. The format is in ../sealformat.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <bearssl.h>

#include <ebcc/ebcc.h>
#include <ebcc/stage.h>

#include "../sealformat.h"
#include "secret.h"

static int fill_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int ebcc_stage_key_public(unsigned char public_key[32])
{
	const br_ec_impl *ec = &br_ec_c25519_m31;

	if (public_key == NULL)
		return EBCC_ERR_INVALID_ARG;
	if (!ebcc__stage_key.in_request)
		return EBCC_ERR_STATE; /* only an answer can bind it */
	if (ebcc__stage_key.state != EBCC_STAGE_KEY_PENDING) {
		/* A new key replaces the bound one: the secret sealed to it is not opened. */
		ebcc__stage_key_wipe();
		if (fill_random(ebcc__stage_key.secret, sizeof(ebcc__stage_key.secret)) < 0)
			return EBCC_ERR_IO;
		if (ec->mulgen(ebcc__stage_key.public_key, ebcc__stage_key.secret,
			       sizeof(ebcc__stage_key.secret), BR_EC_curve25519) != EBCC_SEAL_KEY_SIZE) {
			ebcc__stage_key_wipe();
			return EBCC_ERR_STAGE;
		}
		ebcc__stage_key.state = EBCC_STAGE_KEY_PENDING;
	}
	memcpy(public_key, ebcc__stage_key.public_key, EBCC_SEAL_KEY_SIZE);
	return 0;
}

/* The AES-256 key of blob b: HKDF-SHA-256 over X25519(our key, the sealer's). 0, or < 0 for a
 * low-order ephemeral key (the shared secret all zero). */
static int derive(const struct ebcc_seal_blob *b, uint8_t out[EBCC_SEAL_KEY_SIZE])
{
	const br_ec_impl *ec = &br_ec_c25519_m31;
	uint8_t shared[EBCC_SEAL_KEY_SIZE], any = 0;
	br_hkdf_context hc;

	memcpy(shared, b->ephemeral_key, sizeof(shared));
	if (ec->mul(shared, sizeof(shared), ebcc__stage_key.secret, sizeof(ebcc__stage_key.secret),
		    BR_EC_curve25519) != 1) {
		explicit_bzero(shared, sizeof(shared));
		return -1;
	}
	for (size_t i = 0; i < sizeof(shared); i++)
		any |= shared[i];
	if (any == 0)
		return -1;
	br_hkdf_init(&hc, &br_sha256_vtable, b->report_data, EBCC_SEAL_RD_SIZE);
	br_hkdf_inject(&hc, shared, sizeof(shared));
	br_hkdf_flip(&hc);
	{
		uint8_t info[sizeof(EBCC_SEAL_HKDF_INFO) - 1 + 2 * EBCC_SEAL_KEY_SIZE];

		memcpy(info, EBCC_SEAL_HKDF_INFO, sizeof(EBCC_SEAL_HKDF_INFO) - 1);
		memcpy(info + sizeof(EBCC_SEAL_HKDF_INFO) - 1, b->ephemeral_key, EBCC_SEAL_KEY_SIZE);
		memcpy(info + sizeof(EBCC_SEAL_HKDF_INFO) - 1 + EBCC_SEAL_KEY_SIZE,
		       ebcc__stage_key.public_key, EBCC_SEAL_KEY_SIZE);
		br_hkdf_produce(&hc, info, sizeof(info), out, EBCC_SEAL_KEY_SIZE);
	}
	explicit_bzero(shared, sizeof(shared));
	explicit_bzero(&hc, sizeof(hc));
	return 0;
}

int ebcc_stage_open_secret(const void *sealed, size_t sealed_len, void **ret_secret,
			   size_t *ret_secret_len)
{
	struct ebcc_seal_blob b;
	br_aes_ct_ctr_keys aes;
	br_gcm_context gcm;
	uint8_t aes_key[EBCC_SEAL_KEY_SIZE];
	uint8_t *plain;
	uint32_t ok;

	if (sealed == NULL || ret_secret == NULL || ret_secret_len == NULL)
		return EBCC_ERR_INVALID_ARG;
	if (ebcc__seal_decode(sealed, sealed_len, &b) != EBCC_SEAL_OK)
		return EBCC_ERR_CORRUPT;
	if (ebcc__stage_key.state != EBCC_STAGE_KEY_BOUND)
		return EBCC_ERR_STATE; /* no key, or its answer is not sent yet, or it was used */
	/* Sealed to another key or another answer's: another stage, invocation or measurement. */
	if (memcmp(b.public_key, ebcc__stage_key.public_key, EBCC_SEAL_KEY_SIZE) != 0 ||
	    memcmp(b.report_data, ebcc__stage_key.report_data, EBCC_SEAL_RD_SIZE) != 0)
		return EBCC_ERR_VERIFY;
	plain = malloc(b.ciphertext_len > 0 ? b.ciphertext_len : 1);
	if (plain == NULL)
		return EBCC_ERR_NO_MEMORY;
	if (derive(&b, aes_key) < 0) {
		free(plain);
		return EBCC_ERR_VERIFY;
	}
	memcpy(plain, b.ciphertext, b.ciphertext_len);
	br_aes_ct_ctr_init(&aes, aes_key, sizeof(aes_key));
	br_gcm_init(&gcm, &aes.vtable, br_ghash_ctmul64);
	br_gcm_reset(&gcm, b.iv, EBCC_SEAL_IV_SIZE);
	br_gcm_aad_inject(&gcm, sealed, b.ad_len);
	br_gcm_flip(&gcm);
	br_gcm_run(&gcm, 0, plain, b.ciphertext_len);
	ok = br_gcm_check_tag(&gcm, b.tag);
	explicit_bzero(aes_key, sizeof(aes_key));
	explicit_bzero(&aes, sizeof(aes));
	explicit_bzero(&gcm, sizeof(gcm));
	if (!ok) {
		/* Tampered with, or not sealed to this key: the key stays for the genuine one. */
		explicit_bzero(plain, b.ciphertext_len);
		free(plain);
		return EBCC_ERR_VERIFY;
	}
	ebcc__stage_key_wipe(); /* one key, one secret */
	*ret_secret = plain;
	*ret_secret_len = b.ciphertext_len;
	return 0;
}

void ebcc_stage_secret_free(void *secret, size_t len)
{
	if (secret == NULL)
		return;
	explicit_bzero(secret, len);
	free(secret);
}
