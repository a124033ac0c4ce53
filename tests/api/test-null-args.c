/* SPDX-License-Identifier: MIT */
/*
 * Every exported function, given NULL for each of its pointer arguments in turn while every
 * other argument is valid and every object is live: a context with a state root, a composite
 * created and started from a bundle with the echo stage, an invocation of it and its evidence.
 *
 * A NULL the API refuses (NULL_REFUSED) must give EBCC_ERR_INVALID_ARG with a last-error message
 * that names the function and the argument, leave the state root and the bundle exactly as
 * they were (every entry's type, mode, size, inode, mtime and contents), leave no descriptor
 * open, and write no output. A NULL the API allows (NULL_ALLOWED) must give the documented
 * result. Leaks are found by running this test under ASan and valgrind.
 *
 * tests/abi/check-abi.py reads the NULL_* lines of this file: every pointer parameter of every
 * exported function must have one, and the argument it names must be the literal NULL.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <ebcc/backend.h>
#include <ebcc/ebcc.h>

#include "bundleutil.h"

#define STAGES "[{\"name\": \"echo\", \"image\": \"stages/echo\", \"maxRequest\": 4096}]"
#define ID "live"

/* The live objects every case uses. */
static struct fixture {
	char *root, *bundle;
	struct ebcc_context *ctx;
	struct ebcc_instance *inst;
	struct ebcc_invocation *inv;
	struct ebcc_evidence *ev;
	char *evidence_json; /* ev serialized */
	char *policy;        /* trusted_keys = the sim key, allow_simulated */
	const char *plugin;  /* a loadable backend plugin */
} f;

/* An output a refused call must leave alone. */
static char sentinel_byte;
#define SENTINEL ((void *)&sentinel_byte)

/* ---- what a call must leave as it was ---------------------------------------------------- */

static char **tree_lines;
static size_t tree_n, tree_cap;
static size_t tree_prefix;

static uint64_t file_hash(const char *path)
{
	uint64_t h = 1469598103934665603ULL;
	unsigned char buf[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			h = (h ^ buf[i]) * 1099511628211ULL;
	close(fd);
	return h;
}

static int tree_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char *line;

	(void)type;
	(void)ftw;
	if (tree_n == tree_cap) {
		tree_cap = tree_cap ? 2 * tree_cap : 64;
		tree_lines = realloc(tree_lines, tree_cap * sizeof(*tree_lines));
		assert_non_null(tree_lines);
	}
	assert_true(asprintf(&line, "%s mode=%o size=%lld ino=%llu mtime=%lld.%09ld hash=%016llx",
			     path + tree_prefix, (unsigned)st->st_mode, (long long)st->st_size,
			     (unsigned long long)st->st_ino, (long long)st->st_mtim.tv_sec,
			     st->st_mtim.tv_nsec,
			     S_ISREG(st->st_mode) ? (unsigned long long)file_hash(path) : 0ULL) > 0);
	tree_lines[tree_n++] = line;
	return 0;
}

static int line_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The state root and the bundle as text, one sorted line per entry (malloc). */
static char *snapshot(void)
{
	const char *dirs[] = { f.root, f.bundle };
	size_t len = 1;
	char *out, *p;

	tree_n = 0;
	for (size_t d = 0; d < 2; d++) {
		tree_prefix = strlen(dirs[d]);
		assert_int_equal(nftw(dirs[d], tree_entry, 16, FTW_PHYS), 0);
	}
	qsort(tree_lines, tree_n, sizeof(*tree_lines), line_cmp);
	for (size_t i = 0; i < tree_n; i++)
		len += strlen(tree_lines[i]) + 1;
	p = out = malloc(len);
	assert_non_null(out);
	for (size_t i = 0; i < tree_n; i++) {
		p = stpcpy(p, tree_lines[i]);
		*p++ = '\n';
		free(tree_lines[i]);
	}
	*p = '\0';
	return out;
}

struct before {
	char *tree;
	int fds;
};

/* Replaces the last-error message with a known one, so that a call that sets none is seen. */
static void mark_message(void)
{
	char *value = NULL;

	assert_int_equal(ebcc_context_get_option(f.ctx, "null_args_marker", &value),
			 EBCC_ERR_INVALID_ARG);
	assert_null(value);
	assert_non_null(strstr(ebcc_last_error_message(), "null_args_marker"));
}

static void before_call(struct before *b)
{
	b->tree = snapshot();
	b->fds = count_fds();
	mark_message();
}

/* Whether word occurs in text on its own, not inside a longer identifier. */
static bool names(const char *text, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = strstr(text, word); p != NULL; p = strstr(p + 1, word)) {
		bool start = p == text || !(p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z') ||
					    (p[-1] >= 'A' && p[-1] <= 'Z') ||
					    (p[-1] >= '0' && p[-1] <= '9'));
		char c = p[n];
		bool end = !(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9'));

		if (start && end)
			return true;
	}
	return false;
}

static void after_refused(bool refused, const char *got, const char *func, const char *param,
			  struct before *b, int line)
{
	const char *msg = ebcc_last_error_message();
	char *tree;

