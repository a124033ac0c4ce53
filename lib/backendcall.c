/* SPDX-License-Identifier: MIT */
/*
 * Every call into a backend's callbacks: the session's env and the backend's userdata passed,
 * an optional callback's absence reported, a failure turned into the library's error naming
 * the backend and the callback, and what a failed callback left behind freed. The rest of the
 * library never calls b->ops directly.
 */
#include <string.h>

#include "ebcc-private.h"

int ebcc__backend_failed(const struct ebcc_backend_session *s, const char *what, int r)
{
	if (r >= 0 || strcmp(ebcc_error_name(r), "EBCC_ERR_UNKNOWN") == 0)
		r = EBCC_ERR_BACKEND;
	if (!s->error_set)
		return ebcc__error(r, "backend %s: %s failed: %s", s->backend->name, what,
				   ebcc_strerror(r));
	return r;
}

int ebcc__call_init(const struct ebcc_backend_session *s, void **userdata)
{
	const struct ebcc_backend *b = s->backend;
	int r;

	if (b->ops.init == NULL)
		return 0;
	r = b->ops.init(&s->env, userdata, b->userdata);
	return r < 0 ? ebcc__backend_failed(s, "init", r) : 0;
}

void ebcc__call_destroy(const struct ebcc_backend *b)
{
	if (b->ops.destroy != NULL)
		b->ops.destroy(b->userdata);
}

int ebcc__call_probe(const struct ebcc_backend_session *s, char **ret_details)
{
	const struct ebcc_backend *b = s->backend;
	char *details = NULL;
	int available = b->ops.probe(&s->env, &details, b->userdata);

	if (available < 0) {
		free(details);
		return ebcc__backend_failed(s, "probe", available);
	}
	*ret_details = details;
	return available > 0;
}

int ebcc__call_attestation_key(const struct ebcc_backend_session *s, char **ret_pem)
{
	const struct ebcc_backend *b = s->backend;
	char *pem = NULL;
	int r;

	if (b->ops.attestation_key == NULL)
		return ebcc__error(EBCC_ERR_UNAVAILABLE,
				   "backend %s has no attestation key on this host", b->name);
	r = b->ops.attestation_key(&s->env, &pem, b->userdata);
	if (r < 0) {
		free(pem);
		return ebcc__backend_failed(s, "attestation_key", r);
	}
	if (pem == NULL)
		return ebcc__error(EBCC_ERR_BACKEND, "backend %s returned no attestation key",
				   b->name);
	*ret_pem = pem;
	return 0;
}

int ebcc__call_stage_load(const struct ebcc_backend_session *s,
			  const struct ebcc_backend_stage_params *params,
			  struct ebcc_backend_stage *out)
{
	const struct ebcc_backend *b = s->backend;
	int r = b->ops.stage_load(&s->env, params, out, b->userdata);

	if (r >= 0)
		return 0;
	free(out->measurement);
	free(out->ref);
	free(out->isolation_json);
	out->measurement = out->ref = out->isolation_json = NULL;
	return ebcc__error_prefix(ebcc__backend_failed(s, "stage_load", r), "stage %s",
				  params->stage_name);
}

bool ebcc__backend_can_open(const struct ebcc_backend *b)
{
	return b->ops.stage_open != NULL;
}

int ebcc__call_stage_open(const struct ebcc_backend_session *s,
			  const struct ebcc_backend_stage_params *params, uint64_t eid,
			  const char *ref, void **ret_handle)
{
	const struct ebcc_backend *b = s->backend;
	int r;

	if (b->ops.stage_open == NULL)
		return ebcc__error(EBCC_ERR_BACKEND,
				   "backend %s cannot reach a stage from another process "
				   "(no stage_open)",
				   b->name);
	r = b->ops.stage_open(&s->env, params, eid, ref, ret_handle, b->userdata);
	return r < 0 ? ebcc__error_prefix(ebcc__backend_failed(s, "stage_open", r), "stage %s",
					  params->stage_name)
		     : 0;
}

int ebcc__call_stage_invoke(const struct ebcc_backend_session *s, void *handle, const char *stage,
			    const struct ebcc_backend_binding *binding, const void *request,
			    size_t request_len, struct ebcc_backend_invocation *ret)
{
	const struct ebcc_backend *b = s->backend;
	int r = b->ops.stage_invoke(&s->env, handle, binding, request, request_len, ret,
				    b->userdata);

	return r < 0 ? ebcc__error_prefix(ebcc__backend_failed(s, "stage_invoke", r), "stage %s",
					  stage)
		     : 0;
}

