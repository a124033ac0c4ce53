/* SPDX-License-Identifier: MIT */
/*
 * libebcc — the backend ABI, for authors of TEE backends.
 *
 * A backend is a table of callbacks, struct ebcc_backend_ops, registered in a context with
 * ebcc_backend_register() or loaded from a plugin with ebcc_backend_load(). The table starts
 * with its size and ABI version and only ever grows at the end: a backend compiled against an
 * older, smaller table keeps working (the missing callbacks read as NULL), and a table larger
 * than the library knows is accepted only if the unknown tail is all zero.
 *
 * Conventions for every callback:
 *  - userdata, given at registration, comes last.
 *  - 0 (or a documented positive value) on success, a negative EBCC_ERR_* code on failure;
 *    call env->set_error() first with a message naming what failed.
 *  - Ownership, one rule for success and failure alike: a buffer or string a callback stores
 *    in an output parameter comes from env->alloc() and belongs to the core from the moment it
 *    is stored. The core frees it whether the call succeeds or fails (it even keeps a failed
 *    stage_invoke()'s log), so a callback never frees what it stored in an output; what it
 *    allocated with env->alloc() and did not store it frees with env->release(). Handles are
 *    the backend's own: after a failure the core ignores them.
 *  - env and everything it points to are valid only during the call.
 *  - Callbacks may be called from several threads and processes at once; a backend that
 *    cannot run two stage_invoke() on one stage at once leaves EBCC_BACKEND_CONCURRENT_INVOKE
 *    unset and the core serializes those calls, also across processes.
 */
#ifndef EBCC_BACKEND_H
#define EBCC_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include <ebcc/ebcc.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI version of struct ebcc_backend_ops this header describes. Version 2: stage_invoke()
 * hands the binding to the stage and returns its report with the response. Version 1 tables
 * are refused. */
#define EBCC_BACKEND_ABI_VERSION 2

/* Isolation styles (ebcc_backend_ops.isolation). */
#define EBCC_ISOLATION_ENCLAVE 1  /* SGX, Keystone, the sim backend */
#define EBCC_ISOLATION_VM 2       /* TDX, SEV-SNP */
#define EBCC_ISOLATION_EMBEDDED 3 /* TrustZone / OP-TEE */

/* Capability flags (ebcc_backend_ops.flags). */
#define EBCC_BACKEND_SIMULATED (UINT32_C(1) << 0)        /* no hardware root of trust */
#define EBCC_BACKEND_CONCURRENT_INVOKE (UINT32_C(1) << 1) /* stage_invoke may overlap on a stage */
/* The host that runs the library is inside the TEE's trusted computing base (tsm: the library
 * runs in the confidential VM). Only such a backend may have stage_report(), a report over data
 * the host chose; for any other the report must come from the protected side. */
#define EBCC_BACKEND_HOST_IN_TCB (UINT32_C(1) << 2)

/* Stage lifetimes (ebcc_backend_stage_params.lifetime). */
#define EBCC_LIFETIME_INSTANCE 1   /* one warm stage from start to kill */
#define EBCC_LIFETIME_INVOCATION 2 /* a fresh stage for every request */

/* The report_data every backend report must cover, in bytes. */
#define EBCC_REPORT_DATA_SIZE 64

/* Durability requested by the context (ebcc_backend_env.durability). */
#define EBCC_BACKEND_DURABILITY_NONE 0
#define EBCC_BACKEND_DURABILITY_FSYNC 1

