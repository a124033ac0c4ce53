/* SPDX-License-Identifier: MIT */
/*
 * libebcc — confidential stages beside ordinary containers.
 *
 * The application API. Conventions (see libebcc(7)):
 *  - Functions return int: 0 (or a count) on success, a negative EBCC_ERR_* on failure. The
 *    failure's detail is in ebcc_last_error_message(), which is per thread.
 *  - Outputs come last, named ret_*, and are written only on success.
 *  - Strings returned through char ** belong to the caller and are released with ebcc_free().
 *  - Handles are reference counted; *_unref() accepts NULL and returns NULL.
 *  - Strings passed in are copied; the library keeps no pointer to caller memory.
 *  - A NULL handle or required argument gives EBCC_ERR_INVALID_ARG, never a crash.
 */
#ifndef EBCC_EBCC_H
#define EBCC_EBCC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Version                                                                                    */

/* The version of the headers compiled against; ebcc_version() gives the library's. */
#define EBCC_VERSION_MAJOR 0
#define EBCC_VERSION_MINOR 1
#define EBCC_VERSION_MICRO 0
#define EBCC_VERSION_STRING "0.1.0"
#define EBCC_VERSION_ENCODE(major, minor, micro) \
	(((uint32_t)(major) << 16) | ((uint32_t)(minor) << 8) | (uint32_t)(micro))
#define EBCC_VERSION EBCC_VERSION_ENCODE(EBCC_VERSION_MAJOR, EBCC_VERSION_MINOR, EBCC_VERSION_MICRO)

/*
 * The running library's version, (major << 16) | (minor << 8) | micro.
 * Thread-safe; never fails.
 */
uint32_t ebcc_version(void);

/*
 * The running library's version as "major.minor.micro". Static storage: never freed, never NULL.
 * Thread-safe; never fails.
 */
const char *ebcc_version_string(void);

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                     */

/*
 * Every error code: X(name, value, message). Values are negative, assigned once and never
 * reused or renumbered; new codes are appended with the next free value. Bindings that cannot
 * see macros enumerate the codes with ebcc_error_name() from -1 downwards until it answers
 * "EBCC_ERR_UNKNOWN".
 */
#define EBCC_ERROR_TABLE(X)                                                                  \
	X(EBCC_ERR_INVALID_ARG, -1, "invalid argument")                                       \
	X(EBCC_ERR_NO_MEMORY, -2, "out of memory")                                            \
	X(EBCC_ERR_NOT_FOUND, -3, "not found")                                                \
	X(EBCC_ERR_EXISTS, -4, "already exists")                                              \
	X(EBCC_ERR_STATE, -5, "operation not allowed in the current lifecycle state")         \
	X(EBCC_ERR_BACKEND, -6, "backend failure")                                            \
	X(EBCC_ERR_UNAVAILABLE, -7, "backend not available on this host")                     \
	X(EBCC_ERR_IO, -8, "input/output error")                                              \
	X(EBCC_ERR_CORRUPT, -9, "corrupt data")                                               \
	X(EBCC_ERR_TOO_BIG, -10, "size limit exceeded")                                       \
	X(EBCC_ERR_TIMEOUT, -11, "timed out")                                                 \
	X(EBCC_ERR_BUSY, -12, "resource busy")                                                \
	X(EBCC_ERR_PERMISSION, -13, "permission denied")                                      \
	X(EBCC_ERR_VERIFY, -14, "verification failed")                                        \
	X(EBCC_ERR_ABI, -15, "ABI mismatch")                                                  \
	X(EBCC_ERR_STAGE, -16, "stage crashed or misbehaved")

#define EBCC_OK 0
enum {
#define EBCC__ERROR_ENUM(name, value, message) name = (value),
	EBCC_ERROR_TABLE(EBCC__ERROR_ENUM)
#undef EBCC__ERROR_ENUM
};

/*
 * A static, human-readable description of err (0 gives "success"). Unknown codes give
 * "unknown error". Never NULL, never freed. Thread-safe.
 */
const char *ebcc_strerror(int err);

