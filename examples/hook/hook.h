/* SPDX-License-Identifier: MIT */
/*
 * ebcc-oci-hook: an OCI hook that turns a container run by an unmodified runc or crun into a
 * libebcc composite. As a createRuntime hook it creates and starts the composite of the
 * container's id (the container's process is the anchor) and starts a broker that serves the
 * stages to the container through a Unix socket; as a poststop hook it stops the broker and
 * removes the composite. Built on the public API only. See ebcc-oci-hook(8).
 */
#ifndef EBCC_HOOK_H
#define EBCC_HOOK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <ebcc/ebcc.h>

#define HOOK_NAME "ebcc-oci-hook"
#define HOOK_RUN_DIR_DEFAULT "/run/ebcc-oci-hook"
/* Where a container sees its socket directory. */
#define HOOK_SOCKET_MOUNT "/run/ebcc"
/* The annotation by which the precreate hook tells the later hooks (and ebcc-runtime) the
 * socket directory it made for the container. */
#define HOOK_SOCKDIR_ANNOTATION "org.ebcc.socketDir"
/* A per-container socket directory's name: 32 lowercase hex digits. */
#define HOOK_SOCKDIR_NAME_LEN 32

struct json_object;

/* The command line. */
struct hook_options {
	const char *root;    /* --root: the libebcc state root, NULL for the library's default */
	const char *run_dir; /* --run-dir: the hook's own records */
};

/* ---- fail.c: the one error line ---------------------------------------------------------- */

/* Each sets the message of the current failure and returns -1. The _lib form appends the
 * library's last error message and the error's name; the _errno form strerror(errnum). */
