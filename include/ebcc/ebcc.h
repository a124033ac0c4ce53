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

/*
 * The value of the integer macro or error code called name ("EBCC_STATUS_RUNNING",
 * "EBCC_ERR_VERIFY", "EBCC_LIFETIME_INSTANCE"...) of <ebcc/ebcc.h> or <ebcc/backend.h>, for
 * bindings without a C preprocessor. Errors: EBCC_ERR_INVALID_ARG (NULL), EBCC_ERR_NOT_FOUND
 * (no such constant). Thread-safe. Since LIBEBCC_0.2.
 */
int ebcc_constant(const char *name, int64_t *ret_value);

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

/* Flags of struct ebcc_context_options. */
#define EBCC_CONTEXT_IGNORE_ENV (UINT32_C(1) << 0) /* do not read EBCC_LOG_LEVEL */

/*
 * How a context is created (since LIBEBCC_0.2), for what must be in place before the context
 * does anything: where its log goes and its first options. Set it up with
 * ebcc_context_options_init() (or EBCC_CONTEXT_OPTIONS_INIT), which sets size.
 */
struct ebcc_context_options {
	uint32_t size;                /* sizeof(struct ebcc_context_options) as the caller was built */
	uint32_t flags;               /* EBCC_CONTEXT_* */
	ebcc_log_fn log_fn;           /* as ebcc_context_set_log_fn(); NULL: the default */
	void *log_userdata;
	const char *const *settings;  /* NULL, or key, value, key, value, ..., NULL: options set
				       * in that order, as ebcc_context_set_option() would */
};

#define EBCC_CONTEXT_OPTIONS_INIT { sizeof(struct ebcc_context_options), 0, NULL, NULL, NULL }

/* Zeroes *options and sets its size. */
void ebcc_context_options_init(struct ebcc_context_options *options);

/*
 * ebcc_context_new() with options (NULL: the defaults): the log function is installed first, so
 * it hears about a bad EBCC_LOG_LEVEL or setting; with EBCC_CONTEXT_IGNORE_ENV the environment
 * is not read at all. Either every setting applies or no context is made.
 * Errors: those of ebcc_context_new(), and EBCC_ERR_INVALID_ARG for options whose size is below
 * the first version's, an unknown flag, a key without a value or a setting that
 * ebcc_context_set_option() refuses (the message names it); EBCC_ERR_ABI for a larger size
 * whose unknown bytes are not zero. Thread-safe.
 */
int ebcc_context_new_with(const struct ebcc_context_options *options,
			  struct ebcc_context **ret_ctx);

/* Adds a reference. Returns ctx (NULL gives NULL). Thread-safe. */
struct ebcc_context *ebcc_context_ref(struct ebcc_context *ctx);

/* Drops a reference, freeing the context with the last one. Returns NULL. Thread-safe. */
struct ebcc_context *ebcc_context_unref(struct ebcc_context *ctx);

/*
 * Sets option key to value (both copied). Keys: anchor, artifacts, default_backend,
 * durability, log_level, max_request, plugin_dir (loaded at the next backend lookup),
 * retention, state_root; ebcc_context_set_option(3) lists their values and defaults. An unknown key or an invalid value leaves the context unchanged.
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

/* ------------------------------------------------------------------------------------------ */
/* Instances: the composite of one container id                                               */

/*
 * A composite: one container id joining the REE anchor (the bundle's process) with the
 * confidential stages its manifest declares. Its state lives under
 * <state_root>/<id>/ and every operation may come from a different process: a handle is a view
 * onto that state, re-read on each call. A handle may be used by several threads at once.
 */
struct ebcc_instance;

/* Status values (ebcc_instance_status()), as the OCI runtime specification names them. */
#define EBCC_STATUS_CREATING 0
#define EBCC_STATUS_CREATED 1
#define EBCC_STATUS_RUNNING 2
#define EBCC_STATUS_STOPPED 3

/* Flags of ebcc_instance_delete(). */
#define EBCC_DELETE_FORCE (UINT32_C(1) << 0)

