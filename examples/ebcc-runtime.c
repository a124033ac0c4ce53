/* SPDX-License-Identifier: MIT */
/*
 * ebcc-runtime: a runc-compatible command line for libebcc composites, built only on the
 * public API. This file holds the program: global options, help, the context, dispatch. The
 * commands live in runtime/cmd-*.c, one group per file.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ebcc/ebcc.h>

#include "runtime/runtime.h"

static const struct rt_command *const commands[] = {
	&rt_cmd_create,	 &rt_cmd_start,	   &rt_cmd_state,    &rt_cmd_kill,
	&rt_cmd_delete,	 &rt_cmd_list,	   &rt_cmd_wait,     &rt_cmd_invoke,
	&rt_cmd_evidence, &rt_cmd_verify,  &rt_cmd_backends, &rt_cmd_stages,
	&rt_cmd_attestation_key,
	&rt_cmd_verify_report,
	NULL,
};

static const char global_options_help[] =
	"Global options (before COMMAND):\n"
	"      --root DIR              the state root (default: the library's state_root option,\n"
	"                              /run/ebcc as root, else $XDG_RUNTIME_DIR/ebcc)\n"
	"      --log FILE              write the library's and the runtime's log to FILE\n"
	"      --log-format text|json  log lines as text (default) or one JSON object per line\n"
	"      --debug                 log at debug level (to stderr without --log)\n"
	"  -h, --help                  show this help\n"
	"  -v, --version               show the version\n";

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
	       "A runc-style runtime for libebcc composites: an OCI container (the anchor) joined\n"
	       "with confidential stages in a TEE backend. Every call is its own process; the\n"
	       "state lives under the state root.\n\nCommands:\n");
	for (size_t i = 0; all[i] != NULL; i++)
		printf("  %-16s %s\n", all[i]->name, all[i]->summary);
	printf("\n%s\n`" RT_NAME " COMMAND --help` describes each command.\n", global_options_help);
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

/* Parses the global options; returns the index of COMMAND, or -1 with *ret_exit set. */
static int parse_globals(struct rt *rt, int argc, char **argv, int *ret_exit)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "log", required_argument, NULL, 'l' },
		{ "log-format", required_argument, NULL, 'F' },
		{ "debug", no_argument, NULL, 'd' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ 0 },
	};
	int c;

	*ret_exit = RT_EXIT_FAIL;
	opterr = 0;
	/* '+': stop at COMMAND, whose options are its own. */
	while ((c = getopt_long(argc, argv, "+:hv", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			free(rt->g.root);
			rt->g.root = rt_absolute_path(optarg);
			if (rt->g.root == NULL)
				return rt_fail_plain("--root %s: out of memory", optarg), -1;
			break;
		case 'l':
			rt->g.log_path = optarg;
			break;
		case 'F':
			if (strcmp(optarg, "text") == 0)
				rt->g.log_json = 0;
			else if (strcmp(optarg, "json") == 0)
				rt->g.log_json = 1;
			else
				return rt_usage_error(rt, "--log-format \"%s\": text or json", optarg),
				       -1;
			break;
		case 'd':
			rt->g.debug = 1;
			break;
		case 'h':
			rt_print_help(NULL, commands);
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
	}
	if (optind >= argc)
		return rt_usage_error(rt, "missing COMMAND"), -1;
	for (size_t i = 0; commands[i] != NULL; i++)
		if (strcmp(commands[i]->name, argv[optind]) == 0)
			rt->cmd = commands[i];
	if (rt->cmd == NULL)
		return rt_usage_error(rt, "unknown command \"%s\"", argv[optind]), -1;
	return optind;
}

static int make_context(struct rt *rt)
{
	int r = ebcc_context_new(&rt->ctx);

	if (r < 0)
		return rt_fail(r, "creating the library context"), -1;
	if (rt->g.root != NULL) {
		r = ebcc_context_set_option(rt->ctx, "state_root", rt->g.root);
		if (r < 0)
			return rt_fail(r, "--root %s", rt->g.root), -1;
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
	if (make_context(&rt) < 0)
		goto out;
	rt_log(EBCC_LOG_DEBUG, "%s %s, state root %s", RT_NAME, rt.cmd->name,
	       rt.g.root != NULL ? rt.g.root : "(library default)");
	/* The command parses its own options from a fresh getopt state: argv[0] is its name. */
	optind = 0;
	code = rt.cmd->run(&rt, argc - first, argv + first);
out:
	fflush(stdout);
	rt_log_close();
	ebcc_context_unref(rt.ctx);
	free(rt.g.root);
	return code;
}
