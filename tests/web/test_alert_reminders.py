"""`respond_by` reminders come `alerts.reminder_before` seconds before the deadline, never in the
same breath as the alert itself (review issue 12, item 13)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from cencomm.app import create_app
from cencomm.appkeys import SERVICES
from cencomm.domain.users import Role
from cencomm.settings import Settings
from tests.clock import FakeClock
from tests.factories import make_member
from tests.web.live_helpers import live_settings, send_alert
from tests.web.smtp_relay import RunningRelay, running_relay

LEAD = 3600  # alerts.reminder_before, the default


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[RunningRelay]:
    with running_relay(tmp_path) as running:
        yield running


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(settings: Settings, clock: FakeClock, relay: RunningRelay) -> web.Application:
    configured = live_settings(settings)
    assert configured.alerts.reminder_before == LEAD
    return create_app(replace(configured, smtp=relay.settings()), clock=clock)


async def _alert(client: TestClient[Any, Any], clock: FakeClock, respond_in: int) -> dict[str, Any]:
    """A routine alert (no alert e-mail) to one officer with an address, due in `respond_in`."""
    admin = await make_member(client, Role.ADMIN)
    sender = await make_member(client, Role.MODERATOR, with_key=True)
    officer = await make_member(client, Role.OFFICER)
    resp = await client.patch(
        f"/api/v1/users/{officer.id}",
        json={"email": "duty@customs.example.org"},
        headers=admin.auth,
    )
    assert resp.status == 200, await resp.text()
    return await send_alert(
        client,
        sender,
        {"organizations": [str(officer.organization.id)]},
        priority="routine",
        respond_by=int(clock.now().timestamp()) + respond_in,
    )


async def test_no_reminder_when_respond_by_is_sooner_than_the_reminder_lead(
    client: TestClient[Any, Any], clock: FakeClock, relay: RunningRelay
) -> None:
    await _alert(client, clock, respond_in=200)
    services = client.app[SERVICES]
    for step in (0, 100, 99):  # from sending until just before the deadline
        clock.advance(step)
        assert (await services.alert_deadlines.sweep_once(clock.now())).reminded == 0
    assert await services.alerts.notifications.deliver_once(clock.now()) == 0
    clock.advance(2)
    result = await services.alert_deadlines.sweep_once(clock.now())
    assert (result.reminded, result.overdue) == (0, 1)
    assert await services.alerts.notifications.deliver_once(clock.now()) == 0
    assert relay.handler.messages == []


async def test_a_reminder_comes_its_lead_before_the_deadline(
    client: TestClient[Any, Any], clock: FakeClock, relay: RunningRelay
) -> None:
    await _alert(client, clock, respond_in=LEAD + 600)
    services = client.app[SERVICES]
    assert (await services.alert_deadlines.sweep_once(clock.now())).reminded == 0
    clock.advance(599)
    assert (await services.alert_deadlines.sweep_once(clock.now())).reminded == 0
    clock.advance(1)
    assert (await services.alert_deadlines.sweep_once(clock.now())).reminded == 1
    assert await services.alerts.notifications.deliver_once(clock.now()) == 1
    [mail] = relay.handler.messages
    assert mail["To"] == "duty@customs.example.org"
    assert mail["Subject"].startswith("[cencomm] Reminder: answer the ROUTINE alert")
