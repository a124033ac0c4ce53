/* SPDX-License-Identifier: MIT */
/*
 * The OCI verbs that wrap the low-level runtime: create, start, state, kill and delete. Each
 * parses only what it needs (the id, the bundle, a pid file, a signal) from a copy of its
 * arguments and hands the engine's arguments on unchanged. A container without a composite
 * (plain, a pause container) goes to the low-level runtime untouched: this process becomes it.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "runtime.h"

static const char *const id_operand[] = { "container ID" };

/* ---- create ------------------------------------------------------------------------------ */

static int create_run(struct rt *rt, int argc, char **argv)
{
	static const struct option opts[] = {
		RT_CREATE_OPTIONS,
		RT_COMMON_OPTIONS,
		{ 0 },
	};
	struct rt_container_create cc = { .bundle = "." };
	struct rt_bundle_kind kind;
	char **given = rt_copy_args(argc, argv);
	int c, code;

	if (given == NULL)
		return rt_fail_plain("create: out of memory");
	while ((c = rt_getopt(rt, argc, argv, "b:", opts)) != -1) {
		if (c == 'b') {
			cc.bundle = optarg;
		} else if (c == 'p') {
			cc.pid_file = optarg;
		} else if (c != 'c' && c != 'P' && c != 'n' && c != 'k') {
			free(given);
			return rt_getopt_exit(c);
		}
	}
	if (rt_operands(rt, argc, argv, 1, 1, id_operand) < 0) {
		free(given);
		return RT_EXIT_FAIL;
	}
	cc.id = argv[optind];
	rt_bundle_kind(cc.bundle, &kind);
	rt_log(EBCC_LOG_DEBUG, "create %s: %s: %s", cc.id, kind.composite ? "a composite" : "plain",
	       kind.why);
	if (!kind.composite) {
		rt_bundle_kind_clear(&kind);
		code = rt_lowlevel_exec(rt, argc, given);
		free(given);
		return code;
	}
	cc.annotations = kind.annotations;
	cc.argc = argc;
	cc.argv = given;
	code = rt_container_create(rt, &cc);
	rt_bundle_kind_clear(&kind);
	free(given);
	return code;
}

const struct rt_command rt_cmd_oci_create = {
	.name = "create",
	.args = "[--bundle DIR] [--pid-file FILE] [--console-socket SOCKET] [--no-pivot] "
		"[--no-new-keyring] [--preserve-fds N] ID",
	.summary = "create a container (and its composite, stages loaded, for a manifest)",
	.help = "  -b, --bundle DIR          the bundle (config.json, ebcc.json); default: the\n"
		"                            current directory\n"
		"      --pid-file FILE       the low-level runtime writes the container's pid there\n"
		"      --console-socket, --preserve-fds, --no-pivot, --no-new-keyring\n"
		"                            for the low-level runtime\n"
		"The low-level runtime creates the container with these options unchanged. When the\n"
		"bundle names a stage manifest, the container's process becomes the composite's\n"
		"anchor and the stages load before its program can run.\n",
	.run = create_run,
};

/* ---- start ------------------------------------------------------------------------------- */

/* Parses a verb that takes an ID (and up to max_operands - 1 more operands) and at most one
 * flag, whose letter is shortopts: *ret_flag says whether it was given. NULL with *ret_exit
 * when the verb is done (help, version, a usage error). */
static const char *parse_id_verb(struct rt *rt, int argc, char **argv, const char *shortopts,
				 const struct option *opts, int max_operands, int *ret_flag,
				 int *ret_exit)
{
	int c;

	*ret_flag = 0;
	while ((c = rt_getopt(rt, argc, argv, shortopts, opts)) != -1) {
		if (c > 0 && strchr(shortopts, c) != NULL) {
			*ret_flag = 1;
			continue;
		}
		*ret_exit = rt_getopt_exit(c);
		return NULL;
	}
	if (rt_operands(rt, argc, argv, 1, max_operands, id_operand) < 0) {
		*ret_exit = RT_EXIT_FAIL;
		return NULL;
	}
	return argv[optind];
}

/* The composite's stages that should be loaded and are not: the first one's name, or NULL. */
static char *unloaded_stage(struct ebcc_instance *inst)
{
	struct json_object *state, *stages = NULL, *ebcc;
	char *text = NULL, *name = NULL;

	if (ebcc_instance_state(inst, &text) < 0)
		return NULL;
	state = json_tokener_parse(text);
	ebcc_free(text);
	if (state != NULL && json_object_object_get_ex(state, "ebcc", &ebcc))
		json_object_object_get_ex(ebcc, "stages", &stages);
	for (size_t i = 0; stages != NULL && i < json_object_array_length(stages) && !name; i++) {
		struct json_object *s = json_object_array_get_idx(stages, i), *lifetime, *eid, *n;

		if (json_object_object_get_ex(s, "lifetime", &lifetime) &&
		    strcmp(json_object_get_string(lifetime), "instance") == 0 &&
		    json_object_object_get_ex(s, "eid", &eid) &&
		    json_object_is_type(eid, json_type_null) &&
		    json_object_object_get_ex(s, "name", &n))
			name = strdup(json_object_get_string(n));
	}
	json_object_put(state);
	return name;
}

