"""Hostile documents and schemas from a fork: bounded, refused with file:line:col, never exit 70.

One fixture per row of issue 10 items 2-3 (alias bombs, self-referencing aliases, deep
nesting, oversize documents; catastrophic and unsupported regexes, remote and looping $refs),
the table of document-level user errors from issue 11, and a property test over random
hostile documents through `validate`, `diff` and `apply --dry-run`.
"""

from __future__ import annotations

import json
import uuid

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from gitassist import limits
from gitassist.errors import ExitCode
from tests.conftest import CONTEXT_SCHEMA, doc_yaml
from tests.strategies import (
    Hostile,
    alias_bomb,
    assert_user_outcome,
    hostile_document,
    hostile_settings,
    printed_secrets,
    run_main,
)

AID = "6f1c1c3e-0000-4000-8000-000000000001"
HEAD = f"assistant_id: {AID}\ngraph_id: agent\nname: Bot\n"


def _validate(make_repo, files: dict[str, str]) -> tuple[str, object]:
    repo = make_repo(files)
    outcome = run_main("validate", "-C", str(repo.path))
    assert_user_outcome(outcome)
    return outcome.output, outcome


def _one_line_error(outcome, where: str) -> None:
    assert outcome.code == ExitCode.INVALID, outcome.output
    assert where in outcome.output, outcome.output


# --------------------------------------------------------------------------- issue 10 item 2


def _count_constructed(monkeypatch) -> list[int]:
    """Count the YAML nodes the strict loader constructs: work, not time."""
    from gitassist import yaml12

    count = [0]
    original = yaml12.Loader.construct_object

    def counting(self, node, deep=False):
        count[0] += 1
        return original(self, node, deep)

    monkeypatch.setattr(yaml12.Loader, "construct_object", counting)
    return count


def test_alias_bomb_is_refused_before_anything_is_expanded(make_repo, monkeypatch):
    bomb = (
        HEAD
        + "context:\n  model_name: echo\n"
        + "metadata:\n"
        + "".join("  " + line + "\n" for line in alias_bomb(8).splitlines())
    )
    assert len(bomb.encode()) < 1000
    count = _count_constructed(monkeypatch)
    _, outcome = _validate(make_repo, {"assistants/bomb.yaml": bomb})
    _one_line_error(outcome, "assistants/bomb.yaml:")
    assert "aliases expand to more than 10,000 nodes" in outcome.output
    assert count[0] == 0  # refused on the composed graph, nothing constructed


@pytest.mark.parametrize("levels", [4, 5, 6])
def test_small_bombs_are_measured_exactly(levels):
    from gitassist.documents import load_yaml_data
    from gitassist.errors import DocumentError

    text = alias_bomb(levels)
    expanded = sum(9**i for i in range(2, levels + 2)) + 9 ** (levels + 1)  # aliases only
    if expanded <= limits.MAX_ALIAS_NODES:
        load_yaml_data(text, "x.yaml")
    else:
        with pytest.raises(DocumentError, match="aliases expand"):
            load_yaml_data(text, "x.yaml")


@pytest.mark.parametrize(
    "text",
    [
        "context: &a [*a]\n",
        "context: &a {model_name: *a}\n",
        "context: {model_name: echo}\nmetadata: &m {a: [1, {b: *m}]}\n",
    ],
)
def test_self_referencing_alias_in_a_document(make_repo, text):
    _, outcome = _validate(make_repo, {"assistants/self.yaml": HEAD + text})
    _one_line_error(outcome, "assistants/self.yaml:")
    assert "alias refers to a collection that contains it" in outcome.output


def test_self_referencing_alias_in_set_and_input(make_repo):
    repo = make_repo()
    before = repo.refs()
    outcome = run_main("create", "agent", "--name", "X", "--set", "x=&a [*a]", "-C", str(repo.path))
    assert outcome.code == ExitCode.USAGE and "contains it" in outcome.output, outcome.output
    outcome = run_main(
        "create", "agent", "--name", "X", "--context", "&a {b: *a}", "-C", str(repo.path)
    )
    assert outcome.code == ExitCode.USAGE and "contains it" in outcome.output, outcome.output
    outcome = run_main("run", "agent", "--input", "&a {messages: *a}", "-C", str(repo.path))
    assert outcome.code == ExitCode.USAGE and "contains it" in outcome.output, outcome.output
    assert repo.refs() == before


