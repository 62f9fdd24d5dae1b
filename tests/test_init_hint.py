"""In a git repository that is not a gitassist project yet (no langgraph.json), every error
that comes from that says how to start: run `gitassist init` (or pass --repo)."""

from __future__ import annotations

import json

import pytest

from gitassist.errors import ExitCode
from gitassist.project import INIT_HINT
from tests.conftest import git


@pytest.fixture
def bare_git(tmp_path):
    path = tmp_path / "plain"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    return path


@pytest.fixture
def committed(tmp_path):
    path = tmp_path / "committed"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "README.md").write_text("hello\n", encoding="utf-8")
    git(path, "add", "README.md")
    git(path, "commit", "-qm", "readme")
    return path


CASES = [
    (("create", "agent", "--name", "Bot"), ExitCode.NOT_FOUND),
    (("get", "Bot"), ExitCode.NOT_FOUND),
    (("update", "Bot", "--name", "New"), ExitCode.NOT_FOUND),
    (("run", "agent", "--input", "{}"), ExitCode.NOT_FOUND),
    (("versions", "Bot"), ExitCode.NOT_FOUND),
]


@pytest.mark.parametrize("where", ["bare_git", "committed"])
@pytest.mark.parametrize(("args", "code"), CASES)
def test_not_a_project_yet_hints_at_init(request, cli, where, args, code):
    path = request.getfixturevalue(where)
    result = cli(*args, "-C", str(path), code=code)
    assert result.stderr.strip().splitlines()[-1] == f"hint: {INIT_HINT}", result.stderr
    data = json.loads(cli(*args, "--json", "-C", str(path), code=code).stderr)
    assert data["hint"] == INIT_HINT


def test_plan_in_an_empty_repository_hints_at_init(bare_git, cli):
    result = cli("plan", "-C", str(bare_git), code=ExitCode.REPOSITORY)
    assert f"hint: {INIT_HINT}" in result.stderr


def test_a_project_keeps_its_own_hints(make_repo, cli):
    repo = make_repo()
    result = cli("create", "nope", "-C", str(repo.path), code=ExitCode.NOT_FOUND)
    assert "langgraph.json has: agent" in result.stderr and "gitassist init" not in result.stderr
    result = cli("get", "nobody", "-C", str(repo.path), code=ExitCode.NOT_FOUND)
    assert "`gitassist list` shows them" in result.stderr
