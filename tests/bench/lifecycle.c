/* SPDX-License-Identifier: MIT */
/*
 * Scenario 4, lifecycle: create + start + invoke + kill + wait + delete of a one-stage
 * composite — its anchor a static busybox `sleep` (the container process, which must outlive
 * start for the invocation to be allowed), its stage the warm echo stage, one 1 KiB
 * invocation with evidence and artifacts — against `crun run` and `runc run` of /bin/true in a
 * busybox container (peers.c), the three interleaved with the order rotating each round.
 * A second invocation right after the first (timed apart, not in the lifecycle's total) gives
 * the first invocation after start against a warm one of the same composite.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"

#define REQUEST_SIZE 1024
#define WARMUP 2

enum { STEP_CREATE, STEP_START, STEP_INVOKE, STEP_KILL, STEP_WAIT, STEP_DELETE, N_STEPS };

static const char *const step_names[N_STEPS] = { "create", "start", "invoke",
						 "kill",   "wait",  "delete" };

struct ebcc_side {
	struct ebcc_context *ctx;
	char bundle[4096];
	unsigned n;
	struct samples step[N_STEPS], total;
	struct samples warm; /* a second invocation right after the first, not in the total */
	struct phase_set *first_phases, *warm_phases; /* their meta.json timings */
};

/* The phases of the composite's invocations 1 (first) and 2 (warm), read outside the timings. */
static int add_phases(struct ebcc_side *e, struct ebcc_instance *inst, uint64_t first_ns,
		      uint64_t warm_ns)
{
	char *dir = stage_directory(inst, "echo");
	int r = -1;

	if (dir != NULL && phases_add(e->first_phases, dir, 1, first_ns) == 0 &&
	    phases_add(e->warm_phases, dir, 2, warm_ns) == 0)
		r = 0;
	free(dir);
	return r;
}

static int ebcc_lifecycle(struct ebcc_side *e, bool record)
{
	struct ebcc_instance *inst = NULL;
	struct ebcc_invocation *inv = NULL;
	uint8_t req[REQUEST_SIZE];
	uint64_t t[N_STEPS + 1];
	char id[128];
	int r, status = 0;
	uint64_t first, warm, aside;

	memset(req, 'q', sizeof(req));
	make_id(id, sizeof(id), "life", e->n++);
	t[0] = now_ns();
	r = ebcc_instance_create(e->ctx, id, e->bundle, &inst);
	if (r < 0)
		return fail_ebcc("ebcc_instance_create", r);
	t[1] = now_ns();
	r = ebcc_instance_start(inst);
	if (r < 0) {
		fail_ebcc("ebcc_instance_start", r);
		goto fail;
	}
	t[2] = now_ns();
	r = ebcc_stage_invoke(inst, "echo", req, sizeof(req), NULL, 0, &inv);
	ebcc_invocation_unref(inv);
	if (r < 0) {
		fail_ebcc("ebcc_stage_invoke", r);
		goto fail;
	}
	t[3] = now_ns();
	first = t[3] - t[2];
	/* The first invocation after start against a warm one of the same composite. */
	r = ebcc_stage_invoke(inst, "echo", req, sizeof(req), NULL, 0, &inv);
	ebcc_invocation_unref(inv);
	if (r < 0) {
		fail_ebcc("ebcc_stage_invoke (second)", r);
		goto fail;
	}
	warm = now_ns() - t[3];
	if (record && add_phases(e, inst, first, warm) < 0)
		goto fail;
	/* kill is timed from here; the step "invoke" is the first invocation alone, and the
	 * total leaves out the warm one and the phase reads. */
	aside = now_ns() - t[3];
	t[3] += aside;
	r = ebcc_instance_kill(inst, SIGKILL);
	if (r < 0) {
		fail_ebcc("ebcc_instance_kill", r);
		goto fail;
	}
	t[4] = now_ns();
	r = ebcc_instance_wait(inst, 10000, &status);
	if (r < 0) {
		fail_ebcc("ebcc_instance_wait", r);
		goto fail;
	}
	t[5] = now_ns();
	r = ebcc_instance_delete(inst, 0);
	if (r < 0) {
		fail_ebcc("ebcc_instance_delete", r);
		goto fail;
	}
	t[6] = now_ns();
	ebcc_instance_unref(inst);
	if (record) {
		for (int i = 0; i < N_STEPS; i++)
			samples_add(&e->step[i], i == STEP_INVOKE ? first : t[i + 1] - t[i]);
		samples_add(&e->total, t[N_STEPS] - t[0] - aside);
		samples_add(&e->warm, warm);
	}
	return 0;
fail:
	ebcc_instance_delete(inst, EBCC_DELETE_FORCE);
	ebcc_instance_unref(inst);
	return -1;
}

