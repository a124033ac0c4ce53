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
import fcntl
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
from bundles import wait_until

PLUGIN = os.environ.get("EBCC_CRUN_PLUGIN")          # the build-tree variant (helper in build)
PLUGIN_INSTALLED = os.environ.get("EBCC_CRUN_PLUGIN_INSTALLED")  # the one `meson install` ships
HELPER = os.environ.get("EBCC_CRUN_HELPER")
# The test's copy has a name of its own: a stale one (a test killed by SIGKILL) is replaced,
# and a libcrun-ebcc.so installed for real is never touched.
PLUGIN_NAME = "libcrun-ebcc-suite.so"
INSTALLED_NAME = "libcrun-ebcc.so"


def new_id(tag):
    return f"ebcc-crunh-{tag}-{uuid.uuid4().hex[:10]}"


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
        # Two suites on one host (two build trees) would install into the same directory:
        # the second waits for the first, on a lock of the crun binary (a file that exists
        # wherever crun does, and nothing is left behind).
        self.lock = os.open(shutil.which("crun"), os.O_RDONLY | os.O_CLOEXEC)
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        if os.path.exists(os.path.join(directory, INSTALLED_NAME)):
            # Two handlers named ebcc: crun would take whichever it reads first.
            os.close(self.lock)
            raise unittest.SkipTest(f"{directory}/{INSTALLED_NAME} is installed; the test "
                                    "does not run beside it")
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
        if self.lock >= 0:
            os.close(self.lock)
            self.lock = -1


def missing():
    why = containers.missing_prerequisites("crun", ("EBCC_CRUN_HELPER", HELPER))
    if why:
        return why
    if not PLUGIN or not os.path.exists(PLUGIN):
        return "$EBCC_CRUN_PLUGIN names no built plugin"
    if crun_handler_dir() is None:
        return "this crun has no handler directory compiled in"
    return None


def settings_env(state_root, run_root):
    """The handler's settings, in the environment of crun (which its helper inherits)."""
    return {"EBCC_CRUN_STATE_ROOT": state_root, "EBCC_CRUN_RUN_DIR": run_root}


def settings_wrapper(directory, state_root, run_root, runtime):
    """A program that runs runtime with the handler's settings in its environment: how an
    engine that passes no environment of its own to the runtime (podman, containerd's shim)
    is given them. Named crun, in a directory of its own: podman allows --cgroups=disabled
    only for a runtime of that name."""
    os.makedirs(os.path.join(directory, "with-ebcc-settings"), exist_ok=True)
    path = os.path.join(directory, "with-ebcc-settings", "crun")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n" + "".join(f"export {k}={containers._quote(v)}\n" for k, v in
                                         settings_env(state_root, run_root).items()) +
                f"exec {containers._quote(runtime)} \"$@\"\n")
    os.chmod(path, 0o755)
    return path


class Crun(containers.Crun):
    """crun as containers.Crun runs it; in a sanitizer build, crun's environment (which the
    helper inherits) sends the helper's reports to files that assert_nothing_left reads (the
    helper's stderr is /dev/null). crun itself is not instrumented and ignores them."""

    def __init__(self, root, bundle):
        super().__init__(root)
        self.env = containers.runtime_env()
        self.env.update(dict(e.split("=", 1) for e in bundle.hook_env()))
        # The handler's settings come from crun's environment, never from the container.
        self.env.update(settings_env(bundle.state_root, bundle.run_root))

    def __call__(self, *args, stdin=b"", timeout=containers.RUNTIME_TIMEOUT):
        return containers.run(self.argv(*args), stdin=stdin, timeout=timeout, env=self.env)


