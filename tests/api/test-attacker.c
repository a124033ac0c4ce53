/* SPDX-License-Identifier: MIT */
/*
 * The host as the attacker (backend ABI 2): backends that wrap sim and tamper with what the
 * stage answered before the core sees it. Each attack must end in a failed invocation or in
 * evidence that fails verification, never in evidence that verifies:
 *
 *   alter           the response changed after the stage answered
 *   alter-rebind    ...and report_data recomputed over the changed response
 *   forge           the stage asked to bind fields of the host's choosing (another seq, nonce)
 *   forge-rebind    ...and report_data replaced by the one the core expects
 *   replay          the report and report_data of the first invocation, for the second
 *   replay-rebind   ...with report_data replaced by the one the core expects
 *   key             the host's own public key put in the answer (evidence version 3), for a
 *                   relying party to seal its secret to (ebcc-secrets(7))
 *   key-rebind      ...and report_data recomputed over the host's key
 *
 * "honest" wraps sim without tampering: its evidence verifies, so the test can tell an
 * attack that is caught from one that cannot happen. And the report of data of the host's
 * choosing: the sim stage's security monitor answers only the stage, so the host must hold
 * no descriptor of it after loading stages and invoking them. (The sim device key itself lives on the
 * host: an attacker who reads it signs anything. That is sim's documented lack of a root of
 * trust, not something the protocol can catch.)
 */
#include <dirent.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include <ebcc/backend.h>
#include <ebcc/ebcc.h>

#include "bundleutil.h"
#include "ebcc-private.h"
#include "frame.h"

enum attack { HONEST, ALTER, ALTER_REBIND, FORGE, FORGE_REBIND, REPLAY, REPLAY_REBIND, KEY,
	      KEY_REBIND };

static const char *const names[] = { "honest",	      "alter",	       "alter-rebind",
				     "forge",	      "forge-rebind",  "replay",
				     "replay-rebind", "key",	       "key-rebind" };

static const struct ebcc_backend_ops *sim;

/* What the replaying backend kept of the first invocation. */
static struct {
	uint8_t report_data[EBCC_REPORT_DATA_SIZE];
	uint8_t *report;
	size_t report_len;
} kept;

/* The report_data the core will compute for binding, request and response. */
static void core_binding(const struct ebcc_backend_binding *binding, const void *request,
			 size_t request_len, const struct ebcc_backend_invocation *inv,
			 uint8_t out[EBCC_REPORT_DATA_SIZE])
{
	const struct ebcc_backend_buffer *response = &inv->response;
	struct ebcc_binding b;

	ebcc__binding_from_backend(binding, &b);
	if (inv->has_public_key) {
		b.version = EBCC_EVIDENCE_VERSION_KEYED;
		b.public_key = inv->public_key;
	}
	assert_int_equal(ebcc__sha256(request, request_len, b.request_digest), 0);
	assert_int_equal(ebcc__sha256(response->data, response->len, b.response_digest), 0);
	assert_int_equal(ebcc__binding_report_data(&b, out), 0);
}

/* The binding with another seq and nonce, as the host would like the stage to bind. */
static void forge(const struct ebcc_backend_binding *real, struct ebcc_backend_binding *fake,
		  uint8_t encoded[EBCC_FRAME_BIND_MAX], struct ebcc_binding *fields)
{
	static const uint8_t nonce[] = "host's choice";

	ebcc__binding_from_backend(real, fields);
	fields->seq = real->seq + 1000;
	fields->nonce = nonce;
	fields->nonce_len = sizeof(nonce) - 1;
	*fake = *real;
	fake->seq = fields->seq;
	fake->nonce = fields->nonce;
	fake->nonce_len = fields->nonce_len;
	fake->encoded = encoded;
	assert_int_equal(ebcc__binding_encode_fields(fields, encoded, EBCC_FRAME_BIND_MAX,
						     &fake->encoded_len),
			 0);
}

