/* SPDX-License-Identifier: MIT */
/*
 * The sim backend: a software TEE that says so. A stage is a static executable, copied into a
 * sealed memory file, measured (SHA-256) and executed from that very descriptor inside a
 * sandboxed process; the host talks to it over the frame channel (backends/common:
 * procstage.c, sandbox.c, channel.c, image.c; EIDs from a persistent counter, eid.c); the
 * stage's own security monitor (monitor.c) signs its reports with a simulated device key
 * (report.c). Nothing here is a hardware root of trust, and everything it produces says
 * "simulated": true.
 */
#include <string.h>

#include <json-c/json.h>

#include "../builtin.h"
#include "backend-env.h"
#include "procstage.h"
#include "sandbox.h"
#include "frame.h"
#include "ebcc-base.h"
#include "monitor.h"
#include "options.h"
#include "report.h"

/* The stage's attestation primitive: a security monitor of its own (monitor.c). */
static int sim_attest_start(const struct ebcc_backend_env *env, const char *measurement,
			    uint64_t eid, bool detach, int *ret_stage_end, pid_t *ret_pid)
{
	struct ebcc__sim_signer signer;
	int r;

	r = ebcc__sim_signer_init(env->data_dir_fd, ebcc__env_durable(env), measurement, eid,
				  &signer);
	if (r == 0)
		r = ebcc__sim_monitor_start(&signer, detach,
					    detach ? NULL : ebcc__env_sandbox_pool(env),
					    ret_stage_end, ret_pid);
	ebcc__sim_signer_clear(&signer);
	return r;
}

/*
 * The stage binds request and response (it computes report_data) and asks its security monitor
 * for the report; the host only relays it, after checking that it is the monitor's report for
 * this stage and this answer (its signature is the verifier's to check). Nothing here signs.
 */
static int sim_report_check(const struct ebcc_backend_env *env, const struct ebcc__procstage *s,
			    const uint8_t *report_data, const uint8_t *report, size_t report_len)
{
	uint8_t key_id[32];
	int r;

	if (report_len == 0)
		return ebcc__error(EBCC_ERR_STAGE,
				   "it answered without a report: under sim a stage asks its "
				   "security monitor for one (link it with libebcc-stage 0.2 or "
				   "later)");
	r = ebcc__sim_key_id(env->data_dir_fd, ebcc__env_durable(env), key_id);
	if (r < 0)
		return r;
	return ebcc__sim_report_check(report, report_len, ebcc__procstage_measurement(s),
				      ebcc__procstage_eid(s), report_data,
				      EBCC_FRAME_REPORT_DATA_SIZE, key_id);
}

static const struct ebcc__procstage_kind sim_kind = {
	.backend = "sim",
	.socket = "sim.sock",
	.attest_start = sim_attest_start,
	.report_check = sim_report_check,
};

/* ---- probe ------------------------------------------------------------------------------- */

