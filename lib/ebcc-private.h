/* SPDX-License-Identifier: MIT */
/* Internal declarations shared by the library's modules. Nothing here is part of the ABI. */
#ifndef EBCC_PRIVATE_H
#define EBCC_PRIVATE_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "ebcc/ebcc.h"

#include "ebcc-base.h"

/* The built-in backends the core registers (backends/). */
#include "../backends/builtin.h"

/* Marks a definition as part of the exported ABI; everything else is hidden. */
#define EBCC_EXPORT __attribute__((visibility("default")))

/* ---- option structs that grow (lib/structopts.c) ----------------------------------------- */

/*
 * Copies the caller's size-versioned options (their first member is uint32_t size) into out,
 * which holds the defaults and is known bytes long: a NULL in leaves the defaults, a size
 * below known is EBCC_ERR_INVALID_ARG, non-zero bytes beyond known are EBCC_ERR_ABI. function
 * and init (the struct's _init function) are named in messages. out->size becomes known.
 */
int ebcc__struct_options_copy(const void *in, size_t known, void *out, const char *function,
			      const char *init);

/* ---- context (lib/context.c, lib/options.c, lib/log.c) ----------------------------------- */

enum ebcc_durability {
	EBCC_DURABILITY_NONE,
	EBCC_DURABILITY_FSYNC,
};

enum ebcc_artifacts {
	EBCC_ARTIFACTS_FULL,
	EBCC_ARTIFACTS_DIGESTS,
};

/* Hard caps on numeric options. */
#define EBCC_RETENTION_MAX 1000000000u
#define EBCC_MAX_REQUEST_CAP (UINT64_C(1) << 30) /* 1 GiB */
#define EBCC_MAX_REQUEST_DEFAULT (UINT64_C(64) << 20)

struct ebcc_options {
	char *state_root; /* absolute; NULL when no default could be derived */
	char *plugin_dir; /* absolute or NULL */
	char *default_backend;
	enum ebcc_durability durability;
	enum ebcc_artifacts artifacts;
	uint32_t retention; /* invocations kept per stage; 0 = unlimited */
	bool anchor_external; /* create never runs the bundle's process itself */
	uint64_t max_request;
	int log_level; /* EBCC_LOG_* threshold */
	uint32_t sandbox_pool;         /* pre-warmed sandboxes for per-invocation stages; 0: none */
	uint32_t sandbox_pool_idle_ms; /* how long one may wait unused */
};

struct ebcc_backend;

struct ebcc_context {
	int refcount; /* atomic */
	pthread_mutex_t lock; /* guards opts, the log destination and the registry */
	struct ebcc_options opts;
	ebcc_log_fn log_fn; /* NULL: stderr when log_stderr */
	void *log_userdata;
	bool log_stderr; /* EBCC_LOG_LEVEL was set */
	/* Registered backends in registration order; entries are never removed before the
	 * context is freed, so pointers to them stay valid as long as the context. */
	struct ebcc_backend **backends;
	size_t n_backends;
	/* Plugins load on the first lookup after plugin_dir is set (also by default), never
	 * before: a log function set meanwhile hears what failed. Generations, atomic. */
	pthread_mutex_t plugin_lock; /* serializes loading */
	unsigned plugin_dir_wanted, plugin_dir_loaded;
	/* Backend data directories kept open, by state root (lib/session.c). */
	struct {
		const struct ebcc_backend *backend;
		dev_t root_dev;
		ino_t root_ino;
		int fd;
	} data_dirs[16];
	size_t n_data_dirs;
	/* Pre-warmed sandboxes (backends/common/sandbox-pool.h), made on first use; under lock. */
	struct ebcc__sandbox_pool *sandbox_pool;
};

/* The context's sandbox pool as its options configure it (with sandbox_pool=0 it keeps no
 * sandboxes and only reaps what invocations ended), or NULL when out of memory. */
struct ebcc_backend_env;
struct ebcc__sandbox_pool *ebcc__context_sandbox_pool(struct ebcc_context *ctx);
/* The same for a backend environment the core made; NULL for any other. The built-in
 * backends reach it through ebcc__env_sandbox_pool() (backends/common/backend-env.h), whose
 * lookup ebcc__registry_init() sets to this. */
struct ebcc__sandbox_pool *ebcc__session_sandbox_pool(const struct ebcc_backend_env *env);

int ebcc__options_init(struct ebcc_options *opts);
void ebcc__options_clear(struct ebcc_options *opts);
/* Parses and applies one option; on failure opts is unchanged. */
int ebcc__options_set(struct ebcc_options *opts, const char *key, const char *value);
int ebcc__options_get(const struct ebcc_options *opts, const char *key, char **ret_value);
/* Parses a level name (err, warning, info, debug) or number 3..7; -1 when invalid. */
int ebcc__log_level_parse(const char *text);

