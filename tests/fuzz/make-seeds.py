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
  frame-host       what a stage sends the host: LOG, RESPONSE and ERROR frames (lib/frame.h)
  frame-stage      what the host sends a stage: REQUEST frames, for fuzz-frame-stage.c's handler

Each corpus stays small (at most 30 files, 64 KiB). Files are named by their SHA-1, as libFuzzer
names what it finds; a regression input added by hand keeps its own name and is left alone
unless --clean is given.
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
        cmd = [self.exe, "--root", self.root] + list(args)
        if detach:
            # The anchor inherits stdio: give it none, so nothing waits for it.
            subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=True, timeout=60)
            return b""
        p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=60)
        if check and p.returncode != 0:
            sys.exit("make-seeds: %s failed: %s" % (" ".join(args), p.stderr.decode(errors="replace")))
        return p.stdout


def js(obj, **kw):
    return json.dumps(obj, separators=(",", ":"), **kw).encode()


def make_bundle(path, build, config, manifest):
    os.makedirs(os.path.join(path, "stages"), exist_ok=True)
    for stage in ("echo", "scorer"):
        shutil.copy(os.path.join(build, "examples", "stages", stage), os.path.join(path, "stages", stage))
    with open(os.path.join(path, "config.json"), "wb") as f:
        f.write(config)
    with open(os.path.join(path, "ebcc.json"), "wb") as f:
        f.write(manifest)


def frame(ftype, payload):
    return struct.pack("<BBBBI", 0xEB, 0xCC, 1, ftype, len(payload)) + payload


REQUEST, RESPONSE, LOG, ERROR = 1, 2, 3, 4


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
    with open(os.path.join(keydir, "device-key.pem"), "w", encoding="ascii", opener=lambda p, f: os.open(p, f, 0o600)) as f:
        f.write(private_key_pem())
    rt = Runtime(build, root)
    if rt.run("attestation-key").decode() != pub:
        sys.exit("make-seeds: sim-device-key.pem and fuzz-key.h hold different keys")

    echo_image = open(os.path.join(build, "examples", "stages", "echo"), "rb").read()
    echo_measurement = "sha256:" + hashlib.sha256(echo_image).hexdigest()

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
                            "backendOptions": {"note": "seed", "list": [1, 2.5, None, True]}},
                           {"name": "scorer", "image": "stages/scorer", "lifetime": "invocation"}],
                "tools": {"hook": {"socketDir": "/run/ebcc-hook"}}}, indent=2)),
        "noanchor": (
            js({"ociVersion": "1.0.2", "annotations": {}}),
            js({"ebccVersion": "0.1", "stages": [{"name": "echo", "image": "stages/echo"}]})),
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

    for cid, key in (("fz-full", "full"), ("fz-noanchor", "noanchor")):
        b = os.path.join(work, cid)
        make_bundle(b, build, *bundles[key])
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
    rt.run("kill", "fz-full", "KILL")
    rt.run("wait", "fz-full", check=False)  # exits with the anchor's status, 128 + SIGKILL
    seeds["state"].append(state_of("fz-full"))
    for cid in ("fz-full", "fz-noanchor"):
        rt.run("delete", "--force", cid)

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
        frame(RESPONSE, b"hello"),
        frame(LOG, b"loading model") + frame(LOG, b"") + frame(RESPONSE, b'{"score": 30}'),
        frame(RESPONSE, b""),
        frame(LOG, b"about to fail") + error_frame(-16, b"the stage's handler failed the request"),
        error_frame(-2, b""),
        b"".join(frame(LOG, b"x" * 200) for _ in range(6)) + frame(RESPONSE, b"late"),
    ]
    seeds["frame-stage"] += [
        frame(REQUEST, b"hello"),
        frame(REQUEST, b"") + frame(REQUEST, b"again"),
        frame(REQUEST, b"Lstarting up") + frame(REQUEST, b"echo"),
        frame(REQUEST, b"Efail please"),
        frame(REQUEST, b"N") + frame(REQUEST, b"X"),
        frame(REQUEST, b'{"amount": 1250, "country": "DE"}') + frame(REQUEST, b"\x00" * 100),
    ]
    return seeds


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
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="ebcc-seeds-") as work:
        seeds = collect(os.path.abspath(args.build), work)
    write(args.out, seeds, args.clean)


if __name__ == "__main__":
    main()
