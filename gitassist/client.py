"""The SDK-shaped client: ``get_client(repo=...)`` mirrors ``langgraph_sdk.get_client``.

``client.assistants``, ``client.threads`` and ``client.runs`` have langgraph_sdk's methods with
the SDK's parameters (same names, kinds and defaults; ``tests/test_sdk_signatures.py`` reads
them from the installed SDK) and return the same plain dicts, so code written against a
LangGraph deployment runs against a git repository with only the ``get_client`` line changed.

* gitassist's own parameters (``author=``, ``message=``, ``rev=``, ``pin=``, ``repo=``) are
  keyword-only and listed in :data:`gitassist.sdk_compat.EXTRAS`.
* An unknown keyword is a ``TypeError``, as with the SDK. HTTP-only parameters (``headers``,
  ``params``; ``url``, ``api_key``, ``timeout`` of ``get_client``) are accepted and ignored.
  A parameter gitassist cannot honour locally (``webhook=``, ``after_seconds=``, …) raises
  ``ValidationFailed`` (422) naming it when given a non-default value.
* Errors leave as the SDK's too (:mod:`gitassist.sdk_errors`): ``NotFound`` is also a
  ``langgraph_sdk.errors.NotFoundError`` (an ``httpx.HTTPStatusError``) with status 404, and so on.
* ``config.configurable`` works as on the server: assistants show it mirroring context,
  ``config={"configurable": …}`` on create/update/runs is taken as the context, and a run's
  graph sees the merged context in ``config["configurable"]`` too.

The async client's methods are real ``async def`` methods with the same signatures; each
runs its sync twin in a worker thread (streams and waits run the graph asynchronously).
"""

from __future__ import annotations

import asyncio
import copy
import functools
import inspect
import os
import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from gitassist import assistants as ops
from gitassist import resolve as reads
from gitassist.errors import GitassistError, NotFound, ValidationFailed
from gitassist.sdk_errors import bad_request, sdk_errors, sdk_errors_aiter, sdk_errors_iter
from gitassist.store import Store, parse_author

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping, Sequence
    from concurrent.futures import Future, ThreadPoolExecutor

    from gitassist.events import StreamPart
    from gitassist.resolve import Resolved
    from gitassist.runner import Runner

P = ParamSpec("P")
R = TypeVar("R")

MAX_LIMIT = 1000
SEARCH_SORT_KEYS = ("assistant_id", "graph_id", "name", "created_at", "updated_at")
ASSISTANT_KEYS = (
    "assistant_id",
    "graph_id",
    "config",
    "context",
    "metadata",
    "name",
    "description",
    "created_at",
    "updated_at",
    "version",
)
BOTH_CONFIGURABLE_AND_CONTEXT = (
    "Cannot specify both configurable and context. Prefer setting context alone. Context was "
    "introduced in LangGraph 0.6.0 and is the long term planned replacement for configurable."
)


# --------------------------------------------------------------------------- helpers


def unsupported(method: str, name: str, value: Any) -> ValidationFailed:
    return ValidationFailed(
        f"{method}: gitassist cannot honour {name}={value!r} locally",
        [],
        hint=f"leave {name} out (it needs a LangGraph server); see docs/sdk-compat.md",
    )


def _refuse(method: str, **given: Any) -> None:
    """Raise for the first parameter given a value other than its default (None/False)."""
    for name, value in given.items():
        if value is not None and value is not False:
            raise unsupported(method, name, value)


def _page(limit: Any, offset: Any) -> None:
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"limit must be an integer from 1 to {MAX_LIMIT}, not {limit!r}", [])
    if not isinstance(offset, int) or offset < 0:
        raise ValidationFailed(f"offset must be an integer >= 0, not {offset!r}", [])


