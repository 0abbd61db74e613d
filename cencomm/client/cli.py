"""`cencomm client ...`: log in, manage signing keys, post, read and verify from a shell.

Output is JSON on stdout (one object, or one per line for `read`); errors are one line on
stderr, naming every field error of a problem. A group is named by its code or its id.
Exit codes: 0 success (for `verify`: the message verified), 1 the command failed (a
problem answer, a verification failure, a key or state file problem, not logged in), 2 usage,
3 the server could not be reached.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from cencomm.settings import client_home

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3

HANDLING_CODES = ("TLP:CLEAR", "TLP:GREEN", "TLP:AMBER", "TLP:AMBER+STRICT", "TLP:RED")

EPILOG = """\
State (server, tokens, the newest audit tree head seen) lives in HOME/client.json (mode 0600);
the default signing key is HOME/signing-key.pem. Every command first checks that the server's
audit log extends the tree head seen before (a rolled-back log fails with exit 1).
Exit codes: 0 ok (verify: verified), 1 failed, 2 usage, 3 unreachable.

example:
  cencomm client login --server https://cencomm.example --username officer.fr
  cencomm client keys create && cencomm client keys register --label laptop
  cencomm client post --group STOP-2020 --text "Container MSCU1234567 flagged" --hc TLP:AMBER
  cencomm client read --group STOP-2020 --after 0       # --group takes a code or an id
  cencomm client verify --message MESSAGE_ID
"""


def _key_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--key-file",
        type=Path,
        help="signing key file (default: the saved one, or HOME/signing-key.pem)",
    )
    parser.add_argument(
        "--passphrase-file",
        type=Path,
        help="read the key's passphrase from the first line of this file "
        "(else asked on the terminal when the key is encrypted)",
    )


def add_client_parser(commands: Any) -> None:
    """Add the `client` command group to the top-level `cencomm` subparsers."""
    client = commands.add_parser(
        "client",
        help="log in, manage signing keys, post, read and verify messages",
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
    actions = client.add_subparsers(dest="client_command", required=True, metavar="ACTION")

    login = actions.add_parser(
        "login", help="log in and save the tokens (password from stdin, or asked)"
    )
    login.add_argument("--server", help="server URL, e.g. https://cencomm.example (default: saved)")
    login.add_argument("--username", required=True)
    login.add_argument("--otp", help="TOTP code, when two-factor authentication is on")
    actions.add_parser("logout", help="end the session on the server and forget the tokens")
    actions.add_parser("whoami", help="show the logged-in user (GET /me)")

    keys = actions.add_parser("keys", help="signing keys: create, register, list, revoke")
    key_actions = keys.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = key_actions.add_parser("create", help="create an Ed25519 key file (mode 0600)")
    create.add_argument("--key-file", type=Path, help="where (default: HOME/signing-key.pem)")
    secret = create.add_mutually_exclusive_group()
    secret.add_argument(
        "--passphrase-file", type=Path, help="encrypt with the passphrase on this file's first line"
    )
    secret.add_argument(
        "--ask-passphrase", action="store_true", help="encrypt with a passphrase typed twice"
    )
    register = key_actions.add_parser(
        "register", help="register the key's public half (POST /keys)"
    )
    _key_options(register)
    register.add_argument("--label", help="a name for the key, e.g. the device")
    listing = key_actions.add_parser("list", help="list keys, revoked ones included")
    listing.add_argument("--user", help="user id (default: yourself)")
    revoke = key_actions.add_parser(
        "revoke",
        help="revoke a key by kid",
        description="A kid may start with '-' (base64url): then write `keys revoke -- KID`.",
    )
    revoke.add_argument("kid")

    post = actions.add_parser("post", help="sign and post a text, notice or seizure report")
    post.add_argument("--group", required=True, help="the group's code (STOP-2020) or id")
    kind = post.add_mutually_exclusive_group()
    kind.add_argument(
        "--notice", metavar="TITLE", help="post a notice with this title (and --text)"
    )
    kind.add_argument(
        "--seizure",
        type=Path,
        metavar="FILE",
        help="post the seizure report in FILE.json ('-': stdin)",
    )
    post.add_argument("--text", help="the text ('-': read stdin)")
    post.add_argument("--hc", default="TLP:AMBER", choices=HANDLING_CODES, help="handling code")
    post.add_argument("--reply-to", help="id of the message this answers")
    _key_options(post)

    read = actions.add_parser(
        "read", help="print a group's messages as JSON lines, with their readable content"
    )
    read.add_argument("--group", required=True, help="the group's code (STOP-2020) or id")
    read.add_argument("--after", type=int, default=0, help="only messages after this seq")
    read.add_argument("--limit", type=int, default=100, help="page size (1-500)")
    read.add_argument(
        "--jws",
        action="store_true",
        help="also print each message's verbatim JWS (by default only its readable content)",
    )

    verify = actions.add_parser(
        "verify", help="verify a message against its sender's published keys (exit 0 / 1)"
    )
    verify.add_argument("--message", required=True, help="message id")

    head = actions.add_parser(
        "tree-head",
        help="show the server's newest audit tree head, checked against the one seen before",
        description="Every command checks that the server's audit log extends the newest tree "
        "head this client saw (kept in client.json); this one prints the head.",
    )
    head.add_argument(
        "--forget",
        action="store_true",
        help="forget the remembered head and trust the server's current one (only after the "
        "operator explained a reported rollback)",
    )


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
