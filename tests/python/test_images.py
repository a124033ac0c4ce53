# SPDX-License-Identifier: MIT
"""Encrypted stage images (ebcc-secrets(7)), through ebcc-runtime.

The image owner encrypts a table with `encrypt-image` and keeps the key. The example loader
stage, a small measured program, makes a key ("key"); the owner verifies that answer's evidence
and seals the image key to it (`seal`); the host turns the sealed key and the encrypted image
into a load request (`load-request`) and invokes the stage with it, which decrypts the table
inside the stage (ebcc_stage_load_image()). Every answer from then on binds the table's digest
(evidence version 4, "image_digest"), which a verifier pins. Refusals: an image whose key is
withheld (no sealed key, a key sealed to another answer, the wrong key), a changed image or
request, a second load, a policy pinning another digest, evidence that binds no image, and a
host that changes "image_digest" in the envelope. The table is looked for in every file.
"""
import json
import os
import re
import shutil
import struct
import unittest

import bundles
import ebcc
from test_evidence import report_data
from test_runtime import RUNTIME, RuntimeCase, run

STAGES_DIR = os.environ.get("EBCC_TEST_STAGES_DIR", "")
LOADER = os.path.join(STAGES_DIR, "loader")


class ImageTest(RuntimeCase):
    def setUp(self):
        self.assertTrue(RUNTIME and os.access(LOADER, os.X_OK),
                        f"ebcc-runtime ({RUNTIME}) or the loader stage ({LOADER}) is not built")
        super().setUp()
        self.table = b"model=" + os.urandom(12).hex().encode() + b"\nowner=acme\n"
        with open(LOADER, "rb") as f:
            self.measurement = bundles.sha256(f.read())
        self.sim_key = self.ok("attestation-key", "sim")[0]
        with open(self.path("table"), "wb") as f:
            f.write(self.table)
        out, _ = self.ok("encrypt-image", "--in", self.path("table"), "--out",
                         self.path("table.enc"), "--key-out", self.path("table.key"))
        self.digest = re.fullmatch(r"image_digest=(sha256:[0-9a-f]{64})", out.strip()).group(1)
        self.assertEqual(self.digest, bundles.sha256(self.table))

    def path(self, name):
        return os.path.join(self.scratch.dir, name)

    def loader_bundle(self, cid, **loader):
        """A bundle with the loader twice (loader, with the fields given, and loader2) and the
        encrypted table beside them."""
        bundle = self.path("bundle-" + cid)
        os.makedirs(os.path.join(bundle, "stages"))
        bundles.make_bundle(bundle, process={"args": ["sh", "-c", "exec sleep 60"], "cwd": "/",
                                             "env": ["PATH=/usr/bin:/bin"]},
                            stages=[dict({"name": "loader", "image": "stages/loader"}, **loader),
                                    {"name": "loader2", "image": "stages/loader"}])
        shutil.copy(LOADER, os.path.join(bundle, "stages", "loader"))  # make_bundle put echo
        shutil.copy(self.path("table.enc"), os.path.join(bundle, "stages", "table.enc"))
        return bundle

    def composite(self, cid, **loader):
        """A running composite of loader_bundle()."""
        bundle = self.loader_bundle(cid, **loader)
        self.ids.append(cid)
        self.ok("create", "--bundle", bundle, cid)
        self.ok("start", cid)

    def invoke(self, cid, stage, request):
        req = self.path("request")
        with open(req, "wb") as f:
            f.write(request)
        return run("invoke", cid, stage, "--in", req, root=self.root)

    def evidence(self, cid, stage, seq=None):
        """The envelope of an invocation (default the latest) and its file."""
        text = self.ok("evidence", cid, stage, *([str(seq)] if seq else []))[0]
        path = self.path(f"ev-{cid}-{stage}-{seq or 'last'}.json")
        with open(path, "w") as f:
            f.write(text)
        return json.loads(text), path

    def policy(self, name="policy.json", **fields):
        p = {"trusted_keys": [self.sim_key], "allow_simulated": True,
             "measurement": self.measurement}
        p.update(fields)
        path = self.path(name)
        with open(path, "w") as f:
            json.dump({k: v for k, v in p.items() if v is not None}, f)
        return path

    def release_key(self, cid, stage="loader", key="table.key", loaded=False):
        """The owner's side: the stage makes a key, its evidence is verified and the image key
        sealed to it (version 4 once the stage has loaded an image). The sealed key's path."""
        nonce = os.urandom(32).hex()
        rc, out, err = run("invoke", cid, stage, "--nonce", nonce, "--in", "-",
                           root=self.root, stdin=b"key")
        self.assertEqual(rc, 0, err)
        envelope, path = self.evidence(cid, stage)
        self.assertEqual((envelope["version"], envelope["public_key"]), (4 if loaded else 3, out))
        sealed = self.path(f"sealed-{cid}-{stage}")
        if os.path.exists(sealed):
            os.unlink(sealed)
        self.ok("seal", "--evidence", path, "--policy", self.policy(nonce=nonce), "--in",
                self.path(key), "--out", sealed)
        return sealed

    def load_request(self, sealed, image="table.enc"):
        out = self.path("load.req")
        if os.path.exists(out):
            os.unlink(out)
        self.ok("load-request", "--sealed-key", sealed, "--image", self.path(image), "--out", out)
        with open(out, "rb") as f:
            return f.read()

    def assert_load_refused(self, cid, request, code, stage="loader"):
        rc, out, err = self.invoke(cid, stage, request)
        self.assertEqual(rc, 1, out)
        self.assertIn(f"({ebcc.constant(code)})", err, err)
        rc, out, err = self.invoke(cid, stage, b"get:model")
        self.assertEqual(rc, 1, "a refused load left a table behind")
        self.assertIn(f"({ebcc.constant('EBCC_ERR_STATE')})", err, err)

    def assert_nowhere(self, *dirs):
        secret = self.table.split(b"\n")[0]
        searched = 0
        for d in dirs:
            for top, _, files in os.walk(d):
                for name in files:
                    p = os.path.join(top, name)
                    if p in (self.path("table"), self.path("table.key")) or not os.path.isfile(p) \
                            or os.path.islink(p):
                        continue
                    with open(p, "rb") as f:
                        data = f.read()
                    searched += 1
                    self.assertNotIn(secret, data, f"the table is in {p}")
                    self.assertNotIn(secret.hex().encode(), data, f"the table is in {p}")
        self.assertGreater(searched, 10, "the walk found the composite's files")

    # ---- the round trip --------------------------------------------------------------------

    def test_round_trip(self):
        self.composite("rt")
        with open(self.path("table.enc"), "rb") as f:
            image = f.read()
        self.assertEqual(image[:8], b"EBCCEI01")
        self.assertEqual(struct.unpack(">Q", image[20:28])[0], len(self.table))
        self.assertEqual(len(image), 28 + len(self.table) + 16)
        self.assertEqual(os.stat(self.path("table.key")).st_mode & 0o777, 0o600)
        # A second image never overwrites a key: the first image would be lost with it.
        with open(self.path("table.key"), "rb") as f:
            key = f.read()
        rc, _, err = run("encrypt-image", "--in", self.path("table"), "--out",
                         self.path("again.enc"), "--key-out", self.path("table.key"),
                         root=self.root)
        self.assertEqual(rc, 1)
        self.assertIn("an existing key is never overwritten", err)
        with open(self.path("table.key"), "rb") as f:
            self.assertEqual(f.read(), key)
        self.assertFalse(os.path.exists(self.path("again.enc")))
        request = self.load_request(self.release_key("rt"))
        rc, out, err = self.invoke("rt", "loader", request)
        self.assertEqual((rc, out), (0, f"loaded {len(self.table)} bytes"), err)
        rc, out, err = self.invoke("rt", "loader", b"get:owner")
        self.assertEqual((rc, out), (0, "acme"), err)
        # The load's answer binds the table's digest, computed here from the encoding alone.
        envelope, _ = self.evidence("rt", "loader", 2)
        expected = report_data("rt", "loader", envelope["eid"], 2, self.measurement,
                               bytes.fromhex(envelope["nonce"]), request,
                               f"loaded {len(self.table)} bytes".encode(), version=4,
                               image_digest=bytes.fromhex(self.digest[7:]))
        self.assertEqual(envelope["report_data"], expected.hex())
        # So does every later one.
        for seq in (2, 3):
            envelope, path = self.evidence("rt", "loader", seq)
            self.assertEqual((envelope["version"], envelope["image_digest"]), (4, self.digest))
            self.assertNotIn("public_key", envelope)
            out, _ = self.ok("verify", "--policy", self.policy(image_digest=self.digest),
                             "--claims", path)
            self.assertEqual(json.loads(out)["evidence"]["image_digest"], self.digest)
        # A key made after the load: version 4 with both.
        rc, out, err = self.invoke("rt", "loader", b"key")
        self.assertEqual(rc, 0, err)
        envelope, path = self.evidence("rt", "loader")
        self.assertEqual((envelope["version"], envelope["image_digest"], envelope["public_key"]),
                         (4, self.digest, out))
        self.ok("verify", "--policy", self.policy(image_digest=self.digest), path)
        self.assert_nowhere(self.root, self.scratch.dir)

    def test_second_load_refused(self):
        self.composite("twice")
        request = self.load_request(self.release_key("twice"))
        self.assertEqual(self.invoke("twice", "loader", request)[0], 0)
        second = self.load_request(self.release_key("twice", loaded=True))
        rc, out, err = self.invoke("twice", "loader", second)
        self.assertEqual(rc, 1, out)
        self.assertIn(f"({ebcc.constant('EBCC_ERR_STATE')})", err, err)
        self.assertEqual(self.invoke("twice", "loader", b"get:owner")[1], "acme")

    # ---- the manifest names the image and its key's policy ------------------------------------

    def test_manifest_names_image_and_key_policy(self):
        key_policy = {"trusted_keys": [self.sim_key], "allow_simulated": True,
                      "measurement": self.measurement}
        self.composite("m", encryptedImage={"image": "stages/table.enc", "keyPolicy": key_policy})
        info = json.loads(self.ok("stages", "--format", "json", "m")[0])
        loader = next(s for s in info if s["name"] == "loader")
        self.assertEqual(loader["encryptedImage"], {"image": "stages/table.enc",
                                                    "keyPolicy": key_policy})
        self.assertNotIn("encryptedImage", next(s for s in info if s["name"] == "loader2"))
        # What it names loads as any image.
        request = self.load_request(self.release_key("m"),
                                    image=os.path.join(self.path("bundle-m"), "stages",
                                                       "table.enc"))
        self.assertEqual(self.invoke("m", "loader", request)[0], 0)

    def test_manifest_refusals(self):
        good = {"image": "stages/table.enc",
                "keyPolicy": {"allow_simulated": True, "measurement": self.measurement}}
        other = "sha256:" + "0" * 64
        cases = [
            (dict(good, keyPolicy={"measurement": other}), "would never be released to it"),
            (dict(good, image="stages/loader"), "is not one"),
            (dict(good, image="stages/missing.enc"), "missing.enc"),
            (dict(good, image="../table.enc"), "must be a relative path inside the bundle"),
            (dict(good, keyPolicy={"nonce": "zz"}), "keyPolicy: policy: \"nonce\""),
            (dict(good, colour="blue"), "colour"),
            ({"image": "stages/table.enc"}, "keyPolicy"),
        ]
        for i, (enc, words) in enumerate(cases):
            with self.subTest(enc=enc):
                bundle = self.loader_bundle(f"bad{i}", encryptedImage=enc)
                rc, _, err = run("create", "--bundle", bundle, f"bad{i}", root=self.root)
                self.assertEqual(rc, 1, f"created with {enc}")
                self.assertIn(words, err)
                self.assertEqual(run("state", f"bad{i}", root=self.root)[0], 1)
        # The deepest keyPolicy accepted is one that state.json still holds (and reads back).
        def nested(depth):
            inner = {}
            for _ in range(depth - 3):
                inner = {"a": inner}
            return {"allow_simulated": True, "backend_options": {"sim": inner}}
        bundle = self.loader_bundle("deep", encryptedImage=dict(good, keyPolicy=nested(27)))
        self.ids.append("deep")
        self.ok("create", "--bundle", bundle, "deep")
        self.assertIn("encryptedImage", self.ok("stages", "--format", "json", "deep")[0])
        bundle = self.loader_bundle("deeper", encryptedImage=dict(good, keyPolicy=nested(28)))
        rc, _, err = run("create", "--bundle", bundle, "deeper", root=self.root)
        self.assertEqual(rc, 1)
        self.assertIn("keyPolicy nests 28 levels deep; at most 27", err)
        bundle = self.loader_bundle("inv", encryptedImage=good, lifetime="invocation")
        rc, _, err = run("create", "--bundle", bundle, "inv", root=self.root)
        self.assertEqual(rc, 1)
        self.assertIn("lifetime must be instance", err)

    # ---- a withheld key: the image does not load --------------------------------------------

    def test_withheld_key_does_not_load(self):
        self.composite("wh")
        with open(self.path("table.enc"), "rb") as f:
            image = f.read()
        # A request without the key.
        self.assert_load_refused("wh", b"EBCCLD01" + struct.pack(">I", 0) + image,
                                 "EBCC_ERR_CORRUPT")
        sealed = self.release_key("wh", stage="loader2")
        # Sealed to another stage's answer: not this stage's key.
        self.assert_load_refused("wh", self.load_request(sealed), "EBCC_ERR_STATE")
        # Another image's key, sealed to this stage: the table does not decrypt.
        self.ok("encrypt-image", "--in", self.path("table"), "--out", self.path("other.enc"),
                "--key-out", self.path("other.key"))
        request = self.load_request(self.release_key("wh", key="other.key"))
        self.assert_load_refused("wh", request, "EBCC_ERR_VERIFY")

    def test_changed_image_or_request_does_not_load(self):
        self.composite("ch")
        for flip in (9, 24, 30, -1):  # the IV, the length, the ciphertext, the tag
            request = bytearray(self.load_request(self.release_key("ch")))
            sealed_len = struct.unpack(">I", request[8:12])[0]
            at = 12 + sealed_len + flip if flip >= 0 else len(request) - 1
            request[at] ^= 1
            code = "EBCC_ERR_CORRUPT" if flip == 24 else "EBCC_ERR_VERIFY"
            self.assert_load_refused("ch", bytes(request), code)
        # A sealed-key length that runs past the request.
        request = bytearray(self.load_request(self.release_key("ch")))
        request[8:12] = struct.pack(">I", len(request))
        self.assert_load_refused("ch", bytes(request), "EBCC_ERR_CORRUPT")
        rc, _, err = run("load-request", "--sealed-key", self.path("table.enc"), "--image",
                         self.path("table.enc"), root=self.root)
        self.assertEqual(rc, 1)
        self.assertIn("is not a sealed secret", err)

    # ---- verifiers ---------------------------------------------------------------------------

    def test_verifier_pins_the_digest(self):
        self.composite("v")
        sealed = self.release_key("v")
        before, before_path = self.evidence("v", "loader", 1)  # the key's answer: version 3
        self.assertEqual(self.invoke("v", "loader", self.load_request(sealed))[0], 0)
        self.assertEqual(self.invoke("v", "loader", b"get:owner")[0], 0)
        after, after_path = self.evidence("v", "loader", 3)
        # Another digest, or evidence from before the load, fails naming the field.
        rc, _, err = run("verify", "--policy", self.policy(image_digest="sha256:" + "0" * 64),
                         after_path, root=self.root)
        self.assertEqual(rc, 1)
        self.assertIn("image_digest expected", err)
        rc, _, err = run("verify", "--policy", self.policy(image_digest=self.digest),
                         before_path, root=self.root)
        self.assertEqual(rc, 1)
        self.assertIn("binds no loaded image", err)
        # A host that changes the digest in the envelope breaks report_data.
        forged = dict(after, image_digest="sha256:" + "1" * 64)
        forged_path = self.path("forged.json")
        with open(forged_path, "w") as f:
            json.dump(forged, f)
        rc, _, err = run("verify", "--policy", self.policy(), forged_path, root=self.root)
        self.assertEqual(rc, 1)
        self.assertIn("report_data does not bind", err)
        # And one that drops it, claiming version 2.
        dropped = {k: v for k, v in after.items() if k != "image_digest"}
        dropped["version"] = 2
        with open(forged_path, "w") as f:
            json.dump(dropped, f)
        rc, _, err = run("verify", "--policy", self.policy(), forged_path, root=self.root)
        self.assertEqual(rc, 1)
        self.assertIn("report_data does not bind", err)


if __name__ == "__main__":
    unittest.main()
