/* SPDX-License-Identifier: MIT */
/*
 * ebcc-demo: the main job of libebcc in one command, on the public API only.
 *
 * In a temporary state root and bundle it builds a composite of an ordinary process (the REE
 * anchor) and two confidential stages on the sim backend: the scorer, warm for the whole life of
 * the composite ("instance" lifetime), and echo, a fresh enclave for every request
 * ("invocation" lifetime). It creates and starts the composite, invokes each stage a few times
 * with fresh nonces, verifies every piece of evidence offline against the exported (simulated)
 * device key, the pinned measurement, the nonce and the request and response digests, shows a
 * replayed nonce being refused, lists the artifacts, then kills, waits, deletes and cleans up.
 *
 * Exit status 0 only when every step and every verification succeeded.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <ebcc/backend.h>
#include <ebcc/ebcc.h>

#include "demo/demo.h"

#define INSTANCE_ID DEMO_NAME
#define NONCE_BYTES 32
#define WAIT_MS 30000

enum { SCORER, ECHO, N_STAGES };

/* What each stage is asked, in turn. */
static const char *const scorer_requests[] = {
	"{\"amount\": 42.50, \"country\": \"DE\", \"card_present\": true, \"account_age_days\": 900}",
	"{\"amount\": 1250.00, \"country\": \"FR\", \"card_present\": false, \"account_age_days\": 45}",
	"{\"amount\": 7300.00, \"country\": \"BR\", \"card_present\": false, \"account_age_days\": 3}",
};
static const char *const echo_requests[] = {
	"upper:hello from the REE anchor",
	"the same bytes come back, bound to a fresh enclave",
	"upper:every request gets its own EID",
};

struct demo {
	struct demo_report report;
	int keep, invocations;
	const char *stages_option;
	char *base, *root, *bundle;
	struct ebcc_context *ctx;
	struct ebcc_instance *inst;
	char *key_pem;
	struct demo_stage_decl stages[N_STAGES];
	struct json_object *stage_eids[N_STAGES]; /* arrays of the EIDs each stage ran in */
	struct json_object *invocation_list;
	int invoked, verified;
	/* The scorer's first invocation, kept to show that its evidence fails a replay. */
	uint64_t first_seq;
	char first_nonce[2 * NONCE_BYTES + 1];
};

/* Set by SIGINT, SIGTERM or SIGHUP: the demo stops after the current step and cleans up, so
 * that an interrupted demo leaves no anchor running and nothing on disk. */
static volatile sig_atomic_t interrupted;

static void on_signal(int signo)
{
	interrupted = signo;
}

/* ---- small helpers ------------------------------------------------------------------------ */

static void hex(const uint8_t *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 15];
	}
	out[2 * len] = '\0';
}

