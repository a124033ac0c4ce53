/* SPDX-License-Identifier: MIT */
/*
 * One stage invocation: validate, allocate the sequence number, dispatch to the backend with
 * the binding's fields, check the report_data the stage bound against the one computed over
 * the bytes the library saw, take the report (from the protected side, or for a host inside
 * the TEE from stage_report()), tear down a stage loaded for this invocation, persist the
 * artifacts, hand back the invocation. Also the stage's description.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>

#include <json-c/json.h>

#include "ebcc-private.h"
#include "frame.h"

#define SERIAL_LOCK_NAME "invoke.lock"

/* Everything one call holds; released by call_finish(). */
struct call {
	struct ebcc_instance *inst;
	struct ebcc_state *st;
	struct ebcc_stage_decl *decl;
	struct ebcc_backend_session session;
	bool have_session;
	int stage_dir_fd;
	int seq_fd;
	int serial_fd;
	void *handle;
	bool loaded_here; /* an invocation-lifetime stage this call loaded */
	bool handle_kept; /* the instance handle keeps it for later calls */
	struct ebcc_backend_invocation inv; /* what the backend answered */
	struct ebcc_binding binding;        /* what the evidence binds */
	struct ebcc_invoke_options opts;    /* the caller's, or the defaults */
	struct ebcc_artifact a;
	struct ebcc_artifact_policy policy;
	uint64_t max_request; /* the context's */
	uint64_t t;           /* when the current phase began */
};

static uint64_t lap(struct call *c)
{
	uint64_t now = ebcc__now_ns(), spent = now - c->t;

	c->t = now;
	return spent;
}

static void call_finish(struct call *c)
{
	if (c->handle != NULL && c->have_session && !c->handle_kept) {
		if (c->loaded_here)
			ebcc__stage_unload(&c->session, c->handle);
		else
			ebcc__stage_close(&c->session, c->handle);
	}
	if (c->have_session)
		ebcc__backend_session_close(&c->session);
	if (c->serial_fd >= 0)
		close(c->serial_fd);
	if (c->seq_fd >= 0)
		close(c->seq_fd);
	if (c->stage_dir_fd >= 0)
		close(c->stage_dir_fd);
	free(c->inv.response.data);
	free(c->inv.log.data);
	free(c->inv.report.data);
	ebcc__state_free(c->st);
}

/* A stage loaded for this invocation is done with once its answer (and report) is in: it goes
 * before the artifacts are written, timed on its own (the sandbox's cost, not the files'). */
static void teardown(struct call *c)
{
	if (!c->loaded_here || c->handle == NULL)
		return;
	(void)ebcc__stage_unload(&c->session, c->handle);
	c->handle = NULL;
	c->a.ns_teardown = lap(c);
}

/* A failed invocation that got a sequence number still leaves meta.json and log.txt. */
static int record_failure(struct call *c, int r)
{
	char message[EBCC_ERROR_MESSAGE_MAX], refusal[EBCC_ERROR_MESSAGE_MAX + 32];

	if (c->a.seq == 0)
		return r;
	ebcc__error_save(message);
	c->a.error_code = r;
	c->a.error_message = message;
	c->a.log = c->inv.log.data;
	c->a.log_len = c->inv.log.len;
	if (c->a.request_refused) {
		/* No stage saw it: the log says why, and the body is not kept. */
		int n = snprintf(refusal, sizeof(refusal), "request refused: %s\n", message);

		c->a.log = refusal;
		c->a.log_len = n > 0 ? strnlen(refusal, sizeof(refusal)) : 0;
	}
	c->a.evidence_json = NULL;
	c->a.has_response = false;
	c->a.ns_dispatch += lap(c);
	teardown(c);
	if (ebcc__artifacts_persist(c->stage_dir_fd, &c->a, &c->policy) < 0)
		ebcc__log_warning(c->inst->ctx, "composite %s: stage %s: recording failed invocation "
				  "%" PRIu64 ": %s",
				  c->inst->id, c->decl->name, c->a.seq, ebcc_last_error_message());
	/* message and refusal go out of scope: c->a must not keep pointing at them. */
	c->a.error_message = NULL;
	c->a.log = NULL;
	c->a.log_len = 0;
	/* The caller learns why the invocation failed, not why recording it did. */
	ebcc__error_restore(message);
	return r;
}

