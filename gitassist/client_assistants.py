"""``client.assistants``: assistants in the git repository, with langgraph_sdk's methods."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from gitassist import assistants as ops
from gitassist import resolve as reads
from gitassist import search as listing
from gitassist.actor import parse_author
from gitassist.client_base import (
    assistant_api,
    check_args,
    check_page,
    in_thread,
    split_configurable,
)
from gitassist.errors import NotFound, ValidationFailed
from gitassist.sdk_errors import sdk_errors

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from gitassist.resolve import Resolved
    from gitassist.store import Store

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


def _api(resolved: Resolved) -> dict[str, Any]:
    return assistant_api(resolved.to_api())


def _version_row(resolved: Resolved) -> dict[str, Any]:
    return assistant_api(resolved.to_version_row())


def _contains(have: Mapping[str, Any], want: Mapping[str, Any]) -> bool:
    return all(k in have and have[k] == v for k, v in want.items())


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
        check_args("get", locals())
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
        dir: str | None = None,  # gitassist extra: a subfolder of the assistants dir
    ) -> dict[str, Any]:
        if graph_id is None:
            raise ValidationFailed("graph_id is required", [])
        check_args("create", locals())
        if if_exists not in (None, "raise", "do_nothing"):
            raise ValidationFailed(
                f"if_exists must be 'raise' or 'do_nothing', not {if_exists!r}", []
            )
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
            folder=dir,
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
        check_args("update", locals())
        run_config, ctx = split_configurable(config, context)
        plain = ops.plainly_recorded(self._store, assistant_id)  # then not a default one
        current = None if plain else reads.get(self._store, assistant_id)
        if current is not None and current.source == "default":
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
        from gitassist.actor import ci_context
        from gitassist.commits import make_commit
        from gitassist.documents import render_new
        from gitassist.refs import RefUpdate
        from gitassist.version_write import make_version_tag
        from gitassist.versions import version_ref
        from gitassist.write_commit import new_path

        store = self._store
        doc = current.document
        new_name = name or doc.name
        with store.refdb.lock():
            head = store.head_commit()
            path = new_path(store, new_name, head.tree if head is not None else None)
            schema_ref = f"../{store.project.settings.schemas_dir}/assistant.schema.json"
            beside = make_commit(
                store,
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
        check_args("delete", locals())
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
        check_page(limit, offset)
        check_args("search", locals())
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
        page, total = listing.search_page(
            self._store,
            graph_id=graph_id,
            metadata=None if metadata is None else dict(metadata),
            name=name,
            limit=limit,
            offset=offset,
            sort_by=sort_by,
            sort_order=sort_order,
            fold_case=sort_by == "name",  # the server's order is case-insensitive
        )
        rows = [assistant_api(s.to_api()) for s in page]
        if select:
            rows = [{k: row[k] for k in select} for row in rows]
        if response_format == "object":
            more = offset + limit < total
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
        check_args("count", locals())
        meta = None if metadata is None else dict(metadata)
        return listing.count(self._store, graph_id=graph_id, metadata=meta, name=name)

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
        check_page(limit, offset)
        check_args("get_versions", locals())
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
        check_args("set_latest", locals())
        current = reads.get(self._store, assistant_id)
        if current.source == "default" and version == 1:
            return _api(current)
        return _api(ops.set_latest(self._store, assistant_id, version))

    def _graph(self, assistant_id: str) -> tuple[Resolved, Any]:
        from gitassist.graph_code import code_source, graph_spec, load_cached
        from gitassist.run_env import apply_env

        resolved = reads.get(self._store, assistant_id)
        code = code_source(self._store, None)
        graph_id = resolved.document.graph_id
        apply_env(code.project, self._store.root)  # the graph is imported as langgraph dev does
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

    get = in_thread(SyncAssistantsClient.get)
    create = in_thread(SyncAssistantsClient.create)
    update = in_thread(SyncAssistantsClient.update)
    delete = in_thread(SyncAssistantsClient.delete)
    search = in_thread(SyncAssistantsClient.search)
    count = in_thread(SyncAssistantsClient.count)
    get_versions = in_thread(SyncAssistantsClient.get_versions)
    set_latest = in_thread(SyncAssistantsClient.set_latest)
    get_schemas = in_thread(SyncAssistantsClient.get_schemas)
    get_graph = in_thread(SyncAssistantsClient.get_graph)
    get_subgraphs = in_thread(SyncAssistantsClient.get_subgraphs)
