"""Shared fixtures: real temporary git repositories, pinned identities, an isolated HOME."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import pytest
from click.testing import CliRunner, Result

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example-repo"
GITASSIST = Path(sys.executable).with_name("gitassist")  # the venv's console script
sys.path.insert(0, str(Path(__file__).resolve().parent))

GRAPH_PY = """
from typing_extensions import TypedDict, NotRequired
from langgraph.graph import StateGraph, START, END
from langgraph.runtime import Runtime


class Context(TypedDict):
    model_name: str
    system_prompt: NotRequired[str]


class State(TypedDict, total=False):
    question: str
    answer: str


def answer(state: State, runtime: Runtime[Context]) -> dict:
    ctx = runtime.context or {}
    prompt = ctx.get("system_prompt", "")
    return {"answer": f"{ctx.get('model_name')}|{prompt}|{state.get('question', '')}"}


builder = StateGraph(State, context_schema=Context)
builder.add_node("answer", answer)
builder.add_edge(START, "answer")
builder.add_edge("answer", END)
graph = builder.compile()
"""

CONTEXT_SCHEMA = {
    "properties": {
        "model_name": {"enum": ["echo", "openai", "anthropic"], "type": "string"},
        "system_prompt": {"type": "string"},
    },
    "required": ["model_name"],
    "type": "object",
}


@pytest.fixture(autouse=True)
def _isolate(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads the user's git config or writes to their HOME."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    for key, value in {
        "GIT_AUTHOR_NAME": "Ada Author",
        "GIT_AUTHOR_EMAIL": "ada@example.com",
        "GIT_COMMITTER_NAME": "Ada Author",
        "GIT_COMMITTER_EMAIL": "ada@example.com",
    }.items():
        monkeypatch.setenv(key, value)
    for key in ("GITHUB_RUN_ID", "CI_PIPELINE_ID", "GITASSIST_REPO"):
        monkeypatch.delenv(key, raising=False)


def git(cwd: Path, *args: str, check: bool = True) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


@dataclass
class Repo:
    """A real git repository in a temp dir, with helpers to write and commit files."""

    path: Path

    def write(self, files: dict[str, str | None]) -> None:
        for rel, text in files.items():
            target = self.path / rel
            if text is None:
                if target.exists():
                    target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")

    def commit(self, files: dict[str, str | None], message: str = "change") -> str:
        self.write(files)
        git(self.path, "add", "-A")
        git(self.path, "commit", "-q", "--allow-empty", "-m", message)
        return git(self.path, "rev-parse", "HEAD")

    def git(self, *args: str, check: bool = True) -> str:
        return git(self.path, *args, check=check)

    def refs(self) -> dict[str, str]:
        text = git(self.path, "for-each-ref", "--format=%(objectname) %(refname)")
        return {name: oid for oid, name in (line.split(" ", 1) for line in text.splitlines())}

    def store(self) -> Any:
        from gitassist.store import Store

        return Store(self.path)

    def client(self) -> Any:
        from gitassist import get_sync_client

        return get_sync_client(repo=self.path)


def doc_yaml(
    assistant_id: str,
    name: str = "Bot",
    graph_id: str = "agent",
    context: dict[str, Any] | None = None,
    **extra: Any,
) -> str:
    data = {
        "assistant_id": assistant_id,
        "graph_id": graph_id,
        "name": name,
        "context": context if context is not None else {"model_name": "echo"},
        **extra,
    }
    return "".join(f"{k}: {json.dumps(v)}\n" for k, v in data.items())


@pytest.fixture
def make_repo(tmp_path: Path) -> Callable[..., Repo]:
    """``make_repo({path: text})``: a git repo on branch main with one commit of those files.

    By default it holds a langgraph.json naming graph ``agent`` (a tiny real graph) and its
    committed context schema.
    """
    counter = iter(range(1000))

    def make(files: dict[str, str | None] | None = None, *, base: bool = True) -> Repo:
        path = tmp_path / f"repo{next(counter)}"
        path.mkdir()
        git(path, "init", "-q", "-b", "main")
        repo = Repo(path)
        start: dict[str, str | None] = {}
        if base:
            start = {
                "langgraph.json": json.dumps(
                    {"dependencies": ["."], "graphs": {"agent": "./graph.py:graph"}}
                ),
                "graph.py": GRAPH_PY,
                "schemas/agent.context.json": json.dumps(CONTEXT_SCHEMA, indent=2),
                ".gitignore": ".gitassist/\n__pycache__/\n",
            }
        start.update(files or {})
        repo.commit(start, "initial")
        return repo

    return make


@pytest.fixture
def example_repo(tmp_path: Path) -> Repo:
    """A git copy of example-repo/."""
    path = tmp_path / "example"
    shutil.copytree(EXAMPLE, path, ignore=shutil.ignore_patterns("__pycache__", ".langgraph_api"))
    git(path, "init", "-q", "-b", "main")
    repo = Repo(path)
    repo.commit({}, "example")
    return repo


class _Main(click.Command):
    """A stand-in command whose ``main`` is gitassist's own ``main()``, for CliRunner."""

    def main(self, args: Any = None, prog_name: str | None = None, **extra: Any) -> Any:
        from gitassist.cli.main import main

        main(list(args or ()))  # always ends in SystemExit, with the code a user would see


CRASH_LOG = re.compile(r"the traceback is in (\S+)")


@pytest.fixture
def cli() -> Callable[..., Result]:
    """Run the CLI in-process through ``gitassist.cli.main.main()``: the exit code is the one
    a user gets (its error-to-code mapping included); on an unexpected one, show the output and,
    for an internal error, the traceback from its crash log."""
    runner = CliRunner()
    command = _Main("gitassist")

    def invoke(*args: str, code: int | None = 0, input: str | None = None) -> Result:
        result = runner.invoke(command, list(args), input=input, prog_name="gitassist")
        assert isinstance(result.exception, SystemExit | None), result.exc_info
        if code is not None and result.exit_code != code:
            crash = CRASH_LOG.search(result.stderr)
            tb = Path(crash.group(1)).read_text(encoding="utf-8") if crash else ""
            raise AssertionError(f"exit {result.exit_code} != {code}\n{result.output}\n{tb}")
        return result

    return invoke


@pytest.fixture
def run_cli(tmp_path: Path) -> Iterator[Callable[..., subprocess.CompletedProcess[str]]]:
    """Run the installed ``gitassist`` console script as a real process (exit codes, stderr).

    Never ``python -m gitassist``: that puts the current directory first on ``sys.path``, so in
    a checkout holding a ``gitassist.py`` it would run that file (docs/security.md)."""

    def run(
        *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        import os

        full_env = {**os.environ, **(env or {})}
        return subprocess.run(
            [str(GITASSIST), *args],
            cwd=cwd or tmp_path,
            capture_output=True,
            text=True,
            env=full_env,
            check=False,
        )

    yield run