static int sim_probe(const struct ebcc_backend_env *env, char **ret_details_json, void *userdata)
{
	struct ebcc__sandbox_isolation iso;
	struct json_object *o, *sandbox;
	char reason[256] = "";
	_cleanup_free_ char *text = NULL;
	int available, r;

	(void)userdata;
	available = ebcc__sandbox_probe(&iso, reason, sizeof(reason));
	if (available < 0)
		return ebcc__env_fail(env, available);
	o = json_object_new_object();
	sandbox = ebcc__sandbox_isolation_json(&iso);
	if (o == NULL || sandbox == NULL) {
		json_object_put(o);
		json_object_put(sandbox);
		return ebcc__env_fail(env, ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory"));
	}
	json_object_object_add(o, "simulated", json_object_new_boolean(1));
	json_object_object_add(o, "hardware_root_of_trust", json_object_new_boolean(0));
	json_object_object_add(o, "stage_images", json_object_new_string("static ELF executables"));
	json_object_object_add(o, "sandbox", sandbox);
	if (!available)
		json_object_object_add(o, "reason", json_object_new_string(reason));
	r = ebcc__json_to_string(o, JSON_C_TO_STRING_PLAIN, &text);
	json_object_put(o);
	if (r < 0)
		return ebcc__env_fail(env, r);
	*ret_details_json = ebcc__env_strdup(env, text);
	if (*ret_details_json == NULL)
		return ebcc__env_fail(env, ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory"));
	return available;
}

/* ---- load, open, close, unload, invoke: process stages (procstage.c) ----------------------- */

static int sim_stage_load(const struct ebcc_backend_env *env,
			  const struct ebcc_backend_stage_params *params,
			  struct ebcc_backend_stage *ret_stage, void *userdata)
{
	struct ebcc__procstage *s = NULL;
	struct json_object *iso;
	int r;

	(void)userdata;
	r = ebcc__procstage_load(&sim_kind, env, params, &s);
	if (r < 0)
		return ebcc__env_fail(env, r);
	iso = json_object_new_object();
	if (iso != NULL) {
		json_object_object_add(iso, "simulated", json_object_new_boolean(1));
		json_object_object_add(iso, "hardware_root_of_trust", json_object_new_boolean(0));
	}
	return ebcc__procstage_publish(env, s, iso, ret_stage);
}

static int sim_stage_open(const struct ebcc_backend_env *env,
			  const struct ebcc_backend_stage_params *params, uint64_t eid,
			  const char *ref, void **ret_handle, void *userdata)
{
	struct ebcc__procstage *s = NULL;
	int r;

	(void)userdata;
	r = ebcc__procstage_open(&sim_kind, env, params, eid, ref, &s);
	if (r < 0)
		return ebcc__env_fail(env, r);
	*ret_handle = s;
	return 0;
}

/* ---- reports and keys ---------------------------------------------------------------------- */

static int sim_verify_report(const struct ebcc_backend_env *env,
			     const struct ebcc_backend_report_check *check, char **ret_verdict_json,
			     void *userdata)
{
	(void)userdata;
	if (check != NULL && check->size >= sizeof(*check)) {
		int r = ebcc__sim_policy_options_check(check);

		if (r < 0)
			return ebcc__env_fail(env, r);
	}
	return ebcc__env_verify_report(env, check, ebcc__sim_report_verify, ret_verdict_json);
}

static int sim_attestation_key(const struct ebcc_backend_env *env, char **ret_pem, void *userdata)
{
	_cleanup_free_ char *pem = NULL;
	int r;

	(void)userdata;
	r = ebcc__sim_key_public_pem(env->data_dir_fd, ebcc__env_durable(env), &pem);
	if (r < 0)
		return ebcc__env_fail(env, r);
	*ret_pem = ebcc__env_strdup(env, pem);
	if (*ret_pem == NULL)
		return ebcc__env_fail(env, ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory"));
	return 0;
}

static const struct ebcc_backend_ops sim_ops = {
	.size = sizeof(struct ebcc_backend_ops),
	.abi_version = EBCC_BACKEND_ABI_VERSION,
	.name = "sim",
	.isolation = EBCC_ISOLATION_ENCLAVE,
	.flags = EBCC_BACKEND_SIMULATED,
	.evidence_format = EBCC_SIM_FORMAT,
	.max_report_data = EBCC_SIM_REPORT_DATA_MAX,
	.probe = sim_probe,
	.stage_load = sim_stage_load,
	.stage_open = sim_stage_open,
	.stage_invoke = ebcc__procstage_stage_invoke,
	.stage_close = ebcc__procstage_stage_close,
	.stage_unload = ebcc__procstage_stage_unload,
	.verify_report = sim_verify_report,
	.attestation_key = sim_attestation_key,
	.measure_image = ebcc__procstage_measure_image,
};

const struct ebcc_backend_ops *ebcc__backend_sim_entry(void)
{
	return &sim_ops;
}
