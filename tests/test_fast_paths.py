"""validate's quick paths give the reports the exact paths give.

The quick paths: yaml12's one-pass construction of common documents (and its plain-scalar tag
memo and decimal shortcut), jsonschema_rs as a first pass over context values, the secret
prescans (of the text, of the values) and the one-regex token and key-word prefilters. Each
is switched off by :func:`exact_paths`; the reports (every problem, position and message)
must be the same with and without them, over
the hostile-document harness (tests/strategies.py), the secrets corpus (tests/data/secrets)
and schemas of every keyword the first pass takes. Work is counted, never timed.
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from conftest import CONTEXT_SCHEMA, doc_yaml
from hypothesis import given
from hypothesis import strategies as st
from strategies import hostile_document, hostile_settings

from gitassist import document_checks, documents, redact, schema_engine, validation, yaml12
from gitassist.store import Store
from gitassist.validate_cache import FORMAT

if TYPE_CHECKING:
    from collections.abc import Iterator

DATA = Path(__file__).parent / "data" / "secrets"


@contextlib.contextmanager
def exact_paths() -> Iterator[None]:
    """Every quick path off: the code as it was before them."""

    def slow(*_: Any) -> Any:
        raise yaml12._Slow

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(yaml12, "_quick", slow)
        mp.setattr(yaml12.Loader, "resolve", yaml12._BASE.resolve)
        mp.setattr(yaml12.Loader, "descend_resolver", yaml12._BASE.descend_resolver)
        mp.setattr(yaml12.Loader, "ascend_resolver", yaml12._BASE.ascend_resolver)
        mp.setattr(yaml12, "_DECIMAL", re.compile(r"(?!)"))
        mp.setattr(document_checks, "quick_check", lambda schema: None)
        mp.setattr(document_checks, "_may_be_secret", lambda value, key: True)
        mp.setattr(document_checks, "_no_secret_in", lambda text: False)
        yield


def report(path: Path) -> tuple[dict[str, Any], list[str]]:
    """A cold validate of the work tree: its report and warnings."""
    (path / ".git" / "gitassist" / "cache" / f"{FORMAT}.sqlite").unlink(missing_ok=True)
    store = Store(path)
    return validation.validate(store).to_dict(), store.warnings


def both(path: Path) -> tuple[Any, Any]:
    quick = report(path)
    with exact_paths():
        exact = report(path)
    return quick, exact


def outcome(text: str) -> Any:
    """load_yaml_data's result, or its error as it is reported."""
    try:
        return ("data", documents.load_yaml_data(text, "x.yaml"))
    except documents.DocumentError as exc:
        return ("error", exc.message, exc.location)


# --------------------------------------------------------------------------- YAML


@hostile_settings(local=300, ci=50)
@given(hostile_document())
def test_the_quick_yaml_pass_reads_what_the_constructor_reads(doc: Any) -> None:
    quick = outcome(doc.text)
    with exact_paths():
        exact = outcome(doc.text)
    assert repr(quick) == repr(exact)  # repr: tells 1 from 1.0 from True, and -0.0


SCALARS = [
    "1", "-0.0", "0.5", "1e3", "1.5e-3", "+1.5", ".inf", "-.inf", ".nan", "0o17", "0x1F",
    "00.5", "1" * 400 + ".0", "9223372036854775808", "-9223372036854775808", "1_000",
    "yes", "No", "on", "true", "False", "TRUE", "null", "Null", "~", "", "2024-01-31",
    "2024-02-30", "2024-1-2 3:04:05", "2024-01-31T10:00:00Z", "12:30", "<<", "=", "'1'",
    '"true"', "!!str 1", "!!int '7'", "!!float 1", "!!bool yes", "!!null x", "!!binary aGk=",
    "!!timestamp 2024-01-31", "!custom x", "&a 1", "*a",
]  # fmt: skip


