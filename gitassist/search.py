"""Searching assistants: the active ones (plus each graph's default), filtered, sorted, counted.

Read-only, like the LangGraph API's ``assistants.search`` / ``count``: rows come from the
summary index (:mod:`gitassist.summary`), so a warm search parses no document.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from gitassist.applied import index_at
from gitassist.documents import AssistantDocument
from gitassist.project import default_assistant_id
from gitassist.resolve import Resolved, default_resolved
from gitassist.store import Entry
from gitassist.versions import iso

if TYPE_CHECKING:
    from collections.abc import Callable

    from pygit2 import Commit

    from gitassist import summary
    from gitassist.resolve import Source
    from gitassist.store import Store
    from gitassist.summary_cache import Summary
    from gitassist.summary_refs import Refs

SORT_KEYS = ("assistant_id", "created_at", "updated_at", "name", "graph_id")


def search(
    store: Store,
    *,
    graph_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    limit: int = 10,
    offset: int = 0,
    sort_by: str | None = None,
    sort_order: str | None = None,
    warnings: list[str] | None = None,
    fold_case: bool = False,
) -> list[Resolved]:
    """Active assistants (plus each graph's default), filtered like the LangGraph API
    (``fold_case``: names sort case-insensitively, as the server sorts them).

    A bad ref (see docs/refs.md) is skipped, with a line appended to ``warnings``."""
    page, _ = search_page(
        store,
        graph_id=graph_id,
        metadata=metadata,
        name=name,
        limit=limit,
        offset=offset,
        sort_by=sort_by,
        sort_order=sort_order,
        warnings=warnings,
        fold_case=fold_case,
    )
    return [_materialize(s) for s in page]


def search_page(
    store: Store,
    *,
    graph_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
    limit: int = 10,
    offset: int = 0,
    sort_by: str | None = None,
    sort_order: str | None = None,
    warnings: list[str] | None = None,
    fold_case: bool = False,
) -> tuple[list[Summary], int]:
    """One page of :func:`search` as summaries (no document parsed when the index is warm)
    and how many assistants match in all."""
    if limit < 1 or offset < 0:
        raise ValueError("limit must be >= 1 and offset >= 0")
    if sort_by is not None and sort_by not in SORT_KEYS:
        raise ValueError(f"sort_by must be one of {', '.join(SORT_KEYS)}")
    key = sort_by or "created_at"
    sort_key = _sort_key(key, fold_case)
    reverse = (sort_order or "desc") == "desc"
    if graph_id is None and name is None and metadata is None:  # every one: a kept order
        every = _all_active(store, warnings).ordered(key, fold_case, reverse, sort_key)
        return every[offset : offset + limit], len(every)
    items = _matching(store, graph_id, metadata, name, warnings)
    if offset + limit < len(items) // 4:
        import heapq

        pick = heapq.nlargest if reverse else heapq.nsmallest
        return pick(offset + limit, items, key=sort_key)[offset:], len(items)
    items.sort(key=sort_key, reverse=reverse)
    return items[offset : offset + limit], len(items)


def _sort_key(key: str, fold_case: bool) -> Callable[[Summary], tuple[str, str]]:
    if key == "name" and fold_case:
        return lambda s: (s.doc.name.lower(), s.assistant_id)
    if key in ("name", "graph_id"):
        return lambda s: (getattr(s.doc, key), s.assistant_id)
    return lambda s: (getattr(s, key), s.assistant_id)


def _matching(
    store: Store,
    graph_id: str | None,
    metadata: dict[str, Any] | None,
    name: str | None,
    warnings: list[str] | None,
) -> list[Summary]:
    found = _all_active(store, warnings).items
    if graph_id is None and name is None and metadata is None:
        return found
    folded = name.lower() if name is not None else None
    return [
        s
        for s in found
        if (graph_id is None or s.doc.graph_id == graph_id)
        and (folded is None or folded in s.doc.name.lower())
        and (metadata is None or _contains(s.doc.metadata(), metadata))
    ]


def count(
    store: Store,
    *,
    graph_id: str | None = None,
    metadata: dict[str, Any] | None = None,
    name: str | None = None,
) -> int:
    return len(_matching(store, graph_id, metadata, name, None))


def _contains(have: dict[str, Any], want: dict[str, Any]) -> bool:
    return all(k in have and have[k] == v for k, v in want.items())


def _all_active(store: Store, warnings: list[str] | None = None) -> summary.Active:
    """Every active assistant, from the summary index (see :mod:`gitassist.summary`)."""
    from gitassist import summary

    def build(said: list[str], refs: Refs | None) -> list[Summary]:
        out, bad = summary.recorded(store, said, refs)
        head = store.head_commit()
        if head is not None:
            _add_unrecorded(store, head, out, bad)
        for graph_id in store.project.graphs:
            default_id = default_assistant_id(graph_id)
            if default_id not in out:
                out[default_id] = _summary_of(default_resolved(store, graph_id, head))
        return list(out.values())

    return summary.active(store, warnings, build)


def _add_unrecorded(store: Store, head: Commit, out: dict[str, Summary], bad: set[str]) -> None:
    from gitassist import summary, summary_cache

    cache = summary_cache.cache_for(store)
    when = iso(head.committer.time)
    author = f"{head.author.name} <{head.author.email}>"
    tree = str(head.tree.id)
    with cache.lock:
        cache.load()
        # the ids at a tree, kept by tree id and assistants folder (the work tree's
        # gitassist.yaml may name another one): the index loads every shard
        at = f"{tree}:{store.assistants_dir}"
        ids = cache.ids_at(at)
        index = None
        if ids is None:
            index = index_at(store, head.tree)
            ids = list(index)
            cache.set_ids_at(at, ids)
        for assistant_id in ids:
            if assistant_id not in out and assistant_id not in bad:
                index = index if index is not None else index_at(store, head.tree)
                entry = index[assistant_id]
                doc = summary.doc_summary(store, cache, Entry(entry.path, entry.blob))
                out[assistant_id] = summary_cache.Summary(
                    doc,
                    None,
                    "unrecorded",
                    str(head.id),
                    entry.path,
                    entry.blob,
                    when,
                    when,
                    author=author,
                )
        cache.flush()


def _summary_of(r: Resolved) -> Summary:
    from gitassist.summary_cache import DocSummary, Summary

    return Summary(
        DocSummary.of(r.document),
        r.version,
        r.source,
        r.commit,
        r.path,
        r.blob,
        r.created_at,
        r.updated_at,
        r.max_version,
        r.author,
        r.recorded_by,
        r.ci,
    )


def _materialize(s: Summary) -> Resolved:
    """The :class:`Resolved` of a summary (its document rebuilt from the canonical content)."""
    import json

    doc = AssistantDocument.model_validate(json.loads(s.doc.canonical_json))
    return Resolved(
        doc,
        s.version,
        cast("Source", s.source),
        s.commit,
        s.path,
        s.blob,
        s.created_at,
        s.updated_at,
        s.max_version,
        s.author,
        s.recorded_by,
        s.ci,
    )
