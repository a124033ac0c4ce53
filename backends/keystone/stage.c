/* SPDX-License-Identifier: MIT */
/* Keystone stages: load, the edge-call exchange of one invocation, unload (stage.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "frame.h"
#include "keystone-edge.h"
#include "backend-env.h"
#include "edgecall.h"
#include "eid.h"
#include "procbound.h"
#include "ebcc-base.h"
#include "report.h"
#include "stage.h"

_Static_assert(EBCC_KS_STAGE_REPORT_SIZE == EBCC_KS_REPORT_SIZE, "report size");

#define REPORT_FRAME (EBCC_FRAME_REPORT_DATA_SIZE + EBCC_KS_REPORT_SIZE)

struct ebcc__ks_stage {
	struct ebcc__procbound bound; /* first: the table's entry */
	const struct ebcc__hostops *host;
	uint32_t lifetime, timeout_ms;
	uint64_t eid, max_request, max_response, freemem, utm_size;
	struct ebcc__ks_image image;
	uint8_t hash[EBCC_KS_MDSIZE];
	struct ebcc__ks_enclave enclave; /* warm: from load to unload; fd -1 when gone */
	struct ebcc__edge_session session;
	char name[EBCC_STAGE_NAME_MAX + 256];
};

static void kill_enclave(struct ebcc__ks_stage *s)
{
	if (s->enclave.fd >= 0)
		ebcc__ks_enclave_destroy(&s->enclave);
	s->enclave.fd = -1;
	s->session.paused = EBCC_EDGE_RUNNING;
}

static void stage_free(struct ebcc__procbound *b)
{
	struct ebcc__ks_stage *s = (struct ebcc__ks_stage *)b;

	kill_enclave(s);
	ebcc__ks_image_clear(&s->image);
	free(s);
}

static const struct ebcc__procbound_kind ks_kind = {
	.free = stage_free,
	.backend = "keystone",
	.what = "Keystone enclave",
	.why = "Keystone destroys an enclave with the descriptor of " EBCC_KS_DEVICE " that "
	       "created it",
};

/* ---- one invocation ---------------------------------------------------------------------------- */

/* What the edge-call exchange drives: this stage's enclave. */
struct ks_port {
	struct ebcc__ks_stage *s;
	struct ebcc__ks_enclave *e;
};

static int ks_enter(void *p, uint64_t deadline_ms, struct ebcc__edge_stop *ret)
{
	return ebcc__ks_enclave_enter(((struct ks_port *)p)->e, deadline_ms, ret);
}

static uint8_t *ks_answer_buf(void *p, size_t *ret_cap)
{
	return ebcc__ks_edge_answer_buf(((struct ks_port *)p)->e, ret_cap);
}

static void ks_answer(void *p, size_t len)
{
	ebcc__ks_edge_answer(((struct ks_port *)p)->e, len);
}

/* The SM's report: over the answer's report_data, of this stage's enclave. */
static int ks_take_report(void *p, const uint8_t report_data[64], const uint8_t *report,
			  size_t len, const struct ebcc_backend_env *env,
			  struct ebcc_backend_buffer *ret)
{
	struct ebcc__ks_stage *s = ((struct ks_port *)p)->s;
	uint64_t eid = ((struct ks_port *)p)->e->eid;
	struct ebcc__ks_report rep;
	int r = ebcc__ks_report_parse(report, len, &rep);

