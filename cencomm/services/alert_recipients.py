"""Who an alert reaches: its targets resolved to users when it is sent, within the sender's
rights and the handling code (observers never receive TLP:AMBER+STRICT or TLP:RED)."""

from __future__ import annotations

import uuid

from cencomm.domain.alerts import Recipient, unknown_recipient
from cencomm.domain.envelopes import OBSERVER_WITHHELD, Envelope
from cencomm.domain.errors import FieldError, Invalid, NotFound
from cencomm.domain.groups import GroupRole
from cencomm.domain.ids import UserId
from cencomm.domain.users import Principal, Role
from cencomm.services.groups import GroupService
from cencomm.storage.audience import AudienceMember
from cencomm.storage.unit import Unit


def _invalid(slug: str, title: str, field: str, message: str) -> Invalid:
    return Invalid(message, slug=slug, title=title, errors=(FieldError(field, message),))


def resolve_recipients(
    unit: Unit, groups: GroupService, principal: Principal, envelope: Envelope
) -> list[Recipient]:
    """The users the targets reach now, within the sender's rights and the handling code."""
    to = envelope.to
    assert to is not None  # noqa: S101 - alerts always have targets
    audience = unit.audience
    reached: dict[UserId, AudienceMember] = {}
    group_observer: dict[UserId, bool] = {}

    def add(member: AudienceMember, only_observes: bool) -> None:
        reached.setdefault(member.user_id, member)
        group_observer[member.user_id] = group_observer.get(member.user_id, True) and (
            only_observes
        )

    for index, raw in enumerate(to.groups):
        try:
            access = groups.access(unit, principal, uuid.UUID(raw))
        except NotFound:
            raise unknown_recipient(f"to.groups[{index}]", "no such group") from None
        if not principal.is_staff:
            access.ensure_can_post()  # officers and analysts: groups they post in
        for member in audience.group_members(access.group.id):
            add(member, member.group_role is GroupRole.OBSERVER)
    if to.organizations:
        wanted = [uuid.UUID(o) for o in to.organizations]
        found = audience.existing_organizations(wanted)
        for index, org in enumerate(wanted):
            if org not in found:
                raise unknown_recipient(f"to.organizations[{index}]", "no such organisation")
        for member in audience.organization_users(wanted):
            add(member, False)
    if to.regions:
        for member in audience.region_users(to.regions):
            add(member, False)
    if to.all:
        for member in audience.everyone():
            add(member, False)
    withheld = envelope.hc in OBSERVER_WITHHELD
    recipients = []
    for user_id, member in reached.items():
        if user_id == principal.user_id:
            continue
        observer = member.role is Role.OBSERVER or group_observer[user_id]
        if withheld and observer:
            continue  # observers never receive TLP:AMBER+STRICT or TLP:RED content
        recipients.append(Recipient(user_id, member.organization_id, not observer))
    if not recipients:
        raise _invalid(
            "no-recipients", "No recipients", "jws.payload.to", "the targets reach nobody"
        )
    return sorted(recipients, key=lambda r: str(r.user_id))
