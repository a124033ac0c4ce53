/* SPDX-License-Identifier: MIT */
/* Composites through the public API: the OCI lifecycle, illegal transitions, hostile bundles. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <ebcc/ebcc.h>

#include "bundleutil.h"

#define ONE_STAGE "[{\"name\": \"echo\", \"image\": \"stages/echo\"}]"

struct fixture {
	char *root;   /* the state root */
	char *bundle; /* a bundle directory */
	struct ebcc_context *ctx;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->root = scratch_dir("root");
	f->bundle = scratch_dir("bundle");
	f->ctx = context_at(f->root);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ebcc_context_unref(f->ctx);
	scratch_remove(f->root);
	scratch_remove(f->bundle);
	free(f);
	return 0;
}

static void skip_without_stage(void)
{
	if (echo_stage_path() == NULL)
		skip();
}

static char *state_of(struct ebcc_instance *inst)
{
	char *json = NULL;

	assert_int_equal(ebcc_instance_state(inst, &json), 0);
	return json;
}

static void assert_state_has(struct ebcc_instance *inst, const char *needle)
{
	char *json = state_of(inst);

	if (strstr(json, needle) == NULL)
		fail_msg("state lacks %s:\n%s", needle, json);
	ebcc_free(json);
}

static bool path_exists(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* ---- the lifecycle ---------------------------------------------------------------------- */

static void anchor_lifecycle(void **state)
{
	struct fixture *f = *state;
	struct ebcc_instance *inst = NULL;
	char process[1024];
	int exit_status = 0;

	skip_without_stage();
	snprintf(process, sizeof(process),
		 "{\"args\": [\"sh\", \"-c\", \"touch %s/ran; exit 3\"], \"cwd\": \"/\","
		 " \"env\": [\"PATH=/usr/bin:/bin\"]}",
		 f->bundle);
	make_bundle(f->bundle, process, ONE_STAGE);
	assert_int_equal(ebcc_instance_create(f->ctx, "life", f->bundle, &inst), 0);
	assert_int_equal(ebcc_instance_status(inst), EBCC_STATUS_CREATED);
	assert_state_has(inst, "\"status\": \"created\"");
	/* Held before exec: the program has not run, however long we wait. */
	usleep(200000);
	assert_false(path_exists(f->bundle, "ran"));
	assert_int_equal(ebcc_instance_wait(inst, 0, &exit_status), EBCC_ERR_TIMEOUT);

	assert_int_equal(ebcc_instance_start(inst), 0);
	assert_int_equal(ebcc_instance_wait(inst, 10000, &exit_status), 0);
	assert_true(WIFEXITED(exit_status));
	assert_int_equal(WEXITSTATUS(exit_status), 3);
	assert_true(path_exists(f->bundle, "ran"));
	assert_int_equal(ebcc_instance_status(inst), EBCC_STATUS_STOPPED);
	assert_state_has(inst, "\"status\": \"stopped\"");
	assert_state_has(inst, "\"pid\": 0");
	assert_state_has(inst, "\"exitStatus\": 768");

	assert_int_equal(ebcc_instance_delete(inst, 0), 0);
	assert_int_equal(count_entries(f->root), 1); /* only .ebcc remains */
	ebcc_instance_unref(inst);
}

static char *stage_info_of(struct ebcc_instance *inst)
{
	char *json = NULL;

	assert_int_equal(ebcc_stage_info(inst, "echo", &json), 0);
	return json;
}

/* Two handles on one composite say the same, before and after one of them stops it: each
 * handle's cached state follows state.json. */
static void two_handles_agree(void **state)
{
	struct fixture *f = *state;
	struct ebcc_instance *a = NULL, *b = NULL;
	char *mine, *theirs;
	int exit_status = 0;

	skip_without_stage();
	make_bundle(f->bundle, "{\"args\": [\"/bin/sleep\", \"60\"], \"cwd\": \"/\"}", ONE_STAGE);
	assert_int_equal(ebcc_instance_create(f->ctx, "kept", f->bundle, &a), 0);
	assert_int_equal(ebcc_instance_start(a), 0);
	assert_int_equal(ebcc_instance_open(f->ctx, "kept", &b), 0);
	for (int round = 0; round < 2; round++) {
		mine = state_of(a);
		theirs = state_of(b);
		assert_string_equal(mine, theirs);
		ebcc_free(mine);
		ebcc_free(theirs);
		mine = stage_info_of(a);
		theirs = stage_info_of(b);
		assert_string_equal(mine, theirs);
		/* An EID while the stage is loaded, none once it is unloaded. */
		assert_true((strstr(mine, "\"eid\": null") == NULL) == (round == 0));
		ebcc_free(mine);
		ebcc_free(theirs);
		/* The other handle stops it: its stage is unloaded. */
		if (round == 0) {
			assert_int_equal(ebcc_instance_kill(b, SIGKILL), 0);
			assert_int_equal(ebcc_instance_wait(b, 10000, &exit_status), 0);
		}
	}
	assert_int_equal(ebcc_instance_delete(a, 0), 0);
	ebcc_instance_unref(b);
	ebcc_instance_unref(a);
}

static void no_process_lifecycle(void **state)
{
	struct fixture *f = *state;
	struct ebcc_instance *inst = NULL;
	int exit_status = 0;

	skip_without_stage();
	make_bundle(f->bundle, NULL, ONE_STAGE);
	assert_int_equal(ebcc_instance_create(f->ctx, "stages-only", f->bundle, &inst), 0);
	assert_int_equal(ebcc_instance_status(inst), EBCC_STATUS_CREATED);
	assert_state_has(inst, "\"pid\": 0");
	assert_int_equal(ebcc_instance_start(inst), 0);
	assert_int_equal(ebcc_instance_status(inst), EBCC_STATUS_RUNNING);
	assert_state_has(inst, "\"eid\": ");
	assert_int_equal(ebcc_instance_kill(inst, SIGTERM), 0);
	assert_int_equal(ebcc_instance_status(inst), EBCC_STATUS_STOPPED);
	assert_int_equal(ebcc_instance_wait(inst, -1, &exit_status), 0);
	assert_true(WIFSIGNALED(exit_status));
	assert_int_equal(WTERMSIG(exit_status), SIGTERM);
	assert_state_has(inst, "\"eid\": null");
	assert_int_equal(ebcc_instance_delete(inst, 0), 0);
	ebcc_instance_unref(inst);
}

static void illegal_transitions(void **state)
{
	struct fixture *f = *state;
	struct ebcc_instance *inst = NULL;
	char *json = NULL;

	skip_without_stage();
	make_bundle(f->bundle,
		    "{\"args\": [\"/bin/sleep\", \"60\"], \"cwd\": \"/\"}", ONE_STAGE);
	assert_int_equal(ebcc_instance_create(f->ctx, "rules", f->bundle, &inst), 0);
	/* created: delete needs stopped; wait times out */
	assert_int_equal(ebcc_instance_delete(inst, 0), EBCC_ERR_STATE);
	assert_non_null(strstr(ebcc_last_error_message(), "created"));
	assert_int_equal(ebcc_instance_wait(inst, 50, NULL), EBCC_ERR_TIMEOUT);
	assert_int_equal(ebcc_instance_start(inst), 0);
	/* running: no second start, no delete, no second anchor */
	assert_int_equal(ebcc_instance_start(inst), EBCC_ERR_STATE);
	assert_non_null(strstr(ebcc_last_error_message(), "running"));
	assert_int_equal(ebcc_instance_delete(inst, 0), EBCC_ERR_STATE);
	assert_int_equal(ebcc_instance_set_pid(inst, getpid()), EBCC_ERR_STATE);
	assert_int_equal(ebcc_instance_kill(inst, 0), EBCC_ERR_INVALID_ARG);
	assert_int_equal(ebcc_instance_kill(inst, 65), EBCC_ERR_INVALID_ARG);
	assert_int_equal(ebcc_instance_kill(inst, SIGKILL), 0);
	assert_int_equal(ebcc_instance_wait(inst, 10000, NULL), 0);
	/* stopped: no kill, no start, no set_pid */
	assert_int_equal(ebcc_instance_kill(inst, SIGTERM), EBCC_ERR_STATE);
	assert_non_null(strstr(ebcc_last_error_message(), "stopped"));
	assert_int_equal(ebcc_instance_start(inst), EBCC_ERR_STATE);
	assert_int_equal(ebcc_instance_set_pid(inst, getpid()), EBCC_ERR_STATE);
	assert_int_equal(ebcc_instance_delete(inst, 0x80), EBCC_ERR_INVALID_ARG);
	assert_int_equal(ebcc_instance_delete(inst, 0), 0);
	/* deleted: the handle still unrefs, everything else is NOT_FOUND */
	assert_int_equal(ebcc_instance_delete(inst, 0), EBCC_ERR_NOT_FOUND);
	assert_int_equal(ebcc_instance_status(inst), EBCC_ERR_NOT_FOUND);
	assert_int_equal(ebcc_instance_state(inst, &json), EBCC_ERR_NOT_FOUND);
	assert_int_equal(ebcc_instance_start(inst), EBCC_ERR_NOT_FOUND);
	assert_int_equal(ebcc_instance_kill(inst, SIGTERM), EBCC_ERR_NOT_FOUND);
	assert_int_equal(ebcc_instance_wait(inst, 0, NULL), EBCC_ERR_NOT_FOUND);
	assert_int_equal(ebcc_instance_set_pid(inst, getpid()), EBCC_ERR_NOT_FOUND);
	assert_null(json);
	ebcc_instance_unref(inst);
}

static void force_delete_running(void **state)
{
	struct fixture *f = *state;
	struct ebcc_instance *inst = NULL, *again = NULL;
	char *json = NULL;
	int pid;

	skip_without_stage();
	make_bundle(f->bundle, "{\"args\": [\"/bin/sleep\", \"60\"], \"cwd\": \"/\"}", ONE_STAGE);
	assert_int_equal(ebcc_instance_create(f->ctx, "forced", f->bundle, &inst), 0);
	assert_int_equal(ebcc_instance_start(inst), 0);
	assert_int_equal(ebcc_instance_state(inst, &json), 0);
	assert_int_equal(sscanf(strstr(json, "\"pid\": "), "\"pid\": %d", &pid), 1);
	ebcc_free(json);
	assert_true(pid > 0);
	assert_int_equal(kill(pid, 0), 0);
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
	/* The anchor is gone (a zombie of the monitor at most for a moment) and so is the id. */
	for (int i = 0; i < 200 && kill(pid, 0) == 0; i++)
		usleep(10000);
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(ebcc_instance_open(f->ctx, "forced", &again), EBCC_ERR_NOT_FOUND);
	ebcc_instance_unref(inst);
}

static void external_anchor(void **state)
{
	struct fixture *f = *state;
	struct ebcc_instance *inst = NULL;
	int status = 0;
	pid_t child;

	skip_without_stage();
	make_bundle(f->bundle, "{\"args\": [\"/bin/false\"], \"cwd\": \"/\"}", ONE_STAGE);
	assert_int_equal(ebcc_context_set_option(f->ctx, "anchor", "external"), 0);
	assert_int_equal(ebcc_instance_create(f->ctx, "hooked", f->bundle, &inst), 0);
	assert_state_has(inst, "\"pid\": 0");
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	assert_int_equal(ebcc_instance_set_pid(inst, -5), EBCC_ERR_INVALID_ARG);
	assert_int_equal(ebcc_instance_set_pid(inst, child), 0);
	assert_int_equal(ebcc_instance_set_pid(inst, child), EBCC_ERR_STATE);
	assert_int_equal(ebcc_instance_start(inst), 0);
	assert_int_equal(ebcc_instance_status(inst), EBCC_STATUS_RUNNING);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	assert_int_equal(ebcc_instance_status(inst), EBCC_STATUS_STOPPED);
	/* We were the parent, not libebcc: the status is unknown to it. */
	assert_int_equal(ebcc_instance_wait(inst, 1000, &status), 0);
	assert_int_equal(status, -1);
	assert_int_equal(ebcc_instance_delete(inst, 0), 0);
	ebcc_instance_unref(inst);
}

/* ebcc_instance_create_with(): the anchor per composite, whatever the context says; a backend
 * for manifests that name none; options checked, nothing created when they are wrong. */
static void anchor_per_composite(void **state)
{
	struct fixture *f = *state;
	struct ebcc_instance_options opts, bigger[2];
	struct ebcc_instance *inst = NULL;
	char *json = NULL;

	skip_without_stage();
	make_bundle(f->bundle, "{\"args\": [\"/bin/sleep\", \"60\"], \"cwd\": \"/\"}", ONE_STAGE);
	ebcc_instance_options_init(&opts);
	opts.anchor = EBCC_ANCHOR_EXTERNAL;
	assert_int_equal(ebcc_instance_create_with(f->ctx, "outside", f->bundle, &opts, &inst), 0);
	assert_state_has(inst, "\"pid\": 0");
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
	inst = ebcc_instance_unref(inst);

	/* The context says external; this composite's anchor is spawned all the same. */
	assert_int_equal(ebcc_context_set_option(f->ctx, "anchor", "external"), 0);
	opts.anchor = EBCC_ANCHOR_SPAWN;
	assert_int_equal(ebcc_instance_create_with(f->ctx, "spawned", f->bundle, &opts, &inst), 0);
	assert_int_equal(ebcc_instance_state(inst, &json), 0);
	assert_null(strstr(json, "\"pid\": 0"));
	ebcc_free(json);
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
	inst = ebcc_instance_unref(inst);

	/* Wrong options: refused with nothing on disk. */
	opts.anchor = 3;
	assert_int_equal(ebcc_instance_create_with(f->ctx, "bad", f->bundle, &opts, &inst),
			 EBCC_ERR_INVALID_ARG);
	assert_non_null(strstr(ebcc_last_error_message(), "options.anchor 3"));
	opts.anchor = EBCC_ANCHOR_CONTEXT;
	opts.size = 4;
	assert_int_equal(ebcc_instance_create_with(f->ctx, "bad", f->bundle, &opts, &inst),
			 EBCC_ERR_INVALID_ARG);
	assert_non_null(strstr(ebcc_last_error_message(), "ebcc_instance_options_init()"));
	memset(bigger, 0, sizeof(bigger));
	ebcc_instance_options_init(&bigger[0]);
	bigger[0].size = sizeof(bigger);
	((unsigned char *)bigger)[sizeof(bigger) - 1] = 1;
	assert_int_equal(ebcc_instance_create_with(f->ctx, "bad", f->bundle, &bigger[0], &inst),
			 EBCC_ERR_ABI);
	((unsigned char *)bigger)[sizeof(bigger) - 1] = 0;
	bigger[0].backend = "nonesuch";
	assert_int_equal(ebcc_instance_create_with(f->ctx, "bad", f->bundle, &bigger[0], &inst),
			 EBCC_ERR_NOT_FOUND);
	assert_null(inst);
	assert_int_equal(ebcc_instance_open(f->ctx, "bad", &inst), EBCC_ERR_NOT_FOUND);
	/* NULL options are the defaults: the context's anchor (external now). */
	assert_int_equal(ebcc_instance_create_with(f->ctx, "plain", f->bundle, NULL, &inst), 0);
	assert_state_has(inst, "\"pid\": 0");
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
	ebcc_instance_unref(inst);
}

static void exists_and_racing_creators(void **state)
{
	struct fixture *f = *state;
	struct ebcc_instance *inst = NULL, *other = NULL;
	int wins = 0;

	make_bundle(f->bundle, NULL, ONE_STAGE);
	assert_int_equal(ebcc_instance_create(f->ctx, "taken", f->bundle, &inst), 0);
	assert_int_equal(ebcc_instance_create(f->ctx, "taken", f->bundle, &other), EBCC_ERR_EXISTS);
	assert_non_null(strstr(ebcc_last_error_message(), "taken"));
	assert_null(other);
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
	ebcc_instance_unref(inst);

	/* Eight processes race for one id: exactly one wins. */
	for (int i = 0; i < 8; i++) {
		if (fork() == 0) {
			struct ebcc_context *ctx = context_at(f->root);
			struct ebcc_instance *mine = NULL;
			int r = ebcc_instance_create(ctx, "raced", f->bundle, &mine);

			_exit(r == 0 ? 0 : r == EBCC_ERR_EXISTS ? 1 : 2);
		}
	}
	for (int i = 0; i < 8; i++) {
		int status;

		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status));
		assert_true(WEXITSTATUS(status) <= 1);
		wins += WEXITSTATUS(status) == 0;
	}
	assert_int_equal(wins, 1);
	assert_int_equal(ebcc_instance_open(f->ctx, "raced", &inst), 0);
	assert_int_equal(ebcc_instance_status(inst), EBCC_STATUS_CREATED);
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
	ebcc_instance_unref(inst);
}

