"""A CLI that teaches: examples in every --help, shell completion of commands, assistants and
versions (without importing langgraph), and git's -C DIR before the subcommand."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import uuid

import click
import pytest
from click.testing import CliRunner

from gitassist.cli.main import cli as root
from tests.conftest import doc_yaml


def every_command(group: click.Group, path: tuple[str, ...] = ()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from every_command(command, (*path, name))


COMMANDS = list(every_command(root))


def examples(help_text: str, path: tuple[str, ...]) -> list[str]:
    """The example lines of a help text that run this very command."""
    lines = help_text.split("Examples:", 1)[1].splitlines() if "Examples:" in help_text else []
    prefix = "gitassist " + " ".join(path)
    return [line.strip() for line in lines if line.strip().startswith(prefix)]


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=" ".join)
def test_every_help_has_examples_of_that_command(path):
    result = CliRunner().invoke(root, [*path, "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    found = examples(result.output, path)
    assert found, f"`gitassist {' '.join(path)} --help` has no Examples: block running it"
    command = dict(COMMANDS)[path]
    options = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
    for line in found:
        command_line = re.split(r"  |[<>]|&&", line)[0]  # two spaces start a comment
        for word in shlex.split(command_line, comments=True):
            if word.startswith("-") and word != "-":
                assert word.split("=")[0] in options, f"{line!r}: {word} is no option of it"


def test_the_examples_check_can_fail():
    assert examples("Usage: ...\n\n  Do things.\n", ("get",)) == []
    assert examples("Examples:\n  gitassist list\n", ("get",)) == []


def test_main_help_lists_completion():
    assert "completion" in CliRunner().invoke(root, ["--help"]).output


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_click_scripts(shell):
    result = CliRunner().invoke(root, ["completion", shell])
    assert result.exit_code == 0
    assert "_GITASSIST_COMPLETE" in result.output
    assert f"{shell}_complete" in result.output


def complete(cwd, words: str, shell: str = "bash") -> tuple[list[str], bool]:
    """Run the real process in click's completion protocol; (values, langgraph imported)."""
    probe = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('LANGGRAPH', 'langgraph' in sys.modules, file=sys.stderr))\n"
        "from gitassist.cli.main import main\n"
        "main()\n"
    )
    cword = len(shlex.split(words)) - (0 if words.endswith(" ") else 1)
    env = {
        **os.environ,
        "_GITASSIST_COMPLETE": f"{shell}_complete",
        "COMP_WORDS": words,
        "COMP_CWORD": str(cword),
    }
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    values = [line.split(",", 1)[1] for line in proc.stdout.splitlines() if "," in line]
    return values, "LANGGRAPH True" in proc.stderr


def test_completion_of_commands_assistants_and_versions(make_repo, cli, tmp_path):
    repo = make_repo({"assistants/support.yaml": doc_yaml(str(uuid.uuid4()), name="Support")})
    cli("apply", "--repo", str(repo.path))
    doc = repo.path / "assistants/support.yaml"
    repo.commit({"assistants/support.yaml": doc.read_text().replace("Support", "Support 2")})
    cli("apply", "--repo", str(repo.path))

    values, _ = complete(repo.path, "gitassist set")
    assert values == ["set-latest"]
    values, imported = complete(repo.path, "gitassist get ")
    assert values == ["support", "agent"]  # file stems, then graph ids (default assistants)
    assert not imported
    values, imported = complete(repo.path, "gitassist versions sup")
    assert values == ["support"]
    values, imported = complete(repo.path, "gitassist show support@")
    assert values == ["support@latest", "support@2", "support@1"]
    assert not imported
    # from elsewhere: -C before the subcommand (as git), and --repo after it
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert complete(elsewhere, f"gitassist -C {repo.path} log s")[0] == ["support"]
    assert complete(elsewhere, f"gitassist set-latest --repo {repo.path} s")[0] == ["support"]
    # outside any repository: nothing, and no error
    assert complete(elsewhere, "gitassist get ")[0] == []


def test_dash_c_before_the_subcommand(make_repo, tmp_path):
    repo = make_repo({"assistants/support.yaml": doc_yaml(str(uuid.uuid4()), name="Support")})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gitassist", *args],
            cwd=elsewhere,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    before = run("-C", str(repo.path), "validate")
    assert before.returncode == 0, before.stderr
    assert re.search(r"1 document\(s\) valid", before.stdout)
    after = run("validate", "-C", str(repo.path))  # after the subcommand, as before
    assert after.stdout == before.stdout
    # relative paths after -C are taken from DIR, as in git
    relative = run("-C", str(repo.path), "validate", "assistants/support.yaml")
    assert relative.returncode == 0, relative.stderr
    missing = run("-C", str(tmp_path / "nope"), "validate")
    assert missing.returncode == 2
    assert "nope" in missing.stderr
