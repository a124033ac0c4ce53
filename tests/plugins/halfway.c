/* SPDX-License-Identifier: MIT */
/*
 * A backend that follows the ownership rule of backend.h to the letter and fails half-way in
 * the callback named by $EBCC_HALFWAY_FAIL: it fills every output from env->alloc() first,
 * releases a scratch buffer it did not hand back, and only then fails. The core must free what
 * the outputs hold exactly once (AddressSanitizer and valgrind watch the test that drives it).
 * Without the variable every callback succeeds, so the composite gets to each later one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ebcc/backend.h>

#define PLUGIN_EXPORT __attribute__((visibility("default")))

#define HALFWAY_FORMAT "test.halfway.v1"

struct halfway_stage {
	uint64_t eid;
};

static int failing(const char *callback)
{
	const char *which = getenv("EBCC_HALFWAY_FAIL");

	return which != NULL && strcmp(which, callback) == 0;
}

static char *copy(const struct ebcc_backend_env *env, const void *data, size_t len)
{
	char *out = env->alloc(len + 1, env->host);

	if (out != NULL) {
		memcpy(out, data, len);
		out[len] = '\0';
	}
	return out;
}

static char *text(const struct ebcc_backend_env *env, const char *s)
{
	return copy(env, s, strlen(s));
}

/* Allocated and not handed back: the backend releases it itself. */
static void scratch(const struct ebcc_backend_env *env)
{
	env->release(env->alloc(64, env->host), env->host);
}

static int fail(const struct ebcc_backend_env *env, const char *callback, int code)
{
	scratch(env);
	env->set_error(callback, env->host);
	return code;
}

/* Per-context state, made by init and freed by destroy: a context's probes are counted. */
struct halfway_context {
	unsigned probes;
};

static int hw_init(const struct ebcc_backend_env *env, void **ret_userdata, void *userdata)
{
	struct halfway_context *c;

	if (userdata != NULL || *ret_userdata != NULL)
		return fail(env, "halfway: a plugin's init got userdata", EBCC_ERR_BACKEND);
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return EBCC_ERR_NO_MEMORY;
	if (failing("init")) {
		free(c);
		return fail(env, "halfway: init failed half-way", EBCC_ERR_BACKEND);
	}
	*ret_userdata = c;
	return 0;
}

static void hw_destroy(void *userdata)
{
	free(userdata);
}

static int hw_probe(const struct ebcc_backend_env *env, char **ret_details, void *userdata)
{
	struct halfway_context *c = userdata;
	char details[64];

	c->probes++;
	snprintf(details, sizeof(details), "{\"halfway\": true, \"probes\": %u}", c->probes);
	*ret_details = text(env, details);
	if (failing("probe"))
		return fail(env, "halfway: probe failed half-way", EBCC_ERR_BACKEND);
	return 1;
}

static int hw_load(const struct ebcc_backend_env *env, const struct ebcc_backend_stage_params *p,
		   struct ebcc_backend_stage *ret, void *userdata)
{
	struct halfway_stage *s = calloc(1, sizeof(*s));

	(void)userdata;
	if (s == NULL)
		return EBCC_ERR_NO_MEMORY;
	s->eid = 7;
	ret->measurement = text(env, p->expected_measurement);
	ret->ref = text(env, "halfway-ref");
	ret->isolation_json = text(env, "{\"isolated\": false}");
	if (failing("stage_load")) {
		free(s); /* the handle is the backend's own */
		return fail(env, "halfway: stage_load failed half-way", EBCC_ERR_BACKEND);
	}
	ret->handle = s;
	ret->eid = s->eid;
	return 0;
}

static int hw_open(const struct ebcc_backend_env *env, const struct ebcc_backend_stage_params *p,
		   uint64_t eid, const char *ref, void **ret_handle, void *userdata)
{
	struct halfway_stage *s;

	(void)p;
	(void)userdata;
	if (eid == 0 || ref == NULL || strcmp(ref, "halfway-ref") != 0)
		return fail(env, "halfway: no such stage", EBCC_ERR_NOT_FOUND);
	if (failing("stage_open"))
		return fail(env, "halfway: stage_open failed half-way", EBCC_ERR_BACKEND);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return EBCC_ERR_NO_MEMORY;
	s->eid = eid;
	*ret_handle = s;
	return 0;
}

