/* SPDX-License-Identifier: MIT */
/*
 * Sandboxed stage processes. The parent prepares everything (seccomp program, uid maps as text,
 * limits, argv); the child, created with clone() and new namespaces where allowed, runs only
 * async-signal-safe system calls and ends in execveat() of the image descriptor or _exit(127).
 *
 * A status pipe (close-on-exec) tells the launcher how it went. The child reports READY once
 * its namespaces and descriptors are set up; the launcher then sets its resource limits with
 * prlimit() and lets it go on (a go pipe); end of file after that means the image was
 * executed, a FAIL record names the step and errno that failed. For a detached stage an
 * intermediate process is the launcher: it hands the stage's pid up and exits once the parent
 * has read the stage's start time, so the stage is reparented and outlives us.
 *
 * Under valgrind (which runs the child until the exec, emulates setrlimit() and knows neither
 * the seccomp() system call nor execveat() of a memory file) the filter is loaded with prctl()
 * and the image executed with execve("/proc/self/fd/N"); the filter then also allows the
 * handful of calls valgrind makes for that execve, each bound to that one path's address.
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
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <json-c/json.h>
#include <seccomp.h>

#include "ebcc-private.h"
#include "sandbox.h"

/*
 * Descriptors in the child just before exec: 0-2 /dev/null, 3 the channel, 4 the go pipe, 5 the
 * status pipe and the image at the stage's RLIMIT_NOFILE value: a descriptor number the stage can never
 * hold, so that the execveat() the seccomp filter allows for the image is unreachable once the
 * stage runs. Everything else is closed.
 */
#define CHILD_GO_FD 4
#define CHILD_STATUS_FD 5
#define CHILD_FIRST_FREE_FD 6
#define MIN_FILES 8

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND() false
#endif

/* A wait status no process can have: the child was reaped by someone else. */
#define STATUS_UNKNOWN (-1)

/* How long ebcc__sandbox_kill() waits for a SIGKILLed stage that is not our child to go. */
#define KILL_WAIT_MS 5000

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
	STEP_PID_RECORD,
	STEP_JOIN_NET,
	STEP_UNSHARE_USER,
};

static const char *step_text(int step)
{
	static const char *const text[] = {
		[STEP_NONE] = "setup",
		[STEP_CLONE] = "clone",
		[STEP_SETGROUPS] = "writing /proc/self/setgroups",
		[STEP_UID_MAP] = "writing /proc/self/uid_map",
		[STEP_JOIN_NET] = "setns into the shared network namespace",
		[STEP_UNSHARE_USER] = "unshare(CLONE_NEWUSER)",
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
		[STEP_PID_RECORD] = "recording the stage's pid",
	};

	return step >= 0 && (size_t)step < EBCC_ARRAY_SIZE(text) && text[step] != NULL
		       ? text[step]
		       : "an unknown step";
}

/* A record on a status pipe. */
enum record_kind {
	RECORD_FAIL = 1,    /* step and err say what failed */
	RECORD_SPAWNED = 2, /* from the intermediate process: pid and level of the stage */
	RECORD_READY = 3,   /* from the child: descriptors arranged, waiting for its limits */
};

struct record {
	int32_t kind;
	int32_t step;
	int32_t err;
	int32_t pid;
	int32_t level;
};

/*
 * The namespace levels, tried in order. The first exists for a launcher running as root: a
 * fresh network namespace costs more than the rest of a spawn (the kernel registers and later
 * tears down its sysctls and devices), so every stage joins one empty network namespace made
 * once per process instead, then makes its user namespace (after the pid, IPC and mount
 * namespaces, which it therefore holds no capability over). A stage cannot create a socket
 * (seccomp), so what it could share there is nothing.
 */
#define JOIN_SHARED_NET (1UL << 63) /* not a clone flag: setns, then unshare(CLONE_NEWUSER) */
static const unsigned long ns_levels[] = {
	JOIN_SHARED_NET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNS,
	CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWNS,
	CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWNS,
	0,
};

/* The shared empty network namespace (for root), or -1: made once, kept for the process. */
static int shared_net_fd = -1;
static pthread_once_t shared_net_once = PTHREAD_ONCE_INIT;