/* Logs one formatted line if priority passes the context's threshold. Thread-safe. */
void ebcc__log(struct ebcc_context *ctx, int priority, const char *fmt, ...) EBCC_PRINTF(3, 4);

#define ebcc__log_debug(ctx, ...) ebcc__log(ctx, EBCC_LOG_DEBUG, __VA_ARGS__)
#define ebcc__log_info(ctx, ...) ebcc__log(ctx, EBCC_LOG_INFO, __VA_ARGS__)
#define ebcc__log_warning(ctx, ...) ebcc__log(ctx, EBCC_LOG_WARNING, __VA_ARGS__)
#define ebcc__log_err(ctx, ...) ebcc__log(ctx, EBCC_LOG_ERR, __VA_ARGS__)

/* ---- the state root (lib/stateroot.c) --------------------------------------------------- */

/* Library-wide data under the state root; never a valid instance id. */
#define EBCC_PRIVATE_DIR ".ebcc"

/* A copy of the state_root option, or EBCC_ERR_INVALID_ARG when there is none. */
int ebcc__state_root_path(struct ebcc_context *ctx, char **ret_path);
/* Opens (and with create, makes 0700) the state root. ret_path may be NULL. */
int ebcc__state_root_open(struct ebcc_context *ctx, bool create, int *ret_fd, char **ret_path);
/* Opens <state_root>/.ebcc/<sub>, creating it 0700 when asked. */
int ebcc__private_dir_open(int root_fd, const char *sub, bool create, int *ret_fd);

/* ---- backends (lib/registry.c, session.c, probe.c) ------------------------------------- */

#include "ebcc/backend.h"

struct ebcc_backend {
	struct ebcc_backend_ops ops; /* copied; fields beyond the registrant's size are zero */
	void *userdata;
	void *dl_handle; /* the plugin, or NULL for a built-in or registered backend */
	char name[33];
};

/* "enclave", "vm", "embedded", or NULL for an unknown EBCC_ISOLATION_* value. */
const char *ebcc__isolation_name(uint32_t isolation);
/* Registers the built-in backends; the plugins of plugin_dir load on the first lookup. */
int ebcc__registry_init(struct ebcc_context *ctx);
/* Asks for the plugins of the (new) plugin_dir to be loaded on the next lookup. */
void ebcc__registry_plugin_dir_changed(struct ebcc_context *ctx);
/* Calls destroy() of every backend and unloads plugins. */
void ebcc__registry_free(struct ebcc_context *ctx);
/* Finds a backend by name: EBCC_ERR_NOT_FOUND naming it. Valid as long as ctx. */
int ebcc__backend_find(struct ebcc_context *ctx, const char *name,
		       const struct ebcc_backend **ret);

#define EBCC_BACKEND_DATA_DIR_MAX 80 /* ".ebcc/backends/<name>", name up to 32 bytes */

/* A backend callback's environment together with what the core must release after it. */
struct ebcc_backend_session {
	struct ebcc_backend_env env;
	struct ebcc_context *ctx;
	const struct ebcc_backend *backend;
	char data_dir[EBCC_BACKEND_DATA_DIR_MAX];
	bool error_set; /* the backend called env->set_error() */
};

/* Prepares env for calls into b. With root_fd >= 0 the backend's data directory
 * (<state_root>/.ebcc/backends/<name>, 0700) is created and opened; with -1 there is none. */
int ebcc__backend_session_open(struct ebcc_backend_session *s, struct ebcc_context *ctx,
			       const struct ebcc_backend *b, int root_fd);
void ebcc__backend_session_close(struct ebcc_backend_session *s);
/* After a callback failed with r: makes sure the last error names the backend; returns r
 * (a non-EBCC code becomes EBCC_ERR_BACKEND). */
int ebcc__backend_failed(const struct ebcc_backend_session *s, const char *what, int r);

/* The policy text of verification options (a policy object's own JSON in *ret_built: free it),
 * the options checked as ebcc_evidence_verify_with() checks them; messages name function. */
int ebcc__verify_options_policy(const struct ebcc_verify_options *options, const char *function,
				const char **ret_text, char **ret_built);

/* Calls into a backend's callbacks (lib/backendcall.c), the only place that makes them. Each
 * returns 0 or a negative EBCC_ERR_* with a message naming backend, callback and stage;
 * ebcc__call_probe() returns 1 (available) or 0; what a failed callback returned is freed. */
int ebcc__call_init(const struct ebcc_backend_session *s, void **userdata);
void ebcc__call_destroy(const struct ebcc_backend *b);
int ebcc__call_probe(const struct ebcc_backend_session *s, char **ret_details);
int ebcc__call_attestation_key(const struct ebcc_backend_session *s, char **ret_pem);
int ebcc__call_stage_load(const struct ebcc_backend_session *s,
			  const struct ebcc_backend_stage_params *params,
			  struct ebcc_backend_stage *out);