class HandlerBundle(containers.HookedBundle):
    """A bundle whose container names the ebcc handler: no hooks, no bind mount of a socket
    directory (the handler mounts its own), the manifest named by annotation, and libebcc's
    state root and the handler's run directory in the scratch directory."""

    def __init__(self, cid):
        super().__init__(cid)
        self.run_root = os.path.join(self.dir, "crun-run")
        self.manifest = os.path.join(self.bundle, "ebcc.json")

    def write_config(self, args, env=(), handler=True, extra_annotations=None, run_tmpfs=False):
        super().write_config(args, env=env, hooks=False)
        path = os.path.join(self.bundle, "config.json")
        with open(path) as f:
            config = json.load(f)
        config["mounts"] = [m for m in config["mounts"] if m["destination"] != "/run/ebcc"]
        if run_tmpfs:  # as containerd's default spec has it
            config["mounts"].insert(1, {"destination": "/run", "type": "tmpfs", "source": "tmpfs",
                                        "options": ["nosuid", "nodev", "mode=755"]})
        annotations = {"org.example": "crun-handler"}
        if handler:
            annotations.update({"run.oci.handler": "ebcc", "org.ebcc.manifest": self.manifest})
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
    > /out/response1 2> /out/error1 || fail "call 1 failed: $(cat /out/error1)"
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
        reports = b.sanitizer_reports()
        if reports:
            with open(os.path.join(b.sanitizer_logs, reports[0])) as f:
                self.fail(f"sanitizer report from the helper: {f.read()[:4000]}")

    def verify_evidence(self, b, text, nonce, request, response):
        envelope = json.loads(text)
        self.assertEqual((envelope["instance"], envelope["stage"], envelope["nonce"]),
                         (b.cid, "echo", nonce))
        policy = containers.echo_policy(b.state_root, nonce, request, response)
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
        rt = Crun(b.runtime_root, b)
        rc, out, err = rt("list")
        self.assertEqual(rc, 0, err)
        self.assertEqual(rt.ids(), [])

    def test_a_container_without_the_annotation_runs_plain(self):
        b = self.scratch("plain")
        rt = Crun(b.runtime_root, b)
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
        self.run_one_call("run")

    def test_a_tmpfs_on_run_does_not_cover_the_socket(self):
        self.run_one_call("tmpfs", run_tmpfs=True)

    def run_one_call(self, tag, run_tmpfs=False):
        b = self.scratch(tag)
        rt = Crun(b.runtime_root, b)
        nonce = os.urandom(32).hex()
        b.write_manifest(tools=None)
        b.write_script(ONE_CALL_SCRIPT)
        b.write_config(["sh", "/check.sh"], env=[f"NONCE1={nonce}"], run_tmpfs=run_tmpfs)
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
        rt = Crun(b.runtime_root, b)
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
        # crun exec goes through the handler's exec_func; the new process is the container's.
        rc, out, err = rt("exec", b.cid, "sh", "-c",
                          f"printf later | ebcc-call {containers.SOCKET_IN_CONTAINER} echo")
        self.assertEqual((rc, out), (0, "later"), err)
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
        rt = Crun(b.runtime_root, b)
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

    def test_a_bad_setting_fails_creation_with_the_reason(self):
        b = self.scratch("setting")
        rt = Crun(b.runtime_root, b)
        b.write_manifest(tools=None)
        b.write_script(ONE_CALL_SCRIPT)
        b.write_config(["sh", "/check.sh"], env=["NONCE1=00"])
        rt.env["EBCC_CRUN_STATE_ROOT"] = "relative/root"
        self.containers.append((rt, b.cid))
        rc, _, err = rt("run", "--bundle", b.bundle, b.cid)
        self.assertNotEqual(rc, 0)
        self.assertIn('ebcc: EBCC_CRUN_STATE_ROOT: "relative/root" is not an absolute path', err)
        self.assertFalse(os.path.exists(os.path.join(b.out, "done")), "the container ran")
        self.assertFalse(os.path.exists(os.path.join(b.bundle, "relative")))
        self.assert_nothing_left(b, rt)

    def test_the_installed_plugin_names_the_installed_helper(self):
        if not PLUGIN_INSTALLED:
            self.skipTest("$EBCC_CRUN_PLUGIN_INSTALLED not set")
        with open(PLUGIN_INSTALLED, "rb") as f:
            self.assertRegex(f.read(), rb"/ebcc-crun-helper\0")


# ---- podman --------------------------------------------------------------------------------

