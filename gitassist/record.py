"""Record a plan: write the version tags, pointers and apply record, then one ref transaction.

:mod:`gitassist.plan` says what apply would do; :func:`execute` does it. Each step below
writes the git objects it needs and returns the ref updates that publish them; nothing is
visible until :func:`execute` applies every update in one transaction under the write lock,
after checking that no other apply ran since the plan was made.
"""

from __future__ import annotations

import hashlib
import struct
import subprocess
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pygit2

from gitassist import history
from gitassist.actor import ci_context
from gitassist.applied import keep_applied
from gitassist.errors import Conflict, GitassistError, RepositoryError, ValidationFailed
from gitassist.index import write_index
from gitassist.refs import RefUpdate
from gitassist.store import Entry
from gitassist.version_write import make_pointer, make_version_tag
from gitassist.versions import (
    APPLIED_REF,
    join_message,
    latest_from_pointer,
    latest_ref,
    read_latest,
    version_ref,
)

if TYPE_CHECKING:
    from pygit2 import Commit

    from gitassist.documents import AssistantDocument
    from gitassist.plan_records import Deletion, NewVersion, Plan
    from gitassist.store import Store
    from gitassist.versions import LatestState


@dataclass(frozen=True)
class ApplyResult:
    plan: Plan
    applied: bool
    pruned: list[Deletion]
    updates: list[RefUpdate] = field(default_factory=list)


@dataclass(frozen=True)
class _Context:
    """What every object written by one apply shares."""

    store: Store
    plan: Plan
    reason: str
    ci: dict[str, str]


PACK_MIN = 1_000  # from this many new versions on, their tags are written as one pack
PARALLEL_TAGS = 20_000  # and from this many on, made by worker processes

# id -> (new pointer, the pointer it replaces)
Pointers = dict[str, tuple[str, str | None]]


def check_plan(
    plan: Plan, hint: str = "fix them (gitassist validate shows each) and apply again"
) -> None:
    """Refuse a plan whose documents have errors (every problem is listed)."""
    errors = [p for p in plan.problems if p.severity == "error"]
    if errors:
        raise ValidationFailed(
            f"{len(errors)} problem(s) in the documents to apply; nothing was recorded",
            list(errors),
            hint=hint,
        )


def execute(
    store: Store,
    plan: Plan,
    *,
    prune: bool = False,
    allow_delete_all: bool = False,
    reason: str = "apply",
    atomic: bool = True,
) -> ApplyResult:
    """Record ``plan`` in one ref transaction. Holds the write lock; re-checks under it."""
    with store.refdb.lock():
        updates, pruned, message = record_updates(
            store, plan, prune=prune, allow_delete_all=allow_delete_all, reason=reason
        )
        store.refdb.update(updates, message, atomic=atomic)
    return ApplyResult(plan, bool(updates), list(pruned), updates)


def record_updates(
    store: Store,
    plan: Plan,
    *,
    prune: bool = False,
    allow_delete_all: bool = False,
    reason: str = "apply",
) -> tuple[list[RefUpdate], list[Deletion], str]:
    """Write ``plan``'s objects (tags, pointers, apply record) and return the ref updates
    that publish them, what is pruned and the reflog message; call with the write lock held
    (:func:`execute`, or a write that adds its branch to the same transaction)."""
    check_plan(plan)
    pruned = _to_prune(plan, prune, allow_delete_all)
    ctx = _Context(store, plan, reason, ci_context())
    if store.refdb.read(APPLIED_REF) != plan.applied.pointer:
        raise Conflict("another apply ran since this plan was made", hint="run apply again")
    tags, updates = version_updates(ctx)
    pointers = latest_moves(ctx, tags)
    absent = deletions(ctx, pruned, pointers)
    # followers before latest: written one by one (atomic=False), a write killed between
    # them leaves latest behind, which the next apply moves (and its followers agree)
    updates += follower_updates(ctx, pointers)
    updates += pointer_updates(pointers)
    updates += applied_update(ctx, absent, changed=bool(updates))
    return updates, pruned, f"gitassist {reason}: {plan.branch} at {plan.head[:12]}"


def _to_prune(plan: Plan, prune: bool, allow_delete_all: bool) -> list[Deletion]:
    pruned = plan.deletions if prune else []
    if pruned and not allow_delete_all:
        live = len(plan.index)  # loads every shard: only when pruning
        if live == 0:
            raise GitassistError(
                f"refusing to delete all {len(pruned)} assistant(s) at once",
                hint="pass --allow-delete-all if that is really what you want",
            )
    return pruned