static void bundle_edits_do_not_leak_in(void **state)
{
	struct fixture *f = *state;
	struct ebcc_instance *inst = NULL;
	char *json;

	make_bundle(f->bundle, NULL, ONE_STAGE);
	assert_int_equal(ebcc_instance_create(f->ctx, "frozen", f->bundle, &inst), 0);
	static const char changed[] =
		"{\"ociVersion\": \"1.0.2\", \"annotations\": {\"changed\": \"yes\"}}";

	write_file(f->bundle, "config.json", changed, strlen(changed));
	json = state_of(inst);
	assert_non_null(strstr(json, "org.example.team"));
	assert_null(strstr(json, "changed"));
	ebcc_free(json);
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
	ebcc_instance_unref(inst);
}

static void long_ids(void **state)
{
	struct fixture *f = *state;
	struct ebcc_instance *inst = NULL, *again = NULL;
	char id[1025], *list = NULL;

	make_bundle(f->bundle, NULL, ONE_STAGE);
	memset(id, 'x', 1024);
	id[1024] = '\0';
	assert_int_equal(ebcc_instance_create(f->ctx, id, f->bundle, &inst), 0);
	assert_int_equal(ebcc_instance_open(f->ctx, id, &again), 0);
	assert_int_equal(ebcc_instance_status(again), EBCC_STATUS_CREATED);
	assert_int_equal(ebcc_instance_list(f->ctx, &list), 0);
	assert_non_null(strstr(list, id));
	ebcc_free(list);
	assert_int_equal(ebcc_instance_delete(again, EBCC_DELETE_FORCE), 0);
	ebcc_instance_unref(again);
	ebcc_instance_unref(inst);
}

