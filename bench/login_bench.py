"""Login and token benchmark: logins per second with argon2id at the configured parameters,
and access-token verifications per second (signature and claims, without the session lookup).

    .venv/bin/python -m bench.login_bench [--logins 40] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from cencomm.app import create_app
from cencomm.appkeys import SERVICES
from cencomm.crypto.tokens import verify_access_token
from cencomm.domain.users import Caller, OrganizationKind, Role
from cencomm.services.directory import NewUser
from cencomm.settings import DatabaseSettings, DataSettings, LoggingSettings, Settings
from cencomm.storage.migrate import upgrade

PASSWORD = "benchmark password 2026"  # noqa: S105


async def run(logins: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade(url)
        settings = Settings(
            database=DatabaseSettings(url=url),
            data=DataSettings(dir=Path(tmp) / "data"),
            logging=LoggingSettings(access_log=False, level="WARNING"),
        )
        app = create_app(settings)
        async with TestClient(TestServer(app)) as client:
            services = client.app[SERVICES]
            org = await services.directory.create_organization(
                Caller.system(), "Bench", OrganizationKind.SECRETARIAT, None, None
            )
            await services.directory.create_user(
                Caller.system(),
                NewUser("bench.user", "Bench", org.id, Role.OFFICER, PASSWORD),
            )
            semaphore = asyncio.Semaphore(concurrency)
            tokens: list[str] = []

            async def one() -> None:
                async with semaphore:
                    resp = await client.post(
                        "/api/v1/auth/login", json={"username": "bench.user", "password": PASSWORD}
                    )
                    assert resp.status == 200, await resp.text()
                    tokens.append((await resp.json())["access_token"])

            started = time.perf_counter()
            await asyncio.gather(*(one() for _ in range(logins)))
            elapsed = time.perf_counter() - started
            auth = settings.auth
            print(
                f"logins: {logins / elapsed:.1f}/s over HTTP ({logins} logins, concurrency "
                f"{concurrency}, argon2id t={auth.argon2_time_cost} m={auth.argon2_memory_kib} KiB "
                f"p={auth.argon2_parallelism})"
            )
            keys = services.keys_ring.token_keys
            now = datetime.now(UTC)
            count = 20_000
            started = time.perf_counter()
            for i in range(count):
                verify_access_token(tokens[i % len(tokens)], keys, issuer=auth.issuer, now=now)
            elapsed = time.perf_counter() - started
            print(f"token verifications: {count / elapsed:.0f}/s (one core, signature + claims)")
    print(
        f"machine: {platform.machine()}, {platform.python_version()}, {datetime.now(UTC):%Y-%m-%d}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--logins", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(run(args.logins, args.concurrency))


if __name__ == "__main__":
    main()
