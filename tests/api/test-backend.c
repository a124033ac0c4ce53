/* SPDX-License-Identifier: MIT */
/*
 * The backend registry through the public API: built-in sim, register (sizes, ABI, duplicates,
 * bad tables), plugins (the example, one built against an older table, and each way a plugin
 * can be broken), plugin_dir loading that skips a broken plugin, probe and attestation key,
 * and a backend's own image measurement (measure_image) at create.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
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

#define assert_contains(haystack, needle)                                                  \
	do {                                                                               \
		if (strstr((haystack), (needle)) == NULL)                                  \
			fail_msg("\"%s\" does not contain \"%s\"", (haystack), (needle)); \
	} while (0)

static const char *plugin(const char *name)
{
	static char path[PATH_MAX];
	char var[64];
	const char *p;

	snprintf(var, sizeof(var), "EBCC_PLUGIN_%s", name);
	p = getenv(var);
	if (p == NULL)
		fail_msg("%s is not set (run through meson test)", var);
	snprintf(path, sizeof(path), "%s", p);
	return path;
}

/* ---- a backend of our own ----------------------------------------------------------------- */

struct calls {
	int probe, destroy;
};

static int my_probe(const struct ebcc_backend_env *env, char **ret, void *userdata)
{
	static const char details[] = "{\"reason\":\"no such device\",\"extra\":1}";
	struct calls *c = userdata;

	c->probe++;
	*ret = env->alloc(sizeof(details), env->host);
	if (*ret == NULL)
		return EBCC_ERR_NO_MEMORY;
	memcpy(*ret, details, sizeof(details));
	return 0;
}

static int my_load(const struct ebcc_backend_env *env, const struct ebcc_backend_stage_params *p,
		   struct ebcc_backend_stage *ret, void *userdata)
{
	(void)env;
	(void)p;
	(void)ret;
	(void)userdata;
	return EBCC_ERR_UNAVAILABLE;
}

static int my_invoke(const struct ebcc_backend_env *env, void *h,
		     const struct ebcc_backend_binding *binding, const void *req, size_t len,
		     struct ebcc_backend_invocation *ret, void *userdata)
{
	(void)env;
	(void)h;
	(void)binding;
	(void)req;
	(void)len;
	(void)ret;
	(void)userdata;
	return EBCC_ERR_STAGE;
}

static int my_report(const struct ebcc_backend_env *env, void *h, const uint8_t *rd, size_t len,
		     struct ebcc_backend_buffer *ret, void *userdata)
{
	(void)env;
	(void)h;
	(void)rd;
	(void)len;
	(void)ret;
	(void)userdata;
	return EBCC_ERR_STAGE;
}

static int my_unload(const struct ebcc_backend_env *env, void *h, void *userdata)
{
	(void)env;
	(void)h;
	(void)userdata;
	return 0;
}

static void my_destroy(void *userdata)
{
	struct calls *c = userdata;

	c->destroy++;
}

static struct ebcc_backend_ops my_ops(const char *name)
{
	return (struct ebcc_backend_ops){
		.size = sizeof(struct ebcc_backend_ops),
		.abi_version = EBCC_BACKEND_ABI_VERSION,
		.name = name,
		.isolation = EBCC_ISOLATION_EMBEDDED,
		.flags = EBCC_BACKEND_HOST_IN_TCB,
		.evidence_format = "test.v1",
		.max_report_data = 64,
		.probe = my_probe,
		.stage_load = my_load,
		.stage_invoke = my_invoke,
		.stage_report = my_report,
		.stage_unload = my_unload,
		.destroy = my_destroy,
	};
}

static struct ebcc_context *new_ctx(void)
{
	struct ebcc_context *ctx = NULL;

	assert_int_equal(ebcc_context_new(&ctx), 0);
	assert_int_equal(ebcc_context_set_option(ctx, "plugin_dir", ""), 0);
	return ctx;
}

/* ---- tests --------------------------------------------------------------------------------- */

