/* SPDX-License-Identifier: MIT */
/*
 * Process stages: load (seal, measure, spawn in the sandbox), reattach from another process,
 * one request over the frame channel with what became of a stage that failed it, and stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "backend-env.h"
#include "channel.h"
#include "ebcc-base.h"
#include "ebcc/stage.h"
#include "eid.h"
#include "image.h"
#include "procstage.h"
#include "sandbox-pool.h"
#include "sandbox.h"

_Static_assert(EBCC_SANDBOX_CHANNEL_FD == EBCC_STAGE_CHANNEL_FD,
	       "the sandbox hands the channel where the stage library looks for it");
#define REF_MAX 4096

struct ebcc__procstage {
	const struct ebcc__procstage_kind *kind;
	uint32_t lifetime;
	char *name; /* "stage <stage> of <instance> (eid N)" for messages */
	uint64_t eid;
	char measurement[EBCC_MEASUREMENT_MAX];
	struct ebcc__sandbox_proc proc;
	pid_t attest_pid; /* invocation: the child that is the stage's attestation primitive */
	int dir_fd;     /* instance: the stage directory, where the socket lives */
	int channel_fd; /* invocation: the host end of the socketpair */
	/* invocation: the context's sandbox pool, which reaps the stage and its primitive's
	 * process once stopped (the call does not wait for their exit), or NULL */
	struct ebcc__sandbox_pool *pool;
	struct ebcc__channel_limits limits;
};

static void stage_free(struct ebcc__procstage *s)
{
	if (s == NULL)
		return;
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	if (s->channel_fd >= 0)
		close(s->channel_fd);
	free(s->name);
	free(s);
}

const char *ebcc__procstage_measurement(const struct ebcc__procstage *s)
{
	return s->measurement;
}

uint64_t ebcc__procstage_eid(const struct ebcc__procstage *s)
{
	return s->eid;
}

const char *ebcc__procstage_name(const struct ebcc__procstage *s)
{
	return s->name;
}

