"""The one-pass ``git log --raw`` diff of a long history gives what the per-commit diffs give."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from conftest import doc_yaml

from gitassist import history, plan, plan_walk
from gitassist.index import changed_entries
from gitassist.store import Store

if TYPE_CHECKING:
    import pytest

IDS = [str(uuid.UUID(int=i + 1, version=4)) for i in range(8)]


def history_repo(make_repo: Any) -> Any:
    """Creates, edits, renames, format-only changes, deletions, a non-document, a nested file,
    a merge and an ``assistants_dir`` move by gitassist.yaml."""
    repo = make_repo({f"assistants/a{i}.yaml": doc_yaml(IDS[i], name=f"a{i}") for i in range(4)})
    repo.commit({"assistants/a0.yaml": doc_yaml(IDS[0], name="edited")})
    repo.commit({"assistants/a1.yaml": None, "assistants/b1.yaml": doc_yaml(IDS[1], name="a1")})
    repo.commit({"assistants/a2.yaml": doc_yaml(IDS[2], name="a2") + "# just a comment\n"})
    repo.commit({"assistants/notes.txt": "x", "assistants/sub/n.yaml": doc_yaml(IDS[5])})
    repo.commit({"README.md": "unrelated"})
    repo.commit({"assistants/a3.yaml": None})
    repo.git("checkout", "-q", "-b", "side")
    repo.commit({"assistants/s.yaml": doc_yaml(IDS[6], name="side")})
    repo.git("checkout", "-q", "main")
    repo.commit({"assistants/a4.yaml": doc_yaml(IDS[4], name="a4")})
    repo.git("merge", "-q", "--no-ff", "-m", "merge side", "side")
    moved = {f"bots/{p.name}": p.read_text() for p in (repo.path / "assistants").glob("*.yaml")}
    moved.update({f"assistants/{n}": None for n in ("a0.yaml", "b1.yaml", "a2.yaml")})
    moved.update({"assistants/a4.yaml": None, "assistants/s.yaml": None})
    repo.commit({**moved, "gitassist.yaml": "assistants_dir: bots\n"})
    repo.commit({"bots/a0.yaml": doc_yaml(IDS[0], name="in bots")})
    repo.commit({"bots/a7.yaml": doc_yaml(IDS[7], name="a7")})
    return repo


def test_one_pass_matches_the_per_commit_diffs(make_repo: Any) -> None:
    repo = history_repo(make_repo)
    store = Store(repo.path)
    head = store.get_commit(repo.git("rev-parse", "HEAD"))
    commits = plan_walk.first_parent_range(store, head, None)
    fast = history.first_parent_changes(store, str(head.id), None)
    assert set(fast) == {str(c.id) for c in commits}
    parent = None
    deferred = 0
    for commit in commits:
        found = fast[str(commit.id)]
        slow = changed_entries(store, parent, commit.tree)
        if found is None:  # gitassist.yaml changed: left to the per-commit diff
            deferred += 1
        else:
            assert found == slow, commit.message
        parent = commit.tree
    assert deferred == 1
    # a range after a stop commit: only the commits after it
    stop = str(commits[5].id)
    after = history.first_parent_changes(store, str(head.id), stop)
    assert set(after) == {str(c.id) for c in commits[6:]}


def test_a_long_plan_is_the_same_with_and_without_the_one_pass_diff(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = history_repo(make_repo)
    calls: list[int] = []
    real = history.first_parent_changes

    def counting(*args: Any) -> Any:
        found = real(*args)
        calls.append(len(found))
        return found

    monkeypatch.setattr(plan, "first_parent_changes", counting)
    slow = plan.make_plan(Store(repo.path))
    assert calls == []  # a short walk diffs per commit
    monkeypatch.setattr(plan, "MIN_COMMITS", 2)
    fast = plan.make_plan(Store(repo.path))
    assert calls == [fast.commits_walked]
    assert fast.versions == slow.versions and fast.versions
    assert fast.notes == slow.notes
    assert dict(fast.index.items()) == dict(slow.index.items())
    assert fast.moves == slow.moves and fast.absent == slow.absent


def test_git_failing_falls_back_to_the_per_commit_diffs(
    make_repo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = history_repo(make_repo)
    store = Store(repo.path)
    head = repo.git("rev-parse", "HEAD")
    monkeypatch.setenv("PATH", "/nonexistent")
    assert history.first_parent_changes(store, head, None) == {}
    monkeypatch.undo()
    assert history.first_parent_changes(store, "0" * 40, None) == {}
