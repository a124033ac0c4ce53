/* SPDX-License-Identifier: MIT */
/*
 * White-box: the sim backend through its ops table, with real stage processes. Measurement,
 * lifetimes, the image swap, refused images, a warm stage reached from another process, a dead
 * warm stage, EIDs across processes, and the stage library surviving a client that hangs up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "../../backends/common/channel.h"
#include "../../backends/common/eid.h"
#include "../../backends/common/image.h"
#include "sim-fixture.h"

static const char *echo_path(void)
{
	return fx_env_path("EBCC_STAGE_ECHO");
}

static const char *scorer_path(void)
{
	return fx_env_path("EBCC_STAGE_SCORER");
}

/* sha256sum's answer for path, as "sha256:<hex>". */
static void sha256sum(const char *path, char out[EBCC_MEASUREMENT_MAX])
{
	char cmd[PATH_MAX + 32], hex[65] = "";
	FILE *p;

	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%64s", hex), 1);
	assert_int_equal(pclose(p), 0);
	snprintf(out, EBCC_MEASUREMENT_MAX, "sha256:%s", hex);
}

static void copy_file(const char *from, const char *to)
{
	char *data = NULL;
	size_t len = 0;
	int fd;

	assert_int_equal(ebcc__file_read_at(AT_FDCWD, from, from, 64 << 20, &data, &len), 0);
	fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	assert_true(fd >= 0);
	assert_int_equal(ebcc__write_all(fd, data, len), 0);
	close(fd);
	free(data);
}

static int setup(void **state)
{
	*state = fx_new();
	return 0;
}

static int teardown(void **state)
{
	fx_free(*state);
	return 0;
}

static struct json_object *parse(const char *text)
{
	struct json_object *o = json_tokener_parse(text);

	assert_non_null(o);
	return o;
}

static bool jbool(struct json_object *o, const char *a, const char *b)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, a, &v));
	if (b != NULL)
		assert_true(json_object_object_get_ex(v, b, &v));
	assert_true(json_object_is_type(v, json_type_boolean));
	return json_object_get_boolean(v);
}

static void probe_reports_sandbox(void **state)
{
	struct sim_fixture *f = *state;
	struct json_object *o;
	char *details = NULL;

	assert_int_equal(f->ops->probe(&f->env, &details, NULL), 1);
	assert_non_null(details);
	o = parse(details);
	assert_true(jbool(o, "simulated", NULL));
	assert_false(jbool(o, "hardware_root_of_trust", NULL));
	assert_true(jbool(o, "sandbox", "seccomp"));
	assert_true(jbool(o, "sandbox", "no_new_privs"));
	/* This host allows unprivileged user namespaces (and we may be root): all of them. */
	assert_true(jbool(o, "sandbox", "pid_ns"));
	assert_true(jbool(o, "sandbox", "net_ns"));
	assert_true(jbool(o, "sandbox", "mount_ns"));
	assert_true(jbool(o, "sandbox", "ipc_ns"));
	json_object_put(o);
	free(details);
}

static void measurement_is_sha256sum(void **state)
{
	struct sim_fixture *f = *state;
	char want[EBCC_MEASUREMENT_MAX];
	struct fx_stage s;

	sha256sum(echo_path(), want);
	assert_int_equal(fx_load(f, echo_path(), "echo", EBCC_LIFETIME_INSTANCE, 20000, &s), 0);
	assert_string_equal(s.st.measurement, want);
	assert_true(s.st.eid >= 1);
	assert_int_equal(f->ops->stage_unload(&f->env, s.st.handle, NULL), 0);
	fx_stage_release(&s);
}

/* At create the measurement comes from the sealed copy this process already made of the same
 * version of the image (no read of the file at all), and from the file itself otherwise. */
