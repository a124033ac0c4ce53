/* SPDX-License-Identifier: MIT */
/* The commands that only look: state, list, stages and backends. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ebcc/backend.h>
#include <json-c/json.h>

#include "runtime.h"

static const char *const id_operand[] = { "container ID" };

enum format { FORMAT_TABLE, FORMAT_JSON };

static int parse_format(struct rt *rt, const char *text, enum format *ret)
{
	if (strcmp(text, "table") == 0)
		*ret = FORMAT_TABLE;
	else if (strcmp(text, "json") == 0)
		*ret = FORMAT_JSON;
	else
		return rt_usage_error(rt, "unknown format \"%s\" (table or json)", text), -1;
	return 0;
}

/* Options of the listing commands: --format table|json, plus --quiet where allowed. */
static int listing_options(struct rt *rt, int argc, char **argv, int allow_quiet,
			   enum format *ret_format, int *ret_quiet)
{
	static const struct option with_quiet[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		RT_COMMON_OPTIONS,
		{ 0 },
	};
	static const struct option without_quiet[] = {
		{ "format", required_argument, NULL, 'f' },
		RT_COMMON_OPTIONS,
		{ 0 },
	};
	int c;

	*ret_format = FORMAT_TABLE;
	while ((c = rt_getopt(rt, argc, argv, allow_quiet ? "f:q" : "f:",
			      allow_quiet ? with_quiet : without_quiet)) != -1) {
		if (c == 'f') {
			if (parse_format(rt, optarg, ret_format) < 0)
				return RT_OPT_FAIL;
		} else if (c == 'q') {
			*ret_quiet = 1;
		} else {
			return c;
		}
	}
	return 0;
}

static const char *member_string(struct json_object *obj, const char *key, const char *fallback)
{
	struct json_object *value;

	if (obj == NULL || !json_object_object_get_ex(obj, key, &value) ||
	    json_object_is_type(value, json_type_null))
		return fallback;
	return json_object_get_string(value);
}

static struct json_object *member(struct json_object *obj, const char *key)
{
	struct json_object *value;

	return obj != NULL && json_object_object_get_ex(obj, key, &value) ? value : NULL;
}

/* The composite's OCI state as a json-c object, or NULL (reported when verb is not NULL). */
static struct json_object *load_state(struct ebcc_instance *inst, const char *verb, const char *id)
{
	struct json_object *state;
	char *text = NULL;
	int r = ebcc_instance_state(inst, &text);

	if (r < 0) {
		if (verb != NULL)
			rt_fail(r, "%s %s", verb, id);
		return NULL;
	}
	state = json_tokener_parse(text);
	ebcc_free(text);
	if (state == NULL && verb != NULL)
		rt_fail_plain("%s %s: the library returned a state that is not JSON", verb, id);
	return state;
}

/* ---- state ------------------------------------------------------------------------------ */

static int state_run(struct rt *rt, int argc, char **argv)
{
	static const struct option opts[] = { RT_COMMON_OPTIONS, { 0 } };
	struct ebcc_instance *inst;
	const char *id;
	char *text = NULL;
	int c, r;

	while ((c = rt_getopt(rt, argc, argv, "", opts)) != -1)
		return rt_getopt_exit(c);
	if (rt_operands(rt, argc, argv, 1, 1, id_operand) < 0)
		return RT_EXIT_FAIL;
	id = argv[optind];
	inst = rt_open_instance(rt, "state", id);
	if (inst == NULL)
		return RT_EXIT_FAIL;
	r = ebcc_instance_state(inst, &text);
	ebcc_instance_unref(inst);
	if (r < 0)
		return rt_fail(r, "state %s", id);
	r = rt_print_json_pretty(text);
	ebcc_free(text);
	if (r < 0)
		return rt_fail_plain("state %s: the library returned a state that is not JSON", id);
	return RT_EXIT_OK;
}

const struct rt_command rt_cmd_state = {
	.name = "state",
	.args = "ID",
	.summary = "print the composite's OCI state as JSON",
	.help = "The OCI runtime state (ociVersion, id, status, pid, bundle, annotations) with an\n"
		"\"ebcc\" object: backend, stages with their EIDs and measurements, creation time.\n",
	.run = state_run,
};

/* ---- list ------------------------------------------------------------------------------- */

/* One row of the list: the state when it can be read, else just what the listing said. */
static struct json_object *list_entry(struct rt *rt, struct json_object *listed)
{
	const char *id = member_string(listed, "id", "");
	struct ebcc_instance *inst = NULL;
	struct json_object *state = NULL, *created;

	if (ebcc_instance_open(rt->ctx, id, &inst) == 0)
		state = load_state(inst, NULL, id);
	ebcc_instance_unref(inst);
	if (state == NULL)
		return json_object_get(listed);
	/* runc's list carries the creation time at the top. */
	created = member(member(state, "ebcc"), "created");
	if (created != NULL)
		json_object_object_add(state, "created", json_object_get(created));
	return state;
}

