/* SPDX-License-Identifier: MIT */
/*
 * Where an invocation's time goes: meta.json of every measured invocation gives timings_ns for
 * validate, eid, dispatch, report, teardown (of a stage loaded for the call) and persist; the
 * caller's own clock around ebcc_stage_invoke() + ebcc_invocation_unref() gives the whole
 * call, and the difference is what lies outside the timed phases (argument checks, the clock
 * reads, building the returned invocation, freeing it). The library's persist timing ends when
 * meta.json is composed, so writing meta.json itself, the rename that publishes the invocation
 * and, with durability, the directory fsyncs fall outside the phases too. Shares are of the
 * median whole call.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "bench.h"

static const char *const phase_keys[] = {
	"validate", "eid", "dispatch", "report", "teardown", "persist",
};
static const char *const phase_labels[] = {
	"validate (state, status, sizes, seq allocation)",
	"EID allocation / attach (stage load when per-invocation)",
	"dispatch (the exchange with the stage)",
	"report (digests, report_data, signature, evidence)",
	"teardown (of a stage loaded for the invocation)",
	"persist (artifact files, rename)",
};
#define N_PHASES (sizeof(phase_keys) / sizeof(phase_keys[0]))

struct phase_set {
	struct samples phase[N_PHASES];
	struct samples sum, outside, call;
};

void phases_free(struct phase_set *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < N_PHASES; i++)
		samples_free(&p->phase[i]);
	samples_free(&p->sum);
	samples_free(&p->outside);
	samples_free(&p->call);
	free(p);
}

static int read_meta(const char *stage_dir, uint64_t seq, uint64_t t[N_PHASES])
{
	char path[4096];
	struct json_object *meta, *timings, *v;
	int r = -1;

	snprintf(path, sizeof(path), "%s/%" PRIu64 "/meta.json", stage_dir, seq);
	meta = json_object_from_file(path);
	if (meta == NULL) {
		fprintf(stderr, "ebcc-bench: cannot read %s\n", path);
		return -1;
	}
	if (!json_object_object_get_ex(meta, "timings_ns", &timings))
		goto out;
	for (size_t i = 0; i < N_PHASES; i++) {
		if (!json_object_object_get_ex(timings, phase_keys[i], &v) ||
		    !json_object_is_type(v, json_type_int))
			goto out;
		t[i] = (uint64_t)json_object_get_int64(v);
	}
	r = 0;
out:
	if (r < 0)
		fprintf(stderr, "ebcc-bench: %s has no complete timings_ns\n", path);
	json_object_put(meta);
	return r;
}

struct phase_set *phases_new(void)
{
	return calloc(1, sizeof(struct phase_set));
}

int phases_add(struct phase_set *p, const char *stage_dir, uint64_t seq, uint64_t call_ns)
{
	uint64_t t[N_PHASES], sum = 0;

	if (read_meta(stage_dir, seq, t) < 0)
		return -1;
	for (size_t i = 0; i < N_PHASES; i++) {
		samples_add(&p->phase[i], t[i]);
		sum += t[i];
	}
	samples_add(&p->sum, sum);
	samples_add(&p->outside, call_ns > sum ? call_ns - sum : 0);
	samples_add(&p->call, call_ns);
	return 0;
}

int phases_collect(const char *stage_dir, uint64_t first, const struct samples *calls,
		   struct phase_set **ret)
{
	struct phase_set *p = phases_new();

	if (p == NULL)
		return -1;
	for (size_t k = 0; k < calls->n; k++)
		if (phases_add(p, stage_dir, first + k, calls->v[k]) < 0) {
			phases_free(p);
			return -1;
		}
	*ret = p;
	return 0;
}

int phases_only(const struct phase_set *p, unsigned mask, struct samples *ret)
{
	for (size_t k = 0; k < p->call.n; k++) {
		uint64_t sum = 0;

		for (size_t i = 0; i < N_PHASES; i++)
			if (mask & (1u << i))
				sum += p->phase[i].v[k];
		if (samples_add(ret, sum) < 0)
			return -1;
	}
	return 0;
}

void phases_report(const char *key, const char *title, const struct phase_set *p)
{
	struct summary call, s;
	char k[128];

	samples_summarize(&p->call, &call);
	report_note("%s (shares of the median whole call, %.1f us)", title, call.median / 1e3);
	for (size_t i = 0; i < N_PHASES; i++) {
		samples_summarize(&p->phase[i], &s);
		snprintf(k, sizeof(k), "%s.%s", key, phase_keys[i]);
		report_phase(k, phase_labels[i], &s, call.median);
	}
	samples_summarize(&p->sum, &s);
	snprintf(k, sizeof(k), "%s.sum", key);
	report_phase(k, "sum of the timed phases", &s, call.median);
	samples_summarize(&p->outside, &s);
	snprintf(k, sizeof(k), "%s.outside", key);
	report_phase(k, "outside the phases (meta.json, rename, return)", &s, call.median);
	snprintf(k, sizeof(k), "%s.call", key);
	report_phase(k, "whole call, as the caller measured it", &call, call.median);
}
