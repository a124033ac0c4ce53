/* SPDX-License-Identifier: MIT */
/*
 * The keystone backend: RISC-V Keystone enclaves (keystone-enclave/keystone, the driver ABI
 * since 874b3d8).
 *
 *  - A stage image is a ustar archive of loader.bin, eyrie-rt and eapp (image.c); its
 *    measurement (measure_image, at create) is the enclave hash the SM computes at FINALIZE
 *    (measure.c), computed again at load before anything reaches the driver.
 *  - Stages are enclaves driven through /dev/keystone_enclave (driver.c) and served over edge
 *    calls (stage.c); the eapp, linked with libebcc-stage-keystone.a, computes report_data and
 *    asks the SM for its report itself. The host is outside the TCB: no stage_report() and no
 *    EBCC_BACKEND_HOST_IN_TCB.
 *  - Reports are verified offline (report.c): SHA3-512 Ed25519 signatures, SM and enclave
 *    hashes.
 *  - probe() says whether the driver's device opens; there is no fallback to sim.
 *
 * userdata is the host operations (NULL: the real system under "/"); tests register the
 * backend with a fake of the driver and SM (ebcc__backend_keystone_register()).
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
#include "report.h"
#include "stage.h"

#define KEYSTONE_DEVICE "/dev/keystone_enclave"

static const struct ebcc__hostops *host_of(void *userdata)
{
	return userdata != NULL ? userdata : ebcc__hostops_system();
}

/* 1 when the driver's device opens; else 0 with the reason as this thread's error. */
static int available(const struct ebcc__hostops *host)
{
	char dev[EBCC_PATH_MAX + 32];
	int fd;

	ebcc__host_display(host, KEYSTONE_DEVICE, dev, sizeof(dev));
	fd = ebcc__host_open(host, KEYSTONE_DEVICE, O_RDWR);
	if (fd == -ENOENT || fd == -ENODEV || fd == -ENXIO)
		ebcc__error(EBCC_ERR_UNAVAILABLE, "no %s: %s: no Keystone driver (not a RISC-V host "
			    "with Keystone's security monitor, or the keystone-driver module is not "
			    "loaded); the keystone backend never falls back to sim", dev,
			    strerror(-fd));
	else if (fd < 0)
		ebcc__error(fd == -EACCES || fd == -EPERM ? EBCC_ERR_PERMISSION : EBCC_ERR_UNAVAILABLE,
			    "open %s: %s", dev, strerror(-fd));
	if (fd < 0)
		return 0;
	ebcc__host_close(host, &fd);
	return 1;
}

static int keystone_probe(const struct ebcc_backend_env *env, char **ret_details_json,
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
			       json_object_new_string(ebcc__host_display(host, KEYSTONE_DEVICE, dev,
									 sizeof(dev))));
	json_object_object_add(o, "stage_images",
			       json_object_new_string("ustar archives of loader.bin, eyrie-rt and "
						      "eapp, measured as the SM measures the "
						      "enclave (keystone:<SHA3-512 hex>)"));
	json_object_object_add(o, "attestation",
			       json_object_new_string("the security monitor's report: Ed25519 "
						      "with SHA3-512 by the SM key, which the "
						      "device key certifies"));
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

static int keystone_stage_load(const struct ebcc_backend_env *env,
			       const struct ebcc_backend_stage_params *params,
			       struct ebcc_backend_stage *ret_stage, void *userdata)
{
	struct ebcc__ks_stage *s = NULL;
	char *ref = NULL, *iso = NULL, *measurement = NULL, text[256];
	int r = ebcc__stage_params_check(params, true);

