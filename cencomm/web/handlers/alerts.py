"""Alerts: send (signed), list, read with the acknowledgement summary, acknowledge; e-mail
notification preferences."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web
from pydantic import Field

from cencomm.appkeys import SERVICES
from cencomm.domain.alerts import MAX_NOTE, Outcome, Priority
from cencomm.domain.envelopes import HandlingCode
from cencomm.domain.notifications import Preferences
from cencomm.domain.users import Region
from cencomm.domain.wire.alerts import (
    ack_receipt_json,
    alert_json,
    alert_receipt_json,
    notification_preferences_json,
)
from cencomm.web.auth import caller, principal
from cencomm.web.cursors import decode_time_cursor, encode_cursor
from cencomm.web.field_schemas import text_field
from cencomm.web.handlers.directory import path_uuid
from cencomm.web.handlers.messages import MAX_JWS_FIELD
from cencomm.web.schemas import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    QueryModel,
    RequestModel,
    ResponseModel,
    cursor_field,
)


class PostAlertRequest(RequestModel):
    # A compact JWS: three base64url parts.
    jws: str = Field(
        min_length=1,
        max_length=MAX_JWS_FIELD,
        # Checked by the JWS parser (an `invalid-jws` problem), documented here.
        json_schema_extra={"pattern": r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$"},
    )


class PostAlertResponse(ResponseModel):
    id: str
    recipients: int
    organizations: int


class AlertSenderResponse(ResponseModel):
    id: str
    display_name: str
    organization_id: str
    organization_name: str = Field(description="The sender organisation's name, for reading")


class MyAckResponse(ResponseModel):
    acknowledged_at: str
    outcome: Outcome
    note: str | None
    seizure_message_id: str | None


class OrganizationAckResponse(ResponseModel):
    id: str
    name: str
    acknowledged_at: str | None
    outcome: Outcome | None
    overdue: bool


class UnlistedResponse(ResponseModel):
    """Organisations on the board whose names the roster rule keeps from the reader."""

    organizations: int
    acknowledged: int
    overdue: int


class AckSummaryResponse(ResponseModel):
    """The acknowledgement board: whole for moderators and admins; for the sender, organisations
    hidden by a group's hidden roster are only counted in `unlisted`; for a regional RILO after
    escalation, `region` is set and everything covers that region's overdue organisations."""

    recipients: int
    acknowledged: int
    organizations: list[OrganizationAckResponse]
    region: Region | None
    unlisted: UnlistedResponse | None


class AlertResponse(ResponseModel):
    id: str
    jws: str
    content: dict[str, Any] = Field(
        description="The decoded payload claims of `jws` (typ, hc, to, body, …), for reading; "
        "proof is the JWS."
    )
    sender: AlertSenderResponse
    created_at: str
    hc: HandlingCode
    priority: Priority
    ack_required: bool
    respond_by: str | None
    expires_at: str | None
    my_ack: MyAckResponse | None
    ack_summary: AckSummaryResponse | None


class AlertList(ResponseModel):
    alerts: list[AlertResponse]
    next: str | None


class AlertListQuery(QueryModel):
    active: bool = False
    after: str | None = cursor_field()
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class AckRequest(RequestModel):
    outcome: Outcome | None = None
    note: str | None = text_field(MAX_NOTE, default=None)
    seizure_message_id: uuid.UUID | None = None


class AckResponse(ResponseModel):
    acknowledged_at: str
    outcome: Outcome


class NotificationPreferences(ResponseModel):
    email: str | None
    alerts: bool
    reminders: bool
    email_enabled: bool


class UpdateNotificationPreferences(RequestModel):
    alerts: bool | None = None
    reminders: bool | None = None


async def post_alert(request: web.Request, body: PostAlertRequest) -> web.Response:
    alert, created = await request.app[SERVICES].alerts.raise_alert(caller(request), body.jws)
    return web.json_response(
        alert_receipt_json(alert),
        status=201 if created else 200,
    )


async def list_alerts(request: web.Request, query: AlertListQuery) -> web.Response:
    views = await request.app[SERVICES].alerts.list_alerts(
        principal(request),
        active=query.active,
        before=decode_time_cursor(query.after),
        limit=query.limit,
    )
    next_cursor = None
    if len(views) == query.limit:
        last = views[-1].alert
        next_cursor = encode_cursor(f"{last.created_at.isoformat()}|{last.id}")
    return web.json_response(
        {"alerts": [alert_json(v.alert, v) for v in views], "next": next_cursor}
    )


async def get_alert(request: web.Request) -> web.Response:
    view = await request.app[SERVICES].alerts.get_alert(principal(request), path_uuid(request))
    return web.json_response(alert_json(view.alert, view))


async def acknowledge_alert(request: web.Request, body: AckRequest) -> web.Response:
    ack = await request.app[SERVICES].alerts.acknowledge(
        caller(request), path_uuid(request), body.outcome, body.note, body.seizure_message_id
    )
    return web.json_response(ack_receipt_json(ack))


def _preferences_json(request: web.Request, prefs: Preferences) -> dict[str, object]:
    enabled = request.app[SERVICES].alerts.notifications.enabled
    return notification_preferences_json(prefs, email_enabled=enabled)


async def get_notification_preferences(request: web.Request) -> web.Response:
    prefs = await request.app[SERVICES].alerts.notifications.preferences(principal(request))
    return web.json_response(_preferences_json(request, prefs))


async def update_notification_preferences(
    request: web.Request, body: UpdateNotificationPreferences
) -> web.Response:
    prefs = await request.app[SERVICES].alerts.notifications.update_preferences(
        caller(request), alerts=body.alerts, reminders=body.reminders
    )
    return web.json_response(_preferences_json(request, prefs))
