/* SPDX-License-Identifier: MIT */
/* OP-TEE's attestation PTA: reports, the device key, and their offline check (see attest.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "bytes.h"
#include "attest.h"
#include "ebcc-base.h"
#include "teec.h"

#define ERR EBCC_ERR_VERIFY
#define WHAT EBCC_OPTEE_FORMAT " report"
#define HEADER_SIZE (4 + 1 + 1 + 2 + 4 + EBCC_TA_DIGEST_SIZE + 2)
#define ATTEMPTS 3

struct input {
	const void *data;
	size_t len;
};

/* Invokes func with the inputs as memref inputs and one memref output after them, growing the
 * output while the callee answers TEEC_ERROR_SHORT_BUFFER with a size up to out_max. */
static int call_with_output(struct ebcc__teedev *d, uint32_t session, uint32_t func,
			    const struct input *in, size_t n_in, size_t out_size, size_t out_max,
			    const char *what, uint8_t *out, size_t *ret_len)
{
	struct ebcc__teeshm shm[EBCC_TEE_PARAMS];
	struct tee_ioctl_param params[EBCC_TEE_PARAMS];
	struct ebcc__tee_result res = { 0 };
	size_t n_shm = 0;
	int r = 0;

	for (size_t i = 0; i < n_in && r == 0; i++) {
		r = ebcc__teedev_shm_alloc(d, in[i].len, &shm[i]);
		if (r == 0) {
			n_shm++;
			if (in[i].len > 0)
				memcpy(shm[i].addr, in[i].data, in[i].len);
			params[i] = ebcc__tee_memref(TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_INPUT, &shm[i],
						     in[i].len);
		}
	}
	for (unsigned attempt = 0; r == 0; attempt++) {
		uint64_t got;

		r = ebcc__teedev_shm_alloc(d, out_size, &shm[n_in]);
		if (r < 0)
			break;
		params[n_in] = ebcc__tee_memref(TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_OUTPUT,
						&shm[n_in], out_size);
		r = ebcc__teedev_invoke(d, session, func, params, n_in + 1, &res);
		got = params[n_in].b;
		if (r == 0 && res.ret == TEEC_SUCCESS) {
			if (got > out_size)
				r = ebcc__error(EBCC_ERR_BACKEND, "%s: %" PRIu64 " bytes of output "
						"claimed in a %zu-byte buffer", what, got, out_size);
			else
				memcpy(out, shm[n_in].addr, (size_t)got);
			*ret_len = (size_t)got;
		} else if (r == 0 && res.ret == TEEC_ERROR_SHORT_BUFFER) {
			if (got <= out_size || got > out_max || attempt + 1 == ATTEMPTS)
				r = ebcc__error(EBCC_ERR_BACKEND, "%s: TEEC_ERROR_SHORT_BUFFER asking "
						"for %" PRIu64 " bytes after %zu (at most %zu are "
						"expected)", what, got, out_size, out_max);
			else
				out_size = (size_t)got;
			ebcc__teedev_shm_free(d, &shm[n_in]);
			if (r == 0)
				continue;
			break;
		} else if (r == 0) {
			r = ebcc__teec_error(res.ret, res.origin, what);
		}
		ebcc__teedev_shm_free(d, &shm[n_in]);
		break;
	}
	for (size_t i = 0; i < n_shm; i++)
		ebcc__teedev_shm_free(d, &shm[i]);
	return r;
}

static int split_output(const uint8_t *buf, size_t len, const char *what,
			struct ebcc__optee_attestation_out *ret)
{
	size_t sig = len > EBCC_TA_DIGEST_SIZE ? len - EBCC_TA_DIGEST_SIZE : 0;

	if (sig < EBCC_OPTEE_SIG_MIN || sig > EBCC_OPTEE_SIG_MAX)
		return ebcc__error(EBCC_ERR_BACKEND, "%s: %zu bytes of output, not a 32-byte digest "
				   "and a %d..%d-byte signature", what, len, EBCC_OPTEE_SIG_MIN,
				   EBCC_OPTEE_SIG_MAX);
	memcpy(ret->digest, buf, EBCC_TA_DIGEST_SIZE);
	memcpy(ret->signature, buf + EBCC_TA_DIGEST_SIZE, sig);
	ret->signature_len = sig;
	return 0;
}

