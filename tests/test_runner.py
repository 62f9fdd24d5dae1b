"""The runner: real compiled graphs run from real git repositories, by CLI and by client."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest
from conftest import GRAPH_PY, ROOT

if TYPE_CHECKING:
    from collections.abc import Callable

    from click.testing import Result
    from conftest import Repo

QUESTION = json.dumps({"question": "q"})

CHAT_GRAPH = """
import operator
from typing import Annotated
from typing_extensions import TypedDict, NotRequired
from langgraph.graph import StateGraph, START, END
from langgraph.runtime import Runtime


class Context(TypedDict):
    model_name: str
    system_prompt: NotRequired[str]


class State(TypedDict, total=False):
    question: str
    history: Annotated[list[str], operator.add]


def reply(state: State, runtime: Runtime[Context]) -> dict:
    prompt = runtime.context.get("system_prompt", "")
    return {"history": [f"{prompt}:{state['question']}"]}


builder = StateGraph(State, context_schema=Context)
builder.add_node("reply", reply)
builder.add_edge(START, "reply")
builder.add_edge("reply", END)
graph = builder.compile()
"""

RAISING_GRAPH = """from typing_extensions import TypedDict
from langgraph.graph import StateGraph, START, END


class Context(TypedDict):
    model_name: str


class State(TypedDict, total=False):
    question: str


def explode(state: State) -> dict:
    raise ValueError("boom from the user's node")


