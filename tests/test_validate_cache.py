"""The persistent validate cache: a warm run parses nothing, every input that decides a result
invalidates exactly the entries it decides, and a broken cache never changes a result.

Work is counted (documents parsed, schema validators run), never timed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import CONTEXT_SCHEMA, Repo, doc_yaml

from gitassist import document_checks, validate_rows, validation
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


# --------------------------------------------------------------------------- stat data


class Reads:
    """Counts the work-tree documents opened (``os.open`` under ``assistants/``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, repo: Repo) -> None:
        import os

        self.paths: list[str] = []
        real = os.open
        base = str(repo.path / "assistants") + os.sep

        def counting_open(path: Any, *args: Any, **kw: Any) -> int:
            if str(path).startswith(base):
                self.paths.append(str(path)[len(str(repo.path)) + 1 :])
            return real(path, *args, **kw)

        monkeypatch.setattr(os, "open", counting_open)

    def take(self) -> list[str]:
        out, self.paths = sorted(self.paths), []
        return out


def age(repo: Repo, *paths: str, seconds: int = 3600) -> None:
    """Set the files' mtime ``seconds`` in the past (as if written long ago, not racy)."""
    import os
    import time

    for path in paths or [str(p.relative_to(repo.path)) for p in repo.path.glob("assistants/*")]:
        then = time.time() - seconds
        os.utime(repo.path / path, (then, then))


