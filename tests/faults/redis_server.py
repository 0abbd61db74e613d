"""A private `redis-server` that a test starts, kills (SIGKILL) and starts again on the same
port: never the shared Redis of the machine."""

from __future__ import annotations

import asyncio
import shutil

from tests.processes import free_port

READY = b"Ready to accept connections"
START_TIMEOUT = 10.0


class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0
        self.kills = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    async def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self.process = await asyncio.create_subprocess_exec(
            binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            "--appendonly", "no",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        assert self.process.stdout is not None
        async with asyncio.timeout(START_TIMEOUT):
            while READY not in await self.process.stdout.readline():
                if self.process.returncode is not None:
                    raise RuntimeError(f"redis-server exited with {self.process.returncode}")
        self._drain = asyncio.create_task(self._read_rest())
        self.starts += 1

    async def _read_rest(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        while await self.process.stdout.readline():
            pass

    async def kill(self) -> None:
        """SIGKILL: Redis goes away at once, as a crashed or unreachable one does."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.kill()
        await self.process.wait()
        await self._drain
        self.kills += 1