/* A printable, shortened copy of bytes for one line of output. */
static void excerpt(const void *data, size_t len, char *out, size_t size)
{
	const unsigned char *p = data;
	size_t o = 0;

	for (size_t i = 0; i < len && o + 4 < size; i++)
		out[o++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '.';
	if (o < len && o >= 3)
		memcpy(out + o - 3, "...", 3);
	out[o] = '\0';
}

static struct json_object *parse_json(const char *text)
{
	return text != NULL ? json_tokener_parse(text) : NULL;
}

static const char *member_string(struct json_object *obj, const char *key)
{
	struct json_object *value;

	return obj != NULL && json_object_object_get_ex(obj, key, &value) &&
			       !json_object_is_type(value, json_type_null)
		       ? json_object_get_string(value)
		       : NULL;
}

static int64_t member_int(struct json_object *obj, const char *key, int64_t fallback)
{
	struct json_object *value;

	return obj != NULL && json_object_object_get_ex(obj, key, &value) &&
			       json_object_is_type(value, json_type_int)
		       ? json_object_get_int64(value)
		       : fallback;
}

/* The composite's OCI state as a json-c object (NULL on failure, the error left for the
 * caller's report). */
static struct json_object *instance_state(struct demo *d, int *ret_err)
{
	char *text = NULL;
	struct json_object *state;

	*ret_err = ebcc_instance_state(d->inst, &text);
	if (*ret_err < 0)
		return NULL;
	state = parse_json(text);
	ebcc_free(text);
	return state;
}

/* ---- the steps ---------------------------------------------------------------------------- */

static int step_setup(struct demo *d)
{
	struct demo_step s;

	demo_step_begin(&s, "setup");
	d->base = demo_scratch_make();
	if (d->base == NULL)
		return demo_step_fail(&d->report, &s, DEMO_ERR_NONE, "mkdtemp: %s", strerror(errno)),
		       -1;
	if (asprintf(&d->root, "%s/root", d->base) < 0 ||
	    asprintf(&d->bundle, "%s/bundle", d->base) < 0)
		return demo_step_fail(&d->report, &s, DEMO_ERR_NONE, "out of memory"), -1;
	if (mkdir(d->bundle, 0755) < 0)
		return demo_step_fail(&d->report, &s, DEMO_ERR_NONE, "mkdir %s: %s", d->bundle,
				      strerror(errno)),
		       -1;
	demo_report_set(&d->report, "state_root", json_object_new_string(d->root));
	demo_report_set(&d->report, "bundle", json_object_new_string(d->bundle));
	demo_step_ok(&d->report, &s, NULL, "temporary state root %s and bundle %s", d->root,
		     d->bundle);
	return 0;
}

static int step_backend(struct demo *d)
{
	struct json_object *probe, *fields, *sandbox;
	char *text = NULL, isolation[256] = "";
	struct demo_step s;
	int r;

	demo_step_begin(&s, "backend");
	r = ebcc_context_new(&d->ctx);
	if (r == 0)
		r = ebcc_context_set_option(d->ctx, "state_root", d->root);
	if (r == 0)
		r = ebcc_backend_probe(d->ctx, "sim", &text);
	if (r < 0)
		return demo_step_fail(&d->report, &s, r, "probing the sim backend"), -1;
	probe = parse_json(text);
	ebcc_free(text);
	if (probe == NULL)
		return demo_step_fail(&d->report, &s, DEMO_ERR_NONE, "the probe is not JSON"), -1;
	if (!json_object_get_boolean(json_object_object_get(probe, "available"))) {
		demo_step_fail(&d->report, &s, DEMO_ERR_NONE, "the sim backend is not available: %s",
			       member_string(probe, "reason") ? member_string(probe, "reason") : "?");
		json_object_put(probe);
		return -1;
	}
	/* Which sandbox layers this host allows the simulated enclaves. */
	sandbox = json_object_object_get(probe, "sandbox");
	if (sandbox != NULL && json_object_is_type(sandbox, json_type_object)) {
		/* The iterator API: json-c's foreach macro is a GNU statement expression. */
		struct json_object_iterator it = json_object_iter_begin(sandbox);
		struct json_object_iterator end = json_object_iter_end(sandbox);

		for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
			const char *key = json_object_iter_peek_name(&it);
			size_t used = strlen(isolation);

			if (json_object_get_boolean(json_object_iter_peek_value(&it)))
				snprintf(isolation + used, sizeof(isolation) - used, "%s%s",
					 used ? ", " : "", key);
		}
	}
	fields = json_object_new_object();
	if (fields != NULL)
		json_object_object_add(fields, "probe", json_object_get(probe));
	demo_report_set(&d->report, "backend", json_object_new_string("sim"));
	demo_report_set(&d->report, "simulated", json_object_new_boolean(1));
	demo_step_ok(&d->report, &s, fields,
		     "sim backend available: %s-style, SIMULATED (a software TEE, no hardware "
		     "root of trust)",
		     member_string(probe, "isolation") ? member_string(probe, "isolation") : "?");
	if (isolation[0] != '\0')
		demo_detail(&d->report, "stage sandbox on this host: %s", isolation);
	json_object_put(probe);
	return 0;
}

static int step_images(struct demo *d)
{
	const char *origin, *dir = demo_stages_dir(d->stages_option, &origin);

	for (int i = 0; i < N_STAGES; i++) {
		struct demo_stage_decl *st = &d->stages[i];
		struct json_object *fields;
		struct demo_step s;

		demo_step_begin(&s, "image");
		if (demo_image_copy(dir, st->name, d->bundle, &st->image_size, st->measurement) < 0)
			return demo_step_fail(&d->report, &s, DEMO_ERR_NONE,
					      "copying %s/%s (from %s; --stages DIR or "
					      "EBCC_DEMO_STAGES name another directory): %s",
					      dir, st->name, origin, strerror(errno)),
			       -1;
		fields = json_object_new_object();
		if (fields != NULL) {
			json_object_object_add(fields, "stage", json_object_new_string(st->name));
			json_object_object_add(fields, "source", json_object_new_string(dir));
			json_object_object_add(fields, "bytes",
					       json_object_new_int64((int64_t)st->image_size));
			json_object_object_add(fields, "measurement",
					       json_object_new_string(st->measurement));
		}
		demo_step_ok(&d->report, &s, fields, "%s: %llu bytes from %s (%s), measured %s",
			     st->name, (unsigned long long)st->image_size, dir, origin,
			     st->measurement);
	}
	return 0;
}

