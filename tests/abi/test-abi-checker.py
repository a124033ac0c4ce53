#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Proves check-abi.py notices drift: it passes on the real tree and on a faithful stub library,
then fails when any one of the map, the headers, the library or the man pages is changed alone.

usage: test-abi-checker.py SOURCE_DIR LIBRARY CC...
"""
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

src = pathlib.Path(sys.argv[1])
library = pathlib.Path(sys.argv[2])
cc = sys.argv[3:]
checker = src / "tests/abi/check-abi.py"


def run_checker(root, lib):
    cmd = [sys.executable, str(checker), "--map", str(root / "lib/libebcc.sym"),
           "--library", str(lib), "--man-dir", str(root / "man"),
           "--null-test", str(root / "tests/api/test-null-args.c")]
    for h in sorted((root / "include/ebcc").glob("*.h")):
        if h.name == "stage.h":
            cmd += ["--extra-man", str(h)]
        else:
            cmd += ["--header", str(h)]
    return subprocess.run(cmd, capture_output=True, text=True)


def mapped_symbols(root):
    text = (root / "lib/libebcc.sym").read_text()
    # Every version node's global: section (LIBEBCC_0.1, LIBEBCC_0.2, ...).
    bodies = [m.group(1) for m in re.finditer(r"global:(.*?)(?:local:|\})", text, re.S)]
    return [s.strip() for body in bodies for s in body.split(";") if s.strip()]


def stub_library(root, out, symbols):
    """A shared object defining exactly `symbols`, linked with the tree's map."""
    c = out.with_suffix(".c")
    c.write_text("".join(f"void {s}(void);\nvoid {s}(void) {{}}\n" for s in symbols))
    subprocess.run(cc + ["-shared", "-fPIC", "-o", str(out), str(c),
                         f"-Wl,--version-script={root / 'lib/libebcc.sym'}"], check=True)
    return out


def main():
    failures = []
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp) / "tree"
        for part in ("lib", "include", "man", "tests/api"):
            shutil.copytree(src / part, root / part)
        symbols = mapped_symbols(root)

        def expect(label, ok, lib=library):
            proc = run_checker(root, lib)
            passed = proc.returncode == 0
            print(f"{label}: checker {'passed' if passed else 'failed'} (expected "
                  f"{'pass' if ok else 'failure'})")
            if passed != ok:
                failures.append(label)
                print(proc.stdout + proc.stderr)
            return proc

        expect("unchanged tree", True)
        full_stub = stub_library(root, pathlib.Path(tmp) / "full.so", symbols)
        expect("stub library with every symbol", True, full_stub)

        short_stub = stub_library(root, pathlib.Path(tmp) / "short.so", symbols[1:])
        expect("library missing one symbol", False, short_stub)

        sym = root / "lib/libebcc.sym"
        original_map = sym.read_text()
        sym.write_text(original_map.replace(f"\t{symbols[0]};\n", "", 1))
        expect("map missing one symbol", False)
        lines = original_map.splitlines(True)
        i = next(n for n, l in enumerate(lines) if l.strip() == f"{symbols[0]};")
        lines[i], lines[i + 1] = lines[i + 1], lines[i]
        sym.write_text("".join(lines))
        expect("map out of order", False)
        sym.write_text(original_map)

        header = root / "include/ebcc/ebcc.h"
        original_header = header.read_text()
        header.write_text(original_header.replace(
            "#ifdef __cplusplus\n}", "int ebcc_drifted_function(void);\n#ifdef __cplusplus\n}"))
        expect("header declares an extra function", False)
        header.write_text(original_header)

        page = root / "man/ebcc_free.3"
        original_page = page.read_text()
        page.write_text(original_page.replace("ebcc_free \\-", "ebcc_freed \\-"))
        expect("man page names the wrong function", False)
        page.write_text(original_page)

        null_test = root / "tests/api/test-null-args.c"
        original_null = null_test.read_text()

        def without_lines(pattern):
            lines = original_null.splitlines(True)
            kept = [l for l in lines if not re.search(pattern, l)]
            assert len(kept) < len(lines), pattern
            return "".join(kept)

        null_test.write_text(without_lines(r"\bebcc_free\b"))
        expect("NULL-argument test skips a function", False)
        null_test.write_text(without_lines(r"NULL_REFUSED\(ebcc_stage_info, stage,"))
        expect("NULL-argument test skips one pointer parameter", False)
        case = "NULL_REFUSED(ebcc_instance_state, ret_json, (f.inst, NULL));"
        assert case in original_null
        null_test.write_text(original_null.replace(case, case.replace("f.inst, NULL", "NULL, f.inst")))
        expect("NULL-argument case passes NULL in another parameter's place", False)
        null_test.write_text(original_null.replace(case, case.replace("ret_json", "ret_jsn")))
        expect("NULL-argument case names a parameter the function does not have", False)
        null_test.write_text(original_null)

    if failures:
        print("checker did not behave as expected for: " + ", ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