static int prepare(struct call *c, const char *stage)
{
	int status, r;

	r = ebcc__instance_check(c->inst);
	if (r == 0)
		r = ebcc__instance_peek_state(c->inst, &c->st);
	if (r < 0)
		return r;
	status = ebcc__status_derive(c->inst, c->st, NULL);
	if (status < 0)
		return status;
	c->decl = c->st != NULL ? ebcc__state_stage(c->st, stage) : NULL;
	if (c->decl == NULL)
		return ebcc__error(EBCC_ERR_NOT_FOUND, "composite %s has no stage \"%s\"", c->inst->id,
				   stage);
	if (status != EBCC_STATUS_RUNNING)
		return ebcc__error(EBCC_ERR_STATE,
				   "cannot invoke stage %s: composite %s is %s, not running", stage,
				   c->inst->id, ebcc__status_name(status));
	pthread_mutex_lock(&c->inst->ctx->lock);
	c->max_request = c->inst->ctx->opts.max_request;
	c->policy = (struct ebcc_artifact_policy){
		.store_bodies = c->inst->ctx->opts.artifacts == EBCC_ARTIFACTS_FULL,
		.durable = c->inst->ctx->opts.durability == EBCC_DURABILITY_FSYNC,
		.retention = c->inst->ctx->opts.retention,
	};
	pthread_mutex_unlock(&c->inst->ctx->lock);
	r = ebcc__stage_dir_open(c->inst, stage, true, &c->stage_dir_fd);
	if (r == 0)
		r = ebcc__seq_open(c->stage_dir_fd, &c->seq_fd);
	if (r == 0)
		r = ebcc__seq_next(c->seq_fd, c->policy.durable, &c->a.seq);
	if (r < 0)
		return ebcc__error_prefix(r, "stage %s", stage);
	ebcc__test_point("invoke:seq-allocated");
	c->a.instance = c->inst->id;
	c->a.stage = c->decl->name;
	c->a.backend = c->st->backend;
	c->a.lifetime = c->decl->lifetime;
	c->a.measurement = c->decl->measurement;
	c->a.has_eid = c->decl->lifetime == EBCC_LIFETIME_INSTANCE && c->decl->loaded;
	c->a.eid = c->decl->eid;
	return 0;
}

static int check_sizes(struct call *c, size_t request_len, size_t nonce_len)
{
	if (c->opts.timeout_ms > c->decl->timeout_ms)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "a timeout of %" PRIu32 " ms for stage %s, whose timeoutMs is "
				   "%" PRIu32 ": a call may only shorten it",
				   c->opts.timeout_ms, c->decl->name, c->decl->timeout_ms);
	if (nonce_len > EBCC_NONCE_MAX)
		return ebcc__error(EBCC_ERR_TOO_BIG, "nonce of %zu bytes: at most %d are allowed",
				   nonce_len, EBCC_NONCE_MAX);
	if (request_len > c->decl->max_request || request_len > c->max_request)
		return ebcc__error(EBCC_ERR_TOO_BIG,
				   "request of %zu bytes for stage %s exceeds its limit: the "
				   "stage's maxRequest is %" PRIu64 " and the context's max_request "
				   "%" PRIu64,
				   request_len, c->decl->name, c->decl->max_request, c->max_request);
	if (c->decl->lifetime == EBCC_LIFETIME_INSTANCE && !c->decl->loaded)
		return ebcc__error(EBCC_ERR_STAGE, "stage %s of composite %s is not loaded",
				   c->decl->name, c->inst->id);
	return 0;
}

