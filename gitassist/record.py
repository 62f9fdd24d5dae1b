"""Record a plan: write the version tags, pointers and apply record, then one ref transaction.

:mod:`gitassist.plan` says what apply would do; :func:`execute` does it. Each step below
writes the git objects it needs and returns the ref updates that publish them; nothing is
visible until :func:`execute` applies every update in one transaction under the write lock,
after checking that no other apply ran since the plan was made.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from gitassist.actor import ci_context
from gitassist.errors import Conflict, GitassistError, ValidationFailed
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
    from gitassist.plan_records import Deletion, Plan
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


def version_updates(ctx: _Context) -> tuple[dict[tuple[str, int], str], list[RefUpdate]]:
    """A tag per new version (reusing one an interrupted write recorded), and the version refs
    that publish the new ones; returns the tags by (id, number) too."""
    store = ctx.store
    tags: dict[tuple[str, int], str] = {}
    updates: list[RefUpdate] = []
    for version in ctx.plan.versions:
        commit = store.get_commit(version.commit)
        doc = store.blob_info(Entry(version.path, version.blob)).document
        assert doc is not None
        if version.recorded is not None:
            tags[(version.assistant_id, version.number)] = version.recorded
            continue
        tag = make_version_tag(
            store,
            version.assistant_id,
            version.number,
            commit,
            version.path,
            version.blob,
            doc,
            ctx.reason,
            ctx.ci,
        )
        tags[(version.assistant_id, version.number)] = tag
        # a version ref is written once; its tag records who, when, why and the CI run
        updates.append(
            RefUpdate(version_ref(version.assistant_id, version.number), tag, None, reflog=False)
        )
    return tags, updates


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
    return str(repo.create_commit(None, sig, sig, join_message(summary, data), tree, parents))
