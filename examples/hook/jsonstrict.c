/* SPDX-License-Identifier: MIT */
/*
 * JSON as the hook accepts it: one value, strict syntax, no NUL byte, nothing after the value,
 * and no duplicate key anywhere (json-c keeps the last of two equal keys silently; one text
 * must have one meaning). Duplicates are found by counting the keys of each object in the text,
 * in the order the objects open, and comparing with what json-c kept.
 */
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "hook.h"

#define DEPTH_MAX JSON_TOKENER_DEFAULT_DEPTH

struct key_counts {
	size_t *v;
	size_t n, cap;
};

static int counts_push(struct key_counts *c)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		size_t *grown = realloc(c->v, cap * sizeof(*grown));

		if (grown == NULL)
			return -1;
		c->v = grown;
		c->cap = cap;
	}
	c->v[c->n++] = 0;
	return 0;
}

/* The text is valid JSON already (json-c said so): only structure and strings matter here. */
static int count_keys(const char *text, size_t len, struct key_counts *c)
{
	struct {
		size_t index; /* into c->v, for objects */
		int object;
		int expect_key;
	} stack[DEPTH_MAX + 1];
	int depth = -1;

	for (size_t i = 0; i < len; i++) {
		switch (text[i]) {
		case '"':
			if (depth >= 0 && stack[depth].object && stack[depth].expect_key) {
				c->v[stack[depth].index]++;
				stack[depth].expect_key = 0;
			}
			for (i++; i < len && text[i] != '"'; i++)
				if (text[i] == '\\')
					i++;
			break;
		case '{':
		case '[':
			if (depth + 1 > DEPTH_MAX)
				return -1;
			depth++;
			stack[depth].object = text[i] == '{';
			stack[depth].expect_key = stack[depth].object;
			stack[depth].index = c->n;
			if (stack[depth].object && counts_push(c) < 0)
				return -1;
			break;
		case '}':
		case ']':
			depth--;
			break;
		case ',':
			if (depth >= 0 && stack[depth].object)
				stack[depth].expect_key = 1;
			break;
		default:
			break;
		}
	}
	return 0;
}

/* Walks objects in the order they open in the text; the first object with fewer keys than the
 * text gave it has a duplicate (objects before it match the text, so the order holds). */
static int find_duplicate(struct json_object *o, const struct key_counts *c, size_t *k)
{
	if (json_object_is_type(o, json_type_object)) {
		struct json_object_iter it;

		if (*k >= c->n || c->v[*k] != (size_t)json_object_object_length(o))
			return -1;
		(*k)++;
		json_object_object_foreachC(o, it) {
			if (find_duplicate(it.val, c, k) < 0)
				return -1;
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(o); i++)
			if (find_duplicate(json_object_array_get_idx(o, i), c, k) < 0)
				return -1;
	}
	return 0;
}

int hook_json_parse(const char *text, size_t len, const char *what, struct json_object **ret)
{
	struct json_tokener *tok;
	struct json_object *o;
	struct key_counts counts = { 0 };
	enum json_tokener_error jerr;
	size_t end, k = 0;
	int r;

	if (memchr(text, '\0', len) != NULL)
		return hook_error("%s: holds a NUL byte", what);
	tok = json_tokener_new();
	if (tok == NULL)
		return hook_error("%s: out of memory", what);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (o == NULL || jerr != json_tokener_success) {
		json_object_put(o);
		return hook_error("%s: not JSON: %s", what,
				  jerr == json_tokener_continue ? "it ends too early"
								: json_tokener_error_desc(jerr));
	}
	while (end < len && strchr(" \t\r\n", text[end]) != NULL)
		end++;
	if (end != len) {
		json_object_put(o);
		return hook_error("%s: text after the JSON value at byte %zu", what, end);
	}
	if (count_keys(text, len, &counts) < 0)
		r = hook_error("%s: out of memory or nested too deeply", what);
	else if (find_duplicate(o, &counts, &k) < 0)
		r = hook_error("%s: a key appears twice in one object", what);
	else
		r = 0;
	free(counts.v);
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	*ret = o;
	return 0;
}

int hook_json_string(struct json_object *obj, const char *key, const char *what,
		     const char **ret)
{
	struct json_object *v;
	const char *s;

	*ret = NULL;
	if (!json_object_object_get_ex(obj, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return hook_error("%s: \"%s\" is not a string", what, key);
	s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return hook_error("%s: \"%s\" holds a NUL byte", what, key);
	*ret = s;
	return 0;
}
