# SPDX-License-Identifier: MIT
"""ebcc-oci-hook and ebcc-call: confidential stages beside a container run by an unmodified
runc or crun.

The hook's command line and its refusals come first (no runtime needed), then the broker with
a host process as the anchor (the whole protocol, malformed frames included, from the test),
then real containers: a busybox-static rootfs made here, a config.json with the createRuntime
and poststop hooks and the bind mount of the socket directory, and a container whose process
sends requests to a stage with ebcc-call, checks the answers and leaves the evidence in a
bind-mounted directory. The test verifies that evidence offline against the sim key of the
hook's state root and the stage's measurement, and checks that nothing of libebcc remains
after the runtime deletes the container. A failing stage load must fail the container and
leave nothing either.
"""
import ctypes
import json
import os
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest
import uuid

import containers
import ebcc
from bundles import sha256, wait_until

# A command to run every hook under, e.g. "valgrind --error-exitcode=99 -q": meson's --wrap
# reaches only the interpreter, and the runtimes run the hook themselves.
WRAPPER = shlex.split(os.environ.get("EBCC_TEST_WRAPPER", ""))

_stage_info = ebcc.lib.ebcc_stage_info
_stage_info.restype = ctypes.c_int
_stage_info.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]

ERR = ebcc.error_codes()


def stage_info(inst, name):
    out = ctypes.c_void_p()
    ebcc.check(_stage_info(inst.handle, name.encode(), ctypes.byref(out)))
    return json.loads(ebcc.take_string(out))


def new_id(tag):
    return f"ebcc-hook-{tag}-{uuid.uuid4().hex[:12]}"


# ---- the socket protocol (ebcc-oci-hook(8), PROTOCOL) ----------------------------------------

def request_frame(stage=b"echo", nonce=b"", body=b"", magic=b"EBRQ", version=1, reserved=0,
                  stage_len=None, nonce_len=None, body_len=None):
    header = magic + bytes([version, len(stage) if stage_len is None else stage_len,
                            len(nonce) if nonce_len is None else nonce_len, reserved])
    header += struct.pack(">I", len(body) if body_len is None else body_len)
    return header + stage + nonce + body


def parse_response(data):
    """(status, message, body, evidence) of one response frame; it must be all of data."""
    magic, version, reserved, status, mlen, blen, elen = struct.unpack_from(">4sB3siIII", data)
    if (magic, version, reserved) != (b"EBRS", 1, b"\0\0\0"):
        raise AssertionError(f"not a response frame: {data[:24]!r}")
    if len(data) != 24 + mlen + blen + elen:
        raise AssertionError(f"response of {len(data)} bytes, header says {24 + mlen + blen + elen}")
    message = data[24:24 + mlen].decode()
    body = data[24 + mlen:24 + mlen + blen]
    evidence = data[24 + mlen + blen:].decode()
    return status, message, body, evidence


def exchange(path, data):
    """Sends data on a new connection to path, half-closes, returns all that comes back.
    A broker that refuses a request before reading all of it closes with data unread, and
    Linux then reports ECONNRESET instead of end of file once its answer has been read."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(60)
        s.connect(path)
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused early: the answer is there to read
        s.shutdown(socket.SHUT_WR)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


# ---- running the hook by hand ------------------------------------------------------------------

def run_hook(b, which, state):
    """Runs the hook as a runtime would, with state (dict or bytes) on stdin."""
    data = state if isinstance(state, bytes) else json.dumps(state).encode()
    argv = WRAPPER + [containers.HOOK, "--root", b.state_root, "--run-dir", b.run_dir, which]
    # As a runtime runs it: with the environment config.json gives, nothing else.
    env = dict(e.split("=", 1) for e in b.hook_env())
    rc, out, err = containers.run(argv, stdin=data, env=env)
    if WRAPPER:  # the wrapper's own notes are not the hook's output
        err = "".join(l for l in err.splitlines(True) if not re.match(r"^(--|==)\d+(--|==) ", l))
    return rc, out, err


def oci_state(b, status, pid=None, **extra):
    state = {"ociVersion": "1.0.2", "id": b.cid, "status": status, "bundle": b.bundle,
             "annotations": {"org.example": "hook"}}
    if pid is not None:
        state["pid"] = pid
    state.update(extra)
    return state


ONE_CALL_SCRIPT = """#!/bin/sh
# The container's side: one request to the echo stage through the hook's socket.
S=/run/ebcc/ebcc.sock
fail() { echo "$*" > /out/failed; exit 1; }
printf 'hello, stage' > /tmp/request
ebcc-call $S echo --nonce "$NONCE1" --evidence /out/evidence1.json < /tmp/request \\
    > /out/response1 || fail "call 1 failed"
