#!/usr/bin/env bash
# tests/install/install_test.sh — what a new user gets from `cmake --install build --prefix P`:
# P/bin/weir finds the three plugins in P/lib/weir/plugins with no flags or environment,
# `weir plugins list` shows sdk-source, s3 and snowflake and refuses nothing, and the
# installed host runs the collector service (`weir service run sdk-source`) and a pipeline
# into the s3 plugin's file:// layout.
#   install_test.sh BUILD_DIR
set -euo pipefail
build=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/weir-install-test.XXXXXX")
collector=""
cleanup() {
  if [ -n "$collector" ]; then kill "$collector" 2>/dev/null || true; wait "$collector" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

prefix="$tmp/prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 ||
  { cat "$tmp/install.log"; fail "cmake --install failed"; }
[ -x "$prefix/bin/weir" ] || fail "$prefix/bin/weir was not installed"
for p in sdk-source s3 snowflake; do
  [ -f "$prefix/lib/weir/plugins/libweir-$p.so" ] || fail "libweir-$p.so is not in $prefix/lib/weir/plugins"
done

# No WEIR_* from the caller's environment: the installed defaults alone.
unset WEIR_PLUGINS_DIR WEIR_DATA_DIR WEIR_PIPELINES_DIR WEIR_CONFIG
export HOME="$tmp/home" XDG_STATE_HOME="$tmp/state"
mkdir -p "$HOME"
weir="$prefix/bin/weir"

"$weir" plugins list >"$tmp/list.out" 2>"$tmp/list.err" || fail "weir plugins list exited $?"
cat "$tmp/list.out"
for p in sdk-source s3 snowflake; do
  grep -Eq "^$p +" "$tmp/list.out" || fail "installed 'weir plugins list' does not show $p"
done
grep -q "(no plugins loaded)" "$tmp/list.out" && fail "installed host loaded no plugins"
[ -s "$tmp/list.err" ] && { cat "$tmp/list.err"; fail "installed host refused a plugin file"; }
grep -q "$prefix/lib/weir/plugins/libweir-s3.so" "$tmp/list.out" ||
  fail "plugins were not loaded from the installed plugins directory"

# The collector runs from the installed host, and an exported event reaches file://.
export WEIR_TEST_TOKEN="install-test-token"
cat >"$tmp/collector.json" <<JSON
{"data_dir": "$tmp/collector", "listen": "127.0.0.1:0",
 "projects": {"app": {"tokens": ["\${WEIR_TEST_TOKEN}"]}}}
JSON
"$weir" service run sdk-source --config @"$tmp/collector.json" 2>"$tmp/collector.log" &
collector=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*collector listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$tmp/collector.log" | head -1)
  [ -n "$port" ] && break
  kill -0 "$collector" 2>/dev/null || { cat "$tmp/collector.log"; fail "collector exited"; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$tmp/collector.log"; fail "collector did not report its port"; }
now_ms=$(($(date +%s) * 1000))
body="[{\"event\":\"Installed\",\"properties\":{\"time\":$now_ms,\"distinct_id\":\"u1\",\"\$insert_id\":\"install-1\"}}]"
code=$(curl -s -o "$tmp/import.out" -w '%{http_code}' -u "$WEIR_TEST_TOKEN:" \
  -H 'Content-Type: application/json' --data "$body" "http://127.0.0.1:$port/import?strict=1")
[ "$code" = 200 ] || { cat "$tmp/import.out"; fail "collector answered $code to /import"; }
kill -TERM "$collector"; wait "$collector" || true; collector=""

mkdir -p "$tmp/pipelines"
cat >"$tmp/pipelines/installed.json" <<JSON
{"name": "installed", "project": "app", "stream": "events",
 "source": {"plugin": "sdk-source", "config": {"data_dir": "$tmp/collector", "project": "app"}},
 "destination": {"plugin": "s3", "config": {"url": "file://$tmp/export", "compression": "none"}}}
JSON
"$weir" --pipelines-dir "$tmp/pipelines" run installed --no-progress || fail "weir run exited $?"
found=$(grep -rl '"install-1"' "$tmp/export" | wc -l)
[ "$found" = 1 ] || fail "expected the event in exactly one exported file, found $found"
echo "install test passed: plugins list shows sdk-source, s3, snowflake; collector and run work"