def test_a_warm_run_reads_no_unchanged_file(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = two_graph_repo(make_repo)
    age(repo)
    count = Counter(monkeypatch)
    reads = Reads(monkeypatch, repo)
    first, _ = count.run(repo)
    assert reads.take() == sorted(AGENT + OTHER)  # the cold run reads and hashes each file
    second, parsed = count.run(repo)
    assert reads.take() == [] and parsed == [] and second == first
    # one file changed: only it is read (and parsed)
    repo.write({"assistants/a1.yaml": doc_yaml(IDS[1], name="renamed")})
    age(repo, "assistants/a1.yaml", seconds=1800)
    _, parsed = count.run(repo)
    assert reads.take() == ["assistants/a1.yaml"] and parsed == ["assistants/a1.yaml"]
    _, parsed = count.run(repo)
    assert reads.take() == [] and parsed == []


def test_a_touched_unchanged_file_is_hashed_again_but_not_parsed(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = two_graph_repo(make_repo)
    age(repo)
    count = Counter(monkeypatch)
    reads = Reads(monkeypatch, repo)
    first, _ = count.run(repo)
    reads.take()
    age(repo, "assistants/o3.yaml", seconds=60)  # `touch`: new mtime, same content
    second, parsed = count.run(repo)
    assert reads.take() == ["assistants/o3.yaml"] and parsed == [] and second == first
    _, parsed = count.run(repo)  # its new stat data were recorded
    assert reads.take() == [] and parsed == []


def test_a_file_changed_in_the_second_its_stat_data_were_taken_is_read_again(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """git's racy-clean rule: a file whose mtime is not older than the moment its stat data
    were taken could be rewritten within one timestamp tick, keeping size and mtime."""
    import os

    repo = two_graph_repo(make_repo)
    age(repo)
    path = repo.path / "assistants/a0.yaml"
    path.write_text(doc_yaml(IDS[0], context={"model_name": "echo"}))  # just now: racy
    mtime = path.stat().st_mtime_ns
    count = Counter(monkeypatch)
    reads = Reads(monkeypatch, repo)
    first, _ = count.run(repo)
    assert first["valid"] is False and reads.take() == sorted(AGENT + OTHER)
    # the same size, and the same mtime (as on a file system with coarse timestamps)
    path.write_text(doc_yaml(IDS[0], context={"model_name": "nope"}))
    os.utime(path, ns=(mtime, mtime))
    second, parsed = count.run(repo)
    assert reads.take() == ["assistants/a0.yaml"] and parsed == ["assistants/a0.yaml"]
    bad = sorted(p["file"] for p in second["problems"] if p["code"] == "schema.enum")
    assert bad == ["assistants/a0.yaml", "assistants/a5.yaml"]


def test_stat_data_are_recorded_only_for_files_older_than_the_second_they_were_taken(
    make_repo: Any,
) -> None:
    """The rule itself, on one cache: recorded (and trusted) only when the file's mtime lies
    in a second before the one in which its stat data were taken (less one, for a file
    system clock that lags)."""
    import os
    import time

    from gitassist.schemas import read_schemas
    from gitassist.validate_cache import ValidateCache

    repo = two_graph_repo(make_repo)
    store = Store(repo.path)
    schemas, _ = read_schemas(store, store.project, None)
    st = os.lstat(repo.path / "assistants/a0.yaml")

    def recorded(started_ns: int) -> str | None:
        cache = ValidateCache(store.common_dir, store.project, schemas, store.root)
        cache.remember_blob("assistants/a0.yaml", st, started_ns, "b" * 40)
        cache.flush()
        again = ValidateCache(store.common_dir, store.project, schemas, store.root)
        return again.lookup_work("assistants/a0.yaml", st, None)[0]

    second = 1_000_000_000
    assert recorded(st.st_mtime_ns) is None
    assert recorded(st.st_mtime_ns + second) is None  # maybe the same second
    assert recorded(st.st_mtime_ns + 3 * second) == "b" * 40
    assert recorded(time.time_ns()) == "b" * 40  # unchanged: still trusted
    revision = ValidateCache(store.common_dir, store.project, schemas, None)
    assert revision.lookup_work("assistants/a0.yaml", st, None) == (None, None)  # no stat rows


def test_a_symlink_swapped_in_after_caching_is_not_read(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    repo = two_graph_repo(make_repo)
    age(repo)
    count = Counter(monkeypatch)
    count.run(repo)
    outside = tmp_path / "outside"
    outside.mkdir()
    target = outside / "a0.yaml"
    target.write_bytes((repo.path / "assistants/a0.yaml").read_bytes())
    (repo.path / "assistants/a0.yaml").unlink()
    (repo.path / "assistants/a0.yaml").symlink_to(target)
    opened: list[str] = []
    import os

    real = os.open

    def watch(path: Any, *args: Any, **kw: Any) -> int:
        opened.append(str(path))
        return real(path, *args, **kw)

    monkeypatch.setattr(os, "open", watch)
    store = Store(repo.path)
    report = validation.validate(store)
    assert not any(str(target) in p or "a0.yaml" in p for p in opened)
    assert report.documents == len(AGENT + OTHER) - 1
    assert any("assistants/a0.yaml" in w for w in store.warnings)  # named, not read
    assert "assistants/a0.yaml" not in {p.file for p in report.problems}


def test_a_symlinked_subfolder_swapped_in_after_caching_is_not_entered(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    repo = two_graph_repo(make_repo)
    repo.write({"assistants/sub/s.yaml": doc_yaml("99999999-1111-4111-8111-111111111111")})
    age(repo, "assistants/sub/s.yaml")
    count = Counter(monkeypatch)
    _, parsed = count.run(repo)
    assert "assistants/sub/s.yaml" in parsed
    outside = tmp_path / "outside"
    (repo.path / "assistants/sub").rename(outside)
    (repo.path / "assistants/sub").symlink_to(outside)
    store = Store(repo.path)
    report = validation.validate(store)
    assert report.documents == len(AGENT + OTHER)
    assert any("assistants/sub" in w for w in store.warnings)


def test_the_quick_read_refuses_what_is_not_the_listed_file(make_repo: Any, tmp_path: Any) -> None:
    """A file replaced between the listing and the read (here: by a symlink) is not read the
    quick way; the careful read refuses the link by name."""
    import os

    from gitassist.errors import UnsafePath

    repo = two_graph_repo(make_repo)
    listed = os.lstat(repo.path / "assistants/a0.yaml")
    secret = tmp_path / "secret.yaml"
    secret.write_text("assistant_id: x\n")
    (repo.path / "assistants/a0.yaml").unlink()
    (repo.path / "assistants/a0.yaml").symlink_to(secret)
    with pytest.raises(UnsafePath, match="symbolic link"):
        validate_rows.read_listed(Store(repo.path), "assistants/a0.yaml", listed)
    # the folder swapped for a link to another one: the file behind it is not the listed one
    listed = os.lstat(repo.path / "assistants/a1.yaml")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere/a1.yaml").write_text("assistant_id: y\n")
    (repo.path / "assistants").rename(tmp_path / "moved")
    (repo.path / "assistants").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(UnsafePath, match="symbolic link"):
        validate_rows.read_listed(Store(repo.path), "assistants/a1.yaml", listed)


@pytest.mark.parametrize("damage", ["flip", "shape", "blob", "entry", "summary"])
def test_a_damaged_snapshot_costs_reads_not_a_wrong_result(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    import hashlib
    import marshal
    import sqlite3

    repo = two_graph_repo(make_repo)
    age(repo)
    count = Counter(monkeypatch)
    reads = Reads(monkeypatch, repo)
    first, _ = count.run(repo)
    reads.take()
    db = sqlite3.connect(cache_file(repo))
    (data,) = db.execute("SELECT data FROM snapshots").fetchone()
    if damage == "flip":  # the digest no longer matches
        data = data[:10] + bytes([data[10] ^ 1]) + data[11:]
        db.execute("UPDATE snapshots SET data = ?", (data,))
    else:  # a valid digest over data of the wrong shape, or naming another blob
        work = marshal.loads(data)
        if damage == "shape":
            work = dict.fromkeys(work, "x")
        elif damage == "entry":
            work = {p: (*r[:6], ("x",)) for p, r in work.items()}
        elif damage == "summary":
            work = {p: (*r[:6], (r[6][0], ("a",), (), None)) for p, r in work.items()}
        else:
            work = {p: (*r[:5], "0" * 40, None) for p, r in work.items()}
        data = marshal.dumps(work)
        digest = hashlib.blake2b(data).hexdigest()
        db.execute("UPDATE snapshots SET data = ?, digest = ?", (data, digest))
    db.commit()
    db.close()
    second, parsed = count.run(repo)
    assert second == first and parsed == []  # re-hashed: the entries by blob still hit
    # stat data and blob intact, only the entry damaged: taken from the entries by blob
    assert reads.take() == ([] if damage in ("entry", "summary") else sorted(AGENT + OTHER))
    third, parsed = count.run(repo)  # the snapshot was written again
    assert third == first and parsed == [] and reads.take() == []


def test_a_deleted_file_leaves_the_snapshot(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import marshal
    import sqlite3

    repo = two_graph_repo(make_repo)
    age(repo)
    count = Counter(monkeypatch)
    count.run(repo)
    (repo.path / "assistants/o4.yaml").unlink()
    report, parsed = count.run(repo)
    assert parsed == [] and report["documents"] == 5
    db = sqlite3.connect(cache_file(repo))
    (data,) = db.execute("SELECT data FROM snapshots").fetchone()
    db.close()
    assert sorted(marshal.loads(data)) == sorted(p for p in AGENT + OTHER if "o4" not in p)
