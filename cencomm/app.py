"""create_app(settings): the one place that wires everything together."""

from __future__ import annotations

import asyncio
import contextlib
import weakref
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from cencomm.appkeys import DATABASE, HUB, SERVICES, SETTINGS, SOCKETS
from cencomm.domain.clock import Clock, SystemClock
from cencomm.domain.events import (
    LiveEvent,
    MembershipChanged,
    PostingChanged,
    RoleChanged,
    SessionRevoked,
)
from cencomm.realtime.bus import Bus, EventPublisher, RedisBus, make_bus
from cencomm.realtime.hub import Hub
from cencomm.realtime.link_bus import LinkBus
from cencomm.realtime.links import WorkerLinks
from cencomm.services.background import BackgroundJobs
from cencomm.services.container import build_services
from cencomm.services.live import LiveService
from cencomm.settings import Settings
from cencomm.storage.db import Database
from cencomm.storage.keyring import load_or_create_server_keys
from cencomm.web.limits import LIMITS, RequestLimits, body_deadline_middleware
from cencomm.web.live import LIVE, LiveDispatcher
from cencomm.web.live_poll import BUS_POLLER, BusPoller
from cencomm.web.metrics import METRICS, HttpMetrics
from cencomm.web.middlewares import (
    add_security_headers,
    observe_middleware,
    problem_middleware,
    request_id_middleware,
)
from cencomm.web.routes import setup_routes
from cencomm.web.ws import close_sockets

MAX_HEADER_BYTES = 128 * 1024
# The longest valid query (an upload `?name=` of 4,096 characters, each up to 12 bytes once
# percent-encoded) fits.
MAX_REQUEST_LINE_BYTES = 64 * 1024
LINGERING_TIME = 10.0  # aiohttp's default


def create_app(
    settings: Settings, *, clock: Clock | None = None, links: WorkerLinks | None = None
) -> web.Application:
    """The application; `links` when it is one of the processes of `serve --workers N`."""
    app = web.Application(
        # The body deadline inside the problem rendering: its 408 becomes a problem too.
        middlewares=[
            request_id_middleware,
            observe_middleware,
            problem_middleware,
            body_deadline_middleware,
        ],
        # JSON bodies are read through web.parsing with their own limit; uploads stream.
        client_max_size=settings.http.max_json_bytes,
        # Large enough that an oversized header (a 100 KB "token") reaches our code and gets a
        # proper problem answer rather than the parser's bare 400; still a firm bound.
        handler_args={
            "max_field_size": MAX_HEADER_BYTES,
            "max_line_size": MAX_REQUEST_LINE_BYTES,
            # aiohttp has no deadline for a request's head of its own; its keep-alive timer is
            # one (armed when a connection opens and when an answer ends, not pushed back by
            # incoming bytes), which `web/limits.py` relies on. It overrides run_app's 75 s.
            "keepalive_timeout": settings.http.header_timeout,
            # After an answer to a request whose body was not read whole (413, 408, 401 before
            # the body), the rest is read and dropped for this long so that the client sees the
            # answer rather than a reset; no longer than it would get to send a request head.
            "lingering_time": min(LINGERING_TIME, settings.http.header_timeout),
        },
    )
    app[SETTINGS] = settings
    app[METRICS] = HttpMetrics()
    app[LIMITS] = RequestLimits(
        settings.http.max_concurrent_requests, settings.http.max_requests_per_user
    )
    app[SOCKETS] = weakref.WeakSet()
    app.on_response_prepare.append(add_security_headers)
    app.cleanup_ctx.append(_database_ctx)
    app.cleanup_ctx.append(_services_ctx(clock or SystemClock(), links))
    app.cleanup_ctx.append(_live_ctx(links))
    app.on_shutdown.append(close_sockets)  # 1001 to every live socket
    app.cleanup_ctx.append(_background_ctx(links))
    setup_routes(app)
    return app


async def _database_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    db = Database(settings.database_url, settings.database)
    app[DATABASE] = db
    yield
    await db.dispose()


