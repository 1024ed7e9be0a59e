#!/usr/bin/env bash
# The queue-lane tests run a real Redis: Debian's redis-server, started by the tests on a free
# loopback port. Installs it when missing, so `npm test` works on a fresh machine.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then exit 0; fi
echo "Installing Debian's redis-server for the queue-lane tests..." >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# A mirror can fail for a moment; try again before giving up.
for attempt in 1 2 3; do
  if $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends redis-server >/dev/null; then break; fi
  [ "$attempt" -eq 3 ] && { echo "could not install redis-server with apt-get" >&2; exit 1; }
  sleep 5
done
# The package starts a system-wide service where it can; the tests start their own servers.
command -v redis-server >/dev/null
