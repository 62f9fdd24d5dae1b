"""User errors that used to end in exit 70 or be misread (issue: "User errors that end in exit
70 today"): each is a one-line error with its documented code, and changes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gitassist.errors import ExitCode
from tests.conftest import doc_yaml

A = "00000000-0000-4000-8000-0000000000a1"


def state(repo: Any) -> tuple[str, str, str]:
    return (
        repo.git("for-each-ref"),
        repo.git("status", "--porcelain", "--untracked-files=all"),
        repo.git("ls-files", "-s"),
    )


@pytest.fixture
def bot(make_repo: Any, cli: Any) -> Any:
    repo = make_repo({"assistants/bot.yaml": doc_yaml(A, context={"model_name": "echo"})})
    cli("apply", "-C", str(repo.path))
    return repo


def one_error_line(result: Any) -> str:
    lines = [line for line in result.stderr.splitlines() if not line.startswith("hint: ")]
    assert len(lines) == 1, result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    return str(lines[0])


@pytest.mark.parametrize("version", ["²", "١", "１", "٣", "1" * 5000, "1.0", "-1"])
def test_a_version_is_ascii_digits_only(bot: Any, cli: Any, version: str) -> None:
    before = state(bot)
    for command in ("get", "show"):
        result = cli(command, f"Bot@{version}", "-C", str(bot.path), code=ExitCode.NOT_FOUND)
        assert "version must be a positive number" in one_error_line(result)
    assert state(bot) == before


@pytest.mark.parametrize(
    "args",
    [
        ["set-latest", "Bot", "١"],
        ["set-latest", "Bot", "²"],
        ["versions", "Bot", "--limit", "٣"],
        ["list", "--limit", "１０"],
        ["versions", "diff", "Bot", "1", "١"],
    ],
)
def test_numeric_options_are_ascii_digits_only(bot: Any, cli: Any, args: list[str]) -> None:
    before = state(bot)
    result = cli(*args, "-C", str(bot.path), code=ExitCode.USAGE)
    assert "ASCII digits" in result.stderr
    assert state(bot) == before


def test_ascii_versions_still_work(bot: Any, cli: Any) -> None:
    assert json.loads(cli("get", "Bot@1", "-C", str(bot.path), "--json").stdout)["version"] == 1
    assert json.loads(cli("get", "Bot@01", "-C", str(bot.path), "--json").stdout)["version"] == 1
    cli("set-latest", "Bot", "1", "-C", str(bot.path))
    cli("list", "--limit", " 5", "-C", str(bot.path))


def test_a_very_long_name_gets_a_bounded_file_name(make_repo: Any, cli: Any) -> None:
    repo = make_repo()
    name = "A very long assistant name " * 12  # 324 characters
    ctx = ("--context", '{"model_name": "echo"}')
    made = cli("create", "agent", "--name", name, *ctx, "-C", str(repo.path), "--json")
    data = json.loads(made.stdout)
    assert data["name"].strip() == name.strip()
    [path] = [p for p in (repo.path / "assistants").iterdir() if p.suffix == ".yaml"]
    assert len(path.stem) <= 64 and path.stem.startswith("a-very-long-assistant-name")
    assert not path.stem.endswith("-")
    got = json.loads(cli("get", data["assistant_id"], "-C", str(repo.path), "--json").stdout)
    assert got["name"] == data["name"]
    # a second one with the same long name gets its own file
    cli("create", "agent", "--name", name, *ctx, "-C", str(repo.path))
    stems = sorted(p.stem for p in (repo.path / "assistants").iterdir())
    assert len(stems) == 2 and stems[1] == stems[0] + "-2"


@pytest.mark.parametrize("value", ["null", "~", "1", '"text"', "[1]"])
def test_run_input_that_is_not_an_object_is_a_usage_error(
    bot: Any, cli: Any, value: str, tmp_path: Any
) -> None:
    before = state(bot)
    result = cli("run", "Bot", "--input", value, "--repo", str(bot.path), code=ExitCode.USAGE)
    assert "must be a JSON object" in result.stderr
    assert result.stdout == ""  # nothing ran
    assert state(bot) == before


def test_diff_numbers_an_unapplied_commit_on_the_tracked_branch_as_apply_does(
    bot: Any, cli: Any
) -> None:
    path = str(bot.path)
    bot.commit({"assistants/bot.yaml": doc_yaml(A, context={"model_name": "openai"})}, "two")
    bot.commit({"assistants/bot.yaml": doc_yaml(A, context={"model_name": "anthropic"})}, "three")

    def becomes(*revs: str) -> int:
        data = json.loads(cli("diff", "-C", path, *revs, "--format", "json").stdout)
        [change] = data["assistants"]
        return int(change["version"])

    # HEAD~2 is applied (version 1); HEAD~1 and HEAD are not
    assert becomes("HEAD~1", "HEAD") == 3  # HEAD~1 records 2 first
    assert becomes("HEAD~2", "HEAD~1") == 2
    assert "becomes version 3" in cli("diff", "-C", path, "HEAD~1", "HEAD").stdout
    cli("apply", "-C", path)
    got = json.loads(cli("get", "Bot", "-C", path, "--json").stdout)
    assert (got["version"], got["context"]["model_name"]) == (3, "anthropic")
    got = json.loads(cli("get", "Bot@2", "-C", path, "--json").stdout)
    assert got["context"]["model_name"] == "openai"
