"""Editor support: the document schema bound to the graphs, as real tools read it.

``gitassist schemas export`` writes ``schemas/assistant.schema.json`` bound to langgraph.json's
graphs (``graph_id`` an enum; per graph, ``context`` a ``$ref`` to its context schema, closed
when ``unknown_context_keys`` is "error"). The real yaml-language-server (npm, over stdio LSP;
skipped with the reason where node or the package is missing) checks and completes a document
under a nested ``assistants_dir`` through its ``$schema`` line, and ``check-jsonschema`` checks
the exported schemas and sample documents. ``validate`` warns about a ``$schema`` line that
points at a missing file.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.yamlls import YamlLanguageServer, find_server

ID = "11111111-1111-4111-8111-111111111111"
OTHER_ID = "22222222-2222-4222-8222-222222222222"
NESTED = "config/bots"
LINE = "# yaml-language-server: $schema=../../schemas/assistant.schema.json\n"
GOOD = f"""{LINE}assistant_id: {ID}
graph_id: agent
name: Helper
context:
  model_name: echo
  system_prompt: Be brief.
"""
MISSPELT = GOOD.replace("  system_prompt:", "  sytem_prompt:").replace(ID, OTHER_ID)


def exported(example_repo: Any, cli: Any, config: str = f"assistants_dir: {NESTED}\n") -> Path:
    """The example repository with a nested assistants_dir and freshly exported schemas."""
    example_repo.write({"gitassist.yaml": config})
    cli("schemas", "export", "-C", str(example_repo.path))
    root: Path = example_repo.path
    (root / NESTED).mkdir(parents=True, exist_ok=True)
    return root


def document_schema(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / "schemas/assistant.schema.json").read_text())
    return data


# --------------------------------------------------------------------------- the export


def test_export_binds_graph_id_and_context_to_the_graphs(example_repo, cli):
    root = exported(example_repo, cli)
    schema = document_schema(root)
    assert schema["properties"]["graph_id"]["enum"] == ["agent"]
    [rule] = schema["allOf"]
    assert rule["if"] == {"properties": {"graph_id": {"const": "agent"}}, "required": ["graph_id"]}
    ref, closed = rule["then"]["properties"]["context"]["allOf"]
    assert ref == {"$ref": "agent.context.json"}
    assert (root / "schemas" / ref["$ref"]).is_file()
    assert closed["additionalProperties"] is False
    assert set(closed["properties"]) == {"model_name", "system_prompt", "temperature"}
    first = (root / "schemas/assistant.schema.json").read_bytes()
    again = json.loads(cli("schemas", "export", "-C", str(root), "--json").stdout)
    assert {f["name"]: f["status"] for f in again} == {
        "agent": "unchanged",
        "assistant": "unchanged",
    }
    assert (root / "schemas/assistant.schema.json").read_bytes() == first


def test_allow_leaves_context_open(example_repo, cli):
    root = exported(example_repo, cli, "unknown_context_keys: allow\n")
    [rule] = document_schema(root)["allOf"]
    assert rule["then"]["properties"]["context"] == {"$ref": "agent.context.json"}


def test_check_fails_when_the_document_schema_drifts(example_repo, cli):
    root = exported(example_repo, cli)
    cli("schemas", "check", "-C", str(root))
    example_repo.write({"gitassist.yaml": "unknown_context_keys: allow\n"})  # policy changed
    result = cli("schemas", "check", "-C", str(root), "--json", code=1)
    assert {f["name"]: f["status"] for f in json.loads(result.stdout)} == {
        "agent": "unchanged",
        "assistant": "changed",
    }
    (root / "schemas/assistant.schema.json").write_text("{}\n")
    result = cli("schemas", "check", "-C", str(root), code=1)
    assert "schemas/assistant.schema.json: OUT OF DATE" in result.output


def test_a_graph_without_context_schema_is_in_the_enum_only(make_repo, cli):
    from tests.conftest import GRAPH_PY

    plain = GRAPH_PY.replace("StateGraph(State, context_schema=Context)", "StateGraph(State)")
    repo = make_repo(
        {
            "langgraph.json": json.dumps(
                {"graphs": {"agent": "./graph.py:graph", "plain": "./plain.py:graph"}}
            ),
            "plain.py": plain,
        }
    )
    cli("schemas", "export", "-C", str(repo.path))
    schema = document_schema(repo.path)
    assert schema["properties"]["graph_id"]["enum"] == ["agent", "plain"]
    assert [r["if"]["properties"]["graph_id"]["const"] for r in schema["allOf"]] == ["agent"]


def test_a_repository_without_graphs_keeps_the_generic_schema(tmp_path, cli):
    from gitassist.schemas import document_schema_text
    from tests.conftest import ROOT, git

    git(tmp_path, "init", "-q", "-b", "main")
    cli("schemas", "export", "-C", str(tmp_path))
    generic = (tmp_path / "schemas/assistant.schema.json").read_text()
    assert generic == document_schema_text() == (ROOT / "schemas/assistant.schema.json").read_text()
    assert "allOf" not in json.loads(generic)


# --------------------------------------------------------------------------- validate


def schema_line_warnings(cli: Any, root: Path, *extra: str) -> list[dict[str, Any]]:
    result = cli("validate", "-C", str(root), "--format", "json", *extra)
    problems = json.loads(result.stdout)["problems"]
    return [p for p in problems if p["code"] == "schema_line"]


def test_validate_warns_when_the_schema_line_points_at_a_missing_file(example_repo, cli):
    root = exported(example_repo, cli)
    wrong = GOOD.replace("../../schemas/", "../schemas/").replace(ID, OTHER_ID)
    example_repo.commit({f"{NESTED}/good.yaml": GOOD, f"{NESTED}/wrong.yaml": wrong}, "documents")
    # (../schemas/ is right for a document in assistants/, wrong one level deeper)
    for extra in ((), ("--rev", "HEAD")):  # the working tree, and a commit's tree
        [warning] = schema_line_warnings(cli, root, *extra)
        assert warning["file"] == f"{NESTED}/wrong.yaml"
        assert warning["severity"] == "warning"
        assert (warning["line"], warning["column"]) == (1, 33)
        assert warning["message"] == (
            "the `$schema` line points at `config/schemas/assistant.schema.json`, which does not "
            "exist; from this file it is `../../schemas/assistant.schema.json`"
        )
    result = cli("validate", "-C", str(root), "--strict", code=3)
    assert "config/bots/wrong.yaml:1:33" in result.output


@pytest.mark.parametrize(
    ("line", "warned"),
    [
        ("# yaml-language-server: $schema=https://example.com/assistant.schema.json\n", False),
        ("# yaml-language-server: $schema=../../../../outside.json\n", True),
        ("# yaml-language-server: $schema=/etc/assistant.schema.json\n", True),
        ("# $schema: ../../schemas/assistant.schema.json\n", False),
        ("# $schema: ../../schemas/missing.json\n", True),
    ],
)
def test_schema_line_forms(example_repo, cli, line, warned):
    root = exported(example_repo, cli)
    (root / NESTED / "a.yaml").write_text(GOOD.replace(LINE, line))
    assert bool(schema_line_warnings(cli, root)) is warned


def test_a_line_after_the_content_is_not_a_schema_line():
    from gitassist.schemas import schema_line_target

    assert schema_line_target("a/b.yaml", f"graph_id: x\n{LINE}") is None
    assert schema_line_target("a/b.yaml", f"# a comment\n\n{LINE}x: 1\n") == (
        "../schemas/assistant.schema.json",
        3,
        33,
    )


SEGMENT = st.sampled_from(["..", ".", "schemas", "a b", "x.json", ""])


@given(st.text(max_size=200), st.lists(SEGMENT, max_size=6), st.lists(SEGMENT, max_size=4))
def test_schema_line_target_never_fails_and_is_normalised(prefix, value, folder):
    import posixpath

    from gitassist.schemas import schema_line_target

    doc = "/".join([*[s for s in folder if s not in ("", ".", "..")], "d.yaml"])
    text = f"# yaml-language-server: $schema={'/'.join(value) or 'x'}\n{prefix}"
    found = schema_line_target(doc, text)
    assert found is not None
    target, line, _ = found
    assert line == 1
    assert target.startswith("/") or target == posixpath.normpath(target)  # absolute: as written
    assert schema_line_target(doc, "\n# a note\n" + text) == (target, 3, found[2])


# --------------------------------------------------------------------------- check-jsonschema


def check_jsonschema(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent))
    if exe is None:
        pytest.skip("check-jsonschema is not installed (it is in the dev extras)")
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=120, check=False)


def test_check_jsonschema_accepts_the_schemas_and_checks_documents(example_repo, cli):
    from tests.conftest import ROOT

    root = exported(example_repo, cli)
    schemas = [root / "schemas/assistant.schema.json", root / "schemas/agent.context.json"]
    generic = ROOT / "schemas/assistant.schema.json"
    metaschema = check_jsonschema("--check-metaschema", *map(str, [*schemas, generic]))
    assert metaschema.returncode == 0, metaschema.stdout + metaschema.stderr
    docs = root / NESTED
    (docs / "good.yaml").write_text(GOOD)
    (docs / "misspelt.yaml").write_text(MISSPELT)
    (docs / "hot.yaml").write_text(GOOD.replace("  model_name: echo", "  temperature: hot"))
    (docs / "other.yaml").write_text(GOOD.replace("graph_id: agent", "graph_id: agnet"))
    schema = ["--schemafile", str(schemas[0])]
    good = check_jsonschema(*schema, str(docs / "good.yaml"))
    assert good.returncode == 0, good.stdout
    bad = check_jsonschema(
        *schema, *(str(docs / f"{n}.yaml") for n in ("misspelt", "hot", "other"))
    )
    assert bad.returncode == 1
    for name, expected in [
        ("misspelt", "$.context: Additional properties are not allowed ('sytem_prompt' was"),
        ("hot", "$.context.temperature: 'hot' is not of type 'number'"),  # through the $ref
        ("other", "$.graph_id: 'agnet' is not one of ['agent']"),
    ]:
        assert f"{docs / name}.yaml::{expected}" in bad.stdout, bad.stdout


# --------------------------------------------------------------------------- yaml-language-server


@pytest.fixture
def language_server():
    script, why = find_server()
    if script is None:
        pytest.skip(why)
    with YamlLanguageServer(script) as server:
        yield server


def test_editor_flags_a_misspelt_context_key_and_not_a_valid_document(
    example_repo, cli, language_server
):
    root = exported(example_repo, cli)
    misspelt, good = root / NESTED / "misspelt.yaml", root / NESTED / "good.yaml"
    misspelt.write_text(MISSPELT)
    good.write_text(GOOD)
    [diagnostic] = language_server.open(misspelt, MISSPELT)
    assert diagnostic["message"] == "Property sytem_prompt is not allowed."
    start = diagnostic["range"]["start"]
    assert (start["line"], start["character"]) == (6, 2)  # the misspelt key itself
    assert language_server.open(good, GOOD) == []
    # the schema did apply to the valid document: hovering a context key shows its description
    assert "The system prompt sent before the conversation" in language_server.hover(good, 6, 4)
    # validate agrees with the editor
    result = cli("validate", "-C", str(root), "--format", "json", code=3)
    problems = json.loads(result.stdout)["problems"]
    assert [(p["file"], p["code"], p["line"]) for p in problems] == [
        (f"{NESTED}/misspelt.yaml", "unknown_key", 7)
    ]


def test_editor_flags_an_unknown_graph_and_a_wrong_context_type(example_repo, cli, language_server):
    root = exported(example_repo, cli)
    path = root / NESTED / "bad.yaml"
    text = GOOD.replace("  model_name: echo", "  temperature: hot")
    messages = {d["message"] for d in language_server.open(path, text)}
    assert messages == {'Incorrect type. Expected "number".'}
    other = root / NESTED / "other.yaml"
    text = GOOD.replace("graph_id: agent", "graph_id: agnet")
    messages = {d["message"] for d in language_server.open(other, text)}
    assert messages == {'Value is not accepted. Valid values: "agent".'}


def test_editor_completes_the_graphs_context_keys(example_repo, cli, language_server):
    root = exported(example_repo, cli)
    path = root / NESTED / "new.yaml"
    text = f"{LINE}assistant_id: {ID}\ngraph_id: agent\ncontext:\n  model_name: echo\n  \n"
    language_server.open(path, text)
    items = language_server.completion(path, 5, 2)
    labels = {item["label"] for item in items}
    assert labels == {"system_prompt", "temperature"}  # the graph's keys not yet set
    docs = {item["label"]: item.get("documentation") for item in items}
    assert docs["temperature"] == "Sampling temperature"


@pytest.mark.parametrize(
    "value",
    ["x" * 5000 + ".json", "a\x00b.json", "\udcff.json", "../" * 300 + "x.json", "%00.json"],
)
def test_a_hostile_schema_line_is_a_warning_not_a_crash(example_repo, cli, value):
    root = exported(example_repo, cli)
    text = GOOD.replace(LINE, f"# yaml-language-server: $schema={value}\n")
    (root / NESTED / "a.yaml").write_bytes(text.encode("utf-8", errors="surrogateescape"))
    for extra in ((), ("--rev", "HEAD")):
        if extra:
            example_repo.commit({}, "hostile")
        result = cli("validate", "-C", str(root), "--format", "json", *extra, code=None)
        assert result.exit_code in (0, 3), result.output  # never 70
    human = cli("validate", "-C", str(root), code=None)
    assert human.exit_code in (0, 3) and "\x00" not in human.output, human.output


def test_a_missing_document_schema_is_named_with_the_command_that_writes_it(make_repo, cli):
    repo = make_repo({"assistants/a.yaml": GOOD.replace("../../", "../")})
    [warning] = schema_line_warnings(cli, repo.path)
    assert warning["message"] == (
        "the `$schema` line points at `schemas/assistant.schema.json`, which does not exist; "
        "run `gitassist schemas export` and commit it"
    )
    cli("schemas", "export", "-C", str(repo.path))
    assert schema_line_warnings(cli, repo.path) == []


def test_editor_follows_the_context_schemas_own_defs(make_repo, cli, language_server):
    """A pydantic context with a nested model and an enum: their ``#/$defs/…`` refs resolve
    inside agent.context.json, reached through the document schema's ``$ref``."""
    from tests.test_schemas_cli import PYDANTIC, graph_repo

    repo = graph_repo(make_repo, PYDANTIC, {"gitassist.yaml": f"assistants_dir: {NESTED}\n"})
    cli("schemas", "export", "-C", str(repo.path))
    path = repo.path / NESTED / "a.yaml"
    path.parent.mkdir(parents=True)
    text = f"{LINE}assistant_id: {ID}\ngraph_id: agent\ncontext:\n  tone: loud\n  limits:\n"
    text += "    max_tokens: many\n"
    messages = sorted(d["message"] for d in language_server.open(path, text))
    assert messages == [
        'Incorrect type. Expected "integer".',
        'Value is not accepted. Valid values: "terse", "chatty".',
    ]
