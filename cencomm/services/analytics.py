"""Read-only aggregates over seizure reports: analytics, the seizures CSV, the operation report,
and the rebuild of the analytic tables from the stored JWS.

Who sees what is decided exactly as for reading the group's messages: `GroupService.access`
(a non-member gets the same NotFound as for a missing group), then `withheld_codes` (observers
never count TLP:AMBER+STRICT or TLP:RED). Files and printed reports never carry TLP:RED.
Hidden reports are never counted.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import json
import uuid
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cencomm.crypto.jws import parse_compact
from cencomm.domain.analytics import (
    Analytics,
    IdentifierCount,
    Period,
    Reporter,
    Scope,
    SeizureRows,
    assemble,
    check_group_ids,
    seizure_rows,
)
from cencomm.domain.audit import AuditRecord
from cencomm.domain.clock import Clock
from cencomm.domain.errors import NotFound
from cencomm.domain.groups import Group, GroupAccess
from cencomm.domain.identifiers import IdentifierKind
from cencomm.domain.ids import GroupId
from cencomm.domain.messages import withheld_codes
from cencomm.domain.policy import Action, authorize
from cencomm.domain.seizure_csv import STANDARD_KEYS, ItemLine, stored_standard_parts
from cencomm.domain.seizure_standard import NO_STANDARD_PARTS, StandardParts
from cencomm.domain.seizures import stored_seizure_report
from cencomm.domain.users import Caller, Principal
from cencomm.services.audit import AuditTrail
from cencomm.services.groups import GroupService
from cencomm.storage.analytics import StoredSeizure
from cencomm.storage.db import Database
from cencomm.storage.unit import Unit

TOP_IDENTIFIERS = 10  # parties, and containers/documents/conveyances, in the printed report
_TRANSPORT_KINDS = (
    IdentifierKind.CONTAINER,
    IdentifierKind.DOCUMENT,
    IdentifierKind.TRACKING,
    IdentifierKind.VESSEL,
    IdentifierKind.FLIGHT,
    IdentifierKind.VEHICLE,
)
CSV_PAGE = 500  # reports (so at most 25,000 items) per query while streaming the CSV
REBUILD_PAGE = 1_000  # messages per query while rebuilding


@dataclass(frozen=True, slots=True)
class SeizureExport:
    """A CSV ready to stream: its file name and its item lines, page by page."""

    filename: str
    pages: AsyncGenerator[list[ItemLine], None]


@dataclass(frozen=True, slots=True)
class ConveyanceFigures:
    """The printed report's conveyance and parties section: how many reports name each kind of
    identifier, the parties and the transport identifiers (containers, documents, vessels …)
    named by most reports."""

    kinds: dict[str, int] = dataclasses.field(default_factory=dict)
    parties: list[IdentifierCount] = dataclasses.field(default_factory=list)
    transport: list[IdentifierCount] = dataclasses.field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OperationReport:
    group: Group
    analytics: Analytics
    reporters: list[Reporter]
    generated_at: datetime
    conveyance: ConveyanceFigures = dataclasses.field(default_factory=ConveyanceFigures)


@dataclass(frozen=True, slots=True)
class RebuildCounts:
    reports: int
    items: int
    transit: int


def _principal(caller: Caller) -> Principal:
    if caller.principal is None:
        raise NotFound("no such group")
    return caller.principal


class AnalyticsService:
    def __init__(self, db: Database, clock: Clock, audit: AuditTrail, groups: GroupService) -> None:
        self._db = db
        self._clock = clock
        self._audit = audit
        self._groups = groups

    async def _accesses(self, principal: Principal, group_ids: Sequence[uuid.UUID]) -> Scope:
        accesses: list[GroupAccess] = await self._db.read(
            lambda unit: [self._groups.access(unit, principal, group_id) for group_id in group_ids]
        )
        return Scope({a.group.id: withheld_codes(a) for a in accesses})

    async def _figures(self, scope: Scope) -> Analytics:
        return assemble(await self._db.read(lambda unit: unit.analytics.report_figures(scope)))

    async def group_analytics(
        self, principal: Principal, group_id: uuid.UUID, period: Period
    ) -> Analytics:
        """Analytics of one group, as the caller may read it.

        Raises:
            NotFound: the caller cannot see the group (or it does not exist).
        """
        scope = await self._accesses(principal, [group_id])
        return await self._figures(Scope(scope.withheld, period))

    async def cross_group(
        self, principal: Principal, group_ids: Sequence[uuid.UUID], period: Period
    ) -> Analytics:
        """The same answer over several groups (admin, moderator, analyst).

        Raises:
            Forbidden: the caller's role may not compare groups.
            Invalid: no group, or more than `MAX_GROUPS`.
            NotFound: one of the groups is not visible to the caller (or does not exist).
        """
        authorize(principal, Action.COMPARE_GROUPS)
        ids = check_group_ids(group_ids)
        scope = await self._accesses(principal, ids)
        return await self._figures(Scope(scope.withheld, period))

    # -- files -------------------------------------------------------------------------------

    async def _audited_access(
        self,
        caller: Caller,
        group_id: uuid.UUID,
        action: str,
        details: dict[str, Any] | None = None,
    ) -> GroupAccess:
        """The caller's access to the group, with the audit entry of what they take out of it
        committed before any byte goes out (raises NotFound as reading the group does)."""
        principal = _principal(caller)

        def work(unit: Unit) -> GroupAccess:
            access = self._groups.access(unit, principal, group_id)
            self._audit.append(
                unit,
                AuditRecord.by(
                    caller,
                    action,
                    target_type="group",
                    target_id=group_id,
                    group_id=GroupId(group_id),
                    details=details,
                ),
            )
            return access

        return await self._db.write(work)

    async def seizures_csv(
        self, caller: Caller, group_id: uuid.UUID, period: Period
    ) -> SeizureExport:
        """Check access and audit the export (`group.seizures_export`) before any byte goes out.

        Raises:
            NotFound: the caller cannot see the group (or it does not exist).
        """
        details = {
            "format": "csv",
            "from": period.start.isoformat() if period.start else None,
            "to": period.end.isoformat() if period.end else None,
        }
        access = await self._audited_access(caller, group_id, "group.seizures_export", details)
        scope = Scope({access.group.id: withheld_codes(access)}, period).for_export()
        stamp = self._clock.now().strftime("%Y%m%dT%H%M%SZ")
        return SeizureExport(
            filename=f"cencomm-seizures-{access.group.code}-{stamp}.csv",
            pages=self._pages(scope),
        )

    async def _pages(self, scope: Scope) -> AsyncGenerator[list[ItemLine], None]:
        """Keyset pages of CSV_PAGE reports: memory stays bounded whatever the group's size."""
        after: int | None = None
        while True:
            page = await self._db.read(functools.partial(_item_lines, scope=scope, after=after))
            if not page:
                return
            yield page
            after = page[-1].seq

    async def operation_report(self, caller: Caller, group_id: uuid.UUID) -> OperationReport:
        """The printable report's figures (never TLP:RED), audited as `group.report`.

        Raises:
            NotFound: the caller cannot see the group (or it does not exist).
        """
        access = await self._audited_access(caller, group_id, "group.report")
        scope = Scope({access.group.id: withheld_codes(access)}).for_export()

        def read(unit: Unit) -> tuple[Analytics, list[Reporter], ConveyanceFigures]:
            figures = assemble(unit.analytics.report_figures(scope))
            conveyance = ConveyanceFigures(
                kinds=unit.identifier_figures.identifier_kinds(scope),
                parties=unit.identifier_figures.top_identifiers(
                    scope, [IdentifierKind.PARTY.value], TOP_IDENTIFIERS
                ),
                transport=unit.identifier_figures.top_identifiers(
                    scope, [kind.value for kind in _TRANSPORT_KINDS], TOP_IDENTIFIERS
                ),
            )
            return figures, unit.analytics.reporters(scope), conveyance

        analytics, reporters, conveyance = await self._db.read(read)
        return OperationReport(access.group, analytics, reporters, self._clock.now(), conveyance)

    # -- rebuild ------------------------------------------------------------------------------

    async def rebuild(self) -> RebuildCounts:
        """Recreate every analytic row from the stored JWS, in one transaction.

        The JWS is the source of truth: each seizure message's payload is parsed again, and
        its rows are made by the very function the writer uses. The region is the sender
        organisation's, as at posting.
        """

        def work(unit: Unit) -> tuple[int, int, int]:
            unit.analytics.clear_analytic_rows()
            for page in unit.analytics.stored_seizures(REBUILD_PAGE):
                unit.analytics.insert_seizure_rows([_rows_of(m) for m in page])
            return unit.analytics.count_rows()

        reports, items, transit = await self._db.write(work)
        return RebuildCounts(reports, items, transit)


