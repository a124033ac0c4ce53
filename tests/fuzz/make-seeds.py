#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Regenerates the fuzzers' seed corpora (tests/fuzz/corpus/<harness>/) from real inputs.

    tests/fuzz/make-seeds.py --build BUILD_DIR

BUILD_DIR is any build of this tree with the examples (ebcc-runtime and the echo and scorer
stages), e.g. a plain `meson setup build`. The script runs real composites under a temporary
state root whose sim device key is tests/fuzz/sim-device-key.pem, so that the evidence it
collects verifies against the key the evidence fuzzer trusts (fuzz-key.h), and keeps:

  config, bundle   the bundles' config.json and ebcc.json (config, NUL byte, manifest)
  evidence         evidence envelopes of real invocations (instance and invocation lifetimes,
                   nonces of 1..64 bytes and none)
  state            state.json of real composites: created, running, stopped, without an anchor
  policy           verification policies (the fixed evidence of fuzz-policy.c, spelled out below)
  frame-host       what a stage sends the host: LOG, IMAGE, KEY, REPORT, RESPONSE and ERROR
                   frames (lib/base/frame.h)
  frame-stage      what the host sends a stage: REQUEST frames, for fuzz-frame-stage.c's handler
  optee-attest     ebcc.optee.v1 reports as OP-TEE's attestation PTA signs them, with the
                   policy flags, report_data and EID of fuzz-optee-attest.c's input; signed
                   with tests/fuzz/optee-pta-key.pem (fuzz-optee-key.h), and by keys made for
                   the run that no policy trusts (needs the openssl command; no build)

Each corpus stays small (at most 30 files, 64 KiB). Files are named by their SHA-1, as libFuzzer
names what it finds; a regression input added by hand keeps its own name and is left alone
unless --clean is given.

--only NAME (repeatable) regenerates just those corpora; --dry-run makes and checks every seed
(the evidence verifies under fuzz-key.h's key, say) and writes none, as the test suite does.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
KEY_FILE = os.path.join(HERE, "sim-device-key.pem")
KEY_HEADER = os.path.join(HERE, "fuzz-key.h")
MAX_FILES = 30
MAX_BYTES = 64 << 10


def public_key_from_header():
    text = open(KEY_HEADER, encoding="utf-8").read()
    body = text.split("fuzz_sim_public_key_pem[] =", 1)[1].split(";", 1)[0]
    return "".join(bytes(s, "ascii").decode("unicode_escape") for s in re.findall(r'"((?:[^"\\]|\\.)*)"', body))


def private_key_pem():
    text = open(KEY_FILE, encoding="ascii").read()
    start = text.index("-----BEGIN PRIVATE KEY-----")
    end = text.index("-----END PRIVATE KEY-----") + len("-----END PRIVATE KEY-----")
    return text[start:end] + "\n"


class Runtime:
    def __init__(self, build, root):
        self.exe = os.path.join(build, "examples", "ebcc-runtime")
        self.root = root

    def run(self, *args, stdin=b"", detach=False, check=True):
        cmd = [self.exe, "--anchor", "process", "--state-root", self.root] + list(args)
        if detach:
            # The anchor inherits stdio: no pipe, so nothing waits for it; errors go to a file.
            with tempfile.TemporaryFile() as err:
                p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=err, timeout=60)
                if p.returncode != 0:
                    err.seek(0)
                    sys.exit("make-seeds: %s failed: %s" % (" ".join(args), err.read().decode(errors="replace")))
            return b""
        p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=60)
        if check and p.returncode != 0:
            sys.exit("make-seeds: %s failed: %s" % (" ".join(args), p.stderr.decode(errors="replace")))
        return p.stdout


def js(obj, **kw):
    return json.dumps(obj, separators=(",", ":"), **kw).encode()


def make_bundle(path, build, config, manifest):
    os.makedirs(os.path.join(path, "stages"), exist_ok=True)
    for stage in ("echo", "scorer", "loader"):
        shutil.copy(os.path.join(build, "examples", "stages", stage), os.path.join(path, "stages", stage))
    with open(os.path.join(path, "config.json"), "wb") as f:
        f.write(config)
    with open(os.path.join(path, "ebcc.json"), "wb") as f:
        f.write(manifest)


def frame(ftype, payload):
    return struct.pack("<BBBBI", 0xEB, 0xCC, 2, ftype, len(payload)) + payload


REQUEST, RESPONSE, LOG, ERROR, BIND, REPORT, KEY, IMAGE = 1, 2, 3, 4, 5, 6, 7, 8


