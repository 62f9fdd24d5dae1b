"""Runs as on the server: configurable, human-in-the-loop, interrupts, background runs."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap

import pytest

import gitassist

HITL_PY = """
import operator
from typing import Annotated

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt
from typing_extensions import TypedDict


class State(TypedDict, total=False):
    answer: str
    log: Annotated[list, operator.add]
    seen: dict


def look(state: State, config: RunnableConfig) -> dict:
    conf = config.get("configurable", {})
    return {"seen": {k: v for k, v in conf.items() if not k.startswith(("__", "checkpoint"))
                     and k not in ("thread_id", "langgraph_auth_user_id")}}


def ask(state: State) -> dict:
    value = interrupt("ok?")
    return {"answer": value, "log": [f"got {value}"]}


def done(state: State) -> dict:
    return {"log": ["done"]}


graph = (
    StateGraph(State)
    .add_node("look", look)
    .add_node("ask", ask)
    .add_node("done", done)
    .add_edge(START, "look")
    .add_edge("look", "ask")
    .add_edge("ask", "done")
    .add_edge("done", END)
    .compile()
)
"""


@pytest.fixture
def hitl_repo(make_repo):
    return make_repo(
        {
            "langgraph.json": json.dumps(
                {
                    "dependencies": ["."],
                    "graphs": {"agent": "./graph.py:graph", "hitl": "./hitl.py:graph"},
                }
            ),
            "hitl.py": HITL_PY,
        }
    )


def test_config_configurable_maps_to_context_and_back(make_repo):
    client = make_repo().client()
    made = client.assistants.create(
        "agent", config={"configurable": {"model_name": "echo"}, "tags": ["t"]}
    )
    assert made["context"] == {"model_name": "echo"}
    assert made["config"] == {"tags": ["t"], "configurable": {"model_name": "echo"}}
    updated = client.assistants.update(
        made["assistant_id"], config={"configurable": {"model_name": "openai"}}
    )
    assert updated["context"] == {"model_name": "openai"}
    assert updated["config"] == {"configurable": {"model_name": "openai"}}  # as the server
    files = list((client.store.root / "assistants").glob("*.yaml"))
    assert files
    assert all("configurable" not in p.read_text() for p in files)  # documents keep context


def test_run_sees_the_merged_context_in_config_configurable(hitl_repo):
    client = hitl_repo.client()
    made = client.assistants.create("hitl", context={"a": 1, "b": 2})
    out = client.runs.wait(None, made["assistant_id"], input={}, config={"configurable": {"b": 3}})
    assert out["seen"] == {"a": 1, "b": 3}


SCRIPT = """
import json, sys
import gitassist
client = gitassist.get_sync_client(repo=sys.argv[1])
step = sys.argv[2]
thread_id = sys.argv[3]
if step == "start":
    client.threads.create(thread_id=thread_id)
    parts = client.runs.stream(thread_id, "hitl", input={}, stream_mode="updates")
    events = [p.event for p in parts]
    thread = client.threads.get(thread_id)
    state = client.threads.get_state(thread_id)
    print(json.dumps({"events": events, "status": thread["status"],
                      "interrupts": thread["interrupts"],
                      "next": state["next"], "checkpoint_id": state["checkpoint_id"]}))
else:
    out = client.runs.wait(thread_id, "hitl", command={"resume": sys.argv[4]})
    print(json.dumps({"values": out, "status": client.threads.get(thread_id)["status"]}))