int hook_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int hook_error_errno(int errnum, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int hook_error_lib(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Between hold and release (cleanup after a failure), failures keep the first message. */
void hook_error_hold(void);
void hook_error_release(void);

/* The current failure's message ("" before any). */
const char *hook_error_message(void);

/* Prints "ebcc-oci-hook: <message>" on stderr; returns the exit code 1. */
int hook_report(void);

/* ---- jsonstrict.c: JSON as the hook accepts it ------------------------------------------- */

/* Parses len bytes of text as exactly one JSON value in strict mode, refusing duplicate keys
 * at any depth and anything after the value. what names the text in the error. */
int hook_json_parse(const char *text, size_t len, const char *what, struct json_object **ret);

/* A string member that holds no NUL byte; NULL when absent. -1 when of another type. */
int hook_json_string(struct json_object *obj, const char *key, const char *what,
		     const char **ret);

/* ---- ocistate.c: the container state on stdin ------------------------------------------- */

enum hook_phase { HOOK_PRECREATE, HOOK_CREATE_RUNTIME, HOOK_POSTSTOP };

/* The state, as the OCI runtime specification defines it and runc and crun write it. */
struct hook_state {
	struct json_object *json; /* owns the strings below */
	const char *oci_version;
	const char *id;
	const char *status;
	const char *bundle;
	int pid;                          /* 0 when absent */
	struct json_object *annotations; /* borrowed; NULL when absent */
};

/* Reads the state from fd (at most 1 MiB), validates it, and checks that it fits phase:
 * createRuntime needs status creating or created and the container's pid. */
int hook_state_read(int fd, enum hook_phase phase, struct hook_state *ret);
/* The same from len bytes of text already read. */
int hook_state_parse(const char *text, size_t len, enum hook_phase phase, struct hook_state *ret);
void hook_state_clear(struct hook_state *s);

/* ---- hookconf.c: the manifest's tools.ociHook ------------------------------------------- */

struct hook_config {
	char *socket_dir; /* absolute: the directory config.json bind-mounts into the container */
};

/* Reads tools.ociHook of the bundle's stage manifest (ebcc.json, or the file the annotation
 * org.ebcc.manifest names), as libebcc finds it. */
int hook_config_read(const struct hook_state *s, struct hook_config *ret);
/* The same, but a manifest without tools.ociHook gives socket_dir NULL rather than an error
 * (ebcc-runtime then serves no socket). */
int hook_config_read_optional(const struct hook_state *s, struct hook_config *ret);
void hook_config_clear(struct hook_config *c);

/* ---- record.c: the hook's own record of a container's broker ---------------------------- */

struct hook_record {
	pid_t broker_pid; /* 0: no broker recorded */
	uint64_t broker_start;
	char *socket_dir;
};

/* Claims the record of id in run_dir (created 0700 if missing) so that no second
 * createRuntime for the same id goes ahead. -1 (with the reason) when it is taken. */
int hook_record_claim(const char *run_dir, const char *id);
/* Fills the claimed record in, replacing it atomically. */
int hook_record_write(const char *run_dir, const char *id, const struct hook_record *rec);
/* Reads the record of id: 1 when there is none, 0 when read (an empty claim reads as a record
 * without broker), -1 on failure. */
int hook_record_read(const char *run_dir, const char *id, struct hook_record *ret);
void hook_record_remove(const char *run_dir, const char *id);
void hook_record_clear(struct hook_record *rec);

/* ---- process.c: processes known by pid and start time ----------------------------------- */

/* /proc/<pid>/stat field 22: tells a recycled pid apart. -1 when the process is gone. */
int hook_proc_start_time(pid_t pid, uint64_t *ret);

/* Whether the process that started at start still runs (a zombie does not). */
int hook_proc_running(pid_t pid, uint64_t start);

/* Stops the process if it is still the one that started at start: SIGTERM, up to grace_ms
 * for it to exit, then SIGKILL. A recycled pid is never signalled (pidfd). 0 once it is gone. */
int hook_proc_stop(pid_t pid, uint64_t start, int grace_ms);

/* Ends every child of the calling process, adopted ones included (it is a subreaper):
 * SIGKILL and reap until none is left. */
void hook_proc_end_children(void);

/* A pidfd for pid if it is still the process that started at start; -1 (errno ESRCH when it
 * is gone, ENOSYS when the kernel has no pidfds). */
int hook_proc_pidfd(pid_t pid, uint64_t start);

/* ---- composite.c: the composite through libebcc ----------------------------------------- */

/* A context on the state root (NULL: the library's default); anchor=external when asked. */
int hook_context_new(const char *root, struct ebcc_context **ret);
/* The composite of a container whose process the engine runs (EBCC_ANCHOR_EXTERNAL): its pid
 * is reported with ebcc_instance_set_pid(). */
int hook_instance_create_external(struct ebcc_context *ctx, const char *id, const char *bundle,
				  struct ebcc_instance **ret);

/* Creates the composite of the container and reports the container's process as its anchor
 * (status created; the broker starts it). On failure nothing of the composite is left. */
int hook_composite_create(const struct hook_options *o, const struct hook_state *s);

/* Kills and deletes composite id if it exists (0 also when it does not). */
int hook_composite_remove(const char *root, const char *id);

/* ---- listener.c: the socket in the container's socket directory ------------------------- */

struct hook_listener {
	int fd;     /* listening, SOCK_CLOEXEC */
	int dir_fd; /* the socket directory */
	dev_t dev;  /* of the socket file, to remove only our own */
	ino_t ino;
};

/* Binds and listens on <dir>/ebcc.sock, replacing a stale socket but never one in use. */
int hook_listener_open(const char *dir, struct hook_listener *ret);
/* Removes the socket file if it is still ours, and closes what is open. */
void hook_listener_remove(struct hook_listener *l);
void hook_listener_close(struct hook_listener *l);
/* Removes <dir>/ebcc.sock if it is a socket nobody serves (for poststop, after the broker). */
void hook_socket_unlink(const char *dir);

/* ---- sockdir.c, ocimount.c: a socket directory per container ---------------------------- */

/* Makes <base>/<name> (mode 0711; it must not exist) under base (created 0700 where missing,
 * owned by us, writable by nobody else); *ret_path from malloc(). */
int hook_sockdir_make(const char *base, const char *name, char **ret_path);
/* Removes the socket directory path: its socket if nobody serves it, then the directory.
 * 0 when it is gone (or never was). */
int hook_sockdir_remove(const char *path);
/* Whether name is one that hook_sockdir_make was given here (HOOK_SOCKDIR_NAME_LEN hex). */
int hook_sockdir_name_valid(const char *name);

/* Makes the OCI configuration config bind-mount dir read-only at HOOK_SOCKET_MOUNT, in place
 * of any mount already there. what names the configuration in errors. */
int hook_config_mount_socket(struct json_object *config, const char *dir, const char *what);

/* ---- daemon.c, broker.c, peer.c, serve.c: the broker ------------------------------------ */

/* Which processes may use the socket: those in the anchor's mount and pid namespaces. */
struct hook_ns_id {
	dev_t dev;
	ino_t ino;
};
struct hook_peer_rule {
	struct hook_ns_id mnt, pid;
};

struct hook_broker_params {
	const char *root; /* the state root, NULL for the default */
	const char *id;
	pid_t anchor_pid;
	uint64_t anchor_start;
	struct hook_listener *listener;
};

/* Starts the broker, detached from the caller (own session, /dev/null stdio, no other
 * descriptor of the caller), and waits until it serves. *ret_pid and *ret_start name it. */
int hook_broker_spawn(const struct hook_broker_params *p, pid_t *ret_pid, uint64_t *ret_start);

/* The broker itself, in the detached process: starts the composite (its stages become the
 * broker's adopted children), reports readiness (or why not) on ready_fd, serves until SIGTERM
 * or the anchor's exit, ends the stage processes, and returns the process's exit code. */
int hook_broker_run(const struct hook_broker_params *p, int ready_fd);

/* Sends the broker's readiness (failure NULL) or why it cannot serve, once. */
int hook_broker_ready(int ready_fd, const char *failure);

/* The namespaces of pid. -1 with errno when they cannot be read. */
int hook_ns_read(pid_t pid, struct hook_peer_rule *ret);

/* Whether the peer of conn_fd belongs to the container (0) or not (-1, why says who it is). */
int hook_peer_check(int conn_fd, const struct hook_peer_rule *rule, char *why, size_t why_size);

/* Serves one connection: reads the request, invokes the stage, writes the response. */
void hook_serve_connection(struct ebcc_instance *inst, int conn_fd);

/* Writes an error response (status < 0) with message; best effort. */
void hook_serve_refuse(int conn_fd, int status, const char *message);

/* The socket directory the precreate hook made for the container of s, from the annotation
 * HOOK_SOCKDIR_ANNOTATION: 1 with *ret_dir (malloc) when there is one, 0 when the annotation
 * is absent, -1 when it names anything but a directory of <run-dir>/sockets. */
int hook_sockdir_from_state(const struct hook_options *o, const struct hook_state *s,
			    char **ret_dir);

/* Whether dir is one that precreate makes: <run-dir>/sockets/<HOOK_SOCKDIR_NAME_LEN hex>. */
int hook_sockdir_owned(const struct hook_options *o, const char *dir);

/* ---- precreate.c, create.c, poststop.c: the hooks ------------------------------------------------ */

/* Reads all of fd, at most 4 MiB (what precreate or the auto hook gets on stdin); *ret_text is
 * NUL-terminated, free(). */
int hook_input_read(int fd, char **ret_text, size_t *ret_len);
/* precreate (podman): the configuration in text, the one with the socket mount on out_fd. */
int hook_precreate(const struct hook_options *o, const char *text, size_t len, int out_fd);
/* Which hook a hooks.d entry registered for every stage is run as: precreate for an OCI
 * configuration (no "status"), poststop for a stopped container's state, else createRuntime.
 * -1 when text is no JSON object. */
int hook_phase_of(const char *text, size_t len, enum hook_phase *ret);
int hook_create_runtime(const struct hook_options *o, const struct hook_state *s);
int hook_poststop(const struct hook_options *o, const struct hook_state *s);

#endif /* EBCC_HOOK_H */
