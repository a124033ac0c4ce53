/* SPDX-License-Identifier: MIT */
/* The confidential extensions that touch a composite: invoke a stage, fetch its evidence. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <json-c/json.h>

#include "runtime.h"

static const char *const id_stage_operands[] = { "container ID", "STAGE" };

/* The context's max_request option: no request above it can succeed, so reading stops there. */
static size_t max_request(struct rt *rt)
{
	uint64_t value = 1 << 20;
	char *text = NULL;

	if (ebcc_context_get_option(rt->ctx, "max_request", &text) == 0)
		rt_parse_u64(text, &value);
	ebcc_free(text);
	return value < SIZE_MAX ? (size_t)value : SIZE_MAX - 1;
}

static const char *envelope_string(struct json_object *env, const char *key)
{
	struct json_object *value;

	return json_object_object_get_ex(env, key, &value) ? json_object_get_string(value) : "?";
}

/* One line on stderr saying what the evidence binds, for people; scripts use `evidence`. */
static int print_evidence_summary(struct ebcc_invocation *inv)
{
	struct ebcc_evidence *ev = NULL;
	struct json_object *env;
	char *text = NULL;
	int r;

	r = ebcc_invocation_evidence(inv, &ev);
	if (r == 0)
		r = ebcc_evidence_serialize(ev, &text);
	ebcc_evidence_unref(ev);
	if (r < 0)
		return r;
	env = json_tokener_parse(text);
	ebcc_free(text);
	if (env == NULL)
		return EBCC_ERR_CORRUPT;
	fprintf(stderr,
		"evidence: backend=%s format=%s simulated=%s eid=%s seq=%s measurement=%s nonce=%s "
		"request=%s response=%s\n",
		envelope_string(env, "backend"), envelope_string(env, "format"),
		envelope_string(env, "simulated"), envelope_string(env, "eid"),
		envelope_string(env, "seq"), envelope_string(env, "measurement"),
		envelope_string(env, "nonce"), envelope_string(env, "request_digest"),
		envelope_string(env, "response_digest"));
	json_object_put(env);
	return 0;
}

static int invoke_run(struct rt *rt, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nonce", required_argument, NULL, 'n' },
		{ "in", required_argument, NULL, 'i' },
		{ "out", required_argument, NULL, 'o' },
		RT_COMMON_OPTIONS,
		{ 0 },
	};
	const char *in = "-", *out = "-", *nonce_hex = NULL, *id, *stage;
	uint8_t nonce[EBCC_NONCE_MAX];
	size_t nonce_len = 32, request_len = 0, response_len = 0;
	struct ebcc_instance *inst = NULL;
	struct ebcc_invocation *inv = NULL;
	const void *response = NULL;
	char *request = NULL;
	int c, r, code = RT_EXIT_FAIL;

	while ((c = rt_getopt(rt, argc, argv, "n:i:o:", opts)) != -1) {
		if (c == 'n')
			nonce_hex = optarg;
		else if (c == 'i')
			in = optarg;
		else if (c == 'o')
			out = optarg;
		else
			return rt_getopt_exit(c);
	}
	if (rt_operands(rt, argc, argv, 2, 2, id_stage_operands) < 0)
		return RT_EXIT_FAIL;
	id = argv[optind];
	stage = argv[optind + 1];
	if (nonce_hex != NULL) {
		if (rt_parse_hex(nonce_hex, nonce, sizeof(nonce), &nonce_len) < 0)
			return rt_usage_error(rt, "--nonce \"%s\" is not hex of at most %d bytes",
					      nonce_hex, EBCC_NONCE_MAX);
	} else if (getrandom(nonce, nonce_len, 0) != (ssize_t)nonce_len) {
		/* A fresh nonce by default, so that the evidence proves this very call. */
		return rt_fail_plain("invoke %s %s: getrandom: %s", id, stage, strerror(errno));
	}

	inst = rt_open_instance(rt, "invoke", id);
	if (inst == NULL)
		return RT_EXIT_FAIL;
	if (rt_read_file(in, max_request(rt), &request, &request_len) < 0)
		goto out;
	r = ebcc_stage_invoke(inst, stage, request, request_len, nonce, nonce_len, &inv);
	if (r < 0) {
		rt_fail(r, "invoke %s %s", id, stage);
		goto out;
	}
	r = ebcc_invocation_response(inv, &response, &response_len);
	if (r < 0) {
		rt_fail(r, "invoke %s %s: response", id, stage);
		goto out;
	}
	if (rt_write_file(out, RT_OUT_STREAM, response, response_len) < 0)
		goto out;
	fflush(stdout);
	fprintf(stderr, "seq=%llu\n", (unsigned long long)ebcc_invocation_seq(inv));
	r = print_evidence_summary(inv);
	if (r < 0) {
		rt_fail(r, "invoke %s %s: evidence", id, stage);
		goto out;
	}
	rt_log(EBCC_LOG_INFO, "invoked %s of %s: seq %llu, %zu bytes in, %zu bytes out", stage, id,
	       (unsigned long long)ebcc_invocation_seq(inv), request_len, response_len);
	code = RT_EXIT_OK;
