/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: a bundle's config.json and its stage manifest (ebcc.json), through
 * ebcc__oci_config_parse() and ebcc__manifest_parse().
 *
 * Input: config.json, a NUL byte, ebcc.json (JSON text never holds a raw NUL). Without a NUL
 * the whole input is given to both parsers.
 *
 * Properties: only the documented error codes, each with a message naming the file; what is
 * accepted obeys every rule the parsers promise (the anchor's process, limits in range,
 * stage names unique, images inside the bundle, backendOptions a JSON object again); and the
 * state.json that create writes for an accepted bundle reads back with the same stages.
 */
#include <json-c/json.h>

#include "fuzz-common.h"
#include "fuzz-split.h"

static void check_config(const struct ebcc_oci_config *c)
{
	const struct ebcc_process *p = c->process;

	FUZZ_CHECK(c->oci_version != NULL && c->oci_version[0] != '\0' &&
			   strlen(c->oci_version) <= 64,
		   "ociVersion accepted as \"%s\"", c->oci_version ? c->oci_version : "(none)");
	FUZZ_CHECK(json_object_is_type(c->annotations, json_type_object),
		   "annotations are not an object");
	if (p == NULL)
		return;
	FUZZ_CHECK(p->n_args >= 1 && p->args[0][0] != '\0' && p->args[p->n_args] == NULL,
		   "process.args accepted without a program or without its NULL");
	FUZZ_CHECK(p->env != NULL && p->env[p->n_env] == NULL, "process.env not NULL-terminated");
	for (size_t i = 0; i < p->n_env; i++)
		FUZZ_CHECK(p->env[i][0] != '=' && strchr(p->env[i], '=') != NULL,
			   "process.env[%zu] \"%s\" accepted", i, p->env[i]);
	FUZZ_CHECK(p->cwd != NULL && p->cwd[0] == '/', "process.cwd not absolute");
	FUZZ_CHECK(p->n_rlimits <= 16, "%zu rlimits", p->n_rlimits);
	for (size_t i = 0; i < p->n_rlimits; i++) {
		FUZZ_CHECK(p->rlimits[i].soft <= p->rlimits[i].hard, "rlimit %zu soft > hard", i);
		for (size_t k = 0; k < i; k++)
			FUZZ_CHECK(p->rlimits[k].resource != p->rlimits[i].resource,
				   "rlimit %d given twice", p->rlimits[i].resource);
	}
	FUZZ_CHECK(p->n_gids <= 256, "%zu additional gids", p->n_gids);
	FUZZ_CHECK(!p->has_user || (p->uid != UINT32_MAX && p->gid != UINT32_MAX),
		   "uid/gid -1 accepted");
}

static void check_manifest(const struct ebcc_manifest *m)
{
	FUZZ_CHECK(m->n_stages >= 1 && m->n_stages <= EBCC_STAGES_MAX, "%zu stages", m->n_stages);
	for (size_t i = 0; i < m->n_stages; i++) {
		const struct ebcc_stage_decl *s = &m->stages[i];
		struct json_object *opts = NULL;
		int r;

		FUZZ_CHECK(ebcc__stage_name_valid(s->name), "stage name \"%s\" accepted", s->name);
		for (size_t k = 0; k < i; k++)
			FUZZ_CHECK(strcmp(m->stages[k].name, s->name) != 0, "stage %s twice", s->name);
		FUZZ_CHECK(s->image != NULL && strlen(s->image) < EBCC_PATH_MAX, "image missing");
		/* No empty, "." or ".." component anywhere. */
		for (const char *c = s->image;;) {
			size_t n = strcspn(c, "/");

			FUZZ_CHECK(n > 0 && !(n == 1 && c[0] == '.') &&
					   !(n == 2 && c[0] == '.' && c[1] == '.'),
				   "image \"%s\" has an empty, . or .. component", s->image);
			if (c[n] == '\0')
				break;
			c += n + 1;
		}
		FUZZ_CHECK(s->lifetime == EBCC_LIFETIME_INSTANCE ||
				   s->lifetime == EBCC_LIFETIME_INVOCATION,
			   "lifetime %u", s->lifetime);
		FUZZ_CHECK(s->max_request >= 1 && s->max_request <= EBCC_MAX_REQUEST_CAP &&
				   s->max_response >= 1 && s->max_response <= EBCC_MAX_REQUEST_CAP,
			   "maxRequest/maxResponse %" PRIu64 "/%" PRIu64, s->max_request,
			   s->max_response);
		FUZZ_CHECK(s->timeout_ms >= 1 && s->timeout_ms <= 3600000, "timeoutMs %u",
			   s->timeout_ms);
		FUZZ_CHECK(s->memory_mib >= 8 && s->memory_mib <= 65536, "memoryMiB %u",
			   s->memory_mib);
		FUZZ_CHECK(s->cpu_seconds >= 1 && s->cpu_seconds <= 1000000, "cpuSeconds %u",
			   s->cpu_seconds);
		FUZZ_CHECK(s->max_files >= 4 && s->max_files <= 1024, "maxFiles %u", s->max_files);
		FUZZ_CHECK(s->pinned[0] == '\0' || ebcc__measurement_valid(s->pinned),
			   "measurement pin \"%s\" accepted", s->pinned);
		FUZZ_CHECK(s->options_json != NULL, "no backendOptions text");
		/* What the manifest gives the backend must read back as one JSON object. */
		r = ebcc__json_parse(s->options_json, strlen(s->options_json), EBCC_ERR_CORRUPT,
				     "backendOptions", &opts);
		FUZZ_CHECK(r == 0 && json_object_is_type(opts, json_type_object),
			   "backendOptions \"%s\" does not parse back as an object", s->options_json);
		json_object_put(opts);
	}
}

