/* SPDX-License-Identifier: MIT */
/*
 * Sandboxed stage processes. The parent prepares everything (seccomp program, uid maps as text,
 * limits, argv); the child, created with clone() and new namespaces where allowed, runs only
 * async-signal-safe system calls and ends in execveat() of the image descriptor or _exit(127).
 *
 * A status pipe (close-on-exec) tells the parent how it went: end of file without a record
 * means the image was executed; a FAIL record names the step and errno that failed. For a
 * detached stage an intermediate process does the clone, hands the stage's pid up and exits
 * once the parent has read the stage's start time, so the stage is reparented and outlives us.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <json-c/json.h>
#include <seccomp.h>

#include "ebcc-private.h"
#include "sandbox.h"

/* Descriptors in the child just before exec: 0-2 /dev/null, 3 channel, 4 image, 5 status. */
#define CHILD_IMAGE_FD 4
#define CHILD_STATUS_FD 5
#define CHILD_FIRST_FREE_FD 6
#define CHILD_SCRATCH_FD 16 /* where descriptors are parked while they are rearranged */

/* How long ebcc__sandbox_kill() waits for a SIGKILLed stage that is not our child to go. */
#define KILL_WAIT_MS 5000

/* The only path execveat() may be given; the seccomp filter compares its address. */
static char exec_empty_path[1] = "";

enum step {
	STEP_NONE,
	STEP_CLONE,
	STEP_SETGROUPS,
	STEP_UID_MAP,
	STEP_GID_MAP,
	STEP_SETSID,
	STEP_PDEATHSIG,
	STEP_SIGNALS,
	STEP_FDS,
	STEP_RLIMIT,
	STEP_CAPS,
	STEP_NO_NEW_PRIVS,
	STEP_SECCOMP,
	STEP_EXEC,
	STEP_PIPE,
};

static const char *step_text(int step)
{
	static const char *const text[] = {
		[STEP_NONE] = "setup",
		[STEP_CLONE] = "clone",
		[STEP_SETGROUPS] = "writing /proc/self/setgroups",
		[STEP_UID_MAP] = "writing /proc/self/uid_map",
		[STEP_GID_MAP] = "writing /proc/self/gid_map",
		[STEP_SETSID] = "setsid",
		[STEP_PDEATHSIG] = "prctl(PR_SET_PDEATHSIG)",
		[STEP_SIGNALS] = "resetting signals",
		[STEP_FDS] = "arranging descriptors",
		[STEP_RLIMIT] = "setrlimit",
		[STEP_CAPS] = "dropping capabilities",
		[STEP_NO_NEW_PRIVS] = "prctl(PR_SET_NO_NEW_PRIVS)",
		[STEP_SECCOMP] = "loading the seccomp filter",
		[STEP_EXEC] = "execveat of the stage image",
		[STEP_PIPE] = "creating a pipe",
	};

	return step >= 0 && (size_t)step < EBCC_ARRAY_SIZE(text) && text[step] != NULL
		       ? text[step]
		       : "an unknown step";
}

/* A record on a status pipe. */
enum record_kind {
	RECORD_FAIL = 1,    /* step and err say what failed */
	RECORD_SPAWNED = 2, /* from the intermediate process: pid and level of the stage */
};

struct record {
	int32_t kind;
	int32_t step;
	int32_t err;
	int32_t pid;
	int32_t level;
};

/* The namespace levels, tried in order. */
static const unsigned long ns_levels[] = {
	CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWNS,
	CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWNS,
	0,
};

/* Everything the child needs, prepared before the fork. */
struct plan {
	int image_fd, channel_fd, devnull_fd;
	bool detach;
	bool probe_only; /* stop after the seccomp filter: _exit(0) instead of exec */
	char uid_map[64], gid_map[64];
	struct rlimit as, cpu, nofile;
	bool set_as, set_cpu;
	struct sock_fprog prog;
	char *argv[2];
	char *envp[1];
};

