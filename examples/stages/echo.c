/* SPDX-License-Identifier: MIT */
/*
 * echo: the smallest useful stage, for tests and first steps.
 *
 *   "upper:<text>"  answers <text> in upper case
 *   "fail:<text>"   fails the request (EBCC_ERR_INVALID_ARG), as a handler may
 *   anything else   answers it unchanged
 *
 * Every request logs one line. Build: cc echo.c $(pkg-config --cflags --libs libebcc-stage)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ebcc/ebcc.h>
#include <ebcc/stage.h>

static int handle(const void *request, size_t len, void **ret_response, size_t *ret_len,
		  void *userdata)
{
	const char *in = request;
	size_t skip = 0;
	char line[96];
	char *out;

	(void)userdata;
	if (len >= 5 && memcmp(in, "fail:", 5) == 0) {
		ebcc_stage_log("echo: refusing the request, as asked");
		return EBCC_ERR_INVALID_ARG;
	}
	if (len >= 6 && memcmp(in, "upper:", 6) == 0)
		skip = 6;
	out = malloc(len - skip + 1);
	if (out == NULL)
		return EBCC_ERR_NO_MEMORY;
	for (size_t i = skip; i < len; i++)
		out[i - skip] = skip > 0 && in[i] >= 'a' && in[i] <= 'z' ? (char)(in[i] - 32) : in[i];
	snprintf(line, sizeof(line), "echo: %zu bytes%s", len, skip > 0 ? ", upper-cased" : "");
	ebcc_stage_log(line);
	*ret_response = out;
	*ret_len = len - skip;
	return 0;
}

int main(void)
{
	return ebcc_stage_serve(handle, NULL) < 0 ? 1 : 0;
}
