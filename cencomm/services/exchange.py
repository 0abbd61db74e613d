"""MISP and STIX 2.1 exports of an operation: its readable seizure reports and the alerts sent
to it, streamed (`GET /groups/{id}/export.misp.json`, `GET /groups/{id}/export.stix.json`).

Who may export, and what, is exactly the seizures CSV's rule: whoever may read the group
(`GroupService.access`; a non-member gets the same NotFound as for a missing group), never
TLP:RED, never hidden reports, observers never TLP:AMBER+STRICT. Alerts are those the caller
may read (as `GET /alerts/{id}` decides: recipients, senders, the RILO an overdue answer was
escalated to, staff) whose signed targets name the group. The export is audited
(`group.seizures_export`, `details.format` "misp" or "stix") in the same transaction as the
access check, before any byte goes out; then the document is written a page at a time.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Literal

from cencomm.crypto.jws import parse_compact
from cencomm.domain.alert_boards import follows_up_escalations
from cencomm.domain.analytics import NEVER_EXPORTED, Period, Scope
from cencomm.domain.audit import AuditRecord
from cencomm.domain.clock import Clock
from cencomm.domain.envelopes import alert_targets
from cencomm.domain.errors import NotFound
from cencomm.domain.exchange import ExportedAlert, ExportedReport, Operation
from cencomm.domain.groups import GroupAccess
from cencomm.domain.ids import GroupId
from cencomm.domain.messages import withheld_codes
from cencomm.domain.misp_export import MispWriter
from cencomm.domain.seizures import stored_seizure_report
from cencomm.domain.stix_export import StixWriter
from cencomm.domain.users import Caller, Principal
from cencomm.services.audit import AuditTrail
from cencomm.services.groups import GroupService
from cencomm.storage.db import Database
from cencomm.storage.exchange import StoredAlert, StoredReport
from cencomm.storage.unit import Unit

Format = Literal["misp", "stix"]
REPORT_PAGE = 500  # seizure messages per query while writing
ALERT_PAGE = 500


@dataclass(frozen=True, slots=True)
class ExchangeExport:
    """A document ready to stream: its file name and its bytes, piece by piece."""

    filename: str
    pieces: AsyncGenerator[bytes, None]


@dataclass(frozen=True, slots=True)
class _Plan:
    operation: Operation
    scope: Scope
    withheld: frozenset[str]
    principal: Principal


class ExchangeService:
    def __init__(self, db: Database, clock: Clock, audit: AuditTrail, groups: GroupService) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self._groups = groups

    async def export(
        self, caller: Caller, group_id: uuid.UUID, fmt: Format, period: Period
    ) -> ExchangeExport:
        """Check access and audit the export before any byte goes out.

        Raises:
            NotFound: the caller cannot see the group (or it does not exist).
        """
        principal = caller.principal
        if principal is None:
            raise NotFound("no such group")
        details = {
            "format": fmt,
            "from": period.start.isoformat() if period.start else None,
            "to": period.end.isoformat() if period.end else None,
        }

        def work(unit: Unit) -> GroupAccess:
            access = self._groups.access(unit, principal, group_id)
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller,
                    "group.seizures_export",
                    target_type="group",
                    target_id=group_id,
                    group_id=GroupId(group_id),
                    details=details,
                ),
            )
            return access

        access = await self._db.write(work)
        now = self._clock.now()
        group = access.group
        withheld = withheld_codes(access) | NEVER_EXPORTED
        plan = _Plan(
            operation=Operation(
                id=group.id,
                code=group.code,
                name=group.name,
                description=group.description,
                created_at=group.created_at,
                exported_at=now,
                start=period.start,
                end=period.end,
            ),
            scope=Scope({group.id: withheld_codes(access)}, period).for_export(),
            withheld=withheld,
            principal=principal,
        )
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        return ExchangeExport(
            filename=f"cencomm-{fmt}-{group.code}-{stamp}.json",
            pieces=self._document(plan, fmt),
        )

    async def _document(self, plan: _Plan, fmt: Format) -> AsyncGenerator[bytes, None]:
        writer = MispWriter(plan.operation) if fmt == "misp" else StixWriter(plan.operation)
        yield writer.head()
        after = 0
        while True:
            page = await self._db.read(partial(_reports, plan.scope, after))
            if not page:
                break
            yield writer.add_reports([_exported_report(r) for r in page])
            after = page[-1].seq
        cursor: tuple[datetime, uuid.UUID] | None = None
        reader = None if plan.principal.is_staff else plan.principal.user_id
        escalated_to = (
            plan.principal.organization_id if follows_up_escalations(plan.principal.role) else None
        )
        while True:
            alerts = await self._db.read(partial(_alerts, reader, escalated_to, cursor))
            if not alerts:
                break
            kept = [e for a in alerts if (e := _exported_alert(a, plan)) is not None]
            yield writer.add_alerts(kept)
            cursor = (alerts[-1].created_at, alerts[-1].id)
        yield writer.tail()


def _reports(scope: Scope, after: int, unit: Unit) -> list[StoredReport]:
    return unit.exchange.reports(scope, after, REPORT_PAGE)


def _alerts(
    reader: uuid.UUID | None,
    escalated_to: uuid.UUID | None,
    after: tuple[datetime, uuid.UUID] | None,
    unit: Unit,
) -> list[StoredAlert]:
    return unit.exchange.alerts(reader, escalated_to=escalated_to, after=after, limit=ALERT_PAGE)


def _exported_report(stored: StoredReport) -> ExportedReport:
    payload = parse_compact(stored.jws).payload
    report = stored_seizure_report(payload["body"], stored.created_at)
    return ExportedReport(
        message_id=stored.message_id,
        cid=stored.cid,
        seq=stored.seq,
        hc=stored.hc,
        reported_at=stored.created_at,
        organization=stored.organization,
        report=report,
    )


def _exported_alert(stored: StoredAlert, plan: _Plan) -> ExportedAlert | None:
    """The alert as exported, or None when it is not the group's, is withheld from this
    reader, or lies outside the period (on the day it was sent, UTC)."""
    if stored.hc in plan.withheld:
        return None
    day = stored.created_at.date()
    period = plan.scope.period
    if (period.start and day < period.start) or (period.end and day > period.end):
        return None
    payload = parse_compact(stored.jws).payload
    if str(plan.operation.id) not in alert_targets(payload).groups:
        return None
    body = payload["body"]
    return ExportedAlert(
        alert_id=stored.id,
        cid=stored.cid,
        hc=stored.hc,
        title=str(body["title"]),
        text=str(body["text"]),
        priority=stored.priority,
        ack_required=stored.ack_required,
        respond_by=stored.respond_by,
        expires_at=stored.expires_at,
        created_at=stored.created_at,
        organization=stored.organization,
    )
