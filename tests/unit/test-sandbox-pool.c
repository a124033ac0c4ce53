/* SPDX-License-Identifier: MIT */
/*
 * The pool of pre-warmed sandboxes, through the sim backend with the core's own environment (a
 * real context with its sandbox_pool option): the isolation a pooled stage reports and has
 * (its /proc status and namespaces) is that of a stage spawned on the spot; no two invocations
 * share a sandbox; the stage's security monitor, forked beforehand too, signs for it; idle
 * sandboxes end; nothing is left when the context goes; a child of a
 * fork() never uses its parent's sandboxes; a failed exec fails the same way.
 */
#include <dirent.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "../../backends/common/sandbox-pool.h"
#include "../../backends/common/sandbox.h"
#include "sim-fixture.h"

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND() false
#endif

struct pool_fixture {
	struct sim_fixture *f;
	struct ebcc_context *ctx;
	struct ebcc_backend_session s; /* the core's environment: s.env */
};

static int setup(void **state)
{
	struct pool_fixture *p = calloc(1, sizeof(*p));
	const struct ebcc_backend *b;

	/* Under valgrind the pool is not used (sandbox.c): nothing here to test. The plain and
	 * ASan runs of the suite test it. */
	if (UNDER_VALGRIND()) {
		free(p);
		*state = NULL;
		return 0;
	}

	assert_non_null(p);
	p->f = fx_new();
	assert_int_equal(ebcc_context_new(&p->ctx), 0);
	assert_int_equal(ebcc__backend_find(p->ctx, "sim", &b), 0);
	assert_int_equal(ebcc__backend_session_open(&p->s, p->ctx, b, p->f->root_fd), 0);
	*state = p;
	return 0;
}

static int teardown(void **state)
{
	struct pool_fixture *p = *state;

	if (p == NULL)
		return 0;
	ebcc__backend_session_close(&p->s);
	ebcc_context_unref(p->ctx);
	fx_free(p->f);
	free(p);
	return 0;
}

static void set_pool(struct pool_fixture *p, const char *size, const char *idle_ms)
{
	assert_int_equal(ebcc_context_set_option(p->ctx, "sandbox_pool", size), 0);
	if (idle_ms != NULL)
		assert_int_equal(ebcc_context_set_option(p->ctx, "sandbox_pool_idle_ms", idle_ms), 0);
	/* Options reach the pool at the next per-invocation spawn, or here. */
	(void)ebcc__context_sandbox_pool(p->ctx);
}

static pid_t parent_of(pid_t pid)
{
	char path[64], buf[512], *rp;
	int ppid = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fp = fopen(path, "r");
	if (fp == NULL)
		return -1;
	if (fgets(buf, sizeof(buf), fp) != NULL && (rp = strrchr(buf, ')')) != NULL)
		(void)sscanf(rp + 1, " %*c %d", &ppid);
	fclose(fp);
	return ppid;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Waits (at most 10 s) until the pool has `ready` sandboxes parked. */
static void wait_ready(struct ebcc__sandbox_pool *pool, unsigned ready)
{
	struct ebcc__sandbox_pool_stats st;

	for (int i = 0; i < 10000; i++) {
		ebcc__sandbox_pool_stats(pool, &st);
		if (st.ready == ready)
			return;
		sleep_ms(1);
	}
	fail_msg("the pool never had %u sandboxes ready (it has %u)", ready, st.ready);
}

/* Waits (at most 10 s) until the pool has `ready` helpers parked (sim: monitors). */
static void wait_helpers(struct ebcc__sandbox_pool *pool, unsigned ready)
{
	struct ebcc__sandbox_pool_stats st;

	for (int i = 0; i < 10000; i++) {
		ebcc__sandbox_pool_stats(pool, &st);
		if (st.helpers_ready == ready)
			return;
		sleep_ms(1);
	}
	fail_msg("the pool never had %u helpers ready (it has %u)", ready, st.helpers_ready);
}

/* Waits (at most 10 s) until pid is gone: the pool reaps the stages it ran at its next use. */
static void wait_gone(struct ebcc__sandbox_pool *pool, pid_t pid)
{
	struct ebcc__sandbox_pool_stats st;

	for (int i = 0; i < 10000; i++) {
		ebcc__sandbox_pool_stats(pool, &st);
		if (kill(pid, 0) < 0 && errno == ESRCH)
			return;
		sleep_ms(1);
	}
	fail_msg("process %d was never reaped", (int)pid);
}

/* This process's children, over all its threads (/proc/self/task/<tid>/children). */
static unsigned count_children(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	unsigned n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		char path[300];
		FILE *fp;
		int pid;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/children", e->d_name);
		fp = fopen(path, "r");
		if (fp == NULL)
			continue;
		while (fscanf(fp, "%d", &pid) == 1)
			n++;
		fclose(fp);
	}
	closedir(d);
	return n;
}

