"""`cencomm client ...`: the command line for every user job, over `cencomm.client`.

Output is text for people on stdout, or with `--json` one JSON value per line for scripts;
errors are one line on stderr, naming every field error of a problem. A group is named by
its code or its id.
Exit codes: 0 success (for `verify`: the message verified), 1 the command failed (a
problem answer, a verification failure, a key or state file problem, not logged in), 2 usage,
3 the server could not be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

from cencomm.settings import client_home

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a killed writer

EPILOG = """\
State (server, tokens, the newest audit tree head seen) lives in HOME/client.json (mode 0600);
the default signing key is HOME/signing-key.pem. Every command first checks that the server's
audit log extends the tree head seen before (a rolled-back log fails with exit 1).
Output is text for people; --json (before or after the action) prints JSON for scripts.
Every action's --help ends with an example.
Exit codes: 0 ok (verify: verified), 1 failed, 2 usage, 3 unreachable
(130 interrupted, 141 output closed early, e.g. by `| head`).

example:
  cencomm client login --server https://cencomm.example --username officer.fr
  cencomm client keys create && cencomm client keys register --label laptop
  cencomm client post --group STOP-2020 --text "Container MSCU1234567 flagged" --hc TLP:AMBER
  cencomm client read --group STOP-2020 --after 0       # --group takes a code or an id
  cencomm client --json verify --message MESSAGE_ID
"""


def add_client_parser(commands: Any) -> None:
    """Add the `client` command group to the top-level `cencomm` subparsers."""
    from cencomm.client.cli_commands import FAMILIES
    from cencomm.client.cli_support import JSON_HELP

    client = commands.add_parser(
        "client",
        help="the command line for every user job: groups, messages, alerts, analytics, audit",
        description="Command line over the cencomm.client Python library.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    client.add_argument(
        "--home",
        type=Path,
        default=None,
        help="state directory (default: $CENCOMM_CLIENT_HOME, else ~/.config/cencomm)",
    )
    client.add_argument("--timeout", type=float, default=30.0, help="seconds per HTTP try")
    client.add_argument("--json", action="store_true", help=JSON_HELP)
    client.add_argument(
        "--witness",
        action="append",
        default=[],
        metavar="VKEY",
        help="accept an audit tree head only when cosigned by witnesses: a witness's verifier "
        "key <name>+<key ID>+<key> (as `cencomm witness keygen` prints it); repeatable. Also "
        "checks verify-export's audit/checkpoint.note",
    )
    client.add_argument(
        "--quorum",
        type=int,
        metavar="N",
        help="how many of the --witness keys must have cosigned (default: all of them)",
    )
    actions = client.add_subparsers(dest="client_command", required=True, metavar="ACTION")
    for family in FAMILIES:
        family.add_parsers(actions)


def _fail(message: str) -> None:
    sys.stderr.write(f"cencomm client: {' '.join(message.split())}\n")


def run_client(args: argparse.Namespace) -> int:
    """Run one `cencomm client` command; never raises (errors become a line and an exit code)."""
    # Imported here, not at the top: `cencomm --help` stays fast and free of aiohttp.
    from cencomm.client.cli_commands import UsageError, dispatch
    from cencomm.client.errors import (
        ClientError,
        NotLoggedIn,
        ProblemError,
        TransportError,
        VerificationError,
    )
    from cencomm.client.state import StateStore

    store = StateStore(args.home if args.home is not None else client_home())
    try:
        return asyncio.run(dispatch(args, store))
    except UsageError as exc:
        _fail(str(exc))
        return EXIT_USAGE
    except VerificationError as exc:
        _fail(f"NOT verified: {exc}")
        return EXIT_FAILURE
    except TransportError as exc:
        _fail(f"server unreachable: {exc}")
        return EXIT_UNREACHABLE
    except NotLoggedIn:
        _fail("not logged in: run `cencomm client login` first")
        return EXIT_FAILURE
    except (ProblemError, ClientError) as exc:
        _fail(str(exc))
        return EXIT_FAILURE
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader stopped early (`... | head`): end quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
