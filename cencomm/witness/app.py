"""The witness's HTTP service: `POST /add-checkpoint` of c2sp.org/tlog-witness.

The request body is `old <size>\\n`, up to 63 base64 consistency-proof lines, a blank line, then
the signed checkpoint note. Answers: 200 with the cosignature line; 400 malformed; 403 no
signature of the log's key verifies; 404 unknown origin; 409 the old size is not the size last
cosigned (body: that size and a newline, `text/x.tlog.size`) or another root at the same size;
422 the consistency proof does not verify. Checking the stored size and saving the new one happen
under one lock per origin, so two requests can never roll the state back.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cencomm.crypto.merkle import verify_consistency
from cencomm.crypto.notes import (
    NoteError,
    VerifierKey,
    cosign,
    parse_note,
    verify_log_signature,
)
from cencomm.witness.state import LogState, StateError, WitnessState

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 128 * 1024
MAX_PROOF_LINES = 63
SIZE_TYPE = "text/x.tlog.size"


@dataclass(frozen=True, slots=True)
class WitnessConfig:
    name: str
    private_key: Ed25519PrivateKey
    logs: Mapping[str, VerifierKey]  # origin -> the log's Ed25519 (0x01) key
    state: WitnessState


class BadRequest(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Submission:
    old: int
    proof: list[bytes]
    note: str


def parse_submission(body: bytes) -> Submission:
    """Split an add-checkpoint body.

    Raises:
        BadRequest: any other form.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8") from None
    head, blank, note = text.partition("\n\n")
    if not blank:
        raise BadRequest("no blank line before the checkpoint")
    lines = head.split("\n")
    first = lines[0]
    number = first.removeprefix("old ")
    if first == number or not number.isdigit() or (number != "0" and number.startswith("0")):
        raise BadRequest("the first line must be 'old <size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise BadRequest(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in lines[1:]:
        try:
            digest = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequest("a consistency proof line is not base64") from None
        if len(digest) != 32:
            raise BadRequest("a consistency proof line is not a 32-byte hash")
        proof.append(digest)
    return Submission(int(number), proof, note)


@dataclass(frozen=True, slots=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes


def parse_checkpoint_text(text: str) -> Checkpoint:
    """The first three lines of a checkpoint body (extension lines may follow).

    Raises:
        BadRequest: not a checkpoint.
    """
    lines = text.split("\n")
    if len(lines) < 4 or lines[-1] != "" or not lines[0]:
        raise BadRequest("the checkpoint has no origin, size and root hash lines")
    origin, size, root = lines[0], lines[1], lines[2]
    if not size.isdigit() or (size != "0" and size.startswith("0")):
        raise BadRequest("the checkpoint size is not a decimal number")
    try:
        digest = base64.b64decode(root, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("the checkpoint root hash is not base64") from None
    if len(digest) != 32:
        raise BadRequest("the checkpoint root hash is not 32 bytes")
    if any(not line for line in lines[3:-1]):
        raise BadRequest("the checkpoint has an empty extension line")
    return Checkpoint(origin, int(size), digest)


def _text(status: int, message: str) -> web.Response:
    return web.Response(status=status, text=message + "\n", content_type="text/plain")


class Witness:
    def __init__(self, config: WitnessConfig) -> None:
        self._config = config
        self._locks: dict[str, asyncio.Lock] = {}

    async def add_checkpoint(self, request: web.Request) -> web.Response:
        body = await request.content.read(MAX_BODY_BYTES + 1)
        if len(body) > MAX_BODY_BYTES:
            return _text(413, "request body too large")
        try:
            submission = parse_submission(body)
            note = parse_note(submission.note)
            checkpoint = parse_checkpoint_text(note.text)
        except (BadRequest, NoteError) as exc:
            return _text(400, f"bad request: {exc}")
        key = self._config.logs.get(checkpoint.origin)
        if key is None:
            return _text(404, "unknown log origin")
        if not any(verify_log_signature(key, note.text, line) for line in note.signatures):
            return _text(403, "no signature by the log's key verifies")
        if submission.old > checkpoint.size:
            return _text(400, "old size is larger than the checkpoint size")
        lock = self._locks.setdefault(checkpoint.origin, asyncio.Lock())
        async with lock:
            try:
                return await self._judge(submission, checkpoint, note.text)
            except StateError as exc:
                logger.error("witness state unusable: %s", exc)
                return _text(500, "the witness cannot read or write its state")

    async def _judge(
        self, submission: Submission, checkpoint: Checkpoint, text: str
    ) -> web.Response:
        state = self._config.state
        current = await asyncio.to_thread(state.load, checkpoint.origin)
        known = current.size if current is not None else 0
        if submission.old != known:
            return web.Response(status=409, text=f"{known}\n", content_type=SIZE_TYPE)
        if current is not None and submission.old == checkpoint.size:
            if not hmac.compare_digest(current.root, checkpoint.root):
                await self._evidence(
                    checkpoint.origin, "another root at the same size", current, submission
                )
                return _text(409, "another root hash at the size already cosigned")
        elif current is not None and not verify_consistency(
            current.size, checkpoint.size, current.root, checkpoint.root, submission.proof
        ):
            await self._evidence(
                checkpoint.origin, "not a consistent extension", current, submission
            )
            return _text(422, "the consistency proof does not verify")
        elif current is None and submission.proof:
            return _text(422, "the consistency proof must be empty from size 0")
        line = cosign(self._config.name, self._config.private_key, text, int(time.time()))
        await asyncio.to_thread(
            state.save,
            LogState(checkpoint.origin, checkpoint.size, checkpoint.root, submission.note),
        )
        logger.info("cosigned %s at size %d", checkpoint.origin, checkpoint.size)
        return web.Response(status=200, text=line.encode(), content_type="text/plain")

    async def _evidence(
        self, origin: str, reason: str, current: LogState, submission: Submission
    ) -> None:
        record = {
            "cosigned_note": current.note,
            "refused_note": submission.note,
            "old": submission.old,
            "proof": [base64.standard_b64encode(h).decode() for h in submission.proof],
        }
        path = await asyncio.to_thread(self._config.state.keep_evidence, origin, reason, record)
        logger.warning("refused a checkpoint of %s (%s); evidence kept in %s", origin, reason, path)


def create_witness_app(config: WitnessConfig) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    witness = Witness(config)
    app.router.add_post("/add-checkpoint", witness.add_checkpoint)
    return app
