#!/usr/bin/env bash
# Runs every libFuzzer target of build-fuzz/fuzz over its seed corpus (fuzz/corpus/<name>), for a
# fixed number of inputs (`make test`: --runs N) or a time (`make fuzz`: --seconds S). New
# interesting inputs go to a scratch directory, never into the repository. Prints one JSON line
# per target; exits non-zero, naming the saved input, when a target finds a crash or a broken
# property. Reproduce with: build-fuzz/fuzz/fuzz_<name> <saved input>.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build-fuzz
mode=runs
amount=10000
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build="$2"; shift 2 ;;
    --runs) mode=runs; amount="$2"; shift 2 ;;
    --seconds) mode=seconds; amount="$2"; shift 2 ;;
    *) echo "run-fuzzers: unknown argument $1" >&2; exit 2 ;;
  esac
done

out="$build/fuzz-out"
mkdir -p "$out"
failed=0
for corpus in fuzz/corpus/*/; do
  name=$(basename "$corpus")
  bin="$build/fuzz/fuzz_$name"
  if [ ! -x "$bin" ]; then
    echo "run-fuzzers: $bin is missing (build the 'fuzzers' target)" >&2
    exit 2
  fi
  scratch=$(mktemp -d)
  log="$out/$name.log"
  limit=(-runs="$amount")
  if [ "$mode" = seconds ]; then limit=(-max_total_time="$amount"); fi
  start=$(date +%s.%N)
  set +e
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$bin" "${limit[@]}" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
    -artifact_prefix="$out/$name-" "$scratch" "$corpus" >"$log" 2>&1
  rc=$?
  set -e
  end=$(date +%s.%N)
  execs=$(grep -a -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
  new_units=$(find "$scratch" -type f | wc -l)
  rm -rf "$scratch"
  artifact=$(grep -a -o "Test unit written to [^ ]*" "$log" | tail -1 | sed 's/Test unit written to //' || true)
  printf '{"fuzzer":"%s","executions":%s,"seconds":%.1f,"new_units":%s,"exit":%s,"finding":"%s"}\n' \
    "$name" "${execs:-0}" "$(awk -v a="$start" -v b="$end" 'BEGIN{print b-a}')" "$new_units" "$rc" "$artifact"
  if [ "$rc" -ne 0 ]; then
    failed=1
    echo "run-fuzzers: fuzz_$name failed (exit $rc); log $log" >&2
    grep -a -E "fuzz property failed|ERROR: AddressSanitizer|runtime error|SUMMARY" -A3 "$log" | head -20 >&2 || true
  fi
done
exit $failed
