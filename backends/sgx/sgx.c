/* SPDX-License-Identifier: MIT */
/*
 * The sgx backend: Intel SGX enclaves through the Linux driver (/dev/sgx_enclave).
 *
 *  - A stage image is an enclave image, its layout and its SIGSTRUCT in one ustar archive
 *    (image.h); its measurement, "sgx:<MRENCLAVE>", is computed at create as the CPU computes
 *    it (measure.h), and the SIGSTRUCT must be over it.
 *  - Stages are enclaves built, initialized and entered through the driver (driver.h) and
 *    served over edge calls through a channel outside the enclave (stage.h); the enclave,
 *    linked with libebcc-stage-sgx.a, computes report_data and makes its REPORT for the
 *    quoting enclave itself, and Intel's quote library turns it into a DCAP quote (qe.h). The
 *    host is outside the TCB: no stage_report() and no EBCC_BACKEND_HOST_IN_TCB.
 *  - Quotes are verified offline (verify.c, quote.c), as evidence or raw through
 *    ebcc_report_verify(ctx, "sgx", ...): the signature data and PCK chain checks it shares
 *    with TDX quotes (../tsm/dcap.c), the policy's root, CRLs, collateral and enclave pins.
 *  - probe() says whether the driver's device opens; there is no fallback to sim.
 *
 * userdata is the host operations (NULL: the real system under "/"); tests register the
 * backend with a fake of the driver, the CPU and the quoting enclave
 * (ebcc__backend_sgx_register()).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "../builtin.h"
#include "backend-env.h"
#include "hostops.h"
#include "ebcc-base.h"
#include "image.h"
#include "stage.h"
#include "verify.h"

#define SGX_DEVICE "/dev/sgx_enclave"

static const struct ebcc__hostops *host_of(void *userdata)
{
	return userdata != NULL ? userdata : ebcc__hostops_system();
}

/* 1 when the driver's device opens; else 0 with the reason as this thread's error. */
static int available(const struct ebcc__hostops *host)
{
	char dev[EBCC_PATH_MAX + 32];
	int fd;

	ebcc__host_display(host, SGX_DEVICE, dev, sizeof(dev));
	fd = ebcc__host_open(host, SGX_DEVICE, O_RDWR);
	if (fd == -ENOENT || fd == -ENODEV || fd == -ENXIO)
		ebcc__error(EBCC_ERR_UNAVAILABLE, "no %s: %s: no SGX driver (the CPU has no SGX "
			    "with flexible launch control, SGX is disabled in the firmware, or the "
			    "kernel is older than 5.11); the sgx backend never falls back to sim",
			    dev, strerror(-fd));
	else if (fd < 0)
		ebcc__error(fd == -EACCES || fd == -EPERM ? EBCC_ERR_PERMISSION : EBCC_ERR_UNAVAILABLE,
			    "open %s: %s", dev, strerror(-fd));
	if (fd < 0)
		return 0;
	ebcc__host_close(host, &fd);
	return 1;
}

