#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Installs the build into a scratch DESTDIR, then compiles and runs an outside program with
nothing but `cc $(pkg-config --cflags --libs libebcc)` pointed at that tree. When the tree has
the example stages (libexecdir/ebcc/stages), the program runs the whole lifecycle with the
installed echo stage: create, start, invoke, verify the evidence, kill, wait, delete.

usage: test-pkgconfig-consumer.py BUILD_DIR CONSUMER.c CC...
"""
import os
import pathlib
import shlex
import subprocess
import sys
import tempfile

import installed


def main():
    build_dir, consumer, cc = sys.argv[1], sys.argv[2], sys.argv[3:]
    with tempfile.TemporaryDirectory() as dest:
        env = installed.install(build_dir, dest, "libebcc")
        flags = installed.pkg_config(env, "--cflags", "--libs", "libebcc").split()
        print("pkg-config:", " ".join(flags))
        program = os.path.join(dest, "consumer")
        subprocess.run(cc + [consumer, "-o", program] + flags, check=True)

        run_env = dict(os.environ, LD_LIBRARY_PATH=str(pathlib.Path(env["PKG_CONFIG_PATH"]).parent))
        run_env.pop("EBCC_LIBRARY", None)
        # The program must resolve libebcc from the installed tree, not the build tree.
        ldd = subprocess.run(["ldd", program], env=run_env, check=True, capture_output=True,
                             text=True).stdout
        libline = next((l for l in ldd.splitlines() if "libebcc.so" in l), "")
        if dest not in libline:
            print(f"consumer resolved libebcc as {libline.strip()!r}, not from {dest}",
                  file=sys.stderr)
            return 1
        argv = [program]
        stages = sorted(pathlib.Path(dest).rglob("ebcc/stages/echo"))
        if stages:
            argv.append(str(stages[0]))
        else:
            print("no example stages installed (-Dexamples=false): version check only")
        # The composite's anchor inherits stdio: files, not the pipes the test runner reads.
        with tempfile.TemporaryFile() as out:
            proc = subprocess.run(argv, env=run_env, stdout=out, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, timeout=120)
            out.seek(0)
            sys.stdout.write(out.read().decode(errors="replace"))
        print(f"consumer exited {proc.returncode}: {shlex.join(argv)}")
        return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
