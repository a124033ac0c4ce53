/* SPDX-License-Identifier: MIT */
/*
 * The sim backend: a software TEE that says so. A stage is a static executable, copied into a
 * sealed memory file, measured (SHA-256) and executed from that very descriptor inside a
 * sandboxed process (sandbox.c); the host talks to it over the frame channel (channel.c);
 * reports are signed by a simulated device key (report.c); EIDs come from a persistent counter
 * (eid.c). Nothing here is a hardware root of trust, and everything it produces says
 * "simulated": true.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "channel.h"
#include "ebcc-private.h"
#include "ebcc/stage.h"
#include "eid.h"
#include "image.h"
#include "report.h"
#include "sandbox.h"

#define SIM_SOCKET "sim.sock"

_Static_assert(EBCC_SANDBOX_CHANNEL_FD == EBCC_STAGE_CHANNEL_FD,
	       "the sandbox hands the channel where the stage library looks for it");
#define REF_MAX 4096

struct sim_stage {
	uint32_t lifetime;
	char *name; /* "<stage> of <instance>" for messages */
	uint64_t eid;
	char measurement[EBCC_MEASUREMENT_MAX];
	struct ebcc__sandbox_proc proc;
	int dir_fd;     /* instance: the stage directory, where sim.sock lives */
	int channel_fd; /* invocation: the host end of the socketpair */
	struct ebcc__channel_limits limits;
};

/* Hands this thread's last error message to the core and returns r. */
static int fail(const struct ebcc_backend_env *env, int r)
{
	env->set_error(ebcc_last_error_message(), env->host);
	return r;
}

static bool durable(const struct ebcc_backend_env *env)
{
	return env->durability == EBCC_BACKEND_DURABILITY_FSYNC;
}

static bool env_has_release(const struct ebcc_backend_env *env)
{
	return env->size >= offsetof(struct ebcc_backend_env, release) + sizeof(env->release) &&
	       env->release != NULL;
}

/* A copy of text in memory from env->alloc(), or NULL. */
static char *env_strdup(const struct ebcc_backend_env *env, const char *text)
{
	size_t len = strlen(text);
	char *copy = env->alloc(len + 1, env->host);

	if (copy != NULL)
		memcpy(copy, text, len + 1);
	return copy;
}

static void env_free(const struct ebcc_backend_env *env, void *p)
{
	if (p != NULL && env_has_release(env))
		env->release(p, env->host);
}

static void stage_free(struct sim_stage *s)
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

static struct json_object *isolation_object(const struct sim_stage *s)
{
	struct json_object *o = json_object_new_object();
	struct json_object *sandbox = ebcc__sandbox_isolation_json(&s->proc.isolation);

	if (o == NULL || sandbox == NULL) {
		json_object_put(o);
		json_object_put(sandbox);
		return NULL;
	}
	json_object_object_add(o, "simulated", json_object_new_boolean(1));
	json_object_object_add(o, "hardware_root_of_trust", json_object_new_boolean(0));
	json_object_object_add(o, "sandbox", sandbox);
	json_object_object_add(o, "pid", json_object_new_int64(s->proc.pid));
	return o;
}

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
		return fail(env, available);
	o = json_object_new_object();
	sandbox = ebcc__sandbox_isolation_json(&iso);
	if (o == NULL || sandbox == NULL) {
		json_object_put(o);
		json_object_put(sandbox);
		return fail(env, ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory"));
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
		return fail(env, r);
	*ret_details_json = env_strdup(env, text);
	if (*ret_details_json == NULL)
		return fail(env, ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory"));
	return available;
}

/* ---- load, open, close, unload ------------------------------------------------------------- */

static int params_check(const struct ebcc_backend_env *env,
			const struct ebcc_backend_stage_params *p, bool loading)
{
	if (p->size < sizeof(*p))
		return ebcc__error(EBCC_ERR_ABI, "stage parameters of %u bytes, %zu expected",
				   p->size, sizeof(*p));
	if (p->lifetime != EBCC_LIFETIME_INSTANCE && p->lifetime != EBCC_LIFETIME_INVOCATION)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "stage lifetime %u is not known",
				   p->lifetime);
	if (p->stage_name == NULL || p->instance_id == NULL)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "stage parameters without names");
	if (loading && p->image_fd < 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "stage %s: no image descriptor",
				   p->stage_name);
	if (p->lifetime == EBCC_LIFETIME_INSTANCE && p->stage_dir_fd < 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "stage %s: an instance stage needs its stage directory",
				   p->stage_name);
	if (loading && env->data_dir_fd < 0)
		return ebcc__error(EBCC_ERR_INVALID_ARG,
				   "stage %s: the sim backend needs its data directory under the "
				   "state root",
				   p->stage_name);
	return 0;
}