/* ---- hostile input ---------------------------------------------------------------------- */

static void assert_create_fails(struct fixture *f, const char *id, int code, const char *needle)
{
	struct ebcc_instance *inst = NULL;
	int before = count_entries(f->root);
	int r = ebcc_instance_create(f->ctx, id, f->bundle, &inst);

	if (r != code)
		fail_msg("create(%.40s) gave %s, expected %s: %s", id, ebcc_error_name(r),
			 ebcc_error_name(code), ebcc_last_error_message());
	if (needle != NULL && strstr(ebcc_last_error_message(), needle) == NULL)
		fail_msg("message \"%s\" does not name \"%s\"", ebcc_last_error_message(), needle);
	assert_null(inst);
	/* Nothing left behind: the state root has what it had (maybe created empty). */
	assert_true(count_entries(f->root) <= (before < 0 ? 1 : before));
}

static void bad_ids(void **state)
{
	struct fixture *f = *state;
	char long_id[2001];

	make_bundle(f->bundle, NULL, ONE_STAGE);
	memset(long_id, 'a', 2000);
	long_id[2000] = '\0';
	assert_create_fails(f, "a/b", EBCC_ERR_INVALID_ARG, "a/b");
	assert_create_fails(f, "..", EBCC_ERR_INVALID_ARG, "..");
	assert_create_fails(f, ".", EBCC_ERR_INVALID_ARG, NULL);
	assert_create_fails(f, "", EBCC_ERR_INVALID_ARG, NULL);
	assert_create_fails(f, "sp ace", EBCC_ERR_INVALID_ARG, "sp ace");
	assert_create_fails(f, "tab\t", EBCC_ERR_INVALID_ARG, NULL);
	assert_create_fails(f, "ünï", EBCC_ERR_INVALID_ARG, NULL);
	assert_create_fails(f, ".ebcc", EBCC_ERR_INVALID_ARG, "reserved");
	assert_create_fails(f, long_id, EBCC_ERR_INVALID_ARG, "1024");
	assert_int_equal(count_entries(f->root), 0);
}