bool ebcc__backend_can_open(const struct ebcc_backend *b);
int ebcc__call_stage_open(const struct ebcc_backend_session *s,
			  const struct ebcc_backend_stage_params *params, uint64_t eid,
			  const char *ref, void **ret_handle);
int ebcc__call_stage_invoke(const struct ebcc_backend_session *s, void *handle, const char *stage,
			    const struct ebcc_backend_binding *binding, const void *request,
			    size_t request_len, struct ebcc_backend_invocation *ret);
int ebcc__call_stage_report(const struct ebcc_backend_session *s, void *handle, const char *stage,
			    const uint8_t *report_data, size_t report_data_len,
			    struct ebcc_backend_buffer *ret_report);
int ebcc__call_stage_unload(const struct ebcc_backend_session *s, void *handle);
/* A stage image's measurement (measure_image, or SHA-256 of the file without one), checked to
 * be a measurement the core can record. */
int ebcc__call_measure_image(const struct ebcc_backend_session *s, int fd, const char *what,
			     char out[EBCC_MEASUREMENT_MAX]);
void ebcc__call_stage_close(const struct ebcc_backend *b, void *handle);
/* A refusal is EBCC_ERR_VERIFY, "<what> rejected: ..."; only running out of memory is not. */
int ebcc__call_verify_report(const struct ebcc_backend_session *s,
			     const struct ebcc_backend_report_check *check, const char *what,
			     char **ret_verdict);

/* ---- bundles: config.json (lib/ociconfig.c) and the stage manifest (lib/manifest.c) ----- */

#define EBCC_ID_MAX 1024

/* Names (lib/names.c): stages and backends [a-z0-9_-]{1,64} and {1,32}, instance ids
 * [A-Za-z0-9_.+-]{1,1024} other than "." and "..". */
bool ebcc__stage_name_valid(const char *name);
bool ebcc__backend_name_valid(const char *name);
bool ebcc__instance_id_valid(const char *id);
#define EBCC_STAGES_MAX 64

struct ebcc_rlimit {
	int resource;
	uint64_t soft, hard;
};

/* The anchor's process, from config.json. Vectors are NULL-terminated. */
struct ebcc_process {
	char **args;
	size_t n_args;
	char **env;
	size_t n_env;
	char *cwd;
	struct ebcc_rlimit *rlimits;
	size_t n_rlimits;
	bool has_user;
	uint32_t uid, gid;
	uint32_t *additional_gids;
	size_t n_gids;
	bool no_new_privileges;
};

struct ebcc_oci_config {
	char *oci_version;
	struct json_object *annotations; /* object of strings */
	char *root_path;                 /* root.path as written, NULL when the config has none */
	struct ebcc_process *process;    /* NULL when the config has none */
};

int ebcc__oci_config_parse(const char *text, size_t len, const char *display,
			   struct ebcc_oci_config **ret);
void ebcc__oci_config_free(struct ebcc_oci_config *c);
void ebcc__process_free(struct ebcc_process *p);
/* The annotation's value, borrowed from c, or NULL. */
const char *ebcc__oci_config_annotation(const struct ebcc_oci_config *c, const char *key);

/* One stage as declared in the manifest, plus what the composite's state records about it. */
struct ebcc_stage_decl {
	char name[EBCC_STAGE_NAME_MAX + 1];
	char *image; /* relative to the manifest's image directory (struct ebcc_image_root) */
	uint32_t lifetime; /* EBCC_LIFETIME_* */
	uint32_t timeout_ms, memory_mib, cpu_seconds, max_files;
	uint64_t max_request, max_response;
	char pinned[EBCC_MEASUREMENT_MAX];      /* "" when the manifest pins nothing */
	char measurement[EBCC_MEASUREMENT_MAX]; /* measured at create */
	char *options_json;                     /* backendOptions, "{}" when absent */
	/* encryptedImage: the image a loader stage decrypts (relative like image) and the policy
	 * its key is released under (JSON text); both NULL when absent. */
	char *encrypted_image;
	char *key_policy_json;
	/* The measurement keyPolicy pins (NULL: none), for create's check; not kept in state. */
	char *key_policy_measurement;
	/* Set while an instance-lifetime stage is loaded (between start and kill). */
	bool loaded;
	uint64_t eid;
	char *ref;
	char *isolation_json;
};

struct ebcc_manifest {
	char *backend; /* NULL: the context's default_backend */
	size_t n_stages;
	struct ebcc_stage_decl *stages;
};

int ebcc__manifest_parse(const char *text, size_t len, const char *display,
			 struct ebcc_manifest **ret);