/* ---- the seccomp allow-list --------------------------------------------------------------- */

static int add_rule(scmp_filter_ctx f, uint32_t action, const char *name, unsigned n,
		    const struct scmp_arg_cmp *args)
{
	int nr = seccomp_syscall_resolve_name(name);
	int r;

	if (nr == __NR_SCMP_ERROR || nr < 0)
		return 0; /* not a system call of this architecture */
	r = seccomp_rule_add_array(f, action, nr, n, args);
	if (r < 0)
		return ebcc__error_errno(EBCC_ERR_BACKEND, -r, "seccomp rule for %s", name);
	return 0;
}

/*
 * What a static stage linked with libebcc-stage needs, verified with strace on glibc's static
 * startup: memory (never executable), its channel, time, randomness, signals and exit. Anything
 * else kills the whole process with SIGSYS, except a few harmless probes of libc that fail
 * with an errno instead.
 */
static int build_filter(struct sock_fprog *ret)
{
	static const char *const allowed[] = {
		"read", "write", "readv", "writev", "close", "poll", "ppoll", "getsockopt",
		"shutdown", "brk", "munmap", "mremap", "madvise", "exit", "exit_group",
		"rt_sigreturn", "rt_sigprocmask", "rt_sigaction", "sigaltstack", "clock_gettime",
		"clock_getres", "gettimeofday", "time", "nanosleep", "clock_nanosleep",
		"getrandom", "futex", "getpid", "gettid", "getuid", "geteuid", "getgid",
		"getegid", "fstat", "lseek", "sched_yield", "arch_prctl", "set_tid_address",
		"set_robust_list", "sysinfo", "getrlimit",
	};
	const struct scmp_arg_cmp no_exec = SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0);
	const struct scmp_arg_cmp on_channel = SCMP_A0(SCMP_CMP_EQ, EBCC_SANDBOX_CHANNEL_FD);
	const struct scmp_arg_cmp no_address = SCMP_A4(SCMP_CMP_EQ, 0);
	const struct scmp_arg_cmp empty_path_flag = SCMP_A3(SCMP_CMP_EQ, AT_EMPTY_PATH);
	const struct scmp_arg_cmp query_only = SCMP_A2(SCMP_CMP_EQ, 0);
	const struct scmp_arg_cmp exec_args[] = {
		SCMP_A0(SCMP_CMP_EQ, CHILD_IMAGE_FD),
		SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)(uintptr_t)exec_empty_path),
		SCMP_A4(SCMP_CMP_EQ, AT_EMPTY_PATH),
	};
	scmp_filter_ctx f;
	_cleanup_close_ int mem = -1;
	struct stat st;
	void *buf = NULL;
	int r;

	f = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (f == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "seccomp_init failed");
	r = seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 0); /* the child sets it itself */
	if (r == 0)
		r = seccomp_attr_set(f, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS);
	if (r < 0) {
		seccomp_release(f);
		return ebcc__error_errno(EBCC_ERR_BACKEND, -r, "seccomp_attr_set");
	}
	for (size_t i = 0; i < EBCC_ARRAY_SIZE(allowed) && r == 0; i++)
		r = add_rule(f, SCMP_ACT_ALLOW, allowed[i], 0, NULL);
	if (r == 0)
		r = add_rule(f, SCMP_ACT_ALLOW, "mmap", 1, &no_exec);
	if (r == 0)
		r = add_rule(f, SCMP_ACT_ALLOW, "mprotect", 1, &no_exec);
	if (r == 0)
		r = add_rule(f, SCMP_ACT_ALLOW, "accept4", 1, &on_channel);
	if (r == 0)
		r = add_rule(f, SCMP_ACT_ALLOW, "accept", 1, &on_channel);
	if (r == 0)
		r = add_rule(f, SCMP_ACT_ALLOW, "sendto", 1, &no_address);
	if (r == 0)
		r = add_rule(f, SCMP_ACT_ALLOW, "recvfrom", 1, &no_address);
	if (r == 0)
		r = add_rule(f, SCMP_ACT_ALLOW, "newfstatat", 1, &empty_path_flag);
	if (r == 0)
		r = add_rule(f, SCMP_ACT_ALLOW, "prlimit64", 1, &query_only);
	if (r == 0)
		r = add_rule(f, SCMP_ACT_ALLOW, "execveat", EBCC_ARRAY_SIZE(exec_args), exec_args);
	/* Probes of libc's startup and stdio that must fail softly. */
	if (r == 0)
		r = add_rule(f, SCMP_ACT_ERRNO(ENOSYS), "rseq", 0, NULL);
	if (r == 0)
		r = add_rule(f, SCMP_ACT_ERRNO(ENOENT), "readlink", 0, NULL);
	if (r == 0)
		r = add_rule(f, SCMP_ACT_ERRNO(ENOENT), "readlinkat", 0, NULL);
	if (r == 0)
		r = add_rule(f, SCMP_ACT_ERRNO(ENOTTY), "ioctl", 0, NULL);
	if (r < 0) {
		seccomp_release(f);
		return r;
	}

	/* libseccomp 2.5 exports to a descriptor only: go through a memory file. */
	mem = memfd_create("ebcc-seccomp", MFD_CLOEXEC);
	if (mem < 0) {
		seccomp_release(f);
		return ebcc__error_errno(EBCC_ERR_NO_MEMORY, errno, "memfd_create for seccomp");
	}
	r = seccomp_export_bpf(f, mem);
	seccomp_release(f);
	if (r < 0)
		return ebcc__error_errno(EBCC_ERR_BACKEND, -r, "seccomp_export_bpf");
	if (fstat(mem, &st) < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "stat seccomp program");
	if (st.st_size <= 0 || st.st_size % (off_t)sizeof(struct sock_filter) != 0 ||
	    st.st_size / (off_t)sizeof(struct sock_filter) > BPF_MAXINSNS)
		return ebcc__error(EBCC_ERR_BACKEND, "seccomp program has an odd size of %jd bytes",
				   (intmax_t)st.st_size);
	buf = malloc((size_t)st.st_size);
	if (buf == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory for the seccomp program");
	if (pread(mem, buf, (size_t)st.st_size, 0) != st.st_size) {
		free(buf);
		return ebcc__error_errno(EBCC_ERR_IO, errno, "read seccomp program");
	}
	ret->len = (unsigned short)(st.st_size / (off_t)sizeof(struct sock_filter));
	ret->filter = buf;
	return 0;
}

