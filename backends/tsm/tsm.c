/* SPDX-License-Identifier: MIT */
/*
 * The tsm backend: stages inside a confidential VM (Intel TDX or AMD SEV-SNP guest), with
 * hardware reports through configfs-tsm. A stage is a process stage like sim's (sealed, measured
 * by SHA-256, sandboxed: backends/common/procstage.c); its report is a TDX quote or SNP
 * attestation report whose REPORTDATA is the evidence's report_data (configfs.c), wrapped as
 * ebcc.tsm.v1 (report.c) and verified offline by verify.c. The VM is the TEE: the library
 * and the stages run inside it, and the hardware report measures the VM at launch (MRTD,
 * MEASUREMENT), not the stage, whose measurement is bound in report_data.
 *
 * userdata is the host operations to drive the kernel with; NULL (the built-in) is the real
 * system under "/". Tests register the backend with a fake (ebcc__backend_tsm_register()).
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "../builtin.h"
#include "backend-env.h"
#include "hostops.h"
#include "procstage.h"
#include "sandbox.h"
#include "configfs.h"
#include "report.h"
#include "ebcc-base.h"
#include "verify.h"

static const struct ebcc__procstage_kind tsm_kind = { .backend = "tsm", .socket = "tsm.sock" };

static const struct ebcc__hostops *host_of(void *userdata)
{
	return userdata != NULL ? userdata : ebcc__hostops_system();
}

/* ---- probe ------------------------------------------------------------------------------- */

