/* SPDX-License-Identifier: MIT */
/*
 * Hostile stages and peers through the public API on the sim backend: a stage that floods its
 * log, sends frames larger than announced or than its maxResponse, answers after its deadline,
 * forks, exits in the middle of a frame; local processes that reach a warm stage's socket with
 * another uid or speak raw frames with ours; files planted in a composite's directory (a FIFO
 * as state.json or exit, symlinks as lock, state.json or a stage directory, a regular file as
 * the anchor's gate, a FIFO as the sequence counter). Each is contained with a precise code
 * and message, the host never blocks (an alarm guards every test), and other stages and
 * composites keep working.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include <ebcc/ebcc.h>

#include "bundleutil.h"
#include "checkutil.h"

#define WATCHDOG_S 300 /* a test that blocks is killed by SIGALRM, not waited for */
#define NOBODY 65534

struct fx {
	char *root, *bundle;
	char warm[16], fresh[16], calm[16], sleep_arg[32];
	const char *names[4];
	struct ours ours;
	pid_t guard;
	int guard_fd;
	struct ebcc_context *ctx;
	char *policy;
	struct ebcc_instance *bystander;
};

#define assert_contains(haystack, needle)                                                  \
	do {                                                                               \
		if (strstr((haystack), (needle)) == NULL)                                  \
			fail_msg("\"%s\" does not contain \"%s\"", (haystack), (needle)); \
	} while (0)

static void must(int r, const char *what)
{
	if (r != 0)
		fail_msg("%s: %s: %s", what, ebcc_error_name(r), ebcc_last_error_message());
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *hostile = getenv("EBCC_STAGE_HOSTILE");
	char stages[1024], process[256];

	if (echo_stage_path() == NULL || hostile == NULL) {
		free(f);
		return -1;
	}
	alarm(WATCHDOG_S);
	snprintf(f->warm, sizeof(f->warm), "hw%x", (unsigned)getpid());
	snprintf(f->fresh, sizeof(f->fresh), "hv%x", (unsigned)getpid());
	snprintf(f->calm, sizeof(f->calm), "hc%x", (unsigned)getpid());
	snprintf(f->sleep_arg, sizeof(f->sleep_arg), "86401.%d", (int)getpid());
	f->names[0] = f->warm;
	f->names[1] = f->fresh;
	f->names[2] = f->calm;
	f->names[3] = f->sleep_arg;
	f->root = scratch_dir("hostile-root");
	f->bundle = scratch_dir("hostile-bundle");
	f->ours = (struct ours){ .root = f->root, .names = f->names, .n_names = 4 };
	f->guard = guard_start(&f->ours, (const char *const[]){ f->root, f->bundle }, 2,
			       &f->guard_fd);
	snprintf(stages, sizeof(stages),
		 "[{\"name\": \"%s\", \"image\": \"stages/hostile\", \"timeoutMs\": 1000,"
		 "  \"maxResponse\": 1024},"
		 " {\"name\": \"%s\", \"image\": \"stages/hostile\", \"lifetime\": \"invocation\","
		 "  \"timeoutMs\": 1000, \"maxResponse\": 1024},"
		 " {\"name\": \"%s\", \"image\": \"stages/echo\"}]",
		 f->warm, f->fresh, f->calm);
	snprintf(process, sizeof(process),
		 "{\"args\": [\"/bin/sleep\", \"%s\"], \"cwd\": \"/\"}", f->sleep_arg);
	make_bundle(f->bundle, process, stages);
	copy_file(hostile, f->bundle, "stages/hostile", 0755);
	f->ctx = context_at(f->root);
	f->policy = policy_for_sim(f->ctx);
	/* A composite that has nothing to do with any of it, and must not notice. */
	must(ebcc_instance_create(f->ctx, "bystander", f->bundle, &f->bystander), "create");
	must(ebcc_instance_start(f->bystander), "start");
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	ebcc_instance_delete(f->bystander, EBCC_DELETE_FORCE);
	ebcc_instance_unref(f->bystander);
	ours_kill(&f->ours);
	ebcc_context_unref(f->ctx);
	free(f->policy);
	scratch_remove(f->root);
	scratch_remove(f->bundle);
	guard_stop(f->guard, f->guard_fd);
	free(f);
	alarm(0);
	return 0;
}

