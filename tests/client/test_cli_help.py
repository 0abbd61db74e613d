"""Every `cencomm client` action, nested ones included, shows an example in its `--help`,
and the alert deadlines parse as documented (no server, no process)."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from cencomm.cli import _parser
from cencomm.client.cli_alerts import parse_when
from cencomm.client.cli_support import UsageError


def _actions(
    parser: argparse.ArgumentParser, path: str
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield f"{path} {name}", child
                yield from _actions(child, f"{path} {name}")


def test_every_client_action_has_an_example_and_takes_json() -> None:
    [client] = [c for name, c in _actions(_parser(), "cencomm") if name == "cencomm client"]
    found = dict(_actions(client, "client"))
    for name in ("client alerts raise", "client alerts board", "client analytics",
                 "client seizures-csv", "client report", "client audit prove",
                 "client audit consistency", "client tree-head"):  # fmt: skip
        assert name in found, name
    for name, parser in found.items():
        assert parser.epilog and parser.epilog.startswith("example:\n  cencomm client"), name
        assert any("--json" in action.option_strings for action in parser._actions), name


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90s", 90), ("90m", 5400), ("48h", 172800), ("2d", 172800), ("1w", 604800),
     ("1d12h", 129600), ("2030-01-01T00:00Z", 1893456000 - 1000),
     ("2030-01-01T00:00:00", 1893456000 - 1000), ("2030-01-01T01:00+01:00", 1893456000 - 1000)],
)  # fmt: skip
def test_deadlines_are_date_times_or_durations(text: str, seconds: int) -> None:
    assert parse_when(text, "--respond-by", now=1000) == 1000 + seconds


@pytest.mark.parametrize(
    ("text", "words"),
    [("48x", "expected an ISO date-time"), ("h", "expected"), ("", "expected"),
     ("0h", "longer than 0"), ("1999-12-31T00:00Z", "not in the future"), ("-5m", "expected")],
)  # fmt: skip
def test_bad_deadlines_are_usage_errors(text: str, words: str) -> None:
    with pytest.raises(UsageError, match=words):
        parse_when(text, "--expires-at", now=1_000_000_000)