def bind_frame(instance=b"web", stage=b"echo", eid=1, seq=1, measurement=b"sha256:00", nonce=b""):
    fields = [instance, stage, struct.pack(">Q", eid), struct.pack(">Q", seq), measurement, nonce]
    return frame(BIND, b"".join(struct.pack(">I", len(f)) + f for f in fields))


def bound(request):
    """A request as the host sends it: BIND, then REQUEST."""
    return bind_frame() + frame(REQUEST, request)


def report_frame(report=b""):
    return frame(REPORT, bytes(range(64)) + report)


def error_frame(code, message):
    return frame(ERROR, struct.pack("<i", code) + message)


def collect(build, work):
    seeds = {name: [] for name in ("config", "bundle", "evidence", "state", "policy", "frame-host", "frame-stage")}
    pub = public_key_from_header()
    root = os.path.join(work, "root")
    keydir = os.path.join(root, ".ebcc", "backends", "sim")
    os.makedirs(keydir, mode=0o700)
    for d in (root, os.path.join(root, ".ebcc"), os.path.join(root, ".ebcc", "backends"), keydir):
        os.chmod(d, 0o700)
    with open(os.path.join(keydir, "device-key-ed25519.pem"), "w", encoding="ascii", opener=lambda p, f: os.open(p, f, 0o600)) as f:
        f.write(private_key_pem())
    rt = Runtime(build, root)
    if rt.run("attestation-key").decode() != pub:
        sys.exit("make-seeds: sim-device-key.pem and fuzz-key.h hold different keys")

    echo_image = open(os.path.join(build, "examples", "stages", "echo"), "rb").read()
    echo_measurement = "sha256:" + hashlib.sha256(echo_image).hexdigest()
    loader_image = open(os.path.join(build, "examples", "stages", "loader"), "rb").read()
    loader_measurement = "sha256:" + hashlib.sha256(loader_image).hexdigest()
    key_policy = {"trusted_keys": [pub], "allow_simulated": True, "measurement": loader_measurement}

    # ---- bundles: the composites below, and a few other shapes of the same documents ----
    bundles = {
        "full": (
            js({"ociVersion": "1.0.2",
                "process": {"terminal": False, "user": {"uid": 0, "gid": 0, "additionalGids": [1, 2]},
                            "args": ["/bin/sleep", "300"], "env": ["PATH=/usr/bin:/bin", "TERM=xterm"],
                            "cwd": "/", "noNewPrivileges": True,
                            "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 1024, "hard": 4096},
                                        {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}]},
                "root": {"path": "rootfs"}, "hostname": "fuzz",
                "annotations": {"org.example.team": "fuzz"}}),
            js({"ebccVersion": "0.1", "backend": "sim",
                "stages": [{"name": "echo", "image": "stages/echo", "lifetime": "instance",
                            "maxRequest": 65536, "maxResponse": 131072, "timeoutMs": 5000,
                            "memoryMiB": 64, "cpuSeconds": 60, "maxFiles": 16,
                            "measurement": echo_measurement,
                            "backendOptions": {}},
                           {"name": "scorer", "image": "stages/scorer", "lifetime": "invocation"}],
                "tools": {"hook": {"socketDir": "/run/ebcc-hook"}}}, indent=2)),
        "noanchor": (
            js({"ociVersion": "1.0.2", "annotations": {}}),
            js({"ebccVersion": "0.1", "stages": [
                {"name": "echo", "image": "stages/echo"},
                {"name": "loader", "image": "stages/loader",
                 "encryptedImage": {"image": "stages/table.enc", "keyPolicy": key_policy}}]})),
        "renamed": (
            js({"ociVersion": "1.1.0", "process": {"args": ["/bin/sleep", "300"], "cwd": "/"},
                "annotations": {"org.ebcc.manifest": "stages.json"}}),
            js({"ebccVersion": "0.1", "stages": [{"name": "scorer", "image": "stages/scorer",
                                                  "lifetime": "invocation", "timeoutMs": 1000}]})),
    }
    for config, manifest in bundles.values():
        seeds["config"].append(config + b"\0" + manifest)
    seeds["config"].append(bundles["noanchor"][1])  # one document, given to both parsers
    seeds["config"].append(b'{"ociVersion":"1.0.2","process":{"args":["sh"],"cwd":"/tmp"}}\0'
                           b'{"ebccVersion":"0.1","stages":[{"name":"a-1_b","image":"a/b/c"}]}')
    seeds["bundle"] = list(seeds["config"])
    # The loader reads the annotation's name from the bundle: this one names config.json.
    seeds["bundle"].append(js({"ociVersion": "1.0.2", "annotations": {"org.ebcc.manifest": "config.json"}}) + b"\0")

    # ---- composites: state.json at each phase, evidence of real invocations ----
    def state_of(cid):
        return open(os.path.join(root, cid, "state.json"), "rb").read()

    try:
        for cid, key in (("fz-full", "full"), ("fz-noanchor", "noanchor")):
            b = os.path.join(work, cid)
            make_bundle(b, build, *bundles[key])
            if key == "noanchor":  # the loader's encrypted table (ebcc-secrets(7))
                rt.run("encrypt-image", "--in", "-", "--out", os.path.join(b, "stages", "table.enc"),
                       "--key-out", os.path.join(work, "table.key"), stdin=b"owner=fuzz\nmodel=seed\n")
            rt.run("create", "--bundle", b, cid, detach=True)
            seeds["state"].append(state_of(cid))
            rt.run("start", cid)
            seeds["state"].append(state_of(cid))
        for nonce, stage, req in (("00", "echo", b"hello"), ("ab" * 32, "echo", b"\x00\xff binary"),
                                  ("0123456789abcdef" * 8, "echo", b"x" * 300),
                                  (None, "echo", b"{}"), ("cafe", "scorer", b'{"amount": 1250, "country": "DE"}')):
            args = ["invoke", "fz-full", stage] + (["--nonce", nonce] if nonce else [])
            rt.run(*args, stdin=req)
            seeds["evidence"].append(rt.run("evidence", "fz-full", stage).strip())
        rt.run("invoke", "fz-noanchor", "echo", "--nonce", "01", stdin=b"ping")
        ev = rt.run("evidence", "fz-noanchor", "echo").strip()
        seeds["evidence"].append(ev)
        # The same envelope pretty-printed is the same evidence.
        seeds["evidence"].append(json.dumps(json.loads(ev), indent=1).encode())
        # Versions 3 and 4: the loader makes a key (3), loads its table with the key sealed to
        # it (4), and makes a key again (4 with the key).
        rt.run("invoke", "fz-noanchor", "loader", "--nonce", "02", stdin=b"key")
        key_ev = os.path.join(work, "key-evidence.json")
        with open(key_ev, "wb") as f:
            f.write(rt.run("evidence", "fz-noanchor", "loader").strip())
        seeds["evidence"].append(open(key_ev, "rb").read())
        release = os.path.join(work, "release.json")
        with open(release, "wb") as f:
            f.write(js(dict(key_policy, nonce="02")))
        sealed = os.path.join(work, "table.sealed")
        rt.run("seal", "--evidence", key_ev, "--policy", release, "--in", os.path.join(work, "table.key"),
               "--out", sealed)
        load = rt.run("load-request", "--sealed-key", sealed, "--image",
                      os.path.join(work, "fz-noanchor", "stages", "table.enc"))
        for req in (load, b"key"):
            rt.run("invoke", "fz-noanchor", "loader", "--nonce", "03", stdin=req)
            seeds["evidence"].append(rt.run("evidence", "fz-noanchor", "loader").strip())
        # The evidence fuzzer starts on the success path only if its seeds verify under its key.
        policy = os.path.join(work, "fuzz-policy.json")
        with open(policy, "wb") as f:
            f.write(js({"trusted_keys": [pub], "allow_simulated": True}))
        for i, ev in enumerate(seeds["evidence"]):
            path = os.path.join(work, "evidence-%d.json" % i)
            with open(path, "wb") as f:
                f.write(ev)
            rt.run("verify", "--policy", policy, path)
        rt.run("kill", "fz-full", "KILL")
        rt.run("wait", "fz-full", check=False)  # exits with the anchor's status, 128 + SIGKILL
        seeds["state"].append(state_of("fz-full"))
        for cid in ("fz-full", "fz-noanchor"):
            rt.run("delete", "--force", cid)
    except BaseException:
        # Leave no composite, and no anchor process, behind when a step fails.
        for cid in ("fz-full", "fz-noanchor"):
            rt.run("delete", "--force", cid, check=False)
        raise

    # ---- policies, against the fixed evidence of fuzz-policy.c ----
    m = "sha256:" + hashlib.sha256(b"fuzz stage image").hexdigest()
    nonce = bytes(range(32)).hex()
    req = "sha256:" + hashlib.sha256(b"request").hexdigest()
    resp = "sha256:" + hashlib.sha256(b"response").hexdigest()
    seeds["policy"] += [
        js({"trusted_keys": [pub], "allow_simulated": True}),
        js({"trusted_keys": [pub], "measurement": m, "nonce": nonce, "request_digest": req,
            "response_digest": resp, "allow_simulated": True,
            "backend_options": {"sim": {"note": "ignored"}}}, indent=1),
        js({"measurement": m, "nonce": "00"}),
        js({"allow_simulated": False, "request_digest": resp}),
        js({"nonce": "", "trusted_keys": []}),
        b"{}",
    ]

    # ---- frames: a stage's answers, and a host's requests ----
    seeds["frame-host"] += [
        report_frame() + frame(RESPONSE, b"hello"),
        frame(LOG, b"loading model") + frame(LOG, b"") + report_frame() +
        frame(RESPONSE, b'{"score": 30}'),
        report_frame(b"a report of the stage's TEE") + frame(RESPONSE, b""),
        frame(RESPONSE, b"no report first"),
        frame(LOG, b"about to fail") + error_frame(-16, b"the stage's handler failed the request"),
        error_frame(-2, b""),
        b"".join(frame(LOG, b"x" * 200) for _ in range(6)) + report_frame() +
        frame(RESPONSE, b"late"),
        frame(LOG, b"key made") + frame(KEY, bytes(range(32, 64))) + report_frame() +
        frame(RESPONSE, b"sealed for me"),
        frame(KEY, b"\x09" * 32) + frame(LOG, b"not between KEY and REPORT"),
        frame(IMAGE, bytes(range(64, 96))) + report_frame() + frame(RESPONSE, b"loaded"),
        frame(IMAGE, b"\x0a" * 32) + frame(KEY, b"\x0b" * 32) + report_frame() +
        frame(RESPONSE, b"a key after the load"),
        frame(IMAGE, b"\x0c" * 32) + frame(LOG, b"not between IMAGE and REPORT"),
    ]
    seeds["frame-stage"] += [
        bound(b"hello"),
        bound(b"") + bound(b"again"),
        bound(b"Lstarting up") + bound(b"echo"),
        bound(b"Efail please"),
        bound(b"N") + bound(b"X"),
        bound(b'{"amount": 1250, "country": "DE"}') + bound(b"\x00" * 100),
        bind_frame(instance=b"x" * 1024, nonce=b"\x01" * 64) + frame(REQUEST, b"long fields"),
        frame(REQUEST, b"without its BIND"),
    ]
    return seeds