static int list_run(struct rt *rt, int argc, char **argv)
{
	static const char *const headers[] = { "ID", "PID", "STATUS", "BUNDLE", "CREATED" };
	struct json_object *listed = NULL, *all = NULL;
	struct rt_table *table = NULL;
	enum format format;
	char *text = NULL;
	int c, r, quiet = 0, code = RT_EXIT_FAIL;

	c = listing_options(rt, argc, argv, 1, &format, &quiet);
	if (c != 0)
		return rt_getopt_exit(c);
	if (rt_operands(rt, argc, argv, 0, 0, NULL) < 0)
		return RT_EXIT_FAIL;
	r = ebcc_instance_list(rt->ctx, &text);
	if (r < 0)
		return rt_fail(r, "list");
	listed = json_tokener_parse(text);
	ebcc_free(text);
	all = json_object_new_array();
	if (listed == NULL || !json_object_is_type(listed, json_type_array) || all == NULL) {
		rt_fail_plain("list: the library returned a list that is not a JSON array");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(listed); i++)
		json_object_array_add(all, list_entry(rt, json_object_array_get_idx(listed, i)));

	if (format == FORMAT_JSON) {
		rt_print_json(all);
		code = RT_EXIT_OK;
		goto out;
	}
	if (quiet) {
		for (size_t i = 0; i < json_object_array_length(all); i++)
			printf("%s\n", member_string(json_object_array_get_idx(all, i), "id", ""));
		code = RT_EXIT_OK;
		goto out;
	}
	table = rt_table_new(5, headers);
	if (table == NULL)
		goto nomem;
	for (size_t i = 0; i < json_object_array_length(all); i++) {
		struct json_object *s = json_object_array_get_idx(all, i);
		const char *row[5] = {
			member_string(s, "id", ""),	member_string(s, "pid", "0"),
			member_string(s, "status", ""), member_string(s, "bundle", ""),
			member_string(s, "created", ""),
		};

		if (rt_table_add(table, row) < 0)
			goto nomem;
	}
	rt_table_print(table);
	code = RT_EXIT_OK;
	goto out;

nomem:
	rt_fail_plain("list: out of memory");
out:
	rt_table_free(table);
	json_object_put(all);
	json_object_put(listed);
	return code;
}

const struct rt_command rt_cmd_list = {
	.name = "list",
	.args = "[--format table|json] [--quiet]",
	.summary = "list the composites under the state root",
	.help = "  -f, --format table|json  a table (ID, PID, STATUS, BUNDLE, CREATED; the default)\n"
		"                           or a JSON array of the composites' states\n"
		"  -q, --quiet              print only the IDs\n",
	.run = list_run,
};

/* ---- stages ----------------------------------------------------------------------------- */

static int stages_run(struct rt *rt, int argc, char **argv)
{
	static const char *const headers[] = { "NAME",	   "LIFETIME", "EID",
					       "LAST SEQ", "BACKEND",  "MEASUREMENT" };
	struct json_object *state = NULL, *stages, *infos = NULL;
	struct ebcc_instance *inst = NULL;
	struct rt_table *table = NULL;
	enum format format;
	const char *id;
	int c, code = RT_EXIT_FAIL;

	c = listing_options(rt, argc, argv, 0, &format, NULL);
	if (c != 0)
		return rt_getopt_exit(c);
	if (rt_operands(rt, argc, argv, 1, 1, id_operand) < 0)
		return RT_EXIT_FAIL;
	id = argv[optind];
	inst = rt_open_instance(rt, "stages", id);
	if (inst == NULL)
		return RT_EXIT_FAIL;
	state = load_state(inst, "stages", id);
	infos = json_object_new_array();
	if (state == NULL || infos == NULL)
		goto out;
	stages = member(member(state, "ebcc"), "stages");
	for (size_t i = 0; stages != NULL && i < json_object_array_length(stages); i++) {
		const char *name = member_string(json_object_array_get_idx(stages, i), "name", "");
		struct json_object *info;
		char *text = NULL;
		int r = ebcc_stage_info(inst, name, &text);

		if (r < 0) {
			rt_fail(r, "stages %s: stage %s", id, name);
			goto out;
		}
		info = json_tokener_parse(text);
		ebcc_free(text);
		if (info == NULL) {
			rt_fail_plain("stages %s: stage %s: the library's answer is not JSON", id, name);
			goto out;
		}
		json_object_array_add(infos, info);
	}

	if (format == FORMAT_JSON) {
		rt_print_json(infos);
		code = RT_EXIT_OK;
		goto out;
	}
	table = rt_table_new(6, headers);
	if (table == NULL)
		goto nomem;
	for (size_t i = 0; i < json_object_array_length(infos); i++) {
		struct json_object *s = json_object_array_get_idx(infos, i);
		const char *row[6] = {
			member_string(s, "name", ""),	 member_string(s, "lifetime", ""),
			member_string(s, "eid", "-"),	 member_string(s, "last_seq", "0"),
			member_string(s, "backend", ""), member_string(s, "measurement", ""),
		};

		if (rt_table_add(table, row) < 0)
			goto nomem;
	}
	rt_table_print(table);
	code = RT_EXIT_OK;
	goto out;

nomem:
	rt_fail_plain("stages %s: out of memory", id);
out:
	rt_table_free(table);
	json_object_put(infos);
	json_object_put(state);
	ebcc_instance_unref(inst);
	return code;
}

