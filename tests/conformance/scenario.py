"""One scenario of SDK calls, run against a real ``langgraph dev`` and against gitassist.

:func:`run` takes a sync client (``langgraph_sdk.get_sync_client(url=…)`` or
``gitassist.get_sync_client(repo=…)``) and returns ``[(step, result), …]`` where each result
is normalised (ids and timestamps replaced by stable labels, errors by their class and HTTP
status) and reduced to what the SDK's users rely on. A step whose name is the key of an
entry in :data:`gitassist.sdk_compat.DIFFERENCES` is an intended difference: the test
checks that it is listed and does not compare it.
"""

from __future__ import annotations

import re
from typing import Any

from gitassist.sdk_compat import DIFFERENCES

FIXED_ID = "5a8e3a39-8f6a-4d6e-9d62-3c1d2a7b0f11"
THREAD_ID = "7c5d7a1e-2f0b-4c1a-9b3e-6f8e2d4c1a01"
HITL_THREAD = "7c5d7a1e-2f0b-4c1a-9b3e-6f8e2d4c1a02"
PAUSE_THREAD = "7c5d7a1e-2f0b-4c1a-9b3e-6f8e2d4c1a03"
MISSING = "00000000-0000-0000-0000-000000000000"
DEFAULT_ID = "fe096781-5601-53d2-b2f6-0d3403f7e9ca"  # uuid5 of graph "agent"

HITL_PY = '''\
"""Asks a person: interrupt() in the middle, resumed with Command(resume=...)."""

import operator
from typing import Annotated

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt
from typing_extensions import TypedDict


class State(TypedDict, total=False):
    seen: str
    answer: str
    log: Annotated[list, operator.add]


def look(state: State, config: RunnableConfig) -> dict:
    return {"seen": str(config.get("configurable", {}).get("greeting"))}


def ask(state: State) -> dict:
    value = interrupt("ok?")
    return {"answer": value, "log": [f"got {value}"]}


graph = (
    StateGraph(State)
    .add_node("look", look)
    .add_node("ask", ask)
    .add_edge(START, "look")
    .add_edge("look", "ask")
    .add_edge("ask", END)
    .compile()
)
'''

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)$")
_KNOWN = {FIXED_ID: "<fixed>", THREAD_ID: "<thread>", HITL_THREAD: "<hitl>", MISSING: "<missing>"}