static void bad_configs(void **state)
{
	static const struct {
		const char *config;
		int code;
		const char *needle;
	} cases[] = {
		{ "", EBCC_ERR_INVALID_ARG, "truncated" },
		{ "{\"ociVersion\": \"1.0.2\"", EBCC_ERR_INVALID_ARG, "truncated" },
		{ "[1, 2]", EBCC_ERR_INVALID_ARG, "must be a JSON object, not an array" },
		{ "\"text\"", EBCC_ERR_INVALID_ARG, "must be a JSON object, not a string" },
		{ "{} {}", EBCC_ERR_INVALID_ARG, "invalid JSON at byte 3" },
		{ "{}   x", EBCC_ERR_INVALID_ARG, "config.json" },
		{ "{\"annotations\": {}}", EBCC_ERR_INVALID_ARG, "ociVersion" },
		{ "{\"ociVersion\": 1}", EBCC_ERR_INVALID_ARG, "ociVersion" },
		{ "7", EBCC_ERR_INVALID_ARG, "must be a JSON object, not an integer" },
		{ "{\"ociVersion\": \"1\", \"ociVersion\": \"2\"}", EBCC_ERR_INVALID_ARG, "ociVersion" },
		{ "{\"ociVersion\": \"1\", \"annotations\": []}", EBCC_ERR_INVALID_ARG, "annotations" },
		{ "{\"ociVersion\": \"1\", \"annotations\": {\"a\": 1}}", EBCC_ERR_INVALID_ARG, "\"a\"" },
		{ "{\"ociVersion\": \"1\", \"process\": []}", EBCC_ERR_INVALID_ARG, "process" },
		{ "{\"ociVersion\": \"1\", \"process\": {\"cwd\": \"/\"}}", EBCC_ERR_INVALID_ARG, "args" },
		{ "{\"ociVersion\": \"1\", \"process\": {\"args\": \"sh\", \"cwd\": \"/\"}}",
		  EBCC_ERR_INVALID_ARG, "args" },
		{ "{\"ociVersion\": \"1\", \"process\": {\"args\": [\"sh\", 5], \"cwd\": \"/\"}}",
		  EBCC_ERR_INVALID_ARG, "args[1]" },
		{ "{\"ociVersion\": \"1\", \"process\": {\"args\": [], \"cwd\": \"/\"}}",
		  EBCC_ERR_INVALID_ARG, "args" },
		{ "{\"ociVersion\": \"1\", \"process\": {\"args\": [\"sh\"], \"cwd\": \"rel\"}}",
		  EBCC_ERR_INVALID_ARG, "cwd" },
		{ "{\"ociVersion\": \"1\", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", \"env\": "
		  "[\"NOEQUALS\"]}}",
		  EBCC_ERR_INVALID_ARG, "env[0]" },
		{ "{\"ociVersion\": \"1\", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", "
		  "\"rlimits\": [{\"type\": \"RLIMIT_BOGUS\", \"soft\": 1, \"hard\": 1}]}}",
		  EBCC_ERR_INVALID_ARG, "RLIMIT_BOGUS" },
		{ "{\"ociVersion\": \"1\", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", "
		  "\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 9, \"hard\": 1}]}}",
		  EBCC_ERR_INVALID_ARG, "soft" },
		{ "{\"ociVersion\": \"1\", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\", "
		  "\"terminal\": true}}",
		  EBCC_ERR_INVALID_ARG, "terminal" },
		{ "{\"ociVersion\": \"1\", \"process\": {\"args\": [\"no-such-program-x\"], \"cwd\": "
		  "\"/\"}}",
		  EBCC_ERR_NOT_FOUND, "no-such-program-x" },
		{ "{\"ociVersion\": \"1\", \"process\": {\"args\": [\"/bin/true\"], \"cwd\": "
		  "\"/nonexistent-dir\"}}",
		  EBCC_ERR_INVALID_ARG, "chdir" },
	};
	struct fixture *f = *state;
	char path[4200], *big;

	make_bundle(f->bundle, NULL, ONE_STAGE);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file(f->bundle, "config.json", cases[i].config, strlen(cases[i].config));
		assert_create_fails(f, "bad", cases[i].code, cases[i].needle);
	}
	/* 10 MiB of valid JSON is still refused, by size. */
	big = malloc(10 << 20);
	memset(big, ' ', 10 << 20);
	memcpy(big, "{\"ociVersion\": \"1\"}", 19);
	write_file(f->bundle, "config.json", big, 10 << 20);
	free(big);
	assert_create_fails(f, "bad", EBCC_ERR_TOO_BIG, "config.json");
	/* Missing. */
	snprintf(path, sizeof(path), "%s/config.json", f->bundle);
	assert_int_equal(unlink(path), 0);
	assert_create_fails(f, "bad", EBCC_ERR_NOT_FOUND, "config.json");
}

