/* SPDX-License-Identifier: MIT */
/*
 * The optee backend: stages are OP-TEE trusted applications (Arm TrustZone), driven through
 * the Linux TEE subsystem (/dev/tee0, teedev.c). A stage image is the TA's signed file,
 * measured by SHA-256 like any image; the TA itself is what OP-TEE loads for the UUID of the
 * stage's backendOptions, checked against the image through the attestation PTA's digest when
 * the stage is loaded. The EID is the TEE session id. An invocation is one TEE_IOC_INVOKE of the
 * stage's command with the request and the response in shared memory; a report is the
 * attestation PTA's signature over the TA's digest with report_data as the nonce (attest.c).
 *
 * userdata is the host operations to drive the kernel with; NULL (the built-in) is the real
 * system under "/". Tests register the backend with a fake (ebcc__backend_optee_register()).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "../builtin.h"
#include "backend-env.h"
#include "hostops.h"
#include "attest.h"
#include "ebcc-base.h"
#include "options.h"
#include "sessions.h"
#include "taimage.h"
#include "teec.h"
#include "teedev.h"

#define REF_MAX 4096
#define FIRST_RESPONSE_BUFFER ((size_t)16 << 10)
#define INVOKE_ATTEMPTS 3

static const struct ebcc__hostops *host_of(void *userdata)
{
	return userdata != NULL ? userdata : ebcc__hostops_system();
}

/* ---- probe and key ------------------------------------------------------------------------- */

