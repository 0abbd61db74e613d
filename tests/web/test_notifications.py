"""E-mail notifications through a real local SMTP server (aiosmtpd) with STARTTLS."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from cencomm.app import create_app
from cencomm.appkeys import SERVICES
from cencomm.domain.users import Role
from cencomm.settings import Settings, SmtpSettings
from tests.clock import FakeClock
from tests.factories import Member, add_member, make_group, make_member
from tests.web.live_helpers import connect, frame, live_settings, send_alert
from tests.web.smtp_relay import Relay, running_relay


def _body(mail: Message) -> str:
    """The text of a single-part mail (its payload, decoded from its transfer encoding)."""
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes), payload
    return payload.decode()


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
    smtp = SmtpSettings(
        host="127.0.0.1",
        port=port,
        starttls=True,
        ca_file=str(cert),
        from_address="cencomm@ops.example.org",
    )
    return create_app(replace(live_settings(settings), smtp=smtp), clock=clock)


async def _with_email(
    client: TestClient[Any, Any], admin: Member, member: Member, address: str
) -> None:
    resp = await client.patch(
        f"/api/v1/users/{member.id}", json={"email": address}, headers=admin.auth
    )
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["email"] == address


async def _world(client: TestClient[Any, Any]) -> dict[str, Any]:
    admin = await make_member(client, Role.ADMIN)
    mod = await make_member(client, Role.MODERATOR, with_key=True)
    group = await make_group(client, mod)
    people: dict[str, Any] = {"admin": admin, "mod": mod, "group": group}
    for name in ("away", "online", "quiet"):
        member = await make_member(client, Role.OFFICER)
        await add_member(client, mod, group, member)
        await _with_email(client, admin, member, f"{name}@customs.example.org")
        people[name] = member
    resp = await client.patch(
        "/api/v1/me/notifications", json={"alerts": False}, headers=people["quiet"].auth
    )
    assert resp.status == 200
    assert await resp.json() == {
        "email": "quiet@customs.example.org",
        "alerts": False,
        "reminders": True,
        "email_enabled": True,
    }
    return people


async def test_flash_alerts_email_only_recipients_who_did_not_see_them_live(
    client: TestClient[Any, Any], clock: FakeClock, relay: tuple[Relay, int, Path]
) -> None:
    handler, _, _ = relay
    w = await _world(client)
    ws = await connect(client, w["online"])
    sent = await send_alert(client, w["mod"], {"groups": [w["group"]["id"]]}, hc="TLP:AMBER")
    assert (await frame(ws))["type"] == "alert"  # delivered live: no e-mail for them
    notifications = client.app[SERVICES].alerts.notifications
    assert await notifications.deliver_once(clock.now()) == 0  # not due yet
    clock.advance(61)
    assert await notifications.deliver_once(clock.now()) == 1
    [mail] = handler.messages
    assert mail["To"] == "away@customs.example.org"
    assert mail["From"] == "cencomm@ops.example.org"
    assert mail["Subject"] == "[cencomm] New FLASH alert: Counterfeit masks via CN-AE route"
    assert mail["Message-ID"].startswith("<outbox-") and mail["Message-ID"].endswith(
        "@ops.example.org>"
    )
    body = _body(mail)
    assert f"/#/alerts/{sent['id']}" in body
    assert "textiles" not in body  # TLP:AMBER: the title, never the text
    assert await notifications.deliver_once(clock.now()) == 0
    assert await notifications.counts() == {"sent": 1, "skipped": 1}


async def test_red_alert_emails_carry_no_content(
    client: TestClient[Any, Any], clock: FakeClock, relay: tuple[Relay, int, Path]
) -> None:
    handler, _, _ = relay
    w = await _world(client)
    await send_alert(client, w["mod"], {"groups": [w["group"]["id"]]}, hc="TLP:RED")
    clock.advance(61)
    assert await client.app[SERVICES].alerts.notifications.deliver_once(clock.now()) == 2
    for mail in handler.messages:
        assert mail["Subject"] == "[cencomm] New FLASH alert (TLP:RED)"
        body = _body(mail)
        assert "Counterfeit" not in body and "textiles" not in body


async def test_routine_alerts_send_no_email(
    client: TestClient[Any, Any], clock: FakeClock, relay: tuple[Relay, int, Path]
) -> None:
    w = await _world(client)
    await send_alert(client, w["mod"], {"groups": [w["group"]["id"]]}, priority="routine")
    clock.advance(61)
    assert await client.app[SERVICES].alerts.notifications.deliver_once(clock.now()) == 0
    assert relay[0].messages == []


async def test_a_refusing_relay_is_retried_with_backoff(
    client: TestClient[Any, Any], clock: FakeClock, relay: tuple[Relay, int, Path]
) -> None:
    handler, _, _ = relay
    w = await _world(client)
    await send_alert(client, w["mod"], {"organizations": [str(w["away"].organization.id)]})
    handler.refuse = 1
    clock.advance(61)
    notifications = client.app[SERVICES].alerts.notifications
    assert await notifications.deliver_once(clock.now()) == 0
    assert await notifications.counts() == {"pending": 1}
    assert await notifications.deliver_once(clock.now()) == 0  # backing off
    clock.advance(30)  # notifications.retry_backoff
    assert await notifications.deliver_once(clock.now()) == 1
    assert [m["To"] for m in handler.messages] == ["away@customs.example.org"]


async def test_a_claim_lost_in_a_crash_is_sent_once_after_its_lease(
    client: TestClient[Any, Any], clock: FakeClock, relay: tuple[Relay, int, Path]
) -> None:
    handler, _, _ = relay
    w = await _world(client)
    await send_alert(client, w["mod"], {"organizations": [str(w["away"].organization.id)]})
    clock.advance(61)
    notifications = client.app[SERVICES].alerts.notifications
    crashed = await notifications.claim_due(clock.now(), token=uuid.uuid4())
    assert len(crashed) == 1  # claimed, then the process died before sending
    assert await notifications.deliver_once(clock.now()) == 0  # another process: leased
    clock.advance(121)  # notifications.lease
    assert await notifications.deliver_once(clock.now()) == 1
    clock.advance(1000)
    assert await notifications.deliver_once(clock.now()) == 0
    assert len(handler.messages) == 1


async def test_respond_by_reminders_go_to_organisations_that_have_not_answered(
    client: TestClient[Any, Any], clock: FakeClock, relay: tuple[Relay, int, Path]
) -> None:
    handler, _, _ = relay
    w = await _world(client)
    respond_by = int(clock.now().timestamp()) + 3600 + 200
    await send_alert(
        client,
        w["mod"],
        {"organizations": [str(w["away"].organization.id), str(w["quiet"].organization.id)]},
        priority="routine",
        respond_by=respond_by,
    )
    services = client.app[SERVICES]
    clock.advance(200)
    result = await services.alert_deadlines.sweep_once(clock.now())  # within reminder_before
    assert result.reminded == 2 and result.overdue == 0
    assert (await services.alert_deadlines.sweep_once(clock.now())).reminded == 0
    assert await services.alerts.notifications.deliver_once(clock.now()) == 2
    subjects = sorted(m["Subject"] for m in handler.messages)
    assert subjects[0].startswith("[cencomm] Reminder: answer the ROUTINE alert")
    assert sorted(m["To"] for m in handler.messages) == [
        "away@customs.example.org",
        "quiet@customs.example.org",  # alerts off, reminders on
    ]


async def test_preferences_need_no_smtp_to_be_read(client: TestClient[Any, Any]) -> None:
    member = await make_member(client, Role.OFFICER)
    resp = await client.get("/api/v1/me/notifications", headers=member.auth)
    assert await resp.json() == {
        "email": None,
        "alerts": True,
        "reminders": True,
        "email_enabled": True,
    }
