"""The SDK-shaped client: ``get_client(repo=...)`` mirrors ``langgraph_sdk.get_client``.

``client.assistants`` has the methods and keyword arguments of langgraph_sdk's
``AssistantsClient`` and returns the same plain dicts, so code written against a LangGraph
deployment runs against a git repository with only the ``get_client`` line changed.
``client.threads`` and ``client.runs`` run graphs locally (see :mod:`gitassist.runner` and
:mod:`gitassist.threads`); the modules behind them are imported on first use.
"""

from __future__ import annotations

import copy
import os
from functools import cached_property
from typing import TYPE_CHECKING, Any

from gitassist import assistants as ops
from gitassist import resolve as reads
from gitassist.errors import NotFound
from gitassist.store import Store, parse_author

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence

    from gitassist.events import StreamPart
    from gitassist.runner import Runner


class SyncAssistantsClient:
    """Assistants on a git repository, synchronously."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self, assistant_id: str, **_: Any) -> dict[str, Any]:
        return reads.get(self._store, assistant_id).to_api()

    def create(
        self,
        graph_id: str | None,
        config: dict[str, Any] | None = None,
        *,
        context: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        assistant_id: str | None = None,
        if_exists: str | None = None,
        name: str | None = None,
        description: str | None = None,
        author: str | None = None,
        message: str | None = None,
        dir: str | None = None,  # gitassist extra: a subfolder of the assistants dir
        **_: Any,
    ) -> dict[str, Any]:
        if graph_id is None:
            raise ValueError("graph_id is required")
        result = ops.create(
            self._store,
            graph_id,
            context=context,
            config=config,
            metadata=metadata,
            name=name,
            description=description,
            assistant_id=assistant_id,
            if_exists=if_exists,
            author=parse_author(author),
            message=message,
            folder=dir,
        )
        return result.assistant.to_api()

    def update(
        self,
        assistant_id: str,
        *,
        graph_id: str | None = None,
        config: dict[str, Any] | None = None,
        context: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        name: str | None = None,
        description: str | None = None,
        author: str | None = None,
        message: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        result = ops.update(
            self._store,
            assistant_id,
            graph_id=graph_id,
            context=context,
            config=config,
            metadata=metadata,
            name=name,
            description=description,
            author=parse_author(author),
            message=message,
        )
        return result.assistant.to_api()

    def delete(
        self, assistant_id: str, *, author: str | None = None, message: str | None = None, **_: Any
    ) -> None:
        ops.delete(self._store, assistant_id, author=parse_author(author), message=message)

    def search(
        self,
        *,
        metadata: dict[str, Any] | None = None,
        graph_id: str | None = None,
        name: str | None = None,
        limit: int = 10,
        offset: int = 0,
        sort_by: str | None = None,
        sort_order: str | None = None,
        **_: Any,
    ) -> list[dict[str, Any]]:
        found = reads.search(
            self._store,
            graph_id=graph_id,
            metadata=metadata,
            name=name,
            limit=limit,
            offset=offset,
            sort_by=sort_by,
            sort_order=sort_order,
        )
        return [r.to_api() for r in found]

    def count(
        self,
        *,
        metadata: dict[str, Any] | None = None,
        graph_id: str | None = None,
        name: str | None = None,
        **_: Any,
    ) -> int:
        return reads.count(self._store, graph_id=graph_id, metadata=metadata, name=name)

    def get_versions(
        self,
        assistant_id: str,
        metadata: dict[str, Any] | None = None,
        limit: int = 10,
        offset: int = 0,
        **_: Any,
    ) -> list[dict[str, Any]]:
        rows = [
            r.to_version_row()
            for r in reads.get_versions(self._store, assistant_id, limit=limit, offset=offset)
        ]
        if metadata:
            rows = [r for r in rows if all(r["metadata"].get(k) == v for k, v in metadata.items())]
        return rows

    def set_latest(self, assistant_id: str, version: int, **_: Any) -> dict[str, Any]:
        return ops.set_latest(self._store, assistant_id, version).to_api()

    def get_schemas(self, assistant_id: str, **_: Any) -> dict[str, Any]:
        resolved = reads.get(self._store, assistant_id)
        graph_id = resolved.document.graph_id
        from gitassist.schemas import load_schemas

        schemas = load_schemas(self._store, self._store.project, None)
        return {
            "graph_id": graph_id,
            "context_schema": copy.deepcopy(schemas.schemas.get(graph_id)),  # cached: a copy
            "input_schema": None,
            "output_schema": None,
            "state_schema": None,
            "config_schema": None,
        }


class _InWorkerThreads:
    """The async twin of a sync client: each call runs the sync method in a worker thread."""

    _sync: Any

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._sync, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            import asyncio

            return await asyncio.to_thread(method, *args, **kwargs)

        call.__name__ = name
        return call


class AssistantsClient(_InWorkerThreads):
    """The async twin of :class:`SyncAssistantsClient` (runs each call in a thread)."""

    def __init__(self, store: Store) -> None:
        self._sync = SyncAssistantsClient(store)


# --------------------------------------------------------------------------- threads and runs

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
        from gitassist.runner import Runner

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
        runs = list(reversed(self.runner.threads.runs(thread_id)))
        return runs[offset : offset + limit]

    def get(self, thread_id: str, run_id: str, **_: Any) -> dict[str, Any]:
        for run in self.runner.threads.runs(thread_id):
            if run["run_id"] == run_id:
                return run
        raise NotFound(f"run {run_id} not found in thread {thread_id}")


class RunsClient(_InWorkerThreads):
    """``client.runs`` (async), with langgraph_sdk's names and event shapes."""

    def __init__(self, store: Store) -> None:
        self._sync = SyncRunsClient(store)
        self.runner: Runner = self._sync.runner

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


