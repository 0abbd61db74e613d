"""The claims of a signed envelope (message or alert), checked once its signature verifies."""

from __future__ import annotations

import enum
import json
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from cencomm.domain.countries import WCO_REGIONS
from cencomm.domain.errors import FieldError, Invalid, TooLarge
from cencomm.domain.seizures import SeizureReport, parse_seizure_report

ENVELOPE_VERSION = 1
MAX_SKEW_SECONDS = 300
MAX_BODY_BYTES = 64 * 1024
MAX_TITLE_CHARS = 200
MAX_TEXT_CHARS = 60_000
MAX_ATTACHMENTS = 20
MAX_ATTACHMENT_NAME_CHARS = 255
MAX_MEDIA_TYPE_CHARS = 255
MAX_TARGETS = 500

_SHA256_RE = re.compile(r"[0-9a-f]{64}", re.ASCII)


class MessageType(enum.StrEnum):
    TEXT = "text"
    NOTICE = "notice"
    SEIZURE = "seizure"
    ALERT = "alert"


class HandlingCode(enum.StrEnum):
    """Traffic Light Protocol 2.0 labels."""

    CLEAR = "TLP:CLEAR"
    GREEN = "TLP:GREEN"
    AMBER = "TLP:AMBER"
    AMBER_STRICT = "TLP:AMBER+STRICT"
    RED = "TLP:RED"


# Observers never receive content under these codes (API.md, "Signed envelopes").
OBSERVER_WITHHELD: frozenset[HandlingCode] = frozenset(
    {HandlingCode.AMBER_STRICT, HandlingCode.RED}
)

ALERT_PRIORITIES: frozenset[str] = frozenset({"flash", "immediate", "routine"})

ALL_TYPES: frozenset[MessageType] = frozenset(MessageType)
_TYPE_VALUES = frozenset(member.value for member in MessageType)
_CODE_VALUES = frozenset(member.value for member in HandlingCode)
_CODES = " | ".join(HandlingCode)

_COMMON_CLAIMS = frozenset(
    {"v", "typ", "cid", "sub", "iat", "grp", "hc", "body", "att", "reply_to"}
)
_REQUIRED_CLAIMS = ("v", "typ", "cid", "sub", "iat", "hc", "body")
_ATTACHMENT_FIELDS = frozenset({"sha256", "size", "name", "type"})
_TARGET_FIELDS = frozenset({"groups", "organizations", "regions", "all"})
_TEXT_BODY = frozenset({"text"})
_NOTICE_BODY = frozenset({"title", "text"})
_ALERT_BODY = frozenset({"title", "text", "priority", "ack_required", "respond_by", "expires_at"})


@dataclass(frozen=True, slots=True)
class AttachmentRef:
    """An attachment named in the signed payload, so the signature covers the file too."""

    sha256: str
    size: int
    name: str
    type: str


@dataclass(frozen=True, slots=True)
class AlertTargets:
    """Who an alert goes to; ids are canonical UUID strings, regions WCO region codes."""

    groups: tuple[str, ...]
    organizations: tuple[str, ...]
    regions: tuple[str, ...]
    all: bool


@dataclass(frozen=True, slots=True)
class AlertBody:
    title: str
    text: str
    priority: str
    ack_required: bool
    respond_by: int | None
    expires_at: int | None


@dataclass(frozen=True, slots=True)
class Envelope:
    """The checked claims of a signed message or alert."""

    typ: MessageType
    cid: str
    sub: str
    iat: int
    grp: str | None  # None exactly for alerts
    hc: HandlingCode
    body: dict[str, Any]
    attachments: tuple[AttachmentRef, ...]
    reply_to: str | None
    to: AlertTargets | None  # set exactly for alerts
    seizure: SeizureReport | None = None  # set exactly for typ "seizure"
    alert: AlertBody | None = None  # set exactly for typ "alert"


def is_canonical_uuid(value: object) -> bool:
    """True for a UUID in its canonical form: 36 characters, lower-case hex and hyphens."""
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _invalid(slug: str, field: str, message: str) -> Invalid:
    return Invalid(f"{field}: {message}", slug=slug, errors=(FieldError(field, message),))


def _claims_error(field: str, message: str) -> Invalid:
    return _invalid("invalid-claims", field, message)


