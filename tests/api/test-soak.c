/* SPDX-License-Identifier: MIT */
/*
 * Soak: 8 threads do random lifecycle operations (create, start, invoke, kill, wait, delete,
 * state, list, stage info) over 50 composites for EBCC_SOAK_SECONDS (20 s unless set; CI runs
 * it for 120 s), and now and then SIGKILL a stage process. Every call either succeeds or fails
 * with a code its situation explains (a composite in another state, deleted meanwhile, a
 * stage that was killed); the evidence of every invocation verifies. At the end every composite is
 * consistent (status derivable, OCI state valid, published invocations complete, evidence on
 * disk verifies, a forced delete removes it), no process is left, and the process has not
 * grown: descriptors exactly as at the warm-up point, VmRSS within a slack for the
 * allocator's arenas. Prints operations by kind and outcome, invocations per second, RSS and
 * descriptors before and after.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include <ebcc/ebcc.h>

#include "bundleutil.h"
#include "checkutil.h"

#define THREADS 8
#define COMPOSITES 50
#define DEFAULT_SECONDS 20 /* .ci/run sets EBCC_SOAK_SECONDS=120 */
/* glibc gives each thread an arena; what they keep cached after the warm-up may still grow a
 * little with fragmentation. A leak of even 100 bytes per invocation exceeds this within the
 * default run (tens of thousands of invocations). */
#define RSS_SLACK_KIB (4 * 1024)

/* Under a memory tool RSS says nothing (quarantined frees, shadow memory): the tool checks
 * for leaks itself at exit. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() (RUNNING_ON_VALGRIND != 0)
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND() false
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNDER_SANITIZER true
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define UNDER_SANITIZER true
#endif
#endif
#ifndef UNDER_SANITIZER
#define UNDER_SANITIZER false
#endif

enum op {
	OP_CREATE,
	OP_START,
	OP_INVOKE_WARM,
	OP_INVOKE_FRESH,
	OP_KILL,
	OP_WAIT,
	OP_DELETE,
	OP_DELETE_FORCE,
	OP_STATE,
	OP_LIST,
	OP_INFO,
	OP_SIGKILL_STAGE,
	N_OPS,
};

static const char *const op_names[N_OPS] = {
	"create", "start", "invoke-warm", "invoke-fresh", "kill", "wait", "delete",
	"delete-force", "state", "list", "stage-info", "SIGKILL-stage",
};

/* Relative frequency of each operation. */
static const int op_weight[N_OPS] = { 8, 10, 40, 10, 2, 2, 4, 1, 5, 1, 3, 2 };

/* Outcomes counted per operation: success and the error codes (-1 .. -16). */
#define N_CODES 17