static void builtin_sim(void **state)
{
	struct ebcc_context *ctx = new_ctx();
	char *json = NULL;

	(void)state;
	assert_true(ebcc_backend_count(ctx) >= 1);
	assert_string_equal(ebcc_backend_name(ctx, 0), "sim");
	assert_null(ebcc_backend_name(ctx, -1));
	assert_null(ebcc_backend_name(ctx, ebcc_backend_count(ctx)));
	assert_contains(ebcc_last_error_message(), "out of range");

	assert_int_equal(ebcc_backend_probe(ctx, "sim", &json), 0);
	assert_contains(json, "\"name\":\"sim\"");
	assert_contains(json, "\"available\":true");
	assert_contains(json, "\"simulated\":true");
	assert_contains(json, "\"isolation\":\"enclave\"");
	assert_contains(json, "\"evidence_format\":\"ebcc.sim.v1\"");
	assert_contains(json, "\"max_report_data\":64");
	assert_contains(json, "\"concurrent_invoke\":false");
	assert_contains(json, "\"seccomp\":true");
	assert_contains(json, "\"plugin\":false");
	ebcc_free(json);
	assert_int_equal(ebcc_backend_probe(ctx, "nope", &json), EBCC_ERR_NOT_FOUND);
	assert_contains(ebcc_last_error_message(), "nope");
	ebcc_context_unref(ctx);
}

static void register_and_duplicates(void **state)
{
	struct ebcc_context *ctx = new_ctx();
	struct calls calls = { 0 };
	struct ebcc_backend_ops ops = my_ops("mine");
	int before = ebcc_backend_count(ctx);
	char *json = NULL;

	(void)state;
	assert_int_equal(ebcc_backend_register(ctx, &ops, &calls), 0);
	assert_int_equal(ebcc_backend_count(ctx), before + 1);
	assert_string_equal(ebcc_backend_name(ctx, before), "mine");
	assert_int_equal(ebcc_backend_register(ctx, &ops, &calls), EBCC_ERR_EXISTS);
	assert_contains(ebcc_last_error_message(), "mine");
	ops.name = "sim";
	assert_int_equal(ebcc_backend_register(ctx, &ops, &calls), EBCC_ERR_EXISTS);
	assert_int_equal(ebcc_backend_count(ctx), before + 1);

	/* Probe: the backend's details, the core's fields; unavailable is not an error. */
	assert_int_equal(ebcc_backend_probe(ctx, "mine", &json), 0);
	assert_int_equal(calls.probe, 1);
	assert_contains(json, "\"available\":false");
	assert_contains(json, "\"reason\":\"no such device\"");
	assert_contains(json, "\"extra\":1");
	assert_contains(json, "\"isolation\":\"embedded\"");
	assert_contains(json, "\"simulated\":false");
	ebcc_free(json);
	/* No attestation_key callback: unavailable, and the message says so. */
	assert_int_equal(ebcc_backend_attestation_key(ctx, "mine", &json), EBCC_ERR_UNAVAILABLE);
	assert_contains(ebcc_last_error_message(), "mine");

	ebcc_context_unref(ctx);
	/* destroy ran once with the registration's userdata (the duplicates never registered). */
	assert_int_equal(calls.destroy, 1);
}

/* init(): per-context userdata for every callback and destroy; a failing init refuses the
 * registration without destroy; a refused duplicate releases what its init made. */
struct per_context {
	struct calls *shared; /* the registration's userdata */
	int inits;
};

static int my_init(const struct ebcc_backend_env *env, void **ret_userdata, void *userdata)
{
	struct calls *shared = userdata;
	struct per_context *pc;

	if (shared->probe < 0) {
		env->set_error("my_init: told to fail", env->host);
		return EBCC_ERR_UNAVAILABLE;
	}
	assert_ptr_equal(*ret_userdata, userdata);
	assert_int_equal(env->data_dir_fd, -1);
	pc = calloc(1, sizeof(*pc));
	if (pc == NULL)
		return EBCC_ERR_NO_MEMORY;
	pc->shared = shared;
	pc->inits = 1;
	*ret_userdata = pc;
	return 0;
}

static int pc_probe(const struct ebcc_backend_env *env, char **ret, void *userdata)
{
	struct per_context *pc = userdata;

	(void)env, (void)ret;
	assert_int_equal(pc->inits, 1);
	pc->shared->probe++;
	return 1;
}

static void pc_destroy(void *userdata)
{
	struct per_context *pc = userdata;

	pc->shared->destroy++;
	free(pc);
}