@pytest.mark.parametrize("value", SCALARS)
def test_every_kind_of_scalar_reads_the_same(value: str) -> None:
    for text in (
        f"a: &a {value}\nb: {value}\n" if value != "*a" else "a: &a 1\nb: *a\n",
        f"- {value}\n- [{value}]\n- {{k: {value}}}\n" if value not in ("*a", "&a 1") else "",
        f"{value}: 1\n" if value != "*a" else "",
    ):
        quick = outcome(text)
        with exact_paths():
            exact = outcome(text)
        assert repr(quick) == repr(exact), text


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\na: 2\n",  # duplicate key
        "a: {b: 1, b: 2}\n",
        "? [1]\n: 2\n",  # a complex key
        "1: a\n",
        "a: &x {b: 1}\nc: *x\n",  # an aliased collection
        "a: &x [1, *x]\n",  # an alias inside itself
        "a: !!str {b: 1}\n",
        "a: !!map x\n",
        "a: !!seq x\n",
        "[" * 101 + "]" * 101,  # deeper than the limit
        "[" * 100 + "]" * 100,  # exactly at it
        "a: 99999999999999999999\nb: {c: 1, c: 2}\n",  # which error is first
        "a: {c: 1, c: 2}\nb: 99999999999999999999\n",
    ],
)
def test_refusals_come_from_the_full_constructor(text: str) -> None:
    quick = outcome(text)
    with exact_paths():
        exact = outcome(text)
    assert repr(quick) == repr(exact)


def test_a_common_document_takes_the_quick_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Counted: no node of a plain document goes through PyYAML's constructor or _check."""
    calls: list[str] = []
    construct = yaml12.Loader.construct_document
    check = yaml12._check

    def counting_construct(self: Any, node: Any) -> Any:
        calls.append("construct")
        return construct(self, node)

    def counting_check(node: Any) -> None:
        calls.append("check")
        check(node)

    monkeypatch.setattr(yaml12.Loader, "construct_document", counting_construct)
    monkeypatch.setattr(yaml12, "_check", counting_check)
    text = doc_yaml("00000000-1111-4111-8111-111111111111", metadata={"n": 1.5, "t": True})
    data = documents.load_yaml_data(text, "x.yaml")
    assert calls == [] and data["metadata"] == {"n": 1.5, "t": True}
    documents.load_yaml_data("a: &x {b: 1}\nc: *x\n", "x.yaml")  # an alias: the full path
    assert calls == ["check", "construct"]


# --------------------------------------------------------------------------- secrets


def _corpus(name: str) -> list[str]:
    lines = (DATA / name).read_text().splitlines()
    return [
        line.split("\t")[1] if "\t" in line else line
        for line in lines
        if line.strip() and not line.startswith("#")
    ]


@given(st.text(max_size=80))
def test_the_prefilters_are_the_substring_tests(text: str) -> None:
    hints = redact._TOKEN_HINTS
    assert redact.may_hold_token(text) == any(h in text for h in hints)
    for hint in hints:
        assert redact.may_hold_token(text + hint + text)
    lower = text.lower()
    assert redact.has_key_hint(text) == any(h in lower for h in redact._KEY_HINTS)


@hostile_settings(local=300, ci=50)
@given(hostile_document())
def test_a_text_the_prescan_clears_has_no_secret(doc: Any) -> None:
    document, _ = documents.check_document(doc.text, "x.yaml")
    if document is None or not document_checks._no_secret_in(doc.text):
        return
    with exact_paths():
        assert document_checks.secret_problems(document, doc.text, "x.yaml", None) == []


# --------------------------------------------------------------------------- schemas