static int tsm_probe(const struct ebcc_backend_env *env, char **ret_details_json, void *userdata)
{
	const struct ebcc__hostops *host = host_of(userdata);
	enum ebcc__tsm_provider provider = EBCC_TSM_PROVIDER_UNKNOWN;
	struct ebcc__sandbox_isolation iso;
	char reason[640] = "", sandbox_reason[256] = "", base[EBCC_PATH_MAX + 8];
	struct json_object *o, *sandbox;
	int available, sandboxed, r;

	available = ebcc__tsm_configfs_probe(host, &provider, reason, sizeof(reason));
	if (available < 0)
		return ebcc__env_fail(env, available);
	sandboxed = ebcc__sandbox_probe(&iso, sandbox_reason, sizeof(sandbox_reason));
	if (sandboxed < 0)
		return ebcc__env_fail(env, sandboxed);
	o = json_object_new_object();
	sandbox = ebcc__sandbox_isolation_json(&iso);
	if (o == NULL || sandbox == NULL) {
		json_object_put(o);
		json_object_put(sandbox);
		return ebcc__env_fail(env, ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory"));
	}
	json_object_object_add(o, "hardware_root_of_trust", json_object_new_boolean(1));
	json_object_object_add(o, "configfs",
			       json_object_new_string(ebcc__host_display(host, EBCC_TSM_REPORT_DIR,
									 base, sizeof(base))));
	if (available) {
		json_object_object_add(o, "provider",
				       json_object_new_string(ebcc__tsm_provider_name(provider)));
		json_object_object_add(o, "tee",
				       json_object_new_string(ebcc__tsm_provider_tee(provider)));
	}
	json_object_object_add(o, "stage_images",
			       json_object_new_string("static ELF executables, run as sandboxed "
						      "processes inside the confidential VM"));
	json_object_object_add(o, "sandbox", sandbox);
	if (!available)
		json_object_object_add(o, "reason", json_object_new_string(reason));
	else if (!sandboxed)
		json_object_object_add(o, "reason", json_object_new_string(sandbox_reason));
	r = ebcc__env_json(env, o, ret_details_json);
	json_object_put(o);
	if (r < 0)
		return ebcc__env_fail(env, r);
	return available && sandboxed ? 1 : 0;
}

/* ---- stages: process stages inside the VM ---------------------------------------------------- */

static int tsm_stage_load(const struct ebcc_backend_env *env,
			  const struct ebcc_backend_stage_params *params,
			  struct ebcc_backend_stage *ret_stage, void *userdata)
{
	const struct ebcc__hostops *host = host_of(userdata);
	enum ebcc__tsm_provider provider = EBCC_TSM_PROVIDER_UNKNOWN;
	struct ebcc__procstage *s = NULL;
	struct json_object *iso;
	int r;

	/* A stage whose invocations cannot be reported is of no use: refuse it now. */
	r = ebcc__tsm_configfs_check(host, &provider);
	if (r < 0)
		return ebcc__env_fail(env, ebcc__error_prefix(r, "stage %s", params->stage_name));
	r = ebcc__procstage_load(&tsm_kind, env, params, &s);
	if (r < 0)
		return ebcc__env_fail(env, r);
	iso = json_object_new_object();
	if (iso != NULL) {
		json_object_object_add(iso, "simulated", json_object_new_boolean(0));
		json_object_object_add(iso, "hardware_root_of_trust", json_object_new_boolean(1));
		json_object_object_add(iso, "tee",
				       json_object_new_string(ebcc__tsm_provider_tee(provider)));
		json_object_object_add(iso, "provider",
				       json_object_new_string(ebcc__tsm_provider_name(provider)));
	}
	return ebcc__procstage_publish(env, s, iso, ret_stage);
}

static int tsm_stage_open(const struct ebcc_backend_env *env,
			  const struct ebcc_backend_stage_params *params, uint64_t eid,
			  const char *ref, void **ret_handle, void *userdata)
{
	struct ebcc__procstage *s = NULL;
	int r;

	(void)userdata;
	r = ebcc__procstage_open(&tsm_kind, env, params, eid, ref, &s);
	if (r < 0)
		return ebcc__env_fail(env, r);
	*ret_handle = s;
	return 0;
}

/* ---- reports ------------------------------------------------------------------------------- */

static int tsm_stage_report(const struct ebcc_backend_env *env, void *handle,
			    const uint8_t *report_data, size_t report_data_len,
			    struct ebcc_backend_buffer *ret_report, void *userdata)
{
	struct ebcc__procstage *s = handle;
	_cleanup_free_ uint8_t *report = NULL;
	unsigned attempts = 0;
	size_t len = 0;
	int r;

	if (s == NULL || report_data == NULL || report_data_len != EBCC_REPORT_DATA_SIZE)
		return ebcc__env_fail(env, ebcc__error(EBCC_ERR_INVALID_ARG,
						       "stage_report: bad arguments"));
	r = ebcc__tsm_report_make(host_of(userdata), report_data, report_data_len, &report, &len,
				  &attempts);
	if (r < 0)
		return ebcc__env_fail(env, ebcc__error_prefix(r, "%s", ebcc__procstage_name(s)));
	if (attempts > 1) {
		char line[256];

		snprintf(line, sizeof(line), "%s: configfs-tsm report made %u times: another writer "
			 "changed its generation", ebcc__procstage_name(s), attempts);
		env->log(EBCC_LOG_WARNING, line, env->host);
	}
	r = ebcc__env_buffer(env, report, len, ret_report);
	return r < 0 ? ebcc__env_fail(env, r) : 0;
}

static int tsm_verify_report(const struct ebcc_backend_env *env,
			     const struct ebcc_backend_report_check *check, char **ret_verdict_json,
			     void *userdata)
{
	(void)userdata;
	return ebcc__env_verify_report(env, check, ebcc__tsm_verify, ret_verdict_json);
}

static const struct ebcc_backend_ops tsm_ops = {
	.size = sizeof(struct ebcc_backend_ops),
	.abi_version = EBCC_BACKEND_ABI_VERSION,
	.name = "tsm",
	.isolation = EBCC_ISOLATION_VM,
	/* The library runs inside the confidential VM: configfs-tsm is its TEE driver, and the
	 * sandboxed stage cannot reach it. The stage binds; the core checks that binding and
	 * stage_report() has the TD or guest report over it. */
	.flags = EBCC_BACKEND_HOST_IN_TCB,
	.evidence_format = EBCC_TSM_FORMAT,
	.max_report_data = EBCC_TSM_INBLOB_MAX,
	.probe = tsm_probe,
	.stage_load = tsm_stage_load,
	.stage_open = tsm_stage_open,
	.stage_invoke = ebcc__procstage_stage_invoke,
	.stage_report = tsm_stage_report,
	.stage_close = ebcc__procstage_stage_close,
	.stage_unload = ebcc__procstage_stage_unload,
	.verify_report = tsm_verify_report,
	.measure_image = ebcc__procstage_measure_image,
};

const struct ebcc_backend_ops *ebcc__backend_tsm_entry(void)
{
	return &tsm_ops;
}

int ebcc__backend_tsm_register(struct ebcc_context *ctx, const struct ebcc__hostops *host)
{
	return ebcc_backend_register(ctx, &tsm_ops, (void *)host);
}