OPTEE_KEY_FILE = os.path.join(HERE, "optee-pta-key.pem")
OPTEE_KEY_HEADER = os.path.join(HERE, "fuzz-optee-key.h")
# fuzz-optee-attest.c: FUZZ_DIGEST_TEXT, and its input's policy flags.
OPTEE_DIGEST = hashlib.sha256(b"ebcc fuzz-optee-attest TA").digest()
OPTEE_TRUST, OPTEE_ALLOW_UNVERIFIED, OPTEE_PIN, OPTEE_OWN_POLICY = 1, 2, 4, 8


def openssl(*args, data=None):
    return subprocess.run(("openssl",) + args, input=data, capture_output=True, check=True).stdout


def optee_sign(key, report_data, digest):
    """RSASSA-PSS (SHA-256, MGF1-SHA256, salt 32) over report_data || digest, as the PTA signs."""
    return openssl("dgst", "-sha256", "-sign", key, "-sigopt", "rsa_padding_mode:pss",
                   "-sigopt", "rsa_pss_saltlen:32", "-sigopt", "rsa_mgf1_md:sha256",
                   data=report_data + digest)


def optee_report(kind, session, digest, sig):
    """An ebcc.optee.v1 report (backends/optee/attest.h)."""
    return b"EBOP" + struct.pack("<BBHI", 1, kind, 0, session) + digest + struct.pack("<H", len(sig)) + sig


