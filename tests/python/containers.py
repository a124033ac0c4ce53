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