static void make_shared_net(void)
{
	char path[64], byte = 0;
	int ready[2], hold[2];
	pid_t pid;

	if (geteuid() != 0 || pipe2(ready, O_CLOEXEC) < 0)
		return;
	if (pipe2(hold, O_CLOEXEC) < 0) {
		close(ready[0]);
		close(ready[1]);
		return;
	}
	/* A child makes the namespace and holds it until we have a descriptor on it. */
	pid = (pid_t)syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid == 0) {
		close(hold[1]); /* or the read below never sees the end of the pipe */
		close(ready[0]);
		(void)!write(ready[1], "", 1);
		(void)!read(hold[0], &byte, 1);
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	if (pid > 0 && read(ready[0], &byte, 1) == 1) {
		snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
		shared_net_fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	close(hold[1]);
	close(ready[0]);
	if (pid > 0)
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
}

__attribute__((destructor)) static void shared_net_release(void)
{
	if (shared_net_fd >= 0)
		close(shared_net_fd);
	shared_net_fd = -1;
}

/* Everything the child needs, prepared before the fork. It lives on the parent's stack while
 * the child runs, so the address of exec_path is the same in both, and the
 * seccomp filter compares the exec's path argument against them. */
struct plan {
	int image_fd, channel_fd, devnull_fd;
	int shared_net_fd; /* for the first level, or -1 when it cannot be used */
	int child_image_fd; /* = the stage's RLIMIT_NOFILE */
	bool detach;
	bool probe_only; /* stop after the seccomp filter: _exit(0) instead of exec */
	bool valgrind;   /* exec through execve(exec_path), as valgrind knows no execveat */
	char uid_map[64], gid_map[64];
	char exec_path[32]; /* "/proc/self/fd/<child_image_fd>" */
	struct rlimit as, cpu, nofile;
	bool set_as, set_cpu;
	struct sock_fprog prog;
	char *argv[2];
	char *envp[1];
	int record_dir_fd; /* with record_name: where the launcher records the stage's pid */
	const char *record_name;
	char record_tmp[NAME_MAX + 1];
};

/* ---- the seccomp allow-list --------------------------------------------------------------- */

/* The path execveat() gets: the filter compares the pointer, so it lives at one address for the
 * whole process, and the compiled program can be kept and reused (see filter_cache). */
static const char empty_path[1] = "";

/* Compiled programs, by the descriptor the image is executed from (the only thing that varies
 * outside valgrind). Compiling costs libseccomp more than the rest of a spawn's setup. */
static pthread_mutex_t filter_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	int child_image_fd;
	struct sock_fprog prog;
} filter_cache[4];

static bool filter_copy(const struct sock_fprog *from, struct sock_fprog *to)
{
	size_t size = from->len * sizeof(struct sock_filter);

	to->filter = malloc(size);
	if (to->filter == NULL)
		return false;
	memcpy(to->filter, from->filter, size);
	to->len = from->len;
	return true;
}

static bool filter_cached(const struct plan *p, struct sock_fprog *ret)
{
	bool hit = false;

	pthread_mutex_lock(&filter_lock);
	for (size_t i = 0; i < EBCC_ARRAY_SIZE(filter_cache) && !hit; i++)
		if (filter_cache[i].prog.filter != NULL &&
		    filter_cache[i].child_image_fd == p->child_image_fd)
			hit = filter_copy(&filter_cache[i].prog, ret);
	pthread_mutex_unlock(&filter_lock);
	return hit;
}

static void filter_keep(const struct plan *p)
{
	pthread_mutex_lock(&filter_lock);
	for (size_t i = 0; i < EBCC_ARRAY_SIZE(filter_cache); i++) {
		if (filter_cache[i].prog.filter != NULL)
			continue;
		if (filter_copy(&p->prog, &filter_cache[i].prog))
			filter_cache[i].child_image_fd = p->child_image_fd;
		break;
	}
	pthread_mutex_unlock(&filter_lock);
}

