"""The published document schema matches the pydantic model, and validates real documents."""

from __future__ import annotations

import json
import uuid

import jsonschema

from gitassist.schemas import document_schema_text as schema_text
from tests.conftest import ROOT, doc_yaml


def test_committed_schema_matches_the_model():
    committed = (ROOT / "schemas" / "assistant.schema.json").read_text()
    assert committed == schema_text(), ADVICE


ADVICE = (
    "schemas/assistant.schema.json drifted from the model: regenerate it with "
    "`.venv/bin/gitassist schemas export` at the root of this checkout"
)


def test_the_advice_regenerates_the_schema(tmp_path, cli):
    """What ADVICE says works in a repository like this one (no langgraph.json)."""
    from tests.conftest import git

    git(tmp_path, "init", "-q", "-b", "main")
    stale = tmp_path / "schemas" / "assistant.schema.json"
    stale.parent.mkdir()
    stale.write_text("{}\n")
    cli("schemas", "export", "-C", str(tmp_path))
    assert stale.read_text() == schema_text()


def test_schema_accepts_good_and_rejects_unknown_keys():
    from gitassist.documents import load_yaml_data

    schema = json.loads(schema_text())
    good = load_yaml_data(doc_yaml(str(uuid.uuid4())), "a.yaml")
    jsonschema.validate(good, schema)
    bad = {**good, "contxt": {}}
    validator = jsonschema.Draft202012Validator(schema)
    assert any("contxt" in e.message for e in validator.iter_errors(bad))
