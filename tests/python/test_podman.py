# SPDX-License-Identifier: MIT
"""Composites under podman, two ways: its default runtime (crun here) with ebcc-oci-hook from
the hooks.d entry 50-ebcc.json (precreate mounts a socket directory made for the container,
createRuntime loads the stages, poststop removes all of it), and `podman --runtime
ebcc-runtime` in front of runc. podman runs with a private storage (--root, --runroot,
--tmpdir) and hooks directory (--hooks-dir), and leaves no image or container behind.

In each way: a container calls its stage with ebcc-call and a nonce, and the evidence
verifies offline on the host; a wrong pinned measurement fails the container's creation with
the reason on podman's stderr, leaving nothing; two containers of one manifest run at once,
each reaching only its own composite; a container without the annotation is untouched; a stage
shipped in the image works (rootfs:); after `podman rm` nothing of the composite remains.
"""
import hashlib
import json
import os
import shutil
import tempfile
import unittest
import uuid

import containers
import ebcc
from bundles import wait_until

RUNTIME = containers.RUNTIME
HOOK = containers.HOOK
HOOKS_D_FILE = os.environ.get("EBCC_HOOKS_D_FILE")
IMAGE = "localhost/ebcc-test:1"

CALL_SCRIPT = containers.CALL_SCRIPT


def missing():
    for program in ("podman", "conmon", "crun", "runc", "unshare", "nsenter"):
        if shutil.which(program) is None:
            return f"{program} is not installed (Debian packages podman, conmon, crun, runc)"
    if not HOOKS_D_FILE or not os.path.exists(HOOKS_D_FILE):
        return "$EBCC_HOOKS_D_FILE names no generated hooks.d entry"
    if not HOOK or not os.access(HOOK, os.X_OK):
        return "$EBCC_OCI_HOOK names no built program"
    return containers.missing_prerequisites("runc", ("EBCC_RUNTIME", RUNTIME))


