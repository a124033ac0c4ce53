# SPDX-License-Identifier: MIT
"""ebcc_secret_seal() through ctypes, against evidence of the pyhmac backend (test_evidence.py):
what it releases to (version 3 evidence that verifies under a policy pinning measurement and
nonce), the sealed format's header as ebcc-secrets(7) documents it, and every refusal. The
stage's side, opening, is tested with real stages in test_secrets.py.
"""
import ctypes
import json
import struct
import unittest

import ebcc
from test_evidence import MEASUREMENT, PyHmac, envelope, good_policy, report_data

ebcc._declare("ebcc_secret_seal", ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
              ctypes.POINTER(ebcc.VerifyOptions), ctypes.c_char_p, ctypes.c_size_t,
              ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t))

# An X25519 public key the stage would have made (any 32 bytes but the few of small order).
STAGE_KEY = bytes.fromhex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
SECRET = b"the database password"


def secret_seal(ctx, ev, policy, secret):
    """ebcc_secret_seal(): the sealed bytes, or EbccError. policy: a dict, text or None."""
    out, size = ctypes.c_void_p(), ctypes.c_size_t()
    text = json.dumps(policy).encode() if isinstance(policy, dict) else \
        (policy.encode() if isinstance(policy, str) else policy)
    options = ebcc.VerifyOptions(text) if text is not None else None
    ebcc.check(ebcc.lib.ebcc_secret_seal(ctx.handle, ev.handle, options, secret, len(secret),
                                         ctypes.byref(out), ctypes.byref(size)))
    try:
        return ctypes.string_at(out, size.value)
    finally:
        ebcc.lib.ebcc_free(out)


def fields(blob):
    """The sealed format's fields (ebcc-secrets(7)): [(offset of the length, bytes)]."""
    assert blob[:8] == b"EBCCSEAL" and struct.unpack(">I", blob[8:12])[0] == 1
    at, out = 12, []
    while at < len(blob):
        n = struct.unpack(">I", blob[at:at + 4])[0]
        out.append((at, blob[at + 4:at + 4 + n]))
        at += 4 + n
    assert at == len(blob)
    return out


class SealTest(unittest.TestCase):
    def setUp(self):
        self.ctx = ebcc.Context()
        self.backend = PyHmac(self.ctx)
        self.sim_backend = PyHmac(self.ctx, "pyhmac-sim", "ebcc.pyhmac-sim.v1", simulated=True)
        self.text, self.fields = envelope(version=3, public_key=STAGE_KEY)
        self.policy = good_policy(self.fields)

    def tearDown(self):
        self.ctx.close()

    def assertSealRefused(self, text, policy, name, *words, secret=SECRET):
        with ebcc.Evidence.parse(self.ctx, text) as ev, self.assertRaises(ebcc.EbccError) as cm:
            secret_seal(self.ctx, ev, policy, secret)
        self.assertEqual(cm.exception.name, name, cm.exception.message)
        for word in words:
            self.assertIn(word, cm.exception.message)

    def test_sealed_to_the_key_the_evidence_binds(self):
        with ebcc.Evidence.parse(self.ctx, self.text) as ev:
            sealed = secret_seal(self.ctx, ev, self.policy, SECRET)
            again = secret_seal(self.ctx, ev, self.policy, SECRET)
            empty = secret_seal(self.ctx, ev, self.policy, b"")
        f = [v for _, v in fields(sealed)]
        self.assertEqual(f[:5], [b"demo-1", b"scorer", MEASUREMENT.encode(),
                                 bytes.fromhex(self.fields["report_data"]), STAGE_KEY])
        self.assertEqual([len(v) for v in f[5:]], [32, 12, len(SECRET) + 16])
        self.assertNotIn(SECRET, sealed)
        # A fresh ephemeral key and IV each time.
        g = [v for _, v in fields(again)]
        self.assertNotEqual(f[5], g[5])
        self.assertNotEqual(f[6], g[6])
        self.assertEqual(len(fields(empty)[-1][1]), 16)

    def test_refusals(self):
        no = {k: v for k, v in self.policy.items()}
        cases = [
            (None, "EBCC_ERR_INVALID_ARG", "options is NULL"),
            ("", "EBCC_ERR_INVALID_ARG", "the options give no policy"),
            ({k: v for k, v in no.items() if k != "nonce"}, "EBCC_ERR_INVALID_ARG",
             'no "nonce"'),
            ({k: v for k, v in no.items() if k != "measurement"}, "EBCC_ERR_INVALID_ARG",
             'no "measurement"'),
            (dict(no, measurement="sha256:" + "00" * 32), "EBCC_ERR_VERIFY", "nothing released",
             "measurement expected"),
            (dict(no, nonce="ff"), "EBCC_ERR_VERIFY", "nonce expected"),
            (dict(no, trusted_keys=[]), "EBCC_ERR_VERIFY", "trusted_keys"),
            ("{", "EBCC_ERR_VERIFY", "policy"),
        ]
        for policy, name, *words in cases:
            with self.subTest(policy=policy):
                self.assertSealRefused(self.text, policy, name, *words)
        self.assertSealRefused(self.text, self.policy, "EBCC_ERR_TOO_BIG", "1048576",
                               secret=b"x" * (ebcc.constant("EBCC_SECRET_MAX") + 1))

    def test_evidence_that_releases_nothing(self):
        # Version 2: the stage made no key.
        v2, fields2 = envelope()
        self.assertSealRefused(v2, good_policy(fields2), "EBCC_ERR_VERIFY", "binds no",
                               "public_key")
        # A host's own key in the envelope, with and without report_data recomputed.
        hosts = bytes(range(1, 33))
        forged = dict(self.fields, public_key=hosts.hex())
        self.assertSealRefused(json.dumps(forged), self.policy, "EBCC_ERR_VERIFY",
                               "report_data does not bind", "public_key")
        forged["report_data"] = report_data("demo-1", "scorer", 7, 42, MEASUREMENT,
                                            b"\x01\x02", b"req", b"resp", 3, hosts).hex()
        self.assertSealRefused(json.dumps(forged), self.policy, "EBCC_ERR_VERIFY", "report")
        # Simulated evidence, unless the policy allows it.
        sim, sim_fields = envelope(backend="pyhmac-sim", fmt="ebcc.pyhmac-sim.v1",
                                   simulated=True, version=3, public_key=STAGE_KEY)
        self.assertSealRefused(sim, good_policy(sim_fields), "EBCC_ERR_VERIFY",
                               "allow_simulated")
        with ebcc.Evidence.parse(self.ctx, sim) as ev:
            secret_seal(self.ctx, ev, good_policy(sim_fields, allow_simulated=True), SECRET)
        # A key of small order (all zero): no shared secret to derive from.
        weak, weak_fields = envelope(version=3, public_key=bytes(32))
        self.assertSealRefused(weak, good_policy(weak_fields), "EBCC_ERR_VERIFY",
                               "public_key")


if __name__ == "__main__":
    unittest.main()