__attribute__((destructor)) static void filter_cache_clear(void)
{
	for (size_t i = 0; i < EBCC_ARRAY_SIZE(filter_cache); i++) {
		free(filter_cache[i].prog.filter);
		filter_cache[i].prog.filter = NULL;
	}
}

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

/* Turns every "kill the thread" return of a compiled filter into "kill the process". */
static void bpf_kill_process(struct sock_fprog *prog)
{
	for (unsigned short i = 0; i < prog->len; i++)
		if (prog->filter[i].code == (BPF_RET | BPF_K) &&
		    prog->filter[i].k == SECCOMP_RET_KILL_THREAD)
			prog->filter[i].k = SECCOMP_RET_KILL_PROCESS;
}

static int export_filter(scmp_filter_ctx f, bool patch_kill, struct sock_fprog *ret)
{
	_cleanup_close_ int mem = -1;
	struct stat st;
	void *buf;
	int r;

	/* libseccomp 2.5 exports to a descriptor only: go through a memory file. */
	mem = memfd_create("ebcc-seccomp", MFD_CLOEXEC);
	if (mem < 0)
		return ebcc__error_errno(EBCC_ERR_NO_MEMORY, errno, "memfd_create for seccomp");
	r = seccomp_export_bpf(f, mem);
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
	if (patch_kill)
		bpf_kill_process(ret);
	return 0;
}

/* Argument comparisons, every field set (libseccomp's SCMP_A* macros leave datum_b out). */
#define ARG_EQ(n, value) \
	{ .arg = (n), .op = SCMP_CMP_EQ, .datum_a = (scmp_datum_t)(value), .datum_b = 0 }
#define ARG_MASKED(n, mask, value)                                                      \
	{ .arg = (n), .op = SCMP_CMP_MASKED_EQ, .datum_a = (scmp_datum_t)(mask),        \
	  .datum_b = (scmp_datum_t)(value) }
#define ARG_PTR(n, ptr) ARG_EQ((n), (uintptr_t)(ptr))

/*
 * What a static stage linked with libebcc-stage needs, verified with strace on glibc's static
 * startup: memory (never executable), its channel, time, randomness, signals and exit. Anything
 * else kills the whole process with SIGSYS, except a few harmless probes of libc that fail
 * with an errno instead. The one exec allowed is of the image descriptor, a number the stage
 * cannot hold, with the path the plan holds.
 */
static int compile_filter(struct plan *p);

static int build_filter(struct plan *p)
{
	int r;

	/* Under valgrind the program also holds the address of exec_path, which differs. */
	if (!p->valgrind && filter_cached(p, &p->prog))
		return 0;
	r = compile_filter(p);
	if (r == 0 && !p->valgrind)
		filter_keep(p);
	return r;
}

