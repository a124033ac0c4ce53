/* SPDX-License-Identifier: MIT */
/*
 * ebcc-bench: what the scenarios share. Every scenario measures the library through its public
 * API only (include/ebcc/ebcc.h) and, beside it in the same run, the same work done with plain
 * libc and OpenSSL calls (raw.c): the floor the library's overhead is judged against.
 */
#ifndef EBCC_BENCH_H
#define EBCC_BENCH_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ebcc/ebcc.h>

#define BENCH_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ---- options (ebcc-bench.c) ------------------------------------------------------------------ */

enum bench_scenario {
	SCENARIO_WARM = 1u << 0,
	SCENARIO_SPAWN = 1u << 1,
	SCENARIO_PHASES = 1u << 2,
	SCENARIO_LIFECYCLE = 1u << 3,
	SCENARIO_SCALE = 1u << 4,
	SCENARIO_FOOTPRINT = 1u << 5,
};

struct bench_opts {
	const char *stage_path;  /* the echo stage image (static ELF) */
	const char *stage_lib;   /* libebcc-stage.a, for the TCB figures */
	const char *source_dir;  /* the source tree, for the TCB line count */
	const char *state_dir;   /* parent of the state roots on the normal disk */
	const char *tmpfs_dir;   /* parent of the tmpfs state roots; NULL: none */
	unsigned scenarios;      /* enum bench_scenario bits */
	unsigned reps;           /* base repetitions (warm invoke); others scale from it */
	unsigned instances;      /* live instances for the scale and footprint figures */
	bool quick;              /* CI smoke run: few repetitions */
	bool json;               /* JSON on stdout, the table on stderr */
};

/* ---- interruption and cleanup (cleanup.c) ---------------------------------------------------- */

/* Set by SIGINT, SIGTERM, SIGHUP: loops stop and everything made so far is cleaned up. */
extern volatile sig_atomic_t bench_interrupted;

void bench_signals_install(void);

typedef void (*bench_cleanup_fn)(void *arg);
/* Registers fn(arg) to run at cleanup, newest first; returns a handle for cleanup_run(). */
int cleanup_push(bench_cleanup_fn fn, void *arg);
/* Runs and forgets one registered cleanup now (handle < 0: nothing). */
void cleanup_run(int handle);
/* Runs every registered cleanup, newest first (also at exit). */
void cleanup_all(void);

/* A fresh scratch directory under parent (mkdtemp), removed with everything in it by
 * cleanup_run(*ret_handle) or at the end, after every composite in any state root below it was
 * force-deleted; the path is freed then. NULL on failure. */
char *scratch_dir(const char *parent, const char *tag, int *ret_handle);

/* ---- processes (proc.c) ------------------------------------------------------------------- */

/* Runs argv (PATH lookup) with stdin and stdout on /dev/null and stderr into err (may be NULL,
 * NUL-terminated, cut to err_size); its wait status, or -errno. */
int proc_run(char *const argv[], char *err, size_t err_size);
/* Like proc_run(), with stdout into out (NUL-terminated, cut to out_size). */
int proc_capture(char *const argv[], char *out, size_t out_size);
/* SIGKILLs pid and reaps it. */
void proc_kill(pid_t pid);

/* ---- statistics (stats.c) -------------------------------------------------------------------- */

struct samples {
	uint64_t *v; /* nanoseconds, or any unit the caller keeps consistent */
	size_t n, cap;
};

struct summary {
	size_t n;
	double median, p99, min, max, mean;
};

uint64_t now_ns(void);
int samples_add(struct samples *s, uint64_t value);
void samples_free(struct samples *s);
/* Median, nearest-rank p99, min, max and mean of the samples; all zero when there are none. */
void samples_summarize(const struct samples *s, struct summary *ret);

/* ---- the report (report.c) ------------------------------------------------------------------- */

int report_begin(const struct bench_opts *o);
/* Prints the table (and with --json the JSON document); 0, or 1 when nothing could be measured. */
int report_end(void);
void report_section(const char *key, const char *title);
void report_note(const char *fmt, ...) BENCH_PRINTF(1, 2);
/* A latency row: median and p99 of samples in ns, shown in µs. */
void report_latency(const char *key, const char *label, const struct samples *s);
/* A latency row from a summary already made (ns). */
void report_summary(const char *key, const char *label, const struct summary *s);
/* A single value with its unit. */
void report_value(const char *key, const char *label, double value, const char *unit);
/* A ratio of two figures of this run. */
void report_ratio(const char *key, const char *label, double numerator, double denominator);
/* A performance target: value cmp limit ("<=", ">=", "<"), judged here, never hard-coded.
 * evaluated false prints "not measured" with why. */
void report_target(const char *key, const char *what, double value, const char *cmp,
		   double limit, const char *unit, bool evaluated, const char *why);
/* A phase table row: median and p99 (ns) with the share of the total. */
void report_phase(const char *key, const char *label, const struct summary *s, double total_ns);
/* A scenario that could not run, or a peer skipped, with why. */
void report_skip(const char *key, const char *what, const char *why);

/* ---- the environment (fixture.c) -------------------------------------------------------------- */

/* The filesystem type of path ("ext4", "tmpfs", ...) and its source, from /proc/self/mountinfo. */
void fs_describe(const char *path, char *type, size_t type_size, char *source, size_t source_size);

struct bundle_spec {
	const char *lifetime;   /* "instance" or "invocation" */
	uint64_t max_request;   /* 0: the default */
	unsigned memory_mib;    /* 0: the default */
	unsigned timeout_ms;    /* 0: the default */
	const char *const *anchor; /* the anchor's args (NULL-terminated), NULL: no process */
};