/* The invocation's response, or NULL and the code in *ret_code. */
static char *invoke(struct ebcc_instance *inst, const char *stage, const char *request,
		    int *ret_code)
{
	struct ebcc_invocation *inv = NULL;
	const void *data;
	size_t len;
	char *copy;
	int r = ebcc_stage_invoke(inst, stage, request, strlen(request), NULL, 0, &inv);

	*ret_code = r;
	if (r != 0)
		return NULL;
	assert_int_equal(ebcc_invocation_response(inv, &data, &len), 0);
	copy = calloc(1, len + 1);
	memcpy(copy, data, len);
	ebcc_invocation_unref(inv);
	return copy;
}

static void invoke_expect(struct ebcc_instance *inst, const char *stage, const char *request,
			  const char *answer)
{
	int r;
	char *resp = invoke(inst, stage, request, &r);

	if (r != 0)
		fail_msg("%s %s: %s: %s", stage, request, ebcc_error_name(r),
			 ebcc_last_error_message());
	assert_string_equal(resp, answer);
	free(resp);
}

/* Nothing else noticed: the composite's calm stage and the bystander composite answer. */
static void others_fine(struct fx *f, struct ebcc_instance *inst)
{
	if (inst != NULL)
		invoke_expect(inst, f->calm, "still here", "still here");
	invoke_expect(f->bystander, f->calm, "me too", "me too");
	invoke_expect(f->bystander, f->warm, "echo:fine", "fine");
	invoke_expect(f->bystander, f->fresh, "echo:fine", "fine");
}

static struct ebcc_instance *composite(struct fx *f, const char *id, bool start)
{
	struct ebcc_instance *inst = NULL;

	must(ebcc_instance_create(f->ctx, id, f->bundle, &inst), "create");
	if (start)
		must(ebcc_instance_start(inst), "start");
	return inst;
}

static void gone(struct fx *f, struct ebcc_instance *inst, const char *id)
{
	struct stage_seen seen[4];

	check_artifacts(f->ctx, f->root, id, id, f->policy, seen, 4);
	must(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), "delete");
	ebcc_instance_unref(inst);
}

/* ---- hostile stages ------------------------------------------------------------------------ */

struct misdeed {
	const char *request;
	int code;                   /* of the invocation (both lifetimes) */
	const char *m1, *m2;        /* in its message */
	const char *answer;         /* when it succeeds */
	bool warm_survives;         /* the warm stage answers the next request */
};

static const struct misdeed misdeeds[] = {
	/* The log budget holds; the answer still arrives. */
	{ "logflood", 0, NULL, NULL, "done", true },
	/* Larger than maxResponse, honestly announced or not: cut off at the header. */
	{ "bigresp:4096", EBCC_ERR_STAGE, "RESPONSE frame of 4096 bytes",
	  "more than the stage's limit of 1024 bytes", NULL, true },
	{ "oversize", EBCC_ERR_STAGE, "RESPONSE frame of 1073741824 bytes",
	  "limit of 1024 bytes", NULL, true },
	/* More bytes than announced: what follows is read as the next header. */
	{ "overlong", EBCC_ERR_STAGE, "broke the channel protocol", "bad magic", NULL, true },
	/* ...or never read at all: the response is what was announced, no more. */
	{ "overlongresp", 0, NULL, NULL, "okay", true },
	{ "garbage", EBCC_ERR_STAGE, "broke the channel protocol", "bad magic", NULL, true },
	/* After its deadline: killed, and a dead warm stage is reported, never waited for. */
	{ "late:3000", EBCC_ERR_TIMEOUT, "did not answer within 1000 ms", NULL, NULL, false },
	/* Forks: the sandbox kills it. */
	{ "fork", EBCC_ERR_STAGE, "closed the channel without answering", NULL, NULL, false },
	/* Exits in the middle of a frame. */
	{ "halfexit", EBCC_ERR_STAGE,
	  "closed the channel in the middle of a RESPONSE frame (100 of 1000 bytes)", NULL, NULL,
	  false },
	/* Hangs up in the middle of a frame and serves on. */
	{ "half", EBCC_ERR_STAGE, "in the middle of a RESPONSE frame", NULL, NULL, true },
	{ "crash", EBCC_ERR_STAGE, "closed the channel without answering", NULL, NULL, false },
};