class SyncThreadsClient:
    """``client.threads`` (sync): threads in ``.gitassist/threads.sqlite``."""

    def __init__(self, store: Store) -> None:
        from gitassist.threads import ThreadStore

        self.threads = ThreadStore(store)

    def create(
        self,
        *,
        metadata: Mapping[str, Any] | None = None,
        thread_id: str | None = None,
        if_exists: str | None = None,
        graph_id: str | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        return self.threads.create(
            metadata=metadata, thread_id=thread_id, if_exists=if_exists, graph_id=graph_id
        )

    def get(self, thread_id: str, **_: Any) -> dict[str, Any]:
        return self.threads.get(thread_id)

    def update(self, thread_id: str, *, metadata: Mapping[str, Any], **_: Any) -> dict[str, Any]:
        return self.threads.update(thread_id, metadata=metadata)

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
        return self.threads.search(
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
        return len(self.threads.search(metadata=metadata, status=status, limit=10**9))

    def delete(self, thread_id: str, **_: Any) -> None:
        self.threads.delete(thread_id)

    def get_state(self, thread_id: str, *_: Any, **__: Any) -> dict[str, Any]:
        return self.threads.get_state(thread_id)


class ThreadsClient(_InWorkerThreads):
    """``client.threads`` (async): each call runs the sync one in a worker thread."""

    def __init__(self, store: Store) -> None:
        self._sync = SyncThreadsClient(store)


# --------------------------------------------------------------------------- the clients


class SyncGitassistClient:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.assistants = SyncAssistantsClient(store)

    @cached_property
    def threads(self) -> SyncThreadsClient:
        return SyncThreadsClient(self.store)

    @cached_property
    def runs(self) -> SyncRunsClient:
        return SyncRunsClient(self.store)


class GitassistClient:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.assistants = AssistantsClient(store)

    @cached_property
    def threads(self) -> ThreadsClient:
        return ThreadsClient(self.store)

    @cached_property
    def runs(self) -> RunsClient:
        return RunsClient(self.store)

    async def __aenter__(self) -> GitassistClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None


def _repo(repo: str | os.PathLike[str] | None, url: str | None) -> str:
    if repo is not None:
        return os.fspath(repo)
    return url or os.environ.get("GITASSIST_REPO", ".")


def get_client(
    *, repo: str | os.PathLike[str] | None = None, url: str | None = None, **_: Any
) -> GitassistClient:
    """The async client for the assistant repository at ``repo`` (default: cwd)."""
    return GitassistClient(Store(_repo(repo, url)))


def get_sync_client(
    *, repo: str | os.PathLike[str] | None = None, url: str | None = None, **_: Any
) -> SyncGitassistClient:
    """The synchronous client for the assistant repository at ``repo`` (default: cwd)."""
    return SyncGitassistClient(Store(_repo(repo, url)))