[ "$(cat /out/response1)" = "hello, stage" ] || fail "response 1 is $(cat /out/response1)"
touch /out/done
"""

LIFECYCLE_SCRIPT = """#!/bin/sh
# The container's side: requests to the echo stage through the hook's socket, answers checked
# here, evidence left in /out; then it waits until the test says finish.
S=/run/ebcc/ebcc.sock
fail() { echo "$*" > /out/failed; exit 1; }
printf 'hello, stage' > /tmp/request1
ebcc-call $S echo --nonce "$NONCE1" --evidence /out/evidence1.json < /tmp/request1 \\
    > /out/response1 || fail "call 1 failed"
[ "$(cat /out/response1)" = "hello, stage" ] || fail "response 1 is $(cat /out/response1)"
printf 'upper:quiet words' | ebcc-call $S echo --nonce "$NONCE2" \\
    --evidence /out/evidence2.json > /out/response2 || fail "call 2 failed"
[ "$(cat /out/response2)" = "QUIET WORDS" ] || fail "response 2 is $(cat /out/response2)"
# Refusals: by the stage, an unknown stage, a request above the stage's maxRequest.
printf 'fail:please' | ebcc-call $S echo > /out/response-refused 2> /out/error-refused \\
    && fail "a refused request succeeded"
printf x | ebcc-call $S nosuch > /dev/null 2> /out/error-unknown \\
    && fail "an unknown stage answered"
head -c 5000 /dev/zero | ebcc-call $S echo > /dev/null 2> /out/error-too-big \\
    && fail "an oversized request passed"
# Four at once.
for i in 1 2 3 4; do printf "parallel $i" | ebcc-call $S echo > /out/parallel$i & done
wait
for i in 1 2 3 4; do
    [ "$(cat /out/parallel$i)" = "parallel $i" ] || fail "parallel $i is $(cat /out/parallel$i)"
