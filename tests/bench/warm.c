/* SPDX-License-Identifier: MIT */
/*
 * Scenario 1, warm invoke: a running composite (an anchor process and one "instance" stage,
 * the echo stage), a 1 KiB request with a 32-byte nonce, evidence and artifacts, against the
 * raw floor measured in the same run, interleaved iteration by iteration (the side that goes
 * first alternates): one exchange with the same image started without the library (raw.c),
 * one Ed25519 signature, and the artifact files the library wrote, with the same sizes, in
 * the same stage directory. Variants: artifacts=full and =digests, durability=fsync (the raw
 * side fsyncs too), the state root on the normal disk and on tmpfs.
 *
 * Also measured, for the diagnosis only: the same plain exchange with the stage the library
 * started in its sandbox (its sim.sock), which separates the sandbox's cost from the library's;
 * and the tmpfs variant again with every process of both sides on one CPU. A process woken on
 * another, idle CPU costs tens of microseconds on a small virtual machine, and where the
 * scheduler puts each process differs from run to run: on one CPU what remains is the work.
 *
 * The meta.json timings of the measured invocations feed scenario 3 (phases.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

#define REQUEST_SIZE 1024
#define WARMUP 20

struct variant {
	const char *key;
	const char *what;
	bool on_tmpfs;
	const char *durability;
	const char *artifacts;
	bool target; /* the performance target applies (default settings) */
	bool one_cpu; /* every process of both sides on the CPU the bench runs on */
};

static const struct variant variants[] = {
	{ "disk-full", "disk, artifacts=full, durability=none", false, "none", "full", true, false },
	{ "disk-digests", "disk, artifacts=digests, durability=none", false, "none", "digests",
	  false, false },
	{ "disk-fsync", "disk, artifacts=full, durability=fsync", false, "fsync", "full", false,
	  false },
	{ "tmpfs-full", "tmpfs, artifacts=full, durability=none", true, "none", "full", true,
	  false },
	{ "tmpfs-one-cpu", "tmpfs, artifacts=full, durability=none, every process on one CPU", true,
	  "none", "full", false, true },
};
#define N_VARIANTS (sizeof(variants) / sizeof(variants[0]))

struct measured {
	struct samples ebcc, raw, raw_rt, raw_sign, raw_files, sandboxed_rt;
	uint64_t first_seq;
};

static void measured_free(struct measured *m)
{
	samples_free(&m->ebcc);
	samples_free(&m->raw);
	samples_free(&m->raw_rt);
	samples_free(&m->raw_sign);
	samples_free(&m->raw_files);
	samples_free(&m->sandboxed_rt);
}

static void stop_raw_stage(void *arg)
{
	raw_stage_stop(arg);
}

/* One library invocation, timed from the call to the release of its result. */
static int ebcc_once(struct ebcc_instance *inst, const uint8_t *req, const uint8_t *nonce,
		     uint64_t *ret_ns, uint64_t *ret_seq)
{
	struct ebcc_invocation *inv = NULL;
	uint64_t t0 = now_ns();
	int r = ebcc_stage_invoke(inst, "echo", req, REQUEST_SIZE, nonce, 32, &inv);

	if (r == 0) {
		*ret_seq = ebcc_invocation_seq(inv);
		ebcc_invocation_unref(inv);
	}
	*ret_ns = now_ns() - t0;
	return r < 0 ? fail_ebcc("ebcc_stage_invoke", r) : 0;
}

struct raw_side {
	const char *sock;
	struct raw_signer *signer;
	struct raw_artifacts files;
	int stage_dir_fd;
	uint64_t n;
	uint8_t *resp;
};

