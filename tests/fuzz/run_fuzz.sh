#!/usr/bin/env bash
# tests/fuzz/run_fuzz.sh — builds one libFuzzer target with clang (libFuzzer, ASan, UBSan) and
# runs it for a short, bounded time over its seed corpus. Any crash, leak, failed property or
# sanitizer report fails. ctest runs each target as its own test (tests/fuzz/CMakeLists.txt).
#
#   tests/fuzz/run_fuzz.sh TARGET [OUT_DIR]    # FUZZ_TIME=20 seconds by default; FUZZ_CXX=clang++
#
# TARGET:
#   parsers    the collector's Mixpanel/Segment/native parsers and decoders (fuzz_parsers.cpp)
#   s3_xml     the s3 client's XML tag extractor, entity and percent decoders (fuzz_s3_xml.cpp)
#   pipeline   pipeline files and `weir pipeline show`'s redaction (fuzz_pipeline.cpp)
#
# New inputs the fuzzer finds go to OUT_DIR/corpus-TARGET (kept between runs); the checked-in
# seeds are only read. A crash leaves OUT_DIR/crash-* to replay: OUT_DIR/fuzz_TARGET FILE.
# Without clang++ the script exits 77 (ctest: skipped) — except under CI=true, where a missing
# fuzzer toolchain is a failure.
set -euo pipefail

SRC="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TARGET="${1:-}"
OUT="${2:-$SRC/build/fuzz}"
FUZZ_TIME="${FUZZ_TIME:-20}"
CXX="${FUZZ_CXX:-clang++}"

# Per target: the sources it links (besides its fuzz_*.cpp), include directories, pkg-config
# packages, extra flags and libraries, and the seed corpus.
case "$TARGET" in
  parsers)
    DIR="$SRC/plugins/sdk-source/collector"
    # Every collector source except the server, the store glue and main.
    SOURCES=()
    for f in "$DIR"/*.cpp; do
      case "$(basename "$f" .cpp)" in
        collector | collector_main | http_server) ;;
        *) SOURCES+=("$f") ;;
      esac
    done
    INCLUDES=(-I"$SRC/plugins/sdk-source" -I"$SRC/sdk/include")
    PACKAGES=(simdjson zlib libcrypto)
    EXTRA=()
    HEADERS=("$DIR"/*.hpp "$SRC/plugins/sdk-source/store/store.hpp")
    SEEDS="$SRC/tests/fuzz/corpus" ;;
  s3_xml)
    SOURCES=("$SRC/plugins/s3/s3_xml.cpp")
    INCLUDES=(-I"$SRC/plugins/s3")
    PACKAGES=()
    EXTRA=()
    HEADERS=("$SRC/plugins/s3/s3_xml.hpp")
    SEEDS="$SRC/tests/fuzz/corpus-s3-xml" ;;
  pipeline)
    SOURCES=("$SRC/host/pipeline/pipeline.cpp" "$SRC/host/pipeline/redact.cpp")
    INCLUDES=(-I"$SRC/host" -I"$SRC/sdk/include")
    PACKAGES=(simdjson)
    # Debian's date-tz: the system tz database (its CMake package's definitions).
    EXTRA=(-DUSE_OS_TZDB=1 -DONLY_C_LOCALE=1 -DHAS_STRING_VIEW=1)
    HEADERS=("$SRC"/host/pipeline/*.hpp)
    SEEDS="$SRC/tests/fuzz/corpus-pipeline" ;;
  *)
    echo "usage: run_fuzz.sh parsers|s3_xml|pipeline [OUT_DIR]" >&2
    exit 2 ;;
esac
LIBS_EXTRA=()
[ "$TARGET" = pipeline ] && LIBS_EXTRA=(-ldate-tz)

if ! command -v "$CXX" >/dev/null 2>&1; then
  if [ "${CI:-}" = "true" ]; then
    echo "run_fuzz.sh: $CXX not found; CI must run the fuzzers (install clang with libFuzzer)" >&2
    exit 1
  fi
  echo "run_fuzz.sh: $CXX not found; skipping the $TARGET fuzz run" >&2
  exit 77
fi

FLAGS=(-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       "${INCLUDES[@]}" "${EXTRA[@]}")
CFLAGS=()
LIBS=()
if [ "${#PACKAGES[@]}" -gt 0 ]; then
  # shellcheck disable=SC2207
  CFLAGS=($(pkg-config --cflags "${PACKAGES[@]}"))
  # shellcheck disable=SC2207
  LIBS=($(pkg-config --libs "${PACKAGES[@]}"))
fi

OBJ="$OUT/obj-$TARGET"
mkdir -p "$OBJ" "$OUT/corpus-$TARGET"
# Two compiles at a time (the machine has two cores); an object newer than its source and
# every header it may include is reused from the last run.
HEADERS+=("$SRC"/sdk/include/weir/*)
newest_header="$(ls -t "${HEADERS[@]}" | head -n 1)"
objs=()
pids=()
for s in "${SOURCES[@]}"; do
  obj="$OBJ/$(basename "$s" .cpp).o"
  objs+=("$obj")
  if [ "$obj" -nt "$s" ] && [ "$obj" -nt "$newest_header" ]; then continue; fi
  "$CXX" "${FLAGS[@]}" "${CFLAGS[@]}" -c "$s" -o "$obj" &
  pids+=($!)
  if [ "${#pids[@]}" -ge 2 ]; then
    wait "${pids[0]}"
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p"; done
"$CXX" "${FLAGS[@]}" "${CFLAGS[@]}" "$SRC/tests/fuzz/fuzz_$TARGET.cpp" "${objs[@]}" \
  -o "$OUT/fuzz_$TARGET" "${LIBS[@]}" "${LIBS_EXTRA[@]}"

# -timeout: one input taking 10 s is a hang; -rss_limit_mb: a bomb the caps missed.
cd "$OUT"
exec "$OUT/fuzz_$TARGET" -max_total_time="$FUZZ_TIME" -timeout=10 -rss_limit_mb=2048 \
  -max_len=65536 -print_final_stats=1 "$OUT/corpus-$TARGET" "$SEEDS"
