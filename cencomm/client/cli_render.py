"""Readable text for people from API objects (what `cencomm client` prints without `--json`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cencomm.client.cli_support import describe


def message_text(message: Mapping[str, Any]) -> str:
    """A message as a heading line (seq, time, sender, kind, handling code) and its content."""
    sender = message.get("sender") or {}
    who = sender.get("display_name") or sender.get("id") or "?"
    organisation = sender.get("organization_name")
    if organisation:
        who = f"{who} ({organisation})"
    heading = (
        f"#{message.get('seq')}  {message.get('created_at')}  {who}  "
        f"{message.get('typ')}  {message.get('hc')}  id {message.get('id')}"
    )
    lines = [heading]
    if message.get("reply_to"):
        lines.append(f"  in reply to {message['reply_to']}")
    if message.get("hidden"):
        lines.append(f"  HIDDEN: {message.get('hidden_reason') or ''}".rstrip())
    content = message.get("content")
    body = content.get("body") if isinstance(content, Mapping) else None
    if isinstance(body, Mapping):
        lines.append(body_text(str(message.get("typ")), body))
    attachments = content.get("att") if isinstance(content, Mapping) else None
    if isinstance(attachments, list) and attachments:
        names = ", ".join(str(item.get("name") or item.get("id") or "") for item in attachments)
        lines.append(f"  attachments: {names}")
    return "\n".join(lines)


def body_text(typ: str, body: Mapping[str, Any]) -> str:
    """A signed body, indented: a text's text, a notice's title and text, a report's fields."""
    if typ == "text":
        return _indent(str(body.get("text", "")))
    if typ == "notice":
        return _indent(f"{body.get('title', '')}\n{body.get('text', '')}")
    if typ == "seizure":
        return seizure_text(body)
    return describe(body, "  ")


def seizure_text(report: Mapping[str, Any]) -> str:
    """A seizure report: where and when, the route, how it was found, one line per item."""
    given = report.get("route")
    route: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    stops = [route.get("origin"), *(route.get("transit") or []), route.get("destination")]
    lines = [
        f"  seizure on {report.get('occurred_on')} in {report.get('country')}"
        + (f", {report['location']}" if report.get("location") else "")
        + f" ({report.get('transport_mode')})",
        "  route: " + " → ".join(str(stop) for stop in stops if stop),
        f"  {report.get('infringement')}, found by {report.get('detection')}, "
        f"concealment {report.get('concealment')}",
    ]
    for item in report.get("items") or []:
        if isinstance(item, Mapping):
            text = f"  - {item.get('quantity')} {item.get('unit')} {item.get('category')}"
            if item.get("description"):
                text += f": {item['description']}"
            if item.get("hs_code"):
                text += f" (HS {item['hs_code']})"
            lines.append(text)
    if report.get("notes"):
        lines.append(f"  notes: {report['notes']}")
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines() or [""])
