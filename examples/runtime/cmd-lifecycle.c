/* SPDX-License-Identifier: MIT */
/* The OCI lifecycle commands: create, start, kill, delete and wait. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "runtime.h"

static const char *const id_operand[] = { "container ID" };

/* The anchor's pid from the composite's OCI state, 0 when it has none. */
static int anchor_pid(struct ebcc_instance *inst, int *ret_pid)
{
	struct json_object *state, *pid;
	char *text = NULL;
	int r = ebcc_instance_state(inst, &text);

	if (r < 0)
		return r;
	state = json_tokener_parse(text);
	ebcc_free(text);
	*ret_pid = state != NULL && json_object_object_get_ex(state, "pid", &pid)
			   ? json_object_get_int(pid)
			   : 0;
	json_object_put(state);
	return 0;
}

static int write_pid_file(const char *path, int pid)
{
	char text[32];
	int len = snprintf(text, sizeof(text), "%d", pid);

	return rt_write_file(path, RT_OUT_PID_FILE, text, (size_t)len);
}

static int create_run(struct rt *rt, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "pid-file", required_argument, NULL, 'p' },
		RT_COMMON_OPTIONS,
		{ 0 },
	};
	const char *bundle = ".", *pid_file = NULL, *id;
	struct ebcc_instance *inst = NULL;
	char *bundle_abs;
	int c, r, pid = 0;

	while ((c = rt_getopt(rt, argc, argv, "b:", opts)) != -1) {
		if (c == 'b')
			bundle = optarg;
		else if (c == 'p')
			pid_file = optarg;
		else
			return rt_getopt_exit(c);
	}
	if (rt_operands(rt, argc, argv, 1, 1, id_operand) < 0)
		return RT_EXIT_FAIL;
	id = argv[optind];
	bundle_abs = rt_absolute_path(bundle);
	if (bundle_abs == NULL)
		return rt_fail_plain("create %s: resolving bundle %s: out of memory", id, bundle);
	r = ebcc_instance_create(rt->ctx, id, bundle_abs, &inst);
	if (r < 0) {
		rt_fail(r, "create %s", id);
		free(bundle_abs);
		return RT_EXIT_FAIL;
	}
	r = anchor_pid(inst, &pid);
	if (r < 0) {
		rt_fail(r, "create %s: reading its state", id);
		goto fail;
	}
	if (pid_file != NULL && write_pid_file(pid_file, pid) < 0)
		goto fail;
	rt_log(EBCC_LOG_INFO, "created %s from bundle %s, anchor pid %d", id, bundle_abs, pid);
	ebcc_instance_unref(inst);
	free(bundle_abs);
	return RT_EXIT_OK;

fail:
	/* Like runc: a create that cannot finish leaves nothing behind. */
	ebcc_instance_delete(inst, EBCC_DELETE_FORCE);
	ebcc_instance_unref(inst);
	free(bundle_abs);
	return RT_EXIT_FAIL;
}

const struct rt_command rt_cmd_create = {
	.name = "create",
	.args = "[--bundle DIR] [--pid-file FILE] ID",
	.summary = "create a composite from an OCI bundle; its anchor waits for start",
	.help = "  -b, --bundle DIR     the bundle (config.json, ebcc.json); default: the\n"
		"                       current directory\n"
		"      --pid-file FILE  write the anchor's pid to FILE\n"
		"The anchor inherits this process's stdin, stdout and stderr.\n",
	.run = create_run,
};

/* Parses the options of a command that takes only --help/--version and one ID. */
static const char *only_id(struct rt *rt, int argc, char **argv, int *ret_exit)
{
	static const struct option opts[] = { RT_COMMON_OPTIONS, { 0 } };
	int c;

	while ((c = rt_getopt(rt, argc, argv, "", opts)) != -1) {
		*ret_exit = rt_getopt_exit(c);
		return NULL;
	}
	if (rt_operands(rt, argc, argv, 1, 1, id_operand) < 0) {
		*ret_exit = RT_EXIT_FAIL;
		return NULL;
	}
	return argv[optind];
}

static int start_run(struct rt *rt, int argc, char **argv)
{
	struct ebcc_instance *inst;
	const char *id;
	int r, code = RT_EXIT_FAIL;

	id = only_id(rt, argc, argv, &code);
	if (id == NULL)
		return code;
	inst = rt_open_instance(rt, "start", id);
	if (inst == NULL)
		return RT_EXIT_FAIL;
	r = ebcc_instance_start(inst);
	ebcc_instance_unref(inst);
	if (r < 0)
		return rt_fail(r, "start %s", id);
	rt_log(EBCC_LOG_INFO, "started %s", id);
	return RT_EXIT_OK;
}

