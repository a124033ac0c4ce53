/* SPDX-License-Identifier: MIT */
/*
 * Scenario 5, scale:
 *  - throughput of warm 1 KiB invocations with 1, 2, 4 and 8 threads, each thread on its own
 *    composite (one shared context), the thread counts interleaved round by round;
 *  - create and delete latency of the 1st live composite (an empty state root) against the
 *    Nth (a state root holding N-1 live composites), alternating between the two roots on the
 *    same filesystem; the composites are created, not started, and have no anchor process;
 *  - request sizes 1 KiB to 16 MiB (sizes.c).
 *
 * Beside the throughput, from /proc/.../schedstat of the calling threads and the stage
 * processes: the CPU time one invocation costs, how many cores a run kept busy, and how long
 * the threads and stages waited, runnable, for a CPU per invocation. On a shared machine, a
 * run that could not get a second core shows it there: wait for a CPU rather than sleep on a
 * lock.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "bench.h"

#define REQUEST_SIZE 1024
#define MAX_THREADS 8

static const unsigned thread_counts[] = { 1, 2, 4, 8 };
#define N_COUNTS (sizeof(thread_counts) / sizeof(thread_counts[0]))

/* ---- throughput ----------------------------------------------------------------------------- */

struct worker {
	pthread_t thread;
	pthread_barrier_t *go;
	struct ebcc_instance *inst;
	unsigned calls;
	struct samples lat;
	uint64_t end, sched[2];
	int r;
};

/* Time on a CPU and time waiting, runnable, for one (ns) of the task whose schedstat is at
 * path; zeros if unknown. */
static void schedstat(const char *path, uint64_t ret[2])
{
	unsigned long long run = 0, wait = 0;
	FILE *f = fopen(path, "re");

	ret[0] = ret[1] = 0;
	if (f == NULL)
		return;
	if (fscanf(f, "%llu %llu", &run, &wait) == 2) {
		ret[0] = run;
		ret[1] = wait;
	}
	fclose(f);
}

static void process_sched(int pid, uint64_t ret[2])
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/schedstat", pid);
	schedstat(path, ret);
}

/* The pid of a loaded stage, from ebcc_stage_info()'s isolation object; 0 if unknown. */
static int stage_pid(struct ebcc_instance *inst)
{
	struct json_object *o, *iso, *pid;
	char *json = NULL;
	int r = 0;

	if (ebcc_stage_info(inst, "echo", &json) < 0)
		return 0;
	o = json_tokener_parse(json);
	if (json_object_object_get_ex(o, "isolation", &iso) &&
	    json_object_object_get_ex(iso, "pid", &pid))
		r = json_object_get_int(pid);
	json_object_put(o);
	ebcc_free(json);
	return r;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint8_t req[REQUEST_SIZE];
	uint64_t end[2];

	memset(req, 'q', sizeof(req));

	pthread_barrier_wait(w->go);
	schedstat("/proc/thread-self/schedstat", w->sched);
	for (unsigned i = 0; i < w->calls && !bench_interrupted; i++) {
		struct ebcc_invocation *inv = NULL;
		uint64_t t0 = now_ns();

		w->r = ebcc_stage_invoke(w->inst, "echo", req, sizeof(req), NULL, 0, &inv);
		ebcc_invocation_unref(inv);
		if (w->r < 0) {
			fail_ebcc("ebcc_stage_invoke (thread)", w->r);
			break;
		}
		samples_add(&w->lat, now_ns() - t0);
	}
	w->end = now_ns();
	schedstat("/proc/thread-self/schedstat", end);
	w->sched[0] = end[0] - w->sched[0];
	w->sched[1] = end[1] - w->sched[1];
	return NULL;
}

struct run_result {
	double rate;       /* invocations per second */
	double cpu_per_ns; /* CPU ns per invocation, host threads and stages */
	double wait_per_ns; /* ns per invocation waiting, runnable, for a CPU */
	double cores;      /* CPU time over wall time */
};

