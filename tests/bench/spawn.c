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
 * files), and the spawn part alone — the call minus its validate, report and persist phases
 * (meta.json), which leaves EID allocation, sandboxed spawn, run and teardown — against the
 * raw spawn + exchange + wait.
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

struct spawn_run {
	struct samples ebcc, raw, raw_spawn, raw_sign, raw_files, ebcc_spawn;
	struct phase_set *phases;
};

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
	for (unsigned i = 0; i < WARMUP && !bench_interrupted; i++)
		if (ebcc_once(inst, req, &ns, &seq) < 0 ||
		    raw_once(image_fd, signer, stage_dir_fd, &files, i, req, resp, t) < 0)
			goto out;

	first = seq + 1;
	for (unsigned i = 0; i < reps && !bench_interrupted; i++) {
		if (i % 2 == 0 && ebcc_once(inst, req, &ns, &seq) < 0)
			goto out;
		if (raw_once(image_fd, signer, stage_dir_fd, &files, WARMUP + i, req, resp, t) < 0)
			goto out;
		if (i % 2 == 1 && ebcc_once(inst, req, &ns, &seq) < 0)
			goto out;
		samples_add(&m->ebcc, ns);
		samples_add(&m->raw_spawn, t[0]);
		samples_add(&m->raw_sign, t[1]);
		samples_add(&m->raw_files, t[2]);
		samples_add(&m->raw, t[0] + t[1] + t[2]);
	}
	if (bench_interrupted || phases_collect(stage_dir, first, &m->ebcc, &m->phases) < 0 ||
	    phases_without(m->phases, PHASE_VALIDATE | PHASE_REPORT | PHASE_PERSIST,
			   &m->ebcc_spawn) < 0)
		goto out;
	r = 0;
out:
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
			       "  ebcc spawn part: call - validate - report - persist", &m.ebcc_spawn);
		report_latency(KEY("raw"), "raw floor (spawn + signature + files)", &m.raw);
		report_latency(KEY("raw_spawn"), "  raw: fork + fexecve + exchange + waitpid",
			       &m.raw_spawn);
		report_latency(KEY("raw_signature"), "  raw: report (monitor round trip + Ed25519)", &m.raw_sign);
		report_latency(KEY("raw_files"), "  raw: artifact files, temp dir + rename",
			       &m.raw_files);
		samples_summarize(&m.ebcc, &e);
		samples_summarize(&m.raw, &w);
		samples_summarize(&m.ebcc_spawn, &es);
		samples_summarize(&m.raw_spawn, &ws);
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
#undef KEY
#undef LABEL
	} else {
		report_skip("spawn", "per-invocation enclave", "failed (see the message above)");
	}
	phases_free(m.phases);
	samples_free(&m.ebcc);
	samples_free(&m.ebcc_spawn);
	samples_free(&m.raw);
	samples_free(&m.raw_spawn);
	samples_free(&m.raw_sign);
	samples_free(&m.raw_files);
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
		    "measurement of the image. The spawn part still holds meta.json's write and "
		    "rename, which cost little only on tmpfs");
	r = spawn_on(o, o->state_dir, "disk");
	if (r == 0 && o->tmpfs_dir != NULL && !bench_interrupted)
		r = spawn_on(o, o->tmpfs_dir, "tmpfs");
	return r;
}
