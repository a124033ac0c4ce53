/* SPDX-License-Identifier: MIT */
/*
 * run: for a composite, what `runc run` does for a container, in the same steps as the
 * engine's verbs: create (the composite with its stages loaded), start, wait for the
 * container's process (this process is a child subreaper, so the process the low-level
 * runtime leaves behind becomes its child) while passing it the signals this process gets,
 * then delete container and composite and exit with the process's exit code. A plain bundle
 * goes to the low-level runtime's own run, untouched.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../hook/hook.h"
#include "runtime.h"

static const char *const id_operand[] = { "container ID" };

/* How long the broker gets to end once the container's process has exited. */
#define BROKER_EXIT_MS 10000

/* The signals a foreground run passes on to the container's process, as runc's does. */
static const int forwarded[] = { SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2 };

struct run_options {
	struct rt_container_create cc;
	const char *console_socket, *preserve_fds;
	int no_pivot, no_new_keyring, detach, keep;
};

/* The create command for the low-level runtime: run's options that create shares. */
static char **create_args(const struct run_options *o, int *ret_argc)
{
	char **a = calloc(16, sizeof(*a));
	int n = 0;

	if (a == NULL)
		return NULL;
	a[n++] = (char *)"create";
	a[n++] = (char *)"--bundle";
	a[n++] = (char *)o->cc.bundle;
	if (o->cc.pid_file != NULL) {
		a[n++] = (char *)"--pid-file";
		a[n++] = (char *)o->cc.pid_file;
	}
	if (o->console_socket != NULL) {
		a[n++] = (char *)"--console-socket";
		a[n++] = (char *)o->console_socket;
	}
	if (o->preserve_fds != NULL) {
		a[n++] = (char *)"--preserve-fds";
		a[n++] = (char *)o->preserve_fds;
	}
	if (o->no_pivot)
		a[n++] = (char *)"--no-pivot";
	if (o->no_new_keyring)
		a[n++] = (char *)"--no-new-keyring";
	a[n++] = (char *)o->cc.id;
	*ret_argc = n;
	return a;
}

/* Waits for the container's process, a child of this subreaper, passing signals on. Its exit
 * code (128 + signal when a signal ended it), or -1 (reported). */
static int wait_container(const char *id, pid_t pid)
{
	struct signalfd_siginfo info;
	sigset_t set, old;
	int sfd, status, code = -1;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&set, forwarded[i]);
	sigprocmask(SIG_BLOCK, &set, &old);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0) {
		rt_fail_plain("run %s: signalfd: %s", id, strerror(errno));
		goto out;
	}
	for (;;) {
		pid_t w;

		/* Reaps adopted children too; a SIGCHLD before the mask was set is not lost. */
		while ((w = waitpid(-1, &status, WNOHANG)) > 0)
			if (w == pid)
				break;
		if (w == pid)
			break;
		if (w < 0 && errno == ECHILD) {
			rt_fail_plain("run %s: the container's process %d is not a child of " RT_NAME,
				      id, (int)pid);
			goto out;
		}
		if (read(sfd, &info, sizeof(info)) != sizeof(info)) {
			if (errno == EINTR)
				continue;
			rt_fail_plain("run %s: reading signals: %s", id, strerror(errno));
			goto out;
		}
		if (info.ssi_signo != SIGCHLD) {
			rt_log(EBCC_LOG_DEBUG, "run %s: passing signal %u on", id, info.ssi_signo);
			kill(pid, (int)info.ssi_signo);
		}
	}
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	rt_log(EBCC_LOG_INFO, "run %s: the container's process exited, code %d", id, code);
out:
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return code;
}

/* The broker leaves once the container's process has exited; it is this process's child by
 * adoption, so it is reaped here rather than left as a zombie. */
static void reap_broker(const struct rt_container_create *cc)
{
	struct timespec pause = { .tv_nsec = 10 * 1000 * 1000 };

	if (cc->broker_pid <= 0)
		return;
	for (int waited = 0; waited < BROKER_EXIT_MS; waited += 10) {
		pid_t w = waitpid(cc->broker_pid, NULL, WNOHANG);

		if (w == cc->broker_pid || (w < 0 && errno == ECHILD))
			return;
		nanosleep(&pause, NULL);
	}
	hook_proc_stop(cc->broker_pid, cc->broker_start, 1000);
	waitpid(cc->broker_pid, NULL, WNOHANG);
}

