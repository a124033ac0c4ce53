#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Installs the build into a scratch DESTDIR, compiles the example backend plugin outside the
source tree with nothing but `cc -shared $(pkg-config --cflags libebcc)` against that tree (no
lib/ or backends/ on the include path), and has the installed libebcc load it, probe it and
refuse a report it cannot verify: what a backend author outside the project does.

usage: test-plugin-out-of-tree.py BUILD_DIR PLUGIN.c CC...
"""
import ctypes
import pathlib
import shutil
import subprocess
import sys
import tempfile

import installed


def main():
    build_dir, plugin_src, cc = sys.argv[1], sys.argv[2], sys.argv[3:]
    with tempfile.TemporaryDirectory() as dest:
        env = installed.install(build_dir, dest, "libebcc")
        flags = installed.pkg_config(env, "--cflags", "libebcc").split()
        backenddir = installed.pkg_config(env, "--variable=backenddir", "libebcc")
        print("pkg-config --cflags:", " ".join(flags), "backenddir:", backenddir)
        if not backenddir.startswith(dest):
            print(f"backenddir {backenddir!r} is not inside the installed tree", file=sys.stderr)
            return 1
        # A copy of the source in a directory of its own: no include path into the project.
        work = pathlib.Path(dest) / "outside"
        work.mkdir()
        src = work / "plugin.c"
        shutil.copy(plugin_src, src)
        plugin = work / "ebcc-backend-example.so"
        subprocess.run(cc + ["-shared", "-fPIC", "-Wall", "-Werror", str(src), "-o", str(plugin)]
                       + flags + ["-lcrypto"], check=True, cwd=work)

        lib = ctypes.CDLL(str(next(pathlib.Path(dest).rglob("libebcc.so.0"))))
        lib.ebcc_last_error_message.restype = ctypes.c_char_p
        lib.ebcc_context_unref.restype = ctypes.c_void_p
        ctx = ctypes.c_void_p()
        if lib.ebcc_context_new(ctypes.byref(ctx)) != 0:
            print("ebcc_context_new failed:", lib.ebcc_last_error_message(), file=sys.stderr)
            return 1
        try:
            r = lib.ebcc_backend_load(ctx, str(plugin).encode())
            if r != 0:
                print("the installed libebcc refused the plugin:", r,
                      lib.ebcc_last_error_message().decode(), file=sys.stderr)
                return 1
            out = ctypes.c_void_p()
            r = lib.ebcc_backend_probe(ctx, b"example", ctypes.byref(out))
            if r != 0:
                print("probe failed:", lib.ebcc_last_error_message().decode(), file=sys.stderr)
                return 1
            probe = ctypes.string_at(out).decode()
            lib.ebcc_free(out)
            print("probe:", probe)
            if '"name":"example"' not in probe or '"plugin":true' not in probe:
                print("the probe does not describe the loaded plugin", file=sys.stderr)
                return 1
            # Its reports are unsigned: a raw one is refused, never accepted.
            claims = ctypes.c_void_p()
            junk = b"EXAMPLE-REPORT-V1" + bytes(64)
            r = lib.ebcc_report_verify(ctx, b"example", junk, ctypes.c_size_t(len(junk)), None,
                                       ctypes.byref(claims))
            message = lib.ebcc_last_error_message().decode()
            print("report_verify:", r, message)
            if r == 0:
                print("an unsigned report verified", file=sys.stderr)
                return 1
        finally:
            lib.ebcc_context_unref(ctx)
        return 0


if __name__ == "__main__":
    sys.exit(main())