static void create_measurement_from_the_sealed_copy(void **state)
{
	struct sim_fixture *f = *state;
	char img[PATH_MAX + 16], want[EBCC_MEASUREMENT_MAX], *got = NULL;
	uint8_t digest[EBCC_SHA256_SIZE];
	int ro, wo, sealed = -1;
	struct stat st;

	snprintf(img, sizeof(img), "%s/measured", f->root);
	copy_file(echo_path(), img);
	sha256sum(img, want);
	ro = open(img, O_RDONLY | O_CLOEXEC);
	wo = open(img, O_WRONLY | O_CLOEXEC);
	assert_true(ro >= 0 && wo >= 0);
	/* Not yet sealed: the file is read, and a descriptor that cannot read fails. */
	assert_int_equal(f->ops->measure_image(&f->env, ro, "measured", &got, NULL), 0);
	assert_string_equal(got, want);
	free(got);
	got = NULL;
	assert_int_equal(f->ops->measure_image(&f->env, wo, "measured", &got, NULL), EBCC_ERR_IO);
	assert_null(got);
	/* Sealed by a load: the same version is measured without reading it. */
	assert_int_equal(ebcc__image_seal_measured(ro, "measured", &sealed, digest), 0);
	close(sealed);
	assert_int_equal(f->ops->measure_image(&f->env, wo, "measured", &got, NULL), 0);
	assert_string_equal(got, want);
	free(got);
	got = NULL;
	/* Another version is read again: one byte longer (a size, unlike times, always differs). */
	assert_int_equal(fstat(ro, &st), 0);
	assert_int_equal(pwrite(wo, "", 1, st.st_size), 1);
	assert_int_equal(f->ops->measure_image(&f->env, wo, "measured", &got, NULL), EBCC_ERR_IO);
	assert_non_null(strstr(f->error, "measured"));
	close(ro);
	close(wo);
}

