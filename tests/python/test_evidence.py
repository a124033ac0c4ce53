# SPDX-License-Identifier: MIT
"""Evidence through ctypes, as a verifier in another language would use it.

report_data is computed here with hashlib from the encoding documented in
ebcc_evidence_verify(3), envelopes are written by hand, and reports come from "pyhmac", a
backend written in Python and registered through the backend ABI (its reports are an
HMAC-SHA256 under a key given as trusted_keys: a toy, but a real check).
"""
import base64
import ctypes
import hashlib
import hmac
import json
import struct
import unittest

import ebcc

# ---- the binding, reimplemented -------------------------------------------------------------


def field(data):
    return struct.pack(">I", len(data)) + data


def report_data(instance, stage, eid, seq, measurement, nonce, request, response, version=2,
                public_key=None, image_digest=None):
    encoded = b"".join([
        field(b"EBCC-EVIDENCE-V%d" % version), field(instance.encode()), field(stage.encode()),
        field(struct.pack(">Q", eid)), field(struct.pack(">Q", seq)),
        field(measurement.encode()), field(nonce),
        field(hashlib.sha256(request).digest()), field(hashlib.sha256(response).digest())])
    if version == 3:  # the stage-held key, last (ebcc-secrets(7))
        encoded += field(public_key)
    if version == 4:  # the loaded image's digest, then the key or nothing
        encoded += field(image_digest) + field(public_key or b"")
    return hashlib.sha512(encoded).digest()


MEASUREMENT = "sha256:" + hashlib.sha256(b"stage image").hexdigest()

# The same vectors as tests/unit/test-evidence.c.
VECTORS = [
    (("demo-1", "scorer", 7, 42, MEASUREMENT, bytes(range(16)), b"hello", b"world"),
     "f16102f359457b4f5dc229182b81760875eecb18d66837acf3ef51f04254bdcc"
     "2d9e1767fcb7ca098541c224f0b648eda899b88099cc18068074a6a0c0433e8e"),
    (("x", "s", 0, 1, "sha256:" + hashlib.sha256(b"").hexdigest(), b"", b"", b""),
     "ab132be61d3d08210a334b5a9562bac35fe5891267ae881342b7921085b725b6"
     "fb1f12c0f7aae3bf5b7b44c1d383099feeb25d7e38fed8c0b02d1cc7726c5689"),
    # Evidence version 1, which the host bound.
    (("demo-1", "scorer", 7, 42, MEASUREMENT, bytes(range(16)), b"hello", b"world", 1),
     "5c83443c44f2788a700b1c9a74fd2f09de67b02275bd571ca9f1bec1ccdd43a0"
     "98c873e3e4118da90e3ad9ef6b819f6e01d783211e973a670f8ddbcbffd8d9c2"),
    # Evidence version 3, which binds the stage-held key.
    (("demo-1", "scorer", 7, 42, MEASUREMENT, bytes(range(16)), b"hello", b"world", 3,
      bytes(range(32, 64))),
     "4aca34dbf4ceda23d726442b941dcbe2cf37ad32a07de806c8d7cd1f62c5c787"
     "859d40204a3e1625fd87793482c23fb05320c928373eb27e5fbc302563904261"),
    # Evidence version 4, which binds the loaded image's digest (and a key, or none).
    (("demo-1", "scorer", 7, 42, MEASUREMENT, bytes(range(16)), b"hello", b"world", 4,
      None, bytes(range(64, 96))),
     "dcc1b3a6d3d94d5c2dad9f4713865c3ed48d68881e95b1119969d81301d0dd01"
     "e858bc45b3a1bd7cdfe2abb51dfa33b21827b6c5c807694bbd4e573e65c693d7"),
    (("demo-1", "scorer", 7, 42, MEASUREMENT, bytes(range(16)), b"hello", b"world", 4,
      bytes(range(32, 64)), bytes(range(64, 96))),
     "73b23a4122f0b66a80dfdeb254f25fca2f7649be9f8d1ea4d48a7a837c611454"
     "d8915574552422d6ca90538344c0154598548c36993f4cb7dc465c5b0d3845ec"),
]

