"""A relay that can be down (stopped, its port closed) or answer DATA with scripted refusals."""

from __future__ import annotations

import ssl
from collections import Counter
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from cencomm.settings import SmtpSettings
from tests.processes import free_port
from tests.web.smtp_relay import Relay, _certificate, relay_settings

SMTP_DOWN = "smtp-down"


class ScriptedRelay(Relay):
    """Answers DATA with each of `answers` in turn (say "451 ..." or "550 ..."), then 250."""

    def __init__(self) -> None:
        super().__init__()
        self.answers: list[str] = []
        self.refused: Counter[str] = Counter()

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.answers:
            answer = self.answers.pop(0)
            self.refused[f"smtp-{answer[:3]}"] += 1
            return answer
        return await super().handle_DATA(server, session, envelope)


class SwitchableRelay:
    """A STARTTLS relay on a fixed port that a test stops and starts again."""

    def __init__(self, directory: Path) -> None:
        self.certificate, key = _certificate(directory)
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(self.certificate, key)
        self.handler = ScriptedRelay()
        self.port = free_port()
        self._controller: Controller | None = None
        self.running = False
        self.downs = 0

    def settings(self) -> SmtpSettings:
        return relay_settings(self.port, self.certificate)

    def start(self) -> None:
        # A controller serves once: each start is a new one, on the same port and handler.
        self._controller = Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            tls_context=self._context,
            require_starttls=True,
        )
        self._controller.start()
        self.running = True

    def stop(self) -> None:
        if self._controller is not None and self.running:
            self._controller.stop()
            self.running = False
            self.downs += 1
