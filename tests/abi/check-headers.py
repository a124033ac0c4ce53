#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compiles every public header on its own as C99 -pedantic -Werror and as C++11 -pedantic -Werror.

usage: check-headers.py INCLUDE_DIR --cc CC... [--cxx CXX...]
"""
import argparse
import pathlib
import shlex
import subprocess
import sys

C_FLAGS = ["-std=c99", "-pedantic", "-Werror", "-Wall", "-Wextra", "-Wstrict-prototypes",
           "-Wmissing-prototypes", "-fsyntax-only", "-x", "c"]
CXX_FLAGS = ["-std=c++11", "-pedantic", "-Werror", "-Wall", "-Wextra", "-fsyntax-only", "-x", "c++"]


def compile_one(compiler, flags, include_dir, header):
    source = f"#include <ebcc/{header.name}>\nint ebcc_header_check_{header.stem}(void);\n"
    cmd = compiler + flags + ["-I", str(include_dir), "-"]
    proc = subprocess.run(cmd, input=source, capture_output=True, text=True)
    return proc.returncode, " ".join(shlex.quote(c) for c in cmd), proc.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("include_dir", type=pathlib.Path)
    ap.add_argument("--cc", required=True)
    ap.add_argument("--cxx", default="")
    args = ap.parse_args()

    headers = sorted((args.include_dir / "ebcc").glob("*.h"))
    if not headers:
        print(f"no headers under {args.include_dir}/ebcc", file=sys.stderr)
        return 1
    compilers = [("C99", shlex.split(args.cc), C_FLAGS)]
    if args.cxx:
        compilers.append(("C++11", shlex.split(args.cxx), CXX_FLAGS))
    else:
        print("no C++ compiler configured: C++ check skipped (install g++)", file=sys.stderr)
    failed = 0
    for header in headers:
        for label, compiler, flags in compilers:
            rc, cmd, err = compile_one(compiler, flags, args.include_dir, header)
            status = "ok" if rc == 0 else "FAILED"
            print(f"{header.name} as {label}: {status}")
            if rc != 0:
                failed += 1
                print(f"  {cmd}\n{err}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
