/* SPDX-License-Identifier: MIT */
/*
 * Scenario 6, footprint:
 *  - bytes on disk per composite without artifacts: N composites created (no anchor process,
 *    one instance stage), and some of them started; counted two ways: apparent (the st_size of
 *    regular files) and allocated (st_blocks of every file and directory, as du counts), with
 *    the number of inodes; the state root's shared .ebcc directory apart;
 *  - bytes on disk per invocation with artifacts (full and digests), the same two ways;
 *  - resident memory per open composite handle: VmRSS before and after opening N handles in
 *    this process, and after one ebcc_instance_status() on each;
 *  - the stage-side library libebcc-stage.a, the protected side's TCB: its size as built and
 *    stripped of what linking does not need (strip --strip-unneeded), the text + data + bss of
 *    its objects (size -t), and the lines of its sources (lib/stage/ *.c and lib/base/frame.c);
 *    and the bytes a stage image (the echo stage) holds of the code and data of libebcc-stage
 *    and of BearSSL: the sizes (nm -S) of its symbols that those archives define.
 */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"

#define STARTED 10
#define INVOCATIONS 100

struct usage {
	uint64_t apparent, allocated, inodes;
};

static void du(const char *path, struct usage *u)
{
	struct stat st;
	DIR *d;
	struct dirent *de;

	if (lstat(path, &st) < 0)
		return;
	u->inodes++;
	u->allocated += (uint64_t)st.st_blocks * 512;
	if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
		u->apparent += (uint64_t)st.st_size;
	if (!S_ISDIR(st.st_mode) || (d = opendir(path)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char sub[4096];

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (pathf(sub, sizeof(sub), "%s/%s", path, de->d_name) == 0)
			du(sub, u);
	}
	closedir(d);
}

static void report_usage(const char *key, const char *what, const struct usage *u, uint64_t n)
{
	char k[128], label[160];

	snprintf(k, sizeof(k), "%s.apparent", key);
	snprintf(label, sizeof(label), "%s: apparent bytes", what);
	report_value(k, label, n ? (double)u->apparent / n : 0, "B");
	snprintf(k, sizeof(k), "%s.allocated", key);
	snprintf(label, sizeof(label), "%s: allocated bytes (du)", what);
	report_value(k, label, n ? (double)u->allocated / n : 0, "B");
	snprintf(k, sizeof(k), "%s.inodes", key);
	snprintf(label, sizeof(label), "%s: inodes", what);
	report_value(k, label, n ? (double)u->inodes / n : 0, "");
}

/* Usage of the invocation directories seq first..last of a stage directory. */
static void du_invocations(const char *stage_dir, uint64_t first, uint64_t last, struct usage *u)
{
	for (uint64_t s = first; s <= last; s++) {
		char path[4096];

		if (pathf(path, sizeof(path), "%s/%" PRIu64, stage_dir, s) == 0)
			du(path, u);
	}
}

static int invoke_n(struct ebcc_instance *inst, unsigned n, uint64_t *ret_first,
		    uint64_t *ret_last)
{
	uint8_t req[1024];

	memset(req, 'q', sizeof(req));
	for (unsigned i = 0; i < n; i++) {
		struct ebcc_invocation *inv = NULL;
		int r = ebcc_stage_invoke(inst, "echo", req, sizeof(req), NULL, 0, &inv);

		if (r < 0)
			return fail_ebcc("ebcc_stage_invoke", r);
		if (i == 0)
			*ret_first = ebcc_invocation_seq(inv);
		*ret_last = ebcc_invocation_seq(inv);
		ebcc_invocation_unref(inv);
	}
	return 0;
}

static int disk_and_memory(const struct bench_opts *o, const char *scratch)
{
	const struct bundle_spec spec = { .lifetime = "instance" };
	struct ebcc_context *ctx = NULL, *ctx_digests = NULL;
	struct ebcc_instance **handles = calloc(o->instances, sizeof(*handles));
	struct ebcc_instance *digests = NULL;
	struct usage created = { 0 }, started = { 0 }, shared = { 0 }, full = { 0 }, dig = { 0 };
	char root[4096], bundle[4096], id[128], path[4096], *stage_dir = NULL;
	unsigned n = o->instances;
	uint64_t first = 0, last = 0;
	long rss0, rss1, rss2;
	int r = -1;

	if (pathf(root, sizeof(root), "%s/root", scratch) < 0 ||
	    pathf(bundle, sizeof(bundle), "%s/bundle", scratch) < 0 || handles == NULL || mkdir(root, 0700) < 0 ||
	    bundle_write(bundle, o->stage_path, &spec) < 0 || context_open(root, NULL, NULL, &ctx) < 0 ||
	    context_open(root, NULL, "digests", &ctx_digests) < 0)
		goto out;
	for (unsigned i = 0; i < n && !bench_interrupted; i++) {
		make_id(id, sizeof(id), "fp", i);
		r = ebcc_instance_create(ctx, id, bundle, &handles[i]);
		handles[i] = ebcc_instance_unref(handles[i]);
		if (r < 0) {
			r = fail_ebcc("ebcc_instance_create", r);
			goto out;
		}
	}
	r = -1;
	if (bench_interrupted)
		goto out;
	for (unsigned i = 0; i < n; i++) {
		make_id(id, sizeof(id), "fp", i);
		if (pathf(path, sizeof(path), "%s/%s", root, id) == 0)
			du(path, &created);
	}

	/* Resident memory per open handle. */
	malloc_trim(0);
	rss0 = rss_kib();
	for (unsigned i = 0; i < n; i++) {
		make_id(id, sizeof(id), "fp", i);
		r = ebcc_instance_open(ctx, id, &handles[i]);
		if (r < 0) {
			r = fail_ebcc("ebcc_instance_open", r);
			goto out;
		}
	}
	rss1 = rss_kib();
	for (unsigned i = 0; i < n; i++) {
		r = ebcc_instance_status(handles[i]);
		if (r < 0) {
			r = fail_ebcc("ebcc_instance_status", r);
			goto out;
		}
	}
	rss2 = rss_kib();
	r = -1;

	/* Some started, then invocations on one of them. */
	for (unsigned i = 0; i < STARTED && i < n; i++) {
		int e = ebcc_instance_start(handles[i]);

		if (e < 0) {
			fail_ebcc("ebcc_instance_start", e);
			goto out;
		}
		make_id(id, sizeof(id), "fp", i);
		if (pathf(path, sizeof(path), "%s/%s", root, id) == 0)
			du(path, &started);
	}
	if (pathf(path, sizeof(path), "%s/.ebcc", root) == 0)
		du(path, &shared);
	make_id(id, sizeof(id), "fp", 0);
	if (ebcc_instance_open(ctx_digests, id, &digests) < 0 ||
	    (stage_dir = stage_directory(handles[0], "echo")) == NULL ||
	    invoke_n(handles[0], INVOCATIONS, &first, &last) < 0)
		goto out;
	du_invocations(stage_dir, first, last, &full);
	if (invoke_n(digests, INVOCATIONS, &first, &last) < 0)
		goto out;
	du_invocations(stage_dir, first, last, &dig);

	report_note("%u composites created (no anchor process, one instance stage), %d of them "
		    "started; apparent = st_size of regular files, allocated = st_blocks of "
		    "every file and directory (as du counts)",
		    n, STARTED);
	report_usage("footprint.created", "per created composite", &created, n);
	report_usage("footprint.running", "per running composite (stage loaded)", &started,
		     STARTED < n ? STARTED : n);
	report_usage("footprint.shared", "shared per state root (.ebcc)", &shared, 1);
	report_target("footprint.target_disk", "host state per running composite (apparent)",
		      (double)started.apparent / (STARTED < n ? STARTED : n) / 1024, "<=", 4,
		      "KiB", true, NULL);
	report_note("%d invocations of 1 KiB on one composite with each setting", INVOCATIONS);
	report_usage("footprint.invocation_full", "per invocation, artifacts=full", &full,
		     INVOCATIONS);
	report_usage("footprint.invocation_digests", "per invocation, artifacts=digests", &dig,
		     INVOCATIONS);
	report_note("VmRSS %ld KiB before opening %u handles, %ld KiB with them open, %ld KiB "
		    "after one ebcc_instance_status() on each",
		    rss0, n, rss1, rss2);
	report_value("footprint.rss_open", "RSS per open handle", (double)(rss1 - rss0) * 1024 / n,
		     "B");
	report_value("footprint.rss_status", "RSS per open handle, after one status call",
		     (double)(rss2 - rss0) * 1024 / n, "B");
	report_target("footprint.target_rss", "RSS per open handle (after a status call)",
		      (double)(rss2 - rss0) / n, "<=", 16, "KiB", rss0 > 0 && n >= 1000,
		      n >= 1000 ? "VmRSS unreadable" : "fewer than 1000 handles (--instances)");
	r = 0;
out:
	free(stage_dir);
	if (digests != NULL)
		ebcc_instance_unref(digests);
	for (unsigned i = 0; handles != NULL && i < n; i++) {
		if (i < STARTED && handles[i] != NULL)
			ebcc_instance_delete(handles[i], EBCC_DELETE_FORCE);
		ebcc_instance_unref(handles[i]);
	}
	free(handles);
	ebcc_context_unref(ctx_digests);
	ebcc_context_unref(ctx);
	return r;
}

static long count_lines(const char *path, long *ret_nonblank)
{
	FILE *f = fopen(path, "re");
	char line[4096];
	long n = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strchr(line, '\n') == NULL && !feof(f))
			continue; /* the rest of a long line */
		n++;
		if (line[strspn(line, " \t\r\n")] != '\0')
			(*ret_nonblank)++;
	}
	fclose(f);
	return n;
}