"""


def test_interrupt_in_one_process_and_resume_in_another(hitl_repo, tmp_path):
    script = tmp_path / "hitl_script.py"
    script.write_text(textwrap.dedent(SCRIPT), encoding="utf-8")
    thread_id = "11111111-1111-1111-1111-111111111111"

    def run(*args: str) -> dict:
        proc = subprocess.run(
            [sys.executable, str(script), str(hitl_repo.path), *args],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout.strip().splitlines()[-1])

    first = run("start", thread_id)
    assert first["status"] == "interrupted"
    assert first["next"] == ["ask"]
    assert first["checkpoint_id"]
    assert "updates" in first["events"]
    [(_task, interrupts)] = first["interrupts"].items()
    assert interrupts[0]["value"] == "ok?"
    second = run("resume", thread_id, "yes")
    assert second["status"] == "idle"
    assert second["values"]["answer"] == "yes"
    assert second["values"]["log"] == ["got yes", "done"]


def test_interrupt_before_stops_before_the_node(hitl_repo):
    client = hitl_repo.client()
    thread = client.threads.create()
    parts = list(
        client.runs.stream(
            thread["thread_id"], "hitl", input={}, stream_mode="updates", interrupt_before=["look"]
        )
    )
    assert [p.event for p in parts] == ["metadata", "updates"]
    assert "__interrupt__" in parts[1].data
    state = client.threads.get_state(thread["thread_id"])
    assert state["next"] == ["look"]
    assert client.threads.get(thread["thread_id"])["status"] == "interrupted"


def test_history_and_fork_at_a_checkpoint(hitl_repo):
    client = hitl_repo.client()
    thread_id = client.threads.create()["thread_id"]
    assert client.threads.get(thread_id)["values"] is None
    client.runs.wait(thread_id, "hitl", input={})
    history = client.threads.get_history(thread_id)
    assert len(history) >= 3
    assert history[0]["checkpoint_id"] == client.threads.get_state(thread_id)["checkpoint_id"]
    assert history[0]["parent_checkpoint_id"] == history[1]["checkpoint_id"]
    # resume from the newest checkpoint, then compare with an older one
    client.runs.wait(thread_id, "hitl", command={"resume": "no"})
    old = client.threads.get_state(thread_id, checkpoint_id=history[0]["checkpoint_id"])
    assert old["next"] == ["ask"]


def test_background_run_create_and_join(hitl_repo):
    with gitassist.get_sync_client(repo=hitl_repo.path) as client:
        thread_id = client.threads.create()["thread_id"]
        run = client.runs.create(
            thread_id, "agent", input={"question": "q"}, context={"model_name": "echo"}
        )
        values = client.runs.join(thread_id, run["run_id"])
        assert values["answer"].startswith("echo")
        events = [p.event for p in client.runs.join_stream(thread_id, run["run_id"])]
        assert events == ["values", "values"]
        assert client.runs.get(thread_id, run["run_id"])["status"] == "success"
        client.runs.delete(thread_id, run["run_id"])
        assert client.runs.list(thread_id) == []


def test_cli_resume_answers_an_interrupt(hitl_repo, cli):
    thread_id = "22222222-2222-2222-2222-222222222222"
    repo = str(hitl_repo.path)
    first = cli("run", "hitl", "--thread", thread_id, "--input", "{}", "--json", "-C", repo)
    assert "__interrupt__" in first.output
    client = hitl_repo.client()
    assert client.threads.get(thread_id)["status"] == "interrupted"
    done = cli("run", "--thread", thread_id, "--resume", "yes", "--wait", "--json", "-C", repo)
    assert json.loads(done.output)["values"]["answer"] == "yes"
    assert client.threads.get(thread_id)["status"] == "idle"
    cli("run", "hitl", "--resume", "yes", "-C", repo, code=2)  # --resume needs --thread


def test_default_assistant_created_at_is_stable(make_repo, monkeypatch):
    repo = make_repo()
    client = repo.client()
    before = client.assistants.get("agent")["created_at"]
    monkeypatch.setenv("GIT_COMMITTER_DATE", "2031-01-01T00:00:00+00:00")
    repo.commit({"notes.txt": "x"}, "another commit")
    assert repo.git("log", "-1", "--format=%cI").startswith("2031")
    assert client.assistants.get("agent")["created_at"] == before
    [default] = [a for a in client.assistants.search() if a["name"] == "agent"]
    assert default["created_at"] == before


def test_default_assistant_versions_and_set_latest(make_repo):
    client = make_repo().client()
    rows = client.assistants.get_versions("agent")
    assert [r["version"] for r in rows] == [1]
    assert rows[0]["metadata"] == {"created_by": "system"}
    assert client.assistants.set_latest("agent", 1)["version"] == 1


def test_get_versions_filters_before_paging_and_404s_past_the_end(make_repo):
    from langgraph_sdk.errors import NotFoundError

    client = make_repo().client()
    a = client.assistants.create("agent", context={"model_name": "echo"}, metadata={"k": "old"})
    for prompt in ("a", "b", "c"):
        client.assistants.update(
            a["assistant_id"],
            context={"model_name": "echo", "system_prompt": prompt},
            metadata={"k": "new"},
        )
    rows = client.assistants.get_versions(a["assistant_id"], metadata={"k": "old"}, limit=1)
    assert [r["version"] for r in rows] == [1]
    with pytest.raises(NotFoundError):
        client.assistants.get_versions(a["assistant_id"], offset=10)


def test_search_select_and_object_format(make_repo):
    client = make_repo().client()
    client.assistants.create("agent", context={"model_name": "echo"}, name="Bot")
    rows = client.assistants.search(select=["assistant_id", "name"], limit=1)
    assert [sorted(r) for r in rows] == [["assistant_id", "name"]]
    page = client.assistants.search(response_format="object", limit=1)
    assert sorted(page) == ["assistants", "next"] and page["next"] == "1"
    assert client.assistants.search(response_format="object", limit=5)["next"] is None


def test_schemas_graph_and_subgraphs_come_from_the_compiled_graph(make_repo):
    client = make_repo().client()
    schemas = client.assistants.get_schemas("agent")
    for key in ("input_schema", "output_schema", "state_schema", "config_schema"):
        assert key in schemas
    assert "question" in schemas["input_schema"]["properties"]
    assert "answer" in schemas["state_schema"]["properties"]
    graph = client.assistants.get_graph("agent")
    assert {n["id"] for n in graph["nodes"]} == {"__start__", "answer", "__end__"}
    assert client.assistants.get_subgraphs("agent") == {}


def test_async_hitl_and_thread_fields(hitl_repo):
    import asyncio

    async def main() -> None:
        async with gitassist.get_client(repo=hitl_repo.path) as client:
            thread = await client.threads.create()
            assert thread["values"] is None and "state_updated_at" in thread
            tid = thread["thread_id"]
            events = [p.event async for p in client.runs.stream(tid, "hitl", input={})]
            assert events[0] == "metadata"
            got = await client.threads.get(tid)
            assert got["status"] == "interrupted" and got["interrupts"]
            out = await client.runs.wait(tid, "hitl", command={"resume": "ok"})
            assert out["answer"] == "ok"
            assert (await client.threads.get(tid))["status"] == "idle"

    asyncio.run(main())


def test_a_second_run_on_a_busy_thread_is_a_409(make_repo):
    from langgraph_sdk.errors import ConflictError

    client = make_repo().client()
    thread_id = client.threads.create()["thread_id"]
    first = client.runs.stream(
        thread_id, "agent", input={"question": "q"}, context={"model_name": "echo"}
    )
    assert next(first).event == "metadata"  # the run has started
    with pytest.raises(ConflictError):
        client.runs.wait(thread_id, "agent", input={}, context={"model_name": "echo"})
    assert [p.event for p in first] == ["values", "values"]
    # the thread is free again (a crashed process's "busy" would not block it either)
    client.runs.wait(thread_id, "agent", input={"question": "r"}, context={"model_name": "echo"})
    assert client.threads.get(thread_id)["status"] == "idle"


NESTED_PY = """
from langgraph.graph import END, START, StateGraph
from typing_extensions import TypedDict


