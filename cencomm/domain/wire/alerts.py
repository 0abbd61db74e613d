"""Alerts: the alert object with the reader's ack and board, acks, and a send's receipt."""

from __future__ import annotations

from typing import Any

from cencomm.domain.alerts import Acknowledgement, AckSummary, Alert, AlertView
from cencomm.domain.clock import rfc3339
from cencomm.domain.notifications import Preferences
from cencomm.domain.wire.common import id_or_none, jws_claims, sender_json, time_or_none


def acknowledgement_json(ack: Acknowledgement) -> dict[str, Any]:
    """The reader's own ack (`my_ack` of an alert)."""
    return {
        "acknowledged_at": rfc3339(ack.acknowledged_at),
        "outcome": ack.outcome.value,
        "note": ack.note,
        "seizure_message_id": id_or_none(ack.seizure_message_id),
    }


def ack_receipt_json(ack: Acknowledgement) -> dict[str, Any]:
    """`POST /alerts/{id}/ack`: `{acknowledged_at, outcome}`."""
    return {"acknowledged_at": rfc3339(ack.acknowledged_at), "outcome": ack.outcome.value}


def ack_summary_json(summary: AckSummary) -> dict[str, Any]:
    return {
        "recipients": summary.recipients,
        "acknowledged": summary.acknowledged,
        "organizations": [
            {
                "id": str(o.id),
                "name": o.name,
                "acknowledged_at": time_or_none(o.acknowledged_at),
                "outcome": o.outcome.value if o.outcome else None,
                "overdue": o.overdue,
            }
            for o in summary.organizations
        ],
        "region": summary.region.value if summary.region else None,
        "unlisted": None
        if summary.unlisted is None
        else {
            "organizations": summary.unlisted.organizations,
            "acknowledged": summary.unlisted.acknowledged,
            "overdue": summary.unlisted.overdue,
        },
    }


def alert_json(alert: Alert, view: AlertView | None = None) -> dict[str, Any]:
    """An alert as the API shows it; without a view (live frames) `my_ack` and `ack_summary`
    are null: a new alert has no ack yet."""
    summary = view.summary if view else None
    return {
        "id": str(alert.id),
        "jws": alert.jws,
        "content": jws_claims(alert.jws),
        "sender": sender_json(alert.sender),
        "created_at": rfc3339(alert.created_at),
        "hc": alert.hc,
        "priority": alert.priority.value,
        "ack_required": alert.ack_required,
        "respond_by": time_or_none(alert.respond_by),
        "expires_at": time_or_none(alert.expires_at),
        "my_ack": acknowledgement_json(view.my_ack) if view and view.my_ack else None,
        "ack_summary": None if summary is None else ack_summary_json(summary),
    }


def alert_receipt_json(alert: Alert) -> dict[str, Any]:
    """`POST /alerts`: `{id, recipients, organizations}` (counts of users, of organisations)."""
    return {
        "id": str(alert.id),
        "recipients": alert.recipients,
        "organizations": alert.organizations,
    }


def notification_preferences_json(prefs: Preferences, *, email_enabled: bool) -> dict[str, Any]:
    """`/me/notifications`: the caller's choices, and whether this server sends e-mail at all."""
    return {
        "email": prefs.email,
        "alerts": prefs.alerts,
        "reminders": prefs.reminders,
        "email_enabled": email_enabled,
    }
