#!/bin/bash
# SPDX-License-Identifier: MIT
# Runs the libFuzzer harnesses of a fuzzing build for a bounded time each, on copies of the seed
# corpora (the tree is never written), and fails when any of them finds a crash, a leak, a
# timeout or a violated property.
#
#   tests/fuzz/run-fuzzers.sh BUILD_DIR SECONDS [HARNESS...]
#
# HARNESS is one of the names below without "fuzz-" (default: all). Environment:
#   FUZZ_PARALLEL  harnesses run at once (default 1)
#   FUZZ_KEEP      a directory: keep each harness's grown corpus, log and findings there
# A finding is left as crash-*, leak-*, timeout-* or oom-* next to the harness's log; rerun it
# with BUILD_DIR/tests/fuzz/fuzz-NAME FILE.
set -euo pipefail

harnesses=(config bundle evidence policy state frame-host frame-stage optee-attest tsm-parse
	tdx-collateral keystone-report keystone-image sgx-quote sgx-image seal-stage image-stage)
declare -A dict=([config]=config [bundle]=config [evidence]=evidence [policy]=policy
	[state]=state [frame-host]=frame [frame-stage]=frame [optee-attest]=optee-attest
	[tsm-parse]=tsm-parse [tdx-collateral]=tdx-collateral [keystone-report]=keystone-report
	[keystone-image]=keystone-image [sgx-quote]=sgx-quote [sgx-image]=sgx-image
	[seal-stage]=seal [image-stage]=image)

if [ $# -lt 2 ]; then
	echo "usage: $0 BUILD_DIR SECONDS [HARNESS...]" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
seconds=$2
shift 2
[ $# -gt 0 ] && harnesses=("$@")
src=$(cd "$(dirname "$0")" && pwd)
scratch=${FUZZ_KEEP:-$(mktemp -d /tmp/ebcc-fuzz-XXXXXX)}
mkdir -p "$scratch"
[ -z "${FUZZ_KEEP:-}" ] && trap 'rm -rf "$scratch"' EXIT

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

run_one() {
	local name=$1 dir="$scratch/$1"
	local exe="$build/tests/fuzz/fuzz-$name"

	if [ -z "${dict[$name]:-}" ] || [ ! -x "$exe" ]; then
		echo "fuzz-$name: no such harness in $build/tests/fuzz" >"$scratch/$name.log"
		return 1
	fi
	rm -rf "$dir"
	mkdir -p "$dir/corpus"
	cp "$src/corpus/$name"/* "$dir/corpus/"
	# -timeout: one input; -rss_limit_mb also bounds any one allocation.
	"$exe" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-dict="$src/${dict[$name]}.dict" -artifact_prefix="$dir/" \
		"$dir/corpus" >"$dir/log" 2>&1
}

status=0
pids=()
names=()
for name in "${harnesses[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "${FUZZ_PARALLEL:-1}" ]; do
		wait -n || true
	done
	run_one "$name" &
	pids+=($!)
	names+=("$name")
done
for i in "${!pids[@]}"; do
	name=${names[$i]}
	if wait "${pids[$i]}"; then
		result=ok
	else
		result=FAILED
		status=1
	fi
	log="$scratch/$name/log"
	[ -f "$log" ] || log="$scratch/$name.log"
	done_line=$(grep -a -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1 || true)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	printf 'fuzz-%-12s %-6s %10s runs  %s\n' "$name" "$result" "${execs:-?}" \
		"$(sed -E 's/^#[0-9]+[[:space:]]+DONE[[:space:]]+//' <<<"$done_line")"
	if [ "$result" = FAILED ]; then
		echo "---- fuzz-$name: last lines of $log" >&2
		grep -a -v -E '^#[0-9]+[[:space:]]+(NEW|REDUCE|pulse)' "$log" | tail -40 >&2
		ls "$scratch/$name"/crash-* "$scratch/$name"/leak-* "$scratch/$name"/timeout-* \
			"$scratch/$name"/oom-* 2>/dev/null | sed 's/^/finding: /' >&2 || true
		for f in "$scratch/$name"/crash-* "$scratch/$name"/leak-* "$scratch/$name"/timeout-* \
			"$scratch/$name"/oom-*; do
			[ -f "$f" ] && { echo "base64 of $(basename "$f"):"; base64 -w0 "$f"; echo; } >&2
		done
	fi
done
exit $status