const struct rt_command rt_cmd_start = {
	.name = "start",
	.args = "ID",
	.summary = "load the instance-lifetime stages and let the anchor run",
	.help = "",
	.run = start_run,
};

static int kill_run(struct rt *rt, int argc, char **argv)
{
	static const struct option opts[] = { RT_COMMON_OPTIONS, { 0 } };
	struct ebcc_instance *inst;
	const char *id;
	int c, r, signo = SIGTERM;

	while ((c = rt_getopt(rt, argc, argv, "", opts)) != -1)
		return rt_getopt_exit(c);
	if (rt_operands(rt, argc, argv, 1, 2, id_operand) < 0)
		return RT_EXIT_FAIL;
	id = argv[optind];
	if (optind + 1 < argc) {
		signo = rt_parse_signal(argv[optind + 1]);
		if (signo < 0)
			return rt_usage_error(rt, "unknown signal \"%s\" (a name such as TERM or "
						  "SIGKILL, or a number 1..64)",
					      argv[optind + 1]);
	}
	inst = rt_open_instance(rt, "kill", id);
	if (inst == NULL)
		return RT_EXIT_FAIL;
	r = ebcc_instance_kill(inst, signo);
	ebcc_instance_unref(inst);
	if (r < 0)
		return rt_fail(r, "kill %s", id);
	rt_log(EBCC_LOG_INFO, "sent signal %d to %s", signo, id);
	return RT_EXIT_OK;
}

const struct rt_command rt_cmd_kill = {
	.name = "kill",
	.args = "ID [SIGNAL]",
	.summary = "unload the stages and signal the anchor (default SIGTERM)",
	.help = "SIGNAL is a name (TERM, SIGKILL, RTMIN+1; any case) or a number; default TERM.\n",
	.run = kill_run,
};

static int delete_run(struct rt *rt, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		RT_COMMON_OPTIONS,
		{ 0 },
	};
	struct ebcc_instance *inst = NULL;
	const char *id;
	int c, r, force = 0;

	while ((c = rt_getopt(rt, argc, argv, "f", opts)) != -1) {
		if (c == 'f')
			force = 1;
		else
			return rt_getopt_exit(c);
	}
	if (rt_operands(rt, argc, argv, 1, 1, id_operand) < 0)
		return RT_EXIT_FAIL;
	id = argv[optind];
	r = ebcc_instance_open(rt->ctx, id, &inst);
	/* As runc: deleting what is not there is an error, unless forced. */
	if (r == EBCC_ERR_NOT_FOUND && force)
		return RT_EXIT_OK;
	if (r < 0)
		return rt_fail(r, "delete %s", id);
	r = ebcc_instance_delete(inst, force ? EBCC_DELETE_FORCE : 0);
	ebcc_instance_unref(inst);
	if (r < 0)
		return rt_fail(r, "delete %s", id);
	rt_log(EBCC_LOG_INFO, "deleted %s", id);
	return RT_EXIT_OK;
}

const struct rt_command rt_cmd_delete = {
	.name = "delete",
	.args = "[--force] ID",
	.summary = "remove a stopped composite and its artifacts",
	.help = "  -f, --force   kill a created or running composite first (SIGKILL); also removes\n"
		"                one whose creation was interrupted; succeeds if ID does not exist\n",
	.run = delete_run,
};

static int wait_run(struct rt *rt, int argc, char **argv)
{
	struct ebcc_instance *inst;
	const char *id;
	int r, code = RT_EXIT_FAIL, status = -1;

	id = only_id(rt, argc, argv, &code);
	if (id == NULL)
		return code;
	inst = rt_open_instance(rt, "wait", id);
	if (inst == NULL)
		return RT_EXIT_FAIL;
	r = ebcc_instance_wait(inst, -1, &status);
	ebcc_instance_unref(inst);
	if (r < 0)
		return rt_fail(r, "wait %s", id);
	/* Like a shell's $?: the exit code, or 128 + the signal that ended the anchor. -1 means
	 * the embedder ran the anchor (ebcc_instance_set_pid) and its status is not known. */
	if (status != -1 && WIFEXITED(status))
		code = WEXITSTATUS(status);
	else if (status != -1 && WIFSIGNALED(status))
		code = 128 + WTERMSIG(status);
	else
		code = 255;
	if (status == -1)
		printf("unknown\n");
	else
		printf("%d\n", code);
	rt_log(EBCC_LOG_INFO, "%s stopped, wait status %d", id, status);
	return code;
}

const struct rt_command rt_cmd_wait = {
	.name = "wait",
	.args = "ID",
	.summary = "wait until the composite stops; print and exit with its exit code",
	.help = "Prints the anchor's exit code, or 128 + the signal that killed it, as a shell\n"
		"would, and exits with the same value (255 and \"unknown\" when it cannot be known).\n",
	.run = wait_run,
};
