"""``gitassist apply``: guards, then plan and record, optionally against a remote."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pygit2

from gitassist.errors import Conflict, RepositoryError, ShallowClone
from gitassist.plan import make_plan
from gitassist.project import init_hint
from gitassist.record import ApplyResult, execute

if TYPE_CHECKING:
    from gitassist.plan_records import Plan
    from gitassist.progress import Progress
    from gitassist.ref_merge import FetchResult
    from gitassist.store import Store

PUSH_ATTEMPTS = 5


@dataclass(frozen=True)
class ApplyOutcome:
    result: ApplyResult | None
    plan: Plan
    pushed: bool
    attempts: int
    pushed_refs: list[str] = field(default_factory=list)
    fetched: FetchResult | None = None  # with a remote: what the fetch took and refused


def check_guards(store: Store, *, any_branch: bool) -> str:
    """The branch to apply; refuses a detached HEAD, another branch, or dirty assistant files."""
    tracked = store.tracked_branch()
    current = store.current_branch()
    if current is None:
        if not any_branch:
            raise RepositoryError(
                "HEAD is detached", hint=f"check out {tracked}, or pass --any-branch to apply HEAD"
            )
    elif current != tracked and not any_branch:
        raise RepositoryError(
            f"apply records versions from the tracked branch {tracked!r}, not {current!r}",
            hint=f"git switch {tracked}; or set `branch:` in gitassist.yaml; or --any-branch",
        )
    dirty = dirty_documents(store)
    if dirty:
        untracked = [p for p, new in dirty if new]
        changed = [p for p, new in dirty if not new]
        if changed:
            message = f"uncommitted changes to {', '.join(changed[:5])}"
            hint = "apply records committed documents only: commit or stash these first"
        else:
            message = f"untracked assistant document(s) {', '.join(untracked[:5])}"
            hint = "apply records committed documents only: commit them (git add) or remove them"
        raise RepositoryError(message, hint=hint)
    return current or tracked


def dirty_documents(store: Store) -> list[tuple[str, bool]]:
    """Assistant documents (and langgraph.json) that differ from HEAD, sorted, each with
    whether it is untracked. Other files under the assistants directory (``.DS_Store``,
    gitassist's own temporary files) do not count: apply never reads them."""
    from gitassist.store import YAML_SUFFIXES

    prefix = store.assistants_dir + "/"
    untracked = pygit2.enums.FileStatus.WT_NEW
    out = []
    for path, status in sorted(store.repo.status().items()):
        if status in (pygit2.enums.FileStatus.CURRENT, pygit2.enums.FileStatus.IGNORED):
            continue
        name = path.rsplit("/", 1)[-1]
        document = path.startswith(prefix) and name.endswith(YAML_SUFFIXES)
        if document or path == "langgraph.json":
            out.append((path, status == untracked))
    return out


def plan_for(
    store: Store,
    *,
    any_branch: bool = False,
    from_rewritten: bool = False,
    progress: Progress | None = None,
) -> Plan:
    branch = check_guards(store, any_branch=any_branch)
    head = store.head_commit()
    if head is None:
        raise RepositoryError("the repository has no commits yet", hint=init_hint(store.root))
    settings = store.project.settings  # a configured folder that HEAD lacks is a typo
    settings.require_assistants_dir(store.assistants_tree(head.tree) is not None)
    return make_plan(
        store,
        head=head,
        branch=branch,
        from_rewritten=from_rewritten,
        validate=True,
        progress=progress,
    )


def apply(
    store: Store,
    *,
    remote: str | None = None,
    prune: bool = False,
    allow_delete_all: bool = False,
    any_branch: bool = False,
    from_rewritten: bool = False,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ApplyOutcome:
    """Plan and record; with ``remote``, fetch its refs first and push atomically after.
    ``progress`` is told of each commit the plan walks."""
    attempts = 0
    while True:
        attempts += 1
        with store.refdb.lock():  # plan and record under one lock: concurrent applies queue
            outcome = _attempt(
                store,
                remote,
                attempts,
                prune=prune,
                allow_delete_all=allow_delete_all,
                any_branch=any_branch,
                from_rewritten=from_rewritten,
                dry_run=dry_run,
                progress=progress,
            )
        if outcome is not None:
            return outcome


def _attempt(
    store: Store,
    remote: str | None,
    attempts: int,
    *,
    prune: bool,
    allow_delete_all: bool,
    any_branch: bool,
    from_rewritten: bool,
    dry_run: bool,
    progress: Progress | None = None,
) -> ApplyOutcome | None:
    """One fetch-plan-record-push round; None means "lost a race or deepened: go again"."""
    from gitassist import remote as remotes
    from gitassist.checkout import clean_temp_files
    from gitassist.repo_state import check_writable

    expected: dict[str, str] = {}
    if not dry_run:
        check_writable(store.repo)
    fetched = None
    if remote is not None:
        fetched = remotes.fetch(store, remote)
        expected = fetched.remote_refs
    try:
        plan = plan_for(
            store, any_branch=any_branch, from_rewritten=from_rewritten, progress=progress
        )
    except ShallowClone:
        if remote is None or attempts > 1 or not store.is_shallow():
            raise
        proc = store.git("fetch", "--unshallow", remote, check=False)
        if proc.returncode != 0:
            raise
        store.reopen()  # libgit2 keeps the shallow boundary it read at open
        return None
    if dry_run:
        return ApplyOutcome(None, plan, False, attempts, fetched=fetched)
    clean_temp_files(store)
    result = execute(store, plan, prune=prune, allow_delete_all=allow_delete_all)
    if remote is None:
        return ApplyOutcome(result, plan, False, attempts)
    # Everything the remote lacks goes, not only this apply's refs: versions an update
    # recorded here and never pushed are part of what was applied.
    try:
        updates = remotes.plan_push(store, remote, expected)
        remotes.push(store, remote, updates, expected)
    except Conflict:
        remotes.revert(
            store, result.updates, {u.name: u.old for u in result.updates if u.old != "any"}
        )
        if attempts >= PUSH_ATTEMPTS:
            raise
        return None
    pushed = [u.name for u in updates]
    return ApplyOutcome(result, plan, bool(pushed), attempts, pushed, fetched)
