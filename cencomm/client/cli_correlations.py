"""`cencomm client related|correlations|watch|share-requests`: reports linked by a shared
identifier, watch lists, and requests to share a matching report held by another operation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from cencomm.client.api import CencommClient
from cencomm.client.cli_alerts import WHEN_HELP, parse_when
from cencomm.client.cli_support import EXIT_OK, Context, Handler, UsageError, add_action, table

KINDS = ("container", "document", "vessel", "flight", "vehicle", "tracking", "party", "party_id")
RELATED_COLUMNS = (
    ("group_code", "GROUP"),
    ("seq", "SEQ"),
    ("country", "COUNTRY"),
    ("occurred_on", "SEIZED"),
    ("hc", "TLP"),
    ("shared_labels", "SHARED"),
    ("message_id", "MESSAGE ID"),
)
CORRELATION_COLUMNS = (
    ("kind", "KIND"),
    ("label", "IDENTIFIER"),
    ("reports", "REPORTS"),
    ("countries", "COUNTRIES"),
    ("first_seen", "FIRST"),
    ("last_seen", "LAST"),
)
WATCH_COLUMNS = (
    ("id", "ID"),
    ("kind", "KIND"),
    ("match", "MATCH"),
    ("value", "VALUE"),
    ("expires_at", "UNTIL"),
    ("reason", "REASON"),
)
MATCH_COLUMNS = (
    ("matched_at", "MATCHED"),
    ("identifier.label", "IDENTIFIER"),
    ("where", "WHERE"),
    ("message_id", "MESSAGE ID"),
)
SHARE_COLUMNS = (
    ("id", "ID"),
    ("status", "STATUS"),
    ("identifier.label", "IDENTIFIER"),
    ("reason", "REASON"),
    ("created_at", "ASKED"),
)
QUEUE_COLUMNS = (
    ("id", "ID"),
    ("status", "STATUS"),
    ("identifier.label", "IDENTIFIER"),
    ("requester.display_name", "REQUESTER"),
    ("requester.organization_name", "ORGANISATION"),
    ("reason", "REASON"),
)
SHARE_STATUSES = ("pending", "approved", "rejected")


def add_parsers(actions: Any) -> None:
    related = add_action(
        actions,
        "related",
        help="reports linked to a seizure report by a shared container, document, party …",
        description="The reports you can read that share an identifier with this one, and the "
        "identifiers also seen in an operation you cannot read (ask to share with "
        "`share-requests ask`).",
        example="cencomm client related MESSAGE_ID",
    )
    related.add_argument("message_id", metavar="MESSAGE_ID")
    correlations = add_action(
        actions,
        "correlations",
        help="identifiers seen in more than one report of a group, most linked first",
        example="cencomm client correlations STOP-2020",
    )
    correlations.add_argument("group", metavar="CODE|ID", help="the group's code or id")

    watch = add_action(
        actions,
        "watch",
        help="watch lists: be told when a new report names a container, document, party …",
        example=[
            'cencomm client watch add container MSKU90 --prefix --reason "Line under '
            'scrutiny" --until 30d',
            "cencomm client watch list",
        ],
    )
    watch_actions = watch.add_subparsers(dest="watch_command", required=True, metavar="ACTION")
    add = add_action(
        watch_actions,
        "add",
        help="watch an identifier (exact, or a container/document prefix) until a date",
        example='cencomm client watch add party "Muller Pharma" --reason "Known consignee" '
        "--until 2027-03-31",
    )
    add.add_argument("kind", choices=KINDS)
    add.add_argument("value", help="the identifier, prefix or party name")
    add.add_argument("--prefix", action="store_true", help="match numbers starting with VALUE")
    add.add_argument("--reason", required=True, help="why you watch it")
    add.add_argument("--until", required=True, help=f"expiry: {WHEN_HELP}")
    listing = add_action(
        watch_actions, "list", help="your watches", example="cencomm client watch list --all"
    )
    listing.add_argument("--all", action="store_true", help="expired ones too")
    for name, text in (("rm", "stop watching"), ("matches", "the reports that matched")):
        one = add_action(
            watch_actions, name, help=text, example=f"cencomm client watch {name} WATCH_ID"
        )
        one.add_argument("watch_id", metavar="WATCH_ID")

    share = add_action(
        actions,
        "share-requests",
        help="ask another operation to share a matching report; decide on requests to yours",
        example=[
            'cencomm client share-requests ask MESSAGE_ID party "muller pharma" --reason "…"',
            "cencomm client share-requests queue --group STOP-2020 --status pending",
        ],
    )
    share_actions = share.add_subparsers(dest="share_command", required=True, metavar="ACTION")
    ask = add_action(
        share_actions,
        "ask",
        help="ask for the report(s) of another operation matching one of your report's identifiers",
        example='cencomm client share-requests ask MESSAGE_ID container CSQU3054383 --reason "…"',
    )
    ask.add_argument("message_id", metavar="MESSAGE_ID", help="your report (one you can read)")
    ask.add_argument("kind", choices=KINDS)
    ask.add_argument("value", help="the identifier's value as `related` shows it")
    ask.add_argument("--reason", required=True)
    add_action(
        share_actions, "list", help="your requests", example="cencomm client share-requests list"
    )
    show = add_action(
        share_actions,
        "show",
        help="one request, with the shared reports once a group consented",
        example="cencomm client share-requests show REQUEST_ID",
    )
    show.add_argument("request_id", metavar="REQUEST_ID")
    queue = add_action(
        share_actions,
        "queue",
        help="requests to a group you moderate",
        example="cencomm client share-requests queue --group STOP-2020",
    )
    queue.add_argument("--group", required=True, help="the group's code or id")
    queue.add_argument("--status", choices=SHARE_STATUSES)
    for verdict in ("approve", "reject"):
        decide = add_action(
            share_actions,
            verdict,
            help=f"{verdict} a request for your group's matching report",
            example=f"cencomm client share-requests {verdict} REQUEST_ID --group STOP-2020",
        )
        decide.add_argument("request_id", metavar="REQUEST_ID")
        decide.add_argument("--group", required=True, help="your group the request is for")
        decide.add_argument("--note", help="a note for the audit trail")


def _required(value: str, option: str) -> str:
    text = str(value).strip()
    if not text:
        raise UsageError(f"{option} must not be empty")
    return text


def _related_text(answer: dict[str, Any]) -> str:
    rows = [
        {**row, "shared_labels": ", ".join(i["label"] for i in row.get("shared", []))}
        for row in answer.get("related", [])
    ]
    lines = [table(rows, RELATED_COLUMNS) if rows else "No readable report is linked.\n"]
    for identifier in answer.get("elsewhere", []):
        lines.append(
            f"Also seen in another operation: {identifier['kind']} {identifier['label']} "
            f"(ask: share-requests ask {answer.get('message_id')} {identifier['kind']} "
            f"{identifier['value']!r} --reason ...)\n"
        )
    return "".join(lines)


async def _related(api: CencommClient, ctx: Context) -> int:
    ctx.out.result(await api.related(ctx.args.message_id), _related_text)
    return EXIT_OK


async def _correlations(api: CencommClient, ctx: Context) -> int:
    group_id = await api.resolve_group(ctx.args.group)
    rows = [row async for row in api.correlations(group_id)]
    ctx.out.rows(rows, CORRELATION_COLUMNS, key="correlations")
    return EXIT_OK


async def _watch(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    command = args.watch_command
    if command == "add":
        until = datetime.fromtimestamp(parse_when(args.until, "--until"), UTC)
        watch = await api.add_watch(
            args.kind,
            _required(args.value, "VALUE"),
            reason=_required(args.reason, "--reason"),
            expires_at=until.isoformat().replace("+00:00", "Z"),
            match="prefix" if args.prefix else "exact",
        )
        ctx.out.result(
            watch, lambda w: f"Watching {w['kind']} {w['value']} until {w['expires_at']}."
        )
    elif command == "list":
        rows = [w async for w in api.watches(active=not args.all)]
        ctx.out.rows(rows, WATCH_COLUMNS, key="watches")
    elif command == "rm":
        await api.remove_watch(args.watch_id)
        ctx.out.result(
            {"id": args.watch_id, "removed": True}, lambda r: f"Watch {r['id']} removed."
        )
    else:
        rows = [
            {**m, "where": "another operation" if m.get("elsewhere") else m.get("group_id")}
            async for m in api.watch_matches(args.watch_id)
        ]
        ctx.out.rows(rows, MATCH_COLUMNS, key="matches")
    return EXIT_OK


async def _share_requests(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    command = args.share_command
    if command == "ask":
        answer = await api.request_share(
            args.message_id, args.kind, args.value, reason=_required(args.reason, "--reason")
        )
        ctx.out.result(
            answer,
            lambda r: f"Share request {r['id']} sent ({r['status']}): their moderators decide.",
        )
    elif command == "list":
        rows = [r async for r in api.share_requests()]
        ctx.out.rows(rows, SHARE_COLUMNS, key="share_requests")
    elif command == "show":
        ctx.out.result(await api.get_share_request(args.request_id))
    elif command == "queue":
        group_id = await api.resolve_group(args.group)
        rows = [r async for r in api.group_share_requests(group_id, args.status)]
        ctx.out.rows(rows, QUEUE_COLUMNS, key="share_requests")
    else:
        group_id = await api.resolve_group(args.group)
        decided = await api.decide_share_request(
            args.request_id, group_id, approve=command == "approve", note=args.note
        )
        ctx.out.result(decided, lambda r: f"Share request {r.get('id')}: {r.get('status')}.")
    return EXIT_OK


HANDLERS: dict[str, Handler] = {
    "related": _related,
    "correlations": _correlations,
    "watch": _watch,
    "share-requests": _share_requests,
}
