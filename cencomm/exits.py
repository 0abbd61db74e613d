"""Exit codes of the `cencomm` commands and the error an operator can act on."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
# `backup` / `restore`: the destination (backup directory, data directory or database) already
# holds something; nothing was written.
EXIT_NOT_EMPTY = 3
# `restore`: the backup is missing, incomplete or corrupt (checked before anything is written).
EXIT_BAD_BACKUP = 4


class CommandError(Exception):
    """A command failed for a reason the operator can act on; the message says which, and
    `exit_code` is what the command exits with."""

    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code
