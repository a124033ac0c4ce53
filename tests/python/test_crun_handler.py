# SPDX-License-Identifier: MIT
"""libcrun-ebcc, the crun handler plugin, in the unmodified crun of this host.

The plugin is installed into crun's own handler directory (the one compiled into /usr/bin/crun)
for the duration of this test only, by a guard that removes it again however the test ends
(finally, atexit and the termination signals). While it is installed every crun on the host
loads it, other tests' included: the tests check that containers which do not name the
handler, `crun --version` and `crun list` are untouched.

With the handler selected (annotation run.oci.handler=ebcc), the container's process calls its
echo stage through /run/ebcc/ebcc.sock with ebcc-call, and the test verifies the evidence
offline; a stage whose measurement does not match the manifest's pin fails the container with
the library's reason on crun's stderr; and nothing of libebcc or the helper is left once crun
has removed the container. Through raw `crun run`, `crun create`/`start`/`delete`, and podman.
"""
import atexit
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
import uuid

import containers
import ebcc

PLUGIN = os.environ.get("EBCC_CRUN_PLUGIN")          # the build-tree variant (helper in build)
PLUGIN_INSTALLED = os.environ.get("EBCC_CRUN_PLUGIN_INSTALLED")  # the one `meson install` ships
HELPER = os.environ.get("EBCC_CRUN_HELPER")
PLUGIN_NAME = "libcrun-ebcc.so"


def sha256(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def echo_measurement():
    with open(containers.ECHO_STAGE, "rb") as f:
        return sha256(f.read())


def new_id(tag):
    return f"ebcc-crunh-{tag}-{uuid.uuid4().hex[:10]}"


def wait_until(predicate, seconds=30.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def crun_handler_dir():
    """crun's handler directory, as compiled into the crun binary (CRUN_LIBDIR/handlers)."""
    path = shutil.which("crun")
    if path is None:
        return None
    with open(path, "rb") as f:
        m = re.search(rb"(/[\x21-\x7e]*?/crun/handlers)\0", f.read())
    return m.group(1).decode() if m else None


def elf_needed(path):
    out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True, check=True)
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out.stdout)


# ---- the plugin in crun's directory, for this test only -------------------------------------

class InstalledPlugin:
    """Copies the plugin into crun's handler directory (a copy: the build tree may change
    meanwhile; renamed into place, so that a crun starting meanwhile never loads half a file;
    crun skips dot files), and removes it, and the directories it had to make, on close(),
    at exit and on SIGTERM/SIGINT/SIGHUP."""

    def __init__(self, source, directory):
        self.path = os.path.join(directory, PLUGIN_NAME)
        self.made = []
        missing = directory
        while not os.path.isdir(missing):
            self.made.insert(0, missing)
            missing = os.path.dirname(missing)
        self.previous = {}
        for signo in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            self.previous[signo] = signal.signal(signo, self._on_signal)
        atexit.register(self.close)
        for d in self.made:
            os.mkdir(d, 0o755)
        tmp = os.path.join(directory, f".{PLUGIN_NAME}.{os.getpid()}")
        shutil.copyfile(source, tmp)
        os.chmod(tmp, 0o644)
        os.rename(tmp, self.path)

    def _on_signal(self, signo, frame):
        self.close()
        signal.signal(signo, self.previous.get(signo) or signal.SIG_DFL)
        os.kill(os.getpid(), signo)

    def close(self):
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        for d in reversed(self.made):
            try:
                os.rmdir(d)
            except OSError:
                pass
        self.made = []


def missing():
    why = containers.missing_prerequisites("crun", ("EBCC_CRUN_HELPER", HELPER))
    if why:
        return why
    if not PLUGIN or not os.path.exists(PLUGIN):
        return "$EBCC_CRUN_PLUGIN names no built plugin"
    if crun_handler_dir() is None:
        return "this crun has no handler directory compiled in"
    return None


