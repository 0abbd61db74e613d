"""What a signed alert refers to, checked as a message's references are (same problem slugs).

- `reply_to` names a message the sender may read (in any group: an alert is not posted to one).
  A missing message and one the sender may not read are refused alike, after the same queries.
- Each `att` entry names, by hash and size, an attachment of one of the alert's target groups
  that the sender may post in (active, and not only observed; staff post in every active
  group). An alert that targets no such group carries no attachment. Recipients outside those
  groups see the entry in the signed payload but, as ever, download only from groups they read.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from cencomm.domain.attachments import Attachment
from cencomm.domain.envelopes import Envelope
from cencomm.domain.errors import Conflict, Forbidden, NotFound
from cencomm.domain.messages import attachment_view, may_read
from cencomm.domain.users import Principal
from cencomm.services.groups import NO_GROUP, GroupService
from cencomm.services.signed_envelopes import ALERTS, invalid
from cencomm.storage.unit import Unit


def check_reply_to(
    unit: Unit, groups: GroupService, principal: Principal, envelope: Envelope
) -> None:
    """Raises Invalid `invalid-reply` unless `reply_to` (when given) is a message the sender
    may read."""
    if envelope.reply_to is None:
        return
    message = unit.messages.find(uuid.UUID(envelope.reply_to))
    group_id = message.group_id if message is not None else NO_GROUP  # same path
    try:
        access = groups.access(unit, principal, group_id)
    except NotFound:
        access = None
    if message is None or access is None or not may_read(access, message):
        raise invalid(
            "invalid-reply",
            "Invalid reply",
            "jws.payload.reply_to",
            "reply_to is not a message you may read",
        )


def check_attachments(
    unit: Unit, groups: GroupService, principal: Principal, envelope: Envelope
) -> None:
    """Raises Invalid `unknown-attachment` for the first `att` entry that names no attachment
    of a target group the sender may post in."""

    def resolve(unit: Unit, hashes: Sequence[str]) -> list[Attachment]:
        assert envelope.to is not None  # noqa: S101 - alerts always have targets
        candidates: list[Attachment] = []
        for raw in dict.fromkeys(envelope.to.groups):
            try:
                access = groups.access(unit, principal, uuid.UUID(raw))
                access.ensure_can_post()
            except (NotFound, Forbidden, Conflict):
                continue
            # As for messages: quarantined ones never match, nor (but for moderators) ones
            # only hidden messages name.
            view = attachment_view(access)
            candidates.extend(unit.attachments.in_group(access.group.id, hashes, view))
        return candidates

    ALERTS.attachments(unit, envelope, resolve)
