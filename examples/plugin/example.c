/* SPDX-License-Identifier: MIT */
/*
 * An out-of-tree backend plugin, written against <ebcc/backend.h> only: what a TEE researcher
 * starts from. Load it with ebcc_backend_load(ctx, ".../ebcc-backend-example.so") or put it in
 * the plugin_dir.
 *
 * What it is, honestly: a backend named "example" that isolates nothing. stage_load measures
 * the image (SHA-256) but runs no code; stage_invoke answers every request with the request
 * itself and binds it as an enclave would; reports are unsigned, so verify_report checks their
 * structure and then refuses them.
 * A real backend puts its TEE calls where this one has comments saying so.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <ebcc/backend.h>

#define FORMAT "example.unsigned.v1"
#define MAGIC "EXAMPLE-REPORT-V1"

struct stage {
	uint64_t eid;
	char measurement[7 + 64 + 1];
};

static char *dup_env(const struct ebcc_backend_env *env, const char *text)
{
	size_t len = strlen(text);
	char *out = env->alloc(len + 1, env->host);

	if (out != NULL)
		memcpy(out, text, len + 1);
	return out;
}

static int example_probe(const struct ebcc_backend_env *env, char **ret_details_json,
			 void *userdata)
{
	(void)userdata;
	*ret_details_json = dup_env(env, "{\"note\":\"example plugin: isolates nothing, "
					 "echoes requests, unsigned reports\"}");
	return 1; /* a real backend checks its device here and returns 0 with a "reason" */
}

static int measure(const struct ebcc_backend_env *env, int fd, char out[7 + 64 + 1])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char digest[32], buf[65536];
	unsigned int n = 0;
	off_t offset = 0;
	ssize_t got;

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		env->set_error("example: SHA-256 unavailable", env->host);
		return EBCC_ERR_NO_MEMORY;
	}
	while ((got = pread(fd, buf, sizeof(buf), offset)) > 0) {
		EVP_DigestUpdate(md, buf, (size_t)got);
		offset += got;
	}
	if (got < 0 || EVP_DigestFinal_ex(md, digest, &n) != 1) {
		EVP_MD_CTX_free(md);
		env->set_error("example: cannot read the stage image", env->host);
		return EBCC_ERR_IO;
	}
	EVP_MD_CTX_free(md);
	memcpy(out, "sha256:", 7);
	for (unsigned int i = 0; i < n; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", digest[i]);
	return 0;
}

static int example_stage_load(const struct ebcc_backend_env *env,
			      const struct ebcc_backend_stage_params *params,
			      struct ebcc_backend_stage *ret_stage, void *userdata)
{
	struct stage *s;
	uint64_t eid = 0;
	int r;

	(void)userdata;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return EBCC_ERR_NO_MEMORY;
	r = measure(env, params->image_fd, s->measurement);
	if (r < 0) {
		free(s);
		return r;
	}
	/* A real backend creates its enclave here and takes the EID from the TEE. This one
	 * draws 53 random bits, unique among live stages with overwhelming probability. */
	if (getrandom(&eid, sizeof(eid), 0) != (ssize_t)sizeof(eid)) {
		free(s);
		env->set_error("example: getrandom failed", env->host);
		return EBCC_ERR_IO;
	}
	s->eid = (eid & ((UINT64_C(1) << 53) - 1)) | 1;
	ret_stage->handle = s;
	ret_stage->eid = s->eid;
	ret_stage->measurement = dup_env(env, s->measurement);
	ret_stage->ref = dup_env(env, s->measurement);
	ret_stage->isolation_json = dup_env(env, "{\"isolated\":false}");
	if (ret_stage->measurement == NULL || ret_stage->ref == NULL ||
	    ret_stage->isolation_json == NULL) {
		/* What is stored in ret_stage is the core's now, even on failure: it frees those
		 * strings. The handle is ours. */
		free(s);
		return EBCC_ERR_NO_MEMORY;
	}
	return 0;
}