static int attack_invoke(const struct ebcc_backend_env *env, void *handle,
			 const struct ebcc_backend_binding *binding, const void *request,
			 size_t request_len, struct ebcc_backend_invocation *ret, void *userdata)
{
	enum attack a = (enum attack)(intptr_t)userdata;
	uint8_t encoded[EBCC_FRAME_BIND_MAX];
	struct ebcc_backend_binding fake;
	struct ebcc_binding fields;
	int r;

	if (a == FORGE || a == FORGE_REBIND) {
		forge(binding, &fake, encoded, &fields);
		r = sim->stage_invoke(env, handle, &fake, request, request_len, ret, NULL);
	} else {
		r = sim->stage_invoke(env, handle, binding, request, request_len, ret, NULL);
	}
	if (r < 0)
		return r;
	switch (a) {
	case ALTER:
	case ALTER_REBIND:
		assert_true(ret->response.len > 0);
		((uint8_t *)ret->response.data)[0] ^= 0x20;
		break;
	case REPLAY:
	case REPLAY_REBIND:
		if (kept.report == NULL) {
			/* The first invocation: keep its report, pass it on untouched. */
			kept.report = malloc(ret->report.len);
			assert_non_null(kept.report);
			memcpy(kept.report, ret->report.data, ret->report.len);
			kept.report_len = ret->report.len;
			memcpy(kept.report_data, ret->report_data, sizeof(kept.report_data));
			return 0;
		}
		free(ret->report.data);
		ret->report.data = env->alloc(kept.report_len, env->host);
		assert_non_null(ret->report.data);
		memcpy(ret->report.data, kept.report, kept.report_len);
		ret->report.len = kept.report_len;
		memcpy(ret->report_data, kept.report_data, sizeof(ret->report_data));
		break;
	case KEY:
	case KEY_REBIND:
		/* Any 32 bytes are an X25519 public key; the host holds its private half. */
		assert_int_equal(ret->has_public_key, 0);
		ret->has_public_key = 1;
		memset(ret->public_key, 0x5a, sizeof(ret->public_key));
		break;
	default:
		break;
	}
	if (a == ALTER_REBIND || a == FORGE_REBIND || a == REPLAY_REBIND || a == KEY_REBIND)
		core_binding(binding, request, request_len, ret, ret->report_data);
	return 0;
}

static void register_attackers(struct ebcc_context *ctx)
{
	for (size_t i = 0; i < EBCC_ARRAY_SIZE(names); i++) {
		struct ebcc_backend_ops ops = *sim;

		ops.name = names[i];
		ops.stage_invoke = attack_invoke;
		assert_int_equal(ebcc_backend_register(ctx, &ops, (void *)(intptr_t)i), 0);
	}
}

static bool entry_exists(const char *dir, const char *name)
{
	char path[4400];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* The policy under which honest evidence of backend name verifies. */
static char *policy_for(struct ebcc_context *ctx, const char *name)
{
	struct ebcc_policy *p = NULL;
	char *key = NULL, *json = NULL;

	assert_int_equal(ebcc_backend_attestation_key(ctx, name, &key), 0);
	assert_int_equal(ebcc_policy_new(&p), 0);
	assert_int_equal(ebcc_policy_add_trusted_key(p, key), 0);
	assert_int_equal(ebcc_policy_set_bool(p, "allow_simulated", 1), 0);
	assert_int_equal(ebcc_policy_to_json(p, &json), 0);
	ebcc_policy_free(p);
	ebcc_free(key);
	return json;
}

/*
 * Runs two invocations under backend name. Returns 0 when the second invocation's evidence
 * verifies, or the error that stopped it: the invocation's (*ret_stage true) or the
 * verifier's. *message: what the library said.
 */
static int run(const char *name, bool *ret_stage, char *message, size_t size)
{
	char *root = scratch_dir("attacker-root"), *bundle = scratch_dir("attacker-bundle");
	struct ebcc_context *ctx = context_at(root);
	struct ebcc_instance *inst = NULL;
	struct ebcc_invocation *inv = NULL;
	struct ebcc_evidence *ev = NULL;
	char manifest[256], *policy;
	int r;

	register_attackers(ctx);
	policy = policy_for(ctx, name);
	snprintf(manifest, sizeof(manifest),
		 "{\"ebccVersion\": \"0.1\", \"backend\": \"%s\", \"stages\": [{\"name\": "
		 "\"echo\", \"image\": \"stages/echo\"}]}",
		 name);
	make_bundle(bundle, NULL, "[]");
	write_file(bundle, "ebcc.json", manifest, strlen(manifest));
	assert_int_equal(ebcc_instance_create(ctx, "victim", bundle, &inst), 0);
	assert_int_equal(ebcc_instance_start(inst), 0);

	*ret_stage = true;
	r = ebcc_stage_invoke(inst, "echo", "first", 5, "n1", 2, &inv);
	ebcc_invocation_unref(inv);
	inv = NULL;
	if (r == 0)
		r = ebcc_stage_invoke(inst, "echo", "second", 6, "n2", 2, &inv);
	if (r == 0) {
		assert_int_equal(ebcc_invocation_evidence(inv, &ev), 0);
		*ret_stage = false;
		r = ebcc_evidence_verify(ctx, ev, policy);
	}
	snprintf(message, size, "%s", r < 0 ? ebcc_last_error_message() : "");
	if (r < 0 && *ret_stage) {
		/* The refused answer left a failed-invocation record and nothing as valid. */
		char dir[4200];
		uint64_t seq = inv == NULL && kept.report == NULL ? 1 : 2;

		snprintf(dir, sizeof(dir), "%s/victim/stages/echo/%" PRIu64, root, seq);
		assert_true(entry_exists(dir, "meta.json"));
		assert_false(entry_exists(dir, "evidence.json"));
		assert_false(entry_exists(dir, "response.bin"));
	}
	ebcc_evidence_unref(ev);
	ebcc_invocation_unref(inv);
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
	ebcc_instance_unref(inst);
	ebcc_context_unref(ctx);
	ebcc_free(policy);
	free(kept.report);
	kept.report = NULL;
	scratch_remove(root);
	scratch_remove(bundle);
	return r;
}

static void expect_caught(const char *name, bool at_invoke, const char *fragment)
{
	char message[EBCC_ERROR_MESSAGE_MAX];
	bool stage = false;
	int r = run(name, &stage, message, sizeof(message));

	if (r == 0)
		fail_msg("%s: the evidence verified", name);
	if (stage != at_invoke || r != (at_invoke ? EBCC_ERR_STAGE : EBCC_ERR_VERIFY))
		fail_msg("%s: %s at %s, expected %s: %s", name, ebcc_error_name(r),
			 stage ? "the invocation" : "verification",
			 at_invoke ? "the invocation" : "verification", message);
	if (strstr(message, fragment) == NULL)
		fail_msg("%s: \"%s\" lacks \"%s\"", name, message, fragment);
}

static void honest_evidence_verifies(void **state)
{
	char message[EBCC_ERROR_MESSAGE_MAX];
	bool stage = false;

	(void)state;
	if (run("honest", &stage, message, sizeof(message)) != 0)
		fail_msg("honest: %s", message);
}

static void altered_response(void **state)
{
	(void)state;
	expect_caught("alter", true, "changed between the stage and the library");
	expect_caught("alter-rebind", false, "report_data");
}

static void binding_of_the_hosts_choosing(void **state)
{
	(void)state;
	expect_caught("forge", true, "changed between the stage and the library");
	expect_caught("forge-rebind", false, "report_data");
}

static void hosts_own_public_key(void **state)
{
	(void)state;
	expect_caught("key", true, "changed between the stage and the library");
	expect_caught("key-rebind", false, "report_data");
}

static void replayed_report(void **state)
{
	(void)state;
	expect_caught("replay", true, "changed between the stage and the library");
	expect_caught("replay-rebind", false, "report_data");
}

/* The descriptors of this process that are SOCK_SEQPACKET sockets: a security monitor's. */
static int monitor_descriptors(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int found = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name), type = 0;
		socklen_t len = sizeof(type);

		if (e->d_name[0] != '.' && fd != dirfd(d) &&
		    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_SEQPACKET)
			found++;
	}
	closedir(d);
	return found;
}