	if (r < 0)
		return ebcc__error(EBCC_ERR_STAGE, "%s: enclave %" PRIu64 ": its report is not a "
				   "Keystone report: %s", s->name, eid, ebcc__error_message());
	if (rep.data_len != EBCC_FRAME_REPORT_DATA_SIZE ||
	    memcmp(rep.data, report_data, EBCC_FRAME_REPORT_DATA_SIZE) != 0)
		return ebcc__error(EBCC_ERR_STAGE, "%s: enclave %" PRIu64 ": the SM's report covers "
				   "other data (%" PRIu64 " bytes) than the report_data of its "
				   "answer: a report made for another answer", s->name, eid,
				   rep.data_len);
	if (memcmp(rep.enclave_hash, s->hash, EBCC_KS_MDSIZE) != 0)
		return ebcc__error(EBCC_ERR_STAGE, "%s: enclave %" PRIu64 ": the SM's report is of "
				   "another enclave (hash %02x%02x%02x%02x..., this stage's is "
				   "%.24s...)", s->name, eid, rep.enclave_hash[0],
				   rep.enclave_hash[1], rep.enclave_hash[2], rep.enclave_hash[3],
				   s->image.measurement);
	return ebcc__env_buffer(env, report, len, ret);
}

static const struct ebcc__edge_enclave_ops ks_enclave_ops = {
	.enter = ks_enter,
	.answer_buf = ks_answer_buf,
	.answer = ks_answer,
	.take_report = ks_take_report,
	.report_size = EBCC_KS_REPORT_SIZE,
	.report_what = "the SM's 1352-byte report",
	.stage_library = "libebcc-stage-keystone",
	.ended_what = "the eapp exited",
};

/* ---- load -------------------------------------------------------------------------------------- */

static uint64_t page_up(uint64_t n)
{
	return (n + EBCC_KS_PAGE_SIZE - 1) & ~(uint64_t)(EBCC_KS_PAGE_SIZE - 1);
}

/* The UTM must hold the edge call and the largest argument or answer of the protocol. */
static int utm_size_for(const struct ebcc_backend_stage_params *p, uint64_t *ret)
{
	uint64_t need = EBCC_EDGE_NEXT_MAX, answer = 2 * EBCC_FRAME_HEADER_SIZE + REPORT_FRAME;

	if (p->max_request > need)
		need = p->max_request;
	if (p->max_response + answer > need)
		need = p->max_response + answer;
	need = page_up(EBCC_KS_EDGE_DATA_OFFSET + need);
	if (need > EBCC_KS_UTM_MAX)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "maxRequest %" PRIu64 " and maxResponse "
				   "%" PRIu64 " need a UTM of %" PRIu64 " bytes; Keystone's driver "
				   "allocates at most %" PRIu64 " (4 MiB, a page order of 10)",
				   p->max_request,
				   p->max_response, need, EBCC_KS_UTM_MAX);
	*ret = need;
	return 0;
}

static int options_check(const struct ebcc_backend_stage_params *p)
{
	static const char *const known[] = { NULL };
	struct json_object *o = NULL;
	char where[EBCC_STAGE_NAME_MAX + 64];
	int r;

	r = ebcc__json_parse(p->options_json, strlen(p->options_json), EBCC_ERR_INVALID_ARG,
			     "backendOptions", &o);
	if (r < 0)
		return r;
	snprintf(where, sizeof(where), "backendOptions (backend keystone)");
	r = json_object_is_type(o, json_type_object)
		    ? ebcc__json_refuse_unknown(o, known, EBCC_ERR_INVALID_ARG, where)
		    : ebcc__error(EBCC_ERR_INVALID_ARG, "%s is not an object", where);
	json_object_put(o);
	return r;
}

static int new_enclave(struct ebcc__ks_stage *s, struct ebcc__ks_enclave *ret)
{
	return ebcc__ks_enclave_create(s->host, s->image.files, s->image.lens, s->freemem,
				       s->utm_size, ret);
}

/* A warm stage runs until its eapp asks for the first request, and waits there. */
static int start_warm(struct ebcc__ks_stage *s)
{
	struct ks_port port = { .s = s, .e = &s->enclave };
	int r = new_enclave(s, &s->enclave);

	if (r < 0)
		return r;
	s->eid = s->enclave.eid;
	r = ebcc__edge_start(&ks_enclave_ops, &port, "keystone stage", s->eid,
			     ebcc__edge_now_ms() + s->timeout_ms, &s->session);
	if (r < 0)
		kill_enclave(s);
	return r;
}