struct soak {
	char *root, *bundle, *plain;
	char warm[16], fresh[16], sleep_arg[32];
	const char *names[3];
	struct ours ours;
	pid_t guard;
	int guard_fd;
	struct ebcc_context *shared;
	char *policy;
	uint64_t end_ns, warm_ns;
	pthread_barrier_t warm_point;
	pthread_mutex_t lock; /* guards what follows */
	unsigned long counts[N_OPS][N_CODES];
	uint64_t ns[N_OPS]; /* time spent in each kind */
	unsigned long invocations;
	char unexpected[4096];
	int n_unexpected;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* VmRSS and VmHWM in KiB, from /proc/self/status. */
static void memory(long *ret_rss, long *ret_hwm)
{
	char *text = slurp("/proc/self/status", NULL), *p;

	assert_non_null(text);
	p = strstr(text, "VmRSS:");
	*ret_rss = p != NULL ? strtol(p + 6, NULL, 10) : -1;
	p = strstr(text, "VmHWM:");
	*ret_hwm = p != NULL ? strtol(p + 6, NULL, 10) : -1;
	free(text);
}

/* Is code what this operation may meet in a composite that others change at the same time? */
static bool expected(enum op op, int code)
{
	switch (code) {
	case 0:
	case EBCC_ERR_NOT_FOUND: /* not created yet, or deleted meanwhile */
		return true;
	case EBCC_ERR_STATE: /* created, running or stopped when another one was needed */
		return op != OP_STATE && op != OP_LIST && op != OP_INFO;
	case EBCC_ERR_EXISTS:
		return op == OP_CREATE;
	case EBCC_ERR_TIMEOUT:
		return op == OP_WAIT;
	case EBCC_ERR_STAGE: /* a stage SIGKILLed by the chaos thread, or killed with its
			      * composite in the middle of the request */
		return op == OP_INVOKE_WARM || op == OP_INVOKE_FRESH;
	default:
		return false;
	}
}

static void count(struct soak *s, enum op op, int code, const char *id, uint64_t ns)
{
	pthread_mutex_lock(&s->lock);
	s->counts[op][code <= 0 && code > -N_CODES ? -code : 0]++;
	s->ns[op] += ns;
	if (!expected(op, code)) {
		size_t used = strlen(s->unexpected);

		if (s->n_unexpected++ < 8)
			snprintf(s->unexpected + used, sizeof(s->unexpected) - used,
				 "%s %s: %s: %s\n", op_names[op], id, ebcc_error_name(code),
				 ebcc_last_error_message());
	}
	pthread_mutex_unlock(&s->lock);
}

static enum op pick_op(unsigned *seed)
{
	int total = 0, r;

