/* SPDX-License-Identifier: MIT */
/* SGX stages: load, the edge-call exchange of one invocation, unload (stage.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <json-c/json.h>

#include "backend-env.h"
#include "bytes.h"
#include "driver.h"
#include "ebcc-base.h"
#include "edgecall.h"
#include "eid.h"
#include "image.h"
#include "procbound.h"
#include "qe.h"
#include "sgx-edge.h"
#include "stage.h"

#define REPORT_FRAME (EBCC_FRAME_REPORT_DATA_SIZE + EBCC_SGX_REPORT_SIZE)
/* The channel holds at most this much (what the core allows a response, and more). */
#define CHANNEL_MAX ((uint64_t)2 << 30)

/* One enclave and its channel. */
struct sgx_run {
	struct ebcc__sgx_stage *s;
	struct ebcc__sgx_enclave e; /* fd -1 when there is none */
	uint8_t *channel;           /* mmap'ed, channel_len bytes */
	size_t channel_len;
};

struct ebcc__sgx_stage {
	struct ebcc__procbound bound; /* first: the table's entry */
	const struct ebcc__hostops *host;
	uint32_t lifetime, timeout_ms;
	uint64_t eid, max_request, max_response, channel_capacity;
	struct ebcc__sgx_image image;
	bool has_mrsigner;
	uint8_t mrsigner[32]; /* backendOptions.mrsigner */
	struct sgx_run warm;  /* instance lifetime: from load to unload */
	struct ebcc__edge_session session;
	char name[EBCC_STAGE_NAME_MAX + 256];
};

static const struct ebcc__procbound_kind sgx_kind;

/* ---- the enclave and its channel --------------------------------------------------------- */

static void run_end(struct sgx_run *run)
{
	ebcc__sgx_enclave_destroy(&run->e);
	if (run->channel != NULL)
		munmap(run->channel, run->channel_len);
	run->channel = NULL;
}