static void init_gives_per_context_userdata(void **state)
{
	struct ebcc_context *a = new_ctx(), *b = new_ctx();
	struct calls calls = { 0 };
	struct ebcc_backend_ops ops = my_ops("withinit");
	char *json = NULL;

	(void)state;
	ops.init = my_init;
	ops.probe = pc_probe;
	ops.destroy = pc_destroy;
	assert_int_equal(ebcc_backend_register(a, &ops, &calls), 0);
	assert_int_equal(ebcc_backend_register(b, &ops, &calls), 0);
	assert_int_equal(ebcc_backend_probe(a, "withinit", &json), 0);
	ebcc_free(json);
	assert_int_equal(ebcc_backend_probe(b, "withinit", &json), 0);
	ebcc_free(json);
	assert_int_equal(calls.probe, 2);
	/* A duplicate: its init ran, its state is released at once. */
	assert_int_equal(ebcc_backend_register(a, &ops, &calls), EBCC_ERR_EXISTS);
	assert_int_equal(calls.destroy, 1);
	ebcc_context_unref(a);
	ebcc_context_unref(b);
	assert_int_equal(calls.destroy, 3);

	/* init fails: refused with its message, nothing registered, no destroy. */
	a = new_ctx();
	calls = (struct calls){ .probe = -1 };
	assert_int_equal(ebcc_backend_register(a, &ops, &calls), EBCC_ERR_UNAVAILABLE);
	assert_contains(ebcc_last_error_message(), "told to fail");
	assert_int_equal(ebcc_backend_probe(a, "withinit", &json), EBCC_ERR_NOT_FOUND);
	ebcc_context_unref(a);
	assert_int_equal(calls.destroy, 0);
}

static void sizes_and_abi(void **state)
{
	struct ebcc_context *ctx = new_ctx();
	struct calls calls = { 0 };
	struct {
		struct ebcc_backend_ops ops;
		uint64_t future[2];
	} big = { .ops = my_ops("bigger") };
	struct ebcc_backend_ops ops;

	(void)state;
	ops = my_ops("abi3");
	ops.abi_version = 3;
	assert_int_equal(ebcc_backend_register(ctx, &ops, &calls), EBCC_ERR_ABI);
	assert_contains(ebcc_last_error_message(), "backend \"abi3\" has ABI version 3");
	ops = my_ops("abi1");
	ops.abi_version = 1;
	assert_int_equal(ebcc_backend_register(ctx, &ops, &calls), EBCC_ERR_ABI);
	assert_contains(ebcc_last_error_message(), "ABI version 1; this library supports only "
						   "version 2 (in version 2 the stage binds");

	ops = my_ops("tiny");
	ops.size = (uint32_t)offsetof(struct ebcc_backend_ops, stage_invoke);
	assert_int_equal(ebcc_backend_register(ctx, &ops, &calls), EBCC_ERR_ABI);
	assert_contains(ebcc_last_error_message(), "smaller");

	/* A newer, larger table: fine while what we do not know is zero... */
	big.ops.size = sizeof(big);
	assert_int_equal(ebcc_backend_register(ctx, &big.ops, &calls), 0);
	/* ...refused as soon as any of it is not. */
	big.ops.name = "bigger2";
	big.future[1] = 1;
	assert_int_equal(ebcc_backend_register(ctx, &big.ops, &calls), EBCC_ERR_ABI);
	assert_contains(ebcc_last_error_message(), "is not zero");

	/* A smaller table that ends after stage_unload: the rest reads as NULL. */
	ops = my_ops("small");
	ops.size = (uint32_t)(offsetof(struct ebcc_backend_ops, stage_unload) + sizeof(void *));
	assert_int_equal(ebcc_backend_register(ctx, &ops, &calls), 0);

	ebcc_context_unref(ctx);
	/* Only "bigger" had destroy inside its size; "small" ended before it. */
	assert_int_equal(calls.destroy, 1);
}

