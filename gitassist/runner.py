"""Run a resolved assistant locally, with threads, streaming and provenance.

A run goes one way: resolve the target (id, graph id, stem, name, ``@N``, ``--rev``) → merge
the run's context over the assistant's, key by key → validate the merged context against the
committed schema of the code that will run (nothing runs when it is invalid) → load the graph
named in ``langgraph.json`` (from the working tree, or with ``pin`` from the version's own
commit, materialised under ``.gitassist/trees/``) → execute it with ``context=`` and the
assistant's config → yield :class:`StreamPart` events in the shapes langgraph_sdk yields:
``metadata`` first (``run_id`` plus the provenance), then one event per step.

Threads keep their state in ``<repo>/.gitassist/threads.sqlite`` through the real
``langgraph-checkpoint-sqlite`` savers; two small tables beside the checkpoints remember
each thread's assistant and each run's provenance. Nothing here imports langgraph at module
level: only running and thread commands pay for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import os
import shutil
import sqlite3
import tempfile
import threading
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pygit2

from gitassist import assistants as ops
from gitassist.errors import Conflict, GitassistError, NotFound, UserCodeError, ValidationFailed
from gitassist.problems import json_path
from gitassist.validation import context_problems

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator, Mapping, Sequence

    from pygit2 import Commit, Tree

    from gitassist.assistants import Resolved
    from gitassist.project import Project
    from gitassist.store import Store
    from gitassist.validation import SchemaSet

__all__ = [
    "STREAM_MODES",
    "PreparedRun",
    "Provenance",
    "Runner",
    "RunsClient",
    "StreamPart",
    "SyncRunsClient",
    "SyncThreadsClient",
    "ThreadsClient",
    "materialise",
]

STATE_DIR = ".gitassist"
DB_NAME = "threads.sqlite"
STREAM_MODES = (
    "values",
    "updates",
    "messages",
    "messages-tuple",
    "debug",
    "custom",
    "tasks",
    "checkpoints",
)
_LIBRARY_PARTS = ("site-packages", "dist-packages")
_GITASSIST_DIR = Path(__file__).resolve().parent
_GRAPH_CACHE_SIZE = 32
# Loaded graphs by (code root, graph id, spec, code key); schema sets by where they came from.
_GRAPHS: dict[tuple[str, str, str, str], Any] = {}
_SCHEMAS: dict[tuple[str, str], SchemaSet] = {}


class StreamPart(NamedTuple):
    """One streamed event, the same shape as ``langgraph_sdk.schema.StreamPart``."""

    event: str
    data: Any
    id: str | None = None


@dataclass(frozen=True)
class Provenance:
    """What a run executed: the exact document and graph code, by commit."""

    assistant_id: str
    graph_id: str
    name: str
    version: int | None
    source: str
    document_commit: str | None
    document_path: str | None
    code_commit: str | None
    pinned: bool
    code_dirty: bool
    context_checked: bool  # False when the graph has no committed context schema

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class _Code:
    """Where the graph code comes from: a directory, its project, its commit."""

    root: Path
    project: Project
    commit: str | None
    tree: Tree | None  # None: the working tree
    pinned: bool


@dataclass(frozen=True)
class PreparedRun:
    """A resolved, validated assistant with its graph loaded: ready to execute."""

    resolved: Resolved
    context: dict[str, Any]
    config: dict[str, Any]
    graph: Any
    provenance: Provenance
    code_root: Path


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _jsonable(value: Any) -> Any:
    """Plain JSON data, as a LangGraph server would send it (messages become dicts)."""
    from pydantic_core import to_jsonable_python

    return to_jsonable_python(value, fallback=repr)


def state_dir(root: Path) -> Path:
    """``<repo>/.gitassist``, created on first use and ignored by git from inside."""
    path = root / STATE_DIR
    if not path.is_dir():
        path.mkdir(parents=True, exist_ok=True)
    ignore = path / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- pinned code


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


# --------------------------------------------------------------------------- preparing


def _code_source(store: Store, pin_to: str | None) -> _Code:
    """The working tree's code, or with ``pin_to`` the code as it is in that commit."""
    if pin_to is not None:
        commit = store.get_commit(pin_to)
        return _Code(
            materialise(store, commit),
            store.project_at(commit),
            str(commit.id),
            commit.tree,
            pinned=True,
        )
    head = store.head_commit()
    return _Code(
        store.root, store.project, str(head.id) if head is not None else None, None, pinned=False
    )