def check_claims(
    payload: dict[str, Any],
    *,
    expected_sub: str,
    expected_grp: str | None,
    now: int,
    max_skew: int = MAX_SKEW_SECONDS,
    today: date | None = None,
) -> Envelope:
    """Check the claims of a payload whose signature has already verified.

    Checks, in this order (first failure wins): claim set (`invalid-claims`), `v`
    (`invalid-claims`), `typ` (`unknown-typ`), `cid` (`invalid-claims`), `sub`
    (`sender-mismatch`), `iat` (`stale-iat`), `grp` (`group-mismatch`), `hc` (`invalid-claims`),
    body size (TooLarge `body-too-large`), body (`invalid-body`), `att` (`invalid-attachments`),
    `reply_to` (`invalid-claims`), `to` (`invalid-recipients`).

    Args:
        payload: the verified JWS payload.
        expected_sub: the authenticated user's id (canonical UUID string).
        expected_grp: the group in the URL; None when posting an alert (alerts carry no `grp`).
        now: the server's clock, Unix seconds.
        max_skew: the largest accepted |now - iat|.
        today: the latest acceptable seizure `occurred_on`; defaults to the UTC date of `now`.

    Raises:
        Invalid: with one of the slugs above and a FieldError naming the claim.
        TooLarge: slug `body-too-large` when the compact JSON body exceeds 64 KiB.
    """
    typ_claim = payload.get("typ")
    allowed = _COMMON_CLAIMS | {"to"} if typ_claim == MessageType.ALERT else _COMMON_CLAIMS
    for key in sorted(payload):
        if key not in allowed:
            raise _claims_error(key, "claim not allowed")
    for key in _REQUIRED_CLAIMS:
        if key not in payload:
            raise _claims_error(key, "claim is required")

    version = payload["v"]
    # Exactly the integer: 1.0 and true equal 1 in Python but are another value in JSON.
    if type(version) is not int or version != ENVELOPE_VERSION:
        raise _claims_error("v", f"must be {ENVELOPE_VERSION}")

    typ = check_typ(typ_claim)

    cid = payload["cid"]
    if not is_canonical_uuid(cid):
        raise _claims_error("cid", "must be a UUID in canonical lower-case form")

    sub = payload["sub"]
    if not isinstance(sub, str) or sub != expected_sub:
        raise _invalid("sender-mismatch", "sub", "must be the authenticated user")

    iat = payload["iat"]
    if isinstance(iat, bool) or not isinstance(iat, int):
        raise _invalid("stale-iat", "iat", "must be integer Unix seconds")
    if abs(now - iat) > max_skew:
        raise _invalid("stale-iat", "iat", f"must be within {max_skew} s")

    grp = _check_grp(payload, typ, expected_grp)

    hc_claim = payload["hc"]
    if not isinstance(hc_claim, str) or hc_claim not in _CODE_VALUES:
        raise _claims_error("hc", "must be one of " + _CODES)
    hc = HandlingCode(hc_claim)

    body = payload["body"]
    _check_body_size(body)
    seizure: SeizureReport | None = None
    alert: AlertBody | None = None
    if typ is MessageType.SEIZURE:
        day = today if today is not None else datetime.fromtimestamp(now, UTC).date()
        seizure = parse_seizure_report(body, today=day)
    else:
        alert = _check_simple_body(body, typ, iat)

    attachments = _check_attachments(payload.get("att"))

    reply_to = payload.get("reply_to")
    if reply_to is not None and not is_canonical_uuid(reply_to):
        raise _claims_error("reply_to", "must be a message id (canonical UUID)")

    to = _check_targets(payload.get("to"), hc) if typ is MessageType.ALERT else None

    return Envelope(
        typ=typ,
        cid=cid,
        sub=sub,
        iat=iat,
        grp=grp,
        hc=hc,
        body=body,
        attachments=attachments,
        reply_to=reply_to,
        to=to,
        seizure=seizure,
        alert=alert,
    )


def check_typ(typ: object, accepts: frozenset[MessageType] = ALL_TYPES) -> MessageType:
    """The envelope's `typ`, when it is one that `accepts` (an endpoint's types) holds.

    Raises:
        Invalid: `unknown-typ`, listing the types accepted.
    """
    if not isinstance(typ, str) or typ not in _TYPE_VALUES or MessageType(typ) not in accepts:
        listed = " | ".join(member.value for member in MessageType if member in accepts)
        raise _invalid("unknown-typ", "typ", f"must be {listed}")
    return MessageType(typ)


