#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The eapp side for real Keystone hardware, compiled (not run: nothing here executes RISC-V
enclave code): libebcc-stage-keystone.a's sources and the echo example for riscv64 with
riscv64-linux-gnu-gcc, warnings as errors, then the objects checked for Eyrie's system calls as
`ecall` with a7 = 1001 (ocall) and 1003 (attest_enclave), not the x86-64 shim's function.

    test-keystone-riscv64.py CC OBJDUMP SOURCE_ROOT
"""
import os
import re
import subprocess
import sys
import tempfile

SOURCES = [
    "lib/stage/edge.c", "lib/stage/keystone.c", "lib/stage/binding.c", "lib/base/frame.c",
    "examples/stages/echo.c",
]


def main():
    cc, objdump, src = sys.argv[1:4]
    with tempfile.TemporaryDirectory(prefix="ebcc-ks-riscv64-") as out:
        for f in SOURCES:
            obj = os.path.join(out, os.path.basename(f) + ".o")
            subprocess.run([cc, "-std=c11", "-D_GNU_SOURCE", "-O2", "-Wall", "-Wextra", "-Werror",
                            "-I" + os.path.join(src, "include"), "-c", os.path.join(src, f),
                            "-o", obj], check=True)
        dis = subprocess.run([objdump, "-d", os.path.join(out, "keystone.c.o")], check=True,
                             capture_output=True, text=True).stdout
    if "ecall" not in dis:
        sys.exit("keystone.c.o: no ecall")
    for n in (1001, 1003):
        if not re.search(r"li\s+a7,%d$" % n, dis, re.M):
            sys.exit("keystone.c.o: no Eyrie system call %d (li a7,%d)" % (n, n))
    if "ebcc__eyrie_syscall" in dis:
        sys.exit("keystone.c.o: calls the x86-64 shim's ebcc__eyrie_syscall on riscv64")
    print("riscv64: libebcc-stage-keystone sources and the echo eapp compiled; ecall 1001/1003")


if __name__ == "__main__":
    main()
