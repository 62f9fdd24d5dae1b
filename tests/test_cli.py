"""The CLI as a user runs it: real processes, exit codes, JSON, help."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gitassist.errors import ExitCode


def test_init_scaffolds_and_commits_only_its_files(tmp_path, run_cli):
    target = tmp_path / "new"
    proc = run_cli("init", str(target))
    assert proc.returncode == 0, proc.stderr
    for rel in (
        "langgraph.json",
        "assistants/.gitkeep",
        "schemas/assistant.schema.json",
        ".gitignore",
    ):
        assert (target / rel).exists()
    log = subprocess.run(
        ["git", "log", "--format=%s"], cwd=target, capture_output=True, text=True, check=True
    ).stdout
    assert log.strip() == "Initialise gitassist repository"
    again = run_cli("init", str(target))
    assert "nothing to do" in again.stdout


def test_init_leaves_staged_work_staged(tmp_path, run_cli):
    target = tmp_path / "existing"
    subprocess.run(["git", "init", "-q", "-b", "main", str(target)], check=True)
    (target / "notes.txt").write_text("mine")
    subprocess.run(["git", "add", "notes.txt"], cwd=target, check=True)
    assert run_cli("init", str(target)).returncode == 0
    committed = subprocess.run(
        ["git", "show", "--name-only", "--format=", "HEAD"],
        cwd=target,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "notes.txt" not in committed and "langgraph.json" in committed
    staged = subprocess.run(
        ["git", "diff", "--cached", "--name-only"],
        cwd=target,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert staged == ["notes.txt"]


def test_versions_of_a_deleted_assistant_mark_none_active(make_repo, run_cli):
    repo = make_repo()
    c = ["-C", str(repo.path)]
    made = run_cli("create", "agent", "--name", "Gone", "--set", "model_name=echo", "--json", *c)
    aid = json.loads(made.stdout)["assistant_id"]
    run_cli("delete", "gone", *c)
    rows = json.loads(run_cli("versions", aid, "--json", *c).stdout)
    assert [r["gitassist"]["active"] for r in rows] == [False]


def test_lifecycle_through_the_cli(make_repo, run_cli):
    repo = make_repo()
    c = ["-C", str(repo.path)]
    made = json.loads(
        run_cli(
            "create", "agent", "--name", "Support bot", "--set", "model_name=echo", "--json", *c
        ).stdout
    )
    aid = made["assistant_id"]
    assert made["version"] == 1 and made["gitassist"]["recorded"] is True
    upd = run_cli("update", "support-bot", "--set", "system_prompt=Be brief.", *c)
    assert "version 2 is active" in upd.stdout
    same = run_cli("update", "support-bot", "--set", "system_prompt=Be brief.", *c)
    assert "nothing changed" in same.stdout
    rows = json.loads(run_cli("versions", "support-bot", "--json", *c).stdout)
    assert [r["version"] for r in rows] == [2, 1]
    assert rows[0]["gitassist"]["active"] is True
    assert rows[0]["gitassist"]["author"] == "Ada Author <ada@example.com>"
    assert "version 1 is active (of 2)" in run_cli("set-latest", "Support bot", "1", *c).stdout
    got = json.loads(run_cli("get", aid, "--json", *c).stdout)
    assert got["version"] == 1 and got["context"] == {"model_name": "echo"}
    shown = run_cli("show", f"{aid}@2", *c).stdout
    assert "system_prompt: Be brief." in shown
    assert "support-bot" in run_cli("list", *c).stdout.replace("Support bot", "support-bot")
    log = json.loads(run_cli("log", "support-bot", "--json", *c).stdout)
    assert [(m["previous"], m["version"]) for m in log] == [(2, 1), (1, 2), (None, 1)]
    deleted = run_cli("delete", "support-bot", *c)
    assert "versions stay readable" in deleted.stdout
    assert run_cli("get", aid, *c).returncode == ExitCode.NOT_FOUND


def test_get_by_graph_id_and_rev(make_repo, run_cli):
    repo = make_repo()
    c = ["-C", str(repo.path)]
    default = json.loads(run_cli("get", "agent", "--json", *c).stdout)
    assert default["assistant_id"] == "fe096781-5601-53d2-b2f6-0d3403f7e9ca"
    run_cli("create", "agent", "--name", "B", "--set", "model_name=echo", *c)
    first = repo.git("rev-parse", "HEAD")
    run_cli("update", "b", "--set", "model_name=openai", *c)
    old = json.loads(run_cli("get", "b", "--rev", first, "--json", *c).stdout)
    assert old["context"] == {"model_name": "echo"}


@pytest.mark.parametrize(
    "command",
    [
        "get",
        "list",
        "versions",
        "show",
        "set-latest",
        "plan",
        "apply",
        "create",
        "update",
        "delete",
        "init",
        "log",
    ],
)
def test_help_teaches(command, run_cli):
    proc = run_cli(command, "--help")
    assert proc.returncode == 0
    assert "Usage: gitassist" in proc.stdout
    assert len(proc.stdout.splitlines()) > 5


def test_get_does_not_import_langgraph(make_repo):
    repo = make_repo()
    code = (
        "import sys\nfrom gitassist.cli.main import main\n"
        "try:\n    main(['get', 'agent', '-C', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
        "assert not [m for m in sys.modules if m.startswith('langgraph')], 'langgraph!'\n"
        "print('clean')"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, str(repo.path)], capture_output=True, text=True, check=False
    )
    assert proc.stdout.strip().endswith("clean"), proc.stderr


def test_bad_json_option_is_a_usage_error(make_repo, run_cli):
    repo = make_repo()
    proc = run_cli("create", "agent", "--context", "{not json: [", "-C", str(repo.path))
    assert proc.returncode == ExitCode.USAGE
    assert "Traceback" not in proc.stderr


def test_no_arguments_shows_help(run_cli):
    proc = run_cli()
    assert "Manage LangGraph assistants as YAML files in git" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


def test_init_starter_graph_runs_and_matches_the_example(tmp_path, run_cli):
    from tests.conftest import EXAMPLE, ROOT

    templates = ROOT / "gitassist" / "templates"
    assert (templates / "agent_graph.py.txt").read_text() == (
        EXAMPLE / "graphs" / "agent.py"
    ).read_text(), "template drifted from example-repo"
    assert (templates / "agent.context.json").read_text() == (
        EXAMPLE / "schemas" / "agent.context.json"
    ).read_text()
    target = tmp_path / "fresh"
    assert run_cli("init", str(target)).returncode == 0
    c = ["-C", str(target)]
    assert (
        run_cli(
            "create",
            "agent",
            "--name",
            "Bot",
            "--set",
            "model_name=echo",
            "--set",
            "system_prompt=Starter.",
            *c,
        ).returncode
        == 0
    )
    proc = run_cli("run", "bot", "--input", '{"messages": [{"role": "user", "content": "hi"}]}', *c)
    assert proc.returncode == 0, proc.stderr
    assert "(system: Starter.)" in proc.stdout
    assert run_cli("schemas", "check", *c).returncode == 0