static int optee_probe(const struct ebcc_backend_env *env, char **ret_details_json,
		       void *userdata)
{
	const struct ebcc__hostops *host = host_of(userdata);
	char saved[EBCC_ERROR_MESSAGE_MAX], dev[EBCC_PATH_MAX + 16];
	struct ebcc__teedev d;
	struct json_object *o = json_object_new_object();
	int r, available;

	if (o == NULL)
		return ebcc__env_fail(env, ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory"));
	ebcc__error_save(saved);
	json_object_object_add(o, "device",
			       json_object_new_string(ebcc__host_display(host, EBCC_OPTEE_DEVICE, dev,
									 sizeof(dev))));
	json_object_object_add(o, "stage_images",
			       json_object_new_string("OP-TEE trusted application files (signed "
						      "<uuid>.ta)"));
	json_object_object_add(o, "attestation",
			       json_object_new_string("OP-TEE's attestation PTA: RSASSA-PSS by a "
						      "device key kept in OP-TEE's secure storage"));
	r = ebcc__teedev_open(host, &d);
	if (r == EBCC_ERR_NO_MEMORY) {
		json_object_put(o);
		return ebcc__env_fail(env, r);
	}
	available = r == 0;
	if (available) {
		json_object_object_add(o, "implementation", json_object_new_string("OP-TEE"));
		json_object_object_add(o, "impl_caps", json_object_new_int64(d.version.impl_caps));
		json_object_object_add(o, "gen_caps", json_object_new_int64(d.version.gen_caps));
		json_object_object_add(o, "registered_memory",
				       json_object_new_boolean(d.version.gen_caps &
							       TEE_GEN_CAP_REG_MEM));
		ebcc__teedev_close(&d);
	} else {
		json_object_object_add(o, "reason",
				       json_object_new_string(ebcc__error_message()));
		ebcc__error_restore(saved);
	}
	r = ebcc__env_json(env, o, ret_details_json);
	json_object_put(o);
	return r < 0 ? ebcc__env_fail(env, r) : available;
}

static int optee_attestation_key(const struct ebcc_backend_env *env, char **ret_pem,
				 void *userdata)
{
	struct ebcc__teedev d;
	_cleanup_free_ char *pem = NULL;
	int r;

	r = ebcc__teedev_open(host_of(userdata), &d);
	if (r < 0)
		return ebcc__env_fail(env, r == EBCC_ERR_UNAVAILABLE || r == EBCC_ERR_PERMISSION
						   ? r
						   : EBCC_ERR_IO);
	r = ebcc__optee_attest_public_key(&d, &pem);
	ebcc__teedev_close(&d);
	if (r < 0)
		return ebcc__env_fail(env, r);
	*ret_pem = ebcc__env_strdup(env, pem);
	if (*ret_pem == NULL)
		return ebcc__env_fail(env, ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory"));
	return 0;
}

/* ---- load ----------------------------------------------------------------------------------- */

/* Reads the TA file (the core's descriptor, with pread), measures it and parses its header. */
static int read_image(const struct ebcc_backend_stage_params *p, struct ebcc__optee_session *s)
{
	uint8_t digest[EBCC_SHA256_SIZE], *data = NULL;
	size_t cap = 1 << 16, len = 0;
	int r;

	data = malloc(cap);
	if (data == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	for (;;) {
		ssize_t n;

		if (len == cap) {
			/* One byte beyond the limit tells "exactly the limit" from "more". */
			size_t grow = cap * 2 > EBCC_TA_IMAGE_MAX + 1 ? EBCC_TA_IMAGE_MAX + 1 : cap * 2;
			uint8_t *grown;

			if (cap > EBCC_TA_IMAGE_MAX) {
				free(data);
				return ebcc__error(EBCC_ERR_TOO_BIG, "stage image %s is more than "
						   "%zu bytes", p->stage_name, EBCC_TA_IMAGE_MAX);
			}
			grown = realloc(data, grow);
			if (grown == NULL) {
				free(data);
				return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
			}
			data = grown;
			cap = grow;
		}
		n = pread(p->image_fd, data + len, cap - len, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = ebcc__error_errno(EBCC_ERR_IO, errno, "read stage image %s", p->stage_name);
			free(data);
			return r;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > EBCC_TA_IMAGE_MAX)
		r = ebcc__error(EBCC_ERR_TOO_BIG, "stage image %s is %zu bytes, more than %zu",
				p->stage_name, len, EBCC_TA_IMAGE_MAX);
	else
		r = ebcc__sha256(data, len, digest);
	if (r == 0)
		r = ebcc__ta_image_parse(data, len, p->stage_name, &s->ta);
	free(data);
	if (r < 0)
		return r;
	ebcc__measurement_format(digest, s->measurement);
	if (memcmp(s->ta.uuid, s->opts.uuid, 16) != 0) {
		char image[EBCC_OPTEE_UUID_TEXT], want[EBCC_OPTEE_UUID_TEXT];

		ebcc__optee_uuid_format(s->ta.uuid, image);
		ebcc__optee_uuid_format(s->opts.uuid, want);
		return ebcc__error(EBCC_ERR_INVALID_ARG, "stage %s: the image is the trusted "
				   "application %s, but backendOptions.uuid names %s",
				   p->stage_name, image, want);
	}
	return 0;
}

/* What OP-TEE loads for the UUID must be the measured file: same signed-header digest. */
static int check_loaded_ta(struct ebcc__optee_session *s)
{
	struct ebcc__optee_attestation_out out;
	char nonce[2 * 16 + 1], uuid[EBCC_OPTEE_UUID_TEXT], found[2 * EBCC_TA_DIGEST_SIZE + 1],
		want[2 * EBCC_TA_DIGEST_SIZE + 1];
	int r;

	/* Any fresh nonce will do: only the digest is of interest here. */
	r = ebcc__random_hex(nonce, 16);
	if (r < 0)
		return r;
	r = ebcc__optee_attest_ta_digest(&s->dev, s->opts.uuid, (const uint8_t *)nonce, 32, &out);
	if (r < 0)
		return ebcc__error_prefix(r, "%s", s->name);
	if (memcmp(out.digest, s->ta.digest, EBCC_TA_DIGEST_SIZE) == 0)
		return 0;
	ebcc__optee_uuid_format(s->opts.uuid, uuid);
	ebcc__hex_encode(out.digest, EBCC_TA_DIGEST_SIZE, found);
	ebcc__hex_encode(s->ta.digest, EBCC_TA_DIGEST_SIZE, want);
	return ebcc__error(EBCC_ERR_VERIFY, "%s: the trusted application OP-TEE loads for %s has "
			   "signed-header digest %s, the stage image has %s: the installed TA "
			   "is not the measured image",
			   s->name, uuid, found, want);
}

static int open_session(struct ebcc__optee_session *s, const char *stage, const char *instance)
{
	struct ebcc__tee_result res = { 0 };
	char uuid[EBCC_OPTEE_UUID_TEXT], what[256];
	int r;

	ebcc__optee_uuid_format(s->opts.uuid, uuid);
	snprintf(what, sizeof(what), "stage %s: opening a session with TA %s", stage, uuid);
	r = ebcc__teedev_open_session(&s->dev, s->opts.uuid, &s->session, &res);
	if (r < 0)
		return ebcc__error_prefix(r, "stage %s", stage);
	if (res.ret != TEEC_SUCCESS)
		return ebcc__teec_error(res.ret, res.origin, what);
	s->local = true;
	if (asprintf(&s->name, "stage %s of %s (TEE session %" PRIu32 ")", stage, instance,
		     s->session) < 0) {
		s->name = NULL;
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	return 0;
}

static int describe(const struct ebcc_backend_env *env, const struct ebcc__optee_session *s,
		    char **ret_ref, char **ret_isolation)
{
	struct json_object *ref = json_object_new_object(), *iso = json_object_new_object();
	char uuid[EBCC_OPTEE_UUID_TEXT], digest[2 * EBCC_TA_DIGEST_SIZE + 1], where[96];
	int r;

	if (ref == NULL || iso == NULL) {
		json_object_put(ref);
		json_object_put(iso);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	ebcc__optee_uuid_format(s->opts.uuid, uuid);
	ebcc__hex_encode(s->ta.digest, EBCC_TA_DIGEST_SIZE, digest);
	json_object_object_add(ref, "pid", json_object_new_int64(s->owner));
	json_object_object_add(ref, "start_time", json_object_new_int64((int64_t)s->owner_start));
	json_object_object_add(ref, "session", json_object_new_int64(s->session));
	json_object_object_add(ref, "uuid", json_object_new_string(uuid));
	snprintf(where, sizeof(where), "process %d, which holds the TEE session", (int)s->owner);
	json_object_object_add(iso, "simulated", json_object_new_boolean(0));
	json_object_object_add(iso, "tee", json_object_new_string("OP-TEE (Arm TrustZone)"));
	json_object_object_add(iso, "uuid", json_object_new_string(uuid));
	json_object_object_add(iso, "session", json_object_new_int64(s->session));
	json_object_object_add(iso, "ta_digest", json_object_new_string(digest));
	json_object_object_add(iso, "login", json_object_new_string("public"));
	json_object_object_add(iso, "attestation",
			       json_object_new_string(ebcc__optee_attestation_name(s->opts.attestation)));
	json_object_object_add(iso, "reachable_from", json_object_new_string(where));
	r = ebcc__env_json(env, ref, ret_ref);
	if (r == 0) {
		r = ebcc__env_json(env, iso, ret_isolation);
		if (r < 0) {
			ebcc__env_free(env, *ret_ref);
			*ret_ref = NULL; /* the caller frees what it still points to */
		}
	}
	json_object_put(ref);
	json_object_put(iso);
	return r;
}

static int optee_stage_load(const struct ebcc_backend_env *env,
			    const struct ebcc_backend_stage_params *params,
			    struct ebcc_backend_stage *ret_stage, void *userdata)
{
	struct ebcc__optee_session *s;
	char *out_measurement = NULL, *out_ref = NULL, *out_isolation = NULL;
	int r;

	r = ebcc__stage_params_check(params, true);
	if (r < 0)
		return ebcc__env_fail(env, r);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ebcc__env_fail(env, ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory"));
	s->refcount = 1;
	s->dev.fd = -1;
	s->host = host_of(userdata);
	s->owner = getpid();
	if (ebcc__proc_start_time(s->owner, &s->owner_start) < 0)
		s->owner_start = 0;
	s->lifetime = params->lifetime;
	s->max_request = params->max_request;
	s->max_response = params->max_response;
	r = ebcc__optee_stage_options_parse(params->options_json, params->stage_name, &s->opts);
	if (r == 0) {
		/* Whether this host has OP-TEE at all comes first. */
		r = ebcc__teedev_open(s->host, &s->dev);
		if (r < 0)
			r = ebcc__error_prefix(r, "stage %s", params->stage_name);
	}
	if (r == 0)
		r = read_image(params, s);
	if (r == 0)
		r = open_session(s, params->stage_name, params->instance_id);
	if (r == 0)
		r = check_loaded_ta(s);
	if (r == 0)
		r = describe(env, s, &out_ref, &out_isolation);
	if (r == 0) {
		out_measurement = ebcc__env_strdup(env, s->measurement);
		if (out_measurement == NULL)
			r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	if (r < 0) {
		ebcc__env_free(env, out_ref);
		ebcc__env_free(env, out_isolation);
		ebcc__optee_session_unref(s);
		return ebcc__env_fail(env, r);
	}
	if (s->lifetime == EBCC_LIFETIME_INSTANCE)
		ebcc__optee_sessions_add(s);
	ret_stage->handle = s;
	ret_stage->eid = s->session;
	ret_stage->measurement = out_measurement;
	ret_stage->ref = out_ref;
	ret_stage->isolation_json = out_isolation;
	return 0;
}

/* ---- open, close, unload --------------------------------------------------------------------- */

static int ref_parse(const char *ref, struct ebcc__optee_session *s)
{
	struct json_object *o = NULL, *v;
	int64_t pid = 0, start = -1, session = -1;
	int r;

	r = ebcc__json_parse(ref, strnlen(ref, REF_MAX + 1), EBCC_ERR_CORRUPT, "optee stage ref",
			     &o);
	if (r < 0)
		return r;
	if (json_object_object_get_ex(o, "pid", &v) && json_object_is_type(v, json_type_int))
		pid = json_object_get_int64(v);
	if (json_object_object_get_ex(o, "start_time", &v) && json_object_is_type(v, json_type_int))
		start = json_object_get_int64(v);
	if (json_object_object_get_ex(o, "session", &v) && json_object_is_type(v, json_type_int))
		session = json_object_get_int64(v);
	json_object_put(o);
	if (pid <= 0 || pid > INT32_MAX || start < 0 || session < 0 || session > UINT32_MAX)
		return ebcc__error(EBCC_ERR_CORRUPT, "optee stage ref is not {\"pid\", "
				   "\"start_time\", \"session\", \"uuid\"}: %.200s", ref);
	s->owner = (pid_t)pid;
	s->owner_start = (uint64_t)start;
	s->session = (uint32_t)session;
	return 0;
}

static int optee_stage_open(const struct ebcc_backend_env *env,
			    const struct ebcc_backend_stage_params *params, uint64_t eid,
			    const char *ref, void **ret_handle, void *userdata)
{
	const struct ebcc__hostops *host = host_of(userdata);
	struct ebcc__optee_session *s;
	int r;

	r = ebcc__stage_params_check(params, false);
	if (r == 0 && (params->lifetime != EBCC_LIFETIME_INSTANCE || ref == NULL))
		r = ebcc__error(EBCC_ERR_INVALID_ARG, "stage %s: only an instance stage with its ref "
				"can be opened again", params->stage_name);
	if (r == 0 && eid > UINT32_MAX)
		r = ebcc__error(EBCC_ERR_CORRUPT, "stage %s: EID %" PRIu64 " is not a TEE session id",
				params->stage_name, eid);
	if (r < 0)
		return ebcc__env_fail(env, r);
	s = ebcc__optee_sessions_find(host, (uint32_t)eid);
	if (s != NULL) {
		*ret_handle = s;
		return 0;
	}
	/* Not ours: a handle that knows where the session lives. */
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ebcc__env_fail(env, ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory"));
	s->refcount = 1;
	s->dev.fd = -1;
	s->host = host;
	s->lifetime = params->lifetime;
	r = ref_parse(ref, s);
	if (r == 0 && s->session != eid)
		r = ebcc__error(EBCC_ERR_CORRUPT, "stage %s: its ref names TEE session %" PRIu32
				", its EID is %" PRIu64, params->stage_name, s->session, eid);
	if (r == 0 && asprintf(&s->name, "stage %s of %s (TEE session %" PRIu32 ")",
			       params->stage_name, params->instance_id, s->session) < 0) {
		s->name = NULL;
		r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	if (r < 0) {
		ebcc__optee_session_unref(s);
		return ebcc__env_fail(env, r);
	}
	*ret_handle = s;
	return 0;
}

static void optee_stage_close(void *handle, void *userdata)
{
	(void)userdata;
	ebcc__optee_session_unref(handle);
}

static int optee_stage_unload(const struct ebcc_backend_env *env, void *handle, void *userdata)
{
	struct ebcc__optee_session *s = handle;
	int r = 0;

	(void)userdata;
	if (s == NULL)
		return 0;
	if (s->local) {
		ebcc__optee_sessions_remove(s);
		r = ebcc__optee_session_close(s);
	} else {
		char line[512];

		snprintf(line, sizeof(line), "%s: its TEE session is held by process %d and ends "
			 "with it; nothing to close from process %d", s->name, (int)s->owner,
			 (int)getpid());
		env->log(EBCC_LOG_INFO, line, env->host);
	}
	ebcc__optee_session_unref(s);
	return r < 0 ? ebcc__env_fail(env, r) : 0;
}

/* ---- invoke and report ----------------------------------------------------------------------- */

/* Why a handle cannot reach its session from this process. */
static int not_here(const struct ebcc__optee_session *s)
{
	if (s->closed)
		return ebcc__error(EBCC_ERR_STAGE, "%s was unloaded", s->name);
	if (ebcc__proc_alive(s->owner, s->owner_start))
		return ebcc__error(EBCC_ERR_STAGE,
				   "%s: its TEE session belongs to process %d, which opened "
				   "/dev/tee0 when the stage was loaded; OP-TEE ends a session with "
				   "the descriptor that opened it, so a warm optee stage is reached "
				   "only from that process (use lifetime \"invocation\" to invoke it "
				   "from any process)",
				   s->name, (int)s->owner);
	return ebcc__error(EBCC_ERR_STAGE,
			   "%s is not running: process %d, which held its TEE session, has exited "
			   "and the session ended with it (unload the stage and load it again)",
			   s->name, (int)s->owner);
}

/* A "ta-binding" invocation's two more parameters: the BIND payload in, the TA's binding
 * (report_data || the PTA's output) out. */
struct binding_io {
	struct ebcc__teeshm bind, out;
	size_t bind_len;
	uint8_t result[EBCC_OPTEE_BINDING_OUT_MAX];
	size_t result_len;
};

static int invoke_once(struct ebcc__optee_session *s, const struct ebcc__teeshm *in,
		       size_t request_len, size_t out_size, struct binding_io *bio,
		       const struct ebcc_backend_env *env, struct ebcc_backend_buffer *ret_response,
		       size_t *ret_wanted)
{
	struct ebcc__teeshm out;
	struct tee_ioctl_param params[4];
	struct ebcc__tee_result res = { 0 };
	char what[320];
	int r;

	*ret_wanted = 0;
	r = ebcc__teedev_shm_alloc(&s->dev, out_size, &out);
	if (r < 0)
		return ebcc__error_prefix(r, "%s", s->name);
	params[0] = ebcc__tee_memref(TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_INPUT, in, request_len);
	params[1] = ebcc__tee_memref(TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_OUTPUT, &out, out_size);
	if (bio != NULL) {
		params[2] = ebcc__tee_memref(TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_INPUT, &bio->bind,
					     bio->bind_len);
		params[3] = ebcc__tee_memref(TEE_IOCTL_PARAM_ATTR_TYPE_MEMREF_OUTPUT, &bio->out,
					     sizeof(bio->result));
	}
	r = ebcc__teedev_invoke(&s->dev, s->session, s->opts.command, params, bio != NULL ? 4 : 2,
				&res);
	if (r < 0) {
		r = ebcc__error_prefix(r, "%s", s->name);
	} else if (res.ret == TEEC_SUCCESS) {
		if (params[1].b > out_size)
			r = ebcc__error(EBCC_ERR_STAGE, "%s answered %" PRIu64 " bytes in a %zu-byte "
					"buffer", s->name, (uint64_t)params[1].b, out_size);
		else if (bio != NULL && params[3].b > sizeof(bio->result))
			r = ebcc__error(EBCC_ERR_STAGE, "%s returned a binding of %" PRIu64 " bytes "
					"in a %zu-byte buffer", s->name, (uint64_t)params[3].b,
					sizeof(bio->result));
		else
			r = ebcc__env_buffer(env, out.addr, (size_t)params[1].b, ret_response);
		if (r == 0 && bio != NULL) {
			bio->result_len = (size_t)params[3].b;
			memcpy(bio->result, bio->out.addr, bio->result_len);
		}
	} else if (res.ret == TEEC_ERROR_SHORT_BUFFER) {
		*ret_wanted = params[1].b > SIZE_MAX ? SIZE_MAX : (size_t)params[1].b;
		r = 1;
	} else {
		snprintf(what, sizeof(what), "%s: command %" PRIu32, s->name, s->opts.command);
		r = ebcc__teec_error(res.ret, res.origin, what);
	}
	ebcc__teedev_shm_free(&s->dev, &out);
	return r;
}

/* The attestation PTA's report over report_data, for the stage of session s. */
static int attest(const struct ebcc_backend_env *env, struct ebcc__optee_session *s,
		  const uint8_t *report_data, size_t report_data_len,
		  struct ebcc_backend_buffer *ret_report)
{
	struct ebcc__optee_attestation_out out;
	_cleanup_free_ uint8_t *report = NULL;
	size_t len = 0;
	int r;

	if (s->opts.attestation == EBCC_OPTEE_ATTEST_TA_MEMORY) {
		r = ebcc__optee_attest_ta_memory(&s->dev, s->session, s->opts.attest_command,
						 report_data, report_data_len, &out);
	} else {
		r = ebcc__optee_attest_ta_digest(&s->dev, s->opts.uuid, report_data,
						 report_data_len, &out);
		if (r == 0 && memcmp(out.digest, s->ta.digest, EBCC_TA_DIGEST_SIZE) != 0)
			r = ebcc__error(EBCC_ERR_VERIFY, "the attestation PTA reports another TA "
					"digest than the stage image's: the TA installed for its UUID "
					"changed since the stage was loaded");
	}
	if (r == 0)
		r = ebcc__optee_report_encode(s->opts.attestation, s->session, &out, &report, &len);
	if (r == 0)
		r = ebcc__env_buffer(env, report, len, ret_report);
	return r < 0 ? ebcc__error_prefix(r, "%s", s->name) : 0;
}

/*
 * The TA answered; a TA that does not bind itself ("ta-digest", "ta-memory"), so the normal
 * world binds request and response (the verdict says so: "their binding is the normal world's
 * claim") and has the attestation PTA report over that, with the TA's measurement.
 */
static int bind_and_attest(const struct ebcc_backend_env *env, struct ebcc__optee_session *s,
			   const struct ebcc_backend_binding *binding, const void *request,
			   size_t request_len, struct ebcc_backend_invocation *ret)
{
	struct ebcc_binding b;
	int r;

	ebcc__binding_from_backend(binding, &b);
	r = ebcc__sha256(request, request_len, b.request_digest);

	if (r == 0)
		r = ebcc__sha256(ret->response.data, ret->response.len, b.response_digest);
	if (r == 0)
		r = ebcc__binding_report_data(&b, ret->report_data);
	if (r == 0)
		r = attest(env, s, ret->report_data, sizeof(ret->report_data), &ret->report);
	if (r == 0)
		ret->bound = 1;
	return r;
}

/* The shared memory of a "ta-binding" invocation: the BIND payload, and room for the binding. */
static int binding_io_new(struct ebcc__optee_session *s, const struct ebcc_backend_binding *binding,
			  struct binding_io **ret)
{
	struct binding_io *bio = calloc(1, sizeof(*bio));
	int r;

	if (bio == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	r = ebcc__teedev_shm_alloc(&s->dev, binding->encoded_len, &bio->bind);
	if (r == 0) {
		r = ebcc__teedev_shm_alloc(&s->dev, sizeof(bio->result), &bio->out);
		if (r < 0)
			ebcc__teedev_shm_free(&s->dev, &bio->bind);
	}
	if (r < 0) {
		free(bio);
		return ebcc__error_prefix(r, "%s", s->name);
	}
	memcpy(bio->bind.addr, binding->encoded, binding->encoded_len);
	bio->bind_len = binding->encoded_len;
	*ret = bio;
	return 0;
}

/* "ta-binding": the TA bound request and response itself and had the attestation PTA sign its
 * report_data; this side only takes them apart (the core checks the binding). */
static int take_ta_binding(const struct ebcc_backend_env *env, struct ebcc__optee_session *s,
			   const struct binding_io *bio, struct ebcc_backend_invocation *ret)
{
	struct ebcc__optee_attestation_out out;
	_cleanup_free_ uint8_t *report = NULL;
	size_t len = 0;
	int r;

	r = ebcc__optee_binding_split(bio->result, bio->result_len, s->name, ret->report_data,
				      &out);
	if (r == 0)
		r = ebcc__optee_report_encode(EBCC_OPTEE_ATTEST_TA_BINDING, s->session, &out,
					      &report, &len);
	if (r == 0)
		r = ebcc__env_buffer(env, report, len, &ret->report);
	if (r == 0)
		ret->bound = 1;
	return r;
}

static int optee_stage_invoke(const struct ebcc_backend_env *env, void *handle,
			      const struct ebcc_backend_binding *binding, const void *request,
			      size_t request_len, struct ebcc_backend_invocation *ret,
			      void *userdata)
{
	struct ebcc_backend_buffer *ret_response = &ret->response;
	struct ebcc__optee_session *s = handle;
	struct ebcc__teeshm in;
	_cleanup_free_ struct binding_io *bio = NULL;
	size_t out_size, wanted = 0;
	int r;

	/* A TA's log goes to the secure console, not to the normal world: ret->log stays empty. */
	(void)userdata;
	if (s == NULL || binding == NULL || (request == NULL && request_len > 0))
		return ebcc__env_fail(env, ebcc__error(EBCC_ERR_INVALID_ARG,
						       "stage_invoke: bad arguments"));
	if (!s->local || s->closed || s->owner != getpid())
		return ebcc__env_fail(env, not_here(s));
	if (binding->timeout_ms != 0)
		return ebcc__env_fail(env, ebcc__error(EBCC_ERR_INVALID_ARG, "%s: the optee backend "
						       "cannot bound one call (a TEEC invocation "
						       "runs to completion): no timeout_ms",
						       s->name));
	if (request_len > s->max_request)
		return ebcc__env_fail(env, ebcc__error(EBCC_ERR_TOO_BIG, "%s: request of %zu bytes, "
						       "its maxRequest is %" PRIu64, s->name,
						       request_len, s->max_request));
	out_size = s->max_response < FIRST_RESPONSE_BUFFER ? (size_t)s->max_response
							   : FIRST_RESPONSE_BUFFER;
	if (out_size == 0)
		out_size = 1;
	r = ebcc__teedev_shm_alloc(&s->dev, request_len, &in);
	if (r < 0)
		return ebcc__env_fail(env, ebcc__error_prefix(r, "%s", s->name));
	if (request_len > 0)
		memcpy(in.addr, request, request_len);
	if (s->opts.attestation == EBCC_OPTEE_ATTEST_TA_BINDING) {
		r = binding_io_new(s, binding, &bio);
		if (r < 0) {
			ebcc__teedev_shm_free(&s->dev, &in);
			return ebcc__env_fail(env, r);
		}
	}
	for (unsigned attempt = 0;; attempt++) {
		r = invoke_once(s, &in, request_len, out_size, bio, env, ret_response, &wanted);
		if (r != 1)
			break;
		/* TEEC_ERROR_SHORT_BUFFER: the TA said how much it needs. */
		if (wanted > s->max_response) {
			r = ebcc__error(EBCC_ERR_STAGE, "%s asks for a %zu-byte response buffer "
					"(TEEC_ERROR_SHORT_BUFFER), more than its maxResponse %" PRIu64,
					s->name, wanted, s->max_response);
			break;
		}
		if (wanted <= out_size || attempt + 1 == INVOKE_ATTEMPTS) {
			r = ebcc__error(EBCC_ERR_STAGE, "%s answered TEEC_ERROR_SHORT_BUFFER asking "
					"for %zu bytes after a %zu-byte buffer (%u attempts)",
					s->name, wanted, out_size, attempt + 1);
			break;
		}
		out_size = wanted;
	}
	ebcc__teedev_shm_free(&s->dev, &in);
	if (bio != NULL) {
		ebcc__teedev_shm_free(&s->dev, &bio->bind);
		ebcc__teedev_shm_free(&s->dev, &bio->out);
	}
	if (r == 0)
		r = bio != NULL ? take_ta_binding(env, s, bio, ret)
				: bind_and_attest(env, s, binding, request, request_len, ret);
	return r < 0 ? ebcc__env_fail(env, r) : 0;
}

static int optee_verify_report(const struct ebcc_backend_env *env,
			       const struct ebcc_backend_report_check *check,
			       char **ret_verdict_json, void *userdata)
{
	(void)userdata;
	return ebcc__env_verify_report(env, check, ebcc__optee_verify, ret_verdict_json);
}

static const struct ebcc_backend_ops optee_ops = {
	.size = sizeof(struct ebcc_backend_ops),
	.abi_version = EBCC_BACKEND_ABI_VERSION,
	.name = "optee",
	.isolation = EBCC_ISOLATION_EMBEDDED,
	.flags = 0,
	.evidence_format = EBCC_OPTEE_FORMAT,
	.max_report_data = EBCC_REPORT_DATA_SIZE,
	.probe = optee_probe,
	.stage_load = optee_stage_load,
	.stage_open = optee_stage_open,
	.stage_invoke = optee_stage_invoke,
	.stage_close = optee_stage_close,
	.stage_unload = optee_stage_unload,
	.verify_report = optee_verify_report,
	.attestation_key = optee_attestation_key,
};

const struct ebcc_backend_ops *ebcc__backend_optee_entry(void)
{
	return &optee_ops;
}

int ebcc__backend_optee_register(struct ebcc_context *ctx, const struct ebcc__hostops *host)
{
	return ebcc_backend_register(ctx, &optee_ops, (void *)host);
}