/* What the failed invocation left: a complete record with the error, and its log. */
static void recorded(struct fx *f, const char *id, const char *stage, uint64_t seq,
		     int code, size_t *ret_log_size)
{
	char path[4400], *meta, *log;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/%s/stages/%s/%" PRIu64 "/meta.json", f->root, id, stage,
		 seq);
	meta = slurp(path, NULL);
	if (meta == NULL)
		fail_msg("%s is missing", path);
	if (code == 0) {
		assert_contains(meta, "\"status\": \"ok\"");
	} else {
		assert_contains(meta, "\"status\": \"error\"");
		assert_contains(meta, ebcc_error_name(code));
	}
	free(meta);
	snprintf(path, sizeof(path), "%s/%s/stages/%s/%" PRIu64 "/log.txt", f->root, id, stage,
		 seq);
	log = slurp(path, &len);
	assert_non_null(log);
	free(log);
	if (ret_log_size != NULL)
		*ret_log_size = len;
}

static void one_misdeed(struct fx *f, const struct misdeed *m, const char *stage, bool warm,
			const char *id, struct ebcc_instance *inst)
{
	uint64_t before = stage_last_seq(inst, stage);
	size_t log_size = 0;
	char *resp, *after;
	int r;

	resp = invoke(inst, stage, m->request, &r);
	print_message("%-12s %-5s %s: %s\n", m->request, warm ? "warm" : "fresh",
		      ebcc_error_name(r), r != 0 ? ebcc_last_error_message() : resp);
	if (r != m->code)
		fail_msg("%s (%s): %s instead of %s: %s", m->request, stage, ebcc_error_name(r),
			 ebcc_error_name(m->code), ebcc_last_error_message());
	if (r != 0) {
		assert_contains(ebcc_last_error_message(), stage);
		if (m->m1 != NULL)
			assert_contains(ebcc_last_error_message(), m->m1);
		if (m->m2 != NULL)
			assert_contains(ebcc_last_error_message(), m->m2);
	} else {
		assert_string_equal(resp, m->answer);
	}
	free(resp);
	assert_int_equal(stage_last_seq(inst, stage), before + 1);
	recorded(f, id, stage, before + 1, r, &log_size);
	if (strcmp(m->request, "logflood") == 0) {
		/* 2 MiB sent, at most the 1 MiB budget and the note kept. */
		assert_true(log_size > ((size_t)1 << 20) - 8192);
		assert_true(log_size <= ((size_t)1 << 20) + 128);
	}

	/* The next request: a fresh stage for a per-invocation one; the same warm one, which
	 * either answers or is reported dead at once. */
	after = invoke(inst, stage, "echo:after", &r);
	if (!warm || m->warm_survives) {
		if (r != 0)
			fail_msg("%s (%s) then echo: %s: %s", m->request, stage, ebcc_error_name(r),
				 ebcc_last_error_message());
		assert_string_equal(after, "after");
	} else {
		assert_int_equal(r, EBCC_ERR_STAGE);
		assert_contains(ebcc_last_error_message(), "is not running");
	}
	free(after);
}

/* A caller's timeout shortens the stage's for one call: a late answer within the stage's 1 s
 * but after the caller's 200 ms is a timeout; the next call, without one, gets its answer. */
static void caller_timeout(void **state)
{
	struct fx *f = *state;
	struct ebcc_instance *inst = composite(f, "tm", true);
	struct ebcc_invoke_options opts = EBCC_INVOKE_OPTIONS_INIT;
	struct ebcc_invocation *inv = NULL;

	opts.timeout_ms = 200;
	assert_int_equal(ebcc_stage_invoke_with(inst, f->fresh, "late:600", 8, &opts, &inv),
			 EBCC_ERR_TIMEOUT);
	assert_contains(ebcc_last_error_message(), "did not answer within 200 ms");
	recorded(f, "tm", f->fresh, 1, EBCC_ERR_TIMEOUT, NULL);
	invoke_expect(inst, f->fresh, "late:600", "late");
	others_fine(f, inst);
	gone(f, inst, "tm");
}

static void hostile_stages(void **state)
{
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(misdeeds) / sizeof(misdeeds[0]); i++) {
		struct ebcc_instance *inst;
		char id[32];

		snprintf(id, sizeof(id), "m%zu", i);
		inst = composite(f, id, true);
		one_misdeed(f, &misdeeds[i], f->warm, true, id, inst);
		one_misdeed(f, &misdeeds[i], f->fresh, false, id, inst);
		others_fine(f, inst);
		gone(f, inst, id);
	}
}