class HandlerBundle(containers.HookedBundle):
    """A bundle whose container names the ebcc handler: no hooks, no bind mount of a socket
    directory (the handler mounts its own), the manifest named by annotation, and libebcc's
    state root and the handler's run directory in the scratch directory."""

    def __init__(self, cid):
        super().__init__(cid)
        self.run_root = os.path.join(self.dir, "crun-run")
        self.manifest = os.path.join(self.bundle, "ebcc.json")

    def write_config(self, args, env=(), handler=True, extra_annotations=None):
        super().write_config(args, env=env, hooks=False)
        path = os.path.join(self.bundle, "config.json")
        with open(path) as f:
            config = json.load(f)
        config["mounts"] = [m for m in config["mounts"] if m["destination"] != "/run/ebcc"]
        annotations = {"org.example": "crun-handler"}
        if handler:
            annotations.update({"run.oci.handler": "ebcc", "org.ebcc.manifest": self.manifest,
                                "org.ebcc.stateRoot": self.state_root,
                                "org.ebcc.crun.runDir": self.run_root})
        annotations.update(extra_annotations or {})
        config["annotations"] = annotations
        with open(path, "w") as f:
            json.dump(config, f, indent=1)

    def socket_dir(self):
        return os.path.join(self.run_root, self.cid)


ONE_CALL_SCRIPT = """#!/bin/sh
S=/run/ebcc/ebcc.sock
fail() { echo "$*" > /out/failed; exit 1; }
printf 'hello, stage' | ebcc-call $S echo --nonce "$NONCE1" --evidence /out/evidence1.json \\
    > /out/response1 || fail "call 1 failed"
[ "$(cat /out/response1)" = "hello, stage" ] || fail "response 1 is $(cat /out/response1)"
touch /run/ebcc/x 2> /dev/null && fail "/run/ebcc is writable"
touch /out/done
"""

LIFECYCLE_SCRIPT = """#!/bin/sh
S=/run/ebcc/ebcc.sock
fail() { echo "$*" > /out/failed; exit 1; }
printf 'upper:quiet words' | ebcc-call $S echo --nonce "$NONCE1" \\
    --evidence /out/evidence1.json > /out/response1 || fail "call 1 failed"
[ "$(cat /out/response1)" = "QUIET WORDS" ] || fail "response 1 is $(cat /out/response1)"
touch /out/ready
while [ ! -e /out/finish ]; do sleep 0.05; done
"""

PLAIN_SCRIPT = """#!/bin/sh
[ -e /run/ebcc/ebcc.sock ] && echo "a socket in a plain container" > /out/failed
touch /out/done
"""


