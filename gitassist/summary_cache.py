"""The search index's cache: document summaries and active-version rows keyed by immutable
object ids, in memory per process and in ``<common git dir>/gitassist/cache/summary-v1.sqlite``.

A cache file that cannot be read or written is ignored (and rebuilt when possible), never an
error; see :mod:`gitassist.summary` for what the keys mean.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gitassist.documents import AssistantDocument
    from gitassist.store import Entry, Store
    from gitassist.summary import Active

CACHE_FILE = "summary-v1.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    blob TEXT, path TEXT, assistant_id TEXT, graph_id TEXT, name TEXT, description TEXT,
    metadata TEXT, canonical TEXT, PRIMARY KEY (blob, path));
CREATE TABLE IF NOT EXISTS rows (pointer TEXT PRIMARY KEY, %s);
CREATE TABLE IF NOT EXISTS roots (head TEXT PRIMARY KEY, time INTEGER);
CREATE TABLE IF NOT EXISTS trees (tree TEXT PRIMARY KEY, ids TEXT);
"""
_ROW = (
    "id", "deleted", "version", "tag_n", "tag_1", "max_version", "commit", "path", "blob",
    "created_at", "updated_at", "author", "recorded_by", "ci",
)  # fmt: skip
_SCHEMA = _SCHEMA % ", ".join(f'"{c}"' for c in _ROW)


@dataclass(frozen=True)
class DocSummary:
    """What search needs of one parsed document."""

    assistant_id: str
    graph_id: str
    name: str
    description: str | None
    metadata_json: str
    canonical_json: str  # AssistantDocument.canonical(), keys in their order

    @classmethod
    def of(cls, doc: AssistantDocument) -> DocSummary:
        data = doc.canonical()
        return cls(
            doc.assistant_id,
            doc.graph_id,
            doc.name,
            doc.description,
            json.dumps(data["metadata"], ensure_ascii=False),
            json.dumps(data, ensure_ascii=False),
        )

    def metadata(self) -> dict[str, Any]:
        out: dict[str, Any] = json.loads(self.metadata_json)
        return out


@dataclass(frozen=True)
class Summary:
    """One assistant as search lists it (the fields of ``resolve.Resolved`` but the document,
    which is kept as its summary)."""

    doc: DocSummary
    version: int | None
    source: str
    commit: str | None
    path: str | None
    blob: str | None
    created_at: str
    updated_at: str
    max_version: int = 0
    author: str = ""
    recorded_by: str = ""
    ci: dict[str, str] = field(default_factory=dict)

    @property
    def assistant_id(self) -> str:
        return self.doc.assistant_id

    def to_api(self) -> dict[str, Any]:
        """The same dict as ``Resolved.to_api``."""
        data = json.loads(self.doc.canonical_json)
        return {
            "assistant_id": data["assistant_id"],
            "graph_id": data["graph_id"],
            "config": data["config"],
            "context": data["context"],
            "metadata": data["metadata"],
            "name": data["name"],
            "description": data["description"],
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "version": self.version if self.version is not None else 1,
        }


# --------------------------------------------------------------------------- the cache


