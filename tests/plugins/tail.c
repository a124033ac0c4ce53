/* SPDX-License-Identifier: MIT */
/* A plugin built against a newer, larger table whose extra field this library does not know is
 * set: it must be refused rather than silently ignored. */
#include "plugin-common.h"

struct newer_backend_ops {
	struct ebcc_backend_ops known;
	int (*from_the_future)(void *userdata);
};

static int future(void *userdata)
{
	(void)userdata;
	return 0;
}

static const struct newer_backend_ops ops = {
	.known = {
		.size = sizeof(struct newer_backend_ops),
		.abi_version = EBCC_BACKEND_ABI_VERSION,
		.name = "tail",
		.isolation = EBCC_ISOLATION_ENCLAVE,
		.evidence_format = "test.tail.v1",
		.max_report_data = 64,
		.probe = tp_probe,
		.stage_load = tp_load,
		.stage_invoke = tp_invoke,
		.stage_unload = tp_unload,
	},
	.from_the_future = future,
};

PLUGIN_EXPORT const struct newer_backend_ops *ebcc_backend_entry_v1(void);

const struct newer_backend_ops *ebcc_backend_entry_v1(void)
{
	return &ops;
}
