"""Working-tree reads and writes stay inside the repository (issue 10, item 1; docs/security.md).

Each fixture is a real repository with a real symlink (or a directory setting) pointing at a
file outside it that holds a planted marker. Every test checks the exit code, a one-line error
naming the file, that the marker appears in no output, and that the repository (refs, index,
work tree) and the outside folder are as they were.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from gitassist.errors import ExitCode
from tests.conftest import CONTEXT_SCHEMA, doc_yaml

A = "00000000-0000-4000-8000-0000000000c1"
MARKER = "OUTSIDEmarker7f3a"
SECRET_DOC = (
    f"assistant_id: {MARKER}\ngraph_id: {MARKER}-graph\nname: {MARKER}\n"
    f"context: {{{MARKER}key: {MARKER}value}}\n"
)


def state(repo: Any, outside: Path) -> tuple[str, ...]:
    files = sorted(
        f"{p.relative_to(outside)}:{p.read_bytes()!r}" for p in outside.rglob("*") if p.is_file()
    )
    return (
        repo.git("for-each-ref"),
        repo.git("status", "--porcelain", "--untracked-files=all"),
        repo.git("ls-files", "-s"),
        "\n".join(files),
    )


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.yaml").write_text(SECRET_DOC, encoding="utf-8")
    (folder / "schema.json").write_text(
        json.dumps({"properties": {f"{MARKER}key": {"const": f"{MARKER}value"}}}), "utf-8"
    )
    (folder / "langgraph.json").write_text(
        json.dumps({"graphs": {f"{MARKER}": "./graph.py:graph"}}), encoding="utf-8"
    )
    (folder / "gitassist.yaml").write_text(f"branch: {MARKER}\n", encoding="utf-8")
    return folder


@pytest.fixture
def repo(make_repo: Any) -> Any:
    return make_repo({"assistants/bot.yaml": doc_yaml(A)})


def refused_or_skipped(result: Any, name: str) -> None:
    """A symlinked document is refused by name (exit 3), or skipped with a warning naming it:
    either way nothing behind the link is read."""
    assert MARKER not in result.stdout + result.stderr
    assert name in result.stderr, result.stderr
    assert result.exit_code in (0, ExitCode.INVALID), result.output
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


def error_line(result: Any, name: str) -> str:
    """The one error line (hints aside); it names ``name``; no marker anywhere."""
    assert MARKER not in result.stdout + result.stderr
    lines = [
        line for line in result.stderr.splitlines() if not line.startswith(("hint: ", "warning: "))
    ]
    assert len(lines) == 1, result.stderr
    assert name in lines[0], lines[0]
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    return str(lines[0])


REVIEW = [
    ["validate"],
    ["validate", "--format", "github"],
    ["validate", "--json"],
]


def link(path: Path, target: Path) -> None:
    if path.exists() or path.is_symlink():
        if path.is_dir() and not path.is_symlink():
            for child in path.iterdir():
                child.unlink()
            path.rmdir()
        else:
            path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(target)


@pytest.mark.parametrize("args", REVIEW)
def test_a_symlinked_document_is_refused(repo: Any, outside: Path, cli: Any, args: Any) -> None:
    link(repo.path / "assistants/x.yaml", outside / "secret.yaml")
    before = state(repo, outside)
    result = cli(*args, "-C", str(repo.path), code=None)
    refused_or_skipped(result, "assistants/x.yaml")
    if result.exit_code and "--json" in args:
        assert json.loads(result.stderr)["file"] == "assistants/x.yaml"
    elif result.exit_code:
        assert "symbolic link" in error_line(result, "assistants/x.yaml")
    assert state(repo, outside) == before


def test_a_symlinked_document_named_on_the_command_line_is_refused(
    repo: Any, outside: Path, cli: Any
) -> None:
    link(repo.path / "assistants/x.yaml", outside / "secret.yaml")
    before = state(repo, outside)
    for path in ("assistants/x.yaml", str(repo.path / "assistants/x.yaml")):
        result = cli("validate", "-C", str(repo.path), path, code=ExitCode.INVALID)
        error_line(result, "assistants/x.yaml")
    assert state(repo, outside) == before


def test_a_symlink_inside_the_tree_is_not_a_document_either(repo: Any, cli: Any) -> None:
    """What is committed is the link's text, not the file: validate does not read through it."""
    link(repo.path / "assistants/copy.yaml", repo.path / "assistants/bot.yaml")
    result = cli("validate", "-C", str(repo.path), code=None)
    refused_or_skipped(result, "assistants/copy.yaml")


