/* SPDX-License-Identifier: MIT */
/*
 * Scenario 2, per-invocation enclave: a stage of lifetime "invocation", so that every call
 * allocates an EID, seals and measures the image, spawns it in its sandbox, runs one request
 * and tears it down, with evidence and artifacts as in scenario 1. Against it, interleaved in
 * the same run: fork + fexecve of the same image (its descriptor opened once) with a
 * socketpair on descriptor 3, one exchange, hang up, waitpid; then the signature and the
 * artifact files of the warm floor.
 *
 * Two ratios: the whole invocation against the whole floor (spawn + exchange + signature +
 * files), and the spawn part alone — the call's eid, dispatch and teardown phases (meta.json):
 * EID allocation, sandboxed spawn, run, the report its monitor makes inside the exchange, and
 * teardown — against the raw spawn + exchange + wait and the raw report. A third side,
 * interleaved with the two (the order rotating each round), is the same stage in a context
 * whose sandbox pool is on (sandbox_pool=2): its sandboxes are made by the pool's thread
 * between calls.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

#define REQUEST_SIZE 1024
#define WARMUP 5
#define SPAWN_PART (PHASE_EID | PHASE_DISPATCH | PHASE_TEARDOWN)

struct spawn_run {
	struct samples ebcc, raw, raw_spawn, raw_sign, raw_files, ebcc_spawn;
	struct samples raw_spawn_part; /* raw_spawn + raw_sign, what ebcc_spawn is against */
	struct samples pool, pool_spawn; /* the same with the context's sandbox pool on */
	struct phase_set *phases, *pool_phases;
};

/* The pooled side: its own context (sandbox_pool=POOL_SIZE) and composite. */
#define POOL_SIZE "2"
struct pool_side {
	struct ebcc_context *ctx;
	struct ebcc_instance *inst;
	char *stage_dir;
	uint64_t first;
};

static int pool_open(const char *root, const char *bundle, struct pool_side *ps)
{
	char id[128];
	int r;

	make_id(id, sizeof(id), "spawn-pool", 0);
	if (context_open(root, NULL, NULL, &ps->ctx) < 0)
		return -1;
	r = ebcc_context_set_option(ps->ctx, "sandbox_pool", POOL_SIZE);
	if (r < 0)
		return fail_ebcc("ebcc_context_set_option sandbox_pool", r);
	if ((r = ebcc_instance_create(ps->ctx, id, bundle, &ps->inst)) < 0 ||
	    (r = ebcc_instance_start(ps->inst)) < 0)
		return fail_ebcc(ps->inst == NULL ? "ebcc_instance_create (pool)"
						  : "ebcc_instance_start (pool)", r);
	ps->stage_dir = stage_directory(ps->inst, "echo");
	return ps->stage_dir != NULL ? 0 : -1;
}

static void pool_close(struct pool_side *ps)
{
	free(ps->stage_dir);
	ebcc_instance_unref(ps->inst);
	ebcc_context_unref(ps->ctx); /* drains the pool */
}

static int ebcc_once(struct ebcc_instance *inst, const uint8_t *req, uint64_t *ret_ns,
		     uint64_t *ret_seq)
{
	struct ebcc_invocation *inv = NULL;
	uint64_t t0 = now_ns();
	int r = ebcc_stage_invoke(inst, "echo", req, REQUEST_SIZE, NULL, 0, &inv);

	if (r == 0) {
		*ret_seq = ebcc_invocation_seq(inv);
		ebcc_invocation_unref(inv);
	}
	*ret_ns = now_ns() - t0;
	return r < 0 ? fail_ebcc("ebcc_stage_invoke (per-invocation stage)", r) : 0;
}

static int raw_once(int image_fd, struct raw_signer *signer, int stage_dir_fd,
		    const struct raw_artifacts *files, uint64_t n, const uint8_t *req,
		    uint8_t *resp, uint64_t t[3])
{
	uint8_t report_data[64] = { 0 };
	uint64_t t0 = now_ns(), t1, t2;
	size_t len;

	if (raw_oneshot(image_fd, req, REQUEST_SIZE, resp, REQUEST_SIZE, &len) < 0 ||
	    len != REQUEST_SIZE)
		return fail_errno("raw fork + fexecve + exchange + wait");
	t1 = now_ns();
	memcpy(report_data, &n, sizeof(n));
	if (raw_sign(signer, report_data) < 0)
		return fail_errno("raw signature");
	t2 = now_ns();
	if (raw_artifacts_write(stage_dir_fd, files, n) < 0)
		return fail_errno("raw artifact files");
	t[0] = t1 - t0;
	t[1] = t2 - t1;
	t[2] = now_ns() - t2;
	return 0;
}

