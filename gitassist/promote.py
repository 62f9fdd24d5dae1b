"""Promotion: move environment pointers along the declared path, one or many at once.

``promote(store, "Bot", "production")`` moves one assistant's production pointer to the
version staging holds (or ``version=N`` that staging has held); :func:`release` moves every
assistant whose target pointer differs from the source's in **one atomic ref transaction**.
Every move obeys the environment's rules (see :mod:`gitassist.environments`): the version
exists, the source environment held it, a protected environment gets a reason and (outside
CI) ``force``. Nothing here prints; refusals are :class:`~gitassist.errors.GitassistError`
subclasses and leave every ref as it was.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from gitassist.actor import ci_context
from gitassist.environments import declared, held_versions
from gitassist.errors import Conflict, GitassistError, NotFound, PromotionRefused
from gitassist.field_diff import diff_documents
from gitassist.naming import resolve_id
from gitassist.progress import noop
from gitassist.refs import RefUpdate
from gitassist.resolve import recorded_ids
from gitassist.store import Entry
from gitassist.version_write import make_pointer
from gitassist.versions import env_ref, max_version, read_latest, read_version, recorded_latest

if TYPE_CHECKING:
    from collections.abc import Sequence

    from gitassist.env_config import Environment
    from gitassist.environments import Environments
    from gitassist.field_diff import FieldChange
    from gitassist.progress import Progress
    from gitassist.store import Store
    from gitassist.versions import LatestState


@dataclass(frozen=True)
class Move:
    """One environment pointer move (planned or done)."""

    assistant_id: str
    name: str
    environment: str
    source: str  # the environment the version comes from, or "latest"
    before: int | None  # the version the environment held (None: none, or deleted)
    version: int
    deleted: bool
    changes: list[FieldChange] = field(default_factory=list)
    old_pointer: str | None = None
    # what the new pointer records
    tag: str = ""
    commit: str = ""
    path: str = ""
    blob: str = ""
    top: int = 0
    previous: LatestState | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "assistant_id": self.assistant_id,
            "name": self.name,
            "environment": self.environment,
            "from": self.source,
            "before": self.before,
            "version": self.version,
            "deleted": self.deleted,
            "changes": [c.to_dict() for c in self.changes],
        }


@dataclass
class Release:
    """What ``promote`` (one) or ``promote --all`` did or, in a dry run, would do."""

    source: str
    target: str
    moves: list[Move] = field(default_factory=list)
    unchanged: int = 0
    not_promoted: list[dict[str, str]] = field(default_factory=list)  # held back, and why
    dry_run: bool = False
    done: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.source,
            "to": self.target,
            "dry_run": self.dry_run,
            "done": self.done,
            "moves": [m.to_dict() for m in self.moves],
            "unchanged": self.unchanged,
            "not_promoted": self.not_promoted,
        }


def environment(envs: Environments, name: str) -> Environment:
    """A declared environment, or :class:`NotFound` listing the declared ones."""
    env = envs.get(name)
    if env is None:
        known = ", ".join(envs) or "none (add environments: to gitassist.yaml and commit it)"
        raise NotFound(
            f"unknown environment {name!r}",
            hint=f"environments committed on the tracked branch: {known}",
        )
    return env


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def check_protection(env: Environment, reason: str | None, force: bool) -> None:
    """A protected environment moves only with a reason and, outside CI, ``force``."""
    if not env.protected:
        return
    if not reason:
        raise PromotionRefused(
            f"environment {env.name!r} is protected: every move needs a reason",
            hint="pass --reason TEXT (it is kept in the pointer's history)",
        )
    if not force and not in_ci():
        raise PromotionRefused(
            f"environment {env.name!r} is protected: outside CI a move also needs --force",
            hint="promote from CI (the CI variable is set there), or pass --force",
        )


def _source(envs: Environments, env: Environment, source: str | None) -> str | None:
    """The environment the version comes from (None: latest)."""
    if source is None or source == "latest":
        return env.promote_from if source is None else None
    environment(envs, source)
    if source == env.name:
        raise GitassistError(f"--from and --to are both {source!r}")
    return source


def _check_target(env: Environment, source: str | None, version: int | None) -> None:
    """An environment that follows latest takes only latest (``promote --all --to staging``
    brings pointers that predate its declaration in line)."""
    if env.follows_latest and (version is not None or source not in (None, "latest")):
        raise PromotionRefused(
            f"environment {env.name!r} follows latest: it holds only what latest holds",
            hint="use `gitassist set-latest` (or apply) to move it",
        )


def _name(store: Store, path: str, blob: str) -> str:
    return store.document(Entry(path, blob)).name


def _move(
    store: Store,
    envs: Environments,
    env: Environment,
    assistant_id: str,
    version: int,
    source: str | None,
    before: LatestState | None,
    diff: bool = True,
) -> Move:
    """A move of ``env``'s pointer to ``version``, checked against the rules (``diff``: with
    the field changes, which parse both documents)."""
    record = read_version(store, assistant_id, version)
    if record is None:
        top = max_version(store, assistant_id)
        have = f"it has versions 1..{top}" if top else "it has no recorded versions"
        raise NotFound(f"assistant {assistant_id} has no version {version}: {have}")
    if env.promote_from is not None and version not in held_versions(
        store, assistant_id, env.promote_from
    ):
        raise PromotionRefused(
            f"version {version} of {assistant_id} was never held by {env.promote_from!r}: "
            f"{env.name!r} only takes versions {env.promote_from!r} holds or has held",
            hint=f"promote it to {env.promote_from} first "
            f"(`gitassist log {assistant_id} --env {env.promote_from}` shows what it held)",
        )
    changes: list[FieldChange] = []
    if diff:
        doc = store.document(Entry(record.path, record.blob))
        old = None
        if before is not None and not before.deleted:
            old = store.document(Entry(before.path, before.blob))
        changes, name = diff_documents(old, doc), doc.name
    else:
        name = _tag_name(store, record.tag) or _name(store, record.path, record.blob)
    return Move(
        assistant_id,
        name,
        env.name,
        source or "latest",
        before.version if before is not None and not before.deleted else None,
        version,
        False,
        changes,
        before.pointer if before is not None else None,
        record.tag,
        record.commit,
        record.path,
        record.blob,
        max(version, before.max_version if before else 0),
        before,
    )


def _tag_name(store: Store, tag: str) -> str | None:
    """The assistant's name from its version tag's summary (``gitassist: NAME version N``),
    without parsing the document; None if the summary is not that."""
    import pygit2

    obj = store.repo.get(tag)
    if not isinstance(obj, pygit2.Tag):
        return None
    summary = obj.message.split("\n", 1)[0]
    if not summary.startswith("gitassist: ") or " version " not in summary:
        return None
    return summary.removeprefix("gitassist: ").rsplit(" version ", 1)[0]


def plan_promote(
    store: Store,
    target: str,
    to: str,
    *,
    version: int | None = None,
    source: str | None = None,
    envs: Environments | None = None,
) -> Release:
    """What ``promote TARGET --to ENV`` would do (no move when it already holds it)."""
    envs = declared(store) if envs is None else envs
    env = environment(envs, to)
    _check_target(env, source, version)
    src = _source(envs, env, source)
    assistant_id = resolve_id(store, target)
    latest = recorded_latest(store, assistant_id)
    if latest.deleted:
        raise NotFound(
            f"assistant {assistant_id} was deleted; a deletion reaches an environment only "
            "through `promote --all --prune`"
        )
    if version is None:
        held = read_latest(store, assistant_id, src) if src is not None else latest
        if held is None or held.deleted:
            raise PromotionRefused(
                f"{src!r} holds no version of {assistant_id}: nothing to promote to {to!r}",
                hint=f"promote it to {src} first",
            )
        version = held.version
    before = read_latest(store, assistant_id, env.name)
    release = Release(src or "latest", env.name)
    if before is not None and not before.deleted and before.version == version:
        release.unchanged = 1
        return release
    release.moves.append(_move(store, envs, env, assistant_id, version, src, before))
    return release


def plan_release(
    store: Store,
    source: str | None,
    to: str,
    *,
    only: Sequence[str] = (),
    prune: bool = False,
    envs: Environments | None = None,
    diff: bool = True,
    progress: Progress | None = None,
) -> Release:
    """Every assistant whose ``to`` pointer differs from ``source``'s (``only``: these;
    ``diff``: with each move's field changes; ``progress`` is told of each one compared)."""
    envs = declared(store) if envs is None else envs
    env = environment(envs, to)
    _check_target(env, source, None)
    src = _source(envs, env, source)
    release = Release(src or "latest", env.name)
    ids = sorted({resolve_id(store, n) for n in only}) if only else sorted(recorded_ids(store))
    for done, assistant_id in enumerate(ids, 1):
        (noop if progress is None else progress)("promote", done, len(ids))
        held = read_latest(store, assistant_id, src)
        before = read_latest(store, assistant_id, env.name)
        if held is None:
            if only:
                raise PromotionRefused(f"{release.source!r} holds no version of {assistant_id}")
            continue
        if held.deleted:
            if before is None or before.deleted:
                continue
            if not prune:
                release.not_promoted.append(
                    {
                        "assistant_id": assistant_id,
                        "name": _name(store, before.path, before.blob),
                        "why": f"deleted in {release.source}; pass --prune to promote the deletion",
                    }
                )
                continue
            release.moves.append(_deletion(store, env, held, before, release.source))
            continue
        if before is not None and not before.deleted and before.version == held.version:
            release.unchanged += 1
            continue
        release.moves.append(_move(store, envs, env, assistant_id, held.version, src, before, diff))
    return release


