# SPDX-License-Identifier: MIT
"""ebcc-runtime as operators and scripts drive it: every call a new process, like runc.

Checks outputs and exit codes of the whole lifecycle (create, start, state, invoke, evidence,
verify, kill, wait, delete), the OCI state schema rules, usage errors, one-line errors, offline
verification, and the log. Bundle processes write to files, and every call's stdio goes to
files rather than pipes: an anchor started by `create` inherits the caller's stdio, as runc's
would, and would hold a pipe open for as long as it runs.
"""
import json
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
import unittest

import bundles
from bundles import wait_until

RUNTIME = os.environ.get("EBCC_RUNTIME")
# A command to run every ebcc-runtime call under, e.g. "valgrind --error-exitcode=99 -q":
# meson's --wrap reaches only the interpreter, not the programs it starts.
WRAPPER = shlex.split(os.environ.get("EBCC_TEST_WRAPPER", ""))


def runtime_env():
    env = dict(os.environ)
    # Under AddressSanitizer the suite turns leak checks off for the interpreter; the runtime is
    # our own program and must not leak, so they are back on for it.
    if "libasan" in env.get("LD_PRELOAD", ""):
        env["ASAN_OPTIONS"] = "detect_leaks=1"
    env.pop("EBCC_LOG_LEVEL", None)
    return env


# These tests drive the runtime's own plain-process anchor; test_runtime_oci.py drives it in
# front of runc and crun.
ANCHOR = ["--anchor=process"]


def run(*args, root=None, stdin=None, timeout=60):
    """Runs ebcc-runtime --anchor=process [--root root] args; returns (returncode, stdout,
    stderr)."""
    argv = WRAPPER + [RUNTIME] + ANCHOR + (["--root", root] if root is not None else []) + \
        [str(a) for a in args]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryFile() as inp:
        if stdin is not None:
            inp.write(stdin if isinstance(stdin, bytes) else stdin.encode())
            inp.seek(0)
        proc = subprocess.run(argv, stdin=inp, stdout=out, stderr=err, env=runtime_env(),
                              timeout=timeout)
        out.seek(0)
        err.seek(0)
        stderr = err.read().decode(errors="replace")
        if WRAPPER:  # the wrapper's own notes are not the runtime's output
            stderr = "".join(l for l in stderr.splitlines(True)
                             if not re.match(r"^(--|==)\d+(--|==) ", l))
        return proc.returncode, out.read().decode(errors="replace"), stderr


def two_stage_bundle(directory, process):
    """The echo image twice: "echo" warm (instance lifetime), "fresh" per invocation."""
    return bundles.make_bundle(directory, process=process, stages=[
        {"name": "echo", "image": "stages/echo"},
        {"name": "fresh", "image": "stages/echo", "lifetime": "invocation"}])


def sleeper(marker=None):
    script = "exec sleep 60" if marker is None else f"echo started > {marker}; exec sleep 60"
    return {"args": ["sh", "-c", script], "cwd": "/", "env": ["PATH=/usr/bin:/bin"]}


class RuntimeCase(unittest.TestCase):
    def setUp(self):
        self.scratch = bundles.Scratch().__enter__()
        self.root = self.scratch.root
        self.bundle = self.scratch.bundle
        self.ids = []

    def tearDown(self):
        for cid in self.ids:
            run("delete", "--force", cid, root=self.root)
        self.scratch.__exit__(None, None, None)

    def ok(self, *args, stdin=None):
        rc, out, err = run(*args, root=self.root, stdin=stdin)
        self.assertEqual(rc, 0, f"{args} failed: {err}")
        return out, err

    def fails(self, *args, root=None, stdin=None, code=1):
        rc, out, err = run(*args, root=self.root if root is None else root, stdin=stdin)
        self.assertEqual(rc, code, f"{args}: exit {rc}, stderr {err!r}")
        return out, err

    def one_line_error(self, err, prefix):
        lines = err.splitlines()
        self.assertEqual(len(lines), 1, f"expected one line, got {err!r}")
        self.assertTrue(lines[0].startswith("ebcc-runtime: " + prefix), lines[0])
        return lines[0]

    def create(self, cid, process=None, extra=()):
        two_stage_bundle(self.bundle, process if process is not None else sleeper())
        self.ids.append(cid)
        return self.ok("create", "--bundle", self.bundle, *extra, cid)