# ---- a backend in Python ---------------------------------------------------------------------

ALLOC_FN = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)
LOG_FN = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)
SET_ERROR_FN = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_void_p)


class Env(ctypes.Structure):  # the leading part of struct ebcc_backend_env
    _fields_ = [("size", ctypes.c_uint32), ("durability", ctypes.c_uint32),
                ("alloc", ALLOC_FN), ("log", LOG_FN), ("set_error", SET_ERROR_FN),
                ("host", ctypes.c_void_p)]


class ReportCheck(ctypes.Structure):
    _fields_ = [("size", ctypes.c_uint32), ("reserved", ctypes.c_uint32),
                ("format", ctypes.c_char_p), ("measurement", ctypes.c_char_p),
                ("eid", ctypes.c_uint64),
                ("report_data", ctypes.POINTER(ctypes.c_uint8)),
                ("report_data_len", ctypes.c_size_t),
                ("report", ctypes.POINTER(ctypes.c_uint8)), ("report_len", ctypes.c_size_t),
                ("trusted_keys", ctypes.POINTER(ctypes.c_char_p)),
                ("trusted_keys_count", ctypes.c_size_t), ("policy_json", ctypes.c_char_p)]


P = ctypes.c_void_p
PROBE_FN = ctypes.CFUNCTYPE(ctypes.c_int, P, P, P)
LOAD_FN = ctypes.CFUNCTYPE(ctypes.c_int, P, P, P, P)
OPEN_FN = ctypes.CFUNCTYPE(ctypes.c_int, P, P, ctypes.c_uint64, P, P, P)
INVOKE_FN = ctypes.CFUNCTYPE(ctypes.c_int, P, P, P, P, ctypes.c_size_t, P, P)
REPORT_FN = ctypes.CFUNCTYPE(ctypes.c_int, P, P, P, ctypes.c_size_t, P, P)
CLOSE_FN = ctypes.CFUNCTYPE(None, P, P)
UNLOAD_FN = ctypes.CFUNCTYPE(ctypes.c_int, P, P, P)
VERIFY_FN = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(Env), ctypes.POINTER(ReportCheck),
                             ctypes.POINTER(ctypes.c_void_p), P)


class BackendOps(ctypes.Structure):  # struct ebcc_backend_ops up to verify_report
    _fields_ = [("size", ctypes.c_uint32), ("abi_version", ctypes.c_uint32),
                ("name", ctypes.c_char_p), ("isolation", ctypes.c_uint32),
                ("flags", ctypes.c_uint32), ("evidence_format", ctypes.c_char_p),
                ("max_report_data", ctypes.c_uint32), ("reserved0", ctypes.c_uint32),
                ("probe", PROBE_FN), ("stage_load", LOAD_FN), ("stage_open", OPEN_FN),
                ("stage_invoke", INVOKE_FN), ("stage_report", REPORT_FN),
                ("stage_close", CLOSE_FN), ("stage_unload", UNLOAD_FN),
                ("verify_report", VERIFY_FN)]


ebcc.lib.ebcc_backend_register.restype = ctypes.c_int
ebcc.lib.ebcc_backend_register.argtypes = [ctypes.c_void_p, ctypes.POINTER(BackendOps),
                                           ctypes.c_void_p]

ERR = ebcc.error_codes()
PEM_HEAD, PEM_TAIL = "-----BEGIN PYHMAC KEY-----\n", "\n-----END PYHMAC KEY-----\n"
MAGIC = b"PYHMAC01"


def pyhmac_report(key, rd, measurement, eid):
    return MAGIC + hmac.new(key, rd + measurement.encode() + struct.pack(">Q", eid),
                            hashlib.sha256).digest()


