/* SPDX-License-Identifier: MIT */
/*
 * The demo's output. A person gets one line per step as it completes (step, result, time, what
 * happened) and a closing summary; --json gets the same facts as one JSON document at the end.
 * Both are built from the same calls, so they cannot tell different stories.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <ebcc/ebcc.h>

#include "demo.h"

double demo_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int demo_report_init(struct demo_report *r, int json)
{
	*r = (struct demo_report){ .json = json, .started_ms = demo_now_ms() };
	r->doc = json_object_new_object();
	r->steps = json_object_new_array();
	if (r->doc == NULL || r->steps == NULL) {
		json_object_put(r->doc);
		json_object_put(r->steps);
		return -1;
	}
	json_object_object_add(r->doc, "steps", r->steps);
	return 0;
}

void demo_report_free(struct demo_report *r)
{
	json_object_put(r->doc);
	r->doc = r->steps = NULL;
}

void demo_step_begin(struct demo_step *s, const char *name)
{
	s->name = name;
	s->started_ms = demo_now_ms();
}

/* Milliseconds with one decimal, serialised as written (json-c would print 3.1 as
 * 3.1000000000000001). */
static struct json_object *ms_json(double ms)
{
	char text[32];

	snprintf(text, sizeof(text), "%.1f", ms);
	return json_object_new_double_s(ms, text);
}

static void record(struct demo_report *r, struct demo_step *s, int ok, double ms,
		   const char *message, struct json_object *fields)
{
	struct json_object *step = json_object_new_object();

	if (step != NULL) {
		/* The fixed keys first, then whatever details the step brought. */
		json_object_object_add(step, "step", json_object_new_string(s->name));
		json_object_object_add(step, "ok", json_object_new_boolean(ok));
		json_object_object_add(step, "ms", ms_json(ms));
		json_object_object_add(step, "message", json_object_new_string(message));
		if (fields != NULL) {
			struct json_object_iterator it = json_object_iter_begin(fields);
			struct json_object_iterator end = json_object_iter_end(fields);

			for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it))
				json_object_object_add(step, json_object_iter_peek_name(&it),
						       json_object_get(json_object_iter_peek_value(&it)));
		}
		json_object_array_add(r->steps, step);
	}
	json_object_put(fields);
}

static void line(struct demo_report *r, const char *name, const char *result, double ms,
		 const char *message)
{
	if (r->json)
		return;
	printf("  %-10s %-4s %8.1f ms  %s\n", name, result, ms, message);
	fflush(stdout);
}

void demo_step_ok(struct demo_report *r, struct demo_step *s, struct json_object *fields,
		  const char *fmt, ...)
{
	double ms = demo_now_ms() - s->started_ms;
	char message[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	r->steps_ok++;
	record(r, s, 1, ms, message, fields);
	line(r, s->name, "ok", ms, message);
}

void demo_step_fail(struct demo_report *r, struct demo_step *s, int err, const char *fmt, ...)
{
	double ms = demo_now_ms() - s->started_ms;
	char what[1024], message[4096];
	struct json_object *error;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	if (err != DEMO_ERR_NONE)
		snprintf(message, sizeof(message), "%s: %s: %s", what, ebcc_error_name(err),
			 ebcc_last_error_message()[0] != '\0' ? ebcc_last_error_message()
							      : ebcc_strerror(err));
	else
		snprintf(message, sizeof(message), "%s", what);
	r->steps_failed++;
	record(r, s, 0, ms, message, NULL);
	line(r, s->name, "FAIL", ms, message);
	fprintf(stderr, DEMO_NAME ": %s: %s\n", s->name, message);

	error = json_object_new_object();
	if (error == NULL)
		return;
	json_object_object_add(error, "step", json_object_new_string(s->name));
	json_object_object_add(error, "name", json_object_new_string(
						      err != DEMO_ERR_NONE ? ebcc_error_name(err) : ""));
	json_object_object_add(error, "message", json_object_new_string(message));
	/* The first failure is the one that matters; cleanup failures come after it. */
	if (!json_object_object_get_ex(r->doc, "error", NULL))
		json_object_object_add(r->doc, "error", error);
	else
		json_object_put(error);
}

void demo_detail(struct demo_report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->json)
		return;
	printf("%31s", ""); /* under the message column of the step lines */
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void demo_say(struct demo_report *r, const char *fmt, ...)
{
	va_list ap;

	if (r->json)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

void demo_report_set(struct demo_report *r, const char *key, struct json_object *value)
{
	json_object_object_add(r->doc, key, value);
}

void demo_report_finish(struct demo_report *r, struct json_object *summary, const char *fmt, ...)
{
	double total = demo_now_ms() - r->started_ms;
	char message[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	if (summary == NULL)
		summary = json_object_new_object();
	if (summary != NULL) {
		json_object_object_add(summary, "ok", json_object_new_boolean(r->steps_failed == 0));
		json_object_object_add(summary, "steps_ok", json_object_new_int(r->steps_ok));
		json_object_object_add(summary, "steps_failed", json_object_new_int(r->steps_failed));
		json_object_object_add(summary, "total_ms", ms_json(total));
		json_object_object_add(summary, "message", json_object_new_string(message));
		json_object_object_add(r->doc, "summary", summary);
	}
	if (r->json) {
		printf("%s\n", json_object_to_json_string_ext(r->doc, JSON_C_TO_STRING_PRETTY |
								       JSON_C_TO_STRING_SPACED |
								       JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		printf("\n%s: %s (%.1f ms in all)\n", r->steps_failed == 0 ? "summary" : "FAILED",
		       message, total);
	}
	fflush(stdout);
}
