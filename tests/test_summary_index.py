"""The search index (gitassist/summary.py): search, count and name lookups from summaries
cached by object ids. These tests count work (documents parsed), never time."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import doc_yaml


def _forget_memory() -> None:
    """What a new process starts with: no in-memory summaries (the SQLite file stays)."""
    from gitassist import summary_cache

    summary_cache._CACHES.clear()


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every document parse (store.check_document and the YAML loader), by path."""
    from gitassist import documents, store

    seen: list[str] = []
    real_check = store.check_document
    real_load = documents.load_yaml_data

    def check(text: str, path: str, rev: str | None = None) -> Any:
        seen.append(path)
        return real_check(text, path, rev)

    def load(text: str, path: str, rev: str | None = None) -> Any:
        seen.append(f"yaml:{path}")
        return real_load(text, path, rev)

    monkeypatch.setattr(store, "check_document", check)
    monkeypatch.setattr(documents, "load_yaml_data", load)
    return seen


def _populated(make_repo: Any, n: int = 6) -> tuple[Any, list[str]]:
    """A repository with ``n`` recorded assistants and one unrecorded file on HEAD."""
    repo = make_repo()
    client = repo.client()
    ids = [
        client.assistants.create(
            "agent",
            context={"model_name": "echo"},
            name=f"{'Bot' if i % 2 else 'bot'} {i}",
            metadata={"team": "a" if i % 3 else "b", "n": i},
        )["assistant_id"]
        for i in range(n)
    ]
    loose = str(uuid.uuid4())
    repo.commit({"assistants/loose.yaml": doc_yaml(loose, name="Loose one")}, "unrecorded")
    return repo, [*ids, loose]


QUERIES: list[dict[str, Any]] = [
    {},
    {"limit": 3},
    {"limit": 2, "offset": 3, "sort_by": "name", "sort_order": "asc"},
    {"sort_by": "name", "sort_order": "desc", "limit": 100},
    {"sort_by": "updated_at", "sort_order": "asc", "limit": 100},
    {"sort_by": "assistant_id", "limit": 100, "select": ["assistant_id", "name"]},
    {"metadata": {"team": "b"}, "limit": 100},
    {"name": "BOT", "graph_id": "agent", "limit": 100, "response_format": "object"},
]


def _answers(client: Any) -> list[Any]:
    return [client.assistants.search(**q) for q in QUERIES] + [
        client.assistants.count(),
        client.assistants.count(metadata={"team": "a"}),
        client.assistants.count(name="loose"),
    ]


def test_warm_search_and_count_parse_no_document_and_match_a_cold_build(
    make_repo: Any, parses: list[str]
) -> None:
    repo, ids = _populated(make_repo)
    cache = repo.path / ".git" / "gitassist" / "cache" / "summary-v1.sqlite"
    cache.unlink(missing_ok=True)
    _forget_memory()
    cold = _answers(repo.client())
    assert parses, "the cold build parses the documents"
    assert cache.is_file()
    _forget_memory()  # a new process: summaries come from the SQLite file
    parses.clear()
    warm = _answers(repo.client())
    assert parses == []
    assert warm == cold
    assert cold[-3] == len(ids) + 1  # every assistant, plus the graph's default
    assert {a["name"] for a in cold[3]} >= {"Loose one", "bot 0", "Bot 1"}


def test_unique_name_and_stem_resolve_without_parsing_when_warm(
    make_repo: Any, parses: list[str]
) -> None:
    from gitassist.naming import resolve_id

    repo, ids = _populated(make_repo)
    store = repo.store()
    assert resolve_id(store, "bot 2") == ids[2]
    _forget_memory()
    parses.clear()
    store = repo.store()
    assert resolve_id(store, "bot 4") == ids[4]
    assert resolve_id(store, "Loose one") == ids[-1]
    assert parses == []
    assert resolve_id(store, "loose") == ids[-1]  # the file stem: one tree lookup
    assert resolve_id(store, "assistants/loose.yaml") == ids[-1]
    assert parses == []
    _forget_memory()
    assert resolve_id(repo.store(), "loose") == ids[-1]
    assert parses == []  # from the SQLite file


def test_a_write_from_another_process_shows_in_a_long_lived_client(make_repo: Any) -> None:
    repo, ids = _populated(make_repo, n=3)
    client = repo.client()
    before = client.assistants.search(limit=100, sort_by="name", sort_order="asc")
    count = client.assistants.count()
    script = (
        "import sys; from gitassist import get_sync_client; "
        "c = get_sync_client(repo=sys.argv[1]); "
        "c.assistants.update(sys.argv[2], name='Renamed elsewhere'); "
        "c.assistants.create('agent', context={'model_name': 'echo'}, name='New elsewhere')"
    )
    subprocess.run([sys.executable, "-c", script, str(repo.path), ids[0]], check=True)
    after = client.assistants.search(limit=100, sort_by="name", sort_order="asc")
    names = {a["name"] for a in after}
    assert {"Renamed elsewhere", "New elsewhere"} <= names
    assert names - {"Renamed elsewhere", "New elsewhere"} < {a["name"] for a in before}
    assert client.assistants.count() == count + 1
    renamed = next(a for a in after if a["assistant_id"] == ids[0])
    assert renamed["version"] == 2
    from gitassist.naming import resolve_id

    assert resolve_id(repo.store(), "Renamed elsewhere") == ids[0]


