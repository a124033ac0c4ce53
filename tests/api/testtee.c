/* SPDX-License-Identifier: MIT */
/* testtee: the evidence tests' own backend (see testtee.h for the report layout). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "testtee.h"

#define MAGIC "EBCCTT01"
#define HEADER 82 /* magic, report_data, eid, measurement length */
#define SIG 64

struct testtee {
	EVP_PKEY *key;
	char *pem;
	pthread_mutex_t lock;
	char *last_policy;
	unsigned verify_calls;
};

struct testtee *testtee_new(void)
{
	struct testtee *tt = calloc(1, sizeof(*tt));
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long len;

	if (tt == NULL || bio == NULL)
		goto fail;
	pthread_mutex_init(&tt->lock, NULL);
	tt->key = EVP_EC_gen("P-256");
	if (tt->key == NULL || PEM_write_bio_PUBKEY(bio, tt->key) != 1)
		goto fail;
	len = BIO_get_mem_data(bio, &data);
	tt->pem = len > 0 ? strndup(data, (size_t)len) : NULL;
	if (tt->pem == NULL)
		goto fail;
	BIO_free(bio);
	return tt;
fail:
	BIO_free(bio);
	testtee_free(tt);
	return NULL;
}

void testtee_free(struct testtee *tt)
{
	if (tt == NULL)
		return;
	EVP_PKEY_free(tt->key);
	free(tt->pem);
	free(tt->last_policy);
	pthread_mutex_destroy(&tt->lock);
	free(tt);
}

const char *testtee_public_pem(const struct testtee *tt)
{
	return tt->pem;
}

const char *testtee_last_policy(const struct testtee *tt)
{
	return tt->last_policy;
}

unsigned testtee_verify_calls(const struct testtee *tt)
{
	return tt->verify_calls;
}

static void put_u64(uint8_t *out, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint64_t get_u64(const uint8_t *in)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | in[i];
	return v;
}

int testtee_report(const struct testtee *tt, const uint8_t *report_data, const char *measurement,
		   uint64_t eid, uint8_t **ret_report, size_t *ret_len)
{
	size_t n = strlen(measurement), body = HEADER + n, der_len = 0;
	uint8_t *report = malloc(body + SIG), *der = NULL;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	ECDSA_SIG *sig = NULL;
	const uint8_t *p;
	int r = -1;

	if (report == NULL || md == NULL || n > 0xffff)
		goto out;
	memcpy(report, MAGIC, 8);
	memcpy(report + 8, report_data, EBCC_REPORT_DATA_SIZE);
	put_u64(report + 72, eid);
	report[80] = (uint8_t)(n >> 8);
	report[81] = (uint8_t)n;
	memcpy(report + HEADER, measurement, n);
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, tt->key) != 1 ||
	    EVP_DigestSign(md, NULL, &der_len, report, body) != 1)
		goto out;
	der = malloc(der_len);
	if (der == NULL || EVP_DigestSign(md, der, &der_len, report, body) != 1)
		goto out;
	p = der;
	sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
	if (sig == NULL || BN_bn2binpad(ECDSA_SIG_get0_r(sig), report + body, 32) != 32 ||
	    BN_bn2binpad(ECDSA_SIG_get0_s(sig), report + body + 32, 32) != 32)
		goto out;
	*ret_report = report;
	*ret_len = body + SIG;
	report = NULL;
	r = 0;
out:
	ECDSA_SIG_free(sig);
	free(der);
	EVP_MD_CTX_free(md);
	free(report);
	return r;
}

/* 1 when the signature verifies with pem, 0 when not, -1 when pem is not a P-256 key. */
static int signature_ok(const char *pem, const uint8_t *body, size_t body_len, const uint8_t *rs)
{
	BIO *bio = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *key = bio != NULL ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(rs, 32, NULL), *s = BN_bin2bn(rs + 32, 32, NULL);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *der = NULL;
	char group[32] = "";
	int der_len, ok = -1;

	if (key == NULL || !EVP_PKEY_is_a(key, "EC") ||
	    EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					   NULL) != 1 ||
	    strcmp(group, "prime256v1") != 0)
		goto out;
	ok = 0;
	if (sig == NULL || r == NULL || s == NULL || md == NULL || ECDSA_SIG_set0(sig, r, s) != 1)
		goto out;
	r = s = NULL; /* owned by sig now */
	der_len = i2d_ECDSA_SIG(sig, &der);
	if (der_len > 0 && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestVerify(md, der, (size_t)der_len, body, body_len) == 1)
		ok = 1;