/* ---- peers ---------------------------------------------------------------------------------- */

/* The warm stage's socket, from ebcc_stage_info()'s directory. */
static void socket_of(struct ebcc_instance *inst, const char *stage, struct sockaddr_un *sa)
{
	struct json_object *o, *d;
	char *info = NULL;

	must(ebcc_stage_info(inst, stage, &info), "stage info");
	o = json_tokener_parse(info);
	assert_true(json_object_object_get_ex(o, "directory", &d));
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	assert_true((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/sim.sock",
				     json_object_get_string(d)) < sizeof(sa->sun_path));
	json_object_put(o);
	ebcc_free(info);
}

static void frame_header(uint8_t hdr[8], uint8_t type, uint32_t len)
{
	hdr[0] = 0xEB;
	hdr[1] = 0xCC;
	hdr[2] = 2; /* the channel protocol's version, written out: this test speaks it by hand */
	hdr[3] = type;
	hdr[4] = (uint8_t)len;
	hdr[5] = (uint8_t)(len >> 8);
	hdr[6] = (uint8_t)(len >> 16);
	hdr[7] = (uint8_t)(len >> 24);
}

enum peer_result {
	PEER_ANSWERED = 0,   /* a RESPONSE came back */
	PEER_HUNG_UP = 1,    /* connected, then end of stream without a byte */
	PEER_SILENT = 2,     /* nothing within 5 s */
	PEER_REFUSED = 3,    /* connect() failed with EACCES */
	PEER_OTHER = 4,
};

/* Connects (as uid, or as we are with uid < 0), sends one REQUEST of text in raw frames and
 * says what came back; the response text into buf when answered. */
static int raw_peer(const struct sockaddr_un *sa, int uid, const char *text, char *buf,
		    size_t size)
{
	uint8_t hdr[8], in[2048]; /* a REPORT carries the monitor's report */
	size_t len = strlen(text), got = 0, want = 8;
	struct pollfd p;
	int fd;

	if (uid >= 0 && (setgroups(0, NULL) < 0 || setgid((gid_t)uid) < 0 || setuid((uid_t)uid) < 0))
		return PEER_OTHER;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return PEER_OTHER;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		close(fd);
		return errno == EACCES ? PEER_REFUSED : PEER_OTHER;
	}
	/* A BIND of empty fields (eid and seq 0), then the REQUEST. */
	static const uint8_t bind[40] = { [11] = 8, [23] = 8 };

	frame_header(hdr, 5, sizeof(bind));
	if (send(fd, hdr, 8, MSG_NOSIGNAL) != 8 ||
	    send(fd, bind, sizeof(bind), MSG_NOSIGNAL) != (ssize_t)sizeof(bind)) {
		close(fd);
		return errno == EPIPE || errno == ECONNRESET ? PEER_HUNG_UP : PEER_OTHER;
	}
	frame_header(hdr, 1, (uint32_t)len);
	if (send(fd, hdr, 8, MSG_NOSIGNAL) != 8 || send(fd, text, len, MSG_NOSIGNAL) != (ssize_t)len) {
		close(fd);
		return errno == EPIPE || errno == ECONNRESET ? PEER_HUNG_UP : PEER_OTHER;
	}
	/* LOG frames first (the echo stage logs a line), the REPORT, then the RESPONSE. */
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	for (bool any = false;;) {
		ssize_t n;

		while (got < want) {
			if (poll(&p, 1, 5000) <= 0) {
				close(fd);
				return PEER_SILENT;
			}
			n = recv(fd, in + got, want - got, 0);
			if (n <= 0) {
				close(fd);
				return !any && got == 0 && (n == 0 || errno == ECONNRESET)
					       ? PEER_HUNG_UP
					       : PEER_OTHER;
			}
			got += (size_t)n;
			any = true;
		}
		if (want == 8) {
			want = 8 + ((size_t)in[4] | (size_t)in[5] << 8);
			if (want > sizeof(in) || in[6] != 0 || in[7] != 0) {
				close(fd);
				return PEER_OTHER;
			}
			if (want > 8)
				continue;
		}
		if (in[3] == 2)
			break;
		got = 0; /* a LOG frame: the next one */
		want = 8;
	}
	close(fd);
	snprintf(buf, size, "%.*s", (int)(want - 8), (const char *)in + 8);
	return PEER_ANSWERED;
}

