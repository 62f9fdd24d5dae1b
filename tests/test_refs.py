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


@pytest.mark.parametrize("atomic", [False, True], ids=["loose", "packed"])
def test_every_lock_file_is_in_the_journal_before_it_exists(make_repo, monkeypatch, atomic):
    """A writer SIGKILLed right after making a lock file must have named it in the journal
    already: otherwise the file blocks every later write (exit 5) until removed by hand (seen
    once in tests/test_crash.py under load, when the journal was written after the locks)."""
    import os

    from gitassist import ref_lock, refs

    repo = make_repo()
    head = repo.git("rev-parse", "HEAD")
    store = repo.store()
    journal = store.refdb.own / "journal"
    seen: list[tuple[str, bool]] = []
    real = ref_lock.open_lock

    def checked(path):
        listed = journal.exists() and os.path.relpath(path, store.refdb.gitdir) in (
            journal.read_text().splitlines()
        )
        seen.append((os.path.basename(str(path)), listed))
        return real(path)

    monkeypatch.setattr(ref_lock, "open_lock", checked)
    monkeypatch.setattr(refs, "open_lock", checked)
    updates = [RefUpdate("refs/x/a", head, None), RefUpdate("refs/x/b", head, None)]
    store.refdb.update(updates, "test", atomic=atomic)
    assert seen and all(listed for _, listed in seen), seen
    assert _refs(repo) == {"refs/x/a": head, "refs/x/b": head}
    assert not journal.exists()


def test_a_killed_writers_lock_is_removed_but_another_programs_is_kept(make_repo):
    """Recovery removes the lock files a killed writer noted; a listed lock file older than
    the journal's last write was there before the writer noted it (git's own, say): kept."""
    import os

    repo = make_repo()
    head = repo.git("rev-parse", "HEAD")
    store = repo.store()
    gitdir = store.refdb.gitdir
    journal = store.refdb.own / "journal"
    journal.parent.mkdir(exist_ok=True)
    foreign = gitdir / "packed-refs.lock"
    foreign.write_text("")
    os.utime(foreign, ns=(1_000_000_000, 1_000_000_000))  # made long before the journal
    (gitdir / "refs" / "heads").mkdir(parents=True, exist_ok=True)
    ours = gitdir / "refs" / "x" / "a.lock"
    ours.parent.mkdir(parents=True, exist_ok=True)
    journal.write_text("packed-refs.lock\nrefs/x/a.lock\n")
    ours.write_text("")  # made after the journal line, as a killed writer leaves it
    store.refdb.update([RefUpdate("refs/x/a", head, None)], "after a kill")
    assert _refs(repo) == {"refs/x/a": head}
    assert foreign.exists(), "another program's lock file was removed"
    with pytest.raises(Conflict, match=r"packed-refs\.lock is locked"):
        two = [RefUpdate("refs/x/b", head, None), RefUpdate("refs/x/c", head, None)]
        store.refdb.update(two, "packed", atomic=True)  # the kept lock stops it, as git's would