class _Pack:
    """New tag objects kept in memory (compressed), then stored as one pack by
    ``git index-pack --stdin``: one file for an apply of 100,000 versions instead of a loose
    file per tag. If git cannot store it (or hashes differently, as a SHA-256 repository
    does), each is written loose."""

    def __init__(self) -> None:
        self.objects: list[tuple[str, int, bytes]] = []  # (id, size, zlib data)

    def add(self, raw: bytes) -> str:
        oid = hashlib.sha1(b"tag %d\0" % len(raw) + raw).hexdigest()  # git's object id
        self.objects.append((oid, len(raw), zlib.compress(raw, 1)))
        return oid

    def store(self, store: Store) -> None:
        if not self.objects:
            return
        parts = [b"PACK", struct.pack(">II", 2, len(self.objects))]
        for _oid, length, data in self.objects:
            byte, rest = 0x40 | (length & 0x0F), length >> 4  # type 4: a tag
            header = bytearray()
            while rest:
                header.append(byte | 0x80)
                byte, rest = rest & 0x7F, rest >> 7
            header.append(byte)
            parts += (bytes(header), data)
        pack = b"".join(parts)
        pack += hashlib.sha1(pack).digest()  # the pack's checksum
        args = ["git", "--git-dir", store.repo.path, "index-pack", "--stdin"]
        try:
            proc = subprocess.run(args, input=pack, capture_output=True, check=False)
            stored = proc.returncode == 0 and store.repo.get(self.objects[0][0]) is not None
        except OSError:
            stored = False
        if not stored:
            for oid, _size, data in self.objects:
                written = store.repo.odb.write(pygit2.enums.ObjectType.TAG, zlib.decompress(data))
                if str(written) != oid:  # cannot happen unless git's hash is not SHA-1
                    raise RepositoryError("this repository's object format is not supported")


def version_updates(ctx: _Context) -> tuple[dict[tuple[str, int], str], list[RefUpdate]]:
    """A tag per new version (reusing one an interrupted write recorded), and the version refs
    that publish the new ones; returns the tags by (id, number) too."""
    todo = [v for v in ctx.plan.versions if v.recorded is None]
    made = iter(_make_tags(ctx, todo))
    tags: dict[tuple[str, int], str] = {}
    updates: list[RefUpdate] = []
    for version in ctx.plan.versions:
        if version.recorded is not None:
            tags[(version.assistant_id, version.number)] = version.recorded
            continue
        tag = next(made)
        tags[(version.assistant_id, version.number)] = tag
        # a version ref is written once; its tag records who, when, why and the CI run
        updates.append(
            RefUpdate(version_ref(version.assistant_id, version.number), tag, None, reflog=False)
        )
    return tags, updates


