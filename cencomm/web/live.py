"""The live dispatcher: bus notices in, frames to this process's sockets out.

Services publish events to `LocalEvents` after they commit; `EventPublisher` turns each into a
small notice on the bus (in-process or Redis). Every process's bus listener hands each notice
to `LiveDispatcher.handle`, which decides per local subscriber with the same policy as HTTP
(`services/live.py`: membership, observers never get TLP:AMBER+STRICT or TLP:RED, hidden
messages without their JWS), with roles read from the database when the event is delivered, and
reads content from the database once per event, not per socket. A revoked session closes its
sockets (4401), a changed role every socket of that user (4409).
"""

from __future__ import annotations

import json
import logging
import weakref
from collections import OrderedDict
from collections.abc import Iterable

from aiohttp import web

from cencomm.domain.events import (
    AlertAcknowledged,
    AlertOverdue,
    AlertRaised,
    LiveEvent,
    MembershipChange,
    MembershipChanged,
    MessageCountersigned,
    MessageCountersignedFrame,
    MessageFrame,
    MessageHidden,
    MessagePosted,
    ReportIdentified,
    RoleChanged,
    ServerFrame,
    SessionRevoked,
    ShareRequestChanged,
    WatchMatched,
)
from cencomm.domain.ids import SessionId, UserId
from cencomm.domain.wire.alerts import alert_json
from cencomm.domain.wire.correlations import related_link_json
from cencomm.domain.wire.messages import message_json
from cencomm.domain.wire.seals import countersignature_json
from cencomm.domain.wire.watch_lists import watch_match_frame
from cencomm.realtime.hub import CLOSE_ROLE_CHANGED, Hub, Subscription
from cencomm.services.alerts import AlertService
from cencomm.services.correlations import CorrelationService
from cencomm.services.live import LiveService
from cencomm.services.watch_lists import WatchListService

logger = logging.getLogger(__name__)

ENCODED_CACHE = 256  # frames; one frame object goes to many sockets


