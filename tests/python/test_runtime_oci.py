# SPDX-License-Identifier: MIT
"""ebcc-runtime as an OCI runtime: the container work done by runc or crun, the composite
around it.

First without containers: a stand-in low-level runtime records the arguments it gets, so that
the global options and the verbs the containerd shim and conmon use are seen to pass through
unchanged, and how the low-level runtime is found (option, environment, PATH). Then with real
containers (a busybox-static rootfs, under runc and under crun): a composite whose stage is
loaded at create with the container's init process as its anchor, called from inside the
container with ebcc-call, its evidence verified offline on the host; a failing create (a wrong
pinned measurement, a stage that cannot load, a container the low-level runtime cannot make)
that leaves nothing behind and says why on stderr and in the JSON log; plain and pause
containers that pass through untouched; and the verbs ebcc-runtime does not wrap.
"""
import ctypes
import hashlib
import json
import os
import re
import shlex
import shutil
import tempfile
import unittest
import uuid

import containers
import ebcc
from bundles import echo_measurement, sha256, wait_until

RUNTIME = containers.RUNTIME
# A command to run every ebcc-runtime call under, e.g. "valgrind --error-exitcode=99 -q".
WRAPPER = shlex.split(os.environ.get("EBCC_TEST_WRAPPER", ""))
TIME_RE = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$"


def new_id(tag):
    return f"ebcc-rt-{tag}-{uuid.uuid4().hex[:12]}"


def strip_wrapper(err):
    if not WRAPPER:
        return err
    return "".join(l for l in err.splitlines(True) if not re.match(r"^(--|==)\d+(--|==) ", l))


def run_runtime(argv, stdin=b"", env=None):
    rc, out, err = containers.run(WRAPPER + [RUNTIME] + argv, stdin=stdin, env=env)
    return rc, out, strip_wrapper(err)


_stage_info = ebcc.lib.ebcc_stage_info
_stage_info.restype = ctypes.c_int
_stage_info.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]


def stage_info(inst, name):
    out = ctypes.c_void_p()
    ebcc.check(_stage_info(inst.handle, name.encode(), ctypes.byref(out)))
    return json.loads(ebcc.take_string(out))


def log_errors(path):
    """The error records of a JSON log, each checked to be one {"level","msg","time"} line."""
    records = []
    with open(path) as f:
        for line in f.read().splitlines():
            record = json.loads(line)
            if record.get("level") == "error":
                records.append(record)
    return records


# ---- without containers: a stand-in low-level runtime --------------------------------------

FAKE_RUNTIME = """#!/bin/sh
# Records its arguments (NUL-separated) and stdin, says who it is, exits with $FAKE_EXIT.
for a in "$@"; do printf '%s\\0' "$a"; done > "$FAKE_ARGS"
if [ -n "$FAKE_STDIN" ]; then /bin/cat > "$FAKE_STDIN"; fi
case " $* " in *" create "*) [ -n "$FAKE_CONFIG" ] && /bin/cat "$FAKE_BUNDLE/config.json" > "$FAKE_CONFIG";; esac
echo "fake ${0##*/}"
exit "${FAKE_EXIT:-0}"
"""