/* ---- the child: async-signal-safe only ---------------------------------------------------- */

static pid_t raw_clone(unsigned long flags)
{
	/* Like fork(), without atfork handlers: the child only makes system calls. */
	return (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
}

static void write_record(int fd, const struct record *rec)
{
	ssize_t n;

	do
		n = write(fd, rec, sizeof(*rec));
	while (n < 0 && errno == EINTR);
}

__attribute__((noreturn)) static void child_fail(int status_fd, int step)
{
	struct record rec = { .kind = RECORD_FAIL, .step = step, .err = errno };

	write_record(status_fd, &rec);
	_exit(127);
}

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

static int close_from(int first)
{
	if (syscall(SYS_close_range, (unsigned)first, ~0U, 0) == 0)
		return 0;
	if (errno != ENOSYS)
		return -1;
	for (int fd = first; fd < 65536; fd++)
		(void)close(fd);
	return 0;
}

__attribute__((noreturn)) static void child_main(const struct plan *p, unsigned long flags,
						 int status_fd)
{
	struct __user_cap_header_struct cap_header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct cap_data[_LINUX_CAPABILITY_U32S_3];
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int img, chan, nul, st;

	if (flags & CLONE_NEWUSER) {
		if (write_file("/proc/self/setgroups", "deny") < 0 && errno != ENOENT)
			child_fail(status_fd, STEP_SETGROUPS);
		if (write_file("/proc/self/uid_map", p->uid_map) < 0)
			child_fail(status_fd, STEP_UID_MAP);
		if (write_file("/proc/self/gid_map", p->gid_map) < 0)
			child_fail(status_fd, STEP_GID_MAP);
	}
	if (setsid() < 0)
		child_fail(status_fd, STEP_SETSID);
	if (!p->detach && prctl(PR_SET_PDEATHSIG, SIGKILL) < 0)
		child_fail(status_fd, STEP_PDEATHSIG);

	/* Ignored signals and the mask survive exec: start the stage with neither. */
	for (int sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &dfl, NULL);
	sigemptyset(&none);
	if (sigprocmask(SIG_SETMASK, &none, NULL) < 0)
		child_fail(status_fd, STEP_SIGNALS);

	/* Park every descriptor out of the way, then put each where the stage expects it. */
	img = fcntl(p->image_fd, F_DUPFD_CLOEXEC, CHILD_SCRATCH_FD);
	chan = fcntl(p->channel_fd, F_DUPFD_CLOEXEC, CHILD_SCRATCH_FD);
	nul = fcntl(p->devnull_fd, F_DUPFD_CLOEXEC, CHILD_SCRATCH_FD);
	st = fcntl(status_fd, F_DUPFD_CLOEXEC, CHILD_SCRATCH_FD);
	if (img < 0 || chan < 0 || nul < 0 || st < 0)
		child_fail(status_fd, STEP_FDS);
	status_fd = st;
	if (dup3(st, CHILD_STATUS_FD, O_CLOEXEC) < 0)
		child_fail(status_fd, STEP_FDS);
	status_fd = CHILD_STATUS_FD;
	if (dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(nul, 2) < 0 ||
	    dup2(chan, EBCC_SANDBOX_CHANNEL_FD) < 0 || dup3(img, CHILD_IMAGE_FD, O_CLOEXEC) < 0 ||
	    close_from(CHILD_FIRST_FREE_FD) < 0)
		child_fail(status_fd, STEP_FDS);

	if (setrlimit(RLIMIT_CORE, &(struct rlimit){ 0, 0 }) < 0 ||
	    setrlimit(RLIMIT_NOFILE, &p->nofile) < 0 ||
	    (p->set_as && setrlimit(RLIMIT_AS, &p->as) < 0) ||
	    (p->set_cpu && setrlimit(RLIMIT_CPU, &p->cpu) < 0))
		child_fail(status_fd, STEP_RLIMIT);

	/* No capabilities now; with no_new_privs an exec cannot grant any, not even to uid 0. */
	memset(cap_data, 0, sizeof(cap_data));
	if (syscall(SYS_capset, &cap_header, cap_data) < 0)
		child_fail(status_fd, STEP_CAPS);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(status_fd, STEP_NO_NEW_PRIVS);
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p->prog) < 0 &&
	    (errno != ENOSYS || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p->prog) < 0))
		child_fail(status_fd, STEP_SECCOMP);
	if (p->probe_only)
		_exit(0);

	syscall(SYS_execveat, CHILD_IMAGE_FD, exec_empty_path, p->argv, p->envp, AT_EMPTY_PATH);
	child_fail(status_fd, STEP_EXEC);
}

