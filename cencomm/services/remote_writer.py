"""Posts of every worker process through the one group-commit writer of the hub (worker 0).

On SQLite, `serve --workers N` must not let N processes take turns on the file's one write lock
(each one's batches would halve and tail latency grow several-fold). So every spoke hands its
verified post (the `NewMessage` and its audit record: everything that needs no lock is done)
over its link to the hub, whose `MessageWriter` batches posts of all processes into one
transaction; the spoke answers its client only once the hub says the batch committed.

A link that fails with posts in flight answers them 503 `unavailable` with `Retry-After`: the
post may or may not have been committed, and a retry with the same `cid` settles which (the
repeat returns the stored post). Nothing acknowledged is ever lost.
"""

from __future__ import annotations

import asyncio
import itertools
import logging

from cencomm.domain import errors
from cencomm.domain.errors import CencommError, Unavailable
from cencomm.domain.messages import PostOutcome
from cencomm.realtime.links import Frame, Link, LinkLost, WorkerLinks
from cencomm.services.background import Job
from cencomm.services.message_writer import MessageWriter, PendingPost

logger = logging.getLogger(__name__)

POST = "post"
OUTCOME = "outcome"
REFUSED = "refused"
RETRY_AFTER_SECONDS = 1


def writer_gone() -> Unavailable:
    return Unavailable(
        "The process that writes posts is not answering; retry with the same cid.",
        retry_after=RETRY_AFTER_SECONDS,
    )


class RemoteWriter:
    """A spoke's writer: `submit` sends the post to the hub and waits for its outcome."""

    def __init__(self, links: WorkerLinks) -> None:
        self._links = links
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[PostOutcome]] = {}
        self._stopped = False
        self._never = asyncio.Event()  # the job has nothing to wait for but its stop
        links.on(OUTCOME, self._answered)
        links.on(REFUSED, self._answered)
        links.on_lost(self._lost)

    async def submit(self, post: PendingPost) -> PostOutcome:
        link = self._links.to_hub
        if self._stopped or not link.open:
            raise writer_gone()
        request = next(self._ids)
        self._waiting[request] = post.future
        try:
            link.send((POST, request, post.message, post.audit))
            await link.drain()
            return await post.future
        except LinkLost:
            raise writer_gone() from None
        finally:
            self._waiting.pop(request, None)

    def job(self) -> Job:
        """Nothing to run; at stop, new posts are refused (the hub's writer stops too)."""
        return Job("remote-writer", self._never.wait, _nothing, self._refuse_new)

    def _refuse_new(self) -> None:
        self._stopped = True

    def _answered(self, _link: Link, frame: Frame) -> None:
        future = self._waiting.get(frame[1])
        if future is None or future.done():
            return  # its request was cancelled meanwhile
        if frame[0] == OUTCOME and isinstance(frame[2], PostOutcome):
            future.set_result(frame[2])
        else:
            _, _, name, detail, slug = frame
            future.set_exception(_error_from(name, detail, slug))

    def _lost(self, _link: Link) -> None:
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(writer_gone())


class WriterEndpoint:
    """The hub's side: posts from the spokes go into this process's `MessageWriter` queue, in
    the same batches as its own, and each outcome goes back once its batch committed."""

    def __init__(self, links: WorkerLinks, writer: MessageWriter) -> None:
        self._writer = writer
        self._running: set[asyncio.Task[None]] = set()
        links.on(POST, self._received)

    def _received(self, link: Link, frame: Frame) -> None:
        _, request, message, audit = frame
        task = asyncio.create_task(self._write(link, request, PendingPost(message, audit)))
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _write(self, link: Link, request: int, post: PendingPost) -> None:
        try:
            answer: Frame = (OUTCOME, request, await self._writer.submit(post))
        except CencommError as exc:
            answer = (REFUSED, request, type(exc).__name__, exc.detail, exc.slug)
        except Exception as exc:  # the writer's own failure, or its stop: the spoke says 503
            logger.warning("a post from another worker process failed: %s", type(exc).__name__)
            answer = (REFUSED, request, None, None, None)
        if link.open:
            link.send(answer)


def _error_from(name: object, detail: object, slug: object) -> CencommError:
    """The hub's refusal as the error it raised there (a domain error by class name)."""
    cls = getattr(errors, name, None) if isinstance(name, str) else None
    if not isinstance(cls, type) or not issubclass(cls, CencommError):
        return writer_gone()
    below = cls.__mro__[: cls.__mro__.index(CencommError)]
    if any("__init__" in vars(k) for k in below):  # its own arguments: Unavailable, RateLimited
        return writer_gone()
    error: CencommError = cls(
        detail if isinstance(detail, str) else None, slug=slug if isinstance(slug, str) else None
    )
    return error


async def _nothing() -> None:
    return None