class State(TypedDict, total=False):
    text: str


def inner_step(state: State) -> dict:
    return {"text": state.get("text", "") + "!"}


inner = StateGraph(State).add_node("inner_step", inner_step)
inner = inner.add_edge(START, "inner_step").add_edge("inner_step", END).compile()

graph = (
    StateGraph(State)
    .add_node("child", inner)
    .add_edge(START, "child")
    .add_edge("child", END)
    .compile()
)
"""


def test_stream_subgraphs_and_get_subgraphs(make_repo):
    repo = make_repo(
        {
            "langgraph.json": json.dumps(
                {
                    "dependencies": ["."],
                    "graphs": {"agent": "./graph.py:graph", "nested": "./nested.py:graph"},
                }
            ),
            "nested.py": NESTED_PY,
        }
    )
    client = repo.client()
    parts = list(
        client.runs.stream(
            None, "nested", input={"text": "a"}, stream_mode="updates", stream_subgraphs=True
        )
    )
    events = [p.event for p in parts]
    assert "updates" in events
    assert any(e.startswith("updates|child:") for e in events), events
    assert set(client.assistants.get_subgraphs("nested")) == {"child"}
    v2 = list(
        client.runs.stream(
            None,
            "nested",
            input={"text": "a"},
            stream_mode="updates",
            stream_subgraphs=True,
            version="v2",
        )
    )
    assert any(p["type"] == "updates" and p["ns"] and p["ns"][0].startswith("child:") for p in v2)


def test_updating_the_default_assistant_makes_version_2(make_repo):
    repo = make_repo()
    client = repo.client()
    default_id = client.assistants.get("agent")["assistant_id"]
    updated = client.assistants.update(default_id, context={"model_name": "echo"})
    assert updated["version"] == 2
    assert updated["metadata"] == {"created_by": "system"} and updated["name"] == "agent"
    subject = repo.git("log", "-1", "--format=%s")
    assert "version 2" in subject and "assistants/agent.yaml" in subject
    assert (repo.path / "assistants" / "agent.yaml").is_file()
    rows = client.assistants.get_versions(default_id)
    assert [(r["version"], r["context"]) for r in rows] == [(2, {"model_name": "echo"}), (1, {})]
    back = client.assistants.set_latest(default_id, 1)
    assert (back["version"], back["context"]) == (1, {})
    assert client.assistants.get(default_id)["metadata"] == {"created_by": "system"}
    assert client.assistants.update(default_id, context={"model_name": "openai"})["version"] == 3


def test_a_failed_default_update_changes_nothing(make_repo):
    from gitassist.errors import ValidationFailed

    repo = make_repo()
    client = repo.client()
    before = (repo.refs(), repo.git("status", "--porcelain"))
    with pytest.raises(ValidationFailed):
        client.assistants.update("agent", context={"model_name": "gpt5"})
    assert (repo.refs(), repo.git("status", "--porcelain")) == before
    assert [r["version"] for r in client.assistants.get_versions("agent")] == [1]


def test_stream_mode_events_yields_astream_events_v2_as_the_server(make_repo, cli):
    """Events mode: LangChain's astream_events v2 dicts; the other modes ride inside it (the root
    run's on_chain_stream events are their chunks, not events parts), sync, async, on a thread.
    The conformance suite compares the same stream with a real langgraph dev."""
    repo = make_repo()
    client = repo.client()
    ctx = {"model_name": "echo"}
    parts = list(
        client.runs.stream(
            None, "agent", input={"question": "q"}, context=ctx, stream_mode=["events", "updates"]
        )
    )
    kinds = [(p.event, p.data["event"]) if p.event == "events" else p.event for p in parts]
    assert kinds[0] == "metadata"
    assert ("events", "on_chain_start") in kinds and ("events", "on_chain_end") in kinds
    assert "updates" in kinds
    root = parts[0].data["run_id"]
    streamed = [
        p.data for p in parts if p.event == "events" and p.data["event"] == "on_chain_stream"
    ]
    assert streamed and all(e["run_id"] != root for e in streamed)  # the root's are the modes'
    first = next(p.data for p in parts if p.event == "events")
    assert sorted(first) == ["data", "event", "metadata", "name", "parent_ids", "run_id", "tags"]
    json.dumps([p.data for p in parts])  # plain JSON, as the server sends it

    thread = client.threads.create()["thread_id"]
    on_thread = list(
        client.runs.stream(
            thread, "agent", input={"question": "t"}, context=ctx, stream_mode="events"
        )
    )
    assert {p.event for p in on_thread} == {"metadata", "events"}
    assert client.threads.get(thread)["values"]["answer"] == "echo||t"

    async def main() -> list[str]:
        async with gitassist.get_client(repo=repo.path) as aclient:
            stream = aclient.runs.stream(
                None, "agent", input={"question": "a"}, context=ctx, stream_mode="events"
            )
            return [p.data["event"] async for p in stream if p.event == "events"]

    assert asyncio.run(main())[0] == "on_chain_start"
    out = cli(
        "run",
        "agent",
        "--input",
        '{"question": "c"}',
        "--context",
        json.dumps(ctx),
        "-s",
        "events",
        "--json",
        "--repo",
        str(repo.path),
    ).output
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert lines[0]["event"] == "metadata" and lines[1]["data"]["event"] == "on_chain_start"