static void bad_tables(void **state)
{
	struct ebcc_context *ctx = new_ctx();
	struct ebcc_backend_ops ops;
	int built_in = ebcc_backend_count(ctx);

	(void)state;
	ops = my_ops("Bad Name");
	assert_int_equal(ebcc_backend_register(ctx, &ops, NULL), EBCC_ERR_INVALID_ARG);
	assert_contains(ebcc_last_error_message(), "Bad Name");
	ops = my_ops("");
	assert_int_equal(ebcc_backend_register(ctx, &ops, NULL), EBCC_ERR_INVALID_ARG);
	ops = my_ops(NULL);
	assert_int_equal(ebcc_backend_register(ctx, &ops, NULL), EBCC_ERR_INVALID_ARG);
	ops = my_ops("noprobe");
	ops.probe = NULL;
	assert_int_equal(ebcc_backend_register(ctx, &ops, NULL), EBCC_ERR_INVALID_ARG);
	ops = my_ops("noiso");
	ops.isolation = 0;
	assert_int_equal(ebcc_backend_register(ctx, &ops, NULL), EBCC_ERR_INVALID_ARG);
	ops = my_ops("smallrd");
	ops.max_report_data = 32;
	assert_int_equal(ebcc_backend_register(ctx, &ops, NULL), EBCC_ERR_INVALID_ARG);
	ops = my_ops("noformat");
	ops.evidence_format = "";
	assert_int_equal(ebcc_backend_register(ctx, &ops, NULL), EBCC_ERR_INVALID_ARG);
	/* A report over data the host chose, from a backend whose host is outside the TEE. */
	ops = my_ops("hostreport");
	ops.flags = 0;
	assert_int_equal(ebcc_backend_register(ctx, &ops, NULL), EBCC_ERR_INVALID_ARG);
	assert_contains(ebcc_last_error_message(), "stage_report, a report over data the host "
						   "chose, is allowed only with "
						   "EBCC_BACKEND_HOST_IN_TCB");
	ops.stage_report = NULL;
	ops.destroy = NULL;
	assert_int_equal(ebcc_backend_register(ctx, &ops, NULL), 0);
	assert_int_equal(ebcc_backend_count(ctx), built_in + 1);
	ebcc_context_unref(ctx);
}

static void plugins_load(void **state)
{
	struct ebcc_context *ctx = new_ctx();
	char *json = NULL;
	int n = ebcc_backend_count(ctx);

	(void)state;
	assert_int_equal(ebcc_backend_load(ctx, plugin("example")), 0);
	assert_int_equal(ebcc_backend_count(ctx), n + 1);
	assert_string_equal(ebcc_backend_name(ctx, n), "example");
	assert_int_equal(ebcc_backend_probe(ctx, "example", &json), 0);
	assert_contains(json, "\"plugin\":true");
	assert_contains(json, "\"available\":true");
	assert_contains(json, "isolates nothing");
	ebcc_free(json);
	assert_int_equal(ebcc_backend_load(ctx, plugin("example")), EBCC_ERR_EXISTS);

	/* Built against an older, smaller table: loaded, the missing callbacks are NULL. */
	assert_int_equal(ebcc_backend_load(ctx, plugin("smaller")), 0);
	assert_int_equal(ebcc_backend_probe(ctx, "smaller", &json), 0);
	assert_contains(json, "\"isolation\":\"vm\"");
	assert_contains(json, "\"host_in_tcb\":false");
	ebcc_free(json);
	json = NULL;
	assert_int_equal(ebcc_backend_attestation_key(ctx, "smaller", &json),
			 EBCC_ERR_UNAVAILABLE);
	assert_null(json);
	assert_int_equal(ebcc_backend_count(ctx), n + 2);
	ebcc_context_unref(ctx);
}

