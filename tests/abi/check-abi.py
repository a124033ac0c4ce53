#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Keeps the ABI's lists equal: the linker map, the exported declarations in the public headers,
the dynamic symbols of the built library, the man pages, and the NULL-argument test.

Exits 1 and prints each difference when any one of them drifts from the others.
"""
import argparse
import pathlib
import re
import subprocess
import sys


def parse_map(path):
    """Returns {node: [symbols]} and a list of format problems."""
    text = path.read_text()
    problems = []
    nodes = {}
    for m in re.finditer(r"([\w.]+)\s*\{(.*?)\}\s*([\w.]*)\s*;", text, re.S):
        node, body = m.group(1), m.group(2)
        glob = re.search(r"global:(.*?)(local:|$)", body, re.S)
        if not glob:
            problems.append(f"{path}: node {node} has no global: section")
            continue
        syms = [s.strip() for s in glob.group(1).split(";") if s.strip()]
        if syms != sorted(syms):
            problems.append(f"{path}: node {node} is not sorted")
        if len(set(syms)) != len(syms):
            problems.append(f"{path}: node {node} lists a symbol twice")
        nodes[node] = syms
    if not nodes:
        problems.append(f"{path}: no version node found")
    if "local:" not in text or not re.search(r"local:\s*\*\s*;", text):
        problems.append(f"{path}: missing 'local: *;'")
    return nodes, problems


def header_functions(paths):
    """Names of functions declared (not typedef'd, not macros) in the headers."""
    names = set()
    for path in paths:
        text = path.read_text()
        text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
        text = re.sub(r"//[^\n]*", " ", text)
        # Drop preprocessor lines, joining continuations first.
        text = re.sub(r"\\\n", " ", text)
        text = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
        text = re.sub(r"extern\s+\"C\"\s*\{", " ", text)
        for stmt in text.split(";"):
            stmt = stmt.strip()
            # A declaration names the function right before its first parenthesis; typedefs
            # and function-pointer members ("int (*fn)(...)") do not match.
            m = re.match(r"[^()]*?\b(ebcc_[a-z0-9_]+)\s*\(", stmt, re.S)
            if m and not stmt.startswith("typedef"):
                names.add(m.group(1))
    return names


def library_symbols(path, nodes):
    out = subprocess.run(["nm", "-D", "--defined-only", str(path)], check=True,
                         capture_output=True, text=True).stdout
    names, problems = set(), []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        kind, sym = parts[1], parts[2]
        if kind == "A" and sym in nodes:
            continue
        name, _, version = sym.partition("@@")
        if not name.startswith("ebcc_"):
            problems.append(f"{path}: exports {sym}, which is not an ebcc_ symbol")
        if version not in nodes:
            problems.append(f"{path}: {sym} has no version node from the map")
        names.add(name)
    return names, problems


def man_functions(man_dir):
    names = set()
    for page in sorted(man_dir.glob("*.3")):
        text = page.read_text()
        m = re.search(r"^\.SH\s+NAME\s*\n(.*?)^\.SH", text, re.S | re.M)
        if not m:
            continue
        head = m.group(1).split("\\-")[0]
        names.update(n.strip() for n in re.split(r"[,\s]+", head) if n.strip().startswith("ebcc_"))
    return names


def mentioned_in(path):
    return set(re.findall(r"\b(ebcc_[a-z0-9_]+)\b", path.read_text()))


def compare(what, names, reference, problems):
    for name in sorted(reference - names):
        problems.append(f"{name}: exported by the map but missing from {what}")
    for name in sorted(names - reference):
        problems.append(f"{name}: in {what} but not in the linker map")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--map", required=True, type=pathlib.Path)
    ap.add_argument("--header", action="append", required=True, type=pathlib.Path)
    ap.add_argument("--library", required=True, type=pathlib.Path)
    ap.add_argument("--man-dir", required=True, type=pathlib.Path)
    ap.add_argument("--extra-man", action="append", default=[], type=pathlib.Path,
                    help="headers of other libraries whose functions also have man pages")
    ap.add_argument("--null-test", required=True, type=pathlib.Path)
    args = ap.parse_args()

    nodes, problems = parse_map(args.map)
    mapped = {s for syms in nodes.values() for s in syms}

    compare("the public headers", header_functions(args.header), mapped, problems)
    exported, lib_problems = library_symbols(args.library, nodes)
    problems += lib_problems
    compare(f"nm -D of {args.library.name}", exported, mapped, problems)
    documented = man_functions(args.man_dir) - header_functions(args.extra_man)
    compare("the man pages (.SH NAME)", documented, mapped, problems)
    missing_null = mapped - mentioned_in(args.null_test)
    for name in sorted(missing_null):
        problems.append(f"{name}: not exercised by {args.null_test.name}")
    undocumented_extra = header_functions(args.extra_man) - man_functions(args.man_dir)
    for name in sorted(undocumented_extra):
        problems.append(f"{name}: declared in {', '.join(map(str, args.extra_man))} but has no man page")

    if problems:
        print("ABI lists disagree:", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    print(f"ABI consistent: {len(mapped)} symbols in map, headers, library, man pages and "
          f"the NULL-argument test")
    return 0


if __name__ == "__main__":
    sys.exit(main())