static int run_new(struct ebcc__sgx_stage *s, struct sgx_run *ret)
{
	struct sgx_run run = { .s = s, .e = { .fd = -1 } };
	void *ch;
	int r;

	run.channel_len = EBCC_SGX_CHANNEL_HEADER + s->channel_capacity;
	/* Host memory the enclave reads and writes; pages are only touched as used. */
	ch = mmap(NULL, run.channel_len, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (ch == MAP_FAILED)
		return ebcc__error_errno(EBCC_ERR_NO_MEMORY, errno, "%s: mapping its %zu-byte "
					 "channel", s->name, run.channel_len);
	run.channel = ch;
	ebcc__put_le64(run.channel + EBCC_SGX_CHANNEL_CAPACITY, s->channel_capacity);
	r = ebcc__sgx_enclave_load(s->host, &s->image.layout, &s->image.secs, s->image.sigstruct,
				   s->has_mrsigner ? s->mrsigner : NULL, &run.e);
	if (r < 0) {
		run_end(&run);
		return r;
	}
	*ret = run;
	return 0;
}

/* ---- the edge-call exchange's view of it --------------------------------------------------- */

static int sgx_enter(void *p, uint64_t deadline_ms, struct ebcc__edge_stop *ret)
{
	struct sgx_run *run = p;
	const uint8_t *ch = run->channel;
	uint64_t arg_len;
	uint32_t call;
	int r;

	r = ebcc__sgx_enclave_enter(&run->e, run->s->image.tcs_offset, run->channel,
				    run->channel_len);
	if (r < 0)
		return r;
	call = ebcc__le32(ch + EBCC_SGX_CHANNEL_CALL);
	arg_len = ebcc__le64(ch + EBCC_SGX_CHANNEL_ARG_LEN);
	if (ebcc__edge_now_ms() >= deadline_ms)
		return ebcc__error(EBCC_ERR_TIMEOUT, "enclave %" PRIu64 " still running at its "
				   "deadline", run->s->eid);
	if (arg_len > run->s->channel_capacity)
		return ebcc__error(EBCC_ERR_STAGE, "enclave %" PRIu64 ": its edge call %#" PRIx32
				   " has an argument of %" PRIu64 " bytes; the channel holds %" PRIu64,
				   run->s->eid, call, arg_len, run->s->channel_capacity);
	*ret = (struct ebcc__edge_stop){ .call_id = call, .arg = run->channel +
						      EBCC_SGX_CHANNEL_HEADER,
					 .arg_len = (size_t)arg_len };
	if (call == EBCC_SGX_CALL_EXIT) {
		ret->exited = 1;
		ret->value = arg_len >= 4 ? ebcc__le32(ret->arg) : 0;
	}
	return 0;
}

static uint8_t *sgx_answer_buf(void *p, size_t *ret_cap)
{
	struct sgx_run *run = p;

	*ret_cap = (size_t)run->s->channel_capacity;
	return run->channel + EBCC_SGX_CHANNEL_HEADER;
}

static void sgx_answer(void *p, size_t len)
{
	/* The enclave copies the length it asked for; nothing to say. */
	(void)p, (void)len;
}

static int report_mismatch(const struct sgx_run *run, const char *field, const uint8_t *got,
			   const uint8_t *want, size_t n)
{
	char g[65], w[65];

	ebcc__hex_encode(got, n < 32 ? n : 32, g);
	ebcc__hex_encode(want, n < 32 ? n : 32, w);
	return ebcc__error(EBCC_ERR_STAGE, "%s: enclave %" PRIu64 ": its REPORT's %s is %s%s, "
			   "not %s%s: a REPORT of another enclave or answer", run->s->name,
			   run->s->eid, field, g, n > 32 ? "..." : "", w, n > 32 ? "..." : "");
}

/* The REPORT: over the answer's report_data, of this enclave; then the quote of it. */
static int sgx_take_report(void *p, const uint8_t report_data[64], const uint8_t *report,
			   size_t len, const struct ebcc_backend_env *env,
			   struct ebcc_backend_buffer *ret)
{
	struct sgx_run *run = p;
	uint8_t *quote = NULL;
	size_t quote_len = 0;
	int r;

	(void)len;
	if (memcmp(report + EBCC_SGX_BODY_REPORT_DATA, report_data, 64) != 0)
		return report_mismatch(run, "REPORTDATA", report + EBCC_SGX_BODY_REPORT_DATA,
				       report_data, 64);
	if (memcmp(report + EBCC_SGX_BODY_MRENCLAVE, run->e.mrenclave, 32) != 0)
		return report_mismatch(run, "MRENCLAVE", report + EBCC_SGX_BODY_MRENCLAVE,
				       run->e.mrenclave, 32);
	if (memcmp(report + EBCC_SGX_BODY_MRSIGNER, run->e.mrsigner, 32) != 0)
		return report_mismatch(run, "MRSIGNER", report + EBCC_SGX_BODY_MRSIGNER,
				       run->e.mrsigner, 32);
	r = ebcc__sgx_qe_quote(run->s->host, report, &quote, &quote_len);
	if (r < 0)
		return ebcc__error_prefix(r, "%s: quoting the REPORT of enclave %" PRIu64,
					  run->s->name, run->s->eid);
	r = ebcc__env_buffer(env, quote, quote_len, ret);
	free(quote);
	return r;
}

static int sgx_other_call(void *p, uint64_t call_id, uint8_t *buf, size_t cap,
			  size_t *ret_len)
{
	struct sgx_run *run = p;
	int r;

	if (call_id != EBCC_EDGE_CALL_TARGET || cap < EBCC_SGX_TARGETINFO_SIZE)
		return 0;
	r = ebcc__sgx_qe_target_info(run->s->host, buf);
	if (r < 0)
		return ebcc__error_prefix(r, "%s: the quoting enclave's TARGETINFO", run->s->name);
	*ret_len = EBCC_SGX_TARGETINFO_SIZE;
	return 1;
}

static const struct ebcc__edge_enclave_ops sgx_enclave_ops = {
	.enter = sgx_enter,
	.answer_buf = sgx_answer_buf,
	.answer = sgx_answer,
	.take_report = sgx_take_report,
	.other_call = sgx_other_call,
	.report_size = EBCC_SGX_REPORT_SIZE,
	.report_what = "the enclave's 432-byte REPORT",
	.stage_library = "libebcc-stage-sgx",
	.ended_what = "the stage's main() returned",
};

/* ---- load ---------------------------------------------------------------------------------- */

/* The channel must hold the largest argument or answer of the protocol. */
static int channel_capacity_for(const struct ebcc_backend_stage_params *p, uint64_t *ret)
{
	uint64_t need = EBCC_EDGE_NEXT_MAX, answer = 2 * EBCC_FRAME_HEADER_SIZE + REPORT_FRAME;

	/* The largest LOG or ERROR frame, and the quoting enclave's TARGETINFO. */
	if (need < EBCC_FRAME_HEADER_SIZE + EBCC_FRAME_ERROR_CODE_SIZE + EBCC_FRAME_TEXT_MAX)
		need = EBCC_FRAME_HEADER_SIZE + EBCC_FRAME_ERROR_CODE_SIZE + EBCC_FRAME_TEXT_MAX;
	if (need < EBCC_SGX_TARGETINFO_SIZE)
		need = EBCC_SGX_TARGETINFO_SIZE;
	if (p->max_request > need)
		need = p->max_request;
	if (p->max_response + answer > need)
		need = p->max_response + answer;
	if (need > CHANNEL_MAX)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "maxRequest %" PRIu64 " and maxResponse "
				   "%" PRIu64 " need a channel of %" PRIu64 " bytes; the sgx "
				   "backend maps at most %" PRIu64, p->max_request, p->max_response,
				   need, CHANNEL_MAX);
	*ret = need;
	return 0;
}