def images_not_next_to_the_manifest():
    """None if this libebcc finds a stage image relative to the directory of an absolute
    manifest named by annotation (podman's bundle is podman's own directory: the images cannot
    be in it); else why not."""
    scratch = tempfile.mkdtemp(prefix="ebcc-crunh-probe-")
    try:
        bundle, other = os.path.join(scratch, "bundle"), os.path.join(scratch, "manifest")
        os.makedirs(os.path.join(bundle, "rootfs"))
        os.makedirs(other)
        shutil.copy(containers.ECHO_STAGE, os.path.join(other, "echo"))
        manifest = os.path.join(other, "ebcc.json")
        with open(manifest, "w") as f:
            json.dump({"ebccVersion": "0.1", "stages": [{"name": "echo", "image": "echo"}]}, f)
        with open(os.path.join(bundle, "config.json"), "w") as f:
            json.dump({"ociVersion": "1.0.2", "root": {"path": "rootfs"},
                       "process": {"args": ["true"], "cwd": "/"},
                       "annotations": {"org.ebcc.manifest": manifest}}, f)
        with ebcc.Context(state_root=os.path.join(scratch, "root"), anchor="external") as ctx:
            try:
                inst = ebcc.Instance.create(ctx, "probe", bundle)
            except ebcc.EbccError as e:
                return str(e)
            with inst:
                inst.delete(force=True)
            return None
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class Podman:
    """podman with a store of its own under directory, running crun unmanaged in a mount
    namespace with cgroup2 alone on /sys/fs/cgroup, as containers.Crun does."""

    def __init__(self, directory):
        self.global_args = ["--root", os.path.join(directory, "store"),
                            "--runroot", os.path.join(directory, "runroot"),
                            "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
                            "--events-backend", "none"]

    def __call__(self, *args, timeout=containers.RUNTIME_TIMEOUT):
        inner = " ".join(containers._quote(a) for a in
                         ["podman"] + self.global_args + [str(a) for a in args])
        return containers.run(["unshare", "-m", "sh", "-c",
                               "mount -t cgroup2 none /sys/fs/cgroup && exec " + inner],
                              timeout=timeout)


RUN_FLAGS = ["--cgroups=disabled", "--network", "none",
             "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"]


