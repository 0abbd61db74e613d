"""`cencomm client alerts raise|inbox|show|ack|board`: alerts signed on this device, the
inbox, acknowledgements with an outcome, and the acknowledgement board."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cencomm.client.api import CencommClient
from cencomm.client.api_alerts import ALERT_OUTCOMES
from cencomm.client.cli_support import (
    EXIT_OK,
    HANDLING_CODES,
    Context,
    Handler,
    UsageError,
    add_action,
    add_key_options,
    check_limit,
    load_key,
    table,
)
from cencomm.client.errors import ClientError
from cencomm.domain.envelopes import ALERT_PRIORITIES
from cencomm.domain.users import Region

REGIONS: tuple[str, ...] = tuple(region.value for region in Region)
PRIORITIES: tuple[str, ...] = tuple(sorted(ALERT_PRIORITIES))

INBOX_COLUMNS = (
    ("id", "ID"),
    ("created_at", "SENT"),
    ("priority", "PRIORITY"),
    ("hc", "HC"),
    ("sender.display_name", "FROM"),
    ("content.body.title", "TITLE"),
    ("respond_by", "RESPOND BY"),
    ("my_ack.outcome", "MY ACK"),
)
BOARD_COLUMNS = (
    ("name", "ORGANISATION"),
    ("acknowledged_at", "ACKNOWLEDGED"),
    ("outcome", "OUTCOME"),
    ("overdue", "OVERDUE"),
)

_DURATION = re.compile(r"(\d+)([smhdw])")
_DURATIONS = re.compile(r"(?:\d+[smhdw])+")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
WHEN_HELP = (
    "an ISO date-time (2026-12-08T18:00Z; without a zone: UTC) or a duration from now "
    "(90m, 48h, 2d, 1w, 1d12h)"
)


def add_parsers(actions: Any) -> None:
    alerts = add_action(
        actions,
        "alerts",
        help="alerts: raise (signed), inbox, show, ack, board",
        example=[
            'cencomm client alerts raise --group STOP-2020 --title "Container MSCU1234567" '
            '--text "Check on arrival" --priority flash --ack-required --respond-by 48h',
            "cencomm client alerts inbox --active",
        ],
    )
    sub = alerts.add_subparsers(dest="alerts_command", required=True, metavar="ACTION")
    raising = add_action(
        sub,
        "raise",
        help="sign an alert on this device and send it (POST /alerts)",
        description="Recipients are fixed when sent: members of the --group(s), users of the "
        "--organization(s), users of organisations in the --region(s), or everyone (--all). "
        "Officers may target groups they post in; analysts also organisations and regions.",
        example=[
            'cencomm client alerts raise --group STOP-2020 --title "Container MSCU1234567" '
            '--text "Inspect on arrival at Le Havre" --priority flash --ack-required '
            "--respond-by 48h --expires-at 2026-12-31T00:00Z",
            'cencomm client alerts raise --region EUROPE --title "Fake masks" --text - < alert.txt',
        ],
    )
    raising.add_argument(
        "--group", action="append", default=[], help="a target group's code or id (repeatable)"
    )
    raising.add_argument(
        "--organization", action="append", default=[], help="a target organisation id (repeatable)"
    )
    raising.add_argument(
        "--region",
        action="append",
        default=[],
        type=str.upper,
        choices=REGIONS,
        help="a target WCO region (repeatable)",
    )
    raising.add_argument("--all", action="store_true", help="every user of the platform")
    raising.add_argument("--title", required=True, help="the alert's title")
    raising.add_argument("--text", required=True, help="what recipients read ('-': stdin)")
    raising.add_argument("--priority", choices=PRIORITIES, default="routine")
    raising.add_argument(
        "--ack-required", action="store_true", help="recipients must acknowledge it"
    )
    raising.add_argument("--respond-by", metavar="WHEN", help=f"answer deadline: {WHEN_HELP}")
    raising.add_argument("--expires-at", metavar="WHEN", help=f"end of the alert: {WHEN_HELP}")
    raising.add_argument("--hc", default="TLP:AMBER", choices=HANDLING_CODES, help="handling code")
    raising.add_argument("--reply-to", metavar="MESSAGE_ID", help="the message this answers")
    add_key_options(raising)

    inbox = add_action(
        sub,
        "inbox",
        help="alerts received or sent, newest first (GET /alerts)",
        example="cencomm client alerts inbox --active",
    )
    inbox.add_argument("--active", action="store_true", help="leave out expired alerts")
    inbox.add_argument("--limit", type=int, default=100, help="page size (1-500)")

    show = add_action(
        sub,
        "show",
        help="one alert with its readable content (and the board, for those who see it)",
        example="cencomm client alerts show ALERT_ID",
    )
    show.add_argument("alert_id", metavar="ID")

    ack = add_action(
        sub,
        "ack",
        help="acknowledge an alert, or move its outcome forward",
        description="Outcomes go forward only: received -> controlled -> nil_find | seized "
        "(steps may be skipped; nil_find -> seized records a later seizure).",
        example=[
            "cencomm client alerts ack ALERT_ID",
            'cencomm client alerts ack ALERT_ID --outcome seized --note "2 pallets" '
            "--seizure MESSAGE_ID",
        ],
    )
    ack.add_argument("alert_id", metavar="ID")
    ack.add_argument("--outcome", choices=ALERT_OUTCOMES, help="default: received")
    ack.add_argument("--note", help="a few words for the sender")
    ack.add_argument("--seizure", metavar="MESSAGE_ID", help="the seizure report this alert led to")

    board = add_action(
        sub,
        "board",
        help="the acknowledgement board: each organisation's ack, outcome and overdue state",
        description="Shown to the alert's sender, moderators and admins (and, after "
        "escalation, to a region's RILO for its overdue organisations).",
        example="cencomm client alerts board ALERT_ID",
    )
    board.add_argument("alert_id", metavar="ID")


def parse_when(value: str, option: str, now: float | None = None) -> int:
    """Unix seconds from an ISO date-time (no zone: UTC) or a duration from now (`48h`,
    `1d12h`); it must lie in the future.

    Raises:
        UsageError: neither, or not in the future.
    """
    now = time.time() if now is None else now
    text = value.strip()
    if _DURATIONS.fullmatch(text):
        seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _DURATION.findall(text))
        if seconds <= 0:
            raise UsageError(f"{option} {value}: a duration must be longer than 0")
        return int(now) + seconds
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option} {value!r}: expected {WHEN_HELP}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    stamp = int(moment.timestamp())
    if stamp <= now:
        raise UsageError(f"{option} {value}: that is not in the future")
    return stamp


def _text(value: str) -> str:
    return sys.stdin.read() if value == "-" else value


async def _recipients(api: CencommClient, args: Any) -> dict[str, Any]:
    to: dict[str, Any] = {}
    if args.group:
        to["groups"] = list(dict.fromkeys([await api.resolve_group(g) for g in args.group]))
    if args.organization:
        to["organizations"] = list(dict.fromkeys(o.strip().lower() for o in args.organization))
    if args.region:
        to["regions"] = list(dict.fromkeys(args.region))
    if args.all:
        to["all"] = True
    return to


async def _raise(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    if not (args.group or args.organization or args.region or args.all):
        raise UsageError("name the recipients: --group, --organization, --region or --all")
    # Every input is checked before the key is loaded: a usage error never asks a passphrase.
    respond_by = parse_when(args.respond_by, "--respond-by") if args.respond_by else None
    expires_at = parse_when(args.expires_at, "--expires-at") if args.expires_at else None
    text = _text(args.text)
    to = await _recipients(api, args)
    api.use_key(load_key(ctx))
    sent = await api.post_alert(
        to,
        args.title,
        text,
        priority=args.priority,
        ack_required=args.ack_required,
        respond_by=respond_by,
        expires_at=expires_at,
        hc=args.hc,
        reply_to=args.reply_to,
    )
    ctx.out.result(
        sent,
        lambda done: (
            f"Alert {done['id']} sent to {done['recipients']} users in "
            f"{done['organizations']} organisations."
        ),
    )
    return EXIT_OK


async def _inbox(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    check_limit(args.limit)
    found = [alert async for alert in api.alerts(active=args.active, limit=args.limit)]
    ctx.out.rows(found, INBOX_COLUMNS, key="alerts")
    return EXIT_OK


async def _show(api: CencommClient, ctx: Context) -> int:
    ctx.out.result(await api.get_alert(ctx.args.alert_id), alert_text)
    return EXIT_OK


async def _ack(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    done = await api.ack_alert(
        args.alert_id, args.outcome, note=args.note, seizure_message_id=args.seizure
    )
    ctx.out.result(
        {"id": args.alert_id, **done},
        lambda d: f"Acknowledged alert {d['id']} ({d['outcome']}) at {d['acknowledged_at']}.",
    )
    return EXIT_OK


async def _board(api: CencommClient, ctx: Context) -> int:
    alert = await api.get_alert(ctx.args.alert_id)
    summary = alert.get("ack_summary")
    if not isinstance(summary, Mapping):
        raise ClientError(
            f"alert {alert['id']}: only its sender, moderators and admins see the board"
        )
    ctx.out.result({"id": alert["id"], **summary}, board_text)
    return EXIT_OK


def alert_text(alert: Mapping[str, Any]) -> str:
    """An alert for people: heading, sender, recipients, deadlines, its signed title and
    text, one's own acknowledgement, and the board when the reader sees it."""
    content = alert.get("content") or {}
    body = content.get("body") or {}
    sender = alert.get("sender") or {}
    lines = [
        f"{str(alert.get('priority')).upper()} alert {alert.get('id')}  {alert.get('hc')}",
        f"  from {sender.get('display_name')} ({sender.get('organization_name')}), "
        f"sent {alert.get('created_at')}",
        f"  to {_targets(content.get('to') or {})}",
    ]
    terms = []
    if alert.get("ack_required"):
        terms.append("acknowledgement required")
    if alert.get("respond_by"):
        terms.append(f"respond by {alert['respond_by']}")
    if alert.get("expires_at"):
        terms.append(f"expires {alert['expires_at']}")
    if terms:
        lines.append("  " + ", ".join(terms))
    if content.get("reply_to"):
        lines.append(f"  in reply to {content['reply_to']}")
    lines.append("")
    lines.append(f"  {body.get('title', '')}")
    lines.extend(f"  {line}" for line in str(body.get("text", "")).splitlines())
    mine = alert.get("my_ack")
    if isinstance(mine, Mapping):
        lines.append("")
        ack = f"  acknowledged {mine.get('acknowledged_at')}: {mine.get('outcome')}"
        if mine.get("seizure_message_id"):
            ack += f", seizure {mine['seizure_message_id']}"
        if mine.get("note"):
            ack += f" ({mine['note']})"
        lines.append(ack)
    summary = alert.get("ack_summary")
    if isinstance(summary, Mapping):
        lines.extend(["", board_text(summary)])
    return "\n".join(lines)