def split_configurable(
    config: Mapping[str, Any] | None, context: Mapping[str, Any] | None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """``config.configurable`` taken as the context, as the server does (400 if both given)."""
    if config is None:
        return None, None if context is None else dict(context)
    rest = dict(config)
    configurable = rest.pop("configurable", None)
    if configurable and context:
        raise bad_request(BOTH_CONFIGURABLE_AND_CONTEXT)
    if configurable and not context:
        return rest, dict(configurable)
    return rest, None if context is None else dict(context)


def assistant_api(data: dict[str, Any]) -> dict[str, Any]:
    """An assistant (or version row) with ``config.configurable`` mirroring its context."""
    config = {k: v for k, v in data["config"].items() if k != "configurable"}
    if data.get("context"):
        config["configurable"] = dict(data["context"])
    return {**data, "config": config}


def _api(resolved: Resolved) -> dict[str, Any]:
    return assistant_api(resolved.to_api())


def _version_row(resolved: Resolved) -> dict[str, Any]:
    return assistant_api(resolved.to_version_row())


def _contains(have: Mapping[str, Any], want: Mapping[str, Any]) -> bool:
    return all(k in have and have[k] == v for k, v in want.items())


def _in_thread(
    method: Callable[Concatenate[Any, P], R],
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, R]]:
    """The async twin of a sync client method: same signature, runs in a worker thread."""

    async def call(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await asyncio.to_thread(method, self._sync, *args, **kwargs)

    functools.update_wrapper(call, method)
    return call


# --------------------------------------------------------------------------- assistants


class SyncAssistantsClient:
    """Assistants on a git repository, synchronously."""

    def __init__(self, store: Store) -> None:
        self._store = store

    @sdk_errors
    def get(
        self,
        assistant_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        return _api(reads.get(self._store, assistant_id))

    @sdk_errors
    def create(
        self,
        graph_id: str | None,
        config: Mapping[str, Any] | None = None,
        *,
        context: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        assistant_id: str | None = None,
        if_exists: str | None = None,
        name: str | None = None,
        headers: Mapping[str, str] | None = None,
        description: str | None = None,
        params: Mapping[str, Any] | None = None,
        author: str | None = None,
        message: str | None = None,
    ) -> dict[str, Any]:
        if graph_id is None:
            raise ValidationFailed("graph_id is required", [])
        run_config, ctx = split_configurable(config, context)
        result = ops.create(
            self._store,
            graph_id,
            context=ctx,
            config=run_config,
            metadata=None if metadata is None else dict(metadata),
            name=name,
            description=description,
            assistant_id=assistant_id,
            if_exists=if_exists,
            author=parse_author(author),
            message=message,
        )
        return _api(result.assistant)

    @sdk_errors
    def update(
        self,
        assistant_id: str,
        *,
        graph_id: str | None = None,
        config: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        name: str | None = None,
        headers: Mapping[str, str] | None = None,
        description: str | None = None,
        params: Mapping[str, Any] | None = None,
        author: str | None = None,
        message: str | None = None,
    ) -> dict[str, Any]:
        run_config, ctx = split_configurable(config, context)
        current = reads.get(self._store, assistant_id)
        if current.source == "default":
            return _api(
                self._update_default(
                    current,
                    graph_id=graph_id,
                    config=run_config,
                    context=ctx,
                    metadata=metadata,
                    name=name,
                    description=description,
                    author=author,
                    message=message,
                )
            )
        result = ops.update(
            self._store,
            assistant_id,
            graph_id=graph_id,
            context=ctx,
            config=run_config,
            metadata=None if metadata is None else dict(metadata),
            name=name,
            description=description,
            author=parse_author(author),
            message=message,
        )
        return _api(result.assistant)

    def _update_default(
        self,
        current: Resolved,
        *,
        graph_id: str | None,
        config: dict[str, Any] | None,
        context: dict[str, Any] | None,
        metadata: Mapping[str, Any] | None,
        name: str | None,
        description: str | None,
        author: str | None,
        message: str | None,
    ) -> Resolved:
        """The first update of a graph's default assistant makes version 2, as on the server.

        Version 1 is the implicit default, recorded first (a version tag on a commit beside
        the branch holding the default's document); then the assistant's file is created on
        the branch, which records it as version 2. ``set_latest(id, 1)`` returns to the
        default. If the file cannot be written, the version-1 record is removed again.
        """
        from gitassist.documents import render_new
        from gitassist.refs import RefUpdate
        from gitassist.store import ci_context
        from gitassist.versions import make_version_tag, version_ref

        store = self._store
        doc = current.document
        new_name = name or doc.name
        with store.refdb.lock():
            head = store.head_commit()
            path = ops.new_path(store, new_name, head.tree if head is not None else None)
            schema_ref = f"../{store.project.settings.schemas_dir}/assistant.schema.json"
            beside = store.make_commit(
                head,
                {path: render_new(doc, schema_ref=schema_ref)},
                f"The default assistant of graph {doc.graph_id!r}: version 1 (implicit)",
            )
            tag = make_version_tag(
                store,
                doc.assistant_id,
                1,
                beside,
                path,
                str(beside.tree[path].id),
                doc,
                "the implicit default assistant, recorded before its first update",
                ci_context(),
            )
            ref = version_ref(doc.assistant_id, 1)
            store.refdb.update(
                [RefUpdate(ref, tag, None, reflog=False)], "record the default assistant"
            )
            try:
                result = ops.create(
                    store,
                    graph_id or doc.graph_id,
                    assistant_id=doc.assistant_id,
                    name=new_name,
                    description=description if description is not None else doc.description,
                    context=context if context is not None else dict(doc.context),
                    config=config,
                    metadata={**doc.metadata, **(metadata or {})},
                    author=parse_author(author),
                    message=message
                    or f"Update the default assistant of graph {doc.graph_id!r}: version 2, "
                    f"creates {path} (version 1 is the implicit default)",
                )
            except BaseException:
                store.refdb.update([RefUpdate(ref, None, tag)], "undo: the update failed")
                raise
        return result.assistant

    @sdk_errors
    def delete(
        self,
        assistant_id: str,
        *,
        delete_threads: bool = False,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        author: str | None = None,
        message: str | None = None,
    ) -> None:
        doomed: list[str] = []
        if delete_threads:
            from gitassist.threads import ThreadStore

            threads = ThreadStore(self._store)
            target = reads.get(self._store, assistant_id).assistant_id
            doomed = [
                t["thread_id"]
                for t in threads.db.all()
                if t["metadata"].get("assistant_id") == target
            ]
        ops.delete(self._store, assistant_id, author=parse_author(author), message=message)
        for thread_id in doomed:
            threads.delete(thread_id)

    @sdk_errors
    def search(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        graph_id: str | None = None,
        name: str | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str | None = None,
        sort_order: str | None = None,
        select: Sequence[str] | None = None,
        response_format: str = "array",
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        _page(limit, offset)
        if sort_by is not None and sort_by not in SEARCH_SORT_KEYS:
            raise ValidationFailed(
                f"sort_by must be one of {', '.join(SEARCH_SORT_KEYS)}, not {sort_by!r}", []
            )
        if sort_order not in (None, "asc", "desc"):
            raise ValidationFailed(f"sort_order must be 'asc' or 'desc', not {sort_order!r}", [])
        if response_format not in ("array", "object"):
            raise ValidationFailed(
                f"response_format must be 'array' or 'object', not {response_format!r}", []
            )
        bad = [k for k in select or () if k not in ASSISTANT_KEYS]
        if bad:
            raise ValidationFailed(f"select: unknown field {bad[0]!r}", [])
        found = reads.search(
            self._store,
            graph_id=graph_id,
            metadata=None if metadata is None else dict(metadata),
            name=name,
            limit=10**9,
            sort_by=sort_by,
            sort_order=sort_order,
        )
        if sort_by == "name":  # the server's order is case-insensitive
            found.sort(
                key=lambda r: (r.document.name.lower(), r.assistant_id),
                reverse=(sort_order or "desc") == "desc",
            )
        rows = [_api(r) for r in found[offset : offset + limit]]
        if select:
            rows = [{k: row[k] for k in select} for row in rows]
        if response_format == "object":
            more = offset + limit < len(found)
            return {"assistants": rows, "next": str(offset + limit) if more else None}
        return rows

    @sdk_errors
    def count(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        graph_id: str | None = None,
        name: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> int:
        meta = None if metadata is None else dict(metadata)
        return reads.count(self._store, graph_id=graph_id, metadata=meta, name=name)

    @sdk_errors
    def get_versions(
        self,
        assistant_id: str,
        metadata: Mapping[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        _page(limit, offset)
        versions = reads.get_versions(self._store, assistant_id, limit=10**9)
        if not versions:
            current = reads.get(self._store, assistant_id)
            if current.source != "default":
                return []  # a file not recorded yet (a feature branch): no versions to list
            versions = [current]
        rows = [_version_row(r) for r in versions]
        if metadata:
            rows = [r for r in rows if _contains(r["metadata"], metadata)]
        page = rows[offset : offset + limit]
        if not page:  # the server's end-of-list signal
            raise NotFound(f"Assistant {versions[0].assistant_id} not found")
        return page

    @sdk_errors
    def set_latest(
        self,
        assistant_id: str,
        version: int,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        current = reads.get(self._store, assistant_id)
        if current.source == "default" and version == 1:
            return _api(current)
        return _api(ops.set_latest(self._store, assistant_id, version))

    def _graph(self, assistant_id: str) -> tuple[Resolved, Any]:
        from gitassist.graph_code import code_source, graph_spec, load_cached

        resolved = reads.get(self._store, assistant_id)
        code = code_source(self._store, None)
        graph_id = resolved.document.graph_id
        graph = load_cached(code, graph_id, graph_spec(code, graph_id), self._store)[0]
        return resolved, graph

    @sdk_errors
    def get_schemas(
        self,
        assistant_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        from gitassist.graph_info import graph_schemas
        from gitassist.schemas import load_schemas

        resolved, graph = self._graph(assistant_id)
        graph_id = resolved.document.graph_id
        schemas = graph_schemas(graph)
        committed = load_schemas(self._store, self._store.project, None).schemas.get(graph_id)
        if committed is not None:
            schemas["context_schema"] = copy.deepcopy(committed)  # cached: hand out a copy
        return {"graph_id": graph_id, **schemas}

    @sdk_errors
    def get_graph(
        self,
        assistant_id: str,
        *,
        xray: int | bool = False,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, list[dict[str, Any]]]:
        from gitassist.graph_info import drawable

        if not isinstance(xray, bool) and (not isinstance(xray, int) or xray <= 0):
            raise ValidationFailed("Invalid xray value", [])
        return drawable(self._graph(assistant_id)[1], xray)

    @sdk_errors
    def get_subgraphs(
        self,
        assistant_id: str,
        namespace: str | None = None,
        recurse: bool = False,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        from gitassist.graph_info import subgraphs

        return subgraphs(self._graph(assistant_id)[1], namespace, recurse)


class AssistantsClient:
    """The async twin of :class:`SyncAssistantsClient` (each call runs in a worker thread)."""

    def __init__(self, store: Store) -> None:
        self._sync = SyncAssistantsClient(store)

    get = _in_thread(SyncAssistantsClient.get)
    create = _in_thread(SyncAssistantsClient.create)
    update = _in_thread(SyncAssistantsClient.update)
    delete = _in_thread(SyncAssistantsClient.delete)
    search = _in_thread(SyncAssistantsClient.search)
    count = _in_thread(SyncAssistantsClient.count)
    get_versions = _in_thread(SyncAssistantsClient.get_versions)
    set_latest = _in_thread(SyncAssistantsClient.set_latest)
    get_schemas = _in_thread(SyncAssistantsClient.get_schemas)
    get_graph = _in_thread(SyncAssistantsClient.get_graph)
    get_subgraphs = _in_thread(SyncAssistantsClient.get_subgraphs)


# --------------------------------------------------------------------------- threads


#: Keys the server's ``threads.create`` leaves out (``threads.get`` has them).
_NOT_ON_CREATE = ("interrupts", "error")


class SyncThreadsClient:
    """``client.threads`` (sync): threads in ``.gitassist/threads.sqlite``."""

    def __init__(self, store: Store) -> None:
        from gitassist.threads import ThreadStore

        self.threads = ThreadStore(store)

    @sdk_errors
    def create(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        thread_id: str | None = None,
        if_exists: str | None = None,
        supersteps: Sequence[Any] | None = None,
        graph_id: str | None = None,
        ttl: int | Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        _refuse("threads.create", supersteps=supersteps, ttl=ttl)
        thread = self.threads.create(
            metadata=metadata, thread_id=thread_id, if_exists=if_exists, graph_id=graph_id
        )
        return {k: v for k, v in thread.items() if k not in _NOT_ON_CREATE}

    @sdk_errors
    def get(
        self,
        thread_id: str,
        *,
        include: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        _refuse("threads.get", include=include)
        return self.threads.get(thread_id)

    @sdk_errors
    def update(
        self,
        thread_id: str,
        *,
        metadata: Mapping[str, Any],
        ttl: int | Mapping[str, Any] | None = None,
        return_minimal: bool = False,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        _refuse("threads.update", ttl=ttl)
        thread = self.threads.update(thread_id, metadata=metadata)
        if return_minimal:
            return {k: thread[k] for k in ("thread_id", "updated_at")}
        return thread

    @sdk_errors
    def delete(
        self,
        thread_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.threads.delete(thread_id)

    @sdk_errors
    def search(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        values: Mapping[str, Any] | None = None,
        ids: Sequence[str] | None = None,
        status: str | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str | None = None,
        sort_order: str | None = None,
        select: Sequence[str] | None = None,
        extract: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        _refuse("threads.search", extract=extract)
        _page(limit, offset)
        rows = self.threads.search(
            metadata=metadata,
            values=values,
            ids=ids,
            status=status,
            limit=limit,
            offset=offset,
            sort_by=sort_by,
            sort_order=sort_order,
        )
        if select:
            rows = [{k: row[k] for k in select if k in row} for row in rows]
        return rows

    @sdk_errors
    def count(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        values: Mapping[str, Any] | None = None,
        status: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> int:
        found = self.threads.search(metadata=metadata, values=values, status=status, limit=10**9)
        return len(found)

    @sdk_errors
    def copy(
        self,
        thread_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.threads.copy(thread_id)

    @sdk_errors
    def get_state(
        self,
        thread_id: str,
        checkpoint: Mapping[str, Any] | None = None,
        checkpoint_id: str | None = None,
        *,
        subgraphs: bool = False,
        select: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        state = self.threads.get_state(
            thread_id, checkpoint=checkpoint, checkpoint_id=checkpoint_id, subgraphs=subgraphs
        )
        return {k: state[k] for k in select if k in state} if select else state

    @sdk_errors
    def update_state(
        self,
        thread_id: str,
        values: dict[str, Any] | Sequence[dict[str, Any]] | None,
        *,
        as_node: str | None = None,
        checkpoint: Mapping[str, Any] | None = None,
        checkpoint_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        return self.threads.update_state(
            thread_id, values, as_node=as_node, checkpoint=checkpoint, checkpoint_id=checkpoint_id
        )

    @sdk_errors
    def get_history(
        self,
        thread_id: str,
        *,
        limit: int = 10,
        before: str | Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        checkpoint: Mapping[str, Any] | None = None,
        select: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        _page(limit, 0)
        states = self.threads.get_history(
            thread_id, limit=limit, before=before, metadata=metadata, checkpoint=checkpoint
        )
        if select:
            return [{k: s[k] for k in select if k in s} for s in states]
        return states


class ThreadsClient:
    """``client.threads`` (async): each call runs the sync one in a worker thread."""

    def __init__(self, store: Store) -> None:
        self._sync = SyncThreadsClient(store)

    create = _in_thread(SyncThreadsClient.create)
    get = _in_thread(SyncThreadsClient.get)
    update = _in_thread(SyncThreadsClient.update)
    delete = _in_thread(SyncThreadsClient.delete)
    search = _in_thread(SyncThreadsClient.search)
    count = _in_thread(SyncThreadsClient.count)
    copy = _in_thread(SyncThreadsClient.copy)
    get_state = _in_thread(SyncThreadsClient.get_state)
    update_state = _in_thread(SyncThreadsClient.update_state)
    get_history = _in_thread(SyncThreadsClient.get_history)


# --------------------------------------------------------------------------- runs

#: Run parameters gitassist honours, passed on to the runner as they are.
_HONOURED = (
    "input",
    "command",
    "stream_mode",
    "stream_subgraphs",
    "metadata",
    "config",
    "context",
    "checkpoint",
    "checkpoint_id",
    "interrupt_before",
    "interrupt_after",
    "if_not_exists",
    "durability",
    "rev",
    "pin",
)
#: Run parameters that need a server: refused when given (None/False are their defaults).
_REFUSED = (
    "stream_resumable",
    "checkpoint_during",
    "feedback_keys",
    "on_disconnect",
    "webhook",
    "after_seconds",
    "langsmith_tracing",
    "strict_resume",
)


def _run_options(method: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """The runner's keyword arguments from a runs method's arguments; refuse what we can't do."""
    _refuse(method, **{k: given[k] for k in _REFUSED if k in given})
    if given.get("version", "v1") not in ("v1", "v2"):
        raise ValidationFailed(f"version must be 'v1' or 'v2', not {given['version']!r}", [])
    if given.get("multitask_strategy") not in (None, "reject"):
        raise unsupported(method, "multitask_strategy", given["multitask_strategy"])
    if given.get("on_completion") not in (None, "delete", "keep"):
        raise ValidationFailed("on_completion must be 'delete' or 'keep'", [])
    if given.get("input") is not None and given.get("command") is not None:
        raise ValidationFailed("pass either input or command, not both", [])
    return {k: given[k] for k in _HONOURED if given.get(k) not in (None, False)}


def _bound(method: Callable[..., Any], self: Any, args: Any, kwargs: Any) -> dict[str, Any]:
    bound = inspect.signature(method).bind(self, *args, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


class _BackgroundRun:
    def __init__(self, future: Future[Any], parts: list[StreamPart]) -> None:
        self.future = future
        self.parts = parts


class SyncRunsClient:
    """``client.runs`` (sync): runs execute in this process (background ones in a thread)."""

    def __init__(self, store: Store) -> None:
        from gitassist.runner import Runner

        self.runner = Runner(store)
        self._background: dict[str, _BackgroundRun] = {}
        self._lock = threading.Lock()

    @cached_property
    def _pool(self) -> ThreadPoolExecutor:
        from concurrent.futures import ThreadPoolExecutor

        return ThreadPoolExecutor(max_workers=4, thread_name_prefix="gitassist-run")

    def close(self) -> None:
        if "_pool" in self.__dict__:
            self._pool.shutdown(wait=True)
            del self.__dict__["_pool"]

    @sdk_errors
    def stream(
        self,
        thread_id: str | None,
        assistant_id: str,
        *,
        input: Any = None,
        command: Mapping[str, Any] | None = None,
        stream_mode: str | Sequence[str] = "values",
        stream_subgraphs: bool = False,
        stream_resumable: bool = False,
        metadata: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        checkpoint: Mapping[str, Any] | None = None,
        checkpoint_id: str | None = None,
        checkpoint_during: bool | None = None,
        interrupt_before: str | Sequence[str] | None = None,
        interrupt_after: str | Sequence[str] | None = None,
        feedback_keys: Sequence[str] | None = None,
        on_disconnect: str | None = None,
        on_completion: str | None = None,
        webhook: str | None = None,
        multitask_strategy: str | None = None,
        if_not_exists: str | None = None,
        after_seconds: int | None = None,
        langsmith_tracing: Any = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        on_run_created: Callable[[Any], None] | None = None,
        durability: str | None = None,
        strict_resume: bool | None = None,
        version: str = "v1",
        rev: str | None = None,
        pin: bool = False,
    ) -> Iterator[StreamPart]:
        options = _run_options("runs.stream", locals())
        parts = self.runner.stream(thread_id, assistant_id, **options)
        shaped = sdk_errors_iter(_announce(parts, on_run_created))
        return _as_v2(shaped) if version == "v2" else shaped  # type: ignore[return-value]

    @sdk_errors
    def wait(
        self,
        thread_id: str | None,
        assistant_id: str,
        *,
        input: Any = None,
        command: Mapping[str, Any] | None = None,
        metadata: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        checkpoint_during: bool | None = None,
        checkpoint: Mapping[str, Any] | None = None,
        checkpoint_id: str | None = None,
        interrupt_before: str | Sequence[str] | None = None,
        interrupt_after: str | Sequence[str] | None = None,
        webhook: str | None = None,
        on_disconnect: str | None = None,
        on_completion: str | None = None,
        multitask_strategy: str | None = None,
        if_not_exists: str | None = None,
        after_seconds: int | None = None,
        langsmith_tracing: Any = None,
        raise_error: bool = True,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        on_run_created: Callable[[Any], None] | None = None,
        durability: str | None = None,
        strict_resume: bool | None = None,
        rev: str | None = None,
        pin: bool = False,
    ) -> Any:
        options = _run_options("runs.wait", locals())
        return self.runner.wait(
            thread_id,
            assistant_id,
            raise_error=raise_error,
            on_run_created=on_run_created,
            **options,
        )

    @sdk_errors
    def create(
        self,
        thread_id: str | None,
        assistant_id: str,
        *,
        input: Any = None,
        command: Mapping[str, Any] | None = None,
        stream_mode: str | Sequence[str] = "values",
        stream_subgraphs: bool = False,
        stream_resumable: bool = False,
        metadata: Mapping[str, Any] | None = None,
        config: Mapping[str, Any] | None = None,
        context: Mapping[str, Any] | None = None,
        checkpoint: Mapping[str, Any] | None = None,
        checkpoint_id: str | None = None,
        checkpoint_during: bool | None = None,
        interrupt_before: str | Sequence[str] | None = None,
        interrupt_after: str | Sequence[str] | None = None,
        webhook: str | None = None,
        multitask_strategy: str | None = None,
        if_not_exists: str | None = None,
        on_completion: str | None = None,
        after_seconds: int | None = None,
        langsmith_tracing: Any = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        on_run_created: Callable[[Any], None] | None = None,
        durability: str | None = None,
        strict_resume: bool | None = None,
        rev: str | None = None,
        pin: bool = False,
    ) -> dict[str, Any]:
        options = _run_options("runs.create", locals())
        run = self.runner.begin(thread_id, assistant_id, **options)
        run.record_start()
        collected: list[StreamPart] = []

        def consume() -> Any:
            for part in self.runner.stream_run(run):
                collected.append(part)
            return run.final_values()

        with self._lock:
            self._background[run.run_id] = _BackgroundRun(self._pool.submit(consume), collected)
        if on_run_created is not None:
            on_run_created({"run_id": run.run_id, "thread_id": thread_id})
        return run.record()

    def _background_run(self, thread_id: str, run_id: str) -> _BackgroundRun:
        with self._lock:
            found = self._background.get(run_id)
        if found is None:
            self.get(thread_id, run_id)  # NotFound for an unknown run
            raise ValidationFailed(
                f"run {run_id} was not started by this client: gitassist can join only the "
                "background runs of the client that created them",
                [],
            )
        return found

    @sdk_errors
    def join(
        self,
        thread_id: str,
        run_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        background = self._background_run(thread_id, run_id)
        # an error is recorded on the run, as the server does; join returns the thread's values
        background.future.exception()
        return self.runner.threads.get(thread_id)["values"] or {}

    @sdk_errors
    def join_stream(
        self,
        thread_id: str,
        run_id: str,
        *,
        cancel_on_disconnect: bool = False,
        stream_mode: str | Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
        last_event_id: str | None = None,
    ) -> Iterator[StreamPart]:
        return sdk_errors_iter(self._join_stream(thread_id, run_id, stream_mode, last_event_id))

    def _join_stream(
        self,
        thread_id: str,
        run_id: str,
        stream_mode: str | Sequence[str] | None,
        last_event_id: str | None,
    ) -> Iterator[StreamPart]:
        _refuse("runs.join_stream", last_event_id=last_event_id)
        background = self._background_run(thread_id, run_id)
        background.future.exception()  # wait for the end (its error is on the run record)
        modes = [stream_mode] if isinstance(stream_mode, str) else stream_mode
        for part in background.parts:
            if part.event != "metadata" and (modes is None or part.event.split("|")[0] in modes):
                yield part

    @sdk_errors
    def cancel(
        self,
        thread_id: str,
        run_id: str,
        *,
        wait: bool = False,
        action: str = "interrupt",
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        background = self._background_run(thread_id, run_id)
        if not background.future.done():
            raise unsupported("runs.cancel", "run_id", run_id)

    @sdk_errors
    def list(
        self,
        thread_id: str,
        *,
        limit: int = 10,
        offset: int = 0,
        status: str | None = None,
        select: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        _page(limit, offset)
        runs = [
            r
            for r in reversed(self.runner.threads.runs(thread_id))
            if status is None or r["status"] == status
        ]
        page = runs[offset : offset + limit]
        return [{k: r[k] for k in select if k in r} for r in page] if select else page

    @sdk_errors
    def get(
        self,
        thread_id: str,
        run_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        for run in self.runner.threads.runs(thread_id):
            if run["run_id"] == run_id:
                return run
        raise NotFound(f"Run {run_id} not found")

    @sdk_errors
    def delete(
        self,
        thread_id: str,
        run_id: str,
        *,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, Any] | None = None,
    ) -> None:
        self.get(thread_id, run_id)
        self.runner.threads.db.delete_run(run_id)


def _as_v2(parts: Iterator[StreamPart]) -> Iterator[dict[str, Any]]:
    from gitassist.events import v2_part

    for part in parts:
        yield v2_part(part)


async def _aas_v2(parts: AsyncIterator[StreamPart]) -> AsyncIterator[dict[str, Any]]:
    from gitassist.events import v2_part

    async for part in parts:
        yield v2_part(part)


def _announce(parts: Iterator[StreamPart], on_run_created: Any) -> Iterator[StreamPart]:
    for part in parts:
        if part.event == "metadata" and on_run_created is not None:
            on_run_created({"run_id": part.data["run_id"], "thread_id": part.data["thread_id"]})
        yield part


def _astream_of(
    method: Callable[Concatenate[Any, P], Iterator[StreamPart]],
) -> Callable[Concatenate[Any, P], AsyncIterator[StreamPart]]:
    """The async stream with the sync one's signature: the graph runs asynchronously."""

    def call(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[StreamPart]:
        given = _bound(method, self._sync, args, kwargs)
        try:
            options = _run_options("runs.stream", given)
        except GitassistError as exc:
            from gitassist.sdk_errors import to_sdk

            raise to_sdk(exc) from exc.__cause__
        parts = self.runner.astream(given["thread_id"], given["assistant_id"], **options)
        shaped = sdk_errors_aiter(_aannounce(parts, given.get("on_run_created")))
        return _aas_v2(shaped) if given["version"] == "v2" else shaped  # type: ignore[return-value]

    functools.update_wrapper(call, method)
    return call


def _await_of(
    method: Callable[Concatenate[Any, P], Any],
) -> Callable[Concatenate[Any, P], Coroutine[Any, Any, Any]]:
    async def call(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> Any:
        given = _bound(method, self._sync, args, kwargs)
        try:
            options = _run_options("runs.wait", given)
            return await self.runner.await_(
                given["thread_id"],
                given["assistant_id"],
                raise_error=given["raise_error"],
                on_run_created=given.get("on_run_created"),
                **options,
            )
        except GitassistError as exc:
            from gitassist.sdk_errors import to_sdk

            raise to_sdk(exc) from exc.__cause__

    functools.update_wrapper(call, method)
    return call


async def _aannounce(
    parts: AsyncIterator[StreamPart], on_run_created: Any
) -> AsyncIterator[StreamPart]:
    async for part in parts:
        if part.event == "metadata" and on_run_created is not None:
            on_run_created({"run_id": part.data["run_id"], "thread_id": part.data["thread_id"]})
        yield part


def _ajoin_stream_of(
    method: Callable[Concatenate[Any, P], Iterator[StreamPart]],
) -> Callable[Concatenate[Any, P], AsyncIterator[StreamPart]]:
    def call(self: Any, /, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[StreamPart]:
        return _aiter_in_thread(method(self._sync, *args, **kwargs))

    functools.update_wrapper(call, method)
    return call


async def _aiter_in_thread(parts: Iterator[StreamPart]) -> AsyncIterator[StreamPart]:
    done = object()
    while True:
        part = await asyncio.to_thread(next, parts, done)
        if part is done:
            return
        yield part  # type: ignore[misc]


class RunsClient:
    """``client.runs`` (async), with langgraph_sdk's names and event shapes."""

    def __init__(self, store: Store) -> None:
        self._sync = SyncRunsClient(store)
        self.runner: Runner = self._sync.runner

    stream = _astream_of(SyncRunsClient.stream)
    wait = _await_of(SyncRunsClient.wait)
    create = _in_thread(SyncRunsClient.create)
    join = _in_thread(SyncRunsClient.join)
    join_stream = _ajoin_stream_of(SyncRunsClient.join_stream)
    cancel = _in_thread(SyncRunsClient.cancel)
    list = _in_thread(SyncRunsClient.list)
    get = _in_thread(SyncRunsClient.get)
    delete = _in_thread(SyncRunsClient.delete)


# --------------------------------------------------------------------------- the clients


class SyncGitassistClient:
    """``get_sync_client(repo=…)``: ``assistants``, ``threads``, ``runs``; a context manager."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.assistants = SyncAssistantsClient(store)

    @cached_property
    def threads(self) -> SyncThreadsClient:
        return SyncThreadsClient(self.store)

    @cached_property
    def runs(self) -> SyncRunsClient:
        return SyncRunsClient(self.store)

    def close(self) -> None:
        """Wait for background runs and close the thread databases this client opened."""
        if "runs" in self.__dict__:
            self.runs.close()
            self.runs.runner.threads.db.close()
        if "threads" in self.__dict__:
            self.threads.threads.db.close()

    def __enter__(self) -> SyncGitassistClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class GitassistClient:
    """``get_client(repo=…)``: the async client; ``async with`` it, or ``await aclose()``."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.assistants = AssistantsClient(store)

    @cached_property
    def threads(self) -> ThreadsClient:
        return ThreadsClient(self.store)

    @cached_property
    def runs(self) -> RunsClient:
        return RunsClient(self.store)

    async def aclose(self) -> None:
        """Wait for background runs and close the thread databases this client opened."""
        if "runs" in self.__dict__:
            await asyncio.to_thread(self.runs._sync.close)
            self.runs.runner.threads.db.close()
        if "threads" in self.__dict__:
            self.threads._sync.threads.db.close()

    async def __aenter__(self) -> GitassistClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _repo(repo: str | os.PathLike[str] | None, url: str | None) -> str:
    if repo is not None:
        return os.fspath(repo)
    if url is not None:
        raise ValidationFailed(
            f"gitassist's client works on a git repository, not a URL ({url!r})",
            [],
            hint="pass repo= (a path to the assistant repository); for a LangGraph server "
            "use langgraph_sdk.get_client(url=...)",
        )
    return os.environ.get("GITASSIST_REPO", ".")


@sdk_errors
def get_client(
    *,
    url: str | None = None,
    api_key: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: Any = None,
    repo: str | os.PathLike[str] | None = None,
    environment: str | None = None,
) -> GitassistClient:
    """The async client for the assistant repository at ``repo`` (default: cwd).

    ``url``, ``api_key``, ``headers`` and ``timeout`` are the SDK's transport settings:
    accepted and ignored (``url`` without ``repo`` is an error that says to pass ``repo=``).
    ``environment``: reads and runs resolve that environment's pointers, and ``set_latest``
    moves them (with ``gitassist promote``'s rules), as a deployment's client would.
    """
    return GitassistClient(_bind_env(Store(_repo(repo, url)), environment))


@sdk_errors
def get_sync_client(
    *,
    url: str | None = None,
    api_key: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: Any = None,
    repo: str | os.PathLike[str] | None = None,
    environment: str | None = None,
) -> SyncGitassistClient:
    """The synchronous client for the assistant repository at ``repo`` (default: cwd)."""
    return SyncGitassistClient(_bind_env(Store(_repo(repo, url)), environment))


def _bind_env(store: Store, environment: str | None) -> Store:
    """``store`` bound to a declared environment (NotFound for an unknown one)."""
    if environment is not None:
        from gitassist.environments import declared
        from gitassist.promote import environment as declared_environment

        declared_environment(declared(store), environment)
        store.environment = environment
    return store
