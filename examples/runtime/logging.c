/* SPDX-License-Identifier: MIT */
/*
 * The log: --log FILE gets the library's log lines (through ebcc_context_set_log_fn) and the
 * tool's own, as text (time="..." level=... msg="...", like runc's default) or, with
 * --log-format json, one JSON object per line ({"level", "msg", "time"}). --debug lowers the
 * threshold to debug for both. Without --log the lines go to stderr, but only with --debug:
 * a plain run stays quiet apart from its errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "runtime.h"

static struct {
	int fd; /* -1: no log */
	int json;
	int threshold;
	int own_fd;
} sink = { .fd = -1, .threshold = EBCC_LOG_WARNING };

static const char *level_name(int priority)
{
	switch (priority) {
	case EBCC_LOG_ERR:
		return "error";
	case EBCC_LOG_WARNING:
		return "warning";
	case EBCC_LOG_INFO:
		return "info";
	default:
		return "debug";
	}
}

static void timestamp(char *buf, size_t size)
{
	struct timespec now;
	struct tm tm;
	char base[32];

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, size, "%.20s.%06dZ", base, (int)(now.tv_nsec / 1000));
}

/* One line, written with a single write(2) so that lines from concurrent calls (several
 * processes may share one log file, opened O_APPEND) never interleave. */
static void emit(int priority, const char *message)
{
	char when[48];
	const char *line;
	struct json_object *obj = NULL;
	char *text = NULL;
	size_t len;

	if (sink.fd < 0 || priority > sink.threshold)
		return;
	timestamp(when, sizeof(when));
	if (sink.json) {
		obj = json_object_new_object();
		if (obj == NULL)
			return;
		json_object_object_add(obj, "level", json_object_new_string(level_name(priority)));
		json_object_object_add(obj, "msg", json_object_new_string(message));
		json_object_object_add(obj, "time", json_object_new_string(when));
		line = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
							   JSON_C_TO_STRING_NOSLASHESCAPE);
		if (line == NULL || asprintf(&text, "%s\n", line) < 0)
			text = NULL;
	} else {
		/* The message quoted as a JSON string: escapes quotes, backslashes and control
		 * characters, so one record is always one line. */
		obj = json_object_new_string(message);
		line = obj != NULL ? json_object_to_json_string_ext(obj, JSON_C_TO_STRING_NOSLASHESCAPE)
				   : NULL;
		if (line == NULL ||
		    asprintf(&text, "time=\"%s\" level=%s msg=%s\n", when, level_name(priority), line) < 0)
			text = NULL;
	}
	json_object_put(obj);
	if (text == NULL)
		return;
	len = strlen(text);
	while (write(sink.fd, text, len) < 0 && errno == EINTR)
		;
	free(text);
}

static void library_log(int priority, const char *message, void *userdata)
{
	(void)userdata;
	emit(priority, message);
}

void rt_log(int priority, const char *fmt, ...)
{
	char message[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	emit(priority, message);
}

int rt_log_open(struct rt *rt)
{
	sink.json = rt->g.log_json;
	sink.threshold = rt->g.debug ? EBCC_LOG_DEBUG : EBCC_LOG_WARNING;
	if (sink.fd >= 0)
		return 0;
	if (rt->g.log_path != NULL) {
		sink.fd = open(rt->g.log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOCTTY,
			       0644);
		if (sink.fd < 0)
			return rt_fail_plain("--log %s: %s", rt->g.log_path, strerror(errno)), -1;
		sink.own_fd = 1;
	} else if (rt->g.debug) {
		sink.fd = STDERR_FILENO;
	}
	return 0;
}

int rt_log_setup(struct rt *rt)
{
	int r;

	if (rt_log_open(rt) < 0)
		return -1;
	if (sink.fd < 0)
		return 0; /* the library keeps its default: quiet unless EBCC_LOG_LEVEL is set */
	if (rt->g.debug) {
		r = ebcc_context_set_option(rt->ctx, "log_level", "debug");
		if (r < 0)
			return rt_fail(r, "setting log_level"), -1;
	}
	r = ebcc_context_set_log_fn(rt->ctx, library_log, NULL);
	if (r < 0)
		return rt_fail(r, "setting the log destination"), -1;
	return 0;
}

void rt_log_close(void)
{
	if (sink.own_fd)
		close(sink.fd);
	sink.fd = -1;
	sink.own_fd = 0;
}
