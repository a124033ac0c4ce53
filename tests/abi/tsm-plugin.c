/* SPDX-License-Identifier: MIT */
/*
 * The tsm backend's own sources built as a plugin outside the tree (test-plugin-out-of-tree.py):
 * its table under another name, since every context already holds the built-in "tsm".
 */
#include "builtin.h"

__attribute__((visibility("default"))) const struct ebcc_backend_ops *ebcc_backend_entry_v1(void)
{
	static struct ebcc_backend_ops ops;

	ops = *ebcc__backend_tsm_entry();
	ops.name = "tsm-plugin";
	return &ops;
}