/* The same in a child process of another uid; returns its enum peer_result. */
static int peer_as(const struct sockaddr_un *sa, int uid)
{
	char buf[64];
	int status;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(raw_peer(sa, uid, "intruder", buf, sizeof(buf)));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* Another uid cannot even reach the socket: the state root and the composite are 0700. */
static void other_uid_refused_by_permissions(void **state)
{
	struct fx *f = *state;
	struct sockaddr_un sa;

	if (geteuid() != 0)
		skip();
	socket_of(f->bystander, f->calm, &sa);
	assert_int_equal(peer_as(&sa, NOBODY), PEER_REFUSED);
	others_fine(f, NULL);
}

/* Even where the file permissions let it in, the stage hangs up on a peer of another uid
 * (its peer credentials); the host's next request is served as before. */
static void other_uid_refused_by_peer_check(void **state)
{
	struct fx *f = *state;
	char dir[4400], path[4400];
	const char *const levels[] = { "", "/bystander", "/bystander/stages", NULL };
	struct sockaddr_un sa;
	uint64_t before = stage_last_seq(f->bystander, f->calm);

	if (geteuid() != 0)
		skip();
	socket_of(f->bystander, f->calm, &sa);
	for (size_t i = 0; levels[i] != NULL; i++) {
		snprintf(dir, sizeof(dir), "%s%s", f->root, levels[i]);
		assert_int_equal(chmod(dir, 0711), 0);
	}
	snprintf(path, sizeof(path), "%s/bystander/stages/%s", f->root, f->calm);
	assert_int_equal(chmod(path, 0711), 0);
	assert_int_equal(chmod(sa.sun_path, 0666), 0);

	assert_int_equal(peer_as(&sa, NOBODY), PEER_HUNG_UP);

	assert_int_equal(chmod(sa.sun_path, 0600), 0);
	assert_int_equal(chmod(path, 0700), 0);
	for (size_t i = 0; levels[i] != NULL; i++) {
		snprintf(dir, sizeof(dir), "%s%s", f->root, levels[i]);
		assert_int_equal(chmod(dir, 0700), 0);
	}
	/* It left no trace in the composite and the stage serves on. */
	assert_int_equal(stage_last_seq(f->bystander, f->calm), before);
	others_fine(f, NULL);
}

/*
 * A process of our own uid that speaks raw frames is served: the uid is the boundary (such a
 * process could read the state root and the device key anyway). What it gets is a bare
 * answer: no sequence number, no artifacts, no evidence; the composite does not change.
 */
static void same_uid_raw_frames_are_served(void **state)
{
	struct fx *f = *state;
	struct sockaddr_un sa;
	char buf[64];
	uint64_t before = stage_last_seq(f->bystander, f->calm);
	char stage_dir[4400];
	int n;

	snprintf(stage_dir, sizeof(stage_dir), "%s/bystander/stages/%s", f->root, f->calm);
	n = count_entries(stage_dir);
	socket_of(f->bystander, f->calm, &sa);
	assert_int_equal(raw_peer(&sa, -1, "raw", buf, sizeof(buf)), PEER_ANSWERED);
	assert_string_equal(buf, "raw");
	assert_int_equal(stage_last_seq(f->bystander, f->calm), before);
	assert_int_equal(count_entries(stage_dir), n);
	others_fine(f, NULL);
	assert_int_equal(stage_last_seq(f->bystander, f->calm), before + 1);
}

/* ---- planted files ---------------------------------------------------------------------------- */

static void path_in(struct fx *f, const char *id, const char *rel, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s/%s", f->root, id, rel);
}

/* Moves <id>/<rel> aside (to <rel>.real) so that something else can take its place. */
static void aside(struct fx *f, const char *id, const char *rel)
{
	char a[4400], b[4500];

	path_in(f, id, rel, a, sizeof(a));
	snprintf(b, sizeof(b), "%s.real", a);
	assert_int_equal(rename(a, b), 0);
}

static void restore(struct fx *f, const char *id, const char *rel)
{
	char a[4400], b[4500];

	path_in(f, id, rel, a, sizeof(a));
	snprintf(b, sizeof(b), "%s.real", a);
	assert_int_equal(rename(b, a), 0);
}

static void plant_fifo(struct fx *f, const char *id, const char *rel)
{
	char a[4400];

	path_in(f, id, rel, a, sizeof(a));
	assert_int_equal(mkfifo(a, 0600), 0);
}

static void plant_symlink(struct fx *f, const char *id, const char *rel, const char *target)
{
	char a[4400];

	path_in(f, id, rel, a, sizeof(a));
	assert_int_equal(symlink(target, a), 0);
}

static void unplant(struct fx *f, const char *id, const char *rel)
{
	char a[4400];

	path_in(f, id, rel, a, sizeof(a));
	assert_int_equal(unlink(a), 0);
}

static void expect_code(int r, int code, const char *what, const char *m)
{
	print_message("%-28s %s: %s\n", what, ebcc_error_name(r), ebcc_last_error_message());
	if (r != code)
		fail_msg("%s: %s instead of %s: %s", what, ebcc_error_name(r),
			 ebcc_error_name(code), ebcc_last_error_message());
	if (m != NULL)
		assert_contains(ebcc_last_error_message(), m);
}

/* A composite handle made now (no stage directory cached from before the plant). */
static struct ebcc_instance *reopen(struct fx *f, const char *id)
{
	struct ebcc_instance *inst = NULL;

	must(ebcc_instance_open(f->ctx, id, &inst), "open");
	return inst;
}

static void list_still_works(struct fx *f)
{
	char *list = NULL;

	must(ebcc_instance_list(f->ctx, &list), "list");
	assert_contains(list, "\"bystander\"");
	ebcc_free(list);
}

static void planted_state_fifo(void **state)
{
	struct fx *f = *state;
	struct ebcc_instance *inst = composite(f, "victim", true), *h;
	char *text = NULL;

	aside(f, "victim", "state.json");
	plant_fifo(f, "victim", "state.json");
	h = reopen(f, "victim");
	expect_code(ebcc_instance_status(h), EBCC_ERR_CORRUPT, "status, state.json a FIFO",
		    "victim/state.json is not a regular file");
	expect_code(ebcc_instance_state(h, &text), EBCC_ERR_CORRUPT, "state", "state.json");
	expect_code(ebcc_stage_invoke(h, f->calm, "x", 1, NULL, 0,
				      &(struct ebcc_invocation *){ NULL }),
		    EBCC_ERR_CORRUPT, "invoke", "state.json");
	expect_code(ebcc_instance_kill(h, SIGTERM), EBCC_ERR_CORRUPT, "kill", "state.json");
	expect_code(ebcc_instance_delete(h, 0), EBCC_ERR_CORRUPT, "delete", "state.json");
	list_still_works(f);
	others_fine(f, NULL);
	/* Taken away again, the composite is as it was. */
	unplant(f, "victim", "state.json");
	restore(f, "victim", "state.json");
	invoke_expect(h, f->calm, "back", "back");
	ebcc_instance_unref(h);
	gone(f, inst, "victim");
}

/* A composite whose state cannot be read is not removed, even by force: nobody could find its
 * processes, which would run on after a delete that reported success. */
static void planted_state_fifo_forced_delete(void **state)
{
	struct fx *f = *state;
	struct ebcc_instance *inst = composite(f, "victim", true);

	aside(f, "victim", "state.json");
	plant_fifo(f, "victim", "state.json");
	expect_code(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), EBCC_ERR_CORRUPT,
		    "forced delete", "not deleted");
	others_fine(f, NULL);
	unplant(f, "victim", "state.json");
	restore(f, "victim", "state.json");
	assert_int_equal(ebcc_instance_status(inst), EBCC_STATUS_RUNNING);
	gone(f, inst, "victim");
}

