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
from gitassist.version_write import make_pointer
from gitassist.versions import (
    env_ref,
    latest_from_pointer,
    latest_history,
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
    """The tracked branch's commit (None before the first commit). The branch is the one
    the working tree's gitassist.yaml names only when HEAD's committed gitassist.yaml names
    the same: an uncommitted ``branch:`` never picks which declaration protects."""
    head = store.head_commit()
    committed = store.project_at(head).settings.branch if head is not None else None
    if committed is not None or store.project.settings.branch is None:
        branch = committed or store.tracked_branch()
    else:
        branch = store.default_branch()
    ref = store.repo.references.get(f"refs/heads/{branch}")
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


# --------------------------------------------------------------------------- remotes

Refusal = tuple[str, str, str]  # (ref, oid, why)


def _depth(envs: Environments, name: str) -> int:
    """How many promote_from steps ``name`` is from an environment with no source."""
    depth, env = 0, envs.get(name)
    while env is not None and env.promote_from is not None and depth <= len(envs):
        depth, env = depth + 1, envs.get(env.promote_from)
    return depth


def _descends(store: Store, later: str, earlier: str) -> bool:
    import pygit2

    repo = store.repo
    if later == earlier or not all(
        isinstance(repo.get(x), pygit2.Commit) for x in (later, earlier)
    ):
        return False
    return bool(repo.descendant_of(later, earlier))


def moves_problem(
    store: Store,
    envs: Environments,
    name: str,
    oid: str,
    stop: str | None,
    refs: dict[str, str],
) -> str | None:
    """Why environment pointer ``oid`` (ref ``name``) must not be taken or sent, or None.

    Checks every move after ``stop``: each is a pointer gitassist wrote for this assistant
    and environment, names a version whose record (in ``refs``: the refs as they will be)
    holds the same document, and (the invariant) a version the environment's
    ``promote_from`` environment, as ``refs`` has it, has held."""
    from gitassist.errors import BadRef
    from gitassist.versions import env_name, parse_ref, record_from_tag, version_ref

    parsed = parse_ref(name)
    assert parsed is not None and parsed[0] == "env"
    assistant_id, environment = parsed[1], env_name(name)
    env = envs.get(environment)
    if env is None:
        declared_names = ", ".join(envs) or "none"
        return (
            f"{environment!r} is not an environment declared in the tracked branch's committed "
            f"gitassist.yaml (declared: {declared_names})"
        )
    try:
        moves = new_moves(store, assistant_id, environment, oid, stop)
        for state in moves:
            tag = refs.get(version_ref(assistant_id, state.version))
            if tag is None:
                return f"it names version {state.version}, which has no valid record"
            record = record_from_tag(store, tag, assistant_id=assistant_id, number=state.version)
            if record.blob != state.blob:
                return f"it disagrees with version {state.version}'s record (blob)"
    except BadRef as exc:
        return exc.message.removeprefix(f"{name}: ")
    if env.promote_from is None:
        return None
    source = refs.get(env_ref(assistant_id, env.promote_from))
    try:
        held = held_versions(store, assistant_id, env.promote_from, source) if source else set()
    except BadRef as exc:
        return f"its source environment's pointer is not valid: {exc.message}"
    for state in moves:
        if not state.deleted and state.version not in held:
            return (
                f"it holds version {state.version}, which {env.promote_from!r} never held "
                f"({environment!r} only takes versions {env.promote_from!r} has held: a "
                "forged or out-of-order move)"
            )
    return None


def merge_incoming(
    store: Store,
    incoming: dict[str, str],
    local: dict[str, str],
    pending: dict[str, str | None],
    *,
    force: bool,
) -> tuple[list[RefUpdate], list[Refusal], list[Refusal]]:
    """Fetched environment pointers (``incoming``: ref -> oid) merged with ``local``, given
    the refs the rest of the fetch sets (``pending``): the updates, the refused refs and the
    conflicts. Sources are decided before the environments promoted from them."""
    envs = declared(store)
    refs = {**local, **{k: v for k, v in pending.items() if v is not None}}
    updates: list[RefUpdate] = []
    refused: list[Refusal] = []
    conflicts: list[Refusal] = []
    from gitassist.versions import env_name

    for name in sorted(incoming, key=lambda n: (_depth(envs, env_name(n)), n)):
        oid, mine = incoming[name], local.get(name)
        if mine == oid:
            continue
        ahead = mine is not None and _descends(store, mine, oid)
        problem = moves_problem(store, envs, name, oid, mine, refs)
        if problem:
            refused.append((name, oid, problem))
        elif mine is None or force or _descends(store, oid, mine):
            updates.append(RefUpdate(name, oid, mine))
            refs[name] = oid
        elif not ahead:
            if mine is not None and _same_state(store, name, oid, mine):
                updates.append(RefUpdate(name, oid, mine))  # the same move made twice
                refs[name] = oid
                continue
            conflicts.append(
                (
                    name,
                    oid,
                    "the remote's pointer and this repository's hold different versions and "
                    "neither history contains the other",
                )
            )
    return updates, refused, conflicts


def _same_state(store: Store, name: str, theirs: str, mine: str) -> bool:
    from gitassist.errors import BadRef

    try:
        a, b = (latest_from_pointer(store, oid, name) for oid in (theirs, mine))
    except BadRef:
        return False
    return (a.version, a.deleted, a.blob) == (b.version, b.deleted, b.blob)


def push_problem(store: Store, name: str, oid: str, theirs: str | None) -> str | None:
    """Why our environment pointer must not be pushed over the remote's ``theirs``."""
    stop = theirs if theirs is not None and theirs in store.repo else None
    return moves_problem(store, declared(store), name, oid, stop, store.refdb.listing())
