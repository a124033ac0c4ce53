/* SPDX-License-Identifier: MIT */
/*
 * ebcc-runtime: a runc-style command line over the public libebcc API. Each call is its own
 * process; everything it needs lives in the state root on disk.
 *
 * Exit codes follow runc: 0 on success, 1 for any error or bad usage (`wait` mirrors the
 * anchor's exit status instead).
 */
#ifndef EBCC_RUNTIME_H
#define EBCC_RUNTIME_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ebcc/ebcc.h>

#define RT_NAME "ebcc-runtime"
/* ebcc-runtime's own directory as root: socket directories, broker records, state roots. */
#define RT_RUN_DIR_DEFAULT "/run/ebcc-runtime"
/* A per-container key: 128 bits in hex (sockets.c). */
#define RT_KEY_LEN 32

/* What a subcommand returns to main(): the process's exit code. */
#define RT_EXIT_OK 0
#define RT_EXIT_FAIL 1

/* Who runs the anchor: the container of a low-level runtime (the default), or the library's
 * own plain process (--anchor=process, the runtime as it was before delegation). */
enum rt_anchor {
	RT_ANCHOR_CONTAINER,
	RT_ANCHOR_PROCESS,
};

/* The global options, before the subcommand. */
struct rt_globals {
	enum rt_anchor anchor; /* --anchor */
	char *root;            /* --root made absolute (the state root with --anchor=process) */
	char *state_root;      /* --state-root made absolute; NULL: see rt_state_root() */
	char *derived_state_root; /* the state root for --root (sockets.c), or NULL */
	char *run_dir;         /* --run-dir made absolute; NULL: see rt_run_dir() */
	const char *log_path;  /* --log */
	int log_json;          /* --log-format json */
	int debug;             /* --debug */
	const char *lowlevel_option; /* --low-level-runtime, NULL when not given */
	char *lowlevel;              /* the low-level runtime found (lowlevel.c), or NULL */
	/* The global options the low-level runtime gets, as given (--root, --log, --log-format,
	 * --debug, --systemd-cgroup, --criu, --rootless): pointers into argv. */
	const char *forward[32];
	size_t n_forward;
};

struct rt_command;

/* One run of the program: the options and, once made, the context. */
struct rt {
	struct rt_globals g;
	struct ebcc_context *ctx;
	const struct rt_command *cmd;
};

struct rt_command {
	const char *name;
	const char *args;    /* the usage line after the name */
	const char *summary; /* one line for the command list */
	const char *help;    /* the options, for --help */
	int (*run)(struct rt *rt, int argc, char **argv);
};

/* Every command: lifecycle (cmd-lifecycle.c), queries (cmd-query.c), invocations and evidence
 * (cmd-invoke.c), offline verification (cmd-verify.c). */
extern const struct rt_command rt_cmd_create, rt_cmd_start, rt_cmd_kill, rt_cmd_delete,
	rt_cmd_wait, rt_cmd_state, rt_cmd_list, rt_cmd_stages, rt_cmd_backends, rt_cmd_invoke,
	rt_cmd_evidence, rt_cmd_verify, rt_cmd_attestation_key;
/* Raw hardware reports (cmd-verify-report.c). */
extern const struct rt_command rt_cmd_verify_report;
/* Secrets released to attested stages (cmd-seal.c) and encrypted images (cmd-image.c). */
extern const struct rt_command rt_cmd_seal, rt_cmd_encrypt_image, rt_cmd_load_request;
/* The OCI verbs that wrap a low-level runtime's container (cmd-oci.c, cmd-run.c). */
extern const struct rt_command rt_cmd_oci_create, rt_cmd_oci_start, rt_cmd_oci_state,
	rt_cmd_oci_kill, rt_cmd_oci_delete, rt_cmd_oci_run;

/* ---- args.c: option parsing shared by the subcommands ----------------------------------- */

/* Every subcommand's long options end with these two. */
#define RT_COMMON_OPTIONS { "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' }
/* What runc's create and run both take (run adds its own). */
#define RT_CREATE_OPTIONS                                                                  \
	{ "bundle", required_argument, NULL, 'b' }, { "pid-file", required_argument, NULL, 'p' }, \
	{ "console-socket", required_argument, NULL, 'c' },                                \
	{ "preserve-fds", required_argument, NULL, 'P' }, { "no-pivot", no_argument, NULL, 'n' }, \
	{ "no-new-keyring", no_argument, NULL, 'k' }

/* A copy of the verb's arguments as the engine gave them, before getopt permutes argv
 * (NULL-terminated; free() it). NULL when out of memory. */
char **rt_copy_args(int argc, char **argv);

/* Returned by rt_getopt() instead of an option: --help or --version was handled (exit 0), or
 * a usage error was reported (exit 1). */
#define RT_OPT_DONE (-2)
#define RT_OPT_FAIL (-3)

/* getopt_long() for subcommand cmd with GNU argument permutation (options may follow the
 * operands, as the usage lines show). Handles --help, --version and unknown or incomplete
 * options itself. shortopts must not start with ':' or '+'. */
