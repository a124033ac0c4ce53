# SPDX-License-Identifier: MIT
"""The foundation API through ctypes: version, error table, context options, logging."""
import threading
import unittest

import ebcc


class VersionTest(unittest.TestCase):
    def test_version_numbers_agree(self):
        number, text = ebcc.version()
        major, minor, micro = (int(p) for p in text.split("."))
        self.assertEqual(number, (major << 16) | (minor << 8) | micro)


class ErrorTableTest(unittest.TestCase):
    def test_codes_are_dense_and_named(self):
        codes = ebcc.error_codes()
        self.assertEqual(codes["EBCC_ERR_INVALID_ARG"], -1)
        self.assertEqual(codes["EBCC_ERR_STAGE"], -16)
        self.assertEqual(sorted(codes.values()), list(range(min(codes.values()), 1)))
        messages = [ebcc.lib.ebcc_strerror(c) for c in codes.values()]
        self.assertEqual(len(set(messages)), len(messages))


class ContextTest(unittest.TestCase):
    def setUp(self):
        self.ctx = ebcc.Context()

    def tearDown(self):
        self.ctx.close()

    def test_round_trip(self):
        self.ctx.set_option("state_root", "/tmp/x")
        self.assertEqual(self.ctx.get_option("state_root"), "/tmp/x")
        self.ctx.set_option("retention", 3)
        self.assertEqual(self.ctx.get_option("retention"), "3")

    def test_bad_value_raises_with_key_in_message(self):
        with self.assertRaises(ebcc.EbccError) as cm:
            self.ctx.set_option("durability", "sometimes")
        self.assertEqual(cm.exception.name, "EBCC_ERR_INVALID_ARG")
        self.assertIn("durability", cm.exception.message)
        self.assertIn("sometimes", cm.exception.message)
        self.assertEqual(self.ctx.get_option("durability"), "none")

    def test_unknown_key(self):
        with self.assertRaises(ebcc.EbccError) as cm:
            self.ctx.get_option("colour")
        self.assertEqual(cm.exception.name, "EBCC_ERR_INVALID_ARG")
        self.assertIn("colour", cm.exception.message)

    def test_log_callback(self):
        lines = []
        self.ctx.set_option("log_level", "debug")
        self.ctx.set_log_fn(lambda prio, msg: lines.append((prio, msg)))
        self.ctx.set_option("artifacts", "digests")
        self.assertTrue(any("artifacts" in m for _, m in lines), lines)
        self.ctx.set_log_fn(None)
        count = len(lines)
        self.ctx.set_option("artifacts", "full")
        self.assertEqual(len(lines), count)

    def test_settings_at_creation_all_or_nothing(self):
        with ebcc.Context(retention=4, durability="fsync", ignore_env=True) as ctx:
            self.assertEqual(ctx.get_option("retention"), "4")
            self.assertEqual(ctx.get_option("durability"), "fsync")
        with self.assertRaises(ebcc.EbccError) as cm:
            ebcc.Context(retention=4, durability="sometimes")
        self.assertEqual(cm.exception.name, "EBCC_ERR_INVALID_ARG")
        self.assertIn("settings[2]", cm.exception.message)
        self.assertIn("sometimes", cm.exception.message)

    def test_threads_share_a_context(self):
        errors = []

        def worker(n):
            try:
                for i in range(200):
                    self.ctx.set_option("retention", str(n * 1000 + i + 1))
                    int(self.ctx.get_option("retention"))
            except Exception as e:  # pragma: no cover - reported below
                errors.append(e)

        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])


if __name__ == "__main__":
    unittest.main()
