"""gitassist.graphs: loading real graphs from files and modules, context schemas, exports."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from gitassist.errors import ConfigError, NotFound, UserCodeError
from gitassist.graphs import load_graph
from gitassist.schema_export import (
    SchemaExport,
    export_schemas,
    graph_context_schema,
    schema_bytes,
)

EXAMPLE_REPO = Path(__file__).resolve().parent.parent / "example-repo"

# A real graph: one node that answers with a fixed word and whatever the context carries.
GRAPH_HEADER = """\
import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Annotated, Literal

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from pydantic import BaseModel, Field
from typing_extensions import NotRequired, Required, TypedDict


class State(TypedDict):
    out: str


def make_builder(word, context_schema=None):
    def node(state: State, runtime: Runtime) -> dict:
        return {"out": f"{word}:{runtime.context!r}"}

    builder = StateGraph(State, context_schema=context_schema)
    builder.add_node("node", node)
    builder.add_edge(START, "node")
    builder.add_edge("node", END)
    return builder
"""


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Write `{relative path: text}` under root (dedented) and return root."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def graph_file(body: str) -> str:
    return GRAPH_HEADER + textwrap.dedent(body)


def run(graph: Any, context: Any = None) -> str:
    result: dict[str, Any] = graph.invoke({"out": ""}, context=context)
    return str(result["out"])


def load_body(tmp_path: Path, body: str, attr: str = "graph") -> Any:
    write_tree(tmp_path, {"g.py": graph_file(body)})
    return load_graph(tmp_path, "g", f"./g.py:{attr}")


# --------------------------------------------------------------------------------------------
# Loading


def test_loads_compiled_graph_from_file_spec(tmp_path: Path) -> None:
    write_tree(tmp_path, {"graphs/agent.py": graph_file("graph = make_builder('a').compile()\n")})
    graph = load_graph(tmp_path, "agent", "./graphs/agent.py:graph")
    assert run(graph) == "a:None"


def test_loads_module_spec_with_root_on_sys_path(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "mypkg/__init__.py": "",
            "mypkg/agent.py": graph_file("graph = make_builder('mod').compile()\n"),
        },
    )
    graph = load_graph(tmp_path, "agent", "mypkg.agent:graph")
    assert run(graph) == "mod:None"


def test_dependency_directories_are_importable(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "langgraph.json": '{"dependencies": [".", "./libs"], "graphs": {}}',
            "libs/shared_words.py": "WORD = 'from-libs'\n",
            "g.py": graph_file(
                "from shared_words import WORD\ngraph = make_builder(WORD).compile()\n"
            ),
        },
    )
    assert run(load_graph(tmp_path, "g", "./g.py:graph")) == "from-libs:None"


def test_uncompiled_state_graph_is_compiled(tmp_path: Path) -> None:
    graph = load_body(tmp_path, "graph = make_builder('raw')\n")
    assert run(graph) == "raw:None"


def test_factory_without_arguments(tmp_path: Path) -> None:
    graph = load_body(tmp_path, "def make():\n    return make_builder('zero').compile()\n", "make")
    assert run(graph) == "zero:None"


def test_factory_receives_runnable_config(tmp_path: Path) -> None:
    body = """\
    def make(config):
        return make_builder(config["configurable"].get("word", "default"))
    """
    graph = load_body(tmp_path, body, "make")
    assert run(graph) == "default:None"
    graph = load_graph(tmp_path, "g", "./g.py:make", config={"configurable": {"word": "given"}})
    assert run(graph) == "given:None"


def test_async_factory(tmp_path: Path) -> None:
    body = "async def make(config):\n    return make_builder('async').compile()\n"
    assert run(load_body(tmp_path, body, "make")) == "async:None"


def test_same_relative_path_in_two_roots_stays_distinct(tmp_path: Path) -> None:
    roots = []
    for word in ("one", "two"):
        root = write_tree(
            tmp_path / word,
            {
                "helpers.py": f"WORD = {word!r}\n",
                "graphs/agent.py": graph_file(
                    "from helpers import WORD\ngraph = make_builder(WORD).compile()\n"
                ),
            },
        )
        roots.append(root)
    first = load_graph(roots[0], "agent", "./graphs/agent.py:graph")
    second = load_graph(roots[1], "agent", "./graphs/agent.py:graph")
    assert (run(first), run(second)) == ("one:None", "two:None")
    assert run(load_graph(roots[0], "agent", "./graphs/agent.py:graph")) == "one:None"


def test_missing_attribute_names_graph_and_spec(tmp_path: Path) -> None:
    write_tree(tmp_path, {"g.py": graph_file("other = make_builder('x').compile()\n")})
    with pytest.raises(NotFound) as caught:
        load_graph(tmp_path, "agent", "./g.py:graph")
    assert "graph 'agent'" in caught.value.message
    assert "./g.py:graph" in caught.value.message
    assert caught.value.hint is not None
    assert "other" in caught.value.hint


def test_missing_file_and_module(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"graph 'agent'.*nope\.py"):
        load_graph(tmp_path, "agent", "./nope.py:graph")
    with pytest.raises(NotFound, match=r"module 'no_such_pkg' not found"):
        load_graph(tmp_path, "agent", "no_such_pkg.agent:graph")


def test_malformed_spec_and_wrong_attribute_type(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not 'path/file\.py:attribute'"):
        load_graph(tmp_path, "agent", "./g.py")
    write_tree(tmp_path, {"g.py": "graph = 42\n"})
    with pytest.raises(ConfigError, match="is a int"):
        load_graph(tmp_path, "agent", "./g.py:graph")


def test_import_error_names_user_file_and_line(tmp_path: Path) -> None:
    source = "import os\n\nraise ValueError('boom at import')\n"
    write_tree(tmp_path, {"graphs/broken.py": source})
    with pytest.raises(UserCodeError) as caught:
        load_graph(tmp_path, "agent", "./graphs/broken.py:graph")
    message = caught.value.message
    assert "graph 'agent'" in message
    assert "ValueError: boom at import" in message
    assert "graphs/broken.py, line 3" in message
    assert "gitassist" not in message.replace("gitassist_graph", "")


def test_error_in_imported_helper_names_the_helper(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "util_broken.py": "x = 1\ny = {}['missing']\n",
            "g.py": "import util_broken\n",
        },
    )
    with pytest.raises(UserCodeError, match=r"KeyError: 'missing' \(at util_broken\.py, line 2\)"):
        load_graph(tmp_path, "agent", "./g.py:graph")


def test_syntax_error_names_user_file_and_line(tmp_path: Path) -> None:
    write_tree(tmp_path, {"g.py": "x = 1\ndef broken(:\n"})
    with pytest.raises(UserCodeError, match=r"SyntaxError.*\(at g\.py, line 2\)"):
        load_graph(tmp_path, "agent", "./g.py:graph")


def test_factory_error_names_the_factory_line(tmp_path: Path) -> None:
    body = "def make():\n    raise RuntimeError('no model configured')\n"
    write_tree(tmp_path, {"g.py": graph_file(body)})
    line = graph_file(body).splitlines().index("    raise RuntimeError('no model configured')") + 1
    with pytest.raises(UserCodeError) as caught:
        load_graph(tmp_path, "agent", "./g.py:make")
    assert "RuntimeError: no model configured" in caught.value.message
    assert f"(at g.py, line {line})" in caught.value.message
    assert "calling its factory" in caught.value.message


def test_factory_returning_something_else(tmp_path: Path) -> None:
    write_tree(tmp_path, {"g.py": "def make():\n    return 'a string'\n"})
    with pytest.raises(ConfigError, match="returned a str"):
        load_graph(tmp_path, "agent", "./g.py:make")


# --------------------------------------------------------------------------------------------
# Context schemas


def schema_of(tmp_path: Path, body: str) -> dict[str, Any]:
    schema = graph_context_schema(load_body(tmp_path, body))
    assert schema is not None
    Draft202012Validator.check_schema(schema)
    return schema


def test_typeddict_context_schema(tmp_path: Path) -> None:
    body = """\
    class Context(TypedDict, total=False):
        \"\"\"Context doc.\"\"\"

        model_name: Required[Annotated[Literal["echo", "openai"], "Which model answers"]]
        system_prompt: NotRequired[Annotated[str, "The system prompt"]]
        temperature: float

    graph = make_builder("td", Context).compile()
    """
    schema = schema_of(tmp_path, body)
    props = schema["properties"]
    assert schema["required"] == ["model_name"]
    assert schema["description"] == "Context doc."
    assert props["model_name"]["enum"] == ["echo", "openai"]
    assert props["model_name"]["description"] == "Which model answers"
    assert props["system_prompt"] == {
        "description": "The system prompt",
        "title": "System Prompt",
        "type": "string",
    }
    assert props["temperature"]["type"] == "number"


def test_typing_typeddict_context_schema(tmp_path: Path) -> None:
    # pydantic refuses typing.TypedDict on Python < 3.12; graphs.py rebuilds it.
    body = """\
    import typing

    class Context(typing.TypedDict):
        model_name: Annotated[str, "Which model"]
        temperature: typing.NotRequired[float]

    graph = make_builder("td", Context).compile()
    """
    schema = schema_of(tmp_path, body)
    assert schema["required"] == ["model_name"]
    assert schema["properties"]["model_name"]["description"] == "Which model"
    assert run(load_graph(tmp_path, "g", "./g.py:graph"), {"model_name": "x"}).startswith("td:")


def test_dataclass_context_schema(tmp_path: Path) -> None:
    body = """\
    @dataclass
    class Context:
        user_id: str
        model_name: Literal["echo", "openai"] = "echo"
        system_prompt: Annotated[str, "The system prompt"] = "You are terse."
        temperature: Annotated[float, Field(ge=0, le=2)] = 0.5
        tags: list[str] = field(default_factory=lambda: ["a", "b"])

    graph = make_builder("dc", Context).compile()
    """
    schema = schema_of(tmp_path, body)
    props = schema["properties"]
    assert schema["required"] == ["user_id"]
    assert props["model_name"]["default"] == "echo"
    assert props["system_prompt"]["default"] == "You are terse."
    assert props["system_prompt"]["description"] == "The system prompt"
    assert props["temperature"] | {} == {
        "default": 0.5,
        "maximum": 2,
        "minimum": 0,
        "title": "Temperature",
        "type": "number",
    }
    assert props["tags"]["default"] == ["a", "b"]


def test_unstable_default_factory_is_left_out(tmp_path: Path) -> None:
    body = """\
    import itertools
    counter = itertools.count()

    @dataclass
    class Context:
        run_number: int = field(default_factory=lambda: next(counter))

    graph = make_builder("dc", Context).compile()
    """
    assert "default" not in schema_of(tmp_path, body)["properties"]["run_number"]


def test_pydantic_context_schema(tmp_path: Path) -> None:
    body = """\
    class Tone(enum.Enum):
        TERSE = "terse"
        CHATTY = "chatty"

    class Limits(BaseModel):
        max_tokens: int = Field(256, description="Upper bound on reply length")

    class Context(BaseModel):
        model_name: Literal["echo", "openai"] = Field("echo", description="Which model answers")
        tone: Tone = Tone.TERSE
        limits: Limits = Field(default_factory=Limits)

    graph = make_builder("pm", Context).compile()
    """
    schema = schema_of(tmp_path, body)
    props = schema["properties"]
    assert props["model_name"]["description"] == "Which model answers"
    assert props["model_name"]["enum"] == ["echo", "openai"]
    assert props["tone"] == {"$ref": "#/$defs/Tone", "default": "terse"}
    assert schema["$defs"]["Tone"]["enum"] == ["terse", "chatty"]
    limits = schema["$defs"]["Limits"]["properties"]["max_tokens"]
    assert limits["description"] == "Upper bound on reply length"
    assert props["limits"]["$ref"] == "#/$defs/Limits"
    assert props["limits"]["default"] == {"max_tokens": 256}


def test_graph_without_context_schema(tmp_path: Path) -> None:
    graph = load_body(tmp_path, "graph = make_builder('none').compile()\n")
    assert graph_context_schema(graph) is None
    exports = export_schemas(tmp_path, {"g": "./g.py:graph"}, tmp_path / "schemas")
    assert exports == [
        SchemaExport("g", tmp_path / "schemas" / "g.context.json", "no_context_schema")
    ]
    assert not (tmp_path / "schemas").exists()


def test_schema_bytes_is_deterministic() -> None:
    data = schema_bytes({"b": 1, "a": {"z": "é", "y": [1, 2]}})
    assert data == schema_bytes({"a": {"y": [1, 2], "z": "é"}, "b": 1})
    assert data.decode("utf-8").startswith('{\n  "a": {\n    "y": [')
    assert data.endswith(b"}\n")
    assert "é".encode() in data


# --------------------------------------------------------------------------------------------
# Exporting

CONTEXT_BODY = """\
@dataclass
class Context:
    model_name: Literal["echo", "openai"] = "{default}"

