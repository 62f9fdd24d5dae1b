"""Run a resolved assistant locally, with threads, streaming and provenance.

A run goes one way: resolve the target (id, graph id, stem, name, ``@N``, ``--rev``) → merge
the run's context over the assistant's, key by key → validate the merged context against the
committed schema of the code that will run (nothing runs when it is invalid) → load the graph
named in ``langgraph.json`` (from the working tree, or with ``pin`` from the version's own
commit: :mod:`gitassist.graph_code`) → execute it with ``context=`` and the assistant's
config → yield :class:`~gitassist.events.StreamPart` events in the shapes langgraph_sdk
yields: ``metadata`` first (``run_id`` plus the provenance), then one event per step
(:mod:`gitassist.events`).

A run on a thread keeps its state in the thread's checkpoints and records itself beside them
(:mod:`gitassist.threads`). Nothing here imports langgraph at module level: only running and
thread commands pay for it. The SDK-shaped ``client.runs`` and ``client.threads`` over this
live in :mod:`gitassist.client`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitassist import assistants as ops
from gitassist.errors import Conflict, GitassistError, NotFound, UserCodeError, ValidationFailed
from gitassist.events import StreamPart, StreamShaper, jsonable
from gitassist.graph_code import code_source, graph_spec, load_cached, schema_set_of
from gitassist.problems import json_path
from gitassist.threads import ThreadStore
from gitassist.tracebacks import user_frame
from gitassist.validation import context_problems

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator, Mapping, Sequence

    from gitassist.assistants import Resolved
    from gitassist.graph_code import Code
    from gitassist.store import Store
    from gitassist.threads import ThreadDB

__all__ = ["PreparedRun", "Provenance", "Runner", "prepare"]


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
class PreparedRun:
    """A resolved, validated assistant with its graph loaded: ready to execute."""

    resolved: Resolved
    context: dict[str, Any]
    config: dict[str, Any]
    graph: Any
    provenance: Provenance
    code_root: Path


# --------------------------------------------------------------------------- preparing


def _validate(
    store: Store,
    resolved: Resolved,
    code: Code,
    merged: dict[str, Any],
    run_context: Mapping[str, Any],
) -> bool:
    """Raise ValidationFailed listing every problem; False when there is no schema to check."""
    doc = resolved.document.model_copy(update={"context": merged})
    schemas = schema_set_of(store, code)
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
    code = code_source(store, resolved.commit if pin else None)
    spec = graph_spec(code, doc.graph_id)
    run_context = dict(context or {})
    merged = {**doc.context, **run_context}
    checked = _validate(store, resolved, code, merged, run_context)
    graph, dirty = load_cached(code, doc.graph_id, spec, store)
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
    frame = user_frame(exc, [prepared.code_root], fallback=False)
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


# --------------------------------------------------------------------------- one run


def trace_config(prov: Provenance, config: Mapping[str, Any]) -> dict[str, Any]:
    """Provenance as run metadata and tags, so LangSmith (or any callback handler) shows which
    assistant version, document commit and code commit produced a trace."""
    metadata = {
        **dict(config.get("metadata") or {}),
        "assistant_id": prov.assistant_id,
        "graph_id": prov.graph_id,
        "assistant_version": prov.version,
        "document_commit": prov.document_commit,
        "code_commit": prov.code_commit,
        "code_dirty": prov.code_dirty,
    }
    tags = [
        f"assistant:{prov.assistant_id}",
        *([f"version:{prov.version}"] if prov.version is not None else []),
        *([f"document:{prov.document_commit[:12]}"] if prov.document_commit else []),
        *([f"code:{prov.code_commit[:12]}"] if prov.code_commit else []),
    ]
    own = list(config.get("tags") or [])
    return {"metadata": metadata, "tags": [*own, *(tag for tag in tags if tag not in own)]}


class _Run:
    """The bookkeeping of one run: its id, its records, and its event shaping."""

    def __init__(
        self,
        db: ThreadDB,
        prepared: PreparedRun,
        thread_id: str | None,
        shaper: StreamShaper,
        metadata: Mapping[str, Any] | None,
        input: Any,
    ) -> None:
        self.db = db
        self.prepared = prepared
        self.thread_id = thread_id
        self.shaper = shaper
        self.run_id = str(uuid.uuid4())
        self.metadata = {**(metadata or {}), **prepared.provenance.to_dict()}
        self.input = input
        configurable = {
            **prepared.config["configurable"],
            "thread_id": thread_id or f"stateless-{self.run_id}",
        }
        self.config = {
            **prepared.config,
            **trace_config(prepared.provenance, prepared.config),
            "configurable": configurable,
            "run_id": uuid.UUID(self.run_id),
            "run_name": prepared.provenance.name,
        }

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

    @contextlib.contextmanager
    def recorded(self) -> Iterator[None]:
        """Record how the run ends; an error in the graph's code becomes a UserCodeError."""
        status = "interrupted"
        try:
            yield
            status = "success"
        except Exception as exc:
            status = "error"
            error = self.failed(exc)
            if error is exc:
                raise
            raise error from exc
        finally:
            if status != "error":
                self.finish(status)

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
    """Runs assistants of one repository, statelessly or on its threads."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.threads = ThreadStore(store)

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
        """Everything before a run: its thread checked (or created) and the run prepared."""
        shaper = StreamShaper(stream_mode)
        db = self.threads.db
        thread = db.get(thread_id) if thread_id is not None else None
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
            db.create(
                thread_id, {"graph_id": graph_id, "assistant_id": prepared.provenance.assistant_id}
            )
        return _Run(db, prepared, thread_id, shaper, metadata, input)

    # ---------------------------------------------------------------- sync

    @contextlib.contextmanager
    def _graph(self, run: _Run) -> Iterator[Any]:
        graph = run.prepared.graph
        if run.thread_id is None:
            yield graph
            return
        with self.threads.saver() as saver:
            yield graph.copy(update={"checkpointer": saver})

    def stream_run(self, run: _Run) -> Iterator[StreamPart]:
        yield run.start()
        with run.recorded(), self._graph(run) as graph:
            for mode, chunk in graph.stream(
                run.input,
                run.config,
                context=run.prepared.context,
                stream_mode=run.shaper.graph_modes,
            ):
                yield from run.shaper.parts(mode, chunk)

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
            return _error_value(exc)
        return jsonable(run.shaper.last_values)

    # ---------------------------------------------------------------- async

    @contextlib.asynccontextmanager
    async def _agraph(self, run: _Run) -> AsyncIterator[Any]:
        graph = run.prepared.graph
        if run.thread_id is None:
            yield graph
            return
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        async with AsyncSqliteSaver.from_conn_string(self.threads.db_path) as saver:
            yield graph.copy(update={"checkpointer": saver})

    async def astream_run(self, run: _Run) -> AsyncIterator[StreamPart]:
        yield run.start()
        with run.recorded():
            async with self._agraph(run) as graph:
                async for mode, chunk in graph.astream(
                    run.input,
                    run.config,
                    context=run.prepared.context,
                    stream_mode=run.shaper.graph_modes,
                ):
                    for part in run.shaper.parts(mode, chunk):
                        yield part

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
            return _error_value(exc)
        return jsonable(run.shaper.last_values)


def _error_value(exc: UserCodeError) -> dict[str, Any]:
    """What ``wait(raise_error=False)`` returns for a failed run, as langgraph_sdk does."""
    return {"__error__": {"error": type(exc).__name__, "message": str(exc)}}
