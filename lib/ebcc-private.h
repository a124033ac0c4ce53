/* SPDX-License-Identifier: MIT */
/* Internal declarations shared by the library's modules. Nothing here is part of the ABI. */
#ifndef EBCC_PRIVATE_H
#define EBCC_PRIVATE_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

#include "ebcc/ebcc.h"

/* Marks a definition as part of the exported ABI; everything else is hidden. */
#define EBCC_EXPORT __attribute__((visibility("default")))

#define EBCC_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))

#define EBCC_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- cleanup helpers -------------------------------------------------------------------- */

static inline void ebcc__freep(void *p)
{
	free(*(void **)p);
}

static inline void ebcc__closep(const int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

#define _cleanup_free_ __attribute__((cleanup(ebcc__freep)))
#define _cleanup_close_ __attribute__((cleanup(ebcc__closep)))

/* Returns *p and sets *p to NULL: hands ownership out of a _cleanup_ variable. */
#define EBCC_TAKE_PTR(p)                      \
	__extension__({                       \
		__typeof__(p) ebcc__tmp_ = (p); \
		(p) = NULL;                     \
		ebcc__tmp_;                     \
	})

/* ---- errors (lib/error.c) --------------------------------------------------------------- */

/* Records a message for ebcc_last_error_message() and returns code (a negative EBCC_ERR_*). */
int ebcc__error(int code, const char *fmt, ...) EBCC_PRINTF(2, 3);

/* As ebcc__error(), appending ": <strerror(errnum)>". */
int ebcc__error_errno(int code, int errnum, const char *fmt, ...) EBCC_PRINTF(3, 4);

/* Maps an errno value to the closest EBCC_ERR_* code. */
int ebcc__error_from_errno(int errnum);

/* Prefixes this thread's last error message with "<prefix>: " and returns code. */
int ebcc__error_prefix(int code, const char *fmt, ...) EBCC_PRINTF(2, 3);

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
#define EBCC_PATH_MAX 4096

struct ebcc_options {
	char *state_root; /* absolute; NULL when no default could be derived */
	char *plugin_dir; /* absolute or NULL */
	char *default_backend;
	enum ebcc_durability durability;
	enum ebcc_artifacts artifacts;
	uint32_t retention; /* invocations kept per stage; 0 = unlimited */
	uint64_t max_request;
	int log_level; /* EBCC_LOG_* threshold */
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
};

int ebcc__options_init(struct ebcc_options *opts);
void ebcc__options_clear(struct ebcc_options *opts);
/* Parses and applies one option; on failure opts is unchanged. */
int ebcc__options_set(struct ebcc_options *opts, const char *key, const char *value);
int ebcc__options_get(const struct ebcc_options *opts, const char *key, char **ret_value);
/* Parses a level name (err, warning, info, debug) or number 3..7; -1 when invalid. */
int ebcc__log_level_parse(const char *text);

/* Logs one formatted line if priority passes the context's threshold. Thread-safe. */
void ebcc__log(struct ebcc_context *ctx, int priority, const char *fmt, ...) EBCC_PRINTF(3, 4);

/* ---- backends (lib/registry.c) ---------------------------------------------------------- */

#include "ebcc/backend.h"

struct ebcc_backend {
	struct ebcc_backend_ops ops; /* copied; fields beyond the registrant's size are zero */
	void *userdata;
	void *dl_handle; /* the plugin, or NULL for a built-in or registered backend */
	char name[33];
};

/* Built-in backends, registered by every new context. Each returns its static table. */
const struct ebcc_backend_ops *ebcc__backend_sim_entry(void);

/* Registers the built-in backends and the plugins of the default plugin_dir. */
int ebcc__registry_init(struct ebcc_context *ctx);
/* Calls destroy() of every backend and unloads plugins. */
void ebcc__registry_free(struct ebcc_context *ctx);
/* Loads every *.so in dir; failures are logged and skipped. */
void ebcc__registry_load_dir(struct ebcc_context *ctx, const char *dir);
/* Finds a backend by name: EBCC_ERR_NOT_FOUND naming it. Valid as long as ctx. */
int ebcc__backend_find(struct ebcc_context *ctx, const char *name,
		       const struct ebcc_backend **ret);

/* A backend callback's environment together with what the core must release after it. */
struct ebcc_backend_session {
	struct ebcc_backend_env env;
	struct ebcc_context *ctx;
	const struct ebcc_backend *backend;
	char *data_dir;
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

#define ebcc__log_debug(ctx, ...) ebcc__log(ctx, EBCC_LOG_DEBUG, __VA_ARGS__)
#define ebcc__log_info(ctx, ...) ebcc__log(ctx, EBCC_LOG_INFO, __VA_ARGS__)
#define ebcc__log_warning(ctx, ...) ebcc__log(ctx, EBCC_LOG_WARNING, __VA_ARGS__)
#define ebcc__log_err(ctx, ...) ebcc__log(ctx, EBCC_LOG_ERR, __VA_ARGS__)

/* ---- small parsing helpers (lib/parse.c) ------------------------------------------------ */

/* Strict unsigned decimal: digits only, no sign or spaces, value in [min, max]. */
int ebcc__parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *ret);

/* ---- files (lib/fileio.c) --------------------------------------------------------------- */
/* Every path is relative to a directory descriptor and no symlink is followed. `display` is
 * the path as messages show it. */

/* Fills buf with 2*bytes random hex digits and a NUL (bytes <= 32). */
int ebcc__random_hex(char *buf, size_t bytes);
/* Reads a whole regular file of at most max bytes; the result is NUL-terminated (malloc). */
int ebcc__read_all(int fd, size_t max, const char *display, char **ret_data, size_t *ret_len);
int ebcc__file_read_at(int dir_fd, const char *name, const char *display, size_t max,
		       char **ret_data, size_t *ret_len);
/* Writes all of data; returns 0 or -errno. */
int ebcc__write_all(int fd, const void *data, size_t len);
/* Temp file in the same directory, fsync (when durable), rename over name, fsync directory. */
int ebcc__file_write_atomic(int dir_fd, const char *name, const void *data, size_t len,
			    mode_t mode, bool durable, const char *display);
/* Opens a directory (O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC); a symlink is EBCC_ERR_PERMISSION. */
int ebcc__open_dir_at(int dir_fd, const char *name, const char *display, int *ret_fd);
/* Opens a relative path of directories one component at a time, creating them 0700 if asked. */
int ebcc__open_dir_path_at(int dir_fd, const char *relpath, bool create, int *ret_fd);
/* Removes dir_fd/name recursively without following symlinks; 0 or -errno. */
int ebcc__remove_tree_at(int parent_fd, const char *name);

/* ---- the state root (lib/stateroot.c) --------------------------------------------------- */

/* Library-wide data under the state root; never a valid instance id. */
#define EBCC_PRIVATE_DIR ".ebcc"

/* A copy of the state_root option, or EBCC_ERR_INVALID_ARG when there is none. */
int ebcc__state_root_path(struct ebcc_context *ctx, char **ret_path);
/* Opens (and with create, makes 0700) the state root. ret_path may be NULL. */
int ebcc__state_root_open(struct ebcc_context *ctx, bool create, int *ret_fd, char **ret_path);
/* Opens <state_root>/.ebcc/<sub>, creating it 0700 when asked. */
int ebcc__private_dir_open(int root_fd, const char *sub, bool create, int *ret_fd);

/* ---- processes (lib/procinfo.c) --------------------------------------------------------- */

/* The start time of pid (field 22 of /proc/<pid>/stat); -ESRCH/-ENOENT when it is gone. */
int ebcc__proc_start_time(pid_t pid, uint64_t *ret_start);
/* True if pid exists, is not a zombie, and started at start_time (not a recycled pid). */
bool ebcc__proc_alive(pid_t pid, uint64_t start_time);

/* ---- digests and encodings (lib/digest.c) ----------------------------------------------- */

#define EBCC_SHA256_SIZE 32
#define EBCC_MEASUREMENT_MAX (7 + 2 * EBCC_SHA256_SIZE + 1) /* "sha256:<hex>\0" */

int ebcc__sha256(const void *data, size_t len, uint8_t out[EBCC_SHA256_SIZE]);
/* Hashes a file from offset 0 with pread, leaving the file offset alone. */
int ebcc__sha256_fd(int fd, const char *display, uint8_t out[EBCC_SHA256_SIZE]);
/* Lowercase hex of len bytes into out (2*len+1 bytes). */
void ebcc__hex_encode(const void *data, size_t len, char *out);
/* Strict lowercase hex of hex_len characters; -EINVAL when malformed or too long for out. */
int ebcc__hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t out_size,
		     size_t *ret_len);