@unittest.skipUnless(RUNTIME and bundles.have_stage(), "ebcc-runtime or the echo stage not built")
class LifecycleTest(RuntimeCase):
    def test_whole_lifecycle_each_call_its_own_process(self):
        marker = os.path.join(self.scratch.dir, "anchor.out")
        pid_file = os.path.join(self.scratch.dir, "pid")
        out, err = self.create("life", sleeper(marker), ("--pid-file", pid_file))
        self.assertEqual((out, err), ("", ""))

        out, _ = self.ok("state", "life")
        state = bundles.check_oci_state(self, out, "created")
        self.assertTrue(out.startswith("{\n  \""), "state is pretty-printed")
        with open(pid_file) as f:
            self.assertEqual(int(f.read()), state["pid"])
        self.assertGreater(state["pid"], 0)
        self.assertEqual(state["bundle"], os.path.realpath(self.bundle))
        self.assertFalse(os.path.exists(marker), "the anchor must wait for start")

        self.assertEqual(self.ok("start", "life"), ("", ""))
        self.assertTrue(wait_until(lambda: os.path.exists(marker)), "the anchor never ran")
        state = bundles.check_oci_state(self, self.ok("state", "life")[0], "running")
        stages = {s["name"]: s for s in state["ebcc"]["stages"]}
        self.assertIsInstance(stages["echo"]["eid"], int)
        self.assertIsNone(stages["fresh"]["eid"])

        # Requests from stdin and from a file; responses to stdout and to a file.
        request_file = os.path.join(self.scratch.dir, "request")
        response_file = os.path.join(self.scratch.dir, "response")
        with open(request_file, "w") as f:
            f.write("upper:from a file")
        nonces = ["00" * 32, "ab" * 16, "0123456789abcdef"]
        out, err = self.ok("invoke", "life", "echo", "--nonce", nonces[0], stdin="hello")
        self.assertEqual(out, "hello")
        self.assertEqual(err.splitlines()[0], "seq=1")
        self.assertIn(f"nonce={nonces[0]}", err.splitlines()[1])
        self.assertIn("simulated=true", err.splitlines()[1])
        out, err = self.ok("invoke", "life", "echo", "--in", request_file, "--out",
                           response_file, "--nonce", nonces[1])
        self.assertEqual(out, "")
        self.assertEqual(err.splitlines()[0], "seq=2")
        with open(response_file) as f:
            self.assertEqual(f.read(), "FROM A FILE")
        out, err = self.ok("invoke", "life", "echo", "--in", "-", "--out", "-", "--nonce",
                           nonces[2], stdin=b"\x00binary\xff")
        self.assertEqual(err.splitlines()[0], "seq=3")
        # Without --nonce, a fresh random one each time.
        eids = set()
        seen = set()
        for _ in range(2):
            _, err = self.ok("invoke", "life", "fresh", stdin="x")
            summary = err.splitlines()[1]
            seen.add(re.search(r"nonce=([0-9a-f]+)", summary).group(1))
            eids.add(re.search(r"eid=(\d+)", summary).group(1))
        self.assertEqual(len(seen), 2, "each invocation needs its own nonce")
        self.assertEqual(len(eids), 2, "an invocation-lifetime stage gets a new EID each time")

        # Evidence by seq and the latest, then offline verification with the exported key.
        key = os.path.join(self.scratch.dir, "key.pem")
        with open(key, "w") as f:
            f.write(self.ok("attestation-key", "sim")[0])
        for seq in (1, 2, 3):
            out, _ = self.ok("evidence", "life", "echo", seq)
            envelope = json.loads(out)
            self.assertEqual((envelope["seq"], envelope["nonce"]), (seq, nonces[seq - 1]))
            self.assertTrue(envelope["simulated"])
            path = os.path.join(self.scratch.dir, f"ev{seq}.json")
            with open(path, "w") as f:
                f.write(out)
            out, _ = self.ok("verify", "--key", key, "--allow-simulated", "--nonce",
                             nonces[seq - 1], "--measurement", envelope["measurement"], path)
            self.assertTrue(out.startswith(f"verified: stage echo of life, seq {seq}"), out)
            self.assertIn("SIMULATED", out)
            self.assertIn("\n  signature: valid\n", out)
            # --claims: what was verified, as the library's claims JSON.
            out, _ = self.ok("verify", "--key", key, "--allow-simulated", "--claims", path)
            claims = json.loads(out)
            self.assertEqual((claims["evidence"]["seq"], claims["evidence"]["stage"]),
                             (seq, "echo"))
            self.assertEqual(claims["backend"]["signature"], "valid", claims["backend"])
        latest = json.loads(self.ok("evidence", "life", "echo")[0])
        self.assertEqual(latest["seq"], 3)
        # The wrong nonce, no key, or simulated evidence without consent: refused.
        _, err = self.fails("verify", "--key", key, "--allow-simulated", "--nonce", "ff",
                            os.path.join(self.scratch.dir, "ev1.json"))
        self.assertIn("nonce", self.one_line_error(err, "verify"))
        _, err = self.fails("verify", "--allow-simulated", os.path.join(self.scratch.dir, "ev1.json"))
        self.one_line_error(err, "verify")
        _, err = self.fails("verify", "--key", key, os.path.join(self.scratch.dir, "ev1.json"))
        self.assertIn("allow_simulated", self.one_line_error(err, "verify"))

        out, _ = self.ok("stages", "life")
        self.assertEqual(out.splitlines()[0].split()[:3], ["NAME", "LIFETIME", "EID"])
        infos = {s["name"]: s for s in json.loads(self.ok("stages", "--format", "json", "life")[0])}
        self.assertEqual(infos["echo"]["last_seq"], 3)
        self.assertEqual(infos["fresh"]["lifetime"], "invocation")
        self.assertEqual(infos["echo"]["measurement"], latest["measurement"])

        out, _ = self.ok("list")
        header, row = out.splitlines()
        self.assertEqual(header.split(), ["ID", "PID", "STATUS", "BUNDLE", "CREATED"])
        self.assertEqual(row.split()[:4], ["life", str(state["pid"]), "running",
                                           os.path.realpath(self.bundle)])
        listed = json.loads(self.ok("list", "--format", "json")[0])
        self.assertEqual([(s["id"], s["status"]) for s in listed], [("life", "running")])
        self.assertEqual(self.ok("list", "-q")[0], "life\n")

        self.assertEqual(self.ok("kill", "life"), ("", ""))
        rc, out, _ = run("wait", "life", root=self.root)
        self.assertEqual((rc, out), (128 + signal.SIGTERM, f"{128 + signal.SIGTERM}\n"))
        state = bundles.check_oci_state(self, self.ok("state", "life")[0], "stopped")
        self.assertTrue(os.WIFSIGNALED(state["ebcc"]["exitStatus"]))
        # Evidence outlives the anchor until delete; delete removes everything.
        self.ok("evidence", "life", "echo", 1)
        self.assertEqual(self.ok("delete", "life"), ("", ""))
        _, err = self.fails("state", "life")
        self.assertIn("EBCC_ERR_NOT_FOUND", self.one_line_error(err, "state life: "))
        self.assertEqual(self.ok("list")[0].splitlines()[1:], [])

    def test_bundle_defaults_to_the_working_directory(self):
        two_stage_bundle(self.bundle, sleeper())
        self.ids.append("here")
        with tempfile.TemporaryFile() as out:
            proc = subprocess.run(WRAPPER + [RUNTIME] + ANCHOR + ["--root", self.root, "create",
                                                                  "here"],
                                  cwd=self.bundle, stdout=out, stderr=out,
                                  stdin=subprocess.DEVNULL, env=runtime_env(), timeout=60)
        self.assertEqual(proc.returncode, 0)
        state = json.loads(self.ok("state", "here")[0])
        self.assertEqual(state["bundle"], os.path.realpath(self.bundle))

    def test_kill_signal_names_and_numbers(self):
        for cid, sig, signo in (("k1", "KILL", signal.SIGKILL), ("k2", "SIGusr1", signal.SIGUSR1),
                                ("k3", "2", signal.SIGINT)):
            self.create(cid)
            self.ok("start", cid)
            self.ok("kill", cid, sig)
            rc, out, _ = run("wait", cid, root=self.root)
            self.assertEqual((rc, out.strip()), (128 + signo, str(128 + signo)), sig)
            self.ok("delete", cid)

    def test_wait_mirrors_an_exit_code(self):
        self.create("code", {"args": ["sh", "-c", "exit 7"], "cwd": "/",
                             "env": ["PATH=/usr/bin:/bin"]})
        self.ok("start", "code")
        rc, out, _ = run("wait", "code", root=self.root)
        self.assertEqual((rc, out), (7, "7\n"))

    def test_delete_needs_force_while_running(self):
        self.create("busy")
        self.ok("start", "busy")
        _, err = self.fails("delete", "busy")
        self.assertIn("EBCC_ERR_STATE", self.one_line_error(err, "delete busy: "))
        self.ok("delete", "--force", "busy")
        self.fails("state", "busy")
        # As runc: forcing the delete of what does not exist succeeds; otherwise it is an error.
        self.ok("delete", "-f", "busy")
        _, err = self.fails("delete", "busy")
        self.assertIn("EBCC_ERR_NOT_FOUND", self.one_line_error(err, "delete busy: "))

    def test_lifecycle_errors_are_one_line(self):
        _, err = self.fails("start", "nope")
        self.assertIn("EBCC_ERR_NOT_FOUND", self.one_line_error(err, "start nope: "))
        self.create("twice")
        _, err = self.fails("create", "--bundle", self.bundle, "twice")
        self.assertIn("EBCC_ERR_EXISTS", self.one_line_error(err, "create twice: "))
        _, err = self.fails("invoke", "twice", "echo", stdin="x")
        self.assertIn("EBCC_ERR_STATE", self.one_line_error(err, "invoke twice echo: "))
        self.ok("start", "twice")
        _, err = self.fails("start", "twice")
        self.assertIn("EBCC_ERR_STATE", self.one_line_error(err, "start twice: "))
        _, err = self.fails("invoke", "twice", "nosuch", stdin="x")
        self.assertIn("EBCC_ERR_NOT_FOUND", self.one_line_error(err, "invoke twice nosuch: "))
        _, err = self.fails("evidence", "twice", "echo", 99)
        self.one_line_error(err, "evidence twice echo 99: ")

    def test_failed_create_leaves_nothing(self):
        bundles.make_bundle(self.bundle, process=sleeper(),
                            stages=[{"name": "echo", "image": "stages/missing"}])
        _, err = self.fails("create", "--bundle", self.bundle, "broken")
        self.one_line_error(err, "create broken: ")
        self.assertEqual(self.ok("list", "-q")[0], "")

    def test_log_file_text_and_json(self):
        for fmt in ("text", "json"):
            log = os.path.join(self.scratch.dir, f"log.{fmt}")
            rc, out, err = run("--log", log, "--log-format", fmt, "--debug", "list",
                               root=self.root)
            self.assertEqual(rc, 0, err)
            rc, _, err = run("--log", log, "--log-format", fmt, "start", "ghost", root=self.root)
            self.assertEqual(rc, 1)
            with open(log) as f:
                lines = f.read().splitlines()
            self.assertGreaterEqual(len(lines), 2, lines)
            for line in lines:
                if fmt == "json":
                    record = json.loads(line)
                    self.assertEqual(set(record), {"time", "level", "msg"})
                    self.assertRegex(record["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$")
                else:
                    self.assertRegex(line, r'^time="[^"]+" level=\w+ msg=".*"$')
            # The error reached the log as well as stderr.
            self.assertIn("start ghost", lines[-1])
            self.assertIn("error", lines[-1])


@unittest.skipUnless(RUNTIME, "ebcc-runtime not built")
@unittest.skipUnless(RUNTIME and bundles.have_stage(), "ebcc-runtime or the echo stage not built")
class OutputFileTest(RuntimeCase):
    """--out and --pid-file write through the path: nothing at it is replaced or followed."""

    def setUp(self):
        super().setUp()
        self.create("out")
        self.ok("start", "out")
        self.old_umask = os.umask(0o022)

    def tearDown(self):
        os.umask(self.old_umask)
        super().tearDown()

    def path(self, name):
        return os.path.join(self.scratch.dir, name)

    def null_device(self):
        """A node of its own for the null device: the test never writes at /dev/null."""
        node = self.path("null")
        try:
            os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        except PermissionError:
            self.skipTest("mknod needs CAP_MKNOD")
        return node

    def invoke_to(self, target):
        return run("invoke", "out", "echo", "--out", target, root=self.root, stdin="secret")

    def test_response_is_private(self):
        fresh = self.path("fresh")
        self.assertEqual(self.invoke_to(fresh)[0], 0)
        self.assertEqual(os.stat(fresh).st_mode & 0o7777, 0o600, "a new response file")
        for before, after in ((0o644, 0o600), (0o666, 0o600), (0o600, 0o600), (0o400, 0o400)):
            existing = self.path(f"existing-{before:o}")
            with open(existing, "w") as f:
                f.write("old content, longer than the response")
            os.chmod(existing, before)
            links = self.path(f"link-{before:o}")
            os.link(existing, links)
            ino = os.stat(existing).st_ino
            rc, _, err = self.invoke_to(existing)
            self.assertEqual(rc, 0, err)
            st = os.stat(existing)
            self.assertEqual(st.st_mode & 0o7777, after, f"mode {before:o}")
            self.assertEqual(st.st_ino, ino, "the file is written in place, not replaced")
            with open(links) as f:
                self.assertEqual(f.read(), "secret", "a hard link sees the new content")

    def test_devices_and_fifos_are_written_through(self):
        null = self.null_device()
        rc, _, err = self.invoke_to(null)
        self.assertEqual(rc, 0, err)
        self.assertTrue(stat.S_ISCHR(os.stat(null).st_mode), "the device is still a device")
        fifo = self.path("fifo")
        os.mkfifo(fifo, 0o600)
        received = []

        def read_fifo():
            with open(fifo, "rb") as f:
                received.append(f.read())
        reader = threading.Thread(target=read_fifo)
        reader.start()
        rc, _, err = self.invoke_to(fifo)
        reader.join(30)
        self.assertEqual(rc, 0, err)
        self.assertEqual(received, [b"secret"])
        self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode))

    def test_symlinks_and_directories_are_refused(self):
        target = self.path("target")
        with open(target, "w") as f:
            f.write("keep")
        link = self.path("link")
        os.symlink(target, link)
        rc, _, err = self.invoke_to(link)
        self.assertEqual(rc, 1)
        self.assertIn(f"{link}: is a symbolic link", err)
        self.assertTrue(os.path.islink(link))
        with open(target) as f:
            self.assertEqual(f.read(), "keep")
        rc, _, err = self.invoke_to(self.scratch.dir)
        self.assertEqual(rc, 1)
        self.assertIn(self.scratch.dir, err)

    def test_pid_file_is_a_regular_file_only(self):
        def create_with(cid, pid_file):
            two_stage_bundle(self.bundle, sleeper())
            self.ids.append(cid)
            return run("create", "--bundle", self.bundle, "--pid-file", pid_file, cid,
                       root=self.root)
        existing = self.path("pid")
        with open(existing, "w") as f:
            f.write("a much longer earlier content\n")
        os.chmod(existing, 0o640)
        ino = os.stat(existing).st_ino
        rc, _, err = create_with("p1", existing)
        self.assertEqual(rc, 0, err)
        st = os.stat(existing)
        self.assertEqual((st.st_ino, st.st_mode & 0o7777), (ino, 0o640))
        state = json.loads(self.ok("state", "p1")[0])
        with open(existing) as f:
            self.assertEqual(f.read(), str(state["pid"]))
        fresh = self.path("fresh-pid")
        self.assertEqual(create_with("p2", fresh)[0], 0)
        self.assertEqual(os.stat(fresh).st_mode & 0o7777, 0o644)
        # Not through a symbolic link, a FIFO (no hang without a reader) or a device; the
        # failed create leaves no composite behind.
        fifo = self.path("pid-fifo")
        os.mkfifo(fifo, 0o600)
        link = self.path("pid-link")
        os.symlink(fresh, link)
        null = self.null_device()
        for cid, target, why in (("p3", fifo, "FIFO"), ("p4", link, "symbolic link"),
                                 ("p5", null, "character device")):
            rc, _, err = create_with(cid, target)
            self.assertEqual(rc, 1, f"{target}: {err}")
            self.assertIn(f"{target}: ", err)
            self.assertIn(why, err)
            self.assertNotEqual(run("state", cid, root=self.root)[0], 0, "left a composite")
        self.assertTrue(stat.S_ISFIFO(os.stat(fifo).st_mode))
        self.assertTrue(stat.S_ISCHR(os.stat(null).st_mode))


