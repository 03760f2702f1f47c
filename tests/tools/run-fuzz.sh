#!/usr/bin/env bash
# Runs each libFuzzer target given (build/fuzz/fuzz_*) for FUZZ_SECONDS
# (default 20) from the top directory, with ASan, UBSan and leak
# detection.  New inputs go to build/fuzz/<target>.corpus (kept between
# runs); the repository's fixtures are the seeds.  A crash, leak, hang or
# broken invariant fails the run, prints the end of the log and leaves
# the reproducer in build/fuzz/<target>.crashes/.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${FUZZ_SECONDS:-20}
out=build/fuzz
seeds=$out/seeds
python=${PYTHON:-/usr/bin/python3}

# vendor payloads in the charsets a Content-Type may name: the first
# byte picks it (tests/fuzz/fuzz_tree.h: 2 GBK, 3 GB18030, 7 UTF-16)
rm -rf "$seeds"
mkdir -p "$seeds/tree" "$seeds/std-json"
for f in plugins/*/fixtures/*/*.json plugins/*/fixtures/*/*.xml; do
    [ -f "$f" ] || continue
    b=$(echo "$f" | tr / _)
    for cs in 2:GBK 3:GB18030 7:UTF-16; do
        seed=$seeds/tree/${cs#*:}-$b
        { printf "\\$(printf %03o "${cs%%:*}")"
          iconv -f UTF-8 -t "${cs#*:}" "$f" 2>/dev/null; } > "$seed" \
            || rm -f "$seed"
    done
done
"$python" tests/fuzz/std-json-seeds.py "$seeds/std-json" \
    tests/fixtures/std/*.xml tests/fixtures/std/invalid/*.xml

seed_dirs() {
    case $1 in
    fuzz_tree_json|fuzz_tree_xml)
        echo plugins/*/fixtures "$seeds/tree" tests/fixtures/std ;;
    fuzz_std_xml)
        echo tests/fixtures/std ;;
    fuzz_std_json)
        echo "$seeds/std-json" ;;
    fuzz_codes_csv)
        echo schemas/std/v1/codes tests/fixtures/std/codes ;;
    *)
        ;;
    esac
}

passed=0
failed=0

for t in "$@"; do
    n=$(basename "$t")
    mkdir -p "$out/$n.corpus" "$out/$n.crashes"
    log=$out/$n.log

    # shellcheck disable=SC2046
    if ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
       UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
       "$t" -max_total_time="$seconds" -max_len=65536 -timeout=10 \
            -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$out/$n.crashes/" \
            "$out/$n.corpus" $(seed_dirs "$n") > "$log" 2>&1
    then
        echo "fuzz: $n: $(grep -o 'stat::number_of_executed_units: *[0-9]*' \
            "$log" | grep -o '[0-9]*$') runs in ${seconds}s, corpus" \
            "$(ls "$out/$n.corpus" | wc -l) inputs, no failure"
        passed=$((passed + 1))
    else
        tail -n 60 "$log"
        echo "fuzz: $n FAILED; reproducer(s) in $out/$n.crashes/:"
        ls "$out/$n.crashes/"
        echo "fuzz: rerun one with: $t $out/$n.crashes/<file>"
        failed=$((failed + 1))
    fi
done

echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
