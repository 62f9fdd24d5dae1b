"""gitassist schemas export / check: context schemas from TypedDict, dataclass, pydantic graphs."""

from __future__ import annotations

import json
import textwrap
from typing import Any

from conftest import EXAMPLE

HEADER = """\
import enum
from dataclasses import dataclass, field
from typing import Annotated, Literal

from langgraph.graph import END, START, StateGraph
from pydantic import BaseModel, Field
from typing_extensions import NotRequired, TypedDict


class State(TypedDict):
    out: str


def node(state: State) -> dict:
    return {"out": "ok"}


def build(context_schema=None):
    builder = StateGraph(State, context_schema=context_schema)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    builder.add_edge("node", END)
    return builder.compile()
"""

TYPED_DICT = """
class Context(TypedDict):
    model_name: Annotated[Literal["echo", "openai"], "Which model answers"]
    system_prompt: NotRequired[str]

graph = build(Context)
"""

DATACLASS = """
@dataclass
class Context:
    user_id: str
    model_name: Annotated[Literal["echo", "openai"], "Which model answers"] = "echo"
    tags: list[str] = field(default_factory=lambda: ["a"])

graph = build(Context)
"""

PYDANTIC = """
class Tone(enum.Enum):
    TERSE = "terse"
    CHATTY = "chatty"

class Limits(BaseModel):
    max_tokens: int = Field(256, description="Upper bound on reply length")

class Context(BaseModel):
    model_name: Literal["echo", "openai"] = Field("echo", description="Which model answers")
    tone: Tone = Tone.TERSE
    limits: Limits = Field(default_factory=Limits)

graph = build(Context)
"""


def graph_repo(make_repo: Any, body: str, extra: dict[str, str] | None = None) -> Any:
    files = {"graph.py": HEADER + textwrap.dedent(body), "schemas/agent.context.json": None}
    return make_repo({**files, **(extra or {})})


def export(cli: Any, repo: Any) -> dict[str, Any]:
    result = cli("schemas", "export", "-C", str(repo.path), "--json")
    return {f["name"]: f for f in json.loads(result.stdout)}


def read_schema(repo: Any) -> dict[str, Any]:
    return dict(json.loads((repo.path / "schemas/agent.context.json").read_text()))


def test_typeddict_export(make_repo: Any, cli: Any) -> None:
    repo = graph_repo(make_repo, TYPED_DICT)
    files = export(cli, repo)
    assert files["agent"]["status"] == "written"
    assert files["assistant"]["status"] == "written"
    schema = read_schema(repo)
    assert schema["required"] == ["model_name"]
    assert schema["properties"]["model_name"]["enum"] == ["echo", "openai"]
    assert schema["properties"]["model_name"]["description"] == "Which model answers"
    document = json.loads((repo.path / "schemas/assistant.schema.json").read_text())
    assert document["properties"]["graph_id"]["enum"] == ["agent"]
    assert "$id" not in document  # its $refs resolve against the file itself
    [rule] = document["allOf"]
    assert rule["if"]["properties"]["graph_id"] == {"const": "agent"}
    ref, closed = rule["then"]["properties"]["context"]["allOf"]
    assert ref == {"$ref": "agent.context.json"}
    assert closed == {
        "properties": {"model_name": True, "system_prompt": True},
        "additionalProperties": False,
    }


def test_dataclass_export_keeps_defaults(make_repo: Any, cli: Any) -> None:
    repo = graph_repo(make_repo, DATACLASS)
    export(cli, repo)
    props = read_schema(repo)["properties"]
    assert read_schema(repo)["required"] == ["user_id"]
    assert props["model_name"]["default"] == "echo"
    assert props["tags"]["default"] == ["a"]


def test_pydantic_export_with_nested_model_and_enum(make_repo: Any, cli: Any) -> None:
    repo = graph_repo(make_repo, PYDANTIC)
    export(cli, repo)
    schema = read_schema(repo)
    assert schema["$defs"]["Tone"]["enum"] == ["terse", "chatty"]
    limits = schema["$defs"]["Limits"]["properties"]["max_tokens"]
    assert limits["description"] == "Upper bound on reply length"


def test_export_is_deterministic_and_validate_uses_it(make_repo: Any, cli: Any) -> None:
    repo = graph_repo(
        make_repo,
        PYDANTIC,
        {
            "assistants/a.yaml": (
                "assistant_id: 11111111-1111-4111-8111-111111111111\ngraph_id: agent\n"
                "context:\n  tone: loud\n  limits:\n    max_tokns: 5\n"
            )
        },
    )
    export(cli, repo)
    first = (repo.path / "schemas/agent.context.json").read_bytes()
    assert export(cli, repo)["agent"]["status"] == "unchanged"
    assert (repo.path / "schemas/agent.context.json").read_bytes() == first
    result = cli("validate", "-C", str(repo.path), "--format", "json", code=3)
    codes = {(p["code"], p["json_path"]) for p in json.loads(result.stdout)["problems"]}
    assert ("schema.enum", "$.context.tone") in codes
    assert ("unknown_key", "$.context.limits.max_tokns") in codes


def test_check_fails_after_the_context_schema_changes(make_repo: Any, cli: Any) -> None:
    repo = graph_repo(make_repo, TYPED_DICT)
    export(cli, repo)
    cli("schemas", "check", "-C", str(repo.path))
    changed = TYPED_DICT.replace(
        "system_prompt: NotRequired[str]", "system_prompt: NotRequired[str]\n    temperature: float"
    )
    repo.write({"graph.py": HEADER + changed})
    result = cli("schemas", "check", "-C", str(repo.path), code=1)
    assert "schemas/agent.context.json: OUT OF DATE" in result.output
    assert '+    "temperature": {' in result.output
    assert "schemas out of date: agent" in result.output
    data = json.loads(cli("schemas", "check", "-C", str(repo.path), "--json", code=1).stdout)
    # the document schema lists the graph's keys, so it drifts with the context schema
    assert {f["name"]: f["status"] for f in data} == {"agent": "changed", "assistant": "changed"}
    assert '+                  "temperature": true' in result.output


def test_graph_without_context_schema_is_reported(make_repo: Any, cli: Any) -> None:
    repo = graph_repo(make_repo, "graph = build()\n")
    result = cli("schemas", "export", "-C", str(repo.path))
    assert "graph `agent`: the graph declares no context schema" in result.output
    assert not (repo.path / "schemas/agent.context.json").exists()
    repo.write({"schemas/agent.context.json": "{}\n"})
    stale = cli("schemas", "check", "-C", str(repo.path), code=1)
    assert "STALE" in stale.output


def test_example_repo_carries_current_schemas(example_repo: Any, cli: Any) -> None:
    assert (EXAMPLE / "schemas/agent.context.json").is_file()
    assert (EXAMPLE / "schemas/assistant.schema.json").is_file()
    cli("schemas", "check", "-C", str(example_repo.path))
    cli("validate", "-C", str(example_repo.path))
