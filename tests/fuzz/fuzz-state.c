/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: state.json, through ebcc__state_parse() and back with ebcc__state_to_json().
 *
 * Properties:
 *  - parsing fails only with EBCC_ERR_CORRUPT, EBCC_ERR_TOO_BIG or EBCC_ERR_NO_MEMORY, with a
 *    message that names the file;
 *  - a state that parsed serialises (the writer never fails on what the reader accepted), the
 *    text parses again to the same facts, and serialising those gives the same text: what the
 *    library reads it can write back without losing or changing anything.
 */
#include <json-c/json.h>

#include "fuzz-common.h"

#define DISPLAY "state.json"

static bool same_string(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

static void check_same_stage(size_t i, const struct ebcc_stage_decl *a,
			     const struct ebcc_stage_decl *b)
{
	FUZZ_CHECK(strcmp(a->name, b->name) == 0 && same_string(a->image, b->image) &&
			   a->lifetime == b->lifetime,
		   "stages[%zu]: name, image or lifetime changed", i);
	FUZZ_CHECK(a->max_request == b->max_request && a->max_response == b->max_response &&
			   a->timeout_ms == b->timeout_ms && a->memory_mib == b->memory_mib &&
			   a->cpu_seconds == b->cpu_seconds && a->max_files == b->max_files,
		   "stages[%zu]: a limit changed", i);
	FUZZ_CHECK(strcmp(a->measurement, b->measurement) == 0, "stages[%zu]: measurement", i);
	FUZZ_CHECK(same_string(a->options_json, b->options_json),
		   "stages[%zu]: backendOptions %s became %s", i, a->options_json, b->options_json);
	FUZZ_CHECK(a->loaded == b->loaded && a->eid == b->eid && same_string(a->ref, b->ref),
		   "stages[%zu]: loaded, eid or ref changed", i);
	FUZZ_CHECK(same_string(a->isolation_json, b->isolation_json),
		   "stages[%zu]: isolation %s became %s", i, a->isolation_json, b->isolation_json);
}

static void check_same(const struct ebcc_state *a, const struct ebcc_state *b)
{
	FUZZ_CHECK(strcmp(a->oci_version, b->oci_version) == 0 && strcmp(a->id, b->id) == 0 &&
			   strcmp(a->bundle, b->bundle) == 0 && strcmp(a->backend, b->backend) == 0 &&
			   strcmp(a->created, b->created) == 0,
		   "ociVersion, id, bundle, backend or created changed");
	FUZZ_CHECK(json_object_equal(a->annotations, b->annotations), "annotations changed");
	FUZZ_CHECK(a->phase == b->phase && a->kill_signal == b->kill_signal &&
			   a->anchor_mode == b->anchor_mode,
		   "phase, killSignal or anchorMode changed");
	FUZZ_CHECK(a->anchor_pid == b->anchor_pid && a->anchor_start == b->anchor_start &&
			   a->monitor_pid == b->monitor_pid && a->monitor_start == b->monitor_start,
		   "a pid or start time changed");
	FUZZ_CHECK(a->n_stages == b->n_stages, "%zu stages became %zu", a->n_stages, b->n_stages);
	for (size_t i = 0; i < a->n_stages; i++)
		check_same_stage(i, &a->stages[i], &b->stages[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ebcc_state *st = NULL, *st2 = NULL;
	char *text = NULL, *text2 = NULL;
	char *copy = malloc(size > 0 ? size : 1); /* exact size: ASan sees any over-read */
	int r;

	if (copy == NULL)
		abort();
	if (size > 0)
		memcpy(copy, data, size);
	fuzz_begin(data, size);
	fuzz_message_reset();
	r = ebcc__state_parse(copy, size, DISPLAY, &st);
	FUZZ_RESULT("ebcc__state_parse", r, DISPLAY, EBCC_ERR_CORRUPT, EBCC_ERR_TOO_BIG,
		    EBCC_ERR_NO_MEMORY);
	free(copy);
	if (r < 0)
		return 0;

	FUZZ_CHECK(st->n_stages <= EBCC_STAGES_MAX, "%zu stages", st->n_stages);
	for (size_t i = 0; i < st->n_stages; i++)
		FUZZ_CHECK(ebcc__stage_name_valid(st->stages[i].name) &&
				   ebcc__measurement_valid(st->stages[i].measurement),
			   "stages[%zu]: name or measurement accepted unchecked", i);

	fuzz_message_reset();
	r = ebcc__state_to_json(st, &text);
	FUZZ_CHECK(r == 0, "a parsed state does not serialise (%s)", ebcc_error_name(r));
	r = ebcc__state_parse(text, strlen(text), DISPLAY, &st2);
	FUZZ_CHECK(r == 0, "the written state does not parse:\n%s", text);
	check_same(st, st2);
	FUZZ_CHECK(ebcc__state_to_json(st2, &text2) == 0 && strcmp(text, text2) == 0,
		   "writing is not a fixpoint:\n%s\n%s", text, text2);

	free(text);
	free(text2);
	ebcc__state_free(st);
	ebcc__state_free(st2);
	return 0;
}
