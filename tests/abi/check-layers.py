#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The layering the build relies on, checked in the sources: nothing under backends/ includes a
header of the core (lib/ outside lib/base), by any path, and no backend reads the core's
last-error message (ebcc_last_error_message()): a backend built out of tree has its own
(ebcc__error_message()) and hands it over with env->set_error.

usage: check-layers.py SOURCE_ROOT
"""
import pathlib
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
READS_CORE_MESSAGE = re.compile(r"\bebcc_last_error_message\s*\(")


def resolve(root, source, name):
    """Where a quoted include of source finds name: its own directory, then the include path
    backends are built with (include/, lib/base, backends/common)."""
    for base in (source.parent, root / "include", root / "lib" / "base",
                 root / "backends" / "common"):
        candidate = (base / name).resolve()
        if candidate.is_file():
            return candidate
    return None


def main():
    root = pathlib.Path(sys.argv[1]).resolve()
    lib, base = root / "lib", root / "lib" / "base"
    problems = []
    sources = sorted(p for p in (root / "backends").rglob("*") if p.suffix in (".c", ".h"))
    for source in sources:
        text = source.read_text()
        where = source.relative_to(root)
        for name in INCLUDE.findall(text):
            found = resolve(root, source, name)
            if found is None:
                problems.append(f"{where}: #include \"{name}\" is found nowhere on the path "
                                "backends are built with")
            elif lib in found.parents and base not in found.parents:
                problems.append(f"{where}: #include \"{name}\" is the core's "
                                f"{found.relative_to(root)}")
        if READS_CORE_MESSAGE.search(text):
            problems.append(f"{where}: reads ebcc_last_error_message(), the core's message; "
                            "a backend's own is ebcc__error_message()")
    for p in problems:
        print(p, file=sys.stderr)
    print(f"{len(sources)} files under backends/: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
