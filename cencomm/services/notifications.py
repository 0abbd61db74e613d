"""E-mail notifications: preferences, the durable outbox, and the background sender.

Delivery is at least once. An e-mail is queued in the transaction that causes it (so a crash
loses none), claimed by one process with a lease (a conditional UPDATE, so two processes never
send it at once) and marked sent after the SMTP transaction completed. A crash between the
SMTP server's final answer and that mark is the one edge that sends an e-mail twice, once the
lease runs out; every copy carries the same `Message-ID`, derived from the outbox id, so mail
systems and people can recognise the duplicate. A crash before or during the SMTP transaction
sends it once, later.
"""

from __future__ import annotations

import logging
import ssl
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib

from cencomm.domain.alerts import Alert
from cencomm.domain.audit import AuditRecord
from cencomm.domain.clock import Clock, rfc3339
from cencomm.domain.ids import new_id
from cencomm.domain.notifications import MailKind, Preferences, alert_mail
from cencomm.domain.users import Caller, Principal
from cencomm.services.audit import AuditTrail
from cencomm.services.background import Every, Job
from cencomm.settings import NotificationsSettings, SmtpSettings
from cencomm.storage.db import Database
from cencomm.storage.outbox import FAILED, PENDING, SENT, SKIPPED, OutboxMail
from cencomm.storage.unit import Unit

logger = logging.getLogger(__name__)

BATCH = 100
MAX_BACKOFF_SECONDS = 3600


