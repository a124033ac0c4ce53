/* SPDX-License-Identifier: MIT */
/*
 * The REE anchor when the library runs it: a detached monitor process forks the anchor, which
 * prepares its process (rlimits, user, cwd) and then blocks on a FIFO in the instance
 * directory until ebcc_instance_start() opens it, like runc's exec FIFO. The monitor reaps the
 * anchor and writes its exit status to the instance directory, so that any process can wait.
 *
 * Between fork() and exec() only async-signal-safe calls are made: the embedder may be
 * multithreaded. Everything the children need is prepared before forking.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>

#include <json-c/json.h>

#include "ebcc-private.h"

#define FIFO_NAME "anchor.fifo"
#define EXIT_NAME "exit"
#define EXIT_TMP_NAME ".exit.tmp"
#define SETUP_TIMEOUT_MS 10000
#define GATE_GO 'G'
#define GATE_STOP 'S'
#define EXIT_NOT_STARTED 125 /* the anchor ended at its gate */

/* Messages from the monitor and the anchor to the creating process, each one write(). */
struct report {
	char type;       /* 'M': monitor started the anchor; 'R': anchor ready; 'E': failed */
	char step;       /* for 'E': what failed */
	int err;         /* for 'E': errno */
	pid_t monitor;   /* for 'M' */
	pid_t anchor;    /* for 'M' */
};

enum setup_step {
	STEP_FORK = 'f',
	STEP_RLIMIT = 'l',
	STEP_USER = 'u',
	STEP_CWD = 'c',
	STEP_NNP = 'n',
};

static const char *step_name(char step)
{
	switch (step) {
	case STEP_FORK:
		return "fork";
	case STEP_RLIMIT:
		return "setrlimit (process.rlimits)";
	case STEP_USER:
		return "setgroups/setgid/setuid (process.user)";
	case STEP_CWD:
		return "chdir (process.cwd)";
	case STEP_NNP:
		return "prctl(PR_SET_NO_NEW_PRIVS)";
	default:
		return "setup";
	}
}

/* ---- async-signal-safe helpers --------------------------------------------------------- */

static void report_send(int fd, const struct report *m)
{
	ssize_t n;

	do
		n = write(fd, m, sizeof(*m));
	while (n < 0 && errno == EINTR);
}

static _Noreturn void fail_child(int report_fd, char step)
{
	struct report m = { .type = 'E', .step = step, .err = errno };

	report_send(report_fd, &m);
	_exit(127);
}

static size_t format_int(char *buf, long long v)
{
	char tmp[24];
	size_t n = 0, len = 0;
	bool neg = v < 0;
	unsigned long long u = neg ? (unsigned long long)(-(v + 1)) + 1 : (unsigned long long)v;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (neg)
		buf[len++] = '-';
	while (n > 0)
		buf[len++] = tmp[--n];
	return len;
}

/* Writes {"exitStatus":N} atomically as dir_fd/exit. Async-signal-safe. */
static int write_exit_record(int dir_fd, int status, bool durable)
{
	static const char head[] = "{\"exitStatus\":";
	char buf[64];
	size_t len = sizeof(head) - 1;
	int fd, r = 0;

	memcpy(buf, head, len);
	len += format_int(buf + len, status);
	buf[len++] = '}';
	buf[len++] = '\n';
	fd = openat(dir_fd, EXIT_TMP_NAME, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		    0600);
	if (fd < 0)
		return -errno;
	if (ebcc__write_all(fd, buf, len) < 0 || (durable && fsync(fd) < 0))
		r = -errno;
	close(fd);
	if (r == 0 && renameat(dir_fd, EXIT_TMP_NAME, dir_fd, EXIT_NAME) < 0)
		r = -errno;
	if (r == 0 && durable)
		fsync(dir_fd);
	return r;
}

