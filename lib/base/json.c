/* SPDX-License-Identifier: MIT */
/* Strict JSON parsing with json-c: one complete value, bounded depth, nothing after it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "ebcc-base.h"

int ebcc__json_parse(const char *text, size_t len, int err, const char *what,
		     struct json_object **ret)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error jerr;
	size_t end;
	int r;

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
	if (obj == NULL && jerr == json_tokener_continue) {
		/* A bare number at the very end cannot know it is complete: one space ends it,
		 * and leaves anything truly unfinished unfinished. */
		obj = json_tokener_parse_ex(tok, " ", 1);
		jerr = json_tokener_get_error(tok);
		end = len;
	}
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
	r = ebcc__json_check_nul(text, len, err, what);
	if (r < 0) {
		json_object_put(obj);
		return r;
	}
	*ret = obj;
	return 0;
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

/* "an object", "a fractional number", "null"...: one table for every message. */
const char *ebcc__json_type_article_of(int type)
{
	switch ((enum json_type)type) {
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	case json_type_int:
		return "an integer";
	case json_type_double:
		return "a fractional number";
	case json_type_boolean:
		return "a boolean";
	case json_type_null:
		return "null";
	}
	return "an unknown type";
}

int ebcc__json_member(struct json_object *obj, const char *key, int type_,
		      bool required, int err, const char *what, struct json_object **ret)
{
	enum json_type type = (enum json_type)type_;
	struct json_object *member = NULL;

	*ret = NULL;
	if (!json_object_object_get_ex(obj, key, &member) ||
	    (member == NULL && !required && type != json_type_null)) {
		if (required)
			return ebcc__error(err, "%s: \"%s\" is missing", what, key);
		return 0;
	}
	if (!json_object_is_type(member, type))
		return ebcc__error(err, "%s: \"%s\" must be %s, not %s", what, key,
				   ebcc__json_type_article_of(type),
				   ebcc__json_type_article_of(json_object_get_type(member)));
	*ret = member;
	return 0;
}

int ebcc__json_string_member(struct json_object *obj, const char *key, bool required, int err,
			     const char *what, const char **ret)
{
	struct json_object *member;
	int r = ebcc__json_member(obj, key, json_type_string, required, err, what, &member);

	*ret = member != NULL ? json_object_get_string(member) : NULL;
	return r;
}

int ebcc__json_u64_member(struct json_object *obj, const char *key, bool required, uint64_t min,
			  uint64_t max, int err, const char *what, uint64_t *ret)
{
	struct json_object *member;
	int64_t v;
	int r = ebcc__json_member(obj, key, json_type_int, required, err, what, &member);

	if (r < 0 || member == NULL)
		return r;
	errno = 0;
	v = json_object_get_int64(member);
	if (v < 0 || errno == EINVAL || (uint64_t)v < min || (uint64_t)v > max ||
	    v == INT64_MAX)
		return ebcc__error(err, "%s: \"%s\" is %s; it must be in %" PRIu64 "..%" PRIu64,
				   what, key, json_object_to_json_string(member), min, max);
	*ret = (uint64_t)v;
	return 0;
}

int ebcc__json_check_keys(struct json_object *obj, const char *const *allowed, int err,
			  const char *what)
{
	struct json_object_iter it;

	json_object_object_foreachC(obj, it) {
		bool known = false;

		for (size_t i = 0; allowed[i] != NULL && !known; i++)
			known = strcmp(allowed[i], it.key) == 0;
		if (!known)
			return ebcc__error(err, "%s: unknown field \"%s\"", what, it.key);
	}
	return 0;
}

int ebcc__json_options_check(const char *options_json, const char *const *known,
			     const char *backend, int err, const char *what)
{
	struct json_object *root = NULL;
	struct json_object_iter it;
	char list[256] = "";
	size_t n = 0;
	int r;

	if (options_json == NULL || options_json[0] == '\0')
		return 0;
	r = ebcc__json_parse(options_json, strlen(options_json), err, what, &root);
	if (r < 0)
		return r;
	if (!json_object_is_type(root, json_type_object)) {
		r = ebcc__error(err, "%s must be an object, not %s", what,
				ebcc__json_type_article_of(json_object_get_type(root)));
		goto out;
	}
	json_object_object_foreachC(root, it) {
		bool found = false;

		for (size_t i = 0; known[i] != NULL && !found; i++)
			found = strcmp(known[i], it.key) == 0;
		if (found)
			continue;
		for (size_t i = 0; known[i] != NULL && n < sizeof(list); i++)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i > 0 ? ", " : "",
					      known[i]);
		r = ebcc__error(err, "%s: unknown key \"%.64s\" (the %s backend reads %s)", what,
				it.key, backend, known[0] != NULL ? list : "none");
		goto out;
	}
out:
	json_object_put(root);
	return r;
}

int ebcc__json_quote(const char *text, char **ret)
{
	static const char hex[] = "0123456789abcdef";
	size_t len = strlen(text);
	char *out = malloc(6 * len + 3), *o = out;

	if (out == NULL)
		return ebcc__error(EBCC_ERR_NO_MEMORY, "out of memory");
	*o++ = '"';
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\') {
			*o++ = '\\';
			*o++ = (char)*p;
		} else if (*p == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else if (*p < 0x20 || *p == 0x7f) {
			memcpy(o, "\\u00", 4);
			o[4] = hex[*p >> 4];
			o[5] = hex[*p & 15];
			o += 6;
		} else {
			*o++ = (char)*p;
		}
	}
	*o++ = '"';
	*o = '\0';
	*ret = out;
	return 0;
}
