/* SPDX-License-Identifier: MIT */
/* A plugin whose table claims an ABI version this library does not know. */
#include "plugin-common.h"

static const struct ebcc_backend_ops ops = {
	.size = sizeof(struct ebcc_backend_ops),
	.abi_version = 99,
	.name = "wrongabi",
	.isolation = EBCC_ISOLATION_ENCLAVE,
	.evidence_format = "test.wrongabi.v1",
	.max_report_data = 64,
	.probe = tp_probe,
	.stage_load = tp_load,
	.stage_invoke = tp_invoke,
	.stage_unload = tp_unload,
};

PLUGIN_EXPORT const struct ebcc_backend_ops *ebcc_backend_entry_v1(void);

const struct ebcc_backend_ops *ebcc_backend_entry_v1(void)
{
	return &ops;
}