def _graph_spec(code: _Code, graph_id: str) -> str:
    spec = code.project.graphs.get(graph_id)
    if spec is None:
        where = f" at {code.commit[:12]}" if code.pinned and code.commit else ""
        known = ", ".join(sorted(code.project.graphs)) or "none"
        raise NotFound(
            f"graph {graph_id!r} is not in langgraph.json{where}",
            hint=f"langgraph.json has: {known}; add the graph or fix the graph_id",
        )
    return spec


def _spec_file(spec: str) -> str | None:
    target = spec.rpartition(":")[0]
    if target.endswith(".py") or "/" in target:
        return target.removeprefix("./")
    return None


def _schemas(store: Store, code: _Code) -> SchemaSet:
    if code.tree is not None:
        key = ("tree", str(code.tree.id))
    else:
        stamps = []
        for graph_id in code.project.graphs:
            file = store.root / code.project.settings.schemas_dir / f"{graph_id}.context.json"
            with contextlib.suppress(OSError):
                st = file.stat()
                stamps.append(f"{graph_id}:{st.st_mtime_ns}:{st.st_size}")
        key = (str(store.root), "|".join(stamps))
    cached = _SCHEMAS.get(key)
    if cached is None:
        if len(_SCHEMAS) > _GRAPH_CACHE_SIZE:
            _SCHEMAS.clear()
        cached = _SCHEMAS[key] = ops.schema_set(store, code.tree)
    return cached