class Base:
    @classmethod
    def setUpClass(cls):
        why = missing()
        if why is not None:
            raise unittest.SkipTest(why)
        cls.dir = tempfile.mkdtemp(prefix="ebcc-podman-")
        cls.hook_root = os.path.join(cls.dir, "hook-root")
        cls.hook_run = os.path.join(cls.dir, "hook-run")
        cls.rt_run = os.path.join(cls.dir, "rt-run")
        cls.rt_root = os.path.join(cls.dir, "rt-state")
        cls.hooks_dir = os.path.join(cls.dir, "hooks.d")
        cls.no_hooks = os.path.join(cls.dir, "no-hooks.d")
        os.makedirs(cls.hooks_dir)
        os.makedirs(cls.no_hooks)
        cls.write_hooks_d()
        cls.podman = containers.Podman(os.path.join(cls.dir, "podman"),
                                       cls.hooks_dir if cls.hooked else cls.no_hooks)
        try:
            rootfs = containers.image_rootfs(cls.dir, containers.echo_in_image())
            tar = containers.rootfs_tar(rootfs, os.path.join(cls.dir, "rootfs.tar"))
            rc, _, err = cls.podman("import", tar, IMAGE, cgroup2=False)
            if rc != 0:
                raise AssertionError(f"podman import: {err}")
            cls.manifest = containers.stage_manifest(os.path.join(cls.dir, "host"))
        except BaseException:
            cls.cleanup()
            raise

    @classmethod
    def write_hooks_d(cls):
        """The installed entry, with the built hook and the test's state root and run
        directory: everything else as generated from the template."""
        with open(HOOKS_D_FILE) as f:
            entry = json.load(f)
        assert entry["hook"]["args"] == ["ebcc-oci-hook", "auto"], entry
        entry["hook"]["path"] = HOOK
        entry["hook"]["args"] = ["ebcc-oci-hook", "--root", cls.hook_root,
                                 "--run-dir", cls.hook_run, "auto"]
        with open(os.path.join(cls.hooks_dir, "50-ebcc.json"), "w") as f:
            json.dump(entry, f)

    @classmethod
    def cleanup(cls):
        cls.podman.remove_all()
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        cls.cleanup()

    def setUp(self):
        self.out = tempfile.mkdtemp(prefix="out-", dir=self.dir)
        os.chmod(self.out, 0o777)

    def tearDown(self):
        self.podman("rm", "--all", "--force", "--time", "0", cgroup2=False)

    def run_args(self, name, nonce, annotation=None, wait=False, cid=None):
        args = ["run", "--name", cid or f"{name}-{uuid.uuid4().hex[:8]}"]
        args += containers.Podman.RUN_OPTIONS + self.run_options
        if annotation is not None:
            args += ["--annotation", f"org.ebcc.manifest={annotation}"]
        args += ["--volume", f"{self.out}:/out", "--env", f"NAME={name}",
                 "--env", f"NONCE={nonce}"]
        if wait:
            args += ["--env", "WAIT=1", "--detach"]
        return args + [IMAGE, "sh", "-c", CALL_SCRIPT]

    def pm(self, *args):
        return self.podman(*args, runtime_args=self.runtime_args, cgroup2=self.cgroup2)

    def out_file(self, name):
        with open(os.path.join(self.out, name)) as f:
            return f.read()

    def container_id(self, name):
        rc, out, err = self.podman("inspect", "--format", "{{.Id}}", name, cgroup2=False)
        self.assertEqual(rc, 0, err)
        return out.strip()

    def composites(self):
        if not os.path.exists(self.state_root):
            return []
        with ebcc.Context(state_root=self.state_root) as ctx:
            return [c["id"] for c in json.loads(ebcc.list_instances(ctx))]

    def assert_called(self, name, cid, nonce):
        if os.path.exists(os.path.join(self.out, name + ".failed")):
            self.fail(f"container {name}: {self.out_file(name + '.failed')}")
        self.assertEqual(self.out_file(name + ".response"), f"from {name}")
        self.assertEqual(self.out_file(name + ".ls").split(), ["ebcc.sock"])
        containers.verify_offline(self, self.state_root,
                                  os.path.join(self.out, name + ".evidence"), nonce, cid,
                                  self.dir)

    def wait_ready(self, name):
        self.assertTrue(wait_until(lambda: any(
            os.path.exists(os.path.join(self.out, name + s)) for s in (".ready", ".failed"))))

    def assert_nothing_left(self):
        self.assertEqual(self.composites(), [], "a composite is left")
        for d in self.leftover_dirs:
            self.assertEqual(os.listdir(d) if os.path.exists(d) else [], [], f"{d} is not empty")
        for d in (self.hook_run, self.rt_run):
            self.assertTrue(wait_until(lambda: not containers.processes_mentioning(d)),
                            f"left running: {containers.processes_mentioning(d)}")
        self.assertEqual([m for m in containers.mounts_under(self.dir) if "/sockets/" in m], [])

    def test_a_container_calls_its_stage_and_rm_leaves_nothing(self):
        nonce = os.urandom(32).hex()
        rc, _, err = self.pm(*self.run_args("one", nonce, self.manifest, cid="ebcc-one"))
        self.assertEqual(rc, 0, err)
        cid = self.container_id("ebcc-one")
        self.assert_called("one", cid, nonce)
        rc, _, err = self.podman("rm", "ebcc-one", cgroup2=False)
        self.assertEqual(rc, 0, err)
        self.assert_nothing_left()

    def test_a_wrong_pin_fails_creation_with_the_reason(self):
        bad = containers.stage_manifest(os.path.join(self.dir, "host"), pin="sha256:" + "0" * 64,
                                        name="pinned.json")
        reason = (r"stage echo: image [^\n]* but the manifest pins sha256:0{64} "
                  r"\(EBCC_ERR_VERIFY\)")
        rc, _, err = self.pm(*self.run_args("pin", "00", bad, cid="ebcc-pin"))
        self.assertNotEqual(rc, 0)
        self.assert_reason(err, reason)
        self.assertFalse(os.path.exists(os.path.join(self.out, "pin.ls")), "the container ran")
        self.podman("rm", "--force", "ebcc-pin", cgroup2=False)
        self.assert_nothing_left()

    def assert_reason(self, err, reason):
        self.assertRegex(err, reason)

    def test_two_containers_of_one_manifest_reach_only_their_own(self):
        nonces = {name: os.urandom(32).hex() for name in ("a", "b")}
        for name in nonces:
            rc, _, err = self.pm(*self.run_args(name, nonces[name], self.manifest, wait=True,
                                                cid=f"ebcc-two-{name}"))
            self.assertEqual(rc, 0, err)
        ids = {name: self.container_id(f"ebcc-two-{name}") for name in nonces}
        for name in nonces:
            self.wait_ready(name)
            self.assert_called(name, ids[name], nonces[name])
        sockets = {name: self.socket_of(ids[name]) for name in nonces}
        self.assertNotEqual(sockets["a"], sockets["b"])
        rc, out, _ = self.podman("inspect", "--format", "{{.State.Pid}}", "ebcc-two-a",
                                 cgroup2=False)
        rc, out, err = containers.run(
            ["nsenter", "--target", out.strip(), "--pid", "--", containers.CALL,
             os.path.join(sockets["b"], "ebcc.sock"), "echo"], stdin=b"x")
        self.assertNotEqual(rc, 0)
        self.assertIn("is not a process of this container", err)
        open(os.path.join(self.out, "finish"), "w").close()
        for name in nonces:
            rc, _, err = self.podman("wait", f"ebcc-two-{name}", cgroup2=False)
            self.assertEqual(rc, 0, err)
            rc, _, err = self.podman("rm", f"ebcc-two-{name}", cgroup2=False)
            self.assertEqual(rc, 0, err)
        self.assert_nothing_left()

    def test_a_container_without_the_annotation_is_untouched(self):
        # The image's /run/ebcc is an empty directory: no socket is mounted there.
        rc, out, err = self.pm("run", "--rm", *containers.Podman.RUN_OPTIONS, *self.run_options,
                               IMAGE, "sh", "-c", "ls /run/ebcc; echo ran")
        self.assertEqual((rc, out), (0, "ran\n"), err)
        self.assert_nothing_left()

    def test_a_stage_shipped_in_the_image(self):
        nonce = os.urandom(32).hex()
        rc, _, err = self.pm(*self.run_args("img", nonce, "rootfs:/ebcc/ebcc.json",
                                            cid="ebcc-img"))
        self.assertEqual(rc, 0, err)
        self.assert_called("img", self.container_id("ebcc-img"), nonce)
        rc, _, err = self.podman("rm", "ebcc-img", cgroup2=False)
        self.assertEqual(rc, 0, err)
        self.assert_nothing_left()