class Normaliser:
    """Ids become ``<id1>``, ``<id2>``… in order of first appearance; timestamps ``<ts>``."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = dict(_KNOWN)
        self.ids[DEFAULT_ID] = "<default>"

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self(v) for v in value]
        if isinstance(value, str):
            if _TS.match(value):
                return "<ts>"
            return _UUID.sub(self._label, value)
        return value

    def _label(self, match: re.Match[str]) -> str:
        text = match.group(0)
        if text not in self.ids:
            self.ids[text] = f"<id{len(self.ids)}>"
        return self.ids[text]


def _error(exc: BaseException) -> dict[str, Any]:
    response = getattr(exc, "response", None)
    if isinstance(exc, TypeError):
        return {"error": "TypeError"}
    return {"error": "http", "status": getattr(response, "status_code", None)}


def _keys(data: Any) -> list[str]:
    return sorted(data) if isinstance(data, dict) else [type(data).__name__]


def _assistant(a: dict[str, Any]) -> dict[str, Any]:
    return {k: a[k] for k in ("graph_id", "config", "context", "metadata", "name", "version")}


def _thread(t: dict[str, Any]) -> dict[str, Any]:
    return {
        "keys": sorted(t),
        "status": t["status"],
        "values": t["values"],
        "metadata": t["metadata"],
        "interrupts": [len(v) for v in (t.get("interrupts") or {}).values()],
    }


def _parts(parts: Any) -> list[Any]:
    return [[p.event, p.data] for p in parts if p.event != "metadata"]


def _events(parts: Any) -> list[Any]:
    """The events mode's parts as (event, name, data keys); the other modes' parts as they are."""
    out: list[Any] = []
    for p in parts:
        if p.event == "events":  # the root run's name is a listed difference (events_root_name)
            name = p.data["name"] if p.data["parent_ids"] else "<root>"
            out.append([p.data["event"], name, sorted(p.data), sorted(p.data["data"])])
        elif p.event != "metadata":
            out.append([p.event, p.data])
    return out


def _each_context(runs: Any, contexts: Any) -> list[Any]:
    """A stateless run of the default assistant per context: its values or its error."""
    out: list[Any] = []
    for context in contexts:
        try:
            out.append(runs.wait(None, "agent", input={"text": "t"}, context=context))
        except Exception as exc:  # the error is the result
            out.append(_error(exc))
    return out


def run(client: Any) -> list[tuple[str, Any]]:
    """Every step's normalised result, in order."""
    norm = Normaliser()
    out: list[tuple[str, Any]] = []
    state: dict[str, Any] = {}
    A, T, R = client.assistants, client.threads, client.runs

    def step(name: str, call: Any, view: Any = None) -> Any:
        try:
            result = call()
        except Exception as exc:  # the error is the result
            out.append((name, norm(_error(exc))))
            return None
        out.append((name, norm(view(result) if view else result)))
        return result

    a1 = step(
        "create",
        lambda: A.create("agent", context={"greeting": "hi"}, name="Bot", metadata={"team": "x"}),
        _assistant,
    )
    aid = a1["assistant_id"]
    state["aid"] = aid
    step("create.keys", lambda: A.get(aid), _keys)
    step("get", lambda: A.get(aid), _assistant)
    step(
        "create.fixed_id",
        lambda: A.create("agent", assistant_id=FIXED_ID, name="fixed"),
        _assistant,
    )
    step(
        "create.do_nothing",
        lambda: A.create("agent", assistant_id=FIXED_ID, name="other", if_exists="do_nothing"),
        _assistant,
    )
    step("create.conflict", lambda: A.create("agent", assistant_id=FIXED_ID))
    step("create.unknown_graph", lambda: A.create("nope"))
    step("create.typo", lambda: A.create("agent", contxt={"greeting": "x"}))
    step(
        "create.configurable",
        lambda: A.create("agent", config={"configurable": {"greeting": "cf"}, "tags": ["t"]}),
        _assistant,
    )
    step(
        "create.configurable_and_context",
        lambda: A.create(
            "agent", config={"configurable": {"greeting": "a"}}, context={"greeting": "b"}
        ),
    )
    step(
        "create.empty_configurable",
        lambda: A.create("agent", config={"configurable": {}}, context={"greeting": "yo"}),
        _assistant,
    )
    step("update.context", lambda: A.update(aid, context={"greeting": "hello"}), _assistant)
    step("update.metadata", lambda: A.update(aid, metadata={"k": "new"}), _assistant)
    # wrong-typed arguments and ids that are not UUIDs: the server's 422 (issue 13 review)
    step("update.name_not_a_string", lambda: A.update(aid, name=5))
    step("update.metadata_not_an_object", lambda: A.update(aid, metadata=[1]))
    step("search.metadata_not_an_object", lambda: A.search(metadata=5))
    step("threads.get.not_a_uuid", lambda: T.get("not-a-uuid"))
    step("runs.wait.thread_not_a_uuid", lambda: R.wait("not-a-uuid", aid, input={}))
    step("runs.create.thread_not_a_uuid", lambda: R.create("not-a-uuid", aid, input={}))
    step("runs.get.run_not_a_uuid", lambda: R.get(FIXED_ID, "not-a-uuid"))
    step("threads.copy.not_a_uuid", lambda: T.copy("not-a-uuid"))
    step("count.name_not_a_string", lambda: A.count(name=5))
    step("create.name_not_a_string", lambda: A.create("agent", name=5))
    step("update.name", lambda: A.update(aid, name="Bot two"), _assistant)
    step(
        "update.configurable",
        lambda: A.update(aid, config={"configurable": {"greeting": "hey"}}),
        _assistant,
    )
    step("update.unknown", lambda: A.update(MISSING, name="x"))
    versions = lambda rows: [[r["version"], sorted(r), r["context"]] for r in rows]  # noqa: E731
    step("get_versions", lambda: A.get_versions(aid), versions)
    step("get_versions.page", lambda: A.get_versions(aid, limit=2, offset=1), versions)
    step(
        "get_versions.metadata_limit",
        lambda: A.get_versions(aid, metadata={"team": "x"}, limit=1, offset=3),
        versions,
    )
    step("get_versions.past_end", lambda: A.get_versions(aid, offset=50))
    step("rollback", lambda: A.set_latest(aid, 2), _assistant)
    step("update.after_rollback", lambda: A.update(aid, context={"greeting": "hey"}), _assistant)
    step("set_latest.missing", lambda: A.set_latest(aid, 99))
    step("get.missing", lambda: A.get(MISSING))
    names = lambda rows: [r["name"] for r in rows]  # noqa: E731
    step("search.name_asc", lambda: A.search(sort_by="name", sort_order="asc"), names)
    step("search.metadata", lambda: A.search(metadata={"team": "x"}), names)
    step("search.name", lambda: A.search(name="bot"), names)
    step("search.graph", lambda: A.search(graph_id="agent", limit=3, sort_by="name"), names)
    step(
        "search.select",
        lambda: A.search(select=["assistant_id", "name"], sort_by="name", limit=2),
        lambda rows: [sorted(r) for r in rows],
    )
    step(
        "search.object",
        lambda: A.search(response_format="object", limit=1, sort_by="name", sort_order="asc"),
        lambda r: {"keys": sorted(r), "names": names(r["assistants"]), "next": r["next"]},
    )
    step("search.bad_sort", lambda: A.search(sort_by="bogus"))
    step("search.limit_zero", lambda: A.search(limit=0))
    step("count", A.count)
    step("count.metadata", lambda: A.count(metadata={"team": "x"}))
    step("count.name", lambda: A.count(name="bot"))
    step("get_graph", lambda: A.get_graph(aid))
    step("get_subgraphs", lambda: A.get_subgraphs(aid))
    step("default.get", lambda: A.get(DEFAULT_ID), _assistant)
    step("default.get_versions", lambda: A.get_versions(DEFAULT_ID), versions)

    step("threads.create", lambda: T.create(thread_id=THREAD_ID), _thread)
    step(
        "threads.create.do_nothing",
        lambda: T.create(thread_id=THREAD_ID, if_exists="do_nothing"),
        _thread,
    )
    step("threads.create.conflict", lambda: T.create(thread_id=THREAD_ID))
    step("threads.get.missing", lambda: T.get(MISSING))
    step("runs.wait", lambda: R.wait(THREAD_ID, aid, input={"text": "x"}))
    step(
        "runs.stream.updates",
        lambda: list(R.stream(THREAD_ID, aid, input={"text": "y"}, stream_mode="updates")),
        _parts,
    )
    step(
        "runs.stream.modes",
        lambda: list(
            R.stream(None, "agent", input={"text": "z"}, stream_mode=["updates", "values"])
        ),
        _parts,
    )
    step(
        "runs.wait.configurable",
        lambda: R.wait(
            None, aid, input={"text": "c"}, config={"configurable": {"temperature": 3.0}}
        ),
    )
    step(
        "runs.wait.configurable_and_context",
        lambda: R.wait(None, aid, input={}, config={"configurable": {"a": 1}}, context={"b": 2}),
    )
    rejected = ({"colour": "red"}, {"temperature": "hot"})  # the graph's ContextSchema rejects
    step("run_declared_schema", lambda: _each_context(R, rejected))
    step(
        "runs.stream.v2",
        lambda: list(R.stream(None, aid, input={"text": "v"}, stream_mode="updates", version="v2")),
        lambda ps: [p for p in ps if p["type"] != "metadata"],
    )
    step(
        "runs.stream.events",
        lambda: list(R.stream(None, aid, input={"text": "e"}, stream_mode=["events", "updates"])),
        _events,
    )
    step("runs.stream.bad_mode", lambda: list(R.stream(None, aid, input={}, stream_mode="bogus")))
    step("runs.wait.missing_thread", lambda: R.wait(MISSING, aid, input={}))
    step("threads.get", lambda: T.get(THREAD_ID), _thread)
    step(
        "threads.get_state",
        lambda: T.get_state(THREAD_ID),
        lambda s: {"keys": sorted(s), "values": s["values"], "next": s["next"]},
    )
    step(
        "threads.get_history",
        lambda: T.get_history(THREAD_ID, limit=2),
        lambda h: [[sorted(s), s["next"]] for s in h],
    )
    step("runs.list", lambda: R.list(THREAD_ID), lambda rs: [r["status"] for r in rs])
    step("threads.search", lambda: T.search(metadata={"graph_id": "agent"}), len)
    step("threads.count", T.count)
    step("threads.update", lambda: T.update(THREAD_ID, metadata={"k": 1}), lambda t: t["metadata"])

    # human in the loop
    hitl = step("hitl.create", lambda: A.create("hitl", context={"greeting": "hh"}), _assistant)
    hid = hitl["assistant_id"] if hitl else "hitl"
    step("hitl.thread", lambda: T.create(thread_id=HITL_THREAD), _thread)
    step(
        "hitl.stream",
        lambda: list(R.stream(HITL_THREAD, hid, input={}, stream_mode="updates")),
        lambda ps: [p[0] for p in _parts(ps)],
    )
    step("hitl.thread_interrupted", lambda: T.get(HITL_THREAD), _thread)
    step(
        "hitl.state",
        lambda: T.get_state(HITL_THREAD),
        lambda s: {"next": s["next"], "values": s["values"], "interrupts": len(s["interrupts"])},
    )
    step("hitl.resume", lambda: R.wait(HITL_THREAD, hid, command={"resume": "yes"}))
    step("hitl.thread_done", lambda: T.get(HITL_THREAD), _thread)
    step("pause.thread", lambda: T.create(thread_id=PAUSE_THREAD), _thread)
    step(
        "pause.interrupt_before",
        lambda: list(
            R.stream(PAUSE_THREAD, hid, input={}, stream_mode="updates", interrupt_before=["look"])
        ),
        _parts,
    )
    step("pause.state", lambda: T.get_state(PAUSE_THREAD), lambda s: s["next"])

    step("identical_update", lambda: A.update(aid, context={"greeting": "hey"}), _assistant)
    step("delete", lambda: A.delete(aid))
    step("delete.get", lambda: A.get(aid))
    step("delete.again", lambda: A.delete(aid))
    step(
        "delete_history",
        lambda: A.create("agent", assistant_id=aid, context={"greeting": "new"}),
        _assistant,
    )
    step("threads.delete", lambda: T.delete(THREAD_ID))
    step("threads.delete.get", lambda: T.get(THREAD_ID))
    # last: the server's rollback of the default keeps version 2's context (a difference)
    step("default.update", lambda: A.update(DEFAULT_ID, context={"greeting": "d"}), _assistant)
    step("default.get_versions.after", lambda: A.get_versions(DEFAULT_ID), versions)
    step("set_latest_default", lambda: A.set_latest(DEFAULT_ID, 1), _assistant)
    return out


INTENDED = {d.key for d in DIFFERENCES}