@unittest.skipUnless(RUNTIME and os.access(RUNTIME, os.X_OK), "ebcc-runtime not built")
class PassThroughTest(unittest.TestCase):
    """What reaches the low-level runtime, and which one it is."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ebcc-rt-fake-")
        self.state_root = os.path.join(self.dir, "ebcc-root")
        self.args_file = os.path.join(self.dir, "args")
        self.bin = {}
        for name in ("runc", "crun"):
            d = os.path.join(self.dir, name + "-bin")
            os.makedirs(d)
            self.bin[name] = os.path.join(d, name)
            with open(self.bin[name], "w") as f:
                f.write(FAKE_RUNTIME)
            os.chmod(self.bin[name], 0o755)
        # A plain bundle: no manifest.
        self.bundle = os.path.join(self.dir, "bundle")
        os.makedirs(self.bundle)
        with open(os.path.join(self.bundle, "config.json"), "w") as f:
            json.dump({"ociVersion": "1.0.2", "annotations": {"org.example": "plain"}}, f)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def env(self, path=None, **extra):
        env = containers.runtime_env()
        env["FAKE_ARGS"] = self.args_file
        env.pop("EBCC_LOW_LEVEL_RUNTIME", None)
        if path is not None:
            env["PATH"] = path
        env.update(extra)
        return env

    def recorded(self):
        with open(self.args_file, "rb") as f:
            data = f.read()
        os.unlink(self.args_file)
        return [a.decode() for a in data.split(b"\0")[:-1]]

    def test_globals_and_verbs_pass_through_unchanged(self):
        log = os.path.join(self.dir, "log.json")
        runtime_root = os.path.join(self.dir, "runc-root")
        given = ["--root", runtime_root, "--log", log, "--log-format", "json", "--systemd-cgroup",
                 "--debug"]
        ours = ["--low-level-runtime", self.bin["runc"], "--state-root", self.state_root]
        b = self.bundle
        verbs = [
            ["create", "--bundle", b, "--pid-file", "p", "--console-socket", "/s", "--no-pivot",
             "--no-new-keyring", "--preserve-fds", "2", "c1"],
            ["create", "-b", b, "c1"],
            ["run", "--bundle", b, "--detach", "--keep", "--no-subreaper", "c1"],
            ["start", "c1"], ["state", "c1"], ["kill", "c1"], ["kill", "--all", "c1", "KILL"],
            ["kill", "-a", "c1", "9"], ["delete", "c1"], ["delete", "--force", "c1"],
            ["exec", "--tty", "--console-socket", "/s", "--cwd", "/", "--env", "A=1", "--user",
             "0:0", "--cap", "CAP_KILL", "--detach", "--pid-file", "p", "--process", "proc.json",
             "--preserve-fds", "1", "c1", "sh", "-c", "true"],
            ["ps", "--format", "json", "c1"], ["pause", "c1"], ["resume", "c1"],
            ["update", "--resources", "-", "c1"], ["features"],
            ["checkpoint", "--image-path", "/img", "--leave-running", "c1"],
            ["restore", "--image-path", "/img", "--bundle", b, "--detach", "c1"],
            ["events", "--stats", "c1"], ["frobnicate", "x"],
        ]
        for verb in verbs:
            rc, out, err = run_runtime(given + ours + verb, env=self.env())
            self.assertEqual((rc, out), (0, "fake runc\n"), f"{verb}: {err}")
            self.assertEqual(self.recorded(), given + verb, verb)
        # The exit code and stdin are the low-level runtime's.
        stdin_file = os.path.join(self.dir, "stdin")
        rc, out, _ = run_runtime(ours + ["update", "--resources", "-", "c1"],
                                 stdin=b'{"pids": {"limit": 10}}',
                                 env=self.env(FAKE_EXIT="3", FAKE_STDIN=stdin_file))
        self.assertEqual(rc, 3)
        with open(stdin_file, "rb") as f:
            self.assertEqual(f.read(), b'{"pids": {"limit": 10}}')
        # A plain container leaves no trace of libebcc.
        self.assertFalse(os.path.exists(self.state_root))

    def test_which_low_level_runtime(self):
        both = f"{os.path.dirname(self.bin['runc'])}:{os.path.dirname(self.bin['crun'])}"
        only_crun = os.path.dirname(self.bin["crun"])
        for path, env, args, expect in (
                (both, {}, [], "fake runc\n"),
                (only_crun, {}, [], "fake crun\n"),
                (both, {"EBCC_LOW_LEVEL_RUNTIME": self.bin["crun"]}, [], "fake crun\n"),
                (both, {"EBCC_LOW_LEVEL_RUNTIME": "crun"}, [], "fake crun\n"),
                (both, {"EBCC_LOW_LEVEL_RUNTIME": self.bin["crun"]},
                 ["--low-level-runtime", self.bin["runc"]], "fake runc\n")):
            rc, out, err = run_runtime(args + ["--state-root", self.state_root, "ps", "c1"],
                                       env=self.env(path, **env))
            self.assertEqual((rc, out), (0, expect), (path, env, args, err))
            self.assertEqual(self.recorded(), ["ps", "c1"])
        # ebcc-runtime installed as runc on PATH would call itself: crun is next.
        selfdir = os.path.join(self.dir, "self-bin")
        os.makedirs(selfdir)
        os.symlink(os.path.realpath(RUNTIME), os.path.join(selfdir, "runc"))
        rc, out, err = run_runtime(["ps", "c1"], env=self.env(f"{selfdir}:{only_crun}"))
        self.assertEqual((rc, out), (0, "fake crun\n"), err)
        rc, out, err = run_runtime(["--low-level-runtime", os.path.join(selfdir, "runc"), "ps",
                                    "c1"], env=self.env())
        self.assertEqual((rc, out), (1, ""))
        self.assertIn("is ebcc-runtime itself", err)

    def test_no_low_level_runtime_is_an_error_in_the_json_log(self):
        log = os.path.join(self.dir, "log.json")
        missing = os.path.join(self.dir, "nowhere", "runc")
        cases = [
            (["--low-level-runtime", missing], {}, f"--low-level-runtime {missing}: not found"),
            ([], {"EBCC_LOW_LEVEL_RUNTIME": missing}, f"$EBCC_LOW_LEVEL_RUNTIME {missing}: "),
            ([], {}, "neither runc nor crun is on PATH"),
        ]
        for args, env, text in cases:
            for verb in (["ps", "c1"], ["create", "--bundle", self.bundle, "c1"]):
                rc, out, err = run_runtime(["--log", log, "--log-format", "json"] + args + verb,
                                           env=self.env(os.path.join(self.dir, "empty"), **env))
                self.assertEqual((rc, out), (1, ""), (args, verb))
                self.assertIn(text, err)
                last = log_errors(log)[-1]
                self.assertEqual(set(last), {"level", "msg", "time"})
                self.assertIn(text, last["msg"])
                self.assertRegex(last["time"], TIME_RE)

    def test_config_json_is_rewritten_for_create_and_restored_when_it_fails(self):
        # What the low-level runtime reads: the container's socket directory mounted at
        # /run/ebcc in place of what was there, every other value as written (numbers' text,
        # escapes, key order). The fake writes no pid file, so create fails afterwards and
        # config.json is put back byte for byte.
        bundle = os.path.join(self.dir, "composite")
        os.makedirs(os.path.join(bundle, "stages"))
        shutil.copy(containers.ECHO_STAGE, os.path.join(bundle, "stages", "echo"))
        with open(os.path.join(bundle, "ebcc.json"), "w") as f:
            json.dump({"ebccVersion": "0.1", "stages": [{"name": "echo",
                                                          "image": "stages/echo"}]}, f)
        original = ('{"ociVersion":"1.0.2","z":1,"a":{"big":18446744073709551615,'
                    '"neg":-9223372036854775808,"f":1.10,"e":1e5,"s":"\\u00e9/\\"q\\""},'
                    '"mounts":[{"destination":"/run/ebcc/","type":"tmpfs","source":"t"},'
                    '{"destination":"/out","type":"bind","source":"/tmp"}],'
                    '"annotations":{"org.example":"x"}}').encode()
        with open(os.path.join(bundle, "config.json"), "wb") as f:
            f.write(original)
        os.chmod(os.path.join(bundle, "config.json"), 0o640)
        seen = os.path.join(self.dir, "seen.json")
        run_dir = os.path.join(self.dir, "rt-run")
        rc, _, err = run_runtime(
            ["--state-root", self.state_root, "--run-dir", run_dir, "--root", "/run/fake",
             "create", "--bundle", bundle, "--pid-file", os.path.join(self.dir, "pid"), "c1"],
            env=self.env(path=os.path.dirname(self.bin["runc"]), FAKE_CONFIG=seen,
                         FAKE_BUNDLE=bundle))
        self.assertEqual(rc, 1)
        self.assertIn("ebcc-runtime: create c1: ", err)
        with open(seen, "rb") as f:
            text = f.read()
        key = hashlib.sha256(b"/run/fake\0c1").hexdigest()[:32]
        mount = ('{"destination":"/run/ebcc","type":"bind","source":"%s/sockets/%s",'
                 '"options":["rbind","ro","nosuid","nodev","noexec"]}' % (run_dir, key))
        want = original.replace(b'{"destination":"/run/ebcc/","type":"tmpfs","source":"t"},',
                                b"").replace(b'"source":"/tmp"}]', b'"source":"/tmp"},' +
                                             mount.encode() + b"]")
        self.assertEqual(json.loads(text), json.loads(want))
        for token in (b"18446744073709551615", b"-9223372036854775808", b'"f":1.10',
                      b'"e":1e5', b'"z":1,"a"'):
            self.assertIn(token, text)
        with open(os.path.join(bundle, "config.json"), "rb") as f:
            self.assertEqual(f.read(), original)
        self.assertEqual(os.stat(os.path.join(bundle, "config.json")).st_mode & 0o777, 0o640)
        self.assertEqual(sorted(os.listdir(bundle)), ["config.json", "ebcc.json", "stages"])
        self.assertEqual(os.listdir(os.path.join(run_dir, "sockets")), [])
        self.assertEqual(os.listdir(os.path.join(run_dir, "brokers")), [])

    def test_usage_errors_stay_ebcc_runtimes(self):
        for args, text in ((["--anchor", "vm", "ps", "x"], '--anchor "vm": container or process'),
                           (["--low-level-runtime", "", "ps", "x"], "needs a path"),
                           (["kill"], "missing container ID"),
                           (["create", "--bogus", "x"], "unknown option --bogus"),
                           (["--anchor=process", "ps", "x"], 'unknown command "ps"')):
            rc, out, err = run_runtime(["--state-root", self.state_root] + args, env=self.env())
            self.assertEqual((rc, out), (1, ""), args)
            self.assertIn(text, err.splitlines()[0])
            self.assertFalse(os.path.exists(self.args_file), f"{args} reached the runtime")
        self.assertFalse(os.path.exists(self.state_root))


# ---- with containers ------------------------------------------------------------------------

COMPOSITE_SCRIPT = """#!/bin/sh
# The container's side: one request to the echo stage, the evidence left in /out; then it
# waits until the test says finish.
S=/run/ebcc/ebcc.sock
fail() { echo "$*" > /out/failed; exit 1; }
touch /out/started
printf 'hello, stage' > /tmp/request
ebcc-call $S echo --nonce "$NONCE" --evidence /out/evidence.json < /tmp/request \\
    > /out/response || fail "the call failed"
