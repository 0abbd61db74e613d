"""The `cencomm witness` parsers and the `--witness`/`--quorum` options: standard library only, so
`cencomm --help` stays fast; `run_witness` imports the service when a witness command runs."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_PORT = 8090


def add_witness_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    witness = commands.add_parser(
        "witness",
        help="run a C2SP tlog-witness that cosigns audit checkpoints (c2sp.org/tlog-witness)",
    )
    actions = witness.add_subparsers(dest="witness_command", required=True, metavar="ACTION")
    keygen = actions.add_parser(
        "keygen", help="create the witness's signing key; prints its verifier key"
    )
    keygen.add_argument(
        "--key",
        type=Path,
        required=True,
        metavar="FILE",
        help="where to write the private key (a new file, mode 0600)",
    )
    keygen.add_argument(
        "--name",
        required=True,
        help="the witness's name, a schema-less URL (e.g. witness.customs.example/w1)",
    )
    serve = actions.add_parser("serve", help="serve POST /add-checkpoint")
    serve.add_argument(
        "--key",
        type=Path,
        required=True,
        metavar="FILE",
        help="the private key `witness keygen` wrote",
    )
    serve.add_argument(
        "--state",
        type=Path,
        required=True,
        metavar="DIR",
        help="where the newest cosigned checkpoint per log and evidence are kept",
    )
    serve.add_argument("--host", default="127.0.0.1", help="address (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})"
    )
    serve.add_argument(
        "--log",
        action="append",
        default=[],
        metavar="VKEY",
        required=True,
        help="a log this witness cosigns, as its verifier key "
        "<origin>+<key ID>+<key> (the `note_key` of GET /api/v1/audit/key); "
        "repeatable",
    )


def add_witness_options(parser: argparse.ArgumentParser) -> None:
    """`--witness VKEY` (repeatable) and `--quorum N`: accept a tree head only when that many of
    these witnesses cosigned it."""
    parser.add_argument(
        "--witness",
        action="append",
        default=[],
        metavar="VKEY",
        help="a witness whose cosignature counts, as its verifier key "
        "<name>+<key ID>+<key> (`cencomm witness keygen` prints it); repeatable",
    )
    parser.add_argument(
        "--quorum",
        type=int,
        metavar="N",
        help="how many of the --witness keys must have cosigned (default: all of them)",
    )


def run_witness(args: argparse.Namespace) -> int:
    from cencomm.witness.command import run_witness_command

    return run_witness_command(args)