static int step_bundle(struct demo *d)
{
	struct demo_step s;

	demo_step_begin(&s, "bundle");
	if (demo_bundle_write(d->bundle, d->stages, N_STAGES) < 0)
		return demo_step_fail(&d->report, &s, DEMO_ERR_NONE, "writing %s: %s", d->bundle,
				      strerror(errno)),
		       -1;
	demo_step_ok(&d->report, &s, NULL,
		     "config.json (anchor: sleep 600, stdio on /dev/null) and ebcc.json: %s (%s "
		     "lifetime), %s (%s lifetime), each pinned to its measurement",
		     d->stages[SCORER].name, d->stages[SCORER].lifetime, d->stages[ECHO].name,
		     d->stages[ECHO].lifetime);
	return 0;
}

static int step_key(struct demo *d)
{
	char fingerprint[DEMO_SHA256_TEXT];
	struct json_object *fields;
	struct demo_step s;
	int r;

	demo_step_begin(&s, "key");
	r = ebcc_backend_attestation_key(d->ctx, "sim", &d->key_pem);
	if (r < 0)
		return demo_step_fail(&d->report, &s, r, "exporting the sim attestation key"), -1;
	demo_sha256_text(d->key_pem, strlen(d->key_pem), fingerprint);
	fields = json_object_new_object();
	if (fields != NULL) {
		json_object_object_add(fields, "pem", json_object_new_string(d->key_pem));
		json_object_object_add(fields, "pem_sha256", json_object_new_string(fingerprint));
	}
	demo_step_ok(&d->report, &s, fields,
		     "exported the simulated device key that signs sim reports (PEM %s)",
		     fingerprint);
	return 0;
}

static int step_create(struct demo *d)
{
	struct json_object *state, *fields;
	struct demo_step s;
	int r;

	demo_step_begin(&s, "create");
	r = ebcc_instance_create(d->ctx, INSTANCE_ID, d->bundle, &d->inst);
	if (r < 0)
		return demo_step_fail(&d->report, &s, r, "creating %s", INSTANCE_ID), -1;
	state = instance_state(d, &r);
	if (state == NULL)
		return demo_step_fail(&d->report, &s, r, "reading the state of %s", INSTANCE_ID), -1;
	fields = json_object_new_object();
	if (fields != NULL)
		json_object_object_add(fields, "state", json_object_get(state));
	demo_report_set(&d->report, "instance", json_object_new_string(INSTANCE_ID));
	demo_step_ok(&d->report, &s, fields,
		     "composite %s is %s: anchor pid %lld held before exec, images measured and "
		     "matched their pins",
		     INSTANCE_ID, member_string(state, "status"),
		     (long long)member_int(state, "pid", 0));
	json_object_put(state);

	/* The library's own measurement of each stage, which create checked against the pin. */
	for (int i = 0; i < N_STAGES; i++) {
		struct demo_stage_decl *st = &d->stages[i];
		struct json_object *info;
		const char *measured;
		char *text = NULL;

		demo_step_begin(&s, "measure");
		r = ebcc_stage_info(d->inst, st->name, &text);
		if (r < 0)
			return demo_step_fail(&d->report, &s, r, "describing stage %s", st->name), -1;
		info = parse_json(text);
		ebcc_free(text);
		measured = member_string(info, "measurement");
		if (measured == NULL || strcmp(measured, st->measurement) != 0) {
			demo_step_fail(&d->report, &s, DEMO_ERR_NONE,
				       "stage %s: the library measured %s, the pin is %s", st->name,
				       measured != NULL ? measured : "nothing", st->measurement);
			json_object_put(info);
			return -1;
		}
		demo_step_ok(&d->report, &s, json_object_get(info), "%s measured %s = pinned",
			     st->name, st->measurement);
		json_object_put(info);
	}
	return 0;
}

static int step_start(struct demo *d)
{
	struct json_object *state, *stages;
	struct demo_step s;
	int64_t eid = -1;
	int r;

	demo_step_begin(&s, "start");
	r = ebcc_instance_start(d->inst);
	if (r < 0)
		return demo_step_fail(&d->report, &s, r, "starting %s", INSTANCE_ID), -1;
	state = instance_state(d, &r);
	if (state == NULL)
		return demo_step_fail(&d->report, &s, r, "reading the state of %s", INSTANCE_ID), -1;
	stages = json_object_object_get(json_object_object_get(state, "ebcc"), "stages");
	for (size_t i = 0; stages != NULL && i < json_object_array_length(stages); i++) {
		struct json_object *st = json_object_array_get_idx(stages, i);
		const char *name = member_string(st, "name");

		if (name != NULL && strcmp(name, d->stages[SCORER].name) == 0)
			eid = member_int(st, "eid", -1);
	}
	demo_step_ok(&d->report, &s, NULL,
		     "%s is %s: the anchor runs; %s loaded warm as EID %lld; %s gets a fresh enclave "
		     "per request",
		     INSTANCE_ID, member_string(state, "status"), d->stages[SCORER].name,
		     (long long)eid, d->stages[ECHO].name);
	json_object_put(state);
	return 0;
}