void ebcc__invocation_files_prepare(struct ebcc_instance *inst, const char *stage)
{
	int dir_fd = -1, seq_fd = -1, lock_fd;

	if (ebcc__stage_dir_open(inst, stage, false, &dir_fd) < 0)
		return;
	if (ebcc__seq_open(dir_fd, &seq_fd) == 0)
		close(seq_fd);
	lock_fd = openat(dir_fd, SERIAL_LOCK_NAME, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (lock_fd >= 0)
		close(lock_fd);
	close(dir_fd);
}

/* Reaches the stage: the warm one (serialized unless the backend allows overlap), or a fresh
 * one for this invocation. */
static int attach(struct call *c)
{
	const struct ebcc_backend *b;
	struct ebcc_loaded_stage l;
	int r;

	r = ebcc__backend_find(c->inst->ctx, c->st->backend, &b);
	if (r == 0)
		r = ebcc__backend_session_open(&c->session, c->inst->ctx, b, c->inst->root_fd);
	if (r < 0)
		return r;
	c->have_session = true;
	if (c->decl->lifetime == EBCC_LIFETIME_INSTANCE) {
		if (!(b->ops.flags & EBCC_BACKEND_CONCURRENT_INVOKE)) {
			c->serial_fd = openat(c->stage_dir_fd, SERIAL_LOCK_NAME,
					      O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
			if (c->serial_fd < 0)
				/* ENOENT: the composite was deleted since it was read. */
				return ebcc__error_errno(ebcc__error_from_errno(errno), errno,
							 "stage %s: open %s", c->decl->name,
							 SERIAL_LOCK_NAME);
			while (flock(c->serial_fd, LOCK_EX) < 0)
				if (errno != EINTR)
					return ebcc__error_errno(EBCC_ERR_IO, errno,
								 "stage %s: flock", c->decl->name);
		}
		if (c->serial_fd < 0)
			return ebcc__stage_attach(c->inst, &c->session, c->decl, &c->handle);
		/* Serialized calls may share one handle per instance handle: attaching costs a
		 * reference parse and a look at the process. */
		c->handle = ebcc__stage_handle_cached(c->inst, c->decl->name, c->decl->eid);
		if (c->handle == NULL) {
			r = ebcc__stage_attach(c->inst, &c->session, c->decl, &c->handle);
			if (r < 0)
				return r;
			ebcc__stage_handle_keep(c->inst, b, c->decl->name, c->decl->eid, c->handle);
		}
		c->handle_kept = true;
		return 0;
	}
	r = ebcc__stage_load(c->inst, c->st, &c->session, c->decl, &l);
	if (r < 0)
		return r;
	c->handle = l.handle;
	c->loaded_here = true;
	c->a.has_eid = true;
	c->a.eid = l.eid;
	ebcc__loaded_stage_clear(&l);
	return 0;
}

/* Hands the request to the stage with the binding's fields, which the stage binds with the
 * digests of the request it received and the response it returns. */
static int dispatch(struct call *c, const void *request, size_t request_len)
{
	uint8_t encoded[EBCC_FRAME_BIND_MAX];
	struct ebcc_backend_binding binding;
	int r;

	c->binding = (struct ebcc_binding){
		.version = EBCC_EVIDENCE_VERSION,
		.instance = c->inst->id,
		.stage = c->decl->name,
		.eid = c->a.eid,
		.seq = c->a.seq,
		.measurement = c->decl->measurement,
		.nonce = c->a.nonce,
		.nonce_len = c->a.nonce_len,
	};
	binding = (struct ebcc_backend_binding){
		.size = sizeof(binding),
		.evidence_version = EBCC_EVIDENCE_VERSION,
		.instance_id = c->binding.instance,
		.stage_name = c->binding.stage,
		.eid = c->binding.eid,
		.seq = c->binding.seq,
		.measurement = c->binding.measurement,
		.nonce = c->binding.nonce,
		.nonce_len = c->binding.nonce_len,
		.encoded = encoded,
		.timeout_ms = c->opts.timeout_ms,
	};
	r = ebcc__binding_encode_fields(&c->binding, encoded, sizeof(encoded),
					&binding.encoded_len);
	if (r < 0)
		return r;
	c->inv = (struct ebcc_backend_invocation){ .size = sizeof(c->inv) };
	r = ebcc__call_stage_invoke(&c->session, c->handle, c->decl->name, &binding, request,
				    request_len, &c->inv);
	if (r < 0)
		return r;
	if (c->inv.response.len > c->decl->max_response)
		return ebcc__error(EBCC_ERR_STAGE,
				   "stage %s answered %zu bytes, more than its maxResponse %" PRIu64,
				   c->decl->name, c->inv.response.len, c->decl->max_response);
	return 0;
}

/* The stage's report_data against the one computed over the bytes the library saw: a response
 * or binding changed between the stage and here is refused, before anything is persisted. */
static int check_binding(struct call *c, uint8_t report_data[EBCC_REPORT_DATA_SIZE])
{
	const struct ebcc_backend *b = c->session.backend;
	char mine[17], theirs[17];
	int r;

	r = ebcc__binding_report_data(&c->binding, report_data);
	if (r < 0)
		return r;
	if (!c->inv.bound) {
		if (b->ops.flags & EBCC_BACKEND_HOST_IN_TCB)
			return 0; /* the host is inside the TEE: its own binding is the TEE's */
		return ebcc__error(EBCC_ERR_BACKEND, "backend %s returned no report_data bound by "
				   "the stage, and its host is not inside the TEE", b->name);
	}
	if (memcmp(c->inv.report_data, report_data, EBCC_REPORT_DATA_SIZE) == 0)
		return 0;
	ebcc__hex_encode(report_data, 8, mine);
	ebcc__hex_encode(c->inv.report_data, 8, theirs);
	return ebcc__error(EBCC_ERR_STAGE,
			   "stage %s bound report_data %s... but the request, response and fields "
			   "the library saw give %s...: the answer or the binding was changed "
			   "between the stage and the library",
			   c->decl->name, theirs, mine);
}

static int report(struct call *c, struct ebcc_evidence **ret_ev)
{
	const struct ebcc_backend *b = c->session.backend;
	struct ebcc_evidence_fields f;
	int r;

	memcpy(c->binding.request_digest, c->a.request_digest, EBCC_SHA256_SIZE);
	memcpy(c->binding.response_digest, c->a.response_digest, EBCC_SHA256_SIZE);
	if (c->inv.has_public_key) {
		/* The stage made a key for this answer: its report_data binds it (version 3). */
		c->binding.version = EBCC_EVIDENCE_VERSION_KEYED;
		c->binding.public_key = c->inv.public_key;
	}
	if (c->inv.has_image_digest) {
		/* The stage loaded an image: every answer from then on binds its digest
		 * (version 4, with the key too when there is one). */
		c->binding.version = EBCC_EVIDENCE_VERSION_IMAGE;
		c->binding.image_digest = c->inv.image_digest;
	}
	f = (struct ebcc_evidence_fields){
		.backend = b->name,
		.format = b->ops.evidence_format,
		.simulated = (b->ops.flags & EBCC_BACKEND_SIMULATED) != 0,
		.binding = c->binding,
	};
	r = check_binding(c, f.report_data);
	if (r < 0)
		return r;
	if (c->inv.report.len == 0) {
		r = ebcc__call_stage_report(&c->session, c->handle, c->decl->name, f.report_data,
					    sizeof(f.report_data), &c->inv.report);
		if (r < 0)
			return r;
	}
	f.report = c->inv.report.data;
	f.report_len = c->inv.report.len;
	r = ebcc__evidence_new(&f, ret_ev);
	return r < 0 ? ebcc__error_prefix(EBCC_ERR_BACKEND, "backend %s produced unusable evidence",
					  b->name)
		     : 0;
}

/* The caller's options as this library knows them (lib/structopts.c). */
static int options_copy(const struct ebcc_invoke_options *in, struct ebcc_invoke_options *out)
{
	int r;

	ebcc_invoke_options_init(out);
	r = ebcc__struct_options_copy(in, sizeof(*out), out, "ebcc_stage_invoke_with",
				      "ebcc_invoke_options_init");
	if (r < 0 || in == NULL)
		return r;
	if (out->nonce == NULL && out->nonce_len > 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_stage_invoke_with: options.nonce is "
				   "NULL with a non-zero length");
	if (out->trace_id != NULL) {
		size_t n = strnlen(out->trace_id, EBCC_TRACE_ID_MAX + 1);

		for (size_t i = 0; i < n; i++)
			if (out->trace_id[i] < 0x21 || out->trace_id[i] > 0x7e ||
			    out->trace_id[i] == '"' || out->trace_id[i] == '\\')
				n = 0;
		if (n == 0 || n > EBCC_TRACE_ID_MAX)
			return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_stage_invoke_with: "
					   "options.trace_id must be 1 to %d characters of ASCII "
					   "0x21..0x7e other than '\"' and '\\'",
					   EBCC_TRACE_ID_MAX);
	}
	return 0;
}

EBCC_EXPORT void ebcc_invoke_options_init(struct ebcc_invoke_options *options)
{
	if (options != NULL)
		*options = (struct ebcc_invoke_options)EBCC_INVOKE_OPTIONS_INIT;
}

EBCC_EXPORT int ebcc_stage_invoke(struct ebcc_instance *inst, const char *stage,
				  const void *request, size_t request_len, const void *nonce,
				  size_t nonce_len, struct ebcc_invocation **ret_inv)
{
	struct ebcc_invoke_options opts = EBCC_INVOKE_OPTIONS_INIT;

	if (inst == NULL || stage == NULL || ret_inv == NULL || (request == NULL && request_len > 0) ||
	    (nonce == NULL && nonce_len > 0))
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_stage_invoke: %s is NULL",
				   inst == NULL	   ? "inst"
				   : stage == NULL ? "stage"
				   : ret_inv == NULL ? "ret_inv"
				   : request == NULL ? "request (with a non-zero length)"
						     : "nonce (with a non-zero length)");
	opts.nonce = nonce;
	opts.nonce_len = nonce_len;
	return ebcc_stage_invoke_with(inst, stage, request, request_len, &opts, ret_inv);
}

