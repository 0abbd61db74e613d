"""`cencomm witness keygen` and `cencomm witness serve`: what they do (the parsers are in
`cencomm.witness.cli`, which the `cencomm` command line imports without aiohttp)."""

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


def run_witness_command(args: argparse.Namespace) -> int:
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
