/* SPDX-License-Identifier: MIT */
/* Stage invocation on the sim backend: responses, artifacts, bound evidence and its verification. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include <ebcc/backend.h>
#include <ebcc/ebcc.h>

#include "bundleutil.h"

/* "fresh" gets a minute, not the default 5 s: a per-invocation stage's forks are valgrind's
 * guests under memcheck, and on a loaded machine this test failed there once (message lost). */
#define STAGES                                                                              \
	"[{\"name\": \"echo\", \"image\": \"stages/echo\", \"maxRequest\": 4096},"         \
	" {\"name\": \"fresh\", \"image\": \"stages/echo\", \"lifetime\": \"invocation\","    \
	" \"timeoutMs\": 60000}]"

struct fixture {
	char *root, *bundle;
	struct ebcc_context *ctx;
	struct ebcc_instance *inst;
	char *key; /* the sim backend's attestation key (PEM) */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (echo_stage_path() == NULL) {
		free(f);
		return -1;
	}
	f->root = scratch_dir("root");
	f->bundle = scratch_dir("bundle");
	f->ctx = context_at(f->root);
	make_bundle(f->bundle, NULL, STAGES);
	assert_int_equal(ebcc_instance_create(f->ctx, "inv", f->bundle, &f->inst), 0);
	assert_int_equal(ebcc_instance_start(f->inst), 0);
	assert_int_equal(ebcc_backend_attestation_key(f->ctx, "sim", &f->key), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	ebcc_instance_delete(f->inst, EBCC_DELETE_FORCE);
	ebcc_instance_unref(f->inst);
	ebcc_context_unref(f->ctx);
	ebcc_free(f->key);
	scratch_remove(f->root);
	scratch_remove(f->bundle);
	free(f);
	return 0;
}

static char *policy_for(struct fixture *f, const char *extra)
{
	char *policy, *escaped = malloc(2 * strlen(f->key) + 1), *o = escaped;

	for (const char *p = f->key; *p != '\0'; p++) {
		if (*p == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	assert_true(asprintf(&policy, "{\"trusted_keys\": [\"%s\"], \"allow_simulated\": true%s%s}",
			     escaped, extra[0] != '\0' ? ", " : "", extra) > 0);
	free(escaped);
	return policy;
}

static struct ebcc_invocation *invoke(struct fixture *f, const char *stage, const char *text,
				      const char *nonce)
{
	struct ebcc_invocation *inv = NULL;
	int r = ebcc_stage_invoke(f->inst, stage, text, strlen(text), nonce,
				  nonce != NULL ? strlen(nonce) : 0, &inv);

	if (r != 0)
		fail_msg("invoke %s: %s: %s", stage, ebcc_error_name(r), ebcc_last_error_message());
	return inv;
}

static void assert_json(const char *text)
{
	struct json_object *obj = json_tokener_parse(text);

	if (obj == NULL)
		fail_msg("not JSON: %s", text);
	json_object_put(obj);
}

static char *read_artifact(struct fixture *f, const char *stage, uint64_t seq, const char *name,
			   size_t *ret_len)
{
	char path[4200], *data;
	FILE *file;
	long size;

	snprintf(path, sizeof(path), "%s/inv/stages/%s/%" PRIu64 "/%s", f->root, stage, seq, name);
	file = fopen(path, "rb");
	if (file == NULL)
		return NULL;
	fseek(file, 0, SEEK_END);
	size = ftell(file);
	rewind(file);
	data = calloc(1, (size_t)size + 1);
	assert_int_equal(fread(data, 1, (size_t)size, file), (size_t)size);
	fclose(file);
	if (strcmp(name, "meta.json") == 0 || strcmp(name, "evidence.json") == 0)
		assert_json(data);
	if (ret_len != NULL)
		*ret_len = (size_t)size;
	return data;
}

static void sha256_text(const void *data, size_t len, char out[72])
{
	unsigned char digest[32];
	unsigned int n = 0;

	EVP_Digest(data, len, digest, &n, EVP_sha256(), NULL);
	memcpy(out, "sha256:", 7);
	for (int i = 0; i < 32; i++)
		sprintf(out + 7 + 2 * i, "%02x", digest[i]);
}

static void round_trip_verifies(void **state)
{
	struct fixture *f = *state;
	struct ebcc_invocation *inv = invoke(f, "echo", "upper:hello", "nonce-1");
	struct ebcc_evidence *ev = NULL, *again = NULL;
	const void *data;
	size_t len;
	char *json = NULL, *json2 = NULL, *policy, *info = NULL, measurement[80], extra[256];

	assert_int_equal(ebcc_invocation_response(inv, &data, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(data, "HELLO", 5);
	assert_int_equal(ebcc_invocation_seq(inv), 1);
	assert_int_equal(ebcc_invocation_evidence(inv, &ev), 0);
	assert_int_equal(ebcc_evidence_serialize(ev, &json), 0);
	assert_non_null(strstr(json, "\"stage\":\"echo\""));
	assert_non_null(strstr(json, "\"simulated\":true"));

	/* The measurement pinned by the policy is the one the composite reports. */
	assert_int_equal(ebcc_stage_info(f->inst, "echo", &info), 0);
	assert_int_equal(sscanf(strstr(info, "\"measurement\": \"") + 16, "%71[^\"]", measurement), 1);
	snprintf(extra, sizeof(extra), "\"measurement\": \"%s\", \"nonce\": \"6e6f6e63652d31\"",
		 measurement);
	policy = policy_for(f, extra);
	assert_int_equal(ebcc_evidence_verify(f->ctx, ev, policy), 0);

	/* The same evidence, from disk, in a fresh parse. */
	assert_int_equal(ebcc_evidence_get(f->inst, "echo", 0, &again), 0);
	assert_int_equal(ebcc_evidence_serialize(again, &json2), 0);
	assert_string_equal(json, json2);
	assert_int_equal(ebcc_evidence_verify(f->ctx, again, policy), 0);
	ebcc_free(json2);
	ebcc_evidence_unref(again);
	assert_int_equal(ebcc_evidence_get(f->inst, "echo", 1, &again), 0);
	ebcc_evidence_unref(again);
	assert_int_equal(ebcc_evidence_get(f->inst, "echo", 2, &again), EBCC_ERR_NOT_FOUND);
	assert_int_equal(ebcc_evidence_get(f->inst, "nope", 0, &again), EBCC_ERR_NOT_FOUND);

	free(policy);
	ebcc_free(info);
	ebcc_free(json);
	ebcc_evidence_unref(ev);
	ebcc_invocation_unref(inv);
}

static void policy_failures_name_the_field(void **state)
{
	static const struct {
		const char *extra;
		const char *field;
	} cases[] = {
		{ "\"nonce\": \"00\"", "nonce" },
		{ "\"measurement\": \"sha256:0000000000000000000000000000000000000000000000000000000000000000\"",
		  "measurement" },
		{ "\"request_digest\": \"sha256:0000000000000000000000000000000000000000000000000000000000000000\"",
		  "request_digest" },
		{ "\"response_digest\": \"sha256:0000000000000000000000000000000000000000000000000000000000000000\"",
		  "response_digest" },
		{ "\"colour\": \"blue\"", "colour" },
	};
	struct fixture *f = *state;
	struct ebcc_invocation *inv = invoke(f, "echo", "data", "n");
	struct ebcc_evidence *ev = NULL;
	char *policy;

	assert_int_equal(ebcc_invocation_evidence(inv, &ev), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		policy = policy_for(f, cases[i].extra);
		assert_int_equal(ebcc_evidence_verify(f->ctx, ev, policy), EBCC_ERR_VERIFY);
		if (strstr(ebcc_last_error_message(), cases[i].field) == NULL)
			fail_msg("message \"%s\" does not name %s", ebcc_last_error_message(),
				 cases[i].field);
		free(policy);
	}
	/* Simulated evidence is refused unless the policy allows it. */
	assert_int_equal(ebcc_evidence_verify(f->ctx, ev, "{\"trusted_keys\": []}"), EBCC_ERR_VERIFY);
	/* A key that did not sign. */
	{
		struct ebcc_context *other = NULL;
		char *other_root = scratch_dir("other"), *other_key = NULL, *saved = f->key;

		other = context_at(other_root);
		assert_int_equal(ebcc_backend_attestation_key(other, "sim", &other_key), 0);
		assert_string_not_equal(other_key, f->key);
		f->key = other_key;
		policy = policy_for(f, "");
		f->key = saved;
		assert_int_equal(ebcc_evidence_verify(f->ctx, ev, policy), EBCC_ERR_VERIFY);
		free(policy);
		ebcc_free(other_key);
		ebcc_context_unref(other);
		scratch_remove(other_root);
	}
	ebcc_evidence_unref(ev);
	ebcc_invocation_unref(inv);
}

static void every_flipped_byte_fails(void **state)
{
	struct fixture *f = *state;
	struct ebcc_invocation *inv = invoke(f, "echo", "tamper", "n0");
	struct ebcc_evidence *ev = NULL;
	char *json = NULL, *policy = policy_for(f, "");
	size_t len;
	int accepted = 0;

	assert_int_equal(ebcc_invocation_evidence(inv, &ev), 0);
	assert_int_equal(ebcc_evidence_serialize(ev, &json), 0);
	assert_int_equal(ebcc_evidence_verify(f->ctx, ev, policy), 0);
	len = strlen(json);
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit += 7) {
			struct ebcc_evidence *bad = NULL;

			json[i] ^= (char)(1 << bit);
			if (ebcc_evidence_parse(f->ctx, json, len, &bad) == 0 &&
			    ebcc_evidence_verify(f->ctx, bad, policy) == 0) {
				accepted++;
				print_message("accepted with byte %zu ^ 0x%x: %s\n", i, 1 << bit, json);
			}
			ebcc_evidence_unref(bad);
			json[i] ^= (char)(1 << bit);
		}
	}
	assert_int_equal(accepted, 0);
	free(policy);
	ebcc_free(json);
	ebcc_evidence_unref(ev);
	ebcc_invocation_unref(inv);
}

static void artifacts_match_what_was_exchanged(void **state)
{
	struct fixture *f = *state;
	struct ebcc_invocation *inv = invoke(f, "echo", "upper:artifacts", "n");
	char *request, *response, *meta, *log, *evidence, digest[72];
	size_t request_len, response_len;

	assert_int_equal(ebcc_invocation_seq(inv), 1);
	request = read_artifact(f, "echo", 1, "request.bin", &request_len);
	response = read_artifact(f, "echo", 1, "response.bin", &response_len);
	meta = read_artifact(f, "echo", 1, "meta.json", NULL);
	log = read_artifact(f, "echo", 1, "log.txt", NULL);
	evidence = read_artifact(f, "echo", 1, "evidence.json", NULL);
	assert_non_null(request);
	assert_non_null(response);
	assert_non_null(meta);
	assert_non_null(log);
	assert_non_null(evidence);
	assert_int_equal(request_len, 15);
	assert_memory_equal(request, "upper:artifacts", 15);
	assert_int_equal(response_len, 9);
	assert_memory_equal(response, "ARTIFACTS", 9);
	assert_non_null(strstr(log, "echo: 15 bytes"));
	sha256_text(request, request_len, digest);
	assert_non_null(strstr(meta, digest));
	assert_non_null(strstr(evidence, digest));
	sha256_text(response, response_len, digest);
	assert_non_null(strstr(meta, digest));
	assert_non_null(strstr(evidence, digest));
	assert_non_null(strstr(meta, "\"status\": \"ok\""));
	assert_non_null(strstr(meta, "\"dispatch\": "));
	assert_non_null(strstr(meta, "\"teardown\": 0,")); /* a warm stage stays */
	assert_non_null(strstr(meta, "\"persist\": "));
	free(request);
	free(response);
	free(meta);
	free(log);
	free(evidence);
	ebcc_invocation_unref(inv);
}

/* ebcc_stage_invoke_with(): a trace id in meta.json, the nonce from the options, the struct's
 * size rules, and a timeout that may only shorten the stage's. */
static void invoke_options(void **state)
{
	struct fixture *f = *state;
	struct ebcc_invoke_options opts;
	struct {
		struct ebcc_invoke_options o;
		uint64_t future;
	} newer;
	struct ebcc_invocation *inv = NULL;
	struct json_object *info = NULL, *limits, *timeout;
	char *json = NULL, *meta, long_id[EBCC_TRACE_ID_MAX + 2];
	static const char *const bad_ids[] = { "", "has space", "q\"uote", "back\\slash", "tab\t" };

	ebcc_invoke_options_init(&opts);
	assert_int_equal(opts.size, sizeof(opts));
	opts.trace_id = "req-42/a";
	opts.nonce = "n-7";
	opts.nonce_len = 3;
	assert_int_equal(ebcc_stage_invoke_with(f->inst, "echo", "hi", 2, &opts, &inv), 0);
	ebcc_invocation_unref(inv);
	inv = NULL;
	meta = read_artifact(f, "echo", 1, "meta.json", NULL);
	assert_non_null(strstr(meta, "\"trace_id\": \"req-42/a\""));
	assert_non_null(strstr(meta, "\"nonce\": \"6e2d37\""));
	free(meta);

	/* Refused before anything is recorded: no sequence number is used. */
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++) {
		opts.trace_id = bad_ids[i];
		assert_int_equal(ebcc_stage_invoke_with(f->inst, "echo", "x", 1, &opts, &inv),
				 EBCC_ERR_INVALID_ARG);
		assert_non_null(strstr(ebcc_last_error_message(), "trace_id"));
	}
	memset(long_id, 'i', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	opts.trace_id = long_id;
	assert_int_equal(ebcc_stage_invoke_with(f->inst, "echo", "x", 1, &opts, &inv),
			 EBCC_ERR_INVALID_ARG);
	opts.trace_id = NULL;
	opts.size = 8;
	assert_int_equal(ebcc_stage_invoke_with(f->inst, "echo", "x", 1, &opts, &inv),
			 EBCC_ERR_INVALID_ARG);
	assert_non_null(strstr(ebcc_last_error_message(), "ebcc_invoke_options_init"));
	memset(&newer, 0, sizeof(newer));
	ebcc_invoke_options_init(&newer.o);
	newer.o.size = sizeof(newer);
	assert_int_equal(ebcc_stage_invoke_with(f->inst, "echo", "x", 1, &newer.o, &inv), 0);
	ebcc_invocation_unref(inv);
	inv = NULL;
	newer.future = 1;
	assert_int_equal(ebcc_stage_invoke_with(f->inst, "echo", "x", 1, &newer.o, &inv),
			 EBCC_ERR_ABI);
	assert_int_equal(ebcc_stage_info(f->inst, "echo", &json), 0);
	info = json_tokener_parse(json);
	assert_true(json_object_object_get_ex(info, "last_seq", &timeout));
	assert_int_equal(json_object_get_int64(timeout), 2);

	/* A timeout above the stage's own is refused, naming both. */
	assert_true(json_object_object_get_ex(info, "limits", &limits));
	assert_true(json_object_object_get_ex(limits, "timeoutMs", &timeout));
	ebcc_invoke_options_init(&opts);
	opts.timeout_ms = (uint32_t)json_object_get_int64(timeout) + 1;
	assert_int_equal(ebcc_stage_invoke_with(f->inst, "echo", "x", 1, &opts, &inv),
			 EBCC_ERR_INVALID_ARG);
	assert_non_null(strstr(ebcc_last_error_message(), "may only shorten it"));
	json_object_put(info);
	ebcc_free(json);
	assert_null(inv);
}

static void failures_leave_meta_and_log(void **state)
{
	struct fixture *f = *state;
	struct ebcc_invocation *inv = NULL;
	char big[5000], *meta, *log, nonce[65];

	memset(big, 'x', sizeof(big));
	assert_int_equal(ebcc_stage_invoke(f->inst, "echo", big, sizeof(big), NULL, 0, &inv),
			 EBCC_ERR_TOO_BIG);
	assert_non_null(strstr(ebcc_last_error_message(), "5000"));
	assert_non_null(strstr(ebcc_last_error_message(), "4096"));
	meta = read_artifact(f, "echo", 1, "meta.json", NULL);
	assert_non_null(meta);
	assert_non_null(strstr(meta, "EBCC_ERR_TOO_BIG"));
	assert_non_null(strstr(meta, "\"size\": 5000"));
	assert_non_null(strstr(meta, "\"stored\": false"));
	assert_null(read_artifact(f, "echo", 1, "evidence.json", NULL));
	/* Refused unread: the log says why, and the body is not kept. */
	assert_null(read_artifact(f, "echo", 1, "request.bin", NULL));
	log = read_artifact(f, "echo", 1, "log.txt", NULL);
	assert_non_null(log);
	assert_non_null(strstr(log, "request refused: request of 5000 bytes"));
	free(log);
	free(meta);

	memset(nonce, 'n', sizeof(nonce));
	assert_int_equal(ebcc_stage_invoke(f->inst, "echo", "x", 1, nonce, 65, &inv), EBCC_ERR_TOO_BIG);

	/* The stage's handler refuses: a stage error, with the stage's own log line kept. */
	assert_int_equal(ebcc_stage_invoke(f->inst, "echo", "fail:now", 8, NULL, 0, &inv),
			 EBCC_ERR_STAGE);
	meta = read_artifact(f, "echo", 3, "meta.json", NULL);
	log = read_artifact(f, "echo", 3, "log.txt", NULL);
	assert_non_null(strstr(meta, "EBCC_ERR_STAGE"));
	assert_non_null(strstr(log, "refusing"));
	free(meta);
	free(log);
	assert_null(inv);

	/* Unknown stage and wrong state give no artifacts at all. */
	assert_int_equal(ebcc_stage_invoke(f->inst, "nope", "x", 1, NULL, 0, &inv), EBCC_ERR_NOT_FOUND);
	inv = invoke(f, "echo", "still fine", NULL);
	assert_int_equal(ebcc_invocation_seq(inv), 4);
	ebcc_invocation_unref(inv);
	assert_int_equal(ebcc_instance_kill(f->inst, SIGTERM), 0);
	inv = NULL;
	assert_int_equal(ebcc_stage_invoke(f->inst, "echo", "x", 1, NULL, 0, &inv), EBCC_ERR_STATE);
	assert_non_null(strstr(ebcc_last_error_message(), "stopped"));
}

static void invocation_lifetime_gets_fresh_eids(void **state)
{
	struct fixture *f = *state;
	struct ebcc_invocation *a = invoke(f, "fresh", "one", NULL);
	struct ebcc_invocation *b = invoke(f, "fresh", "two", NULL);
	char *meta_a = read_artifact(f, "fresh", 1, "meta.json", NULL);
	char *meta_b = read_artifact(f, "fresh", 2, "meta.json", NULL);
	long eid_a, eid_b, teardown;

	assert_non_null(meta_a);
	assert_non_null(meta_b);
	assert_int_equal(sscanf(strstr(meta_a, "\"eid\": "), "\"eid\": %ld", &eid_a), 1);
	assert_int_equal(sscanf(strstr(meta_b, "\"eid\": "), "\"eid\": %ld", &eid_b), 1);
	assert_true(eid_a != eid_b);
	/* Its own stage went before the artifacts were written, and was timed. */
	assert_int_equal(sscanf(strstr(meta_a, "\"teardown\": "), "\"teardown\": %ld", &teardown),
			 1);
	assert_true(teardown > 0);
	free(meta_a);
	free(meta_b);
	ebcc_invocation_unref(a);
	ebcc_invocation_unref(b);
}

static void retention_and_digest_mode(void **state)
{
	struct fixture *f = *state;
	char path[4200];

	assert_int_equal(ebcc_context_set_option(f->ctx, "retention", "3"), 0);
	assert_int_equal(ebcc_context_set_option(f->ctx, "artifacts", "digests"), 0);
	for (int i = 0; i < 7; i++)
		ebcc_invocation_unref(invoke(f, "echo", "secret", NULL));
	snprintf(path, sizeof(path), "%s/inv/stages/echo", f->root);
	/* seq, invoke.lock and the newest three invocations */
	assert_null(read_artifact(f, "echo", 4, "meta.json", NULL));
	for (int seq = 5; seq <= 7; seq++) {
		char *meta = read_artifact(f, "echo", (uint64_t)seq, "meta.json", NULL);

		assert_non_null(meta);
		assert_non_null(strstr(meta, "\"stored\": false"));
		free(meta);
		assert_null(read_artifact(f, "echo", (uint64_t)seq, "request.bin", NULL));
		assert_null(read_artifact(f, "echo", (uint64_t)seq, "response.bin", NULL));
		meta = read_artifact(f, "echo", (uint64_t)seq, "evidence.json", NULL);
		assert_non_null(meta);
		free(meta);
	}
	/* Besides the three invocations only the counter, the lock, the stage's socket and its
	 * pid record. */
	assert_true(count_entries(path) <= 7);
}

/* ---- concurrency ------------------------------------------------------------------------ */

#define WORKERS 4
#define CALLS 500

struct worker {
	struct ebcc_context *ctx;
	const char *root;
	uint64_t seqs[CALLS];
	int failures;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	struct ebcc_instance *inst = NULL;

	if (ebcc_instance_open(w->ctx, "inv", &inst) < 0) {
		w->failures = CALLS;
		return NULL;
	}
	for (int i = 0; i < CALLS; i++) {
		struct ebcc_invocation *inv = NULL;

		if (ebcc_stage_invoke(inst, "echo", "load", 4, &i, sizeof(i), &inv) < 0) {
			w->failures++;
			continue;
		}
		w->seqs[i] = ebcc_invocation_seq(inv);
		ebcc_invocation_unref(inv);
	}
	ebcc_instance_unref(inst);
	return NULL;
}

/* WORKERS threads in this process; writes their sequence numbers to fd. */
static int run_workers(const char *root, int fd)
{
	struct ebcc_context *ctx = context_at(root);
	struct worker w[WORKERS] = { 0 };
	pthread_t threads[WORKERS];
	int failures = 0;

	for (int i = 0; i < WORKERS; i++) {
		w[i].ctx = ctx;
		pthread_create(&threads[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < WORKERS; i++) {
		pthread_join(threads[i], NULL);
		failures += w[i].failures;
		if (write(fd, w[i].seqs, sizeof(w[i].seqs)) != (ssize_t)sizeof(w[i].seqs))
			failures++;
	}
	if (failures > 0)
		fprintf(stderr, "%d invocations failed: %s\n", failures, ebcc_last_error_message());
	ebcc_context_unref(ctx);
	return failures;
}

static int compare_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void processes_and_threads(void **state)
{
	struct fixture *f = *state;
	static uint64_t all[2 * WORKERS * CALLS];
	char *policy;
	int fds[2];
	size_t got = 0;

	assert_int_equal(pipe(fds), 0);
	for (int p = 0; p < 2; p++) {
		if (fork() == 0) {
			close(fds[0]);
			_exit(run_workers(f->root, fds[1]) == 0 ? 0 : 1);
		}
	}
	close(fds[1]);
	for (;;) {
		ssize_t n = read(fds[0], (char *)all + got, sizeof(all) - got);

		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	for (int p = 0; p < 2; p++) {
		int status;

		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(got, sizeof(all));
	qsort(all, 2 * WORKERS * CALLS, sizeof(all[0]), compare_u64);
	policy = policy_for(f, "");
	/* Distinct and gap-free: exactly 1..4000. */
	for (size_t i = 0; i < 2 * WORKERS * CALLS; i++)
		assert_int_equal(all[i], i + 1);
	/* Every one left evidence that verifies. */
	for (uint64_t seq = 1; seq <= 2 * WORKERS * CALLS; seq++) {
		struct ebcc_evidence *ev = NULL;

		assert_int_equal(ebcc_evidence_get(f->inst, "echo", seq, &ev), 0);
		assert_int_equal(ebcc_evidence_verify(f->ctx, ev, policy), 0);
		ebcc_evidence_unref(ev);
	}
	free(policy);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(round_trip_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(policy_failures_name_the_field, setup, teardown),
		cmocka_unit_test_setup_teardown(every_flipped_byte_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(artifacts_match_what_was_exchanged, setup, teardown),
		cmocka_unit_test_setup_teardown(failures_leave_meta_and_log, setup, teardown),
		cmocka_unit_test_setup_teardown(invoke_options, setup, teardown),
		cmocka_unit_test_setup_teardown(invocation_lifetime_gets_fresh_eids, setup, teardown),
		cmocka_unit_test_setup_teardown(retention_and_digest_mode, setup, teardown),
	};
	const struct CMUnitTest concurrency[] = {
		cmocka_unit_test_setup_teardown(processes_and_threads, setup, teardown),
	};

	if (echo_stage_path() == NULL) {
		fprintf(stderr, "the echo stage is not built: skipping\n");
		return 77;
	}
	if (getenv("EBCC_TEST_CONCURRENCY") != NULL)
		return cmocka_run_group_tests(concurrency, NULL, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
