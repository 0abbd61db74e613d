"""Two real server processes on one PostgreSQL database and Redis: an event posted to one
reaches a socket on the other.

Needs PostgreSQL (`CENCOMM_TEST_DATABASE_URL`'s server, else 127.0.0.1:5432 as postgres) and
Redis (`CENCOMM_TEST_REDIS_URL`, default redis://127.0.0.1:6379/0). Without them the test is
skipped, except in CI (`CI` set), where a missing service fails it loudly.
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cencomm.crypto.jws import sign_compact
from cencomm.crypto.keys import b64url_encode, jwk_thumbprint, raw_public_key
from tests.processes import (
    ADMIN_PASSWORD as PASSWORD,
)
from tests.processes import (
    REDIS_URL,
    Api,
    cluster_env,
    free_port,
    require_redis,
    scratch_postgres,
    serve,
    stop,
)

WAIT = 30.0


@pytest.fixture
async def scratch_database() -> AsyncIterator[str]:
    async with scratch_postgres("cencomm_live") as url:
        yield url


@pytest.fixture
async def redis_url() -> str:
    return await require_redis(REDIS_URL)


async def test_a_post_to_one_process_reaches_a_socket_on_another(
    tmp_path: Path, scratch_database: str, redis_url: str
) -> None:
    env = cluster_env(tmp_path, scratch_database, redis_url, CENCOMM_ADMIN_PASSWORD=PASSWORD)
    port_a, port_b = free_port(), free_port()
    proc_a = await serve(env, port_a)  # first alone: it creates the schema and the keys
    processes = [proc_a]
    try:
        admin_cmd = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cencomm", "create-admin", "--username", "admin", env=env,
            stdout=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        assert await asyncio.wait_for(admin_cmd.wait(), WAIT) == 0
        processes.append(await serve(env, port_b))
        async with aiohttp.ClientSession() as http:
            a, b = Api(http, port_a), Api(http, port_b)
            admin = (await a.call("POST", "/auth/login", username="admin", password=PASSWORD))[
                "access_token"
            ]
            org = await a.call(
                "POST", "/organizations", admin, name="Douane", kind="administration",
                country="FR", region="EUROPE",
            )  # fmt: skip
            tokens = {}
            for name in ("officer", "watcher"):
                await a.call(
                    "POST", "/users", admin, username=name, display_name=name,
                    organization_id=org["id"], role="officer", password=PASSWORD,
                )  # fmt: skip
                login = await b.call("POST", "/auth/login", username=name, password=PASSWORD)
                tokens[name] = login["access_token"]
            me = await a.call("GET", "/me", tokens["officer"])
            watcher = await b.call("GET", "/me", tokens["watcher"])
            key = Ed25519PrivateKey.generate()
            raw = raw_public_key(key.public_key())
            await a.call("POST", "/keys", tokens["officer"], public_key=b64url_encode(raw))
            group = await a.call("POST", "/groups", admin, code="OP-STOP", name="Operation STOP")
            await a.call("PATCH", f"/groups/{group['id']}", admin, status="active")
            for user in (me, watcher):
                await a.call(
                    "POST", f"/groups/{group['id']}/members", admin, user_id=user["id"],
                    role="member",
                )  # fmt: skip

            async with http.ws_connect(f"http://127.0.0.1:{port_b}/api/v1/ws") as ws:
                await ws.send_json({"type": "auth", "token": tokens["watcher"]})
                assert (await ws.receive_json(timeout=WAIT))["type"] == "ready"
                await ws.send_json({"type": "resume", "groups": {group["id"]: 0}})
                payload = {
                    "v": 1, "typ": "text", "cid": str(uuid.uuid4()), "sub": me["id"],
                    "iat": int(time.time()), "grp": group["id"], "hc": "TLP:GREEN",
                    "body": {"text": "posted to process A"},
                }  # fmt: skip
                jws = sign_compact(payload, key, jwk_thumbprint(raw))
                posted = await a.call(
                    "POST", f"/groups/{group['id']}/messages", tokens["officer"], jws=jws
                )
                data = await ws.receive_json(timeout=WAIT)
                assert data["type"] == "message" and data["seq"] == posted["seq"] == 1
                assert data["message"]["jws"] == jws

                # A logout on process A closes the session's socket on process B.
                await a.call("POST", "/auth/logout", tokens["watcher"])
                msg = await ws.receive(timeout=WAIT)
                assert msg.type is aiohttp.WSMsgType.CLOSE and msg.data == 4401, msg
    finally:
        for proc in processes:
            await stop(proc)
