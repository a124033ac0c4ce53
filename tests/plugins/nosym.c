/* SPDX-License-Identifier: MIT */
/* A plugin without the entry symbol (it exports a misspelled one). */
#include "plugin-common.h"

static const struct ebcc_backend_ops ops = {
	.size = sizeof(struct ebcc_backend_ops),
	.abi_version = EBCC_BACKEND_ABI_VERSION,
	.name = "nosym",
	.isolation = EBCC_ISOLATION_ENCLAVE,
	.evidence_format = "test.nosym.v1",
	.max_report_data = 64,
	.probe = tp_probe,
	.stage_load = tp_load,
	.stage_invoke = tp_invoke,
	.stage_unload = tp_unload,
};

PLUGIN_EXPORT const struct ebcc_backend_ops *ebcc_backend_entry_v0(void);

const struct ebcc_backend_ops *ebcc_backend_entry_v0(void)
{
	return &ops;
}