class NotificationService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        audit: AuditTrail,
        settings: NotificationsSettings,
        smtp: SmtpSettings,
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self._settings = settings
        self._smtp = smtp
        self.sent = 0
        self.failures = 0

    @property
    def enabled(self) -> bool:
        """E-mail is on when an SMTP relay is configured."""
        return bool(self._smtp.host)

    # -- preferences -----------------------------------------------------------------------

    async def preferences(self, principal: Principal) -> Preferences:
        return await self._db.read(lambda unit: unit.outbox.preferences(principal.user_id))

    async def update_preferences(
        self, caller: Caller, *, alerts: bool | None, reminders: bool | None
    ) -> Preferences:
        principal = caller.principal
        assert principal is not None  # noqa: S101 - the route authenticates

        def update(unit: Unit) -> Preferences:
            store = unit.outbox
            current = store.preferences(principal.user_id)
            new_alerts = current.alerts if alerts is None else alerts
            new_reminders = current.reminders if reminders is None else reminders
            store.set_preferences(principal.user_id, alerts=new_alerts, reminders=new_reminders)
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller,
                    "notifications.update",
                    target_type="user",
                    target_id=principal.user_id,
                    details={"alerts": new_alerts, "reminders": new_reminders},
                ),
            )
            return store.preferences(principal.user_id)

        return await self._db.write(update)

    # -- queueing (inside the caller's transaction) ------------------------------------------

    def enqueue_alert_mail(
        self,
        unit: Unit,
        alert: Alert,
        text: str,
        user_ids: Iterable[uuid.UUID],
        kind: MailKind,
        now: datetime,
    ) -> int:
        """Queue one e-mail per user who wants it; returns how many were queued."""
        if not self.enabled:
            return 0
        store = unit.outbox
        targets = store.mail_targets(user_ids, kind)
        mail = alert_mail(
            kind,
            priority=alert.priority.value,
            hc=alert.hc,
            title=alert.title,
            text=text,
            link=f"{self._settings.base_url.rstrip('/')}/#/alerts/{alert.id}",
            respond_by=rfc3339(alert.respond_by) if alert.respond_by else None,
        )
        due = now + timedelta(seconds=self._settings.delay if kind is MailKind.ALERT else 0)
        store.enqueue(
            [
                {
                    "id": new_id(),
                    "kind": kind.value,
                    "dedupe_key": f"{kind.value}:{alert.id}:{user_id}",
                    "user_id": user_id,
                    "alert_id": alert.id,
                    "recipient": address,
                    "subject": mail.subject,
                    "body": mail.body,
                    "status": PENDING,
                    "created_at": now,
                    "next_attempt_at": due,
                    "attempts": 0,
                }
                for user_id, address in targets
            ]
        )
        return len(targets)

    # -- sending ---------------------------------------------------------------------------

    async def claim_due(self, now: datetime, token: uuid.UUID) -> list[OutboxMail]:
        """Claim the due e-mails for `token` until `now + lease`."""
        ids = await self._db.read(lambda unit: unit.outbox.due(now, BATCH))
        lease_until = now + timedelta(seconds=self._settings.lease)
        claimed = []

        def claim(mail_id: uuid.UUID) -> Callable[[Unit], OutboxMail | None]:
            return lambda unit: unit.outbox.claim(mail_id, token, now, lease_until)

        for mail_id in ids:
            # One short transaction per e-mail, as before: a claim never waits on the others.
            mail = await self._db.write(claim(mail_id))
            if mail is not None:
                claimed.append(mail)
        return claimed

    async def deliver_once(self, now: datetime | None = None) -> int:
        """Send every due e-mail once (skipping those no longer needed); returns how many
        were sent. Failures are retried later with exponential backoff."""
        if not self.enabled:
            return 0
        moment = now or self._clock.now()
        token = new_id()
        sent = 0
        for mail in await self.claim_due(moment, token):
            sent += await self._deliver(mail, token, moment)
        return sent

    async def _deliver(self, mail: OutboxMail, token: uuid.UUID, now: datetime) -> int:
        seen = await self._db.read(lambda unit: unit.outbox.already_seen(mail))
        if seen:
            await self._finish(mail, token, SKIPPED, now)
            return 0
        try:
            await self._send(mail, now)
        except (aiosmtplib.SMTPException, OSError, TimeoutError, ssl.SSLError) as exc:
            self.failures += 1
            error = f"{type(exc).__name__}: {exc}"[:500]
            if _permanent(exc) and mail.attempts >= self._settings.max_attempts:
                logger.warning("e-mail %s given up after %d attempts", mail.id, mail.attempts)
                await self._finish(mail, token, FAILED, now, error=error)
            else:
                wait = self._settings.retry_backoff * 2 ** (mail.attempts - 1)
                retry_at = now + timedelta(seconds=min(wait, MAX_BACKOFF_SECONDS))
                logger.info("e-mail %s failed (%s); retry at %s", mail.id, error, retry_at)
                await self._finish(mail, token, PENDING, now, error=error, retry_at=retry_at)
            return 0
        await self._finish(mail, token, SENT, now)
        self.sent += 1
        return 1

    async def _finish(
        self,
        mail: OutboxMail,
        token: uuid.UUID,
        status: str,
        now: datetime,
        *,
        error: str | None = None,
        retry_at: datetime | None = None,
    ) -> None:
        kept = await self._db.write(
            lambda unit: unit.outbox.finish(
                mail.id, token, status, now, error=error, retry_at=retry_at
            )
        )
        if not kept:
            logger.warning("e-mail %s: the lease ran out before it was marked %s", mail.id, status)

    def _message(self, mail: OutboxMail, now: datetime) -> EmailMessage:
        domain = self._smtp.from_address.rpartition("@")[2] or "cencomm"
        message = EmailMessage()
        message["From"] = self._smtp.from_address
        message["To"] = mail.recipient
        message["Subject"] = mail.subject
        message["Date"] = format_datetime(now)
        # Derived from the outbox id: a copy sent twice (the at-least-once edge) is recognisable.
        message["Message-ID"] = f"<outbox-{mail.id}@{domain}>"
        message["Auto-Submitted"] = "auto-generated"
        message.set_content(mail.body)
        return message

    async def _send(self, mail: OutboxMail, now: datetime) -> None:
        smtp = self._smtp
        context = ssl.create_default_context(cafile=smtp.ca_file or None)
        await aiosmtplib.send(
            self._message(mail, now),
            hostname=smtp.host,
            port=smtp.port,
            start_tls=smtp.starttls,
            tls_context=context if smtp.starttls else None,
            username=smtp.username or None,
            password=smtp.password.reveal() if smtp.password and smtp.username else None,
            timeout=smtp.timeout,
        )

    def job(self) -> Job:
        """The sender: one pass every `notifications.poll_interval` seconds, the first one an
        interval after start (a pass, and so an SMTP conversation or a claim, is never cut off
        at stop)."""
        return Job("notification-outbox", Every(self._settings.poll_interval), self.deliver_once)

    async def counts(self) -> dict[str, int]:
        return await self._db.read(lambda unit: unit.outbox.statuses())


def _permanent(exc: BaseException) -> bool:
    """Whether the relay refused for good (a 5xx answer). A relay that is down, slow or says
    "try again later" (4xx) is waited for however long it takes (the backoff stops growing at
    an hour): such a mail is never given up, so never lost."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        return bool(exc.recipients) and all(_permanent(r) for r in exc.recipients)
    return isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code >= 500