class PyHmac:
    """Registers the pyhmac backend in a context; keep the object alive as long as it."""

    def __init__(self, ctx, name="pyhmac", fmt="ebcc.pyhmac.v1", simulated=False):
        self.policies = []
        self._name, self._fmt = name.encode(), fmt.encode()
        unavailable = -7  # EBCC_ERR_UNAVAILABLE
        self.ops = BackendOps(
            size=ctypes.sizeof(BackendOps), abi_version=2, name=self._name, isolation=1,
            flags=1 if simulated else 0, evidence_format=self._fmt, max_report_data=64,
            probe=PROBE_FN(lambda *a: 1), stage_load=LOAD_FN(lambda *a: unavailable),
            stage_open=OPEN_FN(), stage_invoke=INVOKE_FN(lambda *a: unavailable),
            stage_report=REPORT_FN(), stage_close=CLOSE_FN(),
            stage_unload=UNLOAD_FN(lambda *a: 0), verify_report=VERIFY_FN(self._verify))
        ebcc.check(ebcc.lib.ebcc_backend_register(ctx.handle, ctypes.byref(self.ops), None))

    def _verify(self, env, check, ret_verdict, userdata):
        # An exception in a ctypes callback would return 0, "verified": never let one out.
        try:
            return self._check(env.contents, check.contents)
        except Exception as e:  # pragma: no cover - a bug in this test backend
            env.contents.set_error(f"pyhmac: {e!r}".encode(), env.contents.host)
            return ERR["EBCC_ERR_BACKEND"]

    def _check(self, env, c):
        def fail(message):
            env.set_error(message.encode(), env.host)
            return ERR["EBCC_ERR_VERIFY"]

        self.policies.append(c.policy_json)
        rd = ctypes.string_at(c.report_data, c.report_data_len)
        report = ctypes.string_at(c.report, c.report_len)
        if len(report) != 8 + 32 or not report.startswith(MAGIC):
            return fail("report: not a pyhmac report")
        if c.trusted_keys_count == 0:
            return fail("trusted_keys: none given")
        for i in range(c.trusted_keys_count):
            pem = c.trusted_keys[i].decode()
            if not (pem.startswith(PEM_HEAD) and pem.endswith(PEM_TAIL)):
                return fail(f"trusted_keys[{i}]: not a PYHMAC KEY")
            key = bytes.fromhex(pem[len(PEM_HEAD):-len(PEM_TAIL)])
            if hmac.compare_digest(report, pyhmac_report(key, rd, c.measurement.decode(),
                                                         c.eid)):
                return 0
        return fail(f"trusted_keys: the report matches none of the {c.trusted_keys_count} keys")


KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def pem(key):
    return PEM_HEAD + key.hex() + PEM_TAIL


def envelope(backend="pyhmac", fmt="ebcc.pyhmac.v1", simulated=False, instance="demo-1",
             stage="scorer", eid=7, seq=42, nonce=b"\x01\x02", request=b"req",
             response=b"resp", key=KEY, rd=None, version=2, public_key=None):
    """The canonical envelope text, in the documented key order, and its fields."""
    if rd is None:
        rd = report_data(instance, stage, eid, seq, MEASUREMENT, nonce, request, response,
                         version, public_key)
    fields = {
        "version": version, "format": fmt, "backend": backend, "simulated": simulated,
        "instance": instance, "stage": stage, "eid": eid, "seq": seq,
        "measurement": MEASUREMENT, "nonce": nonce.hex(),
        "request_digest": "sha256:" + hashlib.sha256(request).hexdigest(),
        "response_digest": "sha256:" + hashlib.sha256(response).hexdigest(),
        **({"public_key": public_key.hex()} if public_key is not None else {}),
        "report_data": rd.hex(),
        "report": base64.b64encode(pyhmac_report(key, rd, MEASUREMENT, eid)).decode(),
    }
    return json.dumps(fields, separators=(",", ":")), fields


def good_policy(fields, **changes):
    policy = {"trusted_keys": [pem(KEY)], "measurement": fields["measurement"],
              "nonce": fields["nonce"], "request_digest": fields["request_digest"],
              "response_digest": fields["response_digest"]}
    policy.update(changes)
    return {k: v for k, v in policy.items() if v is not None}