/* backendOptions: {"mrsigner": "<64 hex>"}, the signer the SIGSTRUCT must be by. */
static int options_parse(const struct ebcc_backend_stage_params *p, struct ebcc__sgx_stage *s)
{
	static const char *const known[] = { "mrsigner", NULL };
	const char *where = "backendOptions (backend sgx)";
	struct json_object *o = NULL, *v;
	size_t n = 0;
	int r;

	r = ebcc__json_parse(p->options_json, strlen(p->options_json), EBCC_ERR_INVALID_ARG,
			     "backendOptions", &o);
	if (r < 0)
		return r;
	if (!json_object_is_type(o, json_type_object))
		r = ebcc__error(EBCC_ERR_INVALID_ARG, "%s is not an object", where);
	if (r == 0)
		r = ebcc__json_refuse_unknown(o, known, EBCC_ERR_INVALID_ARG, where);
	if (r == 0 && json_object_object_get_ex(o, "mrsigner", &v)) {
		const char *hex = json_object_get_string(v);

		if (!json_object_is_type(v, json_type_string) || strlen(hex) != 64 ||
		    ebcc__hex_decode(hex, 64, s->mrsigner, 32, &n) < 0 || n != 32)
			r = ebcc__error(EBCC_ERR_INVALID_ARG, "%s: mrsigner is not 64 hex digits "
					"(SHA-256 of the enclave signing key's modulus)", where);
		s->has_mrsigner = r == 0;
	}
	json_object_put(o);
	return r;
}

static int device_check(const struct ebcc__hostops *host)
{
	char dev[EBCC_PATH_MAX + 32];
	int fd = ebcc__host_open(host, EBCC_SGX_DEVICE, O_RDWR);

	ebcc__host_display(host, EBCC_SGX_DEVICE, dev, sizeof(dev));
	if (fd >= 0)
		return ebcc__host_close(host, &fd), 0;
	return ebcc__error(fd == -ENOENT || fd == -ENODEV || fd == -ENXIO ? EBCC_ERR_UNAVAILABLE
			   : fd == -EACCES || fd == -EPERM ? EBCC_ERR_PERMISSION
							   : EBCC_ERR_IO,
			   "open %s: %s", dev, strerror(-fd));
}

static void stage_free(struct ebcc__procbound *b)
{
	struct ebcc__sgx_stage *s = (struct ebcc__sgx_stage *)b;

	run_end(&s->warm);
	ebcc__sgx_image_clear(&s->image);
	free(s);
}