	if (r == 0)
		r = ebcc__ks_stage_load(host_of(userdata), env, params, &s);
	if (r == 0 && params->lifetime == EBCC_LIFETIME_INSTANCE) {
		r = ebcc__ks_stage_ref(s, &ref);
		if (r == 0 && (ret_stage->ref = ebcc__env_strdup(env, ref)) == NULL)
			r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
		free(ref);
	}
	if (r == 0) {
		snprintf(text, sizeof(text), "{\"kind\":\"keystone-enclave\",\"eid_is\":\"%s\"}",
			 params->lifetime == EBCC_LIFETIME_INSTANCE
				 ? "the driver's enclave id"
				 : "the backend's counter (a fresh enclave per invocation)");
		iso = ebcc__env_strdup(env, text);
		measurement = ebcc__env_strdup(env, ebcc__ks_stage_measurement(s));
		ret_stage->isolation_json = iso;
		ret_stage->measurement = measurement;
		if (iso == NULL || measurement == NULL)
			r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	if (r < 0) {
		ebcc__ks_stage_unload(s);
		return ebcc__env_fail(env, r);
	}
	ret_stage->handle = s;
	ret_stage->eid = ebcc__ks_stage_eid(s);
	return 0;
}

static int keystone_stage_open(const struct ebcc_backend_env *env,
			       const struct ebcc_backend_stage_params *params, uint64_t eid,
			       const char *ref, void **ret_handle, void *userdata)
{
	struct ebcc__ks_stage *s = NULL;
	int r = ebcc__stage_params_check(params, false);

	if (r == 0)
		r = ebcc__ks_stage_open(host_of(userdata), params, eid, ref, &s);
	if (r < 0)
		return ebcc__env_fail(env, r);
	*ret_handle = s;
	return 0;
}

static int keystone_stage_invoke(const struct ebcc_backend_env *env, void *handle,
				 const struct ebcc_backend_binding *binding, const void *request,
				 size_t request_len, struct ebcc_backend_invocation *ret,
				 void *userdata)
{
	int r;

	(void)userdata;
	r = ebcc__ks_stage_invoke(handle, env, binding, request, request_len, ret);
	return r < 0 ? ebcc__env_fail(env, r) : 0;
}

static void keystone_stage_close(void *handle, void *userdata)
{
	(void)userdata;
	ebcc__ks_stage_close(handle);
}

static int keystone_stage_unload(const struct ebcc_backend_env *env, void *handle,
				 void *userdata)
{
	int r = ebcc__ks_stage_unload(handle);

	(void)userdata;
	return r < 0 ? ebcc__env_fail(env, r) : 0;
}

static int keystone_verify_report(const struct ebcc_backend_env *env,
				  const struct ebcc_backend_report_check *check,
				  char **ret_verdict_json, void *userdata)
{
	(void)userdata;
	return ebcc__env_verify_report(env, check, ebcc__keystone_verify, ret_verdict_json);
}

/* The enclave hash the SM will compute at FINALIZE, from the archive's three files. */
static int keystone_measure_image(const struct ebcc_backend_env *env, int image_fd,
				  const char *what, char **ret_measurement, void *userdata)
{
	char measurement[EBCC_MEASUREMENT_MAX];
	int r = ebcc__ks_image_measure_fd(image_fd, what, measurement, sizeof(measurement));

	(void)userdata;
	if (r < 0)
		return ebcc__env_fail(env, r);
	*ret_measurement = ebcc__env_strdup(env, measurement);
	return *ret_measurement != NULL
		       ? 0
		       : ebcc__env_fail(env, ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory"));
}

static const struct ebcc_backend_ops keystone_ops = {
	.size = sizeof(struct ebcc_backend_ops),
	.abi_version = EBCC_BACKEND_ABI_VERSION,
	.name = "keystone",
	.isolation = EBCC_ISOLATION_ENCLAVE,
	.flags = 0,
	.evidence_format = EBCC_KEYSTONE_FORMAT,
	.max_report_data = EBCC_REPORT_DATA_SIZE,
	.probe = keystone_probe,
	.stage_load = keystone_stage_load,
	.stage_open = keystone_stage_open,
	.stage_invoke = keystone_stage_invoke,
	.stage_close = keystone_stage_close,
	.stage_unload = keystone_stage_unload,
	.verify_report = keystone_verify_report,
	.measure_image = keystone_measure_image,
};

const struct ebcc_backend_ops *ebcc__backend_keystone_entry(void)
{
	return &keystone_ops;
}

int ebcc__backend_keystone_register(struct ebcc_context *ctx, const struct ebcc__hostops *host)
{
	return ebcc_backend_register(ctx, &keystone_ops, (void *)host);
}