/*
 * Creates composite id from the OCI bundle at bundle_dir: validates the id, reads
 * <bundle>/config.json and the stage manifest (<bundle>/ebcc.json, or the file named by the
 * annotation org.ebcc.manifest), measures every stage image, copies the config into the state,
 * and, if the config has a process, starts it held before exec so that its pid is known while
 * the status is "created" (the program itself runs only after ebcc_instance_start()). With the
 * context option anchor=external no process is started; the embedder runs it and reports it with
 * ebcc_instance_set_pid(). On failure nothing is left on disk.
 * Errors: EBCC_ERR_INVALID_ARG (bad id, bad config or manifest: the message names the file and
 * field), EBCC_ERR_NOT_FOUND (bundle, config, manifest, image or backend missing),
 * EBCC_ERR_EXISTS (id in use, also when another process wins a race for it), EBCC_ERR_TOO_BIG,
 * EBCC_ERR_VERIFY (an image does not match its pinned measurement), EBCC_ERR_PERMISSION,
 * EBCC_ERR_IO, EBCC_ERR_NO_MEMORY. Thread-safe.
 */
int ebcc_instance_create(struct ebcc_context *ctx, const char *id, const char *bundle_dir,
			 struct ebcc_instance **ret_inst);

/* Who runs a composite's anchor (struct ebcc_instance_options). */
#define EBCC_ANCHOR_CONTEXT 0  /* as the context's anchor option says (by default: spawn) */
#define EBCC_ANCHOR_SPAWN 1    /* the library runs the bundle's process, held until start */
#define EBCC_ANCHOR_EXTERNAL 2 /* the embedder runs it and reports it (ebcc_instance_set_pid) */

/*
 * How one composite is created (since LIBEBCC_0.2), for what differs between composites of
 * one context. Set it up with ebcc_instance_options_init() (or EBCC_INSTANCE_OPTIONS_INIT), which
 * sets size: a caller built against this header keeps working when later versions add
 * fields, which then read as their defaults.
 */
struct ebcc_instance_options {
	uint32_t size;           /* sizeof(struct ebcc_instance_options) as the caller was built */
	uint32_t anchor;         /* EBCC_ANCHOR_* */
	const char *backend;     /* the backend when the manifest names none; NULL: the
				  * context's default_backend */
};

#define EBCC_INSTANCE_OPTIONS_INIT { sizeof(struct ebcc_instance_options), EBCC_ANCHOR_CONTEXT, NULL }

/* Zeroes *options and sets its size. */
void ebcc_instance_options_init(struct ebcc_instance_options *options);

/*
 * ebcc_instance_create() with options (NULL: the defaults). Errors: those of
 * ebcc_instance_create(), and EBCC_ERR_INVALID_ARG for options whose size is below the first
 * version's or an anchor that is not an EBCC_ANCHOR_* value, EBCC_ERR_NOT_FOUND for a backend
 * that is not registered, EBCC_ERR_ABI for a larger size whose unknown bytes are not zero.
 * Thread-safe.
 */
int ebcc_instance_create_with(struct ebcc_context *ctx, const char *id, const char *bundle_dir,
			      const struct ebcc_instance_options *options,
			      struct ebcc_instance **ret_inst);

/*
 * Opens an existing composite from any process. A composite whose creation was interrupted
 * opens with status "creating" and can only be deleted with EBCC_DELETE_FORCE.
 * Errors: EBCC_ERR_INVALID_ARG, EBCC_ERR_NOT_FOUND, EBCC_ERR_CORRUPT (state unreadable),
 * EBCC_ERR_PERMISSION, EBCC_ERR_NO_MEMORY. Thread-safe.
 */
int ebcc_instance_open(struct ebcc_context *ctx, const char *id, struct ebcc_instance **ret_inst);

/* Adds a reference. Returns inst (NULL gives NULL). Thread-safe. */
struct ebcc_instance *ebcc_instance_ref(struct ebcc_instance *inst);