[ "$(cat /out/response)" = "hello, stage" ] || fail "the response is $(cat /out/response)"
touch /out/ready
while [ ! -e /out/finish ]; do sleep 0.05; done
"""

ONE_CALL_SCRIPT = """#!/bin/sh
S=/run/ebcc/ebcc.sock
fail() { echo "$*" > /out/failed; exit 1; }
printf 'upper:in one run' | ebcc-call $S echo --nonce "$NONCE" --evidence /out/evidence.json \\
    > /out/response || fail "the call failed"
[ "$(cat /out/response)" = "IN ONE RUN" ] || fail "the response is $(cat /out/response)"
exit 3
"""

# One process, so that ps gives the same answer twice.
STEADY_SCRIPT = """#!/bin/sh
printf x | ebcc-call /run/ebcc/ebcc.sock echo > /out/response || echo "call" > /out/failed
touch /out/ready
exec sleep 600
"""

# Two containers at once: each calls its own composite and looks for the other's socket.
ISOLATION_SCRIPT = """#!/bin/sh
S=/run/ebcc/ebcc.sock
fail() { echo "$*" > /out/$NAME.failed; exit 1; }
ls /run/ebcc > /out/$NAME.ls
printf "from $NAME" | ebcc-call $S echo --nonce "$NONCE" --evidence /out/$NAME.evidence \\
    > /out/$NAME.response || fail "the call failed"
[ -e "$OTHER/ebcc.sock" ] && fail "the other container's socket $OTHER is visible"
touch /out/$NAME.ready
while [ ! -e /out/finish ]; do sleep 0.05; done
"""

PLAIN_SCRIPT = """#!/bin/sh
touch /out/ran
while [ ! -e /out/finish ]; do sleep 0.05; done
"""


def runtime_key(root, cid):
    """ebcc-runtime's key of container cid under low-level root (sockets.c)."""
    return hashlib.sha256(root.encode() + b"\0" + cid.encode()).hexdigest()[:32]


