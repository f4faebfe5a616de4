#!/usr/bin/env bash
# Installs what the build and the tests need: Debian's packages, then the npm packages of
# package.json (the tests' JavaScript) from the npm registry. Idempotent: packages already present
# are not touched, and nothing is downloaded when everything is there.
set -euo pipefail

PACKAGES=(
  build-essential g++ cmake ninja-build ccache pkg-config git
  libsqlite3-dev sqlite3
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libfmt-dev libspdlog-dev libcli11-dev
  zlib1g-dev libbrotli-dev libzstd-dev liblz4-dev libcurl4-openssl-dev libpq-dev
  postgresql-15 postgresql-client-15  # the tests run every store suite on a real PostgreSQL 15 too
  libgtest-dev libgmock-dev libbenchmark-dev
  zsh  # the completion test checks the generated zsh script
  brotli zstd gzip coreutils  # export tests check files with the standard tools (and sha256sum)
  chromium  # the dashboard's browser tests drive /usr/bin/chromium through playwright-core
  clang libclang-rt-dev  # the libFuzzer targets (fuzz/, make fuzz; make test runs them briefly)
)

# Node.js and npm: any installed node will do (the machine may carry its own build); Debian's
# packages otherwise.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  PACKAGES+=(nodejs npm)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# npm packages, exactly as package-lock.json pins them; redone only when the lock file changes.
cd "$(dirname "$0")/.."
stamp=node_modules/.vibekit-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
  echo "$want" > "$stamp"
fi
