#!/bin/sh
# Run every benchmark program: medians in ns, then exact instruction counts per
# operation from callgrind (the difference between N and 2N iterations, so
# start-up costs cancel out).
set -eu
build=${1:-build-bench}
N=2000
for b in "$build"/bin/bench_*; do
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b"
    if ! command -v valgrind >/dev/null 2>&1; then
        echo "(valgrind not installed: no instruction counts)"
        continue
    fi
    for c in $("$b" --list); do
        ir() {
            out=$(mktemp)
            valgrind --tool=callgrind --callgrind-out-file=/dev/null "$b" --case "$c" --iters "$1" 2>"$out" >/dev/null
            sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$out"
            rm -f "$out"
        }
        a=$(ir $N)
        z=$(ir $((2 * N)))
        echo "$c: $(( (z - a) / N )) instructions/op (callgrind)"
    done
done
