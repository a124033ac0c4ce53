/* SPDX-License-Identifier: MIT */
/*
 * The stage's child, which runs only async-signal-safe code from the plan until it executes the
 * image, and the launcher that clones it at the first namespace level the kernel allows, sets
 * its limits and records its pid (see sandbox.c for the protocol of the status pipe).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "ebcc-base.h"
#include "sandbox-plan.h"

/*
 * Descriptors in the child just before exec: 0-2 /dev/null, 3 the channel, 4 the stage's
 * attestation primitive (or nothing), 5 the go pipe, 6 the status pipe and the image at the
 * stage's RLIMIT_NOFILE value: a descriptor number the stage can never hold, so that the
 * execveat() the seccomp filter allows for the image is unreachable once the stage runs.
 * Everything else is closed.
 */
#define CHILD_GO_FD 5
#define CHILD_STATUS_FD 6
#define CHILD_FIRST_FREE_FD 7
#define MIN_FILES 8


static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(text);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, len);
	if (n != (ssize_t)len) {
		int e = n < 0 ? errno : EIO;

		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

static int close_range_fds(unsigned first, unsigned last)
{
	if (syscall(SYS_close_range, first, last, 0) == 0)
		return 0;
	if (errno != ENOSYS)
		return -1;
	for (unsigned fd = first; fd <= last && fd < 65536; fd++)
		(void)close((int)fd);
	return 0;
}

/* Whether the launcher sets the child's limits and lets it go on: needed to record a warm
 * stage's pid before it runs, and under valgrind, which emulates setrlimit() for its guest.
 * Otherwise the child sets its own and is spared a round trip. */
static bool launcher_sets_limits(const struct plan *p)
{
	return p->valgrind || p->record_name != NULL;
}

/* The limits, set by the child on itself (async-signal-safe). */
static int set_own_limits(const struct plan *p)
{
	if (setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 }) < 0 ||
	    setrlimit(RLIMIT_NOFILE, &p->nofile) < 0 ||
	    (p->set_as && setrlimit(RLIMIT_AS, &p->as) < 0) ||
	    (p->set_cpu && setrlimit(RLIMIT_CPU, &p->cpu) < 0))
		return -1;
	return 0;
}

/* A parked child's copy of its plan, completed with what it was handed. */
struct parked {
	struct plan plan;
	struct park_msg msg;
};

/*
 * A pooled child, its namespaces made: holds nothing of the embedder's but the park socket
 * (then descriptor 3), its status pipe (4) and /dev/null (0-2, 5), says it is ready and waits
 * for what to run. End of file (the pool was drained) ends it. Async-signal-safe.
 */
static void park(const struct plan *p, int status_fd, struct parked *ret)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(3 * sizeof(int))];
	} control;
	struct ebcc__spawn_record ready = { .kind = EBCC_SPAWN_READY };
	struct iovec iov = { .iov_base = &ret->msg, .iov_len = sizeof(ret->msg) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.buf,
			      .msg_controllen = sizeof(control.buf) };
	int ctl = fcntl(p->park_fd, F_DUPFD_CLOEXEC, 10);
	int st = fcntl(status_fd, F_DUPFD_CLOEXEC, 10);
	int nul = fcntl(p->devnull_fd, F_DUPFD_CLOEXEC, 10);
	struct cmsghdr *c;
	int fds[3] = { -1, -1, -1 }, want;
	ssize_t n;

	if (ctl < 0 || st < 0 || nul < 0 || dup3(st, 4, O_CLOEXEC) < 0)
		ebcc__spawn_fail(st >= 0 ? st : status_fd, STEP_PARK);
	if (dup3(ctl, 3, O_CLOEXEC) < 0 || dup3(nul, 5, O_CLOEXEC) < 0 || dup2(nul, 0) < 0 ||
	    dup2(nul, 1) < 0 || dup2(nul, 2) < 0 || close_range_fds(6, ~0U) < 0)
		ebcc__spawn_fail(4, STEP_PARK);
	ebcc__spawn_send(4, &ready);
	do
		n = recvmsg(3, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n == 0)
		_exit(0); /* never used: the pool is gone */
	want = n == (ssize_t)sizeof(ret->msg) && ret->msg.has_attest ? 3 : 2;
	c = n == (ssize_t)sizeof(ret->msg) ? CMSG_FIRSTHDR(&msg) : NULL;
	if (c == NULL || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
	    c->cmsg_len != CMSG_LEN((size_t)want * sizeof(int)) || (msg.msg_flags & MSG_CTRUNC)) {
		errno = EPROTO;
		ebcc__spawn_fail(4, STEP_PARK);
	}
	memcpy(fds, CMSG_DATA(c), (size_t)want * sizeof(int));
	close(3);
	ret->plan = *p;
	ret->plan.park_fd = -1;
	ret->plan.image_fd = fds[0];
	ret->plan.channel_fd = fds[1];
	ret->plan.attest_fd = fds[2];
	ret->plan.devnull_fd = 5;
	ret->plan.as = ret->msg.as;
	ret->plan.set_as = ret->msg.set_as;
	ret->plan.cpu = ret->msg.cpu;
	ret->plan.set_cpu = ret->msg.set_cpu;
	ret->msg.argv0[sizeof(ret->msg.argv0) - 1] = '\0';
	ret->plan.argv[0] = ret->msg.argv0;
}

