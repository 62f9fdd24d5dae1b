"""A persistent cache of per-document validation results, so a second ``validate`` of
unchanged documents parses none of them.

An entry holds what one document's own checks found (format, graph id, context against its
graph's schema, secrets) plus the three facts the cross-file checks need (its assistant id,
its graph id, whether it sets context values). Cross-file checks (an id held by two files, a
graph without a schema) are always recomputed from those facts.

The key is everything that decides the result:

- the document's path and git blob id (working-tree files: ``pygit2.hash`` of the content,
  or, as ``git status`` does, the blob id recorded with the file's stat data — size, mtime,
  ctime, inode, device — when those are unchanged; git's racy-clean rule decides when stat
  data may be recorded, see :meth:`ValidateCache.remember_blob`);
- gitassist's version and a fingerprint of the modules that parse and check documents (their
  size and mtime, so an upgrade or an edited checkout never reuses old results), and of
  one file of each library that decides it too (PyYAML, pydantic, pydantic-core,
  jsonschema, RE2: upgrading one in place rewrites it);
- the graph ids of ``langgraph.json`` and the ``unknown_context_keys`` setting;
- the blob id of the schema of the document's own graph: stored in the entry and compared on
  every hit, so changing one graph's schema re-checks only that graph's documents.

The file is ``<common git dir>/gitassist/cache/validate-v2.sqlite``, shared by worktrees:
table ``entries`` holds results by (context, path, blob); table ``snapshots`` holds, per work
tree, one row that is to this cache what ``.git/index`` is to git: every listed document's
stat data, blob id and entry, read in one piece (``marshal``, checked against its BLAKE2
digest) so that a warm run makes one query and reads no document. An entry also keeps where
the document's ``$schema`` line points, so that check needs no read either.
The cache can only save work, never change a result: any error reading or writing it (corrupt,
locked, unwritable, a full disk, a snapshot whose digest or shape is wrong) is ignored, a
corrupt file is replaced, and a miss simply reads and checks the document.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import marshal
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitassist.problems import Problem
from gitassist.validate_rows import Result, Summary, decode, encode

if TYPE_CHECKING:
    import os
    from collections.abc import Mapping

    from gitassist.project import Project
    from gitassist.schemas import SchemaSet

FORMAT = "validate-v2"
_SECOND = 1_000_000_000
_SINGLE = 64  # entries looked up one by one before all of this context's are read at once
_MAX_ROWS = 200_000  # past this the table is cleared (stale entries of old blobs pile up)
# The modules whose code decides a document's problems.
_MODULES = (
    "documents",
    "document_checks",
    "yaml12",
    "limits",
    "validation",
    "schemas",
    "schema_engine",
    "redact",
    "problems",
    "validate_cache",
)
_LIBRARIES = (
    ("jsonschema", "validators.py"),
    ("yaml", "__init__.py"),
    ("pydantic", "version.py"),
    ("pydantic_core", "__init__.py"),
    ("re2", "__init__.py"),
)


@functools.cache
def _fingerprint() -> str:
    """gitassist's version, and size and mtime of the modules (ours and jsonschema's) whose
    code decides a document's problems."""
    import importlib.util

    import gitassist

    base = Path(gitassist.__file__).parent
    files = [base / f"{name}.py" for name in _MODULES]
    # the libraries that parse (PyYAML), validate (pydantic, its core, jsonschema) and match
    # patterns (RE2): an upgrade rewrites their files, and may change what a document gets
    site: Path | None = None  # where the first was found: the others usually are there too
    for package, name in _LIBRARIES:
        if site is not None and (site / package / name).is_file():
            files.append(site / package / name)
            continue
        with contextlib.suppress(ImportError, ValueError):
            spec = importlib.util.find_spec(package)
            if spec is not None and spec.origin:
                files.append(Path(spec.origin).parent / name)
                site = site or Path(spec.origin).parent.parent
    parts = [gitassist.__version__]
    for file in files:
        try:
            st = file.stat()
            parts.append(f"{file}:{st.st_size}:{st.st_mtime_ns}")
        except OSError:
            parts.append(f"{file}:?")
    return "\n".join(parts)