SCHEMAS: list[dict[str, Any]] = [
    CONTEXT_SCHEMA,
    {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "minimum": 0, "exclusiveMaximum": 10},
            "x": {"type": "number", "maximum": 1.5, "exclusiveMinimum": -1},
            "s": {"type": "string", "minLength": 2, "maxLength": 4},
            "l": {"type": "array", "items": {"type": ["string", "null"]}, "maxItems": 2},
            "e": {"enum": [1, "a", None, True, [1], {"k": 1}]},
            "c": {"const": 1},
            "o": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "one": {"oneOf": [{"type": "integer"}, {"minimum": 5}]},
            "no": {"not": {"type": "boolean"}},
            "r": {"$ref": "#/$defs/thing"},
            "d": {"type": "object", "additionalProperties": {"type": "integer"}},
            "m": {"type": "object", "minProperties": 1, "maxProperties": 2},
        },
        "required": ["n"],
        "additionalProperties": False,
        "$defs": {"thing": {"type": "object", "required": ["id"], "properties": {"id": {}}}},
    },
    {"allOf": [{"type": "object"}, {"required": ["a"]}], "properties": {"a": False}},
]
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([0, 1, 1.0, -1, 5, 9.999, 10, 1.5, -1.0, "a", "ab", "abcde", "é" * 3]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=8,
)
_KEYS = st.sampled_from(["n", "x", "s", "l", "e", "c", "o", "one", "no", "r", "d", "m", "a"])


@hostile_settings(local=500, ci=100)
@given(st.sampled_from(range(len(SCHEMAS))), st.dictionaries(_KEYS, _JSON, max_size=6) | _JSON)
def test_what_the_first_pass_accepts_jsonschema_accepts(which: int, instance: Any) -> None:
    schema = SCHEMAS[which]
    quick = schema_engine.quick_check(schema)
    assert quick is not None
    validator = schema_engine.make_validator(schema, path="s.json")
    if quick(instance):
        assert list(validator.iter_errors(instance)) == []


