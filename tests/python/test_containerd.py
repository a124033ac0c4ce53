# SPDX-License-Identifier: MIT
"""ebcc-runtime under containerd: `ctr run --runc-binary ebcc-runtime` through the runc shim
(io.containerd.runc.v2), against a private containerd (its CRI plugin disabled; root, state
and socket in a scratch directory) holding an OCI archive of a busybox-static image.

A container calls its stage with ebcc-call and a nonce, and the evidence verifies offline on
the host; a wrong pinned measurement fails `ctr run` with the reason, read by the shim from
ebcc-runtime's JSON log, and leaves nothing; two containers of one manifest run at once, each
reaching only its own composite; the same id in two containerd namespaces is two composites; a
container without the annotation is untouched; a stage shipped in the image (rootfs:) works;
after `ctr task delete` and `ctr container rm` nothing of the composite remains.
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
IMAGE = "localhost/ebcc-test:1"
RUNC_ROOT = "/run/containerd/runc"  # the shim's runc --root, one directory per namespace

CALL_SCRIPT = containers.CALL_SCRIPT


def missing():
    for program in ("containerd", "ctr", "runc"):
        if shutil.which(program) is None:
            return f"{program} is not installed (Debian packages containerd, runc)"
    return containers.missing_prerequisites("runc", ("EBCC_RUNTIME", RUNTIME))


class ContainerdTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        why = missing()
        if why is not None:
            raise unittest.SkipTest(why)
        cls.dir = tempfile.mkdtemp(prefix="ebcc-ctr-")
        cls.run_dir = os.path.join(cls.dir, "rt-run")
        cls.namespaces = []
        # ebcc-runtime with a run directory of the test's: what --runc-binary names.
        cls.binary = os.path.join(cls.dir, "ebcc-runtime-test")
        with open(cls.binary, "w") as f:
            f.write(f"#!/bin/sh\nexec {RUNTIME} --run-dir {cls.run_dir} \"$@\"\n")
        os.chmod(cls.binary, 0o755)
        cls.containerd = containers.Containerd(cls.dir)
        try:
            cls.containerd.start()
            rootfs = containers.image_rootfs(cls.dir, containers.echo_in_image())
            archive = containers.oci_archive(rootfs, os.path.join(cls.dir, "image.tar"), IMAGE)
            cls.namespace = cls.new_namespace()
            rc, _, err = cls.containerd.ctr("image", "import", archive, namespace=cls.namespace)
            if rc != 0:
                raise AssertionError(f"ctr image import: {err}")
            cls.manifest = containers.stage_manifest(os.path.join(cls.dir, "host"))
        except BaseException:
            cls.cleanup()
            raise

    @classmethod
    def new_namespace(cls):
        ns = f"ebcc-test-{uuid.uuid4().hex[:8]}"
        cls.namespaces.append(ns)
        return ns

    @classmethod
    def cleanup(cls):
        ctr = cls.containerd.ctr
        if cls.containerd.proc is not None and cls.containerd.proc.poll() is None:
            for ns in cls.namespaces:
                rc, out, _ = ctr("containers", "list", "--quiet", namespace=ns)
                for cid in out.split():
                    ctr("task", "kill", "--signal", "KILL", cid, namespace=ns)
                    wait_until(lambda: ctr("task", "delete", cid, namespace=ns)[0] != 0 or
                               ctr("task", "list", namespace=ns)[1].count(cid) == 0, 10)
                    ctr("container", "rm", cid, namespace=ns)
                rc, out, _ = ctr("images", "list", "--quiet", namespace=ns)
                for ref in out.split():
                    ctr("images", "rm", "--sync", ref, namespace=ns)
                ctr("namespaces", "remove", ns, namespace=ns)
        cls.containerd.stop()
        for ns in cls.namespaces:
            d = os.path.join(RUNC_ROOT, ns)
            if os.path.isdir(d) and not os.listdir(d):
                os.rmdir(d)
        shutil.rmtree(cls.dir, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        cls.cleanup()

    def setUp(self):
        self.out = tempfile.mkdtemp(prefix="out-", dir=self.dir)
        os.chmod(self.out, 0o777)

    def ctr(self, *args, namespace=None):
        return self.containerd.ctr(*args, namespace=namespace or self.namespace)

    def run_args(self, cid, name, nonce, annotation=None, wait=False, runtime=True):
        args = ["run", "--null-io"]
        if runtime:
            args += ["--runc-binary", self.binary]
        if annotation is not None:
            args += ["--annotation", f"org.ebcc.manifest={annotation}"]
        args += ["--mount", f"type=bind,src={self.out},dst=/out,options=rbind:rw",
                 "--env", f"NAME={name}", "--env", f"NONCE={nonce}"]
        if wait:
            args += ["--env", "WAIT=1", "--detach"]
        else:
            args += ["--rm"]
        return args + [IMAGE, cid, "sh", "-c", CALL_SCRIPT]

    def out_file(self, name):
        with open(os.path.join(self.out, name)) as f:
            return f.read()

    def state_root(self, namespace=None):
        root = os.path.join(RUNC_ROOT, namespace or self.namespace)
        return os.path.join(self.run_dir, "roots",
                            hashlib.sha256(root.encode() + b"\0").hexdigest()[:32])

    def socket_dir(self, cid, namespace=None):
        root = os.path.join(RUNC_ROOT, namespace or self.namespace)
        key = hashlib.sha256(root.encode() + b"\0" + cid.encode()).hexdigest()[:32]
        return os.path.join(self.run_dir, "sockets", key)

    def composites(self, namespace=None):
        root = self.state_root(namespace)
        if not os.path.exists(root):
            return []
        with ebcc.Context(state_root=root) as ctx:
            return [c["id"] for c in json.loads(ebcc.list_instances(ctx))]

    def assert_called(self, name, cid, nonce, namespace=None):
        if os.path.exists(os.path.join(self.out, name + ".failed")):
            self.fail(f"container {name}: {self.out_file(name + '.failed')}")
        self.assertEqual(self.out_file(name + ".response"), f"from {name}")
        self.assertEqual(self.out_file(name + ".ls").split(), ["ebcc.sock"])
        evidence = os.path.join(self.out, name + ".evidence")
        containers.verify_offline(self, self.state_root(namespace), evidence, nonce, cid,
                                  self.dir)

    def assert_nothing_left(self, *namespaces):
        for ns in namespaces or (self.namespace,):
            self.assertEqual(self.ctr("containers", "list", "--quiet", namespace=ns)[1], "")
            self.assertEqual(self.composites(ns), [], "a composite is left")
        for sub in ("sockets", "brokers"):
            d = os.path.join(self.run_dir, sub)
            self.assertEqual(os.listdir(d) if os.path.exists(d) else [], [],
                             f"{sub} of ebcc-runtime's run directory are left")
        self.assertTrue(wait_until(lambda: not containers.processes_mentioning(self.run_dir)),
                        f"left running: {containers.processes_mentioning(self.run_dir)}")
        self.assertEqual([m for m in containers.mounts_under(self.dir) if "/sockets/" in m], [])

    def delete(self, cid, namespace=None):
        ns = namespace or self.namespace
        self.assertTrue(wait_until(lambda: any(
            l.split()[:1] == [cid] and l.split()[-1] == "STOPPED"
            for l in self.ctr("task", "list", namespace=ns)[1].splitlines())))
        rc, _, err = self.ctr("task", "delete", cid, namespace=ns)
        self.assertEqual(rc, 0, err)
        rc, _, err = self.ctr("container", "rm", cid, namespace=ns)
        self.assertEqual(rc, 0, err)

    def test_a_container_calls_its_stage(self):
        cid, nonce = "call-" + uuid.uuid4().hex[:8], os.urandom(32).hex()
        rc, out, err = self.ctr(*self.run_args(cid, "one", nonce, self.manifest))
        self.assertEqual(rc, 0, err)
        self.assert_called("one", cid, nonce)
        self.assert_nothing_left()

    def test_task_delete_and_container_rm_leave_nothing(self):
        cid, nonce = "keep-" + uuid.uuid4().hex[:8], os.urandom(32).hex()
        rc, _, err = self.ctr(*self.run_args(cid, "kept", nonce, self.manifest, wait=True))
        self.assertEqual(rc, 0, err)
        self.assertTrue(wait_until(lambda: os.path.exists(os.path.join(self.out, "kept.ready"))
                                   or os.path.exists(os.path.join(self.out, "kept.failed"))))
        self.assert_called("kept", cid, nonce)
        self.assertEqual(self.composites(), [cid])
        self.assertTrue(os.path.exists(os.path.join(self.socket_dir(cid), "ebcc.sock")))
        open(os.path.join(self.out, "finish"), "w").close()
        self.delete(cid)
        self.assert_nothing_left()

    def test_a_wrong_pin_fails_ctr_run_with_the_reason(self):
        cid = "pin-" + uuid.uuid4().hex[:8]
        bad = containers.stage_manifest(os.path.join(self.dir, "host"), pin="sha256:" + "0" * 64,
                                        name="pinned.json")
        rc, out, err = self.ctr(*self.run_args(cid, "pin", "00", bad))
        self.assertNotEqual(rc, 0)
        self.assertRegex(err, rf"create {cid}: stage echo: image [^\n]* but the manifest pins "
                              r"sha256:0{64} \(EBCC_ERR_VERIFY\)")
        self.assertFalse(os.path.exists(os.path.join(self.out, "pin.ls")), "the container ran")
        self.ctr("container", "rm", cid)
        self.assert_nothing_left()

    def test_two_containers_of_one_manifest_reach_only_their_own(self):
        ids = {name: f"{name}-{uuid.uuid4().hex[:8]}" for name in ("a", "b")}
        nonces = {name: os.urandom(32).hex() for name in ids}
        for name, cid in ids.items():
            rc, _, err = self.ctr(*self.run_args(cid, name, nonces[name], self.manifest,
                                                 wait=True))
            self.assertEqual(rc, 0, err)
        for name, cid in ids.items():
            self.assertTrue(wait_until(
                lambda: any(os.path.exists(os.path.join(self.out, name + s))
                            for s in (".ready", ".failed"))))
            self.assert_called(name, cid, nonces[name])
        self.assertNotEqual(self.socket_dir(ids["a"]), self.socket_dir(ids["b"]))
        # A process in a's pid namespace is no process of b's.
        tasks = self.ctr("task", "list")[1].split("\n")
        pid_a = next(int(l.split()[1]) for l in tasks if l.startswith(ids["a"]))
        rc, out, err = containers.run(
            ["nsenter", "--target", str(pid_a), "--pid", "--", containers.CALL,
             os.path.join(self.socket_dir(ids["b"]), "ebcc.sock"), "echo"], stdin=b"x")
        self.assertNotEqual(rc, 0)
        self.assertIn("is not a process of this container", err)
        open(os.path.join(self.out, "finish"), "w").close()
        for cid in ids.values():
            self.delete(cid)
        self.assert_nothing_left()

    def test_one_id_in_two_namespaces_is_two_composites(self):
        other = self.new_namespace()
        archive = os.path.join(self.dir, "image.tar")
        rc, _, err = self.ctr("image", "import", archive, namespace=other)
        self.assertEqual(rc, 0, err)
        cid = "same-" + uuid.uuid4().hex[:8]
        nonces = {}
        for name, ns in (("first", self.namespace), ("second", other)):
            nonces[name] = os.urandom(32).hex()
            rc, _, err = self.containerd.ctr(
                *self.run_args(cid, name, nonces[name], self.manifest, wait=True), namespace=ns)
            self.assertEqual(rc, 0, err)
            self.assertTrue(wait_until(
                lambda: any(os.path.exists(os.path.join(self.out, name + s))
                            for s in (".ready", ".failed"))))
        for name, ns in (("first", self.namespace), ("second", other)):
            self.assert_called(name, cid, nonces[name], namespace=ns)
            self.assertEqual(self.composites(ns), [cid])
        self.assertNotEqual(self.state_root(self.namespace), self.state_root(other))
        open(os.path.join(self.out, "finish"), "w").close()
        for ns in (self.namespace, other):
            self.delete(cid, namespace=ns)
        self.assert_nothing_left(self.namespace, other)
        self.ctr("images", "rm", "--sync", IMAGE, namespace=other)

    def test_a_container_without_the_annotation_is_untouched(self):
        for runtime in (True, False):
            cid = "plain-" + uuid.uuid4().hex[:8]
            rc, out, err = self.ctr("run", "--null-io", "--rm", *(
                ["--runc-binary", self.binary] if runtime else []),
                "--mount", f"type=bind,src={self.out},dst=/out,options=rbind:rw",
                IMAGE, cid, "sh", "-c", "ls /run/ebcc > /out/plain.ls; touch /out/plain.ran")
            self.assertEqual(rc, 0, err)
            self.assertTrue(os.path.exists(os.path.join(self.out, "plain.ran")))
            self.assertEqual(self.out_file("plain.ls"), "", "a socket appeared")
            os.unlink(os.path.join(self.out, "plain.ran"))
        self.assertFalse(os.path.exists(os.path.join(self.run_dir, "sockets")) and
                         os.listdir(os.path.join(self.run_dir, "sockets")))
        self.assert_nothing_left()

    def test_a_stage_shipped_in_the_image(self):
        cid, nonce = "inimage-" + uuid.uuid4().hex[:8], os.urandom(32).hex()
        rc, out, err = self.ctr(*self.run_args(cid, "img", nonce, "rootfs:/ebcc/ebcc.json"))
        self.assertEqual(rc, 0, err)
        self.assert_called("img", cid, nonce)
        self.assert_nothing_left()


if __name__ == "__main__":
    unittest.main()