static void monitor_out_of_the_hosts_reach(void **state)
{
	static const char manifest[] =
		"{\"ebccVersion\": \"0.1\", \"stages\": [{\"name\": \"warm\", \"image\": "
		"\"stages/echo\"}, {\"name\": \"fresh\", \"image\": \"stages/echo\", "
		"\"lifetime\": \"invocation\"}]}";
	char *root = scratch_dir("attacker-root"), *bundle = scratch_dir("attacker-bundle");
	struct ebcc_context *ctx = context_at(root);
	struct ebcc_instance *inst = NULL;
	struct ebcc_invocation *inv = NULL;

	(void)state;
	make_bundle(bundle, NULL, "[]");
	write_file(bundle, "ebcc.json", manifest, strlen(manifest));
	assert_int_equal(monitor_descriptors(), 0);
	assert_int_equal(ebcc_instance_create(ctx, "victim", bundle, &inst), 0);
	assert_int_equal(ebcc_instance_start(inst), 0);
	assert_int_equal(monitor_descriptors(), 0);
	assert_int_equal(ebcc_stage_invoke(inst, "warm", "a", 1, NULL, 0, &inv), 0);
	ebcc_invocation_unref(inv);
	assert_int_equal(ebcc_stage_invoke(inst, "fresh", "b", 1, NULL, 0, &inv), 0);
	ebcc_invocation_unref(inv);
	assert_int_equal(monitor_descriptors(), 0);
	assert_int_equal(ebcc_instance_delete(inst, EBCC_DELETE_FORCE), 0);
	ebcc_instance_unref(inst);
	ebcc_context_unref(ctx);
	scratch_remove(root);
	scratch_remove(bundle);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(honest_evidence_verifies),
		cmocka_unit_test(altered_response),
		cmocka_unit_test(binding_of_the_hosts_choosing),
		cmocka_unit_test(replayed_report),
		cmocka_unit_test(hosts_own_public_key),
		cmocka_unit_test(monitor_out_of_the_hosts_reach),
	};

	if (echo_stage_path() == NULL) {
		fprintf(stderr, "SKIP: no echo stage built\n");
		return 77;
	}
	sim = ebcc__backend_sim_entry();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
