#!/bin/sh
# The eapp side for real Keystone hardware, compiled (not run: nothing here executes RISC-V
# enclave code): libebcc-stage-keystone.a's sources and the echo example for riscv64 with
# riscv64-linux-gnu-gcc, warnings as errors, then the objects checked for Eyrie's system calls
# as `ecall` with a7 = 1001 (ocall) and 1003 (attest_enclave) instead of the x86-64 shim.
# Usage: test-keystone-riscv64.sh CC OBJDUMP SOURCE_ROOT
set -eu
cc=$1 objdump=$2 src=$3
out=$(mktemp -d "${TMPDIR:-/tmp}/ebcc-ks-riscv64-XXXXXX")
trap 'rm -rf "$out"' EXIT
for f in lib/stage/keystone.c lib/stage/binding.c lib/frame.c examples/stages/echo.c; do
	"$cc" -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I"$src/include" \
		-c "$src/$f" -o "$out/$(basename "$f").o"
done
"$objdump" -d "$out/keystone.c.o" >"$out/dis"
grep -q 'ecall' "$out/dis" || { echo "keystone.c.o: no ecall" >&2; exit 1; }
for n in 1001 1003; do
	grep -Eq "li[[:space:]]+a7,$n\$" "$out/dis" ||
		{ echo "keystone.c.o: no Eyrie system call $n (li a7,$n)" >&2; exit 1; }
done
if grep -q 'ebcc__eyrie_syscall' "$out/dis"; then
	echo "keystone.c.o: calls the x86-64 shim's ebcc__eyrie_syscall on riscv64" >&2
	exit 1
fi
echo "riscv64: libebcc-stage-keystone sources and the echo eapp compiled; ecall 1001/1003 present"
