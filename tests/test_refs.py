"""RefDB against git itself: what the packed transaction writes is what git reads."""

from __future__ import annotations

import pytest

from gitassist.errors import Conflict
from gitassist.refs import RefUpdate


def _refs(repo) -> dict[str, str]:
    return {k: v for k, v in repo.refs().items() if k.startswith("refs/x/")}


def test_packed_transaction_merges_into_git_packed_refs(make_repo):
    repo = make_repo()
    head = repo.git("rev-parse", "HEAD")
    tree = repo.git("rev-parse", "HEAD^{tree}")
    blob_commit = repo.git("commit-tree", tree, "-m", "other")
    for name in ("refs/x/b", "refs/x/d", "refs/x/f", "refs/x/h"):
        repo.git("update-ref", name, head)
    repo.git("pack-refs", "--all")
    repo.git("update-ref", "refs/x/loose", head)  # a loose ref the transaction must fold in
    store = repo.store()
    updates = [
        RefUpdate("refs/x/a", blob_commit, None),  # new, sorts first
        RefUpdate("refs/x/d", blob_commit, head),  # changed, in the middle
        RefUpdate("refs/x/e", head, None),  # new, between
        RefUpdate("refs/x/h", None, head),  # deleted, last
        RefUpdate("refs/x/loose", blob_commit, head),  # was loose
        RefUpdate("refs/x/z", head, None),  # new, sorts last
    ]
    store.refdb.update(updates, "test", atomic=True)
    assert _refs(repo) == {
        "refs/x/a": blob_commit,
        "refs/x/b": head,
        "refs/x/d": blob_commit,
        "refs/x/e": head,
        "refs/x/f": head,
        "refs/x/loose": blob_commit,
        "refs/x/z": head,
    }
    assert not (repo.path / ".git/refs/x/loose").exists()
    assert repo.git("fsck", "--no-dangling") == ""
    repo.git("pack-refs", "--all")  # git can read and rewrite what we wrote
    assert _refs(repo)["refs/x/z"] == head


def test_packed_transaction_is_compare_and_swap(make_repo):
    repo = make_repo()
    head = repo.git("rev-parse", "HEAD")
    repo.git("update-ref", "refs/x/a", head)
    repo.git("pack-refs", "--all")
    before = _refs(repo)
    store = repo.store()
    with pytest.raises(Conflict, match="moved since it was read"):
        store.refdb.update(
            [RefUpdate("refs/x/new", head, None), RefUpdate("refs/x/a", head, "0" * 40)],
            "stale",
            atomic=True,
        )
    assert _refs(repo) == before  # all or nothing
    assert not (repo.path / ".git/packed-refs.lock").exists()