static int sgx_probe(const struct ebcc_backend_env *env, char **ret_details_json,
		     void *userdata)
{
	const struct ebcc__hostops *host = host_of(userdata);
	char saved[EBCC_ERROR_MESSAGE_MAX], dev[EBCC_PATH_MAX + 32];
	struct json_object *o = json_object_new_object();
	int r, ok;

	if (o == NULL)
		return ebcc__env_fail(env, ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory"));
	ebcc__error_save(saved);
	json_object_object_add(o, "device",
			       json_object_new_string(ebcc__host_display(host, SGX_DEVICE, dev,
									 sizeof(dev))));
	json_object_object_add(o, "attestation",
			       json_object_new_string("DCAP ECDSA quotes v3: the quoting enclave's "
						      "P-256 attestation key, certified by the "
						      "platform's PCK certificate"));
	json_object_object_add(o, "stage_images",
			       json_object_new_string("ustar archives of enclave.bin, layout.json "
						      "and sigstruct, measured as the CPU measures "
						      "the enclave (sgx:<MRENCLAVE hex>)"));
	json_object_object_add(o, "quote_library",
			       json_object_new_string("libsgx_dcap_ql.so.1 (Intel's, loaded at run "
						      "time when a stage is quoted)"));
	json_object_object_add(o, "offline_verification", json_object_new_boolean(1));
	ok = available(host);
	if (!ok)
		json_object_object_add(o, "reason",
				       json_object_new_string(ebcc__error_message()));
	ebcc__error_restore(saved);
	r = ebcc__env_json(env, o, ret_details_json);
	json_object_put(o);
	return r < 0 ? ebcc__env_fail(env, r) : ok;
}

static int sgx_stage_load(const struct ebcc_backend_env *env,
			  const struct ebcc_backend_stage_params *params,
			  struct ebcc_backend_stage *ret_stage, void *userdata)
{
	struct ebcc__sgx_stage *s = NULL;
	char *ref = NULL, text[256];
	int r = ebcc__stage_params_check(params, true);

	if (r == 0)
		r = ebcc__sgx_stage_load(host_of(userdata), env, params, &s);
	if (r == 0 && params->lifetime == EBCC_LIFETIME_INSTANCE) {
		r = ebcc__sgx_stage_ref(s, &ref);
		if (r == 0 && (ret_stage->ref = ebcc__env_strdup(env, ref)) == NULL)
			r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
		free(ref);
	}
	if (r == 0) {
		snprintf(text, sizeof(text), "{\"kind\":\"sgx-enclave\",\"eid_is\":\"%s\"}",
			 params->lifetime == EBCC_LIFETIME_INSTANCE
				 ? "the backend's counter (one enclave from start to kill)"
				 : "the backend's counter (a fresh enclave per invocation)");
		ret_stage->isolation_json = ebcc__env_strdup(env, text);
		ret_stage->measurement = ebcc__env_strdup(env, ebcc__sgx_stage_measurement(s));
		if (ret_stage->isolation_json == NULL || ret_stage->measurement == NULL)
			r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	if (r < 0) {
		ebcc__sgx_stage_unload(s);
		return ebcc__env_fail(env, r);
	}
	ret_stage->handle = s;
	ret_stage->eid = ebcc__sgx_stage_eid(s);
	return 0;
}

static int sgx_stage_open(const struct ebcc_backend_env *env,
			  const struct ebcc_backend_stage_params *params, uint64_t eid,
			  const char *ref, void **ret_handle, void *userdata)
{
	struct ebcc__sgx_stage *s = NULL;
	int r = ebcc__stage_params_check(params, false);

	if (r == 0)
		r = ebcc__sgx_stage_open(host_of(userdata), params, eid, ref, &s);
	if (r < 0)
		return ebcc__env_fail(env, r);
	*ret_handle = s;
	return 0;
}

static int sgx_stage_invoke(const struct ebcc_backend_env *env, void *handle,
			    const struct ebcc_backend_binding *binding, const void *request,
			    size_t request_len, struct ebcc_backend_invocation *ret,
			    void *userdata)
{
	int r;

	(void)userdata;
	r = ebcc__sgx_stage_invoke(handle, env, binding, request, request_len, ret);
	return r < 0 ? ebcc__env_fail(env, r) : 0;
}

static void sgx_stage_close(void *handle, void *userdata)
{
	(void)userdata;
	ebcc__sgx_stage_close(handle);
}

static int sgx_stage_unload(const struct ebcc_backend_env *env, void *handle, void *userdata)
{
	(void)env, (void)userdata;
	ebcc__sgx_stage_unload(handle);
	return 0;
}

/* MRENCLAVE as the CPU will compute it, from the image's layout and pages. */
static int sgx_measure_image(const struct ebcc_backend_env *env, int image_fd, const char *what,
			     char **ret_measurement, void *userdata)
{
	char measurement[EBCC_MEASUREMENT_MAX];
	int r = ebcc__sgx_image_measure_fd(image_fd, what, measurement, sizeof(measurement));

	(void)userdata;
	if (r < 0)
		return ebcc__env_fail(env, r);
	*ret_measurement = ebcc__env_strdup(env, measurement);
	return *ret_measurement != NULL
		       ? 0
		       : ebcc__env_fail(env, ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory"));
}

static int sgx_verify_report(const struct ebcc_backend_env *env,
			     const struct ebcc_backend_report_check *check,
			     char **ret_verdict_json, void *userdata)
{
	(void)userdata;
	return ebcc__env_verify_report(env, check, ebcc__sgx_verify, ret_verdict_json);
}

static const struct ebcc_backend_ops sgx_ops = {
	.size = sizeof(struct ebcc_backend_ops),
	.abi_version = EBCC_BACKEND_ABI_VERSION,
	.name = "sgx",
	.isolation = EBCC_ISOLATION_ENCLAVE,
	.flags = 0,
	.evidence_format = EBCC_SGX_FORMAT,
	.max_report_data = EBCC_REPORT_DATA_SIZE,
	.probe = sgx_probe,
	.stage_load = sgx_stage_load,
	.stage_open = sgx_stage_open,
	.stage_invoke = sgx_stage_invoke,
	.stage_close = sgx_stage_close,
	.stage_unload = sgx_stage_unload,
	.verify_report = sgx_verify_report,
	.measure_image = sgx_measure_image,
};

const struct ebcc_backend_ops *ebcc__backend_sgx_entry(void)
{
	return &sgx_ops;
}

int ebcc__backend_sgx_register(struct ebcc_context *ctx, const struct ebcc__hostops *host)
{
	return ebcc_backend_register(ctx, &sgx_ops, (void *)host);
}
