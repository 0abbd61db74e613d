"""Two real server processes on one PostgreSQL database and Redis: a signing key revoked through
one is refused by the other as soon as the bus notice has arrived, although the other still held
the key in its post-context cache (issue 17).

When the notice has arrived is observed without timing: notices from one process arrive in the
order it sent them, so once B's socket has received a message that A stored after the revocation,
B has handled the revocation's notice too. Skipped on SQLite (two processes do not share a
database there) and without Redis, as in `test_live_role_change_processes.py`.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cencomm.crypto.jws import sign_compact
from cencomm.crypto.keys import b64url_encode, jwk_thumbprint, raw_public_key
from tests.processes import Api, cluster_env, free_port, require_redis, run_cencomm, serve, stop

REDIS_URL = os.environ.get("CENCOMM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
PASSWORD = "correct horse battery staple"
WAIT = 30.0


@pytest.fixture
def shared_database(database_url: str) -> str:
    if not database_url.startswith("postgresql"):
        pytest.skip("two server processes share a PostgreSQL database")
    return database_url


async def test_a_key_revoked_on_one_process_is_refused_by_another(
    tmp_path: Path, shared_database: str
) -> None:
    redis_url = await require_redis(REDIS_URL)
    env = cluster_env(
        tmp_path,
        shared_database,
        redis_url,
        # B keeps the context cached far longer than the test runs: only the notice ends it.
        CENCOMM_AUTH_POST_CONTEXT_CACHE_SECONDS="10",
        CENCOMM_AUTH_SESSION_CACHE_SECONDS="10",
        CENCOMM_ADMIN_PASSWORD=PASSWORD,
    )
    port_a, port_b = free_port(), free_port()
    processes = [await serve(env, port_a)]  # first alone: it creates the keys
    try:
        code, _, err = await run_cencomm(env, "create-admin", "--username", "admin")
        assert code == 0, err
        processes.append(await serve(env, port_b))
        async with aiohttp.ClientSession() as http:
            a, b = Api(http, port_a), Api(http, port_b)
            admin = (await a.call("POST", "/auth/login", username="admin", password=PASSWORD))[
                "access_token"
            ]
            org = await a.call(
                "POST", "/organizations", admin, name="Secretariat", kind="secretariat",
            )  # fmt: skip
            for name, role in (("author", "officer"), ("staff", "moderator")):
                await a.call(
                    "POST", "/users", admin, username=name, display_name=name,
                    organization_id=org["id"], role=role, password=PASSWORD,
                )  # fmt: skip
            author = (await a.call("POST", "/auth/login", username="author", password=PASSWORD))[
                "access_token"
            ]
            me = await a.call("GET", "/me", author)
            keys = [Ed25519PrivateKey.generate() for _ in range(2)]
            raws = [raw_public_key(k.public_key()) for k in keys]
            for raw in raws:
                await a.call("POST", "/keys", author, public_key=b64url_encode(raw))
            group = await a.call("POST", "/groups", admin, code="OP-KEY", name="Operation KEY")
            gid = group["id"]
            await a.call("PATCH", f"/groups/{gid}", admin, status="active")
            await a.call("POST", f"/groups/{gid}/members", admin, user_id=me["id"], role="member")

            def signed(which: int) -> str:
                payload = {
                    "v": 1, "typ": "text", "cid": str(uuid.uuid4()), "sub": me["id"],
                    "iat": int(time.time()), "grp": gid, "hc": "TLP:AMBER",
                    "body": {"text": "masks seized"},
                }  # fmt: skip
                return sign_compact(payload, keys[which], jwk_thumbprint(raws[which]))

            # B reads the context of the first key once and keeps it.
            for _ in range(2):
                await b.call("POST", f"/groups/{gid}/messages", author, jws=signed(0))

            staff = (await b.call("POST", "/auth/login", username="staff", password=PASSWORD))[
                "access_token"
            ]
            async with http.ws_connect(f"http://127.0.0.1:{port_b}/api/v1/ws") as ws:
                await ws.send_json({"type": "auth", "token": staff})
                assert (await ws.receive_json(timeout=WAIT))["type"] == "ready"
                await ws.send_json({"type": "resume", "groups": {gid: 2}})

                # Revoked on A, then a post on A with the second key: its frame reaching B
                # means B has handled the revocation's notice before it.
                await a.call("DELETE", f"/keys/{jwk_thumbprint(raws[0])}", author)
                await a.call("POST", f"/groups/{gid}/messages", author, jws=signed(1))
                while True:
                    frame = await ws.receive_json(timeout=WAIT)
                    if frame["type"] == "message":
                        break
                assert frame["seq"] == 3, frame

            headers = {"Authorization": f"Bearer {author}"}
            async with http.post(
                f"{b.base}/groups/{gid}/messages", json={"jws": signed(0)}, headers=headers
            ) as resp:
                problem = await resp.json(content_type=None)
                assert resp.status == 422, problem
                assert problem["type"] == "urn:cencomm:problem:revoked-key", problem
    finally:
        for proc in processes:
            await stop(proc)