int ebcc__optee_binding_split(const uint8_t *buf, size_t len, const char *what,
			      uint8_t report_data[64], struct ebcc__optee_attestation_out *ret)
{
	if (len < 64)
		return ebcc__error(EBCC_ERR_STAGE, "%s: %zu bytes of binding output, fewer than the "
				   "64 of report_data", what, len);
	memcpy(report_data, buf, 64);
	/* The TA's output is malformed: that is the stage's failure. */
	return split_output(buf + 64, len - 64, what, ret) < 0 ? ebcc__error_prefix(EBCC_ERR_STAGE, "%s", "the TA's binding")
							      : 0;
}

/* TEE_UUID as the PTA reads it from memory: timeLow, timeMid, timeHiAndVersion in the CPU's
 * (little endian) order, then clockSeqAndNode. */
static void tee_uuid_memory(const uint8_t rfc[16], uint8_t out[16])
{
	ebcc__put_le32(out, (uint32_t)rfc[0] << 24 | (uint32_t)rfc[1] << 16 | (uint32_t)rfc[2] << 8 |
				    rfc[3]);
	ebcc__put_le16(out + 4, (uint16_t)(rfc[4] << 8 | rfc[5]));
	ebcc__put_le16(out + 6, (uint16_t)(rfc[6] << 8 | rfc[7]));
	memcpy(out + 8, rfc + 8, 8);
}

int ebcc__optee_attest_ta_digest(struct ebcc__teedev *d, const uint8_t uuid[16],
				 const uint8_t *nonce, size_t nonce_len,
				 struct ebcc__optee_attestation_out *ret)
{
	uint8_t pta[16], ta[16], buf[EBCC_TA_DIGEST_SIZE + EBCC_OPTEE_SIG_MAX];
	struct ebcc__tee_result res = { 0 };
	const struct input in[2] = { { ta, sizeof(ta) }, { nonce, nonce_len } };
	const char *what = "attestation PTA " EBCC_OPTEE_PTA_UUID ": GET_TA_SHDR_DIGEST";
	uint32_t session = 0;
	size_t len = 0;
	int r;

	ebcc__optee_uuid_parse(EBCC_OPTEE_PTA_UUID, pta);
	tee_uuid_memory(uuid, ta);
	r = ebcc__teedev_open_session(d, pta, &session, &res);
	if (r < 0)
		return r;
	if (res.ret != TEEC_SUCCESS)
		return ebcc__teec_error(res.ret, res.origin, "opening the attestation PTA "
					EBCC_OPTEE_PTA_UUID " (OP-TEE built without "
					"CFG_ATTESTATION_PTA?)");
	r = call_with_output(d, session, EBCC_PTA_ATTESTATION_GET_TA_SHDR_DIGEST, in, 2,
			     EBCC_TA_DIGEST_SIZE + 384, sizeof(buf), what, buf, &len);
	ebcc__teedev_close_session(d, session);
	if (r == 0)
		r = split_output(buf, len, what, ret);
	return r;
}

int ebcc__optee_attest_ta_memory(struct ebcc__teedev *d, uint32_t session,
				 uint32_t attest_command, const uint8_t *nonce, size_t nonce_len,
				 struct ebcc__optee_attestation_out *ret)
{
	uint8_t buf[EBCC_TA_DIGEST_SIZE + EBCC_OPTEE_SIG_MAX];
	const struct input in[1] = { { nonce, nonce_len } };
	char what[96];
	size_t len = 0;
	int r;

	snprintf(what, sizeof(what), "the TA's attestation command %" PRIu32, attest_command);
	r = call_with_output(d, session, attest_command, in, 1, EBCC_TA_DIGEST_SIZE + 384,
			     sizeof(buf), what, buf, &len);
	if (r == 0)
		r = split_output(buf, len, what, ret);
	return r;
}