/* The names archive defines (nm --defined-only), sorted, for bsearch; NULL on failure. */
static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char **defined_names(const char *archive, size_t *ret_n)
{
	char cmd[4200], line[512], name[400], **names = NULL;
	size_t n = 0, cap = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "nm --defined-only '%s' 2>/dev/null", archive);
	p = popen(cmd, "r");
	if (p == NULL)
		return NULL;
	while (fgets(line, sizeof(line), p) != NULL) {
		char type;

		if (sscanf(line, "%*s %c %399s", &type, name) != 2)
			continue;
		if (n == cap) {
			char **grown = realloc(names, (cap = cap * 2 + 256) * sizeof(*names));

			if (grown == NULL)
				break;
			names = grown;
		}
		names[n] = strdup(name);
		if (names[n] != NULL)
			n++;
	}
	pclose(p);
	qsort(names, n, sizeof(*names), cmp_names);
	*ret_n = n;
	return names;
}

/* Bytes of the stage image's symbols (nm -S) that archive defines; -1 when nm fails. */
static long linked_from(const char *image, const char *archive)
{
	char cmd[4200], line[512], name[400], **names;
	unsigned long size;
	size_t n = 0;
	long total = 0;
	FILE *p;

	names = defined_names(archive, &n);
	if (names == NULL || n == 0) {
		free(names);
		return -1;
	}
	snprintf(cmd, sizeof(cmd), "nm -S --defined-only '%s' 2>/dev/null", image);
	p = popen(cmd, "r");
	while (p != NULL && fgets(line, sizeof(line), p) != NULL) {
		char type, *key = name;

		if (sscanf(line, "%*s %lx %c %399s", &size, &type, name) == 3 &&
		    bsearch(&key, names, n, sizeof(*names), cmp_names) != NULL)
			total += (long)size;
	}
	if (p != NULL)
		pclose(p);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return total;
}