EBCC_EXPORT int ebcc_stage_invoke_with(struct ebcc_instance *inst, const char *stage,
				       const void *request, size_t request_len,
				       const struct ebcc_invoke_options *options,
				       struct ebcc_invocation **ret_inv)
{
	struct call c = { .inst = inst, .stage_dir_fd = -1, .seq_fd = -1, .serial_fd = -1 };
	struct ebcc_evidence *ev = NULL;
	_cleanup_free_ char *evidence_json = NULL;
	uint64_t t0 = ebcc__now_ns();
	const void *nonce;
	size_t nonce_len;
	int r;

	if (inst == NULL || stage == NULL || ret_inv == NULL || (request == NULL && request_len > 0))
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_stage_invoke_with: %s is NULL",
				   inst == NULL	   ? "inst"
				   : stage == NULL ? "stage"
				   : ret_inv == NULL ? "ret_inv"
						     : "request (with a non-zero length)");
	r = options_copy(options, &c.opts);
	if (r < 0)
		return r;
	nonce = c.opts.nonce;
	nonce_len = c.opts.nonce_len;
	c.a.trace_id = c.opts.trace_id;
	c.t = t0;
	ebcc__format_time_now(c.a.started, sizeof(c.a.started));
	c.a.request = request;
	c.a.request_len = request_len;
	r = prepare(&c, stage);
	if (r < 0)
		goto out;
	r = ebcc__sha256(request, request_len, c.a.request_digest);
	if (r == 0) {
		r = check_sizes(&c, request_len, nonce_len);
		c.a.request_refused = r < 0;
	}
	if (r < 0) {
		r = record_failure(&c, r);
		goto out;
	}
	if (nonce_len > 0)
		memcpy(c.a.nonce, nonce, nonce_len);
	c.a.nonce_len = nonce_len;
	c.a.ns_validate = lap(&c);

	r = attach(&c);
	c.a.ns_eid = lap(&c);
	if (r == 0)
		r = dispatch(&c, request, request_len);
	if (r < 0) {
		r = record_failure(&c, r);
		goto out;
	}
	c.a.ns_dispatch = lap(&c);

	r = ebcc__sha256(c.inv.response.data, c.inv.response.len, c.a.response_digest);
	if (r == 0)
		r = report(&c, &ev);
	if (c.serial_fd >= 0) {
		/* The stage's report was the last use of its (shared) handle: the next caller
		 * may go on. */
		close(c.serial_fd);
		c.serial_fd = -1;
	}
	if (r == 0)
		r = ebcc__evidence_serialize(ev, &evidence_json, &c.a.evidence_len);
	if (r < 0) {
		r = record_failure(&c, r);
		goto out;
	}
	c.a.ns_report = lap(&c);
	teardown(&c);

	c.a.response = c.inv.response.data;
	c.a.response_len = c.inv.response.len;
	c.a.has_response = true;
	c.a.log = c.inv.log.data;
	c.a.log_len = c.inv.log.len;
	c.a.evidence_json = evidence_json;
	r = ebcc__artifacts_persist(c.stage_dir_fd, &c.a, &c.policy);
	if (r < 0)
		goto out;
	r = ebcc__invocation_new(c.a.seq, &c.inv.response, ev, ret_inv);
	ebcc__log_debug(inst->ctx, "composite %s: stage %s invocation %" PRIu64 " took %" PRIu64
			" us%s%s",
			inst->id, stage, c.a.seq, (ebcc__now_ns() - t0) / 1000,
			c.a.trace_id != NULL ? ", trace " : "",
			c.a.trace_id != NULL ? c.a.trace_id : "");
