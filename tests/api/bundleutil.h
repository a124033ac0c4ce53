/* SPDX-License-Identifier: MIT */
/* Test helpers: scratch state roots and OCI bundles with a stage manifest. */
#ifndef EBCC_TESTS_BUNDLEUTIL_H
#define EBCC_TESTS_BUNDLEUTIL_H

#include <stddef.h>

#include <ebcc/ebcc.h>

/* A scratch directory (mkdtemp under $TMPDIR or /tmp); free with scratch_remove(). */
char *scratch_dir(const char *tag);
/* rm -rf, and free(path). */
void scratch_remove(char *path);

/* Writes text to dir/name, creating parent directories. Aborts the test on failure. */
void write_file(const char *dir, const char *name, const char *text, size_t len);
/* Copies the file at src to dir/name with mode. */
void copy_file(const char *src, const char *dir, const char *name, unsigned mode);

/* The echo stage image to use (from $EBCC_TEST_ECHO_STAGE), or NULL when not built. */
const char *echo_stage_path(void);

/*
 * Makes a bundle in dir: config.json with the given process JSON (an object, or NULL for no
 * process) and annotations "{}", ebcc.json with the given stages JSON array, and a copy of the
 * echo stage (or of /bin/true when there is none) at stages/echo.
 */
void make_bundle(const char *dir, const char *process_json, const char *stages_json);

/* A context whose state root is root, logging to stderr at EBCC_LOG_LEVEL if set. */
struct ebcc_context *context_at(const char *root);

/* The number of open descriptors of this process. */
int count_fds(void);
/* The number of entries in directory dir (without . and ..), -1 if it does not exist. */
int count_entries(const char *dir);

#endif