__attribute__((noreturn)) static void child_main(const struct plan *p, unsigned long flags,
						 int status_fd, int go_fd)
{
	struct parked parked;
	struct ebcc__spawn_record ready = { .kind = EBCC_SPAWN_READY };
	char go;
	int gfd;
	struct __user_cap_header_struct cap_header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct cap_data[_LINUX_CAPABILITY_U32S_3];
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int img, chan, nul, st, att;

	if (flags & JOIN_SHARED_NET) {
		if (setns(p->shared_net_fd, CLONE_NEWNET) < 0)
			ebcc__spawn_fail(status_fd, STEP_JOIN_NET);
		if (unshare(CLONE_NEWUSER) < 0)
			ebcc__spawn_fail(status_fd, STEP_UNSHARE_USER);
		flags |= CLONE_NEWUSER; /* the maps below are written the same way */
	}
	if (flags & CLONE_NEWUSER) {
		if (write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
			ebcc__spawn_fail(status_fd, STEP_SETGROUPS);
		if (write_file("/proc/self/uid_map", p->uid_map) < 0)
			ebcc__spawn_fail(status_fd, STEP_UID_MAP);
		if (write_file("/proc/self/gid_map", p->gid_map) < 0)
			ebcc__spawn_fail(status_fd, STEP_GID_MAP);
	}
	if (setsid() < 0)
		ebcc__spawn_fail(status_fd, STEP_SETSID);
	if (!p->detach && prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		ebcc__spawn_fail(status_fd, STEP_PDEATHSIG);

	/* Ignored signals and the mask survive exec: start the stage with neither. */
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		ebcc__spawn_fail(status_fd, STEP_SIGNALS);
	if (p->park_fd >= 0) {
		park(p, status_fd, &parked);
		p = &parked.plan;
		status_fd = 4;
		go_fd = 5; /* unused: a parked child sets its own limits */
	}

	/* Park every descriptor above the image's slot, then put each where the stage expects
	 * it and close the rest. */
	img = fcntl(p->image_fd, F_DUPFD_CLOEXEC, p->child_image_fd + 1);
	chan = fcntl(p->channel_fd, F_DUPFD_CLOEXEC, p->child_image_fd + 1);
	nul = fcntl(p->devnull_fd, F_DUPFD_CLOEXEC, p->child_image_fd + 1);
	st = fcntl(status_fd, F_DUPFD_CLOEXEC, p->child_image_fd + 1);
	gfd = fcntl(go_fd, F_DUPFD_CLOEXEC, p->child_image_fd + 1);
	att = p->attest_fd >= 0 ? fcntl(p->attest_fd, F_DUPFD_CLOEXEC, p->child_image_fd + 1) : -1;
	if (img < 0 || chan < 0 || nul < 0 || st < 0 || gfd < 0 || (p->attest_fd >= 0 && att < 0))
		ebcc__spawn_fail(status_fd, STEP_FDS);
	status_fd = st;
	if (dup3(st, CHILD_STATUS_FD, O_CLOEXEC) < 0)
		ebcc__spawn_fail(status_fd, STEP_FDS);
	status_fd = CHILD_STATUS_FD;
	if (dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(nul, 2) < 0 ||
	    dup2(chan, EBCC_SANDBOX_CHANNEL_FD) < 0 ||
	    (att >= 0 ? dup2(att, EBCC_SANDBOX_ATTEST_FD)
		      : close_range_fds(EBCC_SANDBOX_ATTEST_FD, EBCC_SANDBOX_ATTEST_FD)) < 0 ||
	    dup3(gfd, CHILD_GO_FD, O_CLOEXEC) < 0 ||
	    dup3(img, p->child_image_fd, O_CLOEXEC) < 0 ||
	    close_range_fds(CHILD_FIRST_FREE_FD, (unsigned)p->child_image_fd - 1) < 0 ||
	    close_range_fds((unsigned)p->child_image_fd + 1, ~0U) < 0)
		ebcc__spawn_fail(status_fd, STEP_FDS);

	/* RLIMIT_NOFILE goes below the descriptors just arranged. When the launcher sets the
	 * limits (with prlimit(), from outside), wait for it. */
	if (launcher_sets_limits(p)) {
		ebcc__spawn_send(status_fd, &ready);
		while (read(CHILD_GO_FD, &go, 1) != 1)
			if (errno != EINTR)
				_exit(127); /* the launcher is gone */
	} else if (set_own_limits(p) < 0) {
		ebcc__spawn_fail(status_fd, STEP_RLIMIT);
	}

	/* No capabilities now; with no_new_privs an exec cannot grant any, not even to uid 0. */
	memset(cap_data, 0, sizeof(cap_data));
	if (syscall(SYS_capset, &cap_header, cap_data) < 0)
		ebcc__spawn_fail(status_fd, STEP_CAPS);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		ebcc__spawn_fail(status_fd, STEP_NO_NEW_PRIVS);
	if ((p->valgrind || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p->prog) < 0) &&
	    ((!p->valgrind && errno != ENOSYS) ||
	     prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p->prog) < 0))
		ebcc__spawn_fail(status_fd, STEP_SECCOMP);
	if (p->probe_only)
		_exit(0);

	if (p->valgrind) /* it emulates execveat() by the descriptor's path: none for a memfd */
		execve(p->exec_path, p->argv, p->envp);
	else
		syscall(SYS_execveat, p->child_image_fd, ebcc__sandbox_empty_path, p->argv, p->envp,
			AT_EMPTY_PATH);
	ebcc__spawn_fail(status_fd, STEP_EXEC);
}