/* The evidence envelope of an invocation as a json-c object. */
static struct json_object *envelope(struct ebcc_evidence *ev, int *ret_err)
{
	struct json_object *obj;
	char *text = NULL;

	*ret_err = ebcc_evidence_serialize(ev, &text);
	if (*ret_err < 0)
		return NULL;
	obj = parse_json(text);
	ebcc_free(text);
	return obj;
}

/* The verifier's policy: the trusted key, every value the verifier knows independently (the
 * pinned measurement, its own nonce, the digests of what it sent and received) and the honest
 * admission that this is a simulated TEE. */
static char *policy_json(struct demo *d, const char *measurement, const char *nonce_hex,
			 const char *request_digest, const char *response_digest)
{
	struct ebcc_policy *p = NULL;
	char *json = NULL;
	int r = ebcc_policy_new(&p);

	if (r == 0)
		r = ebcc_policy_add_trusted_key(p, d->key_pem);
	if (r == 0)
		r = ebcc_policy_set_string(p, "measurement", measurement);
	if (r == 0)
		r = ebcc_policy_set_string(p, "nonce", nonce_hex);
	if (r == 0 && request_digest != NULL)
		r = ebcc_policy_set_string(p, "request_digest", request_digest);
	if (r == 0 && response_digest != NULL)
		r = ebcc_policy_set_string(p, "response_digest", response_digest);
	if (r == 0)
		r = ebcc_policy_set_bool(p, "allow_simulated", 1);
	if (r == 0)
		r = ebcc_policy_to_json(p, &json);
	ebcc_policy_free(p);
	return r == 0 ? json : NULL;
}

