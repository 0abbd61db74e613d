"""Who may read an alert, and how much of its acknowledgement board each reader sees.

Everyone who may read an alert sees the alert itself (its JWS) and their own acknowledgement.
The board (`ack_summary`: which organisations answered, their outcome, who is overdue) is shown

- in full to moderators and admins;
- to the sender, whole in its counts, but naming only organisations the sender knows of: their
  own, those they targeted by id or by region, and the members of target groups whose roster
  they see (the roster rule of API.md: with `roster_visible: false`, members see only the
  moderators and their own organisation). Every other organisation is counted in `unlisted`;
- to a regional RILO once an organisation of its region went overdue on the alert (the
  escalation of API.md "Alerts"): the alert, and a board of its own region's overdue
  organisations only, with the recipients and acknowledgements of those organisations. Least
  privilege: a RILO learns of nothing but what it was escalated, and how that goes on. This
  holds whatever the handling code (the contract names the region's RILO among those an
  overdue organisation is escalated to); observers never follow up escalations;
- to recipients, not at all.

Anyone else gets NotFound, exactly as for an alert that does not exist.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from cencomm.domain.alerts import AckSummary, OrganizationAck, Unlisted
from cencomm.domain.errors import NotFound
from cencomm.domain.ids import OrganizationId
from cencomm.domain.users import Principal, Region, Role


class Board(enum.StrEnum):
    NONE = "none"  # a recipient: the alert and their own acknowledgement only
    FULL = "full"  # moderators and admins
    SENDER = "sender"  # the whole board's counts, names within the roster rule
    REGION = "region"  # a regional RILO after escalation: its region's overdue organisations


@dataclass(frozen=True, slots=True)
class AlertReading:
    """What one reader may see of one alert."""

    board: Board
    region: Region | None = None  # set for Board.REGION


def follows_up_escalations(role: Role) -> bool:
    """Users of a RILO who are told of overdue organisations of its region, and may then read
    the alert: everyone but observers (partners, read-only wherever admitted)."""
    return role is not Role.OBSERVER


def alert_reading(
    principal: Principal,
    *,
    exists: bool,
    is_sender: bool,
    is_recipient: bool,
    escalated_region: Region | None,
) -> AlertReading:
    """Decide what `principal` may see of an alert.

    Args:
        escalated_region: the region of the principal's organisation when that organisation is
            a RILO and an organisation of its region is overdue on this alert, else None.

    Raises:
        NotFound: the alert does not exist or the principal may not read it (the same answer).
    """
    if exists:
        if principal.is_staff:
            return AlertReading(Board.FULL)
        if is_sender:
            return AlertReading(Board.SENDER)
        if escalated_region is not None and follows_up_escalations(principal.role):
            return AlertReading(Board.REGION, escalated_region)
        if is_recipient:
            return AlertReading(Board.NONE)
    raise NotFound("no such alert")  # not even whether it exists


@dataclass(frozen=True, slots=True)
class BoardEntry:
    """One organisation expected to answer an alert, with how many of its users received the
    alert and acknowledged it."""

    organization: OrganizationAck
    region: Region | None
    recipients: int
    acknowledged: int


@dataclass(frozen=True, slots=True)
class KnownToSender:
    """The organisations a sender may see named on their board (the roster rule)."""

    organizations: frozenset[OrganizationId]
    regions: frozenset[Region]

    def names(self, entry: BoardEntry) -> bool:
        return entry.organization.id in self.organizations or (
            entry.region is not None and entry.region in self.regions
        )


def board_summary(
    reading: AlertReading,
    entries: Sequence[BoardEntry],
    *,
    recipients: int,
    acknowledged: int,
    known: KnownToSender | None = None,
) -> AckSummary | None:
    """The board as `reading` allows (None: no board for this reader).

    Args:
        entries: every organisation expected to answer, in display order.
        recipients, acknowledged: users who received and acknowledged the alert, in all.
        known: for the sender, the organisations they may see named; None when a hidden
            roster keeps nothing from them.
    """
    if reading.board is Board.NONE:
        return None
    if reading.board is Board.REGION:
        mine = [e for e in entries if e.organization.overdue and e.region is reading.region]
        return AckSummary(
            recipients=sum(e.recipients for e in mine),
            acknowledged=sum(e.acknowledged for e in mine),
            organizations=tuple(e.organization for e in mine),
            region=reading.region,
        )
    listed = list(entries)
    unlisted = None
    if reading.board is Board.SENDER and known is not None:
        listed = [e for e in entries if known.names(e)]
        others = [e for e in entries if not known.names(e)]
        if others:
            unlisted = Unlisted(
                organizations=len(others),
                acknowledged=sum(1 for e in others if e.organization.acknowledged_at is not None),
                overdue=sum(1 for e in others if e.organization.overdue),
            )
    return AckSummary(
        recipients=recipients,
        acknowledged=acknowledged,
        organizations=tuple(e.organization for e in listed),
        unlisted=unlisted,
    )