class HooksDTest(Base, unittest.TestCase):
    """podman's default runtime (crun, unmanaged in a cgroup2-only mount namespace) and the
    hooks.d entry."""

    hooked = True
    runtime_args = ()
    run_options = ["--cgroups", "disabled"]
    cgroup2 = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.state_root = cls.hook_root
        cls.leftover_dirs = [os.path.join(cls.hook_run, "sockets")]

    def socket_of(self, cid):
        with open(os.path.join(self.hook_run, f"id-{cid}.json")) as f:
            return json.load(f)["socketDir"]

    def run_args(self, name, nonce, annotation=None, wait=False, cid=None):
        args = super().run_args(name, nonce, annotation, wait, cid)
        # crun keeps a hook's stderr to itself unless this annotation names a file.
        self.hook_stderr = os.path.join(self.out, "hook-stderr")
        args[1:1] = ["--annotation", f"run.oci.hooks.stderr={self.hook_stderr}"]
        return args

    def pm(self, *args):
        rc, out, err = super().pm(*args)
        if rc != 0 and os.path.exists(self.hook_stderr):
            with open(self.hook_stderr) as f:
                err += f"(the hooks' stderr: {f.read()})"
        return rc, out, err

    def assert_reason(self, err, reason):
        self.assertIn("error executing hook", err)
        with open(self.hook_stderr) as f:
            self.assertRegex(f.read(), "ebcc-oci-hook: [^\n]*" + reason)

    def test_a_wrong_pin_under_runc_shows_the_reason(self):
        # runc puts a failing hook's stderr into its error, which podman shows.
        bad = containers.stage_manifest(os.path.join(self.dir, "host"), pin="sha256:" + "0" * 64,
                                        name="pinned.json")
        args = super().run_args("runc-pin", "00", bad, cid="ebcc-runc-pin")
        args = [a for a in args if a not in ("--cgroups", "disabled")]
        rc, _, err = self.podman("--runtime", "runc", *args, cgroup2=False)
        self.assertNotEqual(rc, 0)
        self.assertRegex(err, r"stderr: ebcc-oci-hook: [^\n]*stage echo: image [^\n]* but the "
                              r"manifest pins sha256:0{64} \(EBCC_ERR_VERIFY\)")
        self.podman("rm", "--force", "ebcc-runc-pin", cgroup2=False)
        self.assert_nothing_left()

    def test_ebcc_runtime_leaves_a_hooked_container_to_the_hook(self):
        # Both installed: precreate named the socket directory, so ebcc-runtime passes the
        # container through and the hook alone makes the composite.
        rt_run = os.path.join(self.dir, "rt-run-unused")
        wrapper = os.path.join(self.dir, "ebcc-runtime-hooked")
        with open(wrapper, "w") as f:
            f.write(f"#!/bin/sh\nexec {RUNTIME} --run-dir {rt_run} --state-root "
                    f"{rt_run}/state --low-level-runtime runc \"$@\"\n")
        os.chmod(wrapper, 0o755)
        nonce = os.urandom(32).hex()
        args = super().run_args("both", nonce, self.manifest, cid="ebcc-both")
        args = [a for a in args if a not in ("--cgroups", "disabled")]
        rc, _, err = self.podman("--runtime", wrapper, *args, cgroup2=False)
        self.assertEqual(rc, 0, err)
        self.assert_called("both", self.container_id("ebcc-both"), nonce)
        self.assertFalse(os.path.exists(rt_run), "ebcc-runtime made a composite as well")
        rc, _, err = self.podman("rm", "ebcc-both", cgroup2=False)
        self.assertEqual(rc, 0, err)
        self.assert_nothing_left()

    def assert_nothing_left(self):
        # The sockets directory itself stays, empty.
        self.assertEqual(self.composites(), [], "a composite is left")
        self.assertEqual([n for n in os.listdir(self.hook_run) if n != "sockets"]
                         if os.path.exists(self.hook_run) else [], [], "a hook record is left")
        sockets = os.path.join(self.hook_run, "sockets")
        self.assertEqual(os.listdir(sockets) if os.path.exists(sockets) else [], [],
                         "a socket directory is left")
        self.assertTrue(wait_until(lambda: not containers.processes_mentioning(self.hook_run)),
                        f"left running: {containers.processes_mentioning(self.hook_run)}")
        self.assertEqual([m for m in containers.mounts_under(self.dir) if "/sockets/" in m], [])


class RuntimeTest(Base, unittest.TestCase):
    """podman --runtime ebcc-runtime (runc below it), no hooks."""

    hooked = False
    run_options = []
    cgroup2 = False

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The runtime's own directories for the test: podman keeps the runtime's path with
        # the container (rm uses it too) but not --runtime-flag, so a script sets them.
        wrapper = os.path.join(cls.dir, "ebcc-runtime-test")
        with open(wrapper, "w") as f:
            f.write(f"#!/bin/sh\nexec {RUNTIME} --run-dir {cls.rt_run} --state-root "
                    f"{cls.rt_root} --low-level-runtime runc \"$@\"\n")
        os.chmod(wrapper, 0o755)
        cls.runtime_args = ["--runtime", wrapper]
        cls.state_root = cls.rt_root
        cls.leftover_dirs = [os.path.join(cls.rt_run, "sockets"),
                             os.path.join(cls.rt_run, "brokers")]

    def socket_of(self, cid):
        # podman gives a runtime named by its path no --root.
        key = hashlib.sha256(b"\0" + cid.encode()).hexdigest()[:32]
        return os.path.join(self.rt_run, "sockets", key)


del Base

if __name__ == "__main__":
    unittest.main()