/* One invocation and the verification of its evidence: two steps. */
static int invoke_and_verify(struct demo *d, int which, const char *request)
{
	struct demo_stage_decl *st = &d->stages[which];
	char nonce_hex[2 * NONCE_BYTES + 1], req_digest[DEMO_SHA256_TEXT], resp_digest[DEMO_SHA256_TEXT];
	char req_text[72], resp_text[120];
	struct ebcc_invocation *inv = NULL;
	struct ebcc_evidence *ev = NULL;
	struct json_object *env = NULL, *fields, *record;
	uint8_t nonce[NONCE_BYTES];
	const void *response = NULL;
	size_t response_len = 0;
	char *policy = NULL;
	struct demo_step s;
	uint64_t seq, eid_u;
	int64_t eid;
	char *claims_text = NULL;
	struct json_object *claims = NULL;
	int r, ret = -1;

	demo_step_begin(&s, "invoke");
	if (getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
		return demo_step_fail(&d->report, &s, DEMO_ERR_NONE, "getrandom: %s", strerror(errno)),
		       -1;
	hex(nonce, sizeof(nonce), nonce_hex);
	r = ebcc_stage_invoke(d->inst, st->name, request, strlen(request), nonce, sizeof(nonce), &inv);
	if (r == 0)
		r = ebcc_invocation_response(inv, &response, &response_len);
	if (r == 0)
		r = ebcc_invocation_evidence(inv, &ev);
	if (r == 0 && (env = envelope(ev, &r)) == NULL && r == 0)
		r = EBCC_ERR_CORRUPT;
	if (r < 0) {
		demo_step_fail(&d->report, &s, r, "invoking %s", st->name);
		goto out;
	}
	seq = ebcc_invocation_seq(inv);
	if (ebcc_evidence_get_u64(ev, EBCC_EVIDENCE_EID, &eid_u) < 0)
		eid_u = UINT64_MAX;
	eid = eid_u <= INT64_MAX ? (int64_t)eid_u : -1;
	demo_sha256_text(request, strlen(request), req_digest);
	demo_sha256_text(response, response_len, resp_digest);
	excerpt(request, strlen(request), req_text, sizeof(req_text));
	excerpt(response, response_len, resp_text, sizeof(resp_text));
	d->invoked++;
	json_object_array_add(d->stage_eids[which], json_object_new_int64(eid));

	fields = json_object_new_object();
	if (fields != NULL) {
		json_object_object_add(fields, "stage", json_object_new_string(st->name));
		json_object_object_add(fields, "seq", json_object_new_int64((int64_t)seq));
		json_object_object_add(fields, "eid", json_object_new_int64(eid));
		json_object_object_add(fields, "nonce", json_object_new_string(nonce_hex));
		json_object_object_add(fields, "request", json_object_new_string(request));
		json_object_object_add(fields, "response",
				       json_object_new_string_len(response, (int)response_len));
	}
	demo_step_ok(&d->report, &s, fields, "%s #%llu in EID %lld: %s -> %s", st->name,
		     (unsigned long long)seq, (long long)eid, req_text, resp_text);
	if (which == SCORER && d->first_seq == 0) {
		d->first_seq = seq;
		memcpy(d->first_nonce, nonce_hex, sizeof(nonce_hex));
	}

	/* The evidence as any verifier would get it: read back from the artifacts on disk, then
	 * checked against values the verifier knows on its own. */
	demo_step_begin(&s, "verify");
	ebcc_evidence_unref(ev);
	ev = NULL;
	r = ebcc_evidence_get(d->inst, st->name, seq, &ev);
	if (r < 0) {
		demo_step_fail(&d->report, &s, r, "fetching the evidence of %s #%llu", st->name,
			       (unsigned long long)seq);
		goto out;
	}
	policy = policy_json(d, st->measurement, nonce_hex, req_digest, resp_digest);
	r = policy != NULL ? ebcc_evidence_verify_claims(d->ctx, ev, policy, &claims_text)
			   : EBCC_ERR_NO_MEMORY;
	if (r == 0 && (claims = parse_json(claims_text)) == NULL)
		r = EBCC_ERR_CORRUPT;
	if (r < 0) {
		demo_step_fail(&d->report, &s, r, "verifying the evidence of %s #%llu", st->name,
			       (unsigned long long)seq);
		goto out;
	}
	d->verified++;
	fields = json_object_new_object();
	record = json_object_new_object();
	if (fields != NULL) {
		json_object_object_add(fields, "stage", json_object_new_string(st->name));
		json_object_object_add(fields, "seq", json_object_new_int64((int64_t)seq));
		json_object_object_add(fields, "verified", json_object_new_boolean(1));
		json_object_object_add(fields, "simulated", json_object_new_boolean(1));
		json_object_object_add(fields, "evidence", json_object_get(env));
		/* What the backend says it checked, and what it did not. */
		json_object_object_add(fields, "claims", json_object_get(claims));
	}
	if (record != NULL) {
		json_object_object_add(record, "stage", json_object_new_string(st->name));
		json_object_object_add(record, "lifetime", json_object_new_string(st->lifetime));
		json_object_object_add(record, "seq", json_object_new_int64((int64_t)seq));
		json_object_object_add(record, "eid", json_object_new_int64(eid));
		json_object_object_add(record, "nonce", json_object_new_string(nonce_hex));
		json_object_object_add(record, "request_digest", json_object_new_string(req_digest));
		json_object_object_add(record, "response_digest", json_object_new_string(resp_digest));
		json_object_object_add(record, "verified", json_object_new_boolean(1));
		json_object_array_add(d->invocation_list, record);
	}
	demo_step_ok(&d->report, &s, fields,
		     "%s #%llu evidence VALID (simulated): sim key signature, report_data, "
		     "measurement, nonce, request and response digests",
		     st->name, (unsigned long long)seq);
	ret = 0;
out:
	ebcc_free(policy);
	json_object_put(env);
	json_object_put(claims);
	ebcc_free(claims_text);
	ebcc_evidence_unref(ev);
	ebcc_invocation_unref(inv);
	return ret;
}

/* Reports an interruption as a failed step. */
static int check_interrupted(struct demo *d, const char *next)
{
	struct demo_step s;

	if (!interrupted)
		return 0;
	demo_step_begin(&s, next);
	demo_step_fail(&d->report, &s, DEMO_ERR_NONE, "interrupted by SIG%s",
		       sigabbrev_np(interrupted));
	return -1;
}

static int step_invocations(struct demo *d)
{
	for (int round = 0; round < d->invocations; round++) {
		if (check_interrupted(d, "invoke") < 0 ||
		    invoke_and_verify(d, SCORER, scorer_requests[round % 3]) < 0 ||
		    invoke_and_verify(d, ECHO, echo_requests[round % 3]) < 0)
			return -1;
	}
	return 0;
}

/* Verification is not a rubber stamp: the first evidence, presented again for a verifier that
 * expects another nonce (a replay), must be refused. */
static int step_replay(struct demo *d)
{
	struct demo_stage_decl *st = &d->stages[SCORER];
	char other[2 * NONCE_BYTES + 1], *policy;
	struct ebcc_evidence *ev = NULL;
	uint8_t nonce[NONCE_BYTES];
	struct demo_step s;
	int r;

	demo_step_begin(&s, "replay");
	if (getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce))
		return demo_step_fail(&d->report, &s, DEMO_ERR_NONE, "getrandom: %s", strerror(errno)),
		       -1;
	hex(nonce, sizeof(nonce), other);
	r = ebcc_evidence_get(d->inst, st->name, d->first_seq, &ev);
	if (r < 0)
		return demo_step_fail(&d->report, &s, r, "fetching the evidence of %s #%llu",
				      st->name, (unsigned long long)d->first_seq),
		       -1;
	policy = policy_json(d, st->measurement, other, NULL, NULL);
	r = policy != NULL ? ebcc_evidence_verify(d->ctx, ev, policy) : EBCC_ERR_NO_MEMORY;
	ebcc_free(policy);
	ebcc_evidence_unref(ev);
	if (r != EBCC_ERR_VERIFY) {
		if (r < 0)
			return demo_step_fail(&d->report, &s, r, "verifying a replay"), -1;
		return demo_step_fail(&d->report, &s, DEMO_ERR_NONE,
				      "the evidence of %s #%llu passed for a nonce it does not carry",
				      st->name, (unsigned long long)d->first_seq),
		       -1;
	}
	demo_step_ok(&d->report, &s, NULL,
		     "%s #%llu evidence presented for another nonce is REFUSED, as it must be: %s",
		     st->name, (unsigned long long)d->first_seq, ebcc_last_error_message());
	return 0;
}