int rt_getopt(struct rt *rt, int argc, char **argv, const char *shortopts,
	      const struct option *longopts);

/* The exit code for RT_OPT_DONE or RT_OPT_FAIL. */
int rt_getopt_exit(int c);

/* Checks that between min and max operands follow the options; reports a usage error naming
 * what is missing (missing[i] names operand i) or what is extra. 0 or -1. */
int rt_operands(struct rt *rt, int argc, char **argv, int min, int max,
		const char *const *missing);

/* Reports a usage error for the current command (or the program) and returns RT_EXIT_FAIL. */
int rt_usage_error(struct rt *rt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Usage, summary and options of cmd, or of the program and all its commands, on stdout
 * (ebcc-runtime.c, which holds the command list). */
void rt_print_help(const struct rt_command *cmd, const struct rt_command *const *all);
void rt_print_version(void);

/* A signal by name (KILL, SIGKILL, kill, RTMIN+2) or number (1..64); -1 when unknown. */
int rt_parse_signal(const char *text);

/* An unsigned decimal number; -1 when text is not one. */
int rt_parse_u64(const char *text, uint64_t *ret);

/* Lowercase or uppercase hex into bytes (at most max); -1 when malformed or too long. */
int rt_parse_hex(const char *text, uint8_t *out, size_t max, size_t *ret_len);

/* ---- logging.c: --log, --log-format, --debug --------------------------------------------- */

/* Opens the log destination (rt_log_open, before there is a context) and routes the library's
 * log through it (rt_log_setup). -1 on failure (reported). */
int rt_log_open(struct rt *rt);
int rt_log_setup(struct rt *rt);
void rt_log_close(void);

/* The tool's own log line (priority EBCC_LOG_*), filtered like the library's. */
void rt_log(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- output.c: errors, JSON and tables ------------------------------------------------- */

/* "ebcc-runtime: <what>: <library message>" on stderr (and in the log) for the failed call
 * that returned err; returns RT_EXIT_FAIL. */
int rt_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "ebcc-runtime: <message>" on stderr (and in the log), without a library error. */
int rt_fail_plain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints JSON on stdout indented by two spaces, with a final newline; the _pretty form takes
 * text and returns -1 when it is not JSON. */
struct json_object;
void rt_print_json(struct json_object *obj);
int rt_print_json_pretty(const char *text);

/* A plain-text table: the widths of each column grow to fit; the last column is not padded. */
struct rt_table;
struct rt_table *rt_table_new(size_t columns, const char *const *headers);
int rt_table_add(struct rt_table *t, const char *const *cells);
void rt_table_print(struct rt_table *t);
void rt_table_free(struct rt_table *t);

/* Lowercase hex of len bytes into out (2 * len + 1 bytes). */
void rt_hex(const uint8_t *data, size_t len, char *out);

/* ---- fileio.c: requests, policies, keys and outputs --------------------------------------- */

/* Reads the whole of path ("-" for stdin), at most max bytes; more is EBCC_ERR_TOO_BIG.
 * *ret_data is NUL-terminated (not counted in *ret_len) and freed with free(). Reports its
 * own errors; returns 0 or -1. */
int rt_read_file(const char *path, size_t max, char **ret_data, size_t *ret_len);

/* What rt_write_file writes: a confidential stream (the response: created 0600, an existing
 * file made 0600 unless stricter; may be a character device, FIFO or socket) or a pid file
 * (created 0644, a regular file only). */
enum rt_output {
	RT_OUT_STREAM,
	RT_OUT_PID_FILE,
};
/* Writes len bytes to path ("-" for stdout) in place, never replacing or following what is
 * there (fileio.c). 0 or -1 (reported). */
int rt_write_file(const char *path, enum rt_output kind, const void *data, size_t len);

/* An absolute version of path (relative to the working directory), from malloc(). */
char *rt_absolute_path(const char *path);

/* ---- ebcc-runtime.c ----------------------------------------------------------------------- */

/* Opens composite id, reporting failure as "<verb> <id>: <message>". NULL on failure. */
struct ebcc_instance *rt_open_instance(struct rt *rt, const char *verb, const char *id);

/* The libebcc state root the options name: --state-root, else (with --anchor=process) --root,
 * else with --root one of the run directory's for that root (rt_derive_state_root); NULL for
 * the library's default. */
const char *rt_state_root(const struct rt *rt);

/* ---- sockets.c: each composite's socket directory, its broker, state roots by --root -------- */

/* --run-dir, else /run/ebcc-runtime as root, else $XDG_RUNTIME_DIR/ebcc-runtime; NULL when
 * there is none. */
const char *rt_run_dir(const struct rt *rt);

/* Sets g.derived_state_root when the composites' state root follows from --root: <run-dir>/
 * roots/<hash of the root>, so that containers of one id under two roots (two containerd
 * namespaces) are two composites. -1 (reported) on failure. */
int rt_derive_state_root(struct rt *rt);

/* Makes container id's socket directory (<run-dir>/sockets/<key>, which must not exist yet)
 * and claims its broker record; *ret_dir from malloc(). -1 (reported) with nothing made. */
int rt_sockets_make(struct rt *rt, const char *id, char **ret_dir);
/* Records the broker that serves dir. */
int rt_sockets_record(struct rt *rt, const char *id, const char *dir, pid_t broker,
		      uint64_t broker_start);
/* Stops the recorded broker if it still runs, removes the socket directory and the record.
 * 0 when nothing is left (also when nothing was there), -1 (reported as "<verb> <id>: "). */
int rt_sockets_remove(struct rt *rt, const char *verb, const char *id);

/* ---- lowlevel.c: the low-level runtime (runc, crun) that does the container work ---------- */

/* Finds the low-level runtime once: --low-level-runtime, else $EBCC_LOW_LEVEL_RUNTIME, else the
 * first of runc and crun on PATH; never this program itself. -1 when there is none (reported). */
int rt_lowlevel_find(struct rt *rt);

/* Replaces this process with the low-level runtime running argv[0..argc) (a verb and its
 * arguments) after the forwarded global options. Returns only on failure (RT_EXIT_FAIL). */
int rt_lowlevel_exec(struct rt *rt, int argc, char **argv);

/* Runs the low-level runtime like rt_lowlevel_exec, but as a child, and waits for it: its
 * exit code (128 + signal when a signal ended it), or -1 when it could not run (reported).
 * With ret_out its stdout is collected (at most 4 MiB, NUL-terminated, freed with free());
 * otherwise it shares this process's stdio. */
int rt_lowlevel_run(struct rt *rt, int argc, char **argv, char **ret_out);

/* The low-level runtime's OCI state of container id: 0 with *ret set, its non-zero exit code
 * (its stderr has said why), or -1 (reported). */
int rt_lowlevel_state(struct rt *rt, const char *id, struct json_object **ret);

/* The low-level runtime's name, for messages (its file name). */
const char *rt_lowlevel_name(const struct rt *rt);

/* ---- ocibundle.c: which bundles become composites ------------------------------------------ */

/* What a bundle asks for. */
struct rt_bundle_kind {
	int composite;                   /* it names a stage manifest and is no pause container */
	struct json_object *annotations; /* config.json's, or NULL; owned */
	const char *why;                 /* for the log: what made it plain or a composite */
};

/* Reads <bundle>/config.json's annotations and looks for a stage manifest, as libebcc finds it
 * (the annotation org.ebcc.manifest, else <bundle>/ebcc.json). A Kubernetes sandbox (pause)
 * container is plain whatever it carries. Quiet: a config.json that cannot be read is the
 * low-level runtime's to report. */
void rt_bundle_kind(const char *bundle, struct rt_bundle_kind *ret);
void rt_bundle_kind_clear(struct rt_bundle_kind *k);

/* Rewrites <bundle>/config.json (a temporary file in the bundle renamed over it, mode and
 * owner kept) so that the container bind-mounts dir read-only at /run/ebcc, replacing any
 * mount there; everything else means what it meant. *ret_original holds the file as it was,
 * for rt_bundle_restore (free()). -1 (reported as "create <id>: ...") on failure. */
int rt_bundle_mount_socket(const char *bundle, const char *id, const char *dir,
			   char **ret_original, size_t *ret_len);
/* Puts the original config.json back, the same way (after a failed create). */
int rt_bundle_restore(const char *bundle, const char *id, const char *original, size_t len);

/* ---- container.c: the composite around a low-level runtime's container -------------------- */

/* What rt_container_create needs: the container's id and bundle, config.json's annotations,
 * the low-level create command to run (argv[0] "create", the engine's options unchanged) and
 * the pid file it names (NULL when none); and what it tells: the container's process and the
 * broker that serves the stages (0 when there is none). */
struct rt_container_create {
	const char *id;
	const char *bundle;
	const char *pid_file;
	struct json_object *annotations;
	int argc;
	char **argv;
	int pid;
	int broker_pid;
	uint64_t broker_start;
};

/* Creates the container through the low-level runtime and makes it a composite: the stages
 * declared by its manifest loaded, the container's init process its anchor, the container
 * held before its program until start. On failure nothing is left: no composite, no
 * container, no broker. 0 or RT_EXIT_FAIL (reported), or the low-level runtime's exit code. */
int rt_container_create(struct rt *rt, struct rt_container_create *c);

/* Removes composite inst of container id once the container is gone: kills it if it still
 * runs, deletes it, then its broker and socket directory. 0 or -1 (reported as "<verb> <id>: ..."). */
int rt_container_remove(struct rt *rt, struct ebcc_instance *inst, const char *verb,
			const char *id);

/* Opens the composite of container id: 1 with *ret_inst when there is one, 0 when the
 * container is plain (no composite of that id, or an id libebcc does not take), -1 on any
 * other failure (reported as "<verb> <id>: ..."). */
int rt_container_open(struct rt *rt, const char *verb, const char *id,
		      struct ebcc_instance **ret_inst);

#endif /* EBCC_RUNTIME_H */
