/* SPDX-License-Identifier: MIT */
/*
 * What json-c's strict parser still lets through, checked on the text it parsed: duplicate
 * keys (json-c silently keeps the last), single-quoted keys, NaN and Infinity, and raw control
 * characters inside strings. Used where one text must have exactly one meaning: evidence
 * envelopes and verification policies. Also the small helpers their strict readers share:
 * naming a value's type, finding a key that is not allowed; and, for every JSON text the
 * library reads (ebcc__json_parse()), the refusal of keys and strings with an escaped NUL.
 */
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "ebcc-base.h"

/* Keys in obj and every object nested in it. */
static size_t tree_key_count(struct json_object *obj)
{
	size_t n = 0;

	if (json_object_is_type(obj, json_type_object)) {
		struct json_object_iterator it = json_object_iter_begin(obj);
		struct json_object_iterator end = json_object_iter_end(obj);

		for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
			n += 1 + tree_key_count(json_object_iter_peek_value(&it));
	} else if (json_object_is_type(obj, json_type_array)) {
		size_t len = json_object_array_length(obj);

		for (size_t i = 0; i < len; i++)
			n += tree_key_count(json_object_array_get_idx(obj, i));
	}
	return n;
}

static bool is_letter(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* Finds the end of the string starting at text[start] (a '"'): the index of the closing quote.
 * The text was accepted by json-c, so the string is terminated. */
static size_t string_end(const char *text, size_t len, size_t start)
{
	size_t i = start + 1;

	while (i < len && text[i] != '"')
		i += text[i] == '\\' ? 2 : 1;
	return i;
}

/* Names a key that occurs twice in the top-level object, decoding each raw key the way json-c
 * does. Returns false when the duplicate is in a nested object. */
static bool top_level_duplicate(const char *text, size_t len, char *name, size_t name_size)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *seen = json_object_new_object();
	size_t depth = 0;
	bool found = false;

	if (tok == NULL || seen == NULL)
		goto out;
	for (size_t i = 0; i < len && !found; i++) {
		char c = text[i];

		if (c == '{' || c == '[') {
			depth++;
		} else if (c == '}' || c == ']') {
			depth--;
		} else if (c == '"') {
			size_t end = string_end(text, len, i), j = end + 1;
			struct json_object *key;

			while (j < len && strchr(" \t\r\n", text[j]) != NULL)
				j++;
			if (depth == 1 && j < len && text[j] == ':') {
				json_tokener_reset(tok);
				key = json_tokener_parse_ex(tok, text + i, (int)(end + 1 - i));
				if (key != NULL && json_object_is_type(key, json_type_string)) {
					const char *k = json_object_get_string(key);

					if (json_object_object_get_ex(seen, k, NULL)) {
						snprintf(name, name_size, "%s", k);
						found = true;
					} else {
						json_object_object_add(seen, k, NULL);
					}
				}
				json_object_put(key);
			}
			i = end;
		}
	}
out:
	json_object_put(seen);
	if (tok != NULL)
		json_tokener_free(tok);
	return found;
}

const char *ebcc__json_type_article(struct json_object *value)
{
	return ebcc__json_type_article_of(json_object_get_type(value));
}

const char *ebcc__json_unknown_key(struct json_object *obj, const char *const *known)
{
	struct json_object_iterator it = json_object_iter_begin(obj);
	struct json_object_iterator end = json_object_iter_end(obj);

	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);
		bool found = false;

		for (size_t i = 0; known[i] != NULL && !found; i++)
			found = strcmp(known[i], key) == 0;
		if (!found)
			return key;
	}
	return NULL;
}

int ebcc__json_refuse_unknown(struct json_object *obj, const char *const *known, int err,
			      const char *where)
{
	const char *unknown = ebcc__json_unknown_key(obj, known);
	char list[512] = "", shown[EBCC_EVIDENCE_SHOW_SIZE];
	size_t n = 0;

	if (unknown == NULL)
		return 0;
	for (size_t i = 0; known[i] != NULL && n < sizeof(list); i++)
		n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i > 0 ? ", " : "",
				      known[i]);
	ebcc__evidence_show(unknown, strlen(unknown), shown);
	return ebcc__error(err, "%s: unknown key \"%s\" (known: %s)", where, shown, list);
}

