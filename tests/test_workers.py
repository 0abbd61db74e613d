"""`cencomm serve --workers N`: real processes on a real port.

The supervisor binds the port once and starts N children that accept on it; these tests tell the
children apart by which process holds the server end of each TCP connection (Linux /proc), so
they can post through one child and listen on another. Each runs on SQLite (worker 0 writes
every post; the notices travel over the workers' links), on PostgreSQL with the Redis bus, and on
PostgreSQL without it (`CENCOMM_TEST_DATABASE_URL`'s server, else 127.0.0.1:5432;
`CENCOMM_TEST_REDIS_URL`): without those servers those variants are skipped, except in CI (`CI`
set), where they fail loudly.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cencomm.crypto.jws import sign_compact
from cencomm.crypto.keys import b64url_decode, b64url_encode, jwk_thumbprint, raw_public_key
from tests.processes import (
    ADMIN_PASSWORD as PASSWORD,
)
from tests.processes import (
    REDIS_URL,
    Api,
    child_pids,
    cluster_env,
    free_port,
    require_redis,
    run_cencomm,
    scratch_postgres,
    serve,
    serving_pid,
    stop,
)

WAIT = 30.0
# Set in the PostgreSQL pass of the suite.
PG_PASS = os.environ.get("CENCOMM_TEST_DATABASE_URL", "")
T = TypeVar("T")

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/fd").is_dir(), reason="tells processes apart through Linux /proc"
)


async def until(probe: Callable[[], Awaitable[T | None]], what: str) -> T:
    """Poll `probe` until it returns something, with a deadline (no fixed sleeps)."""
    deadline = time.monotonic() + WAIT
    while (value := await probe()) is None:
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.02)
    return value


@pytest.fixture(params=["postgres-redis", "sqlite", "postgres-links"])
async def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[dict[str, str]]:
    """The environment of workers on one database: PostgreSQL (a database of its own) with the
    Redis bus; SQLite, where every post goes through worker 0's writer and the notices over
    the workers' links; PostgreSQL without Redis, the notices over the links.

    Each variant runs in the pass of its database (CI runs the suite once per database): the
    SQLite pass runs the SQLite workers, the PostgreSQL pass (`CENCOMM_TEST_DATABASE_URL` set)
    the two PostgreSQL variants."""
    if (request.param == "sqlite") == bool(PG_PASS):
        pytest.skip("this variant runs in the other database's pass of the suite")
    if request.param == "sqlite":
        yield cluster_env(
            tmp_path,
            f"sqlite+aiosqlite:///{tmp_path / 'cencomm.db'}",
            "",
            CENCOMM_ADMIN_PASSWORD=PASSWORD,
        )
        return
    redis_url = await require_redis(REDIS_URL) if request.param == "postgres-redis" else ""
    async with scratch_postgres("cencomm_workers") as database_url:
        yield cluster_env(tmp_path, database_url, redis_url, CENCOMM_ADMIN_PASSWORD=PASSWORD)


async def start_workers(
    env: dict[str, str], port: int
) -> tuple[asyncio.subprocess.Process, list[int]]:
    proc = await serve(env, port, "--workers", "2")

    async def two_children() -> list[int] | None:
        pids = child_pids(proc.pid)
        return pids if len(pids) == 2 else None

    return proc, await until(two_children, "two worker processes")


@dataclass(frozen=True, slots=True)
class Connection:
    """A client session with one kept-alive connection, from `client_port`, to worker `pid`."""

    http: aiohttp.ClientSession
    pid: int
    client_port: int


async def session_on(port: int, pids: list[int], wanted: int | None = None) -> Connection:
    """A client session whose one connection a worker has accepted: `wanted`, or whichever
    answers."""
    deadline = time.monotonic() + WAIT
    while True:
        client_port = free_port()
        connector = aiohttp.TCPConnector(local_addr=("127.0.0.1", client_port), limit=1)
        http = aiohttp.ClientSession(connector=connector)
        async with http.get(f"http://127.0.0.1:{port}/health") as resp:
            assert resp.status == 200

        async def accepted(client_port: int = client_port) -> int | None:
            return serving_pid(port, client_port, pids)

        pid = await until(accepted, "the worker that accepted the connection")
        if wanted is None or pid == wanted:
            return Connection(http, pid, client_port)
        await http.close()
        assert time.monotonic() < deadline, f"no connection reached worker {wanted}"


def gone(pid: int) -> bool:
    """The process has ended (a zombie nobody reaped yet counts as ended)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat.rpartition(")")[2].split()[0] in {"Z", "X"}


