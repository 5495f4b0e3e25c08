#!/usr/bin/env bash
# tests/fuzz/run_fuzz.sh — builds the collector's parser fuzzer with clang (libFuzzer, ASan,
# UBSan) and runs it for a short, bounded time over the seed corpus. Any crash, leak or
# sanitizer report fails. Registered as the ctest SdkSourceCollectorFuzzParsers.
#
#   tests/fuzz/run_fuzz.sh [OUT_DIR]        # FUZZ_TIME=20 seconds by default; FUZZ_CXX=clang++
#
# Without clang++ the script exits 77 (ctest: skipped) — except under CI=true, where a missing
# fuzzer toolchain is a failure.
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT="${1:-$SRC/build/fuzz}"
FUZZ_TIME="${FUZZ_TIME:-20}"
CXX="${FUZZ_CXX:-clang++}"

if ! command -v "$CXX" >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then
    echo "run_fuzz.sh: $CXX not found; CI must run the fuzzer (install clang with libFuzzer)" >&2
    exit 1
  fi
  echo "run_fuzz.sh: $CXX not found; skipping the fuzz run" >&2
  exit 77
fi

COLLECTOR="$SRC/plugins/sdk-source/collector"
SOURCES=(collector_config decode normalize json_records mixpanel segment native handler)
FLAGS=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$SRC/plugins/sdk-source" -I"$SRC/sdk/include")
# shellcheck disable=SC2207
CFLAGS=($(pkg-config --cflags simdjson zlib libcrypto))
# shellcheck disable=SC2207
LIBS=($(pkg-config --libs simdjson zlib libcrypto))

mkdir -p "$OUT/obj" "$OUT/corpus"
# Two compiles at a time (the machine has two cores); an object newer than its source and
# every header it may include is reused from the last run.
HEADERS=("$COLLECTOR"/*.hpp "$SRC/plugins/sdk-source/store/store.hpp" "$SRC"/sdk/include/weir/*)
newest_header="$(ls -t "${HEADERS[@]}" | head -n 1)"
objs=()
pids=()
for s in "${SOURCES[@]}"; do
  obj="$OUT/obj/$s.o"
  if [ "$obj" -nt "$COLLECTOR/$s.cpp" ] && [ "$obj" -nt "$newest_header" ]; then
    objs+=("$obj")
    continue
  fi
  "$CXX" "${FLAGS[@]}" "${CFLAGS[@]}" -c "$COLLECTOR/$s.cpp" -o "$OUT/obj/$s.o" &
  pids+=($!)
  objs+=("$OUT/obj/$s.o")
  if [ "${#pids[@]}" -ge 2 ]; then
    wait "${pids[0]}"
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p"; done
"$CXX" "${FLAGS[@]}" "${CFLAGS[@]}" "$SRC/tests/fuzz/fuzz_parsers.cpp" "${objs[@]}" \
  -o "$OUT/fuzz_parsers" "${LIBS[@]}"

# New inputs go to $OUT/corpus (the first directory); the checked-in seeds are only read.
# -timeout: one input taking 10 s is a hang; -rss_limit_mb: a bomb the caps missed.
"$OUT/fuzz_parsers" -max_total_time="$FUZZ_TIME" -timeout=10 -rss_limit_mb=2048 \
  -max_len=65536 -print_final_stats=1 "$OUT/corpus" "$SRC/tests/fuzz/corpus"