static void broken_plugins(void **state)
{
	struct ebcc_context *ctx = new_ctx();
	char dir[] = "/tmp/ebcc-plugins-XXXXXX", text[PATH_MAX];
	int n = ebcc_backend_count(ctx);
	FILE *f;

	(void)state;
	assert_int_equal(ebcc_backend_load(ctx, plugin("nosym")), EBCC_ERR_NOT_FOUND);
	assert_contains(ebcc_last_error_message(), "has no ebcc_backend_entry_v1 symbol");
	assert_contains(ebcc_last_error_message(), "undefined symbol"); /* dlerror() */

	assert_int_equal(ebcc_backend_load(ctx, plugin("wrongabi")), EBCC_ERR_ABI);
	assert_contains(ebcc_last_error_message(), "ABI version 99");
	assert_contains(ebcc_last_error_message(), "test-plugin-wrongabi.so");

	/* Backend ABI 1: its core bound request and response on the host. */
	assert_int_equal(ebcc_backend_load(ctx, plugin("abi1")), EBCC_ERR_ABI);
	assert_contains(ebcc_last_error_message(), "test-plugin-abi1.so");
	assert_contains(ebcc_last_error_message(), "backend \"abi1\" has ABI version 1; this "
						   "library supports only version 2");

	assert_int_equal(ebcc_backend_load(ctx, plugin("tail")), EBCC_ERR_ABI);
	assert_contains(ebcc_last_error_message(), "is not zero");

	assert_non_null(mkdtemp(dir));
	snprintf(text, sizeof(text), "%s/notelf.so", dir);
	f = fopen(text, "w");
	assert_non_null(f);
	fputs("this is a text file named like a plugin, long enough to be judged by its "
	      "header rather than by its size: not a shared object\n",
	      f);
	fclose(f);
	assert_int_equal(ebcc_backend_load(ctx, text), EBCC_ERR_ABI);
	assert_contains(ebcc_last_error_message(), "cannot load backend plugin");
	assert_contains(ebcc_last_error_message(), "invalid ELF header"); /* dlerror() */

	assert_int_equal(ebcc_backend_load(ctx, "/nonexistent/plugin.so"), EBCC_ERR_NOT_FOUND);
	assert_contains(ebcc_last_error_message(), "No such file");
	assert_int_equal(ebcc_backend_load(ctx, dir), EBCC_ERR_INVALID_ARG);
	assert_contains(ebcc_last_error_message(), "not a regular file");

	assert_int_equal(ebcc_backend_count(ctx), n);
	unlink(text);
	rmdir(dir);
	ebcc_context_unref(ctx);
}

struct log_lines {
	char text[8][1024];
	int n;
};

static void collect(int priority, const char *message, void *userdata)
{
	struct log_lines *l = userdata;

	(void)priority;
	if (l->n < 8)
		snprintf(l->text[l->n++], sizeof(l->text[0]), "%s", message);
}

static void link_into(const char *dir, const char *name, const char *target)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(symlink(target, path), 0);
}

/* plugin_dir: the good plugin is loaded, the broken one is logged and skipped. Nothing is
 * loaded before the first lookup, so a log function set after the option still hears it. */
static void plugin_dir_skips_broken(void **state)
{
	char dir[] = "/tmp/ebcc-plugin-dir-XXXXXX", path[PATH_MAX];
	struct log_lines lines = { .n = 0 };
	struct ebcc_context *ctx = new_ctx();
	int n = ebcc_backend_count(ctx);
	bool found_example = false;

	(void)state;
	assert_non_null(mkdtemp(dir));
	link_into(dir, "a-wrongabi.so", plugin("wrongabi"));
	link_into(dir, "b-example.so", plugin("example"));
	link_into(dir, "README", plugin("nosym")); /* not *.so: not even tried */
	assert_int_equal(ebcc_context_set_option(ctx, "plugin_dir", dir), 0);
	assert_int_equal(ebcc_context_set_log_fn(ctx, collect, &lines), 0);
	assert_int_equal(lines.n, 0);

	assert_int_equal(ebcc_backend_count(ctx), n + 1);
	for (int i = 0; i < ebcc_backend_count(ctx); i++)
		found_example |= strcmp(ebcc_backend_name(ctx, i), "example") == 0;
	assert_true(found_example);
	assert_int_equal(lines.n, 1);
	assert_contains(lines.text[0], "skipping backend plugin");
	assert_contains(lines.text[0], "a-wrongabi.so");
	assert_contains(lines.text[0], "ABI version 99");
	ebcc_context_unref(ctx);

	snprintf(path, sizeof(path), "%s/a-wrongabi.so", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/b-example.so", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/README", dir);
	unlink(path);
	rmdir(dir);
}

struct counter {
	struct ebcc_context *ctx;
	int count;
};

static void *count_backends(void *arg)
{
	struct counter *c = arg;

	c->count = ebcc_backend_count(c->ctx);
	return NULL;
}

/* Threads that all make the first lookup at once: the plugins load once, and none of them
 * sees the registry half-loaded. */