@dataclass(frozen=True, slots=True)
class Operation:
    tokens: dict[str, str]
    users: dict[str, dict[str, str]]
    key: Ed25519PrivateKey  # the first user's signing key
    group: dict[str, str]

    def signed(self, text: str, cid: str | None = None) -> str:
        first = next(iter(self.users.values()))
        raw = raw_public_key(self.key.public_key())
        payload = {
            "v": 1, "typ": "text", "cid": cid or str(uuid.uuid4()), "sub": first["id"],
            "iat": int(time.time()), "grp": self.group["id"], "hc": "TLP:GREEN",
            "body": {"text": text},
        }  # fmt: skip
        return sign_compact(payload, self.key, jwk_thumbprint(raw))


async def operation(a: Api, names: tuple[str, ...]) -> Operation:
    """An admin (created with `create-admin` beforehand), users `names` (officers) in one
    administration, members of one active group; the first has a signing key."""
    admin = (await a.call("POST", "/auth/login", username="admin", password=PASSWORD))[
        "access_token"
    ]
    org = await a.call(
        "POST", "/organizations", admin, name="Douane", kind="administration",
        country="FR", region="EUROPE",
    )  # fmt: skip
    tokens, users = {}, {}
    for name in names:
        await a.call(
            "POST", "/users", admin, username=name, display_name=name,
            organization_id=org["id"], role="officer", password=PASSWORD,
        )  # fmt: skip
        tokens[name] = (await a.call("POST", "/auth/login", username=name, password=PASSWORD))[
            "access_token"
        ]
        users[name] = await a.call("GET", "/me", tokens[name])
    key = Ed25519PrivateKey.generate()
    raw = raw_public_key(key.public_key())
    await a.call("POST", "/keys", tokens[names[0]], public_key=b64url_encode(raw))
    group = await a.call("POST", "/groups", admin, code="OP-WORK", name="Operation WORK")
    await a.call("PATCH", f"/groups/{group['id']}", admin, status="active")
    for user in users.values():
        await a.call(
            "POST", f"/groups/{group['id']}/members", admin, user_id=user["id"], role="member"
        )
    return Operation(tokens, users, key, group)


async def test_a_number_of_workers_out_of_range_is_refused(tmp_path: Path) -> None:
    (tmp_path / "none.toml").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENCOMM_")}
    env.update(CENCOMM_CONFIG=str(tmp_path / "none.toml"), CENCOMM_DATA_DIR=str(tmp_path / "d"))
    for workers in ("0", "65"):
        env["CENCOMM_SERVER_WORKERS"] = workers
        code, _, err = await run_cencomm(env, "serve", "--port", str(free_port()))
        assert code == 2 and "server.workers" in err, err


async def test_two_workers_answer_on_one_port_and_sigterm_stops_them_all(
    cluster: dict[str, str],
) -> None:
    port = free_port()
    proc, pids = await start_workers(cluster, port)
    sessions = []
    try:
        seen: set[int] = set()
        deadline = time.monotonic() + WAIT
        while seen != set(pids):  # the kernel hands each connection to whichever accepts it
            assert time.monotonic() < deadline, f"only {seen} of {pids} answered"
            conn = await session_on(port, pids)
            sessions.append(conn.http)
            seen.add(conn.pid)
    finally:
        for http in sessions:
            await http.close()
        if proc.returncode is None:
            # As systemd's default KillMode does: the whole group at once, so every worker gets
            # the supervisor's SIGTERM and one of its own; the second must not cut the stop short.
            proc.send_signal(signal.SIGTERM)
            for pid in pids:
                os.kill(pid, signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), WAIT)
    assert code == 0
    assert all(gone(pid) for pid in pids)  # stopped and reaped by the supervisor


async def test_a_worker_that_dies_stops_the_others_and_the_supervisor_fails(
    cluster: dict[str, str],
) -> None:
    proc, pids = await start_workers(cluster, free_port())
    try:
        os.kill(pids[0], signal.SIGKILL)
        code = await asyncio.wait_for(proc.wait(), WAIT)
    finally:
        await stop(proc)
    assert code == 1
    assert all(gone(pid) for pid in pids)


