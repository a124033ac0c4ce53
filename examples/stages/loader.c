/* SPDX-License-Identifier: MIT */
/*
 * loader: a small measured stage that loads an encrypted payload inside the TEE
 * (ebcc-secrets(7)): a table of "name=value" lines that nobody outside the stage sees whole.
 *
 *   "key"            makes a fresh key pair; the answer's evidence binds the public key
 *                    (answers it in hex): the image owner verifies that evidence and seals
 *                    the image key to it
 *   <load request>   ebcc-runtime load-request's output: opens the image key, decrypts the
 *                    table (ebcc_stage_load_image()); answers "loaded <n> bytes". From this
 *                    answer on, every evidence binds the table's SHA-256 ("image_digest")
 *   "get:<name>"     answers the value of name in the table
 *
 * A failed load fails the request with the library's code (the host's message names it), and
 * "get:" before a load fails with EBCC_ERR_STATE.
 * Build: cc loader.c $(pkg-config --cflags --libs libebcc-stage)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ebcc/ebcc.h>
#include <ebcc/stage.h>

static char *table;
static size_t table_len;

static int answer(const char *text, size_t n, void **ret_response, size_t *ret_len)
{
	*ret_response = malloc(n > 0 ? n : 1);
	if (*ret_response == NULL)
		return EBCC_ERR_NO_MEMORY;
	memcpy(*ret_response, text, n);
	*ret_len = n;
	return 0;
}

/* The value of the line "<name>=<value>" in the table. */
static int lookup(const char *name, size_t name_len, void **ret_response, size_t *ret_len)
{
	const char *p = table, *end = table + table_len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = eol != NULL ? eol : end;

		if ((size_t)(line_end - p) > name_len && memcmp(p, name, name_len) == 0 &&
		    p[name_len] == '=')
			return answer(p + name_len + 1, (size_t)(line_end - p) - name_len - 1,
				      ret_response, ret_len);
		p = line_end + 1;
	}
	return EBCC_ERR_NOT_FOUND;
}

static int handle(const void *request, size_t len, void **ret_response, size_t *ret_len,
		  void *userdata)
{
	const char *in = request;
	char text[2 * 32 + 1], line[96];
	int r;

	(void)userdata;
	if (len == 3 && memcmp(in, "key", 3) == 0) {
		unsigned char pk[32];

		r = ebcc_stage_key_public(pk);
		if (r < 0)
			return r;
		for (size_t i = 0; i < sizeof(pk); i++)
			snprintf(text + 2 * i, 3, "%02x", pk[i]);
		return answer(text, 2 * sizeof(pk), ret_response, ret_len);
	}
	if (len >= 4 && memcmp(in, "get:", 4) == 0) {
		if (table == NULL)
			return EBCC_ERR_STATE;
		return lookup(in + 4, len - 4, ret_response, ret_len);
	}
	{
		void *image = NULL;
		size_t image_len = 0;

		r = ebcc_stage_load_image(request, len, &image, &image_len);
		if (r < 0) {
			snprintf(line, sizeof(line), "loader: the image did not load (%d)", r);
			ebcc_stage_log(line);
			return r;
		}
		table = image;
		table_len = image_len;
		snprintf(line, sizeof(line), "loaded %zu bytes", image_len);
		return answer(line, strlen(line), ret_response, ret_len);
	}
}

int main(void)
{
	return ebcc_stage_serve(handle, NULL) < 0 ? 1 : 0;
}
