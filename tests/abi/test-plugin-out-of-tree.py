#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Installs the build into a scratch DESTDIR, compiles the example backend plugin outside the
source tree with nothing but `cc -shared $(pkg-config --cflags libebcc)` against that tree (no
lib/ or backends/ on the include path), and has the installed libebcc load it, probe it and
refuse a report it cannot verify: what a backend author outside the project does.

With --tsm SOURCE_ROOT it does the same for a real backend: tsm's own sources (backends/tsm and
backends/builtin.h, copied out) built with `$(pkg-config --cflags --libs
libebcc-backend-support)` alone, loaded as "tsm-plugin". Its probe, its refusal of malformed
quotes (the message handed over through env->set_error) and, when EBCC_REALDATA holds the real
samples, its verdict on a real TDX quote must equal the built-in tsm's.

usage: test-plugin-out-of-tree.py BUILD_DIR PLUGIN.c [--tsm SOURCE_ROOT] CC...
"""
import ctypes
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

import installed


class Failed(Exception):
    pass


def build_tsm_plugin(env, source_root, work, cc):
    """tsm's sources outside the tree, as a plugin; returns its path."""
    out = work / "tsm"
    (out / "tsm").mkdir(parents=True)
    for f in (source_root / "backends" / "tsm").iterdir():
        if f.suffix in (".c", ".h"):
            shutil.copy(f, out / "tsm" / f.name)
    shutil.copy(source_root / "backends" / "builtin.h", out / "builtin.h")
    shutil.copy(source_root / "tests" / "abi" / "tsm-plugin.c", out / "plugin.c")
    flags = installed.pkg_config(env, "--cflags", "--libs", "libebcc-backend-support").split()
    print("pkg-config --cflags --libs libebcc-backend-support:", " ".join(flags))
    plugin = out / "ebcc-backend-tsm-plugin.so"
    sources = [str(out / "plugin.c")] + sorted(str(f) for f in (out / "tsm").glob("*.c"))
    subprocess.run(cc + ["-shared", "-fPIC", "-fvisibility=hidden", "-Wall", "-Werror"] + sources
                   + ["-o", str(plugin)] + flags, check=True, cwd=out)
    exported = subprocess.run(["nm", "-D", "--defined-only", str(plugin)], check=True,
                              capture_output=True, text=True).stdout.split()
    if [name for name in exported if name.startswith("ebcc")] != ["ebcc_backend_entry_v1"]:
        raise Failed(f"the tsm plugin exports {exported}, not only ebcc_backend_entry_v1")
    return plugin


def outcome(lib, r, out):
    """(code, the message or the JSON text) of a call that may hand out a string."""
    if r != 0:
        return r, lib.ebcc_last_error_message().decode()
    text = ctypes.string_at(out).decode()
    lib.ebcc_free(out)
    return r, text


def compare_tsm(lib, ctx):
    """The plugin answers as the built-in does: probe, refusals, a real quote's verdict."""
    def probe(name):
        out = ctypes.c_void_p()
        r, text = outcome(lib, lib.ebcc_backend_probe(ctx, name, ctypes.byref(out)), out)
        if r != 0:
            raise Failed(f"probe {name}: {text}")
        details = json.loads(text)
        details.pop("name")
        details.pop("plugin", None)
        return details

    def verify(name, data, policy):
        claims = ctypes.c_void_p()
        return outcome(lib, lib.ebcc_report_verify(ctx, name, data, ctypes.c_size_t(len(data)),
                                                    policy, ctypes.byref(claims)), claims)

    builtin, plugin = probe(b"tsm"), probe(b"tsm-plugin")
    print("tsm-plugin probe:", plugin)
    if plugin != builtin:
        raise Failed(f"probe: the plugin says {plugin}, the built-in {builtin}")
    # Refused by the backend itself (an empty report never reaches it).
    def policy(name, options):
        """The policy for backend name: its options under the name it is registered as."""
        if options is None:
            return None
        return json.dumps({"verification_time": "2026-06-01T00:00:00Z",
                           "backend_options": {name: options}}).encode()

    # A bad part of the policy: the core hands the plugin its own (backend_options.tsm-plugin).
    cases = [(b"\x04\x00\x02\x00" + bytes(60), None), (bytes(1200), None),
             (bytes(1200), {"tdx_root_ca": "not a certificate"}), (bytes(1200), {"colour": 1})]
    realdata = pathlib.Path(os.environ.get("EBCC_REALDATA", "/nonexistent")) / "tdx"
    if (realdata / "gotdx_cos-113-tdx-quote.dat").is_file():
        quote = (realdata / "gotdx_cos-113-tdx-quote.dat").read_bytes()
        root = {"tdx_root_ca": (realdata / "intel_sgx_root_ca.pem").read_text()}
        flipped = bytearray(quote)
        flipped[200] ^= 1
        cases += [(quote, root), (bytes(flipped), root), (quote[:700], root)]
    else:
        print("no real TDX quote at", realdata, "(EBCC_REALDATA): malformed quotes only")
    for data, options in cases:
        expected = verify(b"tsm", data, policy("tsm", options))
        got = verify(b"tsm-plugin", data, policy("tsm-plugin", options))
        # The core names the backend that refused.
        got = (got[0], got[1].replace("backend tsm-plugin:", "backend tsm:"))
        print(f"report_verify of {len(data)} bytes: {got[0]} {got[1][:120]}")
        if got != expected:
            raise Failed(f"report_verify of {len(data)} bytes: the plugin gives {got}, "
                         f"the built-in {expected}")
        if got[0] != 0 and not got[1]:
            raise Failed("the plugin's refusal carries no message")
    if len(cases) > 4 and verify(b"tsm-plugin", cases[4][0],
                                 policy("tsm-plugin", cases[4][1]))[0] != 0:
        raise Failed("the real quote does not verify through the plugin")


def main():
    build_dir, plugin_src, cc = sys.argv[1], sys.argv[2], sys.argv[3:]
    tsm_root = None
    if cc[:1] == ["--tsm"]:
        tsm_root, cc = pathlib.Path(cc[1]), cc[2:]
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
            if tsm_root is not None:
                tsm_plugin = build_tsm_plugin(env, tsm_root, work, cc)
                r = lib.ebcc_backend_load(ctx, str(tsm_plugin).encode())
                if r != 0:
                    print("the installed libebcc refused the tsm plugin:", r,
                          lib.ebcc_last_error_message().decode(), file=sys.stderr)
                    return 1
                compare_tsm(lib, ctx)
        except Failed as e:
            print(e, file=sys.stderr)
            return 1
        finally:
            lib.ebcc_context_unref(ctx)
        return 0


if __name__ == "__main__":
    sys.exit(main())