def _item_lines(unit: Unit, *, scope: Scope, after: int | None) -> list[ItemLine]:
    """A page of item lines, each with its report's standard-form fields, which only the
    stored JWS holds (one lookup per page, only of the reports that may have them; a body
    without them is never parsed)."""
    lines = unit.analytics.item_lines(scope, after, CSV_PAGE)
    ids = list(dict.fromkeys(line.message_id for line in lines))
    stored = unit.identifier_figures.standard_form_jws(ids)
    parts = {message_id: _standard_of(jws) for message_id, jws in stored.items()}
    return [
        line
        if (standard := parts.get(line.message_id, NO_STANDARD_PARTS)) is NO_STANDARD_PARTS
        else dataclasses.replace(line, standard=standard)
        for line in lines
    ]


def _standard_of(jws: str) -> StandardParts:
    pieces = jws.split(".")
    encoded = pieces[1] if len(pieces) == 3 else ""
    raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
    if not any(key in raw for key in STANDARD_KEYS):
        return NO_STANDARD_PARTS
    payload = json.loads(raw)  # stored, so verified and parsed strictly when it was posted
    return stored_standard_parts(payload.get("body") if isinstance(payload, dict) else None)


def _rows_of(message: StoredSeizure) -> SeizureRows:
    payload = parse_compact(message.jws).payload
    report = stored_seizure_report(payload["body"], message.created_at)
    return seizure_rows(
        message_id=message.id,
        group_id=message.group_id,
        hc=message.hc,
        report=report,
        region=message.region,
        sender_organization_id=message.sender_organization_id,
        seq=message.seq,
        reported_at=message.created_at,
        hidden=message.hidden,
    )
