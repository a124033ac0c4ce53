# SPDX-License-Identifier: MIT
"""ebcc-demo as a script consumes it (--json) and as a person reads it, including failure and
--keep. Every run gets its own TMPDIR, so that what the demo leaves behind can be checked."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
from bundles import wait_until

DEMO = os.environ.get("EBCC_DEMO")
RUNTIME = os.environ.get("EBCC_RUNTIME")
STAGES = os.environ.get("EBCC_TEST_STAGES_DIR")

INVOCATION_FILES = ["evidence.json", "log.txt", "meta.json", "request.bin", "response.bin"]


def run_demo(*args, tmpdir, env_extra=None):
    """Runs the demo with TMPDIR=tmpdir; stdio in files, since the anchor inherits it."""
    env = dict(os.environ, TMPDIR=tmpdir)
    if "libasan" in env.get("LD_PRELOAD", ""):
        env["ASAN_OPTIONS"] = "detect_leaks=1"
    env.update(env_extra or {})
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.run([DEMO] + list(args), stdout=out, stderr=err, env=env,
                              stdin=subprocess.DEVNULL, timeout=300)
        out.seek(0)
        err.seek(0)
        return proc.returncode, out.read().decode(), err.read().decode()


def process_state(pid):
    """The state letter of /proc/<pid>/stat (R, S, T, Z, ...), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