out:
	ebcc_evidence_unref(ev);
	call_finish(&c);
	return r;
}

static void add(struct json_object *obj, const char *key, struct json_object *value, bool *oom)
{
	if (json_object_object_add(obj, key, value) < 0) {
		json_object_put(value);
		*oom = true;
	}
}

EBCC_EXPORT int ebcc_stage_info(struct ebcc_instance *inst, const char *stage, char **ret_json)
{
	struct ebcc_state *st = NULL;
	struct ebcc_stage_decl *d;
	struct json_object *o = NULL, *limits;
	_cleanup_close_ int stage_dir_fd = -1;
	char directory[EBCC_PATH_MAX + NAME_MAX + EBCC_STAGE_NAME_MAX + 16];
	uint64_t last = 0;
	bool oom = false;
	int r;

	if (inst == NULL || stage == NULL || ret_json == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_stage_info: %s is NULL",
				   inst == NULL ? "inst" : stage == NULL ? "stage" : "ret_json");
	r = ebcc__instance_check(inst);
	if (r == 0)
		r = ebcc__instance_peek_state(inst, &st);
	if (r < 0)
		return r;
	d = st != NULL ? ebcc__state_stage(st, stage) : NULL;
	if (d == NULL) {
		r = ebcc__error(EBCC_ERR_NOT_FOUND, "composite %s has no stage \"%s\"", inst->id,
				stage);
		goto out;
	}
	if (ebcc__stage_dir_open(inst, stage, false, &stage_dir_fd) == 0)
		r = ebcc__seq_last(stage_dir_fd, &last);
	if (r < 0)
		goto out;
	o = json_object_new_object();
	limits = json_object_new_object();
	if (o == NULL || limits == NULL) {
		json_object_put(limits);
		r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
		goto out;
	}
	add(o, "name", json_object_new_string(d->name), &oom);
	add(o, "lifetime", json_object_new_string(ebcc__lifetime_name(d->lifetime)), &oom);
	add(o, "backend", json_object_new_string(st->backend), &oom);
	add(o, "measurement", json_object_new_string(d->measurement), &oom);
	add(o, "image", json_object_new_string(d->image), &oom);
	if (d->encrypted_image != NULL) {
		struct json_object *enc = ebcc__encrypted_image_json(d);

		if (enc == NULL)
			oom = true;
		else
			add(o, "encryptedImage", enc, &oom);
	}
	snprintf(directory, sizeof(directory), "%s/%s/stages/%s", inst->root_path, inst->dir_name,
		 d->name);
	add(o, "directory", json_object_new_string(directory), &oom);
	add(o, "eid", d->loaded ? json_object_new_int64((int64_t)d->eid) : NULL, &oom);
	add(limits, "maxRequest", json_object_new_int64((int64_t)d->max_request), &oom);
	add(limits, "maxResponse", json_object_new_int64((int64_t)d->max_response), &oom);
	add(limits, "timeoutMs", json_object_new_int64(d->timeout_ms), &oom);
	add(limits, "memoryMiB", json_object_new_int64(d->memory_mib), &oom);
	add(limits, "cpuSeconds", json_object_new_int64(d->cpu_seconds), &oom);
	add(limits, "maxFiles", json_object_new_int64(d->max_files), &oom);
	add(o, "limits", limits, &oom);
	add(o, "isolation",
	    d->loaded && d->isolation_json != NULL ? json_tokener_parse(d->isolation_json) : NULL,
	    &oom);
	add(o, "last_seq", json_object_new_int64((int64_t)last), &oom);
	r = oom ? ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory")
		: ebcc__json_to_string(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED, ret_json);
out:
	json_object_put(o);
	ebcc__state_free(st);
	return r;
}

