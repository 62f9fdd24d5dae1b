"""What one validate cache entry holds, and its row format (:mod:`gitassist.validate_cache`).

A :class:`Result` is one document's own problems (``rev`` left out) and, if it parsed, its
:class:`Summary`: the three facts the cross-file checks need. A valid document's row is one
short tab-separated line; any other is JSON. Also the work-tree side of validate: listing
documents with their lstat data (:func:`work_documents`, the stat data the cache keys files
by), reading a listed one without following a link (:func:`read_listed`), a file's content
id, and :class:`GcPause`.
"""

from __future__ import annotations

import gc
import json
import os
import stat
from typing import TYPE_CHECKING, Any, NamedTuple

from gitassist.problems import Problem

if TYPE_CHECKING:
    from gitassist.schemas import SchemaSet
    from gitassist.store import Store


class Summary(NamedTuple):
    """What the cross-file checks need of a document that parsed (stands in for it)."""

    assistant_id: str
    graph_id: str
    context: bool  # whether it sets context values


class Result(NamedTuple):
    """One document's own problems (``rev`` left out) and, if it parsed, its summary.
    (Named tuples: a warm run makes one of each per document.)"""

    problems: tuple[Problem, ...]
    summary: Summary | None
    # where its ``$schema`` line points (path, line, column): checked against the files of
    # each run, as a file it names may come or go without the document changing
    schema_line: tuple[str, int, int] | None = None


def encode(result: Result, schema_blob: str | None) -> str:
    s, line = result.summary, result.schema_line
    where = ("", "", "") if line is None else (line[0], str(line[1]), str(line[2]))
    if s is not None and not result.problems:
        # the common case, a valid document: a short tab-separated line, quick to read back
        fields = ("v", s.assistant_id, s.graph_id, "1" if s.context else "", schema_blob or "")
        row = "\t".join((*fields, *where))
        if row.count("\t") == 7 and "\n" not in row and "\r" not in row:
            return row
    return json.dumps(
        {
            "p": [
                [p.file, p.message, p.json_path, p.line, p.column, p.code, p.severity]
                for p in result.problems
            ],
            "s": None if s is None else [s.assistant_id, s.graph_id, s.context],
            "b": schema_blob,
            "l": None if line is None else list(line),
        },
        separators=(",", ":"),
    )


def decode(raw: str, schemas: SchemaSet, rev: str | None) -> Result | None:
    if raw.startswith("v\t"):
        _, aid, graph, context, blob, target, line, column = raw.split("\t")
        if schemas.blobs.get(graph) != (blob or None):
            return None
        where = (target, int(line), int(column)) if target else None
        return Result((), Summary(aid, graph, bool(context)), where)
    data = json.loads(raw)
    s = data["s"]
    summary = None if s is None else Summary(str(s[0]), str(s[1]), bool(s[2]))
    if summary is not None and schemas.blobs.get(summary.graph_id) != data["b"]:
        return None  # this graph's schema changed since (or appeared, or went away)
    problems = tuple(
        Problem(f, m, j, line, col, rev, code, "warning" if sev == "warning" else "error")
        for f, m, j, line, col, code, sev in data["p"]
    )
    found = data["l"]
    where = None if found is None else (str(found[0]), int(found[1]), int(found[2]))
    return Result(problems, summary, where)


class GcPause:
    """Cyclic garbage collection paused for a run of cache hits, which make only acyclic
    records (tuples, problems): the collector's passes over them free nothing. Resumed for
    good at the first parse (a loader makes cycles), and on leaving."""

    def __enter__(self) -> GcPause:
        self._paused = gc.isenabled()
        gc.disable()
        return self

    def resume(self) -> None:
        if self._paused:
            self._paused = False
            gc.enable()

    def __exit__(self, *_: object) -> None:
        self.resume()


def summary_of(document: Any) -> Summary:
    """The summary of a parsed document."""
    return Summary(document.assistant_id, document.graph_id, bool(document.context))


def content_id(text: str) -> str:
    """The git blob id of a working-tree file's (decoded) text: its cache key."""
    import pygit2

    return str(pygit2.hash(text.encode("utf-8", errors="surrogateescape")))


# --------------------------------------------------------------------------- the work tree

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def work_documents(
    store: Store, base: str, skipped: list[str], stats: dict[str, os.stat_result] | None = None
) -> list[str]:
    """Regular ``*.yaml``/``*.yml`` files under ``base`` in the working tree (no symlink is
    followed; a symlinked folder is not entered); other files, unless git ignores them, go to
    ``skipped``. One ``os.scandir`` per folder; each document's lstat data go to ``stats``."""
    from gitassist.store import KEEP, TMP_SUFFIX, YAML_SUFFIXES
    from gitassist.worktree import check_path

    check_path(store.root, base)  # a symlinked (or escaping) assistants folder is refused
    root = str(store.root)
    out: list[str] = []
    found = {} if stats is None else stats

    def walk(folder: str, rel: str) -> None:
        try:
            with os.scandir(folder) as it:
                entries = list(it)
        except OSError:  # gone, or not a folder: nothing listed (as os.walk)
            return
        for entry in entries:
            name = entry.name
            if entry.is_dir(follow_symlinks=False):
                if name != ".git":
                    walk(entry.path, name if rel == "." else f"{rel}/{name}")
                continue
            path = f"{rel}/{name}"
            if name.endswith(YAML_SUFFIXES) and entry.is_file(follow_symlinks=False):
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:  # gone since the listing
                    st = None
                if st is not None and stat.S_ISREG(st.st_mode):
                    found[path] = st
                    out.append(path)
                    continue
            if (
                name != KEEP
                and not name.endswith(TMP_SUFFIX)
                and not store.repo.path_is_ignored(path)
            ):
                skipped.append(path)

    top = store.root / base
    walk(str(top), top.relative_to(root).as_posix())
    return sorted(out)


def read_listed(
    store: Store, path: str, st: os.stat_result | None
) -> tuple[str, os.stat_result | None]:
    """A listed work-tree document's text, and the stat data of what was read (None: read the
    careful way, :func:`gitassist.worktree.read_bytes`). The quick way opens the path without
    following a final link and reads it only if it is the very file (device, inode) the
    listing saw as a regular file inside the tree; anything else takes the careful way, which
    refuses a link on the path by name."""
    if st is not None:
        try:
            fd = os.open(f"{store.root}/{path}", os.O_RDONLY | _NOFOLLOW | _NONBLOCK)
        except OSError:
            fd = -1
        if fd >= 0:
            try:
                now = os.fstat(fd)
                if stat.S_ISREG(now.st_mode) and (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino):
                    chunks = [os.read(fd, now.st_size + 1)]
                    while chunks[-1]:  # to the end, however long it is by now
                        chunks.append(os.read(fd, 1 << 16))
                    return b"".join(chunks).decode("utf-8", errors="surrogateescape"), now
            finally:
                os.close(fd)
    return store.read_work_text(path, errors="surrogateescape") or "", None
