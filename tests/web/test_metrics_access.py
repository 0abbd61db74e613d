"""`/metrics` answers loopback, the configured addresses and the metrics token; others get 404."""

from __future__ import annotations

import contextlib
import socket
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from cencomm.app import create_app
from cencomm.settings import Secret, Settings, SettingsError, load_settings
from tests.problems import assert_problem

TOKEN = "metrics-token-0123456789abcdef"


def _http(settings: Settings, **changes: Any) -> Settings:
    return replace(settings, http=replace(settings.http, **changes))


async def _client(aiohttp_client: Any, settings: Settings) -> TestClient[Any, Any]:
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    return client


def _comparable(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in {"instance", "request_id"}}


async def test_loopback_reads_metrics(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/metrics")
    assert resp.status == 200
    assert "cencomm_http_requests" in await resp.text()


async def test_another_address_gets_the_same_404_as_a_missing_route(
    settings: Settings, aiohttp_client: Any
) -> None:
    # Behind one trusted proxy the client address is the one the proxy saw.
    client = await _client(aiohttp_client, _http(settings, trusted_proxy_hops=1))
    outside = {"X-Forwarded-For": "203.0.113.7"}
    refused = await client.get("/metrics", headers=outside)
    body = await assert_problem(refused, 404, "not-found")
    missing = await assert_problem(await client.get("/nothing-here", headers=outside), 404)
    assert _comparable(body) == _comparable(missing)
    assert "cencomm_http" not in str(body)
    # The proxy itself, from loopback, still may.
    assert (await client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})).status == 200


async def test_configured_addresses_and_networks_read_metrics(
    settings: Settings, aiohttp_client: Any
) -> None:
    allowed = ("203.0.113.0/24", "2001:db8::1")
    client = await _client(
        aiohttp_client,
        _http(settings, trusted_proxy_hops=1, metrics_allowed_addresses=allowed),
    )
    for address, status in (
        ("203.0.113.7", 200),
        ("2001:db8::1", 200),
        ("198.51.100.1", 404),
        ("2001:db8::2", 404),
        ("not-an-address", 404),
    ):
        resp = await client.get("/metrics", headers={"X-Forwarded-For": address})
        assert resp.status == status, address


async def test_the_metrics_token_opens_metrics_from_anywhere(
    settings: Settings, aiohttp_client: Any
) -> None:
    client = await _client(
        aiohttp_client, _http(settings, trusted_proxy_hops=1, metrics_token=Secret(TOKEN))
    )
    outside = {"X-Forwarded-For": "203.0.113.7"}
    resp = await client.get("/metrics", headers={**outside, "Authorization": f"Bearer {TOKEN}"})
    assert resp.status == 200
    for wrong in (f"Bearer {TOKEN}x", "Bearer ", TOKEN, f"Basic {TOKEN}"):
        resp = await client.get("/metrics", headers={**outside, "Authorization": wrong})
        await assert_problem(resp, 404, "not-found")


def _outward_address() -> str | None:
    """An address of this machine other than loopback, if it has one."""
    with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.123", 9))  # UDP: nothing is sent
        address: str = probe.getsockname()[0]
        return None if address.startswith("127.") else address
    return None


async def test_a_peer_that_is_not_loopback_gets_404_without_any_proxy(
    settings: Settings, aiohttp_server: Any
) -> None:
    address = _outward_address()
    if address is None:
        pytest.skip("this machine has no address besides loopback")
    server = await aiohttp_server(create_app(settings), host=address)
    async with aiohttp.ClientSession() as session:
        resp = await session.get(f"http://{address}:{server.port}/metrics")
        await assert_problem(resp, 404, "not-found")
        resp = await session.get(f"http://{address}:{server.port}/health")
        assert resp.status == 200


def test_metrics_settings_load_and_are_checked() -> None:
    settings = load_settings(
        environ={
            "CENCOMM_CONFIG": "/dev/null",
            "CENCOMM_HTTP_METRICS_ALLOWED_ADDRESSES": "10.0.0.0/8, 192.0.2.9",
            "CENCOMM_HTTP_METRICS_TOKEN": TOKEN,
        }
    )
    assert settings.http.metrics_allowed_addresses == ("10.0.0.0/8", "192.0.2.9")
    assert settings.http.metrics_token is not None
    assert settings.http.metrics_token.reveal() == TOKEN
    assert TOKEN not in repr(settings)
    with pytest.raises(SettingsError, match=r"http\.metrics_allowed_addresses"):
        load_settings(
            environ={
                "CENCOMM_CONFIG": "/dev/null",
                "CENCOMM_HTTP_METRICS_ALLOWED_ADDRESSES": "10.0.0.300",
            }
        )