@unittest.skipUnless(DEMO, "ebcc-demo not built")
class DemoTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="ebcc-demo-test-")

    def tearDown(self):
        # A demo that failed before its own cleanup may have left a composite running.
        for entry in os.listdir(self.tmp):
            root = os.path.join(self.tmp, entry, "root")
            if RUNTIME and os.path.isdir(os.path.join(root, "ebcc-demo")):
                subprocess.run([RUNTIME, "--anchor=process", "--root", root, "delete", "--force",
                                "ebcc-demo"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=60)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_json_document(self):
        rc, out, err = run_demo("--json", tmpdir=self.tmp)
        self.assertEqual(rc, 0, err)
        self.assertEqual(err, "")
        doc = json.loads(out)
        self.assertTrue(doc["summary"]["ok"])
        self.assertEqual(doc["summary"]["steps_failed"], 0)
        self.assertTrue(doc["simulated"])
        self.assertNotIn("error", doc)
        names = [s["step"] for s in doc["steps"]]
        self.assertTrue(all(s["ok"] for s in doc["steps"]))
        for step in doc["steps"]:
            self.assertIsInstance(step["ms"], (int, float))
            self.assertGreaterEqual(step["ms"], 0)
            self.assertTrue(step["message"])
        order = ["setup", "backend", "image", "bundle", "key", "create", "measure", "start",
                 "invoke", "verify", "replay", "artifacts", "kill", "wait", "delete", "cleanup"]
        self.assertEqual(sorted(set(names), key=order.index), order)
        self.assertEqual([n for n in names if n in ("kill", "wait", "delete", "cleanup")],
                         ["kill", "wait", "delete", "cleanup"])

        # Each stage ran three times: the warm one in one EID, the other in a new one each time.
        stages = {s["name"]: s for s in doc["stages"]}
        self.assertEqual(stages["scorer"]["lifetime"], "instance")
        self.assertEqual(stages["echo"]["lifetime"], "invocation")
        self.assertEqual(len(set(stages["scorer"]["eids"])), 1)
        self.assertEqual(len(stages["scorer"]["eids"]), 3)
        self.assertEqual(len(set(stages["echo"]["eids"])), 3)
        # The pinned measurements are those of the images themselves.
        if STAGES:
            for name in ("scorer", "echo"):
                with open(os.path.join(STAGES, name), "rb") as f:
                    digest = "sha256:" + hashlib.sha256(f.read()).hexdigest()
                self.assertEqual(stages[name]["measurement"], digest)

        invocations = doc["invocations"]
        self.assertEqual(len(invocations), 6)
        self.assertTrue(all(i["verified"] for i in invocations))
        self.assertEqual(len({i["nonce"] for i in invocations}), 6, "nonces must be fresh")
        self.assertEqual(doc["summary"]["invocations"], 6)
        self.assertEqual(doc["summary"]["verified"], 6)
        verified = [s for s in doc["steps"] if s["step"] == "verify"]
        self.assertTrue(all(s["evidence"]["simulated"] for s in verified))
        invoked = [s for s in doc["steps"] if s["step"] == "invoke"]
        for inv, ver in zip(invoked, verified):
            self.assertEqual(ver["evidence"]["nonce"], inv["nonce"])
            self.assertEqual(ver["evidence"]["request_digest"],
                             "sha256:" + hashlib.sha256(inv["request"].encode()).hexdigest())
            self.assertEqual(ver["evidence"]["response_digest"],
                             "sha256:" + hashlib.sha256(inv["response"].encode()).hexdigest())
            # The claims of ebcc_evidence_verify_claims(): the envelope's facts and the sim
            # backend's verdict on its signature.
            self.assertEqual(ver["claims"]["evidence"]["nonce"], inv["nonce"])
            self.assertEqual(ver["claims"]["evidence"]["seq"], ver["seq"])
            self.assertEqual(ver["claims"]["backend"]["signature"], "valid")

        # Five artifacts per invocation, listed with their sizes.
        files = {a["path"]: a["bytes"] for a in doc["artifacts"]}
        for stage in ("scorer", "echo"):
            for seq in (1, 2, 3):
                for name in INVOCATION_FILES:
                    self.assertIn(f"stages/{stage}/{seq}/{name}", files)
        self.assertTrue(all(size > 0 for size in files.values()))

        self.assertFalse(doc["kept"])
        self.assertEqual(os.listdir(self.tmp), [], "the demo must remove its directories")

    def test_text_for_people(self):
        rc, out, err = run_demo(tmpdir=self.tmp)
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        steps = [l.split() for l in lines if l.startswith("  ") and len(l.split()) > 3
                 and l.split()[1] in ("ok", "FAIL")]
        self.assertGreater(len(steps), 20)
        for step in steps:
            self.assertEqual(step[1], "ok", step)
            self.assertEqual(step[3], "ms", step)
            float(step[2])
        self.assertIn("SIMULATED", out)
        self.assertTrue(lines[-1].startswith("summary: all "), lines[-1])
        self.assertIn("6 pieces of evidence verified", lines[-1])
        self.assertEqual(os.listdir(self.tmp), [])

    @unittest.skipUnless(STAGES, "the example stages' directory is not known")
    def test_failure_cleans_up_and_exits_1(self):
        empty = tempfile.mkdtemp(dir=self.tmp)
        rc, out, err = run_demo("--json", "--stages", empty, tmpdir=self.tmp)
        self.assertEqual(rc, 1)
        doc = json.loads(out)
        self.assertFalse(doc["summary"]["ok"])
        self.assertEqual(doc["error"]["step"], "image")
        self.assertIn(empty, doc["error"]["message"])
        self.assertIn("ebcc-demo: image: ", err)
        self.assertEqual(os.listdir(self.tmp), [os.path.basename(empty)])

    @unittest.skipUnless(STAGES, "the example stages' directory is not known")
    def test_stages_from_the_environment(self):
        copy = os.path.join(self.tmp, "copy")
        os.makedirs(copy)
        for name in ("scorer", "echo"):
            shutil.copy(os.path.join(STAGES, name), copy)
        rc, out, err = run_demo("--json", "-n", "1", tmpdir=self.tmp,
                                env_extra={"EBCC_DEMO_STAGES": copy})
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual({s["source"] for s in doc["steps"] if s["step"] == "image"}, {copy})
        self.assertEqual(doc["summary"]["invocations"], 2)

    def test_keep_leaves_a_stopped_composite(self):
        rc, out, err = run_demo("--json", "--keep", "--invocations", "1", tmpdir=self.tmp)
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertTrue(doc["kept"])
        self.assertNotIn("delete", [s["step"] for s in doc["steps"]])
        self.assertTrue(os.path.isdir(doc["state_root"]))
        with open(os.path.join(doc["state_root"], "ebcc-demo", "state.json")) as f:
            self.assertEqual(json.load(f)["id"], "ebcc-demo")
        if RUNTIME:
            listed = subprocess.run([RUNTIME, "--anchor=process", "--root", doc["state_root"],
                                     "list", "-q"],
                                    capture_output=True, text=True, stdin=subprocess.DEVNULL)
            self.assertEqual(listed.stdout, "ebcc-demo\n")
            deleted = subprocess.run([RUNTIME, "--anchor=process", "--root", doc["state_root"],
                                      "delete", "ebcc-demo"],
                                     capture_output=True, text=True, stdin=subprocess.DEVNULL)
            self.assertEqual(deleted.returncode, 0, deleted.stderr)

    @unittest.skipUnless(os.environ.get("EBCC_TEST_HOOKS_BUILT") == "1",
                         "the library is built without -Dtest_hooks")
    def test_interrupted_demo_cleans_up(self):
        # The library's test hook stops the demo (SIGSTOP) once the anchor runs; SIGINT then
        # arrives at a known point, with the composite running.
        env = dict(os.environ, TMPDIR=self.tmp, EBCC_TEST_HOOK="start:anchor-released:stop")
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            proc = subprocess.Popen([DEMO, "--json"], stdout=out, stderr=err, env=env,
                                    stdin=subprocess.DEVNULL)
            try:
                self.assertTrue(wait_until(lambda: process_state(proc.pid) == "T"),
                                "the demo never reached the hook")
                proc.send_signal(signal.SIGINT)
                proc.send_signal(signal.SIGCONT)
                self.assertEqual(proc.wait(timeout=120), 1)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
            out.seek(0)
            doc = json.loads(out.read())
        self.assertEqual(doc["error"]["message"], "interrupted by SIGINT")
        self.assertEqual([s["step"] for s in doc["steps"]][-3:], ["start", "invoke", "cleanup"])
        self.assertEqual(os.listdir(self.tmp), [], "an interrupted demo must clean up")

    def test_usage(self):
        rc, out, _ = run_demo("--help", tmpdir=self.tmp)
        self.assertEqual(rc, 0)
        self.assertTrue(out.startswith("usage: ebcc-demo"))
        rc, out, _ = run_demo("--version", tmpdir=self.tmp)
        self.assertEqual(rc, 0)
        self.assertRegex(out, r"^ebcc-demo \d+\.\d+\.\d+ \(libebcc \d+\.\d+\.\d+\)\n$")
        for args in (["--bogus"], ["extra"], ["--invocations", "0"], ["--stages"]):
            rc, out, err = run_demo(*args, tmpdir=self.tmp)
            self.assertEqual((rc, out), (1, ""), args)
            self.assertTrue(err.startswith("ebcc-demo: "), err)
        self.assertEqual(os.listdir(self.tmp), [])


if __name__ == "__main__":
    unittest.main()
