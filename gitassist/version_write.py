"""Writing the objects of gitassist's version refs: the annotated tag of a numbered version and
the pointer commit of ``latest`` (or an environment's pointer); see :mod:`gitassist.versions`
for their layout and for reading them back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pygit2

from gitassist.versions import LatestState, VersionRecord, join_message, sig_text

if TYPE_CHECKING:
    from collections.abc import Callable

    from gitassist.documents import AssistantDocument
    from gitassist.store import Store


def make_version_tag(
    store: Store,
    assistant_id: str,
    number: int,
    commit: pygit2.Commit,
    path: str,
    blob: str,
    document: AssistantDocument,
    reason: str,
    ci: dict[str, str],
    write: Callable[[bytes], str] | None = None,
) -> str:
    data = {
        "assistant_id": assistant_id,
        "version": number,
        "commit": str(commit.id),
        "path": path,
        "blob": blob,
        "graph_id": document.graph_id,
        "committed_at": commit.committer.time,
        "author": sig_text(commit.author),
        "reason": reason,
        "ci": ci,
    }
    summary = f"gitassist: {document.name} version {number}"
    sig = store.signature()
    name = f"assistants/{assistant_id}/v{number}"
    oid = write_tag(store, commit, name, join_message(summary, data), write, sig)
    if write is None and store.kept(("holds", str(commit.id), path, blob)):
        # what reading the tag back would give (``record_from_tag``), without reading it:
        # kept only when the commit is known to hold the blob, the one check a read adds
        record = VersionRecord(
            assistant_id=assistant_id,
            version=number,
            commit=str(commit.id),
            path=path,
            blob=blob,
            committed_at=commit.committer.time,
            author=sig_text(commit.author),
            recorded_by=sig_text(sig),
            recorded_at=sig.time,
            tag=oid,
            reason=reason,
            ci=dict(ci),
        )
        store.keep(("tag", oid, assistant_id, number), record)
    return oid


def write_tag(
    store: Store,
    commit: pygit2.Commit,
    name: str,
    message: str,
    write: Callable[[bytes], str] | None = None,
    sig: pygit2.Signature | None = None,
) -> str:
    """An annotated tag object with no refs/tags/ ref (``create_tag`` would make one);
    ``write`` stores the raw tag instead of the object database (e.g. into a pack);
    ``sig``: the tagger (default: the store's identity, now)."""
    sig = sig if sig is not None else store.signature()
    offset = sig.offset
    sign = "-" if offset < 0 else "+"
    tz = f"{sign}{abs(offset) // 60:02d}{abs(offset) % 60:02d}"
    raw = (
        f"object {commit.id}\ntype commit\ntag {name}\n"
        f"tagger {sig.name} <{sig.email}> {sig.time} {tz}\n\n{message}"
    )
    if write is not None:
        return write(raw.encode("utf-8"))
    oid = store.repo.odb.write(pygit2.enums.ObjectType.TAG, raw.encode("utf-8"))
    return str(oid)


def make_pointer(
    store: Store,
    assistant_id: str,
    *,
    previous: LatestState | None,
    version: int,
    max_version: int,
    tag: str,
    commit: str,
    path: str,
    blob: str,
    deleted: bool,
    reason: str,
    ci: dict[str, str],
    name: str,
    environment: str | None = None,
) -> str:
    """A pointer commit for latest (or ``environment``'s pointer): tree of ``commit``, parent
    the previous pointer."""
    source = store.get_commit(commit)
    data = {
        "assistant_id": assistant_id,
        "version": version,
        "max_version": max_version,
        "previous": previous.version if previous is not None else None,
        "tag": tag,
        "commit": commit,
        "path": path,
        "blob": blob,
        "deleted": deleted,
        "reason": reason,
        "ci": ci,
    }
    label = "latest"
    if environment is not None:
        data["environment"] = label = environment
    if deleted:
        summary = f"gitassist: {name} deleted (last version {version})"
        if environment is not None:
            summary = f"gitassist: {name} deleted in {environment} (last version {version})"
    elif previous is None or previous.deleted:
        summary = f"gitassist: {name} {label} -> version {version}"
    else:
        summary = f"gitassist: {name} {label} -> version {version} (was {previous.version})"
    sig = store.signature()
    parents = [previous.pointer] if previous is not None else []
    message = join_message(summary, data)
    oid = str(store.repo.create_commit(None, sig, sig, message, source.tree.id, parents))
    # what reading the pointer back would give (``latest_from_pointer``), without reading it
    state = LatestState(
        assistant_id=assistant_id,
        pointer=oid,
        version=version,
        max_version=max_version,
        tag=tag,
        commit=commit,
        path=path,
        blob=blob,
        deleted=deleted,
        moved_at=sig.time,
        moved_by=sig_text(sig),
        reason=reason,
        previous=previous.version if previous is not None else None,
        ci=dict(ci),
        environment=environment,
    )
    if max_version >= version:  # else reading it back refuses it, as it should
        store.keep(("pointer", oid, assistant_id, environment), state)
    return oid
