/* SPDX-License-Identifier: MIT */
/*
 * Release of a secret to one attested stage (ebcc_secret_seal(3), ebcc-secrets(7)): the
 * evidence is verified under the caller's policy, which must pin the measurement and the
 * nonce, and the secret is sealed to the public key that evidence binds: X25519 with an
 * ephemeral key, HKDF-SHA-256 salted with the evidence's report_data, AES-256-GCM whose
 * associated data is the blob's header (instance, stage, measurement, report_data, both keys,
 * IV). Only the stage that made the key, in the process that made it, can open it
 * (lib/stage/secret.c). The format is in sealformat.h.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>

#include "ebcc-private.h"
#include "sealformat.h"

#define CRYPTO_FAILED(what) ebcc__error(EBCC_ERR_NO_MEMORY, "seal: %s failed (OpenSSL)", what)

/* The policy a release needs: a pinned measurement and a nonce, so that the secret goes to
 * one stage image and to an answer made for this very request. */
static int check_policy(const char *policy_json)
{
	struct ebcc__policy p;
	int r;

	r = ebcc__policy_parse(policy_json, &p);
	if (r < 0)
		return r;
	if (p.measurement == NULL)
		r = ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_secret_seal: the policy pins no "
				"\"measurement\": a secret is released only to a named stage image");
	else if (!p.has_nonce || p.nonce_len == 0)
		r = ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_secret_seal: the policy has no "
				"\"nonce\": a secret is released only to evidence of a fresh challenge");
	ebcc__policy_clear(&p);
	return r;
}

/* X25519 with a fresh key against the stage's: the shared secret and our public key. */
static int agree(const uint8_t stage_key[EBCC_SEAL_KEY_SIZE], uint8_t shared[EBCC_SEAL_KEY_SIZE],
		 uint8_t ephemeral[EBCC_SEAL_KEY_SIZE])
{
	EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, stage_key,
						     EBCC_SEAL_KEY_SIZE);
	EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_id(EVP_PKEY_X25519, NULL), *dctx = NULL;
	EVP_PKEY *mine = NULL;
	size_t len = EBCC_SEAL_KEY_SIZE, plen = EBCC_SEAL_KEY_SIZE;
	uint8_t any = 0;
	int r = 0;

	if (peer == NULL || kctx == NULL || EVP_PKEY_keygen_init(kctx) != 1 ||
	    EVP_PKEY_keygen(kctx, &mine) != 1)
		r = CRYPTO_FAILED("an X25519 key");
	else if (EVP_PKEY_get_raw_public_key(mine, ephemeral, &plen) != 1 ||
		 plen != EBCC_SEAL_KEY_SIZE)
		r = CRYPTO_FAILED("an X25519 public key");
	else if ((dctx = EVP_PKEY_CTX_new(mine, NULL)) == NULL || EVP_PKEY_derive_init(dctx) != 1 ||
		 EVP_PKEY_derive_set_peer(dctx, peer) != 1 ||
		 EVP_PKEY_derive(dctx, shared, &len) != 1 || len != EBCC_SEAL_KEY_SIZE)
		r = ebcc__error(EBCC_ERR_VERIFY, "evidence: \"public_key\" is not a usable X25519 "
				"public key (a point of small order)");
	for (size_t i = 0; r == 0 && i < EBCC_SEAL_KEY_SIZE; i++)
		any |= shared[i];
	if (r == 0 && any == 0)
		r = ebcc__error(EBCC_ERR_VERIFY, "evidence: \"public_key\" gives an all-zero X25519 "
				"shared secret");
	EVP_PKEY_CTX_free(dctx);
	EVP_PKEY_CTX_free(kctx);
	EVP_PKEY_free(mine);
	EVP_PKEY_free(peer);
	return r;
}

