"""Signed posts per second, end to end over HTTP: JWS verification, group-commit write with seq,
audit entry and durable commit (SQLite `synchronous=FULL` by default).

The server runs as its own process (`cencomm serve`); this process pre-signs every envelope,
then posts them from N concurrent clients, each with its own user, key and keep-alive connection.

    .venv/bin/python -m bench.post_bench [--clients 1 8 64] [--posts 3000] [--database URL]

`BENCH_SERVER_WRAPPER="py-spy record -o profile.txt --"` runs the server under a profiler
(it is stopped with SIGINT, so the profiler writes its output).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import socket
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import aiohttp.web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cencomm.appkeys import SERVICES
from cencomm.crypto.jws import sign_compact
from cencomm.crypto.keys import b64url_encode, jwk_thumbprint, raw_public_key

PASSWORD = "benchmark password 2026"  # noqa: S105


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _start_server(env: dict[str, str], port: int) -> asyncio.subprocess.Process:
    wrapper = os.environ.get("BENCH_SERVER_WRAPPER", "").split()
    proc = await asyncio.create_subprocess_exec(
        *wrapper,
        sys.executable,
        "-m",
        "cencomm",
        "serve",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    while True:
        line = await asyncio.wait_for(proc.stderr.readline(), 120)
        if not line:
            raise RuntimeError("the server exited before listening")
        if b"Running on" in line:
            break
    asyncio.get_running_loop().create_task(proc.stderr.read())  # drain; never block the server
    return proc


async def _seed(env: dict[str, str], officers: int) -> str:
    """Organisation, `officers` users and an active group, created through the services directly."""
    from cencomm.app import create_app
    from cencomm.domain.users import Caller, OrganizationKind, Role
    from cencomm.services.directory import NewUser
    from cencomm.services.groups import NewGroup
    from cencomm.settings import load_settings

    settings = load_settings(environ=env)
    app = create_app(settings)
    runner = aiohttp.web.AppRunner(app)
    await runner.setup()
    try:
        services = app[SERVICES]
        system = Caller.system()
        org = await services.directory.create_organization(
            system, "Bench customs", OrganizationKind.ADMINISTRATION, "FR", None
        )
        staff = await services.directory.create_user(
            system, NewUser("bench.mod", "Bench moderator", org.id, Role.MODERATOR, PASSWORD)
        )
        from cencomm.domain.ids import SessionId
        from cencomm.domain.users import Principal

        principal = Principal(staff.id, org.id, Role.MODERATOR, SessionId(uuid.uuid4()))
        moderator = Caller(principal)
        group = await services.groups.create_group(moderator, NewGroup("BENCH", "Bench"))
        from cencomm.domain.groups import GroupRole

        await services.groups.add_member(
            moderator, group.id, GroupRole.MEMBER, organization_id=org.id
        )
        from cencomm.domain.groups import GroupStatus
        from cencomm.services.groups import GroupChanges

        await services.groups.update_group(
            moderator, group.id, GroupChanges(status=GroupStatus.ACTIVE)
        )
        for i in range(officers):
            await services.directory.create_user(
                system, NewUser(f"bench.{i}", f"Officer {i}", org.id, Role.OFFICER, PASSWORD)
            )
        return str(group.id)
    finally:
        await runner.cleanup()


async def _client(
    base: str, index: int, group_id: str, count: int
) -> tuple[aiohttp.ClientSession, dict[str, str], list[str]]:
    http = aiohttp.ClientSession(base, connector=aiohttp.TCPConnector(limit=1))
    resp = await http.post(
        "/api/v1/auth/login", json={"username": f"bench.{index}", "password": PASSWORD}
    )
    tokens = await resp.json()
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    me = await (await http.get("/api/v1/me", headers=headers)).json()
    key = Ed25519PrivateKey.generate()
    raw = raw_public_key(key.public_key())
    await http.post("/api/v1/keys", json={"public_key": b64url_encode(raw)}, headers=headers)
    kid = jwk_thumbprint(raw)
    now = int(time.time())
    jws = [
        sign_compact(
            {
                "v": 1,
                "typ": "text",
                "cid": str(uuid.uuid4()),
                "sub": me["id"],
                "iat": now,
                "grp": group_id,
                "hc": "TLP:AMBER",
                "body": {"text": f"Seizure report {n} from officer {index}"},
            },
            key,
            kid,
        )
        for n in range(count)
    ]
    return http, headers, jws


async def _measure(
    base: str, group_id: str, clients: int, posts: int
) -> tuple[float, float, float]:
    per_client = max(1, posts // clients)
    sessions = await asyncio.gather(
        *(_client(base, i, group_id, per_client) for i in range(clients))
    )
    latencies: list[float] = []

    async def run(http: aiohttp.ClientSession, headers: dict[str, str], jws: list[str]) -> None:
        for token in jws:
            started = time.perf_counter()
            async with http.post(
                f"/api/v1/groups/{group_id}/messages", json={"jws": token}, headers=headers
            ) as resp:
                assert resp.status == 201, await resp.text()
                await resp.read()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(run(*s) for s in sessions))
    elapsed = time.perf_counter() - started
    for http, _, _ in sessions:
        await http.close()
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    return per_client * clients / elapsed, p50, p99


async def main_async(clients: list[int], posts: int, database: str | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            **os.environ,
            "CENCOMM_DATA_DIR": str(Path(tmp) / "data"),
            "CENCOMM_LOGGING_ACCESS_LOG": "false",
            "CENCOMM_CONFIG": str(Path(tmp) / "none.toml"),
        }
        (Path(tmp) / "none.toml").write_text("")
        if database:
            env["CENCOMM_DATABASE_URL"] = database
        migrate = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cencomm", "migrate", env=env
        )
        await migrate.wait()
        group_id = await _seed(env, max(clients))
        port = _free_port()
        server = await _start_server(env, port)
        try:
            base = f"http://127.0.0.1:{port}"
            db = database or "SQLite (synchronous=FULL)"
            print(
                f"database: {db}; machine: {platform.machine()}, {os.cpu_count()} cores, "
                f"Python {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d}"
            )
            for n in clients:
                rate, p50, p99 = await _measure(base, group_id, n, posts)
                print(
                    f"{n:>3} clients: {rate:7.0f} posts/s   latency p50 {p50:6.1f} ms  "
                    f"p99 {p99:6.1f} ms"
                )
        finally:
            server.send_signal(signal.SIGINT)  # a profiler wrapper writes its output on SIGINT
            await asyncio.wait_for(server.wait(), 60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--posts", type=int, default=3000)
    parser.add_argument("--database", help="SQLAlchemy URL (default: SQLite in a temp dir)")
    args = parser.parse_args()
    asyncio.run(main_async(args.clients, args.posts, args.database))


if __name__ == "__main__":
    main()
