"""Post signed messages (verify, then hand to the batched writer), read timelines, moderate."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from cencomm.domain.analytics import seizure_rows
from cencomm.domain.attachments import Attachment
from cencomm.domain.audit import AuditRecord
from cencomm.domain.clock import Clock
from cencomm.domain.envelopes import Envelope
from cencomm.domain.errors import NotFound
from cencomm.domain.events import MessageHidden, ReportIdentified
from cencomm.domain.groups import GroupAccess, access_for
from cencomm.domain.ids import GroupId, MessageId, new_id
from cencomm.domain.messages import (
    MAX_HIDE_REASON,
    NO_FILTERS,
    PostOutcome,
    SearchFilters,
    SearchPosition,
    StoredMessage,
    attachment_view,
    may_read,
    search_text,
    withheld_codes,
)
from cencomm.domain.posts import NewMessage
from cencomm.domain.seals import Countersignature
from cencomm.domain.seizure_standard import check_report_form
from cencomm.domain.seizures import check_reporting_country
from cencomm.domain.users import Caller, Principal, Region, clean_text
from cencomm.services.audit import AuditTrail
from cencomm.services.events import Publisher
from cencomm.services.groups import NO_GROUP, GroupService
from cencomm.services.message_writer import PendingPost, PostWriter
from cencomm.services.post_contexts import PostContextCache
from cencomm.services.signed_envelopes import MESSAGES, invalid
from cencomm.storage.db import Database
from cencomm.storage.messages import PostContext
from cencomm.storage.unit import Unit

MAX_SEARCH_WORDS = 10
# Groups one search spans (a user is in a handful; the bound keeps the query finite).
MAX_SEARCH_GROUPS = 10_000
MAX_WORD_CHARS = 64
# Letters and digits; `_`, `.`, `-` and the rest separate words, as the index's tokenizers do.
_WORD = re.compile(r"[^\W_]+", re.UNICODE)


@dataclass(frozen=True, slots=True)
class ReadableMessage:
    """A message with what this reader may see of it."""

    message: StoredMessage
    show_jws: bool
    # Organisations' seals on it, oldest first (their JWS shown as the message's is).
    countersignatures: tuple[Countersignature, ...] = ()


class MessagingService:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        audit: AuditTrail,
        publisher: Publisher,
        groups: GroupService,
        writer: PostWriter,
        contexts: PostContextCache | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self._publisher = publisher
        self._groups = groups
        self.writer = writer
        self._contexts = contexts or PostContextCache(0)

    # -- posting ---------------------------------------------------------------------------

    async def post(self, caller: Caller, group_id: uuid.UUID, jws: str) -> PostOutcome:
        """Verify a signed envelope end to end and store it; a repeat of (sender, cid) with the
        identical JWS returns the original.

        Raises:
            NotFound: the group is not visible to the caller.
            Forbidden: the caller only observes this group.
            Conflict: the group is not active, or the cid was used with another JWS.
            Invalid: the named check failed (`invalid-jws`, `unknown-key`, `revoked-key`,
                `sender-mismatch`, `bad-signature`, `unknown-typ`, `stale-iat`, `group-mismatch`,
                `invalid-body`, `unknown-attachment`, ...).
            TooLarge: the JWS or its body is over its limit.
        """
        principal = caller.principal
        if principal is None:
            raise NotFound("no such group")
        parsed = MESSAGES.parse(jws)
        reply_to = parsed.payload.get("reply_to")
        reply_id: uuid.UUID | None = None
        if isinstance(reply_to, str):
            with contextlib.suppress(ValueError):  # malformed: check_claims names it
                reply_id = uuid.UUID(reply_to)

        user_id, organization_id, kid = principal.user_id, principal.organization_id, parsed.kid

        def read(unit: Unit) -> PostContext:
            return unit.messages.post_context(group_id, user_id, organization_id, kid)

        # Everything posting reads in one statement (the hot path), the key of the header's kid
        # included (the intake checks the key it is given); cached briefly, and forgotten at
        # once when any of it changes in this process (see services/post_contexts.py).
        context = await self._contexts.get(
            group_id, user_id, organization_id, kid, lambda: self._db.read(read)
        )
        access = access_for(principal, context.group, context.role)
        access.ensure_can_post()  # a group the caller cannot see is 404 whatever the envelope
        envelope = MESSAGES.check(
            parsed, context.key, principal, grp=str(group_id), now=self._clock.now()
        )
        if envelope.seizure is not None:
            check_reporting_country(envelope.seizure, context.org_country)
            check_report_form(envelope.seizure.standard, access.group.report_form)
        if reply_id is not None and not await self._db.read(
            lambda unit: unit.messages.in_group(reply_id, group_id)
        ):
            raise invalid(
                "invalid-reply",
                "Invalid reply",
                "jws.payload.reply_to",
                "reply_to is not a message of this group",
            )
        attachment_ids = await self._attachments_of(access, envelope)
        region = Region(context.org_region) if context.org_region else None
        pending = self._pending(
            caller, principal, access, envelope, jws, parsed.kid, region, attachment_ids
        )
        outcome = await self.writer.submit(pending)
        seizure = pending.message.seizure
        if outcome.created and seizure is not None and seizure.identifiers:
            # Committed: live delivery looks for the reports it links to, in the background
            # (the `correlation` frame); the post does not wait for it.
            self._publisher.publish(
                ReportIdentified(
                    group_id=access.group.id,
                    message_id=MessageId(outcome.id),
                    sender_id=principal.user_id,
                )
            )
        return outcome

    async def _attachments_of(
        self, access: GroupAccess, envelope: Envelope
    ) -> tuple[uuid.UUID, ...]:
        """Each `att` entry must name an attachment uploaded to this very group, by hash and
        size, that the sender may see (quarantined ones never match, nor, but for moderators,
        ones only hidden messages name: naming one again would undo the hiding); returns their
        ids, to link them to the message."""
        if not envelope.attachments:
            return ()  # no second hop to the database
        view = attachment_view(access)

        def resolve(unit: Unit, hashes: Sequence[str]) -> list[Attachment]:
            return unit.attachments.in_group(access.group.id, hashes, view)

        found = await self._db.read(lambda unit: MESSAGES.attachments(unit, envelope, resolve))
        return tuple(a.id for a in found)

    def _pending(
        self,
        caller: Caller,
        principal: Principal,
        access: GroupAccess,
        envelope: Envelope,
        jws: str,
        kid: str,
        region: Region | None,
        attachment_ids: tuple[uuid.UUID, ...],
    ) -> PendingPost:
        message_id = MessageId(new_id())
        group_id = access.group.id
        rows = None
        if envelope.seizure is not None:
            rows = seizure_rows(
                message_id=message_id,
                group_id=group_id,
                hc=envelope.hc.value,
                report=envelope.seizure,
                region=region.value if region else None,
                sender_organization_id=principal.organization_id,
            )
        words = search_text(envelope.typ.value, envelope.body)
        return PendingPost(
            message=NewMessage(
                id=message_id,
                group_id=group_id,
                sender_id=principal.user_id,
                sender_organization_id=principal.organization_id,
                kid=kid,
                cid=envelope.cid,
                typ=envelope.typ.value,
                hc=envelope.hc.value,
                jws=jws,
                reply_to=uuid.UUID(envelope.reply_to) if envelope.reply_to else None,
                search_text=words,
                seizure=rows,
                attachment_ids=attachment_ids,
            ),
            audit=AuditRecord.by(
                caller,
                "message.post",
                group_id=group_id,
                details={"typ": envelope.typ.value, "cid": envelope.cid},
            ),
        )

    # -- reading ---------------------------------------------------------------------------

    async def timeline(
        self,
        principal: Principal,
        group_id: uuid.UUID,
        *,
        after: int | None,
        before: int | None,
        limit: int,
    ) -> tuple[list[ReadableMessage], bool]:
        """A page of the group's timeline (ascending seq) and whether more follow it."""

        def read(
            unit: Unit,
        ) -> tuple[GroupAccess, list[StoredMessage], dict[uuid.UUID, tuple[Countersignature, ...]]]:
            access = self._groups.access(unit, principal, group_id)
            page = unit.messages.page(
                group_id,
                after=after,
                before=before,
                limit=limit + 1,
                withheld=withheld_codes(access),
            )
            return access, page, unit.seals.of_messages([m.id for m in page])

        access, page, seals = await self._db.read(read)
        if before is not None:
            more_after = True  # the message at `before` (or later ones) may follow
            page = page[-limit:] if len(page) > limit else page
        else:
            more_after = len(page) > limit
            page = page[:limit]
        readable = [self._readable(access, m, seals.get(m.id, ())) for m in page]
        return readable, more_after and bool(page)

    async def get_message(self, principal: Principal, message_id: uuid.UUID) -> ReadableMessage:
        def read(
            unit: Unit,
        ) -> tuple[GroupAccess, StoredMessage | None, tuple[Countersignature, ...]]:
            access, message = self._message_access(unit, principal, message_id)
            if message is None or not may_read(access, message):
                raise NotFound("no such message")
            return access, message, unit.seals.of_messages([message.id]).get(message.id, ())

        access, message, seals = await self._db.read(read)
        assert message is not None  # noqa: S101 - read() refused a missing one
        return self._readable(access, message, seals)

    def _message_access(
        self, unit: Unit, principal: Principal, message_id: uuid.UUID
    ) -> tuple[GroupAccess, StoredMessage | None]:
        """The message (None if absent) and the caller's access to its group; NotFound as
        for a missing message when they cannot see the group. A missing message takes the
        same path, so the two cannot be told apart."""
        message = unit.messages.find(message_id)
        group_id = message.group_id if message is not None else NO_GROUP
        try:
            access = self._groups.access(unit, principal, group_id)
        except NotFound:
            raise NotFound("no such message") from None
        return access, message

    @staticmethod
    def _readable(
        access: GroupAccess,
        message: StoredMessage,
        countersignatures: tuple[Countersignature, ...] = (),
    ) -> ReadableMessage:
        return ReadableMessage(
            message,
            show_jws=not message.hidden or access.can_moderate,
            countersignatures=countersignatures,
        )

    # -- moderation ------------------------------------------------------------------------

    async def set_hidden(
        self, caller: Caller, message_id: uuid.UUID, hidden: bool, reason: str | None
    ) -> ReadableMessage:
        """Hide (with a reason) or unhide a message; group moderators, admins, moderators."""
        principal = caller.principal
        if principal is None:
            raise NotFound("no such message")
        reason_text = clean_text(reason, "body.reason", MAX_HIDE_REASON) if reason else None
        if hidden and reason_text is None:
            raise invalid(
                "validation-failed", "Validation failed", "body.reason", "hiding needs a reason"
            )
        now = self._clock.now()

        def work(
            unit: Unit,
        ) -> tuple[GroupAccess, StoredMessage, tuple[Countersignature, ...]]:
            access, message = self._message_access(unit, principal, message_id)
            if message is None or not may_read(access, message):
                raise NotFound("no such message")
            access.ensure_can_moderate()
            if message.hidden != hidden:
                unit.messages.set_hidden(message_id, hidden, reason_text, principal.user_id, now)
                if message.typ == "seizure":  # its analytic rows drop out (or come back) too
                    unit.analytics.set_seizure_hidden(message_id, hidden)
                self._audit.append(
                    unit,
                    AuditRecord.by(
                        caller,
                        "message.hide" if hidden else "message.unhide",
                        target_type="message",
                        target_id=message_id,
                        group_id=GroupId(message.group_id),
                        details={"reason": reason_text, "seq": message.seq},
                    ),
                )
                event = MessageHidden(GroupId(message.group_id), MessageId(message_id))
                unit.after_commit(lambda: self._publisher.publish(event))
            updated = unit.messages.find(message_id)
            assert updated is not None  # noqa: S101 - read back in the same transaction
            return access, updated, unit.seals.of_messages([message_id]).get(message_id, ())

        access, updated, seals = await self._db.write(work)
        return self._readable(access, updated, seals)

    # -- search ----------------------------------------------------------------------------

    async def search(
        self,
        principal: Principal,
        query: str,
        group_id: uuid.UUID | None,
        before: SearchPosition | None,
        limit: int,
        filters: SearchFilters = NO_FILTERS,
    ) -> list[ReadableMessage]:
        """Messages the caller may read that contain every word of `query` (as typed or as the
        start of a longer word, in any case) and pass `filters`, newest first."""
        words = [w.lower() for w in _WORD.findall(query)][:MAX_SEARCH_WORDS]
        if not words or any(len(w) > MAX_WORD_CHARS for w in words):
            raise invalid(
                "validation-failed",
                "Validation failed",
                "query.q",
                f"give 1 to {MAX_SEARCH_WORDS} words of at most {MAX_WORD_CHARS} letters",
            )
        staff_everywhere = principal.is_staff and group_id is None

        def read(
            unit: Unit,
        ) -> tuple[
            list[GroupAccess], list[StoredMessage], dict[uuid.UUID, tuple[Countersignature, ...]]
        ]:
            accesses = self._readable_groups(unit, principal, group_id)
            full = [a.group.id for a in accesses if not withheld_codes(a)]
            restricted = [a.group.id for a in accesses if withheld_codes(a)]
            moderated = [a.group.id for a in accesses if a.can_moderate]
            withheld = frozenset().union(*(withheld_codes(a) for a in accesses))
            messages = unit.messages.search(
                words,
                full_groups=None if staff_everywhere else full,
                restricted_groups=restricted,
                moderated_groups=None if staff_everywhere else moderated,
                withheld=withheld,
                before=before,
                limit=limit,
                filters=filters,
            )
            return accesses, messages, unit.seals.of_messages([m.id for m in messages])

        accesses, messages, seals = await self._db.read(read)
        by_group = {a.group.id: a for a in accesses}
        readable = []
        for message in messages:
            access = by_group.get(GroupId(message.group_id))
            if access is None:  # staff searching everywhere
                access = await self._groups.get_group(principal, message.group_id)
            readable.append(self._readable(access, message, seals.get(message.id, ())))
        return readable

    def _readable_groups(
        self, unit: Unit, principal: Principal, group_id: uuid.UUID | None
    ) -> list[GroupAccess]:
        """The caller's groups with their access (staff searching everywhere: none needed)."""
        if group_id is not None:
            return [self._groups.access(unit, principal, group_id)]
        if principal.is_staff:
            return []
        store = unit.groups
        groups = store.list_page(
            user_id=principal.user_id,
            organization_id=principal.organization_id,
            after=None,
            limit=MAX_SEARCH_GROUPS,
        )
        roles = store.roles_of([g.id for g in groups], principal.user_id, principal.organization_id)
        return [access_for(principal, g, roles.get(g.id)) for g in groups]