int bench_lifecycle(const struct bench_opts *o)
{
	static const char *const peer_names[] = { "crun", "runc" };
	struct ebcc_side e = { 0 };
	struct peer *peers[2] = { NULL, NULL };
	struct samples peer_ns[2] = { { 0 } };
	char root[4096], rootfs[4096], busybox[4096], why[512], fstype[64], source[256], *scratch;
	const char *anchor[] = { busybox, "sleep", "1000000", NULL };
	struct bundle_spec spec = { .lifetime = "instance", .anchor = anchor };
	unsigned reps = o->reps / 40 > 5 ? o->reps / 40 : 5;
	struct summary es;
	int handle, r = -1;

	report_section("lifecycle", "4. Lifecycle: create + start + invoke + kill + wait + delete "
				    "of a one-stage composite, against crun run and runc run");
	scratch = scratch_dir(o->state_dir, "life", &handle);
	if (scratch == NULL)
		return -1;
	fs_describe(scratch, fstype, sizeof(fstype), source, sizeof(source));
	e.first_phases = phases_new();
	e.warm_phases = phases_new();
	if (e.first_phases == NULL || e.warm_phases == NULL ||
	    pathf(root, sizeof(root), "%s/root", scratch) < 0 ||
	    pathf(e.bundle, sizeof(e.bundle), "%s/bundle", scratch) < 0 ||
	    pathf(rootfs, sizeof(rootfs), "%s/bundle/rootfs", scratch) < 0 || mkdir(root, 0700) < 0 || mkdir(e.bundle, 0755) < 0 ||
	    busybox_rootfs(rootfs, busybox, sizeof(busybox)) < 0 ||
	    bundle_write(e.bundle, o->stage_path, &spec) < 0 ||
	    context_open(root, NULL, NULL, &e.ctx) < 0)
		goto out;
	report_note("ebcc: in-process library calls; the anchor is busybox sleep (static), the "
		    "stage the warm echo stage; state root on %s (%s); artifacts=full, "
		    "durability=none",
		    fstype, source);
	for (size_t i = 0; i < 2; i++) {
		peers[i] = peer_open(peer_names[i], scratch, why, sizeof(why));
		if (peers[i] == NULL)
			report_skip(peer_names[i], peer_names[i], why);
		else
			report_note("%s run: %s", peer_names[i], peer_setup(peers[i]));
	}
	for (unsigned i = 0; i < WARMUP && !bench_interrupted; i++)
		if (ebcc_lifecycle(&e, false) < 0)
			goto out;

	/* Round i runs the three in the order rotated by i. */
	for (unsigned i = 0; i < reps && !bench_interrupted; i++) {
		for (unsigned k = 0; k < 3; k++) {
			unsigned who = (i + k) % 3;
			uint64_t ns;

			if (who == 0) {
				if (ebcc_lifecycle(&e, true) < 0)
					goto out;
			} else if (peers[who - 1] != NULL) {
				if (peer_run(peers[who - 1], &ns) < 0)
					goto out;
				samples_add(&peer_ns[who - 1], ns);
			}
		}
	}
	if (bench_interrupted)
		goto out;
	report_note("%zu rounds after %d warm-up", e.total.n, WARMUP);
	report_latency("lifecycle.ebcc", "ebcc: create + start + invoke + kill + wait + delete",
		       &e.total);
	for (int i = 0; i < N_STEPS; i++) {
		char key[64], label[64];

		snprintf(key, sizeof(key), "lifecycle.ebcc.%s", step_names[i]);
		snprintf(label, sizeof(label), "  ebcc: %s", step_names[i]);
		report_latency(key, label, &e.step[i]);
	}
	report_latency("lifecycle.ebcc.warm_invoke",
		       "  ebcc: a second invoke (warm; not in the total)", &e.warm);
	{
		struct summary first, warm;

		samples_summarize(&e.step[STEP_INVOKE], &first);
		samples_summarize(&e.warm, &warm);
		report_ratio("lifecycle.ratio_first_warm",
			     "ratio first invocation after start / warm (medians)", first.median,
			     warm.median);
		report_target("lifecycle.target_first",
			      "first invocation after start / warm one", warm.median > 0 ?
			      first.median / warm.median : 0, "<=", 2.0, "x", warm.n > 0,
			      "no samples");
		phases_report("lifecycle.first_phases", "the first invocation's phases",
			      e.first_phases);
		phases_report("lifecycle.warm_phases", "the second invocation's phases",
			      e.warm_phases);
	}
	samples_summarize(&e.total, &es);
	for (size_t i = 0; i < 2; i++) {
		char key[64], label[128];
		struct summary ps;

		if (peers[i] == NULL)
			continue;
		snprintf(key, sizeof(key), "lifecycle.%s", peer_names[i]);
		snprintf(label, sizeof(label), "%s run /bin/true (busybox container)", peer_names[i]);
		report_latency(key, label, &peer_ns[i]);
		samples_summarize(&peer_ns[i], &ps);
		snprintf(key, sizeof(key), "lifecycle.ratio_%s", peer_names[i]);
		snprintf(label, sizeof(label), "ratio ebcc lifecycle / %s run (medians)",
			 peer_names[i]);
		report_ratio(key, label, es.median, ps.median);
	}
	if (peers[0] != NULL) {
		struct summary cs;

		samples_summarize(&peer_ns[0], &cs);
		report_target("lifecycle.target", "lifecycle ebcc/crun run (faster than crun)",
			      cs.median > 0 ? es.median / cs.median : 0, "<", 1.0, "x", true, NULL);
	} else {
		report_target("lifecycle.target", "lifecycle ebcc/crun run (faster than crun)", 0,
			      "<", 1.0, "x", false, "crun cannot run here");
	}
	r = 0;
out:
	if (r < 0)
		report_skip("lifecycle", "lifecycle", bench_interrupted ? "interrupted"
									  : "failed (see the message above)");
	for (size_t i = 0; i < 2; i++) {
		peer_close(peers[i]);
		samples_free(&peer_ns[i]);
	}
	for (int i = 0; i < N_STEPS; i++)
		samples_free(&e.step[i]);
	samples_free(&e.total);
	samples_free(&e.warm);
	phases_free(e.first_phases);
	phases_free(e.warm_phases);
	ebcc_context_unref(e.ctx);
	cleanup_run(handle);
	return r;
}