/* One raw floor iteration: exchange, signature, files. */
static int raw_once(struct raw_side *rs, const uint8_t *req, uint64_t t[3])
{
	uint8_t report_data[64];
	size_t len;
	uint64_t t0 = now_ns(), t1, t2;

	if (raw_roundtrip(rs->sock, req, REQUEST_SIZE, rs->resp, REQUEST_SIZE, &len) < 0 ||
	    len != REQUEST_SIZE)
		return fail_errno("raw exchange with the stage");
	t1 = now_ns();
	memset(report_data, 0, sizeof(report_data));
	memcpy(report_data, &rs->n, sizeof(rs->n));
	if (raw_sign(rs->signer, report_data) < 0)
		return fail_errno("raw Ed25519 signature");
	t2 = now_ns();
	if (raw_artifacts_write(rs->stage_dir_fd, &rs->files, rs->n++) < 0)
		return fail_errno("raw artifact files");
	t[0] = t1 - t0;
	t[1] = t2 - t1;
	t[2] = now_ns() - t2;
	return 0;
}

static unsigned reps_for(const struct bench_opts *o, const struct variant *v)
{
	unsigned n = o->reps;

	if (strcmp(v->durability, "fsync") == 0)
		n = n / 20 > 20 ? n / 20 : (n < 20 ? n : 20);
	return n > 0 ? n : 1;
}

static int measure(const struct bench_opts *o, const struct variant *v, const char *scratch,
		   struct measured *m, char **ret_stage_dir)
{
	const char *anchor[] = { "sleep", "1000000", NULL };
	const struct bundle_spec spec = { .lifetime = "instance", .anchor = anchor };
	struct ebcc_context *ctx = NULL;
	struct ebcc_instance *inst = NULL;
	struct raw_stage *stage = calloc(1, sizeof(*stage));
	struct raw_side rs = { .stage_dir_fd = -1 };
	char root[4096], bundle[4096], id[128], sock[4096], sim_sock[4096], inv_dir[4096];
	uint8_t req[REQUEST_SIZE], nonce[32], *resp = malloc(REQUEST_SIZE);
	char *stage_dir = NULL;
	unsigned reps = reps_for(o, v);
	int stage_cleanup = -1, r = -1;
	uint64_t ns, seq = 0;

	memset(req, 'q', sizeof(req));
	memset(nonce, 0x5a, sizeof(nonce));
	if (pathf(root, sizeof(root), "%s/root", scratch) < 0 ||
	    pathf(bundle, sizeof(bundle), "%s/bundle", scratch) < 0)
		goto out;
	make_id(id, sizeof(id), v->key, 0);
	rs.resp = resp;
	if (stage == NULL || resp == NULL || mkdir(root, 0700) < 0 ||
	    bundle_write(bundle, o->stage_path, &spec) < 0 ||
	    context_open(root, v->durability, v->artifacts, &ctx) < 0)
		goto out;
	if ((r = ebcc_instance_create(ctx, id, bundle, &inst)) < 0 ||
	    (r = ebcc_instance_start(inst)) < 0) {
		r = fail_ebcc(inst == NULL ? "ebcc_instance_create" : "ebcc_instance_start", r);
		goto out;
	}
	r = -1;
	stage_dir = stage_directory(inst, "echo");
	if (stage_dir == NULL)
		goto out;
	rs.stage_dir_fd = open(stage_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rs.stage_dir_fd < 0) {
		fail_errno(stage_dir);
		goto out;
	}
	/* The raw stage's socket beside the library's, when the path fits a sockaddr_un. */
	if ((pathf(sock, sizeof(sock), "%s/raw.sock", stage_dir) < 0 ||
	     strlen(sock) >= sizeof(stage->sock_path)) &&
	    pathf(sock, sizeof(sock), "%s/raw.sock", scratch) < 0)
		goto out;
	if (pathf(sim_sock, sizeof(sim_sock), "%s/sim.sock", stage_dir) < 0)
		goto out;
	if (raw_stage_start(o->stage_path, sock, stage) < 0)
		goto out;
	stage_cleanup = cleanup_push(stop_raw_stage, stage);
	if (stage_cleanup < 0)
		goto out;
	rs.sock = stage->sock_path;
	if (raw_signer_new(&rs.signer) < 0)
		goto out;

