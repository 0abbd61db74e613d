"""Share requests on the wire: the requester's item, a target group's item, one request."""

from __future__ import annotations

from typing import Any, Protocol

from cencomm.domain.clock import rfc3339
from cencomm.domain.identifiers import Identifier
from cencomm.domain.share_requests import Requester, ShareRequest, ShareStatus, ShareTarget
from cencomm.domain.wire.common import id_or_none, time_or_none
from cencomm.domain.wire.messages import Readable, message_json


class TargetLike(Protocol):
    """`services.share_requests.TargetView`."""

    @property
    def request(self) -> ShareRequest: ...

    @property
    def target(self) -> ShareTarget: ...

    @property
    def requester(self) -> Requester: ...

    @property
    def matching_message_ids(self) -> tuple[Any, ...]: ...


class DetailLike(Protocol):
    """`services.share_requests.RequestDetail`."""

    @property
    def request(self) -> ShareRequest: ...

    @property
    def requester(self) -> Requester: ...

    @property
    def origin_side(self) -> bool: ...

    @property
    def status(self) -> ShareStatus: ...

    @property
    def decided_at(self) -> Any: ...

    @property
    def targets(self) -> tuple[TargetLike, ...]: ...

    @property
    def shared_reports(self) -> tuple[Readable, ...]: ...


def identifier_json(identifier: Identifier) -> dict[str, Any]:
    return {"kind": identifier.kind.value, "value": identifier.value, "label": identifier.label}


def requester_json(requester: Requester) -> dict[str, Any]:
    return {
        "display_name": requester.display_name,
        "organization_name": requester.organization_name,
        "country": requester.country,
    }


def own_share_request_json(request: ShareRequest) -> dict[str, Any]:
    """The requester's view: never the target groups."""
    return {
        "id": str(request.id),
        "message_id": str(request.message_id),
        "identifier": identifier_json(request.identifier),
        "reason": request.reason,
        "status": request.status.value,
        "created_at": rfc3339(request.created_at),
        "decided_at": time_or_none(request.decided_at),
    }


def _target_fields(target: ShareTarget, matching: tuple[Any, ...]) -> dict[str, Any]:
    return {
        "matching_message_ids": [str(m) for m in matching],
        "status": target.status.value,
        "decided_at": time_or_none(target.decided_at),
        "decided_by": id_or_none(target.decided_by),
        "note": target.note,
    }


def group_share_request_json(view: TargetLike) -> dict[str, Any]:
    """A request in a target group's list: that group's decision, its matching reports, who
    asks. Not the requester's report or group, nor the other targets."""
    request = view.request
    return {
        "id": str(request.id),
        "group_id": str(view.target.group_id),
        "identifier": identifier_json(request.identifier),
        "reason": request.reason,
        "requester": requester_json(view.requester),
        "created_at": rfc3339(request.created_at),
        **_target_fields(view.target, view.matching_message_ids),
    }


def share_request_detail_json(detail: DetailLike) -> dict[str, Any]:
    """`GET /share-requests/{id}` for one reader (see `services.share_requests.RequestDetail`)."""
    request = detail.request
    return {
        "id": str(request.id),
        "message_id": str(request.message_id) if detail.origin_side else None,
        "identifier": identifier_json(request.identifier),
        "reason": request.reason,
        "requester": requester_json(detail.requester),
        "status": detail.status.value,
        "created_at": rfc3339(request.created_at),
        "decided_at": time_or_none(detail.decided_at),
        "targets": [
            {"group_id": str(v.target.group_id), **_target_fields(v.target, v.matching_message_ids)}
            for v in detail.targets
        ],
        "shared_reports": [message_json(r) for r in detail.shared_reports],
    }