static void bad_manifests(void **state)
{
	static const struct {
		const char *stages;
		int code;
		const char *needle;
	} cases[] = {
		{ "[]", EBCC_ERR_INVALID_ARG, "stages" },
		{ "{}", EBCC_ERR_INVALID_ARG, "stages" },
		{ "[{\"name\": \"echo\", \"image\": \"stages/echo\"}, {\"name\": \"echo\", \"image\": "
		  "\"stages/echo\"}]",
		  EBCC_ERR_INVALID_ARG, "twice" },
		{ "[{\"name\": \"Echo\", \"image\": \"stages/echo\"}]", EBCC_ERR_INVALID_ARG, "Echo" },
		{ "[{\"name\": \"e\", \"image\": \"../../etc/passwd\"}]", EBCC_ERR_INVALID_ARG,
		  "../../etc/passwd" },
		{ "[{\"name\": \"e\", \"image\": \"/etc/passwd\"}]", EBCC_ERR_INVALID_ARG, "/etc/passwd" },
		{ "[{\"name\": \"e\", \"image\": \"stages/./echo\"}]", EBCC_ERR_INVALID_ARG, "stages/./echo" },
		{ "[{\"name\": \"e\", \"image\": \"stages/missing\"}]", EBCC_ERR_NOT_FOUND, "missing" },
		{ "[{\"name\": \"e\", \"image\": \"stages/link\"}]", EBCC_ERR_INVALID_ARG, "symbolic" },
		{ "[{\"name\": \"e\", \"image\": \"linkdir/echo\"}]", EBCC_ERR_INVALID_ARG, "symbolic" },
		{ "[{\"name\": \"e\", \"image\": \"stages\"}]", EBCC_ERR_INVALID_ARG, "regular" },
		{ "[{\"name\": \"e\", \"image\": \"stages/echo\", \"lifetime\": \"forever\"}]",
		  EBCC_ERR_INVALID_ARG, "forever" },
		{ "[{\"name\": \"e\", \"image\": \"stages/echo\", \"maxRequest\": 0}]",
		  EBCC_ERR_INVALID_ARG, "maxRequest" },
		{ "[{\"name\": \"e\", \"image\": \"stages/echo\", \"timeoutMs\": \"5\"}]",
		  EBCC_ERR_INVALID_ARG, "timeoutMs" },
		{ "[{\"name\": \"e\", \"image\": \"stages/echo\", \"memoryMiB\": 1}]",
		  EBCC_ERR_INVALID_ARG, "memoryMiB" },
		{ "[{\"name\": \"e\", \"image\": \"stages/echo\", \"maxRequst\": 5}]",
		  EBCC_ERR_INVALID_ARG, "maxRequst" },
		{ "[{\"name\": \"e\", \"image\": \"stages/echo\", \"maxRequest\": 5, "
		  "\"maxRequest\": 900000000}]",
		  EBCC_ERR_INVALID_ARG, "duplicate key" },
		{ "[{\"name\": \"e\", \"image\": \"stages/echo\", \"measurement\": \"md5:00\"}]",
		  EBCC_ERR_INVALID_ARG, "measurement" },
		{ "[{\"name\": \"e\", \"image\": \"stages/echo\", \"measurement\": \"sha256:"
		  "0000000000000000000000000000000000000000000000000000000000000000\"}]",
		  EBCC_ERR_VERIFY, "pins" },
	};
	struct fixture *f = *state;
	char path[4200], target[4200];

	make_bundle(f->bundle, NULL, ONE_STAGE);
	snprintf(path, sizeof(path), "%s/stages/link", f->bundle);
	assert_int_equal(symlink("echo", path), 0);
	snprintf(path, sizeof(path), "%s/linkdir", f->bundle);
	snprintf(target, sizeof(target), "%s/stages", f->bundle);
	assert_int_equal(symlink(target, path), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *manifest;

		assert_true(asprintf(&manifest, "{\"ebccVersion\": \"0.1\", \"stages\": %s}",
				     cases[i].stages) > 0);
		write_file(f->bundle, "ebcc.json", manifest, strlen(manifest));
		free(manifest);
		assert_create_fails(f, "bad", cases[i].code, cases[i].needle);
	}
	write_file(f->bundle, "ebcc.json", "{\"ebccVersion\": \"9\", \"stages\": []}",
		   strlen("{\"ebccVersion\": \"9\", \"stages\": []}"));
	assert_create_fails(f, "bad", EBCC_ERR_INVALID_ARG, "ebccVersion");
	write_file(f->bundle, "ebcc.json",
		   "{\"ebccVersion\": \"0.1\", \"backend\": \"nonesuch\", \"stages\": " ONE_STAGE "}",
		   strlen("{\"ebccVersion\": \"0.1\", \"backend\": \"nonesuch\", \"stages\": " ONE_STAGE
			  "}"));
	assert_create_fails(f, "bad", EBCC_ERR_NOT_FOUND, "nonesuch");
	snprintf(path, sizeof(path), "%s/ebcc.json", f->bundle);
	unlink(path);
	assert_create_fails(f, "bad", EBCC_ERR_NOT_FOUND, "ebcc.json");
	assert_int_equal(count_entries(f->root), 0);
}