	/* Warm both sides up; the first invocation shows which files the library writes. */
	if (ebcc_once(inst, req, nonce, &ns, &seq) < 0)
		goto out;
	if (pathf(inv_dir, sizeof(inv_dir), "%s/%" PRIu64, stage_dir, seq) < 0 ||
	    raw_artifacts_like(inv_dir, strcmp(v->durability, "fsync") == 0, &rs.files) < 0)
		goto out;
	for (unsigned i = 0; i < WARMUP && !bench_interrupted; i++) {
		uint64_t t[3];
		size_t len;

		if (ebcc_once(inst, req, nonce, &ns, &seq) < 0 || raw_once(&rs, req, t) < 0 ||
		    raw_roundtrip(sim_sock, req, REQUEST_SIZE, resp, REQUEST_SIZE, &len) < 0)
			goto out;
	}

	m->first_seq = seq + 1;
	for (unsigned i = 0; i < reps && !bench_interrupted; i++) {
		uint64_t t[3], t0;
		size_t len;

		if (i % 2 == 0 && ebcc_once(inst, req, nonce, &ns, &seq) < 0)
			goto out;
		if (raw_once(&rs, req, t) < 0)
			goto out;
		if (i % 2 == 1 && ebcc_once(inst, req, nonce, &ns, &seq) < 0)
			goto out;
		if (seq != m->first_seq + i) {
			fprintf(stderr, "ebcc-bench: invocation %" PRIu64 ", %" PRIu64 " expected\n",
				seq, m->first_seq + i);
			goto out;
		}
		t0 = now_ns();
		if (raw_roundtrip(sim_sock, req, REQUEST_SIZE, resp, REQUEST_SIZE, &len) < 0) {
			fail_errno("plain exchange with the sandboxed stage");
			goto out;
		}
		samples_add(&m->sandboxed_rt, now_ns() - t0);
		samples_add(&m->ebcc, ns);
		samples_add(&m->raw_rt, t[0]);
		samples_add(&m->raw_sign, t[1]);
		samples_add(&m->raw_files, t[2]);
		samples_add(&m->raw, t[0] + t[1] + t[2]);
	}
	r = bench_interrupted ? -1 : 0;
	if (r == 0) {
		*ret_stage_dir = stage_dir;
		stage_dir = NULL;
	}
out:
	cleanup_run(stage_cleanup); /* stops the raw stage; the cleanup only borrowed it */
	free(stage);
	raw_signer_free(rs.signer);
	raw_artifacts_clear(&rs.files);
	if (rs.stage_dir_fd >= 0)
		close(rs.stage_dir_fd);
	free(resp);
	free(stage_dir);
	if (inst != NULL && r < 0)
		ebcc_instance_delete(inst, EBCC_DELETE_FORCE);
	ebcc_instance_unref(inst);
	ebcc_context_unref(ctx);
	return r;
}

/* measure(), for a one_cpu variant with the bench and so everything it starts on one CPU. */
static int measure_on(const struct bench_opts *o, const struct variant *v, const char *scratch,
		      struct measured *m, char **ret_stage_dir)
{
	cpu_set_t all, one;
	int cpu, r;

	if (!v->one_cpu)
		return measure(o, v, scratch, m, ret_stage_dir);
	cpu = sched_getcpu();
	CPU_ZERO(&one);
	CPU_SET(cpu >= 0 ? cpu : 0, &one);
	if (sched_getaffinity(0, sizeof(all), &all) < 0 || sched_setaffinity(0, sizeof(one), &one) < 0)
		return fail_errno("sched_setaffinity");
	r = measure(o, v, scratch, m, ret_stage_dir);
	if (sched_setaffinity(0, sizeof(all), &all) < 0 && r == 0)
		r = fail_errno("sched_setaffinity (restoring the bench's CPUs)");
	return r;
}

