/* SPDX-License-Identifier: MIT */
/*
 * ebcc-demo: the whole job of libebcc in one command, built only on the public API.
 * ebcc-demo.c runs the scenario; the files here each do one thing for it.
 */
#ifndef EBCC_DEMO_H
#define EBCC_DEMO_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define DEMO_NAME "ebcc-demo"
#define DEMO_SHA256_TEXT (7 + 64 + 1) /* "sha256:" + hex + NUL */
#define DEMO_ANCHOR_COMMAND "exec sleep 600" /* what the REE anchor runs, under sh -c */

/* ---- report.c: one line per step for people, one JSON document for scripts ---------------- */

struct demo_report {
	int json;                  /* --json: print only the document, at the end */
	struct json_object *doc;   /* the document, built in both modes */
	struct json_object *steps; /* doc.steps */
	double started_ms;
	int steps_ok, steps_failed;
};

/* One step being timed. */
struct demo_step {
	const char *name;
	double started_ms;
};

/* Milliseconds on the monotonic clock. */
double demo_now_ms(void);

int demo_report_init(struct demo_report *r, int json);
void demo_report_free(struct demo_report *r);

/* Starts timing a step. */
void demo_step_begin(struct demo_step *s, const char *name);

/* Ends the step as a success: one line "name ok <ms> <what happened>"; fields (may be NULL,
 * taken over) adds details to the step's JSON object. */
void demo_step_ok(struct demo_report *r, struct demo_step *s, struct json_object *fields,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Ends the step as a failure of a library call that returned err: the line shows the error's
 * name and the library's message; also on stderr. The document records it under "error". */
void demo_step_fail(struct demo_report *r, struct demo_step *s, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A failure that is not the library's (err 0): a failed system call or a wrong answer. */
#define DEMO_ERR_NONE 0

/* An indented line under the last step, in text mode only. */
void demo_detail(struct demo_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A line outside the step table (header, notes), in text mode only. */
void demo_say(struct demo_report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Adds key to the document's top level (taken over). */
void demo_report_set(struct demo_report *r, const char *key, struct json_object *value);

/* Closes the report: the summary line (text) or the whole document (--json). */
void demo_report_finish(struct demo_report *r, struct json_object *summary, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- scratch.c: the temporary directories -------------------------------------------------- */

/* Makes $TMPDIR/ebcc-demo-XXXXXX (or under /tmp) and returns it (malloc). NULL with errno. */
char *demo_scratch_make(void);

/* Removes a directory tree without following symbolic links. 0 or -1 with errno. */
int demo_tree_remove(const char *path);

/* ---- images.c: finding and copying the example stages -------------------------------------- */

/* The directory holding the example stage images: option (--stages), else $EBCC_DEMO_STAGES,
 * else the build tree's when this program runs from the build tree, else the installed one.
 * Returns a static or caller-owned string; *ret_origin says where it came from. */
const char *demo_stages_dir(const char *option, const char **ret_origin);

/* Copies image dir/name to bundle/stages/name (0755) and computes the copy's SHA-256 as
 * "sha256:<hex>" in measurement. *ret_size: bytes copied. 0 or -1 with errno. */
int demo_image_copy(const char *dir, const char *name, const char *bundle, uint64_t *ret_size,
		    char measurement[DEMO_SHA256_TEXT]);

/* "sha256:<hex>" of len bytes. */
void demo_sha256_text(const void *data, size_t len, char out[DEMO_SHA256_TEXT]);

/* ---- bundle.c: config.json and the stage manifest ------------------------------------------ */

struct demo_stage_decl {
	const char *name;
	const char *lifetime; /* "instance" or "invocation" */
	char measurement[DEMO_SHA256_TEXT];
	uint64_t image_size;
};

/* Writes bundle/config.json (the anchor: a sleeping process) and bundle/ebcc.json (the stages,
 * each pinned to its measurement). 0 or -1 with errno. */
int demo_bundle_write(const char *bundle, const struct demo_stage_decl *stages, size_t n);

/* ---- artifacts.c: what the invocations left on disk --------------------------------------- */

/* Lists <root>/<id>/stages/<stage>/<seq>/<file> with sizes into a JSON array of
 * {"path": "stages/<stage>/<seq>/<file>", "bytes": N}, sorted. NULL with errno. */
struct json_object *demo_artifacts_list(const char *root, const char *id);

#endif /* EBCC_DEMO_H */
