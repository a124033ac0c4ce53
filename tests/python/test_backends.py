# SPDX-License-Identifier: MIT
"""The backend API through ctypes, as a binding author drives it: the built-in sim backend, the
simulated device key, plugins (good and broken), and a backend written in Python."""
import ctypes
import os
import stat
import tempfile
import unittest

import ebcc


def plugin(name):
    return os.environ["EBCC_PLUGIN_" + name]


class SimBackendTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="ebcc-py-backend-")
        self.ctx = ebcc.Context(plugin_dir="", state_root=self.tmp.name)

    def tearDown(self):
        self.ctx.close()
        self.tmp.cleanup()

    def test_sim_is_built_in_and_first(self):
        self.assertEqual(ebcc.backend_names(self.ctx)[0], "sim")

    def test_probe_says_simulated_and_what_the_sandbox_achieves(self):
        info = ebcc.backend_probe(self.ctx, "sim")
        self.assertEqual(info["name"], "sim")
        self.assertIs(info["available"], True)
        self.assertIs(info["simulated"], True)
        self.assertIs(info["hardware_root_of_trust"], False)
        self.assertEqual(info["evidence_format"], "ebcc.sim.v1")
        self.assertEqual(info["max_report_data"], 64)
        self.assertIs(info["concurrent_invoke"], False)
        sandbox = info["sandbox"]
        self.assertIs(sandbox["seccomp"], True)
        self.assertIs(sandbox["no_new_privs"], True)
        for ns in ("user_ns", "pid_ns", "net_ns", "ipc_ns", "mount_ns"):
            self.assertIsInstance(sandbox[ns], bool)

    def test_device_key_is_stable_and_private(self):
        pem = ebcc.backend_attestation_key(self.ctx, "sim")
        self.assertTrue(pem.startswith("-----BEGIN PUBLIC KEY-----\n"))
        self.assertEqual(ebcc.backend_attestation_key(self.ctx, "sim"), pem)
        path = os.path.join(self.tmp.name, ".ebcc", "backends", "sim", "device-key-ed25519.pem")
        self.assertEqual(stat.S_IMODE(os.lstat(path).st_mode), 0o600)
        # A second context on the same state root sees the same key.
        with ebcc.Context(plugin_dir="", state_root=self.tmp.name) as other:
            self.assertEqual(ebcc.backend_attestation_key(other, "sim"), pem)

    def test_unknown_backend(self):
        with self.assertRaises(ebcc.EbccError) as cm:
            ebcc.backend_probe(self.ctx, "nope")
        self.assertEqual(cm.exception.name, "EBCC_ERR_NOT_FOUND")
        self.assertIn("nope", cm.exception.message)


class PluginTest(unittest.TestCase):
    def setUp(self):
        self.ctx = ebcc.Context(plugin_dir="")

    def tearDown(self):
        self.ctx.close()

    def test_example_plugin(self):
        ebcc.backend_load(self.ctx, plugin("example"))
        self.assertIn("example", ebcc.backend_names(self.ctx))
        info = ebcc.backend_probe(self.ctx, "example")
        self.assertIs(info["plugin"], True)
        self.assertIn("isolates nothing", info["note"])
        with self.assertRaises(ebcc.EbccError) as cm:
            ebcc.backend_load(self.ctx, plugin("example"))
        self.assertEqual(cm.exception.name, "EBCC_ERR_EXISTS")

    def test_older_smaller_table(self):
        ebcc.backend_load(self.ctx, plugin("smaller"))
        self.assertEqual(ebcc.backend_probe(self.ctx, "smaller")["isolation"], "vm")
        with self.assertRaises(ebcc.EbccError) as cm:
            ebcc.backend_attestation_key(self.ctx, "smaller")
        self.assertEqual(cm.exception.name, "EBCC_ERR_UNAVAILABLE")

    def test_broken_plugins(self):
        cases = [("nosym", "EBCC_ERR_NOT_FOUND", "undefined symbol"),
                 ("wrongabi", "EBCC_ERR_ABI", "ABI version 99"),
                 ("abi1", "EBCC_ERR_ABI", "has ABI version 1; this library supports only "
                  "version 2"),
                 ("tail", "EBCC_ERR_ABI", "is not zero")]
        before = ebcc.backend_names(self.ctx)
        for name, code, text in cases:
            with self.subTest(plugin=name):
                with self.assertRaises(ebcc.EbccError) as cm:
                    ebcc.backend_load(self.ctx, plugin(name))
                self.assertEqual(cm.exception.name, code)
                self.assertIn(text, cm.exception.message)
        with tempfile.NamedTemporaryFile(suffix=".so", mode="w") as f:
            f.write("not a shared object, only text that happens to end in .so " * 4)
            f.flush()
            with self.assertRaises(ebcc.EbccError) as cm:
                ebcc.backend_load(self.ctx, f.name)
            self.assertEqual(cm.exception.name, "EBCC_ERR_ABI")
            self.assertIn("invalid ELF header", cm.exception.message)
        self.assertEqual(ebcc.backend_names(self.ctx), before)