def optee_attest_seeds(work):
    text = open(OPTEE_KEY_HEADER, encoding="utf-8").read()
    body = text.split("fuzz_optee_public_key_pem[] =", 1)[1].split(";", 1)[0]
    pub = "".join(bytes(s, "ascii").decode("unicode_escape") for s in re.findall(r'"((?:[^"\\]|\\.)*)"', body))
    if openssl("pkey", "-in", OPTEE_KEY_FILE, "-pubout").decode() != pub:
        sys.exit("make-seeds: optee-pta-key.pem and fuzz-optee-key.h hold different keys")
    others = {}
    for bits in (3072, 4096):
        others[bits] = os.path.join(work, "optee-untrusted-%d.pem" % bits)
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:%d" % bits, "-out", others[bits])
    seeds = []

    def seed(flags, report_data, eid, kind, session, digest, key, policy=None):
        sig = optee_sign(key, report_data, digest)
        text = b"" if policy is None else js(policy) + b"\0"
        seeds.append(bytes([flags | (OPTEE_OWN_POLICY if policy is not None else 0)]) + report_data +
                     struct.pack("<Q", eid) + text + optee_report(kind, session, digest, sig))

    rd = [hashlib.sha512(b"report_data %d" % i).digest() for i in range(6)]
    other_digest = hashlib.sha256(b"another TA").digest()
    # Verified: ta-digest and ta-memory, pinned or not; EIDs small and large.
    seed(OPTEE_TRUST, rd[0], 7, 1, 7, OPTEE_DIGEST, OPTEE_KEY_FILE)
    seed(OPTEE_TRUST | OPTEE_PIN, rd[1], 1, 1, 1, OPTEE_DIGEST, OPTEE_KEY_FILE)
    seed(OPTEE_TRUST | OPTEE_PIN, rd[2], 0xFFFFFFFF, 2, 0xFFFFFFFF, OPTEE_DIGEST, OPTEE_KEY_FILE)
    seed(OPTEE_TRUST | OPTEE_ALLOW_UNVERIFIED, rd[3], 42, 2, 42, other_digest, OPTEE_KEY_FILE)
    # Refused: another digest than the pin; another EID than the session.
    seed(OPTEE_TRUST | OPTEE_PIN, rd[4], 3, 1, 3, other_digest, OPTEE_KEY_FILE)
    seed(OPTEE_TRUST, rd[5], 9, 1, 8, OPTEE_DIGEST, OPTEE_KEY_FILE)
    # Keys no policy trusts: refused with the trusted key, accepted only unverified.
    seed(OPTEE_TRUST, rd[0], 5, 1, 5, OPTEE_DIGEST, others[3072])
    seed(OPTEE_ALLOW_UNVERIFIED, rd[1], 5, 1, 5, OPTEE_DIGEST, others[3072])
    seed(OPTEE_ALLOW_UNVERIFIED | OPTEE_PIN, rd[2], 6, 2, 6, OPTEE_DIGEST, others[4096])
    seed(0, rd[3], 6, 1, 6, OPTEE_DIGEST, others[4096])
    # The input's own policy text: a pin, unverified allowed, an upper-case pin, an unknown key.
    def optee(**o):
        return {"allow_simulated": False, "backend_options": {"optee": o}}
    seed(OPTEE_TRUST, rd[4], 11, 1, 11, OPTEE_DIGEST, OPTEE_KEY_FILE, optee(ta_digest=OPTEE_DIGEST.hex()))
    seed(0, rd[5], 12, 2, 12, OPTEE_DIGEST, others[3072], optee(allow_unverified_signature=True))
    seed(OPTEE_TRUST, rd[0], 13, 1, 13, OPTEE_DIGEST, OPTEE_KEY_FILE, optee(ta_digest=OPTEE_DIGEST.hex().upper()))
    seed(OPTEE_TRUST, rd[1], 14, 1, 14, OPTEE_DIGEST, OPTEE_KEY_FILE, optee(ta_digests=OPTEE_DIGEST.hex()))
    return {"optee-attest": seeds}