def _services_ctx(
    clock: Clock, links: WorkerLinks | None
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def services_ctx(app: web.Application) -> AsyncIterator[None]:
        settings = app[SETTINGS]
        settings.data.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        keys = load_or_create_server_keys(settings.data.dir)
        app[SERVICES] = build_services(settings, app[DATABASE], clock, keys, links)
        if links is not None:
            await links.start()
        yield
        if links is not None:
            await links.close()  # after the jobs and the bus: nothing sends any more

    return services_ctx


def _live_ctx(links: WorkerLinks | None) -> Callable[[web.Application], AsyncIterator[None]]:
    async def live_ctx(app: web.Application) -> AsyncIterator[None]:
        """Live delivery: hub, bus, dispatcher."""
        settings = app[SETTINGS]
        services = app[SERVICES]
        hub = Hub(
            queue_size=settings.hub.queue_size,
            max_connections_per_user=settings.hub.max_connections_per_user,
        )
        live = LiveService(services.db, services.auth, services.groups, services.messaging)
        dispatcher = LiveDispatcher(
            hub, live, services.alerts, services.watch_lists, services.correlations
        )
        sessions = services.session_cache
        post_contexts = services.post_contexts

        async def on_event(event: LiveEvent) -> None:
            # Another process revoked a session, changed a role, a membership or what posts
            # read: stop trusting our cached copies at once (the dispatcher then closes the
            # sockets).
            if isinstance(event, SessionRevoked | RoleChanged):
                sessions.publish(event)
            if isinstance(event, SessionRevoked | RoleChanged | MembershipChanged | PostingChanged):
                post_contexts.publish(event)
            await dispatcher.handle(event)

        bus = _bus(settings, links)
        await bus.start(on_event)  # a Redis bus that cannot connect stops the start here
        services.events.subscribe(EventPublisher(bus))
        app[HUB] = hub
        app[LIVE] = dispatcher
        if isinstance(bus, RedisBus) and settings.bus.poll_interval > 0:
            # Redis may go away later: then the database is polled instead (web/live_poll.py).
            app[BUS_POLLER] = BusPoller(bus, hub, live, on_event, settings.bus.poll_interval)
        yield
        hub.close_all()
        await bus.close()

    return live_ctx


def _bus(settings: Settings, links: WorkerLinks | None) -> Bus:
    # Several processes on one host without Redis: the notices travel over their links.
    if links is not None and not settings.bus.url:
        return LinkBus(links)
    return make_bus(settings.bus.url, settings.bus.channel)


def _background_ctx(links: WorkerLinks | None) -> Callable[[web.Application], AsyncIterator[None]]:
    async def background_ctx(app: web.Application) -> AsyncIterator[None]:
        """Every background job, started once the services and the live delivery they publish
        to are up, and stopped before them: each finishes its pass, and the message writer
        answers every post it holds, while the bus and the database are still there."""
        jobs = _jobs(app)
        jobs.start()
        yield
        if links is not None and links.hub:
            # The other workers' posts in flight come through this process's writer: keep it
            # until those workers have stopped (their links close last), then stop it.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(app[SETTINGS].server.shutdown_timeout):
                    await links.wait_closed()
        await jobs.stop()

    return background_ctx


def _jobs(app: web.Application) -> BackgroundJobs:
    settings = app[SETTINGS]
    services = app[SERVICES]
    jobs = BackgroundJobs()
    jobs.add(services.messaging.writer.job())
    jobs.add(services.audit_log.job())
    if services.audit_forwarder.enabled:
        jobs.add(services.audit_forwarder.job())
    for job in services.witnesses.jobs():
        jobs.add(job)
    if settings.alerts.sweep_interval > 0:
        jobs.add(services.alert_deadlines.job())
    notifications = services.alerts.notifications
    if notifications.enabled and settings.notifications.poll_interval > 0:
        jobs.add(notifications.job())
    if services.attachments.scanner.enabled:
        jobs.add(services.attachments.scan_job())
    if BUS_POLLER in app:
        jobs.add(app[BUS_POLLER].job())
    if settings.attachments.orphan_sweep_interval > 0:
        jobs.add(services.attachments.orphan_job())
    jobs.add(services.watch_lists.job())
    return jobs