/* Its "stage" runs in the host, which it declares inside the TEE: the core binds, and asks
 * hw_report for the report. */
static int hw_invoke(const struct ebcc_backend_env *env, void *h,
		     const struct ebcc_backend_binding *binding, const void *req, size_t len,
		     struct ebcc_backend_invocation *ret, void *userdata)
{
	static const char line[] = "halfway: the stage logged this\n";

	(void)h;
	(void)binding;
	(void)userdata;
	ret->response.data = copy(env, req, len);
	ret->response.len = len;
	ret->log.data = copy(env, line, sizeof(line) - 1);
	ret->log.len = sizeof(line) - 1;
	if (failing("stage_invoke"))
		return fail(env, "halfway: stage_invoke failed half-way", EBCC_ERR_STAGE);
	return 0;
}

/* The report is report_data itself: enough for the core, which only carries it. */
static int hw_report(const struct ebcc_backend_env *env, void *h, const uint8_t *rd, size_t len,
		     struct ebcc_backend_buffer *ret, void *userdata)
{
	(void)h;
	(void)userdata;
	ret->data = copy(env, rd, len);
	ret->len = len;
	if (failing("stage_report"))
		return fail(env, "halfway: stage_report failed half-way", EBCC_ERR_STAGE);
	return 0;
}

static int hw_verify(const struct ebcc_backend_env *env,
		     const struct ebcc_backend_report_check *check, char **ret_verdict,
		     void *userdata)
{
	(void)userdata;
	*ret_verdict = text(env, "{\"halfway\": \"checked report_data only\"}");
	if (failing("verify_report"))
		return fail(env, "halfway: verify_report failed half-way", EBCC_ERR_VERIFY);
	if (check->report_len != check->report_data_len ||
	    memcmp(check->report, check->report_data, check->report_len) != 0)
		return fail(env, "halfway: the report does not cover report_data", EBCC_ERR_VERIFY);
	return 0;
}

static int hw_key(const struct ebcc_backend_env *env, char **ret_pem, void *userdata)
{
	(void)userdata;
	*ret_pem = text(env, "-----BEGIN PUBLIC KEY-----\nhalfway\n-----END PUBLIC KEY-----\n");
	if (failing("attestation_key"))
		return fail(env, "halfway: attestation_key failed half-way", EBCC_ERR_BACKEND);
	return 0;
}

static void hw_close(void *h, void *userdata)
{
	(void)userdata;
	free(h);
}

static int hw_unload(const struct ebcc_backend_env *env, void *h, void *userdata)
{
	(void)env;
	(void)userdata;
	free(h);
	return 0;
}

static const struct ebcc_backend_ops ops = {
	.size = sizeof(struct ebcc_backend_ops),
	.abi_version = EBCC_BACKEND_ABI_VERSION,
	.name = "halfway",
	.isolation = EBCC_ISOLATION_ENCLAVE,
	.flags = EBCC_BACKEND_SIMULATED | EBCC_BACKEND_HOST_IN_TCB,
	.evidence_format = HALFWAY_FORMAT,
	.max_report_data = 64,
	.probe = hw_probe,
	.stage_load = hw_load,
	.stage_open = hw_open,
	.stage_invoke = hw_invoke,
	.stage_report = hw_report,
	.stage_close = hw_close,
	.stage_unload = hw_unload,
	.verify_report = hw_verify,
	.attestation_key = hw_key,
	.destroy = hw_destroy,
	.init = hw_init,
};

PLUGIN_EXPORT const struct ebcc_backend_ops *ebcc_backend_entry_v1(void);

const struct ebcc_backend_ops *ebcc_backend_entry_v1(void)
{
	return &ops;
}