def _validate(
    store: Store,
    resolved: Resolved,
    code: _Code,
    merged: dict[str, Any],
    run_context: Mapping[str, Any],
) -> bool:
    """Raise ValidationFailed listing every problem; False when there is no schema to check."""
    doc = resolved.document.model_copy(update={"context": merged})
    schemas = _schemas(store, code)
    text = store.blob_text(resolved.blob) if resolved.blob else ""
    path = resolved.path or f"<default assistant of {doc.graph_id}>"
    rev = resolved.commit[:12] if resolved.source == "rev" and resolved.commit else None
    found = context_problems(
        doc,
        text,
        path,
        schemas,
        rev=rev,
        unknown_keys=code.project.settings.unknown_context_keys,
    )
    errors = [_from_run_context(p, run_context) for p in found if p.severity == "error"]
    if errors:
        detail = "; ".join(f"{p.json_path}: {p.message}" for p in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise ValidationFailed(
            f"context of {doc.name} is invalid for graph {doc.graph_id!r}: {detail}{more}",
            list(errors),
            hint="nothing ran; fix the assistant's context or the run's --context",
        )
    return schemas.validator(doc.graph_id) is not None


def _from_run_context(problem: Any, run_context: Mapping[str, Any]) -> Any:
    """A problem about a key the run's own context set points at the run, not the file."""
    for key in run_context:
        prefix = json_path(("context", key))
        if problem.json_path.startswith((prefix + ".", prefix + "[")) or (
            problem.json_path == prefix
        ):
            return dataclasses.replace(problem, file="run context", line=None, column=None)
    return problem


def _load(code: _Code, graph_id: str, spec: str, store: Store) -> tuple[Any, bool]:
    """The compiled graph (cached per code version) and whether its file has local edits."""
    file = _spec_file(spec)
    stamp, dirty = "", False
    if not code.pinned and file is not None:
        with contextlib.suppress(OSError):
            st = (code.root / file).stat()
            stamp = f"{st.st_mtime_ns}:{st.st_size}"
        dirty = bool(store.dirty_paths([file]))
    key = (str(code.root), graph_id, spec, f"{code.commit}:{stamp}")
    graph = _GRAPHS.get(key)
    if graph is None:
        from gitassist.graphs import load_graph

        graph = load_graph(code.root, graph_id, spec, dependencies=list(code.project.dependencies))
        if len(_GRAPHS) >= _GRAPH_CACHE_SIZE:
            _GRAPHS.pop(next(iter(_GRAPHS)))
        _GRAPHS[key] = graph
    return graph, dirty


def _run_config(resolved: Resolved, config: Mapping[str, Any] | None) -> dict[str, Any]:
    stored = resolved.document.config
    extra = dict(config or {})
    out: dict[str, Any] = {"tags": [*stored.tags, *extra.pop("tags", [])]}
    limit = extra.pop("recursion_limit", None) or stored.recursion_limit
    if limit is not None:
        out["recursion_limit"] = limit
    out["configurable"] = dict(extra.pop("configurable", None) or {})
    out.update(extra)
    return out


def prepare(
    store: Store,
    target: str,
    *,
    rev: str | None = None,
    context: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    pin: bool = False,
) -> PreparedRun:
    """Resolve, merge and validate the context, load the graph: everything before running."""
    resolved = ops.resolve(store, target, rev=rev)
    doc = resolved.document
    if pin and resolved.commit is None:
        raise NotFound(f"{doc.name} has no commit to pin its code to")
    code = _code_source(store, resolved.commit if pin else None)
    spec = _graph_spec(code, doc.graph_id)
    run_context = dict(context or {})
    merged = {**doc.context, **run_context}
    checked = _validate(store, resolved, code, merged, run_context)
    graph, dirty = _load(code, doc.graph_id, spec, store)
    provenance = Provenance(
        assistant_id=doc.assistant_id,
        graph_id=doc.graph_id,
        name=doc.name,
        version=resolved.version,
        source=resolved.source,
        document_commit=resolved.commit,
        document_path=resolved.path,
        code_commit=code.commit,
        pinned=code.pinned,
        code_dirty=dirty,
        context_checked=checked,
    )
    return PreparedRun(
        resolved, merged, _run_config(resolved, config), graph, provenance, code.root.resolve()
    )


# --------------------------------------------------------------------------- user errors


def _user_error(exc: BaseException, prepared: PreparedRun) -> UserCodeError:
    prov = prepared.provenance
    what = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    message = f"graph '{prov.graph_id}' failed while running {prov.name}: {what}"
    frame = _user_frame(exc, prepared.code_root)
    if frame is None:
        return UserCodeError(
            message,
            hint="the error comes from the graph's run, not a line "
            "of your code (check the input, context and recursion_limit)",
        )
    filename, line, source = frame
    shown = Path(filename).resolve().relative_to(prepared.code_root).as_posix()
    if prov.pinned and prov.code_commit:
        shown = f"{prov.code_commit[:12]}:{shown}"
    hint = f"{shown}, line {line}: {source}" if source else None
    return UserCodeError(f"{message} (at {shown}, line {line})", hint=hint)


def _user_frame(exc: BaseException, root: Path) -> tuple[str, int, str] | None:
    """The innermost traceback frame in the user's code directory (not a library in it)."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename)
        if frame.filename.startswith("<") or any(p in path.parts for p in _LIBRARY_PARTS):
            continue
        resolved = path.resolve()
        if resolved.is_relative_to(root) and not resolved.is_relative_to(_GITASSIST_DIR):
            return frame.filename, frame.lineno or 0, (frame.line or "").strip()
    return None


# --------------------------------------------------------------------------- thread records


class ThreadDB:
    """Thread and run records beside the checkpoints, in ``.gitassist/threads.sqlite``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.path = root / STATE_DIR / DB_NAME
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """The connection (opened once, shared by threads), inside one transaction."""
        with self._lock:
            if self._conn is None:
                state_dir(self.root)
                conn = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
                # WAL (the checkpointer's mode too): a commit survives a crash of this
                # process without an fsync per statement.
                conn.executescript(_SCHEMA_SQL)
                conn.execute("PRAGMA synchronous=NORMAL")
                self._conn = conn
            with self._conn:
                yield self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def create(self, thread_id: str, metadata: Mapping[str, Any]) -> None:
        now = _now()
        with self.connect() as conn:
            conn.execute(
                "INSERT INTO gitassist_threads VALUES (?, ?, ?, ?, 'idle')",
                (thread_id, now, now, json.dumps(dict(metadata))),
            )

    def get(self, thread_id: str) -> dict[str, Any] | None:
        with self.connect() as conn:
            row = conn.execute(
                "SELECT * FROM gitassist_threads WHERE thread_id = ?", (thread_id,)
            ).fetchone()
        return _thread_row(row) if row else None

    def all(self) -> list[dict[str, Any]]:
        with self.connect() as conn:
            rows = conn.execute("SELECT * FROM gitassist_threads").fetchall()
        return [_thread_row(r) for r in rows]

    def update(
        self,
        thread_id: str,
        *,
        status: str | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> None:
        with self.connect() as conn:
            if status is not None:
                conn.execute(
                    "UPDATE gitassist_threads SET status = ?, updated_at = ? WHERE thread_id = ?",
                    (status, _now(), thread_id),
                )
            if metadata is not None:
                conn.execute(
                    "UPDATE gitassist_threads SET metadata = ?, updated_at = ? WHERE thread_id = ?",
                    (json.dumps(dict(metadata)), _now(), thread_id),
                )

    def delete(self, thread_id: str) -> None:
        with self.connect() as conn:
            conn.execute("DELETE FROM gitassist_threads WHERE thread_id = ?", (thread_id,))
            conn.execute("DELETE FROM gitassist_runs WHERE thread_id = ?", (thread_id,))

    def add_run(
        self,
        run_id: str,
        thread_id: str,
        assistant_id: str,
        metadata: Mapping[str, Any],
        kwargs: Mapping[str, Any],
    ) -> None:
        now = _now()
        with self.connect() as conn:
            conn.execute(
                "INSERT INTO gitassist_runs VALUES (?, ?, ?, ?, ?, 'running', ?, ?, NULL)",
                (
                    run_id,
                    thread_id,
                    assistant_id,
                    now,
                    now,
                    json.dumps(dict(metadata)),
                    json.dumps(_jsonable(dict(kwargs))),
                ),
            )

    def finish_run(self, run_id: str, status: str, error: str | None = None) -> None:
        with self.connect() as conn:
            conn.execute(
                "UPDATE gitassist_runs SET status = ?, updated_at = ?, error = ? WHERE run_id = ?",
                (status, _now(), error, run_id),
            )

    def runs(self, thread_id: str) -> list[dict[str, Any]]:
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT * FROM gitassist_runs WHERE thread_id = ? ORDER BY created_at, rowid",
                (thread_id,),
            ).fetchall()
        return [_run_row(r) for r in rows]


_SCHEMA_SQL = """
PRAGMA journal_mode=WAL;
CREATE TABLE IF NOT EXISTS gitassist_threads (
    thread_id TEXT PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    metadata TEXT NOT NULL, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS gitassist_runs (
    run_id TEXT PRIMARY KEY, thread_id TEXT NOT NULL, assistant_id TEXT NOT NULL,
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, status TEXT NOT NULL,
    metadata TEXT NOT NULL, kwargs TEXT NOT NULL, error TEXT);
CREATE INDEX IF NOT EXISTS gitassist_runs_thread ON gitassist_runs (thread_id);
"""


def _thread_row(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "thread_id": row[0],
        "created_at": row[1],
        "updated_at": row[2],
        "metadata": json.loads(row[3]),
        "status": row[4],
    }


def _run_row(row: Sequence[Any]) -> dict[str, Any]:
    return {
        "run_id": row[0],
        "thread_id": row[1],
        "assistant_id": row[2],
        "created_at": row[3],
        "updated_at": row[4],
        "status": row[5],
        "metadata": json.loads(row[6]),
        "kwargs": json.loads(row[7]),
        "error": row[8],
        "multitask_strategy": "reject",
    }


# --------------------------------------------------------------------------- one run


class _Run:
    """The bookkeeping of one run: its id, records, and event conversion."""

    def __init__(
        self,
        db: ThreadDB,
        prepared: PreparedRun,
        thread_id: str | None,
        modes: list[str],
        metadata: Mapping[str, Any] | None,
        input: Any,
    ) -> None:
        self.db = db
        self.prepared = prepared
        self.thread_id = thread_id
        self.modes = modes
        self.run_id = str(uuid.uuid4())
        self.messages: dict[str, Any] = {}
        self.last_values: Any = None
        self.metadata = {**(metadata or {}), **prepared.provenance.to_dict()}
        self.input = input
        configurable = {
            **prepared.config["configurable"],
            "thread_id": thread_id or f"stateless-{self.run_id}",
        }
        self.config = {
            **prepared.config,
            "configurable": configurable,
            "run_id": uuid.UUID(self.run_id),
            "run_name": prepared.provenance.name,
        }
        graph_modes = {"messages" if m == "messages-tuple" else m for m in modes}
        if "values" not in graph_modes:
            graph_modes.add("values")  # for the final state; not yielded unless asked for
            self.hidden_values = True
        else:
            self.hidden_values = False
        self.graph_modes = sorted(graph_modes)

    def start(self) -> StreamPart:
        if self.thread_id is not None:
            prov = self.prepared.provenance
            self.db.add_run(
                self.run_id,
                self.thread_id,
                prov.assistant_id,
                self.metadata,
                {
                    "input": self.input,
                    "context": self.prepared.context,
                    "config": {
                        k: v for k, v in self.prepared.config.items() if k != "configurable"
                    },
                },
            )
            self.db.update(self.thread_id, status="busy")
        data = {
            "run_id": self.run_id,
            "attempt": 1,
            "thread_id": self.thread_id,
            **self.prepared.provenance.to_dict(),
        }
        return StreamPart("metadata", data)

    def parts(self, mode: str, chunk: Any) -> list[StreamPart]:
        if mode == "values":
            self.last_values = chunk
            return [] if self.hidden_values else [StreamPart("values", _jsonable(chunk))]
        if mode != "messages":
            return [StreamPart(mode, _jsonable(chunk))]
        message, meta = chunk
        out = []
        if "messages-tuple" in self.modes:
            out.append(StreamPart("messages", [_jsonable(message), _jsonable(meta)]))
        if "messages" in self.modes:
            out.extend(self._message_parts(message, meta))
        return out

    def _message_parts(self, message: Any, meta: Any) -> list[StreamPart]:
        from langchain_core.messages import BaseMessageChunk

        out = []
        key = getattr(message, "id", None) or str(id(message))
        if key in self.messages:
            previous = self.messages[key]
            both_chunks = isinstance(previous, BaseMessageChunk) and isinstance(
                message, BaseMessageChunk
            )
            self.messages[key] = previous + message if both_chunks else message
        else:
            self.messages[key] = message
            out.append(StreamPart("messages/metadata", {key: {"metadata": _jsonable(meta)}}))
        event = "messages/partial" if isinstance(message, BaseMessageChunk) else "messages/complete"
        out.append(StreamPart(event, [_jsonable(self.messages[key])]))
        return out

    def finish(self, status: str, error: str | None = None) -> None:
        if self.thread_id is None:
            return
        self.db.finish_run(self.run_id, status, error)
        thread = self.db.get(self.thread_id)
        meta = dict(thread["metadata"]) if thread else {}
        prov = self.prepared.provenance
        meta.setdefault("graph_id", prov.graph_id)
        meta.setdefault("assistant_id", prov.assistant_id)
        self.db.update(
            self.thread_id, metadata=meta, status="error" if status == "error" else "idle"
        )

    def failed(self, exc: Exception) -> GitassistError:
        error = exc if isinstance(exc, GitassistError) else _user_error(exc, self.prepared)
        self.finish("error", str(error))
        return error


# --------------------------------------------------------------------------- the runner


class Runner:
    """Runs assistants of one repository; the thread and run records live in it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.db = ThreadDB(store.root)

    @property
    def db_path(self) -> str:
        state_dir(self.store.root)
        return str(self.db.path)

    # ---------------------------------------------------------------- before a run

    def begin(
        self,
        thread_id: str | None,
        target: str | None,
        *,
        input: Any = None,
        stream_mode: str | Sequence[str] = "values",
        context: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        rev: str | None = None,
        pin: bool = False,
        if_not_exists: str | None = None,
    ) -> _Run:
        modes = _modes(stream_mode)
        thread = self.db.get(thread_id) if thread_id is not None else None
        if thread_id is not None and thread is None and if_not_exists != "create":
            raise NotFound(
                f"thread {thread_id} not found",
                hint="create it first (gitassist threads create), or pass if_not_exists='create'",
            )
        if target is None:
            target = (thread or {}).get("metadata", {}).get("assistant_id")
            if target is None:
                raise NotFound("name an assistant to run (the thread has no assistant yet)")
        prepared = prepare(self.store, target, rev=rev, context=context, config=config, pin=pin)
        graph_id = prepared.provenance.graph_id
        if thread is not None:
            started = thread["metadata"].get("graph_id")
            if started is not None and started != graph_id:
                raise Conflict(
                    f"thread {thread_id} belongs to graph {started!r}, not {graph_id!r}",
                    hint="start a new thread for this assistant",
                )
        elif thread_id is not None:
            self.db.create(
                thread_id, {"graph_id": graph_id, "assistant_id": prepared.provenance.assistant_id}
            )
        return _Run(self.db, prepared, thread_id, modes, metadata, input)

    # ---------------------------------------------------------------- sync

    @contextlib.contextmanager
    def _graph(self, run: _Run) -> Iterator[Any]:
        graph = run.prepared.graph
        if run.thread_id is None:
            yield graph
            return
        from langgraph.checkpoint.sqlite import SqliteSaver

        with SqliteSaver.from_conn_string(self.db_path) as saver:
            yield graph.copy(update={"checkpointer": saver})

    def stream_run(self, run: _Run) -> Iterator[StreamPart]:
        yield run.start()
        status = "interrupted"
        try:
            with self._graph(run) as graph:
                for mode, chunk in graph.stream(
                    run.input,
                    run.config,
                    context=run.prepared.context,
                    stream_mode=run.graph_modes,
                ):
                    yield from run.parts(mode, chunk)
            status = "success"
        except Exception as exc:
            status = "error"
            error = run.failed(exc)
            if error is exc:
                raise
            raise error from exc
        finally:
            if status != "error":
                run.finish(status)

    def stream(
        self, thread_id: str | None, target: str | None, **kwargs: Any
    ) -> Iterator[StreamPart]:
        return self.stream_run(self.begin(thread_id, target, **kwargs))

    def wait(
        self, thread_id: str | None, target: str | None, *, raise_error: bool = True, **kwargs: Any
    ) -> Any:
        kwargs["stream_mode"] = "values"
        try:
            run = self.begin(thread_id, target, **kwargs)
            for _ in self.stream_run(run):
                pass
        except UserCodeError as exc:
            if raise_error:
                raise
            return {"__error__": {"error": type(exc).__name__, "message": str(exc)}}
        return _jsonable(run.last_values)

    # ---------------------------------------------------------------- async

    @contextlib.asynccontextmanager
    async def _agraph(self, run: _Run) -> AsyncIterator[Any]:
        graph = run.prepared.graph
        if run.thread_id is None:
            yield graph
            return
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        async with AsyncSqliteSaver.from_conn_string(self.db_path) as saver:
            yield graph.copy(update={"checkpointer": saver})

    async def astream_run(self, run: _Run) -> AsyncIterator[StreamPart]:
        yield run.start()
        status = "interrupted"
        try:
            async with self._agraph(run) as graph:
                async for mode, chunk in graph.astream(
                    run.input,
                    run.config,
                    context=run.prepared.context,
                    stream_mode=run.graph_modes,
                ):
                    for part in run.parts(mode, chunk):
                        yield part
            status = "success"
        except Exception as exc:
            status = "error"
            error = run.failed(exc)
            if error is exc:
                raise
            raise error from exc
        finally:
            if status != "error":
                run.finish(status)

    async def astream(
        self, thread_id: str | None, target: str | None, **kwargs: Any
    ) -> AsyncIterator[StreamPart]:
        run = await asyncio.to_thread(self.begin, thread_id, target, **kwargs)
        async for part in self.astream_run(run):
            yield part

    async def await_(
        self, thread_id: str | None, target: str | None, *, raise_error: bool = True, **kwargs: Any
    ) -> Any:
        kwargs["stream_mode"] = "values"
        try:
            run = await asyncio.to_thread(self.begin, thread_id, target, **kwargs)
            async for _ in self.astream_run(run):
                pass
        except UserCodeError as exc:
            if raise_error:
                raise
            return {"__error__": {"error": type(exc).__name__, "message": str(exc)}}
        return _jsonable(run.last_values)

    # ---------------------------------------------------------------- threads

    def create_thread(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        thread_id: str | None = None,
        if_exists: str | None = None,
        graph_id: str | None = None,
        assistant: str | None = None,
    ) -> dict[str, Any]:
        meta = dict(metadata or {})
        if assistant is not None:
            resolved = ops.resolve(self.store, assistant)
            meta.setdefault("assistant_id", resolved.assistant_id)
            graph_id = graph_id or resolved.document.graph_id
        if graph_id is not None:
            meta["graph_id"] = graph_id
        new_id = str(uuid.UUID(thread_id)) if thread_id else str(uuid.uuid4())
        if self.db.get(new_id) is not None:
            if if_exists == "do_nothing":
                return self.get_thread(new_id)
            raise Conflict(
                f"thread {new_id} already exists",
                hint='pass if_exists="do_nothing" to get the existing one',
            )
        self.db.create(new_id, meta)
        return self.get_thread(new_id)

    def get_thread(self, thread_id: str) -> dict[str, Any]:
        thread = self.db.get(thread_id)
        if thread is None:
            raise NotFound(f"thread {thread_id} not found", hint="`gitassist threads list`")
        return {**thread, "values": self._values(thread_id), "interrupts": {}}

    def _values(self, thread_id: str) -> Any:
        from langgraph.checkpoint.sqlite import SqliteSaver

        with SqliteSaver.from_conn_string(self.db_path) as saver:
            found = saver.get_tuple({"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}})
        if found is None:
            return {}
        values = found.checkpoint.get("channel_values", {})
        return _jsonable(
            {k: v for k, v in values.items() if not k.startswith("__") and ":" not in k}
        )

    def search_threads(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        ids: Sequence[str] | None = None,
        status: str | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str | None = None,
        sort_order: str | None = None,
    ) -> list[dict[str, Any]]:
        rows = [
            t
            for t in self.db.all()
            if (ids is None or t["thread_id"] in ids)
            and (status is None or t["status"] == status)
            and all(t["metadata"].get(k) == v for k, v in (metadata or {}).items())
        ]
        key = sort_by or "created_at"
        rows.sort(key=lambda t: str(t.get(key, "")), reverse=(sort_order or "desc") == "desc")
        return [self.get_thread(t["thread_id"]) for t in rows[offset : offset + limit]]

    def delete_thread(self, thread_id: str) -> None:
        if self.db.get(thread_id) is None:
            raise NotFound(f"thread {thread_id} not found")
        from langgraph.checkpoint.sqlite import SqliteSaver

        with SqliteSaver.from_conn_string(self.db_path) as saver:
            saver.delete_thread(thread_id)
        self.db.delete(thread_id)

    def runs(self, thread_id: str) -> list[dict[str, Any]]:
        self.get_thread(thread_id)
        return self.db.runs(thread_id)

    def get_state(self, thread_id: str) -> dict[str, Any]:
        """The thread's state as the graph of its last run sees it (langgraph_sdk's shape)."""
        thread = self.get_thread(thread_id)
        runs = self.db.runs(thread_id)
        if not runs:
            return {
                "values": thread["values"],
                "next": [],
                "checkpoint": None,
                "metadata": {},
                "created_at": None,
                "parent_checkpoint": None,
                "tasks": [],
                "interrupts": [],
            }
        graph = self._graph_of(runs[-1]["metadata"])
        from langgraph.checkpoint.sqlite import SqliteSaver

        with SqliteSaver.from_conn_string(self.db_path) as saver:
            snap = graph.copy(update={"checkpointer": saver}).get_state(
                {"configurable": {"thread_id": thread_id}}
            )
        return _snapshot(snap)

    def _graph_of(self, provenance: Mapping[str, Any]) -> Any:
        """The graph a run used: the same code (pinned commit or working tree)."""
        commit = provenance.get("code_commit")
        pinned = bool(provenance.get("pinned") and commit)
        code = _code_source(self.store, commit if pinned else None)
        graph_id = provenance["graph_id"]
        return _load(code, graph_id, _graph_spec(code, graph_id), self.store)[0]


def _checkpoint(config: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not config:
        return None
    conf = config.get("configurable", {})
    return {
        "thread_id": conf.get("thread_id"),
        "checkpoint_ns": conf.get("checkpoint_ns", ""),
        "checkpoint_id": conf.get("checkpoint_id"),
        "checkpoint_map": None,
    }


def _snapshot(snap: Any) -> dict[str, Any]:
    return {
        "values": _jsonable(snap.values),
        "next": list(snap.next),
        "checkpoint": _checkpoint(snap.config),
        "metadata": _jsonable(snap.metadata),
        "created_at": snap.created_at,
        "parent_checkpoint": _checkpoint(snap.parent_config),
        "tasks": [
            {
                "id": t.id,
                "name": t.name,
                "error": None if t.error is None else repr(t.error),
                "interrupts": _jsonable(list(t.interrupts)),
                "checkpoint": None,
                "state": None,
                "result": _jsonable(getattr(t, "result", None)),
            }
            for t in snap.tasks
        ],
        "interrupts": _jsonable(list(snap.interrupts)),
    }


def _modes(stream_mode: str | Sequence[str]) -> list[str]:
    modes = [stream_mode] if isinstance(stream_mode, str) else list(stream_mode)
    unknown = [m for m in modes if m not in STREAM_MODES]
    if unknown or not modes:
        raise ValidationFailed(
            f"unknown stream mode {', '.join(unknown) or '(none)'}",
            [],
            hint=f"use one or more of: {', '.join(STREAM_MODES)}",
        )
    return list(dict.fromkeys(modes))


# --------------------------------------------------------------------------- SDK-shaped clients

_RUN_KEYS = ("input", "stream_mode", "context", "config", "metadata", "if_not_exists")


def _run_kwargs(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The keyword arguments we honour; the SDK's others (webhook, …) are accepted and ignored."""
    out = {k: kwargs[k] for k in _RUN_KEYS if kwargs.get(k) is not None}
    for key in ("rev", "pin"):  # gitassist's own
        if kwargs.get(key):
            out[key] = kwargs[key]
    return out