@pytest.mark.parametrize(
    "schema",
    [
        {"properties": {"a": {"pattern": "^a"}}},
        {"patternProperties": {"^a": {}}},
        {"properties": {"a": {"format": "email"}}},
        {"properties": {"a": {"multipleOf": 0.1}}},
        {"items": [{"type": "string"}]},
        {"$ref": "http://example.com/s.json"},
        {"$id": "urn:x", "type": "object"},
        {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object"},
        {"if": {"type": "object"}, "then": {"required": ["a"]}},
        {"$defs": {"x": {"pattern": "a"}}, "$ref": "#/$defs/x"},
    ],
)
def test_a_schema_with_any_other_keyword_has_no_first_pass(schema: dict[str, Any]) -> None:
    assert schema_engine.quick_check(schema) is None


# --------------------------------------------------------------------------- whole reports


def _schema_repo(make_repo: Any) -> Any:
    schema = {
        "type": "object",
        "properties": {
            "model_name": {"enum": ["echo", "openai"], "type": "string"},
            "system_prompt": {"type": "string", "maxLength": 60},
            "temperature": {"type": "number", "minimum": 0, "maximum": 2},
            "tools": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["model_name"],
    }
    return make_repo({"schemas/agent.context.json": json.dumps(schema)})


@hostile_settings(local=40, ci=10)
@given(st.lists(hostile_document(), min_size=1, max_size=3))
def test_reports_are_the_same_over_the_hostile_harness(make_repo: Any, docs: list[Any]) -> None:
    repo = _schema_repo(make_repo)
    folder = repo.path / "assistants"
    folder.mkdir(exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    for i, doc in enumerate(docs):
        (folder / f"d{i}.yaml").write_text(doc.text, errors="surrogateescape")
    quick, exact = both(repo.path)
    assert quick == exact


def test_reports_are_the_same_over_the_secrets_corpus(make_repo: Any) -> None:
    repo = _schema_repo(make_repo)
    files: dict[str, str | None] = {}
    lines = _corpus("true_positives.txt") + _corpus("false_positives.txt")
    for i, line in enumerate(lines):
        value = line.replace("\\n", "\n")
        aid = f"{i:08x}-1111-4111-8111-111111111111"
        context = {"model_name": "echo", "system_prompt": value, "tools": [value]}
        files[f"assistants/c{i}.yaml"] = doc_yaml(aid, name=f"c{i}", context=context)
        files[f"assistants/m{i}.yaml"] = doc_yaml(
            f"{i:08x}-2222-4111-8111-111111111111",
            name=f"m{i}",
            metadata={"note": value, "api_key": value, value[:40] or "k": 1},
        )
    repo.write(files)
    quick, exact = both(repo.path)
    assert quick == exact
    codes = [p["code"] for p in quick[0]["problems"]]
    assert codes.count("secret") >= 37  # the corpus' secrets are found, on both paths


def test_reports_are_the_same_for_a_mix_of_valid_and_broken_documents(make_repo: Any) -> None:
    repo = _schema_repo(make_repo)
    ids = [f"{i:08x}-1111-4111-8111-111111111111" for i in range(8)]
    repo.write(
        {
            "assistants/ok.yaml": doc_yaml(ids[0], context={"model_name": "echo"}),
            "assistants/bad-enum.yaml": doc_yaml(ids[1], context={"model_name": "nope"}),
            "assistants/long.yaml": doc_yaml(
                ids[2], context={"model_name": "echo", "system_prompt": "x" * 61}
            ),
            "assistants/types.yaml": doc_yaml(
                ids[3], context={"model_name": "echo", "temperature": "hot", "tools": [1]}
            ),
            "assistants/extra.yaml": doc_yaml(ids[4], context={"model_name": "echo", "x": 1}),
            "assistants/dupe.yaml": doc_yaml(ids[0], name="dupe"),
            "assistants/yaml.yaml": "a: [\n",
            "assistants/alias.yaml": f"assistant_id: {ids[5]}\ngraph_id: agent\nname: &n x\n"
            "context: &c {model_name: echo}\nmetadata: {a: *c, n: *n}\n",
            "assistants/graph.yaml": doc_yaml(ids[6], graph_id="nope"),
            "assistants/float.yaml": doc_yaml(
                ids[7], context={"model_name": "echo", "temperature": 2.5}
            ),
        }
    )
    quick, exact = both(repo.path)
    assert quick == exact
    assert {p["code"] for p in quick[0]["problems"]} >= {
        "schema.enum",
        "schema.maxLength",
        "schema.type",
        "unknown_key",
        "duplicate_id",
        "invalid_yaml",
        "unknown_graph",
        "schema.maximum",
    }


def test_a_map_tag_on_a_scalar_is_a_yaml_error_not_a_crash() -> None:
    """``!!map x`` made the constructor unpack a string (a ValueError: exit 70)."""
    kind, message, location = outcome("a: !!map x\n")
    assert kind == "error" and "expected a mapping node, but found scalar" in message
    assert (location.line, location.column) == (1, 4)


def test_schema_line_warnings_once_per_folder_are_each_documents_own(make_repo: Any) -> None:
    """The message is worked out once per folder and target; every document still gets its
    own warning, the one the check of that document alone gives."""
    from gitassist.schemas import schema_line_target

    repo = _schema_repo(make_repo)
    files: dict[str, str | None] = {}
    for i, folder in enumerate(["assistants", "assistants", "assistants/sub", "assistants/sub"]):
        head = "# yaml-language-server: $schema=../schemas/assistant.schema.json\n"
        aid = f"{i:08x}-3333-4111-8111-111111111111"
        files[f"{folder}/s{i}.yaml"] = head + doc_yaml(aid, name=f"s{i}")
    repo.write(files)
    store = Store(repo.path)
    (repo.path / ".git" / "gitassist" / "cache" / f"{FORMAT}.sqlite").unlink(missing_ok=True)
    for _ in range(2):  # cold, then warm
        got = [p for p in validation.validate(store).problems if p.code == "schema_line"]
        alone = [
            w
            for path in sorted(files)
            for w in validation.schema_line_warnings(
                store.project,
                path,
                schema_line_target(path, files[path] or ""),
                None,
                lambda rel: validation._is_file(store, None, rel),
            )
        ]
        assert got == alone and len(got) == 4