class SummaryCache:
    """Object-keyed summaries of one repository, in memory and in a SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.docs: dict[tuple[str, str], DocSummary | None] = {}
        self.rows: dict[str, dict[str, Any]] = {}
        self._new_docs: dict[tuple[str, str], DocSummary | None] = {}
        self._new_rows: dict[str, dict[str, Any]] = {}
        self.memo: tuple[Any, Active] | None = None  # the last active set, by its inputs
        self._names: dict[str, dict[str, list[Any]]] = {}  # tree id -> name -> index entries
        self.trees: dict[str, str] = {}  # tree id -> the assistant ids at it, one a line
        self._new_trees: dict[str, str] = {}
        self.roots: dict[str, int] = {}  # commit id -> time of its first-parent root commit
        self._new_roots: dict[str, int] = {}
        self._loaded = False
        self.lock = threading.RLock()

    def load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        if not self.path.exists():
            return
        try:
            with contextlib.closing(sqlite3.connect(self.path, timeout=0.5)) as db:
                for blob, path, *doc in db.execute("SELECT * FROM docs"):
                    self.docs[(blob, path)] = _doc_from_columns(doc)
                columns = _ROW
                for pointer, *values in db.execute("SELECT * FROM rows"):
                    row = dict(zip(columns, values, strict=True))
                    row["ci"] = json.loads(row["ci"]) if row["ci"] else {}
                    row["deleted"] = bool(row["deleted"])
                    self.rows[pointer] = row
                for head, time in db.execute("SELECT head, time FROM roots"):
                    self.roots[head] = int(time)
                for tree, ids in db.execute("SELECT tree, ids FROM trees"):
                    self.trees[tree] = ids
        except (sqlite3.Error, ValueError, TypeError, KeyError, OSError):
            self.docs.clear()
            self.rows.clear()
            self.roots.clear()
            self.trees.clear()
            with contextlib.suppress(OSError):
                self.path.unlink()  # corrupt: start again (rebuilt on the next flush)

    def add_doc(self, key: tuple[str, str], doc: DocSummary | None) -> None:
        self.docs[key] = self._new_docs[key] = doc

    def add_row(self, pointer: str, row: dict[str, Any]) -> None:
        self.rows[pointer] = self._new_rows[pointer] = row

    def ids(self, entry: Entry) -> tuple[str, str] | None:
        """(assistant id, graph id) of a document summarised before (None: not known)."""
        with self.lock:
            self.load()
            found = self.docs.get((entry.blob, entry.path))
        return (found.assistant_id, found.graph_id) if found is not None else None

    def known_names(self) -> dict[tuple[str, str], str]:
        """(blob, path) -> name of every document summarised before (for shell completion):
        from memory when loaded, else the name column of the file only; never parses one."""
        with self.lock:
            if self._loaded:
                return {k: d.name for k, d in self.docs.items() if d is not None}
        if not self.path.exists():
            return {}
        try:
            with contextlib.closing(sqlite3.connect(self.path, timeout=0.5)) as db:
                query = "SELECT blob, path, name FROM docs WHERE name IS NOT NULL"
                return {(b, p): str(n) for b, p, n in db.execute(query)}
        except sqlite3.Error:
            return {}

    def ids_at(self, tree: str) -> list[str] | None:
        found = self.trees.get(tree)
        return found.split("\n") if found else ([] if found == "" else None)

    def set_ids_at(self, tree: str, ids: list[str]) -> None:
        self.trees[tree] = self._new_trees[tree] = "\n".join(ids)

    def names_at(self, tree: str) -> dict[str, list[Any]] | None:
        """name -> index entries of the assistants at ``tree`` (None: not built yet)."""
        return self._names.get(tree)

    def set_names_at(self, tree: str, names: dict[str, list[Any]]) -> None:
        with self.lock:
            while len(self._names) >= _NAME_TREES:
                self._names.pop(next(iter(self._names)))
            self._names[tree] = names

    def first_commit_time(self, commit: str) -> int | None:
        with self.lock:
            self.load()
            return self.roots.get(commit)

    def set_first_commit_time(self, commit: str, time: int) -> None:
        with self.lock:
            self.roots[commit] = self._new_roots[commit] = time
            self.flush()

    def prune(self, pointers: set[str], docs: set[tuple[str, str]], tree: str | None) -> None:
        """Forget rows no live ref or document needs, once they outnumber the live ones by
        :data:`PRUNE_SLACK` (each write leaves a few), so the file stays the size of the
        repository's present, not its history."""
        with self.lock:
            stale = len(self.rows) - len(pointers) + len(self.docs) - len(docs)
            if stale <= PRUNE_SLACK + len(pointers) // 4:
                return
            self.flush()
            self.rows = {k: v for k, v in self.rows.items() if k in pointers}
            self.docs = {k: v for k, v in self.docs.items() if k in docs}
            self.trees = {k: v for k, v in self.trees.items() if k.split(":")[0] == tree}
            self.roots.clear()
            try:
                with contextlib.closing(sqlite3.connect(self.path, timeout=0.5)) as db, db:
                    db.executescript(_SCHEMA)
                    db.execute("CREATE TEMP TABLE keep_rows (pointer TEXT PRIMARY KEY)")
                    db.executemany("INSERT INTO keep_rows VALUES (?)", [(p,) for p in self.rows])
                    db.execute(
                        "DELETE FROM rows WHERE pointer NOT IN (SELECT pointer FROM keep_rows)"
                    )
                    db.execute("CREATE TEMP TABLE keep_docs (blob TEXT, path TEXT)")
                    db.executemany("INSERT INTO keep_docs VALUES (?, ?)", list(self.docs))
                    db.execute(
                        "DELETE FROM docs WHERE NOT EXISTS (SELECT 1 FROM keep_docs k "
                        "WHERE k.blob = docs.blob AND k.path = docs.path)"
                    )
                    db.execute("DELETE FROM trees WHERE tree IS NOT ?", (tree,))
                    db.execute("DELETE FROM roots")
            except (sqlite3.Error, OSError):
                pass  # a cache that cannot be pruned is still correct

    def flush(self) -> None:
        """Write what was computed since the last flush; any failure is ignored."""
        if not (self._new_docs or self._new_rows or self._new_roots or self._new_trees):
            return
        docs, rows, roots = self._new_docs, self._new_rows, self._new_roots
        trees = self._new_trees
        self._new_docs, self._new_rows, self._new_roots, self._new_trees = {}, {}, {}, {}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with contextlib.closing(sqlite3.connect(self.path, timeout=0.5)) as db, db:
                db.executescript(_SCHEMA)
                db.executemany(
                    "INSERT OR REPLACE INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [(b, p, *_doc_columns(d)) for (b, p), d in docs.items()],
                )
                marks = ", ".join("?" * (len(_ROW) + 1))
                db.executemany(
                    f"INSERT OR REPLACE INTO rows VALUES ({marks})",
                    [(k, *_row_columns(v)) for k, v in rows.items()],
                )
                db.executemany("INSERT OR REPLACE INTO trees VALUES (?, ?)", list(trees.items()))
                db.executemany("INSERT OR REPLACE INTO roots VALUES (?, ?)", list(roots.items()))
        except (sqlite3.Error, OSError):
            if isinstance(self.path, Path) and self.path.is_file():
                with contextlib.suppress(OSError, sqlite3.Error):
                    _check_file(self.path)


