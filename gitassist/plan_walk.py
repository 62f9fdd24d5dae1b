"""The walk behind a plan: the first-parent commits since the last apply, and what each
one changes per assistant (:class:`Walker`); :func:`gitassist.plan.make_plan` drives it."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pygit2

from gitassist.errors import HistoryRewritten, ShallowClone
from gitassist.history import BlobFacts
from gitassist.plan_records import NewVersion, Note
from gitassist.store import Entry
from gitassist.versions import LatestState, max_version, read_latest, read_version

if TYPE_CHECKING:
    from pygit2 import Commit

    from gitassist.history import Facts
    from gitassist.plan_records import NoteKind, Plan, VersionKind
    from gitassist.store import Store


# --------------------------------------------------------------------------- reading


_UNSHALLOW = (
    "fetch the full history (GitHub Actions: actions/checkout with `fetch-depth: 0`), "
    "or `git fetch --unshallow`"
)


def _shallow(commit: Commit) -> ShallowClone:
    return ShallowClone(
        f"this is a shallow clone: history before {str(commit.id)[:12]} is missing, "
        "so versions cannot be numbered",
        hint=_UNSHALLOW,
    )


def first_parent_range(store: Store, head: Commit, stop: str | None) -> list[Commit]:
    """Commits after ``stop`` up to ``head`` along first parents, oldest first."""
    if stop is not None:
        if str(head.id) == stop:
            return []
        if [str(p) for p in head.parent_ids[:1]] == [stop] and str(head.id) not in (
            store.shallow_commits()
        ):
            return [head]  # one commit on top of the applied one (a write): no graph walk
        if store.repo.get(stop) is None:
            raise ShallowClone(
                f"the last applied commit {stop[:12]} is not in this clone", hint=_UNSHALLOW
            )
        if not store.repo.descendant_of(head.id, stop):
            if store.is_shallow():  # the cut history, not a rewrite, hides the ancestry
                raise ShallowClone(
                    f"this is a shallow clone: the history between {stop[:12]} (last applied) "
                    f"and HEAD {str(head.id)[:12]} is missing",
                    hint=_UNSHALLOW,
                )
            raise HistoryRewritten(
                f"HEAD {str(head.id)[:12]} does not descend from the last applied commit "
                f"{stop[:12]}: the branch was rewritten (rebase or force-push)",
                hint="recorded versions are safe in refs; to continue from HEAD run "
                "`gitassist apply --from-rewritten`",
            )
    shallow = store.shallow_commits()
    out: list[Commit] = []
    commit = head
    while True:
        out.append(commit)
        if str(commit.id) in shallow:
            raise _shallow(commit)
        if not commit.parent_ids:
            if stop is not None:
                raise HistoryRewritten(
                    f"the last applied commit {stop[:12]} is not on the first-parent history "
                    "of HEAD",
                    hint="run `gitassist apply --from-rewritten` to continue from HEAD",
                )
            break
        parent_id = str(commit.parent_ids[0])
        if parent_id == stop:
            break
        parent = store.repo.get(parent_id)  # one lookup a commit
        if parent is None:
            raise _shallow(commit)
        commit = parent.peel(pygit2.Commit)
    out.reverse()
    return out


# --------------------------------------------------------------------------- planning


class Walker:
    """Per-assistant state while walking commits."""

    def __init__(self, store: Store, plan: Plan, facts: BlobFacts | None = None) -> None:
        self.store = store
        self.plan = plan
        self.facts = facts if facts is not None else BlobFacts(store)
        self.next_number: dict[str, int] = {}
        self.last_key: dict[str, str | None] = {}
        self.latest: dict[str, LatestState | None] = {}
        self.new_latest: dict[str, NewVersion] = {}
        self.orphans: dict[str, dict[str, tuple[int, str]]] = {}
        self.walked: set[str] = set()  # the commits of the walk

    def state(self, assistant_id: str) -> LatestState | None:
        if assistant_id not in self.latest:
            self.latest[assistant_id] = read_latest(self.store, assistant_id)
        return self.latest[assistant_id]

    def newest_key(self, assistant_id: str) -> str | None:
        """Content key of the newest recorded (or planned) version."""
        if assistant_id not in self.last_key:
            key = None
            number = max_version(self.store, assistant_id, self.state(assistant_id))
            if number:
                record = read_version(self.store, assistant_id, number)
                if record is not None:
                    facts = self.facts.get(Entry(record.path, record.blob))
                    key = facts.key if facts.assistant_id is not None else None
            self.last_key[assistant_id] = key
        return self.last_key[assistant_id]

    def interrupted(self, assistant_id: str) -> dict[str, tuple[int, str]]:
        """Versions a write recorded but the apply record does not cover yet, by commit: the
        pointer's own version, any version refs above it, and below it every version of a
        walked commit (writes that held the apply record back, see
        :func:`gitassist.plan.hold_unrelated`)."""
        if assistant_id not in self.orphans:
            state = self.state(assistant_id)
            top = max_version(self.store, assistant_id, state)
            found: dict[str, tuple[int, str]] = {}
            floor = max(state.max_version if state else 1, 1)
            for n in range(top, 0, -1):
                record = read_version(self.store, assistant_id, n)
                if record is not None and (n >= floor or record.commit in self.walked):
                    found[record.commit] = (n, record.tag)
                elif n < floor:
                    break
            self.orphans[assistant_id] = found
            self.next_number[assistant_id] = top + 1
        return self.orphans[assistant_id]

    def number(self, assistant_id: str, commit: str) -> tuple[int, str | None]:
        """The version number for ``commit`` and, if it is already recorded, its tag."""
        found = self.interrupted(assistant_id).get(commit)
        if found is not None:
            return found
        n = self.next_number[assistant_id]
        self.next_number[assistant_id] = n + 1
        return n, None

    def record(
        self,
        commit: Commit,
        doc: Facts,
        entry: Entry,
        kind: VersionKind,
        previous_path: str | None,
    ) -> None:
        assert doc.assistant_id is not None
        number, recorded = self.number(doc.assistant_id, str(commit.id))
        version = NewVersion(
            doc.assistant_id,
            doc.name,
            number,
            str(commit.id),
            entry.path,
            entry.blob,
            kind,
            previous_path,
            recorded,
            doc.graph_id,
        )
        self.plan.versions.append(version)
        self.last_key[doc.assistant_id] = doc.key
        self.new_latest[doc.assistant_id] = version

    def step(
        self, commit: Commit, removed: list[Entry], added: list[Entry], head_blobs: set[str]
    ) -> None:
        facts = self.facts
        cid = str(commit.id)
        old_docs: dict[str, tuple[Entry, Facts]] = {}
        for entry in removed:
            doc = facts.get(entry)
            if doc.assistant_id is not None:
                old_docs.setdefault(doc.assistant_id, (entry, doc))
        new_docs: dict[str, tuple[Entry, Facts]] = {}
        for entry in added:
            doc = facts.get(entry)
            if doc.assistant_id is None:
                if entry.blob not in head_blobs:
                    self.plan.notes.append(
                        Note("", "invalid_skipped", cid, entry.path, doc.problem)
                    )
                continue
            new_docs.setdefault(doc.assistant_id, (entry, doc))
        for assistant_id, (entry, doc) in new_docs.items():
            self.plan.absent.pop(assistant_id, None)
            old = old_docs.get(assistant_id)
            if old is not None:
                old_entry, old_doc = old
                if old_doc.key == doc.key:
                    kind: NoteKind = "renamed" if old_entry.path != entry.path else "format_only"
                    self.plan.notes.append(
                        Note(
                            assistant_id,
                            kind,
                            cid,
                            entry.path,
                            old_entry.path if kind == "renamed" else "",
                        )
                    )
                    continue
                self.record(
                    commit,
                    doc,
                    entry,
                    "changed",
                    old_entry.path if old_entry.path != entry.path else None,
                )
                continue
            state = self.state(assistant_id)
            deleted = state is not None and state.deleted
            newest = self.newest_key(assistant_id)
            if newest == doc.key and not deleted:
                self.plan.notes.append(Note(assistant_id, "readded_unchanged", cid, entry.path))
                continue
            kind2: VersionKind = (
                "created" if newest is None else ("recreated" if deleted else "changed")
            )
            self.record(commit, doc, entry, kind2, None)
        for assistant_id, (entry, _doc) in old_docs.items():
            if assistant_id not in new_docs:
                self.plan.absent[assistant_id] = {"commit": cid, "path": entry.path}
                self.plan.notes.append(Note(assistant_id, "removed", cid, entry.path))