def _targets(to: Mapping[str, Any]) -> str:
    parts = []
    if to.get("all"):
        parts.append("everyone")
    for key, name in (
        ("groups", "groups"),
        ("organizations", "organisations"),
        ("regions", "regions"),
    ):
        if to.get(key):
            parts.append(f"{name} {', '.join(str(v) for v in to[key])}")
    return "; ".join(parts) or "?"


def board_text(summary: Mapping[str, Any]) -> str:
    """The acknowledgement board: counts, then one row per organisation."""
    lines = [
        f"board: {summary.get('acknowledged')} of {summary.get('recipients')} recipients "
        "acknowledged"
    ]
    if summary.get("region"):
        lines[0] += f" (overdue organisations of region {summary['region']})"
    unlisted = summary.get("unlisted")
    if isinstance(unlisted, Mapping):
        lines.append(
            f"  and {unlisted.get('organizations')} organisations not listed "
            f"({unlisted.get('acknowledged')} acknowledged, {unlisted.get('overdue')} overdue)"
        )
    lines.append(table(list(summary.get("organizations") or []), BOARD_COLUMNS).rstrip("\n"))
    return "\n".join(lines)


_ACTIONS: dict[str, Handler] = {
    "raise": _raise,
    "inbox": _inbox,
    "show": _show,
    "ack": _ack,
    "board": _board,
}


async def _alerts(api: CencommClient, ctx: Context) -> int:
    return await _ACTIONS[ctx.args.alerts_command](api, ctx)


HANDLERS: dict[str, Handler] = {"alerts": _alerts}
