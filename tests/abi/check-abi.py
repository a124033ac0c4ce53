#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Keeps the ABI's lists equal: the linker map, the exported declarations in the public headers,
the dynamic symbols of the built library, the man pages, and the NULL-argument test.

The NULL-argument test must also cover every pointer parameter: each of its NULL_REFUSED,
NULL_REFUSED_AS, NULL_ALLOWED and NULL_ALLOWED_VOID lines names a function and one of its
parameters, and the call it makes must pass the literal NULL in that parameter's place.

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


def clean_header(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"\\\n", " ", text)
    text = "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#"))
    return re.sub(r"extern\s+\"C\"\s*\{", " ", text)


def split_top(text):
    """Splits text at commas outside parentheses, brackets, braces and literals."""
    parts, depth, cur, quote, i = [], 0, [], None, 0
    while i < len(text):
        c = text[i]
        if quote:
            cur.append(c)
            if c == "\\" and i + 1 < len(text):
                cur.append(text[i + 1])
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'":
            quote = c
            cur.append(c)
        elif c in "([{":
            depth += 1
            cur.append(c)
        elif c in ")]}":
            depth -= 1
            cur.append(c)
        elif c == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    if "".join(cur).strip() or parts:
        parts.append("".join(cur).strip())
    return parts


def balanced(text, start):
    """The text inside the parentheses opening at text[start], and the index after them."""
    depth, quote, i = 0, None, start
    while i < len(text):
        c = text[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return text[start + 1:i], i + 1
        i += 1
    raise ValueError(f"unbalanced parentheses from offset {start}")


def header_parameters(paths):
    """{function: [(name, is_pointer)]} for the functions declared in the headers."""
    protos = {}
    for path in paths:
        for stmt in clean_header(path.read_text()).split(";"):
            stmt = stmt.strip()
            m = re.match(r"[^()]*?\b(ebcc_[a-z0-9_]+)\s*\(", stmt, re.S)
            if not m or stmt.startswith("typedef"):
                continue
            inner, _ = balanced(stmt, m.end() - 1)
            params = []
            for p in split_top(inner):
                if p in ("", "void"):
                    continue
                name = re.findall(r"[A-Za-z_]\w*", p)[-1]
                # A pointer, or a function pointer through an ebcc_*_fn typedef.
                pointer = "*" in p or bool(re.search(r"\b\w+_fn\b", p))
                params.append((name, pointer))
            protos[m.group(1)] = params
    return protos


NULL_CASE = re.compile(r"\bNULL_(REFUSED|REFUSED_AS|ALLOWED|ALLOWED_VOID)\s*\(")


def null_cases(path):
    """[(line, function, parameter, [call arguments])] of the NULL_* lines of the test."""
    raw = path.read_text()
    # Comments out, newlines kept, so that offsets still give line numbers.
    text = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group(0)), raw, flags=re.S)
    cases, problems = [], []
    for m in NULL_CASE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        start_of_line = text.rfind("\n", 0, m.start()) + 1
        if text[start_of_line:m.start()].lstrip().startswith("#"):
            continue  # the macro's definition
        inner, _ = balanced(text, m.end() - 1)
        args = split_top(inner)
        if len(args) < 3 or not (args[2].startswith("(") and args[2].endswith(")")):
            problems.append(f"{path.name}:{line}: NULL_{m.group(1)} needs (function, "
                            "parameter, (arguments)...)")
            continue
        cases.append((line, args[0], args[1], split_top(args[2][1:-1])))
    return cases, problems


def check_null_coverage(path, protos, functions):
    cases, problems = null_cases(path)
    covered = set()
    for line, func, param, args in cases:
        where = f"{path.name}:{line}"
        if func not in protos:
            problems.append(f"{where}: {func} is not declared in the public headers")
            continue
        params = protos[func]
        names = [n for n, _ in params]
        if param not in names:
            problems.append(f"{where}: {func} has no parameter {param} ({', '.join(names)})")
            continue
        index = names.index(param)
        if not params[index][1]:
            problems.append(f"{where}: parameter {param} of {func} is not a pointer")
        if len(args) != len(params):
            problems.append(f"{where}: {func} takes {len(params)} arguments, the case passes "
                            f"{len(args)}")
        elif args[index] != "NULL":
            problems.append(f"{where}: the case claims {param} of {func} is NULL but passes "
                            f"{args[index]}")
        else:
            covered.add((func, param))
    for func in sorted(functions):
        for name, pointer in protos.get(func, []):
            if pointer and (func, name) not in covered:
                problems.append(f"{func}: pointer parameter {name} is never passed NULL in "
                                f"{path.name}")
    return problems, len(covered)


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
    null_problems, n_covered = check_null_coverage(args.null_test, header_parameters(args.header),
                                                   mapped)
    problems += null_problems
    undocumented_extra = header_functions(args.extra_man) - man_functions(args.man_dir)
    for name in sorted(undocumented_extra):
        problems.append(f"{name}: declared in {', '.join(map(str, args.extra_man))} but has no man page")

    if problems:
        print("ABI lists disagree:", file=sys.stderr)
        for p in problems:
            print("  " + p, file=sys.stderr)
        return 1
    print(f"ABI consistent: {len(mapped)} symbols in map, headers, library, man pages and "
          f"the NULL-argument test, which passes NULL for each of {n_covered} pointer "
          f"parameters")
    return 0


if __name__ == "__main__":
    sys.exit(main())
