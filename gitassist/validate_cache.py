"""A persistent cache of per-document validation results, so a second ``validate`` of
unchanged documents parses none of them.

An entry holds what one document's own checks found (format, graph id, context against its
graph's schema, secrets) plus the three facts the cross-file checks need (its assistant id,
its graph id, whether it sets context values). Cross-file checks (an id held by two files, a
graph without a schema) are always recomputed from those facts.

The key is everything that decides the result:

- the document's path and git blob id (working-tree files: ``pygit2.hash`` of the content);
- gitassist's version and a fingerprint of the modules that parse and check documents (their
  size and mtime, so an upgrade or an edited checkout never reuses old results), the
  jsonschema version;
- the graph ids of ``langgraph.json`` and the ``unknown_context_keys`` setting;
- the blob id of the schema of the document's own graph: stored in the entry and compared on
  every hit, so changing one graph's schema re-checks only that graph's documents.

The file is ``<common git dir>/gitassist/cache/validate-v1.sqlite`` (shared by worktrees).
The cache can only save work, never change a result: any error reading or writing it (corrupt,
locked, unwritable, a full disk) is ignored, a corrupt file is replaced, and a miss simply
checks the document.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitassist.problems import Problem

if TYPE_CHECKING:
    from collections.abc import Iterable

    from gitassist.project import Project
    from gitassist.schemas import SchemaSet

FORMAT = "validate-v1"
_MAX_ROWS = 200_000  # past this the table is cleared (stale entries of old blobs pile up)
_CHUNK = 500
# The modules whose code decides a document's problems.
_MODULES = ("documents", "yaml12", "validation", "schemas", "redact", "problems", "validate_cache")


@dataclass(frozen=True)
class Summary:
    """What the cross-file checks need of a document that parsed (stands in for it)."""

    assistant_id: str
    graph_id: str
    context: bool  # whether it sets context values


@dataclass(frozen=True)
class Result:
    """One document's own problems (``rev`` left out) and, if it parsed, its summary."""

    problems: tuple[Problem, ...]
    summary: Summary | None


@functools.cache
def _fingerprint() -> str:
    """gitassist's version, and size and mtime of the modules (ours and jsonschema's) whose
    code decides a document's problems."""
    import importlib.util

    import gitassist

    base = Path(gitassist.__file__).parent
    files = [base / f"{name}.py" for name in _MODULES]
    with contextlib.suppress(ImportError, ValueError):
        spec = importlib.util.find_spec("jsonschema")
        if spec is not None and spec.origin:
            files.append(Path(spec.origin).parent / "validators.py")
    parts = [gitassist.__version__]
    for file in files:
        try:
            st = file.stat()
            parts.append(f"{file}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{file}:?")
    return "\n".join(parts)


def _encode(result: Result, schema_blob: str | None) -> str:
    s = result.summary
    if s is not None and not result.problems and "\t" not in s.graph_id + s.assistant_id:
        # the common case, a valid document: a short tab-separated line, quick to read back
        return "\t".join(
            ("v", s.assistant_id, s.graph_id, "1" if s.context else "", schema_blob or "")
        )
    return json.dumps(
        {
            "p": [
                [p.file, p.message, p.json_path, p.line, p.column, p.code, p.severity]
                for p in result.problems
            ],
            "s": None if s is None else [s.assistant_id, s.graph_id, s.context],
            "b": schema_blob,
        },
        separators=(",", ":"),
    )


def _decode(raw: str, schemas: SchemaSet, rev: str | None) -> Result | None:
    if raw.startswith("v\t"):
        _, aid, graph, context, blob = raw.split("\t")
        if schemas.blobs.get(graph) != (blob or None):
            return None
        return Result((), Summary(aid, graph, bool(context)))
    data = json.loads(raw)
    s = data["s"]
    summary = None if s is None else Summary(str(s[0]), str(s[1]), bool(s[2]))
    if summary is not None and schemas.blobs.get(summary.graph_id) != data["b"]:
        return None  # this graph's schema changed since (or appeared, or went away)
    problems = tuple(
        Problem(f, m, j, line, col, rev, code, "warning" if sev == "warning" else "error")
        for f, m, j, line, col, code, sev in data["p"]
    )
    return Result(problems, summary)