static struct ebcc__spawn_record failed_at(int step, int err)
{
	return (struct ebcc__spawn_record){ .kind = EBCC_SPAWN_FAIL, .step = step, .err = err };
}

static bool level_unsupported(int err)
{
	return err == EPERM || err == EINVAL || err == ENOSPC || err == EUSERS || err == EACCES ||
	       err == ENOSYS;
}

static bool step_is_namespace(int step)
{
	return step == STEP_SETGROUPS || step == STEP_UID_MAP || step == STEP_GID_MAP ||
	       step == STEP_JOIN_NET || step == STEP_UNSHARE_USER;
}

void ebcc__sandbox_wait_pid(pid_t pid, int *ret_status)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (ret_status != NULL)
		*ret_status = status;
}

/* Appends the decimal digits of v (async-signal-safe). */
static size_t put_u64(char *buf, uint64_t v)
{
	char tmp[24];
	size_t n = 0, len = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	while (n > 0)
		buf[len++] = tmp[--n];
	return len;
}

/*
 * Writes "<pid> <start time>\n" as the plan's record file (temporary name, then rename), so
 * that the stage is never running unrecorded, even when the process that loads it dies before
 * it has recorded the stage itself (async-signal-safe: it runs in the launcher).
 */
static int write_pid_record(const struct plan *p, pid_t pid)
{
	char path[64], buf[1024], line[64];
	size_t len = 0, field = 0;
	const char *c = NULL;
	uint64_t start = 0;
	ssize_t n;
	int fd;

	memcpy(path, "/proc/", 6);
	len = 6 + put_u64(path + 6, (uint64_t)pid);
	memcpy(path + len, "/stat", 6);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* Field 22, counted after the command name's closing parenthesis (field 2). */
	for (const char *q = buf; *q != '\0'; q++)
		if (*q == ')')
			c = q;
	for (field = 2; c != NULL && *c != '\0' && field < 22; c++)
		if (*c == ' ')
			field++;
	if (c == NULL || field != 22 || *c < '0' || *c > '9') {
		errno = EIO;
		return -1;
	}
	for (; *c >= '0' && *c <= '9'; c++)
		start = start * 10 + (uint64_t)(*c - '0');
	len = put_u64(line, (uint64_t)pid);
	line[len++] = ' ';
	len += put_u64(line + len, start);
	line[len++] = '\n';
	fd = openat(p->record_dir_fd, p->record_tmp,
		    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -1;
	n = write(fd, line, len);
	if (n != (ssize_t)len) {
		int e = n < 0 ? errno : EIO;

		close(fd);
		unlinkat(p->record_dir_fd, p->record_tmp, 0);
		errno = e;
		return -1;
	}
	if (close(fd) < 0 || renameat(p->record_dir_fd, p->record_tmp, p->record_dir_fd,
				      p->record_name) < 0) {
		int e = errno;

		unlinkat(p->record_dir_fd, p->record_tmp, 0);
		errno = e;
		return -1;
	}
	return 0;
}

/* The child's resource limits, set from outside (async-signal-safe). Under valgrind the
 * child runs as valgrind's guest until its exec, and valgrind must still map memory of its
 * own there: its address-space limit is set once the image runs (set_as_after_exec). */
static int set_limits(const struct plan *p, pid_t pid)
{
	if (prlimit(pid, RLIMIT_CORE, &(struct rlimit){ 0, 0 }, NULL) < 0 ||
	    prlimit(pid, RLIMIT_NOFILE, &p->nofile, NULL) < 0 ||
	    (p->set_as && !p->valgrind && prlimit(pid, RLIMIT_AS, &p->as, NULL) < 0) ||
	    (p->set_cpu && prlimit(pid, RLIMIT_CPU, &p->cpu, NULL) < 0))
		return -1;
	return 0;
}

static int set_as_after_exec(const struct plan *p, pid_t pid)
{
	return p->valgrind && p->set_as ? prlimit(pid, RLIMIT_AS, &p->as, NULL) : 0;
}

/*
 * Clones the stage at the first namespace level that works, from first_level on. Async-signal
 * safe (it also runs in the intermediate process). 0 and *ret_pid, *ret_level; or -1 with *fail.
 */
static int launch_at(const struct plan *p, int first_level, pid_t *ret_pid, int *ret_level,
		     int *ret_status_fd, struct ebcc__spawn_record *fail)
{
	int last_err = 0;

	for (int level = first_level; level < (int)EBCC_SANDBOX_NS_LEVELS; level++) {
		struct ebcc__spawn_record rec = { 0 };
		int status_pipe[2], go_pipe[2];
		bool ready;
		ssize_t n;
		pid_t pid;

		if ((ebcc__sandbox_ns_levels[level] & JOIN_SHARED_NET) && p->shared_net_fd < 0)
			continue;

		if (pipe2(status_pipe, O_CLOEXEC) < 0) {
			*fail = failed_at(STEP_PIPE, errno);
			return -1;
		}
		if (pipe2(go_pipe, O_CLOEXEC) < 0) {
			*fail = failed_at(STEP_PIPE, errno);
			close(status_pipe[0]);
			close(status_pipe[1]);
			return -1;
		}
		if (p->zygote && level != first_level)
			break;
		pid = ebcc__spawn_clone((ebcc__sandbox_ns_levels[level] & ~JOIN_SHARED_NET) |
					(p->zygote ? CLONE_PARENT : 0));
		if (pid == 0) {
			close(status_pipe[0]);
			close(go_pipe[1]);
			child_main(p, ebcc__sandbox_ns_levels[level], status_pipe[1], go_pipe[0]);
		}
		last_err = errno;
		close(status_pipe[1]);
		close(go_pipe[0]);
		if (pid < 0) {
			close(status_pipe[0]);
			close(go_pipe[1]);
			if (level_unsupported(last_err))
				continue;
			*fail = failed_at(STEP_CLONE, last_err);
			return -1;
		}
		n = ebcc__spawn_read(status_pipe[0], -1, &rec);
		ready = n == (ssize_t)sizeof(rec) && rec.kind == EBCC_SPAWN_READY;
		if (p->park_fd >= 0) {
			if (ready) {
				close(go_pipe[1]);
				*ret_status_fd = status_pipe[0];
				*ret_pid = pid;
				*ret_level = level;
				return 0;
			}
			if (n == 0)
				n = -1; /* died before it was parked */
		} else if (!launcher_sets_limits(p)) {
			/* The child set its own limits: end of file means the exec happened. */
		} else if (ready) {
			if (set_limits(p, pid) < 0) {
				rec = failed_at(STEP_RLIMIT, errno);
				(void)kill(pid, SIGKILL);
			} else if (p->record_name != NULL && write_pid_record(p, pid) < 0) {
				rec = failed_at(STEP_PID_RECORD, errno);
				(void)kill(pid, SIGKILL);
			} else {
				/* End of file now means the exec happened. */
				(void)!write(go_pipe[1], "", 1);
				n = ebcc__spawn_read(status_pipe[0], -1, &rec);
			}
		} else if (n == 0) {
			n = -1; /* died before it was ready */
		}
		close(go_pipe[1]);
		close(status_pipe[0]);
		if (n == 0 && !p->probe_only && set_as_after_exec(p, pid) < 0) {
			rec = failed_at(STEP_RLIMIT, errno);
			(void)kill(pid, SIGKILL);
			ebcc__sandbox_wait_pid(pid, NULL);
			*fail = rec;
			return -1;
		}
		if (n == 0 && !p->probe_only) {
			*ret_pid = pid;
			*ret_level = level;
			return 0;
		}
		if (p->probe_only) {
			int status;

			ebcc__sandbox_wait_pid(pid, &status);
			if (n == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
				*ret_pid = pid;
				*ret_level = level;
				return 0;
			}
		} else {
			ebcc__sandbox_wait_pid(pid, NULL);
		}
		if (n != (ssize_t)sizeof(rec) || rec.kind != EBCC_SPAWN_FAIL)
			rec = failed_at(STEP_NONE, EIO);
		last_err = rec.err;
		if (step_is_namespace(rec.step) && level + 1 < (int)EBCC_SANDBOX_NS_LEVELS &&
		    !p->zygote)
			continue;
		rec.pid = pid; /* a zygote's child is the embedder's to reap */
		*fail = rec;
		return -1;
	}
	*fail = failed_at(STEP_CLONE, last_err);
	return -1;
}

int ebcc__sandbox_launch(const struct plan *p, int first_level, pid_t *ret_pid, int *ret_level,
			 struct ebcc__spawn_record *fail)
{
	return launch_at(p, first_level, ret_pid, ret_level, NULL, fail);
}

int ebcc__sandbox_launch_parked(const struct plan *p, int first_level, pid_t *ret_pid,
				int *ret_level, int *ret_status_fd, struct ebcc__spawn_record *fail)
{
	return launch_at(p, first_level, ret_pid, ret_level, ret_status_fd, fail);
}

/* The intermediate process of a detached stage. */
void ebcc__sandbox_middle_main(const struct plan *p, int result_fd, int go_fd)
{
	struct ebcc__spawn_record rec = { 0 };
	pid_t pid = -1;
	int level = 0;
	sigset_t all;
	char go;

	/* The embedder's signal handlers are still installed here: let none of them run. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);

	if (ebcc__sandbox_launch(p, 0, &pid, &level, &rec) == 0)
		rec = (struct ebcc__spawn_record){ .kind = EBCC_SPAWN_SPAWNED, .pid = pid,
						   .level = level };
	ebcc__spawn_send(result_fd, &rec);
	close(result_fd);
	/* Until the parent has read the stage's start time, a stage that died at once stays a
	 * zombie of ours and its pid cannot be reused. */
	while (read(go_fd, &go, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}
