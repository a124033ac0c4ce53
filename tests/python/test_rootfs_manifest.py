# SPDX-License-Identifier: MIT
"""Stages that ship inside the container's image: ebcc-runtime in front of runc and crun, a
busybox rootfs carrying /ebcc/ebcc.json and the stage image /ebcc/echo, named by the
annotation org.ebcc.manifest=rootfs:/ebcc/ebcc.json. The bundle itself holds no stage. The
composite is created, its stage measured from the image and invoked; a stage image that is a
symbolic link inside the image (as a container could make it) is refused at create, naming
the annotation's path and the rootfs, and leaves nothing behind.
"""
import json
import os
import shutil
import unittest

import containers
import ebcc
import test_runtime_oci as oci

IN_IMAGE = "rootfs:/ebcc/ebcc.json"
# test_runtime_oci's base class (its module keeps the name to itself).
_OciCase = oci.RuncTest.__mro__[1]


class RootfsManifestCase(unittest.TestCase):
    """test_runtime_oci's fixtures (scratch bundles, ebcc-runtime, clean-up), not its tests."""
    runtime_class = None
    cgroups = True
    setUpClass = _OciCase.__dict__["setUpClass"]
    setUp = _OciCase.setUp
    tearDown = _OciCase.tearDown
    scratch = _OciCase.scratch
    composites = _OciCase.composites
    out_exists = _OciCase.out_exists
    assert_nothing_left = _OciCase.assert_nothing_left
    failing_create = _OciCase.failing_create

    def image_composite(self, b):
        """rootfs/ebcc/ebcc.json and rootfs/ebcc/echo; nothing in the bundle but config.json
        and the rootfs."""
        shutil.rmtree(os.path.join(b.bundle, "stages"))
        d = os.path.join(b.rootfs, "ebcc")
        os.makedirs(d)
        shutil.copy(containers.ECHO_STAGE, os.path.join(d, "echo"))
        with open(os.path.join(d, "ebcc.json"), "w") as f:
            json.dump({"ebccVersion": "0.1",
                       "stages": [{"name": "echo", "image": "echo", "maxRequest": 4096}]}, f)
        b.write_script(oci.PLAIN_SCRIPT)
        b.write_config(["sh", "/check.sh"], hooks=False,
                       annotations={"org.ebcc.manifest": IN_IMAGE})
        return d

    def test_stages_shipped_in_the_image(self):
        b, e, (cid,) = self.scratch("inimage")
        self.image_composite(b)
        rc, _, err = e("create", "--bundle", b.bundle, cid)
        self.assertEqual(rc, 0, err)
        with ebcc.Context(state_root=b.state_root) as ctx, ebcc.Instance.open(ctx, cid) as inst:
            info = oci.stage_info(inst, "echo")
        self.assertEqual(info["measurement"], oci.echo_measurement())
        stage_pid = info["isolation"]["pid"]
        self.assertTrue(containers.running(stage_pid))
        self.assertEqual(e("start", cid)[0], 0)
        self.assertTrue(oci.wait_until(lambda: self.out_exists(b, "ran")))
        rc, out, err = e("invoke", cid, "echo", stdin=b"upper:from the image")
        self.assertEqual((rc, out), (0, "FROM THE IMAGE"), err)
        rc, out, err = e("delete", "--force", cid)
        self.assertEqual((rc, out), (0, ""), err)
        self.assert_nothing_left(b, e, cid, [stage_pid])

    def test_a_symlink_in_the_image_is_refused(self):
        b, e, (cid,) = self.scratch("imglink")
        d = self.image_composite(b)
        # Absolute, as the container sees it: it would resolve inside the image, and is still
        # not followed.
        os.unlink(os.path.join(d, "echo"))
        os.symlink("/bin/busybox", os.path.join(d, "echo"))
        rootfs = os.path.realpath(b.rootfs)
        self.failing_create(b, e, cid,
                            rf"stage echo: image rootfs:/ebcc/echo: beneath rootfs {rootfs}: "
                            r"\"echo\" is a symbolic link, which is not followed")


class RuncRootfsTest(RootfsManifestCase):
    runtime_class = containers.Runc


class CrunRootfsTest(RootfsManifestCase):
    runtime_class = containers.Crun
    cgroups = False


del _OciCase, RootfsManifestCase


if __name__ == "__main__":
    unittest.main()
