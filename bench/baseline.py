"""The same-run baselines: a bare aiohttp server in its own process, with nothing of cencomm.

    python -m bench.baseline --port 8081

- `POST /noop`: reads the JSON body and answers 201 with a small JSON object (what a no-op
  aiohttp handler costs: HTTP parsing, one JSON decode and encode);
- `GET /ws`: a WebSocket that does nothing until told; `POST /fanout` with a text body sends that
  text, as one frame, to every open socket (encoded once, sent to each, as the hub does) and
  answers once every send has been handed to its transport;
- a socket that sends `burst <n> <text>` receives `<text>` n times (raw sends, for resume).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from aiohttp import WSMsgType, web

SOCKETS = web.AppKey("sockets", set[web.WebSocketResponse])


async def noop(request: web.Request) -> web.Response:
    await request.json()
    return web.json_response({"id": "00000000-0000-0000-0000-000000000000", "seq": 1}, status=201)


async def fanout(request: web.Request) -> web.Response:
    frame = await request.text()
    sockets = request.app[SOCKETS].copy()
    await asyncio.gather(*(ws.send_str(frame) for ws in sockets), return_exceptions=True)
    return web.json_response({"sent": len(sockets)})


async def websocket(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(heartbeat=None)
    await ws.prepare(request)
    request.app[SOCKETS].add(ws)
    try:
        async for msg in ws:
            if msg.type == WSMsgType.TEXT and msg.data.startswith("burst "):
                _, count, text = msg.data.split(" ", 2)
                for _ in range(int(count)):
                    await ws.send_str(text)
    finally:
        request.app[SOCKETS].discard(ws)
    return ws


def make_app() -> web.Application:
    app = web.Application(client_max_size=16 * 2**20)
    app[SOCKETS] = set()
    app.router.add_post("/noop", noop)
    app.router.add_post("/fanout", fanout)
    app.router.add_get("/ws", websocket)
    return app


async def serve(port: int) -> None:
    runner = web.AppRunner(make_app(), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):  # also when started with SIGINT ignored (&)
        loop.add_signal_handler(signum, stop.set)
    print(f"Running on http://127.0.0.1:{port}", file=sys.stderr, flush=True)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port))


if __name__ == "__main__":
    main()
