#!/usr/bin/env bash
# The blocking bench runs FastAPI + uvicorn beside Loopwise. Installs Debian's packages when
# missing, so `npm run bench -- blocking` works on a fresh machine with nothing installed by hand.
# Debian's packages go to Debian's own interpreter, /usr/bin/python3, whatever python3 is first
# on the PATH (a pyenv shim, a virtualenv). Exit status 0 means that interpreter imports both.
set -euo pipefail
python=/usr/bin/python3
has_fastapi() { [ -x "$python" ] && "$python" -c "import fastapi, uvicorn" >/dev/null 2>&1; }
if has_fastapi; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then echo "no apt-get here to install FastAPI with" >&2; exit 1; fi
echo "Installing Debian's python3-fastapi and python3-uvicorn for the blocking bench..." >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# A mirror can fail for a moment; try again before giving up.
for attempt in 1 2 3; do
  if $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends python3-fastapi python3-uvicorn >/dev/null; then break; fi
  [ "$attempt" -eq 3 ] && { echo "could not install python3-fastapi and python3-uvicorn with apt-get" >&2; exit 1; }
  sleep 5
done
has_fastapi
