#!/usr/bin/env bash
# Installs what the build and the tests need, from Debian's packages only. Idempotent: packages
# already present are not touched, and nothing is downloaded when everything is there.
set -euo pipefail

PACKAGES=(
  build-essential g++ cmake ninja-build ccache pkg-config git
  libsqlite3-dev sqlite3
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libfmt-dev libspdlog-dev libcli11-dev
  zlib1g-dev libbrotli-dev libzstd-dev libcurl4-openssl-dev libpq-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  zsh  # the completion test checks the generated zsh script
  brotli zstd gzip coreutils  # export tests check files with the standard tools (and sha256sum)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
