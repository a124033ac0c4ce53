/* SPDX-License-Identifier: MIT */
/*
 * Scenario 5, request sizes: warm invocations of 1 KiB to 16 MiB (the stage's maxRequest and
 * maxResponse raised to 16 MiB, its memory to 256 MiB), MB/s end to end: request bytes over
 * the median call (10^6 bytes per MB; the echo stage answers as many bytes, so twice that
 * crosses the channel). Three sides interleaved, the order rotating: artifacts=full,
 * artifacts=digests (a second context on the same composite) and, for scale, the raw floor of
 * scenario 1 at that size: an exchange with the unsandboxed stage, one signature, and the files
 * the library wrote with artifacts=full (both bodies), in the same stage directory.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

#define MIB (1024u * 1024u)
#define MAX_SIZE (16 * MIB)

enum { SIDE_FULL, SIDE_DIGESTS, SIDE_RAW, N_SIDES };

struct sides {
	struct ebcc_instance *inst[2]; /* full, digests */
	const char *sock;
	struct raw_signer *signer;
	struct raw_artifacts files;
	int stage_dir_fd;
	uint64_t n, last_seq;
	uint8_t *req, *resp;
};

static unsigned reps_for_size(const struct bench_opts *o, size_t size)
{
	unsigned n = size <= 64 * 1024 ? o->reps / 10 : size <= MIB ? o->reps / 40 : o->reps / 100;

	return n > 3 ? n : 3;
}

static int run_side(struct sides *s, int side, size_t size, struct samples *out)
{
	uint64_t t0 = now_ns();

	if (side == SIDE_RAW) {
		uint8_t report_data[64] = { 0 };
		size_t len = 0;

		if (raw_roundtrip(s->sock, s->req, size, s->resp, MAX_SIZE, &len) < 0 || len != size)
			return fail_errno("raw exchange");
		memcpy(report_data, &s->n, sizeof(s->n));
		if (raw_sign(s->signer, report_data) < 0 ||
		    raw_artifacts_write(s->stage_dir_fd, &s->files, s->n++) < 0)
			return fail_errno("raw signature and files");
	} else {
		struct ebcc_invocation *inv = NULL;
		const void *resp;
		size_t len = 0;
		int r = ebcc_stage_invoke(s->inst[side], "echo", s->req, size, NULL, 0, &inv);

		if (r == 0)
			r = ebcc_invocation_response(inv, &resp, &len);
		if (r == 0 && side == SIDE_FULL)
			s->last_seq = ebcc_invocation_seq(inv);
		ebcc_invocation_unref(inv);
		if (r < 0)
			return fail_ebcc("ebcc_stage_invoke", r);
		if (len != size) {
			fprintf(stderr, "ebcc-bench: %zu bytes answered to %zu\n", len, size);
			return -1;
		}
	}
	if (out != NULL)
		samples_add(out, now_ns() - t0);
	return 0;
}

static double mbs(size_t size, const struct summary *s)
{
	return s->median > 0 ? (double)size / (s->median / 1e9) / 1e6 : 0;
}

static int measure_size(const struct bench_opts *o, struct sides *s, const char *stage_dir,
			size_t size, double *ret_full_mbs)
{
	static const char *const names[N_SIDES] = { "full", "digests", "raw" };
	static const char *const labels[N_SIDES] = { "artifacts=full", "artifacts=digests",
						     "raw floor (exchange, signature, files)" };
	struct samples smp[N_SIDES] = { { 0 } };
	struct summary sum[N_SIDES];
	char inv_dir[4096], unit[16], key[64], label[128];
	unsigned reps = reps_for_size(o, size);
	int r = -1;

	if (size >= MIB)
		snprintf(unit, sizeof(unit), "%zu MiB", size / MIB);
	else
		snprintf(unit, sizeof(unit), "%zu KiB", size / 1024);
	/* Warm-up; the full invocation shows the files to write raw. */
	raw_artifacts_clear(&s->files);
	if (run_side(s, SIDE_FULL, size, NULL) < 0 || run_side(s, SIDE_DIGESTS, size, NULL) < 0 ||
	    pathf(inv_dir, sizeof(inv_dir), "%s/%" PRIu64, stage_dir, s->last_seq) < 0 ||
	    raw_artifacts_like(inv_dir, false, &s->files) < 0 || run_side(s, SIDE_RAW, size, NULL) < 0)
		goto out;
	for (unsigned i = 0; i < reps && !bench_interrupted; i++)
		for (int k = 0; k < N_SIDES; k++) {
			int side = (int)((i + (unsigned)k) % N_SIDES);

			if (run_side(s, side, size, &smp[side]) < 0)
				goto out;
		}
	if (bench_interrupted)
		goto out;
	for (int k = 0; k < N_SIDES; k++) {
		samples_summarize(&smp[k], &sum[k]);
		snprintf(key, sizeof(key), "scale.size%zu.%s", size, names[k]);
		snprintf(label, sizeof(label), "%s: %s", unit, labels[k]);
		report_summary(key, label, &sum[k]);
		snprintf(key, sizeof(key), "scale.size%zu.%s_mbs", size, names[k]);
		snprintf(label, sizeof(label), "%s: %s, MB/s", unit, labels[k]);
		report_value(key, label, mbs(size, &sum[k]), "MB/s");
	}
	snprintf(key, sizeof(key), "scale.size%zu.ratio", size);
	snprintf(label, sizeof(label), "%s: ratio ebcc (full) / raw", unit);
	report_ratio(key, label, sum[SIDE_FULL].median, sum[SIDE_RAW].median);
	*ret_full_mbs = mbs(size, &sum[SIDE_FULL]);
	r = 0;
out:
	for (int k = 0; k < N_SIDES; k++)
		samples_free(&smp[k]);
	return r;
}

