/* SPDX-License-Identifier: MIT */
/* The sim backend's part of a verification policy: none (see options.h). */
#include <json-c/json.h>

#include "policyopts.h"
#include "ebcc-base.h"
#include "options.h"

int ebcc__sim_policy_options_check(const struct ebcc_backend_report_check *check)
{
	static const char *const known[] = { NULL };
	struct ebcc__policy_part part = { 0 };
	const char *text;
	int r;

	r = ebcc__policy_part_get(check, "sim", NULL, &part);
	if (r == 0 && part.mine != NULL) {
		text = json_object_to_json_string_ext(part.mine, JSON_C_TO_STRING_PLAIN);
		r = text != NULL ? ebcc__json_options_check(text, known, "sim", EBCC_ERR_VERIFY,
							    "policy: backend_options.sim")
				 : ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	ebcc__policy_part_clear(&part);
	return r;
}
