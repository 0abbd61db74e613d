"""Alerts: verify and send (recipients fixed when sent), read, acknowledge, and fan out."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import replace
from datetime import UTC, datetime

from cencomm.domain.alert_boards import alert_reading, follows_up_escalations
from cencomm.domain.alerts import (
    NOTICE_CHUNK,
    Acknowledgement,
    Alert,
    AlertView,
    Outcome,
    Priority,
    Recipient,
    best_outcome,
    check_outcome_move,
    check_targets_allowed,
    reminder_waived,
)
from cencomm.domain.audit import AuditRecord
from cencomm.domain.clock import Clock
from cencomm.domain.envelopes import Envelope, MessageType
from cencomm.domain.errors import Forbidden, Invalid, NotFound
from cencomm.domain.events import AlertAcknowledged, AlertRaised
from cencomm.domain.ids import AlertId, UserId, new_id
from cencomm.domain.keys import SigningKey
from cencomm.domain.messages import may_read
from cencomm.domain.notifications import MailKind
from cencomm.domain.users import Caller, Principal, Role, clean_text
from cencomm.services.alert_boards import ack_summary
from cencomm.services.alert_recipients import resolve_recipients
from cencomm.services.alert_references import check_attachments, check_reply_to
from cencomm.services.audit import AuditTrail
from cencomm.services.events import Publisher
from cencomm.services.groups import GroupService
from cencomm.services.notifications import NotificationService
from cencomm.services.signed_envelopes import ALERTS, duplicate_cid, invalid
from cencomm.storage.db import Database
from cencomm.storage.unit import Unit

MAX_NOTE = 2000
EMAILED = frozenset({Priority.FLASH, Priority.IMMEDIATE})


def _principal(caller: Caller) -> Principal:
    if caller.principal is None:
        raise NotFound("no such alert")
    return caller.principal


def _time(seconds: int | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


class AlertService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        audit: AuditTrail,
        publisher: Publisher,
        groups: GroupService,
        notifications: NotificationService,
        reminder_before: int,
    ) -> None:
        self._db = db
        self._reminder_before = reminder_before
        self._clock = clock
        self._audit = audit
        self._publisher = publisher
        self._groups = groups
        self.notifications = notifications

    # -- sending ---------------------------------------------------------------------------

    async def raise_alert(self, caller: Caller, jws: str) -> tuple[Alert, bool]:
        """Verify a signed alert exactly like a message, resolve and store its recipients.

        Returns:
            The alert and whether it is new (False: an identical repeat of its cid).

        Raises:
            Forbidden: observers (`read-only`), or a target the role may not use
                (`alert-target-not-allowed`), or a group the sender only observes.
            Conflict: a target group that is not active, or the cid used with another JWS.
            Invalid: the named check failed (see `MessagingService.post`), `unknown-recipient`,
                `no-recipients`, `invalid-reply`, `unknown-attachment`
                (`services/alert_references.py`).
        """
        principal = _principal(caller)
        if principal.role is Role.OBSERVER:
            raise Forbidden("observers never send alerts", slug="read-only")
        parsed = ALERTS.parse(jws)
        now = self._clock.now()
        envelope = await ALERTS.load(parsed, self._read_key, principal, grp=None, now=now)
        assert envelope.to is not None and envelope.alert is not None  # noqa: S101 - typ alert
        check_targets_allowed(principal.role, envelope.to)
        digest = hashlib.sha256(jws.encode()).digest()

        def work(unit: Unit) -> tuple[Alert, list[Recipient] | None]:
            """The alert and its recipients; None for them when it repeats a stored one."""
            store = unit.alerts
            existing = store.find_by_cid(principal.user_id, envelope.cid)
            if existing is not None:
                if existing[1] != digest:
                    raise duplicate_cid()
                original = store.find(existing[0])
                assert original is not None  # noqa: S101 - just found by cid
                return original, None
            recipients = resolve_recipients(unit, self._groups, principal, envelope)
            check_reply_to(unit, self._groups, principal, envelope)
            check_attachments(unit, self._groups, principal, envelope)
            alert = self._store(
                unit, caller, principal, envelope, jws, parsed.kid, digest, recipients, now
            )
            return alert, recipients

        alert, recipients = await self._db.write(work)
        if recipients is None:
            return alert, False
        ids = [r.user_id for r in recipients]
        for start in range(0, len(ids), NOTICE_CHUNK):
            self._publisher.publish(AlertRaised(alert.id, tuple(ids[start : start + NOTICE_CHUNK])))
        return alert, True

    async def _read_key(self, kid: str) -> SigningKey | None:
        return await self._db.read(lambda unit: unit.keys.find(kid))

    def _store(
        self,
        unit: Unit,
        caller: Caller,
        principal: Principal,
        envelope: Envelope,
        jws: str,
        kid: str,
        digest: bytes,
        recipients: list[Recipient],
        now: datetime,
    ) -> Alert:
        body = envelope.alert
        assert body is not None  # noqa: S101 - typ alert
        alert_id = AlertId(new_id())
        organizations = sorted({r.organization_id for r in recipients if r.answers}, key=str)
        row = {
            "id": alert_id,
            "sender_id": principal.user_id,
            "sender_organization_id": principal.organization_id,
            "kid": kid,
            "cid": envelope.cid,
            "jws": jws,
            "jws_sha256": digest,
            "hc": envelope.hc.value,
            "title": body.title[:200],
            "priority": body.priority,
            "ack_required": body.ack_required,
            "respond_by": _time(body.respond_by),
            "expires_at": _time(body.expires_at),
            "created_at": now,
            "recipient_count": len(recipients),
            "organization_count": len(organizations),
        }
        store = unit.alerts
        waived = reminder_waived(now, _time(body.respond_by), self._reminder_before)
        store.insert(row, recipients, organizations, reminded_at=now if waived else None)
        alert = store.find(alert_id)
        assert alert is not None  # noqa: S101 - inserted above
        self._audit.append(
            unit,
            AuditRecord.by(
                caller,
                "alert.raise",
                target_type="alert",
                target_id=alert_id,
                details={
                    "cid": envelope.cid,
                    "priority": body.priority,
                    "hc": envelope.hc.value,
                    "recipients": len(recipients),
                    "organizations": len(organizations),
                },
            ),
        )
        if alert.priority in EMAILED:
            self.notifications.enqueue_alert_mail(
                unit, alert, body.text, [r.user_id for r in recipients], MailKind.ALERT, now
            )
        return alert

    # -- reading ---------------------------------------------------------------------------

    async def get_alert(self, principal: Principal, alert_id: uuid.UUID) -> AlertView:
        """An alert with the board its reader may see (`domain/alert_boards.py`): for a
        recipient, its sender, staff, or a RILO it was escalated to; anyone else NotFound."""

        def work(unit: Unit) -> AlertView:
            store = unit.alerts
            alert = store.find(alert_id)
            # The same queries run for a missing alert and a hidden one: not even timing tells.
            recipient = store.find_recipient(alert_id, principal.user_id)
            escalated = unit.alert_boards.escalated_region(alert_id, principal.organization_id)
            reading = alert_reading(
                principal,
                exists=alert is not None,
                is_sender=alert is not None and alert.sender.id == principal.user_id,
                is_recipient=recipient is not None,
                escalated_region=escalated,
            )
            assert alert is not None  # noqa: S101 - alert_reading raised NotFound otherwise
            my_ack = store.find_ack(alert_id, principal.user_id)
            summary = ack_summary(unit, self._groups, principal, alert, reading)
            return AlertView(alert, my_ack, summary)

        return await self._db.read(work)

    async def list_alerts(
        self,
        principal: Principal,
        *,
        active: bool,
        before: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[AlertView]:
        """Alerts the caller received or sent, and those escalated to the caller's RILO, newest
        first."""
        now = self._clock.now()
        escalated_to = principal.organization_id if follows_up_escalations(principal.role) else None

        def work(unit: Unit) -> list[AlertView]:
            store = unit.alerts
            alerts = store.list_for(
                principal.user_id,
                active_at=now if active else None,
                before=before,
                limit=limit,
                escalated_to=escalated_to,
            )
            acks = store.acks_of([a.id for a in alerts], principal.user_id)
            return [AlertView(a, acks.get(a.id), None) for a in alerts]

        return await self._db.read(work)

    async def alert_for_delivery(self, alert_id: uuid.UUID) -> Alert | None:
        """The alert as live frames carry it (the same for every recipient)."""
        return await self._db.read(lambda unit: unit.alerts.find(alert_id))

    async def mark_delivered(self, alert_id: uuid.UUID, user_ids: list[UserId]) -> None:
        """These recipients had a live socket when the alert arrived: no e-mail for them."""
        now = self._clock.now()
        await self._db.write(lambda unit: unit.alerts.mark_delivered(alert_id, user_ids, now))

    async def ack_watchers(self, alert_id: uuid.UUID, organization_id: uuid.UUID) -> list[UserId]:
        """Who is told of an ack: the sender, moderators and admins, the recipients of the
        acknowledging organisation (so colleagues see it was answered) and, once it was
        escalated as overdue, the RILO of its region."""

        def work(unit: Unit) -> list[UserId]:
            store = unit.alerts
            alert = store.find(alert_id)
            if alert is None:
                return []
            watchers = {alert.sender.id, *store.staff_ids()}
            watchers.update(store.recipients_of_organizations(alert_id, [organization_id]))
            watchers.update(unit.alert_boards.escalation_watchers(alert_id, organization_id))
            return sorted(watchers, key=str)

        return await self._db.read(work)

    # -- acknowledging ---------------------------------------------------------------------

    async def acknowledge(
        self,
        caller: Caller,
        alert_id: uuid.UUID,
        outcome: Outcome | None,
        note: str | None,
        seizure_message_id: uuid.UUID | None,
    ) -> Acknowledgement:
        """Acknowledge (first time: idempotent) or move the outcome forward.

        Raises:
            NotFound: no such alert, or the caller is not one of its recipients.
            Forbidden: `read-only` for observers.
            Conflict: `outcome-step-back`.
            Invalid: `invalid-seizure-link`.
        """
        principal = _principal(caller)
        note_text = clean_text(note, "body.note", MAX_NOTE) if note else None
        now = self._clock.now()

        def work(unit: Unit) -> tuple[Acknowledgement, bool]:
            """The acknowledgement, and whether it is new or moved (False: a repeat)."""
            store = unit.alerts
            if store.find(alert_id) is None:
                raise NotFound("no such alert")
            recipient = store.find_recipient(alert_id, principal.user_id)
            if recipient is None:
                raise NotFound("no such alert")
            if not recipient.answers:
                raise Forbidden("observers do not answer alerts", slug="read-only")
            existing = store.find_ack(alert_id, principal.user_id, for_update=True)
            if existing is not None and (
                outcome is None or not check_outcome_move(existing.outcome, outcome)
            ):
                return existing, False
            target = outcome or Outcome.RECEIVED
            if seizure_message_id is not None:
                self._check_seizure(unit, principal, seizure_message_id, target)
            if existing is None:
                ack = Acknowledgement(
                    AlertId(alert_id),
                    principal.user_id,
                    recipient.organization_id,
                    now,
                    target,
                    note_text,
                    seizure_message_id,
                    now,
                )
                store.insert_ack(ack)
            else:
                ack = replace(
                    existing,
                    outcome=target,
                    note=note_text or existing.note,
                    seizure_message_id=seizure_message_id or existing.seizure_message_id,
                    updated_at=now,
                )
                store.update_ack(ack)
            org_outcome = best_outcome(
                store.organization_outcome(alert_id, recipient.organization_id), target
            )
            store.record_organization_ack(alert_id, recipient.organization_id, now, org_outcome)
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller,
                    "alert.ack" if existing is None else "alert.ack_update",
                    target_type="alert",
                    target_id=alert_id,
                    details={
                        "outcome": target.value,
                        "seizure_message_id": str(seizure_message_id)
                        if seizure_message_id
                        else None,
                    },
                ),
            )
            return ack, True

        ack, changed = await self._db.write(work)
        if not changed:
            return ack  # a repeat: no new entry, no event
        self._publisher.publish(
            AlertAcknowledged(
                ack.alert_id, ack.user_id, ack.organization_id, ack.acknowledged_at, ack.outcome
            )
        )
        return ack

    def _check_seizure(
        self, unit: Unit, principal: Principal, message_id: uuid.UUID, outcome: Outcome
    ) -> None:
        def refuse(message: str) -> Invalid:
            return invalid(
                "invalid-seizure-link", "Invalid seizure link", "body.seizure_message_id", message
            )

        if outcome is not Outcome.SEIZED:
            raise refuse("only a seized outcome links a seizure report")
        message = unit.messages.find(message_id)
        if message is None or message.typ != MessageType.SEIZURE.value:
            raise refuse("not a seizure report you may read")
        try:
            access = self._groups.access(unit, principal, message.group_id)
        except NotFound:
            raise refuse("not a seizure report you may read") from None
        if not may_read(access, message):
            raise refuse("not a seizure report you may read")
