"""Watch lists over HTTP and the WebSocket: selectors, limits, roles, matches (live and e-mail),
and the cross-group rule (a report the watcher may not read: only that one exists elsewhere)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from email.header import decode_header, make_header
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse, web
from aiohttp.test_utils import TestClient

from cencomm.app import create_app
from cencomm.appkeys import SERVICES
from cencomm.domain.clock import rfc3339
from cencomm.domain.identifiers import IdentifierKind, iso6346_check_digit
from cencomm.domain.ids import new_id
from cencomm.domain.users import Role
from cencomm.domain.watch_lists import MatchMode, Selector, Watch
from cencomm.settings import Settings
from tests.clock import FakeClock
from tests.factories import (
    Member,
    add_member,
    envelope,
    make_group,
    make_member,
    make_organization,
    seizure_body,
    sign,
)
from tests.problems import assert_problem
from tests.web.live_helpers import connect, live_settings, next_of
from tests.web.smtp_relay import Relay, relay_settings, running_relay

WATCHES = "/api/v1/watches"


def container(owner: str, serial: str) -> str:
    """A valid ISO 6346 number: owner code + U + six digits + its check digit."""
    first = f"{owner}U{serial}"
    return f"{first}{iso6346_check_digit(first)}"


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[tuple[Relay, int, Path]]:
    with running_relay(tmp_path) as running:
        yield running.handler, running.port, running.certificate


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(settings: Settings, clock: FakeClock, relay: tuple[Relay, int, Path]) -> web.Application:
    _, port, cert = relay
    return create_app(
        replace(live_settings(settings), smtp=relay_settings(port, cert)), clock=clock
    )


def _body(mail: Message) -> str:
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes), payload
    return payload.decode()


async def _watch(
    client: TestClient[Any, Any],
    member: Member,
    clock: FakeClock,
    kind: str,
    value: str,
    match: str = "exact",
    *,
    expires_in: float = 86400,
) -> dict[str, Any]:
    resp = await client.post(
        WATCHES,
        json={
            "kind": kind,
            "match": match,
            "value": value,
            "reason": "Targeting: consignee of seized medicines",
            "expires_at": rfc3339(clock.now() + timedelta(seconds=expires_in)),
        },
        headers=member.auth,
    )
    data: dict[str, Any] = await resp.json()
    assert resp.status == 201, data
    return data


async def _report(
    client: TestClient[Any, Any],
    member: Member,
    group: dict[str, Any],
    clock: FakeClock,
    *,
    hc: str = "TLP:AMBER",
    **standard: Any,
) -> str:
    """Post a seizure report carrying `standard` (containers, documents, parties); its id."""
    payload = envelope(
        member,
        group["id"],
        "seizure",
        hc=hc,
        iat=int(clock.now().timestamp()),
        body=seizure_body(member.organization.country or "FR", **standard),
    )
    resp = await client.post(
        f"/api/v1/groups/{group['id']}/messages",
        json={"jws": sign(member, payload)},
        headers=member.auth,
    )
    data = await resp.json()
    assert resp.status == 201, data
    return str(data["id"])


async def _matches(
    client: TestClient[Any, Any], member: Member, watch: dict[str, Any]
) -> list[dict[str, Any]]:
    resp = await client.get(f"{WATCHES}/{watch['id']}/matches", headers=member.auth)
    data = await resp.json()
    assert resp.status == 200, data
    assert data["next"] is None
    matches: list[dict[str, Any]] = data["matches"]
    return matches


async def _matched(ws: ClientWebSocketResponse, count: int) -> dict[str, dict[str, Any]]:
    """The next `count` watch.match frames, by watch id."""
    frames = [await next_of(ws, "watch.match") for _ in range(count)]
    return {f["watch_id"]: f for f in frames}


async def _operation(client: TestClient[Any, Any], mod: Member, country: str = "FR") -> Any:
    """A group with an officer who reports (with a key) from `country`."""
    group = await make_group(client, mod)
    org = await make_organization(client, country=country)
    officer = await make_member(client, Role.OFFICER, organization=org, with_key=True)
    await add_member(client, mod, group, officer)
    return group, officer


# -- keeping watches ----------------------------------------------------------------------


async def test_a_watch_is_kept_in_normal_form_listed_and_deleted_with_audit(
    client: TestClient[Any, Any], clock: FakeClock
) -> None:
    admin = await make_member(client, Role.ADMIN)
    analyst = await make_member(client, Role.ANALYST)
    made = await _watch(client, analyst, clock, "container", "csqu 305438-3")
    assert made["value"] == "CSQU3054383" and made["label"] == "csqu 305438-3"
    assert made["match"] == "exact" and made["kind"] == "container"
    clock.advance(1)  # newest first
    party = await _watch(client, analyst, clock, "party", "  Müller-Pharma   GmbH & Co. KG ")
    assert party["value"] == "muller pharma" and party["label"] == "Müller-Pharma GmbH & Co. KG"
    clock.advance(1)
    prefix = await _watch(client, analyst, clock, "document", "mscu-12", "prefix", expires_in=60)

    resp = await client.get(f"{WATCHES}/{made['id']}", headers=analyst.auth)
    assert resp.status == 200 and await resp.json() == made
    resp = await client.get(WATCHES, params={"limit": "2"}, headers=analyst.auth)
    page = await resp.json()
    assert [w["id"] for w in page["watches"]] == [prefix["id"], party["id"]]
    resp = await client.get(WATCHES, params={"after": page["next"]}, headers=analyst.auth)
    assert [w["id"] for w in (await resp.json())["watches"]] == [made["id"]]
    clock.advance(61)  # the prefix watch has expired
    resp = await client.get(WATCHES, params={"active": "true"}, headers=analyst.auth)
    assert {w["id"] for w in (await resp.json())["watches"]} == {made["id"], party["id"]}

    resp = await client.delete(f"{WATCHES}/{made['id']}", headers=analyst.auth)
    assert resp.status == 204
    await assert_problem(
        await client.get(f"{WATCHES}/{made['id']}", headers=analyst.auth), 404, "not-found"
    )
    await assert_problem(
        await client.delete(f"{WATCHES}/{made['id']}", headers=analyst.auth), 404, "not-found"
    )
    resp = await client.get("/api/v1/audit", params={"actor_id": analyst.id}, headers=admin.auth)
    entries = [e for e in (await resp.json())["entries"] if e["target_type"] == "watch"]
    assert [(e["action"], e["target_id"]) for e in entries] == [
        ("watch.create", made["id"]),
        ("watch.create", party["id"]),
        ("watch.create", prefix["id"]),
        ("watch.delete", made["id"]),
    ]


async def test_every_bad_input_is_refused_naming_its_field(
    client: TestClient[Any, Any], clock: FakeClock
) -> None:
    officer = await make_member(client, Role.OFFICER)
    good = {
        "kind": "container",
        "match": "exact",
        "value": "CSQU3054383",
        "reason": "Known consignment",
        "expires_at": rfc3339(clock.now() + timedelta(days=30)),
    }
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"kind": "ship"}, "validation-failed", "body.kind"),
        ({"match": "fuzzy"}, "validation-failed", "body.match"),
        ({"kind": "party", "match": "prefix", "value": "Acme"}, "invalid-watch", "body.match"),
        ({"kind": "vessel", "match": "prefix", "value": "IMO9074"}, "invalid-watch", "body.match"),
        ({"value": "CSQU3054384"}, "invalid-watch", "body.value"),  # wrong check digit
        ({"match": "prefix", "value": "CSQ"}, "invalid-watch", "body.value"),  # too short
        ({"match": "prefix", "value": "1234567"}, "invalid-watch", "body.value"),
        ({"kind": "document", "match": "prefix", "value": "a-b"}, "invalid-watch", "body.value"),
        ({"kind": "vessel", "value": "IMO 9074728"}, "invalid-watch", "body.value"),
        ({"kind": "flight", "value": "12345678"}, "invalid-watch", "body.value"),
        ({"kind": "party", "value": "--- ..."}, "invalid-watch", "body.value"),
        ({"kind": "document", "value": "X"}, "invalid-watch", "body.value"),
        ({"value": "   "}, "invalid-watch", "body.value"),
        ({"value": "C" * 201}, "validation-failed", "body.value"),
        ({"value": 3054383}, "validation-failed", "body.value"),
        ({"reason": ""}, "validation-failed", "body.reason"),
        ({"reason": "x" * 501}, "validation-failed", "body.reason"),
        ({"reason": "bad\u0007bell"}, "validation-failed", "body.reason"),
        ({"expires_at": rfc3339(clock.now())}, "invalid-watch", "body.expires_at"),
        (
            {"expires_at": rfc3339(clock.now() + timedelta(days=367))},
            "invalid-watch",
            "body.expires_at",
        ),
        ({"expires_at": "2030-01-01T00:00:00"}, "validation-failed", "body.expires_at"),
        ({"colour": "red"}, "validation-failed", "body.colour"),
    ]
    for change, slug, field in cases:
        resp = await client.post(WATCHES, json={**good, **change}, headers=officer.auth)
        problem = await assert_problem(resp, 422, slug)
        assert field in [e["field"] for e in problem["errors"]], (change, problem)
    for missing in ("kind", "value", "reason", "expires_at"):
        body = {k: v for k, v in good.items() if k != missing}
        problem = await assert_problem(
            await client.post(WATCHES, json=body, headers=officer.auth), 422, "validation-failed"
        )
        assert problem["errors"][0]["field"] == f"body.{missing}"
    resp = await client.get(WATCHES, headers=officer.auth)
    assert (await resp.json())["watches"] == []  # nothing was kept
    resp = await client.get(WATCHES, params={"after": "bm90LWEtY3Vyc29y"}, headers=officer.auth)
    await assert_problem(resp, 422, "validation-failed")


async def test_a_user_keeps_at_most_100_active_watches(
    client: TestClient[Any, Any], clock: FakeClock
) -> None:
    officer = await make_member(client, Role.OFFICER)
    made = [await _watch(client, officer, clock, "party", f"Trading house {n}") for n in range(100)]
    resp = await client.post(
        WATCHES,
        json={
            "kind": "party",
            "value": "One too many",
            "reason": "x",
            "expires_at": rfc3339(clock.now() + timedelta(days=1)),
        },
        headers=officer.auth,
    )
    await assert_problem(resp, 409, "too-many-watches")
    assert (await client.delete(f"{WATCHES}/{made[0]['id']}", headers=officer.auth)).status == 204
    await _watch(client, officer, clock, "party", "Room again")


async def test_observers_keep_no_watches_and_nobody_sees_anothers(
    client: TestClient[Any, Any], clock: FakeClock
) -> None:
    owner = await make_member(client, Role.OFFICER)
    watch = await _watch(client, owner, clock, "vessel", "IMO 9074729")
    assert watch["value"] == "IMO9074729"
    observer = await make_member(client, Role.OBSERVER)
    body = {
        "kind": "vessel",
        "value": "9074729",
        "reason": "x",
        "expires_at": rfc3339(clock.now() + timedelta(days=1)),
    }
    url = f"{WATCHES}/{watch['id']}"
    for method, path, json in (
        ("POST", WATCHES, body),
        ("GET", WATCHES, None),
        ("GET", url, None),
        ("DELETE", url, None),
        ("GET", f"{url}/matches", None),
    ):
        resp = await client.request(method, path, json=json, headers=observer.auth)
        await assert_problem(resp, 403, "forbidden")
    for role in (Role.ADMIN, Role.MODERATOR, Role.ANALYST, Role.OFFICER):
        other = await make_member(client, role)
        own = await _watch(client, other, clock, "flight", "lh 0400")
        assert own["value"] == "LH400"
        for method, path in (("GET", url), ("GET", f"{url}/matches"), ("DELETE", url)):
            resp = await client.request(method, path, headers=other.auth)
            await assert_problem(resp, 404, "not-found")
        resp = await client.get(WATCHES, headers=other.auth)
        assert [w["id"] for w in (await resp.json())["watches"]] == [own["id"]]
    resp = await client.get(url, headers=owner.auth)
    assert resp.status == 200  # still there, untouched
    resp = await client.get(f"{WATCHES}/not-a-uuid", headers=owner.auth)
    await assert_problem(resp, 404, "not-found")
    resp = await client.get(WATCHES, headers={})
    await assert_problem(resp, 401, "unauthenticated")


# -- matching ----------------------------------------------------------------------------


async def test_a_matching_report_notifies_the_watcher_live_and_by_email(
    client: TestClient[Any, Any], clock: FakeClock, relay: tuple[Relay, int, Path]
) -> None:
    handler, _, _ = relay
    admin = await make_member(client, Role.ADMIN)
    mod = await make_member(client, Role.MODERATOR)
    group, officer = await _operation(client, mod)
    watcher = await make_member(client, Role.ANALYST)
    await add_member(client, mod, group, watcher)
    other = await make_member(client, Role.OFFICER)
    await add_member(client, mod, group, other)
    resp = await client.patch(
        f"/api/v1/users/{watcher.id}",
        json={"email": "rilo@customs.example.org"},
        headers=admin.auth,
    )
    assert resp.status == 200

    box = container("CSQ", "305438")
    exact = await _watch(client, watcher, clock, "container", box.lower())
    owner_code = await _watch(client, watcher, clock, "container", "csqu 30", "prefix")
    bill = await _watch(client, watcher, clock, "document", "MEDU-77", "prefix")
    party = await _watch(client, watcher, clock, "party", "Müller Pharma GmbH")
    unrelated = await _watch(client, watcher, clock, "container", container("TGH", "111111"))
    sentinel = await _watch(client, other, clock, "party", "Sentinel Trading")
    watcher_ws = await connect(client, watcher)
    other_ws = await connect(client, other)

    message_id = await _report(
        client,
        officer,
        group,
        clock,
        containers=[box, container("MSK", "123456")],
        documents=[{"type": "bl", "number": "medu 7712 3456"}],
        parties=[
            {"role": "consignee", "name": "MULLER-PHARMA Ltd.", "country": "DE"},
            {"role": "consignor", "name": "Shenzhen Goods Co", "country": "CN"},
        ],
    )
    frames = await _matched(watcher_ws, 4)
    assert set(frames) == {exact["id"], owner_code["id"], bill["id"], party["id"]}
    for frame in frames.values():
        assert frame["message_id"] == message_id and frame["group_id"] == group["id"]
        assert frame["elsewhere"] is False
    assert frames[exact["id"]]["identifier"] == {"kind": "container", "value": box, "label": box}
    assert frames[owner_code["id"]]["identifier"]["value"] == box
    assert frames[bill["id"]]["identifier"] == {
        "kind": "document",
        "value": "MEDU77123456",
        "label": "medu 7712 3456",
    }
    assert frames[party["id"]]["identifier"] == {
        "kind": "party",
        "value": "muller pharma",
        "label": "MULLER-PHARMA Ltd.",
    }
    [listed] = await _matches(client, watcher, party)
    assert listed["message_id"] == message_id and listed["elsewhere"] is False
    assert listed["identifier"]["label"] == "MULLER-PHARMA Ltd."
    assert await _matches(client, watcher, unrelated) == []

    # A similar but different company does not match; the sentinel report shows the
    # matcher is past it (reports are matched in order, frames sent in order).
    await _report(
        client,
        officer,
        group,
        clock,
        parties=[{"role": "consignee", "name": "Müller Pharmacy GmbH", "country": "DE"}],
    )
    await _report(
        client,
        officer,
        group,
        clock,
        parties=[{"role": "notify", "name": "SENTINEL TRADING SARL", "country": "FR"}],
    )
    first = await next_of(other_ws, "watch.match")
    assert first["watch_id"] == sentinel["id"]  # and never any of the watcher's frames
    assert len(await _matches(client, watcher, party)) == 1

    notifications = client.app[SERVICES].alerts.notifications
    assert await notifications.deliver_once(clock.now()) == 4  # the sentinel's owner has none
    mails = handler.messages
    assert {m["To"] for m in mails} == {"rilo@customs.example.org"}
    subjects = sorted(str(make_header(decode_header(m["Subject"]))) for m in mails)
    assert "[cencomm] Watch list match: party Müller Pharma GmbH" in subjects
    for mail in mails:
        body = _body(mail)
        assert f"/#/groups/{group['id']}" in body
        assert "Shenzhen" not in body and "MSKU" not in body  # nothing else of the report
    await watcher_ws.close()
    await other_ws.close()


async def test_a_report_elsewhere_tells_only_that_one_matches_and_never_red_or_hidden(
    client: TestClient[Any, Any], clock: FakeClock, relay: tuple[Relay, int, Path]
) -> None:
    handler, _, _ = relay
    admin = await make_member(client, Role.ADMIN)
    mod = await make_member(client, Role.MODERATOR)
    home, home_officer = await _operation(client, mod)
    away, away_officer = await _operation(client, mod, country="PT")
    watcher = await make_member(client, Role.OFFICER)
    await add_member(client, mod, home, watcher)
    resp = await client.patch(
        f"/api/v1/users/{watcher.id}", json={"email": "fr@customs.example.org"}, headers=admin.auth
    )
    assert resp.status == 200
    box = container("CSQ", "305438")
    watch = await _watch(client, watcher, clock, "container", f"{box[:4]} {box[4:]}")
    staff = await _watch(client, mod, clock, "container", box)  # staff read every group
    ws = await connect(client, watcher)

    away_id = await _report(client, away_officer, away, clock, containers=[box])
    frame = await next_of(ws, "watch.match")
    assert frame == {
        "type": "watch.match",
        "watch_id": watch["id"],
        "identifier": {"kind": "container", "value": box, "label": f"{box[:4]} {box[4:]}"},
        "message_id": None,
        "group_id": None,
        "elsewhere": True,
    }
    [listed] = await _matches(client, watcher, watch)
    assert listed["message_id"] is None and listed["group_id"] is None
    assert listed["elsewhere"] is True and listed["identifier"] == frame["identifier"]
    [seen] = await _matches(client, mod, staff)
    assert seen["message_id"] == away_id and seen["elsewhere"] is False

    # TLP:RED in another operation never matches across groups; in the watcher's own it does.
    await _report(client, away_officer, away, clock, hc="TLP:RED", containers=[box])
    red_home = await _report(client, home_officer, home, clock, hc="TLP:RED", containers=[box])
    frame = await next_of(ws, "watch.match")
    assert frame["message_id"] == red_home and frame["elsewhere"] is False
    assert len(await _matches(client, watcher, watch)) == 2
    assert len(await _matches(client, mod, staff)) == 3  # the moderator reads all three

    notifications = client.app[SERVICES].alerts.notifications
    assert await notifications.deliver_once(clock.now()) == 2
    elsewhere_mail, home_mail = sorted(
        handler.messages, key=lambda m: "another" not in m["Subject"]
    )
    body = _body(elsewhere_mail)
    assert "another operation" in body and "another operation" in elsewhere_mail["Subject"]
    for secret in (away["id"], away["code"], away_id, "PT", "Portugal", "/#/groups/"):
        assert secret not in body and secret not in elsewhere_mail["Subject"]
    assert f"/#/groups/{home['id']}" in _body(home_mail)

    # Hidden: out of every match list, for everyone, and never matched.
    resp = await client.post(
        f"/api/v1/messages/{away_id}/hide", json={"reason": "Wrong operation"}, headers=mod.auth
    )
    assert resp.status == 200
    assert [m["message_id"] for m in await _matches(client, watcher, watch)] == [red_home]
    assert away_id not in [m["message_id"] for m in await _matches(client, mod, staff)]
    service = client.app[SERVICES].watch_lists
    # A watch that existed when those reports came, not matched yet.
    late = Watch(
        new_id(),
        watcher.user.id,
        Selector(IdentifierKind.CONTAINER, MatchMode.EXACT, box, box),
        "Kept before the reports came",
        clock.now() + timedelta(days=1),
        clock.now() - timedelta(hours=1),
    )
    await client.app[SERVICES].db.write(lambda unit: unit.watches.insert(late))
    assert await service.match_report(uuid.UUID(away_id)) == 0  # hidden
    assert (
        await service.match_report(uuid.UUID(red_home)) == 1
    )  # the control: the same watch matches
    assert [m["message_id"] for m in await _matches(client, watcher, {"id": late.id})] == [red_home]
    await ws.close()


async def test_expired_and_deleted_watches_do_not_match(
    client: TestClient[Any, Any], clock: FakeClock
) -> None:
    mod = await make_member(client, Role.MODERATOR)
    group, officer = await _operation(client, mod)
    watcher = await make_member(client, Role.ANALYST)
    box = container("ABC", "765432")
    expiring = await _watch(client, watcher, clock, "container", box, expires_in=1)
    deleted = await _watch(client, watcher, clock, "container", box)
    assert (await client.delete(f"{WATCHES}/{deleted['id']}", headers=watcher.auth)).status == 204
    sentinel = await _watch(client, watcher, clock, "party", "Sentinel Trading")
    ws = await connect(client, watcher)
    clock.advance(2)
    await _report(client, officer, group, clock, containers=[box])
    await _report(
        client,
        officer,
        group,
        clock,
        parties=[{"role": "notify", "name": "Sentinel Trading", "country": "FR"}],
    )
    frame = await next_of(ws, "watch.match")
    assert frame["watch_id"] == sentinel["id"] and frame["elsewhere"] is True
    assert await _matches(client, watcher, expiring) == []
    await ws.close()