/* Drops a reference; never stops or deletes the composite. Returns NULL. Thread-safe. */
struct ebcc_instance *ebcc_instance_unref(struct ebcc_instance *inst);

/*
 * Starts a created composite: loads its instance-lifetime stages in their backend, then
 * releases the anchor to run its program. Status becomes "running".
 * Errors: EBCC_ERR_STATE (not "created"), EBCC_ERR_NOT_FOUND (deleted), EBCC_ERR_VERIFY (an
 * image changed since create), EBCC_ERR_BACKEND, EBCC_ERR_UNAVAILABLE, EBCC_ERR_STAGE,
 * EBCC_ERR_IO. On failure stages loaded by the call are unloaded again. Thread-safe.
 */
int ebcc_instance_start(struct ebcc_instance *inst);

/*
 * Stops the composite: unloads its stages and sends signo (1..64) to the anchor. Without an
 * anchor the composite is stopped at once, as if the anchor had been killed by signo.
 * Errors: EBCC_ERR_STATE (not "created" or "running"), EBCC_ERR_INVALID_ARG (signo),
 * EBCC_ERR_NOT_FOUND, EBCC_ERR_PERMISSION, EBCC_ERR_IO. Thread-safe.
 */
int ebcc_instance_kill(struct ebcc_instance *inst, int signo);

/*
 * Waits until the composite is "stopped" and stores the anchor's exit status, encoded as
 * waitpid(2) would, in *ret_exit_status (may be NULL). It works from any process. The status is
 * -1 when it cannot be known: the anchor was run by the embedder (ebcc_instance_set_pid()).
 * timeout_ms < 0 waits forever; 0 only checks.
 * Errors: EBCC_ERR_TIMEOUT, EBCC_ERR_NOT_FOUND, EBCC_ERR_STATE ("creating"), EBCC_ERR_IO.
 * Thread-safe.
 */
int ebcc_instance_wait(struct ebcc_instance *inst, int timeout_ms, int *ret_exit_status);

/*
 * Deletes a stopped composite and everything its creation made; with EBCC_DELETE_FORCE also a
 * created, running or half-created one (it is killed first). The handle stays valid for
 * ebcc_instance_unref(); every other call on it then fails with EBCC_ERR_NOT_FOUND.
 * Errors: EBCC_ERR_STATE (not stopped, without EBCC_DELETE_FORCE), EBCC_ERR_INVALID_ARG
 * (unknown flags), EBCC_ERR_NOT_FOUND, EBCC_ERR_IO. Thread-safe.
 */
int ebcc_instance_delete(struct ebcc_instance *inst, uint32_t flags);

/*
 * The current status (EBCC_STATUS_*), derived afresh from the anchor's liveness, its exit
 * record and the composite's state; or EBCC_ERR_NOT_FOUND, EBCC_ERR_CORRUPT. Thread-safe.
 */
int ebcc_instance_status(struct ebcc_instance *inst);

/*
 * The OCI state of the composite as JSON (free with ebcc_free()): ociVersion, id, status,
 * pid, bundle, annotations, plus an "ebcc" object with the backend, the stages (name,
 * lifetime, measurement, eid or null), the creation time and, once stopped, the exit status.
 * Errors: EBCC_ERR_NOT_FOUND, EBCC_ERR_CORRUPT, EBCC_ERR_NO_MEMORY. Thread-safe.
 */
int ebcc_instance_state(struct ebcc_instance *inst, char **ret_json);

/*
 * Reports the anchor that the embedder started itself (for example the container process of a
 * runtime calling libebcc from a hook). Allowed while "created" or "running" when no anchor
 * is known yet.
 * Errors: EBCC_ERR_INVALID_ARG (pid <= 0), EBCC_ERR_NOT_FOUND (no such process, or deleted),
 * EBCC_ERR_STATE (wrong status, or an anchor is already known), EBCC_ERR_IO. Thread-safe.
 */
int ebcc_instance_set_pid(struct ebcc_instance *inst, int pid);

