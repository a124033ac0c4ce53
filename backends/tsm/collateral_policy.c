/* SPDX-License-Identifier: MIT */
/* A policy's collateral object and accepted TCB statuses, for tsm and sgx (collateral.h). */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "collateral.h"
#include "ebcc-base.h"

#define ERR EBCC_ERR_VERIFY

const char *const ebcc__collateral_keys[EBCC_COLL_COUNT + 1] = {
	"tcb_info",	     "tcb_info_signature", "tcb_info_issuer_chain",
	"qe_identity",	     "qe_identity_signature", "qe_identity_issuer_chain",
	"pck_crl",	     "pck_crl_issuer_chain", "root_ca_crl", NULL,
};

static const char *const status_names[EBCC_TCB_STATUS_COUNT] = {
	"UpToDate",   "SWHardeningNeeded", "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded",
	"OutOfDate", "OutOfDateConfigurationNeeded", "Revoked",
};

const char *ebcc__tcb_status_name(enum ebcc__tcb_status s)
{
	return (unsigned)s < EBCC_TCB_STATUS_COUNT ? status_names[s] : "(unknown)";
}

int ebcc__tcb_status_parse(const char *name, enum ebcc__tcb_status *ret)
{
	for (int i = 0; i < EBCC_TCB_STATUS_COUNT; i++) {
		if (strcmp(name, status_names[i]) == 0) {
			*ret = (enum ebcc__tcb_status)i;
			return 0;
		}
	}
	return -1;
}

void ebcc__collateral_text_clear(struct ebcc__collateral_text *c)
{
	for (int i = 0; i < EBCC_COLL_COUNT; i++)
		free(c->text[i]);
	*c = (struct ebcc__collateral_text){ 0 };
}

/* Every item a string, copied; checked when a quote is. */
int ebcc__collateral_text_parse(struct json_object *o, const char *where,
				struct ebcc__collateral_text *ret)
{
	if (!json_object_is_type(o, json_type_object))
		return ebcc__error(ERR, "%s must be an object, not %s", where,
				   ebcc__json_type_article(o));
	if (ebcc__json_refuse_unknown(o, ebcc__collateral_keys, ERR, where) < 0)
		return ERR;
	for (int i = 0; i < EBCC_COLL_COUNT; i++) {
		const char *key = ebcc__collateral_keys[i];
		struct json_object *v;
		const char *text;
		size_t len;

		if (!json_object_object_get_ex(o, key, &v))
			return ebcc__error(ERR, "%s.%s is missing: every item of the collateral is "
					   "needed", where, key);
		if (!json_object_is_type(v, json_type_string))
			return ebcc__error(ERR, "%s.%s must be a string, not %s", where, key,
					   ebcc__json_type_article(v));
		text = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		if (len > EBCC_COLLATERAL_ITEM_MAX)
			return ebcc__error(ERR, "%s.%s: %zu bytes, at most %zu are accepted", where,
					   key, len, EBCC_COLLATERAL_ITEM_MAX);
		ret->text[i] = strdup(text);
		if (ret->text[i] == NULL)
			return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
		ret->len[i] = len;
	}
	return 0;
}

int ebcc__collateral_status_parse(struct json_object *o, const char *where, unsigned *ret)
{
	size_t n;

	if (!json_object_is_type(o, json_type_array) || json_object_array_length(o) == 0)
		return ebcc__error(ERR, "%s must be a non-empty array of TCB statuses, not %s",
				   where, ebcc__json_type_article(o));
	n = json_object_array_length(o);
	*ret = 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(o, i);
		enum ebcc__tcb_status s;

		if (!json_object_is_type(v, json_type_string))
			return ebcc__error(ERR, "%s[%zu] must be a string, not %s", where, i,
					   ebcc__json_type_article(v));
		if (ebcc__tcb_status_parse(json_object_get_string(v), &s) < 0 ||
		    s == EBCC_TCB_REVOKED)
			return ebcc__error(ERR, "%s[%zu] is \"%.48s\": it must be UpToDate, "
					   "SWHardeningNeeded, ConfigurationNeeded, "
					   "ConfigurationAndSWHardeningNeeded, OutOfDate or "
					   "OutOfDateConfigurationNeeded (a Revoked TCB is never "
					   "accepted)",
					   where, i, json_object_get_string(v));
		*ret |= 1u << s;
	}
	return 0;
}
