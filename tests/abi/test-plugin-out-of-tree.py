#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Installs the build into a scratch DESTDIR, compiles the example backend plugin outside the
source tree with nothing but `cc -shared $(pkg-config --cflags libebcc)` against that tree (no
lib/ or backends/ on the include path), and has the installed libebcc load it, probe it and
refuse a report it cannot verify: what a backend author outside the project does.

With --backends SOURCE_ROOT NAMES it does the same for the tree's own backends: each one's
sources (backends/<name> and backends/builtin.h, copied out) built with `$(pkg-config --cflags
--libs libebcc-backend-support)` alone and loaded as "<name>-plugin".
  - tsm: its probe, its refusals of malformed quotes and bad policies (the messages handed over
    through env->set_error) and, when EBCC_REALDATA holds the real samples, its verdict on a
    real TDX quote must equal the built-in's.
  - sim: a program built outside the tree against the installed libebcc alone (oot-driver.c)
    runs a composite whose warm and per-invocation stages (the echo example,
    EBCC_TEST_ECHO_STAGE) run under the plugin, and verifies their evidence.

usage: test-plugin-out-of-tree.py BUILD_DIR PLUGIN.c [--backends SOURCE_ROOT tsm,sim] CC...
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

# What each backend links beyond the support library.
EXTRA_LIBS = {"sim": ["-lsodium"], "tsm": []}


class Failed(Exception):
    pass


def build_builtin_plugin(env, source_root, work, cc, name):
    """backends/<name> outside the tree, as the plugin "<name>-plugin"; returns its path."""
    out = work / name
    (out / name).mkdir(parents=True)
    for f in (source_root / "backends" / name).iterdir():
        if f.suffix in (".c", ".h"):
            shutil.copy(f, out / name / f.name)
    shutil.copy(source_root / "backends" / "builtin.h", out / "builtin.h")
    shutil.copy(source_root / "tests" / "abi" / "builtin-plugin.c", out / "plugin.c")
    flags = installed.pkg_config(env, "--cflags", "--libs", "libebcc-backend-support").split()
    print("pkg-config --cflags --libs libebcc-backend-support:", " ".join(flags))
    plugin = out / f"ebcc-backend-{name}-plugin.so"
    sources = [str(out / "plugin.c")] + sorted(str(f) for f in (out / name).glob("*.c"))
    subprocess.run(cc + ["-shared", "-fPIC", "-fvisibility=hidden", "-Wall", "-Werror",
                         f"-DBUILTIN_ENTRY=ebcc__backend_{name}_entry",
                         f"-DPLUGIN_NAME=\"{name}-plugin\""] + sources
                   + ["-o", str(plugin)] + flags + EXTRA_LIBS[name], check=True, cwd=out)
    exported = subprocess.run(["nm", "-D", "--defined-only", str(plugin)], check=True,
                              capture_output=True, text=True).stdout.split()
    if [symbol for symbol in exported if symbol.startswith("ebcc")] != ["ebcc_backend_entry_v1"]:
        raise Failed(f"the {name} plugin exports {exported}, not only ebcc_backend_entry_v1")
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

    def policy(name, options):
        """The policy for backend name: its options under the name it is registered as."""
        if options is None:
            return None
        return json.dumps({"verification_time": "2026-06-01T00:00:00Z",
                           "backend_options": {name: options}}).encode()

    builtin, plugin = probe(b"tsm"), probe(b"tsm-plugin")
    print("tsm-plugin probe:", plugin)
    if plugin != builtin:
        raise Failed(f"probe: the plugin says {plugin}, the built-in {builtin}")
    # Refused by the backend itself (an empty report never reaches it); a bad part of the
    # policy, which the core hands the plugin under its own name (backend_options.tsm-plugin).
    cases = [(b"\x04\x00\x02\x00" + bytes(60), None), (bytes(1200), None),
             (bytes(1200), {"tdx_root_ca": "not a certificate"}), (bytes(1200), {"colour": 1})]
    realdata = pathlib.Path(os.environ.get("EBCC_REALDATA", "/nonexistent")) / "tdx"
    real = len(cases)
    if (realdata / "gotdx_cos-113-tdx-quote.dat").is_file():
        quote = (realdata / "gotdx_cos-113-tdx-quote.dat").read_bytes()
        root = {"tdx_root_ca": (realdata / "intel_sgx_root_ca.pem").read_text()}
        flipped = bytearray(quote)
        flipped[200] ^= 1
        cases += [(quote, root), (bytes(flipped), root), (quote[:700], root)]
    else:
        print("no real TDX quote at", realdata, "(EBCC_REALDATA): malformed quotes only")
    for i, (data, options) in enumerate(cases):
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
        if i == real and got[0] != 0:
            raise Failed("the real quote does not verify through the plugin")