static void manifest_from_annotation(void **state)
{
	struct fixture *f = *state;
	struct ebcc_instance *inst = NULL;
	static const char config[] = "{\"ociVersion\": \"1.0.2\", \"annotations\": "
				     "{\"org.ebcc.manifest\": \"conf/stages.json\"}}";
	static const char manifest[] = "{\"ebccVersion\": \"0.1\", \"stages\": " ONE_STAGE "}";

	make_bundle(f->bundle, NULL, ONE_STAGE);
	write_file(f->bundle, "config.json", config, strlen(config));
	write_file(f->bundle, "conf/stages.json", manifest, strlen(manifest));
	write_file(f->bundle, "ebcc.json", "broken", 6);
	assert_int_equal(ebcc_instance_create(f->ctx, "annotated", f->bundle, &inst), 0);
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
	ebcc_instance_unref(inst);
}

static void planted_symlink_refused(void **state)
{
	struct fixture *f = *state;
	struct ebcc_instance *inst = NULL;
	char path[4200];

	make_bundle(f->bundle, NULL, ONE_STAGE);
	assert_int_equal(ebcc_instance_create(f->ctx, "planted", f->bundle, &inst), 0);
	snprintf(path, sizeof(path), "%s/planted/state.json", f->root);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(symlink("/etc/passwd", path), 0);
	assert_int_equal(ebcc_instance_status(inst), EBCC_ERR_PERMISSION);
	assert_non_null(strstr(ebcc_last_error_message(), "symbolic link"));
	/* Not even a forced delete goes on without a state, and the target is left alone. */
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), EBCC_ERR_PERMISSION);
	assert_non_null(strstr(ebcc_last_error_message(), "not deleted"));
	assert_int_equal(access("/etc/passwd", F_OK), 0);
	assert_true(path_exists(f->root, "planted"));
	ebcc_instance_unref(inst);
}

static void corrupt_state(void **state)
{
	struct fixture *f = *state;
	struct ebcc_instance *inst = NULL;

	make_bundle(f->bundle, NULL, ONE_STAGE);
	assert_int_equal(ebcc_instance_create(f->ctx, "garbled", f->bundle, &inst), 0);
	write_file(f->root, "garbled/state.json", "{\"ociVersion\": ", 15);
	assert_int_equal(ebcc_instance_status(inst), EBCC_ERR_CORRUPT);
	assert_int_equal(ebcc_instance_start(inst), EBCC_ERR_CORRUPT);
	assert_int_equal(ebcc_instance_delete(inst, 0), EBCC_ERR_CORRUPT);
	/* Nobody can tell which processes it runs: a forced delete must not report success. */
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), EBCC_ERR_CORRUPT);
	assert_non_null(strstr(ebcc_last_error_message(), "not deleted"));
	assert_non_null(strstr(ebcc_last_error_message(), "garbled/state.json"));
	assert_true(path_exists(f->root, "garbled/state.json"));
	ebcc_instance_unref(inst);
}