def test_a_committed_symlink_is_only_its_link_text_at_a_revision(
    repo: Any, outside: Path, cli: Any
) -> None:
    link(repo.path / "assistants/x.yaml", outside / "secret.yaml")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "link")
    before = state(repo, outside)
    for args in (["validate", "--rev", "HEAD"], ["diff", "HEAD~1", "HEAD"]):
        result = cli(*args, "-C", str(repo.path), code=None)
        assert result.exit_code in (0, 1, ExitCode.INVALID), result.output
        assert MARKER not in result.stdout + result.stderr
    assert state(repo, outside) == before


@pytest.mark.parametrize("args", REVIEW)
def test_a_symlinked_assistants_folder_is_refused(
    make_repo: Any, outside: Path, cli: Any, args: Any
) -> None:
    repo = make_repo()
    link(repo.path / "assistants", outside)
    before = state(repo, outside)
    result = cli(*args, "-C", str(repo.path), code=ExitCode.INVALID)
    if "--json" not in args:
        error_line(result, "assistants")
    assert MARKER not in result.stdout + result.stderr
    assert state(repo, outside) == before


@pytest.mark.parametrize("command", ["create", "delete"])
def test_writes_never_go_through_a_symlinked_assistants_folder(
    make_repo: Any, outside: Path, cli: Any, command: str
) -> None:
    repo = make_repo()
    if command == "delete":  # a committed document whose folder is then swapped for a link
        repo = make_repo({"assistants/bot.yaml": doc_yaml(A)})
        cli("apply", "-C", str(repo.path))
        (outside / "bot.yaml").write_text(doc_yaml(A), encoding="utf-8")
    link(repo.path / "assistants", outside)
    before = state(repo, outside)
    if command == "create":
        args = ["create", "agent", "--name", "New", "--set", "model_name=echo"]
    else:
        args = ["delete", A]
    result = cli(*args, "-C", str(repo.path), code=None)
    assert result.exit_code in (ExitCode.INVALID, ExitCode.REPOSITORY), result.output
    assert MARKER not in result.stdout + result.stderr
    assert state(repo, outside) == before
    assert (repo.path / "assistants").is_symlink()


def test_a_symlinked_schema_file_is_refused(repo: Any, outside: Path, cli: Any) -> None:
    link(repo.path / "schemas/agent.context.json", outside / "schema.json")
    before = state(repo, outside)
    for args in REVIEW[:2]:
        result = cli(*args, "-C", str(repo.path), code=ExitCode.INVALID)
        error_line(result, "schemas/agent.context.json")
    assert state(repo, outside) == before
    # writes check against the committed schema (the tree), which holds no link
    result = cli("create", "agent", "-C", str(repo.path), "--set", "model_name=echo")
    assert MARKER not in result.stdout + result.stderr


def test_schemas_export_does_not_write_through_a_symlinked_schema(
    repo: Any, outside: Path, cli: Any
) -> None:
    link(repo.path / "schemas/agent.context.json", outside / "schema.json")
    before = state(repo, outside)
    for args in (["schemas", "export"], ["schemas", "check"]):
        result = cli(*args, "-C", str(repo.path), code=ExitCode.INVALID)
        error_line(result, "schemas/agent.context.json")
    assert state(repo, outside) == before


@pytest.mark.parametrize("name", ["langgraph.json", "gitassist.yaml"])
def test_a_symlinked_configuration_file_is_refused(
    repo: Any, outside: Path, cli: Any, name: str
) -> None:
    link(repo.path / name, outside / name)
    before = state(repo, outside)
    for args in (*REVIEW[:2], ["create", "agent", "--set", "model_name=echo"]):
        result = cli(*args, "-C", str(repo.path), code=ExitCode.INVALID)
        error_line(result, name)
    assert state(repo, outside) == before


