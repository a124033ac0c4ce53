/* SPDX-License-Identifier: MIT */
/* Internal declarations shared by the library's modules. Nothing here is part of the ABI. */
#ifndef EBCC_PRIVATE_H
#define EBCC_PRIVATE_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
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
	({                                    \
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

struct ebcc_context {
	int refcount; /* atomic */
	pthread_mutex_t lock; /* guards opts and the log destination */
	struct ebcc_options opts;
	ebcc_log_fn log_fn; /* NULL: stderr when log_stderr */
	void *log_userdata;
	bool log_stderr; /* EBCC_LOG_LEVEL was set */
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

#define ebcc__log_debug(ctx, ...) ebcc__log(ctx, EBCC_LOG_DEBUG, __VA_ARGS__)
#define ebcc__log_info(ctx, ...) ebcc__log(ctx, EBCC_LOG_INFO, __VA_ARGS__)
#define ebcc__log_warning(ctx, ...) ebcc__log(ctx, EBCC_LOG_WARNING, __VA_ARGS__)
#define ebcc__log_err(ctx, ...) ebcc__log(ctx, EBCC_LOG_ERR, __VA_ARGS__)

/* ---- small parsing helpers (lib/parse.c) ------------------------------------------------ */

/* Strict unsigned decimal: digits only, no sign or spaces, value in [min, max]. */
int ebcc__parse_u64(const char *text, uint64_t min, uint64_t max, uint64_t *ret);

#endif /* EBCC_PRIVATE_H */