/*
 * What create makes of an accepted bundle, the composite's state.json, must be readable: the
 * manifest's stages (measured, as at create) and the config's annotations written with
 * ebcc__state_to_json() parse again with ebcc__state_parse(), with the same stages.
 */
static void check_state_holds(const struct ebcc_oci_config *c, struct ebcc_manifest *m)
{
	static char oci_version[] = "1.0.2", id[] = "fuzz", bundle[] = "/fuzz/bundle",
		    sim[] = "sim";
	struct ebcc_state st = {
		.refcount = 1,
		.oci_version = c != NULL ? c->oci_version : oci_version,
		.id = id,
		.bundle = bundle,
		.annotations = c != NULL ? c->annotations : NULL,
		.backend = m->backend != NULL ? m->backend : sim,
		.created = "2026-01-01T00:00:00.000000000Z",
		.phase = EBCC_PHASE_CREATED,
		.n_stages = m->n_stages,
		.stages = m->stages,
	};
	struct json_object *empty = json_object_new_object();
	struct ebcc_state *back = NULL;
	char *text = NULL;
	int r;

	if (empty == NULL)
		abort();
	if (st.annotations == NULL)
		st.annotations = empty;
	for (size_t i = 0; i < m->n_stages; i++)
		snprintf(m->stages[i].measurement, sizeof(m->stages[i].measurement), "sha256:%064x",
			 (unsigned)i);
	r = ebcc__state_to_json(&st, &text);
	FUZZ_CHECK(r == 0, "the state of an accepted bundle does not serialise (%s)",
		   ebcc_error_name(r));
	r = ebcc__state_parse(text, strlen(text), "state.json", &back);
	FUZZ_CHECK(r == 0, "the state of an accepted bundle does not parse:\n%s", text);
	FUZZ_CHECK(back->n_stages == m->n_stages, "stages lost in state.json");
	for (size_t i = 0; i < m->n_stages; i++)
		FUZZ_CHECK(strcmp(back->stages[i].options_json, m->stages[i].options_json) == 0 &&
				   strcmp(back->stages[i].image, m->stages[i].image) == 0,
			   "stages[%zu] changed in state.json", i);
	ebcc__state_free(back);
	free(text);
	json_object_put(empty);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_split in = fuzz_split(data, size);
	struct ebcc_oci_config *c = NULL;
	struct ebcc_manifest *m = NULL;
	int r;

	fuzz_begin(data, size);

	fuzz_message_reset();
	r = ebcc__oci_config_parse(in.first, in.first_len, "config.json", &c);
	FUZZ_RESULT("ebcc__oci_config_parse", r, "config.json", EBCC_ERR_INVALID_ARG,
		    EBCC_ERR_TOO_BIG, EBCC_ERR_NO_MEMORY);
	if (r == 0) {
		const char *name = ebcc__oci_config_annotation(c, "org.ebcc.manifest");

		check_config(c);
		FUZZ_CHECK(name == NULL || strlen(name) < size, "annotation longer than the input");
	} else {
		c = NULL;
	}

	fuzz_message_reset();
	r = ebcc__manifest_parse(in.second, in.second_len, "ebcc.json", &m);
	/* Messages about one stage name it ("stage scorer: ..."); the rest name the file. */
	FUZZ_RESULT("ebcc__manifest_parse", r,
		    strncmp(ebcc_last_error_message(), "stage ", 6) == 0 ? "stage " : "ebcc.json",
		    EBCC_ERR_INVALID_ARG, EBCC_ERR_TOO_BIG, EBCC_ERR_NO_MEMORY);
	if (r == 0) {
		check_manifest(m);
		check_state_holds(c, m);
		ebcc__manifest_free(m);
	}
	ebcc__oci_config_free(c);
	fuzz_split_free(&in);
	return 0;
}
