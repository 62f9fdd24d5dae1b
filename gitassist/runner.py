"""Run a resolved assistant locally, with threads, streaming and provenance.

A run goes one way: resolve the target (id, graph id, stem, name, ``@N``, ``--rev``) → merge
the run's context over the assistant's, key by key → validate the merged context against the
committed schema of the code that will run (nothing runs when it is invalid) → apply
``langgraph.json`` ``env`` (:mod:`gitassist.run_env`) → load the graph named in
``langgraph.json`` (from the working tree, or with ``pin`` from the version's own
commit: :mod:`gitassist.graph_code`) → execute it with ``context=`` and the assistant's
config (with no committed schema, the context is first checked against the one the loaded
graph declares) → yield :class:`~gitassist.events.StreamPart` events in the shapes langgraph_sdk
yields: ``metadata`` first (``run_id`` plus the provenance), then one event per step
(:mod:`gitassist.events`).

A run on a thread keeps its state in the thread's checkpoints and records itself beside them
(:mod:`gitassist.threads`). Nothing here imports langgraph at module level: only running and
thread commands pay for it. The SDK-shaped ``client.runs`` and ``client.threads`` over this
live in :mod:`gitassist.client_runs` and :mod:`gitassist.client_threads`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gitassist import resolve as reads
from gitassist.document_checks import context_problems
from gitassist.errors import Conflict, GitassistError, NotFound, UserCodeError, ValidationFailed
from gitassist.events import StreamPart, StreamShaper, jsonable
from gitassist.graph_code import code_source, graph_spec, load_cached, schema_set_of
from gitassist.problems import json_path
from gitassist.run_env import apply_env
from gitassist.threads import ThreadStore
from gitassist.tracebacks import user_frame

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence

    from gitassist.graph_code import Code
    from gitassist.resolve import Resolved
    from gitassist.schemas import SchemaSet
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
    context_checked: bool  # False when there is no context schema at all
    env: tuple[str, ...] = ()  # the names langgraph.json "env" set (never the values)
    # the schema the context was checked against: "committed", "graph" (declared), or None
    context_schema: str | None = None

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
    schemas: SchemaSet,
) -> None:
    """Raise ValidationFailed listing every problem (nothing to check: nothing raised)."""
    doc = resolved.document.model_copy(update={"context": merged})
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
    extra.pop("configurable", None)
    out.update(extra)
    return out


def _configurable_as_context(
    config: Mapping[str, Any] | None, context: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A run's ``config.configurable`` is context, as on the server (both given: 400)."""
    rest = dict(config or {})
    configurable = rest.pop("configurable", None)
    if configurable and context:
        from gitassist.sdk_errors import bad_request

        raise bad_request(
            "Cannot specify both configurable and context. Prefer setting context alone."
        )
    return rest, dict(context or configurable or {})


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
    resolved = reads.resolve(store, target, rev=rev)
    doc = resolved.document
    if pin and resolved.commit is None:
        raise NotFound(f"{doc.name} has no commit to pin its code to")
    code = code_source(store, resolved.commit if pin else None)
    spec = graph_spec(code, doc.graph_id)
    config, run_context = _configurable_as_context(config, context)
    merged = {**doc.context, **run_context}
    schemas = schema_set_of(store, code)
    committed = schemas.validator(doc.graph_id) is not None
    if committed:  # checked before the graph module is even imported
        _validate(store, resolved, code, merged, run_context, schemas)
    env_names = apply_env(code.project, store.root)  # before the graph is imported, as dev
    graph, dirty = load_cached(code, doc.graph_id, spec, store)
    if not committed:  # the schema the loaded graph declares; nothing has run yet
        from gitassist.schema_export import declared_schemas

        schemas = declared_schemas(doc.graph_id, graph)
        _validate(store, resolved, code, merged, run_context, schemas)
    checked = schemas.validator(doc.graph_id) is not None
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
        env=env_names,
        context_schema=("committed" if committed else "graph") if checked else None,
    )
    run_config = _run_config(resolved, config)
    run_config["configurable"] = dict(merged)  # graphs that read config["configurable"] see it
    return PreparedRun(resolved, merged, run_config, graph, provenance, code.root.resolve())


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