static int compile_filter(struct plan *p)
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
	const struct scmp_arg_cmp no_exec = ARG_MASKED(2, PROT_EXEC, 0);
	const struct scmp_arg_cmp on_channel = ARG_EQ(0, EBCC_SANDBOX_CHANNEL_FD);
	const struct scmp_arg_cmp no_address = ARG_EQ(4, 0);
	const struct scmp_arg_cmp query_only = ARG_EQ(2, 0);
	const struct scmp_arg_cmp exec_args[] = {
		ARG_EQ(0, p->child_image_fd),
		ARG_PTR(1, empty_path),
		ARG_EQ(4, AT_EMPTY_PATH),
	};
	/* valgrind runs the child until the exec and needs these for its execve(). */
	const struct scmp_arg_cmp path0 = ARG_PTR(0, p->exec_path);
	const struct scmp_arg_cmp path1 = ARG_PTR(1, p->exec_path);
	const struct scmp_arg_cmp statx_empty = ARG_MASKED(2, AT_EMPTY_PATH, AT_EMPTY_PATH);
	bool patch_kill = false;
	scmp_filter_ctx f;
	int r;

	f = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (f == NULL) {
		/* libseccomp could not confirm that the kernel kills processes (it asks the kernel,
		 * and valgrind does not pass that question on): compile with "kill the thread" and
		 * patch the program; a kernel without SECCOMP_RET_KILL_PROCESS (< 4.14) refuses it
		 * when it is loaded. */
		f = seccomp_init(SCMP_ACT_KILL);
		patch_kill = true;
	}
	if (f == NULL)
		return ebcc__error(EBCC_ERR_BACKEND, "seccomp_init failed");
	r = seccomp_attr_set(f, SCMP_FLTATR_CTL_NNP, 0); /* the child sets it itself */
	if (r == 0)
		r = seccomp_attr_set(f, SCMP_FLTATR_ACT_BADARCH,
				     patch_kill ? SCMP_ACT_KILL : SCMP_ACT_KILL_PROCESS);
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
		r = add_rule(f, SCMP_ACT_ALLOW, "prlimit64", 1, &query_only);
	if (r == 0)
		r = add_rule(f, SCMP_ACT_ALLOW, "execveat", EBCC_ARRAY_SIZE(exec_args), exec_args);
	if (r == 0 && p->valgrind) {
		r = add_rule(f, SCMP_ACT_ALLOW, "execve", 1, &path0);
		if (r == 0)
			r = add_rule(f, SCMP_ACT_ALLOW, "open", 1, &path0);
		if (r == 0)
			r = add_rule(f, SCMP_ACT_ALLOW, "openat", 1, &path1);
		if (r == 0)
			r = add_rule(f, SCMP_ACT_ALLOW, "getxattr", 1, &path0);
		if (r == 0)
			r = add_rule(f, SCMP_ACT_ALLOW, "statx", 1, &path1);
		if (r == 0)
			r = add_rule(f, SCMP_ACT_ALLOW, "statx", 1, &statx_empty);
		if (r == 0)
			r = add_rule(f, SCMP_ACT_ALLOW, "pread64", 0, NULL);
		if (r == 0)
			r = add_rule(f, SCMP_ACT_ALLOW, "rt_sigtimedwait", 0, NULL);
	}
	/* Probes of libc's startup and stdio that must fail softly. */
	if (r == 0)
		r = add_rule(f, SCMP_ACT_ERRNO(ENOSYS), "rseq", 0, NULL);
	if (r == 0)
		r = add_rule(f, SCMP_ACT_ERRNO(ENOENT), "readlink", 0, NULL);
	if (r == 0)
		r = add_rule(f, SCMP_ACT_ERRNO(ENOENT), "readlinkat", 0, NULL);
	if (r == 0)
		r = add_rule(f, SCMP_ACT_ERRNO(ENOTTY), "ioctl", 0, NULL);
	/* glibc's fstat() is newfstatat(fd, "", AT_EMPTY_PATH), which would also look up any
	 * path it is given: only the descriptor-only fstat system call is allowed. */
	if (r == 0)
		r = add_rule(f, SCMP_ACT_ERRNO(ENOSYS), "newfstatat", 0, NULL);
	if (r == 0 && !p->valgrind) /* valgrind has its own statx rules above */
		r = add_rule(f, SCMP_ACT_ERRNO(ENOSYS), "statx", 0, NULL);
	if (r == 0)
		r = export_filter(f, patch_kill, &p->prog);
	seccomp_release(f);
	return r;
}

/* ---- the child: async-signal-safe only ---------------------------------------------------- */