int ebcc__json_check_text(const char *text, size_t len, struct json_object *obj, int err,
			  const char *what)
{
	size_t raw_keys = 0;
	char name[128];

	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (c == '"') {
			size_t end = string_end(text, len, i);

			for (size_t j = i + 1; j < end; j++)
				if ((unsigned char)text[j] < 0x20)
					return ebcc__error(err, "%s: control character 0x%02x inside a "
							   "string at byte %zu",
							   what, (unsigned)text[j], j);
			i = end;
		} else if (c == '\'') {
			return ebcc__error(err, "%s: single-quoted string at byte %zu", what, i);
		} else if (c == ':') {
			raw_keys++; /* outside strings, every ':' follows one key */
		} else if (is_letter(c)) {
			size_t end = i;

			while (end < len && is_letter(text[end]))
				end++;
			/* Outside strings only true, false, null and exponents are JSON. */
			if (!((end - i == 4 && memcmp(text + i, "true", 4) == 0) ||
			      (end - i == 5 && memcmp(text + i, "false", 5) == 0) ||
			      (end - i == 4 && memcmp(text + i, "null", 4) == 0) ||
			      (end - i == 1 && (c == 'e' || c == 'E') && i > 0 &&
			       ((text[i - 1] >= '0' && text[i - 1] <= '9') || text[i - 1] == '.'))))
				return ebcc__error(err, "%s: \"%.*s\" at byte %zu is not JSON", what,
						   (int)(end - i > 16 ? 16 : end - i), text + i, i);
			i = end - 1;
		}
	}
	if (raw_keys != tree_key_count(obj)) {
		if (top_level_duplicate(text, len, name, sizeof(name)))
			return ebcc__error(err, "%s: duplicate key \"%s\"", what, name);
		return ebcc__error(err, "%s: a nested object has a duplicate key", what);
	}
	return 0;
}

/* Whether the raw string body s[0..len) has the escape \u0000. */
static bool has_nul_escape(const char *s, size_t len)
{
	for (size_t j = 0; j + 1 < len; j++) {
		if (s[j] != '\\')
			continue;
		if (s[j + 1] == 'u' && j + 6 <= len && memcmp(s + j + 2, "0000", 4) == 0)
			return true;
		j++; /* the escaped character: "\\" is one backslash, not the start of another */
	}
	return false;
}

struct nul_frame {
	bool object;   /* else an array */
	bool want_key; /* an object's next string is a key */
	size_t index;  /* an array's current element */
	size_t key, key_len; /* an object's current key, raw, in the text */
};

static void path_append(char *out, size_t size, size_t *n, const char *s, size_t len)
{
	for (size_t i = 0; i < len && *n + 1 < size; i++) {
		unsigned char c = (unsigned char)s[i];

		out[(*n)++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[*n] = '\0';
}

/* "stages[0].image": where the frames point, keys as they are written (escapes included). */
static void path_format(const char *text, const struct nul_frame *f, size_t depth, char *out,
			size_t size)
{
	size_t n = 0;

	out[0] = '\0';
	for (size_t d = 0; d < depth; d++) {
		char index[24];

		if (f[d].object) {
			if (n > 0)
				path_append(out, size, &n, ".", 1);
			path_append(out, size, &n, text + f[d].key,
				    f[d].key_len > 64 ? 64 : f[d].key_len);
		} else {
			snprintf(index, sizeof(index), "[%zu]", f[d].index);
			path_append(out, size, &n, index, strlen(index));
		}
	}
}

int ebcc__json_check_nul(const char *text, size_t len, int err, const char *what)
{
	struct nul_frame stack[EBCC_JSON_DEPTH_MAX + 1];
	size_t depth = 0;
	char path[256];

	/* Every text but a hostile one takes only this look. */
	if (memmem(text, len, "\\u0000", 6) == NULL)
		return 0;
	for (size_t i = 0; i < len; i++) {
		struct nul_frame *top = depth > 0 ? &stack[depth - 1] : NULL;
		char c = text[i];

		if (c == '{' || c == '[') {
			if (depth == sizeof(stack) / sizeof(stack[0]))
				return ebcc__error(err, "%s: nested too deeply", what);
			stack[depth++] = (struct nul_frame){ .object = c == '{', .want_key = c == '{' };
		} else if (c == '}' || c == ']') {
			if (depth > 0)
				depth--;
		} else if (c == ',' && top != NULL) {
			if (top->object)
				top->want_key = true;
			else
				top->index++;
		} else if (c == ':' && top != NULL) {
			top->want_key = false;
		} else if (c == '"') {
			size_t end = string_end(text, len, i);
			bool key = top != NULL && top->object && top->want_key;

			if (key) {
				top->key = i + 1;
				top->key_len = end - i - 1;
			}
			if (has_nul_escape(text + i + 1, end - i - 1)) {
				path_format(text, stack, depth, path, sizeof(path));
				if (key)
					return ebcc__error(err, "%s: the key \"%s\" contains a NUL "
							   "character (\\u0000), which no key may",
							   what, path);
				if (depth == 0)
					return ebcc__error(err, "%s: the string contains a NUL "
							   "character (\\u0000)", what);
				return ebcc__error(err, "%s: \"%s\" contains a NUL character "
						   "(\\u0000), which no string may", what, path);
			}
			i = end;
		}
	}
	return 0;
}

int ebcc__json_parse_document(const char *text, size_t len, int err, const char *what,
			      struct json_object **ret)
{
	struct json_object *root = NULL;
	int r = ebcc__json_parse(text, len, err, what, &root);

	if (r < 0)
		return r;
	r = ebcc__json_check_text(text, len, root, err, what);
	if (r == 0 && !json_object_is_type(root, json_type_object))
		r = ebcc__error(err, "%s: must be a JSON object, not %s", what,
				ebcc__json_type_article(root));
	if (r < 0) {
		json_object_put(root);
		return r;
	}
	*ret = root;
	return 0;
}
