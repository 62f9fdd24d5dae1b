"""Which of a remote's fetched gitassist refs to take: the merge rules that keep records
immutable (docs/refs.md, "Sharing the refs"). No git transport here: ``remote`` runs
``git ls-remote``/``fetch``/``push`` and asks this module.

* :class:`Merge` validates the refs a fetch put in the quarantine (each name, its JSON,
  tag <-> ref agreement, that the commit holds the document, contiguous numbering) and merges
  them with the local refs into one compare-and-swap transaction. Two records of one version
  number for the same commit and content are the same version: the remote's is taken (the
  local one stays in the reflog); another commit or content under one number is a conflict.

:func:`descends` and :func:`same_record` are the comparisons ``remote.plan_push`` applies
too (a version ref is sent only if the remote lacks it, a pointer or the apply record only
as a fast-forward of the remote's value).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pygit2

from gitassist.errors import BadRef, Conflict
from gitassist.refs import RefUpdate
from gitassist.versions import (
    APPLIED_REF,
    LatestState,
    VersionRecord,
    iso,
    join_message,
    latest_from_pointer,
    latest_ref,
    parse_ref,
    record_from_tag,
    split_message,
    version_ref,
)

if TYPE_CHECKING:
    from gitassist.store import Store


@dataclass(frozen=True)
class RefusedRef:
    """A ref that was not taken (fetch) or not sent (push), and why."""

    name: str
    oid: str
    reason: str

    @property
    def message(self) -> str:
        return self.reason

    def where(self) -> str:
        return self.name

    def to_dict(self) -> dict[str, str]:
        return {"ref": self.name, "oid": self.oid, "reason": self.reason}


class RefsRefused(Conflict):
    """A fetch met a real divergence, or a push would move or replace a remote record;
    ``issues`` lists every such ref with the reason. Nothing was changed."""

    code = "refs_refused"

    def __init__(self, message: str, issues: list[RefusedRef], *, hint: str) -> None:
        super().__init__(message, hint=hint)
        self.issues = issues  # rendered like validation problems (--json: "problems")


@dataclass(frozen=True)
class FetchResult:
    remote: str
    updated: list[str]
    refused: list[RefusedRef] = field(default_factory=list)
    merged: list[str] = field(default_factory=list)  # local record replaced by the same version
    remote_refs: dict[str, str] = field(default_factory=dict)  # what the remote had

    def to_dict(self) -> dict[str, Any]:
        return {
            "remote": self.remote,
            "updated": self.updated,
            "merged": self.merged,
            "refused": [r.to_dict() for r in self.refused],
        }


def descends(repo: pygit2.Repository, later: str | None, earlier: str | None) -> bool:
    """Whether commit ``later`` has commit ``earlier`` in its history (False for anything
    that is not two distinct commits of this repository)."""
    if later is None or earlier is None or later == earlier:
        return False
    if not all(isinstance(repo.get(x), pygit2.Commit) for x in (later, earlier)):
        return False
    return bool(repo.descendant_of(later, earlier))


def same_record(a: VersionRecord, b: VersionRecord) -> bool:
    return (a.commit, a.path, a.blob) == (b.commit, b.path, b.blob)


def _same_state(a: LatestState, b: LatestState) -> bool:
    return (a.version, a.deleted, a.commit, a.blob) == (b.version, b.deleted, b.commit, b.blob)


class Merge:
    """Validate the quarantined refs and turn them into one ref transaction."""

    def __init__(
        self,
        store: Store,
        remote: str,
        force: bool,
        local: dict[str, str],
        theirs: dict[str, str],
    ) -> None:
        self.store = store
        self.repo = store.repo
        self.remote = remote
        self.force = force
        self.local = local
        self.theirs = dict(theirs)
        self.local_versions: dict[str, dict[int, str]] = {}
        for name, oid in local.items():
            parsed = parse_ref(name)
            if parsed is not None and parsed[0] == "version":
                self.local_versions.setdefault(parsed[1], {})[parsed[2]] = oid
        self.updates: list[RefUpdate] = []
        self.refused: list[RefusedRef] = []
        self.refused_names: set[str] = set()
        self.conflicts: list[RefusedRef] = []
        self.merged: list[str] = []

    def refuse(self, name: str, oid: str, reason: str) -> None:
        self.refused.append(RefusedRef(name, oid, reason))
        self.refused_names.add(name)

    def run(self, incoming: dict[str, str]) -> FetchResult:
        self.repo = self.store.repo  # reopened after git fetch
        self.theirs.update(incoming)  # what was fetched, if the remote moved since ls-remote
        by_id: dict[str, tuple[dict[int, str], list[str]]] = {}
        applied = None
        env_refs: dict[str, str] = {}
        for name, oid in sorted(incoming.items()):
            parsed = parse_ref(name)
            if parsed is None:  # fetched only names that parse
                continue
            kind, assistant_id, number = parsed
            versions, latest = by_id.setdefault(assistant_id, ({}, []))
            if kind == "env":
                env_refs[name] = oid
            elif kind == "applied":
                applied = oid
            elif kind == "latest":
                latest.append(oid)
            else:
                versions[number] = oid
        for assistant_id, (versions, latest) in by_id.items():
            final = self.merge_versions(assistant_id, versions)
            if latest:
                self.merge_latest(assistant_id, latest[0], final)
        if applied is not None:
            self.merge_applied(applied)
        if env_refs:
            self.merge_environments(env_refs)
        if self.conflicts:
            raise RefsRefused(
                f"{len(self.conflicts)} of {self.remote}'s gitassist refs disagree with this "
                f"repository's (another commit or content under the same name); nothing fetched",
                self.conflicts,
                hint=f"`gitassist fetch {self.remote} --force` takes {self.remote}'s records "
                "(yours stay in the reflog); then redo your change: pull the branch and "
                "`gitassist apply` (your commits get the next numbers), or `gitassist "
                "set-latest` again (a rollback)",
            )
        self.store.refdb.update(self.updates, f"gitassist fetch {self.remote}", atomic=True)
        return FetchResult(
            self.remote,
            sorted(u.name for u in self.updates),
            self.refused,
            self.merged,
            self.theirs,
        )

    # versions ---------------------------------------------------------------

    def _local_record(self, name: str, assistant_id: str, number: int) -> VersionRecord | None:
        oid = self.local.get(name)
        if oid is None:
            return None
        try:
            return record_from_tag(self.store, oid, name, assistant_id=assistant_id, number=number)
        except BadRef:
            return None

    def merge_versions(self, assistant_id: str, versions: dict[int, str]) -> dict[int, str]:
        """Accept the valid version refs; the record each number ends with."""
        final = dict(self.local_versions.get(assistant_id, {}))
        for number in sorted(versions):
            oid, name = versions[number], version_ref(assistant_id, number)
            mine = self.local.get(name)
            if mine == oid:
                continue
            try:
                record = record_from_tag(
                    self.store, oid, name, assistant_id=assistant_id, number=number
                )
            except BadRef as exc:
                self.refuse(name, oid, exc.message.removeprefix(f"{name}: "))
                continue
            if number > 1 and number - 1 not in final:
                self.refuse(
                    name, oid, f"version {number - 1} is missing: version numbers are contiguous"
                )
                continue
            if mine is None:
                final[number] = oid
                self.updates.append(RefUpdate(name, oid, None, reflog=False))
                continue
            local = self._local_record(name, assistant_id, number)
            if local is not None and not same_record(local, record) and not self.force:
                self.conflicts.append(
                    RefusedRef(
                        name,
                        oid,
                        f"{self.remote} records version {number} as commit {record.commit[:12]} "
                        f"({record.path}), this repository as commit {local.commit[:12]} "
                        f"({local.path})",
                    )
                )
                continue
            final[number] = oid
            if local is None:
                why = "the local record is not valid"
            elif same_record(local, record):
                why = "same commit and content"
                self.merged.append(name)
            else:
                why = "--force"
            was = (
                f"local record {mine[:12]} by {local.recorded_by} at {iso(local.recorded_at)}"
                if local is not None
                else f"local record {mine[:12]}"
            )
            self.updates.append(
                RefUpdate(
                    name,
                    oid,
                    mine,
                    message=f"gitassist fetch {self.remote}: took its version {number} ({why}); "
                    f"replaced {was}",
                )
            )
        return final

    # latest -----------------------------------------------------------------

    def _check_chain(self, oid: str, name: str, assistant_id: str, stop: str | None) -> None:
        """Every earlier move in the pointer's history is a pointer for this assistant."""
        commit = self.repo.get(oid)
        while isinstance(commit, pygit2.Commit) and commit.parent_ids:
            parent = str(commit.parent_ids[0])
            if parent == stop:
                return
            latest_from_pointer(
                self.store, parent, f"{name} (move {parent[:12]})", assistant_id=assistant_id
            )
            commit = self.repo.get(parent)

    def merge_latest(self, assistant_id: str, oid: str, final: dict[int, str]) -> None:
        name = latest_ref(assistant_id)
        mine = self.local.get(name)
        if mine == oid:
            return
        try:
            state = latest_from_pointer(self.store, oid, name, assistant_id=assistant_id)
            self._check_chain(oid, name, assistant_id, mine)
        except BadRef as exc:
            self.refuse(name, oid, exc.message.removeprefix(f"{name}: "))
            return
        tag = final.get(state.version)
        record = None
        if tag is not None:
            with contextlib.suppress(BadRef):
                record = record_from_tag(
                    self.store, tag, assistant_id=assistant_id, number=state.version
                )
        if record is None:
            self.refuse(name, oid, f"it names version {state.version}, which has no valid record")
            return
        agrees = record.blob == state.blob and (state.deleted or record.commit == state.commit)
        if not agrees:
            self.refuse(
                name, oid, f"it disagrees with version {state.version}'s record (commit, blob)"
            )
            return
        if mine is None or self.force or descends(self.repo, oid, mine):
            self.updates.append(RefUpdate(name, oid, mine))
            return
        if descends(self.repo, mine, oid):
            return  # ours is ahead: `gitassist push` sends it
        try:
            local = latest_from_pointer(self.store, mine, name, assistant_id=assistant_id)
        except BadRef:
            self.updates.append(RefUpdate(name, oid, mine))
            return
        if _same_state(local, state):
            self.merged.append(name)
            self.updates.append(
                RefUpdate(
                    name,
                    oid,
                    mine,
                    message=f"gitassist fetch {self.remote}: took its pointer (same active "
                    f"version {state.version}); replaced local pointer {mine[:12]} moved by "
                    f"{local.moved_by} at {iso(local.moved_at)}",
                )
            )
        elif local.version > state.max_version and local.version in final:
            # ours moved to a version the remote has never had: replay that move on theirs
            self.updates.append(RefUpdate(name, self._replay(mine, oid, state), mine))
        else:
            self.conflicts.append(
                RefusedRef(
                    name,
                    oid,
                    f"{self.remote}'s latest is version {state.version}, this repository's is "
                    f"version {local.version}, and neither pointer history contains the other",
                )
            )

    def _replay(self, mine: str, theirs: str, state: LatestState) -> str:
        """Our pointer commit's move, made again on top of the remote's pointer."""
        commit = self.repo.get(mine)
        assert isinstance(commit, pygit2.Commit)
        summary, data = split_message(commit.message)
        data["previous"] = state.version
        data["max_version"] = max(int(data.get("max_version", 0)), state.max_version)
        oid = self.repo.create_commit(
            None,
            commit.author,
            self.store.signature(),
            join_message(summary, data),
            commit.tree_id,
            [pygit2.Oid(hex=theirs)],
        )
        return str(oid)

    def merge_environments(self, env_refs: dict[str, str]) -> None:
        """Environment pointers: validated, the invariant checked (docs/environments.md)."""
        from gitassist.environments import merge_incoming

        pending = {u.name: u.new for u in self.updates}
        updates, refused, conflicts = merge_incoming(
            self.store, env_refs, self.local, pending, force=self.force
        )
        self.updates += updates
        for name, oid, why in refused:
            self.refuse(name, oid, why)
        self.conflicts += [RefusedRef(*c) for c in conflicts]

    # apply record -----------------------------------------------------------

    def merge_applied(self, oid: str) -> None:
        from gitassist.versions import applied_fields

        name, mine = APPLIED_REF, self.local.get(APPLIED_REF)
        if mine == oid:
            return
        try:
            theirs = self._applied_chain(oid, mine)
        except BadRef as exc:
            self.refuse(name, oid, exc.message.removeprefix(f"{name}: "))
            return
        if mine is None or self.force or descends(self.repo, oid, mine):
            self.updates.append(RefUpdate(name, oid, mine))
            return
        if descends(self.repo, mine, oid):
            return
        ours_commit = self.repo.get(mine)
        ours = None
        if isinstance(ours_commit, pygit2.Commit):
            with contextlib.suppress(BadRef):
                ours = applied_fields(ours_commit)[0]
        if isinstance(ours_commit, pygit2.Commit) and descends(self.repo, ours, theirs):
            # ours covers more of the branch: replay our record on top of theirs
            new = self.repo.create_commit(
                None,
                ours_commit.author,
                self.store.signature(),
                ours_commit.message,
                ours_commit.tree_id,
                [pygit2.Oid(hex=oid)],
            )
            self.updates.append(RefUpdate(name, str(new), mine))
            return
        # Diverged: the remote's record is taken; versions recorded only here are above its
        # pointers' numbers, where the next apply finds and reuses them.
        self.updates.append(
            RefUpdate(
                name,
                oid,
                mine,
                message=f"gitassist fetch {self.remote}: took its apply record; replaced "
                f"local record {mine[:12]}",
            )
        )

    def _applied_chain(self, oid: str, stop: str | None) -> str | None:
        """Validate the apply record and its history; the branch commit it records."""
        from gitassist.versions import applied_fields, bad_ref

        first: str | None = None
        current: str | None = oid
        top = True
        while current is not None and current != stop:
            commit = self.repo.get(current)
            where = APPLIED_REF if top else f"{APPLIED_REF} (record {current[:12]})"
            if not isinstance(commit, pygit2.Commit):
                raise bad_ref(where, f"{current[:12]} is not an apply-record commit")
            try:
                branch_commit = applied_fields(commit)[0]
            except BadRef as exc:
                raise bad_ref(where, exc.message.removeprefix(f"{APPLIED_REF}: ")) from None
            if top:
                first, top = branch_commit, False
            current = str(commit.parent_ids[0]) if commit.parent_ids else None
        return first