int ebcc__procstage_isolation_add(const struct ebcc__procstage *s, struct json_object *obj)
{
	struct json_object *sandbox = ebcc__sandbox_isolation_json(&s->proc.isolation);

	if (sandbox == NULL || json_object_object_add(obj, "sandbox", sandbox) < 0) {
		json_object_put(sandbox);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	if (json_object_object_add(obj, "pid", json_object_new_int64(s->proc.pid)) < 0)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	return 0;
}

/* ---- load, open, close, unload ------------------------------------------------------------- */

static int params_check(const struct ebcc__procstage_kind *kind,
			const struct ebcc_backend_env *env,
			const struct ebcc_backend_stage_params *p, bool loading)
{
	int r = ebcc__stage_params_check(p, loading);

	if (r < 0)
		return r;
	if (p->lifetime == EBCC_LIFETIME_INSTANCE && p->stage_dir_fd < 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "stage %s: an instance stage needs its stage directory",
				   p->stage_name);
	if (loading && env->data_dir_fd < 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "stage %s: the %s backend needs its data directory under the "
				   "state root",
				   p->stage_name, kind->backend);
	if (loading) {
		/* Process stages read no backendOptions: a key there is a mistake, not a wish. */
		static const char *const none[] = { NULL };
		char what[EBCC_STAGE_NAME_MAX + 32];

		snprintf(what, sizeof(what), "stage %.64s: backendOptions", p->stage_name);
		return ebcc__json_options_check(p->options_json, none, kind->backend,
						EBCC_ERR_INVALID_ARG, what);
	}
	return 0;
}

static int stage_new(const struct ebcc__procstage_kind *kind,
		     const struct ebcc_backend_stage_params *p, uint64_t eid,
		     struct ebcc__procstage **ret)
{
	struct ebcc__procstage *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	s->kind = kind;
	s->dir_fd = -1;
	s->channel_fd = -1;
	s->lifetime = p->lifetime;
	s->eid = eid;
	s->limits = (struct ebcc__channel_limits){
		.max_request = p->max_request,
		.max_response = p->max_response,
		.log_budget = EBCC_CHANNEL_LOG_BUDGET,
		.timeout_ms = p->timeout_ms,
	};
	if (asprintf(&s->name, "stage %s of %s (eid %" PRIu64 ")", p->stage_name, p->instance_id,
		     eid) < 0) {
		s->name = NULL;
		free(s);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	if (p->stage_dir_fd >= 0) {
		s->dir_fd = fcntl(p->stage_dir_fd, F_DUPFD_CLOEXEC, 3);
		if (s->dir_fd < 0) {
			int e = errno;

			stage_free(s);
			return ebcc__error_errno(EBCC_ERR_IO, e, "dup the stage directory");
		}
	}
	*ret = s;
	return 0;
}

int ebcc__procstage_ref(const struct ebcc__procstage *s, char **ret)
{
	struct json_object *o = json_object_new_object();
	int r;

	if (o == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	json_object_object_add(o, "pid", json_object_new_int64(s->proc.pid));
	json_object_object_add(o, "start_time", json_object_new_int64((int64_t)s->proc.start_time));
	json_object_object_add(o, "measurement", json_object_new_string(s->measurement));
	json_object_object_add(o, "socket", json_object_new_string(s->kind->socket));
	r = ebcc__json_to_string(o, JSON_C_TO_STRING_PLAIN, ret);
	json_object_put(o);
	return r;
}

/* An instance stage's pid record in its stage directory, "<backend>.pid": written by the
 * sandbox's launcher before the stage runs, removed when it is stopped. */
static void pid_record_name(const struct ebcc__procstage *s, char *buf, size_t size)
{
	snprintf(buf, size, "%s.pid", s->kind->backend);
}

/* The attestation primitive's process ends with its stage's end of the socket. */
static void attest_reap(struct ebcc__procstage *s)
{
	if (s->attest_pid > 0 && !ebcc__sandbox_pool_adopt(s->pool, s->attest_pid))
		ebcc__sandbox_wait_pid(s->attest_pid, NULL);
	s->attest_pid = 0;
}

/* Measures and starts the stage; on success s->proc runs the image. */
static int spawn_stage(const struct ebcc_backend_env *env,
		       const struct ebcc_backend_stage_params *p, struct ebcc__procstage *s)
{
	char record[64];
	struct ebcc__sandbox_spec spec = {
		.argv0 = p->stage_name,
		.memory_mib = p->memory_mib,
		.cpu_seconds = p->cpu_seconds,
		.max_files = p->max_files,
	};
	_cleanup_close_ int image = -1, stage_end = -1, attest_end = -1;
	uint8_t digest[EBCC_SHA256_SIZE];
	int r;

	r = ebcc__image_check_static(p->image_fd, p->stage_name);
	if (r < 0)
		return r;
	/* What is hashed is what runs: a sealed copy nobody can change in between. */
	r = ebcc__image_seal_measured(p->image_fd, p->stage_name, &image, digest);
	if (r < 0)
		return r;
	ebcc__measurement_format(digest, s->measurement);
	/* An image changed since create (a container can write its rootfs) never runs. */
	if (p->expected_measurement != NULL && p->expected_measurement[0] != '\0' &&
	    strcmp(p->expected_measurement, s->measurement) != 0)
		return ebcc__error(EBCC_ERR_VERIFY,
				   "%s: the image measures %s, but it measured %s when the composite "
				   "was created (was the image changed?)",
				   p->stage_name, s->measurement, p->expected_measurement);
	if (s->kind->attest_start != NULL) {
		r = s->kind->attest_start(env, s->measurement, s->eid,
					  p->lifetime == EBCC_LIFETIME_INSTANCE, &attest_end,
					  &s->attest_pid);
		if (r < 0)
			return ebcc__error_prefix(r, "%s", s->name);
		spec.attest = true;
		spec.attest_fd = attest_end;
	}

	if (p->lifetime == EBCC_LIFETIME_INSTANCE) {
		char display[EBCC_PATH_MAX];

		snprintf(display, sizeof(display), "%s/%s", p->stage_dir != NULL ? p->stage_dir : ".",
			 s->kind->socket);
		r = ebcc__channel_listen(s->dir_fd, s->kind->socket, display, &stage_end);
		if (r < 0)
			return r;
		spec.channel_listening = true;
		spec.detach = true;
		pid_record_name(s, record, sizeof(record));
		spec.pid_record_dir_fd = s->dir_fd;
		spec.pid_record = record;
	} else {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			return ebcc__error_errno(EBCC_ERR_IO, errno, "socketpair for %s", s->name);
		s->channel_fd = sv[0];
		stage_end = sv[1];
		/* A sandbox made beforehand, when the context keeps a pool of them. */
		spec.pool = ebcc__env_sandbox_pool(env);
		s->pool = spec.pool;
	}
	spec.image_fd = image;
	spec.channel_fd = stage_end;
	r = ebcc__sandbox_spawn(&spec, &s->proc);
	if (r < 0) {
		if (p->lifetime == EBCC_LIFETIME_INSTANCE)
			unlinkat(s->dir_fd, s->kind->socket, 0);
		/* Without a stage its primitive sees end of file and exits. */
		close(attest_end);
		attest_end = -1;
		attest_reap(s);
		return ebcc__error_prefix(r, "%s", s->name);
	}
	return 0;
}

static void stage_stop(struct ebcc__procstage *s)
{
	if (s->channel_fd >= 0) {
		close(s->channel_fd);
		s->channel_fd = -1;
	}
	if (s->pool != NULL)
		ebcc__sandbox_kill_adopted(&s->proc, s->pool);
	else
		ebcc__sandbox_kill(&s->proc);
	attest_reap(s);
	if (s->lifetime == EBCC_LIFETIME_INSTANCE && s->dir_fd >= 0) {
		char record[64];

		pid_record_name(s, record, sizeof(record));
		unlinkat(s->dir_fd, s->kind->socket, 0);
		unlinkat(s->dir_fd, record, 0);
	}
}

int ebcc__procstage_load(const struct ebcc__procstage_kind *kind,
			 const struct ebcc_backend_env *env,
			 const struct ebcc_backend_stage_params *params,
			 struct ebcc__procstage **ret)
{
	struct ebcc__procstage *s = NULL;
	uint64_t eid;
	int r;

	r = params_check(kind, env, params, true);
	if (r < 0)
		return r;
	r = ebcc__eid_next(env->data_dir_fd, ebcc__env_durable(env), &eid);
	if (r < 0)
		return r;
	r = stage_new(kind, params, eid, &s);
	if (r < 0)
		return r;
	r = spawn_stage(env, params, s);
	if (r < 0) {
		stage_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

static int ref_parse(const char *ref, struct ebcc__procstage *s)
{
	struct json_object *o = NULL, *v;
	int64_t pid, start;
	const char *measurement;
	int r;

	r = ebcc__json_parse(ref, strnlen(ref, REF_MAX + 1), EBCC_ERR_CORRUPT, "stage ref", &o);
	if (r < 0)
		return ebcc__error_prefix(r, "%s", s->kind->backend);
	if (!json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "pid", &v) || !json_object_is_type(v, json_type_int) ||
	    (pid = json_object_get_int64(v)) <= 0 || pid > INT32_MAX ||
	    !json_object_object_get_ex(o, "start_time", &v) ||
	    !json_object_is_type(v, json_type_int) || (start = json_object_get_int64(v)) < 0 ||
	    !json_object_object_get_ex(o, "measurement", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    !ebcc__measurement_valid(measurement = json_object_get_string(v))) {
		json_object_put(o);
		return ebcc__error(EBCC_ERR_CORRUPT,
				   "%s stage ref is not {\"pid\", \"start_time\", \"measurement\"}: "
				   "%.200s",
				   s->kind->backend, ref);
	}
	s->proc = (struct ebcc__sandbox_proc){ .pid = (pid_t)pid, .start_time = (uint64_t)start };
	snprintf(s->measurement, sizeof(s->measurement), "%s", measurement);
	json_object_put(o);
	return 0;
}

/* Without a ref: the stage the pid record names, which a load that died before the core
 * recorded it may have left running. */
static int record_parse(const struct ebcc_backend_stage_params *params, struct ebcc__procstage *s)
{
	_cleanup_free_ char *text = NULL;
	char record[64], display[EBCC_PATH_MAX];
	unsigned long long pid = 0, start = 0;
	int n = 0, r;

	pid_record_name(s, record, sizeof(record));
	snprintf(display, sizeof(display), "%s/%s", params->stage_dir != NULL ? params->stage_dir : ".",
		 record);
	r = ebcc__file_read_at(s->dir_fd, record, display, 64, &text, NULL);
	if (r < 0)
		return r;
	if (sscanf(text, "%llu %llu\n%n", &pid, &start, &n) != 2 || text[n] != '\0' || pid == 0 ||
	    pid > INT32_MAX)
		return ebcc__error(EBCC_ERR_CORRUPT, "%s is not \"<pid> <start time>\"", display);
	s->proc = (struct ebcc__sandbox_proc){ .pid = (pid_t)pid, .start_time = start };
	snprintf(s->measurement, sizeof(s->measurement), "%s",
		 params->expected_measurement != NULL ? params->expected_measurement : "");
	return 0;
}

int ebcc__procstage_open(const struct ebcc__procstage_kind *kind,
			 const struct ebcc_backend_env *env,
			 const struct ebcc_backend_stage_params *params, uint64_t eid,
			 const char *ref, struct ebcc__procstage **ret)
{
	struct ebcc__procstage *s = NULL;
	int r;

	r = params_check(kind, env, params, false);
	if (r < 0)
		return r;
	if (params->lifetime != EBCC_LIFETIME_INSTANCE)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "stage %s: only an instance stage can be opened again",
				   params->stage_name);
	r = stage_new(kind, params, eid, &s);
	if (r == 0)
		r = ref != NULL ? ref_parse(ref, s) : record_parse(params, s);
	if (r < 0) {
		stage_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void ebcc__procstage_close(struct ebcc__procstage *s)
{
	if (s == NULL)
		return;
	/* A per-invocation stage is our child and cannot outlive its handle. */
	if (s->proc.child)
		stage_stop(s);
	stage_free(s);
}

void ebcc__procstage_unload(struct ebcc__procstage *s)
{
	if (s == NULL)
		return;
	stage_stop(s);
	stage_free(s);
}

/* ---- invoke -------------------------------------------------------------------------------- */

static void *malloc_host(size_t size, void *host)
{
	(void)host;
	return malloc(size > 0 ? size : 1);
}

static void free_host(void *p, void *host)
{
	(void)host;
	free(p);
}

static void release_host(void *p, void *host)
{
	const struct ebcc_backend_env *env = host;

	env->release(p, env->host);
}

static void *alloc_host(size_t size, void *host)
{
	const struct ebcc_backend_env *env = host;

	return env->alloc(size, env->host);
}

/*
 * After an exchange failed: what became of the stage process, as "; ..." for the message. A
 * stage that is exiting anyway is waited for, so that its real end (SIGSYS, exit status) is
 * what the message says; one that runs on is killed when kill_it is set (a hung stage, or a
 * per-invocation stage that is done either way).
 */
static void process_fate(struct ebcc__procstage *s, bool kill_it, char *buf, size_t size)
{
	char status[128];
	bool killed = false;

	buf[0] = '\0';
	if (ebcc__sandbox_exiting(&s->proc)) {
		ebcc__sandbox_wait(&s->proc);
	} else if (kill_it) {
		ebcc__sandbox_kill(&s->proc);
		killed = true;
	} else {
		return; /* a warm stage that only lost this connection */
	}
	if (s->channel_fd >= 0) {
		close(s->channel_fd);
		s->channel_fd = -1;
	}
	if (!s->proc.child) {
		snprintf(buf, size, "; %s (process %d)",
			 killed ? "the stage was killed" : "the stage is not running any more",
			 (int)s->proc.pid);
		return;
	}
	if (killed && WIFSIGNALED(s->proc.status) && WTERMSIG(s->proc.status) == SIGKILL)
		snprintf(status, sizeof(status), "was stopped by the host (SIGKILL)");
	else
		ebcc__sandbox_status_text(s->proc.status, status, sizeof(status));
	snprintf(buf, size, "; the stage process %s", status);
}

static int not_running(struct ebcc__procstage *s, int err)
{
	char why[160];

	if (err == ECONNREFUSED)
		snprintf(why, sizeof(why), "nothing listens on its socket %s", s->kind->socket);
	else if (err == ENOENT)
		snprintf(why, sizeof(why), "its socket %s is gone", s->kind->socket);
	else if (err == EAGAIN)
		snprintf(why, sizeof(why), "it does not accept connections (backlog full)");
	else
		snprintf(why, sizeof(why), "%s", strerror(err));

	if (err == EAGAIN && ebcc__sandbox_alive(&s->proc))
		return ebcc__error(EBCC_ERR_STAGE, "%s is not answering: %s", s->name, why);
	return ebcc__error(EBCC_ERR_STAGE,
			   "%s is not running: %s (it exited, crashed or was killed; unload it "
			   "and load it again)",
			   s->name, why);
}

int ebcc__procstage_invoke(const struct ebcc_backend_env *env, struct ebcc__procstage *s,
			   const struct ebcc_backend_binding *binding, const void *request,
			   size_t request_len, struct ebcc_backend_invocation *ret)
{
	struct ebcc_backend_buffer *ret_response = &ret->response, *ret_log = &ret->log;
	void *report_out = NULL;
	const struct ebcc__channel_alloc direct = { alloc_host, release_host, (void *)env };
	const struct ebcc__channel_alloc own = { malloc_host, free_host, NULL };
	const struct ebcc__channel_alloc *alloc = ebcc__env_has_release(env) ? &direct : &own;
	struct ebcc__channel_result res = { 0 };
	struct ebcc__channel_limits limits;
	char fate[192] = "", tail[256] = "", *log_out = NULL;
	void *response_out = NULL;
	int fd = -1, r;

	if (s == NULL || binding == NULL || binding->encoded == NULL ||
	    (request == NULL && request_len > 0))
		return ebcc__error(EBCC_ERR_INVALID_ARG, "stage_invoke: bad arguments");
	if (s->lifetime == EBCC_LIFETIME_INSTANCE) {
		/* The stage's listening socket dies with it: only a failed connect needs a look
		 * at the process. */
		r = ebcc__channel_connect(s->dir_fd, s->kind->socket, &fd);
		if (r < 0 && !ebcc__sandbox_alive(&s->proc))
			return ebcc__error(EBCC_ERR_STAGE,
					   "%s is not running: its process %d has exited (unload it "
					   "and load it again)",
					   s->name, (int)s->proc.pid);
		if (r < 0)
			return not_running(s, -r);
	} else {
		if (s->channel_fd < 0 || !ebcc__sandbox_alive(&s->proc)) {
			char status[128] = "its channel is closed";

			if (s->proc.reaped)
				ebcc__sandbox_status_text(s->proc.status, status, sizeof(status));
			return ebcc__error(EBCC_ERR_STAGE, "%s is not running (%s)", s->name, status);
		}
		fd = s->channel_fd;
	}

	/* The caller may shorten the stage's deadline for this call (never lengthen it). */
	limits = s->limits;
	if (binding->size >= offsetof(struct ebcc_backend_binding, timeout_ms) + sizeof(uint32_t) &&
	    binding->timeout_ms > 0 &&
	    (limits.timeout_ms == 0 || binding->timeout_ms < limits.timeout_ms))
		limits.timeout_ms = binding->timeout_ms;
	r = ebcc__channel_call(fd, binding->encoded, binding->encoded_len, request, request_len,
			       &limits, alloc, &res);
	if (s->lifetime == EBCC_LIFETIME_INSTANCE)
		close(fd);
	if (r < 0) {
		ebcc__channel_result_clear(&res, alloc);
		return ebcc__error_prefix(r, "%s", s->name);
	}
	ebcc__channel_log_tail(res.log, res.log_len, tail, sizeof(tail));

	switch (res.outcome) {
	case EBCC_CHANNEL_RESPONSE:
		break;
	case EBCC_CHANNEL_STAGE_ERROR:
		r = ebcc__error(EBCC_ERR_STAGE, "%s failed the request: %s (%" PRId32 "): %s",
				s->name, ebcc_error_name(res.stage_code), res.stage_code,
				res.detail);
		break;
	case EBCC_CHANNEL_TIMEOUT:
		process_fate(s, true, fate, sizeof(fate));
		r = ebcc__error(EBCC_ERR_TIMEOUT, "%s timed out: %s%s%s%s%s", s->name, res.detail,
				fate, tail[0] ? "; its last log line: \"" : "", tail,
				tail[0] ? "\"" : "");
		break;
	case EBCC_CHANNEL_HANGUP:
	case EBCC_CHANNEL_PROTOCOL:
		/* A per-invocation stage is done either way; a warm one only loses this
		 * connection (if it still runs, the next request may succeed). */
		process_fate(s, s->proc.child, fate, sizeof(fate));
		r = ebcc__error(EBCC_ERR_STAGE, "%s %s: %s%s%s%s%s", s->name,
				res.outcome == EBCC_CHANNEL_HANGUP ? "ended the exchange"
								   : "broke the channel protocol "
								     "and was cut off",
				res.detail, fate, tail[0] ? "; its last log line: \"" : "", tail,
				tail[0] ? "\"" : "");
		break;
	}
	if (r == 0 && s->kind->report_check != NULL) {
		r = s->kind->report_check(env, s, res.report_data, res.report, res.report_len);
		if (r < 0)
			r = ebcc__error_prefix(r, "%s", s->name);
	}
	if (r < 0) {
		/* What the stage logged before it failed is worth keeping (log.txt). */
		if (res.log_len > 0) {
			log_out = env->alloc(res.log_len, env->host);
			if (log_out != NULL) {
				memcpy(log_out, res.log, res.log_len);
				ret_log->data = log_out;
				ret_log->len = res.log_len;
			}
		}
		ebcc__channel_result_clear(&res, alloc);
		return r;
	}

	/* Hand the outputs over in the core's memory. */
	if (alloc == &own && res.response_len > 0) {
		response_out = env->alloc(res.response_len, env->host);
		if (response_out != NULL)
			memcpy(response_out, res.response, res.response_len);
	} else {
		response_out = res.response;
		res.response = NULL;
	}
	if (res.log_len > 0) {
		log_out = env->alloc(res.log_len, env->host);
		if (log_out != NULL)
			memcpy(log_out, res.log, res.log_len);
	}
	if (res.report_len > 0) {
		report_out = env->alloc(res.report_len, env->host);
		if (report_out != NULL)
			memcpy(report_out, res.report, res.report_len);
	}
	if ((res.response_len > 0 && response_out == NULL) || (res.log_len > 0 && log_out == NULL) ||
	    (res.report_len > 0 && report_out == NULL)) {
		if (response_out != res.response)
			ebcc__env_free(env, response_out);
		ebcc__env_free(env, log_out);
		ebcc__env_free(env, report_out);
		ebcc__channel_result_clear(&res, alloc);
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory for the outputs of %s", s->name);
	}
	ret_response->data = response_out;
	ret_response->len = res.response_len;
	ret_log->data = log_out;
	ret_log->len = res.log_len;
	/* The stage's binding, which the core checks against its own. */
	ret->report.data = report_out;
	ret->report.len = res.report_len;
	memcpy(ret->report_data, res.report_data, sizeof(ret->report_data));
	ret->bound = 1;
	if (res.has_public_key && ret->size >= offsetof(struct ebcc_backend_invocation,
						     public_key) + sizeof(ret->public_key)) {
		ret->has_public_key = 1;
		memcpy(ret->public_key, res.public_key, sizeof(ret->public_key));
	}
	if (res.has_image_digest && ret->size >= offsetof(struct ebcc_backend_invocation,
						       image_digest) + sizeof(ret->image_digest)) {
		ret->has_image_digest = 1;
		memcpy(ret->image_digest, res.image_digest, sizeof(ret->image_digest));
	}
	ebcc__channel_result_clear(&res, alloc);
	return 0;
}

/* ---- what the backends that run process stages share -------------------------------------- */

int ebcc__procstage_publish(const struct ebcc_backend_env *env, struct ebcc__procstage *s,
			    struct json_object *isolation, struct ebcc_backend_stage *ret_stage)
{
	_cleanup_free_ char *ref = NULL;
	char *out_measurement = NULL, *out_ref = NULL, *out_isolation = NULL;
	int r = isolation == NULL ? ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory")
				  : ebcc__procstage_isolation_add(s, isolation);

	if (r == 0)
		r = ebcc__env_json(env, isolation, &out_isolation);
	if (r == 0)
		r = ebcc__procstage_ref(s, &ref);
	if (r == 0) {
		out_measurement = ebcc__env_strdup(env, s->measurement);
		out_ref = ebcc__env_strdup(env, ref);
		if (out_measurement == NULL || out_ref == NULL)
			r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	json_object_put(isolation);
	if (r < 0) {
		ebcc__env_free(env, out_measurement);
		ebcc__env_free(env, out_ref);
		ebcc__env_free(env, out_isolation);
		ebcc__procstage_unload(s);
		return ebcc__env_fail(env, r);
	}
	ret_stage->handle = s;
	ret_stage->eid = s->eid;
	ret_stage->measurement = out_measurement;
	ret_stage->ref = out_ref;
	ret_stage->isolation_json = out_isolation;
	return 0;
}

int ebcc__procstage_stage_invoke(const struct ebcc_backend_env *env, void *handle,
				 const struct ebcc_backend_binding *binding, const void *request,
				 size_t request_len, struct ebcc_backend_invocation *ret,
				 void *userdata)
{
	int r = ebcc__procstage_invoke(env, handle, binding, request, request_len, ret);

	(void)userdata;
	return r < 0 ? ebcc__env_fail(env, r) : 0;
}

void ebcc__procstage_stage_close(void *handle, void *userdata)
{
	(void)userdata;
	ebcc__procstage_close(handle);
}

int ebcc__procstage_measure_image(const struct ebcc_backend_env *env, int image_fd,
				  const char *what, char **ret_measurement, void *userdata)
{
	char measurement[EBCC_MEASUREMENT_MAX];
	uint8_t digest[EBCC_SHA256_SIZE];
	int r;

	(void)userdata;
	r = ebcc__image_measure(image_fd, what, digest);
	if (r < 0)
		return ebcc__env_fail(env, r);
	ebcc__measurement_format(digest, measurement);
	*ret_measurement = ebcc__env_strdup(env, measurement);
	return *ret_measurement != NULL
		       ? 0
		       : ebcc__env_fail(env, ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory"));
}

int ebcc__procstage_stage_unload(const struct ebcc_backend_env *env, void *handle, void *userdata)
{
	(void)env;
	(void)userdata;
	ebcc__procstage_unload(handle);
	return 0;
}
