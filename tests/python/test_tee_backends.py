# SPDX-License-Identifier: MIT
"""The tsm and optee backends through ctypes on this host: built in, probed without harm, and
when their kernel interface is missing they say which."""
import os
import tempfile
import unittest

import ebcc

REPORT_DIR = "/sys/kernel/config/tsm/report"


class TeeBackendsTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ebcc-py-tee-")
        self.ctx = ebcc.Context(plugin_dir="", state_root=self.tmp.name)

    def tearDown(self):
        self.ctx.close()
        self.tmp.cleanup()

    def test_built_in_after_sim(self):
        names = ebcc.backend_names(self.ctx)
        self.assertEqual(names[0], "sim")
        self.assertIn("tsm", names)
        self.assertIn("optee", names)

    def test_tsm_probe(self):
        info = ebcc.backend_probe(self.ctx, "tsm")
        self.assertEqual(info["isolation"], "vm")
        self.assertIs(info["simulated"], False)
        self.assertEqual(info["evidence_format"], "ebcc.tsm.v1")
        self.assertEqual(info["configfs"], REPORT_DIR)
        if not os.path.exists(REPORT_DIR):
            self.assertIs(info["available"], False)
            self.assertEqual(info["reason"], "no %s: configfs-tsm not mounted or no TSM "
                             "provider" % REPORT_DIR)

    def test_optee_probe(self):
        info = ebcc.backend_probe(self.ctx, "optee")
        self.assertEqual(info["isolation"], "embedded")
        self.assertIs(info["simulated"], False)
        self.assertEqual(info["evidence_format"], "ebcc.optee.v1")
        self.assertEqual(info["device"], "/dev/tee0")
        if not os.path.exists("/dev/tee0"):
            self.assertIs(info["available"], False)
            self.assertTrue(info["reason"].startswith(
                "no /dev/tee0: No such file or directory (ENOENT): no TEE driver"),
                info["reason"])

    def test_keys(self):
        with self.assertRaises(ebcc.EbccError) as cm:
            ebcc.backend_attestation_key(self.ctx, "tsm")
        self.assertEqual(cm.exception.name, "EBCC_ERR_UNAVAILABLE")
        if not os.path.exists("/dev/tee0"):
            with self.assertRaises(ebcc.EbccError) as cm:
                ebcc.backend_attestation_key(self.ctx, "optee")
            self.assertEqual(cm.exception.name, "EBCC_ERR_UNAVAILABLE")
            self.assertIn("no /dev/tee0", cm.exception.message)

    def test_sim_still_works_beside_them(self):
        self.assertIs(ebcc.backend_probe(self.ctx, "sim")["available"], True)


if __name__ == "__main__":
    unittest.main()
