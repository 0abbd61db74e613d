"""Alerts: who may target whom, the acknowledgement outcome cycle, deadlines and summaries.

An alert is a signed envelope (`typ` `alert`) whose recipients are fixed when it is sent. Each
recipient may acknowledge it; an organisation counts as acknowledged from its first user's ack.
The outcome follows the CENcomm warning/feedback cycle `received` → `controlled` →
`nil_find` → `seized`: it only moves forward (steps may be skipped). `nil_find` → `seized`
records a seizure made after a nil find; `seized` is final.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from cencomm.domain.envelopes import AlertTargets
from cencomm.domain.errors import Conflict, FieldError, Forbidden, Invalid
from cencomm.domain.ids import AlertId, OrganizationId, UserId
from cencomm.domain.users import Region, Role

MAX_NOTE = 2000
# Recipients per live notice: a notice stays far below the bus's 1 MiB limit.
NOTICE_CHUNK = 5000


class Priority(enum.StrEnum):
    FLASH = "flash"
    IMMEDIATE = "immediate"
    ROUTINE = "routine"


class Outcome(enum.StrEnum):
    RECEIVED = "received"
    CONTROLLED = "controlled"
    NIL_FIND = "nil_find"
    SEIZED = "seized"


# A later step ranks higher. A seizure after a nil find is a real event, so `seized` comes after
# `nil_find`; nothing comes after `seized`.
_RANK = {Outcome.RECEIVED: 0, Outcome.CONTROLLED: 1, Outcome.NIL_FIND: 2, Outcome.SEIZED: 3}
_CYCLE = "received → controlled → nil_find → seized, steps may be skipped"


def moves_forward(current: Outcome, new: Outcome) -> bool:
    """True when `new` is a later step than `current`."""
    return _RANK[new] > _RANK[current]


def check_outcome_move(current: Outcome, new: Outcome) -> bool:
    """Whether acknowledging again with `new` changes anything.

    Returns:
        False for a repeat of the current outcome (idempotent), True for a step forward.

    Raises:
        Conflict: `outcome-step-back` for a step back; a seizure is final.
    """
    if new is current:
        return False
    if moves_forward(current, new):
        return True
    if current is Outcome.SEIZED:
        detail = f"the outcome is seized, which is final: it cannot become {new.value}"
    else:
        detail = f"the outcome is {current.value}; it cannot go back to {new.value} ({_CYCLE})"
    raise Conflict(detail, slug="outcome-step-back")


def best_outcome(a: Outcome | None, b: Outcome) -> Outcome:
    """The organisation's outcome: the most advanced one of its users."""
    if a is None or _RANK[b] > _RANK[a]:
        return b
    return a


def reminder_waived(created_at: datetime, respond_by: datetime | None, lead: int) -> bool:
    """Whether an alert goes without its `respond_by` reminder.

    The reminder is due `lead` seconds (`alerts.reminder_before`) before `respond_by`. An alert
    sent later than that moment (its deadline sooner than the lead) is younger than its own
    reminder's lead time: the alert itself is the reminder, so none follows it.
    """
    return respond_by is not None and respond_by - timedelta(seconds=lead) <= created_at


def check_targets_allowed(role: Role, targets: AlertTargets) -> None:
    """What each role may target (API.md "Alerts"). Group-level rights are checked per group.

    Officers: groups they post in. Analysts (RILO staff): also organisations and regions.
    Moderators and admins: anything, `all` included. Observers never send alerts.

    Raises:
        Forbidden: `read-only` for observers, `alert-target-not-allowed` otherwise.
    """
    if role is Role.OBSERVER:
        raise Forbidden("observers never send alerts", slug="read-only")
    if role in (Role.ADMIN, Role.MODERATOR):
        return
    refused: list[str] = []
    if targets.all:
        refused.append("all")
    if role is Role.OFFICER:
        refused += [k for k in ("organizations", "regions") if getattr(targets, k)]
    if refused:
        raise Forbidden(
            f"your role may not target {', '.join(refused)}",
            slug="alert-target-not-allowed",
        )


def unknown_recipient(field: str, message: str) -> Invalid:
    """A target that names no group or organisation the sender can see (422, not 404: the
    URL names /alerts, and an invisible group answers exactly like an absent one)."""
    return Invalid(
        f"{field}: {message}",
        slug="unknown-recipient",
        errors=(FieldError(field, message),),
    )


@dataclass(frozen=True, slots=True)
class AlertSender:
    id: UserId
    display_name: str
    organization_id: OrganizationId
    organization_name: str


@dataclass(frozen=True, slots=True)
class Alert:
    """A stored alert: its verbatim JWS and what the server reads from it."""

    id: AlertId
    sender: AlertSender
    kid: str
    cid: str
    jws: str
    hc: str
    title: str
    priority: Priority
    ack_required: bool
    respond_by: datetime | None
    expires_at: datetime | None
    created_at: datetime
    recipients: int
    organizations: int


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    alert_id: AlertId
    user_id: UserId
    organization_id: OrganizationId
    acknowledged_at: datetime
    outcome: Outcome
    note: str | None
    seizure_message_id: uuid.UUID | None
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class OrganizationAck:
    """One targeted organisation in an alert's summary."""

    id: OrganizationId
    name: str
    acknowledged_at: datetime | None
    outcome: Outcome | None
    overdue: bool


@dataclass(frozen=True, slots=True)
class Unlisted:
    """Organisations on a board whose names its reader may not see, counted (the roster rule)."""

    organizations: int
    acknowledged: int
    overdue: int


@dataclass(frozen=True, slots=True)
class AckSummary:
    """An alert's acknowledgement board as one reader sees it (`domain/alert_boards.py`).

    `region` is set when the board is a regional RILO's: `recipients`, `acknowledged` and
    `organizations` then cover that region's overdue organisations only. `unlisted` counts the
    organisations whose names the roster rule keeps from the reader (None: every one is listed).
    """

    recipients: int
    acknowledged: int
    organizations: tuple[OrganizationAck, ...]
    region: Region | None = None
    unlisted: Unlisted | None = None


@dataclass(frozen=True, slots=True)
class AlertView:
    """An alert as one reader sees it: their own ack, and the summary if they may see it."""

    alert: Alert
    my_ack: Acknowledgement | None
    summary: AckSummary | None


@dataclass(frozen=True, slots=True)
class Recipient:
    user_id: UserId
    organization_id: OrganizationId
    # Observers receive alerts (unless withheld by the handling code) but never answer them.
    answers: bool