/* The pool whose next use reaps what it ran (wait_children() uses it meanwhile). */
static struct ebcc__sandbox_pool *reaper;

static void wait_children(unsigned n)
{
	struct ebcc__sandbox_pool_stats st;

	for (int i = 0; i < 10000 && count_children() != n; i++) {
		if (reaper != NULL)
			ebcc__sandbox_pool_stats(reaper, &st);
		sleep_ms(1);
	}
	assert_int_equal(count_children(), n);
}

/* Loads the echo stage for one invocation through the core's environment. */
static void load(struct pool_fixture *p, struct fx_stage *out)
{
	int fd = open(fx_env_path("EBCC_STAGE_ECHO"), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	assert_true(fd >= 0);
	memset(out, 0, sizeof(*out));
	out->dir_fd = -1;
	out->params = fx_params(EBCC_LIFETIME_INVOCATION, "echo", fd, -1);
	out->st.size = sizeof(out->st);
	assert_int_equal(p->f->ops->stage_load(&p->s.env, &out->params, &out->st, NULL), 0);
	close(fd);
	out->params.image_fd = -1;
}

static void unload(struct pool_fixture *p, struct fx_stage *s)
{
	assert_int_equal(p->f->ops->stage_unload(&p->s.env, s->st.handle, NULL), 0);
	fx_stage_release(s);
}

/* The stage's isolation report without its pid, as compact JSON (malloc), and the pid. */
static char *isolation_of(const struct fx_stage *s, pid_t *ret_pid)
{
	struct json_object *o = json_tokener_parse(s->st.isolation_json), *v;
	char *text;

	assert_non_null(o);
	assert_true(json_object_object_get_ex(o, "pid", &v));
	*ret_pid = (pid_t)json_object_get_int64(v);
	json_object_object_del(o, "pid");
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return text;
}

/* A line of /proc/<pid>/status ("Seccomp:\t2"), or "" when absent. */
static void status_line(pid_t pid, const char *key, char *buf, size_t size)
{
	char path[64], line[256];
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fp = fopen(path, "r");
	assert_non_null(fp);
	buf[0] = '\0';
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':')
			snprintf(buf, size, "%s", line);
	fclose(fp);
}

static unsigned long ns_inode(pid_t pid, const char *ns)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, ns);
	assert_int_equal(stat(path, &st), 0);
	return (unsigned long)st.st_ino;
}

static const char *const namespaces[] = { "user", "pid", "net", "ipc", "mnt" };
static const char *const status_keys[] = { "Seccomp", "NoNewPrivs", "CapEff", "CapPrm",
					   "CapBnd", "Uid", "Gid" };

/* What the kernel says of the two stages' confinement is the same; both are confined. */
static void same_confinement(pid_t a, pid_t b)
{
	for (size_t i = 0; i < sizeof(status_keys) / sizeof(status_keys[0]); i++) {
		char la[256], lb[256];

		status_line(a, status_keys[i], la, sizeof(la));
		status_line(b, status_keys[i], lb, sizeof(lb));
		assert_string_equal(la, lb);
	}
	for (size_t i = 0; i < sizeof(namespaces) / sizeof(namespaces[0]); i++) {
		unsigned long ours = ns_inode(getpid(), namespaces[i]);

		/* Each stage has its own namespace, or both share the same (net as root). */
		assert_int_equal(ns_inode(a, namespaces[i]) == ours, ns_inode(b, namespaces[i]) == ours);
		if (strcmp(namespaces[i], "net") != 0)
			assert_true(ns_inode(a, namespaces[i]) != ns_inode(b, namespaces[i]));
	}
}

