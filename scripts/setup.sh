#!/usr/bin/env bash
# Installs what the local stack and the tests need, and builds the functions. Idempotent: on a
# machine that already has everything it only rebuilds. Debian packages need root (CI is root).
set -euo pipefail
cd "$(dirname "$0")/.."

# prometheus brings promtool; prometheus-alertmanager brings amtool (turn/monitoring tests);
# iproute2 brings ip and ss (the network-namespace tests).
debian_packages=(coturn chromium fail2ban openssl systemd prometheus prometheus-node-exporter prometheus-alertmanager iproute2)
missing=()
for package in "${debian_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}. Install them with: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The root devDependency `node@22` puts Node 22 (the deploy runtime) first on PATH for every
# npm script, so the emulators and the tests run on the same major as production.
# re2 (an optional dependency of the Hosting emulator) would try to download a prebuilt binary
# from GitHub, which these machines cannot reach; build it from source straight away instead.
export DEVELOPMENT_SKIP_GETTING_ASSET=1
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages (root)"
  npm ci --no-audit --no-fund --loglevel=error
fi
export PATH="$PWD/node_modules/.bin:$PATH"
if [ ! -d functions/node_modules ] || [ functions/package-lock.json -nt functions/node_modules/.package-lock.json ]; then
  echo "setup: installing npm packages (functions)"
  npm --prefix functions ci --no-audit --no-fund --loglevel=error
fi
npm run build --silent
