"""OutboxStore: durable e-mails with leases, and the users' notification preferences."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from cencomm.domain.ids import UserId
from cencomm.domain.notifications import MailKind, Preferences
from cencomm.storage.tables import (
    AlertAckRow,
    AlertOrganizationRow,
    AlertRecipientRow,
    NotificationPreferenceRow,
    OutboxRow,
    UserRow,
)

PENDING, SENT, SKIPPED, FAILED = "pending", "sent", "skipped", "failed"


@dataclass(frozen=True, slots=True)
class OutboxMail:
    """A claimed e-mail, as the sender needs it."""

    id: uuid.UUID
    kind: MailKind
    user_id: uuid.UUID | None
    alert_id: uuid.UUID | None
    recipient: str
    subject: str
    body: str
    attempts: int


class OutboxStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    # -- preferences -----------------------------------------------------------------------

    def preferences(self, user_id: uuid.UUID) -> Preferences:
        email = self._session.scalar(select(UserRow.email).where(UserRow.id == user_id))
        row = self._session.get(NotificationPreferenceRow, user_id)
        if row is None:
            return Preferences(email=email)
        return Preferences(email=email, alerts=row.alerts, reminders=row.reminders)

    def set_preferences(self, user_id: uuid.UUID, *, alerts: bool, reminders: bool) -> None:
        row = self._session.get(NotificationPreferenceRow, user_id, with_for_update=True)
        if row is None:
            self._session.add(
                NotificationPreferenceRow(user_id=user_id, alerts=alerts, reminders=reminders)
            )
            self._session.flush()
        else:
            self._session.execute(
                update(NotificationPreferenceRow)
                .where(NotificationPreferenceRow.user_id == user_id)
                .values(alerts=alerts, reminders=reminders)
            )

    def mail_targets(
        self, user_ids: Iterable[uuid.UUID], kind: MailKind
    ) -> list[tuple[UserId, str]]:
        """Of these users, the enabled ones with an address who want this kind of e-mail."""
        ids = list(user_ids)
        if not ids:
            return []
        wanted = (
            NotificationPreferenceRow.reminders
            if kind is MailKind.REMINDER
            else NotificationPreferenceRow.alerts
        )
        rows = self._session.execute(
            select(UserRow.id, UserRow.email)
            .outerjoin(NotificationPreferenceRow, NotificationPreferenceRow.user_id == UserRow.id)
            .where(
                UserRow.id.in_(ids),
                UserRow.email.is_not(None),
                UserRow.disabled.is_(False),
                or_(NotificationPreferenceRow.user_id.is_(None), wanted.is_(True)),
            )
        )
        return [(UserId(r[0]), str(r[1])) for r in rows.all()]

    # -- the outbox ------------------------------------------------------------------------

    def enqueue(self, rows: Sequence[dict[str, Any]]) -> None:
        """Queue e-mails; one whose `dedupe_key` is queued already is left as it is."""
        if not rows:
            return
        if self._session.get_bind().dialect.name == "sqlite":
            statement: Any = sqlite_insert(OutboxRow).on_conflict_do_nothing(
                index_elements=["dedupe_key"]
            )
        else:
            statement = pg_insert(OutboxRow).on_conflict_do_nothing(index_elements=["dedupe_key"])
        self._session.execute(statement, list(rows))

    def due(self, now: datetime, limit: int) -> list[uuid.UUID]:
        rows = self._session.scalars(
            select(OutboxRow.id)
            .where(
                OutboxRow.status == PENDING,
                OutboxRow.next_attempt_at <= now,
                or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until <= now),
            )
            .order_by(OutboxRow.next_attempt_at)
            .limit(limit)
        )
        return list(rows.all())

    def claim(
        self, mail_id: uuid.UUID, token: uuid.UUID, now: datetime, lease_until: datetime
    ) -> OutboxMail | None:
        """Reserve one due e-mail for `token` until `lease_until`; None if another process holds
        it or it is no longer pending. The conditional UPDATE is the lock."""
        result = self._session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.id == mail_id,
                OutboxRow.status == PENDING,
                OutboxRow.next_attempt_at <= now,
                or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until <= now),
            )
            .values(lease_until=lease_until, claimed_by=token, attempts=OutboxRow.attempts + 1)
            .returning(
                OutboxRow.id,
                OutboxRow.kind,
                OutboxRow.user_id,
                OutboxRow.alert_id,
                OutboxRow.recipient,
                OutboxRow.subject,
                OutboxRow.body,
                OutboxRow.attempts,
            )
        )
        row = result.first()
        if row is None:
            return None
        return OutboxMail(row[0], MailKind(row[1]), row[2], row[3], row[4], row[5], row[6], row[7])

    def finish(
        self,
        mail_id: uuid.UUID,
        token: uuid.UUID,
        status: str,
        now: datetime,
        *,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> bool:
        """Record the result of a claimed e-mail; False if the claim was lost (lease expired
        and another process took it over)."""
        values: dict[str, Any] = {"status": status, "lease_until": None, "last_error": error}
        if status == SENT:
            values["sent_at"] = now
        if retry_at is not None:
            values["next_attempt_at"] = retry_at
        result = self._session.execute(
            update(OutboxRow)
            .where(
                OutboxRow.id == mail_id,
                OutboxRow.claimed_by == token,
                OutboxRow.status == PENDING,
            )
            .values(values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def already_seen(self, mail: OutboxMail) -> bool:
        """Whether the e-mail is no longer needed: the alert reached one of the user's live
        sockets or was acknowledged (alerts), or the organisation answered (reminders)."""
        if mail.alert_id is None or mail.user_id is None:
            return False
        acked = self._session.scalar(
            select(AlertAckRow.user_id).where(
                AlertAckRow.alert_id == mail.alert_id, AlertAckRow.user_id == mail.user_id
            )
        )
        if acked is not None:
            return True
        recipient = self._session.get(AlertRecipientRow, (mail.alert_id, mail.user_id))
        if recipient is None:
            return True
        if mail.kind is MailKind.ALERT:
            return recipient.delivered_at is not None
        answered = self._session.scalar(
            select(AlertOrganizationRow.acknowledged_at).where(
                AlertOrganizationRow.alert_id == mail.alert_id,
                AlertOrganizationRow.organization_id == recipient.organization_id,
            )
        )
        return answered is not None

    def statuses(self) -> dict[str, int]:
        rows = self._session.execute(select(OutboxRow.status, OutboxRow.id))
        counts: dict[str, int] = {}
        for status, _ in rows.all():
            counts[status] = counts.get(status, 0) + 1
        return counts