static ssize_t read_record(int fd, struct record *rec)
{
	size_t got = 0;

	while (got < sizeof(*rec)) {
		ssize_t n = read(fd, (char *)rec + got, sizeof(*rec) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static bool level_unsupported(int err)
{
	return err == EPERM || err == EINVAL || err == ENOSPC || err == EUSERS || err == EACCES ||
	       err == ENOSYS;
}

static bool step_is_namespace(int step)
{
	return step == STEP_SETGROUPS || step == STEP_UID_MAP || step == STEP_GID_MAP;
}

static void wait_pid(pid_t pid, int *ret_status)
{
	int status = 0;

	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (ret_status != NULL)
		*ret_status = status;
}

/*
 * Clones the stage at the first namespace level that works, from first_level on. Async-signal
 * safe (it also runs in the intermediate process). 0 and *ret_pid, *ret_level; or -1 with *fail.
 */
static int launch(const struct plan *p, int first_level, pid_t *ret_pid, int *ret_level,
		  struct record *fail)
{
	int last_err = 0;

	for (int level = first_level; level < (int)EBCC_ARRAY_SIZE(ns_levels); level++) {
		struct record rec = { 0 };
		int status_pipe[2];
		ssize_t n;
		pid_t pid;

		if (pipe2(status_pipe, O_CLOEXEC) < 0) {
			*fail = (struct record){ .kind = RECORD_FAIL, .step = STEP_PIPE, .err = errno };
			return -1;
		}
		pid = raw_clone(ns_levels[level]);
		if (pid == 0) {
			close(status_pipe[0]);
			child_main(p, ns_levels[level], status_pipe[1]);
		}
		last_err = errno;
		close(status_pipe[1]);
		if (pid < 0) {
			close(status_pipe[0]);
			if (level_unsupported(last_err))
				continue;
			*fail = (struct record){ .kind = RECORD_FAIL, .step = STEP_CLONE,
						 .err = last_err };
			return -1;
		}
		n = read_record(status_pipe[0], &rec);
		close(status_pipe[0]);
		if (n == 0 && !p->probe_only) {
			*ret_pid = pid;
			*ret_level = level;
			return 0;
		}
		if (p->probe_only) {
			int status;

			wait_pid(pid, &status);
			if (n == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0) {
				*ret_pid = pid;
				*ret_level = level;
				return 0;
			}
		} else {
			wait_pid(pid, NULL);
		}
		if (n != (ssize_t)sizeof(rec) || rec.kind != RECORD_FAIL)
			rec = (struct record){ .kind = RECORD_FAIL, .step = STEP_NONE, .err = EIO };
		last_err = rec.err;
		if (step_is_namespace(rec.step) && level + 1 < (int)EBCC_ARRAY_SIZE(ns_levels))
			continue;
		*fail = rec;
		return -1;
	}
	*fail = (struct record){ .kind = RECORD_FAIL, .step = STEP_CLONE, .err = last_err };
	return -1;
}

/* The intermediate process of a detached stage. */
__attribute__((noreturn)) static void middle_main(const struct plan *p, int result_fd, int go_fd)
{
	struct record rec = { 0 };
	pid_t pid = -1;
	int level = 0;
	char go;

	if (launch(p, 0, &pid, &level, &rec) == 0)
		rec = (struct record){ .kind = RECORD_SPAWNED, .pid = pid, .level = level };
	write_record(result_fd, &rec);
	close(result_fd);
	/* Until the parent has read the stage's start time, a stage that died at once stays a
	 * zombie of ours and its pid cannot be reused. */
	while (read(go_fd, &go, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

/* ---- the parent ---------------------------------------------------------------------------- */

static void plan_clear(struct plan *p)
{
	free(p->prog.filter);
	p->prog.filter = NULL;
	if (p->devnull_fd >= 0)
		close(p->devnull_fd);
	p->devnull_fd = -1;
}

static int plan_init(struct plan *p, const struct ebcc__sandbox_spec *spec)
{
	uint32_t files = spec->max_files == 0 ? 64 : spec->max_files < 8 ? 8 : spec->max_files;
	int r;

	*p = (struct plan){ .image_fd = spec->image_fd, .channel_fd = spec->channel_fd,
			    .devnull_fd = -1, .detach = spec->detach };
	snprintf(p->uid_map, sizeof(p->uid_map), "0 %u 1\n", (unsigned)geteuid());
	snprintf(p->gid_map, sizeof(p->gid_map), "0 %u 1\n", (unsigned)getegid());
	p->nofile = (struct rlimit){ files, files };
	if (spec->memory_mib > 0) {
		rlim_t bytes = (rlim_t)spec->memory_mib << 20;

		p->as = (struct rlimit){ bytes, bytes };
		p->set_as = true;
	}
	if (spec->cpu_seconds > 0) {
		/* soft = hard: the kernel's SIGKILL, which even a pid namespace's init gets. */
		p->cpu = (struct rlimit){ spec->cpu_seconds, spec->cpu_seconds };
		p->set_cpu = true;
	}
	p->argv[0] = (char *)(spec->argv0 != NULL ? spec->argv0 : "stage");
	p->argv[1] = NULL;
	p->envp[0] = NULL;
	p->devnull_fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (p->devnull_fd < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "open /dev/null for a stage");
	r = build_filter(&p->prog);
	if (r < 0)
		plan_clear(p);
	return r;
}

static void isolation_from_level(int level, struct ebcc__sandbox_isolation *iso)
{
	unsigned long f = ns_levels[level];

	*iso = (struct ebcc__sandbox_isolation){
		.user_ns = f & CLONE_NEWUSER,
		.pid_ns = f & CLONE_NEWPID,
		.net_ns = f & CLONE_NEWNET,
		.ipc_ns = f & CLONE_NEWIPC,
		.mount_ns = f & CLONE_NEWNS,
		.no_new_privs = true,
		.seccomp = true,
		.caps_dropped = true,
	};
}

static int fail_error(const struct record *rec)
{
	char errbuf[128];
	const char *why = strerror_r(rec->err, errbuf, sizeof(errbuf));

	if (rec->step == STEP_EXEC)
		return ebcc__error(EBCC_ERR_STAGE, "the stage image could not be executed: %s%s",
				   why,
				   rec->err == ENOEXEC ? " (not an executable of this machine)" : "");
	return ebcc__error(rec->err == ENOMEM ? EBCC_ERR_NO_MEMORY : EBCC_ERR_BACKEND,
			   "sandbox setup failed at %s: %s", step_text(rec->step), why);
}

int ebcc__sandbox_probe(struct ebcc__sandbox_isolation *ret, char *reason, size_t reason_size)
{
	struct plan p;
	struct record fail = { 0 };
	pid_t pid;
	int level, r;
	struct ebcc__sandbox_spec spec = { .image_fd = 0, .channel_fd = 0 };

	r = plan_init(&p, &spec);
	if (r < 0)
		return r;
	p.probe_only = true;
	p.channel_fd = p.devnull_fd;
	p.image_fd = p.devnull_fd;
	r = launch(&p, 0, &pid, &level, &fail);
	plan_clear(&p);
	if (r < 0) {
		char errbuf[128];

		*ret = (struct ebcc__sandbox_isolation){ 0 };
		snprintf(reason, reason_size, "stages cannot be sandboxed on this host: %s failed: %s",
			 step_text(fail.step), strerror_r(fail.err, errbuf, sizeof(errbuf)));
		return 0;
	}
	isolation_from_level(level, ret);
	return 1;
}

int ebcc__sandbox_spawn(const struct ebcc__sandbox_spec *spec, struct ebcc__sandbox_proc *ret)
{
	struct record rec = { 0 };
	struct plan p;
	pid_t pid = -1;
	int level = 0, r;

	r = plan_init(&p, spec);
	if (r < 0)
		return r;

	if (!spec->detach) {
		r = launch(&p, 0, &pid, &level, &rec);
		plan_clear(&p);
		if (r < 0)
			return fail_error(&rec);
		*ret = (struct ebcc__sandbox_proc){ .pid = pid, .child = true };
	} else {
		int result_pipe[2], go_pipe[2];
		pid_t middle;
		ssize_t n;

		if (pipe2(result_pipe, O_CLOEXEC) < 0) {
			plan_clear(&p);
			return ebcc__error_errno(EBCC_ERR_IO, errno, "pipe for a stage");
		}
		if (pipe2(go_pipe, O_CLOEXEC) < 0) {
			r = errno;
			close(result_pipe[0]);
			close(result_pipe[1]);
			plan_clear(&p);
			return ebcc__error_errno(EBCC_ERR_IO, r, "pipe for a stage");
		}
		middle = raw_clone(0);
		if (middle == 0) {
			close(result_pipe[0]);
			close(go_pipe[1]);
			middle_main(&p, result_pipe[1], go_pipe[0]);
		}
		r = errno;
		close(result_pipe[1]);
		close(go_pipe[0]);
		plan_clear(&p);
		if (middle < 0) {
			close(result_pipe[0]);
			close(go_pipe[1]);
			return ebcc__error_errno(EBCC_ERR_IO, r, "fork for a stage");
		}
		n = read_record(result_pipe[0], &rec);
		close(result_pipe[0]);
		if (n == (ssize_t)sizeof(rec) && rec.kind == RECORD_SPAWNED && rec.pid > 0 &&
		    rec.level >= 0 && rec.level < (int)EBCC_ARRAY_SIZE(ns_levels)) {
			pid = rec.pid;
			level = rec.level;
			*ret = (struct ebcc__sandbox_proc){ .pid = pid, .child = false };
			/* Read while the stage is still a child of the intermediate process. */
			if (ebcc__proc_start_time(pid, &ret->start_time) < 0)
				ret->start_time = 0;
		}
		(void)!write(go_pipe[1], "", 1);
		close(go_pipe[1]);
		wait_pid(middle, NULL);
		if (pid < 0) {
			if (n != (ssize_t)sizeof(rec) || rec.kind != RECORD_FAIL)
				return ebcc__error(EBCC_ERR_BACKEND,
						   "sandbox setup failed: the intermediate process "
						   "died without a report");
			return fail_error(&rec);
		}
		if (ret->start_time == 0)
			return ebcc__error(EBCC_ERR_STAGE,
					   "the stage process %d ended right after it started",
					   (int)pid);
	}
	if (ret->child && ebcc__proc_start_time(pid, &ret->start_time) < 0)
		ret->start_time = 0; /* a child that already exited: still ours to reap */
	isolation_from_level(level, &ret->isolation);
	return 0;
}

bool ebcc__sandbox_alive(struct ebcc__sandbox_proc *p)
{
	if (p->child) {
		int status;
		pid_t r;

		if (p->reaped)
			return false;
		do
			r = waitpid(p->pid, &status, WNOHANG);
		while (r < 0 && errno == EINTR);
		if (r == p->pid) {
			p->reaped = true;
			p->status = status;
			return false;
		}
		return r == 0;
	}
	return ebcc__proc_alive(p->pid, p->start_time);
}

/* The kernel's PF_EXITING task flag (/proc/<pid>/stat field 9), set when do_exit() begins,
 * before the process's descriptors are closed. */
#define PROC_FLAG_EXITING 0x4u

bool ebcc__sandbox_exiting(struct ebcc__sandbox_proc *p)
{
	char path[64], buf[1024], state = 0;
	unsigned int flags = 0;
	const char *rp;
	ssize_t n;
	int fd;

	if (!ebcc__sandbox_alive(p))
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)p->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	rp = strrchr(buf, ')');
	if (rp == NULL || sscanf(rp + 1, " %c %*d %*d %*d %*d %*d %u", &state, &flags) != 2)
		return false;
	return state == 'Z' || state == 'X' || (flags & PROC_FLAG_EXITING);
}

void ebcc__sandbox_wait(struct ebcc__sandbox_proc *p)
{
	struct pollfd pfd = { .events = POLLIN };

	if (p->child) {
		(void)ebcc__sandbox_reap(p);
		return;
	}
	pfd.fd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	if (pfd.fd < 0)
		return;
	if (ebcc__proc_alive(p->pid, p->start_time))
		while (poll(&pfd, 1, KILL_WAIT_MS) < 0 && errno == EINTR)
			;
	close(pfd.fd);
}

void ebcc__sandbox_kill(struct ebcc__sandbox_proc *p)
{
	int pidfd;

	if (p->child) {
		/* An unreaped child's pid cannot have been reused. */
		if (!p->reaped) {
			(void)kill(p->pid, SIGKILL);
			(void)ebcc__sandbox_reap(p);
		}
		return;
	}
	/* Not our child: pin the process with a pidfd first, then check that it is still the
	 * one we started, so that a recycled pid is never signalled; wait until it is gone. */
	pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	if (pidfd < 0) {
		if (errno != ESRCH && ebcc__proc_alive(p->pid, p->start_time))
			(void)kill(p->pid, SIGKILL); /* a kernel without pidfds (< 5.3) */
		return;
	}
	if (ebcc__proc_alive(p->pid, p->start_time) &&
	    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0) == 0) {
		struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

		while (poll(&pfd, 1, KILL_WAIT_MS) < 0 && errno == EINTR)
			;
	}
	close(pidfd);
}

int ebcc__sandbox_reap(struct ebcc__sandbox_proc *p)
{
	int status = 0;
	pid_t r;

	if (!p->child)
		return ebcc__error(EBCC_ERR_INVALID_ARG, "process %d is not a child to reap",
				   (int)p->pid);
	if (p->reaped)
		return 0;
	do
		r = waitpid(p->pid, &status, 0);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "waitpid %d", (int)p->pid);
	p->reaped = true;
	p->status = status;
	return 0;
}

void ebcc__sandbox_status_text(int status, char *buf, size_t size)
{
	if (WIFEXITED(status)) {
		snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
	} else if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		const char *name = sigabbrev_np(sig);
		const char *why = sig == SIGSYS	   ? " (a system call the sandbox forbids)"
				  : sig == SIGSEGV ? " (invalid memory access)"
				  : sig == SIGBUS  ? " (bus error)"
				  : sig == SIGXCPU ? " (CPU-time limit)"
				  : sig == SIGABRT ? " (aborted)"
				  : sig == SIGKILL ? " (the CPU-time limit, or killed by the host)"
						   : "";

		if (name != NULL)
			snprintf(buf, size, "killed by SIG%s%s", name, why);
		else
			snprintf(buf, size, "killed by signal %d%s", sig, why);
	} else {
		snprintf(buf, size, "ended with wait status 0x%x", (unsigned)status);
	}
}

struct json_object *ebcc__sandbox_isolation_json(const struct ebcc__sandbox_isolation *iso)
{
	struct json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	if (json_object_object_add(o, "user_ns", json_object_new_boolean(iso->user_ns)) < 0 ||
	    json_object_object_add(o, "pid_ns", json_object_new_boolean(iso->pid_ns)) < 0 ||
	    json_object_object_add(o, "net_ns", json_object_new_boolean(iso->net_ns)) < 0 ||
	    json_object_object_add(o, "ipc_ns", json_object_new_boolean(iso->ipc_ns)) < 0 ||
	    json_object_object_add(o, "mount_ns", json_object_new_boolean(iso->mount_ns)) < 0 ||
	    json_object_object_add(o, "no_new_privs", json_object_new_boolean(iso->no_new_privs)) <
		    0 ||
	    json_object_object_add(o, "seccomp", json_object_new_boolean(iso->seccomp)) < 0 ||
	    json_object_object_add(o, "capabilities_dropped",
				   json_object_new_boolean(iso->caps_dropped)) < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}
