/* SPDX-License-Identifier: MIT */
/*
 * The low-level runtime that does the container work, as nvidia-container-runtime uses runc:
 * found once (--low-level-runtime, $EBCC_LOW_LEVEL_RUNTIME, else runc or crun on PATH), and
 * run with the engine's global options and verb arguments unchanged, either in place of this
 * process (a verb ebcc-runtime does not wrap) or as a child whose exit code and, for state,
 * whose output ebcc-runtime reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>

#include "runtime.h"

#define ENV_LOWLEVEL "EBCC_LOW_LEVEL_RUNTIME"
/* runc's state of one container is a few hundred bytes; annotations may add some. */
#define OUTPUT_MAX (4u << 20)

/* path if it is an executable regular file, else NULL with errno set. */
static char *executable(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return NULL;
	if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0) {
		errno = EACCES;
		return NULL;
	}
	return strdup(path);
}

/* name on PATH (or name itself when it has a slash), from malloc(); NULL when not found. */
static char *lookup(const char *name)
{
	const char *path = getenv("PATH");
	char candidate[PATH_MAX];

	if (strchr(name, '/') != NULL)
		return executable(name);
	if (path == NULL || path[0] == '\0')
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	for (const char *p = path;; p++) {
		size_t len = strcspn(p, ":");
		char *found;

		if (len > 0 && (size_t)snprintf(candidate, sizeof(candidate), "%.*s/%s", (int)len, p,
						 name) < sizeof(candidate)) {
			found = executable(candidate);
			if (found != NULL)
				return found;
		}
		p += len;
		if (*p == '\0')
			break;
	}
	errno = ENOENT;
	return NULL;
}

/* Whether path is this very program (installed as "runc", say): it would call itself. */
static int is_self(const char *path)
{
	char self[PATH_MAX], other[PATH_MAX];

	return realpath("/proc/self/exe", self) != NULL && realpath(path, other) != NULL &&
	       strcmp(self, other) == 0;
}

int rt_lowlevel_find(struct rt *rt)
{
	static const char *const defaults[] = { "runc", "crun" };
	const char *named = rt->g.lowlevel_option, *source = "--low-level-runtime";
	char *found;

	if (rt->g.lowlevel != NULL)
		return 0;
	if (named == NULL) {
		named = secure_getenv(ENV_LOWLEVEL);
		source = "$" ENV_LOWLEVEL;
		if (named != NULL && named[0] == '\0')
			named = NULL;
	}
	if (named != NULL) {
		found = lookup(named);
		if (found == NULL)
			return rt_fail_plain("%s %s: %s", source, named,
					     errno == ENOENT ? "not found" : "not an executable file"),
			       -1;
		if (is_self(found)) {
			free(found);
			return rt_fail_plain("%s %s: is " RT_NAME " itself, not a low-level runtime",
					     source, named),
			       -1;
		}
		rt->g.lowlevel = found;
		return 0;
	}
	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++) {
		found = lookup(defaults[i]);
		if (found != NULL && !is_self(found)) {
			rt->g.lowlevel = found;
			return 0;
		}
		free(found);
	}
	return rt_fail_plain("no low-level runtime: neither runc nor crun is on PATH (name one with "
			     "--low-level-runtime or $" ENV_LOWLEVEL ")"),
	       -1;
}

const char *rt_lowlevel_name(const struct rt *rt)
{
	const char *slash;

	if (rt->g.lowlevel == NULL)
		return "the low-level runtime";
	slash = strrchr(rt->g.lowlevel, '/');
	return slash != NULL ? slash + 1 : rt->g.lowlevel;
}

/* [runtime, forwarded globals..., argv..., NULL], from malloc(); the strings are borrowed. */
static char **full_argv(struct rt *rt, int argc, char **argv)
{
	size_t n = 0;
	char **out = calloc(1 + rt->g.n_forward + (size_t)argc + 1, sizeof(*out));

	if (out == NULL)
		return NULL;
	out[n++] = rt->g.lowlevel;
	for (size_t i = 0; i < rt->g.n_forward; i++)
		out[n++] = (char *)rt->g.forward[i];
	for (int i = 0; i < argc; i++)
		out[n++] = argv[i];
	out[n] = NULL;
	return out;
}

static void log_command(char **args)
{
	char line[1024];
	size_t used = 0;

	line[0] = '\0';
	for (size_t i = 0; args[i] != NULL && used < sizeof(line); i++)
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s", i ? " " : "",
					 args[i]);
	rt_log(EBCC_LOG_DEBUG, "running %s", line);
}

int rt_lowlevel_exec(struct rt *rt, int argc, char **argv)
{
	char **args;

	if (rt_lowlevel_find(rt) < 0)
		return RT_EXIT_FAIL;
	args = full_argv(rt, argc, argv);
	if (args == NULL)
		return rt_fail_plain("%s: out of memory", argv[0]);
	log_command(args);
	fflush(NULL);
	execv(rt->g.lowlevel, args);
	rt_fail_plain("%s: running %s: %s", argv[0], rt->g.lowlevel, strerror(errno));
	free(args);
	return RT_EXIT_FAIL;
}