void ebcc__manifest_free(struct ebcc_manifest *m);
void ebcc__stage_decl_clear(struct ebcc_stage_decl *s);
/* {"image", "keyPolicy"} of a stage with an encryptedImage, for state.json and stage info;
 * NULL when out of memory. */
struct json_object;
struct json_object *ebcc__encrypted_image_json(const struct ebcc_stage_decl *s);
const char *ebcc__lifetime_name(uint32_t lifetime);
int ebcc__lifetime_parse(const char *text, uint32_t *ret);

/* ---- the bundle on disk (lib/bundle.c) -------------------------------------------------- */

/* ---- where a composite's stage images are (lib/imageroot.c) ----------------------------- */

enum ebcc_image_root_kind {
	EBCC_IMAGE_ROOT_BUNDLE,    /* the bundle (ebcc.json, or a bundle-relative annotation) */
	EBCC_IMAGE_ROOT_DIRECTORY, /* the directory of a manifest named by an absolute host path */
	EBCC_IMAGE_ROOT_ROOTFS,    /* inside the container's rootfs (annotation "rootfs:/path") */
};

struct ebcc_image_root {
	enum ebcc_image_root_kind kind;
	char *path; /* absolute host directory, symlinks resolved: bundle, manifest's dir or rootfs */
	char *dir;  /* rootfs: the manifest's directory inside it, relative ("" = its top) */
};

void ebcc__image_root_clear(struct ebcc_image_root *ir);
const char *ebcc__image_root_kind_name(enum ebcc_image_root_kind kind);
int ebcc__image_root_kind_parse(const char *name, enum ebcc_image_root_kind *ret);
/* Whether dir is a relative path without empty, "." or ".." components ("" allowed). */
bool ebcc__image_root_dir_valid(const char *dir);
/* Opens ir->path (O_DIRECTORY|O_CLOEXEC), the descriptor images are opened beneath. */
int ebcc__image_root_open(const struct ebcc_image_root *ir, const char *stage, int *ret_fd);
/*
 * Opens path (relative, checked by the caller: no "." or ".." components) beneath root_fd, a
 * container's rootfs: openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS|RESOLVE_NO_SYMLINKS), or
 * where openat2 is missing a walk that refuses every symlink. Only a regular file is returned.
 * Messages read "<what>: beneath rootfs <root_path>: <reason>"; a symlink, a non-directory on
 * the way or a non-regular file is EBCC_ERR_INVALID_ARG, a missing one EBCC_ERR_NOT_FOUND.
 */
int ebcc__rootfs_open_file(int root_fd, const char *root_path, const char *path,
			   const char *what, int *ret_fd);
/* Describes a stage's image for messages ("<bundle>/stages/x", "rootfs:/ebcc/x beneath
 * rootfs /r"). */
void ebcc__image_root_describe(const struct ebcc_image_root *ir,
			       const struct ebcc_stage_decl *s, char *buf, size_t size);
/* Opens a stage's image beneath root_fd (from ebcc__image_root_open) with the rules of its
 * kind: no symlink followed, regular files only. */
int ebcc__image_root_open_image(const struct ebcc_image_root *ir, int root_fd,
				const struct ebcc_stage_decl *s, int *ret_fd);
/* The same for another file of the stage's, rel beside its image; messages name it as
 * "stage <stage>: <label> <where>". */
int ebcc__image_root_open_file(const struct ebcc_image_root *ir, int root_fd, const char *stage,
			       const char *rel, const char *label, int *ret_fd);

struct ebcc_bundle {
	char *path; /* absolute, symlinks resolved */
	int fd;
	char *config_text;
	size_t config_len;
	struct ebcc_oci_config *config;
	struct ebcc_manifest *manifest;
	struct ebcc_image_root images; /* where the manifest's images are */
	int images_fd;                 /* images.path, opened */
};

/* Reads config.json and the manifest (ebcc.json or the org.ebcc.manifest annotation). */
int ebcc__bundle_load(const char *dir, struct ebcc_bundle **ret);
void ebcc__bundle_free(struct ebcc_bundle *b);
/* Measures every stage image as the session's backend does (its measure_image callback, or
 * SHA-256 of the file) and checks pinned measurements (EBCC_ERR_VERIFY; a pin of another
 * kind than the backend measures, EBCC_ERR_INVALID_ARG). */
int ebcc__bundle_measure(struct ebcc_bundle *b, const struct ebcc_backend_session *s);
/* Opens a regular file below dir_fd; no symlink anywhere on the way is followed. */
int ebcc__bundle_open_file(int dir_fd, const char *relpath, const char *display, int *ret_fd);

/* ---- state.json (lib/state.c) ---------------------------------------------------------- */