int ebcc__call_stage_report(const struct ebcc_backend_session *s, void *handle, const char *stage,
			    const uint8_t *report_data, size_t report_data_len,
			    struct ebcc_backend_buffer *ret_report)
{
	const struct ebcc_backend *b = s->backend;
	int r;

	/* Only a host inside the TEE may obtain the report over the stage's report_data itself;
	 * registration allows stage_report() for no other backend. */
	if (b->ops.stage_report == NULL)
		return ebcc__error(EBCC_ERR_BACKEND, "backend %s returned no report for stage %s",
				   b->name, stage);
	r = b->ops.stage_report(&s->env, handle, report_data, report_data_len, ret_report,
				b->userdata);
	return r < 0 ? ebcc__error_prefix(ebcc__backend_failed(s, "stage_report", r), "stage %s",
					  stage)
		     : 0;
}

int ebcc__call_stage_unload(const struct ebcc_backend_session *s, void *handle)
{
	const struct ebcc_backend *b = s->backend;
	int r = b->ops.stage_unload(&s->env, handle, b->userdata);

	return r < 0 ? ebcc__backend_failed(s, "stage_unload", r) : 0;
}

void ebcc__call_stage_close(const struct ebcc_backend *b, void *handle)
{
	if (handle != NULL && b->ops.stage_close != NULL)
		b->ops.stage_close(handle, b->userdata);
}

int ebcc__call_verify_report(const struct ebcc_backend_session *s,
			     const struct ebcc_backend_report_check *check, const char *what,
			     char **ret_verdict)
{
	const struct ebcc_backend *b = s->backend;
	char *verdict = NULL;
	int r;

	if (b->ops.verify_report == NULL)
		return ebcc__error(EBCC_ERR_VERIFY, "%s: backend %s cannot verify reports", what,
				   b->name);
	r = b->ops.verify_report(&s->env, check, &verdict, b->userdata);
	if (r == 0) {
		*ret_verdict = verdict;
		return 0;
	}
	free(verdict);
	/* Failing to verify never reads as success, and a failure is a refusal unless the
	 * backend ran out of memory. */
	if (r == EBCC_ERR_NO_MEMORY)
		return ebcc__backend_failed(s, "verify_report", r);
	if (s->error_set)
		return ebcc__error_prefix(EBCC_ERR_VERIFY, "%s rejected", what);
	if (r < 0)
		return ebcc__error(EBCC_ERR_VERIFY,
				   "%s rejected: backend %s: verify_report failed with %s", what,
				   b->name, ebcc_error_name(r));
	return ebcc__error(EBCC_ERR_VERIFY, "%s rejected: backend %s: verify_report returned %d, "
			   "not 0", what, b->name, r);
}

int ebcc__call_measure_image(const struct ebcc_backend_session *s, int fd, const char *what,
			     char out[EBCC_MEASUREMENT_MAX])
{
	const struct ebcc_backend *b = s->backend;
	char *measurement = NULL;
	int r;

	if (b->ops.measure_image == NULL) {
		uint8_t digest[EBCC_SHA256_SIZE];

		/* Bounded like loading is (EBCC_STAGE_IMAGE_MAX), and checked before hashing. */
		r = ebcc__sha256_fd(fd, what, digest);
		if (r == 0)
			ebcc__measurement_format(digest, out);
		return r;
	}
	r = b->ops.measure_image(&s->env, fd, what, &measurement, b->userdata);
	if (r < 0) {
		free(measurement);
		return ebcc__backend_failed(s, "measure_image", r);
	}
	if (measurement == NULL || strlen(measurement) >= EBCC_MEASUREMENT_MAX ||
	    !ebcc__measurement_valid(measurement)) {
		r = ebcc__error(EBCC_ERR_BACKEND,
				"backend %s: measure_image gave %s a measurement that is not "
				EBCC_MEASUREMENT_FORMS,
				b->name, what);
		free(measurement);
		return r;
	}
	memcpy(out, measurement, strlen(measurement) + 1);
	free(measurement);
	return 0;
}