class ValidateCache:
    """Results of one validation context (project, schemas), read and written in bulk: one
    ``SELECT`` of this context's rows (and of this work tree's stat rows), one transaction."""

    def __init__(
        self, common_dir: Path, project: Project, schemas: SchemaSet, root: Path | None = None
    ) -> None:
        self.path = common_dir / "gitassist" / "cache" / f"{FORMAT}.sqlite"
        self.schemas = schemas
        context = {
            "code": _fingerprint(),
            "graphs": sorted(project.graphs),
            "unknown_context_keys": project.settings.unknown_context_keys,
        }
        self._context = hashlib.sha256(json.dumps(context).encode()).hexdigest()[:32]
        self._root = str(root) if root is not None else ""
        self._db: sqlite3.Connection | None = None
        self._rows: dict[tuple[str, str], str] | None = None  # this context's entries
        self._single = 0  # entries read one by one so far
        # this work tree's snapshot: path -> (size, mtime, ctime, inode, device, blob, entry
        # of this context or None), as git's index keeps stat data, read in one piece
        self._work: dict[str, Any] | None = None
        self._work_context = False  # whether the snapshot's entries are of this context
        self._changed: dict[str, tuple[Any, ...]] = {}  # new stat rows (entry filled at flush)
        self._values: dict[str, tuple[str, Any]] = {}  # path -> (blob, snapshot entry) seen
        self._pending: list[tuple[str, str, str, str]] = []
        self.hits = 0

    # ----------------------------------------------------------------- the database

    def _open(self) -> sqlite3.Connection | None:
        if self._db is not None:
            return self._db
        for attempt in range(2):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=0.2, isolation_level=None)
                # a cache: no fsync (a file damaged by a crash is found and replaced)
                db.execute("PRAGMA synchronous = OFF")
                db.execute(
                    "CREATE TABLE IF NOT EXISTS entries (context TEXT, path TEXT, blob TEXT,"
                    " value TEXT, PRIMARY KEY (context, path, blob)) WITHOUT ROWID"
                )
                db.execute(
                    "CREATE TABLE IF NOT EXISTS snapshots (root TEXT PRIMARY KEY, context TEXT,"
                    " digest TEXT, data BLOB)"
                )
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

    def _load(self) -> None:
        """This work tree's snapshot: one row, checked against its digest (a damaged one is
        an empty snapshot: every file is read and hashed again)."""
        if self._work is not None:
            return
        self._work = {}
        db = self._open()
        if db is None or not self._root:
            return
        sql = "SELECT context, digest, data FROM snapshots WHERE root = ?"
        try:
            found = db.execute(sql, (self._root,)).fetchone()
        except sqlite3.Error as exc:
            self._close()
            if isinstance(exc, sqlite3.DatabaseError) and not isinstance(
                exc, sqlite3.OperationalError
            ):  # damaged (not locked): start afresh
                with contextlib.suppress(OSError):
                    self.path.unlink()
            return
        if found is None:
            return
        context, digest, data = found
        if not isinstance(data, bytes) or hashlib.blake2b(data).hexdigest() != digest:
            return
        try:
            work = marshal.loads(data)  # written by flush, digest checked: plain data only
        except (ValueError, EOFError, TypeError):
            return
        if isinstance(work, dict):
            self._work, self._work_context = work, context == self._context

    def _row(self, path: str, blob: str) -> str | None:
        if self._rows is None and self._single < _SINGLE:
            self._single += 1
            db = self._open()
            if db is None:
                return None
            sql = "SELECT value FROM entries WHERE context = ? AND path = ? AND blob = ?"
            try:
                found = db.execute(sql, (self._context, path, blob)).fetchone()
            except sqlite3.Error:
                return None
            return None if found is None else str(found[0])
        if self._rows is None:
            self._rows = {}
            db = self._open()
            if db is not None:
                sql = "SELECT path, blob, value FROM entries WHERE context = ?"
                try:
                    self._rows = {(p, b): v for p, b, v in db.execute(sql, (self._context,))}
                except sqlite3.Error:
                    self._close()
        return self._rows.get((path, blob))

    # ----------------------------------------------------------------- work-tree stat data

    def lookup_work(
        self, path: str, st: os.stat_result, rev: str | None
    ) -> tuple[str | None, Result | None]:
        """For work-tree file ``path`` whose stat data are the ones recorded with it: its
        blob id (so its content is not read) and its cached result, if any; (None, None)
        when it must be read and hashed."""
        if self._work is None:
            self._load()
            assert self._work is not None
        found = self._work.get(path)
        try:
            if (
                found is None
                or found[1] != st.st_mtime_ns
                or found[0] != st.st_size
                or found[2] != st.st_ctime_ns
                or found[3] != st.st_ino
                or found[4] != st.st_dev
            ):
                return None, None
            blob, entry = found[5], found[6] if self._work_context else None
        except (TypeError, IndexError, KeyError):
            return None, None
        if not isinstance(blob, str):
            return None, None
        if entry is not None:
            try:
                result = self._from_entry(entry, rev)  # already in the snapshot
            except (TypeError, ValueError, IndexError, KeyError):
                result = None
            else:
                return blob, result
        return blob, self.get(path, blob, rev)

    def _from_entry(self, entry: Any, rev: str | None) -> Result | None:
        """A snapshot entry as a result (None: its graph's schema changed since)."""
        schema_blob, summary, problems, line = entry
        if summary is not None:
            summary = Summary(*summary)
            if self.schemas.blobs.get(summary.graph_id) != schema_blob:
                return None
        if line is not None and len(line) != 3:
            raise ValueError(line)
        found = (
            tuple(
                Problem(f, m, j, ln, col, rev, code, "warning" if sev == "warning" else "error")
                for f, m, j, ln, col, code, sev in problems
            )
            if problems
            else ()
        )
        self.hits += 1
        return Result(found, summary, line)

    def remember_blob(self, path: str, st: os.stat_result, started_ns: int, blob: str) -> None:
        """Record that ``path`` with stat data ``st`` (taken after ``started_ns``) holds
        ``blob``. git's racy-clean rule: a file changed in the same second as (or after) the
        moment its stat data was taken could change again without its stat data changing
        (a timestamp's granularity), so it is not recorded and is read again next time.
        "The same second" is generous: a file modified in the second before counts too, for
        file systems with 2-second timestamps and clocks that lag ``time.time_ns`` a little.
        Only the mtime counts, as in git: a write sets it, and ctime is compared on a hit."""
        if not self._root:
            return
        if st.st_mtime_ns >= started_ns // _SECOND * _SECOND - _SECOND:
            return
        self._changed[path] = (*_stat_key(st), blob)

    # ----------------------------------------------------------------- results

    def get(self, path: str, blob: str, rev: str | None) -> Result | None:
        """The cached result for ``path`` holding ``blob`` (None: a miss)."""
        raw = self._row(path, blob)
        if raw is None:
            return None
        result = self._decoded(raw, rev)
        if result is not None:
            self._values[path] = (blob, self._entry_of(result))
        return result

    def _entry_of(self, result: Result) -> tuple[Any, ...]:
        """``result`` as a snapshot entry: plain tuples, ``rev`` left out."""
        s = result.summary
        return (
            None if s is None else self.schemas.blobs.get(s.graph_id),
            None if s is None else tuple(s),
            tuple(
                (p.file, p.message, p.json_path, p.line, p.column, p.code, p.severity)
                for p in result.problems
            ),
            result.schema_line,
        )

    def _decoded(self, raw: str, rev: str | None) -> Result | None:
        try:
            result = decode(raw, self.schemas, rev)
        except (ValueError, KeyError, TypeError, IndexError):
            return None
        if result is not None:
            self.hits += 1
        return result

    def store(self, path: str, blob: str, result: Result) -> None:
        """Remember one document's result (written by :meth:`flush`)."""
        graph = result.summary.graph_id if result.summary is not None else None
        schema_blob = self.schemas.blobs.get(graph) if graph is not None else None
        self._pending.append((self._context, path, blob, encode(result, schema_blob)))
        self._values[path] = (blob, self._entry_of(result))

    def _snapshot(self, listed: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The snapshot to write (None: unchanged): the old one (its entries only if of this
        context), the new stat rows, this run's entries; without the files no longer listed."""
        if not self._root:
            return None
        self._load()
        old = self._work or {}
        stale = listed is not None and not old.keys() <= listed.keys()
        if self._work_context and not (self._changed or self._values or stale):
            return None  # the common warm run: nothing new
        changed = bool(self._changed) or (not self._work_context and bool(self._values))
        work = dict(old) if self._work_context else {p: (*r[:6], None) for p, r in old.items()}
        work.update((p, (*row, None)) for p, row in self._changed.items())
        for path, (blob, entry) in self._values.items():
            row = work.get(path)
            if row is not None and row[5] == blob and row[6] != entry:
                work[path] = (*row[:6], entry)
                changed = True
        if stale and listed is not None:
            work = {p: r for p, r in work.items() if p in listed}
            changed = True
        return work if changed else None

    def flush(self, listed: Mapping[str, Any] | None = None) -> None:
        """Write the remembered results and this work tree's snapshot (``listed``: the files
        it lists now; others are dropped from it) in one transaction; errors are ignored."""
        pending, self._pending = self._pending, []
        try:
            work = self._snapshot(listed)
        except (TypeError, IndexError, ValueError):  # a snapshot of another shape: replace it
            work = {p: (*r, None) for p, r in self._changed.items()}
        if not pending and work is None:
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
            db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)", pending)
            if work is not None:
                data = marshal.dumps(work)
                db.execute(
                    "INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?, ?)",
                    (self._root, self._context, hashlib.blake2b(data).hexdigest(), data),
                )
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


def _stat_key(st: os.stat_result) -> tuple[int, int, int, int, int]:
    """The stat data git's index compares to tell an unchanged file without reading it."""
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
