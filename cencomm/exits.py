"""Exit codes of the `cencomm` commands and the error an operator can act on."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class CommandError(Exception):
    """A command failed for a reason the operator can act on; the message says which."""
