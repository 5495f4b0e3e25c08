# .ci/deps.sh — sourced by the other scripts: installs what a fresh Debian 12 lacks (apt);
# .ci/test also checks for moto_server and the aws CLI (pip, not apt; weir_check_s3_tools).
# Installs only missing packages, so a prepared machine pays nothing.
WEIR_APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache git
  libboost-dev libboost-program-options-dev libboost-filesystem-dev
  libsimdjson-dev libspdlog-dev libfmt-dev libsqlite3-dev libgtest-dev
  libboost-system-dev zlib1g-dev libzstd-dev
  clang libclang-rt-14-dev clang-tidy  # libFuzzer (tests/fuzz), .ci/tidy
  binutils file curl openssl  # openssl: s_server for the S3 client's TLS tests
  libcurl4-openssl-dev libssl-dev
  libdeflate-dev libhowardhinnant-date-dev tzdata
  unixodbc unixodbc-dev odbc-postgresql postgresql
  python3 python3-pip python3-venv  # for weir_check_s3_tools' pip fallback (moto, aws CLI)
  # tests/observe: promtool (`promtool check metrics` on /metrics) and headless Chromium
  # (renders /status and screenshots its chart); those tests fail without them when CI=true.
  prometheus chromium
)

weir_install_deps() {
  local missing=()
  for p in "${WEIR_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -ne 0 ]; then
    echo "weir: installing missing packages: ${missing[*]}"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian's prometheus package starts a Prometheus server (0.0.0.0:9090) under systemd; the
    # tests need only its promtool, and no service of ours may listen beyond 127.0.0.1.
    if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null &&
       [ -d /run/systemd/system ]; then
      $sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
    fi
  fi
}

# moto_server and the aws CLI are not Debian packages here: they come from the machine image
# (pip). The S3 tests against a SigV4-verifying moto (tests/s3: S3ClientMoto*, S3PluginMoto*,
# which also read objects back with `aws s3api`) skip without them, and fail when CI=true.
# weir_check_s3_tools says so up front; with CI=true it installs them with pip instead (into
# the current Python environment, or, where that is refused (PEP 668), into a venv under
# WEIR_S3_TOOLS_VENV, whose bin/ it puts on PATH). Quiet when both are already there.
WEIR_S3_TOOLS_PIP=("moto[server]" awscli)
WEIR_S3_TOOLS_VENV="${WEIR_S3_TOOLS_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/weir/s3-tools-venv}"

weir_s3_tools_missing() {
  local missing=()
  command -v moto_server >/dev/null 2>&1 || missing+=(moto_server)
  command -v aws >/dev/null 2>&1 || missing+=(aws)
  echo "${missing[*]}"
}

weir_check_s3_tools() {
  # A venv made by an earlier run: use it without installing anything.
  if [ -n "$(weir_s3_tools_missing)" ] && [ -x "$WEIR_S3_TOOLS_VENV/bin/moto_server" ] &&
     [ -x "$WEIR_S3_TOOLS_VENV/bin/aws" ]; then
    export PATH="$WEIR_S3_TOOLS_VENV/bin:$PATH"
  fi
  local missing
  missing=$(weir_s3_tools_missing)
  [ -z "$missing" ] && return 0

  local how="python3 -m pip install 'moto[server]' awscli"
  echo "weir: not found on PATH: $missing. The S3 tests against moto (tests/s3: S3ClientMoto*," \
       "S3PluginMoto*) need moto_server and the aws CLI; they skip without them, and fail when" \
       "CI=true. Install them with: $how" >&2
  if [ "${CI:-}" != "true" ]; then
    return 0
  fi
  if ! command -v python3 >/dev/null 2>&1; then
    echo "weir: CI=true but python3 is missing, so $missing cannot be installed; the S3 moto" \
         "tests will fail" >&2
    return 1
  fi
  echo "weir: CI=true: installing ${WEIR_S3_TOOLS_PIP[*]} with pip" >&2
  if ! python3 -m pip install --quiet --disable-pip-version-check "${WEIR_S3_TOOLS_PIP[@]}" \
       >/dev/null 2>&1; then
    # Debian's system Python refuses global installs (externally managed): use a venv.
    python3 -m venv "$WEIR_S3_TOOLS_VENV" >/dev/null &&
      "$WEIR_S3_TOOLS_VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        "${WEIR_S3_TOOLS_PIP[@]}" >/dev/null &&
      export PATH="$WEIR_S3_TOOLS_VENV/bin:$PATH"
  fi
  hash -r
  missing=$(weir_s3_tools_missing)
  if [ -n "$missing" ]; then
    echo "weir: installing with pip did not provide: $missing; the S3 moto tests will fail." \
         "Install them by hand: $how" >&2
    return 1
  fi
  echo "weir: installed moto_server ($(command -v moto_server)) and aws ($(command -v aws))" >&2
}

weir_build() {
  # $1 = preset (dev by default). ccache speeds up rebuilds on a kept machine.
  local preset="${1:-dev}"
  if command -v ccache >/dev/null; then
    export CMAKE_CXX_COMPILER_LAUNCHER=ccache CMAKE_C_COMPILER_LAUNCHER=ccache
  fi
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset"
}
