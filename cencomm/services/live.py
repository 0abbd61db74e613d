"""What live delivery may send to whom: the same policy as HTTP, read once per event.

The dispatcher (`web/live.py`) asks here, once per event and process, which of its connected
users may receive it, with their roles read fresh from the database; sockets read history
(resume, gaps) through the messaging service, exactly as a timeline request would, after
checking with `current` that their user's session and role are still the ones they
authenticated with.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

from cencomm.domain.errors import NotFound, Unauthenticated
from cencomm.domain.groups import Group, GroupAccess, access_for
from cencomm.domain.ids import GroupId, SessionId, UserId
from cencomm.domain.messages import StoredMessage, may_read, shows_jws
from cencomm.domain.seals import Countersignature
from cencomm.domain.users import Principal
from cencomm.services.auth import AuthService
from cencomm.services.groups import GroupService
from cencomm.services.messaging import MessagingService, ReadableMessage
from cencomm.storage.audience import AudienceMember
from cencomm.storage.db import Database
from cencomm.storage.unit import Unit

PAGE = 200


class LiveService:
    def __init__(
        self, db: Database, auth: AuthService, groups: GroupService, messaging: MessagingService
    ) -> None:
        self._db = db
        self._auth = auth
        self._groups = groups
        self._messaging = messaging

    async def current(self, principal: Principal) -> Principal | None:
        """The socket's user as they are now (session and role read from the database, not
        from the session cache); None once the session ended or the user was disabled."""
        try:
            return await self._auth.current_principal(principal)
        except Unauthenticated:
            return None

    async def readable_group_ids(self, principal: Principal) -> list[GroupId]:
        """The groups whose messages a new socket follows (staff: every group)."""
        return await self._db.read(
            lambda unit: unit.audience.member_group_ids(
                principal.user_id, principal.organization_id, everything=principal.is_staff
            )
        )

    async def positions(self, principal: Principal) -> dict[GroupId, int]:
        """Each group a new socket follows, with its latest seq: the socket is owed every
        message after these, whether or not it resumes."""
        return await self._db.read(
            lambda unit: unit.audience.member_group_positions(
                principal.user_id, principal.organization_id, everything=principal.is_staff
            )
        )

    async def latest_messages(
        self, group_ids: Sequence[GroupId]
    ) -> dict[GroupId, tuple[int, uuid.UUID]]:
        """Each group's last message (seq, id): what a notice would have said, read from the
        database while the bus cannot say it."""
        return await self._db.read(lambda unit: unit.messages.latest(group_ids))

    async def load_messages(
        self, principal: Principal, group_id: uuid.UUID, after: int, up_to: int | None
    ) -> list[ReadableMessage]:
        """Messages after `after` (up to `up_to`) this principal may read, ascending; empty
        once they may no longer read the group."""
        try:
            page, _ = await self._messaging.timeline(
                principal, group_id, after=after, before=None, limit=PAGE
            )
        except NotFound:
            return []
        return [m for m in page if up_to is None or m.message.seq <= up_to]

    async def _accesses(
        self, group_id: uuid.UUID, readers: Mapping[UserId, SessionId], message_id: uuid.UUID | None
    ) -> tuple[StoredMessage | None, dict[UserId, GroupAccess], tuple[Countersignature, ...]]:

        def read(
            unit: Unit,
        ) -> tuple[
            StoredMessage | None,
            Group | None,
            dict[UserId, AudienceMember],
            tuple[Countersignature, ...],
        ]:
            message = unit.messages.find(message_id) if message_id else None
            group = unit.groups.find(group_id)
            seals = unit.seals.of_messages([message.id]).get(message.id, ()) if message else ()
            return message, group, unit.audience.readers(group_id, readers), seals

        message, group, members, seals = await self._db.read(read)
        accesses: dict[UserId, GroupAccess] = {}
        for user_id, member in members.items():
            principal = Principal(user_id, member.organization_id, member.role, readers[user_id])
            try:
                accesses[user_id] = access_for(principal, group, member.group_role)
            except NotFound:
                continue  # not (or no longer) a member: nothing of this group
        return message, accesses, seals

    async def message_for_readers(
        self, group_id: uuid.UUID, message_id: uuid.UUID, readers: Mapping[UserId, SessionId]
    ) -> dict[UserId, ReadableMessage]:
        """The message as each of these connected users may see it (absent: not at all)."""
        message, accesses, seals = await self._accesses(group_id, readers, message_id)
        if message is None or message.group_id != group_id:
            return {}
        views: dict[UserId, ReadableMessage] = {}
        for user_id, access in accesses.items():
            if may_read(access, message):
                views[user_id] = ReadableMessage(message, shows_jws(access, message), seals)
        return views

    async def still_reading(
        self, group_id: uuid.UUID, readers: Mapping[UserId, SessionId]
    ) -> set[UserId]:
        """Of these users, those who can still see the group (e.g. through their organisation
        after their own membership was removed, or as staff)."""
        _, accesses, _ = await self._accesses(group_id, readers, None)
        return set(accesses)
