/* SPDX-License-Identifier: MIT */
/* The sim backend's part of a verification policy: none (see options.h). */
#include <json-c/json.h>

#include "../common/policyopts.h"
#include "ebcc-base.h"
#include "options.h"

int ebcc__sim_policy_options_check(const char *policy_json)
{
	static const char *const known[] = { NULL };
	struct json_object *root = NULL, *mine = NULL;
	const char *text;
	int r;

	r = ebcc__policy_backend_options(policy_json, "sim", &root, &mine);
	if (r == 0 && mine != NULL) {
		text = json_object_to_json_string_ext(mine, JSON_C_TO_STRING_PLAIN);
		r = text != NULL ? ebcc__json_options_check(text, known, "sim", EBCC_ERR_VERIFY,
							    "policy: backend_options.sim")
				 : ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	}
	json_object_put(root);
	return r;
}
