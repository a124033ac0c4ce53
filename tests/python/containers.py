# SPDX-License-Identifier: MIT
"""Real containers for the OCI hook and runtime tests: a busybox-static rootfs, a bundle whose
config.json registers ebcc-oci-hook as createRuntime and poststop hooks (or, for ebcc-runtime,
no hooks) and bind-mounts the socket directory, the runtimes that run it (runc, and crun in a
cgroup2-only mount namespace), and the processes the tests look at afterwards.
"""
import json
import os
import shutil
import struct
import subprocess
import tempfile

import ebcc
from bundles import echo_measurement, sha256

HOOK = os.environ.get("EBCC_OCI_HOOK")
RUNTIME = os.environ.get("EBCC_RUNTIME")
CALL = os.environ.get("EBCC_CALL")
ECHO_STAGE = os.environ.get("EBCC_TEST_ECHO_STAGE")
BUSYBOX = "/bin/busybox"
APPLETS = ["sh", "cat", "printf", "echo", "test", "[", "sleep", "head", "wc", "ls", "touch", "true",
           "rm", "tr"]
# Where the container sees the socket directory and its output directory.
SOCKET_IN_CONTAINER = "/run/ebcc/ebcc.sock"
# Every runtime call is bounded: a hook that keeps the runtime's stdio open would hang it.
RUNTIME_TIMEOUT = 120


def elf_interpreter(path):
    """The PT_INTERP of a 64-bit ELF file, None for a static one (or a non-ELF file: False)."""
    with open(path, "rb") as f:
        head = f.read(64)
        if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2:
            return False
        phoff, = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            ptype, = struct.unpack("<I", f.read(4))
            if ptype == 3:
                f.seek(phoff + i * phentsize + 8)
                offset, = struct.unpack("<Q", f.read(8))
                f.seek(phoff + i * phentsize + 32)
                size, = struct.unpack("<Q", f.read(8))
                f.seek(offset)
                return f.read(size).rstrip(b"\0").decode()
    return None


def missing_prerequisites(runtime="runc", program=("EBCC_OCI_HOOK", HOOK)):
    """Why the container tests cannot run here, or None. program is the tested one (the hook,
    or ebcc-runtime) as (environment variable, path)."""
    if os.geteuid() != 0:
        return "the container tests run as root (runc and crun are used without rootless mode)"
    if shutil.which(runtime) is None:
        return f"{runtime} is not installed (Debian package {runtime})"
    if not os.path.exists(BUSYBOX) or elf_interpreter(BUSYBOX) is not None:
        return f"{BUSYBOX} is missing or not static (Debian package busybox-static)"
    for name, path in (program, ("EBCC_CALL", CALL), ("EBCC_TEST_ECHO_STAGE", ECHO_STAGE)):
        if not path or not os.access(path, os.X_OK):
            return f"${name} names no built program"
    return None


def runtime_env():
    """The environment for runc, crun and unshare: without the sanitizer runtime that the test
    suite may preload into the interpreter."""
    env = dict(os.environ)
    for key in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS", "EBCC_LOG_LEVEL"):
        env.pop(key, None)
    return env


def run(argv, stdin=b"", timeout=RUNTIME_TIMEOUT, env=None):
    """Runs argv with stdio on files (a container's process inherits the runtime's stdio, and
    a hook's broker must not hold a pipe of ours either); returns (returncode, stdout, stderr)
    as text."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.TemporaryFile() as inp:
        inp.write(stdin)
        inp.seek(0)
        proc = subprocess.run(argv, stdin=inp, stdout=out, stderr=err,
                              env=runtime_env() if env is None else env, timeout=timeout)
        out.seek(0)
        err.seek(0)
        return (proc.returncode, out.read().decode(errors="replace"),
                err.read().decode(errors="replace"))


class Runc:
    """runc with a state root of its own, so that `list` shows only this test's containers."""

    name = "runc"

    def __init__(self, root):
        self.root = root

    def argv(self, *args):
        return ["runc", "--root", self.root] + [str(a) for a in args]

    def low_level(self, directory):
        """What ebcc-runtime --low-level-runtime names to run this runtime as the test does
        (the global options other than --root included): a program in directory."""
        return shutil.which("runc")

    def __call__(self, *args, stdin=b"", timeout=RUNTIME_TIMEOUT):
        return run(self.argv(*args), stdin=stdin, timeout=timeout)

    def ids(self):
        rc, out, err = self("list", "--format", "json")
        if rc != 0:
            raise AssertionError(f"runc list: {err}")
        return [c["id"] for c in (json.loads(out) or [])]

    def status(self, cid):
        rc, out, _ = self("state", cid)
        return json.loads(out)["status"] if rc == 0 else None