graph = make_builder("x", Context).compile()
"""


def test_export_is_byte_identical_across_runs(tmp_path: Path) -> None:
    write_tree(tmp_path, {"g.py": graph_file(CONTEXT_BODY.format(default="echo"))})
    out = tmp_path / "schemas"
    first = export_schemas(tmp_path, {"agent": "./g.py:graph"}, out)
    written = (out / "agent.context.json").read_bytes()
    assert [e.status for e in first] == ["written"]
    (out / "agent.context.json").unlink()
    export_schemas(tmp_path, {"agent": "./g.py:graph"}, out)
    assert (out / "agent.context.json").read_bytes() == written
    again = export_schemas(tmp_path, {"agent": "./g.py:graph"}, out)
    assert again == [SchemaExport("agent", out / "agent.context.json", "unchanged")]


def test_check_mode_reports_change_with_diff(tmp_path: Path) -> None:
    write_tree(tmp_path, {"g.py": graph_file(CONTEXT_BODY.format(default="echo"))})
    out = tmp_path / "schemas"
    export_schemas(tmp_path, {"agent": "./g.py:graph"}, out)
    committed = (out / "agent.context.json").read_bytes()
    write_tree(tmp_path, {"g.py": graph_file(CONTEXT_BODY.format(default="openai"))})

    [export] = export_schemas(tmp_path, {"agent": "./g.py:graph"}, out, write=False)
    assert export.status == "changed"
    assert "schemas/agent.context.json (committed)" in export.diff
    assert '-      "default": "echo",' in export.diff
    assert '+      "default": "openai",' in export.diff
    assert (out / "agent.context.json").read_bytes() == committed


def test_check_mode_reports_missing_file(tmp_path: Path) -> None:
    write_tree(tmp_path, {"g.py": graph_file(CONTEXT_BODY.format(default="echo"))})
    out = tmp_path / "schemas"
    [export] = export_schemas(tmp_path, {"agent": "./g.py:graph"}, out, write=False)
    assert export.status == "changed"
    assert "(missing)" in export.diff
    assert not out.exists()


# --------------------------------------------------------------------------------------------
# The example repository


def test_example_repo_agent_uses_the_context(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE_REPO, root)
    graph = load_graph(root, "agent", "./graphs/agent.py:graph")
    context = {"model_name": "echo", "system_prompt": "Be brief."}
    result = graph.invoke({"messages": [("user", "hi")]}, context=context)
    assert result["messages"][-1].content == "[echo] (system: Be brief.) you said: hi"
    schema = graph_context_schema(graph)
    assert schema is not None
    assert schema["properties"]["model_name"]["enum"] == ["echo", "openai", "anthropic"]
    assert schema["properties"]["model_name"]["default"] == "echo"
