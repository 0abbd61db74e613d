"""What the benchmarks share: scratch settings, a `cencomm serve` (or baseline) subprocess, the
directory a bench needs (created through the services), signed envelopes, and small measures
(free port, RSS, percentiles, the machine).
"""

from __future__ import annotations

import asyncio
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import aiohttp.web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cencomm.crypto.jws import sign_compact
from cencomm.crypto.keys import b64url_encode, jwk_thumbprint, raw_public_key

PASSWORD = "benchmark password 2026"  # noqa: S105 - throwaway bench accounts
REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def percentile(values: list[float], q: float) -> float:
    """The value below which a fraction `q` of `values` lies (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.5) - 1))]


def raise_fd_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def scratch_env(workdir: Path, database_url: str | None) -> dict[str, str]:
    """A server environment of its own: scratch data dir, no config file, cheap password hashes
    (logins are not what is measured), no access log, no hub limits in the way."""
    (workdir / "none.toml").write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CENCOMM_")}
    env.update(
        CENCOMM_CONFIG=str(workdir / "none.toml"),
        CENCOMM_DATA_DIR=str(workdir / "data"),
        CENCOMM_AUTH_ARGON2_TIME_COST="1",
        CENCOMM_AUTH_ARGON2_MEMORY_KIB="1024",
        CENCOMM_AUTH_ACCESS_TOKEN_TTL="900",  # noqa: S106 - seconds, not a secret
        CENCOMM_HUB_MAX_CONNECTIONS_PER_USER="100000",
        CENCOMM_HUB_QUEUE_SIZE="16384",
        CENCOMM_ALERTS_SWEEP_INTERVAL="0",
        CENCOMM_LOGGING_ACCESS_LOG="false",
    )
    if database_url:
        env["CENCOMM_DATABASE_URL"] = database_url
    return env


class ServerProcess:
    """A server in its own process, ready once it prints "Running on"; stopped with SIGINT (so
    a profiler wrapper from `BENCH_SERVER_WRAPPER` writes its output)."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.argv = argv
        self.env = env
        self.proc: asyncio.subprocess.Process | None = None
        self._drain: asyncio.Task[None] | None = None

    @classmethod
    def cencomm(cls, env: dict[str, str], port: int) -> ServerProcess:
        wrapper = os.environ.get("BENCH_SERVER_WRAPPER", "").split()
        argv = [*wrapper, sys.executable, "-m", "cencomm", "serve", "--port", str(port)]
        return cls(argv, env)

    async def start(self) -> ServerProcess:
        self.proc = await asyncio.create_subprocess_exec(
            *self.argv,
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self.proc.stderr is not None
        lines: list[bytes] = []
        while True:
            line = await asyncio.wait_for(self.proc.stderr.readline(), 300)
            if not line:
                tail = b"".join(lines[-20:]).decode(errors="replace")
                raise RuntimeError(f"{self.argv[-3:]} exited before listening:\n{tail}")
            lines.append(line)
            if b"Running on" in line:
                break
        self._drain = asyncio.create_task(self._drain_stream(self.proc.stderr))
        return self

    @staticmethod
    async def _drain_stream(stream: asyncio.StreamReader) -> None:
        while await stream.readline():  # never let a full pipe block the server
            pass

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                await asyncio.wait_for(self.proc.wait(), 120)
            except TimeoutError:
                self.proc.kill()  # a server that ignores SIGINT (started with it ignored: `&`)
                await self.proc.wait()
        if self._drain is not None:
            await self._drain


async def migrate(env: dict[str, str]) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cencomm", "migrate", env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"cencomm migrate failed: {stderr.decode(errors='replace')[-2000:]}")


@dataclass(frozen=True, slots=True)
class Directory:
    """What `seed_directory` made: an active group whose organisation holds every officer."""

    group_id: str
    officers: list[str]  # usernames, password PASSWORD


async def seed_directory(
    env: dict[str, str],
    officers: int,
    messages: int = 0,
    progress: Callable[[str], None] = lambda _: None,
) -> Directory:
    """An organisation, `officers` users and an active group, created through the services (in
    this process, before the server starts); then `messages` stored messages (`bench.seed`)."""
    from cencomm.app import create_app
    from cencomm.appkeys import SERVICES
    from cencomm.domain.groups import GroupChanges, GroupRole, GroupStatus, NewGroup
    from cencomm.domain.ids import SessionId
    from cencomm.domain.users import Caller, OrganizationKind, Principal, Role
    from cencomm.services.directory import NewUser
    from cencomm.settings import load_settings

    app = create_app(load_settings(environ=env))
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
        moderator = Caller(Principal(staff.id, org.id, Role.MODERATOR, SessionId(uuid.uuid4())))
        group = await services.groups.create_group(moderator, NewGroup("BENCH", "Bench"))
        await services.groups.add_member(
            moderator, group.id, GroupRole.MEMBER, organization_id=org.id
        )
        await services.groups.update_group(
            moderator, group.id, GroupChanges(status=GroupStatus.ACTIVE)
        )
        names = [f"bench.{i}" for i in range(officers)]
        for name in names:
            await services.directory.create_user(
                system, NewUser(name, name, org.id, Role.OFFICER, PASSWORD)
            )
        if messages:
            from bench.seed import seed_messages

            await seed_messages(services, moderator, group.id, messages, progress)
        return Directory(str(group.id), names)
    finally:
        await runner.cleanup()


@dataclass(slots=True)
class Officer:
    """A logged-in officer with a registered signing key."""

    http: aiohttp.ClientSession
    token: str
    user_id: str
    key: Ed25519PrivateKey
    kid: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def envelope(self, group_id: str, text: str) -> str:
        return sign_envelope(self.key, self.kid, self.user_id, group_id, text)


async def log_in(base: str, username: str, *, with_key: bool = True, limit: int = 1) -> Officer:
    """Log in over HTTP on a keep-alive session of its own (`limit` connections)."""
    http = aiohttp.ClientSession(base, connector=aiohttp.TCPConnector(limit=limit))
    async with http.post(
        "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
    ) as resp:
        assert resp.status == 200, await resp.text()
        token = (await resp.json())["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    async with http.get("/api/v1/me", headers=headers) as resp:
        user_id = (await resp.json())["id"]
    key = Ed25519PrivateKey.generate()
    raw = raw_public_key(key.public_key())
    if with_key:
        async with http.post(
            "/api/v1/keys", json={"public_key": b64url_encode(raw)}, headers=headers
        ) as resp:
            assert resp.status == 201, await resp.text()
    return Officer(http, token, user_id, key, jwk_thumbprint(raw))


def sign_envelope(key: Ed25519PrivateKey, kid: str, user_id: str, group_id: str, text: str) -> str:
    payload = {
        "v": 1,
        "typ": "text",
        "cid": str(uuid.uuid4()),
        "sub": user_id,
        "iat": int(time.time()),
        "grp": group_id,
        "hc": "TLP:AMBER",
        "body": {"text": text},
    }
    return sign_compact(payload, key, kid)


def machine() -> dict[str, Any]:
    """The machine, the date and the code: what a figure is only meaningful beside."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError):
        memory = 0.0

    def git(*args: str) -> str:
        try:
            return subprocess.run(  # noqa: S603 - fixed arguments
                ["git", *args],  # noqa: S607
                cwd=REPO,
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory, 1),
        "python": platform.python_version(),
        "os": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": git("rev-parse", "--short", "HEAD") or "unknown",
        "dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }
