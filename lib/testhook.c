/* SPDX-License-Identifier: MIT */
/*
 * A test-only hook: with EBCC_TEST_HOOK=<point>:<action> in the environment, the process stops
 * (action "stop": SIGSTOP) or dies (action "kill": SIGKILL) when it reaches the named point of
 * an operation, so that tests can observe or crash it at each persistence step. Points are
 * listed in libebcc(7). Never set this outside tests; release builds leave it out
 * (-Dtest_hooks, meson_options.txt).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ebcc-private.h"

#if EBCC_TEST_HOOKS

void ebcc__test_point(const char *point)
{
	const char *hook = secure_getenv("EBCC_TEST_HOOK");
	size_t len = strlen(point);

	if (hook == NULL || strncmp(hook, point, len) != 0 || hook[len] != ':')
		return;
	if (strcmp(hook + len + 1, "kill") == 0) {
		raise(SIGKILL);
	} else if (strcmp(hook + len + 1, "stop") == 0) {
		fprintf(stderr, "libebcc: test hook: stopped at %s (pid %d)\n", point, (int)getpid());
		raise(SIGSTOP);
	}
}
#endif