class ValidateCache:
    """Results of one validation context (project, schemas), read and written in bulk."""

    def __init__(self, common_dir: Path, project: Project, schemas: SchemaSet) -> None:
        self.path = common_dir / "gitassist" / "cache" / f"{FORMAT}.sqlite"
        self.schemas = schemas
        context = {
            "code": _fingerprint(),
            "graphs": sorted(project.graphs),
            "unknown_context_keys": project.settings.unknown_context_keys,
        }
        self._context = hashlib.sha256(json.dumps(context).encode()).hexdigest()
        self._db: sqlite3.Connection | None = None
        self._pending: list[tuple[str, str]] = []
        self.hits = 0

    def key(self, path: str, blob: str) -> str:
        return hashlib.sha256(f"{self._context}\0{path}\0{blob}".encode()).hexdigest()

    # ----------------------------------------------------------------- the database

    def _open(self) -> sqlite3.Connection | None:
        if self._db is not None:
            return self._db
        for attempt in range(2):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=0.2, isolation_level=None)
                db.execute("CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value TEXT)")
                self._db = db
                return db
            except sqlite3.DatabaseError:  # not a database (corrupt): rebuild it, once
                if attempt == 0:
                    with contextlib.suppress(OSError):
                        self.path.unlink()
                    continue
                return None
            except (sqlite3.Error, OSError):  # unwritable, locked: run without a cache
                return None
        return None

    def lookup(
        self, items: Iterable[tuple[str, str]], rev: str | None
    ) -> dict[tuple[str, str], Result]:
        """Cached results for ``(path, blob)`` pairs (the misses are left out)."""
        wanted = {self.key(path, blob): (path, blob) for path, blob in items}
        out: dict[tuple[str, str], Result] = {}
        db = self._open()
        if db is None or not wanted:
            return out
        keys = list(wanted)
        try:
            for i in range(0, len(keys), _CHUNK):
                chunk = keys[i : i + _CHUNK]
                marks = ",".join("?" * len(chunk))
                sql = f"SELECT key, value FROM entries WHERE key IN ({marks})"
                for key, raw in db.execute(sql, chunk):
                    with contextlib.suppress(ValueError, KeyError, TypeError, IndexError):
                        result = _decode(raw, self.schemas, rev)
                        if result is not None:
                            out[wanted[key]] = result
        except sqlite3.Error:
            self._close()
            return {}
        self.hits += len(out)
        return out

    def store(self, path: str, blob: str, result: Result) -> None:
        """Remember one document's result (written by :meth:`flush`)."""
        graph = result.summary.graph_id if result.summary is not None else None
        schema_blob = self.schemas.blobs.get(graph) if graph is not None else None
        self._pending.append((self.key(path, blob), _encode(result, schema_blob)))

    def flush(self) -> None:
        """Write the remembered results in one transaction; errors are ignored."""
        pending, self._pending = self._pending, []
        if not pending:
            self._close()
            return
        db = self._open()
        if db is None:
            return
        try:
            db.execute("BEGIN IMMEDIATE")
            (rows,) = db.execute("SELECT count(*) FROM entries").fetchone()
            if rows + len(pending) > _MAX_ROWS:
                db.execute("DELETE FROM entries")
            db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?)", pending)
            db.execute("COMMIT")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
        finally:
            self._close()

    def _close(self) -> None:
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None


def summary_of(document: Any) -> Summary:
    """The summary of a parsed document."""
    return Summary(document.assistant_id, document.graph_id, bool(document.context))


def content_id(text: str) -> str:
    """The git blob id of a working-tree file's (decoded) text: its cache key."""
    import pygit2

    return str(pygit2.hash(text.encode("utf-8", errors="surrogateescape")))