/* A bundle whose config carries one annotation of len bytes, and a sleeping anchor. */
static void bundle_with_annotation(const char *dir, size_t len)
{
	char *config, *value = malloc(len + 1);

	assert_non_null(value);
	memset(value, 'a', len);
	value[len] = '\0';
	make_bundle(dir, NULL, ONE_STAGE);
	assert_true(asprintf(&config,
			     "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
			     " \"annotations\": {\"org.example.big\": \"%s\"},"
			     " \"process\": {\"args\": [\"sleep\", \"60\"], \"cwd\": \"/\","
			     " \"env\": [\"PATH=/usr/bin:/bin\"]}}",
			     value) > 0);
	write_file(dir, "config.json", config, strlen(config));
	free(config);
	free(value);
}

static int anchor_pid_of(struct ebcc_instance *inst)
{
	char *json = NULL;
	const char *p;
	int pid;

	assert_int_equal(ebcc_instance_state(inst, &json), 0);
	p = strstr(json, "\"pid\": ");
	pid = p != NULL ? atoi(p + strlen("\"pid\": ")) : 0;
	ebcc_free(json);
	assert_true(pid > 0);
	return pid;
}

static void state_size_limits(void **state)
{
	struct fixture *f = *state;
	struct ebcc_instance *inst = NULL;
	int pid;

	skip_without_stage();
	/* Above what create may write: refused at once, nothing left behind. */
	bundle_with_annotation(f->bundle, 1020 * 1000);
	assert_int_equal(ebcc_instance_create(f->ctx, "big", f->bundle, &inst), EBCC_ERR_TOO_BIG);
	assert_non_null(strstr(ebcc_last_error_message(), "big/state.json would be"));
	assert_non_null(strstr(ebcc_last_error_message(), "the annotations take 1020"));
	assert_null(inst);
	assert_false(path_exists(f->root, "big"));

	/* Just below it: every later operation reads back what the one before wrote. */
	bundle_with_annotation(f->bundle, 960 * 1000);
	if (ebcc_instance_create(f->ctx, "big", f->bundle, &inst) != 0)
		fail_msg("create: %s", ebcc_last_error_message());
	assert_int_equal(ebcc_instance_start(inst), 0);
	assert_int_equal(ebcc_instance_status(inst), EBCC_STATUS_RUNNING);
	assert_state_has(inst, "\"status\": \"running\"");
	assert_int_equal(ebcc_instance_kill(inst, SIGKILL), 0);
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
	ebcc_instance_unref(inst);
	inst = NULL;

	/* A state above the limit, written by something else: a forced delete still finds and
	 * stops the anchor before it reports success. */
	bundle_with_annotation(f->bundle, 10);
	assert_int_equal(ebcc_instance_create(f->ctx, "planted", f->bundle, &inst), 0);
	pid = anchor_pid_of(inst);
	{
		char path[4096], *text, *padded;
		size_t len, pad = (size_t)2 << 20;
		FILE *fp;

		snprintf(path, sizeof(path), "%s/planted/state.json", f->root);
		fp = fopen(path, "r");
		assert_non_null(fp);
		text = calloc(1, 1 << 20);
		len = fread(text, 1, (1 << 20) - 1, fp);
		fclose(fp);
		padded = malloc(len + pad);
		padded[0] = '{';
		memset(padded + 1, ' ', pad);
		memcpy(padded + 1 + pad, text + 1, len - 1);
		write_file(f->root, "planted/state.json", padded, len + pad);
		free(text);
		free(padded);
	}
	assert_int_equal(ebcc_instance_status(inst), EBCC_ERR_TOO_BIG);
	assert_int_equal(kill(pid, 0), 0);
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
	/* The anchor is gone: not our child, so kill(0) until its monitor has reaped it. */
	for (int i = 0; i < 200 && kill(pid, 0) == 0; i++)
		usleep(10000);
	assert_int_equal(kill(pid, 0), -1);
	assert_false(path_exists(f->root, "planted"));
	ebcc_instance_unref(inst);
}

/* ---- the anchor's gate and its exec --------------------------------------------------------- */

/* process.user other than root: the anchor enters the (root-only) instance directory for its
 * gate before it drops privileges, and then runs as that user, group and supplementary groups
 * (set with the system calls themselves: the anchor is a raw clone of a threaded process). */
static void anchor_as_another_user(void **state)
{
	struct fixture *f = *state;
	struct ebcc_instance *inst = NULL;
	char process[2048], *out_dir = scratch_dir("anchor-out");
	int exit_status = 0;

	skip_without_stage();
	if (geteuid() != 0)
		skip();
	assert_int_equal(chmod(out_dir, 0777), 0);
	snprintf(process, sizeof(process),
		 "{\"args\": [\"sh\", \"-c\", \"echo $(id -u) $(id -g) $(id -G) > %s/uid\"],"
		 " \"cwd\": \"/\", \"env\": [\"PATH=/usr/bin:/bin\"], \"user\": {\"uid\": 65534,"
		 " \"gid\": 65534, \"additionalGids\": [100]}}",
		 out_dir);
	make_bundle(f->bundle, process, ONE_STAGE);
	assert_int_equal(ebcc_instance_create(f->ctx, "nobody", f->bundle, &inst), 0);
	assert_int_equal(ebcc_instance_status(inst), EBCC_STATUS_CREATED);
	if (ebcc_instance_start(inst) != 0)
		fail_msg("start: %s", ebcc_last_error_message());
	assert_int_equal(ebcc_instance_wait(inst, 10000, &exit_status), 0);
	assert_true(WIFEXITED(exit_status));
	assert_int_equal(WEXITSTATUS(exit_status), 0);
	{
		char path[4200], text[32] = "";
		FILE *fp;

		snprintf(path, sizeof(path), "%s/uid", out_dir);
		fp = fopen(path, "r");
		assert_non_null(fp);
		assert_non_null(fgets(text, sizeof(text), fp));
		fclose(fp);
		assert_string_equal(text, "65534 65534 65534 100\n");
	}
	assert_int_equal(ebcc_instance_delete(inst, 0), 0);
	ebcc_instance_unref(inst);
	scratch_remove(out_dir);
}

