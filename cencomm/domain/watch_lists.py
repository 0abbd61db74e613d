"""Watch lists: a user's selectors (an identifier, a container or document prefix, a party
name), their normal forms, and which of a new report's identifiers a selector matches.

A selector is kept in the normal form of `domain/identifiers.py`, so it matches a report
however either wrote the identifier: `csqu 305438-3` watches `CSQU3054383`, and the watch on
`Müller Pharma GmbH` matches a report naming `MULLER-PHARMA Ltd.` (party names match on their
normal form, exactly). Only container and document numbers may be watched by prefix (an owner
code, a bill of lading series); a prefix holds at least `MIN_PREFIX` letters or digits, so that
no watch matches nearly every report.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from cencomm.domain.errors import Conflict, FieldError, Invalid
from cencomm.domain.identifiers import (
    Identifier,
    IdentifierKind,
    compact,
    normal_container,
    normal_flight,
    normal_imo,
    normal_party_name,
)

MAX_ACTIVE_WATCHES = 100
MAX_REASON = 500
MAX_VALUE_CHARS = 200
MAX_LIFETIME = timedelta(days=366)
MIN_PREFIX = 4
# Bounds on a number once spaces and punctuation are gone (as for the report's numbers).
MIN_COMPACT = 2
MAX_COMPACT = 40
CONTAINER_DIGITS = 11

PREFIX_KINDS = frozenset({IdentifierKind.CONTAINER, IdentifierKind.DOCUMENT})


class MatchMode(enum.StrEnum):
    EXACT = "exact"
    PREFIX = "prefix"


@dataclass(frozen=True, slots=True)
class Selector:
    """What a watch looks for: `value` in normal form, `label` as the watcher wrote it."""

    kind: IdentifierKind
    match: MatchMode
    value: str
    label: str

    def matches(self, identifier: Identifier) -> bool:
        if identifier.kind is not self.kind:
            return False
        if self.match is MatchMode.PREFIX:
            return identifier.value.startswith(self.value)
        return identifier.value == self.value


@dataclass(frozen=True, slots=True)
class Watch:
    id: uuid.UUID
    user_id: uuid.UUID
    selector: Selector
    reason: str
    expires_at: datetime
    created_at: datetime
    deleted_at: datetime | None = None

    def active(self, at: datetime) -> bool:
        """Kept (not deleted), and `at` lies between its creation and its expiry."""
        return self.deleted_at is None and self.created_at <= at < self.expires_at


@dataclass(frozen=True, slots=True)
class WatchMatch:
    """A report that matched a watch; `message_id` and `group_id` are None (and `elsewhere`
    set) when the watcher may not read the report, and `identifier` is then the watcher's own
    selector: nothing written in that report."""

    id: uuid.UUID
    watch_id: uuid.UUID
    message_id: uuid.UUID | None
    group_id: uuid.UUID | None
    identifier: Identifier
    elsewhere: bool
    matched_at: datetime


def _invalid(field: str, message: str) -> Invalid:
    return Invalid(f"{field} {message}", slug="invalid-watch", errors=(FieldError(field, message),))


def selector(kind: IdentifierKind, match: MatchMode, raw: str) -> Selector:
    """The selector in normal form.

    Raises:
        Invalid (`invalid-watch`): a prefix for a kind other than container and document, or a
            value that is no identifier of that kind (check digits included).
    """
    label = " ".join(raw.split())
    if not label:
        raise _invalid("body.value", "must not be blank")
    if len(label) > MAX_VALUE_CHARS:
        raise _invalid("body.value", f"must be at most {MAX_VALUE_CHARS} characters")
    if match is MatchMode.PREFIX:
        return Selector(kind, match, _prefix(kind, label), label)
    return Selector(kind, match, _exact(kind, label), label)


def _prefix(kind: IdentifierKind, label: str) -> str:
    if kind not in PREFIX_KINDS:
        raise _invalid("body.match", "prefix is only for container and document numbers")
    value = compact(label)
    longest = CONTAINER_DIGITS if kind is IdentifierKind.CONTAINER else MAX_COMPACT
    if not MIN_PREFIX <= len(value) <= longest:
        raise _invalid("body.value", f"a prefix holds {MIN_PREFIX} to {longest} letters or digits")
    if kind is IdentifierKind.CONTAINER and not _container_prefix(value):
        raise _invalid(
            "body.value", "must begin a container number: owner code, U/J/Z, then digits"
        )
    return value


def _container_prefix(value: str) -> bool:
    if len(value) == CONTAINER_DIGITS:
        return normal_container(value) is not None
    head, tail = value[:4], value[4:]
    return head[:3].isalpha() and head[3] in "UJZ" and (not tail or tail.isdigit())


def _exact(kind: IdentifierKind, label: str) -> str:
    if kind is IdentifierKind.CONTAINER:
        value = normal_container(label)
        if value is None:
            raise _invalid(
                "body.value",
                "must be an ISO 6346 container number (owner code, U/J/Z, six digits and a "
                "valid check digit)",
            )
        return value
    if kind is IdentifierKind.VESSEL:
        value = normal_imo(label)
        if value is None:
            raise _invalid("body.value", "must be an IMO number with a valid check digit")
        return value
    if kind is IdentifierKind.FLIGHT:
        value = normal_flight(label)
        if value is None:
            raise _invalid("body.value", "must be an airline designator and 1 to 4 digits")
        return value
    if kind is IdentifierKind.PARTY:
        value = normal_party_name(label)
        if not value:
            raise _invalid("body.value", "must contain letters or digits")
        return value
    value = compact(label)
    if not MIN_COMPACT <= len(value) <= MAX_COMPACT:
        raise _invalid("body.value", f"must hold {MIN_COMPACT} to {MAX_COMPACT} letters or digits")
    return value


def check_expiry(expires_at: datetime, now: datetime) -> None:
    """Raises Invalid unless `now < expires_at <= now + MAX_LIFETIME`."""
    if expires_at <= now:
        raise _invalid("body.expires_at", "must lie in the future")
    if expires_at > now + MAX_LIFETIME:
        raise _invalid("body.expires_at", f"must lie within {MAX_LIFETIME.days} days")


def check_room(active: int) -> None:
    """Raises Conflict when the user already keeps `MAX_ACTIVE_WATCHES` active watches."""
    if active >= MAX_ACTIVE_WATCHES:
        raise Conflict(
            f"at most {MAX_ACTIVE_WATCHES} active watches per user: delete one first",
            slug="too-many-watches",
        )


def candidate_values(identifier: Identifier) -> list[tuple[MatchMode, str]]:
    """The selector values that would match `identifier`: its value (exact), and for container
    and document numbers each of its prefixes long enough to be a watch's (prefix). Matching
    then looks every one of them up by (kind, value), through one index."""
    values = [(MatchMode.EXACT, identifier.value)]
    if identifier.kind in PREFIX_KINDS:
        values += [
            (MatchMode.PREFIX, identifier.value[:n])
            for n in range(MIN_PREFIX, len(identifier.value) + 1)
        ]
    return values


def first_match(selector: Selector, identifiers: list[Identifier]) -> Identifier | None:
    """The first of a report's identifiers (sorted) that the selector matches."""
    return next((i for i in sorted(identifiers) if selector.matches(i)), None)


