# SPDX-License-Identifier: MIT
"""Composites across processes, as runc-style tools use them: every operation a new process.
Also crashes: a process killed in the middle of an operation (via the test-only hook), then
recovery with open and a forced delete."""
import json
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import unittest

import bundles
import ebcc
from bundles import wait_until

HERE = os.path.dirname(os.path.abspath(__file__))


def step(root, code, hook=None, check=True):
    """Runs code in a fresh interpreter with ctx (state root = root), ebcc and json imported;
    returns (returncode, stdout)."""
    program = "import json, ebcc\nctx = ebcc.Context(state_root=%r)\n" % root
    program += textwrap.dedent(code)
    env = dict(os.environ)
    env.pop("EBCC_TEST_HOOK", None)
    if hook:
        env["EBCC_TEST_HOOK"] = hook
    # Files, not pipes: an anchor started by the step inherits its stdio, as runc's would.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.run([sys.executable, "-c", program], env=env, stdout=out,
                              stderr=err, timeout=60, stdin=subprocess.DEVNULL)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if check and proc.returncode != 0:
        raise AssertionError(f"step failed ({proc.returncode}):\n{code}\n{stderr}")
    return proc.returncode, stdout


def monitors_of(root):
    """Pids of ebcc monitor processes whose instance directory lies under root."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/comm") as f:
                if f.read().strip() != "ebcc-monitor":
                    continue
            if os.readlink(f"/proc/{pid}/fd/3").startswith(root):
                found.append(int(pid))
        except OSError:
            continue
    return found


@unittest.skipUnless(bundles.have_stage(), "the echo stage is not built")
class CrossProcessTest(unittest.TestCase):
    def test_each_operation_in_its_own_process(self):
        with bundles.Scratch() as s:
            bundles.make_bundle(s.bundle, process={
                "args": ["sh", "-c", "sleep 30; exit 7"], "cwd": "/",
                "env": ["PATH=/usr/bin:/bin"]})
            step(s.root, f"ebcc.Instance.create(ctx, 'xp', {s.bundle!r})")
            _, out = step(s.root, "i = ebcc.Instance.open(ctx, 'xp'); i.start(); print(i.status())")
            self.assertEqual(out.strip(), "running")
            _, out = step(s.root, "print(ebcc.Instance.open(ctx, 'xp').state())")
            state = bundles.check_oci_state(self, out, "running")
            self.assertGreater(state["pid"], 0)
            self.assertEqual(state["id"], "xp")
            self.assertEqual(state["bundle"], os.path.realpath(s.bundle))
            self.assertEqual(state["annotations"], {"org.example": "t"})
            self.assertEqual(state["ebcc"]["backend"], "sim")
            self.assertEqual(state["ebcc"]["stages"][0]["name"], "echo")
            self.assertIsInstance(state["ebcc"]["stages"][0]["eid"], int)
            self.assertTrue(state["ebcc"]["stages"][0]["measurement"].startswith("sha256:"))
            # A waiter in its own process, started before the kill from yet another process.
            waiter = subprocess.Popen(
                [sys.executable, "-c",
                 "import ebcc; ctx = ebcc.Context(state_root=%r); "
                 "print(ebcc.Instance.open(ctx, 'xp').wait(30000))" % s.root],
                stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
            step(s.root, "ebcc.Instance.open(ctx, 'xp').kill(15)")
            out, _ = waiter.communicate(timeout=60)
            self.assertEqual(waiter.returncode, 0)
            status = int(out.strip())
            self.assertTrue(os.WIFSIGNALED(status))
            self.assertEqual(os.WTERMSIG(status), signal.SIGTERM)
            _, out = step(s.root, "print(ebcc.Instance.open(ctx, 'xp').state())")
            state = bundles.check_oci_state(self, out, "stopped")
            self.assertEqual(state["pid"], 0)
            self.assertEqual(state["ebcc"]["exitStatus"], status)
            step(s.root, "ebcc.Instance.open(ctx, 'xp').delete()")
            self.assertEqual(os.listdir(s.root), [".ebcc"])

    def test_wait_reports_exit_code_to_a_non_parent(self):
        with bundles.Scratch() as s:
            bundles.make_bundle(s.bundle, process={"args": ["/bin/sh", "-c", "exit 42"],
                                                   "cwd": "/"})
            step(s.root, f"ebcc.Instance.create(ctx, 'code', {s.bundle!r}).start()")
            _, out = step(s.root, "print(ebcc.Instance.open(ctx, 'code').wait(20000))")
            status = int(out)
            self.assertTrue(os.WIFEXITED(status))
            self.assertEqual(os.WEXITSTATUS(status), 42)
            step(s.root, "ebcc.Instance.open(ctx, 'code').delete()")

    def test_concurrent_start_and_kill_serialize(self):
        with bundles.Scratch() as s:
            bundles.make_bundle(s.bundle, process={"args": ["/bin/sleep", "30"], "cwd": "/"})
            step(s.root, f"ebcc.Instance.create(ctx, 'race', {s.bundle!r})")
            code = """
                import sys
                try:
                    getattr(ebcc.Instance.open(ctx, 'race'), sys.argv[1])(*map(int, sys.argv[2:]))
                    print('ok')
                except ebcc.EbccError as e:
                    print(e.name)
            """
            program = "import json, ebcc\nctx = ebcc.Context(state_root=%r)\n" % s.root
            program += textwrap.dedent(code)
            procs = [subprocess.Popen([sys.executable, "-c", program] + args,
                                      stdout=subprocess.PIPE, text=True,
                                      stdin=subprocess.DEVNULL)
                     for args in (["start"], ["kill", "9"])]
            results = [p.communicate(timeout=60)[0].strip() for p in procs]
            # Either order is fine; each sees a consistent state.
            self.assertIn(results, (["ok", "ok"], ["EBCC_ERR_STATE", "ok"]), results)
            with ebcc.Context(state_root=s.root) as ctx, ebcc.Instance.open(ctx, "race") as i:
                i.wait(20000)
                self.assertEqual(i.status(), "stopped")
                i.delete()


@unittest.skipUnless(bundles.have_stage(), "the echo stage is not built")
@unittest.skipUnless(os.environ.get("EBCC_TEST_HOOKS_BUILT") == "1",
                     "the library is built without -Dtest_hooks")
class CrashTest(unittest.TestCase):
    def test_killed_during_create(self):
        with bundles.Scratch() as s:
            bundles.make_bundle(s.bundle, process={"args": ["/bin/sleep", "30"], "cwd": "/"})
            rc, _ = step(s.root, f"ebcc.Instance.create(ctx, 'half', {s.bundle!r})",
                         hook="create:anchor-spawned:kill", check=False)
            self.assertEqual(rc, -signal.SIGKILL)
            self.assertTrue(monitors_of(s.root), "the anchor's monitor should be waiting")
            _, out = step(s.root, "print(ebcc.Instance.open(ctx, 'half').status())")
            self.assertEqual(out.strip(), "creating")
            _, out = step(s.root, "print(ebcc.list_instances(ctx))")
            listed = json.loads(out)
            self.assertEqual([(e["id"], e["status"]) for e in listed], [("half", "creating")])
            self.assertEqual(listed[0]["pid"], 0)
            self.assertEqual(listed[0]["bundle"], os.path.realpath(s.bundle))
            rc, out = step(s.root, """
                try:
                    ebcc.Instance.open(ctx, 'half').delete()
                except ebcc.EbccError as e:
                    print(e.name)
            """)
            self.assertEqual(out.strip(), "EBCC_ERR_STATE")
            step(s.root, "ebcc.Instance.open(ctx, 'half').delete(force=True)")
            self.assertTrue(wait_until(lambda: not monitors_of(s.root)),
                            "the held anchor and its monitor must be gone")
            _, out = step(s.root, "print(ebcc.list_instances(ctx))")
            self.assertEqual(json.loads(out), [])

    def test_killed_during_start(self):
        with bundles.Scratch() as s:
            bundles.make_bundle(s.bundle, process={"args": ["/bin/sleep", "30"], "cwd": "/"})
            step(s.root, f"ebcc.Instance.create(ctx, 'mid', {s.bundle!r})")
            rc, _ = step(s.root, "ebcc.Instance.open(ctx, 'mid').start()",
                         hook="start:stage-loaded:kill", check=False)
            self.assertEqual(rc, -signal.SIGKILL)
            # The last completed state: created (the anchor still held), and start again works.
            _, out = step(s.root, "print(ebcc.Instance.open(ctx, 'mid').state())")
            bundles.check_oci_state(self, out, "created")
            _, out = step(s.root, "i = ebcc.Instance.open(ctx, 'mid'); i.start(); print(i.status())")
            self.assertEqual(out.strip(), "running")
            step(s.root, "ebcc.Instance.open(ctx, 'mid').delete(force=True)")
            self.assertTrue(wait_until(lambda: not monitors_of(s.root)))

    def test_killed_during_delete(self):
        with bundles.Scratch() as s:
            bundles.make_bundle(s.bundle)
            step(s.root, f"ebcc.Instance.create(ctx, 'gone', {s.bundle!r})")
            rc, _ = step(s.root, "ebcc.Instance.open(ctx, 'gone').delete(force=True)",
                         hook="delete:moved-to-trash:kill", check=False)
            self.assertEqual(rc, -signal.SIGKILL)
            rc, out = step(s.root, """
                try:
                    ebcc.Instance.open(ctx, 'gone')
                except ebcc.EbccError as e:
                    print(e.name)
            """)
            self.assertEqual(out.strip(), "EBCC_ERR_NOT_FOUND")
            # Listing sweeps what the interrupted delete left in the trash.
            _, out = step(s.root, "print(ebcc.list_instances(ctx))")
            self.assertEqual(json.loads(out), [])
            trash = os.path.join(s.root, ".ebcc", "trash")
            self.assertFalse(os.path.exists(trash) and os.listdir(trash))


class InputTest(unittest.TestCase):
    def test_nul_in_id_is_refused_before_the_library(self):
        with bundles.Scratch() as s, ebcc.Context(state_root=s.root) as ctx:
            bundles.make_bundle(s.bundle)
            with self.assertRaises(ValueError):
                ebcc.Instance.create(ctx, "bad\0id", s.bundle)

    def test_bad_ids(self):
        with bundles.Scratch() as s, ebcc.Context(state_root=s.root) as ctx:
            bundles.make_bundle(s.bundle)
            for cid in ("a/b", "..", ".", "", "x" * 2000, "semi;colon", ".ebcc"):
                with self.assertRaises(ebcc.EbccError) as cm:
                    ebcc.Instance.create(ctx, cid, s.bundle)
                self.assertEqual(cm.exception.name, "EBCC_ERR_INVALID_ARG", cid)
            self.assertFalse(os.path.exists(s.root) and
                             set(os.listdir(s.root)) - {".ebcc"})


if __name__ == "__main__":
    unittest.main()
