"""The background-job runner: passes on demand, never cut off at stop, failures survived."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import cast

import pytest

from cencomm.domain.audit import AuditRecord
from cencomm.domain.clock import Clock, SystemClock
from cencomm.domain.messages import PostOutcome
from cencomm.domain.posts import NewMessage
from cencomm.services.attachment_blobs import BlobVault
from cencomm.services.attachment_upkeep import scan_job
from cencomm.services.audit import AuditTrail
from cencomm.services.background import BackgroundJobs, Every, Job, running
from cencomm.services.events import LocalEvents
from cencomm.services.message_writer import MessageWriter, PendingPost
from cencomm.services.scanner import Scanner
from cencomm.storage.db import Database


class Recorder:
    """A job whose passes are counted and may be held open by the test."""

    def __init__(self) -> None:
        self.wake = asyncio.Event()
        self.passes = 0
        self.finished = 0
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.release.set()
        self.stopped = False
        self.done = asyncio.Queue[int]()

    def job(self, name: str = "recorder") -> Job:
        return Job(name, Every(3600, self.wake), self.run_once, self.on_stop)

    async def run_once(self) -> None:
        self.passes += 1
        self.started.set()
        await self.release.wait()
        self.finished += 1
        self.done.put_nowait(self.passes)

    def on_stop(self) -> None:
        self.stopped = True


async def test_a_pass_runs_each_time_the_job_is_woken() -> None:
    recorder = Recorder()
    jobs = BackgroundJobs()
    jobs.add(recorder.job())
    jobs.start()
    for expected in (1, 2):
        recorder.wake.set()
        assert await asyncio.wait_for(recorder.done.get(), 5) == expected
    await jobs.stop()
    assert recorder.stopped


async def test_stop_lets_the_running_pass_finish() -> None:
    recorder = Recorder()
    recorder.release.clear()
    jobs = BackgroundJobs()
    jobs.add(recorder.job())
    jobs.start()
    recorder.wake.set()
    await asyncio.wait_for(recorder.started.wait(), 5)
    stopping = asyncio.ensure_future(jobs.stop())
    await asyncio.sleep(0)  # stop is now waiting for the pass
    assert not stopping.done()
    recorder.release.set()
    await asyncio.wait_for(stopping, 5)
    assert (recorder.passes, recorder.finished) == (1, 1)


async def test_a_pass_still_running_after_the_grace_is_abandoned(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder()
    recorder.release.clear()
    jobs = BackgroundJobs(grace=0)
    jobs.add(recorder.job("stuck"))
    jobs.start()
    recorder.wake.set()
    await asyncio.wait_for(recorder.started.wait(), 5)
    with caplog.at_level(logging.ERROR):
        await asyncio.wait_for(jobs.stop(), 5)
    assert recorder.finished == 0
    assert "background job cencomm-stuck did not stop in time" in caplog.text


async def test_a_failing_pass_is_logged_and_the_job_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    wake = asyncio.Event()
    outcomes: asyncio.Queue[str] = asyncio.Queue()
    calls = 0

    async def flaky() -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            outcomes.put_nowait("failed")
            raise RuntimeError("database away")
        outcomes.put_nowait("ok")

    jobs = BackgroundJobs()
    jobs.add(Job("flaky", Every(3600, wake), flaky))
    jobs.start()
    with caplog.at_level(logging.ERROR):
        wake.set()
        assert await asyncio.wait_for(outcomes.get(), 5) == "failed"
        wake.set()
        assert await asyncio.wait_for(outcomes.get(), 5) == "ok"
    await jobs.stop()
    assert "background job flaky: pass failed" in caplog.text


async def test_an_immediate_job_runs_its_first_pass_at_start() -> None:
    ran = asyncio.Event()

    async def once() -> None:
        ran.set()

    jobs = BackgroundJobs()
    jobs.add(Job("first", Every(3600, immediately=True), once))
    jobs.start()
    await asyncio.wait_for(ran.wait(), 5)
    await jobs.stop()


async def test_jobs_cannot_be_added_once_started() -> None:
    jobs = BackgroundJobs()
    jobs.add(Recorder().job())
    jobs.start()
    with pytest.raises(RuntimeError):
        jobs.add(Recorder().job("late"))
    await jobs.stop()


WRITTEN = cast(PostOutcome, object())


class HeldWriter(MessageWriter):
    """The real writer's queue, batching and stop, around a batch write the test holds open."""

    def __init__(self) -> None:
        clock = SystemClock()
        super().__init__(cast(Database, None), clock, AuditTrail(clock), LocalEvents())
        self.batches: list[int] = []
        self.writing = asyncio.Event()
        self.release = asyncio.Event()

    async def _write_batch(self, batch: list[PendingPost]) -> None:
        self.batches.append(len(batch))
        self.writing.set()
        await self.release.wait()
        for post in batch:
            post.future.set_result(WRITTEN)


def _post() -> PendingPost:
    return PendingPost(cast(NewMessage, None), cast(AuditRecord, None))


async def test_the_writer_answers_its_batch_and_refuses_what_is_queued_at_stop() -> None:
    writer = HeldWriter()
    async with running(writer.job()) as jobs:
        first = asyncio.ensure_future(writer.submit(_post()))
        await asyncio.wait_for(writer.writing.wait(), 5)
        later = [asyncio.ensure_future(writer.submit(_post())) for _ in range(3)]
        stopping = asyncio.ensure_future(jobs.stop())
        await asyncio.sleep(0)  # stop now waits for the batch being written
        writer.release.set()
        await asyncio.wait_for(stopping, 5)
    assert await first is WRITTEN
    for post in later:
        with pytest.raises(ConnectionAbortedError, match="server shutting down"):
            await post
    with pytest.raises(ConnectionAbortedError):
        await writer.submit(_post())
    assert writer.batches == [1]


async def test_the_writer_batches_what_queued_while_it_wrote() -> None:
    writer = HeldWriter()
    async with running(writer.job()):
        first = asyncio.ensure_future(writer.submit(_post()))
        await asyncio.wait_for(writer.writing.wait(), 5)
        later = [asyncio.ensure_future(writer.submit(_post())) for _ in range(3)]
        await asyncio.sleep(0)  # queued behind the batch being written
        writer.release.set()
        await asyncio.wait_for(asyncio.gather(first, *later), 5)
    assert writer.batches == [1, 3]


async def test_the_scan_job_sweeps_temporary_files_on_its_first_pass_only() -> None:
    sweeps: list[float] = []
    vault = SimpleNamespace(files=SimpleNamespace(sweep_temp=sweeps.append))
    scanner = SimpleNamespace(enabled=False)  # nothing to scan: no database needed
    job = scan_job(
        cast(Database, None),
        cast(Clock, None),
        AuditTrail(SystemClock()),
        cast(BlobVault, vault),
        cast(Scanner, scanner),
        3600,
    )
    await job.run_once()
    await job.run_once()
    assert sweeps == [3600.0]