EBCC_EXPORT int ebcc_evidence_get(struct ebcc_instance *inst, const char *stage, uint64_t seq,
				  struct ebcc_evidence **ret_ev)
{
	struct ebcc_state *st = NULL;
	_cleanup_close_ int stage_dir_fd = -1;
	uint64_t *seqs = NULL;
	size_t n = 0;
	int r;

	if (inst == NULL || stage == NULL || ret_ev == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "ebcc_evidence_get: %s is NULL",
				   inst == NULL ? "inst" : stage == NULL ? "stage" : "ret_ev");
	r = ebcc__instance_check(inst);
	if (r == 0)
		r = ebcc__instance_peek_state(inst, &st);
	if (r < 0)
		return r;
	if (st == NULL || ebcc__state_stage(st, stage) == NULL) {
		ebcc__state_free(st);
		return ebcc__error(EBCC_ERR_NOT_FOUND, "composite %s has no stage \"%s\"", inst->id,
				   stage);
	}
	ebcc__state_free(st);
	r = ebcc__stage_dir_open(inst, stage, false, &stage_dir_fd);
	if (r == EBCC_ERR_NOT_FOUND)
		return ebcc__error(EBCC_ERR_NOT_FOUND, "stage %s has no invocations", stage);
	if (r < 0)
		return r;
	if (seq != 0)
		return ebcc__artifacts_read_evidence(stage_dir_fd, stage, seq, ret_ev);
	/* The latest invocation that has evidence (failed ones have none). */
	r = ebcc__artifacts_list(stage_dir_fd, &seqs, &n);
	if (r < 0)
		return r;
	r = EBCC_ERR_NOT_FOUND;
	for (size_t i = 0; i < n && r == EBCC_ERR_NOT_FOUND; i++)
		r = ebcc__artifacts_read_evidence(stage_dir_fd, stage, seqs[i], ret_ev);
	free(seqs);
	if (r == EBCC_ERR_NOT_FOUND)
		return ebcc__error(r, "stage %s has no invocation with evidence", stage);
	return r;
}