static int rsa_public_pem(const uint8_t *e, size_t e_len, const uint8_t *n, size_t n_len,
			  char **ret)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	BIGNUM *be = BN_bin2bn(e, (int)e_len, NULL), *bn = BN_bin2bn(n, (int)n_len, NULL);
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *key = NULL;
	BIO *bio = NULL;
	char *data;
	long len;
	int r = 0;

	if (bld == NULL || be == NULL || bn == NULL ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) != 1 ||
	    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1 ||
	    (bio = BIO_new(BIO_s_mem())) == NULL || PEM_write_bio_PUBKEY(bio, key) != 1) {
		r = ebcc__error(EBCC_ERR_BACKEND, "the attestation PTA's key (%zu-byte modulus) is "
				"not an RSA public key", n_len);
		goto out;
	}
	len = BIO_get_mem_data(bio, &data);
	*ret = malloc((size_t)len + 1);
	if (*ret == NULL) {
		r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
		goto out;
	}
	memcpy(*ret, data, (size_t)len);
	(*ret)[len] = '\0';
out:
	ERR_clear_error();
	BIO_free(bio);
	EVP_PKEY_free(key);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(be);
	BN_free(bn);
	return r;
}

int ebcc__optee_attest_public_key(struct ebcc__teedev *d, char **ret_pem)
{
	struct ebcc__teeshm e = { .fd = -1 }, n = { .fd = -1 };
	struct tee_ioctl_param params[3];
	struct ebcc__tee_result res = { 0 };
	const char *what = "attestation PTA " EBCC_OPTEE_PTA_UUID ": GET_PUBKEY";
	uint8_t pta[16];
	uint32_t session = 0;
	int r;

	ebcc__optee_uuid_parse(EBCC_OPTEE_PTA_UUID, pta);
	r = ebcc__teedev_open_session(d, pta, &session, &res);
	if (r < 0)
		return r;
	if (res.ret != TEEC_SUCCESS)
		return ebcc__teec_error(res.ret, res.origin, "opening the attestation PTA "
					EBCC_OPTEE_PTA_UUID " (OP-TEE built without "
					"CFG_ATTESTATION_PTA?)");
	r = ebcc__teedev_shm_alloc(d, 8, &e);
	if (r == 0)
		r = ebcc__teedev_shm_alloc(d, EBCC_OPTEE_SIG_MAX, &n);
	if (r == 0) {
		params[0] = ebcc__tee_memref(TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_OUTPUT, &e, 8);
		params[1] = ebcc__tee_memref(TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_OUTPUT, &n,
					     EBCC_OPTEE_SIG_MAX);
		params[2] = (struct tee_ioctl_param){ .attr =
							      TEE_IOCTL_PARAM_ATTR_TYPE_VALUE_OUTPUT };
		r = ebcc__teedev_invoke(d, session, EBCC_PTA_ATTESTATION_GET_PUBKEY, params, 3, &res);
	}
	if (r == 0 && res.ret != TEEC_SUCCESS)
		r = ebcc__teec_error(res.ret, res.origin, what);
	if (r == 0 && params[2].a != EBCC_TEE_ALG_RSASSA_PKCS1_PSS_MGF1_SHA256)
		r = ebcc__error(EBCC_ERR_BACKEND, "%s: signature algorithm 0x%08" PRIx64 ", not "
				"TEE_ALG_RSASSA_PKCS1_PSS_MGF1_SHA256", what, (uint64_t)params[2].a);
	if (r == 0 && (params[0].b == 0 || params[0].b > 8 || params[1].b < EBCC_OPTEE_SIG_MIN ||
		       params[1].b > EBCC_OPTEE_SIG_MAX))
		r = ebcc__error(EBCC_ERR_BACKEND, "%s: an exponent of %" PRIu64 " bytes and a "
				"modulus of %" PRIu64 " bytes", what, (uint64_t)params[0].b,
				(uint64_t)params[1].b);
	if (r == 0)
		r = rsa_public_pem(e.addr, (size_t)params[0].b, n.addr, (size_t)params[1].b, ret_pem);
	if (e.fd >= 0)
		ebcc__teedev_shm_free(d, &e);
	if (n.fd >= 0)
		ebcc__teedev_shm_free(d, &n);
	ebcc__teedev_close_session(d, session);
	return r;
}

/* ---- the report ----------------------------------------------------------------------------- */