class PythonBackendTest(unittest.TestCase):
    """A backend implemented in Python through the C ABI: the table is copied at registration,
    callbacks get userdata, the core's fields win over the backend's details."""

    def test_register_probe_destroy(self):
        calls = []

        def probe(env, ret, userdata):
            calls.append(("probe", userdata))
            ret[0] = ebcc.env_string(env, '{"reason": "no device", "name": "liar"}')
            return 0

        def destroy(userdata):
            calls.append(("destroy", userdata))

        def never(*args):
            return -6  # EBCC_ERR_BACKEND

        keep = [ebcc.PROBE_FN(probe), ebcc.DESTROY_FN(destroy),
                ebcc.STAGE_LOAD_FN(never), ebcc.STAGE_INVOKE_FN(never),
                ebcc.STAGE_REPORT_FN(never), ebcc.STAGE_UNLOAD_FN(never)]
        ops = ebcc.BackendOps(size=ctypes.sizeof(ebcc.BackendOps),
                              abi_version=ebcc.BACKEND_ABI_VERSION, name=b"pyback",
                              isolation=ebcc.ISOLATION_EMBEDDED,
                              flags=ebcc.BACKEND_SIMULATED | ebcc.BACKEND_HOST_IN_TCB,
                              evidence_format=b"py.v1", max_report_data=64,
                              probe=keep[0], destroy=keep[1], stage_load=keep[2],
                              stage_invoke=keep[3], stage_report=keep[4], stage_unload=keep[5])
        ctx = ebcc.Context(plugin_dir="")
        try:
            ebcc.backend_register(ctx, ops, 1234)
            # The table was copied: changing ours changes nothing registered.
            ops.name = b"changed"
            self.assertEqual(ebcc.backend_names(ctx)[-1], "pyback")
            info = ebcc.backend_probe(ctx, "pyback")
            self.assertEqual(info["name"], "pyback")
            self.assertIs(info["available"], False)
            self.assertEqual(info["reason"], "no device")
            self.assertEqual(info["isolation"], "embedded")
            self.assertIs(info["simulated"], True)
            self.assertEqual(calls, [("probe", 1234)])

            ops.name = b"pyback"
            with self.assertRaises(ebcc.EbccError) as cm:
                ebcc.backend_register(ctx, ops, None)
            self.assertEqual(cm.exception.name, "EBCC_ERR_EXISTS")
            ops.name = b"bigger"
            ops.abi_version = 3
            with self.assertRaises(ebcc.EbccError) as cm:
                ebcc.backend_register(ctx, ops, None)
            self.assertEqual(cm.exception.name, "EBCC_ERR_ABI")
        finally:
            ctx.close()
        self.assertEqual(calls[-1], ("destroy", 1234))


if __name__ == "__main__":
    unittest.main()
