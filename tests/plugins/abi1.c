/* SPDX-License-Identifier: MIT */
/*
 * A plugin of backend ABI version 1, whose stage_invoke returned only the response and whose
 * core asked stage_report() for a report over report_data the host chose. The library must
 * refuse it, naming it and both versions.
 */
#include "plugin-common.h"

struct abi1_backend_ops {
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
	int (*stage_invoke)(const struct ebcc_backend_env *, void *, const void *, size_t,
			    struct ebcc_backend_buffer *, struct ebcc_backend_buffer *, void *);
	int (*stage_report)(const struct ebcc_backend_env *, void *, const uint8_t *, size_t,
			    struct ebcc_backend_buffer *, void *);
	void (*stage_close)(void *, void *);
	int (*stage_unload)(const struct ebcc_backend_env *, void *, void *);
};

static int abi1_invoke(const struct ebcc_backend_env *env, void *h, const void *req, size_t len,
		       struct ebcc_backend_buffer *resp, struct ebcc_backend_buffer *log,
		       void *userdata)
{
	(void)env, (void)h, (void)req, (void)len, (void)resp, (void)log, (void)userdata;
	return EBCC_ERR_STAGE;
}

static int abi1_report(const struct ebcc_backend_env *env, void *h, const uint8_t *rd,
		       size_t len, struct ebcc_backend_buffer *ret, void *userdata)
{
	(void)env, (void)h, (void)rd, (void)len, (void)ret, (void)userdata;
	return EBCC_ERR_STAGE;
}

static const struct abi1_backend_ops ops = {
	.size = sizeof(struct abi1_backend_ops),
	.abi_version = 1,
	.name = "abi1",
	.isolation = EBCC_ISOLATION_ENCLAVE,
	.evidence_format = "test.abi1.v1",
	.max_report_data = 64,
	.probe = tp_probe,
	.stage_load = tp_load,
	.stage_invoke = abi1_invoke,
	.stage_report = abi1_report,
	.stage_unload = tp_unload,
};

PLUGIN_EXPORT const struct abi1_backend_ops *ebcc_backend_entry_v1(void);

const struct abi1_backend_ops *ebcc_backend_entry_v1(void)
{
	return &ops;
}
