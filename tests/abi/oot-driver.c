/* SPDX-License-Identifier: MIT */
/*
 * A program outside the tree (test-plugin-out-of-tree.py), built with nothing but
 * `cc driver.c $(pkg-config --cflags --libs libebcc)`: it loads a backend plugin and runs the
 * composite of a bundle whose stages name that backend. Start, one invocation of every stage
 * given (the echo stage's answer compared), its evidence verified under the plugin's
 * attestation key with the nonce pinned, then kill, wait and delete.
 *
 * usage: oot-driver STATE_ROOT PLUGIN BUNDLE BACKEND STAGE...
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ebcc/backend.h>
#include <ebcc/ebcc.h>

static int failed(const char *what, int r)
{
	fprintf(stderr, "%s: %s: %s\n", what, ebcc_error_name(r), ebcc_last_error_message());
	return 1;
}

/* The evidence of inv, under a policy trusting pem and pinning nonce (hex). */
static int verify(struct ebcc_context *ctx, struct ebcc_invocation *inv, const char *pem,
		  const char *nonce_hex, const char *backend)
{
	struct ebcc_policy *policy = NULL;
	struct ebcc_evidence *ev = NULL;
	const char *got = NULL;
	char *json = NULL;
	int r;

	r = ebcc_policy_new(&policy);
	if (r == 0)
		r = ebcc_policy_add_trusted_key(policy, pem);
	if (r == 0)
		r = ebcc_policy_set_bool(policy, "allow_simulated", 1);
	if (r == 0)
		r = ebcc_policy_set_string(policy, "nonce", nonce_hex);
	if (r == 0)
		r = ebcc_policy_to_json(policy, &json);
	if (r == 0)
		r = ebcc_invocation_evidence(inv, &ev);
	if (r == 0)
		r = ebcc_evidence_get_text(ev, EBCC_EVIDENCE_BACKEND, &got);
	if (r == 0 && strcmp(got, backend) != 0) {
		fprintf(stderr, "the evidence names backend %s, not %s\n", got, backend);
		r = -1;
	} else if (r == 0 && (r = ebcc_evidence_verify(ctx, ev, json)) != 0) {
		failed("ebcc_evidence_verify", r);
	} else if (r != 0) {
		failed("the policy or the evidence", r);
	}
	ebcc_evidence_unref(ev);
	ebcc_free(json);
	ebcc_policy_free(policy);
	return r == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const char request[] = "out of tree";
	static const unsigned char nonce[16] = "0123456789abcdef";
	const char *settings[] = { "state_root", NULL, NULL };
	struct ebcc_context_options opts = EBCC_CONTEXT_OPTIONS_INIT;
	struct ebcc_context *ctx = NULL;
	struct ebcc_instance *inst = NULL;
	char *pem = NULL, nonce_hex[2 * sizeof(nonce) + 1];
	int r, status = 0, bad = 0;

	if (argc < 6) {
		fprintf(stderr, "usage: %s STATE_ROOT PLUGIN BUNDLE BACKEND STAGE...\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(nonce); i++)
		snprintf(nonce_hex + 2 * i, 3, "%02x", nonce[i]);
	settings[1] = argv[1];
	opts.settings = settings;
	if ((r = ebcc_context_new_with(&opts, &ctx)) != 0)
		return failed("ebcc_context_new_with", r);
	if ((r = ebcc_backend_load(ctx, argv[2])) != 0) {
		bad = failed("ebcc_backend_load", r);
		goto out;
	}
	if ((r = ebcc_backend_attestation_key(ctx, argv[4], &pem)) != 0) {
		bad = failed("ebcc_backend_attestation_key", r);
		goto out;
	}
	if ((r = ebcc_instance_create(ctx, "oot", argv[3], &inst)) != 0) {
		bad = failed("ebcc_instance_create", r);
		goto out;
	}
	if ((r = ebcc_instance_start(inst)) != 0) {
		bad = failed("ebcc_instance_start", r);
		goto stop;
	}
	for (int i = 5; i < argc; i++) {
		struct ebcc_invocation *inv = NULL;
		const void *data = NULL;
		size_t len = 0;

		r = ebcc_stage_invoke(inst, argv[i], request, strlen(request), nonce, sizeof(nonce),
				      &inv);
		if (r != 0) {
			bad = failed(argv[i], r);
			continue;
		}
		if (ebcc_invocation_response(inv, &data, &len) != 0 || len != strlen(request) ||
		    memcmp(data, request, len) != 0) {
			fprintf(stderr, "%s: the response is not the request echoed\n", argv[i]);
			bad = 1;
		} else if (verify(ctx, inv, pem, nonce_hex, argv[4]) != 0) {
			bad = 1;
		} else {
			printf("stage %s (backend %s): answered and its evidence verified\n", argv[i],
			       argv[4]);
		}
		ebcc_invocation_unref(inv);
	}
stop:
	ebcc_instance_kill(inst, SIGKILL);
	ebcc_instance_wait(inst, 10000, &status);
	if ((r = ebcc_instance_delete(inst, EBCC_DELETE_FORCE)) != 0)
		bad = failed("ebcc_instance_delete", r);
out:
	ebcc_instance_unref(inst);
	ebcc_free(pem);
	ebcc_context_unref(ctx);
	return bad;
}