	if (!refused)
		fail_msg("line %d: %s with %s NULL returned %s, not the refusal documented; "
			 "message: %s", line, func, param, got, msg);
	if (!names(msg, func) || !names(msg, param))
		fail_msg("line %d: %s with %s NULL: the message \"%s\" does not name %s and %s",
			 line, func, param, msg, func, param);
	tree = snapshot();
	if (strcmp(tree, b->tree) != 0) {
		print_error("before:\n%s\nafter:\n%s\n", b->tree, tree);
		fail_msg("line %d: %s with %s NULL changed the state root or the bundle", line,
			 func, param);
	}
	if (count_fds() != b->fds)
		fail_msg("line %d: %s with %s NULL: %d descriptors open before, %d after", line,
			 func, param, b->fds, count_fds());
	free(tree);
	free(b->tree);
}

/* func args, with NULL for param, is refused with EBCC_ERR_INVALID_ARG. */
#define NULL_REFUSED(func, param, args)                                                     \
	do {                                                                                 \
		struct before b_;                                                            \
		int r_;                                                                      \
		before_call(&b_);                                                            \
		r_ = func args;                                                              \
		after_refused(r_ == EBCC_ERR_INVALID_ARG, ebcc_error_name(r_), #func, #param, \
			      &b_, __LINE__);                                                \
	} while (0)

