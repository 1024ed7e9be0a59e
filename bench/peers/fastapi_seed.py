# The seed's FastAPI app (examples/seed/main.ts in Python), served by uvicorn with its defaults.
# Run by the bench with Debian's interpreter, /usr/bin/python3, where Debian's python3-fastapi and
# python3-uvicorn live (scripts/ensure-fastapi.sh installs them):
#   SLEEP_MS=1000 /usr/bin/python3 bench/peers/fastapi_seed.py
# It listens on a free port and announces its URL as the JSON line the bench waits for.
import json
import os
import socket
import sys
import time

import uvicorn
from fastapi import FastAPI

app = FastAPI()
ms = int(os.environ.get("SLEEP_MS", "10000"))


# Declared async: runs on the event loop, so its blocking sleep freezes the whole server.
@app.get("/async/sleep")
async def async_sleep():
    time.sleep(ms / 1000)
    return {"message": f"slept for {ms} ms"}


# A plain function: runs in anyio's thread pool (40 threads by default).
@app.get("/sync/sleep")
def sync_sleep():
    time.sleep(ms / 1000)
    return {"message": f"slept for {ms} ms"}


@app.get("/async/hello")
async def async_hello():
    return {"message": "hello"}


@app.get("/sync/hello")
def sync_hello():
    return {"message": "hello"}


class AnnouncingServer(uvicorn.Server):
    """uvicorn's server, which says where it listens once it accepts connections."""

    async def startup(self, sockets=None):
        await super().startup(sockets=sockets)
        host, port = sockets[0].getsockname()[:2]
        sys.stderr.write(json.dumps({"event": "listening", "url": f"http://{host}:{port}"}) + "\n")
        sys.stderr.flush()


if __name__ == "__main__":
    # uvicorn's own defaults but the port: the bench binds a free one, as Loopwise's --port 0 does.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    AnnouncingServer(uvicorn.Config(app)).run(sockets=[sock])