def _check_grp(payload: dict[str, Any], typ: MessageType, expected_grp: str | None) -> str | None:
    def mismatch(message: str) -> Invalid:
        return _invalid("group-mismatch", "grp", message)

    if typ is MessageType.ALERT:
        if "grp" in payload:
            raise mismatch("alerts carry no grp; they name their recipients in to")
        if expected_grp is not None:
            raise mismatch("alerts are posted to /alerts, not to a group")
        return None
    if expected_grp is None:
        raise mismatch("only alerts may be posted without a group")
    grp = payload.get("grp")
    if not isinstance(grp, str) or grp != expected_grp:
        raise mismatch("must be the group in the URL")
    return grp


def _check_body_size(body: Any) -> None:
    try:
        encoded = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        raise _invalid("invalid-body", "body", "must be JSON") from None
    if len(encoded.encode("utf-8", errors="surrogatepass")) > MAX_BODY_BYTES:
        raise TooLarge(
            f"the body exceeds {MAX_BODY_BYTES} bytes",
            slug="body-too-large",
        )


def _text(body: dict[str, Any], key: str, max_chars: int, errors: list[FieldError]) -> str | None:
    field = f"body.{key}"
    value = body.get(key)
    if value is None:
        errors.append(FieldError(field, "is required"))
    elif not isinstance(value, str) or not value.strip():
        errors.append(FieldError(field, "must be a non-blank string"))
    elif len(value) > max_chars:
        errors.append(FieldError(field, f"must be at most {max_chars} characters"))
    else:
        return value
    return None


def _timestamp(body: dict[str, Any], key: str, iat: int, errors: list[FieldError]) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        errors.append(FieldError(f"body.{key}", "must be integer Unix seconds"))
        return None
    if value <= iat:
        errors.append(FieldError(f"body.{key}", "must be after iat"))
        return None
    return value


def _check_simple_body(body: Any, typ: MessageType, iat: int) -> AlertBody | None:
    """Validate a text, notice or alert body; return the parsed alert body for alerts."""
    if not isinstance(body, dict):
        raise _invalid("invalid-body", "body", "must be an object")
    allowed = {
        MessageType.TEXT: _TEXT_BODY,
        MessageType.NOTICE: _NOTICE_BODY,
        MessageType.ALERT: _ALERT_BODY,
    }[typ]
    errors = [FieldError(f"body.{key}", "unknown field") for key in sorted(set(body) - allowed)]
    title = _text(body, "title", MAX_TITLE_CHARS, errors) if "title" in allowed else None
    text = _text(body, "text", MAX_TEXT_CHARS, errors)
    alert: AlertBody | None = None
    if typ is MessageType.ALERT:
        priority = body.get("priority")
        if not isinstance(priority, str) or priority not in ALERT_PRIORITIES:
            errors.append(FieldError("body.priority", "must be flash | immediate | routine"))
        ack_required = body.get("ack_required")
        if not isinstance(ack_required, bool):
            errors.append(FieldError("body.ack_required", "must be true or false"))
        respond_by = _timestamp(body, "respond_by", iat, errors)
        expires_at = _timestamp(body, "expires_at", iat, errors)
        if respond_by is not None and expires_at is not None and respond_by > expires_at:
            errors.append(FieldError("body.respond_by", "must not be after expires_at"))
        if not errors and title is not None and text is not None:
            alert = AlertBody(
                title=title,
                text=text,
                priority=str(priority),
                ack_required=bool(ack_required),
                respond_by=respond_by,
                expires_at=expires_at,
            )
    if errors:
        raise Invalid(
            f"{errors[0].field} {errors[0].message}",
            slug="invalid-body",
            errors=tuple(errors),
        )
    return alert


