# SPDX-License-Identifier: MIT
"""Scratch state roots and OCI bundles for the Python tests, and the OCI state schema rules."""
import hashlib
import json
import os
import re
import shutil
import tempfile
import time

ECHO_STAGE = os.environ.get("EBCC_TEST_ECHO_STAGE")


def sha256(data):
    """A measurement or digest as libebcc writes it: "sha256:" and 64 hex digits."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def echo_measurement():
    """The measurement of the echo stage image."""
    with open(ECHO_STAGE, "rb") as f:
        return sha256(f.read())


def wait_until(predicate, seconds=60.0):
    """Polls predicate until it holds or seconds have passed; its last value."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def have_stage():
    return bool(ECHO_STAGE) and os.access(ECHO_STAGE, os.X_OK)


def make_bundle(directory, process=None, stages=None, annotations=None, manifest_extra=None):
    """Writes config.json, ebcc.json and stages/echo (the echo stage image) into directory."""
    os.makedirs(os.path.join(directory, "stages"), exist_ok=True)
    config = {"ociVersion": "1.0.2", "root": {"path": "rootfs"},
              "annotations": annotations if annotations is not None else {"org.example": "t"}}
    if process is not None:
        config["process"] = process
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(config, f)
    manifest = {"ebccVersion": "0.1",
                "stages": stages if stages is not None else [
                    {"name": "echo", "image": "stages/echo"}]}
    manifest.update(manifest_extra or {})
    with open(os.path.join(directory, "ebcc.json"), "w") as f:
        json.dump(manifest, f)
    shutil.copy(ECHO_STAGE if have_stage() else "/bin/true",
                os.path.join(directory, "stages", "echo"))
    return directory


class Scratch:
    """A temporary state root and bundle directory, removed on exit."""

    def __enter__(self):
        self.dir = tempfile.mkdtemp(prefix="ebcc-py-")
        self.root = os.path.join(self.dir, "root")
        self.bundle = os.path.join(self.dir, "bundle")
        os.makedirs(self.bundle)
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.dir, ignore_errors=True)


SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")


def check_oci_state(test, text, expect_status=None):
    """The rules of the OCI runtime-spec's schema/state-schema.json (and runtime.md)."""
    state = json.loads(text)
    test.assertIsInstance(state, dict)
    for key in ("ociVersion", "id", "status", "bundle"):
        test.assertIn(key, state, f"state lacks required {key}")
    test.assertIsInstance(state["ociVersion"], str)
    test.assertRegex(state["ociVersion"], SEMVER)
    test.assertIsInstance(state["id"], str)
    test.assertGreater(len(state["id"]), 0)
    test.assertIn(state["status"], ("creating", "created", "running", "stopped"))
    test.assertIsInstance(state["bundle"], str)
    test.assertTrue(os.path.isabs(state["bundle"]), "bundle must be an absolute path")
    if state["status"] in ("created", "running"):
        test.assertIn("pid", state, "pid is required while created or running")
    if "pid" in state:
        test.assertIsInstance(state["pid"], int)
        test.assertGreaterEqual(state["pid"], 0)
    if "annotations" in state:
        test.assertIsInstance(state["annotations"], dict)
        for k, v in state["annotations"].items():
            test.assertIsInstance(k, str)
            test.assertIsInstance(v, str)
    if expect_status is not None:
        test.assertEqual(state["status"], expect_status)
    return state
