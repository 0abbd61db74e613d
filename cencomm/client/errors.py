"""The errors `cencomm.client` raises: problems, transport, key files, proofs, the audit log."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

# Offline checks (shared with `cencomm verify-export`) raise this one; it is not a ClientError.
from cencomm.verification.errors import VerificationError as VerificationError

PROBLEM_PREFIX = "urn:cencomm:problem:"


class ClientError(Exception):
    """Base of every error `cencomm.client` raises on purpose."""


class NotLoggedIn(ClientError):
    """A call needs an access token and the client holds none (log in first)."""


class TransportError(ClientError):
    """The server could not be reached, or kept failing, after the bounded retries."""


class KeyFileError(ClientError):
    """A key file is missing, unsafe (group/other access), malformed or its passphrase is wrong."""


class ProblemError(ClientError):
    """The server answered with an RFC 9457 problem document (any status >= 400).

    Attributes:
        status: the HTTP status.
        type: the problem type URI (`urn:cencomm:problem:<slug>`, or `about:blank` when the
            answer was not a problem document, e.g. from a proxy).
        title: short summary.
        detail: what went wrong, safe to show a user.
        errors: field-level errors, `[{"field": ..., "message": ...}]` (empty when none).
        retry_after: seconds from a `Retry-After` header (429, 503), else None.
    """

    def __init__(
        self,
        status: int,
        type: str,  # the RFC 9457 member name
        title: str,
        detail: str = "",
        errors: Sequence[Mapping[str, Any]] = (),
        *,
        retry_after: float | None = None,
    ) -> None:
        self.status = status
        self.type = type
        self.title = title
        self.detail = detail
        self.errors: list[dict[str, Any]] = [dict(e) for e in errors]
        self.retry_after = retry_after
        super().__init__(self._summary())

    @property
    def slug(self) -> str:
        """The problem name without its URN prefix (`invalid-token`), or the type as given."""
        return self.type.removeprefix(PROBLEM_PREFIX)

    def _summary(self) -> str:
        """One line: status, slug, detail, then every field error (not just the first)."""
        text = f"{self.status} {self.slug}: {self.detail or self.title}"
        if self.errors:
            fields = "; ".join(
                f"{e.get('field', '?')}: {e.get('message', '?')}" for e in self.errors
            )
            text += f" ({fields})"
        return text

    @classmethod
    def from_body(
        cls, status: int, body: object, *, retry_after: float | None = None
    ) -> ProblemError:
        """Build from a decoded response body; tolerates bodies that are not problem documents."""
        if isinstance(body, Mapping) and isinstance(body.get("type"), str):
            raw_errors = body.get("errors")
            errors = (
                [e for e in raw_errors if isinstance(e, Mapping)]
                if isinstance(raw_errors, list)
                else []
            )
            return cls(
                status,
                str(body["type"]),
                str(body.get("title") or ""),
                str(body.get("detail") or ""),
                errors,
                retry_after=retry_after,
            )
        return cls(status, "about:blank", f"HTTP {status}", "", retry_after=retry_after)


class AuditLogError(ClientError):
    """The server's audit log contradicts a tree head this client saw before (a rollback or a
    rewrite), or a tree head is not validly signed."""