def _check_attachments(value: Any) -> tuple[AttachmentRef, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _attachments_error("att", "must be a list")
    if len(value) > MAX_ATTACHMENTS:
        raise _attachments_error("att", f"must name at most {MAX_ATTACHMENTS} attachments")
    errors: list[FieldError] = []
    refs: list[AttachmentRef] = []
    seen: set[str] = set()
    for index, entry in enumerate(value):
        field = f"att[{index}]"
        if not isinstance(entry, dict):
            errors.append(FieldError(field, "must be an object {sha256, size, name, type}"))
            continue
        before = len(errors)
        errors.extend(
            FieldError(f"{field}.{key}", "unknown field")
            for key in sorted(set(entry) - _ATTACHMENT_FIELDS)
        )
        sha256: Any = entry.get("sha256")
        size: Any = entry.get("size")
        name: Any = entry.get("name")
        media_type: Any = entry.get("type")
        if not isinstance(sha256, str) or _SHA256_RE.fullmatch(sha256) is None:
            errors.append(FieldError(f"{field}.sha256", "must be 64 lower-case hex digits"))
        elif sha256 in seen:
            errors.append(FieldError(f"{field}.sha256", "names the same attachment twice"))
        else:
            seen.add(sha256)
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            errors.append(FieldError(f"{field}.size", "must be an integer greater than zero"))
        if not isinstance(name, str) or not 1 <= len(name) <= MAX_ATTACHMENT_NAME_CHARS:
            errors.append(FieldError(f"{field}.name", "must be a string of 1 to 255 characters"))
        if not isinstance(media_type, str) or not 1 <= len(media_type) <= MAX_MEDIA_TYPE_CHARS:
            errors.append(FieldError(f"{field}.type", "must be a media type string"))
        if len(errors) == before:
            refs.append(AttachmentRef(sha256=sha256, size=size, name=name, type=media_type))
    if errors:
        raise Invalid(
            f"{errors[0].field} {errors[0].message}",
            slug="invalid-attachments",
            errors=tuple(errors),
        )
    return tuple(refs)


def _attachments_error(field: str, message: str) -> Invalid:
    return _invalid("invalid-attachments", field, message)


def _recipients_error(field: str, message: str) -> Invalid:
    return _invalid("invalid-recipients", field, message)


def _id_list(to: dict[str, Any], key: str, region: bool) -> tuple[str, ...]:
    value = to.get(key)
    field = f"to.{key}"
    if value is None:
        return ()
    if not isinstance(value, list):
        raise _recipients_error(field, "must be a list")
    if len(value) > MAX_TARGETS:
        raise _recipients_error(field, f"must have at most {MAX_TARGETS} entries")
    for index, item in enumerate(value):
        valid = (
            (isinstance(item, str) and item in WCO_REGIONS) if region else is_canonical_uuid(item)
        )
        if not valid:
            what = "a WCO region code" if region else "a canonical UUID"
            raise _recipients_error(f"{field}[{index}]", f"must be {what}")
    if len(set(value)) != len(value):
        raise _recipients_error(field, "must not repeat an entry")
    return tuple(value)


def alert_targets(payload: dict[str, Any]) -> AlertTargets:
    """The targets of a stored alert's payload (checked by `check_claims` when it was sent).

    Raises:
        Invalid: `invalid-recipients` or `invalid-claims`, for a payload that was never checked.
    """
    hc_claim = payload.get("hc")
    if not isinstance(hc_claim, str) or hc_claim not in _CODE_VALUES:
        raise _claims_error("hc", "must be one of " + _CODES)
    return _check_targets(payload.get("to"), HandlingCode(hc_claim))


def _check_targets(value: Any, hc: HandlingCode) -> AlertTargets:
    if value is None:
        raise _recipients_error("to", "an alert must name its recipients")
    if not isinstance(value, dict):
        raise _recipients_error("to", "must be an object {groups?, organizations?, regions?, all?}")
    for key in sorted(value):
        if key not in _TARGET_FIELDS:
            raise _recipients_error(f"to.{key}", "unknown field")
    if "all" in value and value["all"] is not True:
        raise _recipients_error("to.all", "must be true when present")
    targets = AlertTargets(
        groups=_id_list(value, "groups", region=False),
        organizations=_id_list(value, "organizations", region=False),
        regions=_id_list(value, "regions", region=True),
        all=value.get("all") is True,
    )
    if not (targets.groups or targets.organizations or targets.regions or targets.all):
        raise _recipients_error("to", "must name at least one recipient")
    if hc is HandlingCode.RED:
        # TLP:RED stays with named recipients: never broadcast to regions or everyone.
        for key in ("regions", "all"):
            if key in value:
                raise _recipients_error(
                    f"to.{key}", "a TLP:RED alert may target only groups and organizations"
                )
    return targets
