"""The link in a notification e-mail resolves: `GET /` serves the web client's shell with a strict
Content-Security-Policy (review issue 12, item 17)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from cencomm.app import create_app
from cencomm.appkeys import SERVICES
from cencomm.domain.users import Role
from cencomm.settings import Settings
from tests.clock import FakeClock
from tests.factories import add_member, make_group, make_member
from tests.web.live_helpers import live_settings, send_alert
from tests.web.smtp_relay import RunningRelay, mail_body, running_relay

_LINK = re.compile(r"https?://\S+")


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[RunningRelay]:
    with running_relay(tmp_path) as running:
        yield running


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(settings: Settings, clock: FakeClock, relay: RunningRelay) -> web.Application:
    return create_app(replace(live_settings(settings), smtp=relay.settings()), clock=clock)


def _check_policy(policy: str) -> None:
    directives = {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}
    assert directives["default-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    sources = [source for values in directives.values() for source in values]
    assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources
    # No other origin: only keywords, never a host, scheme or wildcard.
    assert all(source.startswith("'") and source.endswith("'") for source in sources), sources


async def test_the_link_in_an_alert_email_opens_the_web_client(
    client: TestClient[Any, Any], clock: FakeClock, relay: RunningRelay
) -> None:
    admin = await make_member(client, Role.ADMIN)
    mod = await make_member(client, Role.MODERATOR, with_key=True)
    group = await make_group(client, mod)
    officer = await make_member(client, Role.OFFICER)
    await add_member(client, mod, group, officer)
    resp = await client.patch(
        f"/api/v1/users/{officer.id}",
        json={"email": "duty@customs.example.org"},
        headers=admin.auth,
    )
    assert resp.status == 200
    sent = await send_alert(client, mod, {"groups": [group["id"]]}, priority="flash")
    clock.advance(61)
    assert await client.app[SERVICES].alerts.notifications.deliver_once(clock.now()) == 1
    [mail] = relay.handler.messages
    [link] = _LINK.findall(mail_body(mail))
    parts = urlsplit(link)
    assert parts.fragment == f"/alerts/{sent['id']}"  # the web client's route for this alert

    page = await client.get(parts.path)
    assert page.status == 200
    assert page.content_type == "text/html" and page.charset == "utf-8"
    _check_policy(page.headers["Content-Security-Policy"])
    html = await page.text()
    assert "<noscript>" in html
    # No inline script: any script element must load a same-origin file, and no handlers.
    for attributes in re.findall(r"<script\b([^>]*)>", html, flags=re.IGNORECASE):
        assert re.search(r"\bsrc=\"/", attributes), attributes
    assert not re.search(r"\son[a-z]+\s*=", html, flags=re.IGNORECASE)

    etag = page.headers["ETag"]
    again = await client.get(parts.path, headers={"If-None-Match": etag})
    assert again.status == 304 and again.headers["ETag"] == etag
    assert await again.read() == b""
