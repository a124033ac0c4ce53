/* SPDX-License-Identifier: MIT */
/* Strict JSON parsing with json-c: one complete value, bounded depth, nothing after it. */
#include <string.h>

#include <json-c/json.h>

#include "ebcc-private.h"

int ebcc__json_parse(const char *text, size_t len, int err, const char *what,
		     struct json_object **ret)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error jerr;
	size_t end;

	if (len > INT32_MAX)
		return ebcc__error(EBCC_ERR_TOO_BIG, "%s: %zu bytes is too large to parse", what, len);
	if (memchr(text, '\0', len) != NULL)
		return ebcc__error(err, "%s: contains a NUL byte", what);
	tok = json_tokener_new_ex(EBCC_JSON_DEPTH_MAX);
	if (tok == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory parsing %s", what);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (jerr == json_tokener_continue || (obj == NULL && jerr == json_tokener_success))
		return ebcc__error(err, "%s: truncated JSON (input ends after %zu bytes)", what,
				   len);
	if (jerr != json_tokener_success) {
		json_object_put(obj);
		return ebcc__error(err, "%s: invalid JSON at byte %zu: %s", what, end,
				   json_tokener_error_desc(jerr));
	}
	for (size_t i = end; i < len; i++) {
		if (strchr(" \t\r\n", text[i]) == NULL) {
			json_object_put(obj);
			return ebcc__error(err, "%s: unexpected data after the JSON value at byte %zu",
					   what, i);
		}
	}
	*ret = obj;
	return 0;
}

const char *ebcc__json_type_name(struct json_object *obj)
{
	return json_type_to_name(json_object_get_type(obj));
}

int ebcc__json_to_string(struct json_object *obj, int flags, char **ret)
{
	const char *text = json_object_to_json_string_ext(obj, flags | JSON_C_TO_STRING_NOSLASHESCAPE);
	char *copy = text != NULL ? strdup(text) : NULL;

	if (copy == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory serialising JSON");
	*ret = copy;
	return 0;
}