class Ebcc:
    """ebcc-runtime in front of the test's runc or crun: the scratch's state root (None: the
    one ebcc-runtime derives from --root) and run directory, the low-level runtime's root,
    and (unless log=False) a JSON log."""

    def __init__(self, b, rt, state_root=True):
        self.b = b
        self.rt = rt
        self.low_level = rt.low_level(b.dir)
        self.log = os.path.join(b.dir, "ebcc-runtime.log")
        self.run_dir = os.path.join(b.dir, "rt-run")
        self.state_root = b.state_root if state_root else None

    def socket_dir(self, cid):
        return os.path.join(self.run_dir, "sockets", runtime_key(self.rt.root, cid))

    def derived_state_root(self):
        return os.path.join(self.run_dir, "roots",
                            hashlib.sha256(self.rt.root.encode() + b"\0").hexdigest()[:32])

    def argv(self, *args, log=True):
        argv = ["--low-level-runtime", self.low_level, "--run-dir", self.run_dir,
                "--root", self.rt.root]
        if self.state_root is not None:
            argv += ["--state-root", self.state_root]
        if log:
            argv += ["--log", self.log, "--log-format", "json"]
        return argv + [str(a) for a in args]

    def __call__(self, *args, stdin=b"", log=True):
        return run_runtime(self.argv(*args, log=log), stdin=stdin)

    def state(self, cid):
        rc, out, err = self("state", cid)
        if rc != 0:
            raise AssertionError(f"ebcc-runtime state {cid}: {err}")
        return json.loads(out)