/*
 * Every composite under the context's state root, as a JSON array of objects {"id", "status",
 * "pid", "bundle", "created"} sorted by id (free with ebcc_free()); a composite whose creation
 * was interrupted has only id and status. A missing state root gives [].
 * Errors: EBCC_ERR_INVALID_ARG, EBCC_ERR_IO, EBCC_ERR_NO_MEMORY. Thread-safe.
 */
int ebcc_instance_list(struct ebcc_context *ctx, char **ret_json);

/* ------------------------------------------------------------------------------------------ */
/* Stages and invocations                                                                     */

/* One completed invocation: its sequence number, response and evidence. */
struct ebcc_invocation;

/* One piece of evidence: the envelope that binds a request and response to a measured stage. */
struct ebcc_evidence;

/* The largest nonce ebcc_stage_invoke() accepts, in bytes. */
#define EBCC_NONCE_MAX 64

/*
 * Sends request to stage of a running composite, waits for the response and the stage's
 * binding of (instance, stage, EID, seq, measurement, nonce, request digest, response digest),
 * checks that binding, takes the TEE's report over it, and persists the invocation's artifacts
 * under stages/<stage>/<seq>/ before returning. nonce may be NULL when nonce_len is 0.
 * Errors: EBCC_ERR_STATE (not running), EBCC_ERR_NOT_FOUND (no such stage), EBCC_ERR_TOO_BIG
 * (request above the stage's maxRequest or the max_request option; nonce above 64 bytes),
 * EBCC_ERR_TIMEOUT, EBCC_ERR_STAGE (the stage crashed, misbehaved or is dead), EBCC_ERR_BACKEND,
 * EBCC_ERR_IO. A failed invocation still leaves meta.json and log.txt saying what happened.
 * Thread-safe; calls on different stages run in parallel.
 */
int ebcc_stage_invoke(struct ebcc_instance *inst, const char *stage, const void *request,
		      size_t request_len, const void *nonce, size_t nonce_len,
		      struct ebcc_invocation **ret_inv);

/* A trace id, at most this many bytes (struct ebcc_invoke_options). */
#define EBCC_TRACE_ID_MAX 128

/*
 * The options of one invocation (since LIBEBCC_0.2). Set them up with ebcc_invoke_options_init()
 * (or EBCC_INVOKE_OPTIONS_INIT), which sets size: a caller built against this header keeps
 * working when later versions add fields, which then read as their defaults.
 */
struct ebcc_invoke_options {
	uint32_t size;        /* sizeof(struct ebcc_invoke_options) as the caller was built */
	uint32_t timeout_ms;  /* this call's deadline: 0 the stage's timeoutMs, else at most it */
	const void *nonce;    /* bound into the evidence; may be NULL when nonce_len is 0 */
	size_t nonce_len;     /* at most EBCC_NONCE_MAX */
	const char *trace_id; /* NULL, or 1..EBCC_TRACE_ID_MAX of ASCII 0x21..0x7e other than
			       * '"' and '\': kept in meta.json and the log line */
};

#define EBCC_INVOKE_OPTIONS_INIT { sizeof(struct ebcc_invoke_options), 0, NULL, 0, NULL }

/* Zeroes *options and sets its size. */
void ebcc_invoke_options_init(struct ebcc_invoke_options *options);

/*
 * ebcc_stage_invoke() with options (NULL: the defaults). A timeout shorter than the stage's
 * ends a call that runs longer with EBCC_ERR_TIMEOUT, as the stage's own does (a warm stage is
 * then stopped); a backend that cannot bound one call (optee) refuses a timeout with
 * EBCC_ERR_INVALID_ARG. Errors: those of ebcc_stage_invoke(), and EBCC_ERR_INVALID_ARG for
 * options whose size is below the first version's, a timeout above the stage's timeoutMs or a
 * trace_id that is not as above; EBCC_ERR_ABI for a larger size whose unknown bytes are not
 * zero. Thread-safe.
 */