/* What the core hands to every callback. Filled by the core; read-only for the backend. */
struct ebcc_backend_env {
	uint32_t size;
	uint32_t durability; /* EBCC_BACKEND_DURABILITY_* */
	/* Allocates an output buffer the core will own; NULL when out of memory. */
	void *(*alloc)(size_t size, void *host);
	/* Logs one line through the context's log destination. */
	void (*log)(int priority, const char *message, void *host);
	/* Sets the detail ebcc_last_error_message() will show for the failing call. */
	void (*set_error)(const char *message, void *host);
	void *host;
	/* The backend's private directory under the state root (0700), for keys, counters and
	 * the like, or -1 and NULL where there is none (offline verification, probing without a
	 * state root). */
	int data_dir_fd;
	const char *data_dir;
	/* Frees a buffer from alloc() that the backend did not store in an output (see the
	 * ownership rule above); never one it stored, which the core frees. */
	void (*release)(void *ptr, void *host);
};

/* A buffer handed back to the core: data comes from env->alloc() (NULL when len is 0). */
struct ebcc_backend_buffer {
	void *data;
	size_t len;
};

/* What to load: one stage of one composite, as its manifest declares it. */
struct ebcc_backend_stage_params {
	uint32_t size;
	uint32_t lifetime; /* EBCC_LIFETIME_* */
	const char *instance_id;
	const char *stage_name;
	/* The stage image, opened O_RDONLY|O_CLOEXEC|O_NOFOLLOW by the core. The backend measures
	 * and runs this very descriptor; it must not reopen the image by path. */
	int image_fd;
	/* The stage's own directory inside the instance (0700), for sockets and backend files;
	 * it lives until the composite is deleted and is visible to every process. */
	int stage_dir_fd;
	const char *stage_dir;
	uint64_t max_request;  /* bytes; frames above it are refused */
	uint64_t max_response; /* bytes */
	uint32_t timeout_ms;   /* per invocation */
	uint32_t memory_mib;   /* address-space limit */
	uint32_t cpu_seconds;  /* CPU-time limit of the stage process */
	uint32_t max_files;    /* descriptor limit */
	/* The stage's "backendOptions" object from the manifest as JSON text ("{}" if absent). */
	const char *options_json;
	/* The measurement recorded when the composite was created, "<alg>:<hex>". */
	const char *expected_measurement;
};

/* What stage_load() hands back. Strings come from env->alloc(). */
struct ebcc_backend_stage {
	uint32_t size;
	uint32_t reserved;
	void *handle; /* the backend's in-process handle, passed to the stage_* callbacks */
	uint64_t eid; /* enclave id: unique among live stages under the state root */
	char *measurement; /* "<alg>:<lowercase hex>" of what was loaded */
	/* What stage_open() needs to reach this stage from another process (kept verbatim in
	 * the composite's state), or NULL. */
	char *ref;
	/* Optional JSON object describing the isolation achieved, or NULL. */
	char *isolation_json;
};

/*
 * What one invocation's evidence binds besides the request and response digests, for the
 * stage to bind on the protected side. encoded is these fields in the binding's encoding, the
 * payload of the BIND frame a stage built with libebcc-stage reads (ebcc-stage-protocol(7)):
 * a backend hands it to its stage as it is.
 */
struct ebcc_backend_binding {
	uint32_t size;
	uint32_t evidence_version; /* 2 */
	const char *instance_id;
	const char *stage_name;
	uint64_t eid;
	uint64_t seq;
	const char *measurement;
	const uint8_t *nonce;
	size_t nonce_len;
	const uint8_t *encoded;
	size_t encoded_len;
	/* The caller's deadline for this call, at most the stage's timeout_ms; 0: that one. A
	 * backend that cannot bound one call refuses a non-zero value (EBCC_ERR_INVALID_ARG). */
	uint32_t timeout_ms;
	uint32_t reserved;
};

