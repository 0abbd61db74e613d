"""Signing and posting validated seizure reports, idempotently.

Each report's `cid` is a UUIDv5 of the group, the import's source name (by default the file
name without its extension) and the SHA-256 of the report's canonical content (its
`report_ref`, handling code and body), so posting the same report again, from a re-run after a
crash or of the same file, never stores it twice.

Why a re-run cannot simply resend the first run's JWS: the server checks `|now - iat| <= 300 s`
before it looks at the cid, so a JWS from an earlier run is stale. Each run therefore signs
afresh (iat = now) with the same deterministic cid, and the server's rule for a repeated cid
("Signed envelopes": the identical JWS → 200 with the original, a different JWS → 409
`duplicate-cid`) tells which reports exist already: a 409 `duplicate-cid` means this sender
stored this very cid before, i.e. this very report, so it counts as "already present". Within
one run, retries (network errors, 5xx, 429) resend the identical JWS (`post_prepared`), so a
try whose answer was lost is answered 200 with the original message.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cencomm.client.api import CencommClient
from cencomm.client.envelopes import build_payload, sign_envelope
from cencomm.client.errors import ClientError, ProblemError
from cencomm.client.keystore import LocalKey
from cencomm.client.seizure_rows import SheetReport

# Fixed: changing it would give every report a new cid, and a re-run would post duplicates.
IMPORT_NAMESPACE = uuid.UUID("6f0d2c1e-8a4b-5c7d-9e3f-2b1a0c9d8e7f")
DEFAULT_CONCURRENCY = 4


def report_cid(group_id: str, source: str, report: SheetReport) -> str:
    """The deterministic cid of `report` imported into `group_id` from `source`."""
    name = f"seizure-import\n{group_id.lower()}\n{source}\n{report.digest()}"
    return str(uuid.uuid5(IMPORT_NAMESPACE, name))


@dataclass(slots=True)
class ImportSummary:
    """What an import did.

    Attributes:
        posted: reports stored by this run.
        present: reports the server already had when this run's answer came: from an earlier
            run (or import of the same rows under the same source name), or from a try of this
            run whose answer was lost.
        rows: data rows in the file.
        failed: reports the server refused: `{report_ref, rows, status, problem, errors}`.
        seconds: wall time of the posting.
    """

    posted: int = 0
    present: int = 0
    rows: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "reports": self.posted + self.present + len(self.failed),
            "posted": self.posted,
            "already_present": self.present,
            "failed": self.failed,
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "rows_per_second": round(self.rows / self.seconds, 1) if self.seconds > 0 else None,
        }


async def post_report_once(
    api: CencommClient,
    group_id: str,
    body: Mapping[str, Any],
    hc: str,
    cid: str,
    key: LocalKey,
) -> bool:
    """Sign a seizure report with its derived `cid` and post it: True when this call stored
    it, False when the server had it already.

    Already there: 409 `duplicate-cid` (this sender stored this cid before, signed at another
    time) or 200 for this very JWS (a try whose answer was lost, or an earlier run in the same
    second: Ed25519 signatures are deterministic).

    Raises:
        ProblemError: any other refusal.
    """
    payload = build_payload(
        typ="seizure", sub=await api.user_id(), body=body, hc=hc, grp=group_id, cid=cid
    )
    try:
        posted = await api.post_prepared(group_id, sign_envelope(payload, key))
    except ProblemError as exc:
        if exc.slug == "duplicate-cid":
            return False
        raise
    return not posted.replayed


async def import_reports(
    api: CencommClient,
    group_id: str,
    reports: Sequence[SheetReport],
    *,
    source: str,
    rows: int = 0,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_report: Callable[[], None] | None = None,
    summary: ImportSummary | None = None,
) -> ImportSummary:
    """Sign each report with the client's key and post it to `group_id`, `concurrency` at a time.

    Each report is signed just before it is sent (so a long import never sends a stale
    `iat`). A report whose body the server refuses (422 `invalid-body`, 413) is listed in
    `failed` and the others go on;
    any other refusal (the group gone or closed, the key revoked) stops the import and is
    raised, and a re-run posts only what is missing. Pass `summary` to read how far an import
    that raised got.

    Raises:
        ProblemError: the server refused the import as a whole.
        TransportError: the server stayed unreachable after the retries.
    """
    key = api.key
    if key is None:
        raise ClientError("no signing key: call use_key() with a registered key")
    tally = summary if summary is not None else ImportSummary()
    tally.rows = rows
    queue: asyncio.Queue[SheetReport] = asyncio.Queue()
    for report in reports:
        queue.put_nowait(report)
    started = time.monotonic()

    async def post_one(report: SheetReport) -> None:
        cid = report_cid(group_id, source, report)
        try:
            created = await post_report_once(api, group_id, report.body, report.hc, cid, key)
        except ProblemError as exc:
            # Only what is wrong with this report's body is this report's failure; a refused
            # key, a clock off by minutes (stale-iat), a closed group refuse every report.
            if exc.status != 413 and exc.slug != "invalid-body":
                raise
            tally.failed.append(
                {
                    "report_ref": report.report_ref,
                    "rows": list(report.rows),
                    "status": exc.status,
                    "problem": exc.slug,
                    "errors": exc.errors,
                    "detail": exc.detail,
                }
            )
            return
        if created:
            tally.posted += 1
        else:
            tally.present += 1

    async def worker() -> None:
        while not queue.empty():
            report = queue.get_nowait()
            await post_one(report)
            if on_report is not None:
                on_report()

    workers = [asyncio.create_task(worker()) for _ in range(max(1, concurrency))]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        tally.seconds = time.monotonic() - started
    return tally