int ebcc_stage_invoke_with(struct ebcc_instance *inst, const char *stage, const void *request,
			   size_t request_len, const struct ebcc_invoke_options *options,
			   struct ebcc_invocation **ret_inv);

/*
 * Describes stage as JSON (free with ebcc_free()): name, lifetime, backend, measurement, image,
 * directory (where its invocations' artifacts are), eid (null when not loaded), limits, the
 * isolation achieved, the last sequence number.
 * Errors: EBCC_ERR_NOT_FOUND, EBCC_ERR_CORRUPT, EBCC_ERR_NO_MEMORY. Thread-safe.
 */
int ebcc_stage_info(struct ebcc_instance *inst, const char *stage, char **ret_json);

/*
 * The response bytes. Borrowed: valid until the invocation is freed. *ret_data may be NULL
 * when *ret_len is 0. Errors: EBCC_ERR_INVALID_ARG. Thread-safe.
 */
int ebcc_invocation_response(struct ebcc_invocation *inv, const void **ret_data, size_t *ret_len);

/* The invocation's sequence number (>= 1), or 0 when inv is NULL. Thread-safe. */
uint64_t ebcc_invocation_seq(struct ebcc_invocation *inv);

/* A new reference to the invocation's evidence. Errors: EBCC_ERR_INVALID_ARG. Thread-safe. */
int ebcc_invocation_evidence(struct ebcc_invocation *inv, struct ebcc_evidence **ret_ev);

/* Adds a reference. Returns inv (NULL gives NULL). Thread-safe. */
struct ebcc_invocation *ebcc_invocation_ref(struct ebcc_invocation *inv);

/* Drops a reference. Returns NULL. Thread-safe. */
struct ebcc_invocation *ebcc_invocation_unref(struct ebcc_invocation *inv);

/* ------------------------------------------------------------------------------------------ */
/* Evidence                                                                                   */

/*
 * Loads the evidence of invocation seq of stage from the composite's artifacts, from any
 * process; seq 0 means the latest.
 * Errors: EBCC_ERR_NOT_FOUND (no such stage or invocation, or it failed and has no evidence),
 * EBCC_ERR_CORRUPT, EBCC_ERR_IO, EBCC_ERR_NO_MEMORY. Thread-safe.
 */
int ebcc_evidence_get(struct ebcc_instance *inst, const char *stage, uint64_t seq,
		      struct ebcc_evidence **ret_ev);

/*
 * The evidence envelope as JSON text (free with ebcc_free()); ebcc_evidence_parse() of it gives
 * the same evidence back. Errors: EBCC_ERR_INVALID_ARG, EBCC_ERR_NO_MEMORY. Thread-safe.
 */
int ebcc_evidence_serialize(struct ebcc_evidence *ev, char **ret_json);

/*
 * Parses an evidence envelope (len bytes, at most 1 MiB; no NUL terminator needed). Nothing
 * is verified yet, but the envelope must be well-formed: known version, every field present,
 * no unknown field, correct lengths, valid hex and base64, nothing after the JSON value.
 * Errors: EBCC_ERR_INVALID_ARG (NULL), EBCC_ERR_TOO_BIG (over 1 MiB), EBCC_ERR_VERIFY
 * (malformed: the message names the field), EBCC_ERR_NO_MEMORY. Thread-safe.
 */
int ebcc_evidence_parse(struct ebcc_context *ctx, const char *data, size_t len,
			struct ebcc_evidence **ret_ev);

/*
 * Verifies evidence offline: recomputes report_data from the envelope's fields, has the named
 * backend check the report against the policy's trusted_keys, then applies the policy (JSON
 * object, NULL for none): trusted_keys (array of PEM public keys), measurement, nonce (hex),
 * request_digest, response_digest ("sha256:<hex>"), allow_simulated (default false),
 * backend_options (an object the backend reads). Unknown policy keys are refused.
 * Needs no state root and no instance: only the evidence, the policy and the keys.
 * Errors: EBCC_ERR_VERIFY (any mismatch or malformed policy: the message names the field,
 * expected against found), EBCC_ERR_NOT_FOUND (the envelope's backend is not registered),
 * EBCC_ERR_INVALID_ARG, EBCC_ERR_NO_MEMORY. Thread-safe.
 */