def _check_file(path: Path) -> None:
    """Drop a cache file that is not a SQLite database we can read (rebuilt next time)."""
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=0.5)) as db:
            db.execute("SELECT count(*) FROM rows").fetchone()
    except sqlite3.DatabaseError:
        path.unlink()


def _doc_columns(doc: DocSummary | None) -> tuple[str | None, ...]:
    if doc is None:
        return (None,) * 6
    return (
        doc.assistant_id,
        doc.graph_id,
        doc.name,
        doc.description,
        doc.metadata_json,
        doc.canonical_json,
    )


def _doc_from_columns(values: list[Any]) -> DocSummary | None:
    aid, graph, name, description, metadata, canonical = values
    if aid is None:
        return None
    if not all(isinstance(v, str) for v in (aid, graph, name, metadata, canonical)):
        raise ValueError("bad cache row")
    return DocSummary(aid, graph, name, description, metadata, canonical)


def _row_columns(row: dict[str, Any]) -> tuple[Any, ...]:
    values = [row.get(c) for c in _ROW]
    values[_ROW.index("ci")] = json.dumps(row["ci"]) if row.get("ci") else ""
    return tuple(values)


PRUNE_SLACK = 2000  # stale rows tolerated before a prune (see SummaryCache.prune)
MISSING: Any = object()  # not in the cache (None there means "an invalid document")
_NAME_TREES = 4  # name indexes kept in memory (by tree id)

_CACHES: dict[str, SummaryCache] = {}
_CACHES_LOCK = threading.Lock()


def cache_for(store: Store) -> SummaryCache:
    """The process's cache of ``store``'s repository (object-keyed, so shared safely)."""
    path = Path(store.common_dir) / "gitassist" / "cache" / CACHE_FILE
    key = os.fspath(path)
    with _CACHES_LOCK:
        found = _CACHES.get(key)
        if found is None:
            found = _CACHES[key] = SummaryCache(path)
    if store.known_ids is None:
        store.known_ids = found.ids
    return found
