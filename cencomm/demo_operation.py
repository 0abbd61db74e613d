"""The demo operation STOP-2020: group, members, the signed reports and posts, alerts with
their acknowledgements, hidden posts and join requests (part of demo-seed).

Messages in cencomm are signed on the sender's device; for the demo, `demo_signing` plays the
devices. Everything goes through the real services, so seizure rows, search entries and audit
entries are written exactly as for posts over HTTP; posts are made now (`iat` is now) about
2020 (`occurred_on`).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cencomm.demo_alerts import raise_demo_alerts
from cencomm.demo_directory import ADMINISTRATIONS, PARTNERS, RILOS, officer_username
from cencomm.demo_reports import ENDS_ON, STARTS_ON, generate_reports
from cencomm.demo_signing import Senders, cid, payload
from cencomm.domain.groups import GroupChanges, GroupRole, GroupStatus, NewGroup
from cencomm.domain.users import User
from cencomm.services.container import Services
from cencomm.storage.unit import Unit

GROUP_CODE = "STOP-2020"
# Posts handed to the writer at once: it commits them in batches (group commit).
POST_CHUNK = 256

COUNTRIES = [c for pairs in ADMINISTRATIONS.values() for c, _ in pairs]


async def _load_users(services: Services) -> dict[str, User] | None:
    names = (
        ["secretariat.admin", "stop.moderator", "wco.research"]
        + [user for _, _, user, _ in RILOS]
        + [officer_username(c) for c in COUNTRIES]
        + [user for _, user, _ in PARTNERS]
    )

    def find(unit: Unit) -> dict[str, User] | None:
        found = {}
        for username in names:
            credentials = unit.users.find_credentials(username)
            if credentials is None:
                return None
            found[username] = credentials.user
        return found

    return await services.db.read(find)


class IncompleteDemo(Exception):
    """STOP-2020 exists but an earlier demo-seed stopped before its end."""


async def seed_operation(services: Services, data_dir: Path) -> bool:
    """Create STOP-2020 with everything in it; False if it exists already (nothing changes).

    Raises:
        IncompleteDemo: the group exists without the last step's join requests (an earlier
            run was interrupted; the demo is meant for an empty database).
    """
    users = await _load_users(services)
    group = await services.db.read(lambda unit: unit.groups.find_by_code(GROUP_CODE))
    if group is not None:
        if users is not None:
            staff = Senders(services, users, data_dir).caller("stop.moderator").principal
            assert staff is not None  # noqa: S101 - made from a user above
            requests = await services.groups.list_join_requests(staff, group.id, None, None, 2)
            if len(requests) < len(_JOIN_REQUESTS):
                raise IncompleteDemo(f"the demo group {GROUP_CODE} is incomplete")
        return False
    if users is None:
        return False
    key_dir = data_dir / "demo-keys"
    key_dir.mkdir(mode=0o700, exist_ok=True)
    senders = Senders(services, users, key_dir)
    group_id = await _create_group(services, senders)
    posted = await _post_everything(services, senders, group_id)
    await raise_demo_alerts(services, senders, group_id, posted)
    await _moderation(services, senders, group_id, posted)
    return True


async def _create_group(services: Services, senders: Senders) -> uuid.UUID:
    moderator = senders.caller("stop.moderator")
    group = await services.groups.create_group(
        moderator,
        NewGroup(
            code=GROUP_CODE,
            name="Operation STOP",
            description="WCO emergency operation against illicit trafficking of COVID-19 "
            "medicines and medical supplies: 99 administrations, the RILO network and partners "
            "(demo).",
            starts_at=datetime(STARTS_ON.year, STARTS_ON.month, STARTS_ON.day, tzinfo=UTC),
            ends_at=datetime(ENDS_ON.year, ENDS_ON.month, ENDS_ON.day, 23, 59, 59, tzinfo=UTC),
        ),
    )
    members = [officer_username(c) for c in COUNTRIES] + [user for _, _, user, _ in RILOS]
    for username in members:
        await services.groups.add_member(
            moderator,
            group.id,
            GroupRole.MEMBER,
            organization_id=senders.users[username].organization_id,
        )
    await services.groups.add_member(
        moderator, group.id, GroupRole.OBSERVER, user_id=senders.users["partner.observer"].id
    )
    await services.groups.update_group(
        moderator, group.id, GroupChanges(status=GroupStatus.ACTIVE, reason="demo operation starts")
    )
    return group.id


# (sender, typ, handling code, body): posted before the reports, in this order.
_OPENING: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("stop.moderator", "notice", "TLP:GREEN", {
        "title": "Operation STOP is active",
        "text": "Targeted inspections of COVID-19 medicines and medical supplies run from 11 May "
        "to 12 July 2020. Use the WCO checklist of COVID-19 related goods and report every "
        "interception as a seizure report in this group.",
    }),
    ("rilo.weu", "text", "TLP:AMBER+STRICT", {
        "text": "RILO WE: the CN to EU air route via AE carries most mask seizures so far; "
        "consignees change every week.",
    }),
    ("rilo.ap", "notice", "TLP:AMBER", {
        "title": "Postal parcels of medicines from South Asia",
        "text": "Small parcels of falsified chloroquine and azithromycin through HK and SG "
        "mail hubs; declared as food supplements or gifts.",
    }),
    ("officer.it", "text", "TLP:AMBER", {"text": "Test message, please ignore."}),
    ("officer.br", "text", "TLP:AMBER", {
        "text": "Consignee of the oximeters is Mr J. Doe, passport 12345678, "
        "phone +55 11 5555 0100.",
    }),
    ("rilo.wa", "text", "TLP:AMBER", {
        "text": "RILO WCA: sanitizer without alcohol arriving by sea through Apapa and Cotonou; "
        "check certificates of analysis.",
    }),
)  # fmt: skip
_CLOSING: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    ("stop.moderator", "notice", "TLP:GREEN", {
        "title": "Operation STOP has ended",
        "text": "1,683 interceptions reported by 99 administrations. Thank you all; the "
        "analysis of routes, modi operandi and products follows.",
    }),
)  # fmt: skip


async def _post_many(
    services: Services, senders: Senders, group_id: uuid.UUID, posts: Sequence[tuple[str, str]]
) -> list[uuid.UUID]:
    """Post (sender, jws) pairs concurrently, a chunk at a time; returns their message ids."""
    ids: list[uuid.UUID] = []
    for start in range(0, len(posts), POST_CHUNK):
        chunk = posts[start : start + POST_CHUNK]
        outcomes = await asyncio.gather(
            *(services.messaging.post(senders.caller(u), group_id, jws) for u, jws in chunk)
        )
        ids += [o.id for o in outcomes]
    return ids


async def _post_everything(
    services: Services, senders: Senders, group_id: uuid.UUID
) -> dict[str, uuid.UUID]:
    """The opening posts, the reports in `occurred_on` order, the closing notice; returns
    message ids by name (`report:<n>`, `opening:<n>`, `closing:<n>`)."""
    for username in {u for u, _, _, _ in _OPENING + _CLOSING}:
        await senders.key(username)
    names: list[str] = []
    posts: list[tuple[str, str]] = []
    for n, (username, typ, hc, body) in enumerate(_OPENING):
        user = senders.users[username]
        claims = payload(user, typ, hc, body, cid(f"opening:{n}"), group_id)
        posts.append((username, await senders.sign(username, claims)))
        names.append(f"opening:{n}")
    reports = sorted(enumerate(generate_reports()), key=lambda r: r[1].body["occurred_on"])
    for n, report in reports:
        username = officer_username(report.country)
        hc = "TLP:GREEN" if n % 10 == 0 else "TLP:AMBER"
        user = senders.users[username]
        claims = payload(user, "seizure", hc, report.body, cid(f"report:{n}"), group_id)
        posts.append((username, await senders.sign(username, claims)))
        names.append(f"report:{n}")
    for n, (username, typ, hc, body) in enumerate(_CLOSING):
        user = senders.users[username]
        claims = payload(user, typ, hc, body, cid(f"closing:{n}"), group_id)
        posts.append((username, await senders.sign(username, claims)))
        names.append(f"closing:{n}")
    ids = await _post_many(services, senders, group_id, posts)
    return dict(zip(names, ids, strict=True))


# The last step of the demo: their presence says a run finished.
_JOIN_REQUESTS = (
    ("partner.interpol", "INTERPOL liaison for Operation Pangea follow-up on falsified medicines."),
    ("wco.research", "Secretariat research unit: preparing the Operation STOP analysis report."),
)


async def _moderation(
    services: Services, senders: Senders, group_id: uuid.UUID, posted: dict[str, uuid.UUID]
) -> None:
    """Hidden posts (a test message, personal data) and join requests (one approved, one
    waiting for the moderators)."""
    moderator = senders.caller("stop.moderator")
    await services.messaging.set_hidden(moderator, posted["opening:3"], True, "test post")
    await services.messaging.set_hidden(
        moderator,
        posted["opening:4"],
        True,
        "personal data outside the report format; send it to RILO South America",
    )
    for username, reason in _JOIN_REQUESTS:
        await services.groups.request_to_join(senders.caller(username), GROUP_CODE, reason)
    principal = moderator.principal
    assert principal is not None  # noqa: S101 - made from a user above
    pending = await services.groups.list_join_requests(principal, group_id, None, None, 10)
    interpol = senders.users["partner.interpol"].id
    for join in pending:
        if join.user_id == interpol:
            await services.groups.decide_join_request(moderator, uuid.UUID(str(join.id)), True)