static void reset_signals(void)
{
	struct sigaction sa = { .sa_handler = SIG_DFL };
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL); /* fails harmlessly for SIGKILL, SIGSTOP */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* In the monitor and the anchor: the instance directory is fd 3, the report pipe fd 4. */
#define CHILD_DIR_FD 3
#define CHILD_REPORT_FD 4

static _Noreturn void run_anchor(const struct ebcc_anchor_spawn *a, int report_fd)
{
	struct report ready = { .type = 'R' };
	char byte = 0;
	ssize_t n;
	int fifo;

	reset_signals();
	for (size_t i = 0; i < a->n_rlimits; i++) {
		struct rlimit rl = { .rlim_cur = a->rlimits[i].soft, .rlim_max = a->rlimits[i].hard };

		if (setrlimit(a->rlimits[i].resource, &rl) < 0)
			fail_child(report_fd, STEP_RLIMIT);
	}
	if (a->set_user && (setgroups(a->n_gids, a->gids) < 0 || setgid(a->gid) < 0 ||
			    setuid(a->uid) < 0))
		fail_child(report_fd, STEP_USER);
	if (chdir(a->cwd) < 0)
		fail_child(report_fd, STEP_CWD);
	if (a->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail_child(report_fd, STEP_NNP);
	/* The directory and the report pipe must not reach the program. */
	fcntl(CHILD_DIR_FD, F_SETFD, FD_CLOEXEC);

	report_send(report_fd, &ready);
	close(report_fd);
	/* The gate: blocks until a writer opens the FIFO, then takes one byte: GATE_GO from
	 * ebcc_instance_start() runs the program; anything else (GATE_STOP from a forced delete,
	 * or end of file) ends the anchor before the program ever ran. */
	do
		fifo = openat(CHILD_DIR_FD, FIFO_NAME, O_RDONLY | O_CLOEXEC);
	while (fifo < 0 && errno == EINTR);
	if (fifo < 0)
		_exit(127);
	do
		n = read(fifo, &byte, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1 || byte != GATE_GO)
		_exit(EXIT_NOT_STARTED);
	close(fifo);
	execve(a->path, a->argv, a->envp);
	_exit(127);
}

/* Moves fd to target (which may be taken by something we no longer need). */
static int move_fd(int fd, int target)
{
	if (fd == target)
		return fcntl(fd, F_SETFD, 0);
	return dup2(fd, target);
}

static _Noreturn void run_monitor(const struct ebcc_anchor_spawn *a, int report_fd)
{
	struct report started = { .type = 'M' };
	int status = 0, devnull, dir_fd, report;
	pid_t anchor;

	setsid();
	prctl(PR_SET_NAME, "ebcc-monitor", 0, 0, 0);
	/* Hold nothing of the embedder's (its lock descriptors above all): only stdio for the
	 * anchor, the instance directory and the report pipe, at fixed numbers. */
	dir_fd = fcntl(a->dir_fd, F_DUPFD_CLOEXEC, 10);
	report = fcntl(report_fd, F_DUPFD_CLOEXEC, 10);
	if (dir_fd < 0 || report < 0 || move_fd(dir_fd, CHILD_DIR_FD) < 0 ||
	    move_fd(report, CHILD_REPORT_FD) < 0)
		fail_child(report_fd, STEP_FORK);
	syscall(SYS_close_range, CHILD_REPORT_FD + 1, ~0U, 0);

	anchor = fork();
	if (anchor < 0)
		fail_child(CHILD_REPORT_FD, STEP_FORK);
	if (anchor == 0)
		run_anchor(a, CHILD_REPORT_FD);
	started.monitor = getpid();
	started.anchor = anchor;
	report_send(CHILD_REPORT_FD, &started);
	close(CHILD_REPORT_FD);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
		close(devnull);
	}

	while (waitpid(anchor, &status, 0) < 0)
		if (errno != EINTR)
			_exit(1);
	write_exit_record(CHILD_DIR_FD, status, a->durable);
	_exit(0);
}

/* ---- the creating process --------------------------------------------------------------- */

