#!/bin/bash
# SPDX-License-Identifier: MIT
# Static analysis of lib/ (with the stage library), backends/ and examples/: clang-tidy with the
# top-level .clang-tidy and cppcheck with tests/cppcheck-suppressions.txt, both over the
# compile_commands.json of a meson build directory. Any finding fails.
#
#   tests/run-analyzers.sh BUILD_DIR
#
# BUILD_DIR needs only to be configured, preferably with clang (the flags are clang-tidy's):
#   CC=clang meson setup build-lint -Dtests=false
set -euo pipefail

if [ $# -ne 1 ] || [ ! -f "$1/compile_commands.json" ]; then
	echo "usage: $0 BUILD_DIR (a meson build directory with compile_commands.json)" >&2
	exit 2
fi
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
jobs=$(nproc)
work=$(mktemp -d /tmp/ebcc-analyzers-XXXXXX)
trap 'rm -rf "$work"' EXIT

# The translation units under lib/, backends/ and examples/, once each. cppcheck reads meson's
# shell-quoted string defines (-DX="a") as unquoted: give it argument lists with the quotes
# escaped as a compiler would see them.
python3 - "$build/compile_commands.json" "$src" "$work" <<'EOF'
import json, os, shlex, sys
db, src, work = sys.argv[1:]
dirs = tuple(os.path.join(src, d) + os.sep for d in ("lib", "backends", "examples", "crun-handler"))
tidy, cpp, seen = [], [], set()
for e in json.load(open(db)):
    path = os.path.normpath(os.path.join(e["directory"], e["file"]))
    if not path.startswith(dirs) or path in seen:
        continue
    seen.add(path)
    args = e["arguments"] if "arguments" in e else shlex.split(e["command"])
    tidy.append({"directory": e["directory"], "file": path, "arguments": args})
    cpp.append({"directory": e["directory"], "file": path,
                "arguments": [a.replace('"', '\\"') if a.startswith("-D") else a for a in args]})
os.makedirs(os.path.join(work, "tidy"))
json.dump(tidy, open(os.path.join(work, "tidy", "compile_commands.json"), "w"))
json.dump(cpp, open(os.path.join(work, "cppcheck.json"), "w"))
open(os.path.join(work, "files"), "w").write("\n".join(e["file"] for e in tidy) + "\n")
print("analysing %d files" % len(tidy))
EOF

status=0
echo "+ clang-tidy ($(clang-tidy --version | sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -1))"
# One process per file; a finding is an error (WarningsAsErrors) and a non-zero exit.
if ! xargs -P "$jobs" -n 1 clang-tidy -p "$work/tidy" --quiet <"$work/files" \
	>"$work/tidy.log" 2>&1; then
	status=1
fi
grep -E '(warning|error): ' "$work/tidy.log" | sort -u || true
[ $status -eq 0 ] && echo "clang-tidy: no findings" || echo "clang-tidy: findings above" >&2

echo "+ cppcheck ($(cppcheck --version))"
# warning, performance and portability; not style, whose reports here are variableScope (the
# code declares at the top of a block on purpose). No --library=posix: it recommends the
# deprecated readdir_r and reads _cleanup_close_ descriptors as leaked.
if ! cppcheck --project="$work/cppcheck.json" --enable=warning,performance,portability \
	--inline-suppr --suppressions-list="$src/tests/cppcheck-suppressions.txt" \
	--error-exitcode=1 -q -j "$jobs" --template='{file}:{line}: {severity}: {message} [{id}]'; then
	echo "cppcheck: findings above" >&2
	status=1
else
	echo "cppcheck: no findings"
fi
exit $status