enum ebcc_phase {
	EBCC_PHASE_CREATING, /* create has begun and not finished */
	EBCC_PHASE_CREATED,
	EBCC_PHASE_RUNNING,
};

enum ebcc_anchor_mode {
	EBCC_ANCHOR_MODE_NONE,     /* the config has no process */
	EBCC_ANCHOR_MODE_SPAWNED,  /* run by the library, reaped by its monitor */
	EBCC_ANCHOR_MODE_EXTERNAL, /* run by the embedder; pid 0 until ebcc_instance_set_pid() */
};

struct ebcc_state {
	int refcount; /* atomic; ebcc__state_free() drops one */
	char *oci_version;
	char *id;
	char *bundle;
	struct json_object *annotations;
	char *backend;
	char created[40]; /* RFC 3339, UTC */
	enum ebcc_phase phase;
	int kill_signal; /* non-zero once killed */
	enum ebcc_anchor_mode anchor_mode;
	pid_t anchor_pid;
	uint64_t anchor_start;
	pid_t monitor_pid;
	uint64_t monitor_start;
	size_t n_stages;
	struct ebcc_stage_decl *stages;
	struct ebcc_image_root images; /* "imageRoot"; absent in older files: the bundle */
};

int ebcc__state_to_json(const struct ebcc_state *st, char **ret);
/* Parses state.json; anything malformed is EBCC_ERR_CORRUPT. */
int ebcc__state_parse(const char *text, size_t len, const char *display, struct ebcc_state **ret);
void ebcc__state_free(struct ebcc_state *st);
struct ebcc_stage_decl *ebcc__state_stage(struct ebcc_state *st, const char *name);
const char *ebcc__phase_name(enum ebcc_phase phase);

/* ---- the anchor (lib/anchor.c) --------------------------------------------------------- */

/* Everything the anchor's process needs, prepared before forking. */
struct ebcc_anchor_spawn {
	const char *path; /* resolved executable */
	char *const *argv;
	char *const *envp;
	const char *cwd;
	const struct ebcc_rlimit *rlimits;
	size_t n_rlimits;
	bool set_user;
	uid_t uid;
	gid_t gid;
	const gid_t *gids;
	size_t n_gids;
	bool no_new_privs;
	int dir_fd; /* the instance directory: start FIFO and exit record */
	bool durable;
};

struct ebcc_anchor_pids {
	pid_t anchor, monitor;
	uint64_t anchor_start, monitor_start;
};

/* Resolves process.args[0] against the process's PATH. */
int ebcc__anchor_resolve(const struct ebcc_process *p, char **ret_path);
/* Starts monitor and anchor; the anchor waits at its start gate. */
int ebcc__anchor_spawn(const struct ebcc_anchor_spawn *a, struct ebcc_anchor_pids *ret);
/* Opens the start gate: the anchor runs its program. Fails with the errno of its execve(). */
int ebcc__anchor_release(int dir_fd, pid_t anchor, uint64_t anchor_start, int timeout_ms);
/* Tells an anchor waiting at the gate to end without running its program (forced delete of a
 * composite whose creation was interrupted, when its pid may be unknown). While the FIFO
 * exists and nobody reads it, waits up to timeout_ms for an anchor still on its way. */
void ebcc__anchor_stop_at_gate(int dir_fd, int timeout_ms);
/* Whether the start gate is still there (an error other than ENOENT counts as yes): once
 * ebcc_instance_start() has opened it, it is gone. */
bool ebcc__anchor_gate_exists(int dir_fd);
/* The exit record: {"exitStatus":N}, N as waitpid() encodes it. Reading gives
 * EBCC_ERR_NOT_FOUND while there is none, without setting a message (the callers take it as
 * the usual case). */
int ebcc__exit_record_write(int dir_fd, int status, bool durable);
int ebcc__exit_record_read(int dir_fd, int *ret_status);

/* ---- composites (lib/instance.c, create.c, lifecycle.c, ocistate.c, stageload.c) ------- */

#include <limits.h>

struct ebcc_instance {
	int refcount; /* atomic */
	struct ebcc_context *ctx;
	char *id;
	char dir_name[NAME_MAX + 1]; /* the id, or "@<sha256 of the id>" for long ids */
	int root_fd;                 /* the state root */
	char *root_path;             /* its path when the handle was made */
	int dir_fd;                  /* the composite's directory, even after it is deleted */
	bool deleted;                /* atomic: deleted through this handle */
	pthread_mutex_t lock;        /* guards the fields below */
	struct ebcc_state *snapshot; /* the last state read, shared read-only */
	struct stat snapshot_stat;   /* the state.json it was read from */
	struct {
		char name[EBCC_STAGE_NAME_MAX + 1];
		int fd;
	} stage_dirs[EBCC_STAGES_MAX]; /* stages/<name>/ opened so far */
	size_t n_stage_dirs;
	/* Backend handles on warm stages, reused while the stage keeps its EID. Only used under
	 * the stage's serialization lock, so never by two calls at once. */
	struct {
		char name[EBCC_STAGE_NAME_MAX + 1];
		uint64_t eid;
		void *handle;
		const struct ebcc_backend *backend;
	} stage_handles[EBCC_STAGES_MAX];
	size_t n_stage_handles;
	int anchor_pidfd; /* on the anchor (anchor_pid, anchor_start), or -1 */
	pid_t anchor_pid;
	uint64_t anchor_start;
};

