"""An alert's acknowledgement board for one reader: the rules of `domain/alert_boards.py` applied
to what is stored (the targets in the signed payload, the group rosters the sender may see)."""

from __future__ import annotations

import uuid

from cencomm.crypto.jws import parse_compact
from cencomm.domain.alert_boards import AlertReading, Board, KnownToSender, board_summary
from cencomm.domain.alerts import AckSummary, Alert
from cencomm.domain.envelopes import alert_targets
from cencomm.domain.errors import NotFound
from cencomm.domain.ids import OrganizationId
from cencomm.domain.users import Principal, Region
from cencomm.services.groups import GroupService
from cencomm.storage.unit import Unit


def ack_summary(
    unit: Unit,
    groups: GroupService,
    principal: Principal,
    alert: Alert,
    reading: AlertReading,
) -> AckSummary | None:
    """The board `reading` allows this reader, or None."""
    if reading.board is Board.NONE:
        return None
    entries, recipients, acknowledged = unit.alert_boards.board(alert.id)
    known = None
    if reading.board is Board.SENDER:
        known = known_to_sender(unit, groups, principal, alert)
    return board_summary(
        reading, entries, recipients=recipients, acknowledged=acknowledged, known=known
    )


def known_to_sender(
    unit: Unit, groups: GroupService, principal: Principal, alert: Alert
) -> KnownToSender | None:
    """The organisations the sender may see named on the board, or None when no hidden roster
    keeps anything from them.

    Rosters are judged now, as `GET /groups/{id}/members` would show them: a target group whose
    roster the sender sees in full (visible, or they moderate it) names its members'
    organisations; one whose roster is hidden from them, or that they can no longer see, names
    none. Organisations the sender targeted by id or region are theirs to know in any case.
    """
    targets = alert_targets(parse_compact(alert.jws).payload)
    known: set[OrganizationId] = {principal.organization_id}
    hidden = False
    audience = unit.audience
    for raw in targets.groups:
        try:
            access = groups.access(unit, principal, uuid.UUID(raw))
        except NotFound:
            hidden = True
            continue
        if not access.sees_full_roster:
            hidden = True
            continue
        known.update(m.organization_id for m in audience.group_members(access.group.id))
    if not hidden:
        return None
    known.update(OrganizationId(uuid.UUID(o)) for o in targets.organizations)
    return KnownToSender(frozenset(known), frozenset(Region(r) for r in targets.regions))