/* What stage_invoke() hands back. Buffers come from env->alloc(). */
struct ebcc_backend_invocation {
	uint32_t size;
	/* 1 when report_data is filled: what the report covers, as the stage computed it over
	 * the request it received and the response it returned (a backend whose stage cannot
	 * bind computes it itself, and its verdict must say so). 0 only from a backend with
	 * EBCC_BACKEND_HOST_IN_TCB, for which the core's own binding is used. */
	uint32_t bound;
	struct ebcc_backend_buffer response;
	struct ebcc_backend_buffer log;
	/* The TEE's report over report_data; may be empty only from a backend with
	 * EBCC_BACKEND_HOST_IN_TCB, whose stage_report() the core then calls with report_data. */
	struct ebcc_backend_buffer report;
	uint8_t report_data[EBCC_REPORT_DATA_SIZE];
	/* 1 when the stage made a key for this answer (ebcc_stage_key_public()): public_key, an
	 * X25519 public key, is then the last field report_data binds (evidence version 3). The
	 * core zeroes both before the call; a backend compiled without them leaves them so. */
	uint32_t has_public_key;
	uint8_t public_key[32];
	/* 1 when the stage had loaded an encrypted image (ebcc_stage_load_image()):
	 * image_digest, its SHA-256, is then bound by report_data after the digests (evidence
	 * version 4, with the public key after it when there is one). Zeroed like the key. */
	uint32_t has_image_digest;
	uint8_t image_digest[32];
};

/*
 * The format of a check that ebcc_report_verify() makes: report is a raw hardware report (the
 * TEE's own bytes, not an evidence envelope's report), report_data is NULL and measurement NULL.
 * A backend that verifies such reports checks the report alone against the policy and returns
 * its claims (a JSON object) as the verdict; any other backend refuses the format.
 */
#define EBCC_BACKEND_FORMAT_RAW "raw"

/* One report to check, for verify_report(). */
struct ebcc_backend_report_check {
	uint32_t size;
	uint32_t reserved;
	const char *format;      /* the evidence envelope's "format" */
	const char *measurement; /* as claimed by the envelope */
	uint64_t eid;            /* as claimed by the envelope */
	const uint8_t *report_data;
	size_t report_data_len;
	const uint8_t *report;
	size_t report_len;
	const char *const *trusted_keys; /* PEM texts from the policy's trusted_keys */
	size_t trusted_keys_count;
	const char *policy_json; /* the whole policy, for backend-specific keys; may be NULL */
	/* Since 0.2 (read them only when size covers them): the policy's part for this backend,
	 * backend_options.<the name it is registered under>, as compact JSON, or NULL when the
	 * policy has none (a value of any type: the backend says what it accepts); and the
	 * policy's verification_time, in seconds since the epoch, when has_verification_time is 1.
	 * A backend reads these instead of parsing policy_json and knowing its own name. */
	const char *backend_options_json;
	int64_t verification_time;
	uint32_t has_verification_time;
	uint32_t reserved1;
};

struct ebcc_backend_ops {
	uint32_t size;        /* sizeof(struct ebcc_backend_ops) as the backend was compiled */
	uint32_t abi_version; /* EBCC_BACKEND_ABI_VERSION as the backend was compiled */
	const char *name;     /* [a-z0-9_-]{1,32} */
	uint32_t isolation;   /* EBCC_ISOLATION_* */
	uint32_t flags;       /* EBCC_BACKEND_* capability flags */
	const char *evidence_format; /* e.g. "ebcc.sim.v1" */
	uint32_t max_report_data;    /* bytes of report_data a report can cover, >= 64 */
	uint32_t reserved0;

	/* Is the backend usable on this host? 1 yes, 0 no, < 0 error. *ret_details_json (from
	 * env->alloc, may be left NULL) is a JSON object; when not available it has "reason". */
	int (*probe)(const struct ebcc_backend_env *env, char **ret_details_json, void *userdata);

	/* Loads (measures, starts) one stage and fills *ret_stage. */
	int (*stage_load)(const struct ebcc_backend_env *env,
			  const struct ebcc_backend_stage_params *params,
			  struct ebcc_backend_stage *ret_stage, void *userdata);

