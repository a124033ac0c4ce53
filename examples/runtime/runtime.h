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

#include <ebcc/ebcc.h>

#define RT_NAME "ebcc-runtime"

/* What a subcommand returns to main(): the process's exit code. */
#define RT_EXIT_OK 0
#define RT_EXIT_FAIL 1

/* The global options, before the subcommand. */
struct rt_globals {
	char *root;           /* --root made absolute, or NULL for the library's state_root */
	const char *log_path; /* --log */
	int log_json;         /* --log-format json */
	int debug;            /* --debug */
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

/* ---- args.c: option parsing shared by the subcommands ----------------------------------- */

/* Every subcommand's long options end with these two. */
#define RT_COMMON_OPTIONS { "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' }

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

/* Opens the log destination and routes the library's log through it. -1 on failure (reported). */
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

#endif /* EBCC_RUNTIME_H */