# ---- fuzz-tsm-parse: TDX quotes, SEV-SNP reports and certificate tables laid out as hosts do ----

SNP_GUIDS = {  # RFC 4122 byte order, as the certificate table carries them
    "vcek": uuid.UUID("63da758d-e664-4564-adc5-f4b93be8accd").bytes,
    "vlek": uuid.UUID("a8074bc2-a25a-483e-aae6-39c045a0b8a1").bytes,
    "ask": uuid.UUID("4ab7b379-bbac-4fe4-a02f-05aef327c782").bytes,
    "ark": uuid.UUID("c0b406a4-a803-4952-9743-3fb6014cd0ae").bytes,
}


def test_cert(work, name, curve="secp384r1"):
    """A throwaway self-signed certificate (DER, PEM): only its shape matters to the parsers."""
    key = os.path.join(work, name + ".key")
    openssl("ecparam", "-name", curve, "-genkey", "-noout", "-out", key)
    pem = openssl("req", "-x509", "-new", "-key", key, "-subj", "/CN=ebcc fuzz " + name, "-days", "1")
    return openssl("x509", "-outform", "DER", data=pem), pem


def snp_table(entries, page_pad=False, extra_guid=False):
    """entries: [(name, der)]; a host's auxblob table: entries, terminator, certificates."""
    rows = [(SNP_GUIDS[n], der) for n, der in entries]
    if extra_guid:
        rows.append((uuid.uuid5(uuid.NAMESPACE_DNS, "crl.example").bytes, b"\x30\x03\x02\x01\x00"))
    head = 24 * (len(rows) + 1)
    table, blobs, offset = b"", b"", head
    for guid, der in rows:
        table += guid + struct.pack("<II", offset, len(der))
        blobs += der
        offset += len(der)
    out = table + b"\0" * 24 + blobs
    if page_pad:
        out += b"\0" * (-len(out) % 4096)
    return out


