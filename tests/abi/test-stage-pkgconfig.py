#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Installs the build into a scratch DESTDIR, builds a stage with nothing but
`cc stage.c $(pkg-config --cflags --libs libebcc-stage)` against that tree, checks that the
result is a static executable (no PT_INTERP), and serves one request with it over a socketpair
on descriptor 3, frame by frame.

usage: test-stage-pkgconfig.py BUILD_DIR STAGE.c CC...
"""
import hashlib
import os
import socket
import struct
import subprocess
import sys
import tempfile

import installed


def frame(kind, payload):
    return bytes([0xEB, 0xCC, 2, kind]) + struct.pack("<I", len(payload)) + payload


def field(data):
    return struct.pack(">I", len(data)) + data


# The BIND fields of one invocation, and the report_data a verifier expects the stage to bind.
BIND = b"".join([field(b"pc"), field(b"echo"), field(struct.pack(">Q", 1)),
                 field(struct.pack(">Q", 1)), field(b"sha256:00"), field(b"")])


def report_data(request, response):
    return hashlib.sha512(field(b"EBCC-EVIDENCE-V2") + BIND +
                          field(hashlib.sha256(request).digest()) +
                          field(hashlib.sha256(response).digest())).digest()


def read_frame(sock):
    header = b""
    while len(header) < 8:
        chunk = sock.recv(8 - len(header))
        if not chunk:
            raise RuntimeError("stage closed the channel")
        header += chunk
    if header[:3] != b"\xeb\xcc\x02":
        raise RuntimeError(f"bad frame header {header.hex()}")
    (length,) = struct.unpack("<I", header[4:])
    payload = b""
    while len(payload) < length:
        chunk = sock.recv(length - len(payload))
        if not chunk:
            raise RuntimeError("stage closed the channel mid-frame")
        payload += chunk
    return header[3], payload


def main():
    build_dir, source, cc = sys.argv[1], sys.argv[2], sys.argv[3:]
    with tempfile.TemporaryDirectory() as dest:
        env = installed.install(build_dir, dest, "libebcc-stage")
        flags = installed.pkg_config(env, "--cflags", "--libs", "libebcc-stage").split()
        print("pkg-config:", " ".join(flags))
        stage = os.path.join(dest, "stage")
        # The stage side is never instrumented: drop sanitizer flags the suite may pass.
        cc = [a for a in cc if not a.startswith("-fsanitize")]
        subprocess.run(cc + [source, "-o", stage] + flags, check=True)

        headers = subprocess.run(["readelf", "-lW", stage], check=True, capture_output=True,
                                 text=True).stdout
        if "INTERP" in headers:
            print(f"{stage} is dynamically linked:\n{headers}", file=sys.stderr)
            return 1
        stripped = stage + ".stripped"
        subprocess.run(["strip", "-o", stripped, stage], check=True)
        print(f"static stage: {os.path.getsize(stage)} bytes, "
              f"{os.path.getsize(stripped)} stripped")

        host, child = socket.socketpair()
        saved = os.dup(3) if _is_open(3) else None
        os.dup2(child.fileno(), 3)
        try:
            proc = subprocess.Popen([stage], pass_fds=(3,), env={},
                                    stdin=subprocess.DEVNULL)
        finally:
            if saved is not None:
                os.dup2(saved, 3)
                os.close(saved)
            else:
                os.close(3)
        child.close()
        host.sendall(frame(5, BIND) + frame(1, b"upper:installed"))
        kinds, bound = [], None
        while True:
            kind, payload = read_frame(host)
            kinds.append(kind)
            if kind == 6:
                bound = payload
            if kind == 2:
                break
        host.close()
        code = proc.wait(timeout=60)
        print(f"frames {kinds}, response {payload!r}, stage exited {code}")
        if kinds != [3, 6, 2] or payload != b"INSTALLED" or code != 0:
            return 1
        # The stage bound what it received and returned (BearSSL, checked here by hashlib).
        if bound != report_data(b"upper:installed", payload):
            print(f"REPORT {bound.hex()} is not the binding of the exchange", file=sys.stderr)
            return 1
        return 0


def _is_open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