/* EBCC_ERR_INVALID_ARG with a message when id is not a valid, unreserved instance id. */
int ebcc__instance_check_id(const char *id);
/* A handle on the composite in dir_fd, which takes over root_fd, root_path and dir_fd; NULL
 * (with the error set, nothing taken over) when out of memory. */
struct ebcc_instance *ebcc__instance_new(struct ebcc_context *ctx, const char *id, int root_fd,
					char *root_path, int dir_fd);
void ebcc__instance_dir_name(const char *id, char out[NAME_MAX + 1]);
/* EBCC_ERR_NOT_FOUND once the composite was deleted, by this or another process. */
int ebcc__instance_check(struct ebcc_instance *inst);
/* flock()s <id>/lock (LOCK_EX or LOCK_SH) after checking the composite still exists. */
int ebcc__instance_lock(struct ebcc_instance *inst, int operation, int *ret_fd);
void ebcc__instance_unlock(int lock_fd);
bool ebcc__instance_durable(struct ebcc_instance *inst);
/* Reads state.json; *ret is NULL (and 0 returned) when creation wrote none yet. The result
 * is the caller's to change. */
int ebcc__instance_read_state(struct ebcc_instance *inst, struct ebcc_state **ret);
/* As ebcc__instance_read_state(), and a state above the size any write allows is read too
 * (up to 64 MiB): a forced delete must find the processes whatever wrote it. */
int ebcc__instance_read_state_for_delete(struct ebcc_instance *inst, struct ebcc_state **ret);
/* As ebcc__instance_read_state(), but the result may be shared with other threads and must
 * not be changed: parsed again only when state.json was replaced. Drop it with
 * ebcc__state_free(). */
int ebcc__instance_peek_state(struct ebcc_instance *inst, struct ebcc_state **ret);
int ebcc__instance_write_state(struct ebcc_instance *inst, const struct ebcc_state *st);
/* st was just written by this handle, under the composite's lock, and is not changed again:
 * later peeks share it (with a reference) instead of reading the file back. */
void ebcc__instance_keep_state(struct ebcc_instance *inst, struct ebcc_state *st);
/* EBCC_STATUS_* from the facts: state (may be NULL), exit record, anchor liveness. The exit
 * status is -1 while unknown. */
int ebcc__status_derive(struct ebcc_instance *inst, const struct ebcc_state *st,
			int *ret_exit_status);
const char *ebcc__status_name(int status);
/* Waits up to timeout_ms for the anchor's monitor to finish. */
void ebcc__monitor_wait(const struct ebcc_state *st, int timeout_ms);
/* Removes what interrupted deletions left in <state_root>/.ebcc/trash. */
void ebcc__trash_sweep(int root_fd);
/*
 * Test-only: stop or die at a named point when EBCC_TEST_HOOK asks (lib/testhook.c). Built only
 * with -Dtest_hooks (meson_options.txt); elsewhere the environment variable means nothing.
 */
#if EBCC_TEST_HOOKS
void ebcc__test_point(const char *point);
#else
static inline void ebcc__test_point(const char *point)
{
	(void)point;
}
#endif

/* A stage just loaded by its backend. */
struct ebcc_loaded_stage {
	void *handle;
	uint64_t eid;
	char *measurement, *ref, *isolation_json;
};

int ebcc__stage_dir_open(struct ebcc_instance *inst, const char *stage, bool create,
			 int *ret_fd);
/* Loads a stage from the bundle; fails with EBCC_ERR_VERIFY (and unloads) when the backend's
 * measurement differs from the one recorded at create. */
int ebcc__stage_load(struct ebcc_instance *inst, const struct ebcc_state *st,
		     const struct ebcc_backend_session *s, const struct ebcc_stage_decl *decl,
		     struct ebcc_loaded_stage *ret);
void ebcc__loaded_stage_clear(struct ebcc_loaded_stage *l);
/* Reattaches to a loaded instance-lifetime stage (stage_open). */
int ebcc__stage_attach(struct ebcc_instance *inst, const struct ebcc_backend_session *s,
		       const struct ebcc_stage_decl *decl, void **ret_handle);