static void stop_raw_stage(void *arg)
{
	raw_stage_stop(arg);
}

int scale_sizes(const struct bench_opts *o, const char *scratch)
{
	const char *anchor[] = { "sleep", "1000000", NULL };
	const struct bundle_spec spec = { .lifetime = "instance", .anchor = anchor,
					  .max_request = MAX_SIZE, .memory_mib = 256,
					  .timeout_ms = 60000 };
	struct ebcc_context *full = NULL, *digests = NULL;
	struct sides s = { .stage_dir_fd = -1 };
	struct raw_stage *stage = calloc(1, sizeof(*stage));
	char root[4096], bundle[4096], sock[4096], id[128], *stage_dir = NULL;
	double mbs16 = 0;
	int stage_cleanup = -1, r = -1;

	make_id(id, sizeof(id), "size", 0);
	s.req = malloc(MAX_SIZE);
	s.resp = malloc(MAX_SIZE);
	if (stage == NULL || s.req == NULL || s.resp == NULL ||
	    pathf(root, sizeof(root), "%s/size-root", scratch) < 0 ||
	    pathf(bundle, sizeof(bundle), "%s/size-bundle", scratch) < 0 ||
	    pathf(sock, sizeof(sock), "%s/size-raw.sock", scratch) < 0 || mkdir(root, 0700) < 0 ||
	    bundle_write(bundle, o->stage_path, &spec) < 0 ||
	    context_open(root, NULL, "full", &full) < 0 ||
	    context_open(root, NULL, "digests", &digests) < 0)
		goto out;
	memset(s.req, 'q', MAX_SIZE);
	if ((r = ebcc_instance_create(full, id, bundle, &s.inst[SIDE_FULL])) < 0 ||
	    (r = ebcc_instance_start(s.inst[SIDE_FULL])) < 0 ||
	    (r = ebcc_instance_open(digests, id, &s.inst[SIDE_DIGESTS])) < 0) {
		r = fail_ebcc("composite for the sizes", r);
		goto out;
	}
	r = -1;
	stage_dir = stage_directory(s.inst[SIDE_FULL], "echo");
	if (stage_dir == NULL || raw_stage_start(o->stage_path, sock, stage) < 0)
		goto out;
	stage_cleanup = cleanup_push(stop_raw_stage, stage);
	s.sock = stage->sock_path;
	s.stage_dir_fd = open(stage_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (stage_cleanup < 0 || s.stage_dir_fd < 0 || raw_signer_new(&s.signer) < 0)
		goto out;
	report_note("MB/s = request bytes / median call (10^6 bytes; the echo stage answers as "
		    "many, so twice that crosses the channel); artifacts=full writes both bodies, "
		    "and so does the raw floor");
	for (size_t size = 1024; size <= MAX_SIZE && !bench_interrupted; size *= 4) {
		double v;

		if (measure_size(o, &s, stage_dir, size, &v) < 0)
			goto out;
		if (size == MAX_SIZE)
			mbs16 = v;
	}
	if (bench_interrupted)
		goto out;
	report_target("scale.target_16mib", "16 MiB requests end to end, artifacts=full", mbs16,
		      ">=", 500, "MB/s", mbs16 > 0, "not measured");
	r = 0;
out:
	cleanup_run(stage_cleanup); /* stops the raw stage */
	free(stage);
	raw_signer_free(s.signer);
	raw_artifacts_clear(&s.files);
	if (s.stage_dir_fd >= 0)
		close(s.stage_dir_fd);
	free(stage_dir);
	free(s.req);
	free(s.resp);
	if (s.inst[SIDE_FULL] != NULL)
		ebcc_instance_delete(s.inst[SIDE_FULL], EBCC_DELETE_FORCE);
	ebcc_instance_unref(s.inst[SIDE_FULL]);
	ebcc_instance_unref(s.inst[SIDE_DIGESTS]);
	ebcc_context_unref(full);
	ebcc_context_unref(digests);
	return r;
}