static void instance_stage_serves_and_logs(void **state)
{
	struct sim_fixture *f = *state;
	char *resp = NULL, *log = NULL;
	struct json_object *iso;
	struct fx_stage s;
	struct stat st;

	assert_int_equal(fx_load(f, echo_path(), "echo", EBCC_LIFETIME_INSTANCE, 20000, &s), 0);
	/* The rendezvous socket: in the stage directory, owner only. */
	assert_int_equal(fstatat(s.dir_fd, "sim.sock", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0600);

	assert_int_equal(fx_invoke(f, s.st.handle, "hello", &resp, &log), 0);
	assert_string_equal(resp, "hello");
	assert_string_equal(log, "echo: 5 bytes\n");
	free(resp);
	free(log);
	assert_int_equal(fx_invoke(f, s.st.handle, "upper:warm stage", &resp, NULL), 0);
	assert_string_equal(resp, "WARM STAGE");
	free(resp);
	assert_int_equal(fx_invoke(f, s.st.handle, "", &resp, NULL), 0);
	assert_string_equal(resp, "");
	free(resp);

	/* A handler's failure is the stage's answer, and the stage serves on. */
	assert_int_equal(fx_invoke(f, s.st.handle, "fail:no", NULL, NULL), EBCC_ERR_STAGE);
	assert_non_null(strstr(f->error, "EBCC_ERR_INVALID_ARG"));
	assert_non_null(strstr(f->error, "stage echo of inst"));
	assert_int_equal(fx_invoke(f, s.st.handle, "again", &resp, NULL), 0);
	assert_string_equal(resp, "again");
	free(resp);

	iso = parse(s.st.isolation_json);
	assert_true(jbool(iso, "simulated", NULL));
	assert_true(jbool(iso, "sandbox", "seccomp"));
	assert_true(jbool(iso, "sandbox", "pid_ns"));
	json_object_put(iso);

	assert_int_equal(f->ops->stage_unload(&f->env, s.st.handle, NULL), 0);
	/* Unloading removes the socket. */
	assert_int_equal(fstatat(s.dir_fd, "sim.sock", &st, AT_SYMLINK_NOFOLLOW), -1);
	fx_stage_release(&s);
}

static void request_limit_is_enforced(void **state)
{
	struct sim_fixture *f = *state;
	struct fx_stage s;
	char *big;

	assert_int_equal(fx_load(f, echo_path(), "echo", EBCC_LIFETIME_INVOCATION, 20000, &s), 0);
	big = malloc((1 << 20) + 2);
	assert_non_null(big);
	memset(big, 'a', (1 << 20) + 1);
	big[(1 << 20) + 1] = '\0';
	assert_int_equal(fx_invoke(f, s.st.handle, big, NULL, NULL), EBCC_ERR_TOO_BIG);
	assert_non_null(strstr(f->error, "limit of 1048576 bytes"));
	free(big);
	assert_int_equal(f->ops->stage_unload(&f->env, s.st.handle, NULL), 0);
	fx_stage_release(&s);
}

static void invocation_stage_round_trip(void **state)
{
	struct sim_fixture *f = *state;
	struct fx_stage a, b;
	char *resp = NULL;

	assert_int_equal(fx_load(f, scorer_path(), "scorer", EBCC_LIFETIME_INVOCATION, 20000, &a),
			 0);
	assert_int_equal(fx_invoke(f, a.st.handle,
				   "{\"amount\": 7000, \"country\": \"US\", \"card_present\": "
				   "false, \"account_age_days\": 3}",
				   &resp, NULL),
			 0);
	assert_string_equal(resp, "{\"score\": 100, \"decision\": \"decline\", \"reasons\": "
				  "[\"high amount\", \"card not present\", \"new account\", "
				  "\"foreign country\"]}");
	free(resp);
	assert_int_equal(f->ops->stage_unload(&f->env, a.st.handle, NULL), 0);
	/* sim reports only over what its stage bound: it has no stage_report. */
	assert_null(f->ops->stage_report);

	/* A fresh stage, a fresh EID. */
	assert_int_equal(fx_load(f, scorer_path(), "scorer", EBCC_LIFETIME_INVOCATION, 20000, &b),
			 0);
	assert_true(b.st.eid > a.st.eid);
	assert_string_equal(a.st.measurement, b.st.measurement);
	assert_int_equal(fx_invoke(f, b.st.handle, "{}", NULL, NULL), EBCC_ERR_STAGE);
	assert_non_null(strstr(f->error, "EBCC_ERR_INVALID_ARG"));
	assert_int_equal(f->ops->stage_unload(&f->env, b.st.handle, NULL), 0);
	fx_stage_release(&a);
	fx_stage_release(&b);
}

/* Renaming another binary over the image path after it was opened changes nothing. */
static void image_swap_after_open(void **state)
{
	struct sim_fixture *f = *state;
	char img[PATH_MAX + 16], next[PATH_MAX + 16], want[EBCC_MEASUREMENT_MAX], *resp = NULL;
	struct fx_stage s;
	int fd;

	snprintf(img, sizeof(img), "%s/image", f->root);
	snprintf(next, sizeof(next), "%s/image.next", f->root);
	copy_file(echo_path(), img);
	sha256sum(img, want);
	fd = open(img, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	assert_true(fd >= 0);
	copy_file(scorer_path(), next);
	assert_int_equal(rename(next, img), 0);

	memset(&s, 0, sizeof(s));
	s.dir_fd = fx_stage_dir(f, "inst", "swapped");
	s.params = fx_params(EBCC_LIFETIME_INSTANCE, "swapped", fd, s.dir_fd);
	assert_int_equal(f->ops->stage_load(&f->env, &s.params, &s.st, NULL), 0);
	close(fd);
	assert_string_equal(s.st.measurement, want);
	/* The echo stage runs, not the scorer (which would refuse this as a record). */
	assert_int_equal(fx_invoke(f, s.st.handle, "still echo", &resp, NULL), 0);
	assert_string_equal(resp, "still echo");
	free(resp);
	assert_int_equal(f->ops->stage_unload(&f->env, s.st.handle, NULL), 0);
	fx_stage_release(&s);
}

static void refuses_dynamic_and_non_elf_images(void **state)
{
	struct sim_fixture *f = *state;
	char text[PATH_MAX + 16];
	struct fx_stage s;
	FILE *fp;

	assert_int_equal(fx_load(f, "/bin/true", "dyn", EBCC_LIFETIME_INVOCATION, 1000, &s),
			 EBCC_ERR_INVALID_ARG);
	assert_non_null(strstr(f->error, "dynamically linked"));
	assert_non_null(strstr(f->error, "PT_INTERP"));
	assert_non_null(strstr(f->error, "unmeasured"));

	snprintf(text, sizeof(text), "%s/script", f->root);
	fp = fopen(text, "w");
	assert_non_null(fp);
	fputs("#!/bin/sh\necho hi\n", fp);
	fclose(fp);
	assert_int_equal(fx_load(f, text, "text", EBCC_LIFETIME_INVOCATION, 1000, &s),
			 EBCC_ERR_INVALID_ARG);
	assert_non_null(strstr(f->error, "not an ELF executable"));
}

/* Another process (as every CLI call is) reaches the same warm stage through stage_open. */
static void warm_stage_from_another_process(void **state)
{
	struct sim_fixture *f = *state;
	struct fx_stage s;
	int status = 0;
	pid_t pid;

	assert_int_equal(fx_load(f, echo_path(), "echo", EBCC_LIFETIME_INSTANCE, 20000, &s), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct ebcc_backend_stage_params p = fx_params(EBCC_LIFETIME_INSTANCE, "echo", -1,
							       s.dir_fd);
		void *h = NULL;
		char *resp = NULL;
		int ok;

		ok = f->ops->stage_open(&f->env, &p, s.st.eid, s.st.ref, &h, NULL) == 0 &&
		     fx_invoke(f, h, "upper:from a child", &resp, NULL) == 0 &&
		     strcmp(resp, "FROM A CHILD") == 0;
		free(resp);
		f->ops->stage_close(h, NULL);
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* stage_close left the stage running. */
	assert_int_equal(fx_invoke(f, s.st.handle, "still here", NULL, NULL), 0);
	assert_int_equal(f->ops->stage_unload(&f->env, s.st.handle, NULL), 0);
	fx_stage_release(&s);
}

static pid_t ref_pid(const char *ref, uint64_t *ret_start)
{
	struct json_object *o = parse(ref), *v;
	pid_t pid;

	assert_true(json_object_object_get_ex(o, "pid", &v));
	pid = (pid_t)json_object_get_int(v);
	assert_true(json_object_object_get_ex(o, "start_time", &v));
	*ret_start = (uint64_t)json_object_get_int64(v);
	json_object_put(o);
	return pid;
}

/* SIGKILLs a process that is not our child and waits until it has exited (a pidfd becomes
 * readable then, whether or not anyone has reaped it yet; without pidfds, as under valgrind, its
 * /proc entry is watched). */
static void wait_gone(pid_t pid, uint64_t start)
{
	struct pollfd p = { .events = POLLIN };

	p.fd = (int)syscall(SYS_pidfd_open, pid, 0);
	assert_int_equal(kill(pid, SIGKILL), 0);
	if (p.fd >= 0) {
		assert_int_equal(poll(&p, 1, -1), 1);
		close(p.fd);
		return;
	}
	while (ebcc__proc_alive(pid, start))
		usleep(1000);
}

/* A warm stage that died is reported at once, and stage_open still works on it. */
static void dead_warm_stage(void **state)
{
	struct sim_fixture *f = *state;
	struct ebcc_backend_stage_params p;
	struct fx_stage s;
	uint64_t start = 0;
	void *h = NULL;
	pid_t pid;

	assert_int_equal(fx_load(f, echo_path(), "echo", EBCC_LIFETIME_INSTANCE, 0, &s), 0);
	pid = ref_pid(s.st.ref, &start);
	assert_true(pid > 0);
	wait_gone(pid, start);
	/* timeout 0 means none: a hang here would hang the test, which is the point. */
	assert_int_equal(fx_invoke(f, s.st.handle, "anyone?", NULL, NULL), EBCC_ERR_STAGE);
	assert_non_null(strstr(f->error, "is not running"));

	p = fx_params(EBCC_LIFETIME_INSTANCE, "echo", -1, s.dir_fd);
	assert_int_equal(f->ops->stage_open(&f->env, &p, s.st.eid, s.st.ref, &h, NULL), 0);
	assert_int_equal(fx_invoke(f, h, "anyone?", NULL, NULL), EBCC_ERR_STAGE);
	assert_non_null(strstr(f->error, "is not running"));
	assert_int_equal(f->ops->stage_unload(&f->env, h, NULL), 0);
	assert_int_equal(f->ops->stage_unload(&f->env, s.st.handle, NULL), 0);
	fx_stage_release(&s);
}

static void stage_open_rejects_bad_refs(void **state)
{
	static const char *const refs[] = {
		"", "{", "[]", "{\"pid\":1}", "{\"pid\":-4,\"start_time\":1,\"measurement\":\"x\"}",
		"{\"pid\":12,\"start_time\":1,\"measurement\":\"sha256:zz\"}",
	};
	struct sim_fixture *f = *state;
	int dir = fx_stage_dir(f, "inst", "refs");
	struct ebcc_backend_stage_params p = fx_params(EBCC_LIFETIME_INSTANCE, "refs", -1, dir);

	for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++) {
		void *h = NULL;

		assert_int_equal(f->ops->stage_open(&f->env, &p, 1, refs[i], &h, NULL),
				 EBCC_ERR_CORRUPT);
		assert_null(h);
	}
	close(dir);
}

/* EIDs from several processes at once: all distinct, none reused. */
static void eids_unique_across_processes(void **state)
{
	enum { PROCS = 4, EACH = 50 };
	struct sim_fixture *f = *state;
	uint64_t all[PROCS * EACH];
	int pipes[PROCS][2];
	size_t n = 0;

	for (int i = 0; i < PROCS; i++) {
		pid_t pid;

		assert_int_equal(pipe(pipes[i]), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			for (int k = 0; k < EACH; k++) {
				uint64_t eid = 0;

				if (ebcc__eid_next(f->data_fd, false, &eid) < 0)
					_exit(1);
				if (write(pipes[i][1], &eid, sizeof(eid)) != sizeof(eid))
					_exit(1);
			}
			_exit(0);
		}
		close(pipes[i][1]);
	}
	for (int i = 0; i < PROCS; i++) {
		uint64_t eid;
		int status;

		while (read(pipes[i][0], &eid, sizeof(eid)) == sizeof(eid))
			all[n++] = eid;
		close(pipes[i][0]);
		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(n, PROCS * EACH);
	for (size_t i = 0; i < n; i++)
		for (size_t k = i + 1; k < n; k++)
			assert_true(all[i] != all[k]);
}

static void eid_counter_corrupt(void **state)
{
	struct sim_fixture *f = *state;
	uint64_t eid = 0;

	assert_int_equal(ebcc__eid_next(f->data_fd, false, &eid), 0);
	assert_int_equal(eid, 1);
	assert_int_equal(ebcc__file_write_atomic(f->data_fd, EBCC_EID_COUNTER_FILE, "12x\n", 4,
						 0600, false, "eid"),
			 0);
	assert_int_equal(ebcc__eid_next(f->data_fd, false, &eid), EBCC_ERR_CORRUPT);
	assert_non_null(strstr(ebcc_last_error_message(), "12x"));
}

/* The counter is advanced in place (the same file, never a temporary one), and refuses what
 * is not a regular file holding a number. */
static void eid_counter_in_place(void **state)
{
	struct sim_fixture *f = *state;
	struct stat before, after;
	char text[32] = { 0 };
	uint64_t eid = 0;
	int fd;

	assert_int_equal(ebcc__file_write_atomic(f->data_fd, EBCC_EID_COUNTER_FILE, "9\n", 2, 0600,
						 false, "eid"),
			 0);
	assert_int_equal(fstatat(f->data_fd, EBCC_EID_COUNTER_FILE, &before, 0), 0);
	assert_int_equal(ebcc__eid_next(f->data_fd, false, &eid), 0);
	assert_int_equal(eid, 10);
	assert_int_equal(ebcc__eid_next(f->data_fd, true, &eid), 0);
	assert_int_equal(eid, 11);
	assert_int_equal(fstatat(f->data_fd, EBCC_EID_COUNTER_FILE, &after, 0), 0);
	assert_int_equal(before.st_ino, after.st_ino);
	fd = openat(f->data_fd, EBCC_EID_COUNTER_FILE, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, text, sizeof(text) - 1), 3);
	close(fd);
	assert_string_equal(text, "11\n");

	/* Longer than any number it could hold. */
	assert_int_equal(ebcc__file_write_atomic(f->data_fd, EBCC_EID_COUNTER_FILE,
						 "1234567890123456789012345678901234567890\n", 41,
						 0600, false, "eid"),
			 0);
	assert_int_equal(ebcc__eid_next(f->data_fd, false, &eid), EBCC_ERR_CORRUPT);

	/* A FIFO planted in its place is refused without blocking. */
	assert_int_equal(unlinkat(f->data_fd, EBCC_EID_COUNTER_FILE, 0), 0);
	assert_int_equal(mkfifoat(f->data_fd, EBCC_EID_COUNTER_FILE, 0600), 0);
	assert_int_equal(ebcc__eid_next(f->data_fd, false, &eid), EBCC_ERR_CORRUPT);
	assert_non_null(strstr(ebcc_last_error_message(), "not a regular file"));
	assert_int_equal(unlinkat(f->data_fd, EBCC_EID_COUNTER_FILE, 0), 0);

	/* Gone: counting starts again at 1, as for a new state root. */
	assert_int_equal(ebcc__eid_next(f->data_fd, false, &eid), 0);
	assert_int_equal(eid, 1);
}

/* The stage library: a client that hangs up in the middle of a frame only loses its own
 * connection. */
static void stage_survives_client_hangup(void **state)
{
	struct sim_fixture *f = *state;
	char *resp = NULL;
	struct fx_stage s;
	int fd = -1;

	assert_int_equal(fx_load(f, echo_path(), "echo", EBCC_LIFETIME_INSTANCE, 20000, &s), 0);
	for (int i = 0; i < 3; i++) {
		/* A header that promises 100 bytes, then 3 of them, then gone. */
		static const uint8_t partial[] = { 0xeb, 0xcc, 1, 1, 100, 0, 0, 0, 'a', 'b', 'c' };

		assert_int_equal(ebcc__channel_connect(s.dir_fd, "sim.sock", &fd), 0);
		assert_int_equal(send(fd, partial, i == 0 ? 3 : sizeof(partial), MSG_NOSIGNAL),
				 i == 0 ? 3 : (ssize_t)sizeof(partial));
		close(fd);
	}
	assert_int_equal(fx_invoke(f, s.st.handle, "after hangups", &resp, NULL), 0);
	assert_string_equal(resp, "after hangups");
	free(resp);
	assert_int_equal(f->ops->stage_unload(&f->env, s.st.handle, NULL), 0);
	fx_stage_release(&s);
}

static void load_argument_checks(void **state)
{
	struct sim_fixture *f = *state;
	struct ebcc_backend_stage_params p = fx_params(EBCC_LIFETIME_INSTANCE, "x", -1, -1);
	struct ebcc_backend_stage st = { .size = sizeof(st) };
	struct ebcc_backend_env env = f->env;
	int fd = open(echo_path(), O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(f->ops->stage_load(&f->env, &p, &st, NULL), EBCC_ERR_INVALID_ARG);
	p.image_fd = fd;
	assert_int_equal(f->ops->stage_load(&f->env, &p, &st, NULL), EBCC_ERR_INVALID_ARG);
	assert_non_null(strstr(f->error, "stage directory"));
	p.lifetime = 9;
	assert_int_equal(f->ops->stage_load(&f->env, &p, &st, NULL), EBCC_ERR_INVALID_ARG);
	p.lifetime = EBCC_LIFETIME_INVOCATION;
	env.data_dir_fd = -1;
	assert_int_equal(f->ops->stage_load(&env, &p, &st, NULL), EBCC_ERR_INVALID_ARG);
	assert_non_null(strstr(f->error, "data directory"));
	p.size = 8;
	assert_int_equal(f->ops->stage_load(&f->env, &p, &st, NULL), EBCC_ERR_ABI);
	assert_null(st.handle);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(probe_reports_sandbox, setup, teardown),
		cmocka_unit_test_setup_teardown(measurement_is_sha256sum, setup, teardown),
		cmocka_unit_test_setup_teardown(create_measurement_from_the_sealed_copy, setup,
						teardown),
		cmocka_unit_test_setup_teardown(instance_stage_serves_and_logs, setup, teardown),
		cmocka_unit_test_setup_teardown(request_limit_is_enforced, setup, teardown),
		cmocka_unit_test_setup_teardown(invocation_stage_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(image_swap_after_open, setup, teardown),
		cmocka_unit_test_setup_teardown(refuses_dynamic_and_non_elf_images, setup, teardown),
		cmocka_unit_test_setup_teardown(warm_stage_from_another_process, setup, teardown),
		cmocka_unit_test_setup_teardown(dead_warm_stage, setup, teardown),
		cmocka_unit_test_setup_teardown(stage_open_rejects_bad_refs, setup, teardown),
		cmocka_unit_test_setup_teardown(eids_unique_across_processes, setup, teardown),
		cmocka_unit_test_setup_teardown(eid_counter_corrupt, setup, teardown),
		cmocka_unit_test_setup_teardown(eid_counter_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(stage_survives_client_hangup, setup, teardown),
		cmocka_unit_test_setup_teardown(load_argument_checks, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