/* HKDF-SHA-256(salt = report_data, ikm = shared, info = tag || ephemeral || stage key). */
static int derive(const uint8_t shared[EBCC_SEAL_KEY_SIZE], const struct ebcc_seal_blob *b,
		  uint8_t out[EBCC_SEAL_KEY_SIZE])
{
	uint8_t info[sizeof(EBCC_SEAL_HKDF_INFO) - 1 + 2 * EBCC_SEAL_KEY_SIZE];
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	size_t len = EBCC_SEAL_KEY_SIZE;
	int ok;

	memcpy(info, EBCC_SEAL_HKDF_INFO, sizeof(EBCC_SEAL_HKDF_INFO) - 1);
	memcpy(info + sizeof(EBCC_SEAL_HKDF_INFO) - 1, b->ephemeral_key, EBCC_SEAL_KEY_SIZE);
	memcpy(info + sizeof(EBCC_SEAL_HKDF_INFO) - 1 + EBCC_SEAL_KEY_SIZE, b->public_key,
	       EBCC_SEAL_KEY_SIZE);
	ok = c != NULL && EVP_PKEY_derive_init(c) == 1 &&
	     EVP_PKEY_CTX_set_hkdf_md(c, EVP_sha256()) == 1 &&
	     EVP_PKEY_CTX_set1_hkdf_salt(c, b->report_data, EBCC_SEAL_RD_SIZE) == 1 &&
	     EVP_PKEY_CTX_set1_hkdf_key(c, shared, EBCC_SEAL_KEY_SIZE) == 1 &&
	     EVP_PKEY_CTX_add1_hkdf_info(c, info, sizeof(info)) == 1 &&
	     EVP_PKEY_derive(c, out, &len) == 1 && len == EBCC_SEAL_KEY_SIZE;
	EVP_PKEY_CTX_free(c);
	return ok ? 0 : CRYPTO_FAILED("HKDF-SHA-256");
}

/* AES-256-GCM of secret into out (secret_len bytes, then the tag), over the header as AD. */
static int encrypt(const uint8_t key[EBCC_SEAL_KEY_SIZE], const uint8_t *iv, const uint8_t *ad,
		   size_t ad_len, const void *secret, size_t secret_len, uint8_t *out)
{
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n = 0, ok;

	ok = c != NULL && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, EBCC_SEAL_IV_SIZE, NULL) == 1 &&
	     EVP_EncryptInit_ex(c, NULL, NULL, key, iv) == 1 &&
	     EVP_EncryptUpdate(c, NULL, &n, ad, (int)ad_len) == 1 &&
	     (secret_len == 0 ||
	      EVP_EncryptUpdate(c, out, &n, secret, (int)secret_len) == 1) &&
	     EVP_EncryptFinal_ex(c, out + secret_len, &n) == 1 &&
	     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, EBCC_SEAL_TAG_SIZE, out + secret_len) ==
		     1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : CRYPTO_FAILED("AES-256-GCM");
}

static int seal(const struct ebcc_evidence_fields *f, const void *secret, size_t secret_len,
		uint8_t **ret, size_t *ret_len)
{
	uint8_t ephemeral[EBCC_SEAL_KEY_SIZE], iv[EBCC_SEAL_IV_SIZE];
	uint8_t shared[EBCC_SEAL_KEY_SIZE], key[EBCC_SEAL_KEY_SIZE];
	struct ebcc_seal_blob b = {
		.instance = (const uint8_t *)f->binding.instance,
		.instance_len = strlen(f->binding.instance),
		.stage = (const uint8_t *)f->binding.stage,
		.stage_len = strlen(f->binding.stage),
		.measurement = (const uint8_t *)f->binding.measurement,
		.measurement_len = strlen(f->binding.measurement),
		.report_data = f->report_data,
		.public_key = f->binding.public_key,
		.ephemeral_key = ephemeral,
		.iv = iv,
		.ciphertext_len = secret_len,
	};
	size_t cap = EBCC_SEAL_HEADER_MAX + 4 + secret_len + EBCC_SEAL_TAG_SIZE, ad_len;
	uint8_t *out;
	int r;

	r = agree(f->binding.public_key, shared, ephemeral);
	if (r < 0)
		return r;
	if (RAND_bytes(iv, sizeof(iv)) != 1) {
		OPENSSL_cleanse(shared, sizeof(shared));
		return CRYPTO_FAILED("RAND_bytes");
	}
	r = derive(shared, &b, key);
	OPENSSL_cleanse(shared, sizeof(shared));
	if (r < 0)
		return r;
	out = malloc(cap);
	if (out == NULL) {
		OPENSSL_cleanse(key, sizeof(key));
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory sealing %zu bytes", secret_len);
	}
	/* The evidence's fields were checked when it was made: the header always fits. */
	ad_len = ebcc__seal_encode_header(&b, out, cap);
	r = ad_len == 0 ? ebcc__error(EBCC_ERR_INVALID_ARG, "seal: the evidence's fields do not "
				      "fit a sealed secret's header")
			: encrypt(key, iv, out, ad_len, secret, secret_len, out + ad_len + 4);
	OPENSSL_cleanse(key, sizeof(key));
	if (r < 0) {
		OPENSSL_cleanse(out, cap);
		free(out);
		return r;
	}
	*ret = out;
	*ret_len = ad_len + 4 + secret_len + EBCC_SEAL_TAG_SIZE;
	return 0;
}

