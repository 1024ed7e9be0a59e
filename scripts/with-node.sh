#!/usr/bin/env bash
# Runs a command under another Node.js major version, fetched from the npm registry (the
# node-<platform>-<arch> packages carry the official binary and headers), with this project's
# native addons rebuilt for it. Used by CI to run the suite on Node 24 and 26 besides Node 20:
#   bash scripts/with-node.sh 24 npm test
set -euo pipefail
major="$1"; shift
cd "$(dirname "$0")/.."
case "$(uname -m)" in x86_64) arch=x64 ;; aarch64|arm64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac
platform="$(uname -s | tr '[:upper:]' '[:lower:]')"
home=".cache/node-$major"
pkg="node-$platform-$arch"
if [ ! -x "$home/node_modules/$pkg/bin/node" ]; then
  echo "Installing Node.js $major ($pkg) from the npm registry into $home..." >&2
  mkdir -p "$home"
  for attempt in 1 2 3; do
    if npm install --prefix "$home" --no-save --no-package-lock --no-audit --no-fund "$pkg@$major" >/dev/null; then break; fi
    [ "$attempt" -eq 3 ] && { echo "could not install $pkg@$major" >&2; exit 1; }
    sleep 5
  done
fi
nodedir="$PWD/$home/node_modules/$pkg"
export PATH="$nodedir/bin:$PATH"
# Native addons (better-sqlite3) are built against this Node's own headers, offline.
export npm_config_nodedir="$nodedir"
echo "Using $(node --version) from $nodedir" >&2
npm rebuild >/dev/null
exec "$@"