def test_deep_nesting_is_refused_at_its_place(make_repo):
    deep = "[" * 150 + "1" + "]" * 150
    text = HEAD + f"context:\n  model_name: echo\n  x: {deep}\n"
    _, outcome = _validate(make_repo, {"assistants/deep.yaml": text})
    _one_line_error(outcome, "assistants/deep.yaml:6:")
    assert f"nested deeper than {limits.MAX_DEPTH} levels" in outcome.output


def test_nesting_through_aliases_counts_the_expanded_depth():
    from gitassist.documents import load_yaml_data
    from gitassist.errors import DocumentError

    half = "[" * 60 + "1" + "]" * 60
    with pytest.raises(DocumentError, match="nested deeper"):
        load_yaml_data(f"a: &a {half}\nb: {'[' * 60}*a{']' * 60}\n", "x.yaml")


def test_oversize_document_is_refused(make_repo):
    text = (
        HEAD
        + "context:\n  model_name: echo\n  system_prompt: '"
        + "x" * limits.MAX_DOCUMENT_BYTES
        + "'\n"
    )
    _, outcome = _validate(make_repo, {"assistants/big.yaml": text})
    _one_line_error(outcome, "assistants/big.yaml:6:")
    assert "larger than 1,000,000 bytes" in outcome.output


def test_a_big_legitimate_document_still_passes(make_repo):
    prompt = "You are a careful assistant. " * 7000  # ~200 KB
    metadata = {f"key_{i}": {"owner": f"team-{i}", "tags": ["a", "b"], "n": i} for i in range(400)}
    text = doc_yaml(AID, context={"model_name": "echo", "system_prompt": prompt}, metadata=metadata)
    assert len(text) > 200_000
    output, outcome = _validate(make_repo, {"assistants/big.yaml": text})
    assert outcome.code == 0, output


def test_limits_apply_to_the_round_trip_editor_too():
    from yaml import YAMLError

    from gitassist.documents import load_roundtrip

    with pytest.raises(YAMLError, match="aliases expand"):
        load_roundtrip(alias_bomb(8))
    with pytest.raises(YAMLError, match="contains it"):
        load_roundtrip("a: &a [*a]\n")


# --------------------------------------------------------------------------- issue 10 item 3


def _schema_repo(make_repo, schema: dict, context: dict):
    return make_repo(
        {
            "schemas/agent.context.json": json.dumps(schema),
            "assistants/bot.yaml": doc_yaml(AID, context=context),
        }
    )


def test_catastrophic_pattern_runs_in_linear_time(make_repo, monkeypatch):
    import re

    schema = {
        **CONTEXT_SCHEMA,
        "properties": {
            **CONTEXT_SCHEMA["properties"],
            "code": {"type": "string", "pattern": "^(a+)+$"},
        },
    }
    repo = _schema_repo(make_repo, schema, {"model_name": "echo", "code": "a" * 40 + "!"})

    def no_python_re(*args, **kwargs):
        raise AssertionError("a schema pattern reached Python's backtracking re")

    monkeypatch.setattr(re, "search", no_python_re)  # jsonschema's own pattern keyword uses it
    outcome = run_main("validate", "-C", str(repo.path))
    assert outcome.code == ExitCode.INVALID, outcome.output
    assert "does not match" in outcome.output and "assistants/bot.yaml:" in outcome.output


def test_pattern_properties_and_additional_properties_use_re2(monkeypatch):
    import re

    from gitassist.schema_engine import make_validator

    monkeypatch.setattr(re, "search", lambda *a, **k: pytest.fail("Python re used"))
    validator = make_validator(
        {"patternProperties": {"^(a+)+$": {"type": "integer"}}, "additionalProperties": False},
        path="s.json",
    )
    errors = [e.message for e in validator.iter_errors({"aaaa": "x", "a" * 40 + "!": 1})]
    assert len(errors) == 2


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        (
            {"properties": {"x": {"type": "string", "pattern": "(?=a)b"}}},
            "$.properties.x.pattern: pattern '(?=a)b' not supported",
        ),
        ({"patternProperties": {"(a)\\1": {}}}, "not supported"),
        ({"properties": {"x": {"$ref": "http://example.com/s.json"}}}, "points outside the schema"),
        ({"properties": {"x": {"$ref": "file:///etc/passwd"}}}, "points outside the schema"),
        ({"$ref": "#"}, "refers back to itself"),
        (
            {
                "$defs": {"a": {"allOf": [{"$ref": "#/$defs/a"}]}},
                "properties": {"x": {"$ref": "#/$defs/a"}},
            },
            "refers back to itself",
        ),
        ({"properties": {"x": {"$ref": "#/$defs/none"}}}, "cannot be resolved"),
    ],
)
def test_unsupported_schemas_are_one_line_errors(make_repo, schema, message):
    schema = {"type": "object", **schema}
    repo = _schema_repo(make_repo, schema, {"model_name": "echo", "x": "b"})
    outcome = run_main("validate", "-C", str(repo.path))
    assert_user_outcome(outcome)
    assert outcome.code == ExitCode.INVALID, outcome.output
    assert "schemas/agent.context.json" in outcome.output and message in outcome.output