@dataclass(frozen=True)
class RunOptions:
    """How a run executes, beyond its input: the SDK's run parameters gitassist honours."""

    command: Mapping[str, Any] | None = None
    interrupt_before: str | Sequence[str] | None = None
    interrupt_after: str | Sequence[str] | None = None
    subgraphs: bool = False
    durability: str | None = None
    checkpoint_id: str | None = None
    checkpoint_ns: str = ""

    def graph_input(self, input: Any) -> Any:
        if self.command is None:
            return input
        from langgraph.types import Command

        allowed = {"update", "resume", "goto"}
        unknown = set(self.command) - allowed
        if unknown:
            raise ValidationFailed(
                f"command: unknown key {sorted(unknown)[0]!r}",
                [],
                hint="a command has resume, update and/or goto",
            )
        return Command(**self.command)

    def stream_kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"subgraphs": self.subgraphs}
        for key in ("interrupt_before", "interrupt_after", "durability"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


#: Threads with a run in progress in this process: another run on one is refused (409, as
#: the server's multitask_strategy="reject"). A thread left "busy" by a crashed process is not
#: in it, so a crash never locks a thread.
_ACTIVE: set[str] = set()
_ACTIVE_LOCK = threading.Lock()


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
        options: RunOptions,
    ) -> None:
        self.db = db
        self.prepared = prepared
        self.thread_id = thread_id
        self.shaper = shaper
        self.options = options
        self.run_id = str(uuid.uuid4())
        self.metadata = {**(metadata or {}), **prepared.provenance.to_dict()}
        self.input = input
        self.interrupted = False
        self.recorded_start = False
        configurable = {
            **prepared.config["configurable"],
            "thread_id": thread_id or f"stateless-{self.run_id}",
        }
        if options.checkpoint_id is not None:
            configurable["checkpoint_id"] = options.checkpoint_id
            configurable["checkpoint_ns"] = options.checkpoint_ns
        self.config = {
            **prepared.config,
            **trace_config(prepared.provenance, prepared.config),
            "configurable": configurable,
            "run_id": uuid.UUID(self.run_id),
            "run_name": prepared.provenance.name,
        }

    def start(self) -> StreamPart:
        self.record_start()
        data = {
            "run_id": self.run_id,
            "attempt": 1,
            "thread_id": self.thread_id,
            **self.prepared.provenance.to_dict(),
        }
        return StreamPart("metadata", data)

    def record_start(self) -> None:
        """Record the run on its thread (once) and mark the thread busy."""
        if self.thread_id is not None and not self.recorded_start:
            with _ACTIVE_LOCK:
                if self.thread_id in _ACTIVE:
                    raise Conflict(
                        f"Thread {self.thread_id} is already running a task",
                        hint="wait for the run to end (multitask_strategy='reject')",
                    )
                _ACTIVE.add(self.thread_id)
            try:
                self._add_record()
            except BaseException:
                with _ACTIVE_LOCK:
                    _ACTIVE.discard(self.thread_id)
                raise
            self.recorded_start = True

    def _add_record(self) -> None:
        assert self.thread_id is not None
        prov = self.prepared.provenance
        self.db.add_run(
            self.run_id,
            self.thread_id,
            prov.assistant_id,
            self.metadata,
            {
                "input": self.input,
                "command": self.options.command,
                "context": self.prepared.context,
                "config": {k: v for k, v in self.prepared.config.items() if k != "configurable"},
            },
        )
        self.db.update(self.thread_id, status="busy")

    def record(self) -> dict[str, Any]:
        """The run as ``runs.get`` returns it (a minimal one for a stateless run)."""
        if self.thread_id is not None:
            for run in self.db.runs(self.thread_id):
                if run["run_id"] == self.run_id:
                    return run
        return {
            "run_id": self.run_id,
            "thread_id": self.thread_id,
            "assistant_id": self.prepared.provenance.assistant_id,
            "status": "pending",
            "metadata": self.metadata,
            "multitask_strategy": "reject",
        }

    def final_values(self) -> Any:
        return jsonable(self.shaper.last_values)

    def parts(self, item: Any) -> list[StreamPart]:
        """The events for one item of the graph's stream (``(ns, mode, chunk)`` with subgraphs)."""
        if not self.options.subgraphs:
            mode, chunk = item
            return self.shaper.parts(mode, chunk)
        ns, mode, chunk = item
        if not ns:
            return self.shaper.parts(mode, chunk)
        if mode == "values" and self.shaper.hidden_values:
            return []
        suffix = "|".join(ns)
        return [
            StreamPart(f"{p.event}|{suffix}", p.data, p.id)
            for p in StreamShaper(self.shaper.modes).parts(mode, chunk)
        ]

    def saw_state(self, snapshot: Any) -> None:
        """After the graph stopped: an interrupt or a pending node leaves the thread interrupted."""
        self.interrupted = bool(snapshot.next) or bool(getattr(snapshot, "interrupts", ()))

    @contextlib.contextmanager
    def recorded(self) -> Iterator[None]:
        """Record how the run ends; an error in the graph's code becomes a UserCodeError."""
        status = "interrupted"
        try:
            yield
            status = "interrupted" if self.interrupted else "success"
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
        thread_status = (
            "error" if status == "error" else "interrupted" if self.interrupted else "idle"
        )
        self.db.update(self.thread_id, metadata=meta, status=thread_status)
        with _ACTIVE_LOCK:
            _ACTIVE.discard(self.thread_id)

    def failed(self, exc: Exception) -> GitassistError:
        error = exc if isinstance(exc, GitassistError) else _user_error(exc, self.prepared)
        self.finish("error", str(error))
        return error