class Crun(Runc):
    """crun without a cgroup manager, in a mount namespace with only cgroup2 mounted on
    /sys/fs/cgroup (this host mounts the v1 hierarchies, which crun cannot use unmanaged)."""

    name = "crun"

    # In its own mount namespace, with cgroup2 alone on /sys/fs/cgroup.
    INNER = "mount -t cgroup2 none /sys/fs/cgroup && exec crun --cgroup-manager=disabled"

    def argv(self, *args):
        inner = " ".join(_quote(a) for a in ["--root", self.root] + [str(a) for a in args])
        return ["unshare", "-m", "sh", "-c", self.INNER + " " + inner]

    def low_level(self, directory):
        """A script that runs crun as argv() does, with the arguments it is given."""
        path = os.path.join(directory, "crun-unshared")
        with open(path, "w") as f:
            f.write(f"#!/bin/sh\nexec unshare -m sh -c '{self.INNER} \"$@\"' crun \"$@\"\n")
        os.chmod(path, 0o755)
        return path


def crun_unusable(cid):
    """Why crun cannot run any container on this machine (even as Crun runs it), or None."""
    b = HookedBundle(cid)
    try:
        b.write_config(["true"], hooks=False)
        rt = Crun(b.runtime_root)
        rc, _, err = rt("run", "--bundle", b.bundle, b.cid)
        rt("delete", "--force", b.cid)
    finally:
        b.remove()
    if rc == 0:
        return None
    return ("crun cannot run a container on this machine (even with --cgroup-manager=disabled "
            f"under cgroup2 in its own mount namespace): {err.strip()[:300]}")


def _quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


def make_rootfs(rootfs):
    """busybox with the applets the container scripts use, and the static ebcc-call."""
    for d in ("bin", "proc", "dev", "tmp", "run/ebcc", "out", "sys"):
        os.makedirs(os.path.join(rootfs, d), exist_ok=True)
    shutil.copy(BUSYBOX, os.path.join(rootfs, "bin", "busybox"))
    for applet in APPLETS:
        os.symlink("busybox", os.path.join(rootfs, "bin", applet))
    shutil.copy(CALL, os.path.join(rootfs, "bin", "ebcc-call"))


