/* SPDX-License-Identifier: MIT */
/* Prints the library version and the context's options: the smallest program using libebcc. */
#include <stdio.h>

#include <ebcc/ebcc.h>

int main(void)
{
	static const char *const keys[] = { "state_root", "default_backend", "durability",
					    "artifacts",  "retention",	     "max_request" };
	struct ebcc_context *ctx = NULL;
	int r = ebcc_context_new(&ctx);

	if (r < 0) {
		fprintf(stderr, "ebcc-info: %s\n", ebcc_last_error_message());
		return 1;
	}
	printf("libebcc %s (headers %s)\n", ebcc_version_string(), EBCC_VERSION_STRING);
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *value = NULL;

		r = ebcc_context_get_option(ctx, keys[i], &value);
		if (r < 0) {
			fprintf(stderr, "ebcc-info: %s\n", ebcc_last_error_message());
			break;
		}
		printf("  %-16s %s\n", keys[i], value);
		ebcc_free(value);
	}
	ebcc_context_unref(ctx);
	return r < 0 ? 1 : 0;
}