class UsageTest(unittest.TestCase):
    COMMANDS = ["create", "start", "state", "kill", "delete", "list", "wait", "invoke",
                "evidence", "verify", "backends", "stages", "attestation-key"]

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ebcc-rt-")
        self.root = os.path.join(self.dir, "root")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def usage_error(self, *args, mentions):
        rc, out, err = run(*args, root=self.root)
        self.assertEqual(rc, 1, f"{args}: {err}")
        self.assertEqual(out, "")
        lines = err.splitlines()
        self.assertEqual(len(lines), 2, err)
        self.assertTrue(lines[0].startswith("ebcc-runtime: "), lines[0])
        self.assertIn(mentions, lines[0])
        self.assertTrue(lines[1].startswith("usage: ebcc-runtime"), lines[1])
        # A usage error never reaches the library: nothing is created on disk.
        self.assertFalse(os.path.exists(self.root))

    def test_bad_arguments(self):
        self.usage_error("frobnicate", "x", mentions='unknown command "frobnicate"')
        self.usage_error(mentions="missing COMMAND")
        for command in ("create", "start", "state", "kill", "delete", "wait", "stages"):
            self.usage_error(command, mentions="missing container ID")
        self.usage_error("invoke", "x", mentions="missing STAGE")
        self.usage_error("evidence", "x", mentions="missing STAGE")
        self.usage_error("verify", mentions="missing EVIDENCE.json")
        self.usage_error("kill", "x", "NOTASIGNAL", mentions='unknown signal "NOTASIGNAL"')
        self.usage_error("kill", "x", "65", mentions='unknown signal "65"')
        self.usage_error("--log-format", "xml", "list", mentions='--log-format "xml"')
        self.usage_error("create", "--bogus", "x", mentions="unknown option --bogus")
        self.usage_error("--bogus", "list", mentions="unknown global option --bogus")
        self.usage_error("create", "--bundle", mentions="--bundle needs an argument")
        self.usage_error("start", "a", "b", mentions='unexpected argument "b"')
        self.usage_error("list", "--format", "yaml", mentions='unknown format "yaml"')
        self.usage_error("invoke", "x", "s", "--nonce", "xyz", mentions="--nonce")
        self.usage_error("evidence", "x", "s", "0", mentions='SEQ "0"')

    def test_help_and_version_everywhere(self):
        helps = [[c, h] for c in self.COMMANDS for h in ("--help", "-h")]
        for args in [["--help"], ["-h"]] + helps:
            rc, out, err = run(*args)
            self.assertEqual((rc, err), (0, ""), args)
            self.assertTrue(out.startswith("usage: ebcc-runtime"), (args, out))
            if len(args) == 2:
                self.assertIn(f" {args[0]} ", out.splitlines()[0])
        for args in [["--version"], ["-v"]] + [[c, "--version"] for c in self.COMMANDS]:
            rc, out, err = run(*args)
            self.assertEqual((rc, err), (0, ""), args)
            self.assertRegex(out, r"^ebcc-runtime version \d+\.\d+\.\d+\nlibebcc: ", args)

    def test_backends_table(self):
        rc, out, err = run("backends", root=self.root)
        self.assertEqual(rc, 0, err)
        header, *rows = out.splitlines()
        self.assertEqual(header.split(), ["NAME", "AVAILABLE", "ISOLATION", "SIMULATED",
                                          "EVIDENCE", "REASON"])
        sim = next(r.split() for r in rows if r.startswith("sim "))
        self.assertEqual(sim[2:5], ["enclave", "yes", "ebcc.sim.v1"])
        rc, out, _ = run("backends", "--format", "json", root=self.root)
        probes = {p["name"]: p for p in json.loads(out)}
        self.assertTrue(probes["sim"]["simulated"])


