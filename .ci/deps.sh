# .ci/deps.sh — sourced by the other scripts: installs what a fresh Debian 12 lacks (apt).
# Installs only missing packages, so a prepared machine pays nothing.
WEIR_APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache git
  libboost-dev libboost-program-options-dev libboost-filesystem-dev
  libsimdjson-dev libspdlog-dev libfmt-dev libsqlite3-dev libgtest-dev
  libboost-system-dev zlib1g-dev libzstd-dev
  clang libclang-rt-14-dev
  binutils file curl
  libcurl4-openssl-dev libssl-dev
  libdeflate-dev libhowardhinnant-date-dev tzdata
  unixodbc unixodbc-dev odbc-postgresql postgresql
)

weir_install_deps() {
  local missing=()
  for p in "${WEIR_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "weir: installing missing packages: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
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