int ebcc__stage_unload(const struct ebcc_backend_session *s, void *handle);
void ebcc__stage_close(const struct ebcc_backend_session *s, void *handle);
/* Unloads a stage the state records as loaded and clears the record (best effort). */
int ebcc__stage_unload_recorded(struct ebcc_instance *inst, const struct ebcc_backend_session *s,
				struct ebcc_stage_decl *decl);
/* A handle this instance handle keeps on the warm stage with that EID, or NULL. */
void *ebcc__stage_handle_cached(struct ebcc_instance *inst, const char *stage, uint64_t eid);
/* Keeps handle for later calls, closing any handle kept on an older load of the stage. */
void ebcc__stage_handle_keep(struct ebcc_instance *inst, const struct ebcc_backend *b,
			     const char *stage, uint64_t eid, void *handle);
/* Drops the stage directories and handles this process keeps for the composite. */
void ebcc__instance_release_stages(struct ebcc_instance *inst);

/* ---- evidence (lib/evidence.c, lib/policy.c; the binding is in lib/base) --------------- */
/* Also lib/verify.c (ebcc_evidence_verify) and lib/base/jsoncheck.c (one meaning per JSON text). */

/* Everything an envelope says. In an ebcc_evidence, every pointer points into the object. */
struct ebcc_evidence_fields {
	const char *backend; /* [a-z0-9_-]{1,32} */
	const char *format;  /* 1..EBCC_EVIDENCE_FORMAT_MAX of ASCII 0x21..0x7e but '"' and '\' */
	bool simulated;
	struct ebcc_binding binding;
	uint8_t report_data[EBCC_REPORT_DATA_SIZE]; /* as the backend's report covers it */
	const uint8_t *report;                      /* the backend's raw report */
	size_t report_len;                          /* 1..EBCC_EVIDENCE_REPORT_MAX */
};

/* Immutable after construction, so it may be shared by threads without a lock. */
struct ebcc_evidence {
	int refcount; /* atomic */
	struct ebcc_evidence_fields f;
	char *backend, *format, *instance, *stage, *measurement;
	uint8_t nonce[EBCC_NONCE_MAX];
	uint8_t public_key[EBCC_PUBLIC_KEY_SIZE];
	uint8_t image_digest[EBCC_SHA256_SIZE];
	uint8_t *report;
};

/* Builds evidence from copies of f's contents, after the checks ebcc_evidence_parse() makes
 * (syntax and lengths of every field; report_data is not compared with the binding: that is
 * ebcc_evidence_verify()'s job). One reference in *ret.
 * Errors: EBCC_ERR_INVALID_ARG naming the field and the value, EBCC_ERR_NO_MEMORY. */
int ebcc__evidence_new(const struct ebcc_evidence_fields *f, struct ebcc_evidence **ret);
/* The envelope's fields, borrowed from ev and valid as long as it. */
const struct ebcc_evidence_fields *ebcc__evidence_fields(const struct ebcc_evidence *ev);
/* Parses an envelope of len bytes (no NUL needed). A malformed one fails with err and a
 * message naming the field (ebcc_evidence_parse() uses EBCC_ERR_VERIFY; a reader of
 * evidence.json may want EBCC_ERR_CORRUPT); above EBCC_EVIDENCE_TEXT_MAX it is
 * EBCC_ERR_TOO_BIG. One reference in *ret. */
int ebcc__evidence_parse(const char *data, size_t len, int err, struct ebcc_evidence **ret);
/* The envelope as compact JSON (malloc), keys in the fixed order of DESIGN.md section 7, no
 * whitespace and no trailing newline; ret_len may be NULL. Errors: EBCC_ERR_NO_MEMORY. */
int ebcc__evidence_serialize(const struct ebcc_evidence *ev, char **ret_json, size_t *ret_len);
/* "<alg>:<hex>": alg 1..16 of [a-z0-9], 16..64 bytes of lowercase hex. */
bool ebcc__evidence_measurement_valid(const char *text);
/* "sha256:<64 lowercase hex>" of exactly len characters into out; -1 when malformed. */
int ebcc__evidence_digest_parse(const char *text, size_t len, uint8_t out[EBCC_SHA256_SIZE]);

/* A verification policy (lib/policy.c). Strings point into root. */
#define EBCC_POLICY_KEYS_MAX 64
#define EBCC_POLICY_KEY_PEM_MAX ((size_t)16 << 10)