int ebcc_evidence_verify(struct ebcc_context *ctx, struct ebcc_evidence *ev, const char *policy_json);

/*
 * ebcc_evidence_verify(), and on success the verification's claims as a JSON object (free with
 * ebcc_free()) in *ret_claims_json: "evidence" (the envelope's instance, stage, eid, seq,
 * measurement, backend, format, simulated, nonce, request_digest, response_digest) and "backend"
 * (the backend's verdict on its report: what it checked and what it did not, see
 * ebcc-backends(7)). *ret_claims_json is left as it was on failure. Same errors. Thread-safe.
 * Since LIBEBCC_0.2.
 */
int ebcc_evidence_verify_claims(struct ebcc_context *ctx, struct ebcc_evidence *ev,
				const char *policy_json, char **ret_claims_json);

struct ebcc_policy;

/*
 * How evidence is verified (since LIBEBCC_0.2). Set it up with ebcc_verify_options_init() (or
 * EBCC_VERIFY_OPTIONS_INIT), which sets size.
 */
struct ebcc_verify_options {
	uint32_t size;                    /* sizeof(struct ebcc_verify_options) as the caller was built */
	uint32_t flags;                   /* none is defined yet: 0 */
	const struct ebcc_policy *policy; /* a policy built with ebcc_policy_new(), or */
	const char *policy_json;          /* its JSON text; at most one of the two (neither: none) */
};

#define EBCC_VERIFY_OPTIONS_INIT { sizeof(struct ebcc_verify_options), 0, NULL, NULL }

/* Zeroes *options and sets its size. */
void ebcc_verify_options_init(struct ebcc_verify_options *options);

/*
 * ebcc_evidence_verify() with options (NULL: no policy); with ret_claims_json not NULL, on
 * success the claims of ebcc_evidence_verify_claims() (free with ebcc_free()), left as they were
 * on failure. Errors: those of ebcc_evidence_verify(), and EBCC_ERR_INVALID_ARG for options
 * whose size is below the first version's, unknown flags, or both policy and policy_json set;
 * EBCC_ERR_ABI for a larger size whose unknown bytes are not zero. Thread-safe.
 */
int ebcc_evidence_verify_with(struct ebcc_context *ctx, struct ebcc_evidence *ev,
			      const struct ebcc_verify_options *options, char **ret_claims_json);

/* The envelope's fields, for ebcc_evidence_get_text(), _u64() and _bytes(); the numbers are
 * fixed forever. */
#define EBCC_EVIDENCE_BACKEND 1         /* text: the backend's name */
#define EBCC_EVIDENCE_FORMAT 2          /* text: the report's format, e.g. "ebcc.sim.v1" */
#define EBCC_EVIDENCE_INSTANCE 3        /* text: the composite's id */
#define EBCC_EVIDENCE_STAGE 4           /* text: the stage's name */
#define EBCC_EVIDENCE_MEASUREMENT 5     /* text: "<alg>:<hex>", as the backend loaded the stage */
#define EBCC_EVIDENCE_EID 6             /* u64 */
#define EBCC_EVIDENCE_SEQ 7             /* u64 */
#define EBCC_EVIDENCE_SIMULATED 8       /* u64: 1 when the backend is a simulation, else 0 */
#define EBCC_EVIDENCE_NONCE 9           /* bytes: 0 to EBCC_NONCE_MAX */
#define EBCC_EVIDENCE_REQUEST_DIGEST 10 /* bytes: SHA-256 of the request, 32 */
#define EBCC_EVIDENCE_RESPONSE_DIGEST 11 /* bytes: SHA-256 of the response, 32 */
#define EBCC_EVIDENCE_REPORT_DATA 12    /* bytes: what the backend's report covers, 64 */
#define EBCC_EVIDENCE_REPORT 13         /* bytes: the backend's raw report */