	for (int i = 0; i < N_OPS; i++)
		total += op_weight[i];
	r = (int)(rand_r(seed) % (unsigned)total);
	for (int i = 0; i < N_OPS; i++) {
		if (r < op_weight[i])
			return (enum op)i;
		r -= op_weight[i];
	}
	return OP_STATE;
}

/* SIGKILLs a stage process of ours: the warm stage a composite's info names, or any
 * per-invocation one running now. */
static int chaos(struct soak *s, struct ebcc_context *ctx, const char *id, unsigned *seed)
{
	struct ebcc_instance *inst = NULL;
	struct json_object *o, *iso, *pid;
	char *info = NULL;
	int r;

	if (rand_r(seed) % 2) {
		struct ours fresh = { .root = "/nonexistent", .names = &s->names[1], .n_names = 1 };
		pid_t pids[16];
		int n = ours_find(&fresh, pids, 16);

		if (n > 0)
			kill(pids[rand_r(seed) % (unsigned)(n < 16 ? n : 16)], SIGKILL);
		return 0;
	}
	r = ebcc_instance_open(ctx, id, &inst);
	if (r == 0)
		r = ebcc_stage_info(inst, s->warm, &info);
	ebcc_instance_unref(inst);
	if (r != 0)
		return r == EBCC_ERR_NOT_FOUND ? 0 : r;
	o = json_tokener_parse(info);
	if (o != NULL && json_object_object_get_ex(o, "isolation", &iso) &&
	    json_object_object_get_ex(iso, "pid", &pid)) {
		struct ours warm = { .root = "/nonexistent", .names = &s->names[0], .n_names = 1 };
		pid_t pids[64];
		int n = ours_find(&warm, pids, 64);

		/* Only if it still is one of our stage processes (not a recycled pid). */
		for (int i = 0; i < n && i < 64; i++)
			if (pids[i] == json_object_get_int(pid))
				kill(pids[i], SIGKILL);
	}
	json_object_put(o);
	ebcc_free(info);
	return 0;
}

static int invoke(struct soak *s, struct ebcc_context *ctx, struct ebcc_instance *inst,
		  const char *stage, unsigned *seed)
{
	struct ebcc_invocation *inv = NULL;
	struct ebcc_evidence *ev = NULL;
	char request[64], nonce[16];
	const void *data;
	size_t len;
	int r, n = snprintf(request, sizeof(request), "upper:soak %u", rand_r(seed));

	snprintf(nonce, sizeof(nonce), "%08x", rand_r(seed));
	r = ebcc_stage_invoke(inst, stage, request, (size_t)n, nonce, 8, &inv);
	if (r != 0)
		return r;
	/* The answer and its evidence, every time. */
	if (ebcc_invocation_response(inv, &data, &len) != 0 || len != (size_t)n - 6 ||
	    memcmp(data, "SOAK ", 5) != 0)
		r = EBCC_ERR_CORRUPT;
	else if (ebcc_invocation_evidence(inv, &ev) != 0 ||
		 ebcc_evidence_verify(ctx, ev, s->policy) != 0)
		r = EBCC_ERR_VERIFY;
	ebcc_evidence_unref(ev);
	ebcc_invocation_unref(inv);
	if (r == 0) {
		pthread_mutex_lock(&s->lock);
		s->invocations++;
		pthread_mutex_unlock(&s->lock);
	}
	return r;
}

static int one_op(struct soak *s, struct ebcc_context *ctx, enum op op, const char *id,
		  unsigned *seed)
{
	struct ebcc_instance *inst = NULL;
	char *text = NULL;
	int r, exit_status;

	if (op == OP_CREATE) {
		r = ebcc_instance_create(ctx, id, rand_r(seed) % 2 ? s->bundle : s->plain, &inst);
		ebcc_instance_unref(inst);
		return r;
	}
	if (op == OP_LIST) {
		r = ebcc_instance_list(ctx, &text);
		ebcc_free(text);
		return r;
	}
	if (op == OP_SIGKILL_STAGE)
		return chaos(s, ctx, id, seed);
	r = ebcc_instance_open(ctx, id, &inst);
	if (r != 0)
		return r;
	switch (op) {
	case OP_START:
		r = ebcc_instance_start(inst);
		break;
	case OP_INVOKE_WARM:
		r = invoke(s, ctx, inst, s->warm, seed);
		break;
	case OP_INVOKE_FRESH:
		r = invoke(s, ctx, inst, s->fresh, seed);
		break;
	case OP_KILL:
		r = ebcc_instance_kill(inst, rand_r(seed) % 2 ? SIGTERM : SIGKILL);
		break;
	case OP_WAIT:
		r = ebcc_instance_wait(inst, 20, &exit_status);
		break;
	case OP_DELETE:
		r = ebcc_instance_delete(inst, 0);
		break;
	case OP_DELETE_FORCE:
		r = ebcc_instance_delete(inst, EBCC_DELETE_FORCE);
		break;
	case OP_STATE:
		r = ebcc_instance_state(inst, &text);
		ebcc_free(text);
		break;
	case OP_INFO:
		r = ebcc_stage_info(inst, rand_r(seed) % 2 ? s->warm : s->fresh, &text);
		ebcc_free(text);
		break;
	default:
		r = EBCC_ERR_INVALID_ARG;
		break;
	}
	ebcc_instance_unref(inst);
	return r;
}

struct worker {
	struct soak *s;
	int index;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct soak *s = w->s;
	unsigned seed = (unsigned)(w->index * 7919 + (int)getpid());
	struct ebcc_context *ctx = s->shared;
	bool warmed = false;