class HookedBundle:
    """A scratch directory with a bundle whose container is joined with its stages by
    ebcc-oci-hook, plus the hook's state root and run directory, the socket directory, the
    container's output directory and the runtime's own root."""

    def __init__(self, cid, hook_prefix=()):
        self.cid = cid
        self.dir = tempfile.mkdtemp(prefix="ebcc-hook-")
        self.bundle = os.path.join(self.dir, "bundle")
        self.rootfs = os.path.join(self.bundle, "rootfs")
        self.sock_dir = os.path.join(self.dir, "sock")
        self.out = os.path.join(self.dir, "out")
        self.state_root = os.path.join(self.dir, "ebcc-root")
        self.run_dir = os.path.join(self.dir, "hook-run")
        self.runtime_root = os.path.join(self.dir, "runtime-root")
        self.sanitizer_logs = os.path.join(self.dir, "sanitizer")
        self.hook_prefix = list(hook_prefix)
        for d in (self.bundle, self.sock_dir, self.out, self.sanitizer_logs):
            os.makedirs(d)
        # The socket directory: the hook wants it owned by us and writable by nobody else.
        os.chmod(self.sock_dir, 0o755)
        os.chmod(self.out, 0o777)
        make_rootfs(self.rootfs)
        os.makedirs(os.path.join(self.bundle, "stages"))
        shutil.copy(ECHO_STAGE, os.path.join(self.bundle, "stages", "echo"))

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def socket(self):
        return os.path.join(self.sock_dir, "ebcc.sock")

    def hook_env(self):
        """The hook's environment, as config.json gives it."""
        env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
        if "libasan" in os.environ.get("LD_PRELOAD", ""):
            # A sanitizer build: the hook and its broker report to files the test reads
            # (the broker's stderr is /dev/null).
            log = os.path.join(self.sanitizer_logs, "report")
            env += [f"ASAN_OPTIONS=detect_leaks=1:log_path={log}",
                    f"UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path={log}"]
        return env

    def hook_entry(self, which):
        args = ["ebcc-oci-hook", "--root", self.state_root, "--run-dir", self.run_dir, which]
        env = self.hook_env()
        if self.hook_prefix:
            return {"path": shutil.which(self.hook_prefix[0]),
                    "args": self.hook_prefix + [HOOK] + args[1:], "env": env}
        return {"path": HOOK, "args": args, "env": env}

    def write_config(self, args, env=(), annotations=None, hooks=True):
        config = {
            "ociVersion": "1.0.2",
            "process": {"terminal": False, "user": {"uid": 0, "gid": 0}, "args": list(args),
                        "env": ["PATH=/bin"] + list(env), "cwd": "/",
                        "noNewPrivileges": True},
            "root": {"path": "rootfs", "readonly": True},
            "hostname": "ebcc-hook-test",
            "mounts": [
                {"destination": "/proc", "type": "proc", "source": "proc"},
                {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
                 "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
                {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                 "options": ["nosuid", "nodev", "mode=1777"]},
                {"destination": "/run/ebcc", "type": "bind", "source": self.sock_dir,
                 "options": ["rbind", "ro"]},
                {"destination": "/out", "type": "bind", "source": self.out,
                 "options": ["rbind", "rw"]},
            ],
            "linux": {"namespaces": [{"type": t} for t in
                                     ("pid", "mount", "ipc", "uts", "network")]},
            "annotations": annotations if annotations is not None else {"org.example": "hook"},
        }
        if hooks:
            config["hooks"] = {"createRuntime": [self.hook_entry("create-runtime")],
                               "poststop": [self.hook_entry("poststop")]}
        with open(os.path.join(self.bundle, "config.json"), "w") as f:
            json.dump(config, f, indent=1)

    def write_manifest(self, stages=None, tools="default", name="ebcc.json"):
        manifest = {"ebccVersion": "0.1",
                    "stages": stages if stages is not None else [
                        {"name": "echo", "image": "stages/echo", "maxRequest": 4096}]}
        if tools == "default":
            tools = {"ociHook": {"socketDir": self.sock_dir}}
        if tools is not None:
            manifest["tools"] = tools
        with open(os.path.join(self.bundle, name), "w") as f:
            json.dump(manifest, f)

    def write_script(self, text):
        """A shell script at /check.sh in the (read-only) rootfs."""
        path = os.path.join(self.rootfs, "check.sh")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o755)

    def out_file(self, name, mode="r"):
        with open(os.path.join(self.out, name), mode) as f:
            return f.read()

    def sanitizer_reports(self):
        return sorted(os.listdir(self.sanitizer_logs))


# ---- processes ------------------------------------------------------------------------------

