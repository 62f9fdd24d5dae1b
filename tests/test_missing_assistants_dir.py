"""An ``assistants_dir`` set in gitassist.yaml that does not exist is an error (exit 3, the
setting's file:line:col) for validate, diff and plan/apply, not "0 document(s) valid"; the
default folder may be absent (a fresh repository)."""

from __future__ import annotations

import json

import pytest

from gitassist.errors import ExitCode
from tests.conftest import doc_yaml

AID = "6f1c1c3e-0000-4000-8000-0000000000d1"
CONFIG = "# settings\nassistants_dir: asistants\n"  # a typo: the documents are in assistants/


@pytest.fixture
def typo_repo(make_repo):
    return make_repo({"assistants/bot.yaml": doc_yaml(AID), "gitassist.yaml": CONFIG})


@pytest.mark.parametrize(
    "args",
    [("validate",), ("validate", "--rev", "HEAD"), ("diff", "HEAD"), ("plan",), ("apply",)],
)
def test_a_configured_assistants_dir_that_is_missing_is_invalid(typo_repo, cli, args):
    before = typo_repo.refs(), typo_repo.git("status", "--porcelain")
    result = cli(*args, "-C", str(typo_repo.path), code=ExitCode.INVALID)
    lines = result.stderr.strip().splitlines()
    assert lines[0] == ("error: gitassist.yaml:2:17: assistants_dir 'asistants' does not exist"), (
        result.stderr
    )
    assert lines[1].startswith("hint: fix assistants_dir in gitassist.yaml")
    assert (typo_repo.refs(), typo_repo.git("status", "--porcelain")) == before


def test_the_error_is_json_with_its_location(typo_repo, cli):
    result = cli("validate", "--format", "json", "-C", str(typo_repo.path), code=3)
    data = json.loads(result.stderr)
    assert (data["file"], data["line"], data["column"]) == ("gitassist.yaml", 2, 17)


def test_the_default_folder_may_be_missing(make_repo, cli):
    repo = make_repo()
    assert "0 document(s) valid" in cli("validate", "-C", str(repo.path)).output
    cli("plan", "-C", str(repo.path))


def test_init_then_create_then_validate_still_work(tmp_path, cli):
    cli("init", str(tmp_path / "fresh"))
    cli("validate", "-C", str(tmp_path / "fresh"))
    cli("create", "agent", "--name", "Bot", "-C", str(tmp_path / "fresh"))
    assert "1 document(s) valid" in cli("validate", "-C", str(tmp_path / "fresh")).output


def test_a_configured_folder_that_exists_is_fine(make_repo, cli):
    repo = make_repo({"bots/bot.yaml": doc_yaml(AID), "gitassist.yaml": "assistants_dir: bots\n"})
    assert "1 document(s) valid" in cli("validate", "-C", str(repo.path)).output