static const struct ebcc__procbound_kind sgx_kind = {
	.free = stage_free,
	.backend = "sgx",
	.what = "SGX enclave",
	.why = "an SGX enclave lives in the address space of the process that mapped it",
};

/* A warm stage runs until its stage asks for the first request, and waits there. */
static int start_warm(struct ebcc__sgx_stage *s)
{
	int r = run_new(s, &s->warm);

	if (r == 0)
		r = ebcc__edge_start(&sgx_enclave_ops, &s->warm, s->name, s->eid,
				     ebcc__edge_now_ms() + s->timeout_ms, &s->session);
	if (r < 0)
		run_end(&s->warm);
	return r;
}

int ebcc__sgx_stage_load(const struct ebcc__hostops *host, const struct ebcc_backend_env *env,
			 const struct ebcc_backend_stage_params *params,
			 struct ebcc__sgx_stage **ret)
{
	struct ebcc__sgx_stage *s = calloc(1, sizeof(*s));
	int r;

	if (s == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	ebcc__procbound_init(&s->bound, &sgx_kind, host);
	s->host = host;
	s->lifetime = params->lifetime;
	s->timeout_ms = params->timeout_ms;
	s->max_request = params->max_request;
	s->max_response = params->max_response;
	s->warm.e.fd = -1;
	r = options_parse(params, s);
	if (r == 0)
		r = channel_capacity_for(params, &s->channel_capacity);
	/* The measurement comes first: nothing of an image that is not the one measured at
	 * create reaches the driver. */
	if (r == 0)
		r = ebcc__sgx_image_read(params->image_fd, "image", &s->image);
	if (r == 0 && strcmp(s->image.measurement, params->expected_measurement) != 0)
		r = ebcc__error(EBCC_ERR_VERIFY, "the image measures %s now, but %s when the "
				"composite was created (was it changed?)", s->image.measurement,
				params->expected_measurement);
	if (r == 0 && s->has_mrsigner && memcmp(s->mrsigner, s->image.mrsigner, 32) != 0) {
		char want[65], got[65];

		ebcc__hex_encode(s->mrsigner, 32, want);
		ebcc__hex_encode(s->image.mrsigner, 32, got);
		r = ebcc__error(EBCC_ERR_VERIFY, "the image's SIGSTRUCT is signed by MRSIGNER %s, "
				"not by backendOptions.mrsigner %s", got, want);
	}
	/* Whether there is a driver at all, before the first invocation (a warm stage opens it
	 * now anyway). */
	if (r == 0 && s->lifetime != EBCC_LIFETIME_INSTANCE)
		r = device_check(host);
	if (r == 0)
		r = ebcc__eid_next(env->data_dir_fd, ebcc__env_durable(env), &s->eid);
	snprintf(s->name, sizeof(s->name), "stage %s of %s (SGX EID %" PRIu64 ")",
		 params->stage_name, params->instance_id, s->eid);
	if (r == 0 && s->lifetime == EBCC_LIFETIME_INSTANCE)
		r = start_warm(s);
	if (r < 0) {
		ebcc__procbound_unref(&s->bound); /* the core names the stage and the backend */
		return r;
	}
	if (s->lifetime == EBCC_LIFETIME_INSTANCE)
		ebcc__procbound_list(&s->bound, s->eid);
	*ret = s;
	return 0;
}

uint64_t ebcc__sgx_stage_eid(const struct ebcc__sgx_stage *s)
{
	return s->eid;
}

const char *ebcc__sgx_stage_measurement(const struct ebcc__sgx_stage *s)
{
	return s->image.measurement;
}

int ebcc__sgx_stage_ref(const struct ebcc__sgx_stage *s, char **ret)
{
	return ebcc__procbound_ref(&s->bound, ret);
}

/* ---- open, close, unload ------------------------------------------------------------------- */

int ebcc__sgx_stage_open(const struct ebcc__hostops *host,
			 const struct ebcc_backend_stage_params *params, uint64_t eid,
			 const char *ref, struct ebcc__sgx_stage **ret)
{
	struct ebcc__procbound *b;
	struct ebcc__sgx_stage *s;
	bool fresh;
	int r = ebcc__procbound_open(&sgx_kind, host, params, eid, ref, sizeof(*s), &b, &fresh);

	if (r < 0)
		return r;
	s = (struct ebcc__sgx_stage *)b;
	if (fresh) {
		s->host = host;
		s->eid = eid;
		s->lifetime = params->lifetime;
		s->warm.e.fd = -1;
		snprintf(s->name, sizeof(s->name), "stage %s of %s (SGX EID %" PRIu64 ")",
			 params->stage_name, params->instance_id, eid);
	}
	*ret = s;
	return 0;
}

void ebcc__sgx_stage_close(struct ebcc__sgx_stage *s)
{
	if (s != NULL)
		ebcc__procbound_unref(&s->bound);
}

void ebcc__sgx_stage_unload(struct ebcc__sgx_stage *s)
{
	if (s == NULL)
		return;
	if (s->bound.local) {
		ebcc__procbound_unlist(&s->bound);
		run_end(&s->warm);
		ebcc__procbound_set_dead(&s->bound, "it was unloaded");
	}
	ebcc__procbound_unref(&s->bound);
}

/* ---- one invocation ------------------------------------------------------------------------ */

int ebcc__sgx_stage_invoke(struct ebcc__sgx_stage *s, const struct ebcc_backend_env *env,
			   const struct ebcc_backend_binding *binding, const void *request,
			   size_t request_len, struct ebcc_backend_invocation *ret)
{
	struct sgx_run fresh = { .e = { .fd = -1 } };
	struct ebcc__edge_session once = { .paused = EBCC_EDGE_RUNNING };
	struct ebcc__edge_exchange x = { .ops = &sgx_enclave_ops, .name = s->name, .eid = s->eid,
					 .max_response = s->max_response,
					 .timeout_ms = s->timeout_ms, .env = env, .binding = binding,
					 .request = request, .request_len = request_len };
	uint32_t timeout = s->timeout_ms;
	char line[160];
	int r = ebcc__procbound_usable(&s->bound, s->name);

	if (r < 0)
		return r;
	if (binding->timeout_ms > 0 && binding->timeout_ms < timeout)
		timeout = binding->timeout_ms;
	if (request_len > s->max_request)
		return ebcc__error(EBCC_ERR_TOO_BIG, "%s: a request of %zu bytes; maxRequest is "
				   "%" PRIu64, s->name, request_len, s->max_request);
	if (binding->encoded_len > EBCC_FRAME_BIND_MAX)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "%s: a binding of %zu bytes", s->name,
				   binding->encoded_len);
	if (s->lifetime == EBCC_LIFETIME_INSTANCE) {
		x.enclave = &s->warm;
		r = ebcc__edge_run(&x, &s->session, ebcc__edge_now_ms() + timeout, ret);
	} else {
		r = run_new(s, &fresh);
		if (r < 0)
			return ebcc__error_prefix(r, "%s", s->name);
		snprintf(line, sizeof(line), "sgx: this invocation's enclave is at 0x%" PRIx64,
			 fresh.e.base);
		ebcc__edge_log_append(&x, line, strlen(line));
		x.enclave = &fresh;
		r = ebcc__edge_run(&x, &once, ebcc__edge_now_ms() + timeout, ret);
		run_end(&fresh);
	}
	if (s->lifetime == EBCC_LIFETIME_INSTANCE && x.answered) {
		/* Answered (with a response or the handler's error): it waits in ANSWER. */
		s->session.paused = EBCC_EDGE_PAUSED_ANSWER;
	} else if (s->lifetime == EBCC_LIFETIME_INSTANCE) {
		snprintf(line, sizeof(line), "its enclave was destroyed after: %.100s",
			 ebcc__error_message());
		ebcc__procbound_set_dead(&s->bound, line);
		run_end(&s->warm);
	}
	return ebcc__edge_finish(&x, ret, r);
}
