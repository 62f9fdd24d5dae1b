"""``langgraph.json`` ``env`` reaches a run as ``langgraph dev`` applies it (server as oracle).

The same project (a graph that reads variables at import and while running) runs under
``gitassist run``, under the Python client and under a real ``langgraph dev``, with the same
process environment; all must see the same values. Values never show in gitassist's output.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from conftest import Repo

ENV_GRAPH = """
import os
from typing_extensions import TypedDict
from langgraph.graph import StateGraph, START, END

AT_IMPORT = os.environ.get("GA_AT_IMPORT", "-")


class State(TypedDict, total=False):
    question: str
    answer: str


def answer(state: State) -> dict:
    seen = [AT_IMPORT] + [os.environ.get(k, "-") for k in ("GA_MODEL", "GA_GONE", "GA_KEEP")]
    return {"answer": "|".join(seen)}


builder = StateGraph(State)
builder.add_node("answer", answer)
builder.add_edge(START, "answer")
builder.add_edge("answer", END)
graph = builder.compile()
"""

SECRET = "sk-test-0123456789abcdefSECRET"
DOTENV = f"""# a .env as people write them
export GA_MODEL="from-file"
GA_AT_IMPORT=${{GA_MODEL}}-at-import
GA_GONE
GA_SECRET='{SECRET}'
"""
MAPPING = {"GA_MODEL": "from-map", "GA_AT_IMPORT": "map-import", "GA_SECRET": SECRET}
#: the process environment every run starts from
PROCESS = {"GA_MODEL": "from-process", "GA_GONE": "present", "GA_KEEP": "kept"}
#: what the graph sees: the file's values win over the process's; a bare NAME unsets NAME
EXPECTED = {
    "file": "from-file-at-import|from-file|-|kept",
    "mapping": "map-import|from-map|present|kept",
}
NAMES = {
    "file": ["GA_AT_IMPORT", "GA_GONE", "GA_MODEL", "GA_SECRET"],
    "mapping": ["GA_AT_IMPORT", "GA_MODEL", "GA_SECRET"],
}


def _project(form: str) -> dict[str, str | None]:
    env: Any = ".env" if form == "file" else MAPPING
    files: dict[str, str | None] = {
        "langgraph.json": json.dumps(
            {"dependencies": ["."], "graphs": {"agent": "./graph.py:graph"}, "env": env}
        ),
        "graph.py": ENV_GRAPH,
        "schemas/agent.context.json": None,
        ".gitignore": ".gitassist/\n__pycache__/\n.env\n.langgraph_api/\n",
    }
    return files


def _repo(make_repo: Callable[..., Repo], form: str) -> Repo:
    repo = make_repo(_project(form))
    if form == "file":
        (repo.path / ".env").write_text(DOTENV, encoding="utf-8")  # ignored: not committed
    return repo


def _answer(parts: list[dict[str, Any]]) -> str:
    (answer,) = [p["data"]["answer"]["answer"] for p in parts if p["event"] == "updates"]
    return str(answer)


def _process_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GA_")}
    return {**env, **PROCESS}


@pytest.mark.parametrize("form", ["file", "mapping"])
def test_gitassist_run_applies_env_as_langgraph_dev(
    make_repo: Callable[..., Repo], run_cli: Callable[..., Any], form: str
) -> None:
    repo = _repo(make_repo, form)
    args = ("run", "agent", "--input", '{"question": "q"}', "--repo", str(repo.path))
    done = run_cli(*args, "--json", env=_process_env())
    assert done.returncode == 0, done.stderr
    parts = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert parts[0]["data"]["env"] == NAMES[form]  # names only
    assert _answer(parts) == EXPECTED[form]
    readable = run_cli(*args, env=_process_env())
    assert readable.returncode == 0, readable.stderr
    assert "GA_SECRET" in readable.stdout
    for out in (done, readable):
        assert SECRET not in out.stdout + out.stderr


@pytest.mark.parametrize("form", ["file", "mapping"])
def test_the_client_applies_env_as_langgraph_dev(
    make_repo: Callable[..., Repo], monkeypatch: pytest.MonkeyPatch, form: str
) -> None:
    repo = _repo(make_repo, form)
    for name in ("GA_AT_IMPORT", "GA_SECRET"):  # recorded, so the run's values are undone
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)
    for name, value in PROCESS.items():
        monkeypatch.setenv(name, value)
    with repo.client() as client:
        final = client.runs.wait(None, "agent", input={"question": "q"})
    assert final["answer"] == EXPECTED[form]


def test_get_schemas_imports_the_graph_with_env_applied(
    make_repo: Callable[..., Repo], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A graph that needs a variable at import loads for get_schemas too, as on the server."""
    graph = "import os\n_ = os.environ['GA_NEEDED']\n" + ENV_GRAPH
    files = _project("mapping")
    files["graph.py"] = graph
    files["langgraph.json"] = json.dumps(
        {"graphs": {"agent": "./graph.py:graph"}, "env": {"GA_NEEDED": "yes"}}
    )
    repo = make_repo(files)
    monkeypatch.setenv("GA_NEEDED", "")
    monkeypatch.delenv("GA_NEEDED")  # recorded: the value the call sets is undone after
    with repo.client() as client:
        assert client.assistants.get_schemas("agent")["graph_id"] == "agent"
    assert os.environ["GA_NEEDED"] == "yes"


def test_a_missing_env_file_is_no_variables_as_in_langgraph_dev(
    make_repo: Callable[..., Repo], run_cli: Callable[..., Any]
) -> None:
    repo = make_repo(_project("file"))  # no .env written
    done = run_cli(
        "run", "agent", "--input", "{}", "--repo", str(repo.path), "--json", env=_process_env()
    )
    assert done.returncode == 0, done.stderr
    parts = [json.loads(x) for x in done.stdout.splitlines() if x.strip()]
    assert _answer(parts) == "-|from-process|present|kept"


def test_a_non_string_env_value_is_a_config_error_naming_only_the_variable(
    make_repo: Callable[..., Repo], run_cli: Callable[..., Any]
) -> None:
    files = _project("mapping")
    files["langgraph.json"] = json.dumps(
        {"graphs": {"agent": "./graph.py:graph"}, "env": {"GA_PORT": 8080, "GA_SECRET": SECRET}}
    )
    repo = make_repo(files)
    done = run_cli("run", "agent", "--input", "{}", "--repo", str(repo.path))
    assert done.returncode == 3, done.stderr
    assert "GA_PORT" in done.stderr and "8080" not in done.stderr
    assert SECRET not in done.stdout + done.stderr
    assert len(done.stderr.strip().splitlines()) <= 2


@pytest.mark.server
@pytest.mark.slow
@pytest.mark.parametrize("form", ["file", "mapping"])
def test_langgraph_dev_sees_the_same_values(
    make_repo: Callable[..., Repo], tmp_path: Path, form: str
) -> None:
    """The oracle: a real ``langgraph dev`` on the same project and process environment."""
    langgraph_sdk = pytest.importorskip("langgraph_sdk")
    try:
        from lgserver import start_server
    except ModuleNotFoundError:
        from tests.lgserver import start_server

    repo = _repo(make_repo, form)
    with start_server(repo.path, env=PROCESS, log_path=tmp_path / "server.log") as server:
        client = langgraph_sdk.get_sync_client(url=server.url)
        final = client.runs.wait(None, "agent", input={"question": "q"})
    assert final["answer"] == EXPECTED[form]
