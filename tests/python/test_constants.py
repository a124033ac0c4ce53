# SPDX-License-Identifier: MIT
"""ebcc_constant() against the headers: every integer macro of <ebcc/ebcc.h> and
<ebcc/backend.h>, and every error code, has its value from the library, as a binding reads it.

The headers are compiled by the C compiler the build uses ($EBCC_CC), so a macro added to a
header without its row in lib/constants.c fails this test.
"""
import ctypes
import os
import pathlib
import re
import shlex
import subprocess
import tempfile
import unittest

import ebcc

INCLUDE = pathlib.Path(os.environ["EBCC_SOURCE_DIR"]) / "include"
HEADERS = ["ebcc.h", "backend.h"]
DEFINE = re.compile(r"^#define (EBCC_[A-Z0-9_]+)(?:[ \t]+(.*?))?\s*(?:/\*.*)?$")


def integer_macros():
    """Object-like macros with a value that is not a string or an initializer, of every public
    header."""
    names = []
    for header in HEADERS:
        for line in (INCLUDE / "ebcc" / header).read_text().splitlines():
            m = DEFINE.match(line)
            if m is None or m.group(2) is None or m.group(2).startswith(('"', '{')):
                continue  # include guards, string macros, initializers; function-like
                # ones do not match
            names.append(m.group(1))
    return names


def compiled_values(names):
    """name -> value as a C compiler sees the headers, error codes included."""
    lines = [f"#include <ebcc/{h}>" for h in HEADERS] + [
        "#include <stdio.h>",
        "int main(void)",
        "{",
        '#define X(name, value, message) printf("%s %lld\\n", #name, (long long)(name));',
        "\tEBCC_ERROR_TABLE(X)",
    ] + [f'\tprintf("{n} %lld\\n", (long long)({n}));' for n in names] + ["\treturn 0;", "}"]
    with tempfile.TemporaryDirectory() as d:
        source, program = pathlib.Path(d) / "values.c", pathlib.Path(d) / "values"
        source.write_text("\n".join(lines) + "\n")
        cc = shlex.split(os.environ.get("EBCC_CC", "cc"))
        subprocess.run(cc + ["-I", str(INCLUDE), "-o", str(program), str(source)], check=True)
        out = subprocess.run([str(program)], check=True, capture_output=True, text=True).stdout
    return {name: int(value) for name, value in (l.split() for l in out.splitlines())}


class ConstantTest(unittest.TestCase):
    def test_every_macro_and_error_code(self):
        expected = compiled_values(integer_macros())
        self.assertGreater(len(expected), 40)
        for name, value in expected.items():
            with self.subTest(name=name):
                self.assertEqual(ebcc.constant(name), value)

    def test_unknown_names(self):
        for name in ("EBCC_NO_SUCH_THING", "EBCC_VERSION_STRING", "EBCC_ERROR_TABLE", ""):
            with self.subTest(name=name):
                with self.assertRaises(ebcc.EbccError) as e:
                    ebcc.constant(name)
                self.assertEqual(e.exception.name, "EBCC_ERR_NOT_FOUND")


if __name__ == "__main__":
    unittest.main()