static const char *status_name(int status)
{
	switch (status) {
	case EBCC_STATUS_CREATING:
		return "creating";
	case EBCC_STATUS_CREATED:
		return "created";
	case EBCC_STATUS_RUNNING:
		return "running";
	default:
		return "stopped";
	}
}

static int start_run(struct rt *rt, int argc, char **argv)
{
	static const struct option opts[] = { RT_COMMON_OPTIONS, { 0 } };
	struct ebcc_instance *inst = NULL;
	char **given = rt_copy_args(argc, argv), *missing;
	const char *id;
	int flag, code = RT_EXIT_FAIL, status;

	if (given == NULL)
		return rt_fail_plain("start: out of memory");
	id = parse_id_verb(rt, argc, argv, "", opts, 1, &flag, &code);
	if (id == NULL)
		goto out;
	switch (rt_container_open(rt, "start", id, &inst)) {
	case 0:
		code = rt_lowlevel_exec(rt, argc, given);
		goto out;
	case 1:
		break;
	default:
		goto out;
	}
	/* Its stages loaded at create; a composite killed since must not start without them. */
	status = ebcc_instance_status(inst);
	if (status != EBCC_STATUS_RUNNING) {
		if (status < 0)
			rt_fail(status, "start %s", id);
		else
			rt_fail_plain("start %s: the composite is %s, not ready with its stages "
				      "loaded; the container is not started",
				      id, status_name(status));
		goto out;
	}
	missing = unloaded_stage(inst);
	if (missing != NULL) {
		rt_fail_plain("start %s: stage %s is not loaded (the composite was killed); the "
			      "container is not started",
			      id, missing);
		free(missing);
		goto out;
	}
	code = rt_lowlevel_run(rt, argc, given, NULL);
	if (code < 0)
		code = RT_EXIT_FAIL;
	else if (code > 0)
		rt_fail_plain("start %s: %s start exited with %d", id, rt_lowlevel_name(rt), code);
	else
		rt_log(EBCC_LOG_INFO, "started %s", id);
out:
	ebcc_instance_unref(inst);
	free(given);
	return code;
}

const struct rt_command rt_cmd_oci_start = {
	.name = "start",
	.args = "ID",
	.summary = "start the container's program (its stages are loaded already)",
	.help = "A composite's container starts only while its stages are loaded.\n",
	.run = start_run,
};

/* ---- state ------------------------------------------------------------------------------- */

/* The composite's "ebcc" object, with its status: NULL on failure (reported). */
static struct json_object *ebcc_object(struct ebcc_instance *inst, const char *id)
{
	struct json_object *state, *ebcc = NULL, *status;
	char *text = NULL;
	int r = ebcc_instance_state(inst, &text);

	if (r < 0)
		return rt_fail(r, "state %s: the composite", id), NULL;
	state = json_tokener_parse(text);
	ebcc_free(text);
	if (state != NULL && json_object_object_get_ex(state, "ebcc", &ebcc) &&
	    json_object_object_get_ex(state, "status", &status)) {
		json_object_get(ebcc);
		json_object_object_add(ebcc, "status", json_object_get(status));
	} else {
		ebcc = NULL;
		rt_fail_plain("state %s: the library returned a state that is not JSON", id);
	}
	json_object_put(state);
	return ebcc;
}

static int state_run(struct rt *rt, int argc, char **argv)
{
	static const struct option opts[] = { RT_COMMON_OPTIONS, { 0 } };
	struct json_object *state = NULL, *ebcc;
	struct ebcc_instance *inst = NULL;
	char **given = rt_copy_args(argc, argv);
	const char *id;
	int flag, code = RT_EXIT_FAIL, r;

	if (given == NULL)
		return rt_fail_plain("state: out of memory");
	id = parse_id_verb(rt, argc, argv, "", opts, 1, &flag, &code);
	if (id == NULL)
		goto out;
	switch (rt_container_open(rt, "state", id, &inst)) {
	case 0:
		code = rt_lowlevel_exec(rt, argc, given);
		goto out;
	case 1:
		break;
	default:
		goto out;
	}
	r = rt_lowlevel_state(rt, id, &state);
	if (r != 0) {
		code = r > 0 ? r : RT_EXIT_FAIL;
		goto out;
	}
	ebcc = ebcc_object(inst, id);
	if (ebcc == NULL)
		goto out;
	json_object_object_add(state, "ebcc", ebcc);
	rt_print_json(state);
	code = RT_EXIT_OK;
out:
	json_object_put(state);
	ebcc_instance_unref(inst);
	free(given);
	return code;
}