/* An execve() that fails (E2BIG: one environment string above the kernel's 128 KiB) fails
 * start with its errno, and the composite is stopped. Not under valgrind, which ends a process
 * whose execve() fails ("I can't recover from execve() failing") before it can report. */
static void anchor_exec_fails(void **state)
{
	struct fixture *f = *state;
	struct ebcc_instance *inst = NULL;
	size_t big = 200 * 1024;
	const char *preload = getenv("LD_PRELOAD");
	char *process, *value;
	int exit_status = 0;

	skip_without_stage();
	if (preload != NULL && strstr(preload, "vgpreload") != NULL)
		skip();
	value = malloc(big + 1);
	assert_non_null(value);
	memset(value, 'x', big);
	value[big] = '\0';
	assert_true(asprintf(&process,
			     "{\"args\": [\"true\"], \"cwd\": \"/\","
			     " \"env\": [\"PATH=/usr/bin:/bin\", \"BIG=%s\"]}", value) > 0);
	make_bundle(f->bundle, process, ONE_STAGE);
	assert_int_equal(ebcc_instance_create(f->ctx, "noexec", f->bundle, &inst), 0);
	assert_int_equal(ebcc_instance_start(inst), EBCC_ERR_TOO_BIG);
	assert_non_null(strstr(ebcc_last_error_message(), "execve"));
	assert_non_null(strstr(ebcc_last_error_message(), strerror(E2BIG)));
	assert_int_equal(ebcc_instance_wait(inst, 10000, &exit_status), 0);
	assert_true(WIFEXITED(exit_status));
	assert_int_equal(WEXITSTATUS(exit_status), 127);
	assert_int_equal(ebcc_instance_status(inst), EBCC_STATUS_STOPPED);
	assert_state_has(inst, "\"status\": \"stopped\"");
	assert_int_equal(ebcc_instance_delete(inst, 0), 0);
	ebcc_instance_unref(inst);
	free(process);
	free(value);
}

/* ---- many ------------------------------------------------------------------------------- */

static void thousand_instances(void **state)
{
	struct fixture *f = *state;
	int fds_before, count = 1000;
	char *list = NULL;

	make_bundle(f->bundle, NULL, ONE_STAGE);
	/* One round first: the context keeps the backend's data directory open after its
	 * first use, which is a cache, not a leak. */
	{
		struct ebcc_instance *inst = NULL;

		assert_int_equal(ebcc_instance_create(f->ctx, "warm-up", f->bundle, &inst), 0);
		assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
		ebcc_instance_unref(inst);
	}
	fds_before = count_fds();
	for (int i = 0; i < count; i++) {
		struct ebcc_instance *inst = NULL;
		char id[32];

		snprintf(id, sizeof(id), "many-%04d", i);
		assert_int_equal(ebcc_instance_create(f->ctx, id, f->bundle, &inst), 0);
		ebcc_instance_unref(inst);
	}
	assert_int_equal(ebcc_instance_list(f->ctx, &list), 0);
	assert_non_null(strstr(list, "\"many-0000\""));
	assert_non_null(strstr(list, "\"many-0999\""));
	assert_true(strstr(list, "many-0000") < strstr(list, "many-0999")); /* sorted */
	ebcc_free(list);
	for (int i = 0; i < count; i++) {
		struct ebcc_instance *inst = NULL;
		char id[32];

		snprintf(id, sizeof(id), "many-%04d", i);
		assert_int_equal(ebcc_instance_open(f->ctx, id, &inst), 0);
		assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
		ebcc_instance_unref(inst);
	}
	assert_int_equal(ebcc_instance_list(f->ctx, &list), 0);
	assert_string_equal(list, "[]");
	ebcc_free(list);
	assert_int_equal(count_fds(), fds_before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(anchor_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(no_process_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(two_handles_agree, setup, teardown),
		cmocka_unit_test_setup_teardown(illegal_transitions, setup, teardown),
		cmocka_unit_test_setup_teardown(force_delete_running, setup, teardown),
		cmocka_unit_test_setup_teardown(external_anchor, setup, teardown),
		cmocka_unit_test_setup_teardown(anchor_per_composite, setup, teardown),
		cmocka_unit_test_setup_teardown(exists_and_racing_creators, setup, teardown),
		cmocka_unit_test_setup_teardown(bundle_edits_do_not_leak_in, setup, teardown),
		cmocka_unit_test_setup_teardown(long_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_configs, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_manifests, setup, teardown),
		cmocka_unit_test_setup_teardown(manifest_from_annotation, setup, teardown),
		cmocka_unit_test_setup_teardown(planted_symlink_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(corrupt_state, setup, teardown),
		cmocka_unit_test_setup_teardown(state_size_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(anchor_as_another_user, setup, teardown),
		cmocka_unit_test_setup_teardown(anchor_exec_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(thousand_instances, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