out:
	ebcc_invocation_unref(inv);
	ebcc_instance_unref(inst);
	free(request);
	return code;
}

const struct rt_command rt_cmd_invoke = {
	.name = "invoke",
	.args = "ID STAGE [--nonce HEX] [--in FILE|-] [--out FILE|-]",
	.summary = "send a request to a stage; print the response, its seq and evidence",
	.help = "  -n, --nonce HEX   bind this nonce (at most 64 bytes) into the evidence;\n"
		"                    default: 32 fresh random bytes\n"
		"  -i, --in FILE     the request (default: - for stdin)\n"
		"  -o, --out FILE    where the response goes (default: - for stdout)\n"
		"Prints seq=N and a one-line summary of the evidence on stderr.\n",
	.run = invoke_run,
};

static int evidence_run(struct rt *rt, int argc, char **argv)
{
	static const struct option opts[] = { RT_COMMON_OPTIONS, { 0 } };
	static const char *const operands[] = { "container ID", "STAGE" };
	struct ebcc_instance *inst;
	struct ebcc_evidence *ev = NULL;
	const char *id, *stage;
	uint64_t seq = 0;
	char *text = NULL;
	int c, r;

	while ((c = rt_getopt(rt, argc, argv, "", opts)) != -1)
		return rt_getopt_exit(c);
	if (rt_operands(rt, argc, argv, 2, 3, operands) < 0)
		return RT_EXIT_FAIL;
	id = argv[optind];
	stage = argv[optind + 1];
	if (optind + 2 < argc && (rt_parse_u64(argv[optind + 2], &seq) < 0 || seq == 0))
		return rt_usage_error(rt, "SEQ \"%s\" is not a sequence number (1, 2, ...)",
				      argv[optind + 2]);
	inst = rt_open_instance(rt, "evidence", id);
	if (inst == NULL)
		return RT_EXIT_FAIL;
	r = ebcc_evidence_get(inst, stage, seq, &ev);
	ebcc_instance_unref(inst);
	if (r == 0)
		r = ebcc_evidence_serialize(ev, &text);
	ebcc_evidence_unref(ev);
	if (r < 0)
		return seq != 0 ? rt_fail(r, "evidence %s %s %llu", id, stage, (unsigned long long)seq)
				: rt_fail(r, "evidence %s %s", id, stage);
	printf("%s\n", text);
	ebcc_free(text);
	return RT_EXIT_OK;
}

const struct rt_command rt_cmd_evidence = {
	.name = "evidence",
	.args = "ID STAGE [SEQ]",
	.summary = "print the evidence envelope of an invocation (default: the latest)",
	.help = "Prints the envelope as JSON on one line, ready for `" RT_NAME " verify`.\n",
	.run = evidence_run,
};
