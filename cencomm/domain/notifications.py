"""E-mail notifications: addresses, preferences, and what an e-mail may say.

E-mail leaves the platform's control, so what it carries depends on the alert's handling code:

* `TLP:CLEAR`, `TLP:GREEN`: title and text.
* `TLP:AMBER`: the title only.
* `TLP:AMBER+STRICT`, `TLP:RED`: neither title nor text, only the priority and a link; the
  content is read in the platform after logging in.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from cencomm.domain.errors import FieldError, Invalid

MAX_EMAIL = 254
# White space spelled out: `\s` differs between Python, ECMA-262 (the OpenAPI document's
# patterns) and pydantic's engine (U+001C-001F, U+FEFF).
_SPACE = r"\t\n\x0b\x0c\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
EMAIL_PATTERN = (
    rf"^[^@{_SPACE}<>\"',;]{{1,64}}@(?:(?:[A-Za-z0-9-]{{1,63}}\.)+[A-Za-z]{{2,63}}|localhost)$"
)
_EMAIL = re.compile(EMAIL_PATTERN)

CONTENT_CODES = frozenset({"TLP:CLEAR", "TLP:GREEN"})
TITLE_CODES = CONTENT_CODES | {"TLP:AMBER"}


class MailKind(enum.StrEnum):
    ALERT = "alert"
    REMINDER = "reminder"
    WATCH = "watch"  # a watch list match (`domain/watch_lists.py`); follows `alerts`


def validate_email(raw: str, field: str = "body.email") -> str:
    """A plain address (no display name); the domain part lower-cased."""
    value = raw.strip()
    if len(value) > MAX_EMAIL or not _EMAIL.match(value):
        raise Invalid(
            "not an e-mail address",
            slug="validation-failed",
            errors=(FieldError(field, "must be a plain e-mail address"),),
        )
    local, _, domain = value.rpartition("@")
    return f"{local}@{domain.lower()}"


@dataclass(frozen=True, slots=True)
class Preferences:
    """Which e-mails a user wants (they need an address too, set in the directory)."""

    email: str | None
    alerts: bool = True  # flash and immediate alerts the user has not seen live
    reminders: bool = True  # respond_by reminders while their organisation has not answered


@dataclass(frozen=True, slots=True)
class Mail:
    subject: str
    body: str


def alert_mail(
    kind: MailKind,
    *,
    priority: str,
    hc: str,
    title: str,
    text: str,
    link: str,
    respond_by: str | None,
) -> Mail:
    """The e-mail for an alert or a reminder, with only what `hc` allows (module docstring)."""
    label = priority.upper()
    what = "Reminder: answer the" if kind is MailKind.REMINDER else "New"
    if hc in TITLE_CODES:
        subject = f"[cencomm] {what} {label} alert: {_one_line(title)}"
    else:
        subject = f"[cencomm] {what} {label} alert ({hc})"
    lines = [f"{what} {label} alert ({hc}) on cencomm."]
    if kind is MailKind.REMINDER and respond_by:
        lines.append(f"Your organisation has not answered it yet; answer by {respond_by}.")
    if hc in CONTENT_CODES:
        lines += ["", _one_line(title), "", text]
    elif hc in TITLE_CODES:
        lines += ["", _one_line(title), "", "Read the alert in cencomm."]
    else:
        lines += ["", f"Its content is {hc}: read it in cencomm only."]
    lines += ["", link, ""]
    return Mail(subject=subject[:200], body="\n".join(lines))


def _one_line(text: str) -> str:
    return " ".join(text.split())
