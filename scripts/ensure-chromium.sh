#!/usr/bin/env bash
# The browser tests drive Debian's Chromium through playwright-core. Installs it when missing,
# so `npm test` works on a fresh machine with nothing installed by hand.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
echo "Installing Debian's chromium for the browser tests..." >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# A mirror can fail for a moment; try again before giving up.
for attempt in 1 2 3; do
  if $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends chromium >/dev/null; then break; fi
  [ "$attempt" -eq 3 ] && { echo "could not install chromium with apt-get" >&2; exit 1; }
  sleep 5
done
command -v chromium >/dev/null