class BindingTest(unittest.TestCase):
    def test_vectors(self):
        for inputs, expected in VECTORS:
            self.assertEqual(report_data(*inputs).hex(), expected)


class EvidenceTest(unittest.TestCase):
    def setUp(self):
        self.ctx = ebcc.Context()
        self.backend = PyHmac(self.ctx)
        self.sim_backend = PyHmac(self.ctx, "pyhmac-sim", "ebcc.pyhmac-sim.v1", simulated=True)

    def tearDown(self):
        self.ctx.close()

    def parse(self, text):
        return ebcc.Evidence.parse(self.ctx, text)

    def assertRefused(self, text, name, *words):
        with self.assertRaises(ebcc.EbccError) as cm:
            self.parse(text).close()
        self.assertEqual(cm.exception.name, name, cm.exception.message)
        for word in words:
            self.assertIn(word, cm.exception.message)

    def assertVerifyFails(self, ev, policy, name, *words):
        with self.assertRaises(ebcc.EbccError) as cm:
            ev.verify(self.ctx, policy)
        self.assertEqual(cm.exception.name, name, cm.exception.message)
        for word in words:
            self.assertIn(word, cm.exception.message)

    def test_round_trip_is_exact(self):
        text, fields = envelope()
        with self.parse(text) as ev:
            self.assertEqual(ev.serialize(), text)
            ev.verify(self.ctx, good_policy(fields))
        # Whitespace and another key order parse to the same evidence.
        pretty = json.dumps(dict(reversed(list(fields.items()))), indent=2)
        with self.parse(pretty) as ev:
            self.assertEqual(ev.serialize(), text)
        with self.parse(text) as ev, self.parse(ev.serialize()) as again:
            self.assertEqual(again.serialize(), text)

    def test_version_3_binds_the_stage_held_key(self):
        pk = bytes(range(100, 132))
        text, fields = envelope(version=3, public_key=pk)
        with self.parse(text) as ev:
            self.assertEqual(ev.serialize(), text)
            self.assertEqual(ev.bytes("public_key"), pk)
            ev.verify(self.ctx, good_policy(fields))
            self.assertEqual(ev.verify_claims(self.ctx, good_policy(fields))["evidence"]
                             ["public_key"], pk.hex())
        # Another key in the envelope (a host's own), the report the TEE made left as it was:
        # report_data no longer binds the envelope, and recomputed over the host's key it is
        # no longer what the report covers.
        hosts = bytes(32)
        forged = dict(fields, public_key=hosts.hex())
        with self.parse(json.dumps(forged)) as ev:
            self.assertVerifyFails(ev, good_policy(fields), "EBCC_ERR_VERIFY",
                                   "report_data does not bind", "public_key")
        forged["report_data"] = report_data("demo-1", "scorer", 7, 42, MEASUREMENT,
                                            b"\x01\x02", b"req", b"resp", 3, hosts).hex()
        with self.parse(json.dumps(forged)) as ev:
            self.assertVerifyFails(ev, good_policy(fields), "EBCC_ERR_VERIFY", "report")
        # Version 2 evidence has no key, and reads 0 bytes of it.
        text2, _ = envelope()
        with self.parse(text2) as ev:
            self.assertEqual(ev.bytes("public_key"), b"")
        self.assertRefused(json.dumps(dict(fields, version=2)), "EBCC_ERR_VERIFY", "public_key",
                           "version 2")
        self.assertRefused(json.dumps({k: v for k, v in fields.items() if k != "public_key"}),
                           "EBCC_ERR_VERIFY", '"public_key" is missing')
        for bad in ("ab" * 31, "ab" * 33, "AB" * 32, "zz" * 32):
            self.assertRefused(json.dumps(dict(fields, public_key=bad)), "EBCC_ERR_VERIFY",
                               '"public_key"', "64 lowercase hex")

    def test_typed_fields(self):
        text, fields = envelope(nonce=b"")
        with self.parse(text) as ev:
            for name in ("backend", "format", "instance", "stage", "measurement"):
                self.assertEqual(ev.text(name), fields[name])
            self.assertEqual(ev.number("eid"), 7)
            self.assertEqual(ev.number("seq"), 42)
            self.assertEqual(ev.number("simulated"), 0)
            self.assertEqual(ev.bytes("nonce"), b"")
            self.assertEqual(ev.bytes("request_digest"), hashlib.sha256(b"req").digest())
            self.assertEqual(ev.bytes("response_digest"), hashlib.sha256(b"resp").digest())
            self.assertEqual(ev.bytes("report_data").hex(), fields["report_data"])
            self.assertEqual(ev.bytes("report"), base64.b64decode(fields["report"]))
            # A field read with the getter of another type, or no such field.
            for call, field, words in ((ev.number, "stage", "ebcc_evidence_get_text"),
                                       (ev.text, "seq", "ebcc_evidence_get_u64"),
                                       (ev.text, "nonce", "ebcc_evidence_get_bytes"),
                                       (ev.bytes, 0, "no evidence field 0"),
                                       (ev.number, 16, "no evidence field 16")):
                with self.subTest(field=field), self.assertRaises(ebcc.EbccError) as cm:
                    call(field)
                self.assertEqual(cm.exception.name, "EBCC_ERR_INVALID_ARG")
                self.assertIn(words, cm.exception.message)

    def test_verify_claims(self):
        text, fields = envelope()
        with self.parse(text) as ev:
            claims = ev.verify_claims(self.ctx, good_policy(fields))
            evidence = claims["evidence"]
            for name in ("instance", "stage", "eid", "seq", "measurement", "backend", "format",
                         "simulated", "nonce", "request_digest", "response_digest"):
                self.assertEqual(evidence[name], fields[name], name)
            self.assertNotIn("report", evidence)
            self.assertIsNone(claims["backend"])  # pyhmac gives no verdict
            # Refused as verify() refuses it.
            with self.assertRaises(ebcc.EbccError) as cm:
                ev.verify_claims(self.ctx, good_policy(fields, nonce="ff"))
            self.assertEqual(cm.exception.name, "EBCC_ERR_VERIFY")
            self.assertIn("nonce", cm.exception.message)

    def test_policy_builder(self):
        text, fields = envelope()
        with ebcc.Policy() as policy, self.parse(text) as ev:
            # An empty policy trusts nothing; key by key it becomes good_policy().
            self.assertVerifyFails(ev, policy.to_json(), "EBCC_ERR_VERIFY", "trusted_keys")
            policy.add_trusted_key(pem(KEY))
            for key in ("measurement", "nonce", "request_digest", "response_digest"):
                policy.set_string(key, fields[key])
            self.assertEqual(json.loads(policy.to_json()), good_policy(fields))
            ev.verify(self.ctx, policy.to_json())
            # Refused values leave the policy as it was, with the verifier's reason.
            before = policy.to_json()
            for call, args, words in (
                    (policy.set_string, ("nonce", "xyz"), "nonce"),
                    (policy.set_string, ("verification_time", "yesterday"), "RFC 3339"),
                    (policy.set_string, ("allow_simulated", "true"), "ebcc_policy_set_bool"),
                    (policy.set_string, ("trusted_key", "x"), "not a string key"),
                    (policy.set_bool, ("nonce", True), "not a boolean key"),
                    (policy.add_trusted_key, ("not pem",), "not one PEM block"),
                    (policy.set_backend_json, ("tsm", "allow_debug", "tru"), "ebcc_policy_set_backend_json"),
                    (policy.set_backend_json, ("tsm", "allow_debug", "1, \"w\": 2"), "not one JSON value"),
                    (policy.set_backend_json, ("TSM", "allow_debug", "true"), "not a backend name"),
                    (policy.set_backend_string, ("tsm", "", "x"), "key of 0 bytes")):
                with self.subTest(args=args), self.assertRaises(ebcc.EbccError) as cm:
                    call(*args)
                self.assertEqual(cm.exception.name, "EBCC_ERR_INVALID_ARG", cm.exception.message)
                self.assertIn(words, cm.exception.message)
                self.assertEqual(policy.to_json(), before)
            # Backend options and PEM with newlines need no escaping by the caller.
            policy.set_bool("allow_simulated", True)
            policy.set_backend_json("tsm", "snp_min_tcb", '{"snp": 24}')
            policy.set_backend_string("tsm", "tdx_root_ca", "-----BEGIN CERTIFICATE-----\nAA==\n")
            doc = json.loads(policy.to_json())
            self.assertTrue(doc["allow_simulated"])
            self.assertEqual(doc["backend_options"]["tsm"],
                             {"snp_min_tcb": {"snp": 24},
                              "tdx_root_ca": "-----BEGIN CERTIFICATE-----\nAA==\n"})
            # Options of a backend the evidence is not from are refused when verifying.
            self.assertVerifyFails(ev, policy.to_json(), "EBCC_ERR_VERIFY",
                                   "would be read by no backend")

    def test_report_data_is_recomputed(self):
        text, fields = envelope(backend="nosuch")
        with self.parse(text) as ev:  # binding holds, so the backend lookup comes next
            self.assertVerifyFails(ev, good_policy(fields), "EBCC_ERR_NOT_FOUND", "nosuch")
        rd = bytearray(bytes.fromhex(fields["report_data"]))
        rd[0] ^= 1
        text, fields = envelope(rd=bytes(rd))
        with self.parse(text) as ev:
            self.assertVerifyFails(ev, good_policy(fields), "EBCC_ERR_VERIFY", "report_data")

    def test_policy_mismatches_name_the_field(self):
        text, fields = envelope()
        other = "sha256:" + hashlib.sha256(b"other").hexdigest()
        with self.parse(text) as ev:
            for change, word in [({"nonce": "0103"}, "nonce"),
                                 ({"measurement": other}, "measurement"),
                                 ({"request_digest": other}, "request_digest"),
                                 ({"response_digest": other}, "response_digest"),
                                 ({"trusted_keys": [pem(OTHER_KEY)]}, "trusted_keys"),
                                 ({"trusted_keys": None}, "trusted_keys"),
                                 ({"colour": "blue"}, "colour"),
                                 ({"allow_simulated": "yes"}, "allow_simulated")]:
                with self.subTest(change=change):
                    self.assertVerifyFails(ev, good_policy(fields, **change), "EBCC_ERR_VERIFY",
                                           word)
            for policy in ["[]", '"x"', "{", "{}}", '{"nonce":"01","nonce":"01"}']:
                with self.subTest(policy=policy):
                    self.assertVerifyFails(ev, policy, "EBCC_ERR_VERIFY", "policy")
            ev.verify(self.ctx, good_policy(fields, trusted_keys=[pem(OTHER_KEY), pem(KEY)]))
            # The backend sees the whole policy, backend_options included.
            policy = json.dumps(good_policy(fields, backend_options={"pyhmac": {"strict": True}}))
            ev.verify(self.ctx, policy)
            self.assertEqual(self.backend.policies[-1].decode(), policy)
            # Options for another backend than the evidence's would be read by nobody.
            for other in [{"strict": True}, {"tdx": {}}, {"pyhmac": {}, "sim": {}}]:
                with self.subTest(backend_options=other):
                    self.assertVerifyFails(ev, json.dumps(good_policy(fields, backend_options=other)),
                                           "EBCC_ERR_VERIFY", "would be read by no backend")
            # Cut at its NUL, this key would read as nonce: refused.
            bad = (json.dumps(good_policy(fields, nonce=None))[:-1] +
                   ', "nonce\\u0000x": "%s"}' % fields["nonce"])
            self.assertVerifyFails(ev, bad, "EBCC_ERR_VERIFY", "contains a NUL")

    def test_simulated_needs_allow_simulated(self):
        text, fields = envelope(backend="pyhmac-sim", fmt="ebcc.pyhmac-sim.v1", simulated=True)
        with self.parse(text) as ev:
            self.assertVerifyFails(ev, good_policy(fields), "EBCC_ERR_VERIFY", "allow_simulated")
            ev.verify(self.ctx, good_policy(fields, allow_simulated=True))

    def test_version_1_needs_allow_evidence_v1(self):
        # Version 1: the host bound request and response, outside the TEE.
        text, fields = envelope(version=1)
        with self.parse(text) as ev:
            self.assertVerifyFails(ev, good_policy(fields), "EBCC_ERR_VERIFY",
                                   "allow_evidence_v1")
            ev.verify(self.ctx, good_policy(fields, allow_evidence_v1=True))
        # A version 2 envelope relabeled as version 1 binds nothing of version 1.
        text, fields = envelope()
        with self.parse(text.replace('"version":2', '"version":1', 1)) as ev:
            self.assertVerifyFails(ev, good_policy(fields, allow_evidence_v1=True),
                                   "EBCC_ERR_VERIFY", "report_data does not bind")

    def test_parse_refuses_malformed_envelopes(self):
        text, fields = envelope()
        for key in fields:
            with self.subTest(missing=key):
                self.assertRefused(json.dumps({k: v for k, v in fields.items() if k != key}),
                                   "EBCC_ERR_VERIFY", f'"{key}"')
            with self.subTest(mistyped=key):
                self.assertRefused(json.dumps(dict(fields, **{key: []})),
                                   "EBCC_ERR_VERIFY", f'"{key}"')
        self.assertRefused(json.dumps(dict(fields, version=4)), "EBCC_ERR_VERIFY", "version")
        self.assertRefused(json.dumps(dict(fields, extra=1)), "EBCC_ERR_VERIFY", "extra")
        self.assertRefused('{"nonce":"",' + text[1:], "EBCC_ERR_VERIFY", "duplicate", "nonce")
        self.assertRefused(json.dumps(dict(fields, nonce="0A")), "EBCC_ERR_VERIFY", "nonce")
        self.assertRefused(json.dumps(dict(fields, report=fields["report"][:-1] + " ")),
                           "EBCC_ERR_VERIFY", "report")
        self.assertRefused(text + "x", "EBCC_ERR_VERIFY", "evidence")
        self.assertRefused(text[:-1], "EBCC_ERR_VERIFY", "evidence")
        self.assertRefused(text[:40] + "\0" + text[41:], "EBCC_ERR_VERIFY", "NUL")
        self.assertRefused(text + " " * (1 << 20), "EBCC_ERR_TOO_BIG", "1048576")
        with self.parse(text + " " * ((1 << 20) - len(text))) as ev:
            self.assertEqual(ev.serialize(), text)

    def test_every_flipped_byte_fails(self):
        text, fields = envelope()
        policy = json.dumps(good_policy(fields))
        data = text.encode()
        for i in range(len(data)):
            tampered = bytearray(data)
            tampered[i] ^= 0x01
            try:
                ev = self.parse(bytes(tampered))
            except ebcc.EbccError as e:
                self.assertEqual(e.name, "EBCC_ERR_VERIFY")
                continue
            with ev, self.assertRaises(ebcc.EbccError, msg=f"byte {i}") as cm:
                ev.verify(self.ctx, policy)
            self.assertIn(cm.exception.name, ("EBCC_ERR_VERIFY", "EBCC_ERR_NOT_FOUND"))

    def test_error_names_of_null_arguments(self):
        with self.assertRaises(ebcc.EbccError) as cm:
            ebcc.check(ebcc.lib.ebcc_evidence_parse(self.ctx.handle, None, 0, None))
        self.assertEqual(cm.exception.name, "EBCC_ERR_INVALID_ARG")
        with self.assertRaises(ebcc.EbccError) as cm:
            ebcc.check(ebcc.lib.ebcc_evidence_verify(self.ctx.handle, None, None))
        self.assertEqual(cm.exception.name, "EBCC_ERR_INVALID_ARG")


if __name__ == "__main__":
    unittest.main()
