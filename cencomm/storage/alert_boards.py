"""AlertBoardStore: an alert's acknowledgement board, and the regional RILOs its overdue
organisations are escalated to (the rules are in `domain/alert_boards.py`)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, aliased

from cencomm.domain.alert_boards import BoardEntry, follows_up_escalations
from cencomm.domain.alerts import OrganizationAck, Outcome
from cencomm.domain.ids import OrganizationId, UserId
from cencomm.domain.users import OrganizationKind, Region, Role
from cencomm.storage.tables import (
    AlertAckRow,
    AlertOrganizationRow,
    AlertRecipientRow,
    OrganizationRow,
    UserRow,
)

_FOLLOWING_UP = [role.value for role in Role if follows_up_escalations(role)]


def escalated_alert_ids(organization_id: uuid.UUID) -> Select[uuid.UUID]:
    """Ids of the alerts on which an organisation of this RILO's region is overdue (none when
    the organisation is not a RILO with a region): a subquery for listings."""
    rilo, target = aliased(OrganizationRow), aliased(OrganizationRow)
    region = (
        select(rilo.region)
        .where(rilo.id == organization_id, rilo.kind == OrganizationKind.RILO.value)
        .scalar_subquery()
    )
    return (
        select(AlertOrganizationRow.alert_id)
        .join(target, target.id == AlertOrganizationRow.organization_id)
        .where(AlertOrganizationRow.overdue_at.is_not(None), target.region == region)
    )


class AlertBoardStore:
    def __init__(self, session: Session) -> None:
        self._session = session

    def board(self, alert_id: uuid.UUID) -> tuple[list[BoardEntry], int, int]:
        """Every organisation expected to answer (by name) with its counts; and how many users
        received and acknowledged the alert in all (observers' organisations answer nothing,
        so they count only in the totals)."""
        recipients = dict(
            self._session.execute(
                select(AlertRecipientRow.organization_id, func.count())
                .where(AlertRecipientRow.alert_id == alert_id)
                .group_by(AlertRecipientRow.organization_id)
            ).all()
        )
        acknowledged = dict(
            self._session.execute(
                select(AlertAckRow.organization_id, func.count())
                .where(AlertAckRow.alert_id == alert_id)
                .group_by(AlertAckRow.organization_id)
            ).all()
        )
        rows = self._session.execute(
            select(
                AlertOrganizationRow.organization_id,
                OrganizationRow.name,
                AlertOrganizationRow.acknowledged_at,
                AlertOrganizationRow.outcome,
                AlertOrganizationRow.overdue_at,
                OrganizationRow.region,
            )
            .join(OrganizationRow, OrganizationRow.id == AlertOrganizationRow.organization_id)
            .where(AlertOrganizationRow.alert_id == alert_id)
            .order_by(OrganizationRow.name)
        )
        entries = [
            BoardEntry(
                organization=OrganizationAck(
                    id=OrganizationId(r[0]),
                    name=r[1],
                    acknowledged_at=r[2],
                    outcome=Outcome(r[3]) if r[3] else None,
                    overdue=r[4] is not None,
                ),
                region=Region(r[5]) if r[5] else None,
                recipients=int(recipients.get(r[0], 0)),
                acknowledged=int(acknowledged.get(r[0], 0)),
            )
            for r in rows.all()
        ]
        return entries, sum(recipients.values()), sum(acknowledged.values())

    def escalated_region(self, alert_id: uuid.UUID, organization_id: uuid.UUID) -> Region | None:
        """The region of this organisation if it is a RILO and an organisation of its region
        is overdue on the alert; else None."""
        rilo, target = aliased(OrganizationRow), aliased(OrganizationRow)
        overdue_here = (
            select(AlertOrganizationRow.organization_id)
            .join(target, target.id == AlertOrganizationRow.organization_id)
            .where(
                AlertOrganizationRow.alert_id == alert_id,
                AlertOrganizationRow.overdue_at.is_not(None),
                target.region == rilo.region,
            )
            .exists()
        )
        region = self._session.scalar(
            select(rilo.region).where(
                rilo.id == organization_id,
                rilo.kind == OrganizationKind.RILO.value,
                rilo.region.is_not(None),
                overdue_here,
            )
        )
        return Region(region) if region else None

    def regional_liaisons(
        self, organization_ids: Iterable[uuid.UUID]
    ) -> list[tuple[tuple[OrganizationId, ...], tuple[UserId, ...]]]:
        """For each region of these organisations that has a RILO: its organisations among
        them, and the users of its RILO(s) who follow up escalations."""
        by_region: dict[str, list[OrganizationId]] = defaultdict(list)
        rows = self._session.execute(
            select(OrganizationRow.id, OrganizationRow.region).where(
                OrganizationRow.id.in_(list(organization_ids)), OrganizationRow.region.is_not(None)
            )
        )
        for org_id, region in rows.all():
            by_region[str(region)].append(OrganizationId(org_id))
        if not by_region:
            return []
        users: dict[str, list[UserId]] = defaultdict(list)
        rows = self._session.execute(
            select(UserRow.id, OrganizationRow.region)
            .join(OrganizationRow, OrganizationRow.id == UserRow.organization_id)
            .where(
                OrganizationRow.kind == OrganizationKind.RILO.value,
                OrganizationRow.region.in_(list(by_region)),
                UserRow.disabled.is_(False),
                UserRow.role.in_(_FOLLOWING_UP),
            )
        )
        for user_id, region in rows.all():
            users[str(region)].append(UserId(user_id))
        return [
            (tuple(sorted(orgs)), tuple(sorted(users[region], key=str)))
            for region, orgs in sorted(by_region.items())
            if users[region]
        ]

    def escalation_watchers(self, alert_id: uuid.UUID, organization_id: uuid.UUID) -> list[UserId]:
        """The RILO users this organisation was escalated to on this alert (none unless it is
        overdue on it): they follow its acknowledgement too."""
        overdue = self._session.scalar(
            select(AlertOrganizationRow.overdue_at).where(
                AlertOrganizationRow.alert_id == alert_id,
                AlertOrganizationRow.organization_id == organization_id,
            )
        )
        if overdue is None:
            return []
        return [u for _, users in self.regional_liaisons([organization_id]) for u in users]
