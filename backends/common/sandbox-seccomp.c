/* SPDX-License-Identifier: MIT */
/*
 * The stage's seccomp allow-list, compiled with libseccomp before the fork (the child only loads
 * it) and kept per image descriptor number, since compiling costs more than the rest of a
 * spawn's setup.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <seccomp.h>

#include "ebcc-base.h"
#include "sandbox-plan.h"


/* The path execveat() gets: the filter compares the pointer, so it lives at one address for the
 * whole process, and the compiled program can be kept and reused (see filter_cache). */
const char ebcc__sandbox_empty_path[1] = "";

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

/*
 * Under valgrind the child runs as valgrind's guest from the filter's load until the exec, and
 * valgrind's core maps the memory it takes for itself executable: when it needed more in that
 * window (rare), the filter killed the child before its exec (SIGSYS on mmap, from valgrind's
 * text). From valgrind's own text, and only there, mmap and mprotect are allowed with any
 * protection. After the exec valgrind is gone (children are not traced); a stage would have to
 * have its code at that very address to use the rule, and only while the embedder runs under
 * valgrind, which is a debugging setting. The text does not move: it is read once.
 */
static struct {
	pthread_once_t once;
	bool found;
	uint64_t lo, hi;
} valgrind_text_range = { .once = PTHREAD_ONCE_INIT };

static bool valgrind_text_read(uint64_t *ret_lo, uint64_t *ret_hi)
{
	char line[512];
	FILE *maps = fopen("/proc/self/maps", "re");
	bool found = false;

	if (maps == NULL)
		return false;
	while (!found && fgets(line, sizeof(line), maps) != NULL) {
		unsigned long long lo, hi;
		char perms[5];
		int path_at = 0;
		const char *path, *base;

		if (sscanf(line, "%llx-%llx %4s %*s %*s %*s %n", &lo, &hi, perms, &path_at) != 3 ||
		    path_at == 0 || strcmp(perms, "r-xp") != 0)
			continue;
		path = line + path_at;
		base = strrchr(path, '/');
		/* The tool itself (memcheck-amd64-linux...), not the preloaded vgpreload_*.so. */
		if (base == NULL || strstr(path, "/valgrind/") == NULL ||
		    strncmp(base + 1, "vgpreload", 9) == 0)
			continue;
		*ret_lo = lo;
		*ret_hi = hi;
		found = true;
	}
	fclose(maps);
	return found;
}

static void valgrind_text_once(void)
{
	valgrind_text_range.found = valgrind_text_read(&valgrind_text_range.lo,
						       &valgrind_text_range.hi);
}

static bool valgrind_text(uint64_t *ret_lo, uint64_t *ret_hi)
{
	pthread_once(&valgrind_text_range.once, valgrind_text_once);
	*ret_lo = valgrind_text_range.lo;
	*ret_hi = valgrind_text_range.hi;
	return valgrind_text_range.found;
}

/* Prepends to the program: on the native architecture, mmap or mprotect from [lo, hi) is
 * allowed; everything else goes on to the allow-list. */
static int prepend_valgrind_rule(struct sock_fprog *prog, uint64_t lo, uint64_t hi)
{
	enum { IP_LO = offsetof(struct seccomp_data, instruction_pointer),
	       IP_HI = IP_LO + 4 };
	const uint32_t rest = 11; /* instructions below, to the allow-list's first */
	struct sock_filter prefix[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, seccomp_arch_native(), 0, rest - 2),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mmap, 1, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_mprotect, 0, rest - 5),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, IP_HI),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(lo >> 32), 0, rest - 7),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, IP_LO),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (uint32_t)lo, 0, rest - 9),
		BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (uint32_t)hi, rest - 10, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_filter *filter;

	_Static_assert(EBCC_ARRAY_SIZE(prefix) == 11, "rest counts the prefix");
	/* One 32-bit upper half: valgrind's text never straddles 4 GiB. */
	if ((lo >> 32) != ((hi - 1) >> 32) || hi <= lo)
		return 0;
	if (prog->len + EBCC_ARRAY_SIZE(prefix) > BPF_MAXINSNS)
		return ebcc__error(EBCC_ERR_BACKEND, "seccomp program too long for valgrind's rule");
	filter = malloc((prog->len + EBCC_ARRAY_SIZE(prefix)) * sizeof(*filter));
	if (filter == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory for the seccomp program");
	memcpy(filter, prefix, sizeof(prefix));
	memcpy(filter + EBCC_ARRAY_SIZE(prefix), prog->filter, prog->len * sizeof(*filter));
	free(prog->filter);
	prog->filter = filter;
	prog->len = (unsigned short)(prog->len + EBCC_ARRAY_SIZE(prefix));
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

int ebcc__sandbox_build_filter(struct plan *p)
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
		ARG_PTR(1, ebcc__sandbox_empty_path),
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
	if (r == 0 && p->valgrind) {
		uint64_t lo, hi;

		if (valgrind_text(&lo, &hi))
			r = prepend_valgrind_rule(&p->prog, lo, hi);
	}
	return r;
}