@unittest.skipUnless(RUNTIME and bundles.have_stage(), "ebcc-runtime or the echo stage not built")
class OfflineVerifyTest(RuntimeCase):
    """verify needs nothing but the envelope, the policy and the key."""

    def setUp(self):
        super().setUp()
        self.create("ev")
        self.ok("start", "ev")
        self.ok("invoke", "ev", "echo", "--nonce", "0102", stdin="payload")
        self.envelope = json.loads(self.ok("evidence", "ev", "echo", 1)[0])
        self.key = os.path.join(self.scratch.dir, "key.pem")
        with open(self.key, "w") as f:
            f.write(self.ok("attestation-key")[0])
        self.nowhere = os.path.join(self.scratch.dir, "no", "such", "root")

    def write(self, envelope, name="ev.json"):
        path = os.path.join(self.scratch.dir, name)
        with open(path, "w") as f:
            json.dump(envelope, f)
        return path

    def verify(self, path, *extra):
        return run("verify", "--key", self.key, *extra, path, root=self.nowhere)

    def test_verifies_without_a_state_root(self):
        rc, out, err = self.verify(self.write(self.envelope), "--allow-simulated")
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.startswith("verified: stage echo of ev, seq 1"), out)
        self.assertFalse(os.path.exists(os.path.join(self.scratch.dir, "no")),
                         "offline verification must not create a state root")
        # From stdin, and with a policy file (which --key adds to).
        policy = os.path.join(self.scratch.dir, "policy.json")
        with open(policy, "w") as f:
            json.dump({"allow_simulated": True, "nonce": "0102",
                       "measurement": self.envelope["measurement"]}, f)
        rc, out, err = run("verify", "--policy", policy, "--key", self.key, "-",
                           stdin=json.dumps(self.envelope), root=self.nowhere)
        self.assertEqual(rc, 0, err)
        self.assertIn("as the policy expects", out)

    def test_tampered_envelope_names_the_field(self):
        def flip_hex(text):
            return text[:-1] + ("0" if text[-1] != "0" else "1")

        report = self.envelope["report"]
        cases = {
            "seq": (self.envelope["seq"] + 1, "report_data"),
            "eid": (self.envelope["eid"] + 1, "report_data"),
            "nonce": (flip_hex(self.envelope["nonce"]), "report_data"),
            "response_digest": (flip_hex(self.envelope["response_digest"]), "report_data"),
            "measurement": (flip_hex(self.envelope["measurement"]), "report_data"),
            "report_data": (flip_hex(self.envelope["report_data"]), "report_data"),
            "report": (report[:8] + ("A" if report[8] != "A" else "B") + report[9:], "report"),
            "format": ("ebcc.sim.v2", "format"),
            "simulated": (False, "simulated"),
            "version": (3, "version"),
            # Relabeled as version 1 (host-bound): its report_data binds version 2.
            "version_1": (None, "report_data"),
        }
        for name, (value, field) in cases.items():
            tampered = dict(self.envelope, **{name: value})
            if name == "version_1":
                tampered = dict(self.envelope, version=1)
            rc, out, err = self.verify(self.write(tampered), "--allow-simulated")
            self.assertEqual(rc, 1, f"tampered {name} passed: {out}")
            lines = err.splitlines()
            self.assertEqual(len(lines), 1, err)
            self.assertTrue(lines[0].startswith("ebcc-runtime: verify "), lines[0])
            self.assertIn(field, lines[0], name)
        # A stray field and a truncated file are refused as well.
        rc, _, err = self.verify(self.write(dict(self.envelope, extra=1)), "--allow-simulated")
        self.assertEqual(rc, 1)
        self.assertIn("extra", err)
        path = os.path.join(self.scratch.dir, "cut.json")
        with open(path, "w") as f:
            f.write(json.dumps(self.envelope)[:100])
        rc, _, err = self.verify(path, "--allow-simulated")
        self.assertEqual(rc, 1)
        self.assertIn("truncated", err)

    def test_another_key_is_refused(self):
        other = os.path.join(self.scratch.dir, "other-root")
        rc, pem, err = run("attestation-key", root=other)
        self.assertEqual(rc, 0, err)
        key = os.path.join(self.scratch.dir, "other.pem")
        with open(key, "w") as f:
            f.write(pem)
        rc, _, err = run("verify", "--key", key, "--allow-simulated",
                         self.write(self.envelope), root=self.nowhere)
        self.assertEqual(rc, 1)
        self.assertIn("report", err)

    def policy_file(self, data):
        path = os.path.join(self.scratch.dir, "policy.json")
        with open(path, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        return path

    def test_policy_file_is_parsed_strictly_with_options(self):
        """--policy with --key (or any option) is read by the library's strict parser only."""
        ok = self.policy_file('{"allow_simulated": true}')
        rc, out, err = self.verify(self.write(self.envelope), "--policy", ok)
        self.assertEqual(rc, 0, err)
        envelope = self.write(self.envelope)
        cases = {
            "comment": ('{"allow_simulated": true /* c */}', "at byte 25"),
            "single quotes": ("{'allow_simulated': true}", "policy"),
            "duplicate key": ('{"allow_simulated": false, "allow_simulated": true}',
                              'duplicate key "allow_simulated"'),
            "trailing data": ('{"allow_simulated": true} x', "policy"),
            "trailing object": ('{"allow_simulated": true} {}', "at byte 26"),
            "escaped NUL": ('{"allow_simulated\\u0000 (x)": true}', "contains a NUL"),
            "NUL byte": (b'{"allow_simulated": true}\0{"x": 1}', "NUL byte at offset 25"),
            "not an object": ("[]", "must be a JSON object"),
        }
        for name, (text, needle) in cases.items():
            with self.subTest(name):
                for extra in [(), ("--nonce", "0102")]:
                    rc, out, err = self.verify(envelope, "--policy", self.policy_file(text),
                                               *extra)
                    self.assertEqual(rc, 1, f"{name} {extra}: {out}")
                    self.assertIn(needle, err, f"{name} {extra}")
        # An option may add a key, not override one the file sets.
        rc, out, err = self.verify(envelope, "--policy", self.policy_file(
            '{"allow_simulated": true, "nonce": "0103"}'), "--nonce", "0102")
        self.assertEqual(rc, 1, out)
        self.assertIn('duplicate key "nonce"', err)
        rc, out, err = self.verify(envelope, "--policy", self.policy_file(
            ' {\n "allow_simulated": true\n}\n'), "--nonce", "0102")
        self.assertEqual(rc, 0, err)
        self.assertIn("nonce 0102 (as the policy expects)", out)
        rc, out, err = self.verify(envelope, "--allow-simulated", "--policy",
                                   self.policy_file(" { } "))
        self.assertEqual(rc, 0, err)


if __name__ == "__main__":
    unittest.main()
