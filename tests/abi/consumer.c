/* SPDX-License-Identifier: MIT */
/* An outside program built only from the installed tree with pkg-config. */
#include <stdio.h>

#include <ebcc/ebcc.h>

int main(void)
{
	struct ebcc_context *ctx = NULL;
	char *root = NULL;
	int r;

	if (ebcc_version() != EBCC_VERSION) {
		fprintf(stderr, "header %s but library %s\n", EBCC_VERSION_STRING,
			ebcc_version_string());
		return 1;
	}
	r = ebcc_context_new(&ctx);
	if (r < 0 || ebcc_context_get_option(ctx, "default_backend", &root) < 0) {
		fprintf(stderr, "%s: %s\n", ebcc_error_name(r), ebcc_last_error_message());
		return 1;
	}
	printf("libebcc %s, default backend %s\n", ebcc_version_string(), root);
	ebcc_free(root);
	ebcc_context_unref(ctx);
	return 0;
}
