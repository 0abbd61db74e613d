"""The single route table: every endpoint with its models, auth need and documented answers.

The same `Route` entries register the handlers and generate the OpenAPI document, so what the
handlers validate with is exactly what the document says.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from cencomm.appkeys import PRINCIPAL
from cencomm.domain.attachments import ALLOWED
from cencomm.domain.errors import Forbidden
from cencomm.web import ws
from cencomm.web.auth import authenticate
from cencomm.web.handlers import alerts as alert_handlers
from cencomm.web.handlers import (
    analytics,
    attachments,
    audit,
    auth,
    correlations,
    directory,
    exchange,
    export,
    groups,
    keys,
    messages,
    seals,
    share_requests,
    system,
    watch_lists,
    web_client,
)
from cencomm.web.limits import EXEMPT_PATHS, LIMITS, RequestLimits
from cencomm.web.openapi import install_openapi
from cencomm.web.parsing import read_json, read_query
from cencomm.web.schemas import PageQuery

Handler = Callable[..., Awaitable[web.StreamResponse]]

API = "/api/v1"


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    # Deny by default: every route needs a bearer token unless it says otherwise.
    auth: bool = True
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    # Extra problem statuses this route can answer, besides those implied by auth and body.
    problems: tuple[int, ...] = ()
    # For responses that are not JSON (metrics, files): their media type, or the several ones
    # an answer may have (a download has its file's type).
    media_type: str | None = None
    media_types: tuple[str, ...] = ()
    # Other success statuses, answered with the same model (200 for a repeat of a create).
    also: tuple[int, ...] = ()
    # A body that is not JSON (an upload): the media types it may have.
    upload_types: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return self.handler.__name__


ROUTES: web.AppKey[tuple[Route, ...]] = web.AppKey("routes")


# fmt: off
ROUTES_TABLE: tuple[Route, ...] = (
    Route("GET", "/health", system.get_health, "Liveness", "system", auth=False,
          response=system.HealthResponse),
    Route("GET", "/ready", system.get_ready, "Readiness: database answers, schema at head",
          "system", auth=False, response=system.ReadyResponse, problems=(503,)),
    Route("GET", "/metrics", system.get_metrics,
          "Prometheus metrics: loopback, `http.metrics_allowed_addresses` or the metrics token "
          "(`Authorization: Bearer`); 404 for anyone else", "system", auth=False,
          media_type="text/plain", problems=(404,)),
    Route("GET", "/api/openapi.json", system.get_openapi, "This OpenAPI document", "system",
          auth=False, media_type="application/json"),
    Route("GET", "/", web_client.get_web_client,
          "The web client's page (strict Content-Security-Policy; ETag, 304 on If-None-Match)",
          "system", auth=False, media_type="text/html"),
    Route("GET", "/static/{build}/{path:.+}", web_client.get_static_file,
          "The web client's modules, styles and vendored libraries (immutable for a year: the "
          "build id in the path changes with any file)", "system", auth=False,
          media_type="application/octet-stream", problems=(404,)),
    # Authentication
    Route("POST", f"{API}/auth/login", auth.login, "Log in with password (and TOTP)", "auth",
          auth=False, body=auth.LoginRequest, response=auth.LoginResponse, problems=(401, 429)),
    Route("POST", f"{API}/auth/refresh", auth.refresh_tokens, "Swap a refresh token for a new pair",
          "auth", auth=False, body=auth.RefreshRequest, response=auth.TokenResponse,
          problems=(401,)),
    Route("POST", f"{API}/auth/logout", auth.logout, "End this session", "auth", status=204),
    Route("POST", f"{API}/auth/otp/setup", auth.setup_otp, "Start TOTP enrolment", "auth",
          response=auth.OtpSetupResponse, problems=(409,)),
    Route("POST", f"{API}/auth/otp/enable", auth.enable_otp, "Confirm TOTP enrolment", "auth",
          body=auth.OtpEnableRequest, status=204, problems=(409,)),
    Route("GET", f"{API}/me", auth.get_me, "The caller: role and organisation", "auth",
          response=auth.MeResponse),
    # Organisations and users
    Route("POST", f"{API}/organizations", directory.create_organization, "Create an organisation",
          "directory", body=directory.CreateOrganizationRequest,
          response=directory.OrganizationResponse, status=201, problems=(403, 409)),
    Route("GET", f"{API}/organizations", directory.list_organizations, "List organisations",
          "directory", query=PageQuery, response=directory.OrganizationList, problems=(403,)),
    Route("GET", f"{API}/organizations/{{id}}", directory.get_organization, "One organisation",
          "directory", response=directory.OrganizationResponse, problems=(403, 404)),
    Route("POST", f"{API}/users", directory.create_user, "Create a user", "directory",
          body=directory.CreateUserRequest, response=directory.UserResponse, status=201,
          problems=(403, 409)),
    Route("GET", f"{API}/users", directory.list_users, "List users", "directory",
          query=PageQuery, response=directory.UserList, problems=(403,)),
    Route("GET", f"{API}/users/{{id}}", directory.get_user, "One user", "directory",
          response=directory.UserResponse, problems=(404,)),
    Route("PATCH", f"{API}/users/{{id}}", directory.update_user,
          "Change a user; disabling revokes their sessions", "directory",
          body=directory.UpdateUserRequest, response=directory.UserResponse, problems=(403, 404)),
    # Signing keys
    Route("POST", f"{API}/keys", keys.register_key, "Register an Ed25519 signing key", "keys",
          body=keys.RegisterKeyRequest, response=keys.KeyResponse, status=201,
          problems=(403, 409)),
    Route("GET", f"{API}/users/{{id}}/keys", keys.list_user_keys,
          "A user's signing keys, revoked ones included", "keys", response=keys.KeyList,
          problems=(404,)),
    Route("DELETE", f"{API}/keys/{{kid}}", keys.revoke_key, "Revoke a signing key", "keys",
          status=204, problems=(403, 404)),
    # Organisation seals
    Route("POST", f"{API}/organizations/{{id}}/keys", seals.register_organization_key,
          "Register an organisation's Ed25519 seal key (admin, its seal holders)", "seals",
          body=seals.RegisterOrganizationKeyRequest, response=seals.OrganizationKeyResponse,
          status=201, problems=(403, 404, 409)),
    Route("GET", f"{API}/organizations/{{id}}/keys", seals.list_organization_keys,
          "An organisation's seal keys, revoked ones included", "seals",
          response=seals.OrganizationKeyList, problems=(404,)),
    Route("DELETE", f"{API}/organizations/{{id}}/keys/{{kid}}", seals.revoke_organization_key,
          "Revoke a seal key (admin, the organisation's seal holders)", "seals", status=204,
          problems=(403, 404)),
    Route("GET", f"{API}/organizations/{{id}}/seal-holders", seals.list_seal_holders,
          "The organisation's seal holders (admin)", "seals", response=seals.SealHolderList,
          problems=(403, 404)),
    Route("PUT", f"{API}/organizations/{{id}}/seal-holders/{{user_id}}",
          seals.designate_seal_holder,
          "Make a user of the organisation a seal holder (admin; 201, 200 when already one)",
          "seals", response=seals.SealHolderResponse, status=201, also=(200,),
          problems=(403, 404, 409)),
    Route("DELETE", f"{API}/organizations/{{id}}/seal-holders/{{user_id}}",
          seals.remove_seal_holder, "Take a seal holder's designation away (admin)", "seals",
          status=204, problems=(403, 404)),
    Route("POST", f"{API}/messages/{{id}}/countersign", seals.countersign_message,
          "Countersign a message with the sender organisation's seal (its seal holders; 201, "
          "200 for an identical repeat of its cid)", "seals", body=seals.CountersignRequest,
          response=seals.CountersignReceipt, status=201, also=(200,),
          problems=(403, 404, 409)),
    # Groups
    Route("POST", f"{API}/groups", groups.create_group, "Open an operation group (planned)",
          "groups", body=groups.CreateGroupRequest, response=groups.GroupResponse, status=201,
          problems=(403, 409)),
    Route("GET", f"{API}/groups", groups.list_groups, "The caller's groups (staff: all)",
          "groups", query=PageQuery, response=groups.GroupList),
    Route("GET", f"{API}/groups/{{id}}", groups.get_group, "One group", "groups",
          response=groups.GroupResponse, problems=(404,)),
    Route("PATCH", f"{API}/groups/{{id}}", groups.update_group,
          "Change a group or its status (moderators)", "groups", body=groups.UpdateGroupRequest,
          response=groups.GroupResponse, problems=(403, 404, 409)),
    Route("GET", f"{API}/groups/{{id}}/members", groups.list_members, "A group's members",
          "groups", response=groups.MemberList, problems=(404,)),
    Route("POST", f"{API}/groups/{{id}}/members", groups.add_member,
          "Admit a user or an organisation, or change their role", "groups",
          body=groups.AddMemberRequest, response=groups.MemberResponse, status=201, also=(200,),
          problems=(403, 404, 409)),
    Route("DELETE", f"{API}/groups/{{id}}/members/{{user_id}}", groups.remove_user_member,
          "Remove a user at once", "groups", query=groups.ReasonQuery, status=204,
          problems=(403, 404, 409)),
    Route("DELETE", f"{API}/groups/{{id}}/organizations/{{org_id}}",
          groups.remove_organization_member, "Remove an organisation at once", "groups",
          query=groups.ReasonQuery, status=204, problems=(403, 404, 409)),
    Route("POST", f"{API}/join-requests", groups.create_join_request,
          "Ask to join a group by code (same answer whether or not it exists)", "groups",
          body=groups.JoinRequestCreate, response=groups.JoinRequestAccepted, status=202),
    Route("GET", f"{API}/groups/{{id}}/join-requests", groups.list_join_requests,
          "Join requests of a group (its moderators)", "groups", query=groups.JoinRequestQuery,
          response=groups.JoinRequestList, problems=(403, 404)),
    Route("POST", f"{API}/join-requests/{{id}}/approve", groups.approve_join_request,
          "Approve a join request", "groups", response=groups.JoinRequestResponse,
          problems=(404, 409)),
    Route("POST", f"{API}/join-requests/{{id}}/reject", groups.reject_join_request,
          "Reject a join request", "groups", response=groups.JoinRequestResponse,
          problems=(404, 409)),
    # Messages
    Route("POST", f"{API}/groups/{{id}}/messages", messages.post_group_message,
          "Post a signed message (201; 200 for an identical repeat of its cid)", "messages",
          body=messages.PostMessageRequest, response=messages.PostMessageResponse, status=201,
          also=(200,), problems=(403, 404, 409)),
    Route("GET", f"{API}/groups/{{id}}/messages", messages.list_group_messages,
          "A page of the group's timeline, ascending seq", "messages",
          query=messages.TimelineQuery, response=messages.MessageList, problems=(404,)),
    Route("GET", f"{API}/messages/{{id}}", messages.get_message, "One message", "messages",
          response=messages.MessageResponse, problems=(404,)),
    Route("POST", f"{API}/messages/{{id}}/hide", messages.hide_message,
          "Hide a message, with a reason (moderators)", "messages", body=messages.HideRequest,
          response=messages.MessageResponse, problems=(403, 404)),
    Route("POST", f"{API}/messages/{{id}}/unhide", messages.unhide_message,
          "Show a hidden message again (moderators)", "messages",
          response=messages.MessageResponse, problems=(403, 404)),
    Route("GET", f"{API}/search", messages.search_messages,
          "Full-text search over messages the caller may read, newest first", "messages",
          query=messages.SearchQuery, response=messages.MessageList, problems=(404,)),
    # Cross-group share requests
    Route("POST", f"{API}/messages/{{id}}/share-requests", share_requests.create_share_request,
          "Ask the other operations holding a report with one of this report's identifiers to "
          "share it (202; 200 for the same pending request again)", "share-requests",
          body=share_requests.ShareRequestCreate, response=share_requests.ShareRequestAccepted,
          status=202, also=(200,), problems=(403, 404, 409)),
    Route("GET", f"{API}/share-requests", share_requests.list_own_share_requests,
          "The caller's own share requests, newest first", "share-requests", query=PageQuery,
          response=share_requests.OwnShareRequestList),
    Route("GET", f"{API}/share-requests/{{id}}", share_requests.get_share_request,
          "One share request as the caller may see it, with the reports consent shows them "
          "(requester, the groups' moderators, staff); audited when it shows any",
          "share-requests", response=share_requests.ShareRequestDetail, problems=(404,)),
    Route("GET", f"{API}/groups/{{id}}/share-requests", share_requests.list_group_share_requests,
          "Share requests targeting this group (its moderators, admin, moderator)",
          "share-requests", query=share_requests.GroupShareRequestQuery,
          response=share_requests.GroupShareRequestList, problems=(403, 404)),
    Route("POST", f"{API}/share-requests/{{id}}/approve", share_requests.approve_share_request,
          "Consent for one target group (its moderators, admin, moderator)", "share-requests",
          body=share_requests.ShareDecision, response=share_requests.GroupShareRequest,
          problems=(404, 409)),
    Route("POST", f"{API}/share-requests/{{id}}/reject", share_requests.reject_share_request,
          "Refuse for one target group (its moderators, admin, moderator)", "share-requests",
          body=share_requests.ShareDecision, response=share_requests.GroupShareRequest,
          problems=(404, 409)),
    # Correlations
    Route("GET", f"{API}/messages/{{id}}/related", correlations.get_related,
          "Seizure reports the caller may read that share an identifier with this one (most "
          "shared first, then newest; hidden reports never), and its identifiers also seen in "
          "another operation (`elsewhere`: nothing more of it; never TLP:RED)", "correlations",
          query=correlations.RelatedQuery, response=correlations.RelatedResponse,
          problems=(404,)),
    Route("GET", f"{API}/groups/{{id}}/correlations", correlations.list_group_correlations,
          "Identifiers seen in more than one readable report of the group, most linked first "
          "(ties: kind, value), with the reporting countries and the first and last dates",
          "correlations", query=PageQuery, response=correlations.CorrelationList,
          problems=(404,)),
    # Attachments
    Route("POST", f"{API}/groups/{{id}}/attachments", attachments.upload_attachment,
          "Upload a file (raw body with Content-Type and ?name=, or multipart with one part "
          "`file`); 201, or 200 when the group already has this content", "attachments",
          query=attachments.UploadQuery, response=attachments.AttachmentResponse, status=201,
          also=(200,), upload_types=(*sorted(ALLOWED), "multipart/form-data"),
          problems=(400, 403, 404, 409, 413, 415, 422)),
    Route("GET", f"{API}/groups/{{id}}/attachments", attachments.list_attachments,
          "The group's attachments, newest first", "attachments",
          query=attachments.AttachmentListQuery, response=attachments.AttachmentList,
          problems=(404,)),
    Route("GET", f"{API}/groups/{{id}}/attachments/{{sha256}}", attachments.download_attachment,
          "Download an attachment (Range supported; ?preview=true: a re-encoded image)",
          "attachments", query=attachments.DownloadQuery, media_types=tuple(sorted(ALLOWED)),
          problems=(404, 409, 416, 422)),
    Route("GET", f"{API}/groups/{{id}}/export", export.export_group,
          "Evidence bundle (zip): signed messages, keys, attachments, audit entries with "
          "inclusion proofs and a signed tree head (group moderators, admin, moderator); "
          "?blobs=true adds the decrypted attachments; check it with `cencomm verify-export`",
          "groups", query=export.ExportQuery, media_type="application/zip",
          problems=(403, 404, 413)),
    # Seizure analytics
    Route("GET", f"{API}/groups/{{id}}/analytics", analytics.get_group_analytics,
          "Seizure analytics of a group, as the caller may read it (hidden reports excluded); "
          "?from=&to= narrow on occurred_on", "analytics", query=analytics.AnalyticsQuery,
          response=analytics.AnalyticsResponse, problems=(404,)),
    Route("GET", f"{API}/analytics", analytics.get_cross_group_analytics,
          "The same analytics over several groups (admin, moderator, analyst): "
          "?group_id=<id>&group_id=<id>...", "analytics",
          query=analytics.CrossGroupAnalyticsQuery, response=analytics.AnalyticsResponse,
          problems=(403, 404)),
    Route("GET", f"{API}/groups/{{id}}/seizures.csv", analytics.export_seizures_csv,
          "Seizure items as CSV (RFC 4180, one row per item, formulas neutralised, never "
          "TLP:RED), streamed; audited", "analytics", query=analytics.AnalyticsQuery,
          media_type="text/csv", problems=(404,)),
    Route("GET", f"{API}/groups/{{id}}/export.misp.json", exchange.export_misp,
          "The operation as a MISP event: an object per readable seizure report (and per item "
          "and alert sent to the group), tlp:... tags (TLP 2.0), never TLP:RED or hidden "
          "reports; ?from=&to= narrow on occurred_on; streamed; audited", "analytics",
          query=analytics.AnalyticsQuery, response=exchange.MispExportResponse, problems=(404,)),
    Route("GET", f"{API}/groups/{{id}}/export.stix.json", exchange.export_stix,
          "The operation as a STIX 2.1 bundle: a grouping of reports (seizures), notes "
          "(alerts), identities and locations, TLP 2.0 marking definitions, deterministic ids; "
          "never TLP:RED or hidden reports; ?from=&to= narrow on occurred_on; streamed; audited",
          "analytics", query=analytics.AnalyticsQuery, response=exchange.StixBundleResponse,
          problems=(404,)),
    Route("GET", f"{API}/groups/{{id}}/report", analytics.get_operation_report,
          "The printable operation report (HTML with SVG charts, never TLP:RED); audited",
          "analytics", media_type="text/html", problems=(404,)),
    # Alerts
    Route("POST", f"{API}/alerts", alert_handlers.post_alert,
          "Send a signed alert (201; 200 for an identical repeat of its cid)", "alerts",
          body=alert_handlers.PostAlertRequest, response=alert_handlers.PostAlertResponse,
          status=201, also=(200,), problems=(403, 409)),
    Route("GET", f"{API}/alerts", alert_handlers.list_alerts,
          "Alerts the caller received or sent, or that were escalated to the caller's RILO, "
          "newest first", "alerts",
          query=alert_handlers.AlertListQuery, response=alert_handlers.AlertList),
    Route("GET", f"{API}/alerts/{{id}}", alert_handlers.get_alert,
          "One alert; the ack summary for its sender (within the roster rule), moderators, "
          "admins, and the region's RILO once an organisation of its region is overdue",
          "alerts",
          response=alert_handlers.AlertResponse, problems=(404,)),
    Route("POST", f"{API}/alerts/{{id}}/ack", alert_handlers.acknowledge_alert,
          "Acknowledge an alert, or move its outcome forward (recipients)", "alerts",
          body=alert_handlers.AckRequest, response=alert_handlers.AckResponse,
          problems=(403, 404, 409)),
    Route("GET", f"{API}/me/notifications", alert_handlers.get_notification_preferences,
          "The caller's e-mail notification preferences", "alerts",
          response=alert_handlers.NotificationPreferences),
    Route("PATCH", f"{API}/me/notifications", alert_handlers.update_notification_preferences,
          "Change the caller's e-mail notification preferences", "alerts",
          body=alert_handlers.UpdateNotificationPreferences,
          response=alert_handlers.NotificationPreferences),
    # Live events
    Route("GET", f"{API}/ws", ws.live_events,
          "Live events over a WebSocket: first frame {type: auth, token} (docs/websocket.md)",
          "live", auth=False, status=101, problems=(400, 403)),
    # Audit log
    Route("GET", f"{API}/audit", audit.list_audit_entries,
          "Audit entries in index order (admin, moderator)", "audit", query=audit.AuditQuery,
          response=audit.AuditEntryList, problems=(403,)),
    Route("GET", f"{API}/audit/entries/{{index}}", audit.get_audit_entry,
          "One audit entry with its exact leaf string (admin, moderator)", "audit",
          response=audit.AuditEntryWithLeaf, problems=(403, 404)),
    Route("GET", f"{API}/audit/tree-head", audit.get_tree_head,
          "The latest signed tree head (C2SP checkpoint)", "audit",
          response=audit.TreeHeadResponse),
    Route("GET", f"{API}/audit/tree-heads", audit.list_tree_heads,
          "Every signed tree head, ascending tree_size", "audit", query=audit.TreeHeadsQuery,
          response=audit.TreeHeadList),
    Route("GET", f"{API}/audit/key", audit.get_audit_key,
          "The audit key that signs tree heads", "audit", response=audit.AuditKeyResponse),
    Route("GET", f"{API}/audit/checkpoint", audit.get_checkpoint,
          "The newest witnessed tree head as a C2SP signed note (text/plain): the checkpoint, "
          "the audit key's signature line, then every witness cosignature (cosignature/v1); "
          "?tree_size= for one signed head", "audit", query=audit.CheckpointQuery,
          media_type="text/plain", problems=(404,)),
    Route("GET", f"{API}/audit/proof/inclusion", audit.get_inclusion_proof,
          "RFC 9162 inclusion proof of an entry in a signed tree head", "audit",
          query=audit.InclusionQuery, response=audit.InclusionProofResponse, problems=(404,)),
    Route("GET", f"{API}/audit/proof/consistency", audit.get_consistency_proof,
          "RFC 9162 consistency proof between two signed tree heads", "audit",
          query=audit.ConsistencyQuery, response=audit.ConsistencyProofResponse,
          problems=(404,)),
    # Watch lists
    Route("POST", f"{API}/watches", watch_lists.create_watch,
          "Watch an identifier, a container or document prefix, or a party name (admin, "
          "moderator, analyst, officer; at most 100 active)", "watches",
          body=watch_lists.CreateWatchRequest, response=watch_lists.WatchResponse, status=201,
          problems=(403, 409)),
    Route("GET", f"{API}/watches", watch_lists.list_watches,
          "The caller's watches, newest first (?active=true: unexpired only)", "watches",
          query=watch_lists.WatchListQuery, response=watch_lists.WatchList, problems=(403,)),
    Route("GET", f"{API}/watches/{{id}}", watch_lists.get_watch, "One of the caller's watches",
          "watches", response=watch_lists.WatchResponse, problems=(403, 404)),
    Route("DELETE", f"{API}/watches/{{id}}", watch_lists.delete_watch,
          "Delete one of the caller's watches (it matches no more)", "watches", status=204,
          problems=(403, 404)),
    Route("GET", f"{API}/watches/{{id}}/matches", watch_lists.list_watch_matches,
          "Reports that matched a watch, newest first; a report the caller may not read shows "
          "only `elsewhere: true` (no group, no message)", "watches", query=PageQuery,
          response=watch_lists.WatchMatchList, problems=(403, 404)),
)
# fmt: on


# All a user whose role needs MFA may do before enrolling.
MFA_ENROLMENT_PATHS = frozenset(
    {f"{API}/me", f"{API}/auth/otp/setup", f"{API}/auth/otp/enable", f"{API}/auth/logout"}
)


def _endpoint(route: Route) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Wrap a handler: authenticate, then validate query and body, then call it."""

    @functools.wraps(route.handler)
    async def endpoint(request: web.Request) -> web.StreamResponse:
        if not route.auth:
            return await call(request)
        principal = request[PRINCIPAL] = await authenticate(request)
        if principal.needs_mfa_enrolment and route.path not in MFA_ENROLMENT_PATHS:
            raise Forbidden(
                "your role requires two-factor authentication: enrol with /auth/otp/setup",
                slug="mfa-enrolment-required",
            )
        # One user's burst (or slow bodies) takes only that user's slots (`web/limits.py`).
        with request.app[LIMITS].hold_user(principal.user_id):
            return await call(request)

    async def call(request: web.Request) -> web.StreamResponse:
        kwargs: dict[str, Any] = {}
        if route.query is not None:
            kwargs["query"] = read_query(request, route.query)
        if route.body is not None:
            kwargs["body"] = await read_json(request, route.body)
        if route.path in EXEMPT_PATHS:
            return await route.handler(request, **kwargs)
        # Taken once the JSON body is in: a slow sender holds no slot everyone shares.
        with request.app[LIMITS].hold():
            return await route.handler(request, **kwargs)

    return endpoint


def setup_routes(app: web.Application, routes: tuple[Route, ...] = ROUTES_TABLE) -> None:
    app[ROUTES] = routes
    if LIMITS not in app:  # an app of the route table alone, not create_app's: no caps
        app[LIMITS] = RequestLimits(sys.maxsize, sys.maxsize)
    for route in routes:
        app.router.add_route(route.method, route.path, _endpoint(route), name=route.name)
    install_openapi(app, routes)