@unittest.skipIf(missing(), missing() or "")
@unittest.skipIf(shutil.which("podman") is None, "podman is not installed (Debian package podman)")
class PodmanTest(unittest.TestCase):
    image = "localhost/ebcc-crun-handler:test"

    @classmethod
    def setUpClass(cls):
        why = images_not_next_to_the_manifest()
        if why is not None:
            raise unittest.SkipTest("this libebcc does not find stage images next to an "
                                    "absolute manifest, and podman's bundle is its own "
                                    f"directory: {why}")
        if containers.crun_unusable(new_id("probe")) is not None:
            raise unittest.SkipTest("crun cannot run containers here")
        cls.dir = tempfile.mkdtemp(prefix="ebcc-crunh-podman-")
        cls.podman = Podman(cls.dir)
        # podman passes no environment of its own to the runtime: a wrapper gives crun the
        # handler's settings, as an operator would (or containers.conf's conmon_env_vars).
        cls.state_root = os.path.join(cls.dir, "ebcc-root")
        cls.run_root = os.path.join(cls.dir, "crun-run")
        cls.runtime = settings_wrapper(cls.dir, cls.state_root, cls.run_root,
                                       shutil.which("crun"))
        cls.guard = InstalledPlugin(PLUGIN, crun_handler_dir())
        try:
            rootfs = os.path.join(cls.dir, "rootfs")
            containers.make_rootfs(rootfs)
            tar = os.path.join(cls.dir, "rootfs.tar")
            subprocess.run(["tar", "-C", rootfs, "-cf", tar, "."], check=True)
            rc, _, err = cls.podman("import", tar, cls.image)
            if rc != 0:
                raise AssertionError(f"podman import: {err}")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        try:
            cls.podman("rm", "--all", "--force")
            cls.podman("rmi", "--all", "--force")
        finally:
            cls.guard.close()
            shutil.rmtree(cls.dir, ignore_errors=True)

    def setUp(self):
        self.scratch = tempfile.mkdtemp(prefix="ebcc-crunh-p-", dir=self.dir)
        self.out = os.path.join(self.scratch, "out")
        self.manifest = os.path.join(self.scratch, "ebcc.json")
        os.makedirs(self.out)
        os.chmod(self.out, 0o777)
        shutil.copy(containers.ECHO_STAGE, os.path.join(self.scratch, "echo"))
        self.names = []

    def tearDown(self):
        for name in self.names:
            self.podman("rm", "--force", name)

    def write_manifest(self, measurement=None):
        stage = {"name": "echo", "image": "echo"}
        if measurement:
            stage["measurement"] = measurement
        with open(self.manifest, "w") as f:
            json.dump({"ebccVersion": "0.1", "stages": [stage]}, f)

    def run_container(self, script, env=(), handler=True):
        name = new_id("podman")
        self.names.append(name)
        with open(os.path.join(self.out, "check.sh"), "w") as f:
            f.write(script)
        args = (["run", "--rm", "--name", name, "--runtime", self.runtime] + RUN_FLAGS +
                ["-v", f"{self.out}:/out"])
        if handler:
            for a in ("run.oci.handler=ebcc", f"org.ebcc.manifest={self.manifest}"):
                args += ["--annotation", a]
        for e in env:
            args += ["-e", e]
        return self.podman(*args, self.image, "sh", "/out/check.sh")

    def composites(self):
        if not os.path.exists(self.state_root):
            return []
        with ebcc.Context(state_root=self.state_root) as ctx:
            return json.loads(ebcc.list_instances(ctx))

    def assert_nothing_left(self):
        wait_until(lambda: not self.composites() and
                   not containers.processes_mentioning(self.scratch), 30)
        self.assertEqual(self.composites(), [])
        self.assertEqual(os.listdir(self.run_root) if os.path.exists(self.run_root) else [], [])
        self.assertEqual(containers.processes_mentioning(self.scratch), [])
        rc, out, err = self.podman("ps", "--all", "--quiet")
        self.assertEqual((rc, out.strip()), (0, ""), err)

    def test_podman_run_calls_the_stage(self):
        nonce = os.urandom(32).hex()
        self.write_manifest()
        rc, out, err = self.run_container(ONE_CALL_SCRIPT,
                                          env=[f"NONCE1={nonce}"])
        failed = os.path.join(self.out, "failed")
        if os.path.exists(failed):
            with open(failed) as f:
                self.fail(f"the container says: {f.read()}")
        self.assertEqual(rc, 0, f"podman run: {err}")
        with open(os.path.join(self.out, "evidence1.json")) as f:
            text = f.read()
        policy = containers.echo_policy(self.state_root, nonce, b"hello, stage", b"hello, stage")
        with ebcc.Context() as ctx, ebcc.Evidence.parse(ctx, text) as ev:
            ev.verify(ctx, policy)
        self.assert_nothing_left()

    def test_podman_wrong_pin_fails_with_the_reason(self):
        self.write_manifest(measurement="sha256:" + "0" * 64)
        rc, _, err = self.run_container(ONE_CALL_SCRIPT, env=["NONCE1=00"])
        self.assertNotEqual(rc, 0)
        self.assertRegex(err, r"ebcc: create composite [^\n]*but the manifest pins")
        self.assertFalse(os.path.exists(os.path.join(self.out, "done")))
        self.assert_nothing_left()

    def test_podman_without_the_annotation_runs_plain(self):
        rc, _, err = self.run_container(PLAIN_SCRIPT, handler=False)
        self.assertEqual(rc, 0, err)
        self.assertTrue(os.path.exists(os.path.join(self.out, "done")))
        self.assertFalse(os.path.exists(os.path.join(self.out, "failed")))
        # No socket directory was made for it (earlier tests may have made the run directory).
        self.assertEqual(os.listdir(self.run_root) if os.path.exists(self.run_root) else [], [])


# ---- containerd: ctr run through the runc shim, with crun as its runc binary ---------------

def containerd_missing():
    for program in ("containerd", "ctr", "containerd-shim-runc-v2"):
        if shutil.which(program) is None:
            return f"{program} is not installed (Debian package containerd)"
    for name in ("Containerd", "image_rootfs", "oci_archive"):
        if not hasattr(containers, name):
            return f"containers.py has no {name} (the containerd test helpers)"
    return None


CTR_SCRIPT = """
S=/run/ebcc/ebcc.sock
fail() { echo "$*" > /out/failed; exit 1; }
printf 'from ctr' | ebcc-call $S echo --nonce "$NONCE" --evidence /out/evidence.json \\
    > /out/response 2> /out/error || fail "the call failed: $(cat /out/error)"
[ "$(cat /out/response)" = "from ctr" ] || fail "the response is $(cat /out/response)"
touch /out/done
"""