class SyncRunsClient:
    """``client.runs`` (sync): ``stream`` and ``wait`` run the graph in this process."""

    def __init__(self, store: Store) -> None:
        self.runner = Runner(store)

    def stream(
        self, thread_id: str | None, assistant_id: str, **kwargs: Any
    ) -> Iterator[StreamPart]:
        kwargs.setdefault("stream_mode", "values")
        return self.runner.stream(thread_id, assistant_id, **_run_kwargs(kwargs))

    def wait(
        self, thread_id: str | None, assistant_id: str, *, raise_error: bool = True, **kwargs: Any
    ) -> Any:
        return self.runner.wait(
            thread_id, assistant_id, raise_error=raise_error, **_run_kwargs(kwargs)
        )

    def list(
        self, thread_id: str, *, limit: int = 10, offset: int = 0, **_: Any
    ) -> list[dict[str, Any]]:
        runs = list(reversed(self.runner.runs(thread_id)))
        return runs[offset : offset + limit]

    def get(self, thread_id: str, run_id: str, **_: Any) -> dict[str, Any]:
        for run in self.runner.runs(thread_id):
            if run["run_id"] == run_id:
                return run
        raise NotFound(f"run {run_id} not found in thread {thread_id}")


class RunsClient:
    """``client.runs`` (async), with langgraph_sdk's names and event shapes."""

    def __init__(self, store: Store) -> None:
        self._sync = SyncRunsClient(store)
        self.runner = self._sync.runner

    def stream(
        self, thread_id: str | None, assistant_id: str, **kwargs: Any
    ) -> AsyncIterator[StreamPart]:
        kwargs.setdefault("stream_mode", "values")
        return self.runner.astream(thread_id, assistant_id, **_run_kwargs(kwargs))

    async def wait(
        self, thread_id: str | None, assistant_id: str, *, raise_error: bool = True, **kwargs: Any
    ) -> Any:
        return await self.runner.await_(
            thread_id, assistant_id, raise_error=raise_error, **_run_kwargs(kwargs)
        )

    async def list(self, thread_id: str, **kwargs: Any) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self._sync.list, thread_id, **kwargs)

    async def get(self, thread_id: str, run_id: str, **kwargs: Any) -> dict[str, Any]:
        return await asyncio.to_thread(self._sync.get, thread_id, run_id, **kwargs)