int ebcc__optee_report_encode(enum ebcc__optee_attestation kind, uint32_t session,
			      const struct ebcc__optee_attestation_out *out, uint8_t **ret,
			      size_t *ret_len)
{
	size_t len = HEADER_SIZE + out->signature_len;
	uint8_t *p = malloc(len);

	if (p == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	memcpy(p, "EBOP", 4);
	p[4] = 1;
	p[5] = (uint8_t)kind;
	p[6] = p[7] = 0;
	ebcc__put_le32(p + 8, session);
	memcpy(p + 12, out->digest, EBCC_TA_DIGEST_SIZE);
	ebcc__put_le16(p + 44, (uint16_t)out->signature_len);
	memcpy(p + HEADER_SIZE, out->signature, out->signature_len);
	*ret = p;
	*ret_len = len;
	return 0;
}

struct parsed {
	enum ebcc__optee_attestation kind;
	uint32_t session;
	const uint8_t *digest;
	const uint8_t *sig;
	size_t sig_len;
};

static int decode(const uint8_t *data, size_t len, struct parsed *ret)
{
	if (data == NULL || len < HEADER_SIZE)
		return ebcc__error(ERR, WHAT ": %zu bytes is too short", len);
	if (memcmp(data, "EBOP", 4) != 0)
		return ebcc__error(ERR, WHAT ": no \"EBOP\" magic");
	if (data[4] != 1)
		return ebcc__error(ERR, WHAT ": version %u, only 1 is understood", data[4]);
	if (data[5] != EBCC_OPTEE_ATTEST_TA_DIGEST && data[5] != EBCC_OPTEE_ATTEST_TA_MEMORY &&
	    data[5] != EBCC_OPTEE_ATTEST_TA_BINDING)
		return ebcc__error(ERR, WHAT ": kind %u is not 1 (ta-digest), 2 (ta-memory) or 3 "
				   "(ta-binding)", data[5]);
	if (data[6] != 0 || data[7] != 0)
		return ebcc__error(ERR, WHAT ": reserved bytes are not zero");
	ret->kind = (enum ebcc__optee_attestation)data[5];
	ret->session = ebcc__le32(data + 8);
	ret->digest = data + 12;
	ret->sig_len = ebcc__le16(data + 44);
	ret->sig = data + HEADER_SIZE;
	if (ret->sig_len < EBCC_OPTEE_SIG_MIN || ret->sig_len > EBCC_OPTEE_SIG_MAX ||
	    ret->sig_len != len - HEADER_SIZE)
		return ebcc__error(ERR, WHAT ": signature length %zu, but %zu bytes follow (%d..%d "
				   "allowed)", ret->sig_len, len - HEADER_SIZE, EBCC_OPTEE_SIG_MIN,
				   EBCC_OPTEE_SIG_MAX);
	return 0;
}

/* 1 valid, 0 not, < 0 could not check. */
static int pss_verify(EVP_PKEY *key, const uint8_t *report_data, const struct parsed *p)
{
	uint8_t msg[EBCC_REPORT_DATA_SIZE + EBCC_TA_DIGEST_SIZE];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	if (ctx == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	memcpy(msg, report_data, EBCC_REPORT_DATA_SIZE);
	memcpy(msg + EBCC_REPORT_DATA_SIZE, p->digest, EBCC_TA_DIGEST_SIZE);
	ok = EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, key) == 1 &&
	     EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
	     EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, EBCC_TA_DIGEST_SIZE) == 1 &&
	     EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) == 1 &&
	     EVP_DigestVerify(ctx, p->sig, p->sig_len, msg, sizeof(msg)) == 1;
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return ok;
}