static void planted_state_symlink(void **state)
{
	struct fx *f = *state;
	struct ebcc_instance *inst = composite(f, "victim", true), *h;
	char target[4400];

	/* The bystander's state: it is not to be read, nor written, through the link. */
	path_in(f, "bystander", "state.json", target, sizeof(target));
	aside(f, "victim", "state.json");
	plant_symlink(f, "victim", "state.json", target);
	h = reopen(f, "victim");
	expect_code(ebcc_instance_status(h), EBCC_ERR_PERMISSION, "status, state.json a symlink",
		    "is a symbolic link, which is not followed");
	expect_code(ebcc_instance_kill(h, SIGTERM), EBCC_ERR_PERMISSION, "kill",
		    "symbolic link");
	others_fine(f, NULL);
	assert_int_equal(ebcc_instance_status(f->bystander), EBCC_STATUS_RUNNING);
	unplant(f, "victim", "state.json");
	restore(f, "victim", "state.json");
	invoke_expect(h, f->calm, "back", "back");
	ebcc_instance_unref(h);
	gone(f, inst, "victim");
}

static void planted_exit_fifo(void **state)
{
	struct fx *f = *state;
	struct ebcc_instance *inst = composite(f, "victim", true), *h;
	int exit_status = 0;

	plant_fifo(f, "victim", "exit");
	h = reopen(f, "victim");
	expect_code(ebcc_instance_status(h), EBCC_ERR_CORRUPT, "status, exit a FIFO",
		    "exit record is not a regular file");
	expect_code(ebcc_instance_kill(h, SIGTERM), EBCC_ERR_CORRUPT, "kill", "exit record");
	expect_code(ebcc_instance_wait(h, 100, &exit_status), EBCC_ERR_CORRUPT, "wait",
		    "exit record");
	list_still_works(f);
	others_fine(f, NULL);
	unplant(f, "victim", "exit");
	assert_int_equal(ebcc_instance_status(h), EBCC_STATUS_RUNNING);
	must(ebcc_instance_kill(h, SIGTERM), "kill");
	must(ebcc_instance_wait(h, 20000, &exit_status), "wait");
	assert_true(WIFSIGNALED(exit_status) && WTERMSIG(exit_status) == SIGTERM);
	ebcc_instance_unref(h);
	gone(f, inst, "victim");
}

