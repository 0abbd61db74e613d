"""Correlations: seizure reports that share an identifier, and what a caller may learn of them.

Two reports correlate when they carry the same identifier in its normal form
(`domain/identifiers.py`). What a caller is shown follows the read rule of
`GET /messages/{id}` exactly, and hidden reports take part in nothing:

- `related`: the reports the caller may read (any group they can read, observers never
  TLP:AMBER+STRICT or TLP:RED) that share at least one identifier, most shared first;
- `elsewhere`: the identifiers that also occur in a report of a group the caller cannot see at
  all (another operation), never when either report is TLP:RED. Only the identifiers are said:
  no group, no report, no count, no country. A report the caller's own groups withhold from
  them (an observer's TLP:AMBER+STRICT) counts as neither.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from cencomm.domain.envelopes import HandlingCode
from cencomm.domain.groups import GroupAccess
from cencomm.domain.identifiers import Identifier
from cencomm.domain.ids import GroupId, MessageId
from cencomm.domain.messages import withheld_codes

RELATED_DEFAULT = 50
RELATED_MAX = 200
RED = HandlingCode.RED.value


@dataclass(frozen=True, slots=True)
class Readership:
    """Which seizure reports one principal may read, over every group at once.

    Attributes:
        everywhere: staff (admins, moderators) read every group (`full` is then empty).
        full: groups whose every report the principal may read.
        restricted: groups where handling codes in `withheld` are kept from them (observers;
            staff too, in a group that admitted them as observers).
        withheld: the handling codes kept from them in `restricted` groups.
    """

    everywhere: bool
    full: tuple[GroupId, ...] = ()
    restricted: tuple[GroupId, ...] = ()
    withheld: frozenset[str] = frozenset()

    @property
    def visible(self) -> tuple[GroupId, ...]:
        """Every group the principal can see (what is outside is "another operation")."""
        return self.full + self.restricted

    def may_read(self, group_id: GroupId, hc: str) -> bool:
        if group_id in self.restricted:
            return hc not in self.withheld
        return self.everywhere or group_id in self.full


def readership_of(accesses: Iterable[GroupAccess], *, staff: bool) -> Readership:
    """The readership of a principal from their access to each group they are in (staff: to
    those they are members of; every other group they read whole)."""
    full: list[GroupId] = []
    restricted: list[GroupId] = []
    withheld: frozenset[str] = frozenset()
    for access in accesses:
        codes = withheld_codes(access)
        if codes:
            restricted.append(access.group.id)
            withheld |= codes
        else:
            full.append(access.group.id)
    if staff:
        return Readership(True, (), tuple(restricted), withheld)
    return Readership(False, tuple(full), tuple(restricted), withheld)


@dataclass(frozen=True, slots=True)
class RelatedReport:
    """A readable report sharing identifiers (`shared`, as that report wrote them)."""

    message_id: MessageId
    group_id: GroupId
    group_code: str
    seq: int
    country: str
    occurred_on: date
    reported_at: datetime
    hc: str
    shared: tuple[Identifier, ...]


@dataclass(frozen=True, slots=True)
class Related:
    """`GET /messages/{id}/related`: the report's identifiers, the readable reports sharing
    some, and the identifiers also seen in another operation."""

    message_id: MessageId
    identifiers: tuple[Identifier, ...]
    related: tuple[RelatedReport, ...]
    elsewhere: tuple[Identifier, ...]


def nothing_related(message_id: MessageId) -> Related:
    """What a hidden report or a message that is no seizure report shows."""
    return Related(message_id, (), (), ())


@dataclass(frozen=True, slots=True)
class GroupCorrelation:
    """An identifier seen in more than one readable report of a group."""

    identifier: Identifier
    reports: int
    countries: tuple[str, ...]
    first_seen: date
    last_seen: date


@dataclass(frozen=True, slots=True)
class CorrelationPosition:
    """Where a page of a group's correlations ended (most linked first, then kind, value)."""

    reports: int
    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class RelatedLink:
    """One report a new report links to, as the `correlation` live frame names it."""

    message_id: MessageId
    group_id: GroupId
    seq: int
    shared: tuple[Identifier, ...]


def links_of(related: Iterable[RelatedReport]) -> tuple[RelatedLink, ...]:
    return tuple(RelatedLink(r.message_id, r.group_id, r.seq, r.shared) for r in related)