/* Writes an OCI bundle with one stage "echo" (a copy of the stage image) into dir. */
int bundle_write(const char *dir, const char *stage_image, const struct bundle_spec *spec);
/* A root filesystem with a static busybox at bin/busybox (its path in ret_busybox) and the
 * links bin/true, bin/sh, bin/sleep. */
int busybox_rootfs(const char *rootfs, char *ret_busybox, size_t size);
/* A context on state_root with durability and artifacts set (NULL: default). */
int context_open(const char *state_root, const char *durability, const char *artifacts,
		 struct ebcc_context **ret);
/* The stage's artifact directory, from ebcc_stage_info()'s "directory" (malloc). */
char *stage_directory(struct ebcc_instance *inst, const char *stage);
/* Reads VmRSS of this process, in KiB, or -1. */
long rss_kib(void);
/* Prints an ebcc failure with the library's message and returns -1. */
int fail_ebcc(const char *what, int r);
/* Prints a system failure (errno) and returns -1. */
int fail_errno(const char *what);
/* snprintf into buf; -1 (with a message) when it does not fit. */
int pathf(char *buf, size_t size, const char *fmt, ...) BENCH_PRINTF(3, 4);
/* A unique composite id for this run: "bench-<pid>-<tag>-<n>". */
void make_id(char *buf, size_t size, const char *tag, unsigned n);

/* ---- raw floors (raw.c) ------------------------------------------------------------------ */

/* A warm stage started without the library: the same image, a listening socket on fd 3. */
struct raw_stage {
	pid_t pid;
	char sock_path[108];
};
int raw_stage_start(const char *image, const char *sock_path, struct raw_stage *ret);
void raw_stage_stop(struct raw_stage *s);

/* One exchange on a new connection to sock_path: REQUEST out, LOG frames and RESPONSE back.
 * The response goes to buf (cap bytes); its length in *ret_len. 0 or -1. */
int raw_roundtrip(const char *sock_path, const void *req, size_t len, void *buf, size_t cap,
		  size_t *ret_len);
/* One run-to-completion stage: socketpair on fd 3, fork, fexecve(image_fd), one exchange,
 * hang up, waitpid. 0 or -1. */
int raw_oneshot(int image_fd, const void *req, size_t len, void *buf, size_t cap,
		size_t *ret_len);

/* One report as a sim stage gets it from its security monitor: a round trip to a signing
 * process (started by raw_signer_new, ended by raw_signer_free) that makes one Ed25519
 * signature with libsodium. */
struct raw_signer;
int raw_signer_new(struct raw_signer **ret);
int raw_sign(struct raw_signer *s, const uint8_t report_data[64]);
void raw_signer_free(struct raw_signer *s);

/* The files one library invocation wrote (names and sizes), to write the same ones raw. */
#define RAW_FILES_MAX 8
struct raw_artifacts {
	size_t n;
	char names[RAW_FILES_MAX][32];
	size_t sizes[RAW_FILES_MAX];
	size_t total;
	bool durable;
	char *fill; /* total bytes of content */
};
int raw_artifacts_like(const char *invocation_dir, bool durable, struct raw_artifacts *ret);
/* Writes them into a temporary directory of stage_dir_fd and renames it to raw-<n>. */
int raw_artifacts_write(int stage_dir_fd, const struct raw_artifacts *a, uint64_t n);
void raw_artifacts_clear(struct raw_artifacts *a);

/* ---- scenarios -------------------------------------------------------------------------------- */

int bench_warm(const struct bench_opts *o);      /* warm.c: 1 and, with phases.c, 3 */
int bench_spawn(const struct bench_opts *o);     /* spawn.c: 2 */
int bench_lifecycle(const struct bench_opts *o); /* lifecycle.c: 4 */
int bench_scale(const struct bench_opts *o);     /* scale.c: 5 */
int scale_sizes(const struct bench_opts *o, const char *scratch); /* sizes.c: 5, sizes */
int bench_footprint(const struct bench_opts *o); /* footprint.c: 6 */

/* phases.c: the per-phase timings of meta.json of invocations first..last of a stage directory,
 * against the per-call latencies the caller measured (samples[i] is invocation first + i). */
struct phase_set;
struct phase_set *phases_new(void);
/* Adds invocation seq of stage_dir, whose whole call took call_ns. */
int phases_add(struct phase_set *p, const char *stage_dir, uint64_t seq, uint64_t call_ns);
int phases_collect(const char *stage_dir, uint64_t first, const struct samples *calls,
		   struct phase_set **ret);
void phases_report(const char *key, const char *title, const struct phase_set *p);
/* The phases by their bit in meta.json's order. */
#define PHASE_VALIDATE (1u << 0)
#define PHASE_EID (1u << 1)
#define PHASE_DISPATCH (1u << 2)
#define PHASE_REPORT (1u << 3)
#define PHASE_TEARDOWN (1u << 4)
#define PHASE_PERSIST (1u << 5)
/* Appends, per invocation, the sum of the phases in mask to ret. */
int phases_only(const struct phase_set *p, unsigned mask, struct samples *ret);
void phases_free(struct phase_set *p);

/* lifecycle peers (peers.c): crun run and runc run of /bin/true in a busybox container. */
struct peer;
/* Prepares a peer ("crun" or "runc") under scratch; NULL with why when it cannot run here. */
struct peer *peer_open(const char *name, const char *scratch, char *why, size_t why_size);
/* One `<runtime> run` of a new container to its end: wall time in *ret_ns. 0 or -1. */
int peer_run(struct peer *p, uint64_t *ret_ns);
const char *peer_setup(const struct peer *p);
void peer_close(struct peer *p);

#endif