	/* Attaches, in any process, to a stage loaded earlier with the same params, eid and ref.
	 * It succeeds even if the stage has died since; stage_invoke() then reports that.
	 * Before an instance stage is loaded again, and when a composite is killed or deleted,
	 * the core also calls it with eid 0 and ref NULL for an instance stage its state does
	 * not record as loaded: a stage_load() that started a stage may have died before the
	 * core could record it. A backend that can find such a stage returns a handle, which
	 * the core unloads; otherwise it fails (EBCC_ERR_NOT_FOUND), and the core goes on. */
	int (*stage_open)(const struct ebcc_backend_env *env,
			  const struct ebcc_backend_stage_params *params, uint64_t eid,
			  const char *ref, void **ret_handle, void *userdata);

	/* Runs one request under binding: the stage computes report_data over the request it
	 * received and the response it returns (with binding's fields) and its TEE reports over
	 * that; response, log, report and report_data come back in *ret. The core recomputes
	 * report_data over the bytes it saw and refuses an answer whose report_data differs.
	 * EBCC_ERR_TIMEOUT when the stage exceeds params->timeout_ms (it is then killed),
	 * EBCC_ERR_STAGE when it crashed, misbehaved or is no longer running. A failed call may
	 * still fill ret->log with what the stage logged before it failed; the core keeps that
	 * in the invocation's log.txt. */
	int (*stage_invoke)(const struct ebcc_backend_env *env, void *handle,
			    const struct ebcc_backend_binding *binding, const void *request,
			    size_t request_len, struct ebcc_backend_invocation *ret, void *userdata);

	/* Only with EBCC_BACKEND_HOST_IN_TCB (registration refuses it otherwise): produces a
	 * report that covers report_data (EBCC_REPORT_DATA_SIZE bytes, the stage's, checked by
	 * the core) and binds it to this stage's measurement and EID. */
	int (*stage_report)(const struct ebcc_backend_env *env, void *handle,
			    const uint8_t *report_data, size_t report_data_len,
			    struct ebcc_backend_buffer *ret_report, void *userdata);

	/* Releases an in-process handle without stopping the stage. */
	void (*stage_close)(void *handle, void *userdata);

	/* Stops the stage for good and releases the handle (whether or not it succeeds). */
	int (*stage_unload)(const struct ebcc_backend_env *env, void *handle, void *userdata);

	/* Checks a report offline: it must cover report_data, carry the claimed measurement and
	 * EID, and be signed by one of the trusted keys. 0 when it holds, EBCC_ERR_VERIFY (with
	 * the reason through set_error) when not. *ret_verdict_json (env->alloc, may stay NULL)
	 * says what was and was not verified. env->data_dir_fd is -1 here. */
	int (*verify_report)(const struct ebcc_backend_env *env,
			     const struct ebcc_backend_report_check *check, char **ret_verdict_json,
			     void *userdata);

	/* The public key that signs this backend's reports on this host, as PEM (env->alloc). */
	int (*attestation_key)(const struct ebcc_backend_env *env, char **ret_pem, void *userdata);

	/* Called once when the context that registered the backend is freed. */
	void (*destroy)(void *userdata);

	/* Called once when the table is registered in a context (a plugin: when it is loaded
	 * into one), before any other callback: what it stores in *ret_userdata, which starts
	 * as the registration's userdata (NULL for a plugin), is the userdata of every later
	 * callback and of destroy(). So a plugin keeps state per context. A failure refuses the
	 * registration (destroy is not called). It must not call the library with this context.
	 * env->data_dir_fd is -1 (no state root is known yet). */
	int (*init)(const struct ebcc_backend_env *env, void **ret_userdata, void *userdata);

