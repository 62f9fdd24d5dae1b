"""The graph code a run executes: the working tree's, or a commit's, loaded and cached.

A run loads the graph named in ``langgraph.json`` either from the working tree or, pinned,
from the commit of the assistant's version, materialised once under
``.gitassist/trees/<commit>``. Compiled graphs are cached per code version (the commit, and
for the working tree the graph file's mtime and size); schemas by blob (:mod:`gitassist.schemas`).
langgraph and user code are imported only by :func:`gitassist.graphs.load_graph`, called here
when a graph is first needed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pygit2

from gitassist.errors import NotFound
from gitassist.project import init_hint
from gitassist.state_dir import state_dir

if TYPE_CHECKING:
    from pygit2 import Commit, Tree

    from gitassist.project import Project
    from gitassist.schemas import SchemaSet
    from gitassist.store import Store

_GRAPH_CACHE_SIZE = 32
# Loaded graphs by (code root, graph id, spec, code key).
_GRAPHS: dict[tuple[str, str, str, str], Any] = {}


@dataclass(frozen=True)
class Code:
    """Where the graph code comes from: a directory, its project, its commit."""

    root: Path
    project: Project
    commit: str | None
    tree: Tree | None  # None: the working tree
    pinned: bool


def materialise(store: Store, commit: Commit) -> Path:
    """The tree of ``commit`` written out under ``.gitassist/trees/<commit>`` (once)."""
    base = state_dir(store.root) / "trees"
    target = base / str(commit.id)
    if target.is_dir():
        return target
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=base))
    try:
        _write_tree(store.repo, commit.tree, tmp)
        os.rename(tmp, target)
    except OSError:
        if not target.is_dir():
            raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _write_tree(repo: pygit2.Repository, tree: Tree, dest: Path) -> None:
    for entry in tree:
        path = dest / str(entry.name)
        obj: Any = repo.get(entry.id)
        if entry.filemode == pygit2.GIT_FILEMODE_TREE:
            path.mkdir()
            _write_tree(repo, obj, path)
        elif entry.filemode == pygit2.GIT_FILEMODE_LINK:
            os.symlink(obj.data.decode("utf-8"), path)
        elif isinstance(obj, pygit2.Blob):
            path.write_bytes(obj.data)
            if entry.filemode == pygit2.GIT_FILEMODE_BLOB_EXECUTABLE:
                path.chmod(0o755)
        # submodules (commit entries) are not materialised


def code_source(store: Store, pin_to: str | None) -> Code:
    """The working tree's code, or with ``pin_to`` the code as it is in that commit."""
    if pin_to is not None:
        commit = store.get_commit(pin_to)
        return Code(
            materialise(store, commit),
            store.project_at(commit),
            str(commit.id),
            commit.tree,
            pinned=True,
        )
    head = store.head_commit()
    return Code(
        store.root, store.project, str(head.id) if head is not None else None, None, pinned=False
    )


def graph_spec(code: Code, graph_id: str) -> str:
    """The graph's ``path:attribute`` in that code's langgraph.json; NotFound when missing."""
    spec = code.project.graphs.get(graph_id)
    if spec is None:
        where = f" at {code.commit[:12]}" if code.pinned and code.commit else ""
        known = ", ".join(sorted(code.project.graphs)) or "none"
        raise NotFound(
            f"graph {graph_id!r} is not in langgraph.json{where}",
            hint=init_hint(code.root, f"langgraph.json has: {known}; add the graph or fix it"),
        )
    return spec


def _spec_file(spec: str) -> str | None:
    target = spec.rpartition(":")[0]
    if target.endswith(".py") or "/" in target:
        return target.removeprefix("./")
    return None


def schema_set_of(store: Store, code: Code) -> SchemaSet:
    """The committed context schemas of that code (parsed and compiled once per blob)."""
    from gitassist.schemas import load_schemas

    return load_schemas(store, code.project, code.tree)


def load_cached(code: Code, graph_id: str, spec: str, store: Store) -> tuple[Any, bool]:
    """The compiled graph (cached per code version) and whether its file has local edits."""
    file = _spec_file(spec)
    stamp, dirty = "", False
    if not code.pinned and file is not None:
        with contextlib.suppress(OSError):
            st = (code.root / file).stat()
            stamp = f"{st.st_mtime_ns}:{st.st_size}"
        from gitassist.checkout import dirty_paths

        dirty = bool(dirty_paths(store, [file]))
    key = (str(code.root), graph_id, spec, f"{code.commit}:{stamp}")
    graph = _GRAPHS.get(key)
    if graph is None:
        from gitassist.graphs import load_graph

        graph = load_graph(code.root, graph_id, spec, dependencies=list(code.project.dependencies))
        if len(_GRAPHS) >= _GRAPH_CACHE_SIZE:
            _GRAPHS.pop(next(iter(_GRAPHS)))
        _GRAPHS[key] = graph
    return graph, dirty
