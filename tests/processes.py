"""Real `cencomm` processes for tests: a free port, a server started until it listens, stopped,
and a small JSON client for talking to several of them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import uuid
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

PG_URL = os.environ.get("CENCOMM_TEST_DATABASE_URL", "")
# The Redis of the process tests (`require_redis` skips, or fails in CI, when it is not there).
REDIS_URL = os.environ.get("CENCOMM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LOCAL_PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"

# Readers of each server's stderr, kept referenced until the process ends (so logs never fill
# the pipe and block the server).
_DRAINS: set[asyncio.Task[None]] = set()


async def run_cencomm(env: dict[str, str], *args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    """`python -m cencomm ARGS` to completion: (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cencomm",
        *args,
        env=env,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(stdin), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


async def serve(env: dict[str, str], port: int, *args: str) -> asyncio.subprocess.Process:
    """`python -m cencomm serve --port PORT ARGS`, returned once it says it listens (no sleeps)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cencomm",
        "serve",
        "--port",
        str(port),
        *args,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    said: list[bytes] = []
    while True:
        line = await asyncio.wait_for(proc.stderr.readline(), timeout=60)
        assert line, "server exited before listening: " + b"".join(said[-20:]).decode(
            errors="replace"
        )
        said.append(line)
        if b"Running on" in line:
            drain = asyncio.create_task(_drain(proc.stderr))
            _DRAINS.add(drain)
            drain.add_done_callback(_DRAINS.discard)
            return proc


async def stop(proc: asyncio.subprocess.Process) -> int:
    """Ctrl-C, as an operator would; returns the exit code."""
    if proc.returncode is None:
        proc.send_signal(signal.SIGINT)
    return await asyncio.wait_for(proc.wait(), timeout=30)


def unavailable(what: str, exc: BaseException) -> None:
    """Skip a test whose outside service is missing, except in CI (`CI` set): fail loudly."""
    message = f"{what} is not reachable ({type(exc).__name__}: {exc})"
    if os.environ.get("CI"):
        pytest.fail(f"CI needs {message}")
    pytest.skip(message)


async def require_redis(url: str) -> str:
    """`url` once Redis answers there (else `unavailable`)."""
    client = Redis.from_url(url, socket_connect_timeout=3)
    try:
        await client.ping()
    except Exception as exc:  # any failure: no Redis here
        unavailable(f"Redis at {url}", exc)
    finally:
        await client.aclose()
    return url


@contextlib.asynccontextmanager
async def scratch_postgres(prefix: str) -> AsyncIterator[str]:
    """A PostgreSQL database of its own on the test server (`CENCOMM_TEST_DATABASE_URL`'s, else
    127.0.0.1:5432 as postgres), dropped afterwards; `unavailable` when there is none."""
    base = PG_URL or LOCAL_PG
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any failure: no PostgreSQL here
        await admin.dispose()
        unavailable(f"PostgreSQL at {make_url(base).render_as_string()}", exc)
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()


def child_pids(pid: int) -> list[int]:
    """The children of process `pid` (Linux /proc)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    try:
        return [int(word) for word in path.read_text().split()]
    except FileNotFoundError:
        return []


def serving_pid(server_port: int, client_port: int, pids: Iterable[int]) -> int | None:
    """Which of `pids` holds the server end of the TCP connection from `client_port` to
    `server_port` on this host (Linux /proc); None while no process has accepted it yet."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, remote, inode = fields[1], fields[2], fields[9]
                if (
                    int(local.rsplit(":", 1)[1], 16) == server_port
                    and int(remote.rsplit(":", 1)[1], 16) == client_port
                ):
                    inodes.add(f"socket:[{inode}]")
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) in inodes:
                        return pid
    return None


class Api:
    """JSON calls to one server process's `/api/v1`; every call must succeed (< 300)."""

    def __init__(self, http: aiohttp.ClientSession, port: int) -> None:
        self.http = http
        self.base = f"http://127.0.0.1:{port}/api/v1"

    async def call(self, method: str, path: str, token: str | None = None, **body: Any) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.request(
            method, self.base + path, json=body or None, headers=headers
        ) as resp:
            data = await resp.json(content_type=None)
            assert resp.status < 300, (method, path, resp.status, data)
            return data


def cluster_env(tmp_path: Path, database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of server processes that share one database, data dir and Redis bus (a
    channel of their own), with cheap argon2 and no background sweeps."""
    (tmp_path / "none.toml").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENCOMM_")}
    env.update(
        CENCOMM_CONFIG=str(tmp_path / "none.toml"),
        CENCOMM_DATA_DIR=str(tmp_path / "data"),  # shared: all verify the same token keys
        CENCOMM_DATABASE_URL=database_url,
        CENCOMM_BUS_URL=redis_url,
        CENCOMM_BUS_CHANNEL=f"cencomm-test-{uuid.uuid4().hex}",
        CENCOMM_AUTH_ARGON2_TIME_COST="1",
        CENCOMM_AUTH_ARGON2_MEMORY_KIB="1024",
        CENCOMM_ALERTS_SWEEP_INTERVAL="0",
        CENCOMM_LOGGING_ACCESS_LOG="false",
    )
    env.update(extra)
    return env


ADMIN_PASSWORD = "correct horse battery staple"


def shared_postgres(database_url: str) -> str:
    """The test database, when server processes can share it (PostgreSQL); else the test skips."""
    if not database_url.startswith("postgresql"):
        pytest.skip("two server processes share a PostgreSQL database")
    return database_url


class TwoProcesses:
    """Two server processes A and B on one database and bus, with an admin, an officer
    ("author", who has no key yet) and a staff moderator ("staff") in one organisation."""

    def __init__(self, http: aiohttp.ClientSession, port_a: int, port_b: int) -> None:
        self.http = http
        self.port_a, self.port_b = port_a, port_b
        self.a, self.b = Api(http, port_a), Api(http, port_b)
        self.admin = self.author = ""
        self.author_id = ""

    async def login(self, username: str, api: Api | None = None) -> str:
        data = await (api or self.a).call(
            "POST", "/auth/login", username=username, password=ADMIN_PASSWORD
        )
        return str(data["access_token"])

    async def active_group(self, code: str) -> str:
        """A new active group with the author as a member; returns its id."""
        group = await self.a.call(
            "POST", "/groups", self.admin, code=code, name=f"Operation {code}"
        )
        gid = str(group["id"])
        await self.a.call("PATCH", f"/groups/{gid}", self.admin, status="active")
        await self.a.call(
            "POST", f"/groups/{gid}/members", self.admin, user_id=self.author_id, role="member"
        )
        return gid


@contextlib.asynccontextmanager
async def two_processes(
    tmp_path: Path, database_url: str, redis_url: str, **env_extra: str
) -> AsyncIterator[TwoProcesses]:
    """Start A (alone first: it creates the keys), the admin, then B, and the cast; stop both."""
    env = cluster_env(
        tmp_path, database_url, redis_url, CENCOMM_ADMIN_PASSWORD=ADMIN_PASSWORD, **env_extra
    )
    port_a, port_b = free_port(), free_port()
    processes = [await serve(env, port_a)]
    try:
        code, _, err = await run_cencomm(env, "create-admin", "--username", "admin")
        assert code == 0, err
        processes.append(await serve(env, port_b))
        async with aiohttp.ClientSession() as http:
            cluster = TwoProcesses(http, port_a, port_b)
            cluster.admin = await cluster.login("admin")
            org = await cluster.a.call(
                "POST", "/organizations", cluster.admin, name="Secretariat", kind="secretariat"
            )
            for name, role in (("author", "officer"), ("staff", "moderator")):
                await cluster.a.call(
                    "POST", "/users", cluster.admin, username=name, display_name=name,
                    organization_id=org["id"], role=role, password=ADMIN_PASSWORD,
                )  # fmt: skip
            cluster.author = await cluster.login("author")
            cluster.author_id = str((await cluster.a.call("GET", "/me", cluster.author))["id"])
            yield cluster
    finally:
        for proc in processes:
            await stop(proc)
