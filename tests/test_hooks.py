"""The repository's pre-commit and commit-msg hooks run for gitassist's branch commits
(issue 10, item 6; docs/security.md "Hooks"). Real hook scripts in real repositories."""

from __future__ import annotations

import json
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gitassist.errors import ExitCode
from tests.conftest import doc_yaml

A = "00000000-0000-4000-8000-0000000000d1"
SCANNER = """#!/bin/sh
# a secret scanner: fails when the staged content holds the marker
git diff --cached --name-only > "{log}"
if git diff --cached | grep -q FORBIDDEN; then
  echo "secret scanner: FORBIDDEN found in staged content"
  exit 1
fi
"""
REWRITE_MSG = """#!/bin/sh
printf '[ticket-7] %s\\n' "$(cat "$1")" > "$1.new" && mv "$1.new" "$1"
"""
TOUCHES_FILE = """#!/bin/sh
echo "# reformatted" >> graph.py
"""
FAILS = """#!/bin/sh
echo "hook says no"
exit 1
"""


def install(repo: Any, name: str, script: str, folder: str = ".git/hooks") -> Path:
    path = repo.path / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(script, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def state(repo: Any) -> tuple[str, str, str]:
    return (
        repo.git("for-each-ref"),
        repo.git("status", "--porcelain", "--untracked-files=all"),
        repo.git("ls-files", "-s"),
    )


@pytest.fixture
def repo(make_repo: Any, cli: Any) -> Any:
    repo = make_repo({"assistants/bot.yaml": doc_yaml(A)})
    cli("apply", "-C", str(repo.path))
    return repo


def create_args(repo: Any, prompt: str, *extra: str) -> list[str]:
    return [
        "create",
        "agent",
        "--name",
        "New",
        "--set",
        "model_name=echo",
        "--set",
        f"system_prompt={prompt}",
        "-C",
        str(repo.path),
        *extra,
    ]


def test_pre_commit_sees_the_new_content_and_can_refuse(
    repo: Any, cli: Any, tmp_path: Path
) -> None:
    log = tmp_path / "staged.txt"
    install(repo, "pre-commit", SCANNER.format(log=log))
    before = state(repo)
    result = cli(*create_args(repo, "FORBIDDEN value"), code=ExitCode.INVALID)
    assert "pre-commit hook refused the commit" in result.stderr
    assert "secret scanner: FORBIDDEN found in staged content" in result.stderr
    assert state(repo) == before
    # the hook ran on the new tree (not the user's index, which holds no new file)
    assert "assistants/new.yaml" in log.read_text()
    # clean content passes the same hook
    cli(*create_args(repo, "fine"))
    assert repo.git("log", "-1", "--format=%s").startswith("Create assistant 'New'")


def test_pre_commit_does_not_see_the_users_staged_work(repo: Any, cli: Any, tmp_path: Path) -> None:
    log = tmp_path / "staged.txt"
    install(repo, "pre-commit", SCANNER.format(log=log))
    repo.write({"notes.txt": "FORBIDDEN but only staged, not committed by gitassist\n"})
    repo.git("add", "notes.txt")
    cli(*create_args(repo, "fine"))
    assert "notes.txt" not in log.read_text()
    assert "A  notes.txt" in repo.git("status", "--porcelain")  # still staged, untouched


def test_no_verify_skips_the_hooks(repo: Any, cli: Any) -> None:
    install(repo, "pre-commit", FAILS)
    install(repo, "commit-msg", FAILS)
    cli(*create_args(repo, "FORBIDDEN", "--no-verify"))
    cli("update", "new", "--set", "system_prompt=x", "-n", "-C", str(repo.path))
    cli("delete", "new", "--no-verify", "-C", str(repo.path))


@pytest.mark.parametrize("hook", ["pre-commit", "commit-msg"])
def test_update_and_delete_run_the_hooks(repo: Any, cli: Any, hook: str) -> None:
    install(repo, hook, FAILS)
    before = state(repo)
    for args in (["update", A, "--set", "system_prompt=x"], ["delete", A]):
        result = cli(*args, "-C", str(repo.path), code=ExitCode.INVALID)
        assert f"the {hook} hook refused the commit (exit 1)" in result.stderr
        assert "hook says no" in result.stderr
        assert state(repo) == before


def test_commit_msg_rewrites_the_message(repo: Any, cli: Any) -> None:
    install(repo, "commit-msg", REWRITE_MSG)
    cli(*create_args(repo, "fine", "-m", "Add the new bot"))
    assert repo.git("log", "-1", "--format=%B") == "[ticket-7] Add the new bot"


def test_a_hook_that_changes_a_file_aborts(repo: Any, cli: Any) -> None:
    install(repo, "pre-commit", TOUCHES_FILE)
    refs = repo.git("for-each-ref")
    result = cli(*create_args(repo, "fine"), code=ExitCode.INVALID)
    assert "the pre-commit hook changed graph.py" in result.stderr
    assert repo.git("for-each-ref") == refs
    assert not (repo.path / "assistants/new.yaml").exists()


def test_core_hooks_path_is_respected(repo: Any, cli: Any) -> None:
    install(repo, "pre-commit", FAILS, folder=".githooks")
    repo.git("config", "core.hooksPath", ".githooks")
    result = cli(*create_args(repo, "fine"), code=ExitCode.INVALID)
    assert "hook says no" in result.stderr
    # the default folder is not used once core.hooksPath is set
    repo.git("config", "core.hooksPath", "elsewhere")
    install(repo, "pre-commit", FAILS)
    cli(*create_args(repo, "fine"))


def test_pointer_and_record_commits_run_no_hook(repo: Any, cli: Any) -> None:
    cli("update", A, "--set", "system_prompt=two", "-C", str(repo.path))
    install(repo, "pre-commit", FAILS)
    install(repo, "commit-msg", FAILS)
    cli("set-latest", A, "1", "-C", str(repo.path))  # a pointer commit
    repo.write({"assistants/bot.yaml": doc_yaml(A, name="Edited")})
    repo.git("commit", "-qam", "edit by hand", "--no-verify")
    cli("apply", "-C", str(repo.path))  # version and apply-record commits


def test_the_hook_failure_is_json_with_its_output(repo: Any, cli: Any) -> None:
    install(repo, "pre-commit", FAILS)
    result = cli(*create_args(repo, "fine", "--json"), code=ExitCode.INVALID)
    data = json.loads(result.stderr)
    assert data["error"] == "hook_failed"
    assert data["output"] == ["hook says no"]


def test_the_python_client_runs_the_hooks(repo: Any) -> None:
    from gitassist.errors import HookFailed

    install(repo, "pre-commit", FAILS)
    client = repo.client()
    with pytest.raises(HookFailed):
        client.assistants.create(graph_id="agent", context={"model_name": "echo"})


def test_without_hooks_no_process_is_started(
    repo: Any, cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cost of "no hook installed" is a stat per hook name: no process at all."""
    import os

    started: list[Any] = []
    real_stat = os.stat
    hook_stats: list[str] = []

    def no_process(*args: Any, **kwargs: Any) -> Any:
        started.append(args)
        raise AssertionError("a process was started")

    def counting_stat(path: Any, *args: Any, **kwargs: Any) -> Any:
        if f"{os.sep}hooks{os.sep}" in str(path):
            hook_stats.append(str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", no_process)
    monkeypatch.setattr(os, "stat", counting_stat)
    cli(*create_args(repo, "fine"))
    assert started == []
    assert sorted(Path(p).name for p in hook_stats) == ["commit-msg", "pre-commit"]


def test_a_non_executable_hook_is_ignored_with_a_warning(repo: Any, cli: Any) -> None:
    path = install(repo, "pre-commit", FAILS)
    path.chmod(0o644)
    result = cli(*create_args(repo, "fine"))
    assert "not executable" in result.stderr


def test_a_linked_worktree_uses_the_shared_hooks(repo: Any, cli: Any, tmp_path: Path) -> None:
    install(repo, "pre-commit", FAILS)
    linked = tmp_path / "linked"
    repo.git("worktree", "add", "-q", "-b", "feature", str(linked))
    args = ["create", "agent", "--name", "W", "--set", "model_name=echo", "-C", str(linked)]
    result = cli(*args, code=ExitCode.INVALID)
    assert "hook says no" in result.stderr
    cli(*args, "--no-verify")
