"""The typed keys of the aiohttp application state that the layers below `web` provide."""

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

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
DATABASE: web.AppKey[Database] = web.AppKey("database")
SERVICES: web.AppKey[Services] = web.AppKey("services")
# Live delivery: this process's hub and every open WebSocket. Keys whose values are web types
# (the dispatcher, the metrics, the route table) live beside those types in `cencomm.web`.
HUB: web.AppKey[Hub] = web.AppKey("hub")
SOCKETS: web.AppKey[weakref.WeakSet[web.WebSocketResponse]] = web.AppKey("sockets")

# Per-request state.
REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id", str)
PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal", Principal)
