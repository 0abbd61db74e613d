"""Every typed key of the aiohttp application state."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from aiohttp import web

from cencomm.domain.users import Principal

if TYPE_CHECKING:
    from cencomm.realtime.hub import Hub
    from cencomm.services.container import Services
    from cencomm.settings import Settings
    from cencomm.storage.db import Database
    from cencomm.web.live import LiveDispatcher
    from cencomm.web.metrics import HttpMetrics
    from cencomm.web.routes import Route

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
DATABASE: web.AppKey[Database] = web.AppKey("database")
SERVICES: web.AppKey[Services] = web.AppKey("services")
METRICS: web.AppKey[HttpMetrics] = web.AppKey("metrics")
ROUTES: web.AppKey[tuple[Route, ...]] = web.AppKey("routes")
# Live delivery: this process's hub, its dispatcher, and every open WebSocket.
HUB: web.AppKey[Hub] = web.AppKey("hub")
LIVE: web.AppKey[LiveDispatcher] = web.AppKey("live")
SOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("sockets")

# Per-request state.
REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id", str)
PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal", Principal)
