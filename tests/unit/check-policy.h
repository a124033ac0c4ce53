/* SPDX-License-Identifier: MIT */
/*
 * For white-box tests and fuzzers that build a struct ebcc_backend_report_check themselves:
 * its policy fields as the core fills them from policy text (ebcc__policy_fill_check(): the
 * backend's part of backend_options and the verification time), the check's trusted keys left
 * as the caller set them. A policy the core refuses (ebcc__policy_parse()) reaches the backend
 * as a core older than 0.2 would hand it over, policy_json alone in a check of the 0.1 size, so
 * that fuzzers still reach the backend's own reading of hostile text. The part is kept until the
 * next call in the same file (tests are single-threaded).
 */
#ifndef EBCC_TEST_CHECK_POLICY_H
#define EBCC_TEST_CHECK_POLICY_H

#include <stddef.h>
#include <stdlib.h>

#include "ebcc-private.h"

static inline void check_policy_set(struct ebcc_backend_report_check *c, const char *policy,
				    const char *backend)
{
	static char *part;
	const char *const *keys = c->trusted_keys;
	size_t n_keys = c->trusted_keys_count;
	struct ebcc__policy p;

	free(part);
	part = NULL;
	c->size = sizeof(*c);
	c->policy_json = policy;
	c->backend_options_json = NULL;
	c->has_verification_time = 0;
	c->verification_time = 0;
	if (policy == NULL)
		return;
	if (ebcc__policy_parse(policy, &p) < 0) {
		c->size = offsetof(struct ebcc_backend_report_check, backend_options_json);
		return;
	}
	if (ebcc__policy_fill_check(&p, policy, backend, c, &part) < 0)
		abort();
	c->trusted_keys = keys;
	c->trusted_keys_count = n_keys;
	ebcc__policy_clear(&p);
}

#endif