static int stage_new(const struct ebcc_backend_stage_params *p, uint64_t eid,
		     struct sim_stage **ret)
{
	struct sim_stage *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
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

static int make_ref(const struct sim_stage *s, char **ret)
{
	struct json_object *o = json_object_new_object();
	int r;

	if (o == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	json_object_object_add(o, "pid", json_object_new_int64(s->proc.pid));
	json_object_object_add(o, "start_time", json_object_new_int64((int64_t)s->proc.start_time));
	json_object_object_add(o, "measurement", json_object_new_string(s->measurement));
	json_object_object_add(o, "socket", json_object_new_string(SIM_SOCKET));
	r = ebcc__json_to_string(o, JSON_C_TO_STRING_PLAIN, ret);
	json_object_put(o);
	return r;
}

/* Measures and starts the stage; on success s->proc runs the image. */
static int spawn_stage(const struct ebcc_backend_stage_params *p, struct sim_stage *s)
{
	struct ebcc__sandbox_spec spec = {
		.argv0 = p->stage_name,
		.memory_mib = p->memory_mib,
		.cpu_seconds = p->cpu_seconds,
		.max_files = p->max_files,
	};
	_cleanup_close_ int image = -1, stage_end = -1;
	uint8_t digest[EBCC_SHA256_SIZE];
	bool sealed = false;
	int r;

	r = ebcc__image_check_static(p->image_fd, p->stage_name);
	if (r < 0)
		return r;
	/* What is hashed is what runs: a sealed copy nobody can change in between. */
	r = ebcc__image_seal(p->image_fd, p->stage_name, &image, &sealed);
	if (r < 0)
		return r;
	r = ebcc__sha256_fd(image, p->stage_name, digest);
	if (r < 0)
		return r;
	ebcc__measurement_format(digest, s->measurement);

	if (p->lifetime == EBCC_LIFETIME_INSTANCE) {
		char display[EBCC_PATH_MAX];

		snprintf(display, sizeof(display), "%s/%s", p->stage_dir != NULL ? p->stage_dir : ".",
			 SIM_SOCKET);
		r = ebcc__channel_listen(s->dir_fd, SIM_SOCKET, display, &stage_end);
		if (r < 0)
			return r;
		spec.channel_listening = true;
		spec.detach = true;
	} else {
		int sv[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			return ebcc__error_errno(EBCC_ERR_IO, errno, "socketpair for %s", s->name);
		s->channel_fd = sv[0];
		stage_end = sv[1];
	}
	spec.image_fd = image;
	spec.channel_fd = stage_end;
	r = ebcc__sandbox_spawn(&spec, &s->proc);
	if (r < 0) {
		if (p->lifetime == EBCC_LIFETIME_INSTANCE)
			unlinkat(s->dir_fd, SIM_SOCKET, 0);
		return ebcc__error_prefix(r, "%s", s->name);
	}
	return 0;
}

static void stage_stop(struct sim_stage *s)
{
	if (s->channel_fd >= 0) {
		close(s->channel_fd);
		s->channel_fd = -1;
	}
	ebcc__sandbox_kill(&s->proc);
	if (s->lifetime == EBCC_LIFETIME_INSTANCE && s->dir_fd >= 0)
		unlinkat(s->dir_fd, SIM_SOCKET, 0);
}

static int sim_stage_load(const struct ebcc_backend_env *env,
			  const struct ebcc_backend_stage_params *params,
			  struct ebcc_backend_stage *ret_stage, void *userdata)
{
	struct sim_stage *s = NULL;
	_cleanup_free_ char *ref = NULL, *isolation = NULL;
	struct json_object *iso;
	char *out_measurement, *out_ref, *out_isolation;
	uint64_t eid;
	int r;

	(void)userdata;
	r = params_check(env, params, true);
	if (r < 0)
		return fail(env, r);
	r = ebcc__eid_next(env->data_dir_fd, durable(env), &eid);
	if (r < 0)
		return fail(env, r);
	r = stage_new(params, eid, &s);
	if (r < 0)
		return fail(env, r);
	r = spawn_stage(params, s);
	if (r < 0) {
		stage_free(s);
		return fail(env, r);
	}

	iso = isolation_object(s);
	r = iso == NULL ? ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory")
			: ebcc__json_to_string(iso, JSON_C_TO_STRING_PLAIN, &isolation);
	json_object_put(iso);
	if (r == 0)
		r = make_ref(s, &ref);
	out_measurement = r == 0 ? env_strdup(env, s->measurement) : NULL;
	out_ref = r == 0 ? env_strdup(env, ref) : NULL;
	out_isolation = r == 0 ? env_strdup(env, isolation) : NULL;
	if (r == 0 && (out_measurement == NULL || out_ref == NULL || out_isolation == NULL))
		r = ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	if (r < 0) {
		env_free(env, out_measurement);
		env_free(env, out_ref);
		env_free(env, out_isolation);
		stage_stop(s);
		stage_free(s);
		return fail(env, r);
	}
	ret_stage->handle = s;
	ret_stage->eid = eid;
	ret_stage->measurement = out_measurement;
	ret_stage->ref = out_ref;
	ret_stage->isolation_json = out_isolation;
	return 0;
}

static int ref_parse(const char *ref, struct sim_stage *s)
{
	struct json_object *o = NULL, *v;
	int64_t pid, start;
	const char *measurement;
	int r;

	r = ebcc__json_parse(ref, strnlen(ref, REF_MAX + 1), EBCC_ERR_CORRUPT, "sim stage ref", &o);
	if (r < 0)
		return r;
	r = EBCC_ERR_CORRUPT;
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
				   "sim stage ref is not {\"pid\", \"start_time\", \"measurement\"}: "
				   "%.200s",
				   ref);
	}
	s->proc = (struct ebcc__sandbox_proc){ .pid = (pid_t)pid, .start_time = (uint64_t)start };
	snprintf(s->measurement, sizeof(s->measurement), "%s", measurement);
	json_object_put(o);
	return 0;
}

static int sim_stage_open(const struct ebcc_backend_env *env,
			  const struct ebcc_backend_stage_params *params, uint64_t eid,
			  const char *ref, void **ret_handle, void *userdata)
{
	struct sim_stage *s = NULL;
	int r;

	(void)userdata;
	r = params_check(env, params, false);
	if (r < 0)
		return fail(env, r);
	if (params->lifetime != EBCC_LIFETIME_INSTANCE || ref == NULL)
		return fail(env, ebcc__error(EBCC_ERR_INVALID_ARG,
					     "stage %s: only an instance stage with its ref can be "
					     "opened again",
					     params->stage_name));
	r = stage_new(params, eid, &s);
	if (r == 0)
		r = ref_parse(ref, s);
	if (r < 0) {
		stage_free(s);
		return fail(env, r);
	}
	*ret_handle = s;
	return 0;
}

static void sim_stage_close(void *handle, void *userdata)
{
	struct sim_stage *s = handle;

	(void)userdata;
	if (s == NULL)
		return;
	/* A per-invocation stage is our child and cannot outlive its handle. */
	if (s->proc.child)
		stage_stop(s);
	stage_free(s);
}

static int sim_stage_unload(const struct ebcc_backend_env *env, void *handle, void *userdata)
{
	struct sim_stage *s = handle;

	(void)env;
	(void)userdata;
	if (s == NULL)
		return 0;
	stage_stop(s);
	stage_free(s);
	return 0;
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
static void process_fate(struct sim_stage *s, bool kill_it, char *buf, size_t size)
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

static int not_running(struct sim_stage *s, int err)
{
	const char *why = err == ECONNREFUSED ? "nothing listens on its socket " SIM_SOCKET
			  : err == ENOENT     ? "its socket " SIM_SOCKET " is gone"
			  : err == EAGAIN     ? "it does not accept connections (backlog full)"
					      : strerror(err);

	if (err == EAGAIN && ebcc__sandbox_alive(&s->proc))
		return ebcc__error(EBCC_ERR_STAGE, "%s is not answering: %s", s->name, why);
	return ebcc__error(EBCC_ERR_STAGE,
			   "%s is not running: %s (it exited, crashed or was killed; unload it "
			   "and load it again)",
			   s->name, why);
}

static int sim_stage_invoke(const struct ebcc_backend_env *env, void *handle, const void *request,
			    size_t request_len, struct ebcc_backend_buffer *ret_response,
			    struct ebcc_backend_buffer *ret_log, void *userdata)
{
	struct sim_stage *s = handle;
	const struct ebcc__channel_alloc direct = { alloc_host, release_host, (void *)env };
	const struct ebcc__channel_alloc own = { malloc_host, free_host, NULL };
	const struct ebcc__channel_alloc *alloc = env_has_release(env) ? &direct : &own;
	struct ebcc__channel_result res = { 0 };
	char fate[192] = "", tail[256] = "", *log_out = NULL;
	void *response_out = NULL;
	int fd = -1, r;

	(void)userdata;
	if (s == NULL || (request == NULL && request_len > 0))
		return fail(env, ebcc__error(EBCC_ERR_INVALID_ARG, "stage_invoke: bad arguments"));
	if (s->lifetime == EBCC_LIFETIME_INSTANCE) {
		if (!ebcc__sandbox_alive(&s->proc))
			return fail(env, ebcc__error(EBCC_ERR_STAGE,
						     "%s is not running: its process %d has exited "
						     "(unload it and load it again)",
						     s->name, (int)s->proc.pid));
		r = ebcc__channel_connect(s->dir_fd, SIM_SOCKET, &fd);
		if (r < 0)
			return fail(env, not_running(s, -r));
	} else {
		if (s->channel_fd < 0 || !ebcc__sandbox_alive(&s->proc)) {
			char status[128] = "its channel is closed";

			if (s->proc.reaped)
				ebcc__sandbox_status_text(s->proc.status, status, sizeof(status));
			return fail(env, ebcc__error(EBCC_ERR_STAGE, "%s is not running (%s)",
						     s->name, status));
		}
		fd = s->channel_fd;
	}

	r = ebcc__channel_call(fd, request, request_len, &s->limits, alloc, &res);
	if (s->lifetime == EBCC_LIFETIME_INSTANCE)
		close(fd);
	if (r < 0) {
		ebcc__channel_result_clear(&res, alloc);
		return fail(env, ebcc__error_prefix(r, "%s", s->name));
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
		return fail(env, r);
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
	if ((res.response_len > 0 && response_out == NULL) || (res.log_len > 0 && log_out == NULL)) {
		if (response_out != res.response)
			env_free(env, response_out);
		env_free(env, log_out);
		ebcc__channel_result_clear(&res, alloc);
		return fail(env, ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory for the outputs of %s",
					     s->name));
	}
	ret_response->data = response_out;
	ret_response->len = res.response_len;
	ret_log->data = log_out;
	ret_log->len = res.log_len;
	ebcc__channel_result_clear(&res, alloc);
	return 0;
}

/* ---- reports and keys ---------------------------------------------------------------------- */

static int sim_stage_report(const struct ebcc_backend_env *env, void *handle,
			    const uint8_t *report_data, size_t report_data_len,
			    struct ebcc_backend_buffer *ret_report, void *userdata)
{
	struct sim_stage *s = handle;
	_cleanup_free_ uint8_t *report = NULL;
	size_t len = 0;
	void *out;
	int r;

	(void)userdata;
	if (s == NULL || report_data == NULL)
		return fail(env, ebcc__error(EBCC_ERR_INVALID_ARG, "stage_report: bad arguments"));
	r = ebcc__sim_report_sign(env->data_dir_fd, durable(env), s->measurement, s->eid,
				  report_data, report_data_len, &report, &len);
	if (r < 0)
		return fail(env, ebcc__error_prefix(r, "%s", s->name));
	out = env->alloc(len, env->host);
	if (out == NULL)
		return fail(env, ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory"));
	memcpy(out, report, len);
	ret_report->data = out;
	ret_report->len = len;
	return 0;
}

static int sim_verify_report(const struct ebcc_backend_env *env,
			     const struct ebcc_backend_report_check *check, char **ret_verdict_json,
			     void *userdata)
{
	_cleanup_free_ char *verdict = NULL;
	int r;

	(void)userdata;
	if (check == NULL || check->size < sizeof(*check))
		return fail(env, ebcc__error(EBCC_ERR_ABI, "report check of an unknown size"));
	r = ebcc__sim_report_verify(check, &verdict);
	if (r < 0)
		return fail(env, r);
	*ret_verdict_json = env_strdup(env, verdict);
	if (*ret_verdict_json == NULL)
		return fail(env, ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory"));
	return 0;
}

static int sim_attestation_key(const struct ebcc_backend_env *env, char **ret_pem, void *userdata)
{
	_cleanup_free_ char *pem = NULL;
	int r;

	(void)userdata;
	r = ebcc__sim_key_public_pem(env->data_dir_fd, durable(env), &pem);
	if (r < 0)
		return fail(env, r);
	*ret_pem = env_strdup(env, pem);
	if (*ret_pem == NULL)
		return fail(env, ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory"));
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
	.stage_invoke = sim_stage_invoke,
	.stage_report = sim_stage_report,
	.stage_close = sim_stage_close,
	.stage_unload = sim_stage_unload,
	.verify_report = sim_verify_report,
	.attestation_key = sim_attestation_key,
};

const struct ebcc_backend_ops *ebcc__backend_sim_entry(void)
{
	return &sim_ops;
}