/*
 * One field of the envelope, borrowed from ev (valid while ev is): a NUL-terminated text, a
 * number, or bytes (*ret points at *ret_len bytes; a nonce of 0 bytes gives a non-NULL pointer).
 * Nothing is verified: read fields of evidence that ebcc_evidence_verify() accepted.
 * Errors: EBCC_ERR_INVALID_ARG (NULL, an unknown field, or a field of another type: the message
 * names the function to use). Thread-safe. Since LIBEBCC_0.2.
 */
int ebcc_evidence_get_text(struct ebcc_evidence *ev, int field, const char **ret);
int ebcc_evidence_get_u64(struct ebcc_evidence *ev, int field, uint64_t *ret);
int ebcc_evidence_get_bytes(struct ebcc_evidence *ev, int field, const uint8_t **ret,
			    size_t *ret_len);

/*
 * Verifies a raw hardware report of len bytes (at most 1 MiB) that did not come in an evidence
 * envelope: for backend "tsm", an Intel TDX quote (v4, v5, zero padding allowed) or an AMD
 * SEV-SNP attestation report; for backend "keystone", a Keystone security monitor's 1352-byte
 * report (ebcc-backends(7)); checked by the named backend against the policy alone. Trust
 * roots come only from the policy (backend_options.tsm.tdx_root_ca, snp_ark; certificates the
 * report does not carry in snp_certs; trusted_keys), certificates are checked at the policy's
 * verification_time (default: now). Policy keys that check an envelope (measurement, nonce,
 * request_digest, response_digest, allow_simulated) are refused. On success *ret_claims_json
 * (free with ebcc_free()) is a JSON object of what the report says and what was verified
 * (report_data, measurement, debug, TCB figures, signer, root); see ebcc_report_verify(3).
 * Errors: EBCC_ERR_INVALID_ARG (NULL, len 0), EBCC_ERR_TOO_BIG, EBCC_ERR_VERIFY (the report or
 * policy is refused: the message says why), EBCC_ERR_NOT_FOUND (no such backend),
 * EBCC_ERR_NO_MEMORY. Thread-safe. Backend "sgx" takes an Intel SGX DCAP quote v3 (zero padding
 * allowed), its trust roots in backend_options.sgx.root_ca.
 */
int ebcc_report_verify(struct ebcc_context *ctx, const char *backend, const void *data,
		       size_t len, const char *policy_json, char **ret_claims_json);

/*
 * A verification policy built key by key, so that callers never write JSON or escape PEM by
 * hand; ebcc_policy_to_json() gives the text that ebcc_evidence_verify() and
 * ebcc_report_verify() take (and that a verifier can keep in a file). Each setter checks its
 * value as the verifier will and leaves the policy as it was when it refuses one. A policy is
 * not thread-safe: use it from one thread at a time. Since LIBEBCC_0.2.
 */
struct ebcc_policy;

/* An empty policy (it trusts no key). Errors: EBCC_ERR_INVALID_ARG, EBCC_ERR_NO_MEMORY. */
int ebcc_policy_new(struct ebcc_policy **ret_policy);

/* Appends a PEM public key to trusted_keys. Errors: EBCC_ERR_INVALID_ARG (NULL, not one PEM
 * block), EBCC_ERR_NO_MEMORY. */
int ebcc_policy_add_trusted_key(struct ebcc_policy *policy, const char *pem);

/*
 * Sets a top-level key: "measurement", "nonce" (hex), "request_digest", "response_digest"
 * ("sha256:<hex>") or "verification_time" (RFC 3339) to a string; "allow_simulated" to a
 * boolean with ebcc_policy_set_bool(). Errors: EBCC_ERR_INVALID_ARG (NULL, an unknown key or a
 * key of the other type, a malformed value: the message says what it must be),
 * EBCC_ERR_NO_MEMORY.
 */
int ebcc_policy_set_string(struct ebcc_policy *policy, const char *key, const char *value);
int ebcc_policy_set_bool(struct ebcc_policy *policy, const char *key, int value);

