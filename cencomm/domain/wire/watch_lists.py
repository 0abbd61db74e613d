"""Watch lists: a watch, a match, and the `watch.match` live frame."""

from __future__ import annotations

from typing import Any

from cencomm.domain.clock import rfc3339
from cencomm.domain.events import WatchMatchFrame
from cencomm.domain.identifiers import Identifier
from cencomm.domain.ids import GroupId, MessageId
from cencomm.domain.watch_lists import Watch, WatchMatch
from cencomm.domain.wire.common import id_or_none


def identifier_json(identifier: Identifier) -> dict[str, Any]:
    """`{kind, value (normal form), label (as written)}`."""
    return {"kind": identifier.kind.value, "value": identifier.value, "label": identifier.label}


def watch_json(watch: Watch) -> dict[str, Any]:
    s = watch.selector
    return {
        "id": str(watch.id),
        "kind": s.kind.value,
        "match": s.match.value,
        "value": s.value,
        "label": s.label,
        "reason": watch.reason,
        "expires_at": rfc3339(watch.expires_at),
        "created_at": rfc3339(watch.created_at),
    }


def watch_match_json(match: WatchMatch) -> dict[str, Any]:
    return {
        "message_id": id_or_none(match.message_id),
        "group_id": id_or_none(match.group_id),
        "identifier": identifier_json(match.identifier),
        "elsewhere": match.elsewhere,
        "matched_at": rfc3339(match.matched_at),
    }


def watch_match_frame(match: WatchMatch) -> WatchMatchFrame:
    return WatchMatchFrame(
        watch_id=match.watch_id,
        identifier=identifier_json(match.identifier),
        message_id=None if match.message_id is None else MessageId(match.message_id),
        group_id=None if match.group_id is None else GroupId(match.group_id),
        elsewhere=match.elsewhere,
    )
