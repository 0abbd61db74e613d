"""AlertStore: alerts, their fixed recipients, acknowledgements and deadline claims."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.orm import Session

from cencomm.domain.alerts import (
    Acknowledgement,
    Alert,
    AlertSender,
    Outcome,
    Priority,
    Recipient,
)
from cencomm.domain.ids import AlertId, OrganizationId, UserId
from cencomm.domain.users import Role
from cencomm.storage.alert_boards import escalated_alert_ids
from cencomm.storage.tables import (
    AlertAckRow,
    AlertOrganizationRow,
    AlertRecipientRow,
    AlertRow,
    OrganizationRow,
    UserRow,
)

_ALERT_COLUMNS = (
    AlertRow.id,
    AlertRow.sender_id,
    UserRow.display_name,
    AlertRow.sender_organization_id,
    AlertRow.kid,
    AlertRow.cid,
    AlertRow.jws,
    AlertRow.hc,
    AlertRow.title,
    AlertRow.priority,
    AlertRow.ack_required,
    AlertRow.respond_by,
    AlertRow.expires_at,
    AlertRow.created_at,
    AlertRow.recipient_count,
    AlertRow.organization_count,
    OrganizationRow.name,
)


def _to_alert(row: Any) -> Alert:
    return Alert(
        id=AlertId(row[0]),
        sender=AlertSender(UserId(row[1]), row[2], OrganizationId(row[3]), row[16]),
        kid=row[4],
        cid=row[5],
        jws=row[6],
        hc=row[7],
        title=row[8],
        priority=Priority(row[9]),
        ack_required=row[10],
        respond_by=row[11],
        expires_at=row[12],
        created_at=row[13],
        recipients=row[14],
        organizations=row[15],
    )


def _to_ack(row: AlertAckRow) -> Acknowledgement:
    return Acknowledgement(
        alert_id=AlertId(row.alert_id),
        user_id=UserId(row.user_id),
        organization_id=OrganizationId(row.organization_id),
        acknowledged_at=row.acknowledged_at,
        outcome=Outcome(row.outcome),
        note=row.note,
        seizure_message_id=row.seizure_message_id,
        updated_at=row.updated_at,
    )


class AlertStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    # -- alerts ----------------------------------------------------------------------------

    def find_by_cid(self, sender_id: uuid.UUID, cid: str) -> tuple[AlertId, bytes] | None:
        # Plain equality on both columns: the (sender_id, cid) unique index answers it.
        row = self._session.execute(
            select(AlertRow.id, AlertRow.jws_sha256).where(
                AlertRow.sender_id == sender_id, AlertRow.cid == cid
            )
        ).first()
        return (AlertId(row[0]), row[1]) if row else None

    def insert(
        self,
        row: dict[str, Any],
        recipients: Sequence[Recipient],
        organization_ids: Iterable[uuid.UUID],
        *,
        reminded_at: datetime | None = None,
    ) -> None:
        """The alert, its recipients and the organisations expected to answer; `reminded_at`
        set from the start means no reminder is to come (see `reminder_waived`)."""
        self._session.execute(insert(AlertRow), [row])
        if recipients:
            self._session.execute(
                insert(AlertRecipientRow),
                [
                    {
                        "alert_id": row["id"],
                        "user_id": r.user_id,
                        "organization_id": r.organization_id,
                        "answers": r.answers,
                    }
                    for r in recipients
                ],
            )
        orgs = [
            {"alert_id": row["id"], "organization_id": o, "reminded_at": reminded_at}
            for o in organization_ids
        ]
        if orgs:
            self._session.execute(insert(AlertOrganizationRow), orgs)

    def find(self, alert_id: uuid.UUID) -> Alert | None:
        row = self._session.execute(
            select(*_ALERT_COLUMNS)
            .join(UserRow, UserRow.id == AlertRow.sender_id)
            .join(OrganizationRow, OrganizationRow.id == AlertRow.sender_organization_id)
            .where(AlertRow.id == alert_id)
        ).first()
        return _to_alert(row) if row else None

    def list_for(
        self,
        user_id: uuid.UUID,
        *,
        active_at: datetime | None,
        before: tuple[datetime, uuid.UUID] | None,
        limit: int,
        escalated_to: uuid.UUID | None = None,
    ) -> list[Alert]:
        """Alerts the user received or sent, newest first; `active_at` hides expired ones. With
        `escalated_to` (the user's organisation), also those escalated to it as its region's
        RILO."""
        received = select(AlertRecipientRow.alert_id).where(AlertRecipientRow.user_id == user_id)
        readable = [AlertRow.id.in_(received), AlertRow.sender_id == user_id]
        if escalated_to is not None:
            readable.append(AlertRow.id.in_(escalated_alert_ids(escalated_to)))
        query = (
            select(*_ALERT_COLUMNS)
            .join(UserRow, UserRow.id == AlertRow.sender_id)
            .join(OrganizationRow, OrganizationRow.id == AlertRow.sender_organization_id)
            .where(or_(*readable))
        )
        if active_at is not None:
            query = query.where(or_(AlertRow.expires_at.is_(None), AlertRow.expires_at > active_at))
        if before is not None:
            at, last_id = before
            query = query.where(
                or_(
                    AlertRow.created_at < at,
                    and_(AlertRow.created_at == at, AlertRow.id < last_id),
                )
            )
        query = query.order_by(AlertRow.created_at.desc(), AlertRow.id.desc()).limit(limit)
        return [_to_alert(r) for r in self._session.execute(query).all()]

    # -- recipients and acks ---------------------------------------------------------------

    def find_recipient(self, alert_id: uuid.UUID, user_id: uuid.UUID) -> Recipient | None:
        row = self._session.get(AlertRecipientRow, (alert_id, user_id))
        if row is None:
            return None
        return Recipient(UserId(row.user_id), OrganizationId(row.organization_id), row.answers)

    def mark_delivered(
        self, alert_id: uuid.UUID, user_ids: Iterable[uuid.UUID], now: datetime
    ) -> None:
        ids = list(user_ids)
        if ids:
            self._session.execute(
                update(AlertRecipientRow)
                .where(
                    AlertRecipientRow.alert_id == alert_id,
                    AlertRecipientRow.user_id.in_(ids),
                    AlertRecipientRow.delivered_at.is_(None),
                )
                .values(delivered_at=now)
            )

    def find_ack(
        self, alert_id: uuid.UUID, user_id: uuid.UUID, *, for_update: bool = False
    ) -> Acknowledgement | None:
        row = self._session.get(
            AlertAckRow, (alert_id, user_id), with_for_update=for_update, populate_existing=True
        )
        return _to_ack(row) if row else None

    def acks_of(
        self, alert_ids: Iterable[uuid.UUID], user_id: uuid.UUID
    ) -> dict[AlertId, Acknowledgement]:
        """The user's acknowledgements of these alerts, in one query (a page of a listing)."""
        ids = list(alert_ids)
        if not ids:
            return {}
        rows = self._session.scalars(
            select(AlertAckRow).where(AlertAckRow.alert_id.in_(ids), AlertAckRow.user_id == user_id)
        )
        return {AlertId(row.alert_id): _to_ack(row) for row in rows.all()}

    def insert_ack(self, ack: Acknowledgement) -> None:
        self._session.add(
            AlertAckRow(
                alert_id=ack.alert_id,
                user_id=ack.user_id,
                organization_id=ack.organization_id,
                acknowledged_at=ack.acknowledged_at,
                outcome=ack.outcome.value,
                note=ack.note,
                seizure_message_id=ack.seizure_message_id,
                updated_at=ack.updated_at,
            )
        )
        self._session.flush()

    def update_ack(self, ack: Acknowledgement) -> None:
        self._session.execute(
            update(AlertAckRow)
            .where(AlertAckRow.alert_id == ack.alert_id, AlertAckRow.user_id == ack.user_id)
            .values(
                outcome=ack.outcome.value,
                note=ack.note,
                seizure_message_id=ack.seizure_message_id,
                updated_at=ack.updated_at,
            )
        )

    def record_organization_ack(
        self, alert_id: uuid.UUID, organization_id: uuid.UUID, at: datetime, outcome: Outcome
    ) -> None:
        """First ack time of the organisation, and its outcome (the caller passes the best)."""
        row = self._session.get(
            AlertOrganizationRow, (alert_id, organization_id), with_for_update=True
        )
        if row is None:
            return
        self._session.execute(
            update(AlertOrganizationRow)
            .where(
                AlertOrganizationRow.alert_id == alert_id,
                AlertOrganizationRow.organization_id == organization_id,
            )
            .values(acknowledged_at=row.acknowledged_at or at, outcome=outcome.value)
        )

    def organization_outcome(
        self, alert_id: uuid.UUID, organization_id: uuid.UUID
    ) -> Outcome | None:
        value = self._session.scalar(
            select(AlertOrganizationRow.outcome).where(
                AlertOrganizationRow.alert_id == alert_id,
                AlertOrganizationRow.organization_id == organization_id,
            )
        )
        return Outcome(value) if value else None

    # -- who hears about acks and deadlines --------------------------------------------------

    def staff_ids(self) -> list[UserId]:
        rows = self._session.scalars(
            select(UserRow.id).where(
                UserRow.role.in_((Role.ADMIN.value, Role.MODERATOR.value)),
                UserRow.disabled.is_(False),
            )
        )
        return [UserId(i) for i in rows.all()]

    def recipients_of_organizations(
        self, alert_id: uuid.UUID, organization_ids: Iterable[uuid.UUID]
    ) -> list[UserId]:
        rows = self._session.scalars(
            select(AlertRecipientRow.user_id).where(
                AlertRecipientRow.alert_id == alert_id,
                AlertRecipientRow.organization_id.in_(list(organization_ids)),
            )
        )
        return [UserId(i) for i in rows.all()]

    # -- deadlines: found by any process, claimed by exactly one ------------------------------

    def due_deadlines(
        self, *, overdue_at: datetime, remind_until: datetime | None, limit: int
    ) -> list[tuple[AlertId, OrganizationId, bool]]:
        """Unanswered (alert, organisation) pairs whose respond_by has passed (True) or, with
        `remind_until`, falls before it and was not reminded yet (False)."""
        base = (
            select(
                AlertOrganizationRow.alert_id,
                AlertOrganizationRow.organization_id,
                AlertRow.respond_by <= overdue_at,
            )
            .join(AlertRow, AlertRow.id == AlertOrganizationRow.alert_id)
            .where(AlertOrganizationRow.acknowledged_at.is_(None), AlertRow.respond_by.is_not(None))
        )
        overdue = and_(AlertRow.respond_by <= overdue_at, AlertOrganizationRow.overdue_at.is_(None))
        condition = overdue
        if remind_until is not None:
            remind = and_(
                AlertRow.respond_by <= remind_until,
                AlertRow.respond_by > overdue_at,
                AlertOrganizationRow.reminded_at.is_(None),
            )
            condition = or_(overdue, remind)
        rows = self._session.execute(base.where(condition).limit(limit))
        return [(AlertId(r[0]), OrganizationId(r[1]), bool(r[2])) for r in rows.all()]

    def claim(
        self,
        alert_id: uuid.UUID,
        organization_ids: Iterable[uuid.UUID],
        now: datetime,
        *,
        overdue: bool,
    ) -> list[OrganizationId]:
        """Mark these organisations overdue (or reminded) unless another process did or they
        answered meanwhile; returns those this call marked. The conditional UPDATE is the
        claim: a concurrent sweeper's UPDATE finds the column set and matches nothing."""
        column = AlertOrganizationRow.overdue_at if overdue else AlertOrganizationRow.reminded_at
        result = self._session.execute(
            update(AlertOrganizationRow)
            .where(
                AlertOrganizationRow.alert_id == alert_id,
                AlertOrganizationRow.organization_id.in_(list(organization_ids)),
                AlertOrganizationRow.acknowledged_at.is_(None),
                column.is_(None),
            )
            .values({column.key: now})
            .returning(AlertOrganizationRow.organization_id)
        )
        return sorted(OrganizationId(i) for i in result.scalars().all())