static int check_signature(const struct ebcc_backend_report_check *check,
			   const struct ebcc__optee_policy *pol, const struct parsed *p,
			   char *detail, size_t size, bool *verified)
{
	*verified = false;
	if (pol->n_keys == 0) {
		snprintf(detail, size, "not verified: no trusted_keys in the policy (the attestation "
			 "PTA's public key, from ebcc_backend_attestation_key on the device)");
		if (!pol->allow_unverified_signature)
			return ebcc__error(ERR, WHAT ": signature %s; set "
					   "backend_options.optee.allow_unverified_signature to "
					   "accept it anyway", detail);
		return 0;
	}
	for (size_t i = 0; i < pol->n_keys; i++) {
		EVP_PKEY *key = pol->keys[i];
		int ok;

		if (!EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_get_bits(key) < 2048 ||
		    (size_t)EVP_PKEY_get_size(key) != p->sig_len)
			continue;
		ok = pss_verify(key, check->report_data, p);
		if (ok < 0)
			return ok;
		if (ok) {
			*verified = true;
			snprintf(detail, size, "verified: RSASSA-PSS (SHA-256, salt 32) over "
				 "report_data || digest by trusted_keys[%zu], the attestation PTA's "
				 "key", i);
			return 0;
		}
	}
	return ebcc__error(ERR, WHAT ": the signature over report_data || digest does not verify "
			   "with any of the %zu trusted_keys (RSA keys of %zu bytes are tried)",
			   pol->n_keys, p->sig_len);
}

static const char *const never_digest[] = {
	"the running TA: the digest is the signed-header digest of the TA file OP-TEE loads for "
	"this UUID, not a measurement of the session's memory",
	"the request and response: OP-TEE signs the nonce the normal world hands it; that "
	"report_data binds them is the claim of the library, which runs outside the TEE",
	"the session id (EID) and the kind of attestation: OP-TEE does not sign them (the EID is "
	"bound in report_data by the library; the TA's UUID is covered by the digest)",
	"the attestation key's origin: OP-TEE generates it on the device and keeps it in secure "
	"storage; no manufacturer certifies it, so it is only as trusted as its enrolment",
	NULL,
};

static const char *const never_memory[] = {
	"the request and response: the TA forwards report_data to the PTA; unless its own code "
	"checks report_data against what it answered, their binding is the normal world's claim",
	"the session id (EID) and the kind of attestation: OP-TEE does not sign them (the EID is "
	"bound in report_data by the library; the TA's UUID is covered by the digest)",
	"the attestation key's origin: OP-TEE generates it on the device and keeps it in secure "
	"storage; no manufacturer certifies it, so it is only as trusted as its enrolment",
	NULL,
};

static const char *const never_binding[] = {
	"that the TA computed report_data itself: the PTA signs what the calling TA hands it, next "
	"to a hash of that TA's memory, which the policy pins (ta_digest); it is the TA's own "
	"binding when that TA binds with libebcc-stage and forwards no other data to the PTA",
	"the session id (EID): OP-TEE does not sign it (the TA binds it in report_data)",
	"the attestation key's origin: OP-TEE generates it on the device and keeps it in secure "
	"storage; no manufacturer certifies it, so it is only as trusted as its enrolment",
	NULL,
};