static void plugins_load_once_under_threads(void **state)
{
	char dir[] = "/tmp/ebcc-plugin-threads-XXXXXX", path[PATH_MAX];
	struct log_lines lines = { .n = 0 };
	struct ebcc_context *ctx = new_ctx();
	struct counter c[8];
	pthread_t t[8];
	int before = ebcc_backend_count(ctx);

	(void)state;
	assert_non_null(mkdtemp(dir));
	link_into(dir, "example.so", plugin("example"));
	assert_int_equal(ebcc_context_set_log_fn(ctx, collect, &lines), 0);
	assert_int_equal(ebcc_context_set_option(ctx, "plugin_dir", dir), 0);
	for (int i = 0; i < 8; i++) {
		c[i] = (struct counter){ .ctx = ctx };
		assert_int_equal(pthread_create(&t[i], NULL, count_backends, &c[i]), 0);
	}
	for (int i = 0; i < 8; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(c[i].count, before + 1);
	}
	assert_int_equal(lines.n, 0); /* no "already registered" from a second load */
	ebcc_context_unref(ctx);
	snprintf(path, sizeof(path), "%s/example.so", dir);
	unlink(path);
	rmdir(dir);
}

static void sim_attestation_key(void **state)
{
	char root[] = "/tmp/ebcc-key-XXXXXX", path[PATH_MAX];
	struct ebcc_context *ctx = new_ctx();
	char *pem = NULL, *again = NULL;
	struct stat st;

	(void)state;
	assert_non_null(mkdtemp(root));
	assert_int_equal(ebcc_context_set_option(ctx, "state_root", root), 0);
	assert_int_equal(ebcc_backend_attestation_key(ctx, "sim", &pem), 0);
	assert_int_equal(strncmp(pem, "-----BEGIN PUBLIC KEY-----\n", 27), 0);
	assert_int_equal(ebcc_backend_attestation_key(ctx, "sim", &again), 0);
	assert_string_equal(pem, again);
	snprintf(path, sizeof(path), "%s/.ebcc/backends/sim/device-key-ed25519.pem", root);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);
	ebcc_free(pem);
	ebcc_free(again);
	assert_int_equal(ebcc_backend_attestation_key(ctx, "example", &pem), EBCC_ERR_NOT_FOUND);
	ebcc_context_unref(ctx);

	snprintf(path, sizeof(path), "rm -rf '%s'", root);
	assert_int_equal(system(path), 0);
}

/* ---- measure_image: the backend measures its images ---------------------------------------- */

struct measure_calls {
	int calls;
	int mode; /* what my_measure() gives: see there */
	int data_dir_fd;
	long image_size;
	char what[256];
};

