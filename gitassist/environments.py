"""Environment pointers: ``refs/assistants/<id>/env/<name>`` next to ``latest``.

An environment's pointer is a pointer commit exactly like ``latest`` (see
:mod:`gitassist.versions`): compare-and-swap, its first-parent chain the history of moves
(who, when, why, the CI run). Which environments exist, which one follows ``latest`` and
which one each is promoted from is the ``environments:`` section of the ``gitassist.yaml``
*committed* on the tracked branch (:func:`declared`): an uncommitted or untracked file never
changes what is protected.

The invariant every writer and :mod:`gitassist.remote` check: an environment never holds a
version that its ``promote_from`` environment never held ("held": a live state somewhere in
the source pointer's move history).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gitassist.refs import RefUpdate
from gitassist.store import Entry
from gitassist.versions import (
    env_ref,
    latest_from_pointer,
    latest_history,
    make_pointer,
    read_latest,
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from pygit2 import Commit

    from gitassist.env_config import Environment
    from gitassist.store import Store
    from gitassist.versions import LatestState

Environments = dict[str, "Environment"]


def environments_at(store: Store, commit: Commit | None) -> Environments:
    """The environments declared in ``commit``'s committed gitassist.yaml."""
    if commit is None:
        return {}
    return {e.name: e for e in store.project_at(commit).settings.environments}


def tracked_commit(store: Store) -> Commit | None:
    """The tracked branch's commit (None before the first commit)."""
    ref = store.repo.references.get(f"refs/heads/{store.tracked_branch()}")
    return store.get_commit(ref.target) if ref is not None else None


def declared(store: Store) -> Environments:
    """The environments as committed on the tracked branch (never the working tree's file)."""
    return environments_at(store, tracked_commit(store))


def held_versions(
    store: Store, assistant_id: str, environment: str | None, start: str | None = None
) -> set[int]:
    """Every version ``environment``'s pointer (or latest) holds or has held: the live states
    of its move history (from ``start``, a pointer commit, instead of the ref when given)."""
    if start is None and store.refdb.read(_ref(assistant_id, environment)) is None:
        return set()
    moves = latest_history(store, assistant_id, environment=environment, start=start)
    return {m.version for m in moves if not m.deleted}


def _ref(assistant_id: str, environment: str | None) -> str:
    from gitassist.versions import pointer_ref

    return pointer_ref(assistant_id, environment)


def never_held(
    store: Store,
    envs: Environments,
    assistant_id: str,
    environment: str,
    versions: Iterable[int],
    source_pointer: str | None = None,
    *,
    use_source_pointer: bool = False,
) -> tuple[str, int] | None:
    """``(source, version)`` for the first of ``versions`` that ``environment``'s
    ``promote_from`` environment never held, or None when the invariant holds.
    ``use_source_pointer``: judge the source by ``source_pointer`` (a fetch's merged value,
    None for absent) instead of its ref."""
    env = envs.get(environment)
    if env is None or env.promote_from is None:
        return None
    if use_source_pointer:
        held = (
            held_versions(store, assistant_id, env.promote_from, source_pointer)
            if source_pointer is not None
            else set()
        )
    else:
        held = held_versions(store, assistant_id, env.promote_from)
    for version in versions:
        if version not in held:
            return env.promote_from, version
    return None


def new_moves(
    store: Store, assistant_id: str, environment: str, oid: str, stop: str | None
) -> list[LatestState]:
    """The states of pointer ``oid``'s history down to (not including) ``stop``."""
    out = []
    for state in latest_history(store, assistant_id, environment=environment, start=oid):
        if state.pointer == stop:
            break
        out.append(state)
    return out


def follow_pointer(
    store: Store,
    environment: str,
    latest: LatestState,
    *,
    reason: str,
    ci: dict[str, str],
    before: LatestState | None = None,
    name: str | None = None,
) -> str:
    """A pointer commit for ``environment`` that holds what ``latest`` holds."""
    if name is None:
        name = store.document(Entry(latest.path, latest.blob)).name
    return make_pointer(
        store,
        latest.assistant_id,
        previous=before,
        version=latest.version,
        max_version=latest.max_version,
        tag=latest.tag,
        commit=latest.commit,
        path=latest.path,
        blob=latest.blob,
        deleted=latest.deleted,
        reason=reason,
        ci=ci,
        name=name,
        environment=environment,
    )


def follow_updates(
    store: Store,
    envs: Environments,
    moved: dict[str, tuple[str, str | None]],
    *,
    reason: str,
    ci: dict[str, str],
) -> list[RefUpdate]:
    """For every environment that ``follows: latest``, the moves that keep it equal to the
    latest pointers in ``moved`` (id -> (new latest pointer, old)): to go in the same
    transaction as those."""
    following = [e.name for e in envs.values() if e.follows_latest]
    updates: list[RefUpdate] = []
    if not following:
        return updates
    for assistant_id, (pointer, _) in moved.items():
        latest = latest_from_pointer(store, pointer, assistant_id=assistant_id)
        name = None
        for environment in following:
            before = read_latest(store, assistant_id, environment)
            if before is not None and (before.version, before.deleted, before.blob) == (
                latest.version,
                latest.deleted,
                latest.blob,
            ):
                continue
            if name is None:
                name = store.document(Entry(latest.path, latest.blob)).name
            oid = follow_pointer(
                store, environment, latest, reason=reason, ci=ci, before=before, name=name
            )
            updates.append(
                RefUpdate(
                    env_ref(assistant_id, environment),
                    oid,
                    before.pointer if before is not None else None,
                )
            )
    return updates
