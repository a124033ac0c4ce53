#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Compares the built libebcc.so with the ABI recorded at the last release (abidiff).

Fails on an incompatible change (a function removed, a signature changed) and on any abidiff
error; added functions are listed and pass, as a minor release may add. A changed type passes
only when it was reviewed: abidiff's report of the changed types must equal REVIEWED (its
lines that are not comments), where each accepted change says why it keeps old callers working
(struct ebcc_backend_ops, say, is versioned by its own size and abi_version fields). After a
release, record its ABI with --update (from a build with debug information) and empty REVIEWED;
after reviewing a change, record the report with --update-reviewed and say why in a comment.

usage: check-abi-baseline.py --baseline FILE --reviewed FILE --library LIB --headers DIR
                             [--update | --update-reviewed]
"""
import argparse
import difflib
import pathlib
import re
import shutil
import subprocess
import sys

# abidiff's exit status is a bit field (abidiff(1)).
ABIDIFF_ERROR = 1
ABIDIFF_USAGE_ERROR = 2
ABIDIFF_CHANGE = 4
ABIDIFF_INCOMPATIBLE_CHANGE = 8


def changed_types(report):
    """The changed-type blocks of a leaf-changes report: its summary and additions left out."""
    lines = report.splitlines()
    start = next((i for i, l in enumerate(lines) if l.startswith("'")), len(lines))
    return [l.rstrip() for l in lines[start:] if l.strip()]


def reviewed_lines(path):
    if not path.is_file():
        return []
    return [l.rstrip() for l in path.read_text().splitlines()
            if l.strip() and not l.startswith("#")]


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
    ap.add_argument("--reviewed", type=pathlib.Path, required=True)
    ap.add_argument("--headers", type=pathlib.Path, required=True)
    ap.add_argument("--update", action="store_true")
    ap.add_argument("--update-reviewed", action="store_true")
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
    # No --headers-dir2: the baseline has no source locations, so abidiff would filter every
    # type change out as private (struct ebcc_backend_ops changed unreported that way).
    cmd = [abidiff, "--leaf-changes-only", "--no-show-locs", str(args.baseline),
           str(args.library)]
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
    changed = changed_types(proc.stdout) if proc.returncode & ABIDIFF_CHANGE else []
    if args.update_reviewed:
        comments = [l for l in (args.reviewed.read_text().splitlines()
                                if args.reviewed.is_file() else []) if l.startswith("#")]
        args.reviewed.write_text("\n".join(comments + changed) + "\n")
        print(f"recorded {len(changed)} lines of reviewed type changes in {args.reviewed}: "
              "say in its comments why each keeps old callers working")
        return 0
    reviewed = reviewed_lines(args.reviewed)
    if changed != reviewed:
        diff = difflib.unified_diff(reviewed, changed, str(args.reviewed), "abidiff", lineterm="")
        print(f"{args.library}: type changes since {args.baseline} differ from the reviewed ones "
              f"in {args.reviewed}; review them, then run with --update-reviewed:",
              file=sys.stderr)
        print("\n".join(diff), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