static void echo_once(struct pool_fixture *p, struct fx_stage *s)
{
	char *resp = NULL;

	assert_int_equal(fx_invoke(p->f, s->st.handle, "pooled?", &resp, NULL), 0);
	assert_string_equal(resp, "pooled?");
	free(resp);
}

static void isolation_is_the_same(void **state)
{
	if (*state == NULL)
		skip();
	{
		struct pool_fixture *p = *state;
		struct ebcc__sandbox_pool_stats st;
		struct ebcc__sandbox_pool *pool;
		struct fx_stage direct, first, pooled;
		char *iso_direct, *iso_pooled, *details = NULL;
		struct json_object *probe, *sandbox, *o, *v;
		pid_t pid_direct, pid_pooled;

		/* Off by default: the pool keeps nothing, the stage is spawned on the spot. */
		pool = ebcc__context_sandbox_pool(p->ctx);
		assert_non_null(pool);
		load(p, &direct);
		iso_direct = isolation_of(&direct, &pid_direct);
		ebcc__sandbox_pool_stats(pool, &st);
		assert_int_equal(st.made, 0);
		assert_int_equal(st.hits, 0);
		assert_int_equal(st.ready, 0);

		set_pool(p, "2", NULL);
		assert_true(ebcc__context_sandbox_pool(p->ctx) == pool);
		load(p, &first); /* the first demand: a miss, and the pool fills */
		unload(p, &first);
		wait_ready(pool, 2);
		wait_helpers(pool, 2);
		load(p, &pooled);
		ebcc__sandbox_pool_stats(pool, &st);
		assert_int_equal(st.hits, 1);
		assert_int_equal(st.misses, 1);
		/* Its security monitor was forked beforehand too; echo_once() below checks that the
		 * report it made is the monitor's for this stage and answer. */
		assert_int_equal(st.helper_hits, 1);
		assert_int_equal(st.helper_misses, 1);
		iso_pooled = isolation_of(&pooled, &pid_pooled);
		assert_string_equal(iso_pooled, iso_direct);
		assert_true(pid_pooled != pid_direct);
		same_confinement(pid_direct, pid_pooled);
		/* ... and what probe says this host allows. */
		assert_int_equal(p->f->ops->probe(&p->s.env, &details, NULL), 1);
		probe = json_tokener_parse(details);
		o = json_tokener_parse(iso_pooled);
		assert_true(json_object_object_get_ex(probe, "sandbox", &sandbox));
		assert_true(json_object_object_get_ex(o, "sandbox", &v));
		assert_string_equal(json_object_to_json_string_ext(sandbox, JSON_C_TO_STRING_PLAIN),
				    json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
		json_object_put(probe);
		json_object_put(o);
		free(details);

		echo_once(p, &pooled);
		echo_once(p, &direct);
		unload(p, &pooled);
		unload(p, &direct);
		free(iso_direct);
		free(iso_pooled);
	}
}

/* Every invocation gets a sandbox of its own: a new process in new namespaces. */
static void never_shared(void **state)
{
	if (*state == NULL)
		skip();
	{
		struct pool_fixture *p = *state;
		struct ebcc__sandbox_pool_stats st;
		struct ebcc__sandbox_pool *pool;
		struct fx_stage s[6];
		pid_t pids[6];
		unsigned long pidns[6];

		set_pool(p, "3", NULL);
		pool = ebcc__context_sandbox_pool(p->ctx);
		load(p, &s[0]);
		wait_ready(pool, 3);
		for (int i = 1; i < 6; i++)
			load(p, &s[i]); /* faster than the pool refills: some hits, maybe misses */
		for (int i = 0; i < 6; i++) {
			free(isolation_of(&s[i], &pids[i]));
			pidns[i] = ns_inode(pids[i], "pid");
			for (int j = 0; j < i; j++) {
				assert_true(pids[i] != pids[j]);
				assert_true(pidns[i] != pidns[j]);
			}
		}
		for (int i = 0; i < 6; i++) {
			echo_once(p, &s[i]);
			unload(p, &s[i]);
		}
		ebcc__sandbox_pool_stats(pool, &st);
		assert_true(st.hits >= 3);
		assert_int_equal(st.hits + st.misses, 6);
		/* A stage that has run is gone (reaped by the pool), never back in it. */
		for (int i = 0; i < 6; i++)
			wait_gone(pool, pids[i]);
	}
}

/* Idle sandboxes end; freeing the context ends the rest; nothing is left behind. */
static void idle_and_drain(void **state)
{
	if (*state == NULL)
		skip();
	{
		struct pool_fixture *p = *state;
		struct ebcc__sandbox_pool_stats st;
		struct ebcc__sandbox_pool *pool;
		struct fx_stage s;

		wait_children(0);
		set_pool(p, "2", "1500");
		pool = ebcc__context_sandbox_pool(p->ctx);
		reaper = pool;
		load(p, &s);
		unload(p, &s);
		wait_ready(pool, 2);
		wait_helpers(pool, 2); /* the sim stage's monitors */
		/* ... and the pool's zygote, which makes them (the stage that ran, and its monitor,
		 * are reaped at the pool's next use: wait_ready() above) */
		wait_children(5);
		sleep_ms(3500);
		ebcc__sandbox_pool_stats(pool, &st);
		assert_int_equal(st.ready, 0);
		assert_int_equal(st.helpers_ready, 0);
		assert_true(st.expired >= 4);
		wait_children(1);
		/* Quiet: it stays empty until the next demand. */
		sleep_ms(100);
		ebcc__sandbox_pool_stats(pool, &st);
		assert_int_equal(st.ready + st.helpers_ready, 0);
		assert_int_equal(count_children(), 1);

		set_pool(p, "2", "60000");
		load(p, &s);
		unload(p, &s);
		wait_ready(pool, 2);
		wait_helpers(pool, 2);
		/* A size of 0 ends them. */
		set_pool(p, "0", NULL);
		wait_ready(pool, 0);
		wait_helpers(pool, 0);
		wait_children(1);
		set_pool(p, "2", NULL);
		load(p, &s);
		unload(p, &s);
		wait_ready(pool, 2);
		wait_helpers(pool, 2);
		ebcc__backend_session_close(&p->s);
		reaper = NULL;
		p->ctx = ebcc_context_unref(p->ctx);
		assert_int_equal(count_children(), 0);
		/* teardown: a context to release again */
		assert_int_equal(ebcc_context_new(&p->ctx), 0);
		memset(&p->s, 0, sizeof(p->s));
		p->s.env.data_dir_fd = -1;
	}
}

/* A child of fork() never takes its parent's sandboxes (they are not its children). */
static void fork_child_spawns_its_own(void **state)
{
	if (*state == NULL)
		skip();
	{
		struct pool_fixture *p = *state;
		struct ebcc__sandbox_pool_stats before, after;
		struct ebcc__sandbox_pool *pool;
		struct fx_stage s;
		int status = 0;
		pid_t child;

		set_pool(p, "2", NULL);
		pool = ebcc__context_sandbox_pool(p->ctx);
		load(p, &s);
		unload(p, &s);
		wait_ready(pool, 2);
		ebcc__sandbox_pool_stats(pool, &before);
		child = fork();
		assert_true(child >= 0);
		if (child == 0) {
			struct ebcc__sandbox_pool_stats mine;
			struct fx_stage c;
			pid_t pid;
			char *resp = NULL;
			int fd = open(fx_env_path("EBCC_STAGE_ECHO"), O_RDONLY | O_CLOEXEC);
			bool ok;

			ebcc__sandbox_pool_stats(pool, &mine);
			memset(&c, 0, sizeof(c));
			c.params = fx_params(EBCC_LIFETIME_INVOCATION, "echo", fd, -1);
			c.st.size = sizeof(c.st);
			ok = mine.ready == 0 && mine.hits == 0 &&
			     p->f->ops->stage_load(&p->s.env, &c.params, &c.st, NULL) == 0;
			if (ok) {
				free(isolation_of(&c, &pid));
				/* The stage is a child of ours, spawned on the spot. */
				ok = parent_of(pid) == getpid() &&
				     fx_invoke(p->f, c.st.handle, "x", &resp, NULL) == 0 &&
				     strcmp(resp, "x") == 0;
				p->f->ops->stage_unload(&p->s.env, c.st.handle, NULL);
			}
			_exit(ok ? 0 : 1);
		}
		assert_int_equal(waitpid(child, &status, 0), child);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
		ebcc__sandbox_pool_stats(pool, &after);
		assert_int_equal(after.hits, before.hits);
		assert_int_equal(after.ready, 2);
	}
}

static void *load_unload(void *arg)
{
	struct pool_fixture *p = arg;
	struct fx_stage s;

	load(p, &s);
	unload(p, &s);
	return NULL;
}

/* The pooled processes outlive the thread that asked first (their parent-death signal is the
 * pool's own thread's), so a thread pool in the embedder does not kill them. */
static void first_thread_may_exit(void **state)
{
	if (*state == NULL)
		skip();
	{
		struct pool_fixture *p = *state;
		struct ebcc__sandbox_pool_stats st;
		struct ebcc__sandbox_pool *pool;
		struct fx_stage s;
		pthread_t t;

		set_pool(p, "2", NULL);
		pool = ebcc__context_sandbox_pool(p->ctx);
		assert_int_equal(pthread_create(&t, NULL, load_unload, p), 0);
		assert_int_equal(pthread_join(t, NULL), 0);
		wait_ready(pool, 2);
		wait_helpers(pool, 2);
		sleep_ms(50);
		load(p, &s);
		ebcc__sandbox_pool_stats(pool, &st);
		assert_int_equal(st.hits, 1);
		assert_int_equal(st.helper_hits, 1);
		echo_once(p, &s);
		unload(p, &s);
	}
}

/* An image that cannot be executed fails in a pooled sandbox as it does on the spot. */
static void exec_failure_is_the_same(void **state)
{
	if (*state == NULL)
		skip();
	{
		struct pool_fixture *p = *state;
		char path[PATH_MAX + 16], direct_msg[512];
		struct ebcc__sandbox_pool *pool;
		struct ebcc__sandbox_pool_stats st;
		struct ebcc__sandbox_spec spec;
		struct ebcc__sandbox_proc proc;
		int fd, sv[2], r;

		snprintf(path, sizeof(path), "%s/garbage", p->f->root);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, "not an executable\n", 18), 18);
		close(fd);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
		spec = (struct ebcc__sandbox_spec){ .image_fd = fd, .channel_fd = sv[1], .max_files = 16,
						    .argv0 = "garbage" };
		r = ebcc__sandbox_spawn(&spec, &proc);
		assert_int_equal(r, EBCC_ERR_STAGE);
		snprintf(direct_msg, sizeof(direct_msg), "%s", ebcc_last_error_message());
		assert_non_null(strstr(direct_msg, "could not be executed"));

		assert_int_equal(ebcc__sandbox_pool_new(1, 60000, &pool), 0);
		spec.pool = pool;
		r = ebcc__sandbox_spawn(&spec, &proc); /* a miss: the pool starts filling */
		assert_int_equal(r, EBCC_ERR_STAGE);
		wait_ready(pool, 1);
		r = ebcc__sandbox_spawn(&spec, &proc);
		assert_int_equal(r, EBCC_ERR_STAGE);
		assert_string_equal(ebcc_last_error_message(), direct_msg);
		ebcc__sandbox_pool_stats(pool, &st);
		assert_int_equal(st.hits, 0); /* it ran nothing */
		assert_true(st.made >= 1); /* and it refills after handing one out */
		ebcc__sandbox_pool_free(pool);
		close(fd);
		close(sv[0]);
		close(sv[1]);
		wait_children(0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(isolation_is_the_same, setup, teardown),
		cmocka_unit_test_setup_teardown(never_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(idle_and_drain, setup, teardown),
		cmocka_unit_test_setup_teardown(fork_child_spawns_its_own, setup, teardown),
		cmocka_unit_test_setup_teardown(first_thread_may_exit, setup, teardown),
		cmocka_unit_test_setup_teardown(exec_failure_is_the_same, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
