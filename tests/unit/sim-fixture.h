/* SPDX-License-Identifier: MIT */
/*
 * A state root in a temporary directory and a backend environment of our own, for driving the
 * sim backend's ops table directly (white-box): real processes, real seccomp, real keys.
 */
#ifndef EBCC_TEST_SIM_FIXTURE_H
#define EBCC_TEST_SIM_FIXTURE_H

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ebcc-private.h"
#include "frame.h"

struct sim_fixture {
	char root[PATH_MAX];
	int root_fd;
	int data_fd; /* <root>/.ebcc/backends/sim */
	struct ebcc_backend_env env;
	char error[2048]; /* the last set_error() */
	int errors;
	const struct ebcc_backend_ops *ops;
	/* Warm stages loaded, so that a failed test does not leave them running. */
	struct {
		pid_t pid;
		uint64_t start;
	} warm[64];
	size_t n_warm;
};

static void *fx_alloc(size_t size, void *host)
{
	(void)host;
	return malloc(size > 0 ? size : 1);
}

static void fx_release(void *p, void *host)
{
	(void)host;
	free(p);
}

static void fx_log(int priority, const char *message, void *host)
{
	(void)priority;
	(void)message;
	(void)host;
}

static void fx_set_error(const char *message, void *host)
{
	struct sim_fixture *f = host;

	snprintf(f->error, sizeof(f->error), "%s", message);
	f->errors++;
}

static inline const char *fx_env_path(const char *var)
{
	const char *p = getenv(var);

	if (p == NULL) {
		fprintf(stderr, "environment variable %s is not set (run through meson test)\n", var);
		abort();
	}
	return p;
}

static inline struct sim_fixture *fx_new(void)
{
	struct sim_fixture *f = calloc(1, sizeof(*f));
	int r;

	if (f == NULL)
		abort();
	snprintf(f->root, sizeof(f->root), "%s/ebcc-sim-XXXXXX",
		 getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(f->root) == NULL)
		abort();
	f->root_fd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (f->root_fd < 0)
		abort();
	r = ebcc__private_dir_open(f->root_fd, "backends/sim", true, &f->data_fd);
	if (r < 0)
		abort();
	f->env = (struct ebcc_backend_env){
		.size = sizeof(struct ebcc_backend_env),
		.durability = EBCC_BACKEND_DURABILITY_NONE,
		.alloc = fx_alloc,
		.log = fx_log,
		.set_error = fx_set_error,
		.host = f,
		.data_dir_fd = f->data_fd,
		.data_dir = ".ebcc/backends/sim",
		.release = fx_release,
	};
	f->ops = ebcc__backend_sim_entry();
	return f;
}

static inline void fx_free(struct sim_fixture *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->n_warm; i++)
		if (ebcc__proc_alive(f->warm[i].pid, f->warm[i].start))
			kill(f->warm[i].pid, SIGKILL);
	close(f->data_fd);
	ebcc__remove_tree_at(AT_FDCWD, f->root);
	close(f->root_fd);
	free(f);
}

/* Creates <root>/<instance>/stages/<stage> (0700) and opens it. */
static inline int fx_stage_dir(struct sim_fixture *f, const char *instance, const char *stage)
{
	char path[PATH_MAX];
	int fd = -1;

	snprintf(path, sizeof(path), "%s/stages/%s", instance, stage);
	if (ebcc__open_dir_path_at(f->root_fd, path, true, &fd) < 0)
		abort();
	return fd;
}

static inline struct ebcc_backend_stage_params fx_params(uint32_t lifetime, const char *stage,
							 int image_fd, int stage_dir_fd)
{
	return (struct ebcc_backend_stage_params){
		.size = sizeof(struct ebcc_backend_stage_params),
		.lifetime = lifetime,
		.instance_id = "inst",
		.stage_name = stage,
		.image_fd = image_fd,
		.stage_dir_fd = stage_dir_fd,
		.stage_dir = "inst/stages/x",
		.max_request = 1 << 20,
		.max_response = 1 << 20,
		.timeout_ms = 20000,
		.memory_mib = 64,
		.cpu_seconds = 60,
		.max_files = 16,
		.options_json = "{}",
		.expected_measurement = NULL,
	};
}

/* A loaded stage and what came with it. */
struct fx_stage {
	struct ebcc_backend_stage st;
	struct ebcc_backend_stage_params params;
	int dir_fd;
};

