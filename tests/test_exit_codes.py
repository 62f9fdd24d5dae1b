"""The exit codes are one list: ``ExitCode``, ``docs/exit-codes.md`` and ``gitassist --help``
agree, and the in-process ``cli`` fixture gets them from ``main()`` as a user does."""

from __future__ import annotations

import json
import re
from typing import Any

from gitassist.errors import ExitCode
from tests.conftest import ROOT


def enum_codes() -> dict[str, int]:
    return {k: v for k, v in vars(ExitCode).items() if k.isupper() and isinstance(v, int)}


def documented_codes() -> dict[str, int]:
    text = (ROOT / "docs" / "exit-codes.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| ([A-Z_]+) \|", text, re.M)
    return {name: int(code) for code, name in rows}


def help_codes(help_text: str) -> list[int]:
    block = help_text[help_text.index("Exit codes:") :].split("\n\n", maxsplit=1)[0]
    return [int(n) for n in re.findall(r"(?<![\w-])(\d+)\s+[a-z]", block)]


def test_enum_docs_and_help_agree(cli: Any) -> None:
    codes = enum_codes()
    assert len(codes) >= 10
    assert documented_codes() == codes
    in_help = help_codes(cli("--help").output)
    assert sorted(in_help) == sorted(codes.values()), in_help
    assert len(in_help) == len(set(in_help))


def test_the_agreement_check_can_fail() -> None:
    assert help_codes("Exit codes: 0 ok, 2 usage,\n9 oops.\n\nmore 4 things") == [0, 2, 9]
    assert help_codes("Exit codes: 1 changes (--exit-code), 70 bug.") == [1, 70]


def test_cli_fixture_reports_errors_as_main_does(make_repo: Any, cli: Any) -> None:
    repo = make_repo()
    missing = cli("get", "Nobody", "-C", str(repo.path), code=ExitCode.NOT_FOUND)
    assert missing.stderr.startswith("error: ") and missing.stdout == ""
    as_json = cli("get", "Nobody", "-C", str(repo.path), "--json", code=ExitCode.NOT_FOUND)
    assert json.loads(as_json.stderr)["error"]
    cli("get", "--no-such-option", code=ExitCode.USAGE)
