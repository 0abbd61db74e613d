"""OpenAPI links: where what one operation creates is used next (create a group, then read it,
its members and messages; post a message, then read or hide it; ...), so that a client or a
stateful fuzzer can follow a create-then-use flow from the document alone."""

from __future__ import annotations

from typing import Any

_ID = "$response.body#/id"
_GROUP = {"id": _ID}
_IN_GROUP = {"id": "$request.path.id"}

# operationId of a create → {link name: (operationId it leads to, its parameters)}
LINKS: dict[str, dict[str, tuple[str, dict[str, str]]]] = {
    "create_group": {
        "GetGroup": ("get_group", _GROUP),
        "UpdateGroup": ("update_group", _GROUP),
        "ListMembers": ("list_members", _GROUP),
        "AddMember": ("add_member", _GROUP),
        "ListMessages": ("list_group_messages", _GROUP),
        "PostMessage": ("post_group_message", _GROUP),
        "UploadAttachment": ("upload_attachment", _GROUP),
        "ListAttachments": ("list_attachments", _GROUP),
        "ListJoinRequests": ("list_join_requests", _GROUP),
        "GetAnalytics": ("get_group_analytics", _GROUP),
        "GetReport": ("get_operation_report", _GROUP),
        "Export": ("export_group", _GROUP),
        "ExportMisp": ("export_misp", _GROUP),
        "ExportStix": ("export_stix", _GROUP),
    },
    "add_member": {
        "RemoveUser": (
            "remove_user_member",
            {**_IN_GROUP, "user_id": "$response.body#/user_id"},
        ),
        "RemoveOrganization": (
            "remove_organization_member",
            {**_IN_GROUP, "org_id": "$response.body#/organization_id"},
        ),
        "ListMembers": ("list_members", _IN_GROUP),
    },
    "post_group_message": {
        "GetMessage": ("get_message", {"id": _ID}),
        "HideMessage": ("hide_message", {"id": _ID}),
        "UnhideMessage": ("unhide_message", {"id": _ID}),
    },
    "upload_attachment": {
        "DownloadAttachment": (
            "download_attachment",
            {**_IN_GROUP, "sha256": "$response.body#/sha256"},
        ),
    },
    "post_alert": {
        "GetAlert": ("get_alert", {"id": _ID}),
        "AcknowledgeAlert": ("acknowledge_alert", {"id": _ID}),
    },
    "create_user": {
        "GetUser": ("get_user", {"id": _ID}),
        "UpdateUser": ("update_user", {"id": _ID}),
        "ListUserKeys": ("list_user_keys", {"id": _ID}),
    },
    "create_organization": {
        "GetOrganization": ("get_organization", {"id": _ID}),
    },
    "register_key": {
        "RevokeKey": ("revoke_key", {"kid": "$response.body#/kid"}),
    },
    "create_watch": {
        "GetWatch": ("get_watch", {"id": _ID}),
        "DeleteWatch": ("delete_watch", {"id": _ID}),
        "ListWatchMatches": ("list_watch_matches", {"id": _ID}),
    },
}


def links_of(operation_id: str) -> dict[str, Any]:
    """The `links` of a create operation's success responses (empty for other operations)."""
    return {
        name: {"operationId": target, "parameters": dict(parameters)}
        for name, (target, parameters) in LINKS.get(operation_id, {}).items()
    }
