"""What the MISP and STIX exports read: a group's seizure messages in an analytics `Scope`, page
by page, and the alerts a reader may read, page by page (the service keeps those sent to the
group: their targets are inside the signed payload)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from cencomm.domain.analytics import Scope
from cencomm.domain.exchange import Reporter
from cencomm.storage.alert_boards import escalated_alert_ids
from cencomm.storage.analytics import in_scope
from cencomm.storage.tables import (
    AlertRecipientRow,
    AlertRow,
    MessageRow,
    OrganizationRow,
    SeizureReportRow,
)


@dataclass(frozen=True, slots=True)
class StoredReport:
    message_id: uuid.UUID
    seq: int
    cid: str
    hc: str
    jws: str
    created_at: datetime
    organization: Reporter


@dataclass(frozen=True, slots=True)
class StoredAlert:
    id: uuid.UUID
    cid: str
    hc: str
    jws: str
    priority: str
    ack_required: bool
    respond_by: datetime | None
    expires_at: datetime | None
    created_at: datetime
    organization: Reporter


_ORG = (
    OrganizationRow.id,
    OrganizationRow.name,
    OrganizationRow.country,
    OrganizationRow.created_at,
)


def _reporter(row: Sequence[Any]) -> Reporter:
    return Reporter(id=row[0], name=row[1], country=row[2], created_at=row[3])


class ExchangeStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def reports(self, scope: Scope, after_seq: int, limit: int) -> list[StoredReport]:
        """Up to `limit` seizure messages in `scope` (not hidden, no withheld code, `occurred_on`
        in the period) after seq `after_seq`, ascending."""
        r, m = SeizureReportRow, MessageRow
        query = (
            select(m.id, m.seq, m.cid, m.hc, m.jws, m.created_at, *_ORG)
            .select_from(r)
            .join(m, m.id == r.message_id)
            .join(OrganizationRow, OrganizationRow.id == r.sender_organization_id)
            .where(*in_scope(r, scope), r.seq > after_seq)
            .order_by(r.seq)
            .limit(limit)
        )
        return [
            StoredReport(row[0], row[1], row[2], row[3], row[4], row[5], _reporter(row[6:]))
            for row in self._session.execute(query).all()
        ]

    def alerts(
        self,
        reader: uuid.UUID | None,
        *,
        escalated_to: uuid.UUID | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[StoredAlert]:
        """Up to `limit` alerts, oldest first after `after`: every alert when `reader` is None
        (staff read them all), else those the reader received or sent, and with
        `escalated_to` those escalated to that RILO (as `GET /alerts` lists them)."""
        a = AlertRow
        query = select(
            a.id,
            a.cid,
            a.hc,
            a.jws,
            a.priority,
            a.ack_required,
            a.respond_by,
            a.expires_at,
            a.created_at,
            *_ORG,
        ).join(OrganizationRow, OrganizationRow.id == a.sender_organization_id)
        if reader is not None:
            received = select(AlertRecipientRow.alert_id).where(AlertRecipientRow.user_id == reader)
            readable = [a.id.in_(received), a.sender_id == reader]
            if escalated_to is not None:
                readable.append(a.id.in_(escalated_alert_ids(escalated_to)))
            query = query.where(or_(*readable))
        if after is not None:
            at, last_id = after
            query = query.where(or_(a.created_at > at, and_(a.created_at == at, a.id > last_id)))
        query = query.order_by(a.created_at, a.id).limit(limit)
        return [
            StoredAlert(*row[:9], organization=_reporter(row[9:]))
            for row in self._session.execute(query).all()
        ]
