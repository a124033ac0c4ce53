# SPDX-License-Identifier: MIT
"""Secrets released only to attested stages (ebcc-secrets(7)), through ebcc-runtime and ctypes.

The example vault stage makes a key inside the stage ("key"), whose answer's evidence binds it;
the relying party seals a secret to it (`ebcc-runtime seal`, ebcc_secret_seal()); the stage opens
it ("open:<sealed>") and uses it ("hmac:<message>") without ever answering it. Every refusal is
checked by its reason: wrong measurement or nonce, simulated evidence without consent, a policy
that pins too little, evidence without a key, a host that puts its own key in the evidence, a
tampered blob, and a blob replayed to another invocation, stage, measurement or composite. The
secret's bytes are looked for in every file the composites and the runtime wrote.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import unittest

import bundles
import ebcc
from test_runtime import RUNTIME, RuntimeCase, run
from test_seal import fields, secret_seal

STAGES_DIR = os.environ.get("EBCC_TEST_STAGES_DIR", "")
VAULT = os.path.join(STAGES_DIR, "vault")

class SecretTest(RuntimeCase):
    def setUp(self):
        # meson declares this test only where both are built: missing is a failure, not a skip.
        self.assertTrue(RUNTIME and os.access(VAULT, os.X_OK),
                        f"ebcc-runtime ({RUNTIME}) or the vault stage ({VAULT}) is not built")
        super().setUp()
        self.secret = os.urandom(24) + b"database password"
        # A second image of the vault: the same code, another measurement.
        other = os.path.join(self.scratch.dir, "vault-b")
        with open(VAULT, "rb") as f, open(other, "wb") as g:
            g.write(f.read() + b"\0")
        os.chmod(other, 0o755)
        self.measurements = {}
        for name, image in (("vault", VAULT), ("vaultb", other)):
            with open(image, "rb") as f:
                self.measurements[name] = bundles.sha256(f.read())
        key = self.ok("attestation-key", "sim")[0]
        self.sim_key = key
        self.secret_file = self.path("secret")
        with open(self.secret_file, "wb") as f:
            f.write(self.secret)

    def path(self, name):
        return os.path.join(self.scratch.dir, name)

    def composite(self, cid):
        """A running composite with the vault twice (vault, vault2) and vault-b (vaultb)."""
        bundle = self.path("bundle-" + cid)
        os.makedirs(os.path.join(bundle, "stages"))
        shutil.copy(VAULT, os.path.join(bundle, "stages", "vault"))
        shutil.copy(self.path("vault-b"), os.path.join(bundle, "stages", "vault-b"))
        bundles.make_bundle(bundle, process={"args": ["sh", "-c", "exec sleep 60"], "cwd": "/",
                                             "env": ["PATH=/usr/bin:/bin"]},
                            stages=[{"name": "vault", "image": "stages/vault"},
                                    {"name": "vault2", "image": "stages/vault"},
                                    {"name": "vaultb", "image": "stages/vault-b"}])
        shutil.copy(VAULT, os.path.join(bundle, "stages", "vault"))  # make_bundle put echo there
        self.ids.append(cid)
        self.ok("create", "--bundle", bundle, cid)
        self.ok("start", cid)

    def invoke(self, cid, stage, request, nonce=None):
        """(returncode, response, stderr) of one invocation; request in a file (binary)."""
        req = self.path("request")
        with open(req, "wb") as f:
            f.write(request)
        args = ["invoke", cid, stage, "--in", req] + (["--nonce", nonce] if nonce else [])
        rc, out, err = run(*args, root=self.root)
        return rc, out, err

    def make_key(self, cid, stage="vault", nonce=None):
        """Has the stage make a key; the evidence file of that answer, its envelope, nonce."""
        nonce = nonce or os.urandom(32).hex()
        rc, out, err = self.invoke(cid, stage, b"key", nonce)
        self.assertEqual(rc, 0, err)
        seq = int(re.match(r"seq=(\d+)", err).group(1))
        envelope_text = self.ok("evidence", cid, stage, seq)[0]
        envelope = json.loads(envelope_text)
        self.assertEqual(envelope["version"], 3)
        self.assertEqual(envelope["public_key"], out, "the answer and its evidence name one key")
        path = self.path(f"ev-{cid}-{stage}-{seq}.json")
        with open(path, "w") as f:
            f.write(envelope_text)
        return path, envelope, nonce

    def policy(self, envelope, challenge, stage="vault", **changes):
        p = {"trusted_keys": [self.sim_key], "allow_simulated": True, "nonce": challenge,
             "measurement": self.measurements[stage]}
        p.update(changes)
        for k in [k for k, v in p.items() if v is None]:
            del p[k]
        path = self.path("policy.json")
        with open(path, "w") as f:
            json.dump(p, f)
        return path

    def seal(self, evidence, policy, out_name="sealed"):
        """ebcc-runtime seal; (returncode, sealed bytes or None, stderr)."""
        out = self.path(out_name)
        if os.path.exists(out):
            os.unlink(out)
        rc, _, err = run("seal", "--evidence", evidence, "--policy", policy, "--in",
                         self.secret_file, "--out", out, root=self.root)
        if rc != 0:
            self.assertFalse(os.path.exists(out), "a refused seal wrote its output")
            return rc, None, err
        with open(out, "rb") as f:
            return rc, f.read(), err

    def opens(self, cid, stage, sealed):
        rc, out, err = self.invoke(cid, stage, b"open:" + sealed)
        return rc, out, err

    def assert_open_refused(self, cid, stage, sealed, code):
        rc, out, err = self.opens(cid, stage, sealed)
        self.assertEqual(rc, 1, out)
        self.assertIn(f"({ebcc.constant(code)})", err, err)

    def assert_uses_secret(self, cid, stage="vault"):
        rc, out, err = self.invoke(cid, stage, b"hmac:challenge")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, hmac.new(self.secret, b"challenge", hashlib.sha256).hexdigest())

    def assert_nowhere(self, *dirs):
        """The secret in none of the files under dirs, raw, hex or base64."""
        forms = [self.secret, self.secret.hex().encode(), base64.b64encode(self.secret),
                 self.secret[:24]]
        searched = 0
        for d in dirs:
            for top, _, files in os.walk(d):
                for name in files:
                    p = os.path.join(top, name)
                    if p == self.secret_file or not os.path.isfile(p) or os.path.islink(p):
                        continue
                    with open(p, "rb") as f:
                        data = f.read()
                    searched += 1
                    for form in forms:
                        self.assertNotIn(form, data, f"the secret is in {p}")
        self.assertGreater(searched, 10, "the walk found the composites' files")

    # ---- round trips -----------------------------------------------------------------------

    def test_round_trip_through_the_cli(self):
        self.composite("rt")
        evidence, envelope, nonce = self.make_key("rt")
        policy = self.policy(envelope, nonce)
        # The evidence verifies offline, its key among the claims.
        out, _ = self.ok("verify", "--policy", policy, "--claims", evidence)
        self.assertEqual(json.loads(out)["evidence"]["public_key"], envelope["public_key"])
        rc, sealed, err = self.seal(evidence, policy)
        self.assertEqual(rc, 0, err)
        self.assertEqual(os.stat(self.path("sealed")).st_mode & 0o777, 0o600)
        f = fields(sealed)
        self.assertEqual([v for _, v in f[:5]],
                         [b"rt", b"vault", envelope["measurement"].encode(),
                          bytes.fromhex(envelope["report_data"]),
                          bytes.fromhex(envelope["public_key"])])
        self.assertEqual(len(f[-1][1]), len(self.secret) + 16)
        self.assertNotIn(self.secret, sealed)
        rc, out, err = self.opens("rt", "vault", sealed)
        self.assertEqual((rc, out), (0, f"opened {len(self.secret)} bytes"), err)
        self.assert_uses_secret("rt")
        # The opening invocation's evidence binds no key and verifies as version 2.
        opened = json.loads(self.ok("evidence", "rt", "vault")[0])
        self.assertEqual(opened["version"], 2)
        self.assertNotIn("public_key", opened)
        self.assert_nowhere(self.root, self.scratch.dir)

    def test_round_trip_through_the_api(self):
        self.composite("api")
        evidence, envelope, nonce = self.make_key("api")
        with open(evidence) as f:
            text = f.read()
        with ebcc.Context(state_root=self.root) as ctx, ebcc.Evidence.parse(ctx, text) as ev:
            self.assertEqual(ev.bytes("public_key").hex(), envelope["public_key"])
            policy = {"trusted_keys": [self.sim_key], "allow_simulated": True, "nonce": nonce,
                      "measurement": self.measurements["vault"]}
            sealed = secret_seal(ctx, ev, policy, self.secret)
            # Each seal is fresh (its own ephemeral key and IV), and only one opens: a key
            # opens one secret.
            again = secret_seal(ctx, ev, policy, self.secret)
            self.assertNotEqual(sealed, again)
            for bad, reason in [({k: v for k, v in policy.items() if k != "nonce"}, "nonce"),
                                ({k: v for k, v in policy.items() if k != "measurement"},
                                 "measurement")]:
                with self.assertRaises(ebcc.EbccError) as cm:
                    secret_seal(ctx, ev, bad, self.secret)
                self.assertEqual(cm.exception.name, "EBCC_ERR_INVALID_ARG")
                self.assertIn(f'"{reason}"', cm.exception.message)
            with self.assertRaises(ebcc.EbccError) as cm:
                secret_seal(ctx, ev, policy, b"x" * (ebcc.constant("EBCC_SECRET_MAX") + 1))
            self.assertEqual(cm.exception.name, "EBCC_ERR_TOO_BIG")
        self.assertEqual(self.opens("api", "vault", again)[:2], (0, f"opened {len(self.secret)} bytes"))
        self.assert_open_refused("api", "vault", sealed, "EBCC_ERR_STATE")
        self.assert_uses_secret("api")
        self.assert_nowhere(self.root, self.scratch.dir)

    # ---- the relying party refuses to release ----------------------------------------------

    def test_release_refused(self):
        self.composite("no")
        evidence, envelope, nonce = self.make_key("no")
        cases = [
            (dict(measurement=self.measurements["vaultb"]), "measurement"),
            (dict(nonce="ab" * 32), "nonce"),
            (dict(allow_simulated=None), "allow_simulated"),
            (dict(trusted_keys=None), "trusted_keys"),
            (dict(nonce=None), '"nonce"'),
            (dict(measurement=None), '"measurement"'),
        ]
        for changes, reason in cases:
            rc, sealed, err = self.seal(evidence, self.policy(envelope, nonce, **changes))
            self.assertEqual(rc, 1, changes)
            self.assertIn(reason, err, changes)
            self.assertIn("seal", err)
        # Evidence of an answer that made no key.
        rc, _, err = self.invoke("no", "vault", b"forget", nonce)
        self.assertEqual(rc, 0, err)
        plain = self.path("plain.json")
        with open(plain, "w") as f:
            f.write(self.ok("evidence", "no", "vault")[0])
        rc, _, err = self.seal(plain, self.policy(envelope, nonce))
        self.assertEqual(rc, 1)
        self.assertIn("public_key", err)
        # A host that puts its own key in the evidence: report_data no longer binds it.
        forged = dict(envelope, public_key=os.urandom(32).hex())
        path = self.path("forged.json")
        with open(path, "w") as f:
            json.dump(forged, f, separators=(",", ":"))
        rc, _, err = self.seal(path, self.policy(envelope, nonce))
        self.assertEqual(rc, 1)
        self.assertIn("report_data does not bind", err)
        self.assertIn("public_key", err)
        # ... nor can it drop the key and pass the evidence off as version 2.
        dropped = {k: v for k, v in envelope.items() if k != "public_key"}
        dropped["version"] = 2
        with open(path, "w") as f:
            json.dump(dropped, f, separators=(",", ":"))
        _, err = self.fails("verify", "--policy", self.policy(envelope, nonce), path)
        self.assertIn("report_data does not bind", err)
        # A version 3 envelope without its key is malformed.
        with open(path, "w") as f:
            json.dump(dict(dropped, version=3), f, separators=(",", ":"))
        _, err = self.fails("verify", path)
        self.assertIn('"public_key" is missing', err)

    # ---- the stage refuses to open ---------------------------------------------------------

    def test_tampered_blob_refused_and_the_genuine_one_still_opens(self):
        self.composite("tamper")
        evidence, envelope, nonce = self.make_key("tamper")
        rc, sealed, err = self.seal(evidence, self.policy(envelope, nonce))
        self.assertEqual(rc, 0, err)
        f = fields(sealed)
        flips = {"ciphertext": f[7][0] + 4, "tag": len(sealed) - 1, "iv": f[6][0] + 4,
                 "instance": f[0][0] + 4, "measurement": f[2][0] + 10,
                 "ephemeral_key": f[5][0] + 4}
        for what, at in flips.items():
            bad = bytearray(sealed)
            bad[at] ^= 0x01
            self.assert_open_refused("tamper", "vault", bytes(bad), "EBCC_ERR_VERIFY")
        for what, bad in [("report_data", sealed[:f[3][0] + 4] + bytes(64) + sealed[f[3][0] + 68:]),
                          ("public_key", sealed[:f[4][0] + 4] + bytes(32) + sealed[f[4][0] + 36:])]:
            self.assert_open_refused("tamper", "vault", bad, "EBCC_ERR_VERIFY")
        for bad in [sealed[:-1], sealed + b"\0", b"EBCCSEAL" + sealed[8:11] + b"\x02" + sealed[12:],
                    b"not sealed"]:
            self.assert_open_refused("tamper", "vault", bad, "EBCC_ERR_CORRUPT")
        rc, out, err = self.opens("tamper", "vault", sealed)
        self.assertEqual((rc, out), (0, f"opened {len(self.secret)} bytes"), err)

    def test_replay_to_another_invocation_stage_measurement_or_composite(self):
        self.composite("one")
        self.composite("two")
        evidence, envelope, nonce = self.make_key("one")
        rc, sealed, err = self.seal(evidence, self.policy(envelope, nonce))
        self.assertEqual(rc, 0, err)
        # Stages with keys of their own: the same image as another stage, another image, the
        # same stage of another composite.
        for cid, stage in (("one", "vault2"), ("one", "vaultb"), ("two", "vault")):
            self.make_key(cid, stage)
            self.assert_open_refused(cid, stage, sealed, "EBCC_ERR_VERIFY")
        # A stage that made no key.
        self.assert_open_refused("two", "vault2", sealed, "EBCC_ERR_STATE")
        # Opened once; replayed to a later invocation of the same stage, refused.
        self.assertEqual(self.opens("one", "vault", sealed)[:2],
                         (0, f"opened {len(self.secret)} bytes"))
        self.assert_open_refused("one", "vault", sealed, "EBCC_ERR_STATE")
        # A new key replaces the one a blob was sealed to: sealed to the old answer, refused.
        evidence, envelope, nonce = self.make_key("one")
        rc, old, err = self.seal(evidence, self.policy(envelope, nonce), "old")
        self.assertEqual(rc, 0, err)
        self.make_key("one")
        self.assert_open_refused("one", "vault", old, "EBCC_ERR_VERIFY")
        self.assert_nowhere(self.root, self.scratch.dir)


if __name__ == "__main__":
    unittest.main()
