/* SPDX-License-Identifier: MIT */
/*
 * The results: a human table printed as each figure is measured (stdout, or stderr with
 * --json) and, with --json, one JSON document on stdout at the end. Times are kept in ns and
 * shown in µs ("us"). Every target's verdict is computed from the measured value here.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bench.h"

static FILE *out;
static bool want_json;
static struct json_object *doc, *sections, *section, *rows, *notes, *targets;
static unsigned n_met, n_missed, n_unmeasured;

static void add(struct json_object *o, const char *key, struct json_object *v)
{
	json_object_object_add(o, key, v);
}

static struct json_object *num(double v)
{
	return json_object_new_double(v);
}

static void loadavg(char *buf, size_t size)
{
	FILE *f = fopen("/proc/loadavg", "re");

	snprintf(buf, size, "unknown");
	if (f != NULL) {
		if (fgets(buf, (int)size, f) != NULL)
			buf[strcspn(buf, "\n")] = '\0';
		fclose(f);
	}
}

static void cpu_model(char *buf, size_t size)
{
	char line[512];
	FILE *f = fopen("/proc/cpuinfo", "re");

	snprintf(buf, size, "unknown");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		char *colon = strchr(line, ':');

		if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
			line[strcspn(line, "\n")] = '\0';
			snprintf(buf, size, "%s", colon + 2);
			break;
		}
	}
	fclose(f);
}

int report_begin(const struct bench_opts *o)
{
	struct json_object *machine, *opts;
	struct utsname u;
	char date[64], load[128], cpu[256];
	time_t t = time(NULL);

	want_json = o->json;
	out = o->json ? stderr : stdout;
	doc = json_object_new_object();
	sections = json_object_new_array();
	targets = json_object_new_array();
	if (doc == NULL || sections == NULL || targets == NULL)
		return -1;
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	uname(&u);
	loadavg(load, sizeof(load));
	cpu_model(cpu, sizeof(cpu));

	machine = json_object_new_object();
	add(machine, "kernel", json_object_new_string(u.release));
	add(machine, "arch", json_object_new_string(u.machine));
	add(machine, "cpu", json_object_new_string(cpu));
	add(machine, "cpus_online", json_object_new_int64(sysconf(_SC_NPROCESSORS_ONLN)));
	add(machine, "loadavg_start", json_object_new_string(load));
	opts = json_object_new_object();
	add(opts, "reps", json_object_new_int64(o->reps));
	add(opts, "instances", json_object_new_int64(o->instances));
	add(opts, "quick", json_object_new_boolean(o->quick));
	add(opts, "state_dir", json_object_new_string(o->state_dir));
	add(opts, "tmpfs_dir", o->tmpfs_dir != NULL ? json_object_new_string(o->tmpfs_dir) : NULL);
	add(opts, "stage", json_object_new_string(o->stage_path));
	add(doc, "tool", json_object_new_string("ebcc-bench"));
	add(doc, "library_version", json_object_new_string(ebcc_version_string()));
	add(doc, "date", json_object_new_string(date));
	add(doc, "machine", machine);
	add(doc, "options", opts);
	add(doc, "sections", sections);
	add(doc, "targets", targets);

	fprintf(out, "ebcc-bench: libebcc %s, %s\n", ebcc_version_string(), date);
	fprintf(out, "machine: %s, %ld CPUs online, Linux %s %s; load average at start: %s\n", cpu,
		sysconf(_SC_NPROCESSORS_ONLN), u.release, u.machine, load);
	fprintf(out, "every latency is a median over the repetitions, with the nearest-rank p99 "
		     "beside it;\nevery ratio is of two figures measured interleaved in this "
		     "run.%s\n",
		o->quick ? "\nQUICK RUN: few repetitions, a smoke test; do not quote these numbers."
			 : "");
	fflush(out);
	return 0;
}

void report_section(const char *key, const char *title)
{
	char load[128];

	section = json_object_new_object();
	rows = json_object_new_array();
	notes = json_object_new_array();
	add(section, "key", json_object_new_string(key));
	add(section, "title", json_object_new_string(title));
	add(section, "notes", notes);
	loadavg(load, sizeof(load));
	add(section, "rows", rows);
	add(section, "loadavg", json_object_new_string(load));
	json_object_array_add(sections, section);
	fprintf(out, "\n== %s ==\n  # load average at the start of this section: %s\n", title, load);
	fflush(out);
}

void report_note(const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (notes != NULL)
		json_object_array_add(notes, json_object_new_string(text));
	fprintf(out, "  # %s\n", text);
	fflush(out);
}

static struct json_object *row(const char *key, const char *label, const char *kind)
{
	struct json_object *r = json_object_new_object();

	add(r, "key", json_object_new_string(key));
	add(r, "label", json_object_new_string(label));
	add(r, "kind", json_object_new_string(kind));
	if (rows != NULL)
		json_object_array_add(rows, r);
	return r;
}

/* A column header before the first row of a kind in a section. */
static void header(const char *kind)
{
	static struct json_object *last_rows;
	static const char *last_kind;

	if (last_rows == rows && last_kind == kind)
		return;
	last_rows = rows;
	last_kind = kind;
	if (strcmp(kind, "phase") == 0)
		fprintf(out, "  %-56s %12s %12s %8s\n", "", "median", "p99", "share");
	else
		fprintf(out, "  %-56s %12s %12s %7s\n", "", "median", "p99", "n");
}

