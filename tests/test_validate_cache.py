"""The persistent validate cache: a warm run parses nothing, every input that decides a result
invalidates exactly the entries it decides, and a broken cache never changes a result.

Work is counted (documents parsed, schema validators run), never timed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import CONTEXT_SCHEMA, Repo, doc_yaml

from gitassist import document_checks, validation
from gitassist.store import Store
from gitassist.validate_cache import FORMAT

IDS = [f"{i:08x}-1111-4111-8111-111111111111" for i in range(6)]


class Counter:
    """Counts the documents parsed and the context checks (validator runs) of validate()."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.parsed: list[str] = []
        self.checked: list[str] = []
        check_document = document_checks.check_document
        schema_problems = document_checks._schema_problems

        def counting_check(text: str, path: str, *args: Any, **kw: Any) -> Any:
            self.parsed.append(path)
            return check_document(text, path, *args, **kw)

        def counting_schema(document: Any, loc: Any, path: str, *args: Any) -> Any:
            self.checked.append(path)
            return schema_problems(document, loc, path, *args)

        monkeypatch.setattr(document_checks, "check_document", counting_check)
        monkeypatch.setattr(document_checks, "_schema_problems", counting_schema)

    def run(self, repo: Repo, **kw: Any) -> tuple[dict[str, Any], list[str]]:
        self.parsed.clear()
        self.checked.clear()
        report = validation.validate(Store(repo.path), **kw).to_dict()
        return report, sorted(self.parsed)


def cache_file(repo: Repo) -> Any:
    return repo.path / ".git" / "gitassist" / "cache" / f"{FORMAT}.sqlite"


def two_graph_repo(make_repo: Any) -> Repo:
    """Graphs agent and other, each with a schema; a0-a2 use agent, o3-o4 other; a5 is bad."""
    files = {
        "langgraph.json": json.dumps(
            {"dependencies": ["."], "graphs": {"agent": "./g.py:g", "other": "./g.py:h"}}
        ),
        "schemas/other.context.json": json.dumps(CONTEXT_SCHEMA),
    }
    for i in range(3):
        files[f"assistants/a{i}.yaml"] = doc_yaml(IDS[i], name=f"a{i}")
    for i in (3, 4):
        files[f"assistants/o{i}.yaml"] = doc_yaml(IDS[i], name=f"o{i}", graph_id="other")
    files["assistants/a5.yaml"] = doc_yaml(IDS[5], name="a5", context={"model_name": "nope"})
    return make_repo(files)  # type: ignore[no-any-return]


AGENT = ["assistants/a0.yaml", "assistants/a1.yaml", "assistants/a2.yaml", "assistants/a5.yaml"]
OTHER = ["assistants/o3.yaml", "assistants/o4.yaml"]