out:
	OPENSSL_free(der);
	EVP_MD_CTX_free(md);
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(sig);
	EVP_PKEY_free(key);
	BIO_free(bio);
	return ok;
}

static int fail(const struct ebcc_backend_env *env, const char *message)
{
	env->set_error(message, env->host);
	return EBCC_ERR_VERIFY;
}

static int verify_report(const struct ebcc_backend_env *env,
			 const struct ebcc_backend_report_check *check, char **ret_verdict,
			 void *userdata)
{
	struct testtee *tt = userdata;
	size_t n, mlen = strlen(check->measurement);
	char message[256];

	pthread_mutex_lock(&tt->lock);
	tt->verify_calls++;
	free(tt->last_policy);
	tt->last_policy = check->policy_json != NULL ? strdup(check->policy_json) : NULL;
	pthread_mutex_unlock(&tt->lock);

	if (check->report_data_len != EBCC_REPORT_DATA_SIZE)
		return fail(env, "report_data is not 64 bytes");
	if (check->report_len < HEADER + SIG || memcmp(check->report, MAGIC, 8) != 0)
		return fail(env, "report: not a testtee report (magic)");
	n = (size_t)check->report[80] << 8 | check->report[81];
	if (check->report_len != HEADER + n + SIG)
		return fail(env, "report: length does not match its measurement length");
	if (memcmp(check->report + 8, check->report_data, EBCC_REPORT_DATA_SIZE) != 0)
		return fail(env, "report: report_data differs from the envelope's");
	if (get_u64(check->report + 72) != check->eid)
		return fail(env, "report: eid differs from the envelope's");
	if (n != mlen || memcmp(check->report + HEADER, check->measurement, n) != 0)
		return fail(env, "report: measurement differs from the envelope's");
	if (check->trusted_keys_count == 0)
		return fail(env, "trusted_keys: none given; a testtee report is checked against a "
			    "trusted key");
	for (size_t i = 0; i < check->trusted_keys_count; i++) {
		int ok = signature_ok(check->trusted_keys[i], check->report, HEADER + n,
				      check->report + HEADER + n);

		if (ok < 0) {
			snprintf(message, sizeof(message),
				 "trusted_keys[%zu]: not a PEM ECDSA P-256 public key", i);
			return fail(env, message);
		}
		if (ok == 1) {
			char *verdict = env->alloc(64, env->host);

			if (verdict == NULL)
				return EBCC_ERR_NO_MEMORY;
			snprintf(verdict, 64, "{\"signature\":\"ecdsa-p256\",\"key_index\":%zu}", i);
			*ret_verdict = verdict;
			return 0;
		}
	}
	snprintf(message, sizeof(message),
		 "trusted_keys: the report's signature verifies with none of the %zu keys",
		 check->trusted_keys_count);
	return fail(env, message);
}

static int probe(const struct ebcc_backend_env *env, char **ret_details, void *userdata)
{
	(void)env, (void)ret_details, (void)userdata;
	return 1;
}

static int stage_load(const struct ebcc_backend_env *env,
		      const struct ebcc_backend_stage_params *params, struct ebcc_backend_stage *ret,
		      void *userdata)
{
	(void)params, (void)ret, (void)userdata;
	env->set_error("testtee runs no stages", env->host);
	return EBCC_ERR_UNAVAILABLE;
}

static int stage_invoke(const struct ebcc_backend_env *env, void *handle,
			const struct ebcc_backend_binding *binding, const void *request,
			size_t request_len, struct ebcc_backend_invocation *ret, void *userdata)
{
	(void)handle, (void)binding, (void)request, (void)request_len, (void)ret, (void)userdata;
	env->set_error("testtee runs no stages", env->host);
	return EBCC_ERR_UNAVAILABLE;
}

static int stage_unload(const struct ebcc_backend_env *env, void *handle, void *userdata)
{
	(void)env, (void)handle, (void)userdata;
	return 0;
}

int testtee_register(struct testtee *tt, struct ebcc_context *ctx, const char *name,
		     const char *format, uint32_t flags)
{
	struct ebcc_backend_ops ops = {
		.size = sizeof(ops),
		.abi_version = EBCC_BACKEND_ABI_VERSION,
		.name = name,
		.isolation = EBCC_ISOLATION_ENCLAVE,
		.flags = flags,
		.evidence_format = format,
		.max_report_data = EBCC_REPORT_DATA_SIZE,
		.probe = probe,
		.stage_load = stage_load,
		.stage_invoke = stage_invoke,
		.stage_unload = stage_unload,
		.verify_report = verify_report,
	};

	return ebcc_backend_register(ctx, &ops, tt);
}
