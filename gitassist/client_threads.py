"""``client.threads``: threads in ``.gitassist/threads.sqlite``, with langgraph_sdk's methods."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gitassist.client_base import check_args, check_page, in_thread, refuse
from gitassist.sdk_errors import sdk_errors

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from gitassist.store import Store

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
        check_args("threads.create", locals())
        refuse("threads.create", supersteps=supersteps, ttl=ttl)
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
        check_args("threads.get", locals())
        refuse("threads.get", include=include)
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
        check_args("threads.update", locals())
        refuse("threads.update", ttl=ttl)
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
        check_args("threads.delete", locals())
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
        refuse("threads.search", extract=extract)
        check_page(limit, offset)
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
        check_args("threads.copy", locals())
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
        check_args("threads.get_state", locals())
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
        check_args("threads.update_state", locals())
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
        check_args("threads.get_history", locals())
        check_page(limit, 0)
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

    create = in_thread(SyncThreadsClient.create)
    get = in_thread(SyncThreadsClient.get)
    update = in_thread(SyncThreadsClient.update)
    delete = in_thread(SyncThreadsClient.delete)
    search = in_thread(SyncThreadsClient.search)
    count = in_thread(SyncThreadsClient.count)
    copy = in_thread(SyncThreadsClient.copy)
    get_state = in_thread(SyncThreadsClient.get_state)
    update_state = in_thread(SyncThreadsClient.update_state)
    get_history = in_thread(SyncThreadsClient.get_history)