# --------------------------------------------------------------------------- the runner


def _checkpoint_target(
    checkpoint: Mapping[str, Any] | None, checkpoint_id: str | None
) -> tuple[str | None, str]:
    if checkpoint is None:
        return checkpoint_id, ""
    return checkpoint.get("checkpoint_id") or checkpoint_id, checkpoint.get("checkpoint_ns") or ""


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
        command: Mapping[str, Any] | None = None,
        stream_mode: str | Sequence[str] = "values",
        stream_subgraphs: bool = False,
        context: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        checkpoint: Mapping[str, Any] | None = None,
        checkpoint_id: str | None = None,
        interrupt_before: str | Sequence[str] | None = None,
        interrupt_after: str | Sequence[str] | None = None,
        durability: str | None = None,
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
                f"Thread with ID {thread_id} not found",
                hint="create it first (gitassist threads create), or pass if_not_exists='create'",
            )
        with _ACTIVE_LOCK:
            busy = thread_id in _ACTIVE
        if busy:
            raise Conflict(
                f"Thread {thread_id} is already running a task",
                hint="wait for the run to end (multitask_strategy='reject')",
            )
        if thread_id is None and command is not None:
            raise ValidationFailed("a command needs a thread to resume", [])
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
        cp_id, cp_ns = _checkpoint_target(checkpoint, checkpoint_id)
        options = RunOptions(
            command=command,
            interrupt_before=interrupt_before,
            interrupt_after=interrupt_after,
            subgraphs=stream_subgraphs,
            durability=durability,
            checkpoint_id=cp_id,
            checkpoint_ns=cp_ns,
        )
        options.graph_input(None)  # a bad command is refused before anything is recorded
        return _Run(db, prepared, thread_id, shaper, metadata, input, options)

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
        if run.shaper.events:  # astream_events exists only async: drive the async run here
            yield from _drive(self.astream_run(run))
            return
        yield run.start()
        with run.recorded(), self._graph(run) as graph:
            for item in graph.stream(
                run.options.graph_input(run.input),
                run.config,
                context=run.prepared.context,
                stream_mode=run.shaper.graph_modes,
                **run.options.stream_kwargs(),
            ):
                yield from run.parts(item)
            if run.thread_id is not None:
                run.saw_state(graph.get_state({"configurable": {"thread_id": run.thread_id}}))

    def stream(
        self, thread_id: str | None, target: str | None, **kwargs: Any
    ) -> Iterator[StreamPart]:
        return self.stream_run(self.begin(thread_id, target, **kwargs))

    def wait(
        self,
        thread_id: str | None,
        target: str | None,
        *,
        raise_error: bool = True,
        on_run_created: Callable[[Any], None] | None = None,
        **kwargs: Any,
    ) -> Any:
        kwargs["stream_mode"] = "values"
        try:
            run = self.begin(thread_id, target, **kwargs)
            if on_run_created is not None:
                on_run_created({"run_id": run.run_id, "thread_id": thread_id})
            for _ in self.stream_run(run):
                pass
        except UserCodeError as exc:
            if raise_error:
                raise
            return _error_value(exc)
        return run.final_values()

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
                async for part in _agraph_parts(graph, run):
                    yield part
                if run.thread_id is not None:
                    config = {"configurable": {"thread_id": run.thread_id}}
                    run.saw_state(await graph.aget_state(config))

    async def astream(
        self, thread_id: str | None, target: str | None, **kwargs: Any
    ) -> AsyncIterator[StreamPart]:
        run = await asyncio.to_thread(self.begin, thread_id, target, **kwargs)
        async for part in self.astream_run(run):
            yield part

    async def await_(
        self,
        thread_id: str | None,
        target: str | None,
        *,
        raise_error: bool = True,
        on_run_created: Callable[[Any], None] | None = None,
        **kwargs: Any,
    ) -> Any:
        kwargs["stream_mode"] = "values"
        try:
            run = await asyncio.to_thread(self.begin, thread_id, target, **kwargs)
            if on_run_created is not None:
                on_run_created({"run_id": run.run_id, "thread_id": thread_id})
            async for _ in self.astream_run(run):
                pass
        except UserCodeError as exc:
            if raise_error:
                raise
            return _error_value(exc)
        return run.final_values()


