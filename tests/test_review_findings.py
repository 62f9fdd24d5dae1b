"""Regressions from a hands-on review of the CLI: each test is one thing a clumsy user or an
attacker did, with the exit code, the message and the repository left as it was."""

from __future__ import annotations

import json
import stat
import uuid

from gitassist.errors import ExitCode
from tests.conftest import doc_yaml

KEY = "sk-proj-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcd"


def snapshot(repo) -> tuple:
    return (repo.refs(), repo.git("status", "--porcelain"), repo.git("rev-parse", "HEAD"))


def test_review_commands_redact_with_git_style_dash_c(make_repo, run_cli):
    """`gitassist -C DIR diff …` (how the GitHub Action calls it) redacts as `diff …` does."""
    repo = make_repo()
    plain = run_cli("diff", KEY, cwd=repo.path)
    dash_c = run_cli("-C", str(repo.path), "diff", KEY)
    assert plain.returncode == dash_c.returncode == ExitCode.NOT_FOUND
    assert KEY not in plain.stderr
    assert KEY not in dash_c.stderr, dash_c.stderr
    assert "«redacted»" in dash_c.stderr


def test_push_refused_by_a_remote_hook_is_a_remote_error_not_a_lost_race(
    make_repo, run_cli, tmp_path
):
    """A pre-receive hook (branch protection) saying no is exit 8 with the hook's words, not
    exit 5 'another apply won the race' (which a CI retry loop would retry for ever)."""
    repo = make_repo({"assistants/a.yaml": doc_yaml(str(uuid.uuid4()))})
    assert run_cli("apply", "-C", str(repo.path)).returncode == 0
    remote = tmp_path / "remote.git"
    repo.git("init", "-q", "--bare", str(remote))
    hook = remote / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'policy: refs are protected' >&2\nexit 1\n")
    hook.chmod(hook.stat().st_mode | stat.S_IXUSR)
    repo.git("remote", "add", "origin", str(remote))
    before = snapshot(repo)
    proc = run_cli("push", "origin", "--json", "-C", str(repo.path))
    assert proc.returncode == ExitCode.REMOTE, proc.stderr
    error = json.loads(proc.stderr)
    assert error["error"] == "remote"
    assert "refused the push" in error["message"] and "hook declined" in error["message"]
    assert "policy: refs are protected" in error["hint"]
    assert snapshot(repo) == before
    assert repo.git("ls-remote", str(remote)) == ""


def test_fetch_from_a_missing_remote_says_why(make_repo, run_cli):
    repo = make_repo()
    proc = run_cli("fetch", "nowhere", "-C", str(repo.path))
    assert proc.returncode == ExitCode.REMOTE
    assert "does not appear to be a git repository" in proc.stderr, proc.stderr
    assert "and the repository exists." not in proc.stderr


def test_non_utf8_config_files_are_invalid_config_not_a_crash(make_repo, run_cli):
    repo = make_repo()
    before = snapshot(repo)
    (repo.path / "gitassist.yaml").write_bytes(b"\xff\xfebranch: main\n")
    for args in (["list"], ["validate"], ["create", "agent", "--name", "X"]):
        proc = run_cli(*args, "--json", "-C", str(repo.path))
        assert proc.returncode == ExitCode.INVALID, proc.stderr
        error = json.loads(proc.stderr)
        assert error["error"] == "invalid_config" and error["file"] == "gitassist.yaml"
        assert "not UTF-8" in error["message"]
    (repo.path / "gitassist.yaml").unlink()
    assert snapshot(repo) == before
    # committed in history (a hostile pull request): diff over it is exit 3, not exit 70
    repo.commit({"langgraph.json": None}, "drop")
    (repo.path / "langgraph.json").write_bytes(b'{"graphs": {}}\xff')
    repo.commit({}, "bad bytes")
    proc = run_cli("diff", "HEAD~1", "HEAD", "-C", str(repo.path))
    assert proc.returncode == ExitCode.INVALID, proc.stderr
    assert "langgraph.json: not UTF-8 text" in proc.stderr