static int step_artifacts(struct demo *d)
{
	struct json_object *list, *fields;
	long long total = 0;
	struct demo_step s;
	size_t n;

	demo_step_begin(&s, "artifacts");
	list = demo_artifacts_list(d->root, INSTANCE_ID);
	if (list == NULL)
		return demo_step_fail(&d->report, &s, DEMO_ERR_NONE, "listing %s/%s/stages: %s",
				      d->root, INSTANCE_ID, strerror(errno)),
		       -1;
	n = json_object_array_length(list);
	for (size_t i = 0; i < n; i++)
		total += member_int(json_object_array_get_idx(list, i), "bytes", 0);
	fields = json_object_new_object();
	if (fields != NULL)
		json_object_object_add(fields, "files", json_object_get(list));
	demo_step_ok(&d->report, &s, fields, "%zu files, %lld bytes under %s/%s/:", n, total,
		     d->root, INSTANCE_ID);
	/* One line per invocation directory: its files and their sizes. */
	for (size_t i = 0; i < n;) {
		const char *path = member_string(json_object_array_get_idx(list, i), "path");
		const char *slash = strrchr(path, '/');
		size_t dir_len = (size_t)(slash - path);
		char line[512];
		int used = 0;

		for (; i < n; i++) {
			struct json_object *file = json_object_array_get_idx(list, i);
			const char *p = member_string(file, "path");

			if (strncmp(p, path, dir_len + 1) != 0)
				break;
			if (used < (int)sizeof(line))
				used += snprintf(line + used, sizeof(line) - (size_t)used, "%s%s %lld B",
						 used ? ", " : "", p + dir_len + 1,
						 (long long)member_int(file, "bytes", 0));
		}
		demo_detail(&d->report, "%.*s/  %s", (int)dir_len, path, line);
	}
	demo_report_set(&d->report, "artifacts", list);
	return 0;
}

static int step_stop(struct demo *d)
{
	struct demo_step s;
	int r, status = 0;

	demo_step_begin(&s, "kill");
	r = ebcc_instance_kill(d->inst, SIGTERM);
	if (r < 0)
		return demo_step_fail(&d->report, &s, r, "killing %s", INSTANCE_ID), -1;
	demo_step_ok(&d->report, &s, NULL, "stages unloaded, SIGTERM sent to the anchor");

	demo_step_begin(&s, "wait");
	r = ebcc_instance_wait(d->inst, WAIT_MS, &status);
	if (r < 0)
		return demo_step_fail(&d->report, &s, r, "waiting for %s", INSTANCE_ID), -1;
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGTERM)
		return demo_step_fail(&d->report, &s, DEMO_ERR_NONE,
				      "the anchor ended with wait status %d, not by SIGTERM", status),
		       -1;
	demo_step_ok(&d->report, &s, NULL, "%s is stopped: the anchor was terminated by SIGTERM",
		     INSTANCE_ID);

	if (d->keep)
		return 0;
	demo_step_begin(&s, "delete");
	r = ebcc_instance_delete(d->inst, 0);
	if (r < 0)
		return demo_step_fail(&d->report, &s, r, "deleting %s", INSTANCE_ID), -1;
	d->inst = ebcc_instance_unref(d->inst);
	demo_step_ok(&d->report, &s, NULL, "%s and its artifacts are gone", INSTANCE_ID);
	return 0;
}