async def _agraph_parts(graph: Any, run: _Run) -> AsyncIterator[StreamPart]:
    """The run's events from ``graph.astream``, or with stream mode ``events`` from
    ``graph.astream_events(version="v2")`` as the server streams them: the root run's
    ``on_chain_stream`` events carry the other modes' chunks, every other event is an
    ``events`` part."""
    given = run.options.graph_input(run.input)
    kwargs = {"context": run.prepared.context, "stream_mode": run.shaper.graph_modes}
    kwargs.update(run.options.stream_kwargs())
    if not run.shaper.events:
        async for item in graph.astream(given, run.config, **kwargs):
            for part in run.parts(item):
                yield part
        return
    async for event in graph.astream_events(given, run.config, version="v2", **kwargs):
        is_chunk, parts = run.shaper.event_parts(event, run.run_id)  # config's run_id: the root
        for part in run.parts(event["data"]["chunk"]) if is_chunk else parts:
            yield part


def _drive(parts: AsyncIterator[StreamPart]) -> Iterator[StreamPart]:
    """An async stream consumed synchronously, on an event loop of its own in this thread."""
    loop = asyncio.new_event_loop()
    try:
        while True:
            try:
                yield loop.run_until_complete(anext(parts))
            except StopAsyncIteration:
                return
    finally:
        loop.run_until_complete(parts.aclose())  # type: ignore[attr-defined]
        loop.close()


def _error_value(exc: UserCodeError) -> dict[str, Any]:
    """What ``wait(raise_error=False)`` returns for a failed run, as langgraph_sdk does."""
    return {"__error__": {"error": type(exc).__name__, "message": str(exc)}}
