/* SPDX-License-Identifier: MIT */
/*
 * ebcc-runtime: an OCI runtime for libebcc composites, built only on the public API. It hands
 * the container work to a low-level runtime (runc, crun) and adds the composite around it;
 * with --anchor=process it runs composites of a plain process of its own instead. This file
 * holds the program: global options, help, the context, dispatch. The commands live in
 * runtime/cmd-*.c, one group per file.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ebcc/ebcc.h>

#include "runtime/runtime.h"

/* --anchor=process: the library's own anchor process, no low-level runtime. */
static const struct rt_command *const process_commands[] = {
	&rt_cmd_create,	 &rt_cmd_start,	   &rt_cmd_state,    &rt_cmd_kill,
	&rt_cmd_delete,	 &rt_cmd_list,	   &rt_cmd_wait,     &rt_cmd_invoke,
	&rt_cmd_evidence, &rt_cmd_verify,  &rt_cmd_backends, &rt_cmd_stages,
	&rt_cmd_attestation_key,
	&rt_cmd_verify_report,
	&rt_cmd_seal,
	&rt_cmd_encrypt_image,
	&rt_cmd_load_request,
	NULL,
};

/* The default: the OCI verbs wrap the low-level runtime's container; a verb not listed here
 * goes to the low-level runtime unchanged. */
static const struct rt_command *const container_commands[] = {
	&rt_cmd_oci_create, &rt_cmd_oci_start, &rt_cmd_oci_state, &rt_cmd_oci_kill,
	&rt_cmd_oci_delete, &rt_cmd_oci_run,   &rt_cmd_list,	  &rt_cmd_wait,
	&rt_cmd_invoke,	    &rt_cmd_evidence,  &rt_cmd_verify,	  &rt_cmd_backends,
	&rt_cmd_stages,	    &rt_cmd_attestation_key,
	&rt_cmd_verify_report,
	&rt_cmd_seal,
	&rt_cmd_encrypt_image,
	&rt_cmd_load_request,
	NULL,
};

static const char global_options_help[] =
	"Global options (before COMMAND):\n"
	"      --low-level-runtime PATH  the runtime that runs the containers (default:\n"
	"                              $EBCC_LOW_LEVEL_RUNTIME, else runc or crun on PATH)\n"
	"      --anchor container|process  the anchor is the low-level runtime's container\n"
	"                              (default) or a plain process of the library's own\n"
	"      --state-root DIR        the libebcc state root (default: with --root one per\n"
	"                              root under the run directory, else the library's\n"
	"                              state_root option, /run/ebcc as root)\n"
	"      --run-dir DIR           ebcc-runtime's sockets and brokers (default:\n"
	"                              " RT_RUN_DIR_DEFAULT " as root, else\n"
	"                              $XDG_RUNTIME_DIR/" RT_NAME ")\n"
	"      --root DIR              the low-level runtime's root; with --anchor=process the\n"
	"                              libebcc state root\n"
	"      --log FILE              write the library's and the runtime's log to FILE\n"
	"      --log-format text|json  log lines as text (default) or one JSON object per line\n"
	"      --debug                 log at debug level (to stderr without --log)\n"
	"      --systemd-cgroup, --criu PATH, --rootless VALUE  for the low-level runtime\n"
	"  -h, --help                  show this help\n"
	"  -v, --version               show the version\n"
	"--root, --log, --log-format, --debug and the low-level runtime's options go to it as\n"
	"given.\n";

void rt_print_version(void)
{
	printf(RT_NAME " version %s\nlibebcc: %s\nspec: 1.0.2\n", EBCC_VERSION_STRING,
	       ebcc_version_string());
}

