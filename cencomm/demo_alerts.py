"""The demo's alerts: a new modus operandi, a flagged consignment, a regional warning that
goes overdue and a routine warning, with acknowledgements and outcomes (the CENcomm warning
and feedback cycle), signed by their senders' demo keys and raised through the alert service."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from cencomm.demo_directory import ADMINISTRATIONS, officer_username
from cencomm.demo_reports import generate_reports
from cencomm.demo_signing import Senders, cid, payload
from cencomm.domain.alerts import Outcome
from cencomm.domain.users import Region
from cencomm.services.container import Services

# Officers who acknowledge the new modus operandi: the first 20 just read it, the next 10
# report that they have controlled consignments since.
_MODUS_READERS = 20
_MODUS_CONTROLLERS = 10


def _first_report(posted: dict[str, uuid.UUID], country: str) -> uuid.UUID:
    """The id of `country`'s first report (the seizure an alert led to)."""
    for n, report in enumerate(generate_reports()):
        if report.country == country:
            return posted[f"report:{n}"]
    raise LookupError(country)


async def _raise(
    services: Services,
    senders: Senders,
    username: str,
    name: str,
    hc: str,
    body: dict[str, Any],
    to: dict[str, Any],
) -> uuid.UUID:
    claims = payload(senders.users[username], "alert", hc, body, cid(f"alert:{name}"), None)
    claims["to"] = to
    alert, _ = await services.alerts.raise_alert(
        senders.caller(username), await senders.sign(username, claims)
    )
    return alert.id


async def _ack(
    services: Services,
    senders: Senders,
    username: str,
    alert_id: uuid.UUID,
    outcome: Outcome,
    note: str | None = None,
    seizure: uuid.UUID | None = None,
) -> None:
    await services.alerts.acknowledge(senders.caller(username), alert_id, outcome, note, seizure)


async def raise_demo_alerts(
    services: Services, senders: Senders, group_id: uuid.UUID, posted: dict[str, uuid.UUID]
) -> None:
    now = int(time.time())
    # Raised first, so its short deadline passes while the others are raised.
    warning = await _raise(
        services,
        senders,
        "rilo.wa",
        "chloroquine-wca",
        "TLP:AMBER",
        {
            "title": "Falsified chloroquine through Cotonou and Lomé",
            "text": "Consignments of chloroquine tablets without marketing authorisation are "
            "moving by road from Cotonou and Lomé to Lagos. Control road freight from BJ and TG "
            "and report your results.",
            "priority": "immediate",
            "ack_required": True,
            "respond_by": now + 2,
        },
        {"regions": [Region.WEST_CENTRAL_AFRICA.value]},
    )
    modus = await _raise(
        services,
        senders,
        "stop.moderator",
        "modus-operandi",
        "TLP:AMBER",
        {
            "title": "New modus operandi: medicines declared as food supplements",
            "text": "Falsified medicines travel in small postal and express parcels declared as "
            "food supplements or gifts, routed through HK, SG and AE. Target by weight and "
            "sender, not by the declared description.",
            "priority": "immediate",
            "ack_required": True,
        },
        {"groups": [str(group_id)]},
    )
    flagged = await _raise(
        services,
        senders,
        "rilo.weu",
        "flagged-consignment",
        "TLP:AMBER",
        {
            "title": "Flagged consignment: container MSKU7305512",
            "text": "Container MSKU7305512 from Shanghai via Singapore, declared as cotton "
            "textiles, 1.2 million FFP2 masks expected at Rotterdam or Antwerp this week. "
            "Control on arrival and report the outcome.",
            "priority": "flash",
            "ack_required": True,
            "respond_by": now + 3 * 24 * 3600,
        },
        {
            "organizations": [
                str(senders.users[officer_username(c)].organization_id)
                for c in ("NL", "BE", "DE", "FR")
            ]
        },
    )
    await _raise(
        services,
        senders,
        "officer.fr",
        "methanol-gel",
        "TLP:GREEN",
        {
            "title": "Sanitizer gel with methanol",
            "text": "Laboratory results: three brands of hand sanitizer gel seized at Le Havre "
            "contain methanol. Photographs and lab reports follow in the group.",
            "priority": "routine",
            "ack_required": False,
        },
        {"groups": [str(group_id)]},
    )

    warning_outcomes = {"NG": Outcome.SEIZED, "GH": Outcome.CONTROLLED, "SN": Outcome.RECEIVED}
    for country, outcome in warning_outcomes.items():
        seizure = _first_report(posted, "NG") if country == "NG" else None
        await _ack(services, senders, officer_username(country), warning, outcome, None, seizure)
    officers = [c for pairs in ADMINISTRATIONS.values() for c, _ in pairs]
    for n, country in enumerate(officers[: _MODUS_READERS + _MODUS_CONTROLLERS]):
        outcome = Outcome.RECEIVED if n < _MODUS_READERS else Outcome.CONTROLLED
        await _ack(services, senders, officer_username(country), modus, outcome)
    await _ack(services, senders, "officer.fr", flagged, Outcome.RECEIVED)
    await _ack(services, senders, "officer.de", flagged, Outcome.CONTROLLED,
               "Not routed through Hamburg; risk profile set.")  # fmt: skip
    await _ack(services, senders, "officer.be", flagged, Outcome.NIL_FIND,
               "Controlled at Antwerp: the container held textiles only.")  # fmt: skip
    await _ack(services, senders, "officer.nl", flagged, Outcome.SEIZED,
               "Seized at Rotterdam.", _first_report(posted, "NL"))  # fmt: skip

    # The Cotonou warning's deadline has passed: the organisations that did not answer are
    # overdue, and the sender, the RILO and the moderators are told (as the sweeper does).
    deadline = datetime.fromtimestamp(now + 2, UTC)
    await services.alert_deadlines.sweep_once(
        max(datetime.now(UTC), deadline + timedelta(seconds=1))
    )
