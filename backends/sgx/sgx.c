/* SPDX-License-Identifier: MIT */
/*
 * The sgx backend: Intel SGX enclaves through the Linux driver (/dev/sgx_enclave). What this
 * version does:
 *
 *  - verifies SGX DCAP ECDSA quotes v3 offline (verify.c, quote.c), raw through
 *    ebcc_report_verify(ctx, "sgx", ...): the signature data and PCK chain checks it shares
 *    with TDX quotes (../tsm/dcap.c), the policy's root, CRLs and enclave pins;
 *  - probes for /dev/sgx_enclave through the host operations.
 *
 * It does not load or run stages: stage_load() refuses, on any host, saying so. The backend
 * never falls back to sim. The host is outside an enclave's TCB, so there is no stage_report()
 * and no EBCC_BACKEND_HOST_IN_TCB.
 *
 * userdata is the host operations (NULL: the real system under "/").
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include <json-c/json.h>

#include "../builtin.h"
#include "backend-env.h"
#include "hostops.h"
#include "ebcc-base.h"
#include "verify.h"

#define SGX_DEVICE "/dev/sgx_enclave"
#define NOT_IMPLEMENTED                                                                        \
	"loading and running stages in SGX enclaves is not implemented in this version of "      \
	"libebcc (the sgx backend verifies SGX quotes offline only)"

static const struct ebcc__hostops *host_of(void *userdata)
{
	return userdata != NULL ? userdata : ebcc__hostops_system();
}

/* Why the backend cannot run stages here, as an error (EBCC_ERR_UNAVAILABLE, _PERMISSION). */
static int unavailable(const struct ebcc__hostops *host)
{
	char dev[EBCC_PATH_MAX + 32];
	int fd;

	ebcc__host_display(host, SGX_DEVICE, dev, sizeof(dev));
	fd = ebcc__host_open(host, SGX_DEVICE, O_RDWR);
	if (fd == -ENOENT || fd == -ENODEV || fd == -ENXIO)
		return ebcc__error(EBCC_ERR_UNAVAILABLE, "no %s: %s: no SGX driver (the CPU has no "
				   "SGX with flexible launch control, SGX is disabled in the "
				   "firmware, or the kernel is older than 5.11)", dev,
				   strerror(-fd));
	if (fd == -EACCES || fd == -EPERM)
		return ebcc__error(EBCC_ERR_PERMISSION, "open %s: %s", dev, strerror(-fd));
	if (fd < 0)
		return ebcc__error(EBCC_ERR_UNAVAILABLE, "open %s: %s", dev, strerror(-fd));
	ebcc__host_close(host, &fd);
	return ebcc__error(EBCC_ERR_UNAVAILABLE, "%s is present, but " NOT_IMPLEMENTED, dev);
}

static int sgx_probe(const struct ebcc_backend_env *env, char **ret_details_json,
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
			       json_object_new_string(ebcc__host_display(host, SGX_DEVICE, dev,
									 sizeof(dev))));
	json_object_object_add(o, "attestation",
			       json_object_new_string("DCAP ECDSA quotes v3: the quoting enclave's "
						      "P-256 attestation key, certified by the "
						      "platform's PCK certificate"));
	json_object_object_add(o, "offline_verification", json_object_new_boolean(1));
	unavailable(host);
	json_object_object_add(o, "reason", json_object_new_string(ebcc__error_message()));
	ebcc__error_restore(saved);
	r = ebcc__env_json(env, o, ret_details_json);
	json_object_put(o);
	return r < 0 ? ebcc__env_fail(env, r) : 0;
}

static int sgx_stage_load(const struct ebcc_backend_env *env,
			  const struct ebcc_backend_stage_params *params,
			  struct ebcc_backend_stage *ret_stage, void *userdata)
{
	int r = ebcc__stage_params_check(params, true);

	(void)ret_stage;
	if (r == 0)
		r = unavailable(host_of(userdata));
	return ebcc__env_fail(env, r);
}

static int sgx_stage_invoke(const struct ebcc_backend_env *env, void *handle,
			    const struct ebcc_backend_binding *binding, const void *request,
			    size_t request_len, struct ebcc_backend_invocation *ret,
			    void *userdata)
{
	(void)handle, (void)binding, (void)request, (void)request_len, (void)ret, (void)userdata;
	return ebcc__env_fail(env, ebcc__error(EBCC_ERR_UNAVAILABLE, NOT_IMPLEMENTED));
}

static int sgx_stage_unload(const struct ebcc_backend_env *env, void *handle, void *userdata)
{
	(void)env, (void)handle, (void)userdata;
	return 0;
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
	.stage_invoke = sgx_stage_invoke,
	.stage_unload = sgx_stage_unload,
	.verify_report = sgx_verify_report,
};

const struct ebcc_backend_ops *ebcc__backend_sgx_entry(void)
{
	return &sgx_ops;
}

int ebcc__backend_sgx_register(struct ebcc_context *ctx, const struct ebcc__hostops *host)
{
	return ebcc_backend_register(ctx, &sgx_ops, (void *)host);
}
