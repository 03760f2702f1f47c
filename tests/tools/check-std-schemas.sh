#!/usr/bin/env bash
# Validates the data standard's fixtures with xmllint against
# schemas/std/v1/batch.xsd (which includes every entity's XSD): each file
# in tests/fixtures/std/ must validate, each in tests/fixtures/std/invalid/
# must be refused.  Also checks that every XSD compiles on its own.
set -uo pipefail
cd "$(dirname "$0")/../.."

xsd=schemas/std/v1/batch.xsd
pass=0
fail=0

ok() { pass=$((pass + 1)); }
ko() { fail=$((fail + 1)); echo "FAIL: $*"; }

for s in schemas/std/v1/*.xsd; do
    out=$(xmllint --noout --schema "$s" /dev/null 2>&1)
    if grep -q 'failed to compile\|Schemas parser error' <<<"$out"; then
        ko "$s does not compile"; echo "$out"
    else
        ok
    fi
done

for f in tests/fixtures/std/*.xml; do
    if out=$(xmllint --noout --nonet --schema "$xsd" "$f" 2>&1); then
        ok
    else
        ko "$f should validate"; echo "$out"
    fi
done

for f in tests/fixtures/std/invalid/*.xml; do
    if xmllint --noout --nonet --schema "$xsd" "$f" >/dev/null 2>&1; then
        ko "$f should be refused: $(sed -n 2p "$f")"
    else
        ok
    fi
done

echo "schemas: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