static int example_stage_open(const struct ebcc_backend_env *env,
			      const struct ebcc_backend_stage_params *params, uint64_t eid,
			      const char *ref, void **ret_handle, void *userdata)
{
	struct stage *s;

	(void)params;
	(void)userdata;
	if (ref == NULL || strlen(ref) != 7 + 64) {
		env->set_error("example: bad stage ref", env->host);
		return EBCC_ERR_CORRUPT;
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return EBCC_ERR_NO_MEMORY;
	s->eid = eid;
	memcpy(s->measurement, ref, 7 + 64 + 1);
	*ret_handle = s;
	return 0;
}

static size_t report_size(size_t rd_len)
{
	return sizeof(MAGIC) - 1 + 7 + 64 + 8 + rd_len;
}

/* Unsigned: MAGIC, measurement, eid (little endian), report_data. A real backend's enclave asks
 * its TEE for a quote over report_data here. */
static int make_report(const struct ebcc_backend_env *env, const struct stage *s,
		       const uint8_t *report_data, size_t report_data_len,
		       struct ebcc_backend_buffer *ret_report)
{
	size_t len = report_size(report_data_len);
	uint8_t *out = env->alloc(len, env->host), *p = out;

	if (out == NULL)
		return EBCC_ERR_NO_MEMORY;
	memcpy(p, MAGIC, sizeof(MAGIC) - 1);
	p += sizeof(MAGIC) - 1;
	memcpy(p, s->measurement, 7 + 64);
	p += 7 + 64;
	for (int i = 0; i < 8; i++)
		*p++ = (uint8_t)(s->eid >> (8 * i));
	memcpy(p, report_data, report_data_len);
	ret_report->data = out;
	ret_report->len = len;
	return 0;
}

static void put_field(EVP_MD_CTX *md, const void *data, uint32_t len)
{
	uint8_t prefix[4] = { (uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
			      (uint8_t)len };

	EVP_DigestUpdate(md, prefix, sizeof(prefix));
	EVP_DigestUpdate(md, data, len);
}

/*
 * What the protected side computes (see ebcc_evidence_verify(3)): SHA-512 over the evidence
 * version's tag, the binding's fields as the core encoded them, and the SHA-256 digests of the
 * request received and the response returned. A real backend does this inside its enclave, over
 * the bytes the enclave itself read and wrote.
 */
static int bind(const struct ebcc_backend_binding *binding, const void *request,
		size_t request_len, const void *response, size_t response_len,
		uint8_t report_data[EBCC_REPORT_DATA_SIZE])
{
	static const char tag[] = "EBCC-EVIDENCE-V2";
	uint8_t request_digest[32], response_digest[32];
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int ok = md != NULL &&
		 EVP_Digest(request, request_len, request_digest, NULL, EVP_sha256(), NULL) == 1 &&
		 EVP_Digest(response, response_len, response_digest, NULL, EVP_sha256(), NULL) ==
			 1 &&
		 EVP_DigestInit_ex(md, EVP_sha512(), NULL) == 1;

	if (ok) {
		put_field(md, tag, sizeof(tag) - 1);
		EVP_DigestUpdate(md, binding->encoded, binding->encoded_len);
		put_field(md, request_digest, sizeof(request_digest));
		put_field(md, response_digest, sizeof(response_digest));
		ok = EVP_DigestFinal_ex(md, report_data, NULL) == 1;
	}
	EVP_MD_CTX_free(md);
	return ok ? 0 : EBCC_ERR_NO_MEMORY;
}

static int example_stage_invoke(const struct ebcc_backend_env *env, void *handle,
				const struct ebcc_backend_binding *binding, const void *request,
				size_t request_len, struct ebcc_backend_invocation *ret,
				void *userdata)
{
	static const char line[] = "example: echoed the request (no code ran)\n";
	void *out = request_len > 0 ? env->alloc(request_len, env->host) : NULL;
	char *log = env->alloc(sizeof(line) - 1, env->host);
	int r;

	(void)userdata;
	if ((request_len > 0 && out == NULL) || log == NULL) {
		env->release(out, env->host);
		env->release(log, env->host);
		return EBCC_ERR_NO_MEMORY;
	}
	/* A real backend enters its enclave here; the enclave answers, binds and reports. */
	if (request_len > 0)
		memcpy(out, request, request_len);
	memcpy(log, line, sizeof(line) - 1);
	ret->response.data = out;
	ret->response.len = request_len;
	ret->log.data = log;
	ret->log.len = sizeof(line) - 1;
	r = bind(binding, request, request_len, out, request_len, ret->report_data);
	if (r == 0)
		r = make_report(env, handle, ret->report_data, sizeof(ret->report_data),
				&ret->report);
	ret->bound = r == 0;
	return r;
}

static void example_stage_close(void *handle, void *userdata)
{
	(void)userdata;
	free(handle);
}

static int example_stage_unload(const struct ebcc_backend_env *env, void *handle, void *userdata)
{
	(void)env;
	(void)userdata;
	free(handle); /* a real backend destroys its enclave here */
	return 0;
}

static int example_verify_report(const struct ebcc_backend_env *env,
				 const struct ebcc_backend_report_check *check,
				 char **ret_verdict_json, void *userdata)
{
	(void)ret_verdict_json;
	(void)userdata;
	if (check->report_len != report_size(check->report_data_len) ||
	    memcmp(check->report, MAGIC, sizeof(MAGIC) - 1) != 0) {
		env->set_error("example: not an example report", env->host);
		return EBCC_ERR_VERIFY;
	}
	env->set_error("example: reports of the example backend are unsigned; nothing can be "
		       "verified",
		       env->host);
	return EBCC_ERR_VERIFY;
}

static const struct ebcc_backend_ops example_ops = {
	.size = sizeof(struct ebcc_backend_ops),
	.abi_version = EBCC_BACKEND_ABI_VERSION,
	.name = "example",
	.isolation = EBCC_ISOLATION_ENCLAVE,
	.flags = EBCC_BACKEND_SIMULATED | EBCC_BACKEND_CONCURRENT_INVOKE,
	.evidence_format = FORMAT,
	.max_report_data = 64,
	.probe = example_probe,
	.stage_load = example_stage_load,
	.stage_open = example_stage_open,
	.stage_invoke = example_stage_invoke,
	.stage_close = example_stage_close,
	.stage_unload = example_stage_unload,
	.verify_report = example_verify_report,
	/* no attestation_key: there is none; no destroy: no state */
};

/* The one symbol a plugin exports (EBCC_BACKEND_ENTRY_SYMBOL). */
__attribute__((visibility("default"))) const struct ebcc_backend_ops *ebcc_backend_entry_v1(void);

const struct ebcc_backend_ops *ebcc_backend_entry_v1(void)
{
	return &example_ops;
}
