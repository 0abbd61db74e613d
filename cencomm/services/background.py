"""One runner for every background job: start, wait for work, run a pass, stop between passes.

A job is two coroutines: `wait()` returns when there is work (a timer, a wake-up event, a
queue) and may be cancelled; `run_once()` does one pass and is never cancelled, so a pass is
never cut off in the middle of a transaction, an SMTP conversation or a batch of posts. At stop
the runner lets each job finish the pass it is in, then ends it; a pass still running after
`grace` seconds is abandoned (logged). A failing pass is logged and the job goes on: a database
or a SIEM that is away must not stop the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

# A pass still running this long after stop was asked is abandoned.
STOP_GRACE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Job:
    """A background job: `wait` until there is work, then `run_once`.

    Attributes:
        name: for logs and task names.
        wait: returns when a pass is due; cancelled when the runner stops.
        run_once: one pass; runs to its end even when the runner stops meanwhile.
        on_stop: called once the job has ended (e.g. to refuse work still queued).
    """

    name: str
    wait: Callable[[], Awaitable[object]]
    run_once: Callable[[], Awaitable[object]]
    on_stop: Callable[[], None] | None = None


@dataclass(slots=True)
class Every:
    """`wait` for periodic jobs: `interval` seconds, or sooner when `wake` is set."""

    interval: float
    wake: asyncio.Event | None = None
    # The first pass runs at once (False: after one interval, like a sweeper).
    immediately: bool = False
    _started: bool = field(default=False, init=False)

    async def __call__(self) -> None:
        if not self._started:
            self._started = True
            if self.immediately:
                return
        if self.wake is None:
            await asyncio.sleep(self.interval)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.wake.wait(), timeout=self.interval)
        self.wake.clear()


class BackgroundJobs:
    """Runs jobs from `start()` to `stop()`; one instance per application."""

    def __init__(self, grace: float = STOP_GRACE_SECONDS) -> None:
        self._grace = grace
        self._jobs: list[Job] = []
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._in_pass: set[str] = set()  # jobs in the middle of a pass: never cancelled
        self._stopping = asyncio.Event()

    def add(self, job: Job) -> None:
        if self._tasks:
            raise RuntimeError("add every job before start()")
        self._jobs.append(job)

    @property
    def names(self) -> list[str]:
        return [job.name for job in self._jobs]

    def start(self) -> None:
        for job in self._jobs:
            # A fresh context: a job works for every request, and must not carry the request
            # id (or anything else) of whoever happened to start the application.
            self._tasks[job.name] = asyncio.get_running_loop().create_task(
                self._run(job), name=f"cencomm-{job.name}", context=contextvars.Context()
            )

    async def stop(self) -> None:
        """Let every job finish its pass, then end it. Idempotent."""
        self._stopping.set()
        for name, task in self._tasks.items():
            if name not in self._in_pass:
                task.cancel()  # it is waiting for work: nothing is cut off
        tasks = list(self._tasks.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=self._grace)
            for task in late:
                logger.error("background job %s did not stop in time", task.get_name())
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        for job in self._jobs:
            if job.on_stop is not None:
                job.on_stop()
        self._tasks.clear()

    async def _run(self, job: Job) -> None:
        while not self._stopping.is_set():
            try:
                await job.wait()
            except asyncio.CancelledError:
                if self._stopping.is_set():
                    return  # stopped between passes: `stop` cancels only a waiting job
                raise
            except Exception:
                logger.exception("background job %s: waiting failed", job.name)
                return
            if self._stopping.is_set():
                return
            self._in_pass.add(job.name)
            try:
                await job.run_once()
            except Exception:
                # Task boundary: one failing pass must not end the job.
                logger.exception("background job %s: pass failed", job.name)
            finally:
                self._in_pass.discard(job.name)


@contextlib.asynccontextmanager
async def running(*jobs: Job) -> AsyncIterator[BackgroundJobs]:
    """Run `jobs` for the body of a `with` (commands and tests that work without the app)."""
    runner = BackgroundJobs()
    for job in jobs:
        runner.add(job)
    runner.start()
    try:
        yield runner
    finally:
        await runner.stop()