@unittest.skipIf(missing(), missing() or "")
@unittest.skipIf(containerd_missing(), containerd_missing() or "")
class ContainerdTest(unittest.TestCase):
    image = "localhost/ebcc-crun-handler:1"
    namespace = f"ebcc-crunh-{uuid.uuid4().hex[:8]}"

    @classmethod
    def setUpClass(cls):
        why = images_not_next_to_the_manifest()
        if why is not None:
            raise unittest.SkipTest("this libebcc does not find stage images next to an "
                                    f"absolute manifest: {why}")
        if containers.crun_unusable(new_id("probe")) is not None:
            raise unittest.SkipTest("crun cannot run containers here")
        cls.dir = tempfile.mkdtemp(prefix="ebcc-crunh-ctr-")
        # What --runc-binary names: crun, unmanaged, in a cgroup2-only mount namespace.
        cls.state_root = os.path.join(cls.dir, "ebcc-root")
        cls.run_root = os.path.join(cls.dir, "crun-run")
        cls.binary = settings_wrapper(cls.dir, cls.state_root, cls.run_root,
                                      containers.Crun(None).low_level(cls.dir))
        cls.containerd = containers.Containerd(cls.dir)
        cls.guard = InstalledPlugin(PLUGIN, crun_handler_dir())
        try:
            cls.containerd.start()
            rootfs = containers.image_rootfs(cls.dir)
            archive = containers.oci_archive(rootfs, os.path.join(cls.dir, "image.tar"),
                                             cls.image)
            rc, _, err = cls.ctr("image", "import", archive)
            if rc != 0:
                raise AssertionError(f"ctr image import: {err}")
        except BaseException:
            cls.cleanup()
            raise

    @classmethod
    def ctr(cls, *args):
        return cls.containerd.ctr(*args, namespace=cls.namespace)

    @classmethod
    def cleanup(cls):
        try:
            if cls.containerd.proc is not None and cls.containerd.proc.poll() is None:
                for cid in cls.ctr("containers", "list", "--quiet")[1].split():
                    cls.ctr("task", "kill", "--signal", "KILL", cid)
                    wait_until(lambda: cls.ctr("task", "delete", cid)[0] != 0, 10)
                    cls.ctr("container", "rm", cid)
                for ref in cls.ctr("images", "list", "--quiet")[1].split():
                    cls.ctr("images", "rm", "--sync", ref)
                cls.ctr("namespaces", "remove", cls.namespace)
            cls.containerd.stop()
            runc_root = os.path.join("/run/containerd/runc", cls.namespace)
            if os.path.isdir(runc_root) and not os.listdir(runc_root):
                os.rmdir(runc_root)
        finally:
            cls.guard.close()
            shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        cls.cleanup()

    def setUp(self):
        self.scratch = tempfile.mkdtemp(prefix="ebcc-crunh-c-", dir=self.dir)
        self.out = os.path.join(self.scratch, "out")
        self.manifest = os.path.join(self.scratch, "ebcc.json")
        os.makedirs(self.out)
        os.chmod(self.out, 0o777)
        shutil.copy(containers.ECHO_STAGE, os.path.join(self.scratch, "echo"))

    def write_manifest(self, measurement=None):
        stage = {"name": "echo", "image": "echo"}
        if measurement:
            stage["measurement"] = measurement
        with open(self.manifest, "w") as f:
            json.dump({"ebccVersion": "0.1", "stages": [stage]}, f)

    def ctr_run(self, cid, nonce):
        args = ["run", "--rm", "--null-io", "--runc-binary", self.binary,
                "--mount", f"type=bind,src={self.out},dst=/out,options=rbind:rw",
                "--env", f"NONCE={nonce}"]
        for a in ("run.oci.handler=ebcc", f"org.ebcc.manifest={self.manifest}"):
            args += ["--annotation", a]
        return self.ctr(*args, self.image, cid, "sh", "-c", CTR_SCRIPT)

    def composites(self):
        if not os.path.exists(self.state_root):
            return []
        with ebcc.Context(state_root=self.state_root) as ctx:
            return json.loads(ebcc.list_instances(ctx))

    def assert_nothing_left(self, cid):
        wait_until(lambda: not self.composites() and
                   not containers.processes_mentioning(self.scratch), 30)
        self.assertEqual(self.composites(), [])
        self.assertEqual(os.listdir(self.run_root) if os.path.exists(self.run_root) else [], [])
        self.assertEqual(containers.processes_mentioning(self.scratch), [])
        self.assertNotIn(cid, self.ctr("containers", "list", "--quiet")[1].split())

    def test_ctr_run_calls_the_stage(self):
        cid = new_id("ctr")
        nonce = os.urandom(32).hex()
        self.write_manifest()
        rc, out, err = self.ctr_run(cid, nonce)
        failed = os.path.join(self.out, "failed")
        if os.path.exists(failed):
            with open(failed) as f:
                self.fail(f"the container says: {f.read()}")
        self.assertEqual(rc, 0, f"ctr run: {err}")
        self.assertTrue(os.path.exists(os.path.join(self.out, "done")))
        with open(os.path.join(self.out, "evidence.json")) as f:
            text = f.read()
        policy = containers.echo_policy(self.state_root, nonce, b"from ctr", b"from ctr")
        with ebcc.Context() as ctx, ebcc.Evidence.parse(ctx, text) as ev:
            ev.verify(ctx, policy)
        self.assert_nothing_left(cid)

    def test_ctr_wrong_pin_fails_with_the_reason(self):
        cid = new_id("ctrpin")
        self.write_manifest(measurement="sha256:" + "0" * 64)
        rc, _, err = self.ctr_run(cid, "00")
        self.assertNotEqual(rc, 0)
        self.assertRegex(err, r"ebcc: create composite [^\n]*but the manifest pins")
        self.assertFalse(os.path.exists(os.path.join(self.out, "done")))
        self.ctr("container", "rm", cid)
        self.assert_nothing_left(cid)


