/* SPDX-License-Identifier: MIT */
/*
 * A plugin built against an older, smaller struct ebcc_backend_ops of this ABI version: a local
 * copy of the table without its last callbacks (attestation_key and destroy), with size set to
 * match. The library must accept it and read the missing callbacks as NULL.
 */
#include "plugin-common.h"

struct old_backend_ops {
	uint32_t size;
	uint32_t abi_version;
	const char *name;
	uint32_t isolation;
	uint32_t flags;
	const char *evidence_format;
	uint32_t max_report_data;
	uint32_t reserved0;
	int (*probe)(const struct ebcc_backend_env *, char **, void *);
	int (*stage_load)(const struct ebcc_backend_env *, const struct ebcc_backend_stage_params *,
			  struct ebcc_backend_stage *, void *);
	int (*stage_open)(const struct ebcc_backend_env *, const struct ebcc_backend_stage_params *,
			  uint64_t, const char *, void **, void *);
	int (*stage_invoke)(const struct ebcc_backend_env *, void *,
			    const struct ebcc_backend_binding *, const void *, size_t,
			    struct ebcc_backend_invocation *, void *);
	int (*stage_report)(const struct ebcc_backend_env *, void *, const uint8_t *, size_t,
			    struct ebcc_backend_buffer *, void *);
	void (*stage_close)(void *, void *);
	int (*stage_unload)(const struct ebcc_backend_env *, void *, void *);
	int (*verify_report)(const struct ebcc_backend_env *,
			     const struct ebcc_backend_report_check *, char **, void *);
	/* attestation_key and destroy are left out */
};

_Static_assert(sizeof(struct old_backend_ops) < sizeof(struct ebcc_backend_ops),
	       "the old table must be smaller than the current one");

static const struct old_backend_ops ops = {
	.size = sizeof(struct old_backend_ops),
	.abi_version = EBCC_BACKEND_ABI_VERSION,
	.name = "smaller",
	.isolation = EBCC_ISOLATION_VM,
	.evidence_format = "test.smaller.v1",
	.max_report_data = 64,
	.probe = tp_probe,
	.stage_load = tp_load,
	.stage_invoke = tp_invoke,
	.stage_unload = tp_unload,
};

PLUGIN_EXPORT const struct old_backend_ops *ebcc_backend_entry_v1(void);

const struct old_backend_ops *ebcc_backend_entry_v1(void)
{
	return &ops;
}
