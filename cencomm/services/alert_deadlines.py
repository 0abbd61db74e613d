"""The deadline sweeper: `respond_by` reminders and overdue escalation, exactly once.

Deadlines live in the database (`alert_organization.overdue_at` / `reminded_at`), so they
survive restarts; each (alert, organisation) is claimed with a conditional UPDATE in the same
transaction as its audit entry and e-mails, so two sweepers, in one process or several, never
both fire it. The live `alert.overdue` event is published after that commit.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from cencomm.crypto.jws import parse_compact
from cencomm.domain.audit import AuditRecord
from cencomm.domain.clock import Clock
from cencomm.domain.events import AlertOverdue
from cencomm.domain.ids import AlertId, OrganizationId, UserId
from cencomm.domain.notifications import MailKind
from cencomm.domain.users import Caller
from cencomm.services.audit import AuditTrail
from cencomm.services.background import Every, Job
from cencomm.services.events import Publisher
from cencomm.services.notifications import NotificationService
from cencomm.settings import AlertsSettings
from cencomm.storage.db import Database
from cencomm.storage.unit import Unit

logger = logging.getLogger(__name__)

BATCH = 1000
MAX_AUDITED_IDS = 100
# Per region: its overdue organisations, and the RILO users told of them.
_Liaisons = list[tuple[tuple[OrganizationId, ...], tuple[UserId, ...]]]


@dataclass(frozen=True, slots=True)
class SweepResult:
    overdue: int  # (alert, organisation) pairs this sweep marked overdue
    reminded: int  # pairs this sweep sent reminders for
    events: tuple[AlertOverdue, ...]


class AlertSweeper:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        audit: AuditTrail,
        publisher: Publisher,
        notifications: NotificationService,
        settings: AlertsSettings,
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self._publisher = publisher
        self._notifications = notifications
        self._settings = settings

    async def sweep_once(self, now: datetime | None = None) -> SweepResult:
        """Fire every deadline due at `now` that no sweeper fired yet."""
        moment = now or self._clock.now()
        remind_until = (
            moment + timedelta(seconds=self._settings.reminder_before)
            if self._notifications.enabled and self._settings.reminder_before > 0
            else None
        )
        due = await self._db.read(
            lambda unit: unit.alerts.due_deadlines(
                overdue_at=moment, remind_until=remind_until, limit=BATCH
            )
        )
        batches: dict[tuple[AlertId, bool], list[OrganizationId]] = defaultdict(list)
        for alert_id, organization_id, overdue in due:
            batches[(alert_id, overdue)].append(organization_id)
        events: list[AlertOverdue] = []
        overdue_count = reminded = 0
        for (alert_id, overdue), organizations in batches.items():
            if overdue:
                fired = await self._fire_overdue(alert_id, organizations, moment)
                if fired:
                    events.extend(fired)
                    overdue_count += len(fired[0].organization_ids)
            else:
                reminded += await self._remind(alert_id, organizations, moment)
        for event in events:
            self._publisher.publish(event)
        return SweepResult(overdue_count, reminded, tuple(events))

    async def _fire_overdue(
        self, alert_id: AlertId, organizations: list[OrganizationId], now: datetime
    ) -> list[AlertOverdue]:
        """Mark the organisations overdue and say who is told: the sender, moderators and
        admins of all of them (the first event), and each regional RILO of its own region's
        organisations only (one event per region). Nothing when another sweeper fired them."""

        def work(unit: Unit) -> tuple[list[OrganizationId], set[UserId], _Liaisons]:
            store = unit.alerts
            claimed = store.claim(alert_id, organizations, now, overdue=True)
            if not claimed:
                return [], set(), []  # another sweeper fired them, or they answered meanwhile
            alert = store.find(alert_id)
            assert alert is not None  # noqa: S101 - the deadline row references it
            watchers = {alert.sender.id, *store.staff_ids()}
            regional = unit.alert_boards.regional_liaisons(claimed)
            self._audit.append(
                unit,
                AuditRecord.by(
                    Caller.system(),
                    "alert.overdue",
                    target_type="alert",
                    target_id=alert_id,
                    details={
                        "organizations": len(claimed),
                        "organization_ids": [str(o) for o in claimed[:MAX_AUDITED_IDS]],
                    },
                ),
            )
            return claimed, watchers, regional

        claimed, watchers, regional = await self._db.write(work)
        if not claimed:
            return []
        events = [AlertOverdue(alert_id, tuple(claimed), tuple(sorted(watchers, key=str)))]
        for region_organizations, liaisons in regional:
            # Whoever hears of every organisation already (a sender at a RILO) hears it once.
            told = tuple(user for user in liaisons if user not in watchers)
            if told:
                events.append(AlertOverdue(alert_id, region_organizations, told))
        return events

    async def _remind(
        self, alert_id: AlertId, organizations: list[OrganizationId], now: datetime
    ) -> int:
        def work(unit: Unit) -> int:
            store = unit.alerts
            claimed = store.claim(alert_id, organizations, now, overdue=False)
            if not claimed:
                return 0
            alert = store.find(alert_id)
            assert alert is not None  # noqa: S101 - the deadline row references it
            users = store.recipients_of_organizations(alert_id, claimed)
            body = parse_compact(alert.jws).payload.get("body", {})
            text = body.get("text", "") if isinstance(body, dict) else ""
            queued = self._notifications.enqueue_alert_mail(
                unit, alert, str(text), users, MailKind.REMINDER, now
            )
            self._audit.append(
                unit,
                AuditRecord.by(
                    Caller.system(),
                    "alert.remind",
                    target_type="alert",
                    target_id=alert_id,
                    details={"organizations": len(claimed), "emails": queued},
                ),
            )
            return len(claimed)

        return await self._db.write(work)

    def job(self) -> Job:
        """The sweeper: one sweep every `alerts.sweep_interval` seconds, the first one an
        interval after start."""
        return Job("alert-deadlines", Every(self._settings.sweep_interval), self.sweep_once)