def run_sim(env, lib_dir, source_root, work, cc, plugin):
    """Stages of a composite run under the sim plugin, from a program built out of tree."""
    echo = os.environ.get("EBCC_TEST_ECHO_STAGE")
    if not echo or not os.access(echo, os.X_OK):
        print("no echo stage (EBCC_TEST_ECHO_STAGE): the sim plugin runs no stage")
        return
    out = work / "driver"
    bundle = out / "bundle"
    (bundle / "stages").mkdir(parents=True)
    (bundle / "rootfs").mkdir()
    shutil.copy(echo, bundle / "stages" / "echo")
    (bundle / "config.json").write_text(json.dumps({
        "ociVersion": "1.0.2", "root": {"path": "rootfs"}, "annotations": {"org.example": "t"},
        "process": {"args": ["/bin/sleep", "60"], "cwd": "/", "env": ["PATH=/usr/bin:/bin"]}}))
    (bundle / "ebcc.json").write_text(json.dumps({
        "ebccVersion": "0.1", "backend": "sim-plugin", "stages": [
            {"name": "warm", "image": "stages/echo"},
            {"name": "fresh", "image": "stages/echo", "lifetime": "invocation"}]}))
    flags = installed.pkg_config(env, "--cflags", "--libs", "libebcc").split()
    driver = out / "oot-driver"
    subprocess.run(cc + ["-Wall", "-Werror", str(source_root / "tests" / "abi" / "oot-driver.c"),
                         "-o", str(driver)] + flags, check=True, cwd=out)
    run_env = dict(os.environ, LD_LIBRARY_PATH=str(lib_dir))
    r = subprocess.run([str(driver), str(out / "root"), str(plugin), str(bundle), "sim-plugin",
                        "warm", "fresh"], env=run_env, capture_output=True, text=True,
                       timeout=120)
    print(r.stdout, end="")
    if r.returncode != 0:
        raise Failed(f"oot-driver exited {r.returncode}: {r.stderr}")


def main():
    build_dir, plugin_src, cc = sys.argv[1], sys.argv[2], sys.argv[3:]
    source_root, builtins = None, []
    if cc[:1] == ["--backends"]:
        source_root, builtins, cc = pathlib.Path(cc[1]), cc[2].split(","), cc[3:]
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

        libebcc = next(pathlib.Path(dest).rglob("libebcc.so.0"))
        lib = ctypes.CDLL(str(libebcc))
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
            for name in builtins:
                built = build_builtin_plugin(env, source_root, work, cc, name)
                if name == "sim":
                    run_sim(env, libebcc.parent, source_root, work, cc, built)
                    continue
                r = lib.ebcc_backend_load(ctx, str(built).encode())
                if r != 0:
                    raise Failed(f"the installed libebcc refused the {name} plugin: {r} "
                                 f"{lib.ebcc_last_error_message().decode()}")
                compare_tsm(lib, ctx)
        except Failed as e:
            print(e, file=sys.stderr)
            return 1
        finally:
            lib.ebcc_context_unref(ctx)
        return 0


if __name__ == "__main__":
    sys.exit(main())
