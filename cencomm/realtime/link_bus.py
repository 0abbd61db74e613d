"""The bus between the worker processes of one host, over their links (`realtime/links.py`).

Used by `serve --workers N` when no Redis bus is configured: the hub (worker 0) relays every
notice a spoke sends it to the other spokes, and sends its own to all of them. Every process
delivers its own notices itself, as the in-process bus does, so the hub never echoes a notice
back to the process it came from. Like Redis pub/sub it may lose a notice (a process whose link
has fallen megabytes behind), never data (see `realtime/bus.py`).
"""

from __future__ import annotations

import logging

from cencomm.realtime.bus import InProcessBus
from cencomm.realtime.links import Frame, Link, WorkerLinks

logger = logging.getLogger(__name__)

NOTICE = "notice"


class LinkBus(InProcessBus):
    """`InProcessBus` that also sends each notice to the other processes of the host."""

    def __init__(self, links: WorkerLinks) -> None:
        super().__init__()
        self._links = links
        self.notices_lost = 0  # not sent to a process whose link was too far behind
        links.on(NOTICE, self._received)

    def _put(self, data: str) -> None:
        if self._closed:
            return
        super()._put(data)
        self._send((NOTICE, data))

    def _received(self, link: Link, frame: Frame) -> None:
        data = frame[1]
        if not isinstance(data, str):
            self.notices_dropped += 1
            return
        super()._put(data)  # decoded and checked by the listener, as every notice is
        if self._links.hub:
            self._send((NOTICE, data), skip=link)

    def _send(self, frame: Frame, skip: Link | None = None) -> None:
        lost = self._links.broadcast(frame, skip=skip)
        if lost:
            self.notices_lost += lost
            logger.warning("a bus notice was not sent to %d worker process(es): link behind", lost)