static pid_t raw_clone(unsigned long flags)
{
	/* Like fork(), without atfork handlers: the child only makes system calls. */
	return (pid_t)syscall(SYS_clone, (flags & ~JOIN_SHARED_NET) | SIGCHLD, NULL, NULL, NULL,
			      NULL);
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

__attribute__((noreturn)) static void child_main(const struct plan *p, unsigned long flags,
						 int status_fd, int go_fd)
{
	struct record ready = { .kind = RECORD_READY };
	char go;
	int gfd;
	struct __user_cap_header_struct cap_header = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct cap_data[_LINUX_CAPABILITY_U32S_3];
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;
	int img, chan, nul, st;

	if (flags & JOIN_SHARED_NET) {
		if (setns(p->shared_net_fd, CLONE_NEWNET) < 0)
			child_fail(status_fd, STEP_JOIN_NET);
		if (unshare(CLONE_NEWUSER) < 0)
			child_fail(status_fd, STEP_UNSHARE_USER);
		flags |= CLONE_NEWUSER; /* the maps below are written the same way */
	}
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

	/* Park every descriptor above the image's slot, then put each where the stage expects
	 * it and close the rest. */
	img = fcntl(p->image_fd, F_DUPFD_CLOEXEC, p->child_image_fd + 1);
	chan = fcntl(p->channel_fd, F_DUPFD_CLOEXEC, p->child_image_fd + 1);
	nul = fcntl(p->devnull_fd, F_DUPFD_CLOEXEC, p->child_image_fd + 1);
	st = fcntl(status_fd, F_DUPFD_CLOEXEC, p->child_image_fd + 1);
	gfd = fcntl(go_fd, F_DUPFD_CLOEXEC, p->child_image_fd + 1);
	if (img < 0 || chan < 0 || nul < 0 || st < 0 || gfd < 0)
		child_fail(status_fd, STEP_FDS);
	status_fd = st;
	if (dup3(st, CHILD_STATUS_FD, O_CLOEXEC) < 0)
		child_fail(status_fd, STEP_FDS);
	status_fd = CHILD_STATUS_FD;
	if (dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(nul, 2) < 0 ||
	    dup2(chan, EBCC_SANDBOX_CHANNEL_FD) < 0 || dup3(gfd, CHILD_GO_FD, O_CLOEXEC) < 0 ||
	    dup3(img, p->child_image_fd, O_CLOEXEC) < 0 ||
	    close_range_fds(CHILD_FIRST_FREE_FD, (unsigned)p->child_image_fd - 1) < 0 ||
	    close_range_fds((unsigned)p->child_image_fd + 1, ~0U) < 0)
		child_fail(status_fd, STEP_FDS);

	/* RLIMIT_NOFILE goes below the descriptors just arranged. When the launcher sets the
	 * limits (with prlimit(), from outside), wait for it. */
	if (launcher_sets_limits(p)) {
		write_record(status_fd, &ready);
		while (read(CHILD_GO_FD, &go, 1) != 1)
			if (errno != EINTR)
				_exit(127); /* the launcher is gone */
	} else if (set_own_limits(p) < 0) {
		child_fail(status_fd, STEP_RLIMIT);
	}

	/* No capabilities now; with no_new_privs an exec cannot grant any, not even to uid 0. */
	memset(cap_data, 0, sizeof(cap_data));
	if (syscall(SYS_capset, &cap_header, cap_data) < 0)
		child_fail(status_fd, STEP_CAPS);
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		child_fail(status_fd, STEP_NO_NEW_PRIVS);
	if ((p->valgrind || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &p->prog) < 0) &&
	    ((!p->valgrind && errno != ENOSYS) ||
	     prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p->prog) < 0))
		child_fail(status_fd, STEP_SECCOMP);
	if (p->probe_only)
		_exit(0);

	if (p->valgrind) /* it emulates execveat() by the descriptor's path: none for a memfd */
		execve(p->exec_path, p->argv, p->envp);
	else
		syscall(SYS_execveat, p->child_image_fd, empty_path, p->argv, p->envp,
			AT_EMPTY_PATH);
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
	return step == STEP_SETGROUPS || step == STEP_UID_MAP || step == STEP_GID_MAP ||
	       step == STEP_JOIN_NET || step == STEP_UNSHARE_USER;
}

static void wait_pid(pid_t pid, int *ret_status)
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