class LiveDispatcher:
    """Turns events into frames for the local sockets; `handle` is the bus handler.

    A handler or socket cancelled mid-read (a socket closing, the bus stopping) needs no care
    here: `Database` runs each unit of work to its end whatever happens to its caller."""

    def __init__(
        self,
        hub: Hub,
        live: LiveService,
        alerts: AlertService,
        watches: WatchListService,
        correlations: CorrelationService | None = None,
    ) -> None:
        self.hub = hub
        self.live = live
        self.alerts = alerts
        self.watches = watches
        self.correlations = correlations
        # Sockets past their auth frame (they close themselves when their subscription closes).
        self.sockets: weakref.WeakSet[object] = weakref.WeakSet()
        # Frame identity → its JSON text, so a frame queued for N sockets is encoded once. The
        # frame is kept with its text, so its id cannot be reused while it is cached.
        self._encoded: OrderedDict[int, tuple[ServerFrame, str]] = OrderedDict()

    def encode(self, frame: ServerFrame) -> str:
        cached = self._encoded.get(id(frame))
        if cached is not None and cached[0] is frame:
            return cached[1]
        text = json.dumps(frame.to_json(), separators=(",", ":"), ensure_ascii=False)
        self._encoded[id(frame)] = (frame, text)
        if len(self._encoded) > ENCODED_CACHE:
            self._encoded.popitem(last=False)
        return text

    def _readers(self, subs: Iterable[Subscription]) -> dict[UserId, SessionId]:
        return {sub.user_id: sub.session_id for sub in subs}

    async def handle(self, event: LiveEvent) -> None:
        if isinstance(event, MessagePosted):
            await self._message_posted(event)
        elif isinstance(event, MessageHidden):
            await self._message_hidden(event)
        elif isinstance(event, MessageCountersigned):
            await self._message_countersigned(event)
        elif isinstance(event, MembershipChanged):
            await self._membership(event)
        elif isinstance(event, SessionRevoked):
            self.hub.close_sessions(event.session_ids)
        elif isinstance(event, RoleChanged):
            # Nothing decided under the old role may go out: queued frames are dropped with
            # the socket, and the client reconnects (same token) with the new role.
            self.hub.close_user(event.user_id, CLOSE_ROLE_CHANGED)
        elif isinstance(event, AlertRaised):
            await self._alert_raised(event)
        elif isinstance(event, AlertAcknowledged):
            if self.hub.connected:
                watchers = await self.alerts.ack_watchers(event.alert_id, event.organization_id)
                self.hub.deliver(watchers, event.to_frame())
        elif isinstance(event, AlertOverdue | ShareRequestChanged):
            self.hub.deliver(event.notify_ids, event.to_frame())
        elif isinstance(event, WatchMatched):
            await self._watch_matched(event)
        elif isinstance(event, ReportIdentified):
            await self._report_identified(event)

    async def _message_posted(self, event: MessagePosted) -> None:
        subs = self.hub.subscriptions_for_group(event.group_id)
        if not subs:
            return
        views = await self.live.message_for_readers(
            event.group_id, event.message_id, self._readers(subs)
        )
        frames: dict[bool, MessageFrame] = {}
        # Sockets that followed the group during the read get it from their own catch-up.
        for sub in self.hub.subscriptions_for_group(event.group_id):
            view = views.get(sub.user_id)
            if view is None:
                continue  # may not read it (membership, handling code): skipped, never sent
            frame = frames.get(view.show_jws)
            if frame is None:
                frame = frames[view.show_jws] = event.to_frame(message_json(view))
            self.hub.deliver(sub, frame)

    async def _message_hidden(self, event: MessageHidden) -> None:
        subs = self.hub.subscriptions_for_group(event.group_id)
        if not subs:
            return
        views = await self.live.message_for_readers(
            event.group_id, event.message_id, self._readers(subs)
        )
        frame = event.to_frame()
        for sub in self.hub.subscriptions_for_group(event.group_id):
            if sub.user_id in views:
                self.hub.deliver(sub, frame)

    async def _message_countersigned(self, event: MessageCountersigned) -> None:
        subs = self.hub.subscriptions_for_group(event.group_id)
        if not subs:
            return
        views = await self.live.message_for_readers(
            event.group_id, event.message_id, self._readers(subs)
        )
        frames: dict[bool, MessageCountersignedFrame] = {}
        for sub in self.hub.subscriptions_for_group(event.group_id):
            view = views.get(sub.user_id)
            if view is None:
                continue  # may not read the message: nothing of its seals either
            found = [c for c in view.countersignatures if c.id == event.countersignature_id]
            if not found:
                continue
            frame = frames.get(view.show_jws)
            if frame is None:
                frame = frames[view.show_jws] = event.to_frame(
                    countersignature_json(found[0], show_jws=view.show_jws)
                )
            self.hub.deliver(sub, frame)

    async def _membership(self, event: MembershipChanged) -> None:
        connected = self.hub.connected_users(event.user_ids)
        if not connected:
            return
        if event.change is MembershipChange.ADDED:
            self.hub.follow_group(connected, event.group_id)
            self.hub.deliver(connected, event.to_frame())
            return
        subs = [s for u in connected for s in self.hub.subscriptions_for_user(u)]
        still = await self.live.still_reading(event.group_id, self._readers(subs))
        lost = connected - still  # e.g. still a member through their organisation: unchanged
        self.hub.unfollow_group(lost, event.group_id)  # frames already queued are skipped too
        self.hub.deliver(lost, event.to_frame())

    async def _report_identified(self, event: ReportIdentified) -> None:
        """`correlation` frames: to the sender and the group's analysts connected here, each
        with the earlier reports the new one links to that they may read (none: no frame)."""
        if self.correlations is None:
            return
        subs = {
            *self.hub.subscriptions_for_group(event.group_id),
            *self.hub.subscriptions_for_user(event.sender_id),
        }
        if not subs:
            return
        links = await self.correlations.links_for_readers(
            event.group_id, event.message_id, event.sender_id, self._readers(subs)
        )
        for user_id, related in links.items():
            frame = event.to_frame(tuple(related_link_json(link) for link in related))
            self.hub.deliver((user_id,), frame)

    async def _alert_raised(self, event: AlertRaised) -> None:
        connected = self.hub.connected_users(event.recipient_ids)
        if not connected:
            return
        alert = await self.alerts.alert_for_delivery(event.alert_id)
        if alert is None:
            return
        self.hub.deliver(connected, event.to_frame(alert_json(alert)))
        # They were connected when it arrived: no e-mail for them (services/notifications.py).
        await self.alerts.mark_delivered(event.alert_id, sorted(connected, key=str))

    async def _watch_matched(self, event: WatchMatched) -> None:
        if not self.hub.connected_users((event.user_id,)):
            return
        # Decided now, with the watcher's role and memberships as they are (like every frame).
        match = await self.watches.match_for_delivery(event.match_id, event.user_id)
        if match is not None:
            self.hub.deliver((event.user_id,), watch_match_frame(match))


LIVE: web.AppKey[LiveDispatcher] = web.AppKey("live")