def _make_tags(ctx: _Context, versions: list[NewVersion]) -> list[str]:
    """The tag of each version, in order. Many go into one pack, made by forked workers
    when there are cores to spare (each runs the same :func:`_tag_range`)."""
    if len(versions) < PACK_MIN:
        return _tag_range(ctx, versions, None)
    pack = _Pack()
    _TAGGING.append((ctx, versions))  # workers forked from here on see it
    try:
        pool = history.worker_pool() if len(versions) >= PARALLEL_TAGS else None
        if pool is None:
            ids = _tag_range(ctx, versions, pack)
        else:
            from concurrent.futures.process import BrokenProcessPool

            step = -(-len(versions) // (history.cores() * 4))
            slices = [(start, step) for start in range(0, len(versions), step)]
            try:
                for part in pool.map(_tag_task, slices):
                    pack.objects += part
                ids = [oid for oid, _size, _data in pack.objects]
            except (BrokenProcessPool, OSError):  # a worker died, or a fork failed: here
                pack = _Pack()
                ids = _tag_range(ctx, versions, pack)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
    finally:
        _TAGGING.clear()
    pack.store(ctx.store)
    return ids


_TAGGING: list[tuple[_Context, list[NewVersion]]] = []  # what forked workers tag


def _tag_task(where: tuple[int, int]) -> list[tuple[str, int, bytes]]:
    """(In a worker, forked with :data:`_TAGGING` set.) The packed tags of one slice."""
    ctx, versions = _TAGGING[0]
    ctx.store.reopen()  # this process's own libgit2 state
    start, step = where
    pack = _Pack()
    _tag_range(ctx, versions[start : start + step], pack)
    return pack.objects


def _tag_range(ctx: _Context, versions: list[NewVersion], pack: _Pack | None) -> list[str]:
    store = ctx.store
    commits: dict[str, Commit] = {}
    out = []
    for version in versions:
        commit = commits.get(version.commit)
        if commit is None:
            commit = commits[version.commit] = store.get_commit(version.commit)
        out.append(
            make_version_tag(
                store,
                version.assistant_id,
                version.number,
                commit,
                version.path,
                version.blob,
                _tagged(store, version),
                ctx.reason,
                ctx.ci,
                pack.add if pack is not None else None,
            )
        )
    return out


def _tagged(store: Store, version: NewVersion) -> AssistantDocument:
    """What a version's tag says of its document (graph and name), without parsing it again
    when the plan knows them."""
    from gitassist.documents import AssistantDocument, RunConfig

    if version.graph_id:  # validated when planned: every recorded version is a valid document
        return AssistantDocument.model_construct(  # every field given: no default is built
            assistant_id=version.assistant_id,
            graph_id=version.graph_id,
            name=version.name,
            description=None,
            context={},
            config=RunConfig.model_construct(tags=[], recursion_limit=None),
            metadata={},
        )
    doc = store.blob_info(Entry(version.path, version.blob)).document
    assert doc is not None
    return doc


def latest_moves(ctx: _Context, tags: dict[tuple[str, int], str]) -> Pointers:
    """A new latest pointer for every assistant the plan moves to its newest version."""
    store = ctx.store
    newest = {v.assistant_id: v for v in ctx.plan.versions}
    moved: Pointers = {}
    for move in ctx.plan.moves:
        version = newest[move.assistant_id]
        state = read_latest(store, move.assistant_id)
        pointer = make_pointer(
            store,
            move.assistant_id,
            previous=state,
            version=version.number,
            max_version=version.number,
            tag=tags[(move.assistant_id, version.number)],
            commit=version.commit,
            path=version.path,
            blob=version.blob,
            deleted=False,
            reason=ctx.reason,
            ci=ctx.ci,
            name=version.name,
        )
        moved[move.assistant_id] = (pointer, state.pointer if state else None)
    return moved


def deletions(ctx: _Context, pruned: list[Deletion], moved: Pointers) -> dict[str, dict[str, str]]:
    """Mark each pruned assistant deleted (in ``moved``, chained after a new version if it has
    one); returns what the apply record still lists as absent."""
    store = ctx.store
    absent = dict(ctx.plan.absent)
    for deletion in pruned:
        state: LatestState | None
        if deletion.assistant_id in moved:  # a new version, then deleted: chain the two
            state = latest_from_pointer(store, moved[deletion.assistant_id][0])
        else:
            state = read_latest(store, deletion.assistant_id)
        assert state is not None
        pointer = make_pointer(
            store,
            deletion.assistant_id,
            previous=state,
            version=state.version,
            max_version=state.max_version,
            tag=state.tag,
            commit=deletion.commit,
            path=deletion.path,
            blob=state.blob,
            deleted=True,
            reason=ctx.reason,
            ci=ctx.ci,
            name=deletion.name,
        )
        before = moved.get(deletion.assistant_id, (None, state.pointer))[1]
        moved[deletion.assistant_id] = (pointer, before)
        absent.pop(deletion.assistant_id, None)
    return absent


def follower_updates(ctx: _Context, moved: Pointers) -> list[RefUpdate]:
    """Environments that follow latest move with it, in the same transaction (their
    declaration is the one committed in the applied commit)."""
    if not moved:
        return []
    from gitassist.environments import environments_at, follow_updates

    envs = environments_at(ctx.store, ctx.store.get_commit(ctx.plan.head))
    return follow_updates(ctx.store, envs, moved, reason=ctx.reason, ci=ctx.ci)


def pointer_updates(moved: Pointers) -> list[RefUpdate]:
    return [RefUpdate(latest_ref(i), pointer, before) for i, (pointer, before) in moved.items()]


def applied_update(
    ctx: _Context, absent: dict[str, dict[str, str]], *, changed: bool
) -> list[RefUpdate]:
    """The new apply record, when anything changed or the branch advanced."""
    plan = ctx.plan
    if plan.held or not (plan.advances or changed or absent != plan.applied.absent):
        return []
    return [RefUpdate(APPLIED_REF, _applied_commit(ctx, absent), plan.applied.pointer)]


def _applied_commit(ctx: _Context, absent: dict[str, dict[str, str]]) -> str:
    store, plan, reason = ctx.store, ctx.plan, ctx.reason
    repo = store.repo
    tree = write_index(repo, plan.index)
    data = {
        "branch": plan.branch,
        "commit": plan.head,
        "absent": absent,
        "versions": len(plan.versions),
        "reason": reason,
        "ci": ctx.ci,
    }
    sig = store.signature()
    parents = [plan.applied.pointer] if plan.applied.pointer else []
    summary = (
        f"gitassist {reason}: {plan.branch} at {plan.head[:12]} ({len(plan.versions)} version(s))"
    )
    pointer = str(repo.create_commit(None, sig, sig, join_message(summary, data), tree, parents))
    keep_applied(store, pointer, plan.head, absent, str(tree))
    return pointer