struct ebcc__policy {
	struct json_object *root; /* NULL for the empty policy */
	const char **trusted_keys;
	size_t n_trusted_keys;
	const char *measurement; /* NULL when not required */
	bool has_nonce;
	uint8_t nonce[EBCC_NONCE_MAX];
	size_t nonce_len;
	bool has_request_digest, has_response_digest, has_image_digest;
	uint8_t request_digest[EBCC_SHA256_SIZE];
	uint8_t response_digest[EBCC_SHA256_SIZE];
	uint8_t image_digest[EBCC_SHA256_SIZE]; /* of the image the stage loaded (version 4) */
	bool allow_simulated;
	bool allow_evidence_v1;
	/* "verification_time": the instant certificates, CRLs and collateral are checked at. */
	bool has_verification_time;
	int64_t verification_time; /* seconds since the epoch, UTC */
	struct json_object *backend_options; /* borrowed from root, NULL when absent */
};

/* Parses policy text (NULL or "" is the empty policy). Errors: EBCC_ERR_VERIFY naming the key
 * and what it must be, EBCC_ERR_NO_MEMORY. */
int ebcc__policy_parse(const char *json, struct ebcc__policy *ret);
void ebcc__policy_clear(struct ebcc__policy *p);
/* Applies the policy's expectations to an envelope's fields: EBCC_ERR_VERIFY naming the first
 * field that differs, expected against found, or a backend_options entry for another backend
 * than the envelope's (which nothing would read). */
int ebcc__policy_check(const struct ebcc__policy *p, const struct ebcc_evidence_fields *f);
/* The part of ebcc__policy_check() that needs only the evidence's backend, for a verifier to
 * make before it asks the backend: backend_options may hold only an object for that backend. */
int ebcc__policy_check_backend(const struct ebcc__policy *p, const char *backend);
/* Fills check's policy fields for backend (as registered): trusted keys, the whole text
 * (policy_json, "" read as none), the backend's own part as JSON in *ret_part (free it after the
 * check; NULL when the policy has none) and the verification time. Errors: EBCC_ERR_NO_MEMORY. */
int ebcc__policy_fill_check(const struct ebcc__policy *p, const char *policy_json,
			    const char *backend, struct ebcc_backend_report_check *check,
			    char **ret_part);

/* ---- invocations (lib/invoke.c, lib/invocation.c, lib/artifacts.c, lib/seq.c) ---------- */


/* The per-stage sequence counter, stages/<name>/seq. */
int ebcc__seq_open(int stage_dir_fd, int *ret_fd);
/* Creates the files every invocation of a stage opens (its sequence counter and serial lock)
 * ahead of the first, best effort: an invocation creates what is missing. */
void ebcc__invocation_files_prepare(struct ebcc_instance *inst, const char *stage);
/* Allocates the next number (>= 1) under the counter's flock. */
int ebcc__seq_next(int seq_fd, bool durable, uint64_t *ret);
/* The last number allocated, 0 when none. */
int ebcc__seq_last(int stage_dir_fd, uint64_t *ret);

/* What one invocation leaves on disk. */
struct ebcc_artifact {
	uint64_t seq;
	const char *instance, *stage, *backend, *measurement;
	uint32_t lifetime;
	bool has_eid;
	uint64_t eid;
	char started[40];
	const void *request;
	size_t request_len;
	uint8_t request_digest[EBCC_SHA256_SIZE];
	bool request_refused; /* refused before any use (too big): its body is never stored */
	bool has_response;
	const void *response;
	size_t response_len;
	uint8_t response_digest[EBCC_SHA256_SIZE];
	const void *log;
	size_t log_len;
	uint8_t nonce[EBCC_NONCE_MAX];
	size_t nonce_len;
	const char *evidence_json; /* NULL for a failed invocation */
	size_t evidence_len;
	int error_code; /* 0, or why it failed */
	const char *error_message;
	const char *trace_id; /* the caller's (checked: needs no JSON escape), or NULL */
	uint64_t ns_validate, ns_eid, ns_dispatch, ns_report, ns_teardown;
};

struct ebcc_artifact_policy {
	bool store_bodies; /* artifacts=full */
	bool durable;      /* durability=fsync */
	uint32_t retention; /* 0: keep all */
};

/* Writes stages/<name>/<seq>/ atomically (temporary directory, then rename). */
int ebcc__artifacts_persist(int stage_dir_fd, const struct ebcc_artifact *a,
			    const struct ebcc_artifact_policy *policy);
/* The published invocations of a stage, newest first (malloc). */
int ebcc__artifacts_list(int stage_dir_fd, uint64_t **ret, size_t *ret_n);
/* Parses stages/<name>/<seq>/evidence.json. */
int ebcc__artifacts_read_evidence(int stage_dir_fd, const char *stage, uint64_t seq,
				  struct ebcc_evidence **ret);
/* Takes over response->data. */
int ebcc__invocation_new(uint64_t seq, struct ebcc_backend_buffer *response,
			 struct ebcc_evidence *ev, struct ebcc_invocation **ret);

#endif /* EBCC_PRIVATE_H */
