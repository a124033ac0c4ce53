/* SPDX-License-Identifier: MIT */
/* The names the library accepts from callers, manifests, state and evidence: one rule each. */
#include <string.h>

#include "ebcc-private.h"

/* [a-z0-9_-]{1,max} */
static bool token_valid(const char *s, size_t max)
{
	size_t len = strnlen(s, max + 1);

	if (len == 0 || len > max)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

bool ebcc__stage_name_valid(const char *name)
{
	return token_valid(name, EBCC_STAGE_NAME_MAX);
}

bool ebcc__backend_name_valid(const char *name)
{
	return token_valid(name, EBCC_BACKEND_NAME_MAX);
}

bool ebcc__instance_id_valid(const char *id)
{
	size_t len = strnlen(id, EBCC_ID_MAX + 1);

	if (len == 0 || len > EBCC_ID_MAX || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
		      (id[i] >= '0' && id[i] <= '9') || strchr("_.+-", id[i]) != NULL))
			return false;
	return true;
}