builder = StateGraph(State, context_schema=Context)
builder.add_node("explode", explode)
builder.add_edge(START, "explode")
builder.add_edge("explode", END)
graph = builder.compile()
"""

SIDE_EFFECT_GRAPH = """from pathlib import Path
Path(__file__).with_name("imported.txt").write_text("imported")
""" + GRAPH_PY.replace(
    "    ctx = runtime.context or {}\n",
    '    ctx = runtime.context or {}\n    Path(__file__).with_name("ran.txt").write_text("ran")\n',
)


def events(result: Result | subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    text = result.output if hasattr(result, "output") else result.stdout
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def answers(parts: list[dict[str, Any]]) -> list[str]:
    return [p["data"]["answer"]["answer"] for p in parts if p["event"] == "updates"]


@pytest.fixture
def bot(make_repo: Callable[..., Repo]) -> tuple[Repo, str]:
    repo = make_repo()
    created = repo.client().assistants.create(
        "agent", context={"model_name": "echo", "system_prompt": "one"}, name="Bot"
    )
    return repo, created["assistant_id"]


# --------------------------------------------------------------------------- resolving targets


def test_run_by_assistant_id_streams_metadata_then_updates(bot: tuple[Repo, str], cli: Any) -> None:
    repo, assistant_id = bot
    parts = events(
        cli("run", assistant_id, "--input", QUESTION, "--repo", str(repo.path), "--json")
    )
    assert [p["event"] for p in parts] == ["metadata", "updates"]
    meta = parts[0]["data"]
    head = repo.git("rev-parse", "HEAD")
    assert meta["run_id"] and meta["assistant_id"] == assistant_id
    assert (meta["version"], meta["document_commit"], meta["code_commit"]) == (1, head, head)
    assert meta["pinned"] is False and meta["document_path"] == "assistants/bot.yaml"
    assert meta["context_checked"] is True and meta["code_dirty"] is False
    assert answers(parts) == ["echo|one|q"]


def test_run_by_graph_id_needs_the_context_its_schema_requires(
    bot: tuple[Repo, str], cli: Any
) -> None:
    repo, _ = bot
    failed = cli("run", "agent", "--input", QUESTION, "--repo", str(repo.path), code=3)
    assert "model_name" in failed.output or "model_name" in str(failed.exception)
    parts = events(
        cli(
            "run",
            "agent",
            "--input",
            QUESTION,
            "--context",
            '{"model_name": "anthropic"}',
            "--repo",
            str(repo.path),
            "--json",
        )
    )
    assert parts[0]["data"]["source"] == "default"
    assert answers(parts) == ["anthropic||q"]


def test_run_level_context_merges_key_by_key(bot: tuple[Repo, str], cli: Any) -> None:
    repo, _ = bot
    parts = events(
        cli(
            "run",
            "Bot",
            "--input",
            QUESTION,
            "--context",
            '{"system_prompt": "override"}',
            "--repo",
            str(repo.path),
            "--json",
        )
    )
    assert answers(parts) == ["echo|override|q"]


def test_run_at_version_after_set_latest(bot: tuple[Repo, str], cli: Any) -> None:
    repo, assistant_id = bot
    client = repo.client()
    client.assistants.update(assistant_id, context={"model_name": "echo", "system_prompt": "two"})
    client.assistants.set_latest(assistant_id, 1)
    run = ("--input", QUESTION, "--repo", str(repo.path), "--json")
    assert answers(events(cli("run", "Bot", *run))) == ["echo|one|q"]
    at_two = events(cli("run", "Bot@2", *run))
    assert answers(at_two) == ["echo|two|q"] and at_two[0]["data"]["version"] == 2
    assert answers(events(cli("run", "bot@1", *run))) == ["echo|one|q"]


def test_run_at_rev_of_another_branch(bot: tuple[Repo, str], cli: Any) -> None:
    repo, assistant_id = bot
    repo.git("switch", "-q", "-c", "feature")
    repo.client().assistants.update(
        assistant_id, context={"model_name": "openai", "system_prompt": "draft"}
    )
    feature_head = repo.git("rev-parse", "HEAD")
    repo.git("switch", "-q", "main")
    parts = events(
        cli(
            "run",
            "Bot",
            "--rev",
            "feature",
            "--input",
            QUESTION,
            "--repo",
            str(repo.path),
            "--json",
        )
    )
    assert answers(parts) == ["openai|draft|q"]
    meta = parts[0]["data"]
    assert meta["source"] == "rev" and meta["document_commit"] == feature_head
    assert answers(
        events(cli("run", "Bot", "--input", QUESTION, "--repo", str(repo.path), "--json"))
    ) == ["echo|one|q"]


def test_several_stream_modes_and_wait(bot: tuple[Repo, str], cli: Any) -> None:
    repo, _ = bot
    parts = events(
        cli(
            "run",
            "Bot",
            "--input",
            QUESTION,
            "-s",
            "updates,values",
            "-s",
            "debug",
            "--repo",
            str(repo.path),
            "--json",
        )
    )
    kinds = [p["event"] for p in parts]
    assert kinds[0] == "metadata" and {"updates", "values", "debug"} <= set(kinds)
    values = [p["data"] for p in parts if p["event"] == "values"]
    assert values[-1] == {"question": "q", "answer": "echo|one|q"}
    waited = json.loads(
        cli("run", "Bot", "--wait", "--input", QUESTION, "--repo", str(repo.path), "--json").output
    )
    assert waited["values"] == {"question": "q", "answer": "echo|one|q"}
    assert waited["metadata"]["version"] == 1
    readable = cli("run", "Bot", "--input", QUESTION, "--repo", str(repo.path)).output
    assert "[answer]" in readable and "echo|one|q" in readable and "version 1" in readable


# --------------------------------------------------------------------------- threads


def test_thread_survives_a_new_process(make_repo: Callable[..., Repo], run_cli: Any) -> None:
    repo = make_repo({"graph.py": CHAT_GRAPH})
    repo.client().assistants.create(
        "agent", context={"model_name": "echo", "system_prompt": "p"}, name="Chat"
    )
    created = run_cli("threads", "create", "Chat", "--json", cwd=repo.path)
    assert created.returncode == 0, created.stderr
    thread_id = json.loads(created.stdout)["thread_id"]
    for question in ("first", "second"):
        done = run_cli(
            "run",
            "--thread",
            thread_id,
            "--input",
            json.dumps({"question": question}),
            "--json",
            cwd=repo.path,
        )
        assert done.returncode == 0, done.stderr
    shown = run_cli("threads", "show", thread_id, "--json", cwd=repo.path)
    data = json.loads(shown.stdout)
    assert data["values"]["history"] == ["p:first", "p:second"]
    assert data["metadata"]["graph_id"] == "agent"
    assert [r["status"] for r in data["runs"]] == ["success", "success"]
    head = repo.git("rev-parse", "HEAD")
    assert all(
        r["metadata"]["code_commit"] == head and r["metadata"]["version"] == 1 for r in data["runs"]
    )
    assert repo.git("status", "--porcelain") == ""  # .gitassist/ stays out of git
    listed = run_cli("threads", "list", cwd=repo.path)
    assert thread_id in listed.stdout
    assert run_cli("threads", "delete", thread_id, cwd=repo.path).returncode == 0
    assert run_cli("threads", "show", thread_id, cwd=repo.path).returncode == 4


def test_a_thread_keeps_to_its_graph(make_repo: Callable[..., Repo]) -> None:
    repo = make_repo(
        {
            "langgraph.json": json.dumps(
                {"graphs": {"agent": "./graph.py:graph", "chat": "./chat.py:graph"}}
            ),
            "chat.py": CHAT_GRAPH,
        }
    )
    client = repo.client()
    thread = client.threads.create()
    client.runs.wait(
        thread["thread_id"], "agent", input={"question": "q"}, context={"model_name": "echo"}
    )
    from gitassist.errors import Conflict

    with pytest.raises(Conflict):
        client.runs.wait(
            thread["thread_id"], "chat", input={"question": "q"}, context={"model_name": "echo"}
        )


def test_sdk_shaped_async_stream(bot: tuple[Repo, str]) -> None:
    repo, assistant_id = bot
    from gitassist import get_client

    async def main() -> list[Any]:
        client = get_client(repo=repo.path)
        thread = await client.threads.create()
        chunks = []
        async for chunk in client.runs.stream(
            thread["thread_id"], assistant_id, input={"question": "q"}, stream_mode="updates"
        ):
            chunks.append(chunk)
        state = await client.threads.get_state(thread["thread_id"])
        final = await client.runs.wait(
            thread["thread_id"], assistant_id, input={"question": "again"}
        )
        return [chunks, state, final]

    chunks, state, final = asyncio.run(main())
    assert [c.event for c in chunks] == ["metadata", "updates"]
    assert chunks[0].data["run_id"] and chunks[0].data["version"] == 1
    assert chunks[1].data == {"answer": {"answer": "echo|one|q"}}
    assert chunks[1].id is None  # langgraph_sdk's StreamPart: event, data, id
    assert state["values"] == {"question": "q", "answer": "echo|one|q"} and state["next"] == []
    assert final == {"question": "again", "answer": "echo|one|again"}


def test_sync_client_stream_and_unknown_thread(bot: tuple[Repo, str]) -> None:
    repo, assistant_id = bot
    client = repo.client()
    parts = list(
        client.runs.stream(
            None, assistant_id, input={"question": "q"}, stream_mode=["values", "updates"]
        )
    )
    assert [p.event for p in parts] == ["metadata", "values", "updates", "values"]
    from gitassist.errors import NotFound

    with pytest.raises(NotFound):
        client.runs.wait("00000000-0000-0000-0000-000000000000", assistant_id, input={})


def test_messages_mode_on_the_example(example_repo: Repo, cli: Any) -> None:
    repo = example_repo
    repo.client().assistants.create(
        "agent", name="Terse", context={"model_name": "echo", "system_prompt": "Be terse."}
    )
    message = json.dumps({"messages": [{"role": "user", "content": "hello"}]})
    parts = events(
        cli(
            "run", "Terse", "--input", message, "-s", "messages", "--repo", str(repo.path), "--json"
        )
    )
    complete = [p["data"][0] for p in parts if p["event"] == "messages/complete"]
    assert complete[-1]["type"] == "ai"
    assert complete[-1]["content"] == "[echo] (system: Be terse.) you said: hello"


def test_assistant_config_reaches_the_run(make_repo: Callable[..., Repo]) -> None:
    graph = GRAPH_PY.replace(
        "def answer(state: State, runtime: Runtime[Context]) -> dict:\n",
        "def answer(state: State, config, runtime: Runtime[Context]) -> dict:\n"
        # the user's tags (provenance tags, 'version:2' etc., have a colon: test_provenance.py)
        "    tags = sorted(t for t in config['tags'] if ':' not in t)\n"
        "    return {'answer': f\"{tags}|{config['recursion_limit']}\"}\n",
    )
    repo = make_repo({"graph.py": graph})
    client = repo.client()
    created = client.assistants.create(
        "agent",
        context={"model_name": "echo"},
        config={"tags": ["prod"], "recursion_limit": 7},
        name="Bot",
    )
    final = client.runs.wait(
        None, created["assistant_id"], input={"question": "q"}, config={"tags": ["extra"]}
    )
    assert final["answer"] == "['extra', 'prod']|7"


NO_SCHEMA_GRAPH = GRAPH_PY.replace("StateGraph(State, context_schema=Context)", "StateGraph(State)")


def test_without_any_context_schema_the_run_says_so(
    make_repo: Callable[..., Repo], cli: Any
) -> None:
    repo = make_repo({"schemas/agent.context.json": None, "graph.py": NO_SCHEMA_GRAPH})
    parts = events(cli("run", "agent", "--input", QUESTION, "--repo", str(repo.path), "--json"))
    assert parts[0]["data"]["context_checked"] is False
    assert parts[0]["data"]["context_schema"] is None
    assert answers(parts) == ["None||q"]
    readable = cli("run", "agent", "--input", QUESTION, "--repo", str(repo.path)).output
    assert "not validated" in readable


def test_without_a_committed_schema_the_graphs_own_schema_is_checked(
    make_repo: Callable[..., Repo], cli: Any, run_cli: Callable[..., Any]
) -> None:
    """The default assistant of a graph whose ContextSchema requires model_name: empty context
    does not run (exit 3, nothing recorded); a valid --context runs, checked against the graph."""
    repo = make_repo({"schemas/agent.context.json": None})
    args = ("run", "agent", "--input", QUESTION, "--repo", str(repo.path))
    refused = run_cli(*args)
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "model_name" in refused.stderr and "nothing ran" in refused.stderr
    assert refused.stdout == ""
    assert "answer" not in refused.stderr
    bad_type = run_cli(*args, "--context", '{"model_name": "echo", "system_prompt": 5}')
    assert bad_type.returncode == 3 and "system_prompt" in bad_type.stderr
    parts = events(cli(*args, "--context", '{"model_name": "echo"}', "--json"))
    assert parts[0]["data"]["context_checked"] is True
    assert parts[0]["data"]["context_schema"] == "graph"
    assert answers(parts) == ["echo||q"]
    readable = cli(*args, "--context", '{"model_name": "echo"}').output
    assert "the graph's own schema" in readable


def test_the_client_refuses_a_context_the_graph_rejects_with_422(
    make_repo: Callable[..., Repo],
) -> None:
    from langgraph_sdk.errors import UnprocessableEntityError

    repo = make_repo({"schemas/agent.context.json": None})
    with repo.client() as client:
        thread = client.threads.create()
        with pytest.raises(UnprocessableEntityError) as raised:
            client.runs.wait(thread["thread_id"], "agent", input={"question": "q"})
        assert raised.value.response.status_code == 422
        assert "model_name" in str(raised.value)
        assert client.runs.list(thread["thread_id"]) == []  # nothing ran
        assert client.threads.get(thread["thread_id"])["values"] is None
        ok = client.runs.wait(None, "agent", input={"question": "q"}, context={"model_name": "x"})
        assert ok["answer"] == "x||q"

    async def main() -> None:
        from gitassist import get_client

        async with get_client(repo=repo.path) as aclient:
            with pytest.raises(UnprocessableEntityError):
                await aclient.runs.wait(None, "agent", input={"question": "q"})

    asyncio.run(main())


# --------------------------------------------------------------------------- pinned code


def test_pin_runs_the_code_of_the_versions_commit(make_repo: Callable[..., Repo], cli: Any) -> None:
    repo = make_repo({"graph.py": GRAPH_PY.replace('f"{ctx', 'f"v1:{ctx')})
    repo.client().assistants.create("agent", context={"model_name": "echo"}, name="Bot")
    version_commit = repo.git("rev-parse", "HEAD")
    repo.commit({"graph.py": GRAPH_PY.replace('f"{ctx', 'f"v2:{ctx')}, "graph v2")
    run = ("Bot", "--input", QUESTION, "--repo", str(repo.path), "--json")
    assert answers(events(cli("run", *run))) == ["v2:echo||q"]
    pinned = events(cli("run", *run, "--pin"))
    assert answers(pinned) == ["v1:echo||q"]
    meta = pinned[0]["data"]
    assert meta["pinned"] is True and meta["code_commit"] == version_commit
    repo.write({"graph.py": GRAPH_PY.replace('f"{ctx', 'f"dirty:{ctx')})
    dirty = events(cli("run", *run))
    assert answers(dirty) == ["dirty:echo||q"] and dirty[0]["data"]["code_dirty"] is True
    assert answers(events(cli("run", *run, "--pin"))) == ["v1:echo||q"]


# --------------------------------------------------------------------------- failures


def test_user_graph_that_raises_names_its_line(
    make_repo: Callable[..., Repo], run_cli: Any
) -> None:
    repo = make_repo({"graph.py": RAISING_GRAPH})
    repo.client().assistants.create("agent", context={"model_name": "echo"}, name="Bot")
    done = run_cli("run", "Bot", "--input", QUESTION, cwd=repo.path)
    assert done.returncode == 7, done.stderr
    assert "boom from the user's node" in done.stderr
    assert "graph.py, line 14" in done.stderr
    assert "Traceback" not in done.stderr


def test_user_error_in_a_thread_marks_the_run(make_repo: Callable[..., Repo]) -> None:
    repo = make_repo({"graph.py": RAISING_GRAPH})
    client = repo.client()
    client.assistants.create("agent", context={"model_name": "echo"}, name="Bot")
    thread = client.threads.create()
    from gitassist.errors import UserCodeError

    with pytest.raises(UserCodeError, match="line 14"):
        client.runs.wait(thread["thread_id"], "Bot", input={})
    failed = client.runs.wait(thread["thread_id"], "Bot", input={}, raise_error=False)
    assert "boom" in failed["__error__"]["message"]
    assert client.threads.get(thread["thread_id"])["status"] == "error"
    assert [r["status"] for r in client.runs.list(thread["thread_id"])] == ["error", "error"]


def test_invalid_context_runs_nothing(make_repo: Callable[..., Repo], run_cli: Any) -> None:
    repo = make_repo({"graph.py": SIDE_EFFECT_GRAPH})
    repo.client().assistants.create("agent", context={"model_name": "echo"}, name="Bot")
    done = run_cli(
        "run",
        "Bot",
        "--input",
        QUESTION,
        "--context",
        '{"model_name": "gpt-9", "temprature": 1}',
        cwd=repo.path,
    )
    assert done.returncode == 3, done.stderr
    assert "model_name" in done.stderr and "temprature" in done.stderr
    assert not (repo.path / "imported.txt").exists()
    assert not (repo.path / "ran.txt").exists()
    ok = run_cli("run", "Bot", "--input", QUESTION, cwd=repo.path)
    assert ok.returncode == 0, ok.stderr
    assert (repo.path / "ran.txt").exists()


def test_graph_missing_from_langgraph_json(bot: tuple[Repo, str], run_cli: Any) -> None:
    repo, _ = bot
    repo.commit({"langgraph.json": json.dumps({"graphs": {"other": "./graph.py:graph"}})})
    done = run_cli("run", "Bot", "--input", QUESTION, cwd=repo.path)
    assert done.returncode == 4, done.stderr
    assert "graph 'agent' is not in langgraph.json" in done.stderr
    assert "other" in done.stderr


def test_graph_file_that_fails_to_import(bot: tuple[Repo, str], run_cli: Any) -> None:
    repo, _ = bot
    repo.commit({"graph.py": "import json\n\nraise RuntimeError('cannot start')\n"})
    done = run_cli("run", "Bot", "--input", QUESTION, cwd=repo.path)
    assert done.returncode == 7, done.stderr
    assert "cannot start" in done.stderr and "graph.py, line 3" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_stream_mode_is_a_usage_error(bot: tuple[Repo, str], cli: Any) -> None:
    repo, _ = bot
    cli("run", "Bot", "-s", "everything", "--repo", str(repo.path), code=2)


def test_get_does_not_import_langgraph(bot: tuple[Repo, str]) -> None:
    repo, _ = bot
    code = (
        "import sys\n"
        "from gitassist.cli.main import cli\n"
        f"cli.main(['get', 'Bot', '--repo', {str(repo.path)!r}], standalone_mode=False)\n"
        "from gitassist import get_sync_client\n"
        f"get_sync_client(repo={str(repo.path)!r}).threads\n"
        "assert not [m for m in sys.modules if m.startswith('langgraph')], 'langgraph imported'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
