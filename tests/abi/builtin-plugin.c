/* SPDX-License-Identifier: MIT */
/*
 * One of the tree's own backends built as a plugin outside the tree (test-plugin-out-of-tree.py):
 * its table (BUILTIN_ENTRY, e.g. ebcc__backend_tsm_entry) under another name (PLUGIN_NAME, e.g.
 * "tsm-plugin"), since every context already holds the built-in one.
 */
#include "builtin.h"

__attribute__((visibility("default"))) const struct ebcc_backend_ops *ebcc_backend_entry_v1(void)
{
	static struct ebcc_backend_ops ops;

	ops = *BUILTIN_ENTRY();
	ops.name = PLUGIN_NAME;
	return &ops;
}
