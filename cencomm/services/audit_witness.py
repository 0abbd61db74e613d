"""Witnessed checkpoints: tree heads as C2SP signed notes, cosigned by the configured witnesses.

After each new tree head a background job per witness sends it `add-checkpoint`
(c2sp.org/tlog-witness) with a consistency proof from the size that witness cosigned last. A
409 names the witness's size: the request is made again from there. Any other failure (the
witness away, a timeout, a refusal) is logged and retried with exponential backoff, capped. Each
witness has its own job and its own HTTP thread, so a witness that never answers holds up only
itself; posts never wait for any of them. Returned cosignatures are verified against the
witness's configured key before they are stored.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from cencomm.crypto.notes import (
    COSIGNATURE_TYPE,
    Note,
    NoteError,
    SignatureLine,
    VerifierKey,
    log_signature_from,
    parse_signature_line,
    parse_vkey,
    verify_cosignature,
)
from cencomm.domain.audit_tree import MAX_HEAD_LAG_SECONDS, TreeHead
from cencomm.domain.clock import Clock
from cencomm.domain.errors import NotFound
from cencomm.domain.policy import Action, authorize
from cencomm.domain.users import Principal
from cencomm.services.audit import AuditTrail
from cencomm.services.audit_log import AuditLogService
from cencomm.services.background import Every, Job
from cencomm.settings import AuditSettings
from cencomm.storage.db import Database
from cencomm.storage.keyring import ServerSigningKey
from cencomm.storage.unit import Unit

logger = logging.getLogger(__name__)

SIZE_TYPE = "text/x.tlog.size"
MAX_ANSWER_BYTES = 64 * 1024
# A 409 is answered by asking again from the witness's size; more than this in one round means
# the witness and the log disagree in a way a retry later may settle.
MAX_CONFLICTS = 3
FIRST_RETRY_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class WitnessEndpoint:
    key: VerifierKey
    url: str  # the submission prefix; add-checkpoint is below it

    @property
    def name(self) -> str:
        return self.key.name


def parse_witnesses(entries: Sequence[str]) -> list[WitnessEndpoint]:
    """`audit.witnesses` entries, each `<verifier key> <submission URL>`.

    Raises:
        ValueError: an entry of another form (settings validation catches these first).
    """
    witnesses = []
    for entry in entries:
        vkey, _, url = entry.strip().partition(" ")
        try:
            key = parse_vkey(vkey, COSIGNATURE_TYPE)
        except NoteError as exc:
            raise ValueError(f"witness {vkey}: {exc}") from None
        witnesses.append(WitnessEndpoint(key, url.strip().rstrip("/")))
    return witnesses


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    content_type: str
    body: bytes


class WitnessTransport:
    """POSTs add-checkpoint with the standard library, in a thread per witness (never on the
    event loop); a witness that accepts and never answers is cut off after `timeout`."""

    def __init__(self, timeout: float, threads: int) -> None:
        self._timeout = timeout
        self._pool = ThreadPoolExecutor(max(1, threads), thread_name_prefix="cencomm-witness")

    async def post(self, url: str, body: bytes) -> Answer:
        """Raises: OSError on any transport failure (refused, reset, timed out)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._post, url, body)

    def _post(self, url: str, body: bytes) -> Answer:
        request = urllib.request.Request(  # noqa: S310 - an operator-configured http(s) URL
            f"{url}/add-checkpoint",
            data=body,
            method="POST",
            headers={"Content-Type": "text/plain; charset=utf-8", "User-Agent": "cencomm"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as reply:  # noqa: S310
                return Answer(
                    reply.status,
                    reply.headers.get_content_type(),
                    reply.read(MAX_ANSWER_BYTES),
                )
        except urllib.error.HTTPError as exc:
            with exc:
                return Answer(exc.code, exc.headers.get_content_type(), exc.read(MAX_ANSWER_BYTES))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


@dataclass(slots=True)
class _Progress:
    """What this process knows of one witness."""

    size: int | None = None  # the size the witness cosigned last (None: ask the database)
    delay: float = 0.0  # the backoff after the last failure (0: none)
    retry_at: float = 0.0  # monotonic time before which no new attempt is made
    wake: asyncio.Event | None = field(default=None)


class WitnessCollector:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        trail: AuditTrail,
        audit_log: AuditLogService,
        key: ServerSigningKey,
        settings: AuditSettings,
        transport: WitnessTransport | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._trail = trail
        self._audit_log = audit_log
        self._key = key
        self._origin = settings.origin
        self.witnesses = parse_witnesses(settings.witnesses)
        self.quorum = settings.witness_quorum if self.witnesses else 0
        self._retry_max = settings.witness_retry_max
        self.timeout = settings.witness_timeout
        self._transport = transport or WitnessTransport(
            settings.witness_timeout, len(self.witnesses)
        )
        self._progress = {w.name: _Progress() for w in self.witnesses}

    @property
    def enabled(self) -> bool:
        return bool(self.witnesses)

    @property
    def log_key(self) -> VerifierKey:
        """The log's signed-note verifier key: key name = origin, type 0x01, the audit key."""
        return VerifierKey(self._origin, 0x01, self._key.public_raw)

    # -- serving -------------------------------------------------------------------------------

    def note_key(self, principal: Principal) -> VerifierKey:
        authorize(principal, Action.AUDIT_PROOFS)
        return self.log_key

    async def checkpoint(self, principal: Principal, tree_size: int | None) -> str:
        """The signed note of a tree head: the newest one a quorum of the configured witnesses
        cosigned (without witnesses, or before any quorum: the newest head), or the head of
        `tree_size`.

        Raises:
            NotFound: no head was signed for `tree_size`.
        """
        authorize(principal, Action.AUDIT_PROOFS)
        names = [w.name for w in self.witnesses]

        def pick(unit: Unit) -> int | None:
            if tree_size is not None or not names:
                return tree_size
            return unit.cosignatures.newest_witnessed(names, self.quorum)

        size = await self._db.read(pick)
        if size is None:
            head = await self._audit_log.latest_tree_head(principal)
        else:
            found = await self._db.read(lambda unit: unit.audit_tree.find_head(size))
            if found is None:
                raise NotFound(
                    f"no tree head was signed for tree_size={size}; see /audit/tree-heads",
                    slug="unknown-tree-head",
                )
            head = found
        return await self.note_of(head)

    async def note_of(self, head: TreeHead) -> str:
        """`head` as a signed note with every stored cosignature of it."""
        cosignatures = await self._db.read(lambda unit: unit.cosignatures.for_head(head.tree_size))
        return self.format_note(head, cosignatures)

    def format_note(self, head: TreeHead, cosignatures: dict[str, bytes]) -> str:
        lines = [log_signature_from(self._origin, self._key.public_raw, head.signature)]
        lines.extend(SignatureLine(name, raw[:4], raw[4:]) for name, raw in cosignatures.items())
        return Note(head.checkpoint, tuple(lines)).encode()

    # -- collecting ----------------------------------------------------------------------------

    def jobs(self) -> list[Job]:
        """One job per witness: a slow one delays nobody else."""
        jobs = []
        for witness in self.witnesses:
            progress = self._progress[witness.name]
            progress.wake = self._trail.signal.subscribe()
            every = Every(MAX_HEAD_LAG_SECONDS, progress.wake, immediately=True)
            jobs.append(
                Job(
                    f"audit-witness-{witness.name}",
                    self._waiter(progress, every),
                    self._runner(witness),
                    on_stop=self._transport.close,
                )
            )
        return jobs

    def _waiter(self, progress: _Progress, every: Every) -> Callable[[], Awaitable[None]]:
        async def wait() -> None:
            pause = progress.retry_at - time.monotonic()
            if pause > 0:
                await asyncio.sleep(pause)
                return
            await every()

        return wait

    def _runner(self, witness: WitnessEndpoint) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            await self.collect(witness)

        return run

    async def collect_now(self, head: TreeHead, wait: float) -> None:
        """Ask every witness to cosign `head` at once and wait at most `wait` seconds (the
        evidence export, which carries the cosigned checkpoint); failures are only logged."""
        if not self.witnesses:
            return
        tasks = [asyncio.ensure_future(self.collect(w, head)) for w in self.witnesses]
        _, late = await asyncio.wait(tasks, timeout=wait)
        for task in late:
            task.cancel()

    async def collect(self, witness: WitnessEndpoint, head: TreeHead | None = None) -> bool:
        """One attempt to have `witness` cosign `head` (default: the newest head); True when
        it has a stored cosignature of it afterwards. Never raises for the witness's sake."""
        progress = self._progress[witness.name]
        if head is None:
            head = await self._db.read(lambda unit: unit.audit_tree.latest_head())
            if head is None:
                return False
        size = head.tree_size
        stored = await self._db.read(lambda unit: unit.cosignatures.for_head(size))
        if witness.name in stored:
            return True
        if progress.size is None:
            progress.size = await self._db.read(
                lambda unit: unit.cosignatures.last_cosigned(witness.name)
            )
        try:
            ok = await self._attempt(witness, head, progress)
        except OSError as exc:
            ok = False
            logger.warning("witness %s unreachable: %s", witness.name, exc)
        if ok:
            progress.delay = 0.0
            progress.retry_at = 0.0
        else:
            progress.delay = min(max(FIRST_RETRY_SECONDS, progress.delay * 2), self._retry_max)
            progress.retry_at = time.monotonic() + progress.delay
        return ok

    async def _attempt(self, witness: WitnessEndpoint, head: TreeHead, progress: _Progress) -> bool:
        note = self.format_note(head, {})
        old = progress.size or 0
        for _ in range(MAX_CONFLICTS):
            if old > head.tree_size:
                logger.error(
                    "witness %s has cosigned %d entries, more than this log's newest head %d: "
                    "the audit log may have been rolled back",
                    witness.name,
                    old,
                    head.tree_size,
                )
                return False
            proof = await self._proof(old, head.tree_size)
            if proof is None:
                logger.error(
                    "witness %s has cosigned size %d, for which this log has no tree head",
                    witness.name,
                    old,
                )
                return False
            body = f"old {old}\n" + "".join(
                base64.standard_b64encode(h).decode() + "\n" for h in proof
            )
            answer = await self._transport.post(witness.url, (body + "\n" + note).encode())
            if answer.status == 409 and answer.content_type == SIZE_TYPE:
                text = answer.body.decode("ascii", "replace").strip()
                if not text.isdigit():
                    break
                old = progress.size = int(text)
                continue
            if answer.status == 200:
                return await self._store(witness, head, answer.body, progress)
            logger.warning(
                "witness %s refused tree head %d: HTTP %d %s",
                witness.name,
                head.tree_size,
                answer.status,
                answer.body[:200].decode("utf-8", "replace").strip(),
            )
            return False
        logger.warning(
            "witness %s keeps answering 409 for tree head %d", witness.name, head.tree_size
        )
        return False

    async def _proof(self, old: int, new: int) -> list[bytes] | None:
        if old in (0, new):
            return []
        try:
            return await self._audit_log.system_consistency_proof(old, new)
        except NotFound:
            return None

    async def _store(
        self, witness: WitnessEndpoint, head: TreeHead, body: bytes, progress: _Progress
    ) -> bool:
        mine = None
        try:
            for raw in body.decode("utf-8").splitlines(keepends=True)[:64]:
                line = parse_signature_line(raw)
                if verify_cosignature(witness.key, head.checkpoint, line):
                    mine = line
                    break
        except (UnicodeDecodeError, NoteError):
            mine = None
        if mine is None:
            logger.warning(
                "witness %s answered tree head %d without a valid cosignature by its key",
                witness.name,
                head.tree_size,
            )
            return False
        signature = mine.key_id + mine.signature
        now = self._clock.now()
        await self._db.write(
            lambda unit: unit.cosignatures.insert(head.tree_size, witness.name, signature, now)
        )
        progress.size = max(progress.size or 0, head.tree_size)
        logger.debug("witness %s cosigned tree head %d", witness.name, head.tree_size)
        return True
