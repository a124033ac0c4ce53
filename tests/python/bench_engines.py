# SPDX-License-Identifier: MIT
"""Benchmark: the cost of a one-stage composite under podman and containerd. Each round runs
the same container twice, interleaved: plain, and as a composite whose process makes one
invocation of the echo stage (podman: its default runtime with the hooks.d entry, and
--runtime ebcc-runtime; ctr: --runc-binary ebcc-runtime against runc itself). Prints the
medians and the ratio composite / plain (the goal is at most 1.15). Not part of the suite:
`meson test --benchmark bench-engines`; EBCC_BENCH_ROUNDS sets the rounds (default 15).
"""
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid

import containers

IMAGE = "localhost/ebcc-bench:1"
ROUNDS = int(os.environ.get("EBCC_BENCH_ROUNDS", "15"))
PLAIN = "printf hello > /dev/null"
CALL = "printf hello | ebcc-call /run/ebcc/ebcc.sock echo > /dev/null"


def timed(fn):
    start = time.monotonic()
    rc, _, err = fn()
    elapsed = time.monotonic() - start
    if rc != 0:
        raise SystemExit(f"bench-engines: a run failed: {err.strip()[:500]}")
    return elapsed


def report(name, plain, composite):
    p, c = statistics.median(plain), statistics.median(composite)
    print(f"{name:34s} plain {p * 1000:7.1f} ms  composite {c * 1000:7.1f} ms  "
          f"ratio {c / p:5.2f}  (medians of {len(plain)})")
    sys.stdout.flush()


def bench_podman(directory, rootfs, manifest):
    hooks = os.path.join(directory, "hooks.d")
    os.makedirs(hooks)
    import json
    with open(os.environ["EBCC_HOOKS_D_FILE"]) as f:
        entry = json.load(f)
    entry["hook"]["path"] = containers.HOOK
    entry["hook"]["args"] = ["ebcc-oci-hook", "--root", os.path.join(directory, "hook-root"),
                             "--run-dir", os.path.join(directory, "hook-run"), "auto"]
    with open(os.path.join(hooks, "50-ebcc.json"), "w") as f:
        json.dump(entry, f)
    wrapper = os.path.join(directory, "ebcc-runtime-bench")
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\nexec {containers.RUNTIME} --run-dir {directory}/rt-run "
                f"--state-root {directory}/rt-state --low-level-runtime runc \"$@\"\n")
    os.chmod(wrapper, 0o755)
    pm = containers.Podman(os.path.join(directory, "podman"), hooks)
    try:
        tar = containers.rootfs_tar(rootfs, os.path.join(directory, "rootfs.tar"))
        rc, _, err = pm("import", tar, IMAGE, cgroup2=False)
        if rc != 0:
            raise SystemExit(f"bench-engines: podman import: {err}")
        base = ["run", "--rm"] + containers.Podman.RUN_OPTIONS
        crun = base + ["--cgroups", "disabled"]
        ann = ["--annotation", f"org.ebcc.manifest={manifest}"]
        plain, comp = [], []
        for _ in range(ROUNDS):
            plain.append(timed(lambda: pm(*crun, IMAGE, "sh", "-c", PLAIN)))
            comp.append(timed(lambda: pm(*crun, *ann, IMAGE, "sh", "-c", CALL)))
        report("podman (crun, hooks.d)", plain, comp)
        plain, comp = [], []
        for _ in range(ROUNDS):
            plain.append(timed(lambda: pm(*base, IMAGE, "sh", "-c", PLAIN,
                                          runtime_args=["--runtime", "runc"], cgroup2=False)))
            comp.append(timed(lambda: pm(*base, *ann, IMAGE, "sh", "-c", CALL,
                                         runtime_args=["--runtime", wrapper], cgroup2=False)))
        report("podman --runtime ebcc-runtime/runc", plain, comp)
    finally:
        pm.remove_all()


def bench_ctr(directory, rootfs, manifest):
    os.makedirs(directory)
    cd = containers.Containerd(directory)
    wrapper = os.path.join(directory, "ebcc-runtime-bench")
    with open(wrapper, "w") as f:
        f.write(f"#!/bin/sh\nexec {containers.RUNTIME} --run-dir {directory}/rt-run \"$@\"\n")
    os.chmod(wrapper, 0o755)
    ns = f"ebcc-bench-{uuid.uuid4().hex[:8]}"
    try:
        cd.start()
        archive = containers.oci_archive(rootfs, os.path.join(directory, "image.tar"), IMAGE)
        rc, _, err = cd.ctr("image", "import", archive, namespace=ns)
        if rc != 0:
            raise SystemExit(f"bench-engines: ctr image import: {err}")
        plain, comp = [], []
        for i in range(ROUNDS):
            plain.append(timed(lambda: cd.ctr("run", "--rm", "--null-io", IMAGE, f"p{i}",
                                              "sh", "-c", PLAIN, namespace=ns)))
            comp.append(timed(lambda: cd.ctr(
                "run", "--rm", "--null-io", "--runc-binary", wrapper, "--annotation",
                f"org.ebcc.manifest={manifest}", IMAGE, f"c{i}", "sh", "-c", CALL,
                namespace=ns)))
        report("ctr (runc, --runc-binary)", plain, comp)
    finally:
        cd.ctr("images", "rm", "--sync", IMAGE, namespace=ns)
        cd.ctr("namespaces", "remove", ns, namespace=ns)
        cd.stop()
        d = os.path.join("/run/containerd/runc", ns)
        if os.path.isdir(d) and not os.listdir(d):
            os.rmdir(d)


def main():
    for program in ("podman", "containerd", "ctr", "runc", "crun"):
        if shutil.which(program) is None:
            print(f"bench-engines: skipped: {program} is not installed")
            return 0
    directory = tempfile.mkdtemp(prefix="ebcc-bench-engines-")
    try:
        rootfs = containers.image_rootfs(directory)
        manifest = containers.stage_manifest(os.path.join(directory, "host"))
        print(f"bench-engines: {ROUNDS} rounds, plain and composite interleaved")
        bench_podman(os.path.join(directory, "pm"), rootfs, manifest)
        bench_ctr(os.path.join(directory, "ctr"), rootfs, manifest)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
