"""The search index: one summary per assistant, cached by immutable object ids.

``search``, ``count`` and ``list`` need, for every assistant, its name, graph, metadata,
description, active version, timestamps and path. Reading those from git means one pointer
commit, one or two version tags and one parsed YAML document per assistant; this module keeps
them in a cache whose keys are object ids, which never change meaning, so the cache cannot go
stale:

* ``docs``: (blob id, path) -> the document's id, graph, name, description, metadata and
  canonical content (or "invalid": such a document is parsed again so that it raises);
* ``rows``: pointer commit id -> what the active version resolves to, together with the
  version tags (of version N and of version 1) it was computed from; a row is used only while
  the refs ``versions/N`` and ``versions/1`` still name those tags.

Ref *values* are re-read on every call (one pass over ``refs/assistants/``); only
object-keyed data is cached. The cache lives in memory per process and persistently in
``<common git dir>/gitassist/cache/summary-v1.sqlite``; a cache file that cannot be read or
written is ignored (and rebuilt when possible), never an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gitassist.errors import BadRef
from gitassist.store import Entry
from gitassist.summary_cache import DocSummary, Summary, SummaryCache, cache_for
from gitassist.summary_refs import Refs, assistant_refs, ours, ref_snapshot
from gitassist.versions import (
    NAMESPACE,
    iso,
    latest_from_pointer,
    latest_ref,
    read_version,
    version_ref,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from gitassist.store import Store


# --------------------------------------------------------------------------- summaries


def doc_summary(store: Store, cache: SummaryCache, entry: Entry) -> DocSummary:
    """The summary of the document at ``entry``; an invalid one is parsed (and raises)."""
    key = (entry.blob, entry.path)
    if key in cache.docs:
        found = cache.docs[key]
    else:
        info = store.blob_info(entry)
        found = DocSummary.of(info.document) if info.document is not None else None
        cache.add_doc(key, found)
    if found is None:
        store.document(entry)  # raises the document's error
        raise AssertionError("an invalid document parsed")  # pragma: no cover
    return found


def recorded(
    store: Store,
    warnings: list[str] | None = None,
    refs: Refs | None = None,
) -> tuple[dict[str, Summary], set[str]]:
    """The active version of every assistant with a latest ref (deleted ones left out), and
    the ids whose refs are bad (noted in ``warnings``); ``refs``: the names and values of
    ``refs/assistants/*`` if already read."""
    cache = cache_for(store)
    with cache.lock:
        cache.load()
        if refs is None:
            refs = Refs(*assistant_refs(store), ())
        names, values, checked = refs.names, refs.values, refs.checked
        out: dict[str, Summary] = {}
        bad: set[str] = set()
        for name in names:
            if name not in checked and not ours(name):
                if warnings is not None:
                    warnings.append(f"skipped {name!r}: not a gitassist ref name")
                continue
            if not name.endswith("/latest") or name not in values:
                continue
            assistant_id = name[len(NAMESPACE) + 1 : -len("/latest")]
            try:
                summary = _active(store, cache, assistant_id, values)
            except BadRef as exc:
                bad.add(assistant_id)
                if warnings is not None:
                    warnings.append(f"skipped {exc.message}")
                continue
            if summary is not None:
                out[assistant_id] = summary
        cache.flush()
    return out, bad


@dataclass
class Active:
    """Every active assistant of one state of the refs and HEAD, and its sorted orders."""

    items: list[Summary]
    warnings: list[str]
    orders: dict[tuple[str, bool, bool], list[Summary]] = field(default_factory=dict)

    def ordered(
        self, key: str, fold_case: bool, reverse: bool, sort_key: Callable[[Summary], Any]
    ) -> list[Summary]:
        found = self.orders.get((key, fold_case, reverse))
        if found is None:
            found = sorted(self.items, key=sort_key, reverse=reverse)
            self.orders[(key, fold_case, reverse)] = found
        return found


def active(
    store: Store,
    warnings: list[str] | None,
    build: Callable[[list[str], Refs | None], list[Summary]],
) -> Active:
    """The active assistants: ``build(warnings, refs)`` computes them; its result is kept for
    as long as the refs (values re-read on every call), HEAD, the apply record and the
    working tree's graphs stay the same, since everything else it reads is an object."""
    from gitassist.versions import APPLIED_REF

    cache = cache_for(store)
    snap = ref_snapshot(store)
    head = store.head_commit()
    key = None
    if snap is not None:
        key = (
            snap[0],
            str(head.id) if head is not None else None,
            store.refdb.read(APPLIED_REF),
            tuple(store.project.graphs),
            store.assistants_dir,
        )
        memo = cache.memo
        if memo is not None and memo[0] == key:
            if warnings is not None:
                warnings.extend(memo[1].warnings)
            return memo[1]
    said: list[str] = []
    refs = Refs(sorted(snap[1]), snap[1], snap[2]) if snap is not None else None
    found = Active(build(said, refs), said)
    if warnings is not None:
        warnings.extend(said)
    if key is not None and refs is not None:
        cache.memo = (key, found)
        pointers = {v for k, v in refs.values.items() if k.endswith("/latest")}
        docs = {(s.blob, s.path) for s in found.items if s.blob and s.path}
        cache.prune(pointers, docs, str(head.tree.id) if head is not None else None)
    return found


def _active(
    store: Store, cache: SummaryCache, assistant_id: str, values: dict[str, str]
) -> Summary | None:
    pointer = values[latest_ref(assistant_id)]
    row = cache.rows.get(pointer)
    if row is not None and not _still_valid(row, assistant_id, values):
        row = None
    if row is None:
        row = _compute_row(store, assistant_id, pointer)
        cache.add_row(pointer, row)
    if row["deleted"]:
        return None
    doc = doc_summary(store, cache, Entry(row["path"], row["blob"]))
    return Summary(
        doc=doc,
        version=row["version"],
        source="version",
        commit=row["commit"],
        path=row["path"],
        blob=row["blob"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        max_version=row["max_version"],
        author=row["author"],
        recorded_by=row["recorded_by"],
        ci=row["ci"],
    )


def _still_valid(row: dict[str, Any], assistant_id: str, values: dict[str, str]) -> bool:
    """A cached row holds while the version refs it was read from name the same tags."""
    if row.get("id") != assistant_id:
        return False
    if row["deleted"]:
        return True
    return bool(
        values.get(version_ref(assistant_id, row["version"])) == row["tag_n"]
        and values.get(version_ref(assistant_id, 1)) == row["tag_1"]
    )


def _compute_row(store: Store, assistant_id: str, pointer: str) -> dict[str, Any]:
    """What ``resolve.from_latest`` reads for one pointer (BadRef as it raises)."""
    state = latest_from_pointer(store, pointer, latest_ref(assistant_id), assistant_id=assistant_id)
    if state.deleted:
        return {"id": assistant_id, "deleted": True}
    record = read_version(store, assistant_id, state.version)
    first = read_version(store, assistant_id, 1)
    return {
        "id": assistant_id,
        "deleted": False,
        "version": state.version,
        "tag_n": record.tag if record is not None else None,
        "tag_1": first.tag if first is not None else None,
        "max_version": state.max_version,
        "commit": record.commit if record else state.commit,
        "path": record.path if record else state.path,
        "blob": record.blob if record else state.blob,
        "created_at": iso(first.committed_at if first is not None else state.moved_at),
        "updated_at": iso(state.moved_at),
        "author": record.author if record else "",
        "recorded_by": record.recorded_by if record else "",
        "ci": record.ci if record else {},
    }