/* Whatever happened before: nothing keeps running, and without --keep nothing stays on disk. */
static void cleanup(struct demo *d, int failed)
{
	struct demo_step s;

	if (d->inst != NULL && failed) {
		int r;

		demo_step_begin(&s, "cleanup");
		if (d->keep) {
			int status = ebcc_instance_status(d->inst);

			r = status == EBCC_STATUS_CREATED || status == EBCC_STATUS_RUNNING
				    ? ebcc_instance_kill(d->inst, SIGKILL)
				    : 0;
		} else {
			r = ebcc_instance_delete(d->inst, EBCC_DELETE_FORCE);
		}
		if (r < 0)
			demo_step_fail(&d->report, &s, r, "%s %s", d->keep ? "killing" : "deleting",
				       INSTANCE_ID);
	}
	d->inst = ebcc_instance_unref(d->inst);
	if (d->base == NULL)
		return;
	demo_step_begin(&s, "cleanup");
	if (d->keep) {
		demo_step_ok(&d->report, &s, NULL, "kept %s (--keep); inspect with: ebcc-runtime "
						   "--anchor=process --root %s list",
			     d->base, d->root);
		return;
	}
	if (demo_tree_remove(d->base) < 0)
		demo_step_fail(&d->report, &s, DEMO_ERR_NONE, "removing %s: %s", d->base,
			       strerror(errno));
	else
		demo_step_ok(&d->report, &s, NULL, "removed %s", d->base);
}

/* "scorer in EID 1 every time, echo in EIDs 2, 3, 4": the two lifetimes, as they ran. */
static void describe_eids(struct demo *d, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < N_STAGES; i++) {
		struct json_object *eids = d->stage_eids[i];
		size_t n = json_object_array_length(eids);
		int same = 1;

		for (size_t j = 1; j < n; j++)
			same &= json_object_get_int64(json_object_array_get_idx(eids, j)) ==
				json_object_get_int64(json_object_array_get_idx(eids, 0));
		if (n == 0 || used >= size)
			continue;
		used += (size_t)snprintf(out + used, size - used, "%s%s in EID%s ", used ? ", " : "",
					 d->stages[i].name, same ? "" : "s");
		for (size_t j = 0; j < (same ? 1 : n) && used < size; j++)
			used += (size_t)snprintf(out + used, size - used, "%s%lld", j ? ", " : "",
						 (long long)json_object_get_int64(
							 json_object_array_get_idx(eids, j)));
		if (same && n > 1 && used < size)
			used += (size_t)snprintf(out + used, size - used, " every time");
	}
}