static int read_report(int fd, struct report *m)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int r;

	do
		r = poll(&p, 1, SETUP_TIMEOUT_MS);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return ebcc__error(EBCC_ERR_TIMEOUT, "the anchor did not report within %d ms",
				   SETUP_TIMEOUT_MS);
	do
		n = read(fd, m, sizeof(*m));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*m))
		return ebcc__error(EBCC_ERR_IO, "the anchor's monitor exited before reporting");
	return 0;
}

int ebcc__anchor_spawn(const struct ebcc_anchor_spawn *a, struct ebcc_anchor_pids *ret)
{
	struct report m;
	int pipefd[2], status, r;
	pid_t middle;

	if (mkfifoat(a->dir_fd, FIFO_NAME, 0600) < 0)
		return ebcc__error_errno(ebcc__error_from_errno(errno), errno, "mkfifo %s",
					 FIFO_NAME);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "pipe");

	/* Fork twice so that the monitor is not our child: the embedder never has to reap it. */
	middle = fork();
	if (middle < 0) {
		r = ebcc__error_errno(EBCC_ERR_IO, errno, "fork");
		close(pipefd[0]);
		close(pipefd[1]);
		return r;
	}
	if (middle == 0) {
		pid_t monitor;

		close(pipefd[0]);
		monitor = fork();
		if (monitor < 0)
			fail_child(pipefd[1], STEP_FORK);
		if (monitor == 0)
			run_monitor(a, pipefd[1]);
		_exit(0);
	}
	close(pipefd[1]);
	while (waitpid(middle, &status, 0) < 0 && errno == EINTR)
		;

	/* Two reports arrive in either order: the monitor's 'M' and the anchor's 'R' or 'E'. */
	*ret = (struct ebcc_anchor_pids){ 0 };
	r = 0;
	for (bool have_monitor = false, have_ready = false; r == 0 && !(have_monitor && have_ready);) {
		r = read_report(pipefd[0], &m);
		if (r < 0)
			break;
		switch (m.type) {
		case 'M':
			have_monitor = true;
			ret->monitor = m.monitor;
			ret->anchor = m.anchor;
			break;
		case 'R':
			have_ready = true;
			break;
		case 'E':
			r = ebcc__error_errno(m.err == EACCES || m.err == EPERM
						      ? EBCC_ERR_PERMISSION
						      : EBCC_ERR_INVALID_ARG,
					      m.err, "starting the anchor: %s failed",
					      step_name(m.step));
			break;
		default:
			r = ebcc__error(EBCC_ERR_IO, "starting the anchor: unexpected report");
		}
	}
	close(pipefd[0]);
	if (r == 0 && (ebcc__proc_start_time(ret->anchor, &ret->anchor_start) < 0 ||
		       ebcc__proc_start_time(ret->monitor, &ret->monitor_start) < 0))
		r = ebcc__error(EBCC_ERR_IO, "the anchor (pid %d) exited during creation",
				(int)ret->anchor);
	if (r < 0) {
		if (ret->anchor > 0)
			kill(ret->anchor, SIGKILL);
		unlinkat(a->dir_fd, FIFO_NAME, 0);
	}
	return r;
}

/* Writes one byte to the gate, retrying while the anchor is alive but not yet waiting. */
static int open_gate(int dir_fd, pid_t anchor, uint64_t anchor_start, char byte, int timeout_ms)
{
	for (int waited = 0;; waited += 10) {
		int fd = openat(dir_fd, FIFO_NAME, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);

		if (fd >= 0) {
			ssize_t n = write(fd, &byte, 1);

			close(fd);
			if (n == 1)
				return 0;
			return ebcc__error_errno(EBCC_ERR_IO, errno, "write to the anchor's gate");
		}
		if (errno != ENXIO)
			return ebcc__error_errno(errno == ENOENT ? EBCC_ERR_STATE : EBCC_ERR_CORRUPT,
						 errno, "open the anchor's gate %s", FIFO_NAME);
		/* ENXIO: nobody reads yet. The anchor may be just about to. */
		if ((anchor > 0 && !ebcc__proc_alive(anchor, anchor_start)) || waited >= timeout_ms)
			return ebcc__error(EBCC_ERR_STATE, "the anchor (pid %d) is not waiting at its "
					   "start gate",
					   (int)anchor);
		usleep(10000);
	}
}