/* The same for a function without an int status: it returns failed (NULL, 0) instead. */
#define NULL_REFUSED_AS(func, param, args, failed)                                          \
	do {                                                                                 \
		struct before b_;                                                            \
		__typeof__(func args) r_;                                                    \
		before_call(&b_);                                                            \
		r_ = func args;                                                              \
		after_refused(r_ == (failed), "another value", #func, #param, &b_, __LINE__); \
	} while (0)

/* func args, with NULL for param, is allowed and gives want, as its man page says. */
#define NULL_ALLOWED(func, param, args, want)                                               \
	do {                                                                                 \
		__typeof__(func args) r_;                                                    \
		mark_message();                                                              \
		r_ = func args;                                                              \
		if (!(r_ == (want)))                                                         \
			fail_msg("line %d: %s with %s NULL: not the documented %s; message: %s", \
				 __LINE__, #func, #param, #want, ebcc_last_error_message());  \
	} while (0)

/* The same for a function returning nothing: it must neither crash nor fail. */
#define NULL_ALLOWED_VOID(func, param, args)                                                \
	do {                                                                                 \
		mark_message();                                                              \
		func args;                                                                   \
		assert_non_null(strstr(ebcc_last_error_message(), "null_args_marker"));        \
	} while (0)

/* ---- fixture ----------------------------------------------------------------------------- */

static char *json_escape(const char *s)
{
	char *out = malloc(2 * strlen(s) + 1), *o = out;

	assert_non_null(out);
	for (; *s != '\0'; s++) {
		if (*s == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
	return out;
}

static int setup(void **state)
{
	char *key = NULL, *escaped;

	(void)state;
	f.root = scratch_dir("root");
	f.bundle = scratch_dir("bundle");
	f.ctx = context_at(f.root);
	make_bundle(f.bundle, NULL, STAGES);
	assert_int_equal(ebcc_instance_create(f.ctx, ID, f.bundle, &f.inst), 0);
	assert_int_equal(ebcc_instance_start(f.inst), 0);
	assert_int_equal(ebcc_stage_invoke(f.inst, "echo", "upper:null", 10, "n1", 2, &f.inv), 0);
	assert_int_equal(ebcc_invocation_evidence(f.inv, &f.ev), 0);
	assert_int_equal(ebcc_evidence_serialize(f.ev, &f.evidence_json), 0);
	/* Creates the device key now, so that later calls find the state root complete. */
	assert_int_equal(ebcc_backend_attestation_key(f.ctx, "sim", &key), 0);
	escaped = json_escape(key);
	assert_true(asprintf(&f.policy, "{\"trusted_keys\": [\"%s\"], \"allow_simulated\": true}",
			     escaped) > 0);
	free(escaped);
	ebcc_free(key);
	assert_int_equal(ebcc_evidence_verify(f.ctx, f.ev, f.policy), 0);
	f.plugin = getenv("EBCC_TEST_PLUGIN");
	assert_non_null(f.plugin);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ebcc_evidence_unref(f.ev);
	ebcc_invocation_unref(f.inv);
	if (f.inst != NULL)
		ebcc_instance_delete(f.inst, EBCC_DELETE_FORCE);
	ebcc_instance_unref(f.inst);
	ebcc_context_unref(f.ctx);
	ebcc_free(f.evidence_json);
	free(f.policy);
	free(tree_lines);
	scratch_remove(f.root);
	scratch_remove(f.bundle);
	return 0;
}

/* ---- library ----------------------------------------------------------------------------- */

static void library_functions(void **state)
{
	(void)state;
	/* No pointer arguments; they never fail. */
	assert_true(ebcc_version() > 0);
	assert_non_null(ebcc_version_string());
	assert_non_null(ebcc_strerror(0));
	assert_non_null(ebcc_error_name(0));
	assert_non_null(ebcc_last_error_message());
	/* ebcc_free(3): NULL is accepted and ignored. */
	NULL_ALLOWED_VOID(ebcc_free, p, (NULL));
	{
		int64_t value = 7;

		NULL_REFUSED(ebcc_constant, name, (NULL, &value));
		NULL_REFUSED(ebcc_constant, ret_value, ("EBCC_OK", NULL));
		assert_int_equal(value, 7);
	}
}

/* ---- context ----------------------------------------------------------------------------- */

/* What capture_log() heard. */
static struct captured {
	int calls;
	void *userdata;
	char last[256];
} seen;

static void capture_log(int priority, const char *message, void *userdata)
{
	(void)priority;
	seen.calls++;
	seen.userdata = userdata;
	snprintf(seen.last, sizeof(seen.last), "%s", message);
}

static void context_functions(void **state)
{
	struct ebcc_context *out = SENTINEL;
	char *value = SENTINEL, *before = NULL, *after = NULL;
	int calls;

	(void)state;
	NULL_REFUSED(ebcc_context_new, ret_ctx, (NULL));
	NULL_REFUSED(ebcc_context_new_with, ret_ctx, (NULL, NULL));
	{
		struct ebcc_context *made = NULL;

		NULL_ALLOWED(ebcc_context_new_with, options, (NULL, &made), 0);
		ebcc_context_unref(made);
	}
	NULL_ALLOWED_VOID(ebcc_context_options_init, options, (NULL));
	NULL_ALLOWED(ebcc_context_ref, ctx, (NULL), NULL);
	NULL_ALLOWED(ebcc_context_unref, ctx, (NULL), NULL);
	assert_ptr_equal(out, SENTINEL);

	/* A refused set_option leaves every option as it was. */
	assert_int_equal(ebcc_context_get_option(f.ctx, "retention", &before), 0);
	NULL_REFUSED(ebcc_context_set_option, ctx, (NULL, "retention", "7"));
	NULL_REFUSED(ebcc_context_set_option, key, (f.ctx, NULL, "7"));
	NULL_REFUSED(ebcc_context_set_option, value, (f.ctx, "retention", NULL));
	assert_int_equal(ebcc_context_get_option(f.ctx, "retention", &after), 0);
	assert_string_equal(before, after);
	ebcc_free(before);
	ebcc_free(after);

	NULL_REFUSED(ebcc_context_get_option, ctx, (NULL, "retention", &value));
	NULL_REFUSED(ebcc_context_get_option, key, (f.ctx, NULL, &value));
	NULL_REFUSED(ebcc_context_get_option, ret_value, (f.ctx, "retention", NULL));
	assert_ptr_equal(value, SENTINEL);

	NULL_REFUSED(ebcc_context_set_log_fn, ctx, (NULL, capture_log, &seen));
	/* ebcc_context_set_log_fn(3): userdata NULL is passed back as NULL ... */
	assert_int_equal(ebcc_context_set_option(f.ctx, "log_level", "debug"), 0);
	assert_int_equal(ebcc_context_set_log_fn(f.ctx, capture_log, &seen), 0);
	calls = seen.calls;
	assert_int_equal(ebcc_context_set_option(f.ctx, "retention", "3"), 0);
	assert_int_equal(seen.calls, calls + 1);
	assert_ptr_equal(seen.userdata, &seen);
	assert_non_null(strstr(seen.last, "retention"));
	NULL_ALLOWED(ebcc_context_set_log_fn, userdata, (f.ctx, capture_log, NULL), 0);
	assert_int_equal(ebcc_context_set_option(f.ctx, "retention", "3"), 0);
	assert_int_equal(seen.calls, calls + 2);
	assert_null(seen.userdata);
	/* ... and fn NULL restores the default destination: the callback hears nothing more. */
	NULL_ALLOWED(ebcc_context_set_log_fn, fn, (f.ctx, NULL, &seen), 0);
	assert_int_equal(ebcc_context_set_option(f.ctx, "retention", "3"), 0);
	assert_int_equal(seen.calls, calls + 2);
	assert_int_equal(ebcc_context_set_option(f.ctx, "log_level", "warning"), 0);
}

/* ---- backends ---------------------------------------------------------------------------- */

static int stub_probe(const struct ebcc_backend_env *env, char **ret_details_json, void *userdata)
{
	(void)ret_details_json;
	/* ebcc_backend_register(3): a NULL userdata comes back as NULL. */
	if (userdata != NULL)
		return EBCC_ERR_BACKEND;
	/* The core's services, given NULL where the header allows no more than that. */
	env->log(EBCC_LOG_ERR, NULL, env->host);
	env->release(NULL, env->host);
	return 1;
}

static int stub_load(const struct ebcc_backend_env *env, const struct ebcc_backend_stage_params *p,
		     struct ebcc_backend_stage *ret_stage, void *userdata)
{
	(void)env, (void)p, (void)ret_stage, (void)userdata;
	return EBCC_ERR_UNAVAILABLE;
}

static int stub_invoke(const struct ebcc_backend_env *env, void *handle,
		       const struct ebcc_backend_binding *binding, const void *request,
		       size_t request_len, struct ebcc_backend_invocation *ret, void *userdata)
{
	(void)env, (void)handle, (void)binding, (void)request, (void)request_len, (void)ret;
	(void)userdata;
	return EBCC_ERR_UNAVAILABLE;
}

static int stub_report(const struct ebcc_backend_env *env, void *handle,
		       const uint8_t *report_data, size_t report_data_len,
		       struct ebcc_backend_buffer *ret_report, void *userdata)
{
	(void)env, (void)handle, (void)report_data, (void)report_data_len, (void)ret_report;
	(void)userdata;
	return EBCC_ERR_UNAVAILABLE;
}

static int stub_unload(const struct ebcc_backend_env *env, void *handle, void *userdata)
{
	(void)env, (void)handle, (void)userdata;
	return 0;
}

static int stub_attestation_key(const struct ebcc_backend_env *env, char **ret_pem, void *userdata)
{
	(void)ret_pem, (void)userdata;
	/* A failure whose detail is NULL still reports one. */
	env->set_error(NULL, env->host);
	return EBCC_ERR_UNAVAILABLE;
}

static const struct ebcc_backend_ops stub_ops = {
	.size = sizeof(struct ebcc_backend_ops),
	.abi_version = EBCC_BACKEND_ABI_VERSION,
	.name = "nullargs",
	.isolation = EBCC_ISOLATION_ENCLAVE,
	.flags = EBCC_BACKEND_SIMULATED | EBCC_BACKEND_HOST_IN_TCB,
	.evidence_format = "ebcc.nullargs.v1",
	.max_report_data = 64,
	.probe = stub_probe,
	.stage_load = stub_load,
	.stage_invoke = stub_invoke,
	.stage_report = stub_report,
	.stage_unload = stub_unload,
	.attestation_key = stub_attestation_key,
};

static void register_refuses(const struct ebcc_backend_ops *ops, const char *field, int line)
{
	struct before b;

	before_call(&b);
	after_refused(ebcc_backend_register(f.ctx, ops, NULL) == EBCC_ERR_INVALID_ARG,
		      ebcc_last_error_message(), "backend", field, &b, line);
}

static void backend_functions(void **state)
{
	struct ebcc_backend_ops ops;
	struct ebcc_context *other = NULL;
	char *json = SENTINEL, *pem = SENTINEL;
	int count = ebcc_backend_count(f.ctx);

	(void)state;
	assert_true(count >= 1);
	NULL_REFUSED(ebcc_backend_register, ctx, (NULL, &stub_ops, NULL));
	NULL_REFUSED(ebcc_backend_register, ops, (f.ctx, NULL, NULL));
	/* The table's own pointers: a NULL name, format or required callback is refused too. */
	ops = stub_ops;
	ops.name = NULL;
	register_refuses(&ops, "name", __LINE__);
	ops = stub_ops;
	ops.evidence_format = NULL;
	register_refuses(&ops, "evidence_format", __LINE__);
	ops = stub_ops;
	ops.probe = NULL;
	register_refuses(&ops, "probe", __LINE__);
	ops = stub_ops;
	ops.stage_load = NULL;
	register_refuses(&ops, "stage_load", __LINE__);
	ops = stub_ops;
	ops.stage_invoke = NULL;
	register_refuses(&ops, "stage_invoke", __LINE__);
	ops = stub_ops;
	ops.flags &= ~EBCC_BACKEND_HOST_IN_TCB; /* stage_report then is not allowed */
	register_refuses(&ops, "stage_report", __LINE__);
	ops = stub_ops;
	ops.stage_unload = NULL;
	register_refuses(&ops, "stage_unload", __LINE__);
	assert_int_equal(ebcc_backend_count(f.ctx), count);

	NULL_REFUSED(ebcc_backend_load, ctx, (NULL, f.plugin));
	NULL_REFUSED(ebcc_backend_load, path, (f.ctx, NULL));
	NULL_REFUSED(ebcc_backend_count, ctx, (NULL));
	NULL_REFUSED_AS(ebcc_backend_name, ctx, (NULL, 0), NULL);
	assert_int_equal(ebcc_backend_count(f.ctx), count);
	/* The plugin was a valid argument: it loads into a context of its own. */
	assert_int_equal(ebcc_context_new(&other), 0);
	assert_int_equal(ebcc_backend_load(other, f.plugin), 0);
	ebcc_context_unref(other);

	NULL_REFUSED(ebcc_backend_probe, ctx, (NULL, "sim", &json));
	NULL_REFUSED(ebcc_backend_probe, name, (f.ctx, NULL, &json));
	NULL_REFUSED(ebcc_backend_probe, ret_json, (f.ctx, "sim", NULL));
	assert_ptr_equal(json, SENTINEL);
	NULL_REFUSED(ebcc_backend_attestation_key, ctx, (NULL, "sim", &pem));
	NULL_REFUSED(ebcc_backend_attestation_key, name, (f.ctx, NULL, &pem));
	NULL_REFUSED(ebcc_backend_attestation_key, ret_pem, (f.ctx, "sim", NULL));
	assert_ptr_equal(pem, SENTINEL);

	/* userdata may be NULL: it is handed back as NULL (stub_probe refuses anything else),
	 * and the core's log and release accept a NULL message and pointer. In a context of
	 * its own, so that the other cases see only the built-in backends. */
	assert_int_equal(ebcc_context_new(&other), 0);
	assert_int_equal(ebcc_context_set_log_fn(other, capture_log, NULL), 0);
	NULL_ALLOWED(ebcc_backend_register, userdata, (other, &stub_ops, NULL), 0);
	json = NULL;
	seen.calls = 0;
	assert_int_equal(ebcc_backend_probe(other, "nullargs", &json), 0);
	assert_non_null(strstr(json, "\"available\":true"));
	ebcc_free(json);
	/* The line logged with a NULL message says so, in words, with the backend's name. */
	assert_int_equal(seen.calls, 1);
	assert_string_equal(seen.last, "backend nullargs: (no message)");
	/* A backend's set_error with a NULL message: the failure still says who failed. */
	pem = NULL;
	assert_int_equal(ebcc_backend_attestation_key(other, "nullargs", &pem),
			 EBCC_ERR_UNAVAILABLE);
	assert_null(pem);
	assert_non_null(strstr(ebcc_last_error_message(), "nullargs"));
	ebcc_context_unref(other);
}

/* ---- instances --------------------------------------------------------------------------- */

static void instance_functions(void **state)
{
	struct ebcc_instance *out = SENTINEL;
	char *json = SENTINEL;

	(void)state;
	/* A valid id not in use: a refused create must not make it. */
	NULL_REFUSED(ebcc_instance_create, ctx, (NULL, "fresh", f.bundle, &out));
	NULL_REFUSED(ebcc_instance_create, id, (f.ctx, NULL, f.bundle, &out));
	NULL_REFUSED(ebcc_instance_create, bundle_dir, (f.ctx, "fresh", NULL, &out));
	NULL_REFUSED(ebcc_instance_create, ret_inst, (f.ctx, "fresh", f.bundle, NULL));
	/* ebcc_instance_create_with(3): options may be NULL (the defaults). */
	{
		struct ebcc_instance_options opts = EBCC_INSTANCE_OPTIONS_INIT;
		struct ebcc_instance *made = NULL;

		NULL_REFUSED(ebcc_instance_create_with, ctx, (NULL, "fresh", f.bundle, &opts, &out));
		NULL_REFUSED(ebcc_instance_create_with, id, (f.ctx, NULL, f.bundle, &opts, &out));
		NULL_REFUSED(ebcc_instance_create_with, bundle_dir,
			     (f.ctx, "fresh", NULL, &opts, &out));
		NULL_REFUSED(ebcc_instance_create_with, ret_inst,
			     (f.ctx, "fresh", f.bundle, &opts, NULL));
		NULL_ALLOWED(ebcc_instance_create_with, options,
			     (f.ctx, "made", f.bundle, NULL, &made), 0);
		assert_int_equal(ebcc_instance_delete(made, EBCC_DELETE_FORCE), 0);
		ebcc_instance_unref(made);
		NULL_ALLOWED_VOID(ebcc_instance_options_init, options, (NULL));
	}
	NULL_REFUSED(ebcc_instance_open, ctx, (NULL, ID, &out));
	NULL_REFUSED(ebcc_instance_open, id, (f.ctx, NULL, &out));
	NULL_REFUSED(ebcc_instance_open, ret_inst, (f.ctx, ID, NULL));
	assert_ptr_equal(out, SENTINEL);
	NULL_ALLOWED(ebcc_instance_ref, inst, (NULL), NULL);
	NULL_ALLOWED(ebcc_instance_unref, inst, (NULL), NULL);

	NULL_REFUSED(ebcc_instance_start, inst, (NULL));
	NULL_REFUSED(ebcc_instance_kill, inst, (NULL, SIGKILL));
	NULL_REFUSED(ebcc_instance_delete, inst, (NULL, EBCC_DELETE_FORCE));
	NULL_REFUSED(ebcc_instance_status, inst, (NULL));
	NULL_REFUSED(ebcc_instance_set_pid, inst, (NULL, getpid()));
	NULL_REFUSED(ebcc_instance_wait, inst, (NULL, 0, NULL));
	/* ebcc_instance_wait(3): ret_exit_status may be NULL; the composite is still running. */
	NULL_ALLOWED(ebcc_instance_wait, ret_exit_status, (f.inst, 0, NULL), EBCC_ERR_TIMEOUT);
	assert_true(names(ebcc_last_error_message(), ID));

	NULL_REFUSED(ebcc_instance_state, inst, (NULL, &json));
	NULL_REFUSED(ebcc_instance_state, ret_json, (f.inst, NULL));
	NULL_REFUSED(ebcc_instance_list, ctx, (NULL, &json));
	NULL_REFUSED(ebcc_instance_list, ret_json, (f.ctx, NULL));
	assert_ptr_equal(json, SENTINEL);
	assert_int_equal(ebcc_instance_status(f.inst), EBCC_STATUS_RUNNING);
}

/* ---- stages and invocations -------------------------------------------------------------- */

static uint64_t last_seq(void)
{
	char *info = NULL;
	const char *p;
	uint64_t seq;

	assert_int_equal(ebcc_stage_info(f.inst, "echo", &info), 0);
	p = strstr(info, "\"last_seq\"");
	assert_non_null(p);
	assert_int_equal(sscanf(p, "\"last_seq\": %" SCNu64, &seq), 1);
	ebcc_free(info);
	return seq;
}

static void stage_functions(void **state)
{
	struct ebcc_invocation *out = SENTINEL, *empty = NULL;
	struct ebcc_evidence *ev = SENTINEL;
	const void *data = SENTINEL;
	char *json = SENTINEL;
	size_t len = 12345;
	uint64_t seq = last_seq();

	(void)state;
	NULL_REFUSED(ebcc_stage_invoke, inst, (NULL, "echo", "x", 1, "n", 1, &out));
	NULL_REFUSED(ebcc_stage_invoke, stage, (f.inst, NULL, "x", 1, "n", 1, &out));
	NULL_REFUSED(ebcc_stage_invoke, request, (f.inst, "echo", NULL, 1, "n", 1, &out));
	NULL_REFUSED(ebcc_stage_invoke, nonce, (f.inst, "echo", "x", 1, NULL, 1, &out));
	NULL_REFUSED(ebcc_stage_invoke, ret_inv, (f.inst, "echo", "x", 1, "n", 1, NULL));
	assert_ptr_equal(out, SENTINEL);
	/* No sequence number was used up by the refusals. */
	assert_int_equal(last_seq(), seq);
	/* ebcc_stage_invoke(3): request and nonce may be NULL when their length is 0. */
	NULL_ALLOWED(ebcc_stage_invoke, request, (f.inst, "echo", NULL, 0, "n", 1, &empty), 0);
	assert_int_equal(ebcc_invocation_seq(empty), seq + 1);
	ebcc_invocation_unref(empty);
	NULL_ALLOWED(ebcc_stage_invoke, nonce, (f.inst, "echo", "x", 1, NULL, 0, &empty), 0);
	assert_int_equal(ebcc_invocation_seq(empty), seq + 2);
	assert_int_equal(ebcc_invocation_response(empty, &data, &len), 0);
	assert_int_equal(len, 1);
	assert_memory_equal(data, "x", 1);
	ebcc_invocation_unref(empty);
	data = SENTINEL;
	len = 12345;

	/* ebcc_stage_invoke_with(3): options may be NULL (the defaults). */
	{
		struct ebcc_invoke_options opts = EBCC_INVOKE_OPTIONS_INIT;

		NULL_REFUSED(ebcc_stage_invoke_with, inst, (NULL, "echo", "x", 1, &opts, &out));
		NULL_REFUSED(ebcc_stage_invoke_with, stage, (f.inst, NULL, "x", 1, &opts, &out));
		NULL_REFUSED(ebcc_stage_invoke_with, request, (f.inst, "echo", NULL, 1, &opts, &out));
		NULL_REFUSED(ebcc_stage_invoke_with, ret_inv, (f.inst, "echo", "x", 1, &opts, NULL));
		assert_ptr_equal(out, SENTINEL);
		assert_int_equal(last_seq(), seq + 2);
		NULL_ALLOWED(ebcc_stage_invoke_with, options, (f.inst, "echo", "y", 1, NULL, &empty),
			     0);
		assert_int_equal(ebcc_invocation_seq(empty), seq + 3);
		ebcc_invocation_unref(empty);
		NULL_ALLOWED_VOID(ebcc_invoke_options_init, options, (NULL));
	}

	NULL_REFUSED(ebcc_stage_info, inst, (NULL, "echo", &json));
	NULL_REFUSED(ebcc_stage_info, stage, (f.inst, NULL, &json));
	NULL_REFUSED(ebcc_stage_info, ret_json, (f.inst, "echo", NULL));
	assert_ptr_equal(json, SENTINEL);

	NULL_REFUSED(ebcc_invocation_response, inv, (NULL, &data, &len));
	NULL_REFUSED(ebcc_invocation_response, ret_data, (f.inv, NULL, &len));
	NULL_REFUSED(ebcc_invocation_response, ret_len, (f.inv, &data, NULL));
	assert_ptr_equal(data, SENTINEL);
	assert_int_equal(len, 12345);
	NULL_REFUSED_AS(ebcc_invocation_seq, inv, (NULL), 0);
	NULL_REFUSED(ebcc_invocation_evidence, inv, (NULL, &ev));
	NULL_REFUSED(ebcc_invocation_evidence, ret_ev, (f.inv, NULL));
	assert_ptr_equal(ev, SENTINEL);
	NULL_ALLOWED(ebcc_invocation_ref, inv, (NULL), NULL);
	NULL_ALLOWED(ebcc_invocation_unref, inv, (NULL), NULL);
	/* The invocation is intact. */
	assert_int_equal(ebcc_invocation_response(f.inv, &data, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(data, "NULL", 4);
}

/* ---- evidence ---------------------------------------------------------------------------- */

static void evidence_functions(void **state)
{
	struct ebcc_evidence *out = SENTINEL;
	char *json = SENTINEL;
	const char *text = SENTINEL;
	const uint8_t *bytes = SENTINEL;
	uint64_t number = 7;
	size_t len = strlen(f.evidence_json), sealed_len = 0;
	void *sealed = SENTINEL;
	struct ebcc_verify_options seal_opts = EBCC_VERIFY_OPTIONS_INIT;

	(void)state;
	seal_opts.policy_json = f.policy;
	NULL_REFUSED(ebcc_evidence_get, inst, (NULL, "echo", 1, &out));
	NULL_REFUSED(ebcc_evidence_get, stage, (f.inst, NULL, 1, &out));
	NULL_REFUSED(ebcc_evidence_get, ret_ev, (f.inst, "echo", 1, NULL));
	NULL_REFUSED(ebcc_evidence_serialize, ev, (NULL, &json));
	NULL_REFUSED(ebcc_evidence_serialize, ret_json, (f.ev, NULL));
	assert_ptr_equal(json, SENTINEL);
	NULL_REFUSED(ebcc_evidence_parse, ctx, (NULL, f.evidence_json, len, &out));
	NULL_REFUSED(ebcc_evidence_parse, data, (f.ctx, NULL, len, &out));
	NULL_REFUSED(ebcc_evidence_parse, ret_ev, (f.ctx, f.evidence_json, len, NULL));
	assert_ptr_equal(out, SENTINEL);

	NULL_REFUSED(ebcc_evidence_verify, ctx, (NULL, f.ev, f.policy));
	NULL_REFUSED(ebcc_evidence_verify, ev, (f.ctx, NULL, f.policy));
	/* ebcc_evidence_verify(3): policy_json NULL is the empty policy, which trusts no key:
	 * the evidence does not verify, saying why; the same evidence does under a policy. */
	NULL_ALLOWED(ebcc_evidence_verify, policy_json, (f.ctx, f.ev, NULL), EBCC_ERR_VERIFY);
	assert_true(names(ebcc_last_error_message(), "trusted_keys"));
	assert_int_equal(ebcc_evidence_verify(f.ctx, f.ev, f.policy), 0);
	NULL_REFUSED(ebcc_evidence_verify_claims, ctx, (NULL, f.ev, f.policy, &json));
	NULL_REFUSED(ebcc_evidence_verify_claims, ev, (f.ctx, NULL, f.policy, &json));
	NULL_REFUSED(ebcc_evidence_verify_claims, ret_claims_json, (f.ctx, f.ev, f.policy, NULL));
	/* As for ebcc_evidence_verify(): the empty policy trusts no key. */
	NULL_ALLOWED(ebcc_evidence_verify_claims, policy_json, (f.ctx, f.ev, NULL, &json),
		     EBCC_ERR_VERIFY);
	assert_ptr_equal(json, SENTINEL);
	NULL_ALLOWED_VOID(ebcc_verify_options_init, options, (NULL));
	NULL_REFUSED(ebcc_evidence_verify_with, ctx, (NULL, f.ev, NULL, &json));
	NULL_REFUSED(ebcc_evidence_verify_with, ev, (f.ctx, NULL, NULL, &json));
	/* NULL options are no policy; NULL ret_claims_json asks for no claims. */
	NULL_ALLOWED(ebcc_evidence_verify_with, options, (f.ctx, f.ev, NULL, &json),
		     EBCC_ERR_VERIFY);
	assert_ptr_equal(json, SENTINEL);
	NULL_ALLOWED(ebcc_evidence_verify_with, ret_claims_json, (f.ctx, f.ev, NULL, NULL),
		     EBCC_ERR_VERIFY);
	NULL_REFUSED(ebcc_evidence_get_text, ev, (NULL, EBCC_EVIDENCE_STAGE, &text));
	NULL_REFUSED(ebcc_evidence_get_text, ret, (f.ev, EBCC_EVIDENCE_STAGE, NULL));
	assert_ptr_equal(text, SENTINEL);
	NULL_REFUSED(ebcc_evidence_get_u64, ev, (NULL, EBCC_EVIDENCE_SEQ, &number));
	NULL_REFUSED(ebcc_evidence_get_u64, ret, (f.ev, EBCC_EVIDENCE_SEQ, NULL));
	assert_true(number == 7);
	NULL_REFUSED(ebcc_evidence_get_bytes, ev, (NULL, EBCC_EVIDENCE_NONCE, &bytes, &len));
	NULL_REFUSED(ebcc_evidence_get_bytes, ret, (f.ev, EBCC_EVIDENCE_NONCE, NULL, &len));
	NULL_REFUSED(ebcc_evidence_get_bytes, ret_len, (f.ev, EBCC_EVIDENCE_NONCE, &bytes, NULL));
	assert_ptr_equal(bytes, SENTINEL);
	NULL_ALLOWED(ebcc_evidence_ref, ev, (NULL), NULL);
	NULL_ALLOWED(ebcc_evidence_unref, ev, (NULL), NULL);
	NULL_REFUSED(ebcc_secret_seal, ctx, (NULL, f.ev, &seal_opts, "s", 1, &sealed, &sealed_len));
	NULL_REFUSED(ebcc_secret_seal, ev, (f.ctx, NULL, &seal_opts, "s", 1, &sealed, &sealed_len));
	NULL_REFUSED(ebcc_secret_seal, options, (f.ctx, f.ev, NULL, "s", 1, &sealed, &sealed_len));
	NULL_REFUSED(ebcc_secret_seal, secret, (f.ctx, f.ev, &seal_opts, NULL, 1, &sealed,
						&sealed_len));
	NULL_REFUSED(ebcc_secret_seal, ret_sealed, (f.ctx, f.ev, &seal_opts, "s", 1, NULL,
						    &sealed_len));
	NULL_REFUSED(ebcc_secret_seal, ret_sealed_len, (f.ctx, f.ev, &seal_opts, "s", 1, &sealed,
							NULL));
	assert_ptr_equal(sealed, SENTINEL);
}

/* ---- a stopped composite ----------------------------------------------------------------- */

static void stopped_instance(void **state)
{
	int status = 7;

	(void)state;
	assert_int_equal(ebcc_instance_kill(f.inst, SIGTERM), 0);
	/* ebcc_instance_wait(3): with ret_exit_status NULL it still waits, and succeeds. */
	NULL_ALLOWED(ebcc_instance_wait, ret_exit_status, (f.inst, -1, NULL), 0);
	assert_int_equal(ebcc_instance_wait(f.inst, 0, &status), 0);
	NULL_REFUSED(ebcc_instance_delete, inst, (NULL, 0));
	NULL_REFUSED(ebcc_instance_start, inst, (NULL));
	assert_int_equal(ebcc_instance_status(f.inst), EBCC_STATUS_STOPPED);
	assert_int_equal(ebcc_instance_delete(f.inst, 0), 0);
}

/* ---- raw reports ------------------------------------------------------------------------- */

static void report_functions(void **state)
{
	char *claims = SENTINEL;

	(void)state;
	NULL_REFUSED(ebcc_report_verify, ctx, (NULL, "tsm", "x", 1, NULL, &claims));
	NULL_REFUSED(ebcc_report_verify, backend, (f.ctx, NULL, "x", 1, NULL, &claims));
	NULL_REFUSED(ebcc_report_verify, data, (f.ctx, "tsm", NULL, 1, NULL, &claims));
	NULL_REFUSED(ebcc_report_verify, ret_claims_json, (f.ctx, "tsm", "x", 1, NULL, NULL));
	assert_ptr_equal(claims, SENTINEL);
	/* ebcc_report_verify(3): policy_json NULL is the empty policy; one byte is no report (sim:
	 * built in whatever -Dbackends says). */
	NULL_ALLOWED(ebcc_report_verify, policy_json, (f.ctx, "sim", "x", 1, NULL, &claims),
		     EBCC_ERR_VERIFY);
}

static void policy_functions(void **state)
{
	struct ebcc_policy *p = NULL;
	char *json = SENTINEL;

	(void)state;
	NULL_REFUSED(ebcc_policy_new, ret_policy, (NULL));
	assert_int_equal(ebcc_policy_new(&p), 0);
	NULL_REFUSED(ebcc_policy_add_trusted_key, policy, (NULL, "-----BEGIN K-----\n-----END K-----"));
	NULL_REFUSED(ebcc_policy_add_trusted_key, pem, (p, NULL));
	NULL_REFUSED(ebcc_policy_set_string, policy, (NULL, "nonce", "00"));
	NULL_REFUSED(ebcc_policy_set_string, key, (p, NULL, "00"));
	NULL_REFUSED(ebcc_policy_set_string, value, (p, "nonce", NULL));
	NULL_REFUSED(ebcc_policy_set_bool, policy, (NULL, "allow_simulated", 1));
	NULL_REFUSED(ebcc_policy_set_bool, key, (p, NULL, 1));
	NULL_REFUSED(ebcc_policy_set_backend_json, policy, (NULL, "tsm", "allow_debug", "true"));
	NULL_REFUSED(ebcc_policy_set_backend_json, backend, (p, NULL, "allow_debug", "true"));
	NULL_REFUSED(ebcc_policy_set_backend_json, key, (p, "tsm", NULL, "true"));
	NULL_REFUSED(ebcc_policy_set_backend_json, value_json, (p, "tsm", "allow_debug", NULL));
	NULL_REFUSED(ebcc_policy_set_backend_string, policy, (NULL, "tsm", "provider", "tdx_guest"));
	NULL_REFUSED(ebcc_policy_set_backend_string, backend, (p, NULL, "provider", "tdx_guest"));
	NULL_REFUSED(ebcc_policy_set_backend_string, key, (p, "tsm", NULL, "tdx_guest"));
	NULL_REFUSED(ebcc_policy_set_backend_string, value, (p, "tsm", "provider", NULL));
	NULL_REFUSED(ebcc_policy_to_json, policy, (NULL, &json));
	NULL_REFUSED(ebcc_policy_to_json, ret_json, (p, NULL));
	assert_ptr_equal(json, SENTINEL);
	/* The policy is still the empty one. */
	assert_int_equal(ebcc_policy_to_json(p, &json), 0);
	assert_string_equal(json, "{\n}");
	ebcc_free(json);
	NULL_ALLOWED(ebcc_policy_free, policy, (NULL), NULL);
	assert_null(ebcc_policy_free(p));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(library_functions),
		cmocka_unit_test(context_functions),
		cmocka_unit_test(backend_functions),
		cmocka_unit_test(instance_functions),
		cmocka_unit_test(stage_functions),
		cmocka_unit_test(evidence_functions),
		cmocka_unit_test(stopped_instance),
		cmocka_unit_test(report_functions),
		cmocka_unit_test(policy_functions),
	};

	if (echo_stage_path() == NULL) {
		fprintf(stderr, "SKIP: the echo stage is not built ($EBCC_TEST_ECHO_STAGE)\n");
		return 77;
	}
	if (getenv("EBCC_TEST_PLUGIN") == NULL) {
		fprintf(stderr, "SKIP: no plugin to load ($EBCC_TEST_PLUGIN)\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