def _deletion(
    store: Store, env: Environment, held: LatestState, before: LatestState, source: str
) -> Move:
    old = store.document(Entry(before.path, before.blob))
    return Move(
        held.assistant_id,
        old.name,
        env.name,
        source,
        before.version,
        before.version,
        True,
        diff_documents(old, None),
        before.pointer,
        before.tag,
        held.commit,
        before.path,
        before.blob,
        before.max_version,
        before,
    )


def _guard_wipe(store: Store, release: Release, allow_delete_all: bool) -> None:
    """apply's guard: no release deletes every assistant an environment holds at once."""
    deletions = [m for m in release.moves if m.deleted]
    if not deletions or allow_delete_all:
        return
    live = 0
    for assistant_id in recorded_ids(store):
        state = read_latest(store, assistant_id, release.target)
        if state is not None and not state.deleted:
            live += 1
    if live <= len(deletions):
        raise GitassistError(
            f"refusing to delete all {len(deletions)} assistant(s) of {release.target!r} at once",
            hint="pass --allow-delete-all if that is really what you want",
        )


def execute(
    store: Store,
    release: Release,
    *,
    reason: str | None = None,
    force: bool = False,
    allow_delete_all: bool = False,
    envs: Environments | None = None,
) -> Release:
    """Move every pointer of ``release`` in one compare-and-swap transaction (all or none)."""
    envs = declared(store) if envs is None else envs
    env = environment(envs, release.target)
    check_protection(env, reason, force)
    _guard_wipe(store, release, allow_delete_all)
    if not release.moves:
        release.done = True
        return release
    why = reason or f"promote {release.source} -> {release.target}"
    ci = ci_context()
    with store.refdb.lock():
        updates = []
        for move in release.moves:
            previous = move.previous
            if store.refdb.read(env_ref(move.assistant_id, env.name)) != move.old_pointer:
                raise Conflict(
                    f"{env_ref(move.assistant_id, env.name)} moved since the plan was made",
                    hint="run promote again",
                )
            pointer = make_pointer(
                store,
                move.assistant_id,
                previous=previous,
                version=move.version,
                max_version=move.top,
                tag=move.tag,
                commit=move.commit,
                path=move.path,
                blob=move.blob,
                deleted=move.deleted,
                reason=why,
                ci=ci,
                name=move.name,
                environment=env.name,
            )
            updates.append(
                RefUpdate(env_ref(move.assistant_id, env.name), pointer, move.old_pointer)
            )
        store.refdb.update(
            updates, f"gitassist promote {release.source} -> {env.name}: {why}", atomic=True
        )
    release.done = True
    return release


def promote(
    store: Store,
    target: str,
    to: str,
    *,
    version: int | None = None,
    source: str | None = None,
    reason: str | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> Release:
    """Move one assistant's ``to`` pointer (see :func:`plan_promote`)."""
    envs = declared(store)
    if not dry_run:
        check_protection(environment(envs, to), reason, force)
    release = plan_promote(store, target, to, version=version, source=source, envs=envs)
    release.dry_run = dry_run
    return release if dry_run else execute(store, release, reason=reason, force=force, envs=envs)


def release(
    store: Store,
    source: str | None,
    to: str,
    *,
    only: Sequence[str] = (),
    prune: bool = False,
    allow_delete_all: bool = False,
    reason: str | None = None,
    force: bool = False,
    dry_run: bool = False,
) -> Release:
    """``promote --all``: every differing assistant, one atomic transaction."""
    envs = declared(store)
    if not dry_run:
        check_protection(environment(envs, to), reason, force)
    plan = plan_release(store, source, to, only=only, prune=prune, envs=envs, diff=False)
    plan.dry_run = dry_run
    if dry_run:
        return plan
    return execute(
        store, plan, reason=reason, force=force, allow_delete_all=allow_delete_all, envs=envs
    )