int ebcc__anchor_release(int dir_fd, pid_t anchor, uint64_t anchor_start, int timeout_ms)
{
	int r;

	if (!ebcc__proc_alive(anchor, anchor_start))
		return ebcc__error(EBCC_ERR_STATE, "the anchor (pid %d) is no longer running",
				   (int)anchor);
	r = open_gate(dir_fd, anchor, anchor_start, GATE_GO, timeout_ms);
	if (r == 0)
		unlinkat(dir_fd, FIFO_NAME, 0);
	return r;
}

void ebcc__anchor_stop_at_gate(int dir_fd)
{
	/* Best effort, for forced deletion: nobody waiting is fine. */
	if (open_gate(dir_fd, 0, 0, GATE_STOP, 0) == 0)
		unlinkat(dir_fd, FIFO_NAME, 0);
}

int ebcc__exit_record_write(int dir_fd, int status, bool durable)
{
	int r = write_exit_record(dir_fd, status, durable);

	return r < 0 ? ebcc__error_errno(ebcc__error_from_errno(-r), -r, "write exit record") : 0;
}

int ebcc__exit_record_read(int dir_fd, int *ret_status)
{
	struct json_object *root = NULL, *v;
	_cleanup_free_ char *text = NULL;
	size_t len;
	int r;

	r = ebcc__file_read_at(dir_fd, EXIT_NAME, "exit record", 256, &text, &len);
	if (r < 0)
		return r;
	r = ebcc__json_parse(text, len, EBCC_ERR_CORRUPT, "exit record", &root);
	if (r < 0)
		return r;
	r = ebcc__json_member(root, "exitStatus", json_type_int, true, EBCC_ERR_CORRUPT,
			      "exit record", &v);
	if (r == 0)
		*ret_status = json_object_get_int(v);
	json_object_put(root);
	return r;
}

/* Resolves args[0] like execvp() would, with PATH from the process's own environment. */
int ebcc__anchor_resolve(const struct ebcc_process *p, char **ret_path)
{
	const char *name = p->args[0], *path = NULL;
	char candidate[PATH_MAX];

	if (strchr(name, '/') != NULL) {
		if (name[0] != '/') {
			if ((size_t)snprintf(candidate, sizeof(candidate), "%s/%s", p->cwd, name) >=
			    sizeof(candidate))
				return ebcc__error(EBCC_ERR_TOO_BIG, "process.args[0] is too long");
			name = candidate;
		}
		if (access(name, X_OK) < 0)
			return ebcc__error_errno(ebcc__error_from_errno(errno), errno,
						 "config.json: process.args[0] %s", name);
		*ret_path = strdup(name);
		return *ret_path != NULL ? 0 : ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	for (size_t i = 0; i < p->n_env; i++)
		if (strncmp(p->env[i], "PATH=", 5) == 0)
			path = p->env[i] + 5;
	if (path == NULL)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path != '\0') {
		size_t n = strcspn(path, ":");

		if (n > 0 && (size_t)snprintf(candidate, sizeof(candidate), "%.*s/%s", (int)n, path,
					      name) < sizeof(candidate) &&
		    access(candidate, X_OK) == 0) {
			*ret_path = strdup(candidate);
			return *ret_path != NULL ? 0
						 : ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
		}
		path += n;
		if (*path == ':')
			path++;
	}
	return ebcc__error(EBCC_ERR_NOT_FOUND,
			   "config.json: process.args[0] \"%s\" is not an executable in PATH", name);
}