done
touch /out/ready
while [ ! -e /out/finish ]; do sleep 0.05; done
"""


class HookCase(unittest.TestCase):
    def setUp(self):
        self.scratches = []
        self.containers = []  # (runtime, id): deleted by force whatever happens
        self.anchors = []     # host processes standing in for a container's process

    def tearDown(self):
        for rt, cid in self.containers:
            try:
                rt("delete", "--force", cid)
            except subprocess.TimeoutExpired:
                pass
        for b in self.scratches:
            # Whatever a failed test left behind: the hook's own poststop removes it.
            run_hook(b, "poststop", oci_state(b, "stopped"))
        for p in self.anchors:
            p.kill()
            p.wait()
        for b in self.scratches:
            b.remove()

    def scratch(self, tag):
        b = containers.HookedBundle(new_id(tag), hook_prefix=WRAPPER)
        self.scratches.append(b)
        return b

    def host_anchor(self):
        p = subprocess.Popen(["sleep", "600"], stdin=subprocess.DEVNULL,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.anchors.append(p)
        return p

    def one_line(self, err, prefix):
        lines = err.splitlines()
        self.assertEqual(len(lines), 1, f"expected one line on stderr, got {err!r}")
        self.assertTrue(lines[0].startswith(prefix), lines[0])
        return lines[0]

    def record(self, b):
        with open(os.path.join(b.run_dir, f"id-{b.cid}.json")) as f:
            return json.load(f)

    def assert_nothing_left(self, b, rt=None):
        if rt is not None:
            self.assertNotIn(b.cid, rt.ids(), f"{rt.name} still lists the container")
        with ebcc.Context(state_root=b.state_root) as ctx:
            self.assertEqual(json.loads(ebcc.list_instances(ctx)), [])
        if os.path.exists(b.state_root):
            # Only the library's own data (the sim key, which verifiers need) stays.
            self.assertEqual([n for n in os.listdir(b.state_root) if n != ".ebcc"], [])
        if os.path.exists(b.run_dir):
            self.assertEqual(os.listdir(b.run_dir), [], "the hook's record is left")
        self.assertEqual(os.listdir(b.sock_dir), [], "the socket is left")
        self.assertEqual(containers.processes_mentioning(b.dir), [], "a broker is left")
        reports = b.sanitizer_reports()
        if reports:
            with open(os.path.join(b.sanitizer_logs, reports[0])) as f:
                self.fail(f"sanitizer report from the hook: {f.read()[:4000]}")

    def verify_evidence(self, b, text, nonce, request, response, seq):
        envelope = json.loads(text)
        self.assertEqual((envelope["instance"], envelope["stage"], envelope["seq"],
                          envelope["nonce"]), (b.cid, "echo", seq, nonce))
        policy = containers.echo_policy(b.state_root, nonce, request, response)
        # Offline: a context of its own, no state root, only the evidence, policy and key.
        with ebcc.Context() as ctx, ebcc.Evidence.parse(ctx, text) as ev:
            ev.verify(ctx, policy)
            for wrong in ({"nonce": "00" * 32}, {"response_digest": sha256(b"other")},
                          {"measurement": sha256(b"another image")}):
                with self.assertRaises(ebcc.EbccError) as cm:
                    ev.verify(ctx, dict(policy, **wrong))
                self.assertEqual(cm.exception.name, "EBCC_ERR_VERIFY")

    def run_one_call(self, rt_class, tag, annotation_manifest=False):
        """The whole lifecycle in one `run`: hooks, one request, evidence, poststop."""
        b = self.scratch(tag)
        rt = rt_class(b.runtime_root)
        nonce = os.urandom(32).hex()
        annotations = None
        if annotation_manifest:
            b.write_manifest(name="hook-manifest.json")
            annotations = {"org.ebcc.manifest": "hook-manifest.json"}
        else:
            b.write_manifest()
        b.write_script(ONE_CALL_SCRIPT)
        b.write_config(["sh", "/check.sh"], env=[f"NONCE1={nonce}"], annotations=annotations)
        self.containers.append((rt, b.cid))
        rc, out, err = rt("run", "--bundle", b.bundle, b.cid)
        failed = os.path.join(b.out, "failed")
        self.assertFalse(os.path.exists(failed),
                         f"the container says: {b.out_file('failed') if os.path.exists(failed) else ''}")
        self.assertEqual(rc, 0, f"{rt.name} run: {err}")
        self.assertTrue(os.path.exists(os.path.join(b.out, "done")))
        self.verify_evidence(b, b.out_file("evidence1.json"), nonce, b"hello, stage",
                             b"hello, stage", 1)
        self.assert_nothing_left(b, rt)


@unittest.skipUnless(containers.HOOK and os.access(containers.HOOK, os.X_OK),
                     "ebcc-oci-hook not built")
class HookCommandLineTest(HookCase):
    """What the hook refuses, before anything is created."""

    def test_usage_errors_are_one_line(self):
        b = self.scratch("usage")
        for args, text in (([], "which hook?"), (["prestart"], "unknown hook"),
                           (["--root", "relative", "poststop"], "--root must be an absolute"),
                           (["--bogus", "poststop"], "unknown option"),
                           (["create-runtime", "poststop"], "too many arguments")):
            rc, out, err = containers.run([containers.HOOK] + args)
            self.assertEqual((rc, out), (1, ""), args)
            self.assertIn(text, self.one_line(err, "ebcc-oci-hook: "))
        rc, out, _ = containers.run([containers.HOOK, "--help"])
        self.assertEqual(rc, 0)
        self.assertTrue(out.startswith("usage: ebcc-oci-hook"))
        self.assertFalse(os.path.exists(b.run_dir))

    def test_malformed_states_are_refused_before_anything_is_created(self):
        b = self.scratch("state")
        good = oci_state(b, "creating", pid=os.getpid())
        text = json.dumps(good)
        cases = [
            (b"", "empty"),
            (b"{", "not JSON"),
            (b"[]", "not a JSON object"),
            (text.encode() + b" x", "not JSON"),
            (text[:-1].encode() + b', "id": "other"}', "a key appears twice"),
            (json.dumps(dict(good, annotations={"a": "1"})).replace(
                '"a": "1"', '"a": "1", "a": "2"').encode(), "a key appears twice"),
            (json.dumps(dict(good, id="a\0b")).encode(), "NUL byte"),
            (b'{"id": "\xff"}', "not JSON"),
            (json.dumps({k: v for k, v in good.items() if k != "id"}).encode(),
             '"id" is missing'),
            (json.dumps(dict(good, id=7)).encode(), '"id" is not a string'),
            (json.dumps(dict(good, id="a/b")).encode(), "is not 1 to 1024"),
            (json.dumps(dict(good, id="..")).encode(), "is not 1 to 1024"),
            (json.dumps(dict(good, id="x" * 1025)).encode(), "is not 1 to 1024"),
            (json.dumps(dict(good, ociVersion="one")).encode(), "is not a version"),
            (json.dumps(dict(good, status="paused")).encode(), "is not creating, created"),
            (json.dumps(dict(good, status="running")).encode(), "is not creating or created"),
            (json.dumps({k: v for k, v in good.items() if k != "pid"}).encode(), 'no "pid"'),
            (json.dumps(dict(good, pid=-1)).encode(), "is not a process id"),
            (json.dumps(dict(good, pid=1.5)).encode(), '"pid" is not an integer'),
            (json.dumps(dict(good, bundle="bundle")).encode(), "is not an absolute path"),
            (json.dumps(dict(good, annotations={"k": 5})).encode(), '"k" is not a string'),
            (json.dumps(dict(good, annotations=[])).encode(), '"annotations" is not an object'),
            (text.encode() + b" " * (1 << 20), "more than 1048576 bytes"),
        ]
        for data, text_expected in cases:
            rc, out, err = run_hook(b, "create-runtime", data)
            self.assertEqual((rc, out), (1, ""), data[:80])
            line = self.one_line(err, "ebcc-oci-hook: container state on stdin: ")
            self.assertIn(text_expected, line)
        rc, _, err = run_hook(b, "poststop", oci_state(b, "created"))
        self.assertIn("is not stopped", self.one_line(err, "ebcc-oci-hook: "))
        self.assertFalse(os.path.exists(b.run_dir))
        self.assertFalse(os.path.exists(b.state_root))

    def test_poststop_with_nothing_to_remove_succeeds(self):
        # Runtimes run poststop after a failed createRuntime too; crun says pid 0 and adds
        # "root", runc leaves pid out and says "1.0.2-dev".
        b = self.scratch("idle")
        for state in (oci_state(b, "stopped", pid=0, root="rootfs", ociVersion="1.0"),
                      oci_state(b, "stopped", ociVersion="1.0.2-dev")):
            self.assertEqual(run_hook(b, "poststop", state), (0, "", ""))

    def test_bad_hook_settings_are_refused_and_leave_nothing(self):
        b = self.scratch("settings")
        anchor = self.host_anchor()
        b.write_config(["true"])
        state = oci_state(b, "creating", pid=anchor.pid)
        missing = os.path.join(b.dir, "nowhere")
        cases = [
            (None, "no object tools.ociHook"),
            ({"ociHook": {}}, "has no socketDir"),
            ({"ociHook": {"socketdir": b.sock_dir}}, 'unknown key "socketdir"'),
            ({"ociHook": {"socketDir": "../sock"}}, 'has a ".." component'),
            ({"ociHook": {"socketDir": 5}}, '"socketDir" is not a string'),
            ({"ociHook": {"socketDir": missing}}, f"socket directory {missing}"),
        ]
        for tools, text in cases:
            b.write_manifest(tools=tools)
            rc, out, err = run_hook(b, "create-runtime", state)
            self.assertEqual((rc, out), (1, ""), tools)
            self.assertIn(text, self.one_line(err, "ebcc-oci-hook: "))
            self.assert_nothing_left(b)
        # A socket directory others may write to could have its socket swapped.
        b.write_manifest()
        os.chmod(b.sock_dir, 0o777)
        rc, _, err = run_hook(b, "create-runtime", state)
        self.assertIn("writable by nobody else", self.one_line(err, "ebcc-oci-hook: "))
        os.chmod(b.sock_dir, 0o755)
        self.assert_nothing_left(b)
        # A manifest named by the annotation that is not there.
        rc, _, err = run_hook(b, "create-runtime",
                              dict(state, annotations={"org.ebcc.manifest": "absent.json"}))
        self.assertIn("absent.json", self.one_line(err, "ebcc-oci-hook: stage manifest "))
        self.assert_nothing_left(b)

    def test_a_second_create_for_the_same_id_takes_nothing_over(self):
        b = self.scratch("twice")
        anchor = self.host_anchor()
        b.write_config(["true"])
        b.write_manifest()
        os.makedirs(b.run_dir)
        record = os.path.join(b.run_dir, f"id-{b.cid}.json")
        with open(record, "w"):
            pass
        rc, _, err = run_hook(b, "create-runtime", oci_state(b, "creating", pid=anchor.pid))
        self.assertEqual(rc, 1)
        self.assertIn("already serves a container of this id", self.one_line(err, "ebcc-oci-hook: "))
        self.assertTrue(os.path.exists(record), "another run's record must stay")
        self.assertEqual(os.listdir(b.sock_dir), [])


@unittest.skipUnless(containers.HOOK and containers.ECHO_STAGE and
                     os.access(containers.ECHO_STAGE, os.X_OK),
                     "ebcc-oci-hook or the echo stage not built")
class BrokerTest(HookCase):
    """The hook with a host process standing in for the container's: the broker's protocol
    from the test itself (the host process's namespaces are the anchor's here), and what
    happens when the anchor exits or poststop comes."""

    def setUp(self):
        super().setUp()
        self.b = self.scratch("broker")
        self.anchor = self.host_anchor()
        self.b.write_config(["true"])
        self.b.write_manifest()
        rc, out, err = run_hook(self.b, "create-runtime",
                                oci_state(self.b, "creating", pid=self.anchor.pid))
        self.assertEqual((rc, out, err), (0, "", ""))

    def test_requests_and_malformed_frames(self):
        b = self.b
        nonce = os.urandom(64)
        status, message, body, evidence = parse_response(
            exchange(b.socket(), request_frame(nonce=nonce, body=b"upper:raw")))
        self.assertEqual((status, message, body), (0, "", b"RAW"))
        self.verify_evidence(b, evidence, nonce.hex(), b"upper:raw", b"RAW", 1)
        # No nonce and an empty body are requests too.
        status, _, body, evidence = parse_response(exchange(b.socket(), request_frame()))
        self.assertEqual((status, body, json.loads(evidence)["nonce"]), (0, b"", ""))

        invalid = ERR["EBCC_ERR_INVALID_ARG"]
        cases = [
            (request_frame(magic=b"EBRX"), invalid, 'does not start with "EBRQ"'),
            (request_frame(version=2), invalid, "protocol version is not 1"),
            (request_frame(reserved=1), invalid, "reserved byte is not 0"),
            (request_frame(stage=b""), invalid, "stage name length is not 1..64"),
            (request_frame(stage=b"e" * 65), invalid, "stage name length is not 1..64"),
            (request_frame(nonce=b"n" * 65), invalid, "nonce is longer than 64 bytes"),
            (request_frame(body_len=(64 << 20) + 1), invalid, "body is longer than 67108864"),
            (request_frame()[:7], invalid, "ends before its header"),
            (request_frame(stage=b"echo")[:14], invalid, "ends before its stage name"),
            (request_frame(nonce=b"0123456789")[:18], invalid, "ends before its nonce"),
            (request_frame(body=b"0123456789", body_len=100), invalid, "ends before its body"),
            (request_frame(stage=b"Echo!"), invalid, "stage name is not 1 to 64"),
            (request_frame(stage=b"nosuch"), ERR["EBCC_ERR_NOT_FOUND"], '"nosuch"'),
            # Refused unread: above the manifest's maxRequest of 4096 bytes.
            (request_frame(body_len=4097), ERR["EBCC_ERR_TOO_BIG"], "maxRequest of 4096"),
            (request_frame(body=b"x" * 4097), ERR["EBCC_ERR_TOO_BIG"], "maxRequest of 4096"),
        ]
        for frame, code, text in cases:
            status, message, body, evidence = parse_response(exchange(b.socket(), frame))
            self.assertEqual((status, body, evidence), (code, b"", ""), (frame[:40], message))
            self.assertIn(text, message)
        # A connection that asks nothing gets nothing; the broker goes on serving.
        self.assertEqual(exchange(b.socket(), b""), b"")
        status, _, body, _ = parse_response(exchange(b.socket(), request_frame(body=b"again")))
        self.assertEqual((status, body), (0, b"again"))

    def test_the_anchor_exiting_ends_broker_and_stages_and_poststop_removes_the_rest(self):
        b = self.b
        broker = self.record(b)["broker"]["pid"]
        with ebcc.Context(state_root=b.state_root) as ctx, \
                ebcc.Instance.open(ctx, b.cid) as inst:
            self.assertEqual(inst.status(), "running")
            self.assertEqual(json.loads(inst.state())["pid"], self.anchor.pid)
            stage = stage_info(inst, "echo")["isolation"]["pid"]
        self.assertTrue(containers.running(broker) and containers.running(stage))
        self.anchor.kill()
        self.anchor.wait()
        self.assertTrue(wait_until(lambda: not containers.running(broker)), "the broker stays")
        self.assertFalse(containers.running(stage), "the stage outlives its broker")
        self.assertFalse(os.path.exists(b.socket()))
        # Stopped, but kept until poststop: its artifacts are still there to read.
        with ebcc.Context(state_root=b.state_root) as ctx, \
                ebcc.Instance.open(ctx, b.cid) as inst:
            self.assertEqual(inst.status(), "stopped")
        self.assertEqual(run_hook(b, "poststop", oci_state(b, "stopped")), (0, "", ""))
        self.assert_nothing_left(b)

    def test_poststop_stops_a_serving_broker(self):
        b = self.b
        broker = self.record(b)["broker"]["pid"]
        self.assertEqual(run_hook(b, "poststop", oci_state(b, "stopped")), (0, "", ""))
        self.assertFalse(containers.running(broker))
        self.assert_nothing_left(b)


class PrecreateTest(HookCase):
    """precreate (podman's hooks.d stage) and auto: a socket directory made for each
    container, mounted at /run/ebcc and named in org.ebcc.socketDir."""

    def config(self, b, **extra):
        config = {"ociVersion": "1.0.2", "process": {"args": ["sh"], "cwd": "/"},
                  "root": {"path": "/somewhere/merged"}, "big": 18446744073709551615,
                  "f": 1.10, "mounts": [
                      {"destination": "/proc", "type": "proc", "source": "proc"},
                      {"destination": "/run/ebcc/", "type": "tmpfs", "source": "tmpfs"}],
                  "annotations": {"org.ebcc.manifest": os.path.join(b.bundle, "ebcc.json"),
                                  "org.ebcc.socketDir": "/etc"}}
        config.update(extra)
        return config

    def sockets(self, b):
        d = os.path.join(b.run_dir, "sockets")
        return sorted(os.listdir(d)) if os.path.exists(d) else []

    def test_precreate_mounts_a_directory_of_its_own(self):
        b = self.scratch("pre")
        config = self.config(b)
        seen = set()
        # A number's text stays as written (1.10 is not rewritten as 1.1).
        text = json.dumps(config).replace('"f": 1.1,', '"f": 1.10,').encode()
        self.assertIn(b"1.10", text)
        for which in ("precreate", "auto"):
            rc, out, err = run_hook(b, which, text)
            self.assertEqual((rc, err), (0, ""))
            new = json.loads(out)
            dir = new["annotations"].pop("org.ebcc.socketDir")
            self.assertRegex(dir, "^" + re.escape(os.path.join(b.run_dir, "sockets")) +
                             "/[0-9a-f]{32}$")
            self.assertNotIn(dir, seen)
            seen.add(dir)
            self.assertEqual(os.stat(dir).st_mode & 0o7777, 0o711)
            self.assertEqual(os.stat(os.path.dirname(dir)).st_mode & 0o7777, 0o700)
            self.assertEqual(os.listdir(dir), [])
            # The mount at /run/ebcc replaced, last; everything else as it was.
            want = json.loads(json.dumps(config))
            del want["annotations"]["org.ebcc.socketDir"]
            want["mounts"] = [want["mounts"][0], {
                "destination": "/run/ebcc", "type": "bind", "source": dir,
                "options": ["rbind", "ro", "nosuid", "nodev", "noexec"]}]
            self.assertEqual(new, want)
            self.assertIn('"big":18446744073709551615', out)
            self.assertIn('"f":1.10', out)
        for name in self.sockets(b):
            os.rmdir(os.path.join(b.run_dir, "sockets", name))

    def test_precreate_refusals_leave_no_directory(self):
        b = self.scratch("pre-bad")
        cases = [
            (b"not json", "precreate", "ebcc-oci-hook: "),
            (b"[1]", "precreate", "ebcc-oci-hook: the OCI configuration on stdin: not a JSON"),
            (json.dumps({"ociVersion": "1.0.2"}).encode(), "precreate",
             'ebcc-oci-hook: the OCI configuration on stdin: no "annotations" object'),
            (json.dumps(self.config(b, mounts={})).encode(), "auto",
             'ebcc-oci-hook: the OCI configuration on stdin: "mounts" is not an array'),
            (b'{"a": 1, "a": 2}', "auto", "ebcc-oci-hook: "),
        ]
        for data, which, prefix in cases:
            rc, out, err = run_hook(b, which, data)
            self.assertEqual((rc, out), (1, ""), data)
            self.one_line(err, prefix)
            self.assertEqual(self.sockets(b), [], data)

    def test_only_a_directory_of_precreate_is_taken_from_the_annotation(self):
        b = self.scratch("pre-forged")
        b.write_manifest(tools=None)
        anchor = self.host_anchor()
        for forged in (b.sock_dir, os.path.join(b.run_dir, "sockets", "0" * 31),
                       os.path.join(b.run_dir, "sockets", "0" * 32, "x")):
            state = oci_state(b, "creating", pid=anchor.pid)
            state["annotations"]["org.ebcc.socketDir"] = forged
            rc, out, err = run_hook(b, "create-runtime", state)
            self.assertEqual((rc, out), (1, ""))
            self.assertIn("is no socket directory of the precreate hook", err)
            self.assertEqual(os.listdir(b.sock_dir), [])
        self.assert_nothing_left(b)

    def test_precreate_sweeps_what_no_container_took(self):
        b = self.scratch("pre-sweep")
        base = os.path.join(b.run_dir, "sockets")
        os.makedirs(base, mode=0o700)
        old, fresh, busy = (os.path.join(base, c * 32) for c in "abc")
        for d in (old, fresh, busy):
            os.mkdir(d, 0o711)
        open(os.path.join(busy, "ebcc.sock"), "w").close()
        for d in (old, busy):
            os.utime(d, (time.time() - 3600, time.time() - 3600))
        rc, out, err = run_hook(b, "precreate", self.config(b))
        self.assertEqual(rc, 0, err)
        made = json.loads(out)["annotations"]["org.ebcc.socketDir"]
        self.assertEqual(self.sockets(b), sorted(os.path.basename(d) for d in (fresh, busy, made)))
        shutil.rmtree(base)

    def test_runc_with_the_three_stages_of_auto(self):
        # What podman does, by hand: precreate's configuration for runc, whose createRuntime
        # and poststop hooks are the same auto entry.
        b = self.scratch("pre-runc")
        if containers.missing_prerequisites("runc") is not None:
            self.skipTest(containers.missing_prerequisites("runc"))
        rt = containers.Runc(b.runtime_root)
        nonce = os.urandom(32).hex()
        b.write_manifest(tools=None)
        b.write_script(ONE_CALL_SCRIPT)
        b.write_config(["sh", "/check.sh"], env=[f"NONCE1={nonce}"],
                       annotations={"org.ebcc.manifest": "ebcc.json"})
        path = os.path.join(b.bundle, "config.json")
        with open(path) as f:
            config = json.load(f)
        config["hooks"] = {stage: [dict(b.hook_entry("auto"))] for stage in
                           ("createRuntime", "poststop")}
        rc, out, err = run_hook(b, "auto", config)
        self.assertEqual(rc, 0, err)
        dir = json.loads(out)["annotations"]["org.ebcc.socketDir"]
        with open(path, "w") as f:
            f.write(out)
        self.containers.append((rt, b.cid))
        rc, _, err = rt("run", "--bundle", b.bundle, b.cid)
        self.assertEqual(rc, 0, f"runc run: {err}")
        self.assertTrue(os.path.exists(os.path.join(b.out, "done")), b.out_file("failed")
                        if os.path.exists(os.path.join(b.out, "failed")) else "")
        self.verify_evidence(b, b.out_file("evidence1.json"), nonce, b"hello, stage",
                             b"hello, stage", 1)
        self.assertFalse(os.path.exists(dir), "the socket directory is left")
        self.assertEqual(self.sockets(b), [])
        os.rmdir(os.path.join(b.run_dir, "sockets"))
        self.assert_nothing_left(b, rt)


class ContainerCase(HookCase):
    runtime_class = None

    @classmethod
    def setUpClass(cls):
        why = containers.missing_prerequisites(cls.runtime_class.name)
        if why is not None:
            raise unittest.SkipTest(why)


class RuncTest(ContainerCase):
    runtime_class = containers.Runc

    def test_lifecycle_create_start_exec_delete(self):
        b = self.scratch("runc")
        rt = containers.Runc(b.runtime_root)
        nonces = [os.urandom(32).hex(), os.urandom(16).hex()]
        b.write_manifest()
        b.write_script(LIFECYCLE_SCRIPT)
        b.write_config(["sh", "/check.sh"], env=[f"NONCE1={nonces[0]}", f"NONCE2={nonces[1]}"])
        self.containers.append((rt, b.cid))

        rc, _, err = rt("create", "--bundle", b.bundle, b.cid)
        self.assertEqual(rc, 0, f"runc create: {err}")
        self.assertEqual(rt.status(b.cid), "created")
        pid = json.loads(rt("state", b.cid)[1])["pid"]
        # The composite: the container's process is its anchor, its stages are loaded.
        with ebcc.Context(state_root=b.state_root) as ctx, \
                ebcc.Instance.open(ctx, b.cid) as inst:
            state = json.loads(inst.state())
            self.assertEqual((state["pid"], state["bundle"]), (pid, b.bundle))
            self.assertEqual(inst.status(), "running")
            info = stage_info(inst, "echo")
            self.assertIsInstance(info["eid"], int)
            stage = info["isolation"]["pid"]
        broker = self.record(b)["broker"]["pid"]
        self.assertTrue(containers.running(broker) and containers.running(stage))
        # The socket is there for the container only: a host process is refused.
        status, message, _, _ = parse_response(exchange(b.socket(), request_frame(body=b"x")))
        self.assertEqual(status, ERR["EBCC_ERR_PERMISSION"])
        self.assertIn("is not a process of this container", message)

        self.assertEqual(rt("start", b.cid)[0], 0)
        self.assertTrue(wait_until(lambda: os.path.exists(os.path.join(b.out, "ready")) or
                                   os.path.exists(os.path.join(b.out, "failed"))))
        self.assertFalse(os.path.exists(os.path.join(b.out, "failed")),
                         b.out_file("failed") if os.path.exists(os.path.join(b.out, "failed"))
                         else "")
        # A process added to the container later is one of its processes as well.
        rc, out, err = rt("exec", b.cid, "sh", "-c",
                          f"printf later | ebcc-call {containers.SOCKET_IN_CONTAINER} echo")
        self.assertEqual((rc, out), (0, "later"), err)

        # What the container saw: answers, and one-line refusals naming the stage.
        self.assertEqual(b.out_file("response-refused"), "")
        line = self.one_line(b.out_file("error-refused"), "ebcc-call: echo: ")
        self.assertIn("EBCC_ERR_", line)
        line = self.one_line(b.out_file("error-unknown"), "ebcc-call: nosuch: ")
        self.assertIn("EBCC_ERR_NOT_FOUND", line)
        line = self.one_line(b.out_file("error-too-big"), "ebcc-call: echo: ")
        self.assertIn("maxRequest of 4096", line)
        self.verify_evidence(b, b.out_file("evidence1.json"), nonces[0], b"hello, stage",
                             b"hello, stage", 1)
        self.verify_evidence(b, b.out_file("evidence2.json"), nonces[1], b"upper:quiet words",
                             b"QUIET WORDS", 2)

        with open(os.path.join(b.out, "finish"), "w"):
            pass
        self.assertTrue(wait_until(lambda: rt.status(b.cid) == "stopped"))
        # Its process has exited: broker and stages are gone, the composite is kept, stopped,
        # until the runtime deletes the container.
        self.assertTrue(wait_until(lambda: not containers.running(broker)), "the broker stays")
        self.assertFalse(containers.running(stage), "the stage outlives the container")
        with ebcc.Context(state_root=b.state_root) as ctx, \
                ebcc.Instance.open(ctx, b.cid) as inst:
            self.assertEqual(inst.status(), "stopped")
        rc, _, err = rt("delete", b.cid)
        self.assertEqual(rc, 0, f"runc delete: {err}")
        self.assert_nothing_left(b, rt)

    def test_run_in_one_call_with_the_manifest_named_by_annotation(self):
        self.run_one_call(containers.Runc, "runc-run", annotation_manifest=True)

    def failing_run(self, b, expect):
        rt = containers.Runc(b.runtime_root)
        b.write_script(ONE_CALL_SCRIPT)
        b.write_config(["sh", "/check.sh"], env=["NONCE1=00"])
        self.containers.append((rt, b.cid))
        rc, _, err = rt("run", "--bundle", b.bundle, b.cid)
        self.assertNotEqual(rc, 0)
        # runc quotes the hook's one line in its own error.
        self.assertRegex(err, r"ebcc-oci-hook: [^\n]*" + expect)
        self.assertFalse(os.path.exists(os.path.join(b.out, "done")), "the container ran")
        self.assert_nothing_left(b, rt)

    def test_a_wrong_measurement_fails_the_container_and_leaves_nothing(self):
        b = self.scratch("runc-pin")
        b.write_manifest(stages=[{"name": "echo", "image": "stages/echo",
                                  "measurement": "sha256:" + "0" * 64}])
        self.failing_run(b, r"create composite [^\n]*but the manifest pins[^\n]*EBCC_ERR_VERIFY")

    def test_a_dynamically_linked_stage_fails_the_container_and_leaves_nothing(self):
        b = self.scratch("runc-dyn")
        dynamic = "/bin/true"
        if not containers.elf_interpreter(dynamic):
            self.skipTest(f"{dynamic} is not dynamically linked here")
        os.unlink(os.path.join(b.bundle, "stages", "echo"))
        with open(dynamic, "rb") as src, open(os.path.join(b.bundle, "stages", "echo"), "wb") as dst:
            dst.write(src.read())
        os.chmod(os.path.join(b.bundle, "stages", "echo"), 0o755)
        b.write_manifest()
        self.failing_run(b, r"start composite [^\n]*dynamically linked")


class CrunTest(ContainerCase):
    runtime_class = containers.Crun

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        why = containers.crun_unusable(new_id("crun-probe"))
        if why is not None:
            raise unittest.SkipTest(why)

    def test_run_in_one_call(self):
        self.run_one_call(containers.Crun, "crun")


if __name__ == "__main__":
    unittest.main()