EBCC_EXPORT int ebcc_secret_seal(struct ebcc_context *ctx, struct ebcc_evidence *ev,
				 const struct ebcc_verify_options *options, const void *secret,
				 size_t secret_len, void **ret_sealed, size_t *ret_sealed_len)
{
	struct ebcc_verify_options checked = EBCC_VERIFY_OPTIONS_INIT;
	const struct ebcc_evidence_fields *f;
	const char *policy_json = NULL;
	char *built = NULL;
	uint8_t *sealed = NULL;
	size_t sealed_len = 0;
	int r;

	if (ctx == NULL || ev == NULL || (secret == NULL && secret_len > 0) ||
	    ret_sealed == NULL || ret_sealed_len == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_secret_seal: %s is NULL",
				   ctx == NULL	  ? "ctx"
				   : ev == NULL ? "ev"
				   : ret_sealed == NULL ? "ret_sealed"
				   : ret_sealed_len == NULL ? "ret_sealed_len"
							    : "secret (with a non-zero length)");
	r = ebcc__verify_options_policy(options, "ebcc_secret_seal", &policy_json, &built);
	if (r < 0)
		return r;
	f = ebcc__evidence_fields(ev);
	if (policy_json == NULL || policy_json[0] == '\0')
		r = ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_secret_seal: %s: a policy with "
				"\"measurement\" and \"nonce\" is required",
				options == NULL ? "options is NULL" : "the options give no policy");
	else if (secret_len > EBCC_SEAL_SECRET_MAX)
		r = ebcc__error(EBCC_ERR_TOO_BIG, "ebcc_secret_seal: a secret of %zu bytes is "
				"more than the %zu allowed", secret_len, EBCC_SEAL_SECRET_MAX);
	else if (f->binding.public_key == NULL)
		r = ebcc__error(EBCC_ERR_VERIFY, "evidence of %s/%s seq %" PRIu64 " (version %d) "
				"binds no \"public_key\": the stage made no key for that answer "
				"(ebcc_stage_key_public())",
				f->binding.instance, f->binding.stage, f->binding.seq,
				f->binding.version);
	else if ((r = check_policy(policy_json)) >= 0) {
		checked.policy_json = policy_json;
		r = ebcc_evidence_verify_with(ctx, ev, &checked, NULL);
		if (r < 0)
			r = ebcc__error_prefix(r, "ebcc_secret_seal: nothing released");
	} else {
		r = ebcc__error_prefix(r, "ebcc_secret_seal: nothing released");
	}
	free(built);
	if (r < 0)
		return r;
	r = seal(f, secret, secret_len, &sealed, &sealed_len);
	if (r < 0)
		return r;
	ebcc__log_debug(ctx, "sealed %zu bytes to the key of %s/%s seq %" PRIu64, secret_len,
			f->binding.instance, f->binding.stage, f->binding.seq);
	*ret_sealed = sealed;
	*ret_sealed_len = sealed_len;
	return 0;
}
