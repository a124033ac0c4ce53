/* SPDX-License-Identifier: MIT */
/*
 * ebcc-oci-hook: confidential stages beside a container run by an unmodified runc or crun.
 * Registered in the bundle's config.json as a createRuntime and a poststop hook:
 *
 *   ebcc-oci-hook [--root DIR] [--run-dir DIR] precreate|create-runtime|poststop|auto
 *
 * It reads the container's state from stdin, as the runtime passes it (precreate, a podman
 * hooks.d stage: the OCI configuration, written back changed on stdout). This file holds the
 * command line; the hooks live in hook/create.c and hook/poststop.c. See ebcc-oci-hook(8).
 */
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hook/hook.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " HOOK_NAME " [--root DIR] [--run-dir DIR] precreate|create-runtime|poststop|auto\n"
		"\n"
		"An OCI hook: register it in config.json as a createRuntime hook (create-runtime)\n"
		"and as a poststop hook (poststop). It reads the container's state on stdin.\n"
		"create-runtime makes the container a libebcc composite, loads the stages of the\n"
		"bundle's manifest and serves them to the container on <socketDir>/ebcc.sock\n"
		"(tools.ociHook.socketDir in the manifest); poststop stops all of it again.\n"
		"precreate (podman's hooks.d) reads the OCI configuration on stdin and writes it\n"
		"back with a socket directory made for the container mounted at /run/ebcc.\n"
		"auto, for a hooks.d entry registered for all three stages, tells them apart by\n"
		"what stdin holds.\n"
		"\n"
		"      --root DIR     the libebcc state root (default: /run/ebcc as root)\n"
		"      --run-dir DIR  the hook's own records (default: " HOOK_RUN_DIR_DEFAULT ")\n"
		"  -h, --help         show this help\n"
		"      --version      show the version\n");
}

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, HOOK_NAME ": %s%s (see --help)\n", what, arg);
	return 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "run-dir", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct hook_options o = { .run_dir = HOOK_RUN_DIR_DEFAULT };
	struct hook_state s;
	enum hook_phase phase = HOOK_PRECREATE;
	int auto_phase = 0, c, r;

	/* An ignored SIGCHLD survives exec and would make children unwaitable. */
	signal(SIGCHLD, SIG_DFL);
	/* Descriptors 0-2 taken by whatever opens next would be lost to the broker's stdio. */
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR | O_NOCTTY) != fd)
			return 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
		case 'R':
			/* Hooks run in whatever directory the runtime chose: no relative paths. */
			if (optarg[0] != '/')
				return usage_error(c == 'r' ? "--root must be an absolute path: "
							    : "--run-dir must be an absolute path: ",
						   optarg);
			if (c == 'r')
				o.root = optarg;
			else
				o.run_dir = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf(HOOK_NAME " version %s\nlibebcc: %s\n", EBCC_VERSION_STRING,
			       ebcc_version_string());
			return 0;
		case ':':
			return usage_error("option needs an argument: ", argv[optind - 1]);
		default:
			return usage_error("unknown option: ", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return usage_error(argc - optind == 0
					   ? "which hook? precreate, create-runtime, poststop or auto"
						      : "too many arguments",
				   "");
	if (strcmp(argv[optind], "auto") == 0)
		auto_phase = 1;
	else if (strcmp(argv[optind], "precreate") == 0)
		phase = HOOK_PRECREATE;
	else if (strcmp(argv[optind], "create-runtime") == 0)
		phase = HOOK_CREATE_RUNTIME;
	else if (strcmp(argv[optind], "poststop") == 0)
		phase = HOOK_POSTSTOP;
	else
		return usage_error("unknown hook (precreate, create-runtime, poststop or auto): ",
				   argv[optind]);

	if (auto_phase || phase == HOOK_PRECREATE) {
		char *text = NULL;
		size_t len = 0;

		if (hook_input_read(STDIN_FILENO, &text, &len) < 0 ||
		    (auto_phase && hook_phase_of(text, len, &phase) < 0)) {
			free(text);
			return hook_report();
		}
		if (phase == HOOK_PRECREATE)
			r = hook_precreate(&o, text, len, STDOUT_FILENO);
		else
			r = hook_state_parse(text, len, phase, &s);
		free(text);
		if (r < 0)
			return hook_report();
		if (phase == HOOK_PRECREATE)
			return 0;
	} else if (hook_state_read(STDIN_FILENO, phase, &s) < 0) {
		return hook_report();
	}
	r = phase == HOOK_CREATE_RUNTIME ? hook_create_runtime(&o, &s) : hook_poststop(&o, &s);
	hook_state_clear(&s);
	return r < 0 ? hook_report() : 0;
}