static void show(const struct variant *v, const struct measured *m, const char *fstype)
{
	struct summary e, w;
	char key[128], what[160];

#define K(suffix) (snprintf(key, sizeof(key), "warm.%s." suffix, v->key), key)
	report_latency(K("ebcc"), "ebcc_stage_invoke + unref", &m->ebcc);
	report_latency(K("raw"), "raw floor (exchange + signature + files)", &m->raw);
	report_latency(K("raw_exchange"), "  raw: exchange with the unsandboxed stage", &m->raw_rt);
	report_latency(K("raw_signature"), "  raw: report (monitor round trip + Ed25519)", &m->raw_sign);
	report_latency(K("raw_files"), "  raw: artifact files, temp dir + rename", &m->raw_files);
	report_latency(K("sandboxed_exchange"),
		       "  (plain exchange with the library's sandboxed stage)", &m->sandboxed_rt);
	samples_summarize(&m->ebcc, &e);
	samples_summarize(&m->raw, &w);
	report_ratio(K("ratio"), "ratio ebcc/raw (medians)", e.median, w.median);
	if (v->target) {
		snprintf(what, sizeof(what), "warm ebcc/raw on %s (%s)", fstype,
			 v->on_tmpfs ? "tmpfs state root" : "disk state root");
		report_target(K("target"), what, w.median > 0 ? e.median / w.median : 0, "<=", 1.25,
			      "x", e.n > 0, "no samples");
	}
#undef K
}

int bench_warm(const struct bench_opts *o)
{
	bool show_warm = o->scenarios & SCENARIO_WARM;
	struct phase_set *phases[N_VARIANTS] = { 0 };
	char titles[N_VARIANTS][512];
	int r = 0;

	if (show_warm) {
		report_section("warm", "1. Warm invoke: 1 KiB request, instance stage, evidence + "
				       "artifacts, against the raw floor");
		report_note("raw floor = one exchange (connect, BIND + REQUEST, LOG + REPORT + "
			    "RESPONSE, close; the stage binds with BearSSL as under libebcc) and "
			    "the host's check of that binding (SHA-256 of request and response, the "
			    "SHA-512 binding, OpenSSL) "
			    "with the same echo image started without libebcc (fork + execve, a "
			    "listening socket on fd 3, no sandbox) + one report from a signing "
			    "process (a round trip, one Ed25519 signature) + the same artifact files (names and sizes of the "
			    "library's) in a temporary directory of the same stage directory, "
			    "renamed; fsync'ed like the library's under durability=fsync");
	}
	for (size_t i = 0; i < N_VARIANTS && !bench_interrupted; i++) {
		const struct variant *v = &variants[i];
		const char *parent = v->on_tmpfs ? o->tmpfs_dir : o->state_dir;
		struct measured m = { 0 };
		char fstype[64], source[256], *scratch, *stage_dir = NULL;
		int scratch_handle;

		titles[i][0] = '\0';
		if (parent == NULL) {
			if (show_warm)
				report_skip(v->key, v->what, "no tmpfs directory (--tmpfs-dir)");
			continue;
		}
		scratch = scratch_dir(parent, "warm", &scratch_handle);
		if (scratch == NULL) {
			r = -1;
			continue;
		}
		fs_describe(scratch, fstype, sizeof(fstype), source, sizeof(source));
		pathf(titles[i], sizeof(titles[i]), "%s: state root on %s (%s, %s)", v->what,
			 fstype, source, parent);
		if (measure_on(o, v, scratch, &m, &stage_dir) < 0) {
			if (show_warm)
				report_skip(v->key, v->what, "failed (see the message above)");
			r = -1;
		} else {
			if (show_warm) {
				report_note("%s; %u repetitions after %d warm-up", titles[i],
					    (unsigned)m.ebcc.n, WARMUP);
				show(v, &m, fstype);
			}
			if (phases_collect(stage_dir, m.first_seq, &m.ebcc, &phases[i]) < 0)
				r = -1;
		}
		free(stage_dir);
		measured_free(&m);
		cleanup_run(scratch_handle); /* the composite, its stage and its files */
	}

	if (o->scenarios & SCENARIO_PHASES) {
		report_section("phases", "3. Phase breakdown of the warm invocations (meta.json "
					 "timings_ns)");
		for (size_t i = 0; i < N_VARIANTS; i++) {
			char key[64];

			if (phases[i] == NULL)
				continue;
			snprintf(key, sizeof(key), "phases.%s", variants[i].key);
			phases_report(key, titles[i], phases[i]);
		}
	}
	for (size_t i = 0; i < N_VARIANTS; i++)
		phases_free(phases[i]);
	return r;
}
