#!/bin/sh
# Golden replay case: run `vcpufault replay CASE.jsonl` and compare every output
# line with CASE.expected as JSON values (key order and spacing do not matter).
set -eu
cli=$1
case_file=$2
expected=${case_file%.jsonl}.expected
actual=$(mktemp)
trap 'rm -f "$actual"' EXIT
"$cli" replay "$case_file" >"$actual"
python3 - "$expected" "$actual" <<'PY'
import json, sys
exp = [l for l in open(sys.argv[1]) if l.strip()]
act = [l for l in open(sys.argv[2]) if l.strip()]
bad = 0
if len(exp) != len(act):
    print(f"expected {len(exp)} lines, got {len(act)}")
    bad = 1
for i, (e, a) in enumerate(zip(exp, act), 1):
    je, ja = json.loads(e), json.loads(a)
    # An expected error line need not pin the message text.
    if je.get("status") == "error" and "message" not in je:
        ja.pop("message", None)
    if je != ja:
        print(f"line {i}:\n  expected {e.strip()}\n  actual   {a.strip()}")
        bad = 1
print(f"{len(exp)} records checked" + (", FAILED" if bad else ""))
sys.exit(bad)
PY