def tdx_quote(pck_chain, version=4, body_type=2, padding=0):
    """A TDX quote with the layout of tdx.h; signatures are not checked by the parser."""
    header = struct.pack("<HHI", version, 2, 0x81) + b"\0" * 4 + bytes(range(16)) + b"\0" * 20
    body_size = 584 if body_type == 2 else 648
    body = bytes((i * 7) & 0xFF for i in range(body_size))
    if version == 5:
        body = struct.pack("<HI", body_type, body_size) + body
    qe_auth = b"\xa5" * 32
    qe = (bytes(384) + b"\x11" * 64 + struct.pack("<H", len(qe_auth)) + qe_auth +
          struct.pack("<HI", 5, len(pck_chain)) + pck_chain)
    sig_data = b"\x22" * 64 + b"\x33" * 64 + struct.pack("<HI", 6, len(qe)) + qe
    return header + body + struct.pack("<I", len(sig_data)) + sig_data + bytes(padding)


def snp_report(version, signing_key=0, cpuid=(0x19, 0x11, 1)):
    r = bytearray(0x4A0)
    struct.pack_into("<IIII", r, 0, version, 1, 0, 1)
    struct.pack_into("<Q", r, 0x08, 0x30000)
    struct.pack_into("<I", r, 0x48, signing_key << 2)
    r[0x50:0x90] = hashlib.sha512(b"report data").digest()
    r[0x90:0xC0] = hashlib.sha384(b"measurement").digest()
    if version >= 3:
        r[0x188:0x18B] = bytes(cpuid)
    return bytes(r)


def tsm_parse_seeds(work):
    certs = [test_cert(work, n) for n in ("pck", "platform-ca", "root")]
    chain = b"".join(pem for _, pem in certs)
    ders = {n: test_cert(work, n)[0] for n in ("vcek", "vlek", "ask", "ark")}
    seeds = [b"\0" + tdx_quote(chain), b"\0" + tdx_quote(chain, padding=70),
             b"\0" + tdx_quote(chain, padding=8000 - len(tdx_quote(chain))),
             b"\0" + tdx_quote(chain, version=5, body_type=2),
             b"\0" + tdx_quote(chain, version=5, body_type=3)]
    seeds += [b"\1" + snp_report(2), b"\1" + snp_report(3), b"\1" + snp_report(5, cpuid=(0x1A, 0x02, 1)),
              b"\1" + snp_report(3, signing_key=1)]
    seeds += [b"\2" + snp_table([("vcek", ders["vcek"]), ("ask", ders["ask"]), ("ark", ders["ark"])]),
              b"\2" + snp_table([("vlek", ders["vlek"]), ("ask", ders["ask"])], page_pad=True),
              b"\2" + snp_table([("ark", ders["ark"]), ("vcek", ders["vcek"])], extra_guid=True),
              b"\2"]
    seeds += [b"\3" + vcek_extensions("Milan-B0", (4, 0, 24, 219), hwid=bytes(range(64))),
              b"\3" + vcek_extensions("Genoa", (10, 0, 25, 84), hwid=b"\x04\x40" + bytes(64)),
              b"\3" + vcek_extensions("Turin-B0", (4, 0, 24, 72, 1)),
              b"\3" + vcek_extensions("Milan", (4, 0, 24, 217), csp=b"CN=cc.example")]
    return {"tsm-parse": seeds}


# ---- fuzz-sgx-quote: SGX DCAP quotes v3 laid out as quote libraries make them -------------------

def p256_sign(key, data):
    """ECDSA P-256 over SHA-256 of data as DCAP quotes carry it: r || s, 32 bytes each, big endian."""
    der = openssl("dgst", "-sha256", "-sign", key, data=data)
    assert der[0] == 0x30
    pos, out = 2 if der[1] < 0x80 else 3, b""
    for _ in range(2):
        assert der[pos] == 0x02
        n = der[pos + 1]
        out += der[pos + 2:pos + 2 + n].lstrip(b"\0").rjust(32, b"\0")
        pos += 2 + n
    return out


def p256_raw_public(key):
    """x || y of an EC key file (the uncompressed point at the end of its SubjectPublicKeyInfo)."""
    return openssl("ec", "-in", key, "-pubout", "-outform", "DER")[-64:]