	/* Optional: measures a stage image as this TEE will measure it when it is loaded. The
	 * core calls it at create, for every stage of a manifest naming this backend, before
	 * any pinned measurement is compared and before the state root is touched (so
	 * env->data_dir_fd is -1). image_fd is the image, open read-only; what names it for
	 * messages. *ret_measurement (env->alloc) is "<alg>:<lowercase hex>" in one of the
	 * forms a manifest may pin (ebcc_instance_create(3)). When NULL, the measurement is
	 * "sha256:" and the SHA-256 of the file. stage_load() later reports what it loaded,
	 * and the core refuses a load whose measurement is not this one. */
	int (*measure_image)(const struct ebcc_backend_env *env, int image_fd, const char *what,
			     char **ret_measurement, void *userdata);
};

/*
 * A plugin exports this one function. It returns the plugin's table (static storage) and has no
 * other effect; the core checks size and abi_version before calling anything in the table.
 */
typedef const struct ebcc_backend_ops *(*ebcc_backend_entry_fn)(void);
#define EBCC_BACKEND_ENTRY_SYMBOL "ebcc_backend_entry_v1"

/*
 * Registers a backend in ctx, copying the table (fields beyond ops->size read as zero).
 * userdata is passed to every callback; destroy(userdata) runs when ctx is freed.
 * Errors: EBCC_ERR_INVALID_ARG (NULL, bad name, missing required callbacks),
 * EBCC_ERR_ABI (abi_version unknown, size too small, or non-zero bytes beyond the table this
 * library knows), EBCC_ERR_EXISTS (a backend with that name is registered), EBCC_ERR_NO_MEMORY.
 * Thread-safe.
 */
int ebcc_backend_register(struct ebcc_context *ctx, const struct ebcc_backend_ops *ops,
			  void *userdata);

/*
 * Loads a backend plugin: dlopen(path, RTLD_NOW|RTLD_LOCAL), looks up ebcc_backend_entry_v1,
 * checks the table and registers it. The plugin stays loaded until ctx is freed.
 * Errors: EBCC_ERR_INVALID_ARG (NULL), EBCC_ERR_NOT_FOUND (no such file, or no entry symbol),
 * EBCC_ERR_ABI (not a loadable object, or a table this library cannot use; dlerror() text in
 * the message), EBCC_ERR_EXISTS, EBCC_ERR_NO_MEMORY. Thread-safe.
 */
int ebcc_backend_load(struct ebcc_context *ctx, const char *path);

/* The number of registered backends (>= 0), or EBCC_ERR_INVALID_ARG. Thread-safe. */
int ebcc_backend_count(struct ebcc_context *ctx);

/*
 * The name of backend number index (0 <= index < count), in registration order; NULL when ctx
 * is NULL or index is out of range. Borrowed: valid as long as ctx lives. Thread-safe.
 */
const char *ebcc_backend_name(struct ebcc_context *ctx, int index);

/*
 * Describes backend name on this host as a JSON object (free with ebcc_free()): name,
 * available, reason (when not available), isolation, simulated, evidence_format,
 * max_report_data, concurrent_invoke, plus the backend's own details (for sim: the sandbox
 * isolation this host allows). A backend that is unavailable is not an error.
 * Errors: EBCC_ERR_INVALID_ARG, EBCC_ERR_NOT_FOUND (no such backend), EBCC_ERR_BACKEND,
 * EBCC_ERR_NO_MEMORY. Thread-safe.
 */
int ebcc_backend_probe(struct ebcc_context *ctx, const char *name, char **ret_json);

/*
 * The PEM public key that signs backend name's reports under this context's state root (for
 * sim, the simulated device key, created 0600 on first use). Free with ebcc_free().
 * Errors: EBCC_ERR_INVALID_ARG, EBCC_ERR_NOT_FOUND, EBCC_ERR_UNAVAILABLE (the backend has no
 * such key on this host), EBCC_ERR_IO, EBCC_ERR_NO_MEMORY. Thread-safe.
 */
int ebcc_backend_attestation_key(struct ebcc_context *ctx, const char *name, char **ret_pem);

#ifdef __cplusplus
}
#endif

#endif /* EBCC_BACKEND_H */