def test_unsupported_pattern_on_create_is_exit_3(make_repo):
    schema = {
        "type": "object",
        "properties": {"model_name": {"type": "string", "pattern": "(?!x)"}},
    }
    repo = make_repo({"schemas/agent.context.json": json.dumps(schema)})
    before = repo.refs()
    outcome = run_main(
        "create", "agent", "--name", "X", "--set", "model_name=echo", "-C", str(repo.path)
    )
    assert_user_outcome(outcome)
    assert outcome.code == ExitCode.INVALID and "not supported" in outcome.output, outcome.output
    assert repo.refs() == before


# --------------------------------------------------------------------------- issue 11: exit-70 rows

DOC_ROWS = [
    # (body after the head, error text, line:col)
    ("context: {model_name: echo, n: " + "9" * 5000 + "}\n", "outside the 64-bit range", "4:32"),
    ("context: {model_name: echo}\nmetadata: {d: 2024-13-45}\n", "not a valid date", "5:15"),
    (
        "context: {model_name: echo}\nmetadata: {d: 2024-02-30 25:61:61}\n",
        "not a valid date",
        "5:15",
    ),
    (
        "context: {model_name: echo}\nmetadata: {1: a}\n",
        "keys must be strings, '1' is an integer",
        "5:12",
    ),
    (
        "context: {model_name: echo}\nmetadata: {a: !!binary aGk=}\n",
        "YAML tags are not allowed (!!binary)",
        "5:15",
    ),
    ("context: {model_name: echo}\nmetadata: {a: .inf}\n", ".inf is not a JSON number", "5:15"),
    ("context: {model_name: echo}\nmetadata: {a: .nan}\n", ".nan is not a JSON number", "5:15"),
    ("context: {model_name: echo}\nmetadata: {a: 1e999}\n", "1e999 is not a JSON number", "5:15"),
    (
        "context: {model_name: echo}\nmetadata:\n  ? [a, b]\n  : c\n",
        "keys must be strings, this key is a sequence",
        "6:5",
    ),
    (
        "context: {model_name: echo}\nconfig: {recursion_limit: true}\n",
        "config.recursion_limit",
        "5:",
    ),
    ("context: {model_name: echo}\nconfig: {tags: [1]}\n", "config.tags", "5:"),
    ("context: {model_name: echo}\ndescription: a\x00b\n", "U+0000 is not allowed", "5:15"),
]


@pytest.mark.parametrize(("body", "message", "where"), DOC_ROWS)
def test_document_errors_are_one_line_with_line_and_column(make_repo, body, message, where):
    _, outcome = _validate(make_repo, {"assistants/x.yaml": HEAD + body})
    _one_line_error(outcome, f"assistants/x.yaml:{where}")
    assert message in outcome.output, outcome.output
    assert len(outcome.stdout.strip().splitlines()) == 1, outcome.stdout  # one line
    assert "tag" not in outcome.output or "tags" in message or "tags" in body


def test_invalid_utf8_is_refused_with_its_byte_offset(make_repo):
    repo = make_repo()
    raw = (HEAD + "context: {model_name: echo}\ndescription: caf").encode() + b"\xe9\n"
    (repo.path / "assistants").mkdir(exist_ok=True)
    (repo.path / "assistants/x.yaml").write_bytes(raw)
    offset = len(raw) - 2
    outcome = run_main("validate", "-C", str(repo.path))
    _one_line_error(outcome, "assistants/x.yaml:5:17")
    assert f"invalid UTF-8 at byte {offset}" in outcome.output
    repo.commit({}, "bad bytes")  # committed: the tree-based reader refuses it too
    outcome = run_main("validate", "--rev", "HEAD", "-C", str(repo.path))
    _one_line_error(outcome, "assistants/x.yaml:5:17")
    assert f"invalid UTF-8 at byte {offset}" in outcome.output
    before = repo.refs()
    outcome = run_main("apply", "-C", str(repo.path))  # never recorded with U+FFFD
    _one_line_error(outcome, "assistants/x.yaml:5:17")
    assert f"invalid UTF-8 at byte {offset}" in outcome.output
    assert repo.refs() == before
    assert "\ufffd" not in outcome.output