/* One run of `threads` threads doing `calls` invocations each. */
static int run_threads(struct ebcc_instance **inst, const int *pids, unsigned threads,
		       unsigned calls, struct samples *lat, struct run_result *ret)
{
	struct worker w[MAX_THREADS];
	pthread_barrier_t go;
	uint64_t start, end = 0, stage[MAX_THREADS][2], cpu = 0, wait = 0;
	int r = 0;

	for (unsigned i = 0; i < threads; i++)
		process_sched(pids[i], stage[i]);

	pthread_barrier_init(&go, NULL, threads + 1);
	for (unsigned i = 0; i < threads; i++) {
		w[i] = (struct worker){ .go = &go, .inst = inst[i], .calls = calls };
		if (pthread_create(&w[i].thread, NULL, worker_main, &w[i]) != 0) {
			fprintf(stderr, "ebcc-bench: pthread_create failed\n");
			abort();
		}
	}
	pthread_barrier_wait(&go);
	start = now_ns();
	for (unsigned i = 0; i < threads; i++) {
		uint64_t now[2];

		pthread_join(w[i].thread, NULL);
		if (w[i].r < 0)
			r = -1;
		if (w[i].end > end)
			end = w[i].end;
		process_sched(pids[i], now);
		cpu += w[i].sched[0] + (now[0] - stage[i][0]);
		wait += w[i].sched[1] + (now[1] - stage[i][1]);
		for (size_t k = 0; k < w[i].lat.n; k++)
			samples_add(lat, w[i].lat.v[k]);
		samples_free(&w[i].lat);
	}
	pthread_barrier_destroy(&go);
	ret->rate = (double)threads * calls / ((double)(end - start) / 1e9);
	ret->cpu_per_ns = (double)cpu / ((double)threads * calls);
	ret->wait_per_ns = (double)wait / ((double)threads * calls);
	ret->cores = (double)cpu / (double)(end - start);
	return r;
}

static int throughput(const struct bench_opts *o, const char *scratch)
{
	const char *anchor[] = { "sleep", "1000000", NULL };
	const struct bundle_spec spec = { .lifetime = "instance", .anchor = anchor };
	struct ebcc_instance *inst[MAX_THREADS] = { 0 };
	int pids[MAX_THREADS] = { 0 };
	struct ebcc_context *ctx = NULL;
	struct samples rate[N_COUNTS] = { { 0 } }, lat[N_COUNTS] = { { 0 } };
	struct samples cpu[N_COUNTS] = { { 0 } }, cores[N_COUNTS] = { { 0 } };
	struct samples wait[N_COUNTS] = { { 0 } };
	char root[4096], bundle[4096], id[128];
	unsigned rounds = o->quick ? 3 : 10, calls = o->reps / 10 > 20 ? o->reps / 10 : 20;
	double median_rate[N_COUNTS] = { 0 };
	int r = -1;

	if (pathf(root, sizeof(root), "%s/tput-root", scratch) < 0 ||
	    pathf(bundle, sizeof(bundle), "%s/tput-bundle", scratch) < 0 || mkdir(root, 0700) < 0 || bundle_write(bundle, o->stage_path, &spec) < 0 ||
	    context_open(root, NULL, NULL, &ctx) < 0)
		goto out;
	for (unsigned i = 0; i < MAX_THREADS; i++) {
		make_id(id, sizeof(id), "tput", i);
		r = ebcc_instance_create(ctx, id, bundle, &inst[i]);
		if (r == 0)
			r = ebcc_instance_start(inst[i]);
		if (r < 0) {
			r = fail_ebcc("create and start a composite", r);
			goto out;
		}
		pids[i] = stage_pid(inst[i]);
	}
	r = -1;
	/* Warm-up: every composite once. */
	for (unsigned i = 0; i < MAX_THREADS; i++) {
		struct samples ignore = { 0 };
		struct run_result v;
		int w = run_threads(&inst[i], &pids[i], 1, 5, &ignore, &v);

		samples_free(&ignore);
		if (w < 0)
			goto out;
	}
	for (unsigned round = 0; round < rounds && !bench_interrupted; round++)
		for (size_t k = 0; k < N_COUNTS; k++) {
			/* Rotate the order of the thread counts from round to round. */
			size_t c = (k + round) % N_COUNTS;
			struct run_result v;

			if (run_threads(inst, pids, thread_counts[c], calls, &lat[c], &v) < 0)
				goto out;
			samples_add(&rate[c], (uint64_t)(v.rate * 1000)); /* milli-invocations/s */
			samples_add(&cpu[c], (uint64_t)v.cpu_per_ns);
			samples_add(&wait[c], (uint64_t)v.wait_per_ns);
			samples_add(&cores[c], (uint64_t)(v.cores * 1000));
		}
	if (bench_interrupted)
		goto out;
	report_note("warm 1 KiB invocations, %u per thread per run, %u rounds with the thread "
		    "counts rotating; each thread on its own composite, one shared context",
		    calls, rounds);
	for (size_t c = 0; c < N_COUNTS; c++) {
		struct summary s;
		char key[64], label[128];

		samples_summarize(&rate[c], &s);
		median_rate[c] = s.median / 1000;
		snprintf(key, sizeof(key), "scale.threads%u.rate", thread_counts[c]);
		snprintf(label, sizeof(label), "%u thread%s: throughput (median of the runs)",
			 thread_counts[c], thread_counts[c] > 1 ? "s" : "");
		report_value(key, label, median_rate[c], "invocations/s");
		snprintf(key, sizeof(key), "scale.threads%u.latency", thread_counts[c]);
		snprintf(label, sizeof(label), "%u thread%s: latency of one invocation",
			 thread_counts[c], thread_counts[c] > 1 ? "s" : "");
		report_latency(key, label, &lat[c]);
		snprintf(key, sizeof(key), "scale.threads%u.cpu", thread_counts[c]);
		snprintf(label, sizeof(label), "%u thread%s: CPU per invocation (host + stage)",
			 thread_counts[c], thread_counts[c] > 1 ? "s" : "");
		report_latency(key, label, &cpu[c]);
		snprintf(key, sizeof(key), "scale.threads%u.runqueue", thread_counts[c]);
		snprintf(label, sizeof(label), "%u thread%s: waiting for a CPU per invocation",
			 thread_counts[c], thread_counts[c] > 1 ? "s" : "");
		report_latency(key, label, &wait[c]);
		samples_summarize(&cores[c], &s);
		snprintf(key, sizeof(key), "scale.threads%u.cores", thread_counts[c]);
		snprintf(label, sizeof(label), "%u thread%s: cores kept busy (CPU time / wall time)",
			 thread_counts[c], thread_counts[c] > 1 ? "s" : "");
		report_value(key, label, s.median / 1000, "cores");
	}
	report_ratio("scale.ratio_2_1", "throughput 2 threads / 1 thread", median_rate[1],
		     median_rate[0]);
	report_target("scale.target_threads", "throughput 2 threads / 1 thread",
		      median_rate[0] > 0 ? median_rate[1] / median_rate[0] : 0, ">=", 1.7, "x", true,
		      NULL);
	r = 0;
out:
	for (size_t c = 0; c < N_COUNTS; c++) {
		samples_free(&rate[c]);
		samples_free(&lat[c]);
		samples_free(&cpu[c]);
		samples_free(&cores[c]);
		samples_free(&wait[c]);
	}
	for (unsigned i = 0; i < MAX_THREADS; i++) {
		if (inst[i] != NULL)
			ebcc_instance_delete(inst[i], EBCC_DELETE_FORCE);
		ebcc_instance_unref(inst[i]);
	}
	ebcc_context_unref(ctx);
	return r;
}