static int verdict(const struct parsed *p, const struct ebcc__optee_policy *pol, bool verified,
		   const char *detail, char **ret)
{
	struct json_object *o = json_object_new_object(), *never = json_object_new_array();
	const char *const *list = p->kind == EBCC_OPTEE_ATTEST_TA_DIGEST   ? never_digest
				  : p->kind == EBCC_OPTEE_ATTEST_TA_BINDING ? never_binding
									    : never_memory;
	char hex[2 * EBCC_TA_DIGEST_SIZE + 1];
	int r;

	if (o == NULL || never == NULL) {
		json_object_put(o);
		json_object_put(never);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	ebcc__hex_encode(p->digest, EBCC_TA_DIGEST_SIZE, hex);
	json_object_object_add(o, "format", json_object_new_string(EBCC_OPTEE_FORMAT));
	json_object_object_add(o, "tee", json_object_new_string("OP-TEE (Arm TrustZone)"));
	json_object_object_add(o, "simulated", json_object_new_boolean(0));
	json_object_object_add(o, "hardware_root_of_trust", json_object_new_boolean(verified));
	json_object_object_add(o, "attestation",
			       json_object_new_string(ebcc__optee_attestation_name(p->kind)));
	json_object_object_add(o, "pta_command",
			       json_object_new_string(p->kind == EBCC_OPTEE_ATTEST_TA_DIGEST
							      ? "PTA_ATTESTATION_GET_TA_SHDR_DIGEST"
							      : "PTA_ATTESTATION_HASH_TA_MEMORY"));
	json_object_object_add(o, "session", json_object_new_int64(p->session));
	json_object_object_add(o, "ta_digest", json_object_new_string(hex));
	json_object_object_add(o, "ta_digest_pinned",
			       json_object_new_string(pol->has_ta_digest ? "matches the policy"
									 : "not pinned by the policy"));
	json_object_object_add(o, "report_data",
			       json_object_new_string(p->kind == EBCC_OPTEE_ATTEST_TA_BINDING
							      ? "bound by the TA: the nonce OP-TEE signed "
								"for it is the evidence's report_data"
							      : "bound: the nonce OP-TEE signed is the "
								"evidence's report_data"));
	json_object_object_add(o, "signature", json_object_new_string(detail));
	for (size_t i = 0; list[i] != NULL; i++)
		json_object_array_add(never, json_object_new_string(list[i]));
	json_object_object_add(o, "not_verified", never);
	r = ebcc__json_to_string(o, JSON_C_TO_STRING_PLAIN, ret);
	json_object_put(o);
	return r;
}

int ebcc__optee_verify(const struct ebcc_backend_report_check *check, char **ret_verdict)
{
	struct ebcc__optee_policy pol;
	struct parsed p = { 0 };
	char detail[256];
	bool verified = false;
	int r;

	if (check->format == NULL || strcmp(check->format, EBCC_OPTEE_FORMAT) != 0)
		return ebcc__error(ERR, "report format \"%s\" is not " EBCC_OPTEE_FORMAT,
				   check->format != NULL ? check->format : "(none)");
	if (check->report_data == NULL || check->report_data_len != EBCC_REPORT_DATA_SIZE)
		return ebcc__error(ERR, "report_data of %zu bytes (%d expected)",
				   check->report_data_len, EBCC_REPORT_DATA_SIZE);
	r = decode(check->report, check->report_len, &p);
	if (r < 0)
		return r;
	if (p.session != check->eid)
		return ebcc__error(ERR, WHAT ": for TEE session %" PRIu32 ", the evidence claims EID "
				   "%" PRIu64, p.session, check->eid);
	r = ebcc__optee_policy_parse(check, &pol);
	if (r < 0)
		return r;
	/* The kind is the normal world's label, not signed: "ta-binding", which says that the TA
	 * bound request and response itself, counts only where the policy expects it and pins
	 * the TA that does so. */
	if (pol.attestation != 0 && p.kind != pol.attestation)
		r = ebcc__error(ERR, WHAT ": attestation \"%s\", the policy expects \"%s\" "
				"(backend_options.optee.attestation)",
				ebcc__optee_attestation_name(p.kind),
				ebcc__optee_attestation_name(pol.attestation));
	else if (p.kind == EBCC_OPTEE_ATTEST_TA_BINDING &&
		 (pol.attestation != EBCC_OPTEE_ATTEST_TA_BINDING || !pol.has_ta_digest))
		r = ebcc__error(ERR, WHAT ": attestation \"ta-binding\" verifies only under a policy "
				"that expects it (backend_options.optee.attestation) and pins the TA "
				"that binds (ta_digest): the kind is not signed");
	if (r == 0)
		r = check_signature(check, &pol, &p, detail, sizeof(detail), &verified);
	if (r == 0 && pol.has_ta_digest &&
	    memcmp(pol.ta_digest, p.digest, EBCC_TA_DIGEST_SIZE) != 0) {
		char e[2 * EBCC_TA_DIGEST_SIZE + 1], g[sizeof(e)];

		ebcc__hex_encode(pol.ta_digest, EBCC_TA_DIGEST_SIZE, e);
		ebcc__hex_encode(p.digest, EBCC_TA_DIGEST_SIZE, g);
		r = ebcc__error(ERR, WHAT ": TA digest expected %s (backend_options.optee.ta_digest), "
				"found %s", e, g);
	}
	if (r == 0)
		r = verdict(&p, &pol, verified, detail, ret_verdict);
	ebcc__optee_policy_clear(&pol);
	return r;
}