CLI_ROWS = [
    ("--metadata", '{"a": 1e999}', "1e999 is not a finite number"),
    ("--metadata", '{"a": NaN}', "NaN is not a JSON number"),
    ("--context", '{"model_name": "echo", "t": Infinity}', "Infinity is not a JSON number"),
    ("--context", '{"model_name": "echo", "t": -Infinity}', "-Infinity is not a JSON number"),
    ("--set", "temperature=NaN", "NaN is not a JSON number"),
    ("--set", "temperature=.nan", ".nan is not a JSON number"),
    ("--set", "temperature=1e999", "1e999 is not a finite number"),
    ("--set", "n=" + "9" * 5000, "outside the 64-bit range"),
    ("--metadata", "{1: a}", "keys must be strings"),
    ("--metadata", "{d: 2024-13-45}", "not a valid date"),
    ("--metadata", "[" * 200 + "]" * 200, "nested deeper than 100"),
    ("--config", '{"recursion_limit": true}', "recursion_limit"),
    ("--set", "x=caf\udce9", "invalid UTF-8 at byte 3"),  # argv bytes that are not UTF-8
]


@pytest.mark.parametrize(("option", "value", "message"), CLI_ROWS)
def test_cli_values_that_are_not_json_are_usage_errors(make_repo, option, value, message):
    repo = make_repo()
    before = (repo.refs(), repo.git("status", "--porcelain"))
    outcome = run_main("create", "agent", "--name", "X", option, value, "-C", str(repo.path))
    assert_user_outcome(outcome)
    expected = ExitCode.INVALID if option == "--config" else ExitCode.USAGE
    assert outcome.code == expected, outcome.output
    assert message in outcome.output, outcome.output
    assert "null" not in outcome.output
    assert (repo.refs(), repo.git("status", "--porcelain")) == before


def test_input_refuses_non_finite_numbers(make_repo):
    repo = make_repo()
    outcome = run_main("run", "agent", "--input", '{"messages": NaN}', "-C", str(repo.path))
    assert outcome.code == ExitCode.USAGE and "NaN is not a JSON number" in outcome.output


# --------------------------------------------------------------------------- the property


@hostile_settings()
@given(
    doc=hostile_document(),
    validate_format=st.sampled_from(["human", "json", "github"]),
    diff_format=st.sampled_from(["human", "json", "markdown"]),
)
def test_review_commands_never_crash_on_hostile_documents(
    make_repo, doc: Hostile, validate_format: str, diff_format: str
):
    repo, base = _property_repo(make_repo)
    repo.git("reset", "-q", "--hard", base)  # each example starts from the same history
    path = repo.path / "assistants" / "h.yaml"
    path.write_text(doc.text, encoding="utf-8", errors="surrogateescape")
    repo.git("add", "-A")
    repo.git("commit", "-q", "--allow-empty", "-m", "hostile")
    where = ("-C", str(repo.path))
    outcomes = [
        run_main("validate", "--format", validate_format, *where),
        run_main("diff", "HEAD~1", "HEAD", "--format", diff_format, *where),
        run_main("apply", "--dry-run", *where),
    ]
    event(f"validate exit {outcomes[0].code}")  # see --hypothesis-show-statistics
    for outcome in outcomes:
        assert_user_outcome(outcome)
        assert not printed_secrets(outcome, doc.secrets), outcome.output  # review output is public


_REPOS: dict[int, tuple[object, str]] = {}


def _property_repo(make_repo):
    """One repository per test run (a fresh one per example would cost a git init each)."""
    key = id(make_repo)
    if key not in _REPOS:
        _REPOS.clear()
        repo = make_repo({"assistants/base.yaml": doc_yaml(str(uuid.uuid4()), "Base")})
        _REPOS[key] = (repo, repo.git("rev-parse", "HEAD"))
    return _REPOS[key]
