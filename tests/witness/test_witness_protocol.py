"""`cencomm witness serve`, a real process, spoken to as c2sp.org/tlog-witness says a log does."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
from collections.abc import Iterator

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from cencomm.crypto.merkle import MemorySubtreeSource, consistency_proof, range_hash
from tests.client.shell import RUN_ONCE
from tests.witness import c2sp_note
from tests.witness.witnesses import WitnessProcess, start_witness

pytestmark = RUN_ONCE

LOG_KEY = Ed25519PrivateKey.generate()
LOG_PUBLIC = LOG_KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
ORIGINS = [f"log.test/{name}" for name in ("grow", "fork", "same", "bad")]


class Log:
    """A toy log: leaf hashes in memory, checkpoints signed as signed notes by LOG_KEY."""

    def __init__(self, origin: str, seed: bytes = b"") -> None:
        self.origin = origin
        self.seed = seed
        self.leaves: list[bytes] = []

    def grow(self, count: int) -> None:
        for _ in range(count):
            n = len(self.leaves)
            self.leaves.append(hashlib.sha256(b"\x00" + self.seed + str(n).encode()).digest())

    def root(self, size: int) -> bytes:
        return range_hash(MemorySubtreeSource(self.leaves[:size]), 0, size)

    def note(self, size: int, key: Ed25519PrivateKey = LOG_KEY) -> str:
        text = f"{self.origin}\n{size}\n{base64.b64encode(self.root(size)).decode()}\n"
        public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        hint = struct.pack(">I", c2sp_note.key_hash(self.origin, 0x01, public))
        blob = base64.b64encode(hint + key.sign(text.encode())).decode()
        return f"{text}\n\u2014 {self.origin} {blob}\n"

    def proof(self, old: int, new: int) -> list[bytes]:
        if old == 0:
            return []
        return consistency_proof(MemorySubtreeSource(self.leaves[:new]), old, new)


def body(old: int, proof: list[bytes], note: str) -> bytes:
    lines = [f"old {old}\n"] + [base64.b64encode(h).decode() + "\n" for h in proof]
    return ("".join(lines) + "\n" + note).encode()


@pytest.fixture(scope="module")
def witness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WitnessProcess]:
    logs = [c2sp_note.vkey(origin, 0x01, LOG_PUBLIC) for origin in ORIGINS]
    process = start_witness(tmp_path_factory.mktemp("witness"), "witness.test/w1", logs)
    yield process
    process.stop()


async def add(witness: WitnessProcess, payload: bytes) -> tuple[int, str, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{witness.url}/add-checkpoint", data=payload) as resp,
    ):
        return resp.status, resp.content_type, await resp.text()


def evidence(witness: WitnessProcess) -> list[dict[str, object]]:
    return [json.loads(p.read_text()) for p in sorted((witness.state / "evidence").iterdir())]


def cosigned(witness: WitnessProcess, note: str, answer: str) -> int | None:
    name, _, public = c2sp_note.public_of_vkey(witness.vkey)
    return c2sp_note.cosignature_time(c2sp_note.parse(note + answer), name, public)


async def test_a_log_grows_and_every_extension_is_cosigned(witness: WitnessProcess) -> None:
    log = Log(ORIGINS[0])
    log.grow(5)
    status, _, answer = await add(witness, body(0, [], log.note(5)))
    assert status == 200
    assert answer.startswith("\u2014 witness.test/w1 ") and answer.endswith("\n")
    assert cosigned(witness, log.note(5), answer) is not None
    log.grow(6)
    status, _, answer = await add(witness, body(5, log.proof(5, 11), log.note(11)))
    assert status == 200
    assert cosigned(witness, log.note(11), answer) is not None
    # The same checkpoint again: cosigned again (same size, same root).
    status, _, answer = await add(witness, body(11, [], log.note(11)))
    assert status == 200
    # A log that lost track asks from 0: the witness names its size.
    status, content_type, answer = await add(witness, body(0, [], log.note(11)))
    assert (status, content_type, answer) == (409, "text/x.tlog.size", "11\n")


async def test_a_forked_log_is_refused_and_the_evidence_kept(witness: WitnessProcess) -> None:
    honest, forked = Log(ORIGINS[1]), Log(ORIGINS[1], seed=b"fork")
    honest.grow(4)
    forked.grow(9)
    assert (await add(witness, body(0, [], honest.note(4))))[0] == 200
    status, _, _ = await add(witness, body(4, forked.proof(4, 9), forked.note(9)))
    assert status == 422
    [kept] = evidence_for(witness, ORIGINS[1])
    assert kept["reason"] == "not a consistent extension"
    assert kept["cosigned_note"] == honest.note(4)
    assert kept["refused_note"] == forked.note(9)
    assert kept["proof"] == [base64.b64encode(h).decode() for h in forked.proof(4, 9)]
    # The witness still stands by the honest log.
    honest.grow(5)
    assert (await add(witness, body(4, honest.proof(4, 9), honest.note(9))))[0] == 200


async def test_another_root_at_the_same_size_is_a_conflict(witness: WitnessProcess) -> None:
    honest, forked = Log(ORIGINS[2]), Log(ORIGINS[2], seed=b"other")
    honest.grow(3)
    forked.grow(3)
    assert (await add(witness, body(0, [], honest.note(3))))[0] == 200
    status, _, _ = await add(witness, body(3, [], forked.note(3)))
    assert status == 409
    [kept] = evidence_for(witness, ORIGINS[2])
    assert kept["reason"] == "another root at the same size"


def evidence_for(witness: WitnessProcess, origin: str) -> list[dict[str, object]]:
    return [e for e in evidence(witness) if e["origin"] == origin]


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"old 01\n\n", 400),
        (b"hello", 400),
        (b"old 0\n!!!\n\n", 400),
        (b"old 0\n" + b"\xff\n\n", 400),
    ],
)
async def test_malformed_requests_are_refused(
    witness: WitnessProcess, payload: bytes, status: int
) -> None:
    assert (await add(witness, payload))[0] == status


async def test_unknown_logs_bad_signatures_and_bad_sizes(witness: WitnessProcess) -> None:
    stranger = Log("log.test/unknown")
    stranger.grow(2)
    assert (await add(witness, body(0, [], stranger.note(2))))[0] == 404
    log = Log(ORIGINS[3])
    log.grow(2)
    forged = log.note(2, key=Ed25519PrivateKey.generate())
    assert (await add(witness, body(0, [], forged)))[0] == 403
    assert (await add(witness, body(3, [], log.note(2))))[0] == 400
    # A proof where none belongs (from size 0).
    assert (await add(witness, body(0, [bytes(32)], log.note(2))))[0] == 422
    assert not evidence_for(witness, ORIGINS[3])
