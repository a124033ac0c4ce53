/* SPDX-License-Identifier: MIT */
/*
 * The base layer under the core (lib/) and the backend support library (backends/common):
 * the last-error message, files, processes, digests, strict JSON, time and the binding that
 * report_data covers. It knows nothing of contexts, composites or backends, so backends
 * compile against it without lib/ on their include path. Nothing here is part of the ABI.
 */
#ifndef EBCC_BASE_H
#define EBCC_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "ebcc/backend.h"
#include "ebcc/ebcc.h"

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

/* ---- errors (lib/base/error.c) ---------------------------------------------------------- */

/* This thread's last error message (never NULL). */
const char *ebcc__error_message(void);

/* Records a message for ebcc_last_error_message() and returns code (a negative EBCC_ERR_*). */
int ebcc__error(int code, const char *fmt, ...) EBCC_PRINTF(2, 3);

/* As ebcc__error(), appending ": <strerror(errnum)>". */
int ebcc__error_errno(int code, int errnum, const char *fmt, ...) EBCC_PRINTF(3, 4);

/* Maps an errno value to the closest EBCC_ERR_* code. */
int ebcc__error_from_errno(int errnum);

#define EBCC_ERROR_MESSAGE_MAX 2048

/* Keep the message of a failure across clean-up code that may itself fail. */
void ebcc__error_save(char saved[EBCC_ERROR_MESSAGE_MAX]);
void ebcc__error_restore(const char saved[EBCC_ERROR_MESSAGE_MAX]);

/* Prefixes this thread's last error message with "<prefix>: " and returns code. */
int ebcc__error_prefix(int code, const char *fmt, ...) EBCC_PRINTF(2, 3);

/* The longest path the library builds or accepts, NUL included. */
#define EBCC_PATH_MAX 4096
/* The longest stage and backend names, NUL excluded. */
#define EBCC_STAGE_NAME_MAX 64
#define EBCC_BACKEND_NAME_MAX 32

/* ---- small parsing helpers (lib/base/parse.c) ------------------------------------------- */

/* Strict unsigned decimal: digits only, no sign or spaces, value in [min, max]. */
int ebcc__parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *ret);

/* ---- files (lib/base/fileio.c) ---------------------------------------------------------- */
/* Every path is relative to a directory descriptor and no symlink is followed. `display` is
 * the path as messages show it. */

/* Fills buf with 2*bytes random hex digits and a NUL (bytes <= 32). */
int ebcc__random_hex(char *buf, size_t bytes);
/* Reads a whole regular file of at most max bytes; the result is NUL-terminated (malloc). */
int ebcc__read_all(int fd, size_t max, const char *display, char **ret_data, size_t *ret_len);
int ebcc__file_read_at(int dir_fd, const char *name, const char *display, size_t max,
		       char **ret_data, size_t *ret_len);
