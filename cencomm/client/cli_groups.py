"""`cencomm client groups ...` (list, show, members, join) and `join-requests ...` (list,
approve, reject): API.md "Groups"."""

from __future__ import annotations

from typing import Any

from cencomm.client.api import GROUP_ID, CencommClient
from cencomm.client.cli_support import EXIT_OK, Context, Handler, UsageError, add_action

GROUP_COLUMNS = (
    ("code", "CODE"),
    ("name", "NAME"),
    ("status", "STATUS"),
    ("my_role", "MY ROLE"),
    ("last_seq", "LAST SEQ"),
    ("id", "ID"),
)
MEMBER_COLUMNS = (
    ("kind", "KIND"),
    ("name", "NAME"),
    ("role", "ROLE"),
    ("user_id", "USER ID"),
    ("organization_id", "ORGANISATION ID"),
    ("added_at", "ADDED"),
)
REQUEST_COLUMNS = (
    ("id", "ID"),
    ("status", "STATUS"),
    ("username", "USER"),
    ("organization_name", "ORGANISATION"),
    ("reason", "REASON"),
    ("created_at", "ASKED"),
)
REQUEST_STATUSES = ("pending", "approved", "rejected")


def add_parsers(actions: Any) -> None:
    groups = add_action(
        actions,
        "groups",
        help="operation groups: list, show, members, join",
        example=["cencomm client groups list", "cencomm client groups show STOP-2020"],
    )
    group_actions = groups.add_subparsers(dest="groups_command", required=True, metavar="ACTION")
    add_action(
        group_actions,
        "list",
        help="the groups you are in (admins and moderators: every group)",
        example="cencomm client groups list",
    )
    show = add_action(
        group_actions,
        "show",
        help="one group: name, status, dates, your role, its last seq",
        example="cencomm client groups show STOP-2020",
    )
    show.add_argument("group", metavar="CODE|ID", help="the group's code or id")
    members = add_action(
        group_actions,
        "members",
        help="a group's members (users and organisations) and their roles",
        example="cencomm client groups members STOP-2020",
    )
    members.add_argument("group", metavar="CODE|ID", help="the group's code or id")
    join = add_action(
        group_actions,
        "join",
        help="ask a group's moderators to admit you (POST /join-requests)",
        description="Ask to join a group by its code. The server answers the same whether or "
        "not the code exists, so a closed group stays unknown to outsiders.",
        example='cencomm client groups join STOP-2020 --reason "FR customs, port of Le Havre"',
    )
    join.add_argument("group", metavar="CODE|ID", help="the group's code (or id, if you see it)")
    join.add_argument("--reason", required=True, help="why you should be admitted")

    requests = add_action(
        actions,
        "join-requests",
        help="join requests of a group (its moderators): list, approve, reject",
        example=[
            "cencomm client join-requests list --group STOP-2020 --status pending",
            "cencomm client join-requests approve REQUEST_ID",
        ],
    )
    request_actions = requests.add_subparsers(
        dest="join_requests_command", required=True, metavar="ACTION"
    )
    listing = add_action(
        request_actions,
        "list",
        help="a group's join requests (group moderators, admins, moderators)",
        example="cencomm client join-requests list --group STOP-2020 --status pending",
    )
    listing.add_argument("--group", required=True, help="the group's code or id")
    listing.add_argument("--status", choices=REQUEST_STATUSES, help="only requests in this state")
    for verdict, text in (("approve", "admit the requester"), ("reject", "refuse the request")):
        decide = add_action(
            request_actions,
            verdict,
            help=f"{text} (the group's moderators, admins, moderators)",
            example=f"cencomm client join-requests {verdict} REQUEST_ID",
        )
        decide.add_argument("request", metavar="REQUEST_ID", help="the join request's id")


def _group_text(group: dict[str, Any]) -> str:
    lines = [
        f"{group.get('code')}  {group.get('name')}",
        f"  status: {group.get('status')}"
        + (f", your role: {group['my_role']}" if group.get("my_role") else ""),
        f"  id: {group.get('id')}",
        f"  messages: {group.get('last_seq', 0)}",
    ]
    if group.get("starts_at") or group.get("ends_at"):
        lines.append(f"  from {group.get('starts_at') or '?'} to {group.get('ends_at') or '?'}")
    if group.get("roster_visible") is False:
        lines.append("  roster: members see only moderators and their own organisation")
    if group.get("description"):
        lines.append(f"  {group['description']}")
    return "\n".join(lines)


async def _groups(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    command = args.groups_command
    if command == "list":
        rows = [group async for group in api.groups()]
        ctx.out.rows(rows, GROUP_COLUMNS, key="groups")
    elif command == "show":
        group = await api.get_group(await api.resolve_group(args.group))
        ctx.out.result(group, _group_text)
    elif command == "members":
        group_id = await api.resolve_group(args.group)
        rows = [member async for member in api.members(group_id)]
        ctx.out.rows(rows, MEMBER_COLUMNS, key="members")
    else:
        await _join(api, ctx)
    return EXIT_OK


async def _join(api: CencommClient, ctx: Context) -> None:
    name = str(ctx.args.group).strip()
    reason = str(ctx.args.reason).strip()
    if not reason:
        raise UsageError("--reason must not be empty: say why you should be admitted")
    # Joining goes by code; an id is only known for a group one sees.
    code = str((await api.get_group(name))["code"]) if GROUP_ID.match(name) else name.upper()
    answer = await api.request_join(code, reason)
    ctx.out.result(
        {"group_code": code, **answer},
        lambda done: (
            f"Join request for {done['group_code']} sent: its moderators decide "
            "(the answer is the same whether or not the code exists)."
        ),
    )


async def _join_requests(api: CencommClient, ctx: Context) -> int:
    args = ctx.args
    command = args.join_requests_command
    if command == "list":
        group_id = await api.resolve_group(args.group)
        rows = [item async for item in api.join_requests(group_id, args.status)]
        ctx.out.rows(rows, REQUEST_COLUMNS, key="join_requests")
        return EXIT_OK
    if command == "approve":
        decided = await api.approve_join_request(args.request)
    else:
        decided = await api.reject_join_request(args.request)
    ctx.out.result(
        decided,
        lambda done: (
            f"Join request {done['id']} {done['status']}: user {done['user_id']} "
            f"(group {done['group_id']})."
        ),
    )
    return EXIT_OK


HANDLERS: dict[str, Handler] = {"groups": _groups, "join-requests": _join_requests}