const struct rt_command rt_cmd_stages = {
	.name = "stages",
	.args = "[--format table|json] ID",
	.summary = "describe the composite's confidential stages",
	.help = "  -f, --format table|json  a table (the default) or a JSON array with each stage's\n"
		"                           full description: limits, isolation achieved, EID\n",
	.run = stages_run,
};

/* ---- backends --------------------------------------------------------------------------- */

static int backends_run(struct rt *rt, int argc, char **argv)
{
	static const char *const headers[] = { "NAME",	    "AVAILABLE", "ISOLATION",
					       "SIMULATED", "EVIDENCE",	 "REASON" };
	struct json_object *probes = NULL;
	struct rt_table *table = NULL;
	enum format format;
	int c, n, code = RT_EXIT_FAIL;

	c = listing_options(rt, argc, argv, 0, &format, NULL);
	if (c != 0)
		return rt_getopt_exit(c);
	if (rt_operands(rt, argc, argv, 0, 0, NULL) < 0)
		return RT_EXIT_FAIL;
	n = ebcc_backend_count(rt->ctx);
	if (n < 0)
		return rt_fail(n, "backends");
	probes = json_object_new_array();
	if (probes == NULL)
		goto nomem;
	for (int i = 0; i < n; i++) {
		const char *name = ebcc_backend_name(rt->ctx, i);
		struct json_object *probe;
		char *text = NULL;
		int r;

		if (name == NULL)
			continue;
		r = ebcc_backend_probe(rt->ctx, name, &text);
		if (r < 0) {
			rt_fail(r, "backends: probing %s", name);
			goto out;
		}
		probe = json_tokener_parse(text);
		ebcc_free(text);
		if (probe == NULL) {
			rt_fail_plain("backends: probing %s: the answer is not JSON", name);
			goto out;
		}
		json_object_array_add(probes, probe);
	}

	if (format == FORMAT_JSON) {
		rt_print_json(probes);
		code = RT_EXIT_OK;
		goto out;
	}
	table = rt_table_new(6, headers);
	if (table == NULL)
		goto nomem;
	for (size_t i = 0; i < json_object_array_length(probes); i++) {
		struct json_object *p = json_object_array_get_idx(probes, i);
		const char *row[6] = {
			member_string(p, "name", ""),
			json_object_get_boolean(member(p, "available")) ? "yes" : "no",
			member_string(p, "isolation", ""),
			json_object_get_boolean(member(p, "simulated")) ? "yes" : "no",
			member_string(p, "evidence_format", ""),
			member_string(p, "reason", "-"),
		};

		if (rt_table_add(table, row) < 0)
			goto nomem;
	}
	rt_table_print(table);
	code = RT_EXIT_OK;
	goto out;

nomem:
	rt_fail_plain("backends: out of memory");
out:
	rt_table_free(table);
	json_object_put(probes);
	return code;
}

const struct rt_command rt_cmd_backends = {
	.name = "backends",
	.args = "[--format table|json]",
	.summary = "probe every registered backend on this host",
	.help = "  -f, --format table|json  a table (the default) or the probes' JSON objects\n",
	.run = backends_run,
};

/* ---- attestation-key -------------------------------------------------------------------- */

static int key_run(struct rt *rt, int argc, char **argv)
{
	static const struct option opts[] = { RT_COMMON_OPTIONS, { 0 } };
	char *default_backend = NULL, *pem = NULL;
	const char *backend;
	int c, r;

	while ((c = rt_getopt(rt, argc, argv, "", opts)) != -1)
		return rt_getopt_exit(c);
	if (rt_operands(rt, argc, argv, 0, 1, NULL) < 0)
		return RT_EXIT_FAIL;
	if (optind < argc) {
		backend = argv[optind];
	} else {
		r = ebcc_context_get_option(rt->ctx, "default_backend", &default_backend);
		if (r < 0)
			return rt_fail(r, "attestation-key");
		backend = default_backend;
	}
	r = ebcc_backend_attestation_key(rt->ctx, backend, &pem);
	if (r < 0)
		rt_fail(r, "attestation-key %s", backend);
	else
		fputs(pem, stdout);
	ebcc_free(pem);
	ebcc_free(default_backend);
	return r < 0 ? RT_EXIT_FAIL : RT_EXIT_OK;
}

const struct rt_command rt_cmd_attestation_key = {
	.name = "attestation-key",
	.args = "[BACKEND]",
	.summary = "print the public key that signs a backend's reports here (for verify --key)",
	.help = "BACKEND defaults to the default_backend option (sim). For sim, the simulated\n"
		"device key of this state root, created on first use.\n",
	.run = key_run,
};
