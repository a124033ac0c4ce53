/* SPDX-License-Identifier: MIT */
/*
 * ebcc-bench: measures libebcc against the floors of the same work done raw and against its
 * peers, and prints a table (and with --json a JSON document) of medians with p99, ratios of
 * figures measured interleaved in the same run, and the performance targets with their verdicts.
 *
 *   ebcc-bench --stage build/examples/stages/echo [--scenario warm,spawn,...] [--reps N]
 *              [--state-dir DIR] [--tmpfs-dir DIR|none] [--instances N] [--quick] [--json]
 *
 * It uses only the public API (include/ebcc/ebcc.h), plus libc and OpenSSL for the floors.
 * Everything it makes is removed at the end, also when interrupted (SIGINT, SIGTERM, SIGHUP).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"

#define DEFAULT_REPS 2000
#define QUICK_REPS 40
#define DEFAULT_INSTANCES 1000
#define QUICK_INSTANCES 100

static const struct {
	const char *name;
	unsigned bit;
	const char *what;
} scenario_names[] = {
	{ "warm", SCENARIO_WARM, "1. warm invoke against the raw floor" },
	{ "spawn", SCENARIO_SPAWN, "2. per-invocation enclave against fork + fexecve + wait" },
	{ "phases", SCENARIO_PHASES, "3. phase breakdown (runs the warm invocations)" },
	{ "lifecycle", SCENARIO_LIFECYCLE, "4. lifecycle against crun run and runc run" },
	{ "scale", SCENARIO_SCALE, "5. threads, the 1000th composite, request sizes" },
	{ "footprint", SCENARIO_FOOTPRINT, "6. disk, memory per handle, stage-side TCB" },
};
#define N_SCENARIOS (sizeof(scenario_names) / sizeof(scenario_names[0]))

static void usage(FILE *f)
{
	fprintf(f,
		"usage: ebcc-bench --stage IMAGE [options]\n"
		"  --stage IMAGE        the echo stage image (build/examples/stages/echo)\n"
		"  --stage-lib FILE     libebcc-stage.a, for the TCB figures\n"
		"  --source-dir DIR     the source tree, for the TCB line count\n"
		"  --scenario LIST      comma-separated, default all:");
	for (size_t i = 0; i < N_SCENARIOS; i++)
		fprintf(f, " %s", scenario_names[i].name);
	fprintf(f,
		"\n"
		"  --reps N             base repetitions (default %d; others scale from it)\n"
		"  --state-dir DIR      where the disk state roots go (default /var/tmp)\n"
		"  --tmpfs-dir DIR      where the tmpfs state roots go (default /dev/shm; none: skip)\n"
		"  --instances N        live composites for the Nth-create and memory figures "
		"(default %d)\n"
		"  --quick              a smoke run: %d repetitions, %d instances\n"
		"  --json               JSON on stdout, the table on stderr\n"
		"scenarios:\n",
		DEFAULT_REPS, DEFAULT_INSTANCES, QUICK_REPS, QUICK_INSTANCES);
	for (size_t i = 0; i < N_SCENARIOS; i++)
		fprintf(f, "  %-10s %s\n", scenario_names[i].name, scenario_names[i].what);
}

static int parse_scenarios(const char *list, unsigned *ret)
{
	char *copy = strdup(list), *save = NULL;
	unsigned bits = 0;

	if (copy == NULL)
		return -1;
	for (char *tok = strtok_r(copy, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		if (strcmp(tok, "all") == 0) {
			bits = ~0u;
			continue;
		}
		for (i = 0; i < N_SCENARIOS && strcmp(tok, scenario_names[i].name) != 0; i++)
			;
		if (i == N_SCENARIOS) {
			fprintf(stderr, "ebcc-bench: unknown scenario \"%s\"\n", tok);
			free(copy);
			return -1;
		}
		bits |= scenario_names[i].bit;
	}
	free(copy);
	*ret = bits;
	return 0;
}

static int parse_count(const char *text, const char *what, unsigned *ret)
{
	char *end;
	unsigned long v = strtoul(text, &end, 10);

	if (*text == '\0' || *end != '\0' || v == 0 || v > 100000000) {
		fprintf(stderr, "ebcc-bench: %s must be a positive number, not \"%s\"\n", what, text);
		return -1;
	}
	*ret = (unsigned)v;
	return 0;
}

static bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int main(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "stage", required_argument, NULL, 's' },
		{ "stage-lib", required_argument, NULL, 'l' },
		{ "source-dir", required_argument, NULL, 'S' },
		{ "scenario", required_argument, NULL, 'c' },
		{ "reps", required_argument, NULL, 'r' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "tmpfs-dir", required_argument, NULL, 't' },
		{ "instances", required_argument, NULL, 'n' },
		{ "quick", no_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_opts o = {
		.state_dir = "/var/tmp",
		.tmpfs_dir = "/dev/shm",
		.scenarios = ~0u,
	};
	unsigned reps = 0, instances = 0;
	int c, failed = 0;

	while ((c = getopt_long(argc, argv, "h", long_opts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.stage_path = optarg;
			break;
		case 'l':
			o.stage_lib = optarg;
			break;
		case 'S':
			o.source_dir = optarg;
			break;
		case 'c':
			if (parse_scenarios(optarg, &o.scenarios) < 0)
				return 2;
			break;
		case 'r':
			if (parse_count(optarg, "--reps", &reps) < 0)
				return 2;
			break;
		case 'd':
			o.state_dir = optarg;
			break;
		case 't':
			o.tmpfs_dir = strcmp(optarg, "none") == 0 ? NULL : optarg;
			break;
		case 'n':
			if (parse_count(optarg, "--instances", &instances) < 0)
				return 2;
			break;
		case 'q':
			o.quick = true;
			break;
		case 'j':
			o.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || o.stage_path == NULL) {
		usage(stderr);
		return 2;
	}
	if (access(o.stage_path, X_OK) < 0) {
		fprintf(stderr, "ebcc-bench: stage image %s is not executable\n", o.stage_path);
		return 2;
	}
	if (!is_dir(o.state_dir) || (o.tmpfs_dir != NULL && !is_dir(o.tmpfs_dir))) {
		fprintf(stderr, "ebcc-bench: %s is not a directory\n",
			!is_dir(o.state_dir) ? o.state_dir : o.tmpfs_dir);
		return 2;
	}
	o.reps = reps ? reps : o.quick ? QUICK_REPS : DEFAULT_REPS;
	o.instances = instances ? instances : o.quick ? QUICK_INSTANCES : DEFAULT_INSTANCES;

	bench_signals_install();
	if (report_begin(&o) < 0)
		return 1;
	if ((o.scenarios & (SCENARIO_WARM | SCENARIO_PHASES)) && !bench_interrupted)
		failed |= bench_warm(&o) < 0;
	if ((o.scenarios & SCENARIO_SPAWN) && !bench_interrupted)
		failed |= bench_spawn(&o) < 0;
	if ((o.scenarios & SCENARIO_LIFECYCLE) && !bench_interrupted)
		failed |= bench_lifecycle(&o) < 0;
	if ((o.scenarios & SCENARIO_SCALE) && !bench_interrupted)
		failed |= bench_scale(&o) < 0;
	if ((o.scenarios & SCENARIO_FOOTPRINT) && !bench_interrupted)
		failed |= bench_footprint(&o) < 0;
	cleanup_all();
	report_end();
	if (bench_interrupted) {
		fprintf(stderr, "ebcc-bench: interrupted; everything it made is removed\n");
		return 130;
	}
	return failed ? 1 : 0;
}
