/* SPDX-License-Identifier: MIT */
/* What the runtime prints: one-line errors, re-indented JSON, plain tables, hex. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "runtime.h"

__attribute__((format(printf, 2, 0))) static int fail_line(const char *detail, const char *fmt,
							     va_list ap)
{
	char what[2048];

	vsnprintf(what, sizeof(what), fmt, ap);
	if (detail != NULL) {
		fprintf(stderr, RT_NAME ": %s: %s\n", what, detail);
		rt_log(EBCC_LOG_ERR, "%s: %s", what, detail);
	} else {
		fprintf(stderr, RT_NAME ": %s\n", what);
		rt_log(EBCC_LOG_ERR, "%s", what);
	}
	return RT_EXIT_FAIL;
}

int rt_fail(int err, const char *fmt, ...)
{
	const char *message = ebcc_last_error_message();
	char detail[4096];
	va_list ap;
	int r;

	/* The library's message says what failed on what; its error name lets scripts match. */
	snprintf(detail, sizeof(detail), "%s (%s)", message[0] != '\0' ? message : ebcc_strerror(err),
		 ebcc_error_name(err));
	va_start(ap, fmt);
	r = fail_line(detail, fmt, ap);
	va_end(ap);
	return r;
}

int rt_fail_plain(const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = fail_line(NULL, fmt, ap);
	va_end(ap);
	return r;
}

void rt_print_json(struct json_object *obj)
{
	const char *text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
								    JSON_C_TO_STRING_SPACED |
								    JSON_C_TO_STRING_NOSLASHESCAPE);

	/* json-c spreads an empty object or array over two lines; write it as {} or []. A raw
	 * newline never occurs inside a JSON string, so this only ever touches structure. */
	for (const char *p = text; *p != '\0'; p++) {
		if (*p == '{' || *p == '[') {
			const char *q = p + 1;

			while (*q == '\n' || *q == ' ')
				q++;
			if (q > p + 1 && *q == (*p == '{' ? '}' : ']')) {
				fwrite(p, 1, 1, stdout);
				p = q;
			}
		}
		fputc(*p, stdout);
	}
	fputc('\n', stdout);
}

int rt_print_json_pretty(const char *text)
{
	struct json_object *obj = json_tokener_parse(text);

	if (obj == NULL)
		return -1;
	rt_print_json(obj);
	json_object_put(obj);
	return 0;
}

void rt_hex(const uint8_t *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[data[i] >> 4];
		out[2 * i + 1] = digits[data[i] & 15];
	}
	out[2 * len] = '\0';
}

/* ---- tables ------------------------------------------------------------------------------ */

struct rt_table {
	size_t columns, rows, allocated;
	char **cells; /* rows * columns, row 0 the headers */
	size_t *widths;
};

struct rt_table *rt_table_new(size_t columns, const char *const *headers)
{
	struct rt_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->columns = columns;
	t->widths = calloc(columns, sizeof(*t->widths));
	if (t->widths == NULL || rt_table_add(t, headers) < 0)
		return rt_table_free(t), NULL;
	return t;
}

int rt_table_add(struct rt_table *t, const char *const *cells)
{
	if (t->rows == t->allocated) {
		size_t n = t->allocated ? 2 * t->allocated : 8;
		char **grown = reallocarray(t->cells, n * t->columns, sizeof(*grown));

		if (grown == NULL)
			return -1;
		t->cells = grown;
		t->allocated = n;
	}
	for (size_t c = 0; c < t->columns; c++) {
		char *copy = strdup(cells[c] != NULL ? cells[c] : "");

		if (copy == NULL) {
			while (c-- > 0)
				free(t->cells[t->rows * t->columns + c]);
			return -1;
		}
		t->cells[t->rows * t->columns + c] = copy;
		if (strlen(copy) > t->widths[c])
			t->widths[c] = strlen(copy);
	}
	t->rows++;
	return 0;
}

void rt_table_print(struct rt_table *t)
{
	for (size_t r = 0; r < t->rows; r++) {
		for (size_t c = 0; c < t->columns; c++) {
			const char *cell = t->cells[r * t->columns + c];

			if (c + 1 < t->columns)
				printf("%-*s   ", (int)t->widths[c], cell);
			else
				printf("%s\n", cell);
		}
	}
}

void rt_table_free(struct rt_table *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->rows * t->columns; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t->widths);
	free(t);
}