/*
 * The symbolic name of err, e.g. "EBCC_ERR_STATE" (0 gives "EBCC_OK"). Unknown codes give
 * "EBCC_ERR_UNKNOWN". Never NULL, never freed. Thread-safe.
 */
const char *ebcc_error_name(int err);

/*
 * The detailed message of the most recent failed call made by this thread: what failed and on
 * what (path, field, limit, errno text). Successful calls leave it unchanged; before any failure
 * it is "". The string is thread-local and stays valid until this thread's next libebcc call.
 * Never NULL.
 */
const char *ebcc_last_error_message(void);

/* Releases memory the library returned through a char ** (or other ret_*) output. NULL is a
 * no-op. Thread-safe. */
void ebcc_free(void *p);

/* ------------------------------------------------------------------------------------------ */
/* Context                                                                                    */

/*
 * A context holds options, the log destination and the backend registry. It is reference
 * counted and may be shared by threads: every function below takes the context's lock, and
 * options changed with ebcc_context_set_option() apply to operations that start afterwards.
 */
struct ebcc_context;

/* Log priorities, as in syslog(3). */
#define EBCC_LOG_ERR 3
#define EBCC_LOG_WARNING 4
#define EBCC_LOG_INFO 6
#define EBCC_LOG_DEBUG 7

/*
 * A log callback: priority is one of EBCC_LOG_*, message one formatted line without a trailing
 * newline, valid only during the call. It may be called from any thread that uses the context,
 * possibly from several at once; it must not call back into the same context.
 */
typedef void (*ebcc_log_fn)(int priority, const char *message, void *userdata);

/*
 * Creates a context with default options (see ebcc_context_set_option(3)). The environment
 * variable EBCC_LOG_LEVEL (err, warning, info, debug or 3..7), read with secure_getenv(), turns
 * on logging to stderr at that level; without it the library is silent.
 * On success *ret_ctx holds one reference.
 * Errors: EBCC_ERR_INVALID_ARG (ret_ctx NULL), EBCC_ERR_NO_MEMORY.
 * Thread-safe.
 */
int ebcc_context_new(struct ebcc_context **ret_ctx);

/* Adds a reference. Returns ctx (NULL gives NULL). Thread-safe. */
struct ebcc_context *ebcc_context_ref(struct ebcc_context *ctx);

/* Drops a reference, freeing the context with the last one. Returns NULL. Thread-safe. */
struct ebcc_context *ebcc_context_unref(struct ebcc_context *ctx);

/*
 * Sets option key to value (both copied). Keys: state_root, plugin_dir, default_backend,
 * durability, artifacts, retention, max_request, log_level; ebcc_context_set_option(3) lists
 * their values and defaults. An unknown key or an invalid value leaves the context unchanged.
 * Errors: EBCC_ERR_INVALID_ARG (NULL argument, unknown key, bad value: the message names the
 * key and what is accepted), EBCC_ERR_NO_MEMORY. Thread-safe.
 */
int ebcc_context_set_option(struct ebcc_context *ctx, const char *key, const char *value);

/*
 * Stores option key's current value, as text, in *ret_value (free with ebcc_free()).
 * An unset optional path (plugin_dir, or state_root without a usable default) gives "".
 * Errors: EBCC_ERR_INVALID_ARG (NULL argument, unknown key), EBCC_ERR_NO_MEMORY. Thread-safe.
 */
int ebcc_context_get_option(struct ebcc_context *ctx, const char *key, char **ret_value);

/*
 * Sends this context's log messages at or above the log_level option (default warning) to fn
 * instead of stderr. fn NULL restores the default destination (stderr only when EBCC_LOG_LEVEL
 * is set, else nothing). userdata is passed back untouched.
 * Errors: EBCC_ERR_INVALID_ARG (ctx NULL). Thread-safe.
 */
int ebcc_context_set_log_fn(struct ebcc_context *ctx, ebcc_log_fn fn, void *userdata);

#ifdef __cplusplus
}
#endif

#endif /* EBCC_EBCC_H */