/* The same for a file whose absence is the usual case: then EBCC_ERR_NOT_FOUND, no message. */
int ebcc__file_read_optional_at(int dir_fd, const char *name, const char *display, size_t max,
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

/* ---- trust (lib/base/trust.c) ----------------------------------------------------------- */

/* StrictModes: st must belong to the caller (or root, unless secret) and not
 * be writable by group or others (secret: not accessible to them at all). Else
 * EBCC_ERR_PERMISSION naming display, the owner and the mode. */
int ebcc__check_trusted(const struct stat *st, const char *display, bool secret);
/* The same for an open directory or file. */
int ebcc__check_trusted_fd(int fd, const char *display);

/* ---- processes (lib/base/procinfo.c) ---------------------------------------------------- */

/* The start time of pid (field 22 of /proc/<pid>/stat); -ESRCH/-ENOENT when it is gone. */
int ebcc__proc_start_time(pid_t pid, uint64_t *ret_start);
/* True if pid exists, is not a zombie, and started at start_time (not a recycled pid). */
bool ebcc__proc_alive(pid_t pid, uint64_t start_time);
/* Sends signo to pid only if it is still the process that started at start_time.
 * 0, -ESRCH when it is gone, or another -errno. */
int ebcc__proc_signal(pid_t pid, uint64_t start_time, int signo);
/* A pidfd (readable once the process exits) on that process while it lives, else -1. */
int ebcc__proc_pidfd(pid_t pid, uint64_t start_time);

/* ---- digests and encodings (lib/base/digest.c) ------------------------------------------ */

#define EBCC_SHA256_SIZE 32
/* "sha256:<hex>\0", the keystone backend's "keystone:<SHA3-512 hex>\0" (the longest) or the
 * sgx backend's "sgx:<MRENCLAVE hex>\0". */
#define EBCC_MEASUREMENT_MAX (9 + 2 * 64 + 1)
#define EBCC_SHA256_MEASUREMENT_MAX (7 + 2 * EBCC_SHA256_SIZE + 1)

/* The digest methods, fetched from OpenSSL's default provider once per process. */
typedef struct evp_md_st EVP_MD;
const EVP_MD *ebcc__md_sha256(void);
const EVP_MD *ebcc__md_sha512(void);
int ebcc__sha256(const void *data, size_t len, uint8_t out[EBCC_SHA256_SIZE]);
/* The largest stage image measured or loaded (backends/common/image.h's EBCC_IMAGE_MAX). */
#define EBCC_STAGE_IMAGE_MAX (UINT64_C(512) << 20)
/* Hashes a file of at most max bytes from offset 0 with pread, leaving the file offset alone:
 * EBCC_ERR_TOO_BIG naming display and the limit when fstat() says it is larger, before a byte
 * is read, and when more than max bytes can be read (a file that grows, or one whose size
 * fstat() does not know). */
int ebcc__sha256_fd_max(int fd, const char *display, uint64_t max, uint8_t out[EBCC_SHA256_SIZE]);
/* ebcc__sha256_fd_max() with EBCC_STAGE_IMAGE_MAX: a stage image. */
int ebcc__sha256_fd(int fd, const char *display, uint8_t out[EBCC_SHA256_SIZE]);
/* Lowercase hex of len bytes into out (2*len+1 bytes). */
void ebcc__hex_encode(const void *data, size_t len, char *out);
/* Strict lowercase hex of hex_len characters; -EINVAL when malformed or too long for out. */
int ebcc__hex_decode(const char *hex, size_t hex_len, uint8_t *out, size_t out_size,
		     size_t *ret_len);
/* The same, with upper case digits too: for documents others write (Intel's collateral). */
int ebcc__hex_decode_either_case(const char *hex, size_t hex_len, uint8_t *out,
				 size_t out_size, size_t *ret_len);
/* "sha256:<hex>" */
void ebcc__measurement_format(const uint8_t digest[EBCC_SHA256_SIZE],
			      char out[EBCC_SHA256_MEASUREMENT_MAX]);
/* One of the pinnable forms, EBCC_MEASUREMENT_FORMS (for messages). */
#define EBCC_MEASUREMENT_FORMS                                                             \
	"sha256:<64 lowercase hex digits>, keystone:<128 lowercase hex digits> or "          \
	"sgx:<64 lowercase hex digits>"
bool ebcc__measurement_valid(const char *text);
/* Standard padded base64 (malloc); NULL when out of memory. */
char *ebcc__base64_encode(const void *data, size_t len);
/* Strict decode: padding required, no whitespace, canonical trailing bits; -EINVAL/-ENOMEM. */
int ebcc__base64_decode(const char *text, size_t text_len, uint8_t **ret_data, size_t *ret_len);

/* ---- JSON (lib/base/json.c) ------------------------------------------------------------- */

#define EBCC_JSON_DEPTH_MAX 32
struct json_object;

/* Parses exactly one JSON value (trailing whitespace allowed), depth <= EBCC_JSON_DEPTH_MAX,
 * valid UTF-8, no NUL bytes, and no NUL escaped as \u0000 in any key or string (json-c cuts
 * keys at a NUL, and C strings would be cut there too). Failures return err with a message
 * naming `what` and the byte, or the key or field. */
int ebcc__json_parse(const char *text, size_t len, int err, const char *what,
		     struct json_object **ret);
/* After json-c accepted text: err naming `what` and the path of the key or string ("stages[0].
 * image") when one of them has the escape \u0000 (lib/base/jsoncheck.c). */
int ebcc__json_check_nul(const char *text, size_t len, int err, const char *what);
/* "an object", "an integer", "a fractional number", "null"...: a json_type for messages. */
const char *ebcc__json_type_article_of(int type);
/* text as a JSON string literal, quotes included (malloc): ", \\ and control characters
 * escaped. */
int ebcc__json_quote(const char *text, char **ret);
/* json_object_to_json_string_ext() copied with malloc. */
int ebcc__json_to_string(struct json_object *obj, int flags, char **ret);
/* Typed member lookup. A missing optional member gives 0 and *ret NULL; a missing required one
 * or a wrong type gives err with "<what>: \"key\" must be a string, not an array" and the like.
 * (type is an enum json_type.) */
int ebcc__json_member(struct json_object *obj, const char *key, int type, bool required,
		      int err, const char *what, struct json_object **ret);
int ebcc__json_string_member(struct json_object *obj, const char *key, bool required, int err,
			     const char *what, const char **ret);
/* An integer member in [min, max] (max < INT64_MAX). *ret is untouched when it is absent. */
int ebcc__json_u64_member(struct json_object *obj, const char *key, bool required, uint64_t min,
			  uint64_t max, int err, const char *what, uint64_t *ret);
/* Fails with err naming the first key of obj that is not in the NULL-terminated allowed list. */
int ebcc__json_check_keys(struct json_object *obj, const char *const *allowed, int err,
			  const char *what);
/* A backend's check of its part of a document, options_json (NULL or "" read as "{}"):
 * a JSON object whose keys are all in the NULL-terminated list known (empty: the backend reads
 * none). Fails with err: "<what>: unknown key \"k\" (the <backend> backend reads a, b)" or
 * "... (the <backend> backend reads none)"; EBCC_ERR_NO_MEMORY. what names the object, as
 * "stage s: backendOptions" or "policy: backend_options.sim". */
int ebcc__json_options_check(const char *options_json, const char *const *known,
			     const char *backend, int err, const char *what);

/* ---- strict JSON documents (lib/base/jsoncheck.c) --------------------------------------- */

/* After ebcc__json_parse() accepted text as obj: refuses duplicate keys in any object,
 * single-quoted keys, NaN/Infinity and raw control characters in strings, with err and a
 * message naming `what` (and the duplicated key when it is a top-level one). */
int ebcc__json_check_text(const char *text, size_t len, struct json_object *obj, int err,
			  const char *what);
/* A document read from a file or a caller: ebcc__json_parse(), ebcc__json_check_text(), and a
 * JSON object at the top ("<what>: must be a JSON object, not an array"). */
int ebcc__json_parse_document(const char *text, size_t len, int err, const char *what,
			      struct json_object **ret);
/* "an object", "an integer", "a fractional number", "null"...: a value's type for messages. */
const char *ebcc__json_type_article(struct json_object *value);
/* The first key of object obj (in text order) not in the NULL-terminated list known, or NULL. */
const char *ebcc__json_unknown_key(struct json_object *obj, const char *const *known);
/* err with "<where>: unknown key "<key>" (known: <the list>)" for the first key of obj not in
 * known (shown printable, cut at 64 bytes); 0 when there is none. */
int ebcc__json_refuse_unknown(struct json_object *obj, const char *const *known, int err,
			      const char *where);

/* ---- the binding (lib/base/binding.c) --------------------------------------------------- */

/* Evidence made by this library; version 1 (the host bound request and response) is verified
 * only under the policy's allow_evidence_v1. */
#define EBCC_EVIDENCE_VERSION 2
#define EBCC_EVIDENCE_VERSION_HOST_BOUND 1
/* Version 2 and a stage-held public key ("public_key"), the last field report_data binds: made
 * when the stage made a key for the answer (ebcc_stage_key_public()). */
#define EBCC_EVIDENCE_VERSION_KEYED 3
/* Version 2, the digest of the image the stage loaded ("image_digest", ebcc_stage_load_image())
 * and, when the answer made one, the stage-held key: made for every answer after a load. */
#define EBCC_EVIDENCE_VERSION_IMAGE 4
#define EBCC_PUBLIC_KEY_SIZE 32
#define EBCC_EVIDENCE_TEXT_MAX ((size_t)1 << 20)  /* an envelope or policy, in bytes */
/* A backend's raw report, in bytes: room for a configfs-tsm outblob and auxblob of 32 KiB each. */
#define EBCC_EVIDENCE_REPORT_MAX ((size_t)96 << 10)
#define EBCC_EVIDENCE_FORMAT_MAX 128

/* What report_data binds together (lib/base/binding.c). Strings are NUL-terminated. */
struct ebcc_binding {
	int version;             /* of the evidence: EBCC_EVIDENCE_VERSION or _HOST_BOUND */
	const char *instance;    /* the composite's id */
	const char *stage;       /* the stage's name */
	uint64_t eid;            /* <= INT64_MAX in an envelope */
	uint64_t seq;            /* >= 1 and <= INT64_MAX in an envelope */
	const char *measurement; /* "<alg>:<lowercase hex>", as the backend loaded the stage */
	const uint8_t *nonce;    /* NULL allowed when nonce_len is 0 */
	size_t nonce_len;        /* <= EBCC_NONCE_MAX */
	uint8_t request_digest[EBCC_SHA256_SIZE];  /* SHA-256 of the request bytes */
	uint8_t response_digest[EBCC_SHA256_SIZE]; /* SHA-256 of the response bytes */
	/* EBCC_PUBLIC_KEY_SIZE bytes: always with version EBCC_EVIDENCE_VERSION_KEYED, when the
	 * answer made a key with EBCC_EVIDENCE_VERSION_IMAGE, else NULL. */
	const uint8_t *public_key;
	/* EBCC_SHA256_SIZE bytes with version EBCC_EVIDENCE_VERSION_IMAGE, else NULL. */
	const uint8_t *image_digest;
};

/* report_data = SHA-512 over the length-prefixed fields (encoding in lib/base/binding.c and
 * ebcc_evidence_verify(3)). Errors: EBCC_ERR_INVALID_ARG (a NULL string), EBCC_ERR_NO_MEMORY. */
int ebcc__binding_report_data(const struct ebcc_binding *b, uint8_t out[EBCC_REPORT_DATA_SIZE]);

/* The fields a backend was handed (struct ebcc_backend_binding) as the core's binding; the
 * digests are left zero. Strings are borrowed. */
void ebcc__binding_from_backend(const struct ebcc_backend_binding *in, struct ebcc_binding *out);

/* The binding's fields but the digests, as a BIND frame carries them (lib/base/frame.h): *ret_len
 * bytes at out. EBCC_ERR_INVALID_ARG when a field is missing or they exceed cap. */
int ebcc__binding_encode_fields(const struct ebcc_binding *b, uint8_t *out, size_t cap,
				size_t *ret_len);

/* ---- messages (lib/base/show.c) --------------------------------------------------------- */

/* A value quoted in a message: at most EBCC_EVIDENCE_SHOW_MAX characters, non-printable ones
 * as '?', "..." when cut. */
#define EBCC_EVIDENCE_SHOW_MAX 72
#define EBCC_EVIDENCE_SHOW_SIZE (EBCC_EVIDENCE_SHOW_MAX + 4)
void ebcc__evidence_show(const char *s, size_t len, char out[EBCC_EVIDENCE_SHOW_SIZE]);

/* ---- time (lib/base/clock.c) ------------------------------------------------------------ */

/* Monotonic nanoseconds, and a time (or now) as RFC 3339 UTC with nanoseconds,
 * "2026-12-07T22:51:02.123456789Z" (cut to size; "" past the year 9999). */
#define EBCC_TIME_TEXT_SIZE 31
uint64_t ebcc__now_ns(void);
struct timespec;
void ebcc__format_time(const struct timespec *ts, char *buf, size_t size);
void ebcc__format_time_now(char *buf, size_t size);
/* Parses an RFC 3339 date-time ("2024-05-01T12:00:00Z", "...T12:00:00.5+02:00") of len bytes
 * into seconds since the epoch (fractions dropped). -1 when it is not one. */
int ebcc__rfc3339_parse(const char *text, size_t len, int64_t *ret);

#endif
