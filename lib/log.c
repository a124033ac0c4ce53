/* SPDX-License-Identifier: MIT */
/* Per-context logging: a caller's callback, or stderr when EBCC_LOG_LEVEL asks for it. */
#include <stdio.h>
#include <string.h>

#include "ebcc-private.h"

#define EBCC_LOG_LINE_MAX 2048

int ebcc__log_level_parse(const char *text)
{
	static const struct {
		const char *name;
		int level;
	} names[] = {
		{ "err", EBCC_LOG_ERR },	 { "error", EBCC_LOG_ERR }, { "warning", EBCC_LOG_WARNING },
		{ "notice", 5 },		 { "info", EBCC_LOG_INFO }, { "debug", EBCC_LOG_DEBUG },
	};

	for (size_t i = 0; i < EBCC_ARRAY_SIZE(names); i++)
		if (strcmp(text, names[i].name) == 0)
			return names[i].level;
	if (text[0] >= '3' && text[0] <= '7' && text[1] == '\0')
		return text[0] - '0';
	return -1;
}

static const char *priority_name(int priority)
{
	switch (priority) {
	case EBCC_LOG_ERR:
		return "error";
	case EBCC_LOG_WARNING:
		return "warning";
	case EBCC_LOG_INFO:
		return "info";
	case EBCC_LOG_DEBUG:
		return "debug";
	default:
		return "notice";
	}
}

void ebcc__log(struct ebcc_context *ctx, int priority, const char *fmt, ...)
{
	char line[EBCC_LOG_LINE_MAX];
	ebcc_log_fn fn;
	void *userdata;
	bool to_stderr;
	va_list ap;

	if (ctx == NULL)
		return;
	pthread_mutex_lock(&ctx->lock);
	fn = ctx->log_fn;
	userdata = ctx->log_userdata;
	to_stderr = ctx->log_stderr;
	if (priority > ctx->opts.log_level)
		fn = NULL, to_stderr = false;
	pthread_mutex_unlock(&ctx->lock);
	if (fn == NULL && !to_stderr)
		return;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (fn != NULL)
		fn(priority, line, userdata);
	else
		fprintf(stderr, "libebcc: %s: %s\n", priority_name(priority), line);
}