/* The child's resource limits, set from outside (async-signal-safe). */
static int set_limits(const struct plan *p, pid_t pid)
{
	if (prlimit(pid, RLIMIT_CORE, &(struct rlimit){ 0, 0 }, NULL) < 0 ||
	    prlimit(pid, RLIMIT_NOFILE, &p->nofile, NULL) < 0 ||
	    (p->set_as && prlimit(pid, RLIMIT_AS, &p->as, NULL) < 0) ||
	    (p->set_cpu && prlimit(pid, RLIMIT_CPU, &p->cpu, NULL) < 0))
		return -1;
	return 0;
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
		int status_pipe[2], go_pipe[2];
		bool ready;
		ssize_t n;
		pid_t pid;

		if ((ns_levels[level] & JOIN_SHARED_NET) && p->shared_net_fd < 0)
			continue;

		if (pipe2(status_pipe, O_CLOEXEC) < 0) {
			*fail = (struct record){ .kind = RECORD_FAIL, .step = STEP_PIPE, .err = errno };
			return -1;
		}
		if (pipe2(go_pipe, O_CLOEXEC) < 0) {
			*fail = (struct record){ .kind = RECORD_FAIL, .step = STEP_PIPE, .err = errno };
			close(status_pipe[0]);
			close(status_pipe[1]);
			return -1;
		}
		pid = raw_clone(ns_levels[level]);
		if (pid == 0) {
			close(status_pipe[0]);
			close(go_pipe[1]);
			child_main(p, ns_levels[level], status_pipe[1], go_pipe[0]);
		}
		last_err = errno;
		close(status_pipe[1]);
		close(go_pipe[0]);
		if (pid < 0) {
			close(status_pipe[0]);
			close(go_pipe[1]);
			if (level_unsupported(last_err))
				continue;
			*fail = (struct record){ .kind = RECORD_FAIL, .step = STEP_CLONE,
						 .err = last_err };
			return -1;
		}
		n = read_record(status_pipe[0], &rec);
		ready = n == (ssize_t)sizeof(rec) && rec.kind == RECORD_READY;
		if (!launcher_sets_limits(p)) {
			/* The child set its own limits: end of file means the exec happened. */
		} else if (ready) {
			if (set_limits(p, pid) < 0) {
				rec = (struct record){ .kind = RECORD_FAIL, .step = STEP_RLIMIT,
						       .err = errno };
				(void)kill(pid, SIGKILL);
			} else if (p->record_name != NULL && write_pid_record(p, pid) < 0) {
				rec = (struct record){ .kind = RECORD_FAIL,
						       .step = STEP_PID_RECORD, .err = errno };
				(void)kill(pid, SIGKILL);
			} else {
				/* End of file now means the exec happened. */
				(void)!write(go_pipe[1], "", 1);
				n = read_record(status_pipe[0], &rec);
			}
		} else if (n == 0) {
			n = -1; /* died before it was ready */
		}
		close(go_pipe[1]);
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
	sigset_t all;
	char go;

	/* The embedder's signal handlers are still installed here: let none of them run. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);

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
	uint32_t files = spec->max_files == 0 ? 64 : spec->max_files;
	struct rlimit ours;
	int r;

	/* The image goes to descriptor `files` in the child, which must fit under our own
	 * limit while the child arranges its descriptors. */
	if (getrlimit(RLIMIT_NOFILE, &ours) == 0 && ours.rlim_cur != RLIM_INFINITY &&
	    files + 8 > ours.rlim_cur)
		files = ours.rlim_cur > MIN_FILES + 8 ? (uint32_t)ours.rlim_cur - 8 : MIN_FILES;
	if (files < MIN_FILES)
		files = MIN_FILES;
	*p = (struct plan){ .image_fd = spec->image_fd, .channel_fd = spec->channel_fd,
			    .devnull_fd = -1, .shared_net_fd = -1, .detach = spec->detach,
			    .child_image_fd = (int)files,
			    .valgrind = UNDER_VALGRIND() };
	snprintf(p->exec_path, sizeof(p->exec_path), "/proc/self/fd/%d", p->child_image_fd);
	if (spec->detach && spec->pid_record != NULL) {
		p->record_dir_fd = spec->pid_record_dir_fd;
		p->record_name = spec->pid_record;
		if ((size_t)snprintf(p->record_tmp, sizeof(p->record_tmp), ".%s.tmp",
				     spec->pid_record) >= sizeof(p->record_tmp))
			return ebcc__error(EBCC_ERR_INVALID_ARG, "pid record name %s is too long",
					   spec->pid_record);
	}
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
	pthread_once(&shared_net_once, make_shared_net);
	p->shared_net_fd = shared_net_fd;
	p->devnull_fd = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
	if (p->devnull_fd < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "open /dev/null for a stage");
	r = build_filter(p);
	if (r < 0)
		plan_clear(p);
	return r;
}