int ebcc__ks_stage_load(const struct ebcc__hostops *host, const struct ebcc_backend_env *env,
			const struct ebcc_backend_stage_params *params,
			struct ebcc__ks_stage **ret)
{
	struct ebcc__ks_stage *s = calloc(1, sizeof(*s));
	char display[16];
	size_t n = 0;
	int r;

	if (s == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	*s = (struct ebcc__ks_stage){
		.host = host,
		.lifetime = params->lifetime,
		.timeout_ms = params->timeout_ms,
		.max_request = params->max_request,
		.max_response = params->max_response,
		.freemem = (uint64_t)params->memory_mib << 20,
		.enclave = { .fd = -1 },
	};
	ebcc__procbound_init(&s->bound, &ks_kind, host);
	snprintf(display, sizeof(display), "image");
	r = options_check(params);
	if (r == 0)
		r = utm_size_for(params, &s->utm_size);
	/* The measurement comes first: nothing of an image that is not the one measured at
	 * create reaches the driver. */
	if (r == 0)
		r = ebcc__ks_image_read(params->image_fd, display, &s->image);
	if (r == 0 && strcmp(s->image.measurement, params->expected_measurement) != 0)
		r = ebcc__error(EBCC_ERR_VERIFY, "the image measures %s now, but %s when the "
				"composite was created (was it changed?)", s->image.measurement,
				params->expected_measurement);
	if (r == 0)
		r = ebcc__hex_decode(s->image.measurement + 9, 2 * EBCC_KS_MDSIZE, s->hash,
				     sizeof(s->hash), &n);
	if (r == 0 && s->lifetime == EBCC_LIFETIME_INSTANCE) {
		r = start_warm(s);
	} else if (r == 0) {
		/* Whether there is a driver at all, before the first invocation. */
		int fd = ebcc__host_open(host, EBCC_KS_DEVICE, O_RDWR);

		if (fd < 0)
			r = ebcc__error(fd == -ENOENT || fd == -ENODEV || fd == -ENXIO
						? EBCC_ERR_UNAVAILABLE
						: fd == -EACCES ? EBCC_ERR_PERMISSION : EBCC_ERR_IO,
					"open %s: %s", EBCC_KS_DEVICE, strerror(-fd));
		else
			ebcc__host_close(host, &fd);
		if (r == 0)
			r = ebcc__eid_next(env->data_dir_fd, ebcc__env_durable(env), &s->eid);
	}
	if (r < 0) {
		ebcc__procbound_unref(&s->bound); /* the core names the stage and the backend */
		return r;
	}
	snprintf(s->name, sizeof(s->name), "stage %s of %s (%s %" PRIu64 ")",
		 params->stage_name, params->instance_id,
		 s->lifetime == EBCC_LIFETIME_INSTANCE ? "Keystone enclave" : "EID", s->eid);
	if (s->lifetime == EBCC_LIFETIME_INSTANCE)
		ebcc__procbound_list(&s->bound, s->eid);
	*ret = s;
	return 0;
}

uint64_t ebcc__ks_stage_eid(const struct ebcc__ks_stage *s)
{
	return s->eid;
}

const char *ebcc__ks_stage_measurement(const struct ebcc__ks_stage *s)
{
	return s->image.measurement;
}

int ebcc__ks_stage_ref(const struct ebcc__ks_stage *s, char **ret)
{
	return ebcc__procbound_ref(&s->bound, ret);
}

/* ---- open, close, unload ----------------------------------------------------------------------- */

int ebcc__ks_stage_open(const struct ebcc__hostops *host,
			const struct ebcc_backend_stage_params *params, uint64_t eid,
			const char *ref, struct ebcc__ks_stage **ret)
{
	struct ebcc__procbound *b;
	struct ebcc__ks_stage *s;
	bool fresh;
	int r = ebcc__procbound_open(&ks_kind, host, params, eid, ref, sizeof(*s), &b, &fresh);

	if (r < 0)
		return r;
	s = (struct ebcc__ks_stage *)b;
	if (fresh) {
		s->host = host;
		s->eid = eid;
		s->lifetime = params->lifetime;
		s->enclave.fd = -1;
		snprintf(s->name, sizeof(s->name), "stage %s of %s (Keystone enclave %" PRIu64 ")",
			 params->stage_name, params->instance_id, eid);
	}
	*ret = s;
	return 0;
}

void ebcc__ks_stage_close(struct ebcc__ks_stage *s)
{
	if (s != NULL)
		ebcc__procbound_unref(&s->bound);
}

int ebcc__ks_stage_unload(struct ebcc__ks_stage *s)
{
	int r = 0;

	if (s == NULL)
		return 0;
	if (s->bound.local) {
		ebcc__procbound_unlist(&s->bound);
		if (s->enclave.fd >= 0)
			r = ebcc__ks_enclave_destroy(&s->enclave);
		s->enclave.fd = -1;
		s->session.paused = EBCC_EDGE_RUNNING;
		ebcc__procbound_set_dead(&s->bound, "it was unloaded");
	}
	ebcc__procbound_unref(&s->bound);
	return r;
}

int ebcc__ks_stage_invoke(struct ebcc__ks_stage *s, const struct ebcc_backend_env *env,
			  const struct ebcc_backend_binding *binding, const void *request,
			  size_t request_len, struct ebcc_backend_invocation *ret)
{
	struct ebcc__ks_enclave fresh = { .fd = -1 };
	struct ebcc__edge_session once = { .paused = EBCC_EDGE_RUNNING };
	struct ks_port port = { .s = s };
	struct ebcc__edge_exchange x = { .ops = &ks_enclave_ops, .enclave = &port, .name = s->name,
					 .max_response = s->max_response,
					 .timeout_ms = s->timeout_ms, .env = env, .binding = binding,
					 .request = request, .request_len = request_len };
	uint32_t timeout = s->timeout_ms;
	int r;
	if (binding->timeout_ms > 0 && binding->timeout_ms < timeout)
		timeout = binding->timeout_ms;
	r = ebcc__procbound_usable(&s->bound, s->name);
	if (r < 0)
		return r;
	if (request_len > s->max_request)
		return ebcc__error(EBCC_ERR_TOO_BIG, "%s: a request of %zu bytes; maxRequest is "
				   "%" PRIu64, s->name, request_len, s->max_request);
	if (binding->encoded_len > EBCC_FRAME_BIND_MAX)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "%s: a binding of %zu bytes", s->name,
				   binding->encoded_len);
	if (s->lifetime == EBCC_LIFETIME_INSTANCE) {
		port.e = &s->enclave;
	} else {
		char line[128];

		r = new_enclave(s, &fresh);
		if (r < 0)
			return ebcc__error_prefix(r, "%s", s->name);
		port.e = &fresh;
		snprintf(line, sizeof(line), "keystone: this invocation's enclave is %" PRIu64,
			 fresh.eid);
		ebcc__edge_log_append(&x, line, strlen(line));
	}
	x.eid = port.e->eid;
	r = ebcc__edge_run(&x, s->lifetime == EBCC_LIFETIME_INSTANCE ? &s->session : &once,
			   ebcc__edge_now_ms() + timeout, ret);
	if (s->lifetime != EBCC_LIFETIME_INSTANCE) {
		ebcc__ks_enclave_destroy(&fresh);
	} else if (x.answered) {
		/* Answered (with a response or the handler's error): it waits in ANSWER. */
		s->session.paused = EBCC_EDGE_PAUSED_ANSWER;
	} else {
		char reason[EBCC_ERROR_MESSAGE_MAX];

		snprintf(reason, sizeof(reason), "its enclave was destroyed after: %s",
			 ebcc__error_message());
		ebcc__procbound_set_dead(&s->bound, reason);
		kill_enclave(s);
	}
	return ebcc__edge_finish(&x, ret, r);
}