static void planted_lock_symlink(void **state)
{
	struct fx *f = *state;
	struct ebcc_instance *inst = composite(f, "victim", true), *h;
	char target[4400];
	struct stat before, after;

	/* Pointing at the bystander's lock, which must not be taken through it. */
	path_in(f, "bystander", "lock", target, sizeof(target));
	assert_int_equal(stat(target, &before), 0);
	unplant(f, "victim", "lock");
	plant_symlink(f, "victim", "lock", target);
	h = reopen(f, "victim");
	expect_code(ebcc_instance_kill(h, SIGTERM), EBCC_ERR_PERMISSION, "kill, lock a symlink",
		    "lock is a symbolic link, which is not followed");
	expect_code(ebcc_instance_delete(h, EBCC_DELETE_FORCE), EBCC_ERR_PERMISSION, "delete",
		    "symbolic link");
	/* Reading needs no lock. */
	assert_int_equal(ebcc_instance_status(h), EBCC_STATUS_RUNNING);
	invoke_expect(h, f->calm, "reads", "reads");
	assert_int_equal(stat(target, &after), 0);
	assert_true(before.st_ino == after.st_ino && S_ISREG(after.st_mode));
	others_fine(f, NULL);
	/* The bystander's lock still works (this call takes it, then refuses). */
	assert_int_equal(ebcc_instance_set_pid(f->bystander, (int)getpid()), EBCC_ERR_STATE);
	unplant(f, "victim", "lock");
	must(ebcc_instance_kill(h, SIGTERM), "kill");
	ebcc_instance_unref(h);
	gone(f, inst, "victim");
}

static void planted_stage_dir_symlink(void **state)
{
	struct fx *f = *state;
	struct ebcc_instance *inst = composite(f, "victim", true), *h;
	char rel[64], target[4400];
	uint64_t theirs = stage_last_seq(f->bystander, f->warm);
	int entries;

	/* The bystander's warm stage directory: its socket, its counter, its invocations. */
	snprintf(rel, sizeof(rel), "stages/%s", f->warm);
	path_in(f, "bystander", rel, target, sizeof(target));
	entries = count_entries(target);
	aside(f, "victim", rel);
	plant_symlink(f, "victim", rel, target);
	h = reopen(f, "victim");
	expect_code(ebcc_stage_invoke(h, f->warm, "echo:x", 6, NULL, 0,
				      &(struct ebcc_invocation *){ NULL }),
		    EBCC_ERR_PERMISSION, "invoke, stage dir a symlink",
		    "is a symbolic link, which is not followed");
	invoke_expect(h, f->calm, "calm", "calm");
	assert_int_equal(stage_last_seq(f->bystander, f->warm), theirs);
	assert_int_equal(count_entries(target), entries);
	others_fine(f, NULL);
	unplant(f, "victim", rel);
	restore(f, "victim", rel);
	ebcc_instance_unref(h);
	h = reopen(f, "victim");
	invoke_expect(h, f->warm, "echo:back", "back");
	ebcc_instance_unref(h);
	gone(f, inst, "victim");
}