class SyncThreadsClient:
    """``client.threads`` (sync): threads in ``.gitassist/threads.sqlite``."""

    def __init__(self, store: Store) -> None:
        self.runner = Runner(store)

    def create(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        thread_id: str | None = None,
        if_exists: str | None = None,
        graph_id: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        return self.runner.create_thread(
            metadata=metadata, thread_id=thread_id, if_exists=if_exists, graph_id=graph_id
        )

    def get(self, thread_id: str, **_: Any) -> dict[str, Any]:
        return self.runner.get_thread(thread_id)

    def update(self, thread_id: str, *, metadata: Mapping[str, Any], **_: Any) -> dict[str, Any]:
        thread = self.runner.get_thread(thread_id)
        self.runner.db.update(thread_id, metadata={**thread["metadata"], **metadata})
        return self.runner.get_thread(thread_id)

    def search(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        ids: Sequence[str] | None = None,
        status: str | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str | None = None,
        sort_order: str | None = None,
        **_: Any,
    ) -> list[dict[str, Any]]:
        return self.runner.search_threads(
            metadata=metadata,
            ids=ids,
            status=status,
            limit=limit,
            offset=offset,
            sort_by=sort_by,
            sort_order=sort_order,
        )

    def count(
        self, *, metadata: Mapping[str, Any] | None = None, status: str | None = None, **_: Any
    ) -> int:
        return len(self.runner.search_threads(metadata=metadata, status=status, limit=10**9))

    def delete(self, thread_id: str, **_: Any) -> None:
        self.runner.delete_thread(thread_id)

    def get_state(self, thread_id: str, *_: Any, **__: Any) -> dict[str, Any]:
        return self.runner.get_state(thread_id)


class ThreadsClient:
    """``client.threads`` (async): each call runs the sync one in a worker thread."""

    def __init__(self, store: Store) -> None:
        self._sync = SyncThreadsClient(store)

    async def create(self, **kwargs: Any) -> dict[str, Any]:
        return await asyncio.to_thread(self._sync.create, **kwargs)

    async def get(self, thread_id: str, **kwargs: Any) -> dict[str, Any]:
        return await asyncio.to_thread(self._sync.get, thread_id, **kwargs)

    async def update(self, thread_id: str, **kwargs: Any) -> dict[str, Any]:
        return await asyncio.to_thread(self._sync.update, thread_id, **kwargs)

    async def search(self, **kwargs: Any) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self._sync.search, **kwargs)

    async def count(self, **kwargs: Any) -> int:
        return await asyncio.to_thread(self._sync.count, **kwargs)

    async def delete(self, thread_id: str, **kwargs: Any) -> None:
        await asyncio.to_thread(self._sync.delete, thread_id, **kwargs)

    async def get_state(self, thread_id: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return await asyncio.to_thread(self._sync.get_state, thread_id, *args, **kwargs)