/* ---- the program -------------------------------------------------------------------------- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: " DEMO_NAME " [--json] [--keep] [--stages DIR] [--invocations N]\n"
		"\n"
		"Runs the whole libebcc lifecycle on the sim backend in a temporary directory:\n"
		"create, start, invoke two confidential stages with fresh nonces, verify every\n"
		"piece of (simulated) evidence, list the artifacts, kill, wait, delete, clean up.\n"
		"\n"
		"  --json             print one JSON document instead of lines for people\n"
		"  --keep             keep the temporary state root and bundle for inspection\n"
		"  --stages DIR       the example stage images (default: $EBCC_DEMO_STAGES, else\n"
		"                     the build tree's or the installed ones)\n"
		"  -n, --invocations N  invocations per stage, 1..100 (default 3)\n"
		"  -h, --help         show this help\n"
		"      --version      show the version\n"
		"\n"
		"Exit status: 0 when every step and every verification succeeded, else 1.\n");
}

static int parse_args(struct demo *d, int argc, char **argv, int *ret_json)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "keep", no_argument, NULL, 'k' },
		{ "stages", required_argument, NULL, 's' },
		{ "invocations", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	char *end;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hn:", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			*ret_json = 1;
			break;
		case 'k':
			d->keep = 1;
			break;
		case 's':
			d->stages_option = optarg;
			break;
		case 'n':
			errno = 0;
			d->invocations = (int)strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || d->invocations < 1 || d->invocations > 100) {
				fprintf(stderr, DEMO_NAME ": --invocations \"%s\": a number 1..100\n",
					optarg);
				return 1;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf(DEMO_NAME " %s (libebcc %s)\n", EBCC_VERSION_STRING,
			       ebcc_version_string());
			return 0;
		default:
			fprintf(stderr, DEMO_NAME ": %s %s\n",
				c == ':' ? "missing the argument of" : "unknown option",
				argv[optind - 1]);
			usage(stderr);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, DEMO_NAME ": unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	return -1;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*run)(struct demo *d);
	} steps[] = {
		{ "setup", step_setup },	 { "backend", step_backend },
		{ "image", step_images },	 { "bundle", step_bundle },
		{ "key", step_key },		 { "create", step_create },
		{ "start", step_start },	 { "invoke", step_invocations },
		{ "replay", step_replay },	 { "artifacts", step_artifacts },
		{ "kill", step_stop },
	};
	static const int stop_signals[] = { SIGINT, SIGTERM, SIGHUP };
	struct demo d = {
		.invocations = 3,
		.stages = {
			[SCORER] = { .name = "scorer", .lifetime = "instance" },
			[ECHO] = { .name = "echo", .lifetime = "invocation" },
		},
	};
	struct json_object *summary, *stages;
	int json = 0, failed, code;
	char eids[256];

	code = parse_args(&d, argc, argv, &json);
	if (code >= 0)
		return code;
	/* SA_RESETHAND: a second signal ends the demo at once, as usual. */
	for (size_t i = 0; i < sizeof(stop_signals) / sizeof(stop_signals[0]); i++) {
		struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART | SA_RESETHAND };

		sigaction(stop_signals[i], &sa, NULL);
	}
	if (demo_report_init(&d.report, json) < 0) {
		fprintf(stderr, DEMO_NAME ": out of memory\n");
		return 1;
	}
	d.invocation_list = json_object_new_array();
	for (int i = 0; i < N_STAGES; i++)
		d.stage_eids[i] = json_object_new_array();
	demo_report_set(&d.report, "program", json_object_new_string(DEMO_NAME));
	demo_report_set(&d.report, "version", json_object_new_string(EBCC_VERSION_STRING));
	demo_report_set(&d.report, "library_version", json_object_new_string(ebcc_version_string()));
	demo_say(&d.report,
		 DEMO_NAME " %s, libebcc %s: one composite, two confidential stages, the sim backend\n"
		 "  (sim is a software TEE: its evidence is SIMULATED and proves nothing about "
		 "hardware)\n\n  %-10s %-4s %11s  %s",
		 EBCC_VERSION_STRING, ebcc_version_string(), "step", "", "time", "what happened");

	failed = 0;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]) && !failed; i++)
		failed = check_interrupted(&d, steps[i].name) < 0 || steps[i].run(&d) < 0;
	cleanup(&d, failed);

	stages = json_object_new_array();
	for (int i = 0; i < N_STAGES && stages != NULL; i++) {
		struct json_object *st = json_object_new_object();

		if (st == NULL)
			break;
		json_object_object_add(st, "name", json_object_new_string(d.stages[i].name));
		json_object_object_add(st, "lifetime", json_object_new_string(d.stages[i].lifetime));
		json_object_object_add(st, "measurement",
				       json_object_new_string(d.stages[i].measurement));
		json_object_object_add(st, "image_bytes",
				       json_object_new_int64((int64_t)d.stages[i].image_size));
		json_object_object_add(st, "eids", json_object_get(d.stage_eids[i]));
		json_object_array_add(stages, st);
	}
	demo_report_set(&d.report, "stages", stages);
	demo_report_set(&d.report, "invocations", json_object_get(d.invocation_list));
	demo_report_set(&d.report, "kept", json_object_new_boolean(d.keep));
	summary = json_object_new_object();
	if (summary != NULL) {
		json_object_object_add(summary, "invocations", json_object_new_int(d.invoked));
		json_object_object_add(summary, "verified", json_object_new_int(d.verified));
		json_object_object_add(summary, "simulated", json_object_new_boolean(1));
	}
	failed = failed || d.report.steps_failed > 0 || d.verified != d.invoked;
	describe_eids(&d, eids, sizeof(eids));
	if (failed)
		demo_report_finish(&d.report, summary,
				   "%d of %d steps failed; %d invocations, %d evidence verified",
				   d.report.steps_failed, d.report.steps_ok + d.report.steps_failed,
				   d.invoked, d.verified);
	else
		demo_report_finish(&d.report, summary,
				   "all %d steps ok: %d invocations (%s), %d pieces of evidence "
				   "verified (SIMULATED: sim has no hardware root of trust), a replay "
				   "refused",
				   d.report.steps_ok, d.invoked, eids, d.verified);

	for (int i = 0; i < N_STAGES; i++)
		json_object_put(d.stage_eids[i]);
	json_object_put(d.invocation_list);
	demo_report_free(&d.report);
	ebcc_free(d.key_pem);
	ebcc_context_unref(d.ctx);
	free(d.base);
	free(d.root);
	free(d.bundle);
	return failed ? 1 : 0;
}
