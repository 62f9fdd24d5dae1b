"""The search index: one summary per assistant, cached by immutable object ids.

``search``, ``count`` and ``list`` need, for every assistant, its name, graph, metadata,
description, active version, timestamps and path. Reading those from git means one pointer
commit, one or two version tags and one parsed YAML document per assistant; this module keeps
them in a cache whose keys are object ids, which never change meaning, so the cache cannot go
stale:

* ``docs``: (blob id, path) -> the document's id, graph, name, description, metadata and
  canonical content (or "invalid": such a document is parsed again so that it raises);
* ``rows``: pointer commit id -> what the active version resolves to, together with the
  version tags (of version N and of version 1) it was computed from; a row is used only while
  the refs ``versions/N`` and ``versions/1`` still name those tags.

Ref *values* are re-read on every call (one pass over ``refs/assistants/``); only
object-keyed data is cached. The cache lives in memory per process and persistently in
``<common git dir>/gitassist/cache/summary-v1.sqlite``; a cache file that cannot be read or
written is ignored (and rebuilt when possible), never an error.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitassist.errors import BadRef
from gitassist.store import Entry
from gitassist.versions import (
    NAMESPACE,
    iso,
    latest_from_pointer,
    latest_ref,
    parse_ref,
    read_version,
    version_ref,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Container

    from gitassist.documents import AssistantDocument
    from gitassist.store import Store

CACHE_FILE = "summary-v1.sqlite"
# what versions.parse_ref accepts, for the common names (checked without building UUIDs)
_OURS = re.compile(
    r"refs/assistants/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/"
    r"(?:latest|versions/[1-9][0-9]{0,8})\Z"
)
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
            self.trees = {k: v for k, v in self.trees.items() if k == tree}
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


# --------------------------------------------------------------------------- summaries


def doc_summary(store: Store, cache: SummaryCache, entry: Entry) -> DocSummary:
    """The summary of the document at ``entry``; an invalid one is parsed (and raises)."""
    key = (entry.blob, entry.path)
    if key in cache.docs:
        found = cache.docs[key]
    else:
        info = store.blob_info(entry)
        found = DocSummary.of(info.document) if info.document is not None else None
        cache.add_doc(key, found)
    if found is None:
        store.document(entry)  # raises the document's error
        raise AssertionError("an invalid document parsed")  # pragma: no cover
    return found


def assistant_refs(store: Store) -> tuple[list[str], dict[str, str]]:
    """Every ref under ``refs/assistants/`` (in listing order) and the object each names."""
    names: list[str] = []
    values: dict[str, str] = {}
    prefix = NAMESPACE + "/"
    for ref in store.repo.references.iterator():
        try:
            name = ref.name
        except UnicodeDecodeError:  # pragma: no cover - names are read with raw_listall
            continue
        if not name.startswith(prefix):
            continue
        names.append(name)
        target = ref.target
        if isinstance(target, str):  # symbolic
            resolved = store.refdb.read(name)
            if resolved is not None:
                values[name] = resolved
        else:
            values[name] = str(target)
    return names, values


@dataclass(frozen=True)
class Refs:
    """The refs under ``refs/assistants/``: names in order, values, names known to be ours."""

    names: list[str]
    values: dict[str, str]
    checked: Container[str]


def _ours(name: str) -> bool:
    return _OURS.match(name) is not None or parse_ref(name) is not None


def recorded(
    store: Store,
    warnings: list[str] | None = None,
    refs: Refs | None = None,
) -> tuple[dict[str, Summary], set[str]]:
    """The active version of every assistant with a latest ref (deleted ones left out), and
    the ids whose refs are bad (noted in ``warnings``); ``refs``: the names and values of
    ``refs/assistants/*`` if already read."""
    cache = cache_for(store)
    with cache.lock:
        cache.load()
        if refs is None:
            refs = Refs(*assistant_refs(store), ())
        names, values, checked = refs.names, refs.values, refs.checked
        out: dict[str, Summary] = {}
        bad: set[str] = set()
        for name in names:
            if name not in checked and not _ours(name):
                if warnings is not None:
                    warnings.append(f"skipped {name!r}: not a gitassist ref name")
                continue
            if not name.endswith("/latest") or name not in values:
                continue
            assistant_id = name[len(NAMESPACE) + 1 : -len("/latest")]
            try:
                summary = _active(store, cache, assistant_id, values)
            except BadRef as exc:
                bad.add(assistant_id)
                if warnings is not None:
                    warnings.append(f"skipped {exc.message}")
                continue
            if summary is not None:
                out[assistant_id] = summary
        cache.flush()
    return out, bad


# --------------------------------------------------------------------------- ref values


_PACKED: dict[str, tuple[tuple[int, ...], dict[str, str]]] = {}
_ALL_OURS: set[str] = set()  # packed-refs files whose every assistant ref name is ours
_HEX40 = re.compile(r"[0-9a-f]{40}\Z")
_PACKED_LINE = re.compile(r"^([0-9a-f]{40}) (refs/assistants/[^\n]*)$", re.M)
_PACKED_OURS = re.compile(
    r"^[0-9a-f]{40} refs/assistants/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/"
    r"(?:latest|versions/[1-9][0-9]{0,8})$",
    re.M,
)


def _packed_refs(gitdir: Path) -> tuple[tuple[int, ...], dict[str, str]] | None:
    """``refs/assistants/*`` in ``packed-refs``, re-parsed whenever its stat data changes
    (as git's own packed-refs snapshot is); None if it cannot be read."""
    path = gitdir / "packed-refs"
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return (), {}
    except OSError:
        return None
    stamp = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    key = os.fspath(path)
    found = _PACKED.get(key)
    if found is not None and found[0] == stamp:
        return found
    try:
        data = path.read_bytes()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    found_refs = _PACKED_LINE.findall(text)
    if len(found_refs) != text.count(" " + NAMESPACE + "/"):
        return None  # a line gitassist does not understand: libgit2 decides
    values = {name: oid for oid, name in found_refs}
    if len(_PACKED_OURS.findall(text)) == len(found_refs):
        _ALL_OURS.add(key)
    else:
        _ALL_OURS.discard(key)
    _PACKED[key] = (stamp, values)
    return stamp, values


def ref_snapshot(store: Store) -> tuple[Any, dict[str, str], dict[str, str]] | None:
    """The values of ``refs/assistants/*`` read from the common git directory: loose refs
    read from their files, packed ones from ``packed-refs``; with an identity that changes
    whenever any of them does. None when gitassist cannot read them itself (a symbolic or
    damaged loose ref, an unreadable file): the caller then asks libgit2."""
    gitdir = Path(store.common_dir)
    packed = _packed_refs(gitdir)
    if packed is None:
        return None
    stamp, values = packed
    checked = values if os.fspath(gitdir / "packed-refs") in _ALL_OURS else {}
    loose: dict[str, str] = {}
    top = gitdir / NAMESPACE
    for root, _dirs, files in os.walk(top):
        for file in files:
            if file.endswith(".lock"):
                continue
            full = Path(root) / file
            try:
                content = full.read_bytes().decode("ascii").strip()
                name = full.relative_to(gitdir).as_posix()
                name.encode("utf-8")
            except (OSError, UnicodeError):
                return None
            if not _HEX40.match(content):
                return None  # symbolic or damaged: libgit2 decides
            loose[name] = content
    if loose:
        values = {**values, **loose}
    return (stamp, tuple(sorted(loose.items()))), values, checked


@dataclass
class Active:
    """Every active assistant of one state of the refs and HEAD, and its sorted orders."""

    items: list[Summary]
    warnings: list[str]
    orders: dict[tuple[str, bool, bool], list[Summary]] = field(default_factory=dict)

    def ordered(
        self, key: str, fold_case: bool, reverse: bool, sort_key: Callable[[Summary], Any]
    ) -> list[Summary]:
        found = self.orders.get((key, fold_case, reverse))
        if found is None:
            found = sorted(self.items, key=sort_key, reverse=reverse)
            self.orders[(key, fold_case, reverse)] = found
        return found


def active(
    store: Store,
    warnings: list[str] | None,
    build: Callable[[list[str], Refs | None], list[Summary]],
) -> Active:
    """The active assistants: ``build(warnings, refs)`` computes them; its result is kept for
    as long as the refs (values re-read on every call), HEAD, the apply record and the
    working tree's graphs stay the same, since everything else it reads is an object."""
    from gitassist.versions import APPLIED_REF

    cache = cache_for(store)
    snap = ref_snapshot(store)
    head = store.head_commit()
    key = None
    if snap is not None:
        key = (
            snap[0],
            str(head.id) if head is not None else None,
            store.refdb.read(APPLIED_REF),
            tuple(store.project.graphs),
            store.assistants_dir,
        )
        memo = cache.memo
        if memo is not None and memo[0] == key:
            if warnings is not None:
                warnings.extend(memo[1].warnings)
            return memo[1]
    said: list[str] = []
    refs = Refs(sorted(snap[1]), snap[1], snap[2]) if snap is not None else None
    found = Active(build(said, refs), said)
    if warnings is not None:
        warnings.extend(said)
    if key is not None and refs is not None:
        cache.memo = (key, found)
        pointers = {v for k, v in refs.values.items() if k.endswith("/latest")}
        docs = {(s.blob, s.path) for s in found.items if s.blob and s.path}
        cache.prune(pointers, docs, str(head.tree.id) if head is not None else None)
    return found


def _active(
    store: Store, cache: SummaryCache, assistant_id: str, values: dict[str, str]
) -> Summary | None:
    pointer = values[latest_ref(assistant_id)]
    row = cache.rows.get(pointer)
    if row is not None and not _still_valid(row, assistant_id, values):
        row = None
    if row is None:
        row = _compute_row(store, assistant_id, pointer)
        cache.add_row(pointer, row)
    if row["deleted"]:
        return None
    doc = doc_summary(store, cache, Entry(row["path"], row["blob"]))
    return Summary(
        doc=doc,
        version=row["version"],
        source="version",
        commit=row["commit"],
        path=row["path"],
        blob=row["blob"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        max_version=row["max_version"],
        author=row["author"],
        recorded_by=row["recorded_by"],
        ci=row["ci"],
    )


def _still_valid(row: dict[str, Any], assistant_id: str, values: dict[str, str]) -> bool:
    """A cached row holds while the version refs it was read from name the same tags."""
    if row.get("id") != assistant_id:
        return False
    if row["deleted"]:
        return True
    return bool(
        values.get(version_ref(assistant_id, row["version"])) == row["tag_n"]
        and values.get(version_ref(assistant_id, 1)) == row["tag_1"]
    )


def _compute_row(store: Store, assistant_id: str, pointer: str) -> dict[str, Any]:
    """What ``resolve.from_latest`` reads for one pointer (BadRef as it raises)."""
    state = latest_from_pointer(store, pointer, latest_ref(assistant_id), assistant_id=assistant_id)
    if state.deleted:
        return {"id": assistant_id, "deleted": True}
    record = read_version(store, assistant_id, state.version)
    first = read_version(store, assistant_id, 1)
    return {
        "id": assistant_id,
        "deleted": False,
        "version": state.version,
        "tag_n": record.tag if record is not None else None,
        "tag_1": first.tag if first is not None else None,
        "max_version": state.max_version,
        "commit": record.commit if record else state.commit,
        "path": record.path if record else state.path,
        "blob": record.blob if record else state.blob,
        "created_at": iso(first.committed_at if first is not None else state.moved_at),
        "updated_at": iso(state.moved_at),
        "author": record.author if record else "",
        "recorded_by": record.recorded_by if record else "",
        "ci": record.ci if record else {},
    }