def sgx_quote(pck_chain, padding=0, qe_auth=b"\xa5" * 32, pck_key=None, att_key=None):
    """An SGX quote v3 (backends/sgx/quote.h), signed when given the PCK and attestation keys
    (so that mutations reach the signature checks and the claims), else with constant bytes."""
    header = struct.pack("<HHIHH", 3, 2, 0, 7, 12) + bytes(range(16)) + b"\0" * 20
    body = bytearray((i * 5) & 0xFF for i in range(384))
    body[48:56] = struct.pack("<Q", 0x07)
    qe_report = bytearray(384)
    att_raw, sig, qe_sig = b"\x33" * 64, b"\x22" * 64, b"\x11" * 64
    if att_key is not None:
        att_raw = p256_raw_public(att_key)
        qe_report[320:352] = hashlib.sha256(att_raw + qe_auth).digest()
        qe_sig = p256_sign(pck_key, bytes(qe_report))
        sig = p256_sign(att_key, header + bytes(body))
    sig_data = (sig + att_raw + bytes(qe_report) + qe_sig + struct.pack("<H", len(qe_auth)) + qe_auth +
                struct.pack("<HI", 5, len(pck_chain)) + pck_chain)
    return header + bytes(body) + struct.pack("<I", len(sig_data)) + sig_data + bytes(padding)


def sgx_quote_seeds(work):
    certs = [test_cert(work, n, "prime256v1") for n in ("sgx-pck", "sgx-processor-ca", "sgx-root")]
    chain = b"".join(pem for _, pem in certs)
    att = os.path.join(work, "sgx-att.key")
    openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", att)
    pck = os.path.join(work, "sgx-pck.key")
    return {"sgx-quote": [sgx_quote(chain), sgx_quote(chain + b"\0"), sgx_quote(chain, padding=70),
                          sgx_quote(chain, qe_auth=b""),
                          sgx_quote(chain, pck_key=pck, att_key=att),
                          sgx_quote(chain, qe_auth=b"", pck_key=pck, att_key=att)]}


# ---- fuzz-sgx-image: sgx stage images with a real SIGSTRUCT ------------------------------------

def ustar(members):
    """A ustar archive as `tar --format=ustar` writes it (backends/common/ustar.h)."""
    out = b""
    for name, data in members:
        h = bytearray(512)
        h[0:len(name)] = name.encode()
        h[100:108] = b"0000644\0"
        h[108:116] = b"0000000\0"
        h[116:124] = b"0000000\0"
        h[124:136] = b"%011o\0" % len(data)
        h[136:148] = b"00000000000\0"
        h[156] = ord("0")
        h[257:265] = b"ustar\x0000"
        h[148:156] = b" " * 8
        h[148:156] = b"%06o\0 " % sum(h)
        out += bytes(h) + data + bytes(-len(data) % 512)
    return out + bytes(1024)


def rsa3_key(work):
    """An enclave signing key (RSA-3072, e = 3) as (n, d) integers."""
    path = os.path.join(work, "sgx-signer.pem")
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072",
            "-pkeyopt", "rsa_keygen_pubexp:3", "-out", path)
    text = subprocess.run(["openssl", "rsa", "-in", path, "-noout", "-text"], check=True,
                          capture_output=True, text=True).stdout

    def field(name):
        m = re.search(r"^%s:\s*\n((?:\s+[0-9a-f:]+\n)+)" % name, text, re.M)
        return int(re.sub(r"[\s:]", "", m.group(1)), 16)
    return field("modulus"), field("privateExponent")


def sigstruct(key, mrenclave, attributes=0x4, xfrm=0x3):
    """A SIGSTRUCT over mrenclave (backends/sgx/sigstruct.h), signed with key."""
    n, d = key
    header = (bytes.fromhex("06000000e10000000000010000000000") + struct.pack("<II", 0, 0x20261207)
              + bytes.fromhex("01010000600000006000000001000000") + bytes(4) + bytes(84))
    body = (struct.pack("<II", 0, 0) + bytes(20) + struct.pack("<QQQQ", attributes, xfrm,
                                                                  (1 << 64) - 1, (1 << 64) - 1)
            + mrenclave + bytes(32) + struct.pack("<HH", 1, 0))
    digest_info = bytes.fromhex("3031300d060960864801650304020105000420") + \
        hashlib.sha256(header + body).digest()
    em = b"\x00\x01" + b"\xff" * (384 - 3 - len(digest_info)) + b"\x00" + digest_info
    s = pow(int.from_bytes(em, "big"), d, n)
    q1 = s * s // n
    q2 = s * (s * s - q1 * n) // n
    le = lambda v: v.to_bytes(384, "little")
    return header + le(n) + struct.pack("<I", 3) + le(s) + body + bytes(12) + le(q1) + le(q2)