	/* Half the threads share a context, the others have their own. */
	if (w->index % 2) {
		ctx = NULL;
		if (ebcc_context_new(&ctx) != 0 ||
		    ebcc_context_set_option(ctx, "state_root", s->root) != 0)
			abort();
	}
	for (;;) {
		uint64_t now = now_ns();
		char id[16];
		enum op op;
		int r;

		if (!warmed && now >= s->warm_ns) {
			pthread_barrier_wait(&s->warm_point); /* the main thread measures */
			pthread_barrier_wait(&s->warm_point);
			warmed = true;
		}
		if (now >= s->end_ns && warmed)
			break;
		op = pick_op(&seed);
		snprintf(id, sizeof(id), "s%02u", rand_r(&seed) % COMPOSITES);
		r = one_op(s, ctx, op, id, &seed);
		count(s, op, r, id, now_ns() - now);
	}
	if (ctx != s->shared)
		ebcc_context_unref(ctx);
	return NULL;
}

static int setup(void **state)
{
	struct soak *s = calloc(1, sizeof(*s));
	char stages[512], process[256];

	if (echo_stage_path() == NULL) {
		free(s);
		return -1;
	}
	snprintf(s->warm, sizeof(s->warm), "sw%x", (unsigned)getpid());
	snprintf(s->fresh, sizeof(s->fresh), "sf%x", (unsigned)getpid());
	snprintf(s->sleep_arg, sizeof(s->sleep_arg), "86402.%d", (int)getpid());
	s->names[0] = s->warm;
	s->names[1] = s->fresh;
	s->names[2] = s->sleep_arg;
	s->root = scratch_dir("soak-root");
	s->bundle = scratch_dir("soak-bundle");
	s->plain = scratch_dir("soak-plain");
	s->ours = (struct ours){ .root = s->root, .names = s->names, .n_names = 3 };
	s->guard = guard_start(&s->ours, (const char *const[]){ s->root, s->bundle, s->plain }, 3,
			       &s->guard_fd);
	snprintf(stages, sizeof(stages),
		 "[{\"name\": \"%s\", \"image\": \"stages/echo\"},"
		 " {\"name\": \"%s\", \"image\": \"stages/echo\", \"lifetime\": \"invocation\"}]",
		 s->warm, s->fresh);
	snprintf(process, sizeof(process), "{\"args\": [\"/bin/sleep\", \"%s\"], \"cwd\": \"/\"}",
		 s->sleep_arg);
	make_bundle(s->bundle, process, stages);
	make_bundle(s->plain, NULL, stages);
	s->shared = context_at(s->root);
	s->policy = policy_for_sim(s->shared);
	pthread_mutex_init(&s->lock, NULL);
	*state = s;
	return 0;
}

static int teardown(void **state)
{
	struct soak *s = *state;

	ours_kill(&s->ours);
	ebcc_context_unref(s->shared);
	free(s->policy);
	scratch_remove(s->root);
	scratch_remove(s->bundle);
	scratch_remove(s->plain);
	guard_stop(s->guard, s->guard_fd);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return 0;
}

static void soak(void **state)
{
	struct soak *s = *state;
	const char *env = getenv("EBCC_SOAK_SECONDS");
	long seconds = env != NULL ? strtol(env, NULL, 10) : DEFAULT_SECONDS;
	struct worker workers[THREADS];
	pthread_t threads[THREADS];
	long rss0, hwm0, rss1, hwm1;
	int fds0, fds1, left;
	uint64_t start, warm_at, stop;
	unsigned long total = 0;

	if (seconds < 4)
		seconds = 4;
	start = now_ns();
	/* The first tenth (at most 15 s) warms up: arenas, caches, the device key. */
	s->warm_ns = start + (uint64_t)(seconds < 150 ? seconds : 150) * 100000000u;
	s->end_ns = start + (uint64_t)seconds * 1000000000u;
	assert_int_equal(pthread_barrier_init(&s->warm_point, NULL, THREADS + 1), 0);
	for (int i = 0; i < THREADS; i++) {
		workers[i] = (struct worker){ .s = s, .index = i };
		assert_int_equal(pthread_create(&threads[i], NULL, work, &workers[i]), 0);
	}
	pthread_barrier_wait(&s->warm_point);
	warm_at = now_ns();
	memory(&rss0, &hwm0);
	fds0 = count_fds();
	pthread_barrier_wait(&s->warm_point);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(threads[i], NULL), 0);
	stop = now_ns();
	pthread_barrier_destroy(&s->warm_point);
	memory(&rss1, &hwm1);
	fds1 = count_fds();