/* Deletes the container and the composite (best effort: the first failure is reported). */
static int remove_all(struct rt *rt, const char *id)
{
	char *args[] = { (char *)"delete", (char *)"--force", (char *)id };
	struct ebcc_instance *inst = NULL;
	int r = rt_lowlevel_run(rt, 3, args, NULL), failed = r != 0;

	if (r > 0)
		rt_fail_plain("run %s: %s delete exited with %d", id, rt_lowlevel_name(rt), r);
	if (ebcc_instance_open(rt->ctx, id, &inst) == 0) {
		failed |= rt_container_remove(rt, inst, "run", id) < 0;
		ebcc_instance_unref(inst);
	}
	return failed ? -1 : 0;
}

static int composite_run(struct rt *rt, struct run_options *o)
{
	char *start_args[] = { (char *)"start", (char *)o->cc.id };
	int code, r;

	if (!o->detach && prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return rt_fail_plain("run %s: becoming a child subreaper: %s", o->cc.id,
				     strerror(errno));
	o->cc.argv = create_args(o, &o->cc.argc);
	if (o->cc.argv == NULL)
		return rt_fail_plain("run %s: out of memory", o->cc.id);
	code = rt_container_create(rt, &o->cc);
	free(o->cc.argv);
	if (code != RT_EXIT_OK)
		return code;
	r = rt_lowlevel_run(rt, 2, start_args, NULL);
	if (r != 0) {
		if (r > 0)
			rt_fail_plain("run %s: %s start exited with %d", o->cc.id,
				      rt_lowlevel_name(rt), r);
		remove_all(rt, o->cc.id);
		reap_broker(&o->cc);
		return r > 0 ? r : RT_EXIT_FAIL;
	}
	if (o->detach)
		return RT_EXIT_OK;
	code = wait_container(o->cc.id, o->cc.pid);
	if (code < 0)
		code = RT_EXIT_FAIL;
	if (!o->keep && remove_all(rt, o->cc.id) < 0 && code == 0)
		code = RT_EXIT_FAIL;
	reap_broker(&o->cc);
	return code;
}

static int run_run(struct rt *rt, int argc, char **argv)
{
	static const struct option opts[] = {
		RT_CREATE_OPTIONS,
		{ "detach", no_argument, NULL, 'd' },
		{ "keep", no_argument, NULL, 'K' },
		{ "no-subreaper", no_argument, NULL, 'N' },
		RT_COMMON_OPTIONS,
		{ 0 },
	};
	struct run_options o = { .cc.bundle = "." };
	struct rt_bundle_kind kind;
	char **given = rt_copy_args(argc, argv);
	int c, code;

	if (given == NULL)
		return rt_fail_plain("run: out of memory");
	while ((c = rt_getopt(rt, argc, argv, "b:d", opts)) != -1) {
		switch (c) {
		case 'b':
			o.cc.bundle = optarg;
			break;
		case 'p':
			o.cc.pid_file = optarg;
			break;
		case 'c':
			o.console_socket = optarg;
			break;
		case 'P':
			o.preserve_fds = optarg;
			break;
		case 'n':
			o.no_pivot = 1;
			break;
		case 'k':
			o.no_new_keyring = 1;
			break;
		case 'd':
			o.detach = 1;
			break;
		case 'K':
			o.keep = 1;
			break;
		case 'N':
			break; /* a composite's run always reaps: it waits for the process */
		default:
			free(given);
			return rt_getopt_exit(c);
		}
	}
	if (rt_operands(rt, argc, argv, 1, 1, id_operand) < 0) {
		free(given);
		return RT_EXIT_FAIL;
	}
	o.cc.id = argv[optind];
	rt_bundle_kind(o.cc.bundle, &kind);
	rt_log(EBCC_LOG_DEBUG, "run %s: %s: %s", o.cc.id, kind.composite ? "a composite" : "plain",
	       kind.why);
	if (!kind.composite) {
		rt_bundle_kind_clear(&kind);
		code = rt_lowlevel_exec(rt, argc, given);
		free(given);
		return code;
	}
	o.cc.annotations = kind.annotations;
	code = composite_run(rt, &o);
	rt_bundle_kind_clear(&kind);
	free(given);
	return code;
}

const struct rt_command rt_cmd_oci_run = {
	.name = "run",
	.args = "[--bundle DIR] [--pid-file FILE] [--detach] [--keep] [create's options] ID",
	.summary = "create, start, wait for and delete a container (and its composite)",
	.help = "  -b, --bundle DIR    the bundle; default: the current directory\n"
		"  -d, --detach        return once the container runs\n"
		"      --keep          do not delete the container and composite after it exits\n"
		"      --pid-file, --console-socket, --preserve-fds, --no-pivot, --no-new-keyring,\n"
		"      --no-subreaper  as for the low-level runtime\n"
		"Exits with the exit code of the container's process (128 + the signal that ended\n"
		"it). A composite's run needs --console-socket for a process with a terminal.\n",
	.run = run_run,
};
