"""Live fan-out benchmark: latency from a post to its receipt on N connected sockets (p50/p99),
and server memory per idle WebSocket.

    .venv/bin/python -m bench.fanout_bench [--sockets 1000 5000] [--posts 20] [--users 50]

Runs a `cencomm serve` subprocess on loopback (scratch SQLite, in-process bus, or
`--database-url postgresql+asyncpg://...`). N sockets of `--users` officers follow one group;
one more officer posts. A post's latency on a socket is the time from sending the POST to
that socket's client reading the message frame; every socket's receipt counts. The clients
run in this process, so they share the machine's cores with the server: the figures are an
upper bound for the server alone. Memory: the server's RSS after N sockets have authenticated
and resumed, minus its RSS before the first one, divided by N.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.common import ServerProcess, free_port, percentile, raise_fd_limit, rss_kib, scratch_env
from cencomm.crypto.jws import sign_compact
from cencomm.crypto.keys import b64url_encode, jwk_thumbprint, raw_public_key

PASSWORD = "correct horse battery staple"  # noqa: S105 - a throwaway bench account
CONNECT_CONCURRENCY = 200


class Server:
    def __init__(self, workdir: Path, database_url: str | None) -> None:
        self.port = free_port()
        self.env = scratch_env(workdir, database_url)
        self.env["CENCOMM_ADMIN_PASSWORD"] = PASSWORD
        self.server: ServerProcess | None = None

    async def start(self) -> None:
        self.server = await ServerProcess.cencomm(self.env, self.port).start()
        admin = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cencomm", "create-admin", "--username", "admin",
            env=self.env, stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        if await admin.wait() != 0:
            raise RuntimeError("create-admin failed")

    @property
    def pid(self) -> int:
        assert self.server is not None
        return self.server.pid

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()


class Bench:
    def __init__(self, http: aiohttp.ClientSession, port: int) -> None:
        self.http = http
        self.root = f"http://127.0.0.1:{port}"
        self.api = f"{self.root}/api/v1"
        self.receipts: dict[int, list[float]] = {}
        self.waiters: dict[int, tuple[int, asyncio.Event]] = {}

    async def call(self, method: str, path: str, token: str | None = None, **body: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.request(
            method, self.api + path, json=body or None, headers=headers
        ) as resp:
            data = await resp.json(content_type=None)
            if resp.status >= 300:
                raise RuntimeError(f"{method} {path}: {resp.status} {data}")
            return data

    async def setup(self, users: int) -> tuple[str, list[str], str, Any]:
        """An active group with one organisation of `users` officers and a poster."""
        admin = (await self.call("POST", "/auth/login", username="admin", password=PASSWORD))[
            "access_token"
        ]
        org = await self.call(
            "POST", "/organizations", admin, name="Bench customs", kind="administration",
            country="FR", region="EUROPE",
        )  # fmt: skip
        group = await self.call("POST", "/groups", admin, code="OP-BENCH", name="Bench")
        await self.call("PATCH", f"/groups/{group['id']}", admin, status="active")
        await self.call(
            "POST", f"/groups/{group['id']}/members", admin, organization_id=org["id"],
            role="member",
        )  # fmt: skip
        tokens = []
        for n in range(users + 1):
            name = f"officer{n:04d}"
            await self.call(
                "POST", "/users", admin, username=name, display_name=name,
                organization_id=org["id"], role="officer", password=PASSWORD,
            )  # fmt: skip
            login = await self.call("POST", "/auth/login", username=name, password=PASSWORD)
            tokens.append(login["access_token"])
        poster_token = tokens.pop()
        me = await self.call("GET", "/me", poster_token)
        key = Ed25519PrivateKey.generate()
        raw = raw_public_key(key.public_key())
        await self.call("POST", "/keys", poster_token, public_key=b64url_encode(raw))
        return group["id"], tokens, poster_token, (me["id"], key, jwk_thumbprint(raw))

    async def connect(self, token: str) -> aiohttp.ClientWebSocketResponse:
        ws = await self.http.ws_connect(f"{self.api}/ws", heartbeat=None, autoping=True)
        await ws.send_json({"type": "auth", "token": token})
        ready = await ws.receive_json(timeout=60)
        assert ready["type"] == "ready", ready
        await ws.send_json({"type": "resume", "groups": {}})
        return ws

    async def read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for msg in ws:
            if msg.type != aiohttp.WSMsgType.TEXT:
                continue
            now = time.perf_counter()
            data = msg.json()
            if data.get("type") != "message":
                continue
            seq = data["seq"]
            self.receipts.setdefault(seq, []).append(now)
            waiter = self.waiters.get(seq)
            if waiter is not None and len(self.receipts[seq]) >= waiter[0]:
                waiter[1].set()

    async def post(self, group_id: str, poster_token: str, signer: Any, expected: int) -> float:
        user_id, key, kid = signer
        payload = {
            "v": 1, "typ": "text", "cid": str(uuid.uuid4()), "sub": user_id,
            "iat": int(time.time()), "grp": group_id, "hc": "TLP:GREEN",
            "body": {"text": "Seizure of 12,000 counterfeit masks at CDG"},
        }  # fmt: skip
        jws = sign_compact(payload, key, kid)
        started = time.perf_counter()
        async with self.http.post(
            f"{self.api}/groups/{group_id}/messages",
            json={"jws": jws},
            headers={"Authorization": f"Bearer {poster_token}"},
        ) as resp:
            seq = (await resp.json())["seq"]
        event = asyncio.Event()
        self.waiters[seq] = (expected, event)
        if len(self.receipts.get(seq, ())) >= expected:
            event.set()
        await asyncio.wait_for(event.wait(), 120)
        return started


async def run_size(
    sockets: int, posts: int, users: int, database_url: str | None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cencomm-fanout-") as tmp:
        server = Server(Path(tmp), database_url)
        await server.start()
        connector = aiohttp.TCPConnector(limit=0)
        readers: list[asyncio.Task[None]] = []
        try:
            async with aiohttp.ClientSession(connector=connector) as http:
                bench = Bench(http, server.port)
                group_id, tokens, poster, signer = await bench.setup(users)
                rss_before = rss_kib(server.pid)
                gate = asyncio.Semaphore(CONNECT_CONCURRENCY)

                async def one(n: int) -> aiohttp.ClientWebSocketResponse:
                    async with gate:
                        return await bench.connect(tokens[n % len(tokens)])

                began = time.perf_counter()
                sockets_open = await asyncio.gather(*(one(n) for n in range(sockets)))
                connect_seconds = time.perf_counter() - began
                readers = [asyncio.create_task(bench.read(ws)) for ws in sockets_open]
                await bench.post(group_id, poster, signer, sockets)  # warm-up: all follow now
                rss_idle = rss_kib(server.pid)
                latencies: list[float] = []
                for _ in range(posts):
                    started = await bench.post(group_id, poster, signer, sockets)
                    seq = max(bench.receipts)
                    latencies += [t - started for t in bench.receipts[seq]]
                for ws in sockets_open:
                    await ws.close()
        finally:
            for task in readers:
                task.cancel()
            await asyncio.gather(*readers, return_exceptions=True)
            await server.stop()
    return {
        "sockets": sockets,
        "posts": posts,
        "p50_ms": 1000 * statistics.median(latencies),
        "p99_ms": 1000 * percentile(latencies, 0.99),
        "max_ms": 1000 * max(latencies),
        "kib_per_socket": (rss_idle - rss_before) / sockets,
        "connect_s": connect_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    limit = raise_fd_limit()
    needed = 2 * max(args.sockets) + 200  # client and server ends share this limit
    if limit < needed:
        raise SystemExit(f"open-file limit {limit} is below {needed}: raise `ulimit -n`")
    print(f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for size in args.sockets:
        result = asyncio.run(run_size(size, args.posts, args.users, args.database_url))
        print(
            f"{result['sockets']:>6} sockets, {result['posts']} posts: "
            f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms, "
            f"max {result['max_ms']:.1f} ms; {result['kib_per_socket']:.1f} KiB per idle socket "
            f"(connected in {result['connect_s']:.1f} s)"
        )


if __name__ == "__main__":
    main()
