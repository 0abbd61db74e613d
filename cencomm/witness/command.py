"""`cencomm witness keygen` and `cencomm witness serve`."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cencomm.crypto.keys import raw_public_key
from cencomm.crypto.notes import (
    COSIGNATURE_TYPE,
    ED25519_TYPE,
    NoteError,
    VerifierKey,
    check_key_name,
    encode_private_key,
    parse_private_key,
    parse_vkey,
)
from cencomm.exits import EXIT_OK, EXIT_USAGE, CommandError
from cencomm.witness.app import WitnessConfig, create_witness_app
from cencomm.witness.state import StateError, WitnessState

MAX_KEY_FILE_BYTES = 4096
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
    try:
        if args.witness_command == "keygen":
            return _keygen(args.key, args.name)
        return _serve(args)
    except CommandError as exc:
        print(f"cencomm witness: {exc}", file=sys.stderr)
        return exc.exit_code


def _keygen(path: Path, name: str) -> int:
    try:
        check_key_name(name)
    except NoteError as exc:
        raise CommandError(f"--name: {exc}", EXIT_USAGE) from None
    key = Ed25519PrivateKey.generate()
    data = (encode_private_key(name, COSIGNATURE_TYPE, key) + "\n").encode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        raise CommandError(f"{path} exists already; a key is never overwritten") from None
    except OSError as exc:
        raise CommandError(f"cannot create {path}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    vkey = VerifierKey(name, COSIGNATURE_TYPE, raw_public_key(key.public_key()))
    sys.stdout.write(vkey.encode() + "\n")
    return EXIT_OK


def load_witness_key(path: Path) -> tuple[str, Ed25519PrivateKey]:
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_KEY_FILE_BYTES + 1)
            mode = os.fstat(handle.fileno()).st_mode & 0o777
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror}") from None
    if mode & 0o077:
        raise CommandError(f"{path} is readable by others (mode {mode:04o}); chmod 600 it")
    try:
        name, kind, key = parse_private_key(raw.decode("ascii").strip())
    except (UnicodeDecodeError, NoteError) as exc:
        raise CommandError(f"{path} is not a witness key ({exc})") from None
    if kind != COSIGNATURE_TYPE:
        raise CommandError(f"{path} is not a cosignature (0x04) key")
    return name, key


def _serve(args: argparse.Namespace) -> int:
    name, key = load_witness_key(args.key)
    logs: dict[str, VerifierKey] = {}
    for text in args.log:
        try:
            vkey = parse_vkey(text, ED25519_TYPE)
        except NoteError as exc:
            raise CommandError(f"--log {text}: {exc}", EXIT_USAGE) from None
        logs[vkey.name] = vkey
    state = WitnessState(args.state)
    try:
        state.prepare()
    except StateError as exc:
        raise CommandError(str(exc)) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    app = create_witness_app(WitnessConfig(name, key, logs, state))
    vkey = VerifierKey(name, COSIGNATURE_TYPE, raw_public_key(key.public_key()))
    logging.getLogger(__name__).info(
        "witness %s on %s:%d for %d logs", vkey.encode(), args.host, args.port, len(logs)
    )
    # "Running on ..." goes to the log once the socket listens (what scripts and tests wait for).
    web.run_app(
        app,
        host=args.host,
        port=args.port,
        print=logging.getLogger(__name__).info,
        access_log=None,
    )
    return EXIT_OK