def test_second_validate_parses_no_document_and_reports_the_same(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = two_graph_repo(make_repo)
    count = Counter(monkeypatch)
    first, parsed = count.run(repo)
    assert parsed == sorted(AGENT + OTHER)
    assert not first["valid"] and first["errors"] == 1  # a5's model_name
    assert cache_file(repo).is_file()
    second, parsed = count.run(repo)
    assert parsed == [] and count.checked == []
    assert second == first


def test_at_a_revision_too_with_its_label(make_repo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = two_graph_repo(make_repo)
    count = Counter(monkeypatch)
    first, _ = count.run(repo, rev="HEAD")
    second, parsed = count.run(repo, rev="HEAD")
    assert parsed == [] and second == first
    assert {p["rev"] for p in second["problems"]} == {"HEAD"}
    # the same blobs under another label: cached, and labelled with the new one
    third, parsed = count.run(repo, rev="main")
    assert parsed == [] and {p["rev"] for p in third["problems"]} == {"main"}
    # the working tree has the same contents: same blob ids, no parse
    _, parsed = count.run(repo)
    assert parsed == []


def test_a_changed_document_is_the_only_one_parsed_again(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = two_graph_repo(make_repo)
    count = Counter(monkeypatch)
    count.run(repo)
    repo.write({"assistants/a1.yaml": doc_yaml(IDS[1], name="renamed")})
    _, parsed = count.run(repo)
    assert parsed == ["assistants/a1.yaml"]
    repo.write({"assistants/a5.yaml": doc_yaml(IDS[5], name="a5")})  # now valid
    report, parsed = count.run(repo)
    assert parsed == ["assistants/a5.yaml"] and report["valid"]


def test_a_changed_schema_reparses_only_its_graphs_documents(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = two_graph_repo(make_repo)
    count = Counter(monkeypatch)
    count.run(repo)
    schema = {**CONTEXT_SCHEMA, "required": ["model_name", "system_prompt"]}
    repo.write({"schemas/other.context.json": json.dumps(schema)})
    report, parsed = count.run(repo)
    assert parsed == OTHER
    missing = [p["file"] for p in report["problems"] if p["code"] == "required"]
    assert missing == OTHER
    repo.write({"schemas/other.context.json": None})  # no schema: a warning, not a stale error
    report, parsed = count.run(repo)
    assert parsed == OTHER
    assert [p["code"] for p in report["problems"]] == ["schema.enum", "missing_schema"]


def test_a_changed_configuration_reparses_every_document(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = two_graph_repo(make_repo)
    count = Counter(monkeypatch)
    repo.write({"assistants/a0.yaml": doc_yaml(IDS[0], context={"model_name": "echo", "x": 1})})
    report, _ = count.run(repo)
    assert any(p["code"] == "unknown_key" for p in report["problems"])
    repo.write({"gitassist.yaml": "unknown_context_keys: allow\n"})
    report, parsed = count.run(repo)
    assert parsed == sorted(AGENT + OTHER)
    assert not any(p["code"] == "unknown_key" for p in report["problems"])
    graphs = {"dependencies": ["."], "graphs": {"agent": "./g.py:g"}}  # "other" goes away
    repo.write({"langgraph.json": json.dumps(graphs)})
    report, parsed = count.run(repo)
    assert parsed == sorted(AGENT + OTHER)
    assert [p["file"] for p in report["problems"] if p["code"] == "unknown_graph"] == OTHER


def test_duplicate_ids_are_recomputed_on_a_warm_cache(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = two_graph_repo(make_repo)
    count = Counter(monkeypatch)
    count.run(repo)
    repo.write({"assistants/copy.yaml": doc_yaml(IDS[0], name="copy")})
    report, parsed = count.run(repo)
    assert parsed == ["assistants/copy.yaml"]
    dupes = sorted(p["file"] for p in report["problems"] if p["code"] == "duplicate_id")
    assert dupes == ["assistants/a0.yaml", "assistants/copy.yaml"]
    again, parsed = count.run(repo)
    assert parsed == [] and again == report


def test_a_corrupt_cache_is_ignored_and_rebuilt(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = two_graph_repo(make_repo)
    count = Counter(monkeypatch)
    first, _ = count.run(repo)
    cache_file(repo).write_bytes(b"this is not a database" * 100)
    second, parsed = count.run(repo)
    assert second == first and parsed == sorted(AGENT + OTHER)
    third, parsed = count.run(repo)  # rebuilt
    assert third == first and parsed == []


def test_an_unusable_cache_is_ignored(make_repo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = two_graph_repo(make_repo)
    count = Counter(monkeypatch)
    cache_file(repo).mkdir(parents=True)  # cannot be opened as a file
    first, _ = count.run(repo)
    second, parsed = count.run(repo)
    assert second == first and parsed == sorted(AGENT + OTHER)


@pytest.mark.parametrize("garbage", ['{"p": 1}', "v\tonly-two", "not json", "v\ta\tb\tc\td\te"])
def test_a_garbled_entry_is_a_miss(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch, garbage: str
) -> None:
    import sqlite3

    repo = two_graph_repo(make_repo)
    count = Counter(monkeypatch)
    first, _ = count.run(repo)
    db = sqlite3.connect(cache_file(repo))
    db.execute("UPDATE entries SET value = ?", (garbage,))
    db.commit()
    db.close()
    second, parsed = count.run(repo)
    assert second == first and parsed == sorted(AGENT + OTHER)


def test_the_cache_is_shared_by_worktrees(make_repo: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = two_graph_repo(make_repo)
    count = Counter(monkeypatch)
    count.run(repo)
    other = repo.path.parent / "wt"
    repo.git("worktree", "add", "-q", str(other), "-b", "side")
    _, parsed = count.run(Repo(other))
    assert parsed == []
