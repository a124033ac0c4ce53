#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compares the built libebcc.so with the ABI recorded at the last release (abidiff).

Fails on an incompatible change (a function removed, a type or signature changed) and on any
abidiff error; additions are listed and pass, as a minor release may add. After a release,
record its ABI with --update (from a build with debug information).

usage: check-abi-baseline.py --baseline FILE --library LIB --headers DIR [--update]
"""
import argparse
import pathlib
import re
import shutil
import subprocess
import sys

# abidiff's exit status is a bit field (abidiff(1)).
ABIDIFF_ERROR = 1
ABIDIFF_USAGE_ERROR = 2
ABIDIFF_INCOMPATIBLE_CHANGE = 8


def update(args, abidw):
    cmd = [abidw, "--exported-interfaces-only", "--headers-dir", str(args.headers),
           "--drop-private-types", "--no-show-locs", "--no-corpus-path", "--no-comp-dir-path",
           str(args.library)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(f"{' '.join(cmd)}: exit {proc.returncode}\n{proc.stderr}", file=sys.stderr)
        return 1
    # Source paths relative to the tree, whatever the build directory was.
    text = re.sub(r"path='(?:\.\./)*(?:[^']*/)?((?:lib|backends|include)/[^']*)'", r"path='\1'",
                  proc.stdout)
    args.baseline.write_text(text)
    print(f"recorded the ABI of {args.library} in {args.baseline}")
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--baseline", type=pathlib.Path, required=True)
    ap.add_argument("--library", type=pathlib.Path, required=True)
    ap.add_argument("--headers", type=pathlib.Path, required=True)
    ap.add_argument("--update", action="store_true")
    args = ap.parse_args()

    abidiff, abidw = shutil.which("abidiff"), shutil.which("abidw")
    if abidiff is None or abidw is None:
        print("abidiff/abidw not found: install abigail-tools; check skipped", file=sys.stderr)
        return 77
    if args.update:
        return update(args, abidw)
    if not args.baseline.is_file():
        print(f"{args.baseline}: no ABI baseline (record one with --update)", file=sys.stderr)
        return 1
    cmd = [abidiff, "--headers-dir2", str(args.headers), str(args.baseline), str(args.library)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    print(proc.stdout, end="")
    print(proc.stderr, end="", file=sys.stderr)
    if proc.returncode & (ABIDIFF_ERROR | ABIDIFF_USAGE_ERROR):
        print(f"{' '.join(cmd)}: abidiff failed (exit {proc.returncode})", file=sys.stderr)
        return 1
    if proc.returncode & ABIDIFF_INCOMPATIBLE_CHANGE:
        print(f"{args.library}: incompatible with the ABI recorded in {args.baseline}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