def test_set_latest_elsewhere_moves_the_active_version_seen(make_repo: Any) -> None:
    repo, ids = _populated(make_repo, n=2)
    client = repo.client()
    client.assistants.update(ids[0], name="Second name")
    assert {a["name"] for a in client.assistants.search(limit=100)} >= {"Second name"}
    subprocess.run(
        [sys.executable, "-m", "gitassist", "set-latest", ids[0], "1"],
        cwd=repo.path,
        check=True,
        capture_output=True,
    )
    row = next(a for a in client.assistants.search(limit=100) if a["assistant_id"] == ids[0])
    assert (row["version"], row["name"]) == (1, "bot 0")


@pytest.mark.parametrize("damage", ["garbage", "empty", "directory-is-a-file"])
def test_a_corrupt_or_unwritable_cache_is_ignored_and_rebuilt(make_repo: Any, damage: str) -> None:
    repo, _ = _populated(make_repo, n=3)
    expected = _answers(repo.client())
    folder = repo.path / ".git" / "gitassist" / "cache"
    cache = folder / "summary-v1.sqlite"
    if damage == "garbage":
        cache.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    elif damage == "empty":
        cache.write_bytes(b"")
    else:
        cache.unlink()
        folder.rmdir()
        folder.write_text("not a directory")
    _forget_memory()
    assert _answers(repo.client()) == expected
    _forget_memory()
    assert _answers(repo.client()) == expected
    if damage != "directory-is-a-file":
        import sqlite3

        with sqlite3.connect(cache) as db:  # rebuilt: a readable cache again
            assert db.execute("SELECT count(*) FROM docs").fetchone()[0] >= 4


def test_cache_lives_in_the_common_git_directory_of_a_worktree(make_repo: Any) -> None:
    repo, ids = _populated(make_repo, n=2)
    linked = Path(str(repo.path) + "-linked")
    repo.git("worktree", "add", "-q", str(linked), "-b", "side")
    from gitassist import get_sync_client

    _forget_memory()
    names = {a["assistant_id"] for a in get_sync_client(repo=linked).assistants.search(limit=99)}
    assert set(ids) <= names
    assert (repo.path / ".git" / "gitassist" / "cache" / "summary-v1.sqlite").is_file()
    assert not (repo.path / ".git" / "worktrees" / "side" / "gitassist").exists()


def test_a_forged_pointer_is_skipped_with_a_warning_warm_or_cold(make_repo: Any) -> None:
    from gitassist.search import search

    repo, ids = _populated(make_repo, n=2)
    head = repo.git("rev-parse", "HEAD")
    repo.git("update-ref", f"refs/assistants/{ids[0]}/latest", head)
    for _ in range(2):
        warnings: list[str] = []
        found = search(repo.store(), limit=100, warnings=warnings)
        assert ids[0] not in {r.assistant_id for r in found}
        assert any(ids[0] in w for w in warnings)


def test_the_ref_snapshot_agrees_with_libgit2_loose_packed_and_deleted(make_repo: Any) -> None:
    """What search reads as ref values (packed-refs + loose files) is what libgit2 reads."""
    from gitassist.summary_refs import assistant_refs, ref_snapshot

    repo, ids = _populated(make_repo, n=3)
    client = repo.client()

    def check() -> None:
        store = repo.store()
        snap = ref_snapshot(store)
        assert snap is not None
        assert snap[1] == assistant_refs(store)[1]

    check()  # loose refs from create
    repo.git("pack-refs", "--all")
    check()  # all packed
    client.assistants.update(ids[1], name="Loose again")
    check()  # a loose ref shadowing a packed one
    client.assistants.delete(ids[2])
    check()
    repo.git("update-ref", "-d", f"refs/assistants/{ids[0]}/versions/1")
    check()
    repo.git("symbolic-ref", f"refs/assistants/{ids[0]}/versions/9", "refs/heads/main")
    assert ref_snapshot(repo.store()) is None  # symbolic: libgit2 reads it instead
    warnings: list[str] = []
    from gitassist.search import search

    found = search(repo.store(), limit=100, warnings=warnings)
    assert ids[1] in {r.assistant_id for r in found}


def test_the_cache_keeps_the_present_not_the_history(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    from gitassist import summary_cache

    monkeypatch.setattr(summary_cache, "PRUNE_SLACK", 0)
    repo, ids = _populated(make_repo, n=2)
    client = repo.client()
    for i in range(6):
        client.assistants.update(ids[0], name=f"step {i}")
        expected = client.assistants.search(limit=100)
    cache = repo.path / ".git" / "gitassist" / "cache" / "summary-v1.sqlite"
    with sqlite3.connect(cache) as db:
        rows = db.execute("SELECT count(*) FROM rows").fetchone()[0]
        docs = db.execute("SELECT count(*) FROM docs").fetchone()[0]
    latest = [name for name in repo.refs() if name.endswith("/latest")]
    assert rows == len(latest)  # one per latest pointer: older pointers forgotten
    assert docs == len(ids)  # one per active document (the default has no file)
    _forget_memory()
    assert repo.client().assistants.search(limit=100) == expected