class OciCase(unittest.TestCase):
    runtime_class = None
    # Whether the low-level runtime manages cgroups here (runc does; crun runs without).
    cgroups = True

    @classmethod
    def setUpClass(cls):
        why = containers.missing_prerequisites(cls.runtime_class.name,
                                               ("EBCC_RUNTIME", RUNTIME))
        if why is None and cls.runtime_class is containers.Crun:
            why = containers.crun_unusable(new_id("crun-probe"))
        if why is not None:
            raise unittest.SkipTest(why)

    def setUp(self):
        self.scratches = []  # (bundle, ebcc-runtime, ids)

    def tearDown(self):
        for b, e, ids in self.scratches:
            for cid in ids:
                # Whatever a failed test left behind: container, composite, processes.
                e("delete", "--force", cid, log=False)
                e.rt("delete", "--force", cid)
                root = e.state_root or e.derived_state_root()
                if not os.path.exists(root):
                    continue
                with ebcc.Context(state_root=root) as ctx:
                    for listed in json.loads(ebcc.list_instances(ctx)):
                        try:
                            with ebcc.Instance.open(ctx, listed["id"]) as inst:
                                inst.delete(force=True)
                        except ebcc.EbccError:
                            pass
            if not wait_until(lambda: not containers.processes_mentioning(b.dir), 15):
                for pid, _ in containers.processes_mentioning(b.dir):
                    os.kill(pid, 9)
            b.remove()

    def scratch(self, tag, count=1):
        b = containers.HookedBundle(new_id(tag))
        e = Ebcc(b, self.runtime_class(b.runtime_root))
        ids = [b.cid] + [f"{b.cid}-{i}" for i in range(1, count)]
        self.scratches.append((b, e, ids))
        return b, e, ids

    def composites(self, b):
        with ebcc.Context(state_root=b.state_root) as ctx:
            return json.loads(ebcc.list_instances(ctx))

    def out_exists(self, b, name):
        return os.path.exists(os.path.join(b.out, name))

    def assert_no_failure(self, b):
        if self.out_exists(b, "failed"):
            self.fail(f"the container says: {b.out_file('failed')}")

    def assert_nothing_left(self, b, e, cid, stage_pids=()):
        self.assertNotIn(cid, e.rt.ids(), f"{e.rt.name} still has the container")
        self.assertEqual(self.composites(b), [], "a composite is left")
        if os.path.exists(b.state_root):
            # Only the library's own data (the sim key, which verifiers need) stays.
            self.assertEqual([n for n in os.listdir(b.state_root) if n != ".ebcc"], [])
        for pid in stage_pids:
            self.assertFalse(containers.running(pid), f"stage process {pid} is left")
        self.assertEqual(os.listdir(b.sock_dir), [], "the socket is left")
        for sub in ("sockets", "brokers"):
            d = os.path.join(e.run_dir, sub)
            self.assertEqual(os.listdir(d) if os.path.exists(d) else [], [],
                             f"{sub} of ebcc-runtime's run directory are left")
        # The broker ends with the container's process.
        self.assertTrue(wait_until(lambda: not containers.processes_mentioning(b.dir)),
                        f"left running: {containers.processes_mentioning(b.dir)}")

    def verify_offline(self, b, e, nonce, tamper_nonce=True):
        """The container's evidence, verified by ebcc-runtime verify with a state root that
        does not exist: the key and the stage's measurement are all it needs."""
        rc, pem, err = e("attestation-key", "sim")
        self.assertEqual(rc, 0, err)
        key = os.path.join(b.dir, "sim.pem")
        with open(key, "w") as f:
            f.write(pem)
        nowhere = os.path.join(b.dir, "no", "such", "root")
        evidence = os.path.join(b.out, "evidence.json")
        common = ["--state-root", nowhere, "verify", "--key", key, "--allow-simulated",
                  "--measurement", echo_measurement()]
        rc, out, err = run_runtime(common + ["--nonce", nonce, evidence])
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.startswith(f"verified: stage echo of {b.cid}, seq 1"), out)
        rc, _, err = run_runtime(common + ["--nonce", "ff" * 32, evidence])
        self.assertEqual(rc, 1, "evidence verified with another nonce")
        self.assertIn("nonce", err)
        self.assertFalse(os.path.exists(os.path.join(b.dir, "no")))

    # ---- (a) a composite container ------------------------------------------------------

    def test_composite_lifecycle(self):
        b, e, (cid,) = self.scratch("life")
        nonce = os.urandom(32).hex()
        pid_file = os.path.join(b.dir, "container.pid")
        b.write_manifest()
        b.write_script(COMPOSITE_SCRIPT)
        b.write_config(["sh", "/check.sh"], env=[f"NONCE={nonce}"], hooks=False)
        config_path = os.path.join(b.bundle, "config.json")
        with open(config_path) as f:
            config = json.load(f)

        rc, out, err = e("create", "--bundle", b.bundle, "--pid-file", pid_file, cid)
        self.assertEqual((rc, out), (0, ""), err)
        # config.json: the mount of the bundle's socket directory at /run/ebcc replaced by
        # one of the container's own, last; nothing else changed.
        with open(config_path) as f:
            rewritten = json.load(f)
        config["mounts"] = [m for m in config["mounts"] if m["destination"] != "/run/ebcc"]
        config["mounts"].append({"destination": "/run/ebcc", "type": "bind",
                                 "source": e.socket_dir(cid),
                                 "options": ["rbind", "ro", "nosuid", "nodev", "noexec"]})
        self.assertEqual(rewritten, config)
        self.assertEqual(e.rt.status(cid), "created")
        with open(pid_file) as f:
            pid = int(f.read())
        self.assertEqual(json.loads(e.rt("state", cid)[1])["pid"], pid)
        # The stage is loaded and the container's init process is the anchor, while the
        # container's program has not run yet.
        with ebcc.Context(state_root=b.state_root) as ctx, ebcc.Instance.open(ctx, cid) as inst:
            state = json.loads(inst.state())
            self.assertEqual((state["pid"], state["bundle"]), (pid, os.path.realpath(b.bundle)))
            self.assertEqual(inst.status(), "running")
            info = stage_info(inst, "echo")
        self.assertIsInstance(info["eid"], int)
        stage_pids = [info["isolation"]["pid"]]
        self.assertTrue(containers.running(stage_pids[0]), "the stage does not run")
        # Its own socket directory, mounted at /run/ebcc by the rewritten config.json.
        sock_dir = e.socket_dir(cid)
        self.assertTrue(os.path.exists(os.path.join(sock_dir, "ebcc.sock")))
        self.assertEqual(os.stat(sock_dir).st_mode & 0o7777, 0o711)
        self.assertEqual(os.stat(os.path.dirname(sock_dir)).st_mode & 0o7777, 0o700)
        self.assertEqual(os.listdir(b.sock_dir), [], "tools.ociHook.socketDir was used")
        self.assertFalse(self.out_exists(b, "started"), "the program ran before start")

        # state: the low-level runtime's OCI state, and the composite's.
        low = json.loads(e.rt("state", cid)[1])
        state = e.state(cid)
        self.assertEqual({k: v for k, v in state.items() if k != "ebcc"}, low)
        self.assertEqual((state["id"], state["status"], state["pid"]), (cid, "created", pid))
        self.assertEqual(state["ebcc"]["status"], "running")
        self.assertEqual(state["ebcc"]["backend"], "sim")
        stage = state["ebcc"]["stages"][0]
        self.assertEqual((stage["name"], stage["measurement"]), ("echo", echo_measurement()))
        self.assertIsInstance(stage["eid"], int)

        rc, out, err = e("start", cid)
        self.assertEqual((rc, out), (0, ""), err)
        self.assertTrue(wait_until(lambda: self.out_exists(b, "ready") or
                                   self.out_exists(b, "failed")))
        self.assert_no_failure(b)
        self.verify_offline(b, e, nonce)
        self.assertEqual(e.state(cid)["status"], "running")
        # exec passes through, and its process is one of the container's for the broker.
        rc, out, err = e("exec", cid, "sh", "-c",
                         f"printf later | ebcc-call {containers.SOCKET_IN_CONTAINER} echo")
        self.assertEqual((rc, out), (0, "later"), err)

        # kill: the stage is unloaded and the container's process signalled.
        rc, out, err = e("kill", cid, "KILL")
        self.assertEqual((rc, out), (0, ""), err)
        self.assertTrue(wait_until(lambda: not any(map(containers.running, stage_pids)), 10),
                        "the stage survived kill")
        self.assertTrue(wait_until(lambda: e.rt.status(cid) == "stopped"))
        state = e.state(cid)
        self.assertEqual((state["status"], state["ebcc"]["status"]), ("stopped", "stopped"))
        self.assertIsNone(state["ebcc"]["stages"][0]["eid"])
        rc, out, err = e("delete", cid)
        self.assertEqual((rc, out), (0, ""), err)
        self.assert_nothing_left(b, e, cid, stage_pids)
        self.assertEqual(log_errors(e.log), [])

    def test_composite_run_in_one_call(self):
        b, e, (cid,) = self.scratch("run")
        nonce = os.urandom(16).hex()
        b.write_manifest(name="other-manifest.json")
        b.write_script(ONE_CALL_SCRIPT)
        b.write_config(["sh", "/check.sh"], env=[f"NONCE={nonce}"], hooks=False,
                       annotations={"org.ebcc.manifest": "other-manifest.json"})
        rc, out, err = e("run", "--bundle", b.bundle, cid)
        self.assert_no_failure(b)
        self.assertEqual(rc, 3, f"run: {err}")
        with open(os.path.join(b.out, "evidence.json")) as f:
            envelope = json.load(f)
        self.assertEqual((envelope["instance"], envelope["nonce"]), (cid, nonce))
        policy = containers.echo_policy(b.state_root, nonce, b"upper:in one run", b"IN ONE RUN")
        with ebcc.Context() as ctx, ebcc.Evidence.parse(ctx, json.dumps(envelope)) as ev:
            ev.verify(ctx, policy)
        # run waited for the broker too: nothing is left the moment it returns.
        self.assertEqual(containers.processes_mentioning(b.dir), [])
        self.assert_nothing_left(b, e, cid)

    def test_delete_removes_the_composite_only_with_its_container(self):
        b, e, (cid, cid2) = self.scratch("delete", 2)
        b.write_manifest()
        b.write_script(COMPOSITE_SCRIPT)
        b.write_config(["sh", "/check.sh"], env=["NONCE=00"], hooks=False)
        # A running container is deleted only with --force: until then its composite stays.
        rc, _, err = e("create", "--bundle", b.bundle, cid)
        self.assertEqual(rc, 0, err)
        self.assertEqual(e("start", cid)[0], 0)
        self.assertTrue(wait_until(lambda: self.out_exists(b, "ready") or
                                   self.out_exists(b, "failed")))
        self.assert_no_failure(b)
        rc, _, err = e("delete", cid)
        self.assertNotEqual(rc, 0, "a running container was deleted without --force")
        self.assertIn(f"ebcc-runtime: delete {cid}: ", err)
        self.assertEqual([c["id"] for c in self.composites(b)], [cid])
        self.assertEqual(e.rt.status(cid), "running")
        rc, out, err = e("delete", "--force", cid)
        self.assertEqual((rc, out), (0, ""), err)
        self.assert_nothing_left(b, e, cid)
        # A container that was only created goes with its composite; its program never ran.
        os.unlink(os.path.join(b.out, "started"))
        rc, _, err = e("create", "--bundle", b.bundle, cid2)
        self.assertEqual(rc, 0, err)
        rc, out, err = e("delete", cid2)
        self.assertEqual((rc, out), (0, ""), err)
        self.assertFalse(self.out_exists(b, "started"))
        self.assert_nothing_left(b, e, cid2)

    def test_composite_without_tools_serves_container_and_host(self):
        b, e, (cid, cid2) = self.scratch("host", 2)
        b.write_manifest(tools=None)
        b.write_script(PLAIN_SCRIPT)
        b.write_config(["sh", "/check.sh"], hooks=False)
        rc, _, err = e("create", "--bundle", b.bundle, cid)
        self.assertEqual(rc, 0, err)
        with ebcc.Context(state_root=b.state_root) as ctx, ebcc.Instance.open(ctx, cid) as inst:
            stage_pid = stage_info(inst, "echo")["isolation"]["pid"]
        self.assertTrue(containers.running(stage_pid))
        self.assertTrue(os.path.exists(os.path.join(e.socket_dir(cid), "ebcc.sock")))
        self.assertEqual(e("start", cid)[0], 0)
        self.assertTrue(wait_until(lambda: self.out_exists(b, "ran")))
        rc, out, err = e("invoke", cid, "echo", "--nonce", "0102", stdin=b"upper:from the host")
        self.assertEqual((rc, out), (0, "FROM THE HOST"), err)
        rc, out, err = e("delete", "--force", cid)
        self.assertEqual((rc, out), (0, ""), err)
        self.assert_nothing_left(b, e, cid, [stage_pid])
        # A composite killed before start is not started: its stages are gone.
        rc, _, err = e("create", "--bundle", b.bundle, cid2)
        self.assertEqual(rc, 0, err)
        self.assertEqual(e("kill", cid2, "KILL")[0], 0)
        self.assertTrue(wait_until(lambda: e.rt.status(cid2) == "stopped"))
        rc, _, err = e("start", cid2)
        self.assertEqual(rc, 1)
        self.assertIn(f"ebcc-runtime: start {cid2}: the composite is stopped", err)
        self.assertEqual(e("delete", cid2)[0], 0)
        self.assert_nothing_left(b, e, cid2)

    def test_two_containers_from_one_manifest_cannot_reach_each_other(self):
        b, e, (cid_a, cid_b) = self.scratch("two", 2)
        b.write_manifest()
        b.write_script(ISOLATION_SCRIPT)
        nonces = {}
        for name, cid, other in (("a", cid_a, cid_b), ("b", cid_b, cid_a)):
            nonces[name] = os.urandom(32).hex()
            b.write_config(["sh", "/check.sh"], hooks=False,
                           env=[f"NAME={name}", f"NONCE={nonces[name]}",
                                f"OTHER={e.socket_dir(other)}"])
            rc, _, err = e("create", "--bundle", b.bundle, cid)
            self.assertEqual(rc, 0, err)
        self.assertNotEqual(e.socket_dir(cid_a), e.socket_dir(cid_b))
        for cid in (cid_a, cid_b):
            self.assertEqual(e("start", cid)[0], 0)
        for name in ("a", "b"):
            self.assertTrue(wait_until(lambda: self.out_exists(b, name + ".ready") or
                                       self.out_exists(b, name + ".failed")))
            if self.out_exists(b, name + ".failed"):
                self.fail(f"container {name}: {b.out_file(name + '.failed')}")
            # Its mount holds its own socket and nothing else.
            self.assertEqual(b.out_file(name + ".ls").split(), ["ebcc.sock"])
            self.assertEqual(b.out_file(name + ".response"), f"from {name}")
        for name, cid in (("a", cid_a), ("b", cid_b)):
            with open(os.path.join(b.out, name + ".evidence")) as f:
                envelope = json.load(f)
            self.assertEqual((envelope["instance"], envelope["nonce"]), (cid, nonces[name]))
        # A process in a's pid namespace (but the host's mount namespace, where b's socket
        # is) is no process of b's: b's broker refuses it.
        pid_a = e.state(cid_a)["pid"]
        rc, out, err = containers.run(
            ["nsenter", "--target", str(pid_a), "--pid", "--", containers.CALL,
             os.path.join(e.socket_dir(cid_b), "ebcc.sock"), "echo"], stdin=b"x")
        self.assertNotEqual(rc, 0)
        self.assertEqual(out, "")
        self.assertIn("is not a process of this container", err)
        with open(os.path.join(b.out, "finish"), "w"):
            pass
        for cid in (cid_a, cid_b):
            self.assertTrue(wait_until(lambda: e.rt.status(cid) == "stopped"))
            rc, _, err = e("delete", cid)
            self.assertEqual(rc, 0, err)
        self.assert_nothing_left(b, e, cid_a)
        self.assert_nothing_left(b, e, cid_b)

    def test_one_id_under_two_roots_is_two_composites(self):
        # containerd's namespaces: the same id, another --root for each.
        b, e1, (cid,) = self.scratch("roots")
        e1.state_root = None
        e2 = Ebcc(b, self.runtime_class(os.path.join(b.dir, "runtime-root-2")), state_root=False)
        e2.run_dir = e1.run_dir
        self.scratches.append((b, e2, [cid]))
        self.assertNotEqual(e1.derived_state_root(), e2.derived_state_root())
        b.write_manifest()
        b.write_script(STEADY_SCRIPT)
        b.write_config(["sh", "/check.sh"], hooks=False)
        for e in (e1, e2):
            rc, _, err = e("create", "--bundle", b.bundle, cid)
            self.assertEqual(rc, 0, err)
            self.assertEqual(e("start", cid)[0], 0)
            self.assertTrue(wait_until(lambda: self.out_exists(b, "ready") or
                                       self.out_exists(b, "failed")))
            self.assert_no_failure(b)
            os.unlink(os.path.join(b.out, "ready"))
        for e in (e1, e2):
            with ebcc.Context(state_root=e.derived_state_root()) as ctx:
                self.assertEqual([c["id"] for c in json.loads(ebcc.list_instances(ctx))], [cid])
            self.assertEqual(e.state(cid)["ebcc"]["status"], "running")
            self.assertTrue(os.path.exists(os.path.join(e.socket_dir(cid), "ebcc.sock")))
        self.assertNotEqual(e1.socket_dir(cid), e2.socket_dir(cid))
        # One goes, the other stays whole.
        rc, _, err = e1("delete", "--force", cid)
        self.assertEqual(rc, 0, err)
        self.assertFalse(os.path.exists(e1.socket_dir(cid)))
        self.assertEqual(e2.state(cid)["ebcc"]["status"], "running")
        rc, out, err = e2("exec", cid, "sh", "-c", "printf again | ebcc-call "
                          f"{containers.SOCKET_IN_CONTAINER} echo")
        self.assertEqual((rc, out), (0, "again"), err)
        rc, _, err = e2("delete", "--force", cid)
        self.assertEqual(rc, 0, err)
        for e in (e1, e2):
            self.assertNotIn(cid, e.rt.ids())
            with ebcc.Context(state_root=e.derived_state_root()) as ctx:
                self.assertEqual(json.loads(ebcc.list_instances(ctx)), [])
        for sub in ("sockets", "brokers"):
            self.assertEqual(os.listdir(os.path.join(e1.run_dir, sub)), [])
        self.assertTrue(wait_until(lambda: not containers.processes_mentioning(b.dir)))

    # ---- (b) a create that fails ---------------------------------------------------------

    def failing_create(self, b, e, cid, expect):
        pid_file = os.path.join(b.dir, "container.pid")
        config = os.path.join(b.bundle, "config.json")
        with open(config, "rb") as f:
            original = f.read()
        rc, out, err = e("create", "--bundle", b.bundle, "--pid-file", pid_file, cid)
        with open(config, "rb") as f:
            self.assertEqual(f.read(), original, "config.json is not restored")
        self.assertEqual([n for n in os.listdir(b.bundle) if n.startswith(".config")], [])
        self.assertNotEqual(rc, 0)
        self.assertEqual(out, "")
        self.assertRegex(err, rf"ebcc-runtime: create {cid}: [^\n]*{expect}")
        errors = [r for r in log_errors(e.log) if r["msg"].startswith(f"create {cid}: ")]
        self.assertTrue(errors, f"no error in the JSON log: {log_errors(e.log)}")
        self.assertRegex(errors[0]["msg"], expect)
        self.assertRegex(errors[0]["time"], TIME_RE)
        self.assertFalse(os.path.exists(pid_file), "the pid file is left")
        self.assertFalse(self.out_exists(b, "started"), "the container ran")
        self.assert_nothing_left(b, e, cid)

    def test_a_wrong_measurement_fails_create_and_leaves_nothing(self):
        b, e, (cid,) = self.scratch("pin")
        b.write_manifest(stages=[{"name": "echo", "image": "stages/echo",
                                  "measurement": "sha256:" + "0" * 64}])
        b.write_script(COMPOSITE_SCRIPT)
        b.write_config(["sh", "/check.sh"], hooks=False)
        self.failing_create(b, e, cid, r"but the manifest pins[^\n]*EBCC_ERR_VERIFY")

    def test_a_stage_that_cannot_load_fails_create_after_the_container_exists(self):
        b, e, (cid,) = self.scratch("dyn")
        dynamic = "/bin/true"
        if not containers.elf_interpreter(dynamic):
            self.skipTest(f"{dynamic} is not dynamically linked here")
        image = os.path.join(b.bundle, "stages", "echo")
        os.unlink(image)
        shutil.copy(dynamic, image)
        b.write_manifest()
        b.write_script(COMPOSITE_SCRIPT)
        b.write_config(["sh", "/check.sh"], hooks=False)
        self.failing_create(b, e, cid, r"dynamically linked")

    def test_a_container_the_low_level_runtime_cannot_create_leaves_no_composite(self):
        b, e, (cid,) = self.scratch("noroot")
        b.write_manifest()
        b.write_script(COMPOSITE_SCRIPT)
        b.write_config(["sh", "/check.sh"], hooks=False)
        with open(os.path.join(b.bundle, "config.json")) as f:
            config = json.load(f)
        config["root"]["path"] = "no-such-rootfs"
        with open(os.path.join(b.bundle, "config.json"), "w") as f:
            json.dump(config, f)
        self.failing_create(b, e, cid, rf"{e.rt.name}[^\n]* create exited with \d+")

    # ---- (c) plain and pause containers ---------------------------------------------------

    def plain_lifecycle(self, b, e, cid):
        rc, out, err = e("create", "--bundle", b.bundle, cid)
        self.assertEqual((rc, out), (0, ""), err)
        self.assertEqual(e.rt.status(cid), "created")
        self.assertFalse(os.path.exists(b.state_root), "a plain container touched libebcc")
        # state is the low-level runtime's own, byte for byte.
        self.assertEqual(e("state", cid, log=False), e.rt("state", cid))
        self.assertNotIn("ebcc", e.state(cid))
        rc, _, err = e("start", cid)
        self.assertEqual(rc, 0, err)
        self.assertTrue(wait_until(lambda: self.out_exists(b, "ran")))
        self.assertEqual(e.state(cid)["status"], "running")
        rc, out, err = e("exec", cid, "echo", "inside")
        self.assertEqual((rc, out), (0, "inside\n"), err)
        rc, _, err = e("kill", cid, "KILL")
        self.assertEqual(rc, 0, err)
        self.assertTrue(wait_until(lambda: e.rt.status(cid) == "stopped"))
        rc, _, err = e("delete", cid)
        self.assertEqual(rc, 0, err)
        self.assert_nothing_left(b, e, cid)
        self.assertFalse(os.path.exists(b.state_root))

    def plain_run(self, b, e, cid):
        os.unlink(os.path.join(b.rootfs, "check.sh"))
        b.write_script("#!/bin/sh\ntouch /out/ran-once\nexit 4\n")
        rc, _, err = e("run", "--bundle", b.bundle, cid)
        self.assertEqual(rc, 4, err)
        self.assertTrue(self.out_exists(b, "ran-once"))
        self.assert_nothing_left(b, e, cid)
        self.assertFalse(os.path.exists(b.state_root))

    def test_plain_container_passes_through(self):
        b, e, (cid, cid2) = self.scratch("plain", 2)
        b.write_script(PLAIN_SCRIPT)
        b.write_config(["sh", "/check.sh"], hooks=False)
        self.plain_lifecycle(b, e, cid)
        self.plain_run(b, e, cid2)

    def test_pause_container_passes_through(self):
        # A pod's sandbox carries the pod's annotations, a manifest's included.
        b, e, (cid, cid2) = self.scratch("pause", 2)
        b.write_manifest()
        b.write_script(PLAIN_SCRIPT)
        b.write_config(["sh", "/check.sh"], hooks=False,
                       annotations={"io.kubernetes.cri.container-type": "sandbox",
                                    "org.ebcc.manifest": "ebcc.json"})
        self.plain_lifecycle(b, e, cid)
        self.plain_run(b, e, cid2)

    # ---- (d) the verbs that pass through -------------------------------------------------

    def same_as_low_level(self, *args, stdin=b""):
        """Runs args through ebcc-runtime and directly: both answers must be the same."""
        ours = self.e(*args, stdin=stdin, log=False)
        theirs = self.e.rt(*args, stdin=stdin)
        self.assertEqual(ours, theirs, args)
        return ours

    def test_verbs_pass_through_for_a_composite(self):
        b, e, (cid,) = self.scratch("verbs")
        self.e = e
        b.write_manifest()
        b.write_script(STEADY_SCRIPT)
        b.write_config(["sh", "/check.sh"], hooks=False)
        rc, _, err = e("create", "--bundle", b.bundle, cid)
        self.assertEqual(rc, 0, err)
        rc, _, err = e("start", cid)
        self.assertEqual(rc, 0, err)
        self.assertTrue(wait_until(lambda: self.out_exists(b, "ready") or
                                   self.out_exists(b, "failed")))
        self.assert_no_failure(b)
        pid = e.state(cid)["pid"]

        rc, out, err = e("exec", cid, "sh", "-c", "echo $$; echo to-stderr >&2; exit 5")
        self.assertEqual(rc, 5, err)
        self.assertRegex(out, r"^\d+\n$")
        self.assertIn("to-stderr", err)
        resources = b'{"pids": {"limit": 200}}'
        rc, out, err = self.same_as_low_level("ps", "--format", "json", cid)
        rc_update, _, err_update = self.same_as_low_level("update", "--resources", "-", cid,
                                                          stdin=resources)
        rc_features, features, _ = self.same_as_low_level("features")
        if self.cgroups:
            self.assertEqual(rc, 0, err)
            self.assertEqual(json.loads(out), [pid])
            self.assertEqual(rc_update, 0, err_update)
            self.assertEqual(rc_features, 0)
            self.assertIn("ociVersionMax", json.loads(features))
            for verb, status in (("pause", "paused"), ("resume", "running")):
                rc, _, err = e(verb, cid)
                self.assertEqual(rc, 0, err)
                self.assertEqual(e.rt.status(cid), status)
                self.assertEqual(e.state(cid)["status"], status)
        else:
            # Without a cgroup manager these fail, in the low-level runtime's own words.
            self.assertNotEqual(rc, 0)
            self.assertNotEqual(rc_update, 0)
            for verb in ("pause", "resume"):
                rc, _, err = self.same_as_low_level(verb, cid)
                self.assertNotEqual(rc, 0)
                self.assertEqual(e.rt.status(cid), "running")
        # kill --all: the stages are unloaded, every process signalled.
        rc, _, err = e("kill", "--all", cid, "KILL")
        self.assertEqual(rc, 0, err)
        self.assertTrue(wait_until(lambda: e.rt.status(cid) == "stopped"))
        self.assertIsNone(e.state(cid)["ebcc"]["stages"][0]["eid"])
        # A second kill finds nothing to stop: the low-level runtime answers it.
        self.assertEqual(e("kill", cid, "KILL", log=False)[0], e.rt("kill", cid, "KILL")[0])
        rc, _, err = e("delete", cid)
        self.assertEqual(rc, 0, err)
        self.assert_nothing_left(b, e, cid)


class RuncTest(OciCase):
    runtime_class = containers.Runc


class CrunTest(OciCase):
    runtime_class = containers.Crun
    cgroups = False


del OciCase

if __name__ == "__main__":
    unittest.main()