void rt_print_help(const struct rt_command *cmd, const struct rt_command *const *all)
{
	if (cmd != NULL) {
		printf("usage: " RT_NAME " [global options] %s %s\n\n%s\n", cmd->name, cmd->args,
		       cmd->summary);
		if (cmd->help[0] != '\0')
			printf("\n%s", cmd->help);
		printf("\n  -h, --help     show this help\n      --version  show the version\n");
		return;
	}
	printf("usage: " RT_NAME " [global options] COMMAND [options] [ARGS]\n\n"
	       "An OCI runtime for libebcc composites: a container (the anchor) joined with\n"
	       "confidential stages in a TEE backend. A low-level runtime (runc, crun) runs the\n"
	       "container; bundles without a stage manifest pass through to it untouched. Every\n"
	       "call is its own process; the state lives under the state root.\n\nCommands:\n");
	for (size_t i = 0; all[i] != NULL; i++)
		printf("  %-16s %s\n", all[i]->name, all[i]->summary);
	if (all == container_commands)
		printf("  Any other command (exec, ps, pause, resume, update, features, checkpoint,\n"
		       "  restore, events, ...) goes to the low-level runtime unchanged.\n");
	printf("\n%s\n`" RT_NAME " COMMAND --help` describes each command.\n", global_options_help);
}

const char *rt_state_root(const struct rt *rt)
{
	if (rt->g.state_root != NULL)
		return rt->g.state_root;
	if (rt->g.anchor == RT_ANCHOR_PROCESS)
		return rt->g.root;
	return rt->g.derived_state_root;
}

struct ebcc_instance *rt_open_instance(struct rt *rt, const char *verb, const char *id)
{
	struct ebcc_instance *inst = NULL;
	int r = ebcc_instance_open(rt->ctx, id, &inst);

	if (r < 0) {
		rt_fail(r, "%s %s", verb, id);
		return NULL;
	}
	return inst;
}

/* Keeps a global option for the low-level runtime, as given. */
static int forward(struct rt *rt, const char *name, const char *value)
{
	if (rt->g.n_forward + 2 > sizeof(rt->g.forward) / sizeof(rt->g.forward[0]))
		return rt_usage_error(rt, "too many global options"), -1;
	rt->g.forward[rt->g.n_forward++] = name;
	if (value != NULL)
		rt->g.forward[rt->g.n_forward++] = value;
	return 0;
}

static int set_path(char **slot, const char *option, const char *value)
{
	free(*slot);
	*slot = rt_absolute_path(value);
	if (*slot == NULL)
		return rt_fail_plain("%s %s: out of memory", option, value), -1;
	return 0;
}