def sgx_mrenclave(size, ssa, segments, enclave):
    """MRENCLAVE as tests/unit/sgx-reference.py computes it."""
    h = hashlib.sha256(struct.pack("<QIQ", 0x0045544145524345, ssa, size) + bytes(44))
    for offset, pages, flags, measure in segments:
        for page in range(offset, offset + pages * 4096, 4096):
            h.update(struct.pack("<QQQ", 0x0000000044444145, page, flags) + bytes(40))
            for c in range(page, page + 4096, 256) if measure else ():
                h.update(struct.pack("<QQ", 0x00444E4554584545, c) + bytes(48) + enclave[c:c + 256])
    return h.digest()


def sgx_image_seeds(work):
    key = rsa3_key(work)
    tcs = bytearray(4096)
    tcs[16:24] = struct.pack("<Q", 4096)  # OSSA
    tcs[28] = 1                             # NSSA
    code = bytes((i * 31 + 7) & 0xff for i in range(4096))
    seeds = []
    for measure_code, perms in ((True, "rx"), (False, "rwx")):
        enclave = bytes(tcs) + code
        layout = {"size": 16384, "ssaFrameSize": 1, "segments": [
            {"offset": 0, "pages": 1, "type": "tcs"},
            {"offset": 4096, "pages": 1, "type": "reg", "permissions": perms,
             "measure": measure_code}]}
        flags = [0x100, 0x200 | {"rx": 5, "rwx": 7}[perms]]
        mr = sgx_mrenclave(16384, 1, [(0, 1, flags[0], True), (4096, 1, flags[1], measure_code)],
                           enclave)
        seeds.append(ustar([("enclave.bin", enclave), ("layout.json", js(layout)),
                            ("sigstruct", sigstruct(key, mr))]))
    # The same members in another order, and a SIGSTRUCT over another enclave.
    seeds.append(ustar([("sigstruct", sigstruct(key, bytes(32))), ("layout.json",
                        js(layout)), ("enclave.bin", enclave)]))
    return {"sgx-image": seeds}


def vcek_extensions(product, spls, hwid=None, csp=None):
    """Selector-3 records (fuzz-tsm-parse.c): productName, the SPLs (bl, tee, snp, ucode[, fmc])
    as DER INTEGERs, then hwID or csp_id, as AMD's KDS writes them."""
    def der_int(v):
        body = bytes([v]) if v < 0x80 else bytes([0, v])
        return b"\x02" + bytes([len(body)]) + body

    def record(index, value):
        return bytes([index, len(value)]) + value

    out = record(1, b"\x16" + bytes([len(product)]) + product.encode())
    for index, v in zip((2, 3, 4, 5, 6), spls):
        out += record(index, der_int(v))
    if hwid is not None:
        out += record(7, hwid)
    if csp is not None:
        out += record(8, b"\x16" + bytes([len(csp)]) + csp)
    return out


def write(out, seeds, clean):
    for name, items in seeds.items():
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        for f in os.listdir(d):
            if clean or re.fullmatch(r"[0-9a-f]{40}", f):
                os.unlink(os.path.join(d, f))
        for data in items:
            with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
                f.write(data)
        files = os.listdir(d)
        total = sum(os.path.getsize(os.path.join(d, f)) for f in files)
        print("%-12s %2d files %6d bytes" % (name, len(files), total))
        if len(files) > MAX_FILES or total > MAX_BYTES:
            sys.exit("make-seeds: corpus %s is larger than %d files or %d bytes" % (name, MAX_FILES, MAX_BYTES))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True, help="a build directory with the examples")
    ap.add_argument("--out", default=os.path.join(HERE, "corpus"), help="default: tests/fuzz/corpus")
    ap.add_argument("--clean", action="store_true", help="also remove hand-added inputs")
    ap.add_argument("--only", action="append", default=[], metavar="NAME",
                    help="regenerate only this corpus (repeatable)")
    ap.add_argument("--dry-run", action="store_true",
                    help="make and check every seed, write none (the test suite's run)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ebcc-seeds-") as work:
        seeds = {}
        if not args.only or set(args.only) - {"optee-attest", "tsm-parse", "sgx-quote",
                                              "sgx-image"}:
            seeds.update(collect(os.path.abspath(args.build), work))
        seeds.update(optee_attest_seeds(work))
        seeds.update(tsm_parse_seeds(work))
        seeds.update(sgx_quote_seeds(work))
        seeds.update(sgx_image_seeds(work))
    if args.only:
        seeds = {name: items for name, items in seeds.items() if name in args.only}
    if args.dry_run:
        for name, items in sorted(seeds.items()):
            print("%-12s %2d seeds made and checked, none written" % (name, len(items)))
        return
    write(args.out, seeds, args.clean)


if __name__ == "__main__":
    main()