/* ---- the 1st against the Nth composite ----------------------------------------------------------- */

static int create_delete(struct ebcc_context *ctx, const char *bundle, const char *tag,
			 unsigned n, struct samples *create, struct samples *del)
{
	struct ebcc_instance *inst = NULL;
	char id[128];
	uint64_t t0, t1;
	int r;

	make_id(id, sizeof(id), tag, n);
	t0 = now_ns();
	r = ebcc_instance_create(ctx, id, bundle, &inst);
	t1 = now_ns();
	if (r < 0)
		return fail_ebcc("ebcc_instance_create", r);
	r = ebcc_instance_delete(inst, EBCC_DELETE_FORCE);
	samples_add(del, now_ns() - t1);
	samples_add(create, t1 - t0);
	ebcc_instance_unref(inst);
	return r < 0 ? fail_ebcc("ebcc_instance_delete", r) : 0;
}

static int nth_instance(const struct bench_opts *o, const char *scratch)
{
	const struct bundle_spec spec = { .lifetime = "instance" };
	struct ebcc_context *empty = NULL, *full = NULL;
	struct samples c1 = { 0 }, cn = { 0 }, d1 = { 0 }, dn = { 0 };
	char root1[4096], rootn[4096], bundle[4096], id[128];
	unsigned reps = o->quick ? 10 : 50, n = o->instances;
	struct summary s1, sn;
	uint64_t t0;
	int r = -1;

	if (pathf(root1, sizeof(root1), "%s/first-root", scratch) < 0 ||
	    pathf(rootn, sizeof(rootn), "%s/nth-root", scratch) < 0 ||
	    pathf(bundle, sizeof(bundle), "%s/plain-bundle", scratch) < 0 || mkdir(root1, 0700) < 0 || mkdir(rootn, 0700) < 0 ||
	    bundle_write(bundle, o->stage_path, &spec) < 0 || context_open(root1, NULL, NULL, &empty) < 0 ||
	    context_open(rootn, NULL, NULL, &full) < 0)
		goto out;
	t0 = now_ns();
	for (unsigned i = 1; i < n && !bench_interrupted; i++) {
		struct ebcc_instance *inst = NULL;
		int e;

		make_id(id, sizeof(id), "live", i);
		e = ebcc_instance_create(full, id, bundle, &inst);
		ebcc_instance_unref(inst);
		if (e < 0) {
			fail_ebcc("ebcc_instance_create", e);
			goto out;
		}
	}
	report_note("%u live composites created in %.1f s (created, not started; no anchor "
		    "process); then %u rounds alternating between an empty state root and that one",
		    n - 1, (double)(now_ns() - t0) / 1e9, reps);
	/* Both roots once before measuring. */
	if (create_delete(empty, bundle, "first", 0, &c1, &d1) < 0 ||
	    create_delete(full, bundle, "nth", 0, &cn, &dn) < 0)
		goto out;
	samples_free(&c1);
	samples_free(&cn);
	samples_free(&d1);
	samples_free(&dn);
	for (unsigned i = 1; i <= reps && !bench_interrupted; i++) {
		bool first_first = i % 2;

		if ((first_first && create_delete(empty, bundle, "first", i, &c1, &d1) < 0) ||
		    create_delete(full, bundle, "nth", i, &cn, &dn) < 0 ||
		    (!first_first && create_delete(empty, bundle, "first", i, &c1, &d1) < 0))
			goto out;
	}
	if (bench_interrupted)
		goto out;
	report_latency("scale.create_1st", "create of the 1st live composite", &c1);
	snprintf(id, sizeof(id), "create of the %uth live composite", n);
	report_latency("scale.create_nth", id, &cn);
	report_latency("scale.delete_1st", "delete of the 1st live composite", &d1);
	snprintf(id, sizeof(id), "delete of the %uth live composite", n);
	report_latency("scale.delete_nth", id, &dn);
	samples_summarize(&c1, &s1);
	samples_summarize(&cn, &sn);
	snprintf(id, sizeof(id), "create %uth / 1st", n);
	report_ratio("scale.ratio_create", id, sn.median, s1.median);
	snprintf(id, sizeof(id), "create of the %uth composite / the 1st", n);
	report_target("scale.target_create", id, s1.median > 0 ? sn.median / s1.median : 0, "<=",
		      1.2, "x", n >= 1000, n >= 1000 ? NULL : "fewer than 1000 instances (--instances)");
	samples_summarize(&d1, &s1);
	samples_summarize(&dn, &sn);
	snprintf(id, sizeof(id), "delete %uth / 1st", n);
	report_ratio("scale.ratio_delete", id, sn.median, s1.median);
	r = 0;
out:
	samples_free(&c1);
	samples_free(&cn);
	samples_free(&d1);
	samples_free(&dn);
	ebcc_context_unref(empty);
	ebcc_context_unref(full);
	return r;
}

int bench_scale(const struct bench_opts *o)
{
	char fstype[64], source[256], *scratch;
	int handle, r = 0;

	report_section("scale", "5. Scale: threads, the Nth composite, request sizes");
	scratch = scratch_dir(o->state_dir, "scale", &handle);
	if (scratch == NULL)
		return -1;
	fs_describe(scratch, fstype, sizeof(fstype), source, sizeof(source));
	report_note("state roots on %s (%s); artifacts=full, durability=none unless said", fstype,
		    source);
	if (throughput(o, scratch) < 0) {
		report_skip("scale.threads", "throughput with threads", "failed or interrupted");
		r = -1;
	}
	if (!bench_interrupted && nth_instance(o, scratch) < 0) {
		report_skip("scale.nth", "the Nth composite", "failed or interrupted");
		r = -1;
	}
	if (!bench_interrupted && scale_sizes(o, scratch) < 0) {
		report_skip("scale.sizes", "request sizes", "failed or interrupted");
		r = -1;
	}
	cleanup_run(handle);
	return r;
}
