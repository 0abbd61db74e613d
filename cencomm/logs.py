"""Logging set-up: one JSON object per line (or plain text), never secrets or bodies."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from cencomm.settings import LoggingSettings

# Attributes every LogRecord has; anything else passed as `extra=` is emitted as a field.
_STANDARD_ATTRS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str, ensure_ascii=False)


def configure_logging(settings: LoggingSettings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if settings.format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.level.upper())
    # aiohttp's own access log would repeat ours, with the query string; ours omits it.
    logging.getLogger("aiohttp.access").disabled = True
    # Alembic announces its context on every revision lookup (readiness checks included).
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.migration").addFilter(_skip_context_notes)


def _skip_context_notes(record: logging.LogRecord) -> bool:
    message = record.getMessage()
    return not (message.startswith("Context impl") or message.startswith("Will assume"))