@pytest.mark.parametrize("key", ["assistants_dir", "schemas_dir"])
@pytest.mark.parametrize(
    "value", ["../outside", "/abs/outside", "ok/../../outside", "..", "/", "..\\x", "C:/x"]
)
def test_folder_settings_stay_inside_the_repository(
    make_repo: Any, outside: Path, cli: Any, key: str, value: str
) -> None:
    repo = make_repo({"gitassist.yaml": f"# settings\n{key}: {json.dumps(value)}\n"})
    # the folder the setting would reach, relative to the repository (tmp/outside)
    (repo.path.parent / "outside").mkdir(exist_ok=True)
    before = state(repo, outside)
    for args in (*REVIEW[:2], ["create", "agent", "--set", "model_name=echo"]):
        result = cli(*args, "-C", str(repo.path), code=ExitCode.INVALID)
        line = error_line(result, f"gitassist.yaml:2:{len(key) + 3}")
        assert key in line
    assert state(repo, outside) == before


def test_plain_folder_settings_still_work(make_repo: Any, cli: Any) -> None:
    repo = make_repo(
        {
            "gitassist.yaml": "assistants_dir: config/assistants/\nschemas_dir: ./schemas2\n",
            "config/assistants/bot.yaml": doc_yaml(A),
            "schemas2/agent.context.json": json.dumps(CONTEXT_SCHEMA),
        }
    )
    cli("validate", "-C", str(repo.path))
    cli("create", "agent", "--name", "Two", "--set", "model_name=echo", "-C", str(repo.path))
    assert (repo.path / "config/assistants/two.yaml").is_file()


def test_a_fifo_is_not_read(repo: Any, cli: Any) -> None:
    """A named pipe in the assistants folder would block a read forever: refused by name."""
    os.mkfifo(repo.path / "assistants/pipe.yaml")
    result = cli("validate", "-C", str(repo.path), code=None)
    # not a regular file: not listed as a document, and never opened
    assert result.exit_code == 0, result.output


def test_the_worktree_helper_refuses_paths_that_leave() -> None:
    from gitassist.errors import UnsafePath
    from gitassist.worktree import read_bytes

    root = Path("/")
    for rel in ("../etc/passwd", "/etc/passwd", "a/../../etc/passwd", "..", "a/\x00"):
        with pytest.raises(UnsafePath):
            read_bytes(root / "tmp", rel)
    assert read_bytes(root / "tmp", "no\\such:file") is None  # legal POSIX names


SHADOW = """
import pathlib
pathlib.Path({marker!r}).write_text("the checkout's own gitassist.py ran")
"""


def test_the_console_script_never_runs_a_checkouts_gitassist_py(
    repo: Any, tmp_path: Path, run_cli: Any
) -> None:
    """``python -m gitassist`` in an untrusted checkout imports its ``gitassist.py`` (the
    current directory is first on sys.path); the console script does not."""
    import subprocess
    import sys

    marker = tmp_path / "shadow-ran"
    (repo.path / "gitassist.py").write_text(SHADOW.format(marker=str(marker)), "utf-8")
    result = run_cli("validate", cwd=repo.path)
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    # python -P (no unsafe sys.path entry) is the safe way to use -m
    subprocess.run([sys.executable, "-P", "-m", "gitassist", "validate"], cwd=repo.path, check=True)
    assert not marker.exists()
    # the threat is real: plain -m runs the planted file
    subprocess.run([sys.executable, "-m", "gitassist", "validate"], cwd=repo.path, check=False)
    assert marker.exists()


def test_init_does_not_read_or_extend_a_symlinked_gitignore(
    tmp_path: Path, outside: Path, cli: Any
) -> None:
    target = tmp_path / "fresh"
    target.mkdir()
    link(target / ".gitignore", outside / "secret.yaml")
    before = (outside / "secret.yaml").read_bytes()
    result = cli("init", str(target), code=ExitCode.INVALID)
    error_line(result, ".gitignore")
    assert (outside / "secret.yaml").read_bytes() == before
    assert not (target / ".git").exists()  # refused before anything was made
