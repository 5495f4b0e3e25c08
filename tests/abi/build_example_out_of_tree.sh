#!/usr/bin/env bash
# tests/abi/build_example_out_of_tree.sh — the SDK works for a third party, end to end.
#
# Installs the configured and built weir tree into a fresh temporary prefix, builds
# examples/hello-destination against it as a separate project (find_package(weir) +
# weir_add_plugin, warnings as errors), checks with `nm -D` that the plugin's only defined
# dynamic symbol is weir_plugin_entry_v1, and, when given a driver, runs it on the .so.
#
#   build_example_out_of_tree.sh BUILD_DIR SOURCE_DIR [DRIVER] [KEEP_DIR]
#
#   BUILD_DIR   a built weir build tree (what `cmake --install` installs from)
#   SOURCE_DIR  the weir source tree (for examples/hello-destination)
#   DRIVER      optional: tests/abi's hello_destination_driver, run as DRIVER PLUGIN SCRATCH
#   KEEP_DIR    optional: the built .so is copied here and that path is printed, so it can be
#               loaded afterwards (`weir plugins check KEEP_DIR/libweir-hello-destination.so`)
# Environment: CMAKE (default cmake), CMAKE_GENERATOR (default Ninja when available), CXX.
set -euo pipefail

if [[ $# -lt 2 || $# -gt 4 ]]; then
  echo "usage: $0 BUILD_DIR SOURCE_DIR [DRIVER] [KEEP_DIR]" >&2
  exit 2
fi
build_dir=$1
source_dir=$2
driver=${3:-}
keep_dir=${4:-}
cmake_bin=${CMAKE:-cmake}

work=$(mktemp -d "${TMPDIR:-/tmp}/weir-oot.XXXXXX")
trap 'rm -rf "$work"' EXIT

step() { echo "== $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

step "installing $build_dir into $work/prefix"
"$cmake_bin" --install "$build_dir" --prefix "$work/prefix" >"$work/install.log" 2>&1 ||
  { cat "$work/install.log" >&2; fail "cmake --install failed (is the tree fully built?)"; }
[[ -f $work/prefix/lib/cmake/weir/weirConfig.cmake ]] ||
  fail "no lib/cmake/weir/weirConfig.cmake in the installed prefix"

step "configuring examples/hello-destination against the installed SDK"
generator_args=()
if [[ -n ${CMAKE_GENERATOR:-} ]]; then
  generator_args=(-G "$CMAKE_GENERATOR")
elif command -v ninja >/dev/null 2>&1; then
  generator_args=(-G Ninja)
fi
# CMAKE_FIND_USE_PACKAGE_REGISTRY / system paths off: only the fresh prefix may satisfy
# find_package(weir), never a weir installed elsewhere on the machine.
"$cmake_bin" -S "$source_dir/examples/hello-destination" -B "$work/build" "${generator_args[@]}" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF \
  -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF \
  -Dweir_DIR="$work/prefix/lib/cmake/weir" \
  -DCMAKE_CXX_FLAGS="-Wall -Wextra -Wpedantic -Wshadow -Werror" \
  >"$work/configure.log" 2>&1 ||
  { cat "$work/configure.log" >&2; fail "configuring the example failed"; }

step "building"
"$cmake_bin" --build "$work/build" >"$work/build.log" 2>&1 ||
  { cat "$work/build.log" >&2; fail "building the example failed"; }

so="$work/build/plugins/libweir-hello-destination.so"
[[ -f $so ]] || fail "expected $so"
echo "built: $so"

step "checking exported symbols"
# Defined dynamic symbols only (undefined ones are libc/libstdc++ imports).
defined=$(nm -D --defined-only "$so" | awk '{print $NF}' | sort)
echo "$defined"
[[ $defined == "weir_plugin_entry_v1" ]] ||
  fail "the plugin must define only weir_plugin_entry_v1; it defines: $(echo $defined)"

if [[ -n $driver ]]; then
  step "driving the plugin"
  mkdir "$work/scratch"
  "$driver" "$so" "$work/scratch" || fail "hello_destination_driver failed"
fi

if [[ -n $keep_dir ]]; then
  mkdir -p "$keep_dir"
  cp "$so" "$keep_dir/"
  so="$keep_dir/$(basename "$so")"
fi
echo "plugin: $so"
echo "PASS"