@unittest.skipIf(missing(), missing() or "")
class CrunHandlerTest(unittest.TestCase):
    guard = None

    @classmethod
    def setUpClass(cls):
        why = containers.crun_unusable(new_id("probe"))
        if why is not None:
            raise unittest.SkipTest(why)
        cls.guard = InstalledPlugin(PLUGIN, crun_handler_dir())

    @classmethod
    def tearDownClass(cls):
        if cls.guard is not None:
            cls.guard.close()

    def setUp(self):
        self.scratches = []
        self.containers = []

    def tearDown(self):
        for rt, cid in self.containers:
            try:
                rt("delete", "--force", cid)
            except subprocess.TimeoutExpired:
                pass
        for b in self.scratches:
            # Whatever a failed test left: the helper ends when crun's state is gone.
            wait_until(lambda: not containers.processes_mentioning(b.dir), 10)
            for pid, _ in containers.processes_mentioning(b.dir):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            b.remove()

    def scratch(self, tag):
        b = HandlerBundle(new_id(tag))
        self.scratches.append(b)
        return b

    def composites(self, b):
        if not os.path.exists(b.state_root):
            return []
        with ebcc.Context(state_root=b.state_root) as ctx:
            return [c["id"] if isinstance(c, dict) else c
                    for c in json.loads(ebcc.list_instances(ctx))]

    def nothing_left(self, b):
        return (not self.composites(b) and not os.path.exists(b.socket_dir())
                and not containers.processes_mentioning(b.dir))

    def assert_nothing_left(self, b, rt=None):
        # The helper removes the composite once crun has removed the container's state.
        wait_until(lambda: self.nothing_left(b), 30)
        if rt is not None:
            self.assertNotIn(b.cid, rt.ids(), "crun still lists the container")
        self.assertEqual(self.composites(b), [], "the composite is left")
        if os.path.exists(b.state_root):
            self.assertEqual([n for n in os.listdir(b.state_root) if n != ".ebcc"], [])
        self.assertFalse(os.path.exists(b.socket_dir()), "the socket directory is left")
        self.assertEqual(containers.processes_mentioning(b.dir), [], "a helper is left")

    def verify_evidence(self, b, text, nonce, request, response):
        envelope = json.loads(text)
        self.assertEqual((envelope["instance"], envelope["stage"], envelope["nonce"]),
                         (b.cid, "echo", nonce))
        with ebcc.Context(state_root=b.state_root) as ctx:
            key = ebcc.backend_attestation_key(ctx, "sim")
        policy = {"trusted_keys": [key], "allow_simulated": True, "nonce": nonce,
                  "measurement": echo_measurement(), "request_digest": sha256(request),
                  "response_digest": sha256(response)}
        # Offline: a context with no state root, the evidence, the policy and the key.
        with ebcc.Context() as ctx, ebcc.Evidence.parse(ctx, text) as ev:
            ev.verify(ctx, policy)
            with self.assertRaises(ebcc.EbccError) as cm:
                ev.verify(ctx, dict(policy, nonce="00" * 32))
            self.assertEqual(cm.exception.name, "EBCC_ERR_VERIFY")

    def container_failed(self, b):
        path = os.path.join(b.out, "failed")
        return b.out_file("failed") if os.path.exists(path) else None

    # ---- the plugin itself --------------------------------------------------------------

    def test_plugin_needs_only_libc_and_exports_only_the_entry_point(self):
        for path in filter(None, (PLUGIN, PLUGIN_INSTALLED)):
            self.assertEqual(elf_needed(path), ["libc.so.6"], path)
            out = subprocess.run(["nm", "-D", "--defined-only", path], capture_output=True,
                                 text=True, check=True).stdout
            self.assertEqual([l.split()[-1] for l in out.splitlines()],
                             ["run_oci_handler_get_handler"], path)
            # No sanitizer or coverage runtime: crun itself is not instrumented.
            self.assertNotRegex(subprocess.run(["nm", "-D", path], capture_output=True,
                                               text=True).stdout, r"__asan|__ubsan|__gcov")

    def test_crun_version_and_list_are_unaffected(self):
        rc, out, err = containers.run(["crun", "--version"])
        self.assertEqual(rc, 0, err)
        self.assertIn("+EBCC", out, "crun did not load the plugin")
        b = self.scratch("list")
        rt = containers.Crun(b.runtime_root)
        rc, out, err = rt("list")
        self.assertEqual(rc, 0, err)
        self.assertEqual(rt.ids(), [])

    def test_a_container_without_the_annotation_runs_plain(self):
        b = self.scratch("plain")
        rt = containers.Crun(b.runtime_root)
        b.write_script(PLAIN_SCRIPT)
        b.write_config(["sh", "/check.sh"], handler=False)
        self.containers.append((rt, b.cid))
        rc, out, err = rt("run", "--bundle", b.bundle, b.cid)
        self.assertEqual(rc, 0, f"crun run: {err}")
        self.assertIsNone(self.container_failed(b))
        self.assertTrue(os.path.exists(os.path.join(b.out, "done")))
        self.assertFalse(os.path.exists(b.run_root), "the helper ran for a plain container")
        self.assertFalse(os.path.exists(b.state_root))

    # ---- raw crun --------------------------------------------------------------------------

    def test_run_calls_the_stage_and_the_evidence_verifies(self):
        b = self.scratch("run")
        rt = containers.Crun(b.runtime_root)
        nonce = os.urandom(32).hex()
        b.write_manifest(tools=None)
        b.write_script(ONE_CALL_SCRIPT)
        b.write_config(["sh", "/check.sh"], env=[f"NONCE1={nonce}"])
        self.containers.append((rt, b.cid))
        rc, out, err = rt("run", "--bundle", b.bundle, b.cid)
        self.assertIsNone(self.container_failed(b))
        self.assertEqual(rc, 0, f"crun run: {err}")
        self.assertTrue(os.path.exists(os.path.join(b.out, "done")))
        self.verify_evidence(b, b.out_file("evidence1.json"), nonce, b"hello, stage",
                             b"hello, stage")
        self.assert_nothing_left(b, rt)

    def test_create_start_delete(self):
        b = self.scratch("life")
        rt = containers.Crun(b.runtime_root)
        nonce = os.urandom(16).hex()
        b.write_manifest(tools=None)
        b.write_script(LIFECYCLE_SCRIPT)
        b.write_config(["sh", "/check.sh"], env=[f"NONCE1={nonce}"])
        self.containers.append((rt, b.cid))
        rc, _, err = rt("create", "--bundle", b.bundle, b.cid)
        self.assertEqual(rc, 0, f"crun create: {err}")
        self.assertEqual(rt.status(b.cid), "created")
        pid = json.loads(rt("state", b.cid)[1])["pid"]
        # The composite exists with the container's process (as crun reports it) as anchor.
        with ebcc.Context(state_root=b.state_root) as ctx, \
                ebcc.Instance.open(ctx, b.cid) as inst:
            self.assertEqual(json.loads(inst.state())["pid"], pid)
        self.assertEqual(rt("start", b.cid)[0], 0)
        self.assertTrue(wait_until(lambda: os.path.exists(os.path.join(b.out, "ready")) or
                                   self.container_failed(b) is not None))
        self.assertIsNone(self.container_failed(b))
        self.verify_evidence(b, b.out_file("evidence1.json"), nonce, b"upper:quiet words",
                             b"QUIET WORDS")
        # Still there while the container exists, stopped or not.
        with open(os.path.join(b.out, "finish"), "w"):
            pass
        self.assertTrue(wait_until(lambda: rt.status(b.cid) == "stopped"))
        self.assertEqual(self.composites(b), [b.cid])
        rc, _, err = rt("delete", b.cid)
        self.assertEqual(rc, 0, f"crun delete: {err}")
        self.assert_nothing_left(b, rt)

    def test_a_wrong_pin_fails_creation_with_the_reason(self):
        b = self.scratch("pin")
        rt = containers.Crun(b.runtime_root)
        b.write_manifest(stages=[{"name": "echo", "image": "stages/echo",
                                  "measurement": "sha256:" + "0" * 64}], tools=None)
        b.write_script(ONE_CALL_SCRIPT)
        b.write_config(["sh", "/check.sh"], env=["NONCE1=00"])
        self.containers.append((rt, b.cid))
        for verb in ("run", "create"):
            rc, _, err = rt(verb, "--bundle", b.bundle, b.cid)
            self.assertNotEqual(rc, 0, f"crun {verb} succeeded")
            self.assertRegex(err, r"ebcc: create composite [^\n]*but the manifest pins"
                                  r"[^\n]*EBCC_ERR_VERIFY", f"crun {verb}")
            self.assertFalse(os.path.exists(os.path.join(b.out, "done")), "the container ran")
            self.assert_nothing_left(b, rt)

    def test_the_installed_plugin_names_the_installed_helper(self):
        if not PLUGIN_INSTALLED:
            self.skipTest("$EBCC_CRUN_PLUGIN_INSTALLED not set")
        with open(PLUGIN_INSTALLED, "rb") as f:
            self.assertRegex(f.read(), rb"/ebcc-crun-helper\0")


if __name__ == "__main__":
    unittest.main()
