/* SPDX-License-Identifier: MIT */
/*
 * The keystone backend: RISC-V Keystone enclaves (keystone-enclave/keystone, the driver ABI
 * since 874b3d8). What this version does:
 *
 *  - verifies Keystone attestation reports offline (report.c): the security monitor's
 *    1352-byte report, its SHA3-512 Ed25519 signatures, the SM hash and enclave hash pins;
 *  - computes the enclave measurement from the loader, runtime and eapp files (measure.c);
 *  - probes for the driver's device, /dev/keystone_enclave, through the host operations.
 *
 * It does not load or run stages: stage_load() refuses, on any host, saying so. The driver
 * sequence (driver.c) is written and tested against a fake, but no stage image format, eapp
 * stage library or request protocol over edge calls uses it yet. The backend
 * never falls back to sim. Its evidence would come from the eapp's own attest_enclave call;
 * the host is outside the TCB, so it has no stage_report() and no EBCC_BACKEND_HOST_IN_TCB.
 *
 * userdata is the host operations (NULL: the real system under "/").
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include <json-c/json.h>

#include "../common/backend-env.h"
#include "../common/hostops.h"
#include "ebcc-private.h"
#include "report.h"

#define KEYSTONE_DEVICE "/dev/keystone_enclave"
#define NOT_IMPLEMENTED                                                                        \
	"loading and running stages on Keystone is not implemented in this version of libebcc "  \
	"(the keystone backend verifies Keystone reports offline and computes enclave "          \
	"measurements only)"

static const struct ebcc__hostops *host_of(void *userdata)
{
	return userdata != NULL ? userdata : ebcc__hostops_system();
}

/* Why the backend cannot run stages here, as an error (EBCC_ERR_UNAVAILABLE, _PERMISSION). */
static int unavailable(const struct ebcc__hostops *host)
{
	char dev[EBCC_PATH_MAX + 32];
	int fd;

	ebcc__host_display(host, KEYSTONE_DEVICE, dev, sizeof(dev));
	fd = ebcc__host_open(host, KEYSTONE_DEVICE, O_RDWR);
	if (fd == -ENOENT || fd == -ENODEV || fd == -ENXIO)
		return ebcc__error(EBCC_ERR_UNAVAILABLE, "no %s: %s: no Keystone driver (not a "
				   "RISC-V host with Keystone's security monitor, or the "
				   "keystone-driver module is not loaded)", dev, strerror(-fd));
	if (fd == -EACCES || fd == -EPERM)
		return ebcc__error(EBCC_ERR_PERMISSION, "open %s: %s", dev, strerror(-fd));
	if (fd < 0)
		return ebcc__error(EBCC_ERR_UNAVAILABLE, "open %s: %s", dev, strerror(-fd));
	ebcc__host_close(host, &fd);
	return ebcc__error(EBCC_ERR_UNAVAILABLE, "%s is present, but " NOT_IMPLEMENTED, dev);
}

static int keystone_probe(const struct ebcc_backend_env *env, char **ret_details_json,
			  void *userdata)
{
	const struct ebcc__hostops *host = host_of(userdata);
	char saved[EBCC_ERROR_MESSAGE_MAX], dev[EBCC_PATH_MAX + 32];
	struct json_object *o = json_object_new_object();
	int r;

	if (o == NULL)
		return ebcc__env_fail(env, ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory"));
	ebcc__error_save(saved);
	json_object_object_add(o, "device",
			       json_object_new_string(ebcc__host_display(host, KEYSTONE_DEVICE, dev,
									 sizeof(dev))));
	json_object_object_add(o, "attestation",
			       json_object_new_string("the security monitor's report: Ed25519 "
						      "with SHA3-512 by the SM key, which the "
						      "device key certifies"));
	json_object_object_add(o, "offline_verification", json_object_new_boolean(1));
	unavailable(host);
	json_object_object_add(o, "reason", json_object_new_string(ebcc_last_error_message()));
	ebcc__error_restore(saved);
	r = ebcc__env_json(env, o, ret_details_json);
	json_object_put(o);
	return r < 0 ? ebcc__env_fail(env, r) : 0;
}

static int keystone_stage_load(const struct ebcc_backend_env *env,
			       const struct ebcc_backend_stage_params *params,
			       struct ebcc_backend_stage *ret_stage, void *userdata)
{
	int r = ebcc__stage_params_check(params, true);

	(void)ret_stage;
	if (r == 0)
		r = unavailable(host_of(userdata));
	return ebcc__env_fail(env, r);
}

static int keystone_stage_invoke(const struct ebcc_backend_env *env, void *handle,
				 const struct ebcc_backend_binding *binding, const void *request,
				 size_t request_len, struct ebcc_backend_invocation *ret,
				 void *userdata)
{
	(void)handle, (void)binding, (void)request, (void)request_len, (void)ret, (void)userdata;
	return ebcc__env_fail(env, ebcc__error(EBCC_ERR_UNAVAILABLE, NOT_IMPLEMENTED));
}

static int keystone_stage_unload(const struct ebcc_backend_env *env, void *handle,
				 void *userdata)
{
	(void)env, (void)handle, (void)userdata;
	return 0;
}

static int keystone_verify_report(const struct ebcc_backend_env *env,
				  const struct ebcc_backend_report_check *check,
				  char **ret_verdict_json, void *userdata)
{
	(void)userdata;
	return ebcc__env_verify_report(env, check, ebcc__keystone_verify, ret_verdict_json);
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
	.stage_invoke = keystone_stage_invoke,
	.stage_unload = keystone_stage_unload,
	.verify_report = keystone_verify_report,
};

const struct ebcc_backend_ops *ebcc__backend_keystone_entry(void)
{
	return &keystone_ops;
}

int ebcc__backend_keystone_register(struct ebcc_context *ctx, const struct ebcc__hostops *host)
{
	return ebcc_backend_register(ctx, &keystone_ops, (void *)host);
}