/* "sha256:<hex>" */
void ebcc__measurement_format(const uint8_t digest[EBCC_SHA256_SIZE],
			      char out[EBCC_MEASUREMENT_MAX]);
bool ebcc__measurement_valid(const char *text);
/* Standard padded base64 (malloc); NULL when out of memory. */
char *ebcc__base64_encode(const void *data, size_t len);
/* Strict decode: padding required, no whitespace, canonical trailing bits; -EINVAL/-ENOMEM. */
int ebcc__base64_decode(const char *text, size_t text_len, uint8_t **ret_data, size_t *ret_len);

/* ---- JSON (lib/json.c) ------------------------------------------------------------------ */

#define EBCC_JSON_DEPTH_MAX 32
struct json_object;

/* Parses exactly one JSON value (trailing whitespace allowed), depth <= EBCC_JSON_DEPTH_MAX,
 * valid UTF-8, no NUL bytes. Failures return err with a message naming `what` and the byte. */
int ebcc__json_parse(const char *text, size_t len, int err, const char *what,
		     struct json_object **ret);
const char *ebcc__json_type_name(struct json_object *obj);
/* json_object_to_json_string_ext() copied with malloc. */
int ebcc__json_to_string(struct json_object *obj, int flags, char **ret);

#endif /* EBCC_PRIVATE_H */
