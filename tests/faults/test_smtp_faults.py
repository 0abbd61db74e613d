"""The SMTP relay down, then refusing (451, 550), then accepting: the request that caused the
mail is answered at once, the mail stays queued and is retried with backoff, and it arrives
exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from cencomm.app import create_app
from cencomm.appkeys import SERVICES
from cencomm.domain.users import Role
from cencomm.services.notifications import NotificationService
from cencomm.settings import Settings
from tests.clock import FakeClock
from tests.factories import Member, add_member, make_group, make_member
from tests.faults.smtp_faults import SwitchableRelay
from tests.web.live_helpers import live_settings, send_alert


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[SwitchableRelay]:
    switchable = SwitchableRelay(tmp_path)
    yield switchable
    switchable.stop()


@dataclass
class MailWorld:
    client: TestClient[Any, Any]
    clock: FakeClock
    notifications: NotificationService
    mod: Member
    away: Member

    async def raise_alert(self) -> None:
        """A flash alert to `away`'s organisation: one e-mail queued, due in a minute."""
        await send_alert(self.client, self.mod, {"organizations": [str(self.away.organization.id)]})
        self.clock.advance(61)


async def mail_world(
    aiohttp_client: AiohttpClient, settings: Settings, relay: SwitchableRelay
) -> MailWorld:
    clock = FakeClock()
    app = create_app(replace(live_settings(settings), smtp=relay.settings()), clock=clock)
    client: TestClient[Any, Any] = await aiohttp_client(app)
    admin = await make_member(client, Role.ADMIN)
    mod = await make_member(client, Role.MODERATOR, with_key=True)
    away = await make_member(client, Role.OFFICER)
    group = await make_group(client, mod)
    await add_member(client, mod, group, away)
    resp = await client.patch(
        f"/api/v1/users/{away.id}", json={"email": "away@customs.example.org"}, headers=admin.auth
    )
    assert resp.status == 200, await resp.text()
    return MailWorld(client, clock, client.app[SERVICES].alerts.notifications, mod, away)


async def test_a_mail_survives_a_relay_that_is_down_then_refuses_and_arrives_once(
    aiohttp_client: AiohttpClient, settings: Settings, relay: SwitchableRelay
) -> None:
    w = await mail_world(aiohttp_client, settings, relay)
    clock, notifications = w.clock, w.notifications
    backoff = settings.notifications.retry_backoff

    # The relay is down when the alert is raised: the request does not wait for it.
    await w.raise_alert()
    assert await notifications.deliver_once(clock.now()) == 0
    assert await notifications.counts() == {"pending": 1}

    relay.start()
    relay.handler.answers = ["451 4.3.0 try again later", "550 5.7.1 relaying refused"]
    for attempt in (1, 2):
        assert await notifications.deliver_once(clock.now()) == 0  # still backing off
        clock.advance(backoff * 2**attempt)
        assert await notifications.deliver_once(clock.now()) == 0  # refused: queued again
        assert await notifications.counts() == {"pending": 1}
    assert dict(relay.handler.refused) == {"smtp-451": 1, "smtp-550": 1}

    clock.advance(backoff * 2**3)
    assert await notifications.deliver_once(clock.now()) == 1
    clock.advance(3600)
    assert await notifications.deliver_once(clock.now()) == 0
    assert [m["To"] for m in relay.handler.messages] == ["away@customs.example.org"]
    assert await notifications.counts() == {"sent": 1}
    await w.client.close()


async def test_a_relay_down_longer_than_max_attempts_does_not_lose_the_mail(
    aiohttp_client: AiohttpClient, settings: Settings, relay: SwitchableRelay
) -> None:
    """Down for twice `max_attempts` tries: the mail is still pending, then sent once."""
    w = await mail_world(aiohttp_client, settings, relay)
    clock, notifications = w.clock, w.notifications
    await w.raise_alert()
    for _ in range(2 * settings.notifications.max_attempts):
        assert await notifications.deliver_once(clock.now()) == 0
        assert await notifications.counts() == {"pending": 1}
        clock.advance(3600)  # the longest backoff
    relay.start()
    assert await notifications.deliver_once(clock.now()) == 1
    assert [m["To"] for m in relay.handler.messages] == ["away@customs.example.org"]
    await w.client.close()
