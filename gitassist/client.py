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

This module holds the two clients and ``get_client``/``get_sync_client``; the methods live in
:mod:`gitassist.client_assistants`, :mod:`gitassist.client_threads` and
:mod:`gitassist.client_runs`, on top of :mod:`gitassist.client_streams` and
:mod:`gitassist.client_base`. Every class is importable from here.
"""

from __future__ import annotations

import asyncio
import os
from functools import cached_property
from typing import TYPE_CHECKING, Any

from gitassist.client_assistants import AssistantsClient, SyncAssistantsClient
from gitassist.client_runs import RunsClient, SyncRunsClient
from gitassist.client_threads import SyncThreadsClient, ThreadsClient
from gitassist.errors import ValidationFailed
from gitassist.sdk_errors import sdk_errors
from gitassist.store import Store

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "AssistantsClient",
    "GitassistClient",
    "RunsClient",
    "SyncAssistantsClient",
    "SyncGitassistClient",
    "SyncRunsClient",
    "SyncThreadsClient",
    "ThreadsClient",
    "get_client",
    "get_sync_client",
]

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