/* Loads image (a path) as stage `name` of instance "inst". Returns the op's result. */
static inline int fx_load(struct sim_fixture *f, const char *image, const char *name,
			  uint32_t lifetime, uint32_t timeout_ms, struct fx_stage *out)
{
	int fd = open(image, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int r;

	if (fd < 0)
		abort();
	memset(out, 0, sizeof(*out));
	out->dir_fd = lifetime == EBCC_LIFETIME_INSTANCE ? fx_stage_dir(f, "inst", name) : -1;
	out->params = fx_params(lifetime, name, fd, out->dir_fd);
	out->params.timeout_ms = timeout_ms;
	out->st.size = sizeof(out->st);
	r = f->ops->stage_load(&f->env, &out->params, &out->st, NULL);
	close(fd);
	out->params.image_fd = -1;
	if (r == 0 && lifetime == EBCC_LIFETIME_INSTANCE && f->n_warm < 64) {
		unsigned long long pid = 0, start = 0;
		const char *p = strstr(out->st.ref, "\"pid\":"), *q = strstr(out->st.ref, "\"start_time\":");

		if (p != NULL && q != NULL && sscanf(p + 6, "%llu", &pid) == 1 &&
		    sscanf(q + 13, "%llu", &start) == 1) {
			f->warm[f->n_warm].pid = (pid_t)pid;
			f->warm[f->n_warm++].start = start;
		}
	}
	return r;
}

static inline void fx_stage_release(struct fx_stage *s)
{
	free(s->st.measurement);
	free(s->st.ref);
	free(s->st.isolation_json);
	s->st.measurement = s->st.ref = s->st.isolation_json = NULL;
	if (s->dir_fd >= 0)
		close(s->dir_fd);
	s->dir_fd = -1;
}

/* The binding fields the fixture's invocations carry, encoded as the core would. */
struct fx_binding {
	struct ebcc_binding fields;
	struct ebcc_backend_binding b;
	uint8_t encoded[EBCC_FRAME_BIND_MAX];
};

static inline const struct ebcc_backend_binding *fx_binding(struct fx_binding *fb, uint64_t seq)
{
	fb->fields = (struct ebcc_binding){
		.version = EBCC_EVIDENCE_VERSION,
		.instance = "fixture",
		.stage = "stage",
		.seq = seq,
		.measurement = "sha256:0000000000000000000000000000000000000000000000000000000000000000",
	};
	fb->b = (struct ebcc_backend_binding){
		.size = sizeof(fb->b),
		.evidence_version = EBCC_EVIDENCE_VERSION,
		.instance_id = fb->fields.instance,
		.stage_name = fb->fields.stage,
		.seq = seq,
		.measurement = fb->fields.measurement,
		.encoded = fb->encoded,
	};
	if (ebcc__binding_encode_fields(&fb->fields, fb->encoded, sizeof(fb->encoded),
					&fb->b.encoded_len) < 0)
		abort();
	return &fb->b;
}

/* The report_data the stage must have bound for request and response under fx_binding(). */
static inline void fx_expected_report_data(struct fx_binding *fb, const void *request,
					   size_t request_len, const void *response,
					   size_t response_len, uint8_t out[EBCC_REPORT_DATA_SIZE])
{
	if (ebcc__sha256(request, request_len, fb->fields.request_digest) < 0 ||
	    ebcc__sha256(response, response_len, fb->fields.response_digest) < 0 ||
	    ebcc__binding_report_data(&fb->fields, out) < 0)
		abort();
}

/* Invokes the backend directly: *ret is the backend's answer (the caller frees its buffers). */
static inline int fx_invoke_raw(struct sim_fixture *f, void *handle, const void *request,
				size_t request_len, struct ebcc_backend_invocation *ret)
{
	struct fx_binding fb;

	*ret = (struct ebcc_backend_invocation){ .size = sizeof(*ret) };
	return f->ops->stage_invoke(&f->env, handle, fx_binding(&fb, 1), request, request_len, ret,
				    NULL);
}

static inline void fx_invocation_free(struct ebcc_backend_invocation *inv)
{
	free(inv->response.data);
	free(inv->log.data);
	free(inv->report.data);
	*inv = (struct ebcc_backend_invocation){ 0 };
}

/* Invokes with a text request; on success *ret_response is a NUL-terminated copy (malloc), and
 * the stage's report_data must be the binding of request and response. */
static inline int fx_invoke(struct sim_fixture *f, void *handle, const char *request,
			    char **ret_response, char **ret_log)
{
	struct ebcc_backend_invocation inv;
	struct ebcc_backend_buffer resp, log;
	int r = fx_invoke_raw(f, handle, request, strlen(request), &inv);

	resp = inv.response;
	log = inv.log;
	if (r == 0) {
		struct fx_binding fb;
		uint8_t want[EBCC_REPORT_DATA_SIZE];

		fx_binding(&fb, 1);
		fx_expected_report_data(&fb, request, strlen(request), resp.data, resp.len, want);
		if (!inv.bound || memcmp(inv.report_data, want, sizeof(want)) != 0)
			abort(); /* the stage bound something else */
	}
	free(inv.report.data);

	if (r == 0) {
		char *text = malloc(resp.len + 1), *ltext = malloc(log.len + 1);

		if (text == NULL || ltext == NULL)
			abort();
		if (resp.len > 0)
			memcpy(text, resp.data, resp.len);
		text[resp.len] = '\0';
		if (log.len > 0)
			memcpy(ltext, log.data, log.len);
		ltext[log.len] = '\0';
		free(resp.data);
		free(log.data);
		if (ret_response != NULL)
			*ret_response = text;
		else
			free(text);
		if (ret_log != NULL)
			*ret_log = ltext;
		else
			free(ltext);
	} else {
		/* A failed call may still hand back what the stage logged. */
		assert(resp.data == NULL);
		free(log.data);
	}
	return r;
}

#endif