def test_usage_errors_are_json_with_json(make_repo, run_cli):
    repo = make_repo()
    for args in (["get", "--bogus"], ["list", "--limit", "-1"], ["update", "x", "--set", "nokv"]):
        proc = run_cli(*args, "--json", "-C", str(repo.path))
        assert proc.returncode == ExitCode.USAGE
        error = json.loads(proc.stderr)
        assert error["error"] == "usage" and error["message"]
        assert error["hint"].startswith(f"see `gitassist {args[0]} --help`")
    proc = run_cli("get", "--bogus", "-C", str(repo.path))
    assert proc.returncode == ExitCode.USAGE and "Usage: gitassist get" in proc.stderr


def test_client_set_latest_with_a_string_version_is_a_422_not_a_bad_ref(make_repo):
    aid = str(uuid.uuid4())
    repo = make_repo({"assistants/a.yaml": doc_yaml(aid)})
    client = repo.client()
    client.assistants.update(aid, context={"model_name": "openai"})
    before = snapshot(repo)
    for version in ("1", True, 1.0):
        try:
            client.assistants.set_latest(aid, version)
        except Exception as exc:  # the SDK error class: e.response.status_code
            assert exc.response.status_code == 422, exc
            assert "version must be an integer" in str(exc)
        else:
            raise AssertionError(f"set_latest({version!r}) was accepted")
    assert snapshot(repo) == before


def test_init_then_create_warns_about_nothing(tmp_path, run_cli):
    """The quick start: `init` makes assistants/.gitkeep; no command warns about it."""
    target = tmp_path / "fresh"
    assert run_cli("init", str(target)).returncode == 0
    proc = run_cli("-C", str(target), "create", "agent", "--name", "Support bot")
    assert proc.returncode == 0, proc.stderr
    assert "warning" not in proc.stderr
    for args in (["validate"], ["diff", "HEAD~1"], ["plan"]):
        proc = run_cli("-C", str(target), *args)
        assert proc.returncode == 0 and ".gitkeep" not in proc.stderr, proc.stderr
    (target / "assistants" / "notes.txt").write_text("x")
    proc = run_cli("-C", str(target), "validate")
    assert "assistants/notes.txt" in proc.stderr and ".gitkeep" not in proc.stderr


def test_a_file_name_cannot_print_a_workflow_command_line(make_repo, run_cli):
    """`validate --format github` (the Action's step) escapes annotations; the warning about
    files that are not documents must not print a hostile name's newline either."""
    repo = make_repo()
    repo.commit({"assistants/x\n::error file=README.md::pwned\n.txt": "x"}, "hostile name")
    before = snapshot(repo)
    proc = run_cli("validate", "--format", "github", "-C", str(repo.path))
    assert proc.returncode == 0, proc.stderr
    lines = (proc.stdout + proc.stderr).splitlines()
    assert not any(line.startswith("::error") for line in lines), lines
    assert "assistants/x\\n::error file=README.md::pwned\\n.txt" in proc.stderr
    assert snapshot(repo) == before


def test_a_run_without_input_is_a_usage_error_not_the_graphs_fault(make_repo, run_cli):
    """`gitassist run Bot` (no --input) or `--input -` with an empty stdin: exit 2 before
    anything runs, not exit 7 'the graph failed' (EmptyInputError from LangGraph)."""
    repo = make_repo({"assistants/a.yaml": doc_yaml(str(uuid.uuid4()))})
    before = snapshot(repo)
    for args in (["run", "Bot"], ["run", "Bot", "--input", "-"]):
        proc = run_cli(*args, "--json", "-C", str(repo.path))
        assert proc.returncode == ExitCode.USAGE, proc.stderr
        assert "a new run needs --input" in json.loads(proc.stderr)["message"]
    assert snapshot(repo) == before
    assert not (repo.path / ".gitassist" / "threads.sqlite").exists()
