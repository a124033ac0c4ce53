/* SPDX-License-Identifier: MIT */
/* Argument parsing for every subcommand: options, operands, usage errors, signals, numbers. */
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime.h"

int rt_usage_error(struct rt *rt, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, RT_NAME ": ");
	if (rt->cmd != NULL)
		fprintf(stderr, "%s: ", rt->cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (rt->cmd != NULL)
		fprintf(stderr, "\nusage: " RT_NAME " [global options] %s %s\n", rt->cmd->name,
			rt->cmd->args);
	else
		fprintf(stderr, "\nusage: " RT_NAME " [global options] COMMAND [options] [ARGS]"
				" (" RT_NAME " --help lists the commands)\n");
	return RT_EXIT_FAIL;
}

int rt_getopt(struct rt *rt, int argc, char **argv, const char *shortopts,
	      const struct option *longopts)
{
	char spec[64];
	int c;

	/* ':' first: a missing argument comes back as ':' rather than '?', and getopt prints
	 * nothing itself, so every usage error has the same shape. 'h': -h is --help. */
	snprintf(spec, sizeof(spec), ":h%s", shortopts);
	opterr = 0;
	c = getopt_long(argc, argv, spec, longopts, NULL);
	switch (c) {
	case 'h':
		rt_print_help(rt->cmd, NULL);
		return RT_OPT_DONE;
	case 'V':
		rt_print_version();
		return RT_OPT_DONE;
	case ':':
		rt_usage_error(rt, "option %s needs an argument", argv[optind - 1]);
		return RT_OPT_FAIL;
	case '?':
		if (optopt != 0)
			rt_usage_error(rt, "unknown option -%c", optopt);
		else
			rt_usage_error(rt, "unknown option %s", argv[optind - 1]);
		return RT_OPT_FAIL;
	default:
		return c;
	}
}

int rt_getopt_exit(int c)
{
	return c == RT_OPT_DONE ? RT_EXIT_OK : RT_EXIT_FAIL;
}

int rt_operands(struct rt *rt, int argc, char **argv, int min, int max,
		const char *const *missing)
{
	int n = argc - optind;

	if (n < min) {
		rt_usage_error(rt, "missing %s", missing[n]);
		return -1;
	}
	if (n > max) {
		rt_usage_error(rt, "unexpected argument \"%s\"", argv[optind + max]);
		return -1;
	}
	return 0;
}

static int signal_by_name(const char *name)
{
	const char *rest;
	char *end;
	long offset = 0;

	for (int signo = 1; signo < SIGRTMIN; signo++) {
		const char *abbrev = sigabbrev_np(signo);

		if (abbrev != NULL && strcasecmp(abbrev, name) == 0)
			return signo;
	}
	if (strncasecmp(name, "RTMIN", 5) == 0)
		rest = name + 5;
	else if (strncasecmp(name, "RTMAX", 5) == 0)
		rest = name + 5;
	else
		return -1;
	if (*rest != '\0') {
		if (*rest != '+' && *rest != '-')
			return -1;
		errno = 0;
		offset = strtol(rest, &end, 10);
		if (errno != 0 || *end != '\0' || end == rest + 1)
			return -1;
	}
	offset += toupper((unsigned char)name[4]) == 'N' ? SIGRTMIN : SIGRTMAX;
	return offset >= SIGRTMIN && offset <= SIGRTMAX ? (int)offset : -1;
}

int rt_parse_signal(const char *text)
{
	uint64_t number;

	if (rt_parse_u64(text, &number) == 0)
		return number >= 1 && number <= 64 ? (int)number : -1;
	if (strncasecmp(text, "SIG", 3) == 0)
		text += 3;
	return *text != '\0' ? signal_by_name(text) : -1;
}

int rt_parse_u64(const char *text, uint64_t *ret)
{
	unsigned long long value;
	char *end;

	if (!isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*ret = value;
	return 0;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int rt_parse_hex(const char *text, uint8_t *out, size_t max, size_t *ret_len)
{
	size_t len = strlen(text);

	if (len % 2 != 0 || len / 2 > max)
		return -1;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hex_digit(text[2 * i]), lo = hex_digit(text[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*ret_len = len / 2;
	return 0;
}

char **rt_copy_args(int argc, char **argv)
{
	char **copy = calloc((size_t)argc + 1, sizeof(*copy));

	if (copy != NULL)
		memcpy(copy, argv, (size_t)argc * sizeof(*copy));
	return copy;
}