def process_state(pid):
    """The one-letter state of pid, or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            text = f.read()
    except OSError:
        return None
    return text[text.rindex(b")") + 2:][:1].decode()


def running(pid):
    """Whether pid runs (a zombie has exited: only its parent's wait is missing)."""
    return process_state(pid) not in (None, "Z", "X")


def processes_mentioning(text):
    """Running processes whose command line contains text (e.g. a scratch directory)."""
    found = []
    needle = text.encode()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == os.getpid():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        if needle in cmdline and running(int(name)):
            found.append((int(name), cmdline.replace(b"\0", b" ").decode(errors="replace")))
    return found


# ---- engines: podman and containerd -----------------------------------------------------------

def image_rootfs(directory, extra=None):
    """A busybox-static rootfs with ebcc-call (make_rootfs), plus extra {path: bytes}."""
    rootfs = os.path.join(directory, "image-rootfs")
    make_rootfs(rootfs)
    for path, data in (extra or {}).items():
        full = os.path.join(rootfs, path.lstrip("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)
        os.chmod(full, 0o755)
    return rootfs


def rootfs_tar(rootfs, path):
    """rootfs as an uncompressed tar whose members are relative to its root."""
    import tarfile
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(os.listdir(rootfs)):
            tar.add(os.path.join(rootfs, name), arcname=name)
    return path


def oci_archive(rootfs, path, ref):
    """An OCI image layout archive of rootfs (one uncompressed layer) that `ctr image
    import` names ref."""
    import hashlib
    import tarfile
    work = tempfile.mkdtemp(prefix="ebcc-oci-")
    try:
        blobs = os.path.join(work, "blobs", "sha256")
        os.makedirs(blobs)

        def blob(data):
            digest = hashlib.sha256(data).hexdigest()
            with open(os.path.join(blobs, digest), "wb") as f:
                f.write(data)
            return {"digest": "sha256:" + digest, "size": len(data)}

        layer_path = rootfs_tar(rootfs, os.path.join(work, "layer.tar"))
        with open(layer_path, "rb") as f:
            layer = blob(f.read())
        os.unlink(layer_path)
        config = blob(json.dumps({
            "architecture": "amd64", "os": "linux",
            "config": {"Env": ["PATH=/bin"], "Cmd": ["sh"]},
            "rootfs": {"type": "layers", "diff_ids": [layer["digest"]]},
        }).encode())
        manifest = blob(json.dumps({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": dict(config, mediaType="application/vnd.oci.image.config.v1+json"),
            "layers": [dict(layer, mediaType="application/vnd.oci.image.layer.v1.tar")],
        }).encode())
        index = {"schemaVersion": 2, "manifests": [dict(
            manifest, mediaType="application/vnd.oci.image.manifest.v1+json",
            annotations={"io.containerd.image.name": ref,
                         "org.opencontainers.image.ref.name": ref.rsplit(":", 1)[-1]})]}
        with open(os.path.join(work, "index.json"), "w") as f:
            json.dump(index, f)
        with open(os.path.join(work, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        with tarfile.open(path, "w") as tar:
            for name in ("oci-layout", "index.json", "blobs"):
                tar.add(os.path.join(work, name), arcname=name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return path


def unmount_under(directory):
    """Unmounts whatever is mounted beneath directory, deepest first."""
    with open("/proc/self/mounts") as f:
        points = [line.split()[1].replace("\\040", " ") for line in f]
    for point in sorted((p for p in points if p == directory or
                         p.startswith(directory.rstrip("/") + "/")), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)


def mounts_under(directory):
    with open("/proc/self/mounts") as f:
        points = [line.split()[1] for line in f]
    return [p for p in points if p.startswith(directory.rstrip("/") + "/")]


class Containerd:
    """A private containerd (CRI plugin disabled) with its root, state and socket in
    directory; started by start(), stopped by pid in stop()."""

    def __init__(self, directory):
        self.dir = directory
        self.address = os.path.join(directory, "containerd.sock")
        self.proc = None
        self.log = os.path.join(directory, "containerd.log")

    def start(self, timeout=30):
        import time
        config = os.path.join(self.dir, "config.toml")
        with open(config, "w") as f:
            f.write(f'version = 2\nroot = "{self.dir}/root"\nstate = "{self.dir}/state"\n'
                    'disabled_plugins = ["io.containerd.grpc.v1.cri", '
                    '"io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", '
                    '"io.containerd.snapshotter.v1.aufs", '
                    '"io.containerd.snapshotter.v1.devmapper"]\n'
                    f'[grpc]\n  address = "{self.address}"\n'
                    f'[ttrpc]\n  address = "{self.address}.ttrpc"\n'
                    f'[debug]\n  address = "{self.address}.debug"\n')
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(["containerd", "--config", config], stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log, env=runtime_env(),
                                         start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            if os.path.exists(self.address) and self.ctr("version")[0] == 0:
                return
            time.sleep(0.1)
        with open(self.log) as f:
            raise AssertionError(f"containerd did not start: {f.read()[-2000:]}")

    def ctr(self, *args, namespace="ebcc-test", stdin=b"", timeout=RUNTIME_TIMEOUT):
        return run(["ctr", "--address", self.address, "--namespace", namespace] +
                   [str(a) for a in args], stdin=stdin, timeout=timeout)

    def stop(self):
        """Stops containerd by its pid; what its shims left is ended, the mounts undone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for pid, _ in processes_mentioning(self.dir):
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        unmount_under(self.dir)


class Podman:
    """podman with a private storage (--root, --runroot, --tmpdir) and hooks directory under
    directory; crun, its default runtime here, runs unmanaged in a cgroup2-only mount
    namespace (see Crun)."""

    RUN_OPTIONS = ["--network", "none", "--ulimit", "nofile=1024:1024",
                   "--ulimit", "nproc=4096:4096"]

    def __init__(self, directory, hooks_dir):
        self.dir = directory
        self.hooks_dir = hooks_dir
        self.globals = ["--root", os.path.join(directory, "storage"),
                        "--runroot", os.path.join(directory, "runroot"),
                        "--tmpdir", os.path.join(directory, "tmp"),
                        "--hooks-dir", hooks_dir, "--cgroup-manager", "cgroupfs",
                        "--events-backend", "file"]

    def argv(self, *args, runtime_args=()):
        return ["podman"] + self.globals + list(runtime_args) + [str(a) for a in args]

    def __call__(self, *args, runtime_args=(), stdin=b"", timeout=RUNTIME_TIMEOUT,
                 cgroup2=True):
        argv = self.argv(*args, runtime_args=runtime_args)
        if cgroup2:
            argv = ["unshare", "-m", "sh", "-c",
                    "mount -t cgroup2 none /sys/fs/cgroup && exec " +
                    " ".join(_quote(a) for a in argv)]
        return run(argv, stdin=stdin, timeout=timeout)

    def remove_all(self):
        self("rm", "--all", "--force", "--time", "0", cgroup2=False)
        self("rmi", "--all", "--force", cgroup2=False)
        for pid, _ in processes_mentioning(self.dir):
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        unmount_under(self.dir)


def sha256_file(path):
    import hashlib
    with open(path, "rb") as f:
        return "sha256:" + hashlib.sha256(f.read()).hexdigest()


def verify_offline(case, key_root, evidence, nonce, instance, scratch):
    """Verifies evidence (a file) with `ebcc-runtime verify` on the host: the sim key of
    key_root's backend and the echo stage's measurement, nothing else; the same evidence
    with another nonce must not verify."""
    rc, pem, err = run([RUNTIME, "--state-root", key_root, "attestation-key", "sim"])
    case.assertEqual(rc, 0, err)
    key = os.path.join(scratch, "sim.pem")
    with open(key, "w") as f:
        f.write(pem)
    nowhere = os.path.join(scratch, "no", "such", "root")
    common = [RUNTIME, "--state-root", nowhere, "verify", "--key", key, "--allow-simulated",
              "--measurement", sha256_file(ECHO_STAGE)]
    rc, out, err = run(common + ["--nonce", nonce, evidence])
    case.assertEqual(rc, 0, err)
    case.assertTrue(out.startswith(f"verified: stage echo of {instance}, seq "), out)
    rc, _, err = run(common + ["--nonce", "ff" * 32, evidence])
    case.assertEqual(rc, 1, "evidence verified with another nonce")
    case.assertIn("nonce", err)
    case.assertFalse(os.path.exists(os.path.join(scratch, "no")))
    os.unlink(key)


def stage_manifest(directory, pin=None, name="ebcc.json"):
    """A manifest with the echo stage beside it in directory (images resolve beside an
    absolute manifest); pin: a measurement to pin instead of none."""
    os.makedirs(directory, exist_ok=True)
    image = os.path.join(directory, "echo")
    if not os.path.exists(image):
        shutil.copy(ECHO_STAGE, image)
    stage = {"name": "echo", "image": "echo", "maxRequest": 4096}
    if pin is not None:
        stage["measurement"] = pin
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        json.dump({"ebccVersion": "0.1", "stages": [stage]}, f)
    return path


def echo_in_image():
    """The files that ship a stage inside the container's image: rootfs:/ebcc/ebcc.json."""
    with open(ECHO_STAGE, "rb") as f:
        image = f.read()
    return {"/ebcc/ebcc.json": json.dumps({"ebccVersion": "0.1", "stages": [
        {"name": "echo", "image": "echo", "maxRequest": 4096}]}).encode(),
        "/ebcc/echo": image}


# What a container of the engine tests runs: one call of its stage, the evidence and the
# response in /out/$NAME.*, then it waits for /out/finish when asked to ($WAIT).
CALL_SCRIPT = """
S=/run/ebcc/ebcc.sock
fail() { echo "$*" > /out/$NAME.failed; exit 1; }
ls /run/ebcc > /out/$NAME.ls
printf "from $NAME" | ebcc-call $S echo --nonce "$NONCE" --evidence /out/$NAME.evidence \\
    > /out/$NAME.response || fail "the call failed"
touch /out/$NAME.ready
if [ -n "$WAIT" ]; then while [ ! -e /out/finish ]; do sleep 0.05; done; fi
"""


def echo_policy(state_root, nonce, request, response):
    """The policy that evidence of one echo call must pass offline: the sim key of state_root
    trusted, simulation allowed, the nonce, the echo image's measurement and both digests."""
    with ebcc.Context(state_root=state_root) as ctx:
        key = ebcc.backend_attestation_key(ctx, "sim")
    return {"trusted_keys": [key], "allow_simulated": True, "nonce": nonce,
            "measurement": echo_measurement(), "request_digest": sha256(request),
            "response_digest": sha256(response)}