	print_message("soak: %ld s, %d threads, %d composites\n", seconds, THREADS, COMPOSITES);
	for (int op = 0; op < N_OPS; op++) {
		char line[512];
		size_t used = 0;
		unsigned long n = 0;

		for (int c = 0; c < N_CODES; c++)
			n += s->counts[op][c];
		total += n;
		used += (size_t)snprintf(line, sizeof(line), "  %-13s %7lu %6.2f ms:", op_names[op], n,
					 n > 0 ? (double)s->ns[op] / 1e6 / (double)n : 0.0);
		for (int c = 0; c < N_CODES; c++)
			if (s->counts[op][c] > 0)
				used += (size_t)snprintf(line + used, sizeof(line) - used, " %s %lu",
							 c == 0 ? "ok" : ebcc_error_name(-c) + 9,
							 s->counts[op][c]);
		print_message("%s\n", line);
	}
	print_message("  operations %lu (%.0f/s), invocations %lu (%.1f/s)\n", total,
		      (double)total * 1e9 / (double)(stop - start), s->invocations,
		      (double)s->invocations * 1e9 / (double)(stop - start));
	print_message("  after warm-up (%.1f s): VmRSS %ld KiB, VmHWM %ld KiB, %d fds\n",
		      (double)(warm_at - start) / 1e9, rss0, hwm0, fds0);
	print_message("  at the end:             VmRSS %ld KiB, VmHWM %ld KiB, %d fds\n", rss1,
		      hwm1, fds1);
	if (s->n_unexpected > 0)
		fail_msg("%d unexpected outcomes, the first ones:\n%s", s->n_unexpected,
			 s->unexpected);
	assert_true(s->invocations > 0);

	/* No growth: every descriptor a call opened is closed again, memory within the
	 * allocator's slack. */
	if (fds1 > fds0)
		fail_msg("descriptors grew from %d to %d", fds0, fds1);
	if (UNDER_SANITIZER || UNDER_VALGRIND())
		print_message("  (VmRSS not compared under a memory tool: it checks leaks itself)\n");
	else if (rss1 > rss0 + RSS_SLACK_KIB)
		fail_msg("VmRSS grew from %ld to %ld KiB (slack %d KiB)", rss0, rss1,
			 RSS_SLACK_KIB);

	/* Every composite is consistent, its evidence verifies, and a forced delete removes it. */
	for (int i = 0; i < COMPOSITES; i++) {
		struct ebcc_instance *inst = NULL;
		struct stage_seen seen[4];
		char id[16];
		int r, n;

		snprintf(id, sizeof(id), "s%02d", i);
		r = ebcc_instance_open(s->shared, id, &inst);
		if (r == EBCC_ERR_NOT_FOUND)
			continue;
		assert_int_equal(r, 0);
		check_oci_state(inst, id);
		n = check_artifacts(s->shared, s->root, id, id, s->policy, seen, 4);
		for (int k = 0; k < n && k < 4; k++)
			assert_true(stage_last_seq(inst, seen[k].name) >= seen[k].max_seq);
		r = ebcc_instance_delete(inst, EBCC_DELETE_FORCE);
		if (r != 0)
			fail_msg("forced delete of %s: %s: %s", id, ebcc_error_name(r),
				 ebcc_last_error_message());
		ebcc_instance_unref(inst);
	}
	left = ours_wait_gone(&s->ours, 10000);
	if (left > 0) {
		char buf[2048];

		ours_describe(&s->ours, buf, sizeof(buf));
		fail_msg("%d processes left: %s", left, buf);
	}
	{
		char *list = NULL;

		assert_int_equal(ebcc_instance_list(s->shared, &list), 0);
		assert_string_equal(list, "[]");
		ebcc_free(list);
	}
	assert_int_equal(count_entries(s->root), 1); /* .ebcc */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(soak, setup, teardown),
	};

	if (echo_stage_path() == NULL) {
		fprintf(stderr, "the echo stage is not built: skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