/* In the child: the signal state a freshly started program expects (a caller such as `run`
 * blocks signals to read them from a signalfd), then the runtime. */
__attribute__((noreturn)) static void child_exec(const char *path, char **args, int out_fd)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int signo = 1; signo < NSIG; signo++)
		if (signo != SIGKILL && signo != SIGSTOP)
			signal(signo, SIG_DFL);
	if (out_fd >= 0 && dup2(out_fd, STDOUT_FILENO) < 0)
		_exit(127);
	execv(path, args);
	dprintf(STDERR_FILENO, RT_NAME ": running %s: %s\n", path, strerror(errno));
	_exit(127);
}

/* Reads fd to its end into *ret (NUL-terminated): 0, an errno value, or EFBIG past
 * OUTPUT_MAX bytes. */
static int read_output(int fd, char **ret)
{
	size_t len = 0, size = 0;
	char *data = NULL;

	for (;;) {
		ssize_t n;

		if (len + 1 >= size) {
			char *grown;

			if (size > OUTPUT_MAX) {
				free(data);
				return EFBIG;
			}
			size = size ? 2 * size : 4096;
			grown = realloc(data, size + 1);
			if (grown == NULL) {
				free(data);
				return ENOMEM;
			}
			data = grown;
		}
		n = read(fd, data + len, size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;

			free(data);
			return saved;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	data[len] = '\0';
	*ret = data;
	return 0;
}

/* The exit code of a wait status, as a shell gives it. */
static int exit_code(struct rt *rt, const char *verb, int status)
{
	if (WIFEXITED(status)) {
		rt_log(EBCC_LOG_DEBUG, "%s %s exited with %d", rt_lowlevel_name(rt), verb,
		       WEXITSTATUS(status));
		return WEXITSTATUS(status);
	}
	rt_log(EBCC_LOG_DEBUG, "%s %s ended by signal %d", rt_lowlevel_name(rt), verb,
	       WTERMSIG(status));
	return 128 + WTERMSIG(status);
}

int rt_lowlevel_run(struct rt *rt, int argc, char **argv, char **ret_out)
{
	int pipe_fds[2] = { -1, -1 }, status, read_err = 0, saved;
	char **args, *out = NULL;
	pid_t child;

	if (rt_lowlevel_find(rt) < 0)
		return -1;
	args = full_argv(rt, argc, argv);
	if (args == NULL)
		return rt_fail_plain("%s: out of memory", argv[0]), -1;
	if (ret_out != NULL && pipe2(pipe_fds, O_CLOEXEC) < 0) {
		free(args);
		return rt_fail_plain("%s: pipe: %s", argv[0], strerror(errno)), -1;
	}
	log_command(args);
	fflush(NULL);
	child = fork();
	if (child == 0)
		child_exec(rt->g.lowlevel, args, pipe_fds[1]);
	saved = errno;
	free(args);
	if (pipe_fds[1] >= 0)
		close(pipe_fds[1]);
	if (child < 0) {
		if (pipe_fds[0] >= 0)
			close(pipe_fds[0]);
		return rt_fail_plain("%s: fork: %s", argv[0], strerror(saved)), -1;
	}
	if (ret_out != NULL) {
		read_err = read_output(pipe_fds[0], &out);
		close(pipe_fds[0]);
	}
	while (waitpid(child, &status, 0) < 0) {
		if (errno != EINTR) {
			free(out);
			return rt_fail_plain("%s: waiting for %s: %s", argv[0], rt_lowlevel_name(rt),
					     strerror(errno)),
			       -1;
		}
	}
	if (read_err != 0)
		return rt_fail_plain("%s: reading the output of %s: %s", argv[0],
				     rt_lowlevel_name(rt),
				     read_err == EFBIG ? "more than 4 MiB" : strerror(read_err)),
		       -1;
	if (ret_out != NULL)
		*ret_out = out;
	return exit_code(rt, argv[0], status);
}

int rt_lowlevel_state(struct rt *rt, const char *id, struct json_object **ret)
{
	char *verb_args[] = { (char *)"state", (char *)id };
	struct json_object *state;
	char *out = NULL;
	int r = rt_lowlevel_run(rt, 2, verb_args, &out);

	if (r != 0) {
		free(out);
		return r;
	}
	state = json_tokener_parse(out);
	free(out);
	if (state == NULL || !json_object_is_type(state, json_type_object)) {
		json_object_put(state);
		return rt_fail_plain("state %s: %s printed a state that is not a JSON object", id,
				     rt_lowlevel_name(rt)),
		       -1;
	}
	*ret = state;
	return 0;
}