static int measure(const struct bench_opts *o, const char *scratch, struct spawn_run *m)
{
	const char *anchor[] = { "sleep", "1000000", NULL };
	const struct bundle_spec spec = { .lifetime = "invocation", .anchor = anchor };
	struct ebcc_context *ctx = NULL;
	struct ebcc_instance *inst = NULL;
	struct raw_signer *signer = NULL;
	struct raw_artifacts files = { 0 };
	struct pool_side ps = { 0 };
	char root[4096], bundle[4096], id[128], inv_dir[4096], *stage_dir = NULL;
	uint8_t req[REQUEST_SIZE], resp[REQUEST_SIZE];
	unsigned reps = o->reps / 10 > 10 ? o->reps / 10 : (o->reps < 10 ? o->reps : 10);
	int image_fd = -1, stage_dir_fd = -1, r = -1;
	uint64_t ns, seq = 0, first, t[3];

	memset(req, 'q', sizeof(req));
	make_id(id, sizeof(id), "spawn", 0);
	if (pathf(root, sizeof(root), "%s/root", scratch) < 0 ||
	    pathf(bundle, sizeof(bundle), "%s/bundle", scratch) < 0 || mkdir(root, 0700) < 0 || bundle_write(bundle, o->stage_path, &spec) < 0 ||
	    context_open(root, NULL, NULL, &ctx) < 0)
		goto out;
	if ((r = ebcc_instance_create(ctx, id, bundle, &inst)) < 0 ||
	    (r = ebcc_instance_start(inst)) < 0) {
		r = fail_ebcc(inst == NULL ? "ebcc_instance_create" : "ebcc_instance_start", r);
		goto out;
	}
	r = -1;
	image_fd = open(o->stage_path, O_RDONLY | O_CLOEXEC);
	if (image_fd < 0) {
		fail_errno(o->stage_path);
		goto out;
	}
	if (raw_signer_new(&signer) < 0 || ebcc_once(inst, req, &ns, &seq) < 0 ||
	    (stage_dir = stage_directory(inst, "echo")) == NULL)
		goto out;
	stage_dir_fd = open(stage_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (stage_dir_fd < 0 || pathf(inv_dir, sizeof(inv_dir), "%s/%" PRIu64, stage_dir, seq) < 0 || raw_artifacts_like(inv_dir, false, &files) < 0)
		goto out;
	if (pool_open(root, bundle, &ps) < 0)
		goto out;
	for (unsigned i = 0; i < WARMUP && !bench_interrupted; i++)
		if (ebcc_once(inst, req, &ns, &seq) < 0 ||
		    ebcc_once(ps.inst, req, &ns, &ps.first) < 0 ||
		    raw_once(image_fd, signer, stage_dir_fd, &files, i, req, resp, t) < 0)
			goto out;

	first = seq + 1;
	ps.first++;
	/* The three sides rotate their order each round. */
	for (unsigned i = 0; i < reps && !bench_interrupted; i++) {
		uint64_t pool_ns = 0, pool_seq;

		for (unsigned k = 0; k < 3; k++) {
			unsigned who = (i + k) % 3;

			if (who == 0 && ebcc_once(inst, req, &ns, &seq) < 0)
				goto out;
			if (who == 1 && ebcc_once(ps.inst, req, &pool_ns, &pool_seq) < 0)
				goto out;
			if (who == 2 && raw_once(image_fd, signer, stage_dir_fd, &files, WARMUP + i,
						 req, resp, t) < 0)
				goto out;
		}
		samples_add(&m->pool, pool_ns);
		samples_add(&m->ebcc, ns);
		samples_add(&m->raw_spawn, t[0]);
		samples_add(&m->raw_sign, t[1]);
		samples_add(&m->raw_spawn_part, t[0] + t[1]);
		samples_add(&m->raw_files, t[2]);
		samples_add(&m->raw, t[0] + t[1] + t[2]);
	}
	if (bench_interrupted || phases_collect(stage_dir, first, &m->ebcc, &m->phases) < 0 ||
	    phases_only(m->phases, SPAWN_PART, &m->ebcc_spawn) < 0 ||
	    phases_collect(ps.stage_dir, ps.first, &m->pool, &m->pool_phases) < 0 ||
	    phases_only(m->pool_phases, SPAWN_PART, &m->pool_spawn) < 0)
		goto out;
	r = 0;
out:
	pool_close(&ps);
	if (image_fd >= 0)
		close(image_fd);
	if (stage_dir_fd >= 0)
		close(stage_dir_fd);
	free(stage_dir);
	raw_artifacts_clear(&files);
	raw_signer_free(signer);
	ebcc_instance_unref(inst);
	ebcc_context_unref(ctx);
	return r;
}

/* One run on the state root's filesystem: "disk" or "tmpfs" names the figures. */
static int spawn_on(const struct bench_opts *o, const char *parent, const char *where)
{
	struct spawn_run m = { 0 };
	struct summary e, w, es, ws;
	char fstype[64], source[256], key[64], label[128], *scratch;
	int handle, r;

	scratch = scratch_dir(parent, "spawn", &handle);
	if (scratch == NULL)
		return -1;
	fs_describe(scratch, fstype, sizeof(fstype), source, sizeof(source));
	r = measure(o, scratch, &m);
	if (r == 0) {
		report_note("%s: state root on %s (%s); artifacts=full, durability=none; %zu "
			    "repetitions after %d warm-up",
			    where, fstype, source, m.ebcc.n, WARMUP);
#define KEY(k) (snprintf(key, sizeof(key), "spawn.%s.%s", where, (k)), key)
#define LABEL(...) (snprintf(label, sizeof(label), __VA_ARGS__), label)
		report_latency(KEY("ebcc"), "ebcc_stage_invoke + unref (per-invocation stage)",
			       &m.ebcc);
		report_latency(KEY("ebcc_spawn"),
			       "  ebcc spawn part: eid + dispatch + teardown", &m.ebcc_spawn);
		report_latency(KEY("raw"), "raw floor (spawn + signature + files)", &m.raw);
		report_latency(KEY("raw_spawn"), "  raw: fork + fexecve + exchange + waitpid",
			       &m.raw_spawn);
		report_latency(KEY("raw_signature"), "  raw: report (monitor round trip + Ed25519)", &m.raw_sign);
		report_latency(KEY("raw_files"), "  raw: artifact files, temp dir + rename",
			       &m.raw_files);
		report_latency(KEY("raw_spawn_part"), "  raw spawn part: spawn + report",
			       &m.raw_spawn_part);
		samples_summarize(&m.ebcc, &e);
		samples_summarize(&m.raw, &w);
		samples_summarize(&m.ebcc_spawn, &es);
		samples_summarize(&m.raw_spawn_part, &ws);
		report_ratio(KEY("ratio"), "ratio ebcc/raw, whole invocation (medians)", e.median,
			     w.median);
		report_ratio(KEY("ratio_spawn"), "ratio ebcc/raw, spawn part only (medians)",
			     es.median, ws.median);
		report_target(KEY("target"),
			      LABEL("per-invocation ebcc/raw on %s, whole invocation", fstype),
			      w.median > 0 ? e.median / w.median : 0, "<=", 1.2, "x", e.n > 0,
			      "no samples");
		report_target(KEY("target_spawn"),
			      LABEL("per-invocation ebcc/raw on %s, spawn part only", fstype),
			      ws.median > 0 ? es.median / ws.median : 0, "<=", 1.2, "x", es.n > 0,
			      "no samples");
		phases_report(KEY("phases"), "where a per-invocation call's time goes", m.phases);
		{
			struct summary pe, pes;

			report_latency(KEY("pool"),
				       "ebcc_stage_invoke + unref, sandbox_pool=" POOL_SIZE, &m.pool);
			report_latency(KEY("pool_spawn"), "  pooled spawn part", &m.pool_spawn);
			samples_summarize(&m.pool, &pe);
			samples_summarize(&m.pool_spawn, &pes);
			report_ratio(KEY("ratio_pool"),
				     "ratio pooled/raw, whole invocation (medians)", pe.median,
				     w.median);
			report_ratio(KEY("ratio_pool_spawn"),
				     "ratio pooled/raw, spawn part only (medians)", pes.median,
				     ws.median);
			report_ratio(KEY("pool_gain"), "ratio pooled/unpooled ebcc (medians)",
				     pe.median, e.median);
			report_target(KEY("target_pool"),
				      LABEL("per-invocation with the pool, ebcc/raw on %s, whole "
					    "invocation", fstype),
				      w.median > 0 ? pe.median / w.median : 0, "<=", 1.2, "x",
				      pe.n > 0, "no samples");
			report_target(KEY("target_pool_spawn"),
				      LABEL("per-invocation with the pool, ebcc/raw on %s, spawn "
					    "part only", fstype),
				      ws.median > 0 ? pes.median / ws.median : 0, "<=", 1.2, "x",
				      pes.n > 0, "no samples");
			phases_report(KEY("pool_phases"), "where a pooled call's time goes",
				      m.pool_phases);
		}
#undef KEY
#undef LABEL
	} else {
		report_skip("spawn", "per-invocation enclave", "failed (see the message above)");
	}
	phases_free(m.phases);
	phases_free(m.pool_phases);
	samples_free(&m.pool);
	samples_free(&m.pool_spawn);
	samples_free(&m.ebcc);
	samples_free(&m.ebcc_spawn);
	samples_free(&m.raw);
	samples_free(&m.raw_spawn);
	samples_free(&m.raw_sign);
	samples_free(&m.raw_files);
	samples_free(&m.raw_spawn_part);
	cleanup_run(handle);
	return r;
}

int bench_spawn(const struct bench_opts *o)
{
	int r;

	report_section("spawn", "2. Per-invocation enclave: EID + sandboxed spawn + run + teardown, "
				"against fork + fexecve + wait");
	report_note("raw spawn = socketpair, fork, fexecve of the image descriptor (opened once) "
		    "with the channel on fd 3, one exchange, hang up, waitpid; no sandbox, no "
		    "measurement of the image. The spawn part is the call's eid, dispatch and "
		    "teardown phases (the stage's monitor signs inside the exchange), against the "
		    "raw spawn and the raw report: what the sandbox costs, without the files");
	r = spawn_on(o, o->state_dir, "disk");
	if (r == 0 && o->tmpfs_dir != NULL && !bench_interrupted)
		r = spawn_on(o, o->tmpfs_dir, "tmpfs");
	return r;
}
