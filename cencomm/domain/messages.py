"""Messages as readers see them, and the rules that decide what each reader gets."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from cencomm.domain.envelopes import OBSERVER_WITHHELD, HandlingCode
from cencomm.domain.groups import GroupAccess
from cencomm.domain.identifiers import compact, normal_flight, normal_imo

MAX_HIDE_REASON = 1000


@dataclass(frozen=True, slots=True)
class Sender:
    id: uuid.UUID
    display_name: str
    organization_id: uuid.UUID
    organization_name: str


@dataclass(frozen=True, slots=True)
class StoredMessage:
    id: uuid.UUID
    group_id: uuid.UUID
    seq: int
    typ: str
    hc: str
    sender: Sender
    kid: str
    jws: str
    created_at: datetime
    reply_to: uuid.UUID | None
    hidden: bool
    hidden_reason: str | None


@dataclass(frozen=True, slots=True)
class SearchPosition:
    """Where a page of search results ended: newest first by time, then seq, then id (posts
    committed in one batch share their time)."""

    created_at: datetime
    seq: int
    id: uuid.UUID


@dataclass(frozen=True, slots=True)
class PostOutcome:
    """What posting returned: the message's id, seq and time, and whether it was new."""

    id: uuid.UUID
    seq: int
    created_at: datetime
    created: bool


def withheld_codes(access: GroupAccess) -> frozenset[str]:
    """Handling codes this reader never receives in this group."""
    if access.restricted_reader:
        return frozenset(code.value for code in OBSERVER_WITHHELD)
    return frozenset()


def may_read(access: GroupAccess, message: StoredMessage) -> bool:
    return message.hc not in withheld_codes(access)


def shows_jws(access: GroupAccess, message: StoredMessage) -> bool:
    """A hidden message shows its JWS only to moderators."""
    return not message.hidden or access.can_moderate


@dataclass(frozen=True, slots=True)
class AttachmentView:
    """Which of a group's attachments one reader gets: the messages that name them decide.

    Attributes:
        withheld: handling codes this reader never receives. A restricted reader (non-empty)
            gets only attachments named by a message they may read and are shown.
        sees_hidden: hidden messages still count for this reader (moderators). For everyone
            else hiding a message hides what only it names; an attachment also named by a
            message still shown stays available, and one no message names yet (an upload
            about to be posted) stays available to the members who may post it.
        sees_infected: quarantined attachments are listed (moderators, to act on them).
    """

    withheld: frozenset[str]
    sees_hidden: bool
    sees_infected: bool

    @classmethod
    def everything(cls) -> AttachmentView:
        """Nothing left out (evidence exports, whose reader moderates the group)."""
        return cls(withheld=frozenset(), sees_hidden=True, sees_infected=True)


def attachment_view(access: GroupAccess) -> AttachmentView:
    return AttachmentView(
        withheld=withheld_codes(access),
        sees_hidden=access.can_moderate,
        sees_infected=access.can_moderate,
    )


@dataclass(frozen=True, slots=True)
class SearchFilters:
    """Narrowing of a search besides its words (each None: no narrowing).

    `from_date`/`to_date` are inclusive and apply to the date a message is about: a seizure
    report's `occurred_on`, otherwise the UTC day it was posted. `country` is the sender
    organisation's country (a seizure report's reporting country); `category` keeps seizure
    reports with an item of that category.
    """

    typ: str | None = None
    from_date: date | None = None
    to_date: date | None = None
    country: str | None = None
    category: str | None = None
    sender_org: uuid.UUID | None = None


NO_FILTERS = SearchFilters()


def _spaced(value: object) -> str | None:
    """`hidden_in_cargo` → `hidden in cargo`: codes become the words officers type."""
    return value.replace("_", " ") if isinstance(value, str) and value else None


def _hs_words(value: object) -> list[str]:
    """`3004.90` is found as typed, by its chapter (`3004`) and without dots (`300490`)."""
    if not isinstance(value, str) or not value:
        return []
    return [value, value.replace(".", " "), value.replace(".", "")]


def search_text(typ: str, body: dict[str, object]) -> str | None:
    """What full-text search indexes: text and notice bodies; of a seizure report its notes,
    location, concealment, transport mode, infringement, and every item's category,
    description and hs_code."""
    parts: list[object] = []
    if typ == "text":
        parts = [body.get("text")]
    elif typ == "notice":
        parts = [body.get("title"), body.get("text")]
    elif typ == "seizure":
        parts = [
            body.get("notes"),
            body.get("location"),
            _spaced(body.get("concealment")),
            _spaced(body.get("transport_mode")),
            _spaced(body.get("infringement")),
        ]
        items = body.get("items")
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                parts += [_spaced(item.get("category")), item.get("description")]
                parts += _hs_words(item.get("hs_code"))
        parts += _standard_words(body)
    words = " ".join(p for p in parts if isinstance(p, str) and p)
    return words or None


# How the conveyance's numbers are indexed: the canonical IMO and flight numbers (`LH 0400` is
# found by `LH400`), other numbers compact.
_CONVEYANCE_NUMBERS: dict[str, Callable[[str], str | None]] = {
    "imo": normal_imo,
    "flight_number": normal_flight,
    "registration": compact,
    "tracking_number": compact,
}


def _standard_words(body: dict[str, object]) -> list[object]:
    """The standard form's names and numbers: party and vessel names as written, numbers in
    their compact form (`MEDU 123-4567` is found by `MEDU1234567`)."""
    words: list[object] = []
    conveyance = body.get("conveyance")
    if isinstance(conveyance, dict):
        words.append(conveyance.get("vessel_name"))
        words.append(conveyance.get("courier"))
        for key, normal in _CONVEYANCE_NUMBERS.items():
            if isinstance(number := conveyance.get(key), str):
                words.append(normal(number) or compact(number))
    documents = body.get("documents")
    for document in documents if isinstance(documents, list) else []:
        if isinstance(document, dict) and isinstance(number := document.get("number"), str):
            words.append(compact(number))
    containers = body.get("containers")
    for container in containers if isinstance(containers, list) else []:
        if isinstance(container, str):
            words.append(compact(container))
    parties = body.get("parties")
    for party in parties if isinstance(parties, list) else []:
        if isinstance(party, dict):
            words.append(party.get("name"))
    return words


__all__ = ["HandlingCode"]
