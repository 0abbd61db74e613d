"""Correlations between seizure reports: `related`, a group's correlations, and the links a
new report makes, for the `correlation` live frame.

Who sees what is decided as for reading messages: `GroupService.access` (a group the caller
cannot see is NotFound, exactly as a missing one), `may_read` (observers never
TLP:AMBER+STRICT or TLP:RED), and hidden reports take part in nothing, for anyone. Reports of
groups the caller cannot see are never shown; only `elsewhere` says that one of this report's
identifiers also occurs in another operation, and nothing more (`domain/correlations.py`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from cencomm.domain.correlations import (
    RED,
    RELATED_DEFAULT,
    CorrelationPosition,
    GroupCorrelation,
    Readership,
    Related,
    RelatedLink,
    links_of,
    nothing_related,
    readership_of,
)
from cencomm.domain.envelopes import MessageType
from cencomm.domain.errors import NotFound
from cencomm.domain.groups import access_for
from cencomm.domain.ids import MessageId, SessionId, UserId
from cencomm.domain.messages import may_read, withheld_codes
from cencomm.domain.users import Principal, Role
from cencomm.services.groups import NO_GROUP, GroupService
from cencomm.storage.db import Database
from cencomm.storage.unit import Unit

# Groups one principal's readership spans (a user is in a handful; the bound keeps it finite).
MAX_READABLE_GROUPS = 10_000


class CorrelationService:
    def __init__(self, db: Database, groups: GroupService) -> None:
        self._db = db
        self._groups = groups

    def _readership(self, unit: Unit, principal: Principal) -> Readership:
        """The groups whose reports `principal` may read, and under which handling codes."""
        store = unit.groups
        groups = store.list_page(
            user_id=principal.user_id,
            organization_id=principal.organization_id,
            after=None,
            limit=MAX_READABLE_GROUPS,
        )
        roles = store.roles_of([g.id for g in groups], principal.user_id, principal.organization_id)
        accesses = [access_for(principal, g, roles[g.id]) for g in groups if g.id in roles]
        return readership_of(accesses, staff=principal.is_staff)

    async def related(self, principal: Principal, message_id: uuid.UUID, limit: int) -> Related:
        """The report's identifiers, the readable reports sharing any (most shared first, then
        newest, at most `limit`), and its identifiers also seen in another operation.

        Raises:
            NotFound: as `GET /messages/{id}`: no such message, a group the caller cannot see,
                a handling code kept from them; and a hidden report, but for moderators (who
                get empty lists: hidden reports take part in nothing).
        """

        def read(unit: Unit) -> Related:
            message = unit.messages.find(message_id)
            group_id = message.group_id if message is not None else NO_GROUP
            try:
                access = self._groups.access(unit, principal, group_id)
            except NotFound:
                # The same answer for a missing message and one in a group the caller cannot
                # see: a non-member learns nothing.
                raise NotFound("no such message") from None
            if message is None or not may_read(access, message):
                raise NotFound("no such message")
            if message.hidden and not access.can_moderate:
                raise NotFound("no such message")
            if message.hidden or message.typ != MessageType.SEIZURE.value:
                return nothing_related(MessageId(message_id))
            correlations = unit.correlations
            identifiers = correlations.identifiers(message_id)
            if not identifiers:
                return nothing_related(MessageId(message_id))
            readership = self._readership(unit, principal)
            related = correlations.related(message_id, readership, limit)
            # Staff see every group: for them nothing is "elsewhere". TLP:RED never takes part
            # across groups.
            elsewhere = (
                []
                if readership.everywhere or message.hc == RED
                else correlations.elsewhere(message_id, readership.visible)
            )
            return Related(
                MessageId(message_id), tuple(identifiers), tuple(related), tuple(elsewhere)
            )

        return await self._db.read(read)

    async def in_group(
        self,
        principal: Principal,
        group_id: uuid.UUID,
        after: CorrelationPosition | None,
        limit: int,
    ) -> tuple[list[GroupCorrelation], CorrelationPosition | None]:
        """A page of the identifiers seen in more than one report of the group the caller may
        read, most linked first, and where the next page starts (None: no more).

        Raises:
            NotFound: the caller cannot see the group (or it does not exist).
        """

        def read(unit: Unit) -> list[GroupCorrelation]:
            access = self._groups.access(unit, principal, group_id)
            return unit.correlations.in_group(group_id, withheld_codes(access), after, limit + 1)

        page = await self._db.read(read)
        if len(page) <= limit:
            return page, None
        page = page[:limit]
        last = page[-1]
        return page, CorrelationPosition(last.reports, last.identifier.kind, last.identifier.value)

    async def links_for_readers(
        self,
        group_id: uuid.UUID,
        message_id: uuid.UUID,
        sender_id: UserId,
        readers: Mapping[UserId, SessionId],
    ) -> dict[UserId, tuple[RelatedLink, ...]]:
        """For the `correlation` frame of a new report: of these connected users, the sender
        and the group's analysts who may read the report, each with the earlier reports it
        links to that they may read (absent: nothing to send them). Roles and memberships are
        read now, as for every frame."""

        def read(unit: Unit) -> dict[UserId, tuple[RelatedLink, ...]]:
            message = unit.messages.find(message_id)
            if message is None or message.hidden or message.group_id != group_id:
                return {}
            group = unit.groups.find(group_id)
            links: dict[UserId, tuple[RelatedLink, ...]] = {}
            for user_id, member in unit.audience.readers(group_id, readers).items():
                if user_id != sender_id and member.role is not Role.ANALYST:
                    continue
                principal = Principal(
                    user_id, member.organization_id, member.role, readers[user_id]
                )
                try:
                    access = access_for(principal, group, member.group_role)
                except NotFound:
                    continue  # no longer a member: nothing of this group
                if not may_read(access, message):
                    continue
                readership = self._readership(unit, principal)
                related = unit.correlations.related(message_id, readership, RELATED_DEFAULT)
                if related:
                    links[user_id] = links_of(related)
            return links

        return await self._db.read(read)