/* Parses the global options; returns the index of COMMAND, or -1 with *ret_exit set. */
static int parse_globals(struct rt *rt, int argc, char **argv, int *ret_exit)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "state-root", required_argument, NULL, 'S' },
		{ "run-dir", required_argument, NULL, 'D' },
		{ "log", required_argument, NULL, 'l' },
		{ "log-format", required_argument, NULL, 'F' },
		{ "debug", no_argument, NULL, 'd' },
		{ "low-level-runtime", required_argument, NULL, 'L' },
		{ "anchor", required_argument, NULL, 'a' },
		{ "systemd-cgroup", no_argument, NULL, 'y' },
		{ "criu", required_argument, NULL, 'c' },
		{ "rootless", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ 0 },
	};
	const struct rt_command *const *commands;
	int c, r = 0;

	*ret_exit = RT_EXIT_FAIL;
	opterr = 0;
	/* '+': stop at COMMAND, whose options are its own. */
	while ((c = getopt_long(argc, argv, "+:hv", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			r = set_path(&rt->g.root, "--root", optarg);
			if (r == 0)
				r = forward(rt, "--root", optarg);
			break;
		case 'S':
			r = set_path(&rt->g.state_root, "--state-root", optarg);
			break;
		case 'D':
			r = set_path(&rt->g.run_dir, "--run-dir", optarg);
			break;
		case 'l':
			rt->g.log_path = optarg;
			r = forward(rt, "--log", optarg);
			break;
		case 'F':
			if (strcmp(optarg, "text") == 0)
				rt->g.log_json = 0;
			else if (strcmp(optarg, "json") == 0)
				rt->g.log_json = 1;
			else
				return rt_usage_error(rt, "--log-format \"%s\": text or json", optarg),
				       -1;
			r = forward(rt, "--log-format", optarg);
			break;
		case 'd':
			rt->g.debug = 1;
			r = forward(rt, "--debug", NULL);
			break;
		case 'L':
			if (optarg[0] == '\0')
				return rt_usage_error(rt, "--low-level-runtime needs a path"), -1;
			rt->g.lowlevel_option = optarg;
			break;
		case 'a':
			if (strcmp(optarg, "container") == 0)
				rt->g.anchor = RT_ANCHOR_CONTAINER;
			else if (strcmp(optarg, "process") == 0)
				rt->g.anchor = RT_ANCHOR_PROCESS;
			else
				return rt_usage_error(rt, "--anchor \"%s\": container or process",
						      optarg),
				       -1;
			break;
		case 'y':
			r = forward(rt, "--systemd-cgroup", NULL);
			break;
		case 'c':
			r = forward(rt, "--criu", optarg);
			break;
		case 'R':
			r = forward(rt, "--rootless", optarg);
			break;
		case 'h':
			rt_print_help(NULL, rt->g.anchor == RT_ANCHOR_PROCESS ? process_commands
									      : container_commands);
			*ret_exit = RT_EXIT_OK;
			return -1;
		case 'v':
			rt_print_version();
			*ret_exit = RT_EXIT_OK;
			return -1;
		case ':':
			return rt_usage_error(rt, "option %s needs an argument", argv[optind - 1]), -1;
		default:
			if (optopt != 0)
				return rt_usage_error(rt, "unknown global option -%c", optopt), -1;
			return rt_usage_error(rt, "unknown global option %s", argv[optind - 1]), -1;
		}
		if (r < 0)
			return -1;
	}
	if (optind >= argc)
		return rt_usage_error(rt, "missing COMMAND"), -1;
	commands = rt->g.anchor == RT_ANCHOR_PROCESS ? process_commands : container_commands;
	for (size_t i = 0; commands[i] != NULL; i++)
		if (strcmp(commands[i]->name, argv[optind]) == 0)
			rt->cmd = commands[i];
	/* Without --anchor=process an unknown verb is the low-level runtime's to judge. */
	if (rt->cmd == NULL && rt->g.anchor == RT_ANCHOR_PROCESS)
		return rt_usage_error(rt, "unknown command \"%s\"", argv[optind]), -1;
	return optind;
}

static int make_context(struct rt *rt)
{
	const char *root = rt_state_root(rt);
	int r = ebcc_context_new(&rt->ctx);

	if (r < 0)
		return rt_fail(r, "creating the library context"), -1;
	if (root != NULL) {
		r = ebcc_context_set_option(rt->ctx, "state_root", root);
		if (r < 0)
			return rt_fail(r, "%s %s", rt->g.state_root != NULL ? "--state-root" : "--root",
				       root),
			       -1;
	}
	return rt_log_setup(rt);
}

int main(int argc, char **argv)
{
	struct rt rt = { 0 };
	int first, code;

	first = parse_globals(&rt, argc, argv, &code);
	if (first < 0)
		goto out;
	code = RT_EXIT_FAIL;
	if (rt_log_open(&rt) < 0)
		goto out;
	if (rt.cmd == NULL) {
		/* A verb ebcc-runtime does not wrap: the low-level runtime's, untouched. */
		code = rt_lowlevel_exec(&rt, argc - first, argv + first);
		goto out;
	}
	if (rt_derive_state_root(&rt) < 0 || make_context(&rt) < 0)
		goto out;
	rt_log(EBCC_LOG_DEBUG, "%s %s, state root %s", RT_NAME, rt.cmd->name,
	       rt_state_root(&rt) != NULL ? rt_state_root(&rt) : "(library default)");
	/* The command parses its own options from a fresh getopt state: argv[0] is its name. */
	optind = 0;
	code = rt.cmd->run(&rt, argc - first, argv + first);
out:
	fflush(stdout);
	rt_log_close();
	ebcc_context_unref(rt.ctx);
	free(rt.g.root);
	free(rt.g.state_root);
	free(rt.g.derived_state_root);
	free(rt.g.run_dir);
	free(rt.g.lowlevel);
	return code;
}