KIND_NAMES = {
    IdentifierKind.CONTAINER: "container",
    IdentifierKind.DOCUMENT: "document",
    IdentifierKind.VESSEL: "vessel (IMO)",
    IdentifierKind.FLIGHT: "flight",
    IdentifierKind.VEHICLE: "vehicle registration",
    IdentifierKind.TRACKING: "tracking number",
    IdentifierKind.PARTY: "party",
    IdentifierKind.PARTY_ID: "party identifier",
}


def watch_mail(selector: Selector, *, link: str | None) -> tuple[str, str]:
    """The e-mail (subject, body) for a match. It names only the watcher's own selector: the
    report's content stays in the platform. `link` is the report's group (`/#/groups/<id>`)
    when the watcher may read it; None for a report in another operation, of which the e-mail
    says only that one matches."""
    what = KIND_NAMES[selector.kind]
    shown = f"{what} {'starting with ' if selector.match is MatchMode.PREFIX else ''}"
    shown += " ".join(selector.label.split())[:100]
    if link is not None:
        subject = f"[cencomm] Watch list match: {shown}"
        lines = [
            f"A new seizure report matches your watch on {shown}.",
            "",
            "Read it in cencomm:",
            link,
            "",
        ]
    else:
        subject = f"[cencomm] Watch list match in another operation: {shown}"
        lines = [
            f"A new seizure report in another operation matches your watch on {shown}.",
            "",
            "You cannot read that report. You may ask its operation to share it from the "
            "report of yours that carries the same identifier.",
            "",
        ]
    return subject[:200], "\n".join(lines)