static void isolation_from_level(int level, struct ebcc__sandbox_isolation *iso)
{
	unsigned long f = ns_levels[level];

	*iso = (struct ebcc__sandbox_isolation){
		.user_ns = f & (CLONE_NEWUSER | JOIN_SHARED_NET),
		.pid_ns = f & CLONE_NEWPID,
		.net_ns = f & (CLONE_NEWNET | JOIN_SHARED_NET),
		.net_ns_shared = f & JOIN_SHARED_NET,
		.ipc_ns = f & CLONE_NEWIPC,
		.mount_ns = f & CLONE_NEWNS,
		.no_new_privs = true,
		.seccomp = true,
		.caps_dropped = true,
	};
}

static int fail_error(const struct record *rec, const struct ebcc__sandbox_spec *spec)
{
	char errbuf[128];
	const char *why = strerror_r(rec->err, errbuf, sizeof(errbuf));

	if (rec->step == STEP_PID_RECORD) /* a file like any other: disk full, read-only... */
		return ebcc__error(ebcc__error_from_errno(rec->err),
				   "could not record the stage's pid in %s: %s", spec->pid_record,
				   why);
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
			return fail_error(&rec, spec);
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
			return fail_error(&rec, spec);
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
		if (r == p->pid || (r < 0 && errno == ECHILD)) {
			p->reaped = true;
			p->status = r == p->pid ? status : STATUS_UNKNOWN;
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

/*
 * Waits (at most KILL_WAIT_MS) until a process that is not our child has exited, optionally
 * SIGKILLing it first. A pidfd pins the process, so the start-time check made after opening it
 * cannot be fooled by a recycled pid; without pidfds (Linux < 5.3, or valgrind) the process is
 * polled instead.
 */
static void other_wait(const struct ebcc__sandbox_proc *p, bool kill_it)
{
	struct pollfd pfd = { .events = POLLIN };

	pfd.fd = (int)syscall(SYS_pidfd_open, p->pid, 0);
	if (pfd.fd >= 0) {
		if (ebcc__proc_alive(p->pid, p->start_time) &&
		    (!kill_it || syscall(SYS_pidfd_send_signal, pfd.fd, SIGKILL, NULL, 0) == 0))
			while (poll(&pfd, 1, KILL_WAIT_MS) < 0 && errno == EINTR)
				;
		close(pfd.fd);
		return;
	}
	if (errno == ESRCH || !ebcc__proc_alive(p->pid, p->start_time))
		return;
	if (kill_it)
		(void)kill(p->pid, SIGKILL);
	for (int ms = 0; ms < KILL_WAIT_MS && ebcc__proc_alive(p->pid, p->start_time); ms++)
		(void)nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
}

void ebcc__sandbox_wait(struct ebcc__sandbox_proc *p)
{
	if (p->child)
		(void)ebcc__sandbox_reap(p);
	else
		other_wait(p, false);
}

void ebcc__sandbox_kill(struct ebcc__sandbox_proc *p)
{
	if (p->child) {
		/* An unreaped child's pid cannot have been reused. */
		if (!p->reaped) {
			(void)kill(p->pid, SIGKILL);
			(void)ebcc__sandbox_reap(p);
		}
		return;
	}
	other_wait(p, true);
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
	if (r < 0 && errno == ECHILD) {
		/* The embedder reaped it (waitpid(-1), or SIGCHLD ignored): it is gone, and how
		 * it ended is not ours to know. */
		p->reaped = true;
		p->status = STATUS_UNKNOWN;
		return 0;
	}
	if (r < 0)
		return ebcc__error_errno(EBCC_ERR_IO, errno, "waitpid %d", (int)p->pid);
	p->reaped = true;
	p->status = status;
	return 0;
}

void ebcc__sandbox_status_text(int status, char *buf, size_t size)
{
	if (status == STATUS_UNKNOWN) {
		snprintf(buf, size, "ended, with an exit status collected by someone else");
	} else if (WIFEXITED(status)) {
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
	    json_object_object_add(o, "net_ns_shared", json_object_new_boolean(iso->net_ns_shared)) <
		    0 ||
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