# ---- benchmark: meson test --benchmark crun-handler -------------------------------------------

def library_lifecycle(b, cid):
    """Seconds for the composite's own lifecycle through libebcc, without crun: what the
    handler cannot save, since its helper does exactly this."""
    anchor = subprocess.Popen(["sleep", "60"])
    try:
        start = time.monotonic()
        with ebcc.Context(state_root=b.state_root, anchor="external") as ctx:
            with ebcc.Instance.create(ctx, cid, b.bundle) as inst:
                inst.set_pid(anchor.pid)
                inst.start()
                anchor.kill()
                anchor.wait()
                inst.delete(force=True)
        return time.monotonic() - start
    finally:
        if anchor.poll() is None:
            anchor.kill()
            anchor.wait()


def benchmark(rounds=21):
    """`crun run` of a one-stage composite through the handler against plain `crun run` of the
    same bundle (the annotation removed), interleaved; prints the medians and their ratio."""
    import statistics
    why = missing() or containers.crun_unusable(new_id("probe"))
    if why:
        print(f"crun-handler benchmark skipped: {why}")
        return 0
    guard = InstalledPlugin(PLUGIN, crun_handler_dir())
    b = HandlerBundle(new_id("bench"))
    try:
        rt = Crun(b.runtime_root, b)
        b.write_manifest(tools=None)
        times = {"handler": [], "plain": []}
        for i in range(rounds):
            for kind in ("handler", "plain") if i % 2 == 0 else ("plain", "handler"):
                b.write_config(["true"], handler=kind == "handler")
                cid = f"{b.cid}-{i}-{kind}"
                start = time.monotonic()
                rc, _, err = rt("run", "--bundle", b.bundle, cid)
                elapsed = time.monotonic() - start
                if rc != 0:
                    raise SystemExit(f"crun run ({kind}): {err}")
                times[kind].append(elapsed)
                # Not timed: the helper's removal of the composite after crun returns.
                wait_until(lambda: not containers.processes_mentioning(b.dir), 10)
            times.setdefault("library", []).append(library_lifecycle(b, f"{b.cid}-{i}-lib"))
        med = {k: statistics.median(v) * 1000 for k, v in times.items()}
        print(f"crun run, plain:            median {med['plain']:.1f} ms over {rounds}")
        print(f"crun run, handler ebcc:     median {med['handler']:.1f} ms over {rounds} "
              "(one sim stage: composite created, stage loaded and served)")
        print(f"ratio handler/plain:        {med['handler'] / med['plain']:.3f} (target <= 1.15)")
        print(f"the library alone:          median {med['library']:.1f} ms (create, set_pid, "
              "start, kill, delete of the same composite from this process)")
        print(f"handler - plain - library:  {med['handler'] - med['plain'] - med['library']:.1f}"
              " ms (the helper, its socket and the handshake with crun's init)")
    finally:
        guard.close()
        b.remove()
    return 0


if __name__ == "__main__":
    import sys
    if sys.argv[1:] == ["--benchmark"]:
        sys.exit(benchmark())
    unittest.main()