async def test_workers_stop_by_themselves_when_the_supervisor_is_killed(
    cluster: dict[str, str],
) -> None:
    proc, pids = await start_workers(cluster, free_port())
    try:
        proc.kill()  # SIGKILL: nothing is forwarded; each worker sees its lifeline close
        await asyncio.wait_for(proc.wait(), WAIT)

        async def all_gone() -> bool | None:
            return all(gone(pid) for pid in pids) or None

        await until(all_gone, "the orphaned workers to stop")
    finally:
        for pid in pids:
            if not gone(pid):
                os.kill(pid, signal.SIGKILL)


async def test_a_post_through_one_worker_reaches_a_socket_on_the_other(
    cluster: dict[str, str],
) -> None:
    port = free_port()
    proc, pids = await start_workers(cluster, port)
    sessions: list[aiohttp.ClientSession] = []
    try:
        code, _, err = await run_cencomm(cluster, "create-admin", "--username", "admin")
        assert code == 0, err
        poster = await session_on(port, pids)
        sessions.append(poster.http)
        other = next(pid for pid in pids if pid != poster.pid)
        listener = await session_on(port, pids, wanted=other)
        sessions.append(listener.http)
        a = Api(poster.http, port)
        op = await operation(a, ("officer", "watcher"))
        group_id = op.group["id"]

        async with listener.http.ws_connect(f"http://127.0.0.1:{port}/api/v1/ws") as ws:
            await ws.send_json({"type": "auth", "token": op.tokens["watcher"]})
            assert (await ws.receive_json(timeout=WAIT))["type"] == "ready"
            await ws.send_json({"type": "resume", "groups": {group_id: 0}})
            jws = op.signed("posted through one worker")
            posted = await a.call(
                "POST", f"/groups/{group_id}/messages", op.tokens["officer"], jws=jws
            )
            # The post really went through worker A, and the socket really sits on worker B.
            assert serving_pid(port, poster.client_port, pids) == poster.pid
            assert serving_pid(port, listener.client_port, pids) == other
            data = await ws.receive_json(timeout=WAIT)
            assert data["type"] == "message" and data["seq"] == posted["seq"] == 1
            assert data["message"]["jws"] == jws
    finally:
        for http in sessions:
            await http.close()
        assert await stop(proc) == 0


@pytest.mark.skipif(bool(PG_PASS), reason="SQLite's writer: runs in the SQLite pass")
async def test_on_sqlite_posts_through_every_worker_share_one_writer(tmp_path: Path) -> None:
    # Worker 0 writes every post (the others hand theirs over their link): concurrent posts
    # through both land once each, in one gapless sequence, and a repeat of a cid through the
    # other worker returns the stored post.
    env = cluster_env(
        tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'cencomm.db'}", "",
        CENCOMM_ADMIN_PASSWORD=PASSWORD,
    )  # fmt: skip
    port = free_port()
    proc, pids = await start_workers(env, port)
    sessions: list[aiohttp.ClientSession] = []
    try:
        code, _, err = await run_cencomm(env, "create-admin", "--username", "admin")
        assert code == 0, err
        through = [await session_on(port, pids, wanted=pid) for pid in pids]
        sessions.extend(conn.http for conn in through)
        op = await operation(Api(through[0].http, port), ("officer",))
        path = f"/groups/{op.group['id']}/messages"
        token = op.tokens["officer"]
        signed = [{op.signed(f"post {i}"): i for i in range(40)} for _ in through]

        async def post(conn: Connection, jws: str) -> dict[str, object]:
            async with conn.http.post(
                f"http://127.0.0.1:{port}/api/v1{path}", json={"jws": jws},
                headers={"Authorization": f"Bearer {token}"},
            ) as resp:  # fmt: skip
                return {"status": resp.status, **await resp.json()}

        posted = await asyncio.gather(
            *(post(conn, jws) for conn, batch in zip(through, signed, strict=True) for jws in batch)
        )
        assert {p["status"] for p in posted} == {201}
        assert sorted(int(str(p["seq"])) for p in posted) == list(range(1, 81))
        assert all(serving_pid(port, c.client_port, pids) == c.pid for c in through)
        # A repeat through the other worker returns the stored post; the same cid with another
        # JWS is refused there with the writer's own problem.
        first_jws = next(iter(signed[0]))
        again = await post(through[1], first_jws)
        assert (again["status"], again["id"], again["seq"]) == (
            200,
            posted[0]["id"],
            posted[0]["seq"],
        )
        cid = json.loads(b64url_decode(first_jws.split(".")[1]))["cid"]
        other = await post(through[1], op.signed("another text", cid))
        assert (other["status"], other["type"]) == (409, "urn:cencomm:problem:duplicate-cid")
    finally:
        for http in sessions:
            await http.close()
        assert await stop(proc) == 0