static int my_measure(const struct ebcc_backend_env *env, int fd, const char *what,
		      char **ret, void *userdata)
{
	struct measure_calls *c = userdata;
	char text[80];
	struct stat st;

	c->calls++;
	c->data_dir_fd = env->data_dir_fd;
	c->image_size = fstat(fd, &st) == 0 && (fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY
				? (long)st.st_size
				: -1;
	snprintf(c->what, sizeof(c->what), "%s", what);
	switch (c->mode) {
	case 0: /* a measurement of the sha256 kind */
		snprintf(text, sizeof(text), "sha256:%064d", 0);
		memset(text + 7, 'a', 64);
		break;
	case 1: /* the keystone kind, too short */
		snprintf(text, sizeof(text), "keystone:00");
		break;
	case 2: /* a kind the core does not know */
		snprintf(text, sizeof(text), "md5:0123");
		break;
	case 3: /* a refusal, with the backend's reason */
		env->set_error("this image is not in the format of my TEE", env->host);
		return EBCC_ERR_INVALID_ARG;
	default: /* success without a result */
		return 0;
	}
	*ret = env->alloc(strlen(text) + 1, env->host);
	if (*ret == NULL)
		return EBCC_ERR_NO_MEMORY;
	memcpy(*ret, text, strlen(text) + 1);
	return 0;
}

static int create_measured(struct ebcc_context *ctx, const char *bundle, const char *pin,
			   struct ebcc_instance **ret)
{
	struct ebcc_instance_options opts;
	char stages[512];

	snprintf(stages, sizeof(stages),
		 "[{\"name\": \"echo\", \"image\": \"stages/echo\", \"lifetime\": \"instance\"%s%s%s}]",
		 pin != NULL ? ", \"measurement\": \"" : "", pin != NULL ? pin : "",
		 pin != NULL ? "\"" : "");
	make_bundle(bundle, NULL, stages);
	ebcc_instance_options_init(&opts);
	opts.backend = "measured";
	return ebcc_instance_create_with(ctx, "m", bundle, &opts, ret);
}

static void measure_image_at_create(void **state)
{
	char *root = scratch_dir("measure-root"), *bundle = scratch_dir("measure-bundle");
	struct ebcc_context *ctx = context_at(root);
	struct measure_calls calls = { 0 };
	struct ebcc_backend_ops ops = my_ops("measured");
	struct ebcc_instance *inst = NULL;
	char aaa[160], *json = NULL;
	struct stat st;

	(void)state;
	ops.destroy = NULL;
	ops.measure_image = my_measure;
	assert_int_equal(ebcc_backend_register(ctx, &ops, &calls), 0);
	snprintf(aaa, sizeof(aaa), "sha256:%064d", 0);
	memset(aaa + 7, 'a', 64);

	/* The backend's measurement is the stage's, and a pin is compared with it. */
	assert_int_equal(create_measured(ctx, bundle, NULL, &inst), 0);
	assert_int_equal(calls.calls, 1);
	assert_int_equal(calls.data_dir_fd, -1);
	assert_int_equal(stat(echo_stage_path() != NULL ? echo_stage_path() : "/bin/true", &st), 0);
	assert_int_equal(calls.image_size, (long)st.st_size);
	assert_contains(calls.what, "stage echo: image ");
	assert_int_equal(ebcc_stage_info(inst, "echo", &json), 0);
	assert_contains(json, aaa);
	ebcc_free(json);
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
	ebcc_instance_unref(inst);
	inst = NULL;
	assert_int_equal(create_measured(ctx, bundle, aaa, &inst), 0);
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
	ebcc_instance_unref(inst);
	inst = NULL;
	aaa[70] = 'b';
	assert_int_equal(create_measured(ctx, bundle, aaa, &inst), EBCC_ERR_VERIFY);
	assert_contains(ebcc_last_error_message(), "measures sha256:aaaa");
	assert_contains(ebcc_last_error_message(), "but the manifest pins sha256:aaaa");
	snprintf(aaa, sizeof(aaa), "keystone:%0128d", 0);
	assert_int_equal(create_measured(ctx, bundle, aaa, &inst), EBCC_ERR_INVALID_ARG);
	assert_contains(ebcc_last_error_message(), "backend measured measures "
						   "sha256:<64 lowercase hex digits>");

	/* What the core cannot record, a failure with the backend's reason, no result. */
	calls.mode = 2;
	assert_int_equal(create_measured(ctx, bundle, NULL, &inst), EBCC_ERR_BACKEND);
	assert_contains(ebcc_last_error_message(), "backend measured: measure_image gave stage "
						   "echo: image ");
	assert_contains(ebcc_last_error_message(), "a measurement that is not sha256:");
	calls.mode = 1; /* the form of a keystone pin, but too short */
	assert_int_equal(create_measured(ctx, bundle, NULL, &inst), EBCC_ERR_BACKEND);
	calls.mode = 3;
	assert_int_equal(create_measured(ctx, bundle, NULL, &inst), EBCC_ERR_INVALID_ARG);
	assert_contains(ebcc_last_error_message(), "this image is not in the format of my TEE");
	calls.mode = 4;
	assert_int_equal(create_measured(ctx, bundle, NULL, &inst), EBCC_ERR_BACKEND);
	assert_null(inst);
	/* None of the refusals left a composite behind. */
	assert_int_equal(ebcc_instance_open(ctx, "m", &inst), EBCC_ERR_NOT_FOUND);
	ebcc_context_unref(ctx);
	scratch_remove(root);
	scratch_remove(bundle);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(builtin_sim),	       cmocka_unit_test(register_and_duplicates),
		cmocka_unit_test(init_gives_per_context_userdata),
		cmocka_unit_test(sizes_and_abi),       cmocka_unit_test(bad_tables),
		cmocka_unit_test(plugins_load),	       cmocka_unit_test(broken_plugins),
		cmocka_unit_test(plugin_dir_skips_broken),
		cmocka_unit_test(plugins_load_once_under_threads),
		cmocka_unit_test(sim_attestation_key),
		cmocka_unit_test(measure_image_at_create),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