const struct rt_command rt_cmd_oci_state = {
	.name = "state",
	.args = "ID",
	.summary = "print the container's OCI state (and its composite's)",
	.help = "The low-level runtime's OCI state; for a composite with an \"ebcc\" object: status,\n"
		"backend, stages with their EIDs and measurements, creation time.\n",
	.run = state_run,
};

/* ---- kill -------------------------------------------------------------------------------- */

static int kill_run(struct rt *rt, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		RT_COMMON_OPTIONS,
		{ 0 },
	};
	struct ebcc_instance *inst = NULL;
	char **given = rt_copy_args(argc, argv);
	const char *id;
	int all, code = RT_EXIT_FAIL, signo = SIGTERM, status, r;

	if (given == NULL)
		return rt_fail_plain("kill: out of memory");
	id = parse_id_verb(rt, argc, argv, "a", opts, 2, &all, &code);
	if (id == NULL)
		goto out;
	switch (rt_container_open(rt, "kill", id, &inst)) {
	case 0:
		code = rt_lowlevel_exec(rt, argc, given);
		goto out;
	case 1:
		break;
	default:
		goto out;
	}
	status = ebcc_instance_status(inst);
	if (status != EBCC_STATUS_CREATED && status != EBCC_STATUS_RUNNING) {
		/* Nothing of the composite to stop: the container's answer is the answer. */
		code = rt_lowlevel_exec(rt, argc, given);
		goto out;
	}
	if (optind + 1 < argc) {
		signo = rt_parse_signal(argv[optind + 1]);
		if (signo < 0) {
			code = rt_usage_error(rt, "unknown signal \"%s\" (a name such as TERM or "
						  "SIGKILL, or a number 1..64)",
					      argv[optind + 1]);
			goto out;
		}
	}
	/* The library's kill unloads the stages and signals the container's process. */
	r = ebcc_instance_kill(inst, signo);
	if (r < 0) {
		rt_fail(r, "kill %s", id);
		goto out;
	}
	rt_log(EBCC_LOG_INFO, "killed %s with signal %d, its stages unloaded", id, signo);
	code = RT_EXIT_OK;
	/* The container's other processes get the signal from the low-level runtime. */
	if (all) {
		code = rt_lowlevel_run(rt, argc, given, NULL);
		if (code < 0)
			code = RT_EXIT_FAIL;
	}
out:
	ebcc_instance_unref(inst);
	free(given);
	return code;
}

const struct rt_command rt_cmd_oci_kill = {
	.name = "kill",
	.args = "[--all] ID [SIGNAL]",
	.summary = "signal the container; a composite's stages are unloaded first",
	.help = "  -a, --all     signal every process of the container (by the low-level runtime)\n"
		"SIGNAL is a name (TERM, SIGKILL, RTMIN+1; any case) or a number; default TERM.\n",
	.run = kill_run,
};

/* ---- delete ------------------------------------------------------------------------------ */

static int delete_run(struct rt *rt, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		RT_COMMON_OPTIONS,
		{ 0 },
	};
	struct ebcc_instance *inst = NULL;
	char **given = rt_copy_args(argc, argv);
	const char *id;
	int force, code = RT_EXIT_FAIL;

	if (given == NULL)
		return rt_fail_plain("delete: out of memory");
	id = parse_id_verb(rt, argc, argv, "f", opts, 1, &force, &code);
	if (id == NULL)
		goto out;
	switch (rt_container_open(rt, "delete", id, &inst)) {
	case 0:
		code = rt_lowlevel_exec(rt, argc, given);
		goto out;
	case 1:
		break;
	default:
		goto out;
	}
	/* The container first: while it is there, so is its composite. */
	code = rt_lowlevel_run(rt, argc, given, NULL);
	if (code < 0) {
		code = RT_EXIT_FAIL;
		goto out;
	}
	if (code > 0 && !force) {
		rt_fail_plain("delete %s: %s delete exited with %d; the composite stays with its "
			      "container",
			      id, rt_lowlevel_name(rt), code);
		goto out;
	}
	if (rt_container_remove(rt, inst, "delete", id) < 0) {
		if (code == 0)
			code = RT_EXIT_FAIL;
		goto out;
	}
	rt_log(EBCC_LOG_INFO, "deleted %s", id);
out:
	ebcc_instance_unref(inst);
	free(given);
	return code;
}

const struct rt_command rt_cmd_oci_delete = {
	.name = "delete",
	.args = "[--force] ID",
	.summary = "delete the container, then its composite",
	.help = "  -f, --force   kill a created or running container first (SIGKILL)\n",
	.run = delete_run,
};
