"""SIEM forwarding: every audit entry, as its JSON leaf, to a file and/or syslog, at least once.

A background job tails the log by index. The position per target lives in the database and
moves only after the lines were written (and fsynced, for a file), so a crash or restart can
repeat the last batch but never loses an entry. Processes sharing a database share positions:
each entry goes to a target once overall, by whichever process holds the forwarding lock.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from cencomm.domain.audit import AuditEntry
from cencomm.domain.audit_tree import MAX_HEAD_LAG_SECONDS
from cencomm.domain.clock import rfc3339
from cencomm.services.audit import AuditTrail
from cencomm.services.background import Every, Job
from cencomm.settings import AuditSettings
from cencomm.storage.audit_tree import FORWARD_LOCK_KEY
from cencomm.storage.db import Database
from cencomm.storage.unit import Unit

logger = logging.getLogger(__name__)

FORWARD_BATCH = 1000
# RFC 5424 PRI: facility 13 ("log audit") * 8 + severity 6 (informational).
SYSLOG_PRI = 13 * 8 + 6


class Sink(Protocol):
    @property
    def target(self) -> str:
        """A stable name for the position kept in the database."""
        ...

    def send(self, entries: Sequence[AuditEntry]) -> None:
        """Deliver the entries (blocking, inside the forwarding unit); raise if they may not have
        arrived."""
        ...


class FileSink:
    """Appends one JSON line per entry and fsyncs before the position moves."""

    def __init__(self, path: Path) -> None:
        self._path = path

    @property
    def target(self) -> str:
        return f"file:{self._path.resolve()}"

    def send(self, entries: Sequence[AuditEntry]) -> None:
        data = "".join(entry.leaf() + "\n" for entry in entries).encode("utf-8")
        # Audit lines carry user ids and addresses: the file is private to the server's user.
        fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)


class SyslogSink:
    """RFC 5424 messages whose MSG is the entry's JSON leaf, over UDP or a Unix datagram socket."""

    def __init__(self, address: str) -> None:
        self._address = address
        self._hostname = socket.gethostname()[:255] or "-"

    @property
    def target(self) -> str:
        return f"syslog:{self._address}"

    def _message(self, entry: AuditEntry) -> bytes:
        header = f"<{SYSLOG_PRI}>1 {rfc3339(entry.at)} {self._hostname} cencomm - audit - "
        return (header + entry.leaf()).encode("utf-8")

    def send(self, entries: Sequence[AuditEntry]) -> None:
        if self._address.startswith("udp://"):
            host, _, port = self._address.removeprefix("udp://").rpartition(":")
            host = host.strip("[]")
            family, kind, proto, _, addr = socket.getaddrinfo(
                host, int(port), type=socket.SOCK_DGRAM
            )[0]
            with socket.socket(family, kind, proto) as sock:
                sock.connect(addr)
                for entry in entries:
                    sock.send(self._message(entry))
        else:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(self._address)
                for entry in entries:
                    sock.send(self._message(entry))


def sinks_from(settings: AuditSettings) -> list[Sink]:
    sinks: list[Sink] = []
    if settings.forward_file:
        sinks.append(FileSink(Path(settings.forward_file)))
    if settings.forward_syslog:
        sinks.append(SyslogSink(settings.forward_syslog))
    return sinks


class AuditForwarder:
    def __init__(self, db: Database, trail: AuditTrail, sinks: Sequence[Sink]) -> None:
        self._db = db
        self._trail = trail
        self._sinks = list(sinks)

    @property
    def enabled(self) -> bool:
        return bool(self._sinks)

    async def forward(self) -> int:
        """Send every entry not yet forwarded to each target; returns how many lines went out.

        Raises:
            OSError: a target could not be written; its position stays where it was.
        """
        sent = 0
        for sink in self._sinks:
            sent += await self._forward_to(sink)
        return sent

    async def _forward_to(self, sink: Sink) -> int:
        sent = 0
        while True:
            count, more = await self._db.write(lambda unit: _forward_batch(unit, sink))
            sent += count
            if not more:
                return sent

    def job(self) -> Job:
        """Forwarding: new entries go out within about a second. A failing pass (a SIEM
        outage) is logged and retried; the position waits for it."""
        wake = Every(MAX_HEAD_LAG_SECONDS, self._trail.signal.subscribe())
        return Job("audit-forward", wake, self.forward)


def _forward_batch(unit: Unit, sink: Sink) -> tuple[int, bool]:
    """Send the next batch to `sink` and move its position; returns (lines sent, more to come).

    The lines go out inside the unit, under the forwarding lock, as they always did: two
    processes never interleave lines, and the position moves in the same transaction only once
    `send` returned. `send` blocks (an fsync, a datagram), so it runs through `run_blocking`:
    never on the event loop, whichever database.
    """
    store = unit.audit_tree
    # One forwarder at a time per database, so two processes never interleave lines.
    store.lock(FORWARD_LOCK_KEY)
    position = store.forward_position(sink.target)
    rows = store.entries_from(position, FORWARD_BATCH)
    batch: list[AuditEntry] = []
    for entry, _ in rows:
        if entry.index != position + len(batch):
            break  # a gap is for `audit verify` to report; never skip past it
        batch.append(entry)
    if not batch:
        return 0, False
    unit.run_blocking(lambda: sink.send(batch))
    # Only after the lines are out: a crash before this commit repeats them.
    store.set_forward_position(sink.target, position + len(batch))
    return len(batch), len(rows) == FORWARD_BATCH