/* Waits (bounded) until the anchor of a created composite blocks in poll() on its gate. */
static void anchor_at_gate(struct ebcc_instance *inst)
{
	struct json_object *o, *pid;
	char *text = NULL, path[64], *wchan = NULL;

	must(ebcc_instance_state(inst, &text), "state");
	o = json_tokener_parse(text);
	assert_true(json_object_object_get_ex(o, "pid", &pid));
	snprintf(path, sizeof(path), "/proc/%d/wchan", json_object_get_int(pid));
	json_object_put(o);
	ebcc_free(text);
	for (int i = 0; i < 1000; i++) {
		free(wchan);
		wchan = slurp(path, NULL);
		if (wchan != NULL && strncmp(wchan, "poll_schedule_timeout", 21) == 0)
			break;
		usleep(10000);
	}
	if (wchan == NULL || strncmp(wchan, "poll_schedule_timeout", 21) != 0)
		fail_msg("the anchor does not wait at its gate (%s)", wchan != NULL ? wchan : "gone");
	free(wchan);
}

static void planted_gate_file(void **state)
{
	struct fx *f = *state;
	struct ebcc_instance *inst = composite(f, "victim", false), *h;
	char path[4400];
	int fd;

	anchor_at_gate(inst);
	aside(f, "victim", "anchor.fifo");
	path_in(f, "victim", "anchor.fifo", path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	h = reopen(f, "victim");
	expect_code(ebcc_instance_start(h), EBCC_ERR_CORRUPT, "start, gate a regular file",
		    "anchor.fifo is not a FIFO");
	assert_int_equal(ebcc_instance_status(h), EBCC_STATUS_CREATED);
	/* No stage of the failed start is left: only the bystander's warm stage runs. */
	assert_int_equal(ours_find(&(struct ours){ .root = "/nonexistent", .names = f->names,
						   .n_names = 1 },
				   NULL, 0),
			 1);
	others_fine(f, NULL);
	unplant(f, "victim", "anchor.fifo");
	restore(f, "victim", "anchor.fifo");
	must(ebcc_instance_start(h), "start");
	assert_int_equal(ebcc_instance_status(h), EBCC_STATUS_RUNNING);
	invoke_expect(h, f->warm, "echo:started", "started");
	ebcc_instance_unref(h);
	gone(f, inst, "victim");
}

static void planted_seq_fifo(void **state)
{
	struct fx *f = *state;
	struct ebcc_instance *inst = composite(f, "victim", true), *h;
	char rel[64];

	invoke_expect(inst, f->calm, "first", "first");
	snprintf(rel, sizeof(rel), "stages/%s/seq", f->calm);
	aside(f, "victim", rel);
	plant_fifo(f, "victim", rel);
	h = reopen(f, "victim");
	expect_code(ebcc_stage_invoke(h, f->calm, "x", 1, NULL, 0,
				      &(struct ebcc_invocation *){ NULL }),
		    EBCC_ERR_CORRUPT, "invoke, seq a FIFO", "sequence counter seq");
	invoke_expect(h, f->warm, "echo:other stage", "other stage");
	others_fine(f, NULL);
	unplant(f, "victim", rel);
	restore(f, "victim", rel);
	invoke_expect(h, f->calm, "second", "second");
	assert_int_equal(stage_last_seq(h, f->calm), 2);
	ebcc_instance_unref(h);
	gone(f, inst, "victim");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(hostile_stages, setup, teardown),
		cmocka_unit_test_setup_teardown(caller_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(other_uid_refused_by_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(other_uid_refused_by_peer_check, setup, teardown),
		cmocka_unit_test_setup_teardown(same_uid_raw_frames_are_served, setup, teardown),
		cmocka_unit_test_setup_teardown(planted_state_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(planted_state_fifo_forced_delete, setup, teardown),
		cmocka_unit_test_setup_teardown(planted_state_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(planted_exit_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(planted_lock_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(planted_stage_dir_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(planted_gate_file, setup, teardown),
		cmocka_unit_test_setup_teardown(planted_seq_fifo, setup, teardown),
	};

	if (echo_stage_path() == NULL || getenv("EBCC_STAGE_HOSTILE") == NULL) {
		fprintf(stderr, "the echo or hostile stage is not built: skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
