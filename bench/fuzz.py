"""API fuzzing with schemathesis against our own `/api/openapi.json` (issue 18).

A real server process on a scratch database, a user of every role, and for each role and each
mode (positive data, negative data, then the stateful create-then-use flows that the document's
links describe) one `schemathesis run` with the role's bearer token and a fixed seed. Every run
must find nothing: no 5xx, no answer outside its documented status and schema, every invalid
input refused with a 4xx, no valid-by-the-document request refused.

    .venv/bin/python -m bench.fuzz --requests 25000            # the long form (SQLite)
    .venv/bin/python -m bench.fuzz --database-url postgresql+asyncpg://...

`tests/fuzz/` runs the same thing, bounded, in the suite.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bench.common import PASSWORD, ServerProcess, free_port, migrate, scratch_env

ROLES = ("admin", "moderator", "analyst", "officer", "observer")
# `mode` is schemathesis' --mode (positive, negative, or all: both), except "stateful": its
# stateful phase alone (the links), with valid data.
MODES = ("positive", "negative", "stateful")
CHECKS = (
    "not_a_server_error",
    "response_schema_conformance",
    "status_code_conformance",
    "content_type_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
)
# Logging out would end the session the run is authenticated with; it has no input to fuzz.
# The WebSocket (`/api/v1/ws`) needs an upgrade handshake, which the fuzzer does not make (its
# frames are fuzzed by tests/web/test_ws.py).
EXCLUDED_PATHS = ("/api/v1/auth/logout", "/api/v1/ws")
# A body too large for the server is refused with 413: a rightful refusal of invalid data.
CONFIG = """
[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
"""
ROOT = Path(__file__).resolve().parent.parent
SEED = 18


@dataclass(frozen=True, slots=True)
class Run:
    """One `schemathesis run`: which role, which mode, what it sent and what it found."""

    role: str
    mode: str
    requests: int
    failures: list[str]
    server_errors: int
    exit_code: int
    seconds: float
    output: str = field(repr=False)


@dataclass(slots=True)
class Fuzzer:
    """A server under test, with the organisation of each role."""

    base: str
    env: dict[str, str]
    organizations: dict[str, str]
    workdir: Path
    runs: int = 0

    async def token(self, role: str) -> str:
        """The access token of a new user of `role` (tokens live 15 minutes at most, and a user
        may not outlive an administrator's run: one user per run)."""
        self.runs += 1
        username = f"fuzz.{role}.{self.runs}"
        await new_user(self.env, self.organizations[role], role, username)
        async with (
            aiohttp.ClientSession(self.base) as http,
            http.post(
                "/api/v1/auth/login", json={"username": username, "password": PASSWORD}
            ) as resp,
        ):
            assert resp.status == 200, await resp.text()
            token: str = (await resp.json())["access_token"]
            return token

    async def run(self, role: str, mode: str, max_examples: int, phases: str | None = None) -> Run:
        """One `schemathesis run` as `role`; `phases` narrows the stateless phases (examples,
        coverage, fuzzing: all by default)."""
        token = await self.token(role)
        name = f"{role}-{mode}"
        report = self.workdir / f"{name}.json"
        config = self.workdir / "schemathesis.toml"
        config.write_text(CONFIG)
        argv = [
            sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run",
            f"{self.base}/api/openapi.json",
            "--header", f"Authorization: Bearer {token}",
            "--checks", ",".join(CHECKS),
            "--seed", str(SEED),
            "--generation-deterministic",
            "--max-examples", str(max_examples),
            "--workers", "1",
            "--no-color",
            "--suppress-health-check", "all",
            "--report", "json", "--report-json-path", str(report),
        ]  # fmt: skip
        for path in EXCLUDED_PATHS:
            argv += ["--exclude-path", path]
        if mode == "stateful":
            argv += ["--phases", phases or "stateful", "--mode", "positive"]
        else:
            argv += ["--phases", phases or "examples,coverage,fuzzing", "--mode", mode]
        before = await served(self.base)
        started = time.perf_counter()
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            cwd=self.workdir,
            env={
                **os.environ,
                "SCHEMATHESIS_HOOKS": "bench.fuzz_hooks",
                "PYTHONPATH": str(ROOT),
            },
        )
        out, _ = await proc.communicate()
        seconds = time.perf_counter() - started
        assert proc.returncode is not None
        after = await served(self.base)
        # What the server answered during the run (the metrics scrapes themselves excluded).
        requests = after[0] - before[0] - 1
        server_errors = after[1] - before[1]
        failures = read_report(report)
        return Run(
            role, mode, requests, failures, server_errors, proc.returncode, seconds,
            out.decode(errors="replace"),
        )  # fmt: skip


def read_report(path: Path) -> list[str]:
    """The distinct failures of a run, from schemathesis' JSON report."""
    if not path.exists():
        return ["schemathesis wrote no report"]
    report = json.loads(path.read_text())
    found = [
        f"{group['code']} {group['title']} x{group['count']}: {', '.join(group['operations'])}"
        for group in report.get("failures", [])
    ]
    found += [f"error {group['title']} x{group['count']}" for group in report.get("errors", [])]
    return found


async def served(base: str) -> tuple[int, int]:
    """(requests answered, of which 5xx) so far, from the server's own metrics."""
    total = errors = 0
    async with aiohttp.ClientSession(base) as http, http.get("/metrics") as resp:
        text = await resp.text()
    for line in text.splitlines():
        if line.startswith("cencomm_http_requests_total{"):
            labels, value = line.rsplit(" ", 1)
            total += int(float(value))
            if 'status="5' in labels:
                errors += int(float(value))
    return total, errors


@asynccontextmanager
async def _services(env: dict[str, str]) -> AsyncIterator[Any]:
    """The services of an app on the server's database, in this process (for seeding)."""
    from aiohttp import web

    from cencomm.app import create_app
    from cencomm.appkeys import SERVICES
    from cencomm.settings import load_settings

    app = create_app(load_settings(environ=env))
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        yield app[SERVICES]
    finally:
        await runner.cleanup()


async def seed_organizations(env: dict[str, str]) -> dict[str, str]:
    """An organisation of the kind of every role, and an active group that admits them all (so
    that their users' reads have something to find): {role: organisation id}."""
    from cencomm.domain.groups import GroupChanges, GroupRole, GroupStatus, NewGroup
    from cencomm.domain.ids import SessionId
    from cencomm.domain.users import Caller, OrganizationKind, Principal, Region, Role
    from cencomm.services.directory import NewUser

    kinds = {
        Role.ADMIN: OrganizationKind.SECRETARIAT,
        Role.MODERATOR: OrganizationKind.SECRETARIAT,
        Role.ANALYST: OrganizationKind.RILO,
        Role.OFFICER: OrganizationKind.ADMINISTRATION,
        Role.OBSERVER: OrganizationKind.PARTNER,
    }
    async with _services(env) as services:
        system = Caller.system()
        orgs = {}
        for role, kind in kinds.items():
            orgs[role] = await services.directory.create_organization(
                system, f"Fuzz {role.value}", kind, "FR", Region.EUROPE
            )
        owner = await services.directory.create_user(
            system,
            NewUser("fuzz.owner", "Owner", orgs[Role.MODERATOR].id, Role.MODERATOR, PASSWORD),
        )
        moderator = Caller(
            Principal(owner.id, owner.organization_id, Role.MODERATOR, SessionId(uuid.uuid4()))
        )
        group = await services.groups.create_group(moderator, NewGroup("FUZZ", "Fuzz"))
        for role, as_ in (
            (Role.ANALYST, GroupRole.MEMBER),
            (Role.OFFICER, GroupRole.MEMBER),
            (Role.OBSERVER, GroupRole.OBSERVER),
        ):
            await services.groups.add_member(
                moderator, group.id, as_, organization_id=orgs[role].id
            )
        await services.groups.update_group(
            moderator, group.id, GroupChanges(status=GroupStatus.ACTIVE)
        )
        return {role.value: str(org.id) for role, org in orgs.items()}


async def new_user(env: dict[str, str], organization_id: str, role: str, username: str) -> None:
    """A user of `role` for one run: an administrator's run may disable, demote or re-key any
    user it finds (as it may), so no run reuses another's user."""
    from cencomm.domain.ids import OrganizationId
    from cencomm.domain.users import Caller, Role
    from cencomm.services.directory import NewUser

    async with _services(env) as services:
        await services.directory.create_user(
            Caller.system(),
            NewUser(
                username,
                username,
                OrganizationId(uuid.UUID(organization_id)),
                Role(role),
                PASSWORD,
            ),
        )


@asynccontextmanager
async def fuzz_server(workdir: Path, database_url: str | None) -> AsyncIterator[Fuzzer]:
    """A migrated scratch database with the roles, and a server process on it."""
    env = scratch_env(workdir, database_url)
    # The login throttle would answer 429 to most of the fuzzed logins: documented, but it would
    # also refuse the runs' own logins once the fuzzer has failed enough of them.
    env["CENCOMM_AUTH_MAX_FAILURES_PER_ADDRESS"] = "1000000"
    await migrate(env)
    organizations = await seed_organizations(env)
    port = free_port()
    server = await ServerProcess.cencomm(env, port).start()
    try:
        yield Fuzzer(f"http://127.0.0.1:{port}", env, organizations, workdir)
    finally:
        await server.stop()


async def fuzz(
    database_url: str | None,
    requests: int,
    roles: tuple[str, ...] = ROLES,
    modes: tuple[str, ...] = MODES,
    progress: Callable[[Run], None] = lambda _: None,
    examples: int = 20,
) -> list[Run]:
    """Runs for every role and mode until about `requests` requests were sent in all."""
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="cencomm-fuzz-") as tmp:
        async with fuzz_server(Path(tmp), database_url) as fuzzer:
            # A first pass over every role and mode; then more, with as many examples as the
            # first pass says the remaining requests need, stopping once enough were sent.
            while True:
                for role in roles:
                    for mode in modes:
                        run = await fuzzer.run(role, mode, examples)
                        runs.append(run)
                        progress(run)
                        every = len(runs) >= len(roles) * len(modes)
                        if every and sum(r.requests for r in runs) >= requests:
                            return runs
                sent = sum(r.requests for r in runs)
                per_example = max(sent / (examples * len(runs)), 1e-3)
                examples = max(1, math.ceil((requests - sent) / (per_example * len(runs))))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__)
    parser.add_argument("--requests", type=int, default=25_000)
    parser.add_argument("--database-url", default=None, help="default: a scratch SQLite file")
    parser.add_argument("--role", action="append", choices=ROLES)
    parser.add_argument("--mode", action="append", choices=MODES)
    parser.add_argument("--examples", type=int, default=20, help="per operation, first pass")
    parser.add_argument("--json", type=Path, help="write the runs here")
    args = parser.parse_args()

    def show(run: Run) -> None:
        print(
            f"{run.role:9} {run.mode:8} {run.requests:6} requests {run.seconds:6.1f} s "
            f"5xx {run.server_errors} failures {len(run.failures)} exit {run.exit_code}",
            flush=True,
        )
        for failure in run.failures:
            print(f"    {failure}", flush=True)
        if run.exit_code not in (0, 1):
            print(run.output[-3000:], flush=True)

    runs = asyncio.run(
        fuzz(
            args.database_url,
            args.requests,
            tuple(args.role or ROLES),
            tuple(args.mode or MODES),
            show,
            args.examples,
        )
    )
    total = sum(r.requests for r in runs)
    bad = [f for r in runs for f in r.failures]
    print(f"total {total} requests, 5xx {sum(r.server_errors for r in runs)}, failures {len(bad)}")
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "role": r.role,
                        "mode": r.mode,
                        "requests": r.requests,
                        "server_errors": r.server_errors,
                        "failures": r.failures,
                        "exit_code": r.exit_code,
                        "seconds": round(r.seconds, 1),
                    }
                    for r in runs
                ],
                indent=2,
            )
        )
    sys.exit(1 if bad or any(r.exit_code for r in runs) else 0)


if __name__ == "__main__":
    main()