/* What a stage image holds of libebcc-stage and BearSSL: the protected side's library code. */
static void linked_into_a_stage(const struct bench_opts *o)
{
	char bearssl[4096] = "";
	char *argv[] = { (char *)"cc", (char *)"-print-file-name=libbearssl.a", NULL };
	long ours = linked_from(o->stage_path, o->stage_lib), theirs = -1;

	if (proc_capture(argv, bearssl, sizeof(bearssl)) == 0) {
		bearssl[strcspn(bearssl, "\n")] = '\0';
		theirs = linked_from(o->stage_path, bearssl);
	}
	if (ours < 0 || theirs < 0) {
		report_skip("footprint.tcb.linked", "code linked into a stage", "nm failed");
		return;
	}
	report_note("of the echo stage image %s: the symbols (nm -S) that libebcc-stage.a and "
		    "libbearssl.a define; the rest is libc and the stage's own code", o->stage_path);
	report_value("footprint.tcb.linked_ours", "linked into a stage from libebcc-stage",
		     (double)ours, "B");
	report_value("footprint.tcb.linked_bearssl", "linked into a stage from BearSSL",
		     (double)theirs, "B");
}

static int tcb(const struct bench_opts *o, const char *scratch)
{
	char copy[4096], pattern[4096], frame[4096], out[4096];
	char *strip_argv[] = { (char *)"strip", (char *)"--strip-unneeded", copy, NULL };
	char *size_argv[] = { (char *)"size", (char *)"-t", (char *)o->stage_lib, NULL };
	char *cp_argv[] = { (char *)"cp", (char *)o->stage_lib, copy, NULL };
	long lines = 0, nonblank = 0, files = 0;
	unsigned long text, data, bss;
	struct stat st;
	glob_t g;
	char *totals;

	if (o->stage_lib == NULL || o->source_dir == NULL) {
		report_skip("footprint.tcb", "stage library", "--stage-lib and --source-dir not given");
		return 0;
	}
	if (pathf(copy, sizeof(copy), "%s/libebcc-stage.a", scratch) < 0 ||
	    pathf(pattern, sizeof(pattern), "%s/lib/stage/*.c", o->source_dir) < 0 ||
	    pathf(frame, sizeof(frame), "%s/lib/base/frame.c", o->source_dir) < 0)
		return -1;
	if (stat(o->stage_lib, &st) < 0)
		return fail_errno(o->stage_lib);
	report_value("footprint.tcb.built", "libebcc-stage.a as built", (double)st.st_size, "B");
	if (proc_run(cp_argv, NULL, 0) != 0 || proc_run(strip_argv, NULL, 0) != 0 ||
	    stat(copy, &st) < 0)
		report_skip("footprint.tcb.stripped", "libebcc-stage.a stripped", "strip failed");
	else
		report_value("footprint.tcb.stripped", "libebcc-stage.a, strip --strip-unneeded",
			     (double)st.st_size, "B");
	if (proc_capture(size_argv, out, sizeof(out)) == 0 &&
	    (totals = strstr(out, "(TOTALS)")) != NULL) {
		while (totals > out && totals[-1] != '\n')
			totals--;
		if (sscanf(totals, "%lu %lu %lu", &text, &data, &bss) == 3) {
			report_value("footprint.tcb.text", "  its code (text)", (double)text, "B");
			report_value("footprint.tcb.data", "  its data + bss", (double)(data + bss),
				     "B");
		}
	}
	if (glob(pattern, 0, NULL, &g) == 0) {
		for (size_t i = 0; i < g.gl_pathc; i++) {
			long n = count_lines(g.gl_pathv[i], &nonblank);

			if (n > 0) {
				lines += n;
				files++;
			}
		}
		globfree(&g);
	}
	{
		long n = count_lines(frame, &nonblank);

		if (n > 0) {
			lines += n;
			files++;
		}
	}
	report_note("stage-side sources: %s/lib/stage/*.c and lib/base/frame.c (%ld files)",
		    o->source_dir, files);
	report_value("footprint.tcb.lines", "stage-side source lines", (double)lines, "lines");
	report_value("footprint.tcb.nonblank", "stage-side source lines, not blank",
		     (double)nonblank, "lines");
	linked_into_a_stage(o);
	return 0;
}

int bench_footprint(const struct bench_opts *o)
{
	char fstype[64], source[256], *scratch;
	int handle, r;

	report_section("footprint", "6. Footprint: disk per composite and per invocation, memory "
				    "per handle, the stage-side TCB");
	scratch = scratch_dir(o->state_dir, "footprint", &handle);
	if (scratch == NULL)
		return -1;
	fs_describe(scratch, fstype, sizeof(fstype), source, sizeof(source));
	report_note("state root on %s (%s)", fstype, source);
	r = disk_and_memory(o, scratch);
	if (r < 0)
		report_skip("footprint.disk", "disk and memory", "failed or interrupted");
	if (tcb(o, scratch) < 0)
		r = -1;
	cleanup_run(handle);
	return r;
}
