"""`cencomm serve --workers N`: one parent binds the port and supervises N server processes.

The parent binds the listening socket once (so a port in use fails before any child starts) and
starts each child as `python -m cencomm serve` again, with the socket and a lifeline pipe passed
by file descriptor (`--worker-fds LISTEN,LIFELINE`, and its links, below); every child accepts
on the same socket and runs the normal application. The parent itself serves nothing.

- Signals: SIGINT and SIGTERM to the parent are forwarded once, as SIGTERM, to every child, which
  stops gracefully (in-flight requests get `server.shutdown_timeout`, background jobs finish
  their pass). Children run in sessions of their own, so a Ctrl-C in a terminal reaches only the
  parent; a child acts on its first SIGTERM only (a service manager may signal the whole group
  as well). A child still running `KILL_AFTER` seconds past its shutdown timeout is killed.
- A child that exits while nobody asked it to stops the whole set: the parent sends the others
  SIGTERM, waits for them and exits 1, so the service manager (systemd `Restart=on-failure`, a
  container orchestrator) restarts everything with its own backoff. There is no hidden restart
  loop in here that could hide a crash that repeats.
- The lifeline: the parent keeps the write end of one pipe per child and never writes to it. If
  the parent dies, even by SIGKILL, the child reads end-of-file and stops itself gracefully, so
  no orphan keeps serving the port.
- Links (`needs_links`: on SQLite, or without the Redis bus): one socket pair per child after
  the first, child 0 (the hub) holding one end of each (`--worker-fds LISTEN,LIFELINE,hub|spoke,
  FD...`); over them the other children hand their posts to child 0's writer and pass live
  notices (`realtime/links.py`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

from cencomm.exits import EXIT_FAILURE, EXIT_OK, CommandError
from cencomm.settings import Settings

logger = logging.getLogger("cencomm.workers")

# Seconds past `server.shutdown_timeout` (plus the background jobs' grace) before a child that
# has not stopped is killed.
KILL_AFTER = 15.0
# The backlog of the shared socket (aiohttp's default).
BACKLOG = 128


HUB = "hub"
SPOKE = "spoke"


@dataclass(frozen=True, slots=True)
class WorkerFds:
    """What a child inherits: the listening socket, the read end of its lifeline and, when the
    workers are linked, its role and link sockets (`LISTEN,LIFELINE[,hub|spoke,FD...]`)."""

    listen: int
    lifeline: int
    role: str | None = None
    links: tuple[int, ...] = ()

    @classmethod
    def parse(cls, text: str) -> WorkerFds:
        listen, lifeline, *linked = text.split(",")
        if linked and linked[0] not in (HUB, SPOKE):
            raise ValueError(f"unknown worker role {linked[0]!r}")
        role = linked[0] if linked else None
        return cls(int(listen), int(lifeline), role, tuple(int(fd) for fd in linked[1:]))

    def __str__(self) -> str:
        linked = [self.role, *map(str, self.links)] if self.role else []
        return ",".join([str(self.listen), str(self.lifeline), *linked])


def needs_links(settings: Settings) -> bool:
    """Whether the workers talk among themselves over links (`realtime/links.py`): on SQLite
    (every post goes through worker 0's writer) and without a Redis bus (the notices do)."""
    return not settings.database_url.startswith("postgresql") or not settings.bus.url


def bind(host: str, port: int) -> socket.socket:
    """The listening socket every child shares."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.create_server((host, port), family=family, backlog=BACKLOG)
    sock.set_inheritable(True)
    return sock


def supervise(settings: Settings, child_args: Sequence[str]) -> int:
    """Bind, start `server.workers` children (`python -m cencomm CHILD_ARGS serve ...`), and
    wait for them; returns 0 when they stopped because they were asked to, else 1."""
    server = settings.server
    try:
        sock = bind(server.host, server.port)
    except OSError as exc:
        raise CommandError(
            f"cannot listen on {server.host}:{server.port}: {exc.strerror}"
        ) from None
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_r, False)
    os.set_blocking(wake_w, False)
    # Signals only write their number to the wake-up pipe; the loop below does the work.
    previous = {
        signum: signal.signal(signum, _ignore)
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGCHLD)
    }
    previous_fd = signal.set_wakeup_fd(wake_w)
    children: dict[int, _Child] = {}
    # One socket pair per worker after the first: worker 0 (the hub) holds one end of each.
    pairs = (
        [socket.socketpair() for _ in range(server.workers - 1)] if needs_links(settings) else []
    )
    try:
        for index in range(server.workers):
            child = _start(sock, child_args, _links_of(index, pairs))
            children[child.pid] = child
        for pair in pairs:  # the children hold them now; a child's death reads as end-of-file
            for end in pair:
                end.close()
        # The children hold the socket now. Without the parent's copy it closes with the last
        # child, so once they stop new connections are refused (a balancer tries another host)
        # rather than left waiting in a backlog nobody accepts from.
        sock.close()
        pids = ", ".join(str(pid) for pid in children)
        logger.info(
            "%d worker processes serving on http://%s:%d (pids %s)",
            len(children),
            server.host,
            server.port,
            pids,
        )
        return _wait(children, wake_r, server.shutdown_timeout + KILL_AFTER)
    finally:
        for child in children.values():  # only after a failure to start all of them
            _signal(child, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(child.pid, 0)
        signal.set_wakeup_fd(previous_fd)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        os.close(wake_r)
        os.close(wake_w)
        sock.close()
        for pair in pairs:
            for end in pair:
                end.close()


@dataclass(slots=True)
class _Child:
    pid: int
    process: subprocess.Popen[bytes]
    lifeline: int  # the write end, held by the parent until the child has ended


def _ignore(signum: int, frame: object) -> None:
    """A handler that does nothing: the wake-up pipe carries the signal to the loop."""


def _links_of(
    index: int, pairs: list[tuple[socket.socket, socket.socket]]
) -> tuple[str | None, tuple[int, ...]]:
    if not pairs:
        return None, ()
    if index == 0:
        return HUB, tuple(hub_end.fileno() for hub_end, _ in pairs)
    return SPOKE, (pairs[index - 1][1].fileno(),)


def _start(
    sock: socket.socket, child_args: Sequence[str], links: tuple[str | None, tuple[int, ...]]
) -> _Child:
    lifeline_r, lifeline_w = os.pipe()
    fds = WorkerFds(sock.fileno(), lifeline_r, *links)
    argv = [sys.executable, "-m", "cencomm", *child_args, "--worker-fds", str(fds)]
    try:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            argv,
            pass_fds=(fds.listen, fds.lifeline, *fds.links),
            start_new_session=True,  # a terminal's Ctrl-C reaches only the parent
        )
    finally:
        os.close(lifeline_r)
    return _Child(process.pid, process, lifeline_w)


def _wait(children: dict[int, _Child], wake_r: int, kill_after: float) -> int:
    stopping = False
    failed = False
    deadline: float | None = None
    while children:
        timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
        readable, _, _ = select.select([wake_r], [], [], timeout)
        signals = _drain(wake_r) if readable else b""
        for pid, code in _reap(children):
            child = children.pop(pid)
            os.close(child.lifeline)
            if stopping and code in (0, -signal.SIGTERM):
                continue  # asked to stop (a child still starting dies of the signal itself)
            logger.error("worker process %d exited with code %d", pid, code)
            failed = True
            if not stopping:
                logger.error("stopping the other worker processes")
        if not stopping and (failed or {signal.SIGINT, signal.SIGTERM} & set(signals)):
            stopping = True
            deadline = time.monotonic() + kill_after
            for child in children.values():
                _signal(child, signal.SIGTERM)
        if deadline is not None and time.monotonic() >= deadline:
            for child in children.values():
                logger.error("worker process %d did not stop in time: killed", child.pid)
                _signal(child, signal.SIGKILL)
            failed = True
            deadline = None  # the next SIGCHLD reaps them
    return EXIT_FAILURE if failed else EXIT_OK


def _drain(fd: int) -> bytes:
    data = b""
    with contextlib.suppress(BlockingIOError):
        while chunk := os.read(fd, 512):
            data += chunk
    return data


def _reap(children: dict[int, _Child]) -> list[tuple[int, int]]:
    """(pid, exit code) of every child that has ended; a signal's death is -signum."""
    ended = []
    for pid, child in children.items():
        code = child.process.poll()
        if code is not None:
            ended.append((pid, code))
    return ended


def _signal(child: _Child, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(child.pid, signum)


def watch_lifeline(fd: int) -> None:
    """In a child: stop gracefully (SIGTERM to itself) once the parent's end of `fd` closes.

    Call from the running event loop; the reader stays until the process ends.
    """
    import asyncio  # the parent never needs it

    loop = asyncio.get_running_loop()
    os.set_blocking(fd, False)

    def readable() -> None:
        try:
            data = os.read(fd, 1)
        except BlockingIOError:
            return
        if data:
            return  # the parent never writes; ignore anything that is not end-of-file
        loop.remove_reader(fd)
        logger.warning("the supervising process is gone: stopping")
        os.kill(os.getpid(), signal.SIGTERM)

    loop.add_reader(fd, readable)
