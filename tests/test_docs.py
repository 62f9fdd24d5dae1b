"""The docs a user reads first name only commands and options that exist."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from gitassist.cli.main import cli
from tests.conftest import ROOT

DOCS = ["README.md", *sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md"))]
INLINE = re.compile(r"`gitassist ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?([^`]*)`")
IN_CODE = re.compile(r"^\s*(?:\$ )?gitassist ([a-z][a-z-]*)(?: ([a-z][a-z-]*))?(.*)$", re.M)


def command(name: str) -> click.Command | None:
    """The top-level command NAME (its module is imported on first use), or None."""
    return cli.get_command(click.Context(cli), name)


def mentions(text: str) -> set[tuple[str, str, str]]:
    """(command, subcommand of a group or "", option or "") for every mention."""
    found = set()
    inline = INLINE.findall(text)
    in_code = [(n, s, r.split("#")[0]) for n, s, r in IN_CODE.findall(text)]
    for name, word, rest in inline + in_code:
        group = command(name)
        sub = word if isinstance(group, click.Group) else ""
        found.add((name, sub, ""))
        for option in re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", rest):
            found.add((name, sub, option))
    return found


@pytest.mark.parametrize("doc", DOCS)
def test_documented_commands_and_options_exist(doc):
    runner = CliRunner()
    text = (ROOT / doc).read_text(encoding="utf-8")
    items = sorted(mentions(text))
    assert items or doc.endswith(("exit-codes.md",)), f"{doc}: no gitassist command found"
    for name, sub, option in items:
        assert command(name) is not None, f"{doc} mentions `gitassist {name}`, which does not exist"
        path = [name, sub] if sub else [name]
        if sub:
            group = command(name)
            assert isinstance(group, click.Group) and sub in group.commands, (
                f"{doc} mentions `gitassist {name} {sub}`, which does not exist"
            )
        if option:
            help_text = runner.invoke(cli, [*path, "--help"]).output
            assert option in help_text, f"{doc}: `gitassist {' '.join(path)}` has no {option}"


def test_the_check_can_fail():
    assert ("frobnicate", "", "") in mentions("run `gitassist frobnicate`")
    assert ("apply", "", "--nope") in mentions("$ gitassist apply --nope\n")