/*
 * Sets backend_options.<backend>.<key> to value_json, one JSON value ("true", "\"text\"",
 * "{...}"; a string is quoted by ebcc_policy_set_backend_string()). What the key means is the
 * backend's (ebcc-backends(7)); the backend checks it when it verifies. Errors:
 * EBCC_ERR_INVALID_ARG (NULL, a backend name that is not [a-z0-9_-]{1,32}, value_json that is
 * not one JSON value), EBCC_ERR_NO_MEMORY.
 */
int ebcc_policy_set_backend_json(struct ebcc_policy *policy, const char *backend,
				 const char *key, const char *value_json);
int ebcc_policy_set_backend_string(struct ebcc_policy *policy, const char *backend,
				   const char *key, const char *value);

/* The policy as JSON text (free with ebcc_free()). Errors: EBCC_ERR_INVALID_ARG,
 * EBCC_ERR_NO_MEMORY. */
int ebcc_policy_to_json(struct ebcc_policy *policy, char **ret_json);

/* Frees the policy. Returns NULL. */
struct ebcc_policy *ebcc_policy_free(struct ebcc_policy *policy);

/* Adds a reference. Returns ev (NULL gives NULL). Thread-safe. */
struct ebcc_evidence *ebcc_evidence_ref(struct ebcc_evidence *ev);

/* Drops a reference. Returns NULL. Thread-safe. */
struct ebcc_evidence *ebcc_evidence_unref(struct ebcc_evidence *ev);

/* ------------------------------------------------------------------------------------------ */
/* Secrets released to attested stages (ebcc-secrets(7))                                      */

/* The field of evidence version 3: the X25519 public key the stage made for the answer
 * (ebcc_stage_key_public()), 32 bytes, bound by report_data; 0 bytes in other versions. */
#define EBCC_EVIDENCE_PUBLIC_KEY 14
/* The field of evidence version 4: the SHA-256 of the image the stage decrypted and loaded
 * (ebcc_stage_load_image()), 32 bytes, bound by report_data of every answer after the load;
 * 0 bytes in other versions. */
#define EBCC_EVIDENCE_IMAGE_DIGEST 15
/* The largest secret ebcc_secret_seal() seals, in bytes (1 MiB). */
#define EBCC_SECRET_MAX 1048576

/*
 * Releases secret (secret_len bytes, at most EBCC_SECRET_MAX) to the stage whose evidence ev
 * is: verifies ev under the options' policy (a policy object or its JSON text) as
 * ebcc_evidence_verify_with() does (the policy is required and must pin "measurement" and
 * "nonce"; simulated evidence needs "allow_simulated"), then seals
 * the secret to the public key that ev binds (evidence version 3): X25519 with a fresh key,
 * HKDF-SHA-256 salted with ev's report_data, AES-256-GCM whose associated data covers the
 * instance, stage, measurement, report_data and both keys. Only that stage process opens it,
 * with ebcc_stage_open_secret(), and only once. On success *ret_sealed (free with ebcc_free())
 * holds *ret_sealed_len bytes in the format of ebcc-secrets(7); nothing is written on failure.
 * Errors: EBCC_ERR_INVALID_ARG (NULL, no policy, a policy without measurement or nonce, options
 * refused as by ebcc_evidence_verify_with()), EBCC_ERR_ABI (options of a later version),
 * EBCC_ERR_TOO_BIG, EBCC_ERR_VERIFY (ev binds no public key, or verification failed: the
 * message names the field), EBCC_ERR_NOT_FOUND (ev's backend is not registered),
 * EBCC_ERR_NO_MEMORY. Thread-safe. Since LIBEBCC_0.2.
 */
int ebcc_secret_seal(struct ebcc_context *ctx, struct ebcc_evidence *ev,
		     const struct ebcc_verify_options *options, const void *secret,
		     size_t secret_len, void **ret_sealed, size_t *ret_sealed_len);

#ifdef __cplusplus
}
#endif

#endif /* EBCC_EBCC_H */
