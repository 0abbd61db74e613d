"""The per-user state of `cencomm client`: server, user, tokens and the newest audit tree head
in `client.json` (mode 0600)."""

from __future__ import annotations

import contextlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cencomm.client.errors import ClientError
from cencomm.client.tokens import TokenSet

STATE_FILE = "client.json"
DEFAULT_KEY_FILE = "signing-key.pem"
STATE_MODE = 0o600
HOME_MODE = 0o700


class StateError(ClientError):
    """The state file is unreadable, unsafe or malformed."""


@dataclass(slots=True)
class ClientState:
    """What `cencomm client login` remembers between commands.

    Attributes:
        server: the server root URL.
        username: who logged in.
        user_id: their id.
        tokens: the current token pair (rotated on every refresh), or None once logged out.
        key_file: the signing key file last created or used.
        tree_head: the newest audit tree head seen on `server` (`GET /audit/tree-head`), which
            every later one must extend (`cencomm.client.audit`).
        device_tokens: per "<username> <server>", the device token of that user's last login
            there (sent with the next one, so other people's failed logins do not lock this
            device out).
    """

    server: str | None = None
    username: str | None = None
    user_id: str | None = None
    tokens: TokenSet | None = field(default=None, repr=False)
    key_file: str | None = None
    tree_head: dict[str, Any] | None = None
    device_tokens: dict[str, str] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "username": self.username,
            "user_id": self.user_id,
            "tokens": self.tokens.to_dict() if self.tokens is not None else None,
            "key_file": self.key_file,
            "tree_head": self.tree_head,
            "device_tokens": dict(self.device_tokens),
        }


class StateStore:
    """Reads and atomically rewrites `<home>/client.json`, readable only by its owner."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.path = home / STATE_FILE

    def default_key_file(self) -> Path:
        return self.home / DEFAULT_KEY_FILE

    def load(self) -> ClientState:
        """The saved state, or an empty one when there is no file yet.

        Raises:
            StateError: the file is accessible by group or others, or is not ours.
        """
        try:
            fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            return ClientState()
        except OSError as exc:
            raise StateError(f"cannot read {self.path}: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as handle:
            mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
            if mode & 0o077:
                raise StateError(
                    f"{self.path} holds tokens but is accessible by group or others "
                    f"(mode {mode:04o}); run `chmod 600 {self.path}`"
                )
            raw = handle.read()
        try:
            data = json.loads(raw)
            tokens = data.get("tokens")
            tree_head = data.get("tree_head")
            return ClientState(
                server=data.get("server"),
                username=data.get("username"),
                user_id=data.get("user_id"),
                tokens=TokenSet.from_dict(tokens) if tokens else None,
                key_file=data.get("key_file"),
                tree_head=dict(tree_head) if isinstance(tree_head, dict) else None,
                device_tokens=_device_tokens(data.get("device_tokens")),
            )
        except (ValueError, AttributeError):
            raise StateError(f"{self.path} is not a cencomm client state file") from None

    def save(self, state: ClientState) -> None:
        """Write the state: a new 0600 file renamed over the old one (never half written)."""
        self.home.mkdir(mode=HOME_MODE, parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{STATE_FILE}.{os.getpid()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
        data = json.dumps(state.to_dict(), indent=2).encode("utf-8")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, STATE_MODE)
        try:
            os.fchmod(fd, STATE_MODE)
            with os.fdopen(fd, "wb") as handle:
                fd = -1
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except OSError as exc:
            if fd >= 0:
                os.close(fd)
            temporary.unlink(missing_ok=True)
            raise StateError(f"cannot write {self.path}: {exc.strerror}") from None


def _device_tokens(raw: object) -> dict[str, str]:
    """The saved device tokens; a file from before them has none."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
    ):
        raise ValueError("device_tokens is not a map of strings")
    return dict(raw)
