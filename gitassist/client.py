"""The SDK-shaped client: ``get_client(repo=...)`` mirrors ``langgraph_sdk.get_client``.

``client.assistants`` has the methods and keyword arguments of langgraph_sdk's
``AssistantsClient`` and returns the same plain dicts, so code written against a LangGraph
deployment runs against a git repository with only the ``get_client`` line changed.
``client.threads`` and ``client.runs`` run graphs locally (see :mod:`gitassist.runner`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from gitassist import assistants as ops
from gitassist.store import Store

if TYPE_CHECKING:
    from collections.abc import Callable

    import pygit2


def _signature(author: str | None) -> pygit2.Signature | None:
    if not author:
        return None
    import pygit2

    name, _, email = author.partition("<")
    return pygit2.Signature(name.strip(), email.rstrip(">").strip() or f"{name.strip()}@localhost")


class SyncAssistantsClient:
    """Assistants on a git repository, synchronously."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self, assistant_id: str, **_: Any) -> dict[str, Any]:
        return ops.get(self._store, assistant_id).to_api()

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
            author=_signature(author),
            message=message,
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
            author=_signature(author),
            message=message,
        )
        return result.assistant.to_api()

    def delete(
        self, assistant_id: str, *, author: str | None = None, message: str | None = None, **_: Any
    ) -> None:
        ops.delete(self._store, assistant_id, author=_signature(author), message=message)

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
        found = ops.search(
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
        return ops.count(self._store, graph_id=graph_id, metadata=metadata, name=name)

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
            for r in ops.get_versions(self._store, assistant_id, limit=limit, offset=offset)
        ]
        if metadata:
            rows = [r for r in rows if all(r["metadata"].get(k) == v for k, v in metadata.items())]
        return rows

    def set_latest(self, assistant_id: str, version: int, **_: Any) -> dict[str, Any]:
        return ops.set_latest(self._store, assistant_id, version).to_api()

    def get_schemas(self, assistant_id: str, **_: Any) -> dict[str, Any]:
        resolved = ops.get(self._store, assistant_id)
        graph_id = resolved.document.graph_id
        schemas = ops.schema_set(self._store)
        return {
            "graph_id": graph_id,
            "context_schema": schemas.schemas.get(graph_id),
            "input_schema": None,
            "output_schema": None,
            "state_schema": None,
            "config_schema": None,
        }


class AssistantsClient:
    """The async twin of :class:`SyncAssistantsClient` (runs each call in a thread)."""

    def __init__(self, store: Store) -> None:
        self._sync = SyncAssistantsClient(store)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self._sync, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            import asyncio

            return await asyncio.to_thread(method, *args, **kwargs)

        call.__name__ = name
        return call


class SyncGitassistClient:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.assistants = SyncAssistantsClient(store)

    def __getattr__(self, name: str) -> Any:
        if name in ("threads", "runs"):
            from gitassist import runner

            value = getattr(runner, f"Sync{name.title()}Client")(self.store)
            setattr(self, name, value)
            return value
        raise AttributeError(name)


class GitassistClient:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.assistants = AssistantsClient(store)

    def __getattr__(self, name: str) -> Any:
        if name in ("threads", "runs"):
            from gitassist import runner

            value = getattr(runner, f"{name.title()}Client")(self.store)
            setattr(self, name, value)
            return value
        raise AttributeError(name)

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