void report_summary(const char *key, const char *label, const struct summary *s)
{
	struct json_object *r = row(key, label, "latency");

	add(r, "median_us", num(s->median / 1e3));
	add(r, "p99_us", num(s->p99 / 1e3));
	add(r, "min_us", num(s->min / 1e3));
	add(r, "max_us", num(s->max / 1e3));
	add(r, "mean_us", num(s->mean / 1e3));
	add(r, "n", json_object_new_int64((int64_t)s->n));
	header("latency");
	fprintf(out, "  %-56s %9.1f us %9.1f us %7zu\n", label, s->median / 1e3, s->p99 / 1e3, s->n);
	fflush(out);
}

void report_latency(const char *key, const char *label, const struct samples *s)
{
	struct summary sum;

	samples_summarize(s, &sum);
	report_summary(key, label, &sum);
}

void report_value(const char *key, const char *label, double value, const char *unit)
{
	struct json_object *r = row(key, label, "value");

	add(r, "value", num(value));
	add(r, "unit", json_object_new_string(unit));
	fprintf(out, "  %-56s %12.*f %s\n", label, value == (double)(long long)value ? 0 : 2, value,
		unit);
	fflush(out);
}

void report_ratio(const char *key, const char *label, double numerator, double denominator)
{
	struct json_object *r = row(key, label, "ratio");
	double v = denominator > 0 ? numerator / denominator : 0;

	add(r, "value", num(v));
	add(r, "numerator", num(numerator));
	add(r, "denominator", num(denominator));
	fprintf(out, "  %-56s %12.3f\n", label, v);
	fflush(out);
}

void report_phase(const char *key, const char *label, const struct summary *s, double total_ns)
{
	struct json_object *r = row(key, label, "phase");
	double share = total_ns > 0 ? 100.0 * s->median / total_ns : 0;

	add(r, "median_us", num(s->median / 1e3));
	add(r, "p99_us", num(s->p99 / 1e3));
	add(r, "mean_us", num(s->mean / 1e3));
	add(r, "share_percent", num(share));
	add(r, "n", json_object_new_int64((int64_t)s->n));
	header("phase");
	fprintf(out, "  %-56s %9.1f us %9.1f us %6.1f %%\n", label, s->median / 1e3, s->p99 / 1e3,
		share);
	fflush(out);
}

void report_skip(const char *key, const char *what, const char *why)
{
	struct json_object *r = row(key, what, "skipped");

	add(r, "why", json_object_new_string(why));
	fprintf(out, "  %-56s SKIPPED: %s\n", what, why);
	fflush(out);
}

void report_target(const char *key, const char *what, double value, const char *cmp,
		   double limit, const char *unit, bool evaluated, const char *why)
{
	struct json_object *t = json_object_new_object();
	bool met = false;
	const char *verdict;

	if (evaluated) {
		if (strcmp(cmp, "<=") == 0)
			met = value <= limit;
		else if (strcmp(cmp, ">=") == 0)
			met = value >= limit;
		else if (strcmp(cmp, "<") == 0)
			met = value < limit;
		else if (strcmp(cmp, ">") == 0)
			met = value > limit;
	}
	verdict = !evaluated ? "not measured" : met ? "met" : "NOT MET";
	if (!evaluated)
		n_unmeasured++;
	else if (met)
		n_met++;
	else
		n_missed++;
	add(t, "key", json_object_new_string(key));
	add(t, "what", json_object_new_string(what));
	add(t, "value", evaluated ? num(value) : NULL);
	add(t, "cmp", json_object_new_string(cmp));
	add(t, "limit", num(limit));
	add(t, "unit", json_object_new_string(unit));
	add(t, "met", evaluated ? json_object_new_boolean(met) : NULL);
	if (why != NULL)
		add(t, "why", json_object_new_string(why));
	json_object_array_add(targets, t);
	if (evaluated)
		fprintf(out, "  TARGET %-49s %12.3f %s %s %g %s: %s\n", what, value, unit, cmp, limit,
			unit, verdict);
	else
		fprintf(out, "  TARGET %-49s %s (%s)\n", what, verdict, why != NULL ? why : "");
	fflush(out);
}

int report_end(void)
{
	char load[128];
	size_t n = json_object_array_length(targets);

	loadavg(load, sizeof(load));
	add(json_object_object_get(doc, "machine"), "loadavg_end", json_object_new_string(load));
	fprintf(out, "\n== Targets ==\n");
	for (size_t i = 0; i < n; i++) {
		struct json_object *t = json_object_array_get_idx(targets, i), *met;

		met = json_object_object_get(t, "met");
		fprintf(out, "  %-9s %s", met == NULL ? "n/a" : json_object_get_boolean(met) ? "met" : "NOT MET",
			json_object_get_string(json_object_object_get(t, "what")));
		if (met != NULL)
			fprintf(out, ": %.3f %s %s %g\n",
				json_object_get_double(json_object_object_get(t, "value")),
				json_object_get_string(json_object_object_get(t, "unit")),
				json_object_get_string(json_object_object_get(t, "cmp")),
				json_object_get_double(json_object_object_get(t, "limit")));
		else
			fprintf(out, " (%s)\n",
				json_object_get_string(json_object_object_get(t, "why")));
	}
	fprintf(out, "  %u met, %u not met, %u not measured; load average at end: %s\n", n_met,
		n_missed, n_unmeasured, load);
	fflush(out);
	if (want_json)
		printf("%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PRETTY |
								       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(doc);
	doc = NULL;
	return 0;
}
