"""The same scenario against a real ``langgraph dev`` (the oracle) and against gitassist.

Results are normalised (ids, timestamps) and compared step by step; a step named after an
entry of ``gitassist.sdk_compat.DIFFERENCES`` is an intended difference and is not compared.
``docs/sdk-compat.md`` must list exactly those differences.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scenario
from lgserver import start_server, write_tiny_project

from gitassist.sdk_compat import DIFFERENCES

ROOT = Path(__file__).resolve().parents[2]


def _project(path: Path) -> Path:
    write_tiny_project(path)
    (path / "graphs" / "hitl.py").write_text(scenario.HITL_PY, encoding="utf-8")
    (path / "langgraph.json").write_text(
        json.dumps(
            {
                "dependencies": ["."],
                "graphs": {"agent": "./graphs/agent.py:graph", "hitl": "./graphs/hitl.py:graph"},
            }
        ),
        encoding="utf-8",
    )
    return path


def _git_repo(path: Path) -> Path:
    _project(path)
    (path / ".gitignore").write_text(".gitassist/\n__pycache__/\n", encoding="utf-8")
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-q", "-m", "project"],
    ):
        subprocess.run(["git", *args], cwd=path, check=True, capture_output=True)
    return path


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[str, Any]]]:
    from langgraph_sdk import get_sync_client as sdk_client

    import gitassist

    base = tmp_path_factory.mktemp("conformance")
    with start_server(_project(base / "server"), log_path=base / "server.log") as server:
        oracle = scenario.run(sdk_client(url=server.url, api_key=None))
    with gitassist.get_sync_client(repo=_git_repo(base / "repo")) as client:
        ours = scenario.run(client)
    return {"server": oracle, "gitassist": ours}


@pytest.mark.server
def test_gitassist_answers_as_the_server(results):
    server, ours = dict(results["server"]), dict(results["gitassist"])
    assert list(server) == list(ours)
    assert len(server) >= 40
    mismatches = [
        f"{name}:\n  server:    {server[name]!r}\n  gitassist: {ours[name]!r}"
        for name in server
        if name not in scenario.INTENDED and server[name] != ours[name]
    ]
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.server
def test_intended_differences_do_differ(results):
    """A listed difference that the server no longer shows should leave the list."""
    server, ours = dict(results["server"]), dict(results["gitassist"])
    for name in scenario.INTENDED & set(server):
        assert server[name] != ours[name], f"{name} is listed as a difference but matches"


def test_docs_table_lists_the_differences():
    text = (ROOT / "docs" / "sdk-compat.md").read_text(encoding="utf-8")
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.startswith("| `")
    ]
    documented = {re.sub(r"`", "", row[0]): row for row in rows}
    assert set(documented) == {d.key for d in DIFFERENCES}
    for d in DIFFERENCES:
        assert documented[d.key][1:] == [d.call, d.server, d.gitassist, d.reason], d.key
